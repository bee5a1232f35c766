"""Derived indicators: child labour, civil servants, pick-or-pay, consequences, forced labour.

Each indicator is a small function of a DataFrame returning a new Series (0/1 as
``int64``, or ``float64`` with NaN where an input is missing); none modifies its input.
:func:`add_indicators` adds every indicator of an instrument (the list is
:data:`harvest.instruments.DERIVED`) to a new frame.

Examples
--------
>>> import pandas as pd
>>> farms = pd.DataFrame({"n_children": [0, 2, 0], "farmer_reports_minors": [0, 0, 1]})
>>> child_labour(farms).tolist()
[0, 1, 1]
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from harvest._errors import DataError
from harvest.instruments import DERIVED

__all__ = [
    "child_labour", "children_observed", "civil_servants_on_farm", "pick_or_pay",
    "pick_or_pay_dummies", "consequence_count", "any_consequence", "involuntary", "menace",
    "forced_labour", "paid_above", "refusal_rate", "interference_rate", "add_indicators",
    "INVOLUNTARY_ANSWERS", "MENACE_ANSWERS",
]

#: Answers to ``voluntary`` that count as involuntary work (ILO dimension 1), by default.
INVOLUNTARY_ANSWERS = ("no",)
#: Consequences that count as a menace of penalty (ILO dimension 2), by default.
MENACE_ANSWERS = ("wage_deduction", "bonus_loss", "reduced_hours", "dismissal", "reprimand")


def _need(df, *names):
    missing = [n for n in names if n not in df.columns]
    if missing:
        raise DataError(f"column(s) {missing} needed for this indicator are not in the data.")


def _num(df, name) -> np.ndarray:
    s = df[name]
    if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("float64").to_numpy(dtype="float64", na_value=np.nan)
    return pd.to_numeric(s, errors="coerce").astype("float64").to_numpy(na_value=np.nan)


def _out(values: np.ndarray, index, name) -> pd.Series:
    """0/1 as int64 when nothing is missing, else float64 with NaN."""
    values = np.asarray(values, dtype="float64")
    if np.isnan(values).any():
        return pd.Series(values, index=index, name=name)
    return pd.Series(values.astype("int64"), index=index, name=name)


def children_observed(df: pd.DataFrame) -> pd.Series:
    """Children under 15 observed picking: ``n_children > 0``.

    Examples
    --------
    >>> children_observed(pd.DataFrame({"n_children": [0, 3]})).tolist()
    [0, 1]
    """
    _need(df, "n_children")
    n = _num(df, "n_children")
    return _out(np.where(np.isnan(n), np.nan, n > 0), df.index, "children_observed")


def child_labour(df: pd.DataFrame) -> pd.Series:
    """Evidence of child labour on the farm: children observed picking OR farmer reports minors.

    Notes
    -----
    ``child_labour = 1[n_children > 0] OR farmer_reports_minors``. The result is
    missing only when it cannot be decided: both inputs missing, or one missing and the
    other 0.

    Examples
    --------
    >>> df = pd.DataFrame({"n_children": [0, 1, 0], "farmer_reports_minors": [0, 0, 1]})
    >>> child_labour(df).tolist()
    [0, 1, 1]
    """
    _need(df, "n_children", "farmer_reports_minors")
    seen = _num(df, "n_children")
    told = _num(df, "farmer_reports_minors")
    yes = (seen > 0) | (told == 1)
    unknown = ~yes & (np.isnan(seen) | np.isnan(told))
    return _out(np.where(unknown, np.nan, yes), df.index, "child_labour")


def civil_servants_on_farm(df: pd.DataFrame) -> pd.Series:
    """The farmer confirms civil servants picked on the farm (0/1).

    Examples
    --------
    >>> civil_servants_on_farm(pd.DataFrame({"civil_servants_on_farm": [1, 0]})).tolist()
    [1, 0]
    """
    _need(df, "civil_servants_on_farm")
    return _out(_num(df, "civil_servants_on_farm"), df.index, "civil_servants_on_farm")


def pick_or_pay(df: pd.DataFrame) -> pd.Series:
    """Pick-or-pay status of an employee: ``picked``, ``paid``, ``both`` or ``neither``.

    Notes
    -----
    From the 0/1 columns ``picked`` and ``paid_replacement``; missing when either is.

    Examples
    --------
    >>> df = pd.DataFrame({"picked": [1, 0, 1, 0], "paid_replacement": [0, 1, 1, 0]})
    >>> pick_or_pay(df).tolist()
    ['picked', 'paid', 'both', 'neither']
    """
    _need(df, "picked", "paid_replacement")
    pk, pd_ = _num(df, "picked"), _num(df, "paid_replacement")
    labels = np.array(["neither", "paid", "picked", "both"], dtype=object)
    code = (pk == 1).astype(int) * 2 + (pd_ == 1).astype(int)
    res = labels[code]
    res[np.isnan(pk) | np.isnan(pd_)] = None
    return pd.Series(res, index=df.index, name="pick_or_pay", dtype="str")


def pick_or_pay_dummies(df: pd.DataFrame) -> pd.DataFrame:
    """0/1 helpers of the pick-or-pay status.

    Returns ``picked_or_paid``, ``picked_only``, ``paid_only``, ``picked_and_paid``.

    Examples
    --------
    >>> df = pd.DataFrame({"picked": [1, 0], "paid_replacement": [1, 0]})
    >>> pick_or_pay_dummies(df)["picked_and_paid"].tolist()
    [1, 0]
    """
    _need(df, "picked", "paid_replacement")
    pk, pd_ = _num(df, "picked"), _num(df, "paid_replacement")
    miss = np.isnan(pk) | np.isnan(pd_)
    a, b = pk == 1, pd_ == 1
    cols = {"picked_or_paid": a | b, "picked_only": a & ~b, "paid_only": ~a & b,
            "picked_and_paid": a & b}
    return pd.DataFrame({k: _out(np.where(miss, np.nan, v), df.index, k)
                         for k, v in cols.items()}, index=df.index)


def _tokens_pattern(codes) -> str:
    alts = "|".join(re.escape(str(c)) for c in codes)
    return rf"(?:^|(?<=\s))(?:{alts})(?=\s|$)"


def _multi_text(df, column) -> pd.Series:
    _need(df, column)
    return df[column].astype("string")


def _per_distinct(text: pd.Series, func) -> np.ndarray:
    """Apply ``func`` (Series of str -> float array) to the distinct answers only.

    Multi-select answers take few distinct values, so this is fast on large frames.
    """
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    vals = np.asarray(func(pd.Series(uniques, dtype="string")), dtype="float64")
    out = np.full(len(text), np.nan)
    ok = codes >= 0
    out[ok] = vals[codes[ok]]
    return out


def consequence_count(df: pd.DataFrame, column: str = "consequences",
                      exclude=("none",)) -> pd.Series:
    """Number of consequences named in a multi-select answer, not counting ``exclude``.

    Notes
    -----
    ``n = #codes - #codes in exclude``, codes being the space-separated tokens.
    Missing answer gives NaN.

    Examples
    --------
    >>> df = pd.DataFrame({"consequences": ["none", "wage_deduction dismissal", ""]})
    >>> consequence_count(df).tolist()
    [0, 2, 0]
    """
    def count(u):
        total = u.str.count(r"\S+")
        if exclude:
            total = total - u.str.count(_tokens_pattern(exclude))
        return total.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)

    vals = _per_distinct(_multi_text(df, column), count)
    return _out(vals, df.index, "n_consequences")


def any_consequence(df: pd.DataFrame, column: str = "consequences",
                    exclude=("none",)) -> pd.Series:
    """At least one negative consequence: an option other than ``none`` is chosen.

    Examples
    --------
    >>> df = pd.DataFrame({"consequences": ["none", "reprimand"]})
    >>> any_consequence(df).tolist()
    [0, 1]
    """
    n = consequence_count(df, column, exclude).astype("float64").to_numpy()
    return _out(np.where(np.isnan(n), np.nan, n > 0), df.index, "any_consequence")


def involuntary(df: pd.DataFrame, answers=INVOLUNTARY_ANSWERS,
                column: str = "voluntary") -> pd.Series:
    """Involuntary work (ILO dimension 1): the answer to ``column`` is in ``answers``.

    Examples
    --------
    >>> involuntary(pd.DataFrame({"voluntary": ["yes", "no", "dont_know"]})).tolist()
    [0, 1, 0]
    >>> involuntary(pd.DataFrame({"voluntary": ["yes", "no", "dont_know"]}),
    ...             answers=["no", "dont_know"]).tolist()
    [0, 1, 1]
    """
    _need(df, column)
    s = df[column].astype("string")
    yes = s.isin([str(a) for a in answers]).to_numpy(dtype=bool, na_value=False)
    return _out(np.where(s.isna().to_numpy(), np.nan, yes), df.index, "involuntary")


def menace(df: pd.DataFrame, answers=MENACE_ANSWERS, column: str = "consequences") -> pd.Series:
    """Menace of penalty (ILO dimension 2): a consequence in ``answers`` was named.

    Examples
    --------
    >>> menace(pd.DataFrame({"consequences": ["other", "dismissal other"]})).tolist()
    [0, 1]
    """
    def hit(u):
        return u.str.contains(_tokens_pattern(answers), regex=True).astype("boolean").astype(
            "Float64").to_numpy(dtype="float64", na_value=np.nan)

    vals = _per_distinct(_multi_text(df, column), hit)
    return _out(vals, df.index, "menace")


def forced_labour(df: pd.DataFrame, involuntary_answers=INVOLUNTARY_ANSWERS,
                  menace_answers=MENACE_ANSWERS, *, voluntary_column: str = "voluntary",
                  consequence_column: str = "consequences") -> pd.Series:
    """ILO forced labour (ICLS 2018): involuntary work AND menace of penalty.

    Notes
    -----
    ``forced_labour = involuntary AND menace``: both dimensions must hold. The answer
    sets of each dimension are arguments, so a team can follow its own questionnaire.
    Missing when it cannot be decided (one dimension missing and the other not 0).

    Examples
    --------
    >>> df = pd.DataFrame({"voluntary": ["no", "no", "yes"],
    ...                    "consequences": ["dismissal", "none", "dismissal"]})
    >>> forced_labour(df).tolist()
    [1, 0, 0]
    """
    a = involuntary(df, involuntary_answers, voluntary_column).astype("float64").to_numpy()
    b = menace(df, menace_answers, consequence_column).astype("float64").to_numpy()
    yes = (a == 1) & (b == 1)
    no = (a == 0) | (b == 0)
    return _out(np.where(yes, 1.0, np.where(no, 0.0, np.nan)), df.index, "forced_labour")


def paid_above(df: pd.DataFrame, rate: float = 1.0, column: str = "rate_per_kg") -> pd.Series:
    """Paid strictly more than ``rate`` per kilogram.

    Examples
    --------
    >>> paid_above(pd.DataFrame({"rate_per_kg": [0.8, 1.0, 1.2]})).tolist()
    [0, 0, 1]
    """
    _need(df, column)
    r = _num(df, column)
    return _out(np.where(np.isnan(r), np.nan, r > rate), df.index, "paid_above")


def _rate(flag: pd.Series, df: pd.DataFrame, by, name: str) -> pd.DataFrame:
    by = [] if by is None else ([by] if isinstance(by, str) else list(by))
    _need(df, *by)
    work = df[by].copy() if by else pd.DataFrame(index=df.index)
    work["_x"] = flag.astype("float64")
    work = work[work["_x"].notna()]
    if by:
        g = work.groupby(by, sort=True, observed=True)["_x"]
        res = pd.DataFrame({"rate": g.mean(), "count": g.sum(), "n": g.size()}).reset_index()
    else:
        res = pd.DataFrame({"rate": [work["_x"].mean()], "count": [work["_x"].sum()],
                            "n": [len(work)]})
    res.insert(len(by), "indicator", name)
    res["count"] = res["count"].astype("int64")
    res["n"] = res["n"].astype("int64")
    return res


def refusal_rate(visits: pd.DataFrame, by=None) -> pd.DataFrame:
    """Share of attempted visits refused (unweighted), overall or by groups.

    Parameters
    ----------
    visits : pandas.DataFrame
        One row per attempted visit with a ``visit_status`` column (``completed``,
        ``refused``, ``dropped_interference``), e.g. ``hv.datasets.load("visits")``.
    by : str or list of str, optional
        Grouping columns (e.g. ``["year", "instrument"]``).

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, ``indicator`` (``"refusal"``), ``rate``, ``count`` (refused)
        and ``n`` (attempted visits).

    Notes
    -----
    ``rate = #refused / #attempted``. Report it beside every estimate it may bias.

    Examples
    --------
    >>> v = pd.DataFrame({"visit_status": ["completed", "refused", "completed", "completed"]})
    >>> refusal_rate(v)["rate"].item()
    0.25
    """
    _need(visits, "visit_status")
    s = visits["visit_status"].astype("string")
    flag = pd.Series(np.where(s.isna(), np.nan, (s == "refused").fillna(False)),
                     index=visits.index)
    return _rate(flag, visits, by, "refusal")


def interference_rate(visits: pd.DataFrame, by=None) -> pd.DataFrame:
    """Share of visits (not refused) with some interference (unweighted).

    Visits dropped for interference count as interference. Works on the ``visits``
    table or on an instrument table with an ``interference`` column.

    Notes
    -----
    ``rate = #(interference or dropped) / #(visits not refused)``.

    Examples
    --------
    >>> v = pd.DataFrame({"visit_status": ["completed", "refused", "dropped_interference"],
    ...                   "interference": [0, None, 1]})
    >>> interference_rate(v)["rate"].item()
    0.5
    """
    _need(visits, "interference")
    x = _num(visits, "interference")
    if "visit_status" in visits.columns:
        s = visits["visit_status"].astype("string").fillna("completed").to_numpy(dtype=object)
        x = np.where(s == "dropped_interference", 1.0, x)
        x = np.where(s == "refused", np.nan, x)
    return _rate(pd.Series(x, index=visits.index), visits, by, "interference")


def add_indicators(df: pd.DataFrame, instrument: str, *,
                   involuntary_answers=INVOLUNTARY_ANSWERS,
                   menace_answers=MENACE_ANSWERS) -> pd.DataFrame:
    """Return a new frame with the derived indicators of ``instrument`` added.

    The columns added are those listed in :data:`harvest.instruments.DERIVED`
    (existing columns of the same name are replaced). The input is not modified.

    Parameters
    ----------
    df : pandas.DataFrame
        Validated data of one instrument.
    instrument : {"farm", "picker", "employee", "institution"}
    involuntary_answers, menace_answers : sequence of str
        Answer sets of the two ILO dimensions of forced labour.

    Examples
    --------
    >>> df = pd.DataFrame({"n_children": [0, 2], "farmer_reports_minors": [0, 0],
    ...                    "civil_servants_on_farm": [1, 0]})
    >>> add_indicators(df, "farm")["child_labour"].tolist()
    [0, 1]
    """
    if instrument not in DERIVED:
        shown = ", ".join(repr(k) for k in DERIVED)
        raise ValueError(f"`instrument` must be one of {shown}; got {instrument!r}.")
    new: dict[str, pd.Series] = {}
    if instrument == "farm":
        new["child_labour"] = child_labour(df)
        new["children_observed"] = children_observed(df)
    elif instrument in ("picker", "employee"):
        if instrument == "employee":
            new["pick_or_pay"] = pick_or_pay(df)
            new.update(pick_or_pay_dummies(df).items())
        new["any_consequence"] = any_consequence(df)
        new["n_consequences"] = consequence_count(df)
        if instrument == "picker":
            new["paid_above_1"] = paid_above(df, 1.0)
            wc = _num(df, "written_contract")
            new["no_written_contract"] = _out(np.where(np.isnan(wc), np.nan, wc == 0), df.index,
                                              "no_written_contract")
        if "voluntary" in df.columns:
            new["involuntary"] = involuntary(df, involuntary_answers)
            new["forced_labour"] = forced_labour(df, involuntary_answers, menace_answers)
    else:
        _need(df, "n_staff", "n_staff_sent")
        staff, sent = _num(df, "n_staff"), _num(df, "n_staff_sent")
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(staff > 0, sent / np.where(staff > 0, staff, 1.0), np.nan)
        new["share_staff_sent"] = pd.Series(share, index=df.index, dtype="float64")
    out = df.copy()
    for name, series in new.items():
        out[name] = series.rename(name)
    return out
