"""The ILO statistical classification of forced labour (20th ICLS, 2018).

The guidelines of the 20th International Conference of Labour Statisticians define
forced labour as work that is both **involuntary** (without free and informed consent)
and **under threat or menace of a penalty**, during a stated **reference period**; each
dimension is measured by a list of indicators and holds when at least one of its
indicators holds. State-imposed forced labour (work exacted by the authorities: the
mobilisation of civil servants and pickers for the cotton harvest) is its own category,
beside privately imposed forced labour.

The indicator lists are data (:data:`ILO_RULES`, one :class:`ILORules` per
instrument): a team changes the rules by passing its own, never by editing code.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"voluntary": ["no", "yes", "no"], "told_to_participate": [1, 0, 1],
...                    "consequences": ["dismissal", "none", "none"]})
>>> classify(df, "employee")["category"].tolist()
['state_imposed', 'not_forced_labour', 'not_forced_labour']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from harvest._errors import DataError
from harvest._options import as_list, check_option

__all__ = ["Indicator", "ILORules", "ILO_RULES", "CATEGORIES", "classify",
           "forced_labour_share"]

#: Categories of :func:`classify` (``category`` column).
CATEGORIES = ("state_imposed", "privately_imposed", "not_forced_labour")

_MENACE = ("wage_deduction", "bonus_loss", "reduced_hours", "dismissal", "reprimand")


@dataclass(frozen=True)
class Indicator:
    """One ILO indicator: it holds on a row when ``column`` takes one of ``answers``.

    Parameters
    ----------
    name : str
        Short name (shown in the docs and the output's ``reasons``).
    column : str
        The instrument question that feeds it.
    answers : tuple
        The answers that make the indicator hold. For a ``multi`` column (space-
        separated codes) it holds when any of the chosen codes is among them.
    multi : bool
        Whether ``column`` is a multi-select text column.
    """

    name: str
    column: str
    answers: tuple
    multi: bool = False


@dataclass(frozen=True)
class ILORules:
    """Indicator lists of the two dimensions and of state imposition, and the reference
    period they refer to.

    A dimension holds when any of its indicators holds, fails when every indicator
    present in the data fails, and is missing otherwise. An indicator whose column is
    absent from the data is left out (a dimension with none left is a DataError).

    Examples
    --------
    >>> import dataclasses
    >>> rules = dataclasses.replace(ILO_RULES["employee"],
    ...     menace=(Indicator("dismissal", "consequences", ("dismissal",), multi=True),))
    >>> [i.name for i in rules.menace]
    ['dismissal']
    """

    reference_period: str
    involuntary: tuple
    menace: tuple
    state_imposed: tuple = ()


#: Default rules per instrument (see ``docs/methods/sensitive.md`` for the mapping of
#: questions to indicators).
ILO_RULES = {
    "employee": ILORules(
        reference_period="the cotton harvest of the survey year (the observation rounds)",
        involuntary=(
            Indicator("not_voluntary", "voluntary", ("no",)),
            Indicator("ordered_to_take_part", "told_to_participate", (1,)),
        ),
        menace=(Indicator("threatened_penalty", "consequences", _MENACE, multi=True),),
        # civil servants are mobilised by the authorities that employ them
        state_imposed=(Indicator("ordered_by_state_employer", "told_to_participate", (1,)),),
    ),
    "picker": ILORules(
        reference_period="the cotton harvest of the survey year (the observation rounds)",
        involuntary=(Indicator("not_voluntary", "voluntary", ("no",)),),
        menace=(Indicator("threatened_penalty", "consequences", _MENACE, multi=True),),
        state_imposed=(
            Indicator("state_employer", "employer_type", ("state_institution",)),
            Indicator("recruited_by_official", "recruited", ("local_official",)),
        ),
    ),
}


def _indicator_values(df, indicator: Indicator) -> np.ndarray:
    """1.0 / 0.0 / NaN per row."""
    s = df[indicator.column]
    missing = s.isna().to_numpy()
    if indicator.multi:
        codes = s.astype("string").fillna("").str.split()
        wanted = {str(a) for a in indicator.answers}
        hit = np.fromiter((bool(wanted.intersection(c)) for c in codes), bool, len(s))
    else:
        answers = list(indicator.answers)
        as_text = [str(a) for a in answers]
        hit = (s.isin(answers) | s.astype("string").isin(as_text)).to_numpy(
            dtype=bool, na_value=False)
    return np.where(missing, np.nan, hit.astype(float))


def _dimension(df, indicators, name: str, required: bool) -> np.ndarray:
    used = [i for i in indicators if i.column in df.columns]
    if not used:
        if not required:
            return np.zeros(len(df))
        cols = ", ".join(repr(i.column) for i in indicators) or "(none set)"
        raise DataError(f"No indicator of the ILO dimension {name!r} can be measured: the "
                        f"data lack every question it uses ({cols}).")
    values = np.column_stack([_indicator_values(df, i) for i in used])
    anyone = (values == 1).any(axis=1)
    allzero = (values == 0).all(axis=1)
    return np.where(anyone, 1.0, np.where(allzero, 0.0, np.nan))


def _rules(instrument, rules) -> ILORules:
    if rules is None:
        check_option("instrument", instrument, tuple(ILO_RULES))
        return ILO_RULES[instrument]
    if isinstance(rules, dict):
        made = {k: v for k, v in rules.items() if k == "reference_period"}
        for key in ("involuntary", "menace", "state_imposed"):
            made[key] = tuple(i if isinstance(i, Indicator) else Indicator(**i)
                              for i in rules.get(key, ()))
        rules = ILORules(**made)
    if not isinstance(rules, ILORules):
        raise TypeError(f"`rules` must be an ILORules or a dict; got {type(rules).__name__}.")
    if not str(rules.reference_period).strip():
        raise ValueError("`rules.reference_period` must state the reference period.")
    return rules


def classify(df: pd.DataFrame, instrument: str = "employee", rules=None) -> pd.DataFrame:
    """Classify each respondent by the ICLS 2018 definition of forced labour.

    Parameters
    ----------
    df : pandas.DataFrame
        Rows of the ``employee`` or ``picker`` instrument (never modified).
    instrument : {"employee", "picker"}
        Which default rules of :data:`ILO_RULES` to use when ``rules`` is None.
    rules : ILORules or dict, optional
        Own rules: an :class:`ILORules` (e.g. ``dataclasses.replace`` of a default) or a
        dict with ``reference_period`` and lists of ``{"name", "column", "answers",
        "multi"}`` under ``involuntary``, ``menace`` and ``state_imposed``.

    Returns
    -------
    pandas.DataFrame
        On the index of ``df``: ``involuntary``, ``menace``, ``forced_labour``,
        ``state_imposed_forced_labour``, ``privately_imposed_forced_labour`` (0/1,
        NaN when undecidable), ``category`` (one of :data:`CATEGORIES`, missing when
        undecidable) and ``reference_period``.

    Notes
    -----
    ``forced_labour = involuntary AND menace``; ``state_imposed_forced_labour =
    forced_labour AND state``, where ``state`` holds when any state-imposition
    indicator holds (0 when none can be measured); the privately imposed category is
    forced labour that is not state-imposed. Missing answers propagate: a row is
    classified only when the answers decide it (e.g. menace = 0 decides "not forced
    labour" whatever the involuntary answer).

    Examples
    --------
    >>> df = pd.DataFrame({"voluntary": ["no", "no"], "employer_type": ["farmer",
    ...                    "state_institution"], "consequences": ["dismissal", "reprimand"]})
    >>> classify(df, "picker")["category"].tolist()
    ['privately_imposed', 'state_imposed']
    """
    rules = _rules(instrument, rules)
    a = _dimension(df, rules.involuntary, "involuntary", True)
    b = _dimension(df, rules.menace, "menace", True)
    state = _dimension(df, rules.state_imposed, "state_imposed", False)
    fl = np.where((a == 1) & (b == 1), 1.0, np.where((a == 0) | (b == 0), 0.0, np.nan))
    sifl = np.where(fl == 0, 0.0, np.where((fl == 1) & (state == 1), 1.0,
                                           np.where((fl == 1) & (state == 0), 0.0, np.nan)))
    pifl = np.where(np.isnan(sifl), np.nan, fl - sifl)
    category = np.select([sifl == 1, pifl == 1, fl == 0], list(CATEGORIES), default="")
    return pd.DataFrame({
        "involuntary": a, "menace": b, "forced_labour": fl,
        "state_imposed_forced_labour": sifl, "privately_imposed_forced_labour": pifl,
        "category": pd.array(np.where(category == "", None, category), dtype="string"),
        "reference_period": pd.array([rules.reference_period] * len(df), dtype="string"),
    }, index=df.index)


_SHARES = ("forced_labour", "state_imposed_forced_labour", "privately_imposed_forced_labour")


def forced_labour_share(design, instrument: str = "employee", rules=None, by=None,
                        ci="logit", level=0.95, na="drop") -> pd.DataFrame:
    """Design-based shares of forced labour and of its two categories, with SEs.

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
        A design over rows of the instrument.
    instrument, rules
        As :func:`classify`.
    by, ci, level
        As ``design.proportion``.
    na : {"drop", "fail"}
        Rows the answers do not classify: left out of the share (default, they stay in
        the design for the variance) or an error.

    Returns
    -------
    pandas.DataFrame
        ``design.proportion``'s table for ``forced_labour``,
        ``state_imposed_forced_labour`` and ``privately_imposed_forced_labour``, then
        ``reference_period``.

    Examples
    --------
    >>> import harvest as hv
    >>> df = pd.DataFrame({"psu": range(4), "voluntary": ["no", "no", "yes", "no"],
    ...                    "told_to_participate": [1, 0, 0, 1],
    ...                    "consequences": ["dismissal", "reprimand", "none", "none"]})
    >>> out = forced_labour_share(hv.SurveyDesign(df, psu="psu"))
    >>> out[["indicator", "estimate"]]
                             indicator  estimate
    0                    forced_labour      0.50
    1      state_imposed_forced_labour      0.25
    2  privately_imposed_forced_labour      0.25
    """
    from harvest.sensitive import _with_columns

    table = classify(design.data, instrument, rules)
    view = _with_columns(design, {c: table[c].to_numpy() for c in _SHARES})
    out = view.proportion(list(_SHARES), by=as_list(by) or None, ci=ci, level=level, na=na)
    out["reference_period"] = table["reference_period"].iloc[0] if len(table) else ""
    return out

