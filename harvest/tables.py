"""Publication tables: rounding, percent formatting and disclosure control.

Estimators return unrounded tidy tables (the columns of API.md). Everything a reader
sees passes through this module first:

* :func:`disclose` applies the disclosure policy (`harvest.disclosure`): cells resting
  on fewer than ``min_n`` unweighted observations (default 10) or with fewer than 3
  respondents on one side of a 0/1 answer are withheld, and so are the cells that would
  let a reader rebuild them from the totals (secondary suppression);
* :func:`nchs_reliability` applies the NCHS data presentation standards for proportions
  (Parker et al. 2017) and says which estimates are too unreliable to show and which need
  a footnote;
* :func:`publication_table` and :func:`comparison_table` turn tidy tables into tables of
  text ready for a report, with suppressed cells shown as a symbol and every flag
  explained in a footnote;
* `write_table` and `to_markdown` are those of `harvest.writers` (the one module that
  writes files), kept here for existing callers.

References
----------
Parker JD, Talih M, Malec DJ, et al. National Center for Health Statistics data
presentation standards for proportions. Vital Health Stat 2(175). National Center for
Health Statistics, 2017. https://www.cdc.gov/nchs/data/series/sr_02/sr02_175.pdf

Korn EL, Graubard BI. Confidence intervals for proportions with small expected number of
positive counts estimated from survey data. Survey Methodology 24(2):193-201, 1998.
"""

from __future__ import annotations

import math
import warnings
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from harvest._errors import DisclosureWarning, check_table
from harvest.disclosure import DisclosurePolicy, protect
from harvest.writers import table_format, to_markdown, write_table

__all__ = [
    "ESTIMATE_COLUMNS",
    "COMPARISON_COLUMNS",
    "SUPPRESSED",
    "disclose",
    "nchs_reliability",
    "format_percent",
    "format_number",
    "publication_table",
    "comparison_table",
    "to_markdown",
    "write_table",
    "table_format",
]

#: Columns of every estimator's output after the ``by`` columns (API.md).
ESTIMATE_COLUMNS = (
    "indicator", "estimate", "se", "ci_low", "ci_high", "level", "ci_method", "df", "deff",
    "n", "n_eff",
)

#: Columns of ``design.compare`` after the ``by`` columns (API.md).
COMPARISON_COLUMNS = (
    "indicator", "group", "baseline", "estimate_group", "estimate_baseline", "measure",
    "estimate", "se", "ci_low", "ci_high", "df", "p_value", "p_adjusted",
)

#: The symbol shown in place of a suppressed cell.
SUPPRESSED = "*"

# NCHS flag codes and their footnotes (Parker et al. 2017, figure 1).
NCHS_NOTES = {
    "neff": "effective sample size below 30 (NCHS standard: suppress)",
    "width": "confidence interval wider than 30 percentage points (NCHS standard: suppress)",
    "relwidth": "confidence interval wider than 130% of the estimate (NCHS standard: suppress)",
    "complement": "the complementary percentage would not meet the NCHS standard (footnote)",
    "df": "fewer than 8 degrees of freedom (NCHS standard: statistical review)",
    "zero": "estimate of 0% or 100% (NCHS standard: statistical review)",
}


def _check_columns(table, required, what):
    check_table(table, required, what, "; expected the columns of a harvest estimate table "
                f"({', '.join(required)})")


def _check_min_n(min_n):
    if isinstance(min_n, bool) or not isinstance(min_n, (int, np.integer)) or min_n < 0:
        raise ValueError(f"`min_n` must be a whole number >= 0; got {min_n!r}.")
    return int(min_n)


RELIABILITY = ("flag", "suppress", None)


def _check_reliability(value):
    if value not in RELIABILITY:
        raise ValueError(
            f"`reliability` must be one of 'flag', 'suppress', None; got {value!r}.")
    return value


def by_columns(table: pd.DataFrame, last: str = "indicator") -> list[str]:
    """Return the ``by`` columns of a tidy table: the columns before ``indicator``.

    Examples
    --------
    >>> import pandas as pd
    >>> by_columns(pd.DataFrame(columns=["year", "region", "indicator", "estimate"]))
    ['year', 'region']
    """
    cols = list(table.columns)
    return cols[: cols.index(last)] if last in cols else []


def _policy_for(min_n, policy) -> DisclosurePolicy:
    """The policy given, or the default policy with ``min_n``."""
    if policy is not None:
        if not isinstance(policy, DisclosurePolicy):
            raise TypeError(f"`policy` must be a DisclosurePolicy; got "
                            f"{type(policy).__name__}.")
        return policy
    return DisclosurePolicy(min_n=_check_min_n(min_n))


def disclose(table: pd.DataFrame, min_n: int = 10, *, policy: DisclosurePolicy | None = None,
             warn: bool = False) -> pd.DataFrame:
    """Apply the disclosure policy to one published table (`harvest.disclosure.protect`).

    Parameters
    ----------
    table : pandas.DataFrame
        An estimate table with the API.md columns (at least ``indicator``, ``estimate``
        and ``n``; ``n_yes`` for the attribute rule, see
        `harvest.disclosure.answer_counts`).
    min_n : int, default 10
        The smallest unweighted number of observations a published cell may rest on
        (ignored when ``policy`` is given). Values below
        `harvest.disclosure.MIN_N_FLOOR` need a policy with ``allow_weak=True``.
    policy : harvest.disclosure.DisclosurePolicy, optional
        All settings of disclosure control.
    warn : bool, default False
        Emit a `harvest._errors.DisclosureWarning` when cells were suppressed.

    Returns
    -------
    pandas.DataFrame
        A copy of ``table`` in which the statistics of every withheld row are missing,
        plus the columns ``suppressed`` (bool) and ``suppression`` (``"size"``,
        ``"attribute"``, ``"secondary"`` or ``""``). The caller's table is not modified.

    Notes
    -----
    A row is withheld when :math:`n_d < n_{\\min}` (primary), when fewer than
    ``min_each`` respondents gave one of the answers of a 0/1 indicator (attribute
    rule; without ``n_yes`` an estimate of exactly 0 or 1), or when it is needed to stop
    a withheld row being rebuilt from the others and their all-levels total (secondary
    suppression over the ``by`` columns and their margins). The count is withheld too.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"region": ["Ahal", "Mary", "Lebap"], "indicator": "child_labour",
    ...                   "estimate": [0.21, 0.5, 0.3], "n": [120, 4, 60]})
    >>> disclose(t)[["region", "n", "suppressed"]]
      region      n  suppressed
    0   Ahal  120.0       False
    1   Mary    NaN        True
    2  Lebap    NaN        True
    """
    _check_columns(table, ["estimate", "n"], "table")
    policy = _policy_for(min_n, policy)
    if "indicator" not in table.columns:
        table = table.assign(indicator="")
        out = protect(table, policy).drop(columns=["indicator"])
    else:
        out = protect(table, policy)
    small = out["suppressed"].to_numpy()
    if warn and small.any():
        warnings.warn(
            f"{int(small.sum())} cell(s) were withheld by disclosure control.",
            DisclosureWarning,
            stacklevel=2,
        )
    return out


def suppression_note(reasons, policy: DisclosurePolicy) -> str:
    """The footnote text explaining the withheld cells (``*``) for the reasons used.

    Examples
    --------
    >>> print(suppression_note({"size", "secondary"}, DisclosurePolicy()))  # doctest: +ELLIPSIS
    suppressed to protect respondents: fewer than 10 observations; or withheld so that ...
    """
    parts = []
    if "size" in reasons:
        parts.append(f"fewer than {policy.min_n} observations")
    if "attribute" in reasons:
        parts.append(f"fewer than {policy.min_each} respondents gave one of the answers, "
                     "which would disclose the others' answers")
    if "secondary" in reasons:
        parts.append("withheld so that another suppressed cell cannot be recovered from the "
                     "totals (secondary suppression)")
    return "suppressed to protect respondents: " + "; or ".join(parts)


def nchs_reliability(table: pd.DataFrame, *, min_neff: float = 30.0) -> pd.DataFrame:
    """Apply the NCHS data presentation standards for proportions (Parker et al. 2017).

    Parameters
    ----------
    table : pandas.DataFrame
        A proportion table with the API.md columns ``estimate``, ``se``, ``ci_low``,
        ``ci_high``, ``df`` and ``n``. The standards are defined for the Korn-Graubard
        interval (``ci="korn-graubard"``); other intervals give an approximation.
    min_neff : float, default 30
        The minimum effective sample size.

    Returns
    -------
    pandas.DataFrame
        One row per row of ``table`` (same index) with columns ``nchs_n_eff``,
        ``ci_width``, ``ci_rel_width``, ``nchs_present`` (bool: the standard allows the
        estimate to be shown), ``nchs_flags`` (space-separated codes, see Notes) and
        ``nchs_reason`` (text).

    Notes
    -----
    With :math:`\\hat p` the estimate, :math:`SE` its standard error, :math:`n` the
    unweighted sample size and :math:`(L, U)` the interval, the standard computes the
    effective sample size

    .. math:: n_\\text{eff} = \\min\\left(n, \\hat p (1-\\hat p) / SE^2\\right),

    (with :math:`n_\\text{eff} = n` when :math:`\\hat p \\in \\{0, 1\\}`), the absolute
    width :math:`W = U - L` and the relative width :math:`W / \\hat p`. Then, in order:

    1. :math:`n_\\text{eff} < 30`: suppress (flag ``neff``);
    2. :math:`W \\le 0.05`: present;
    3. :math:`W \\ge 0.30`: suppress (flag ``width``);
    4. :math:`W / \\hat p > 1.30`: suppress (flag ``relwidth``); otherwise present.

    A presented estimate is further flagged ``complement`` when it passed through step 4
    and the complementary proportion fails it, :math:`W / (1 - \\hat p) > 1.30`
    (footnote); ``df`` when the design degrees of freedom are below 8 (statistical
    review); ``zero`` when :math:`\\hat p` is exactly 0 or 1 (statistical review; the
    interval width is then taken as 0 as in the standard's implementation).

    References
    ----------
    Parker JD, Talih M, Malec DJ, et al. National Center for Health Statistics data
    presentation standards for proportions. Vital Health Stat 2(175), 2017.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"estimate": [0.23, 0.02, 0.4], "se": [0.02, 0.02, 0.12],
    ...                   "ci_low": [0.19, 0.003, 0.18], "ci_high": [0.27, 0.11, 0.65],
    ...                   "df": [40, 40, 40], "n": [480, 60, 40]})
    >>> r = nchs_reliability(t)
    >>> r["nchs_present"].tolist(), r["nchs_flags"].tolist()
    ([True, False, False], ['', 'relwidth', 'neff'])
    """
    _check_columns(table, ["estimate", "se", "ci_low", "ci_high", "n"], "table")
    p = pd.to_numeric(table["estimate"], errors="coerce").to_numpy(dtype=float)
    se = pd.to_numeric(table["se"], errors="coerce").to_numpy(dtype=float)
    lo = pd.to_numeric(table["ci_low"], errors="coerce").to_numpy(dtype=float)
    hi = pd.to_numeric(table["ci_high"], errors="coerce").to_numpy(dtype=float)
    n = pd.to_numeric(table["n"], errors="coerce").to_numpy(dtype=float)
    df = (
        pd.to_numeric(table["df"], errors="coerce").to_numpy(dtype=float)
        if "df" in table.columns else np.full(p.shape, np.inf)
    )
    extreme = (p == 0) | (p == 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        neff = np.where(se > 0, p * (1 - p) / se**2, np.inf)
        neff = np.where(extreme, n, np.minimum(neff, n))
        width = np.where(extreme, 0.0, hi - lo)
        rel = np.where(p > 0, width / p, np.inf)
        rel_c = np.where(p < 1, width / (1 - p), np.inf)

    unknown = np.isnan(p) | np.isnan(neff) | np.isnan(width)
    small_n = ~(neff >= min_neff)
    narrow = ~small_n & (width <= 0.05)
    wide = ~small_n & ~narrow & (width >= 0.30)
    mid = ~small_n & ~narrow & ~wide
    relwide = mid & (rel > 1.30)
    present = ~unknown & (narrow | (mid & ~relwide))

    codes = np.full(p.shape, "", dtype=object)

    def add(mask, code):
        codes[mask] = np.where(codes[mask] == "", code, codes[mask] + " " + code)

    add(~unknown & small_n, "neff")
    add(~unknown & wide, "width")
    add(~unknown & relwide, "relwidth")
    add(present & mid & (rel_c > 1.30), "complement")
    add(present & (df < 8), "df")
    add(present & extreme, "zero")

    reason = np.array(
        ["; ".join(NCHS_NOTES[c] for c in s.split()) if s else "" for s in codes], dtype=object
    )
    reason[unknown] = "no estimate"
    return pd.DataFrame(
        {
            "nchs_n_eff": neff,
            "ci_width": width,
            "ci_rel_width": rel,
            "nchs_present": present,
            "nchs_flags": codes.astype(str),
            "nchs_reason": reason.astype(str),
        },
        index=table.index,
    )


def _round_half_up(x, digits: int, scale: int = 1, sep: str = ",") -> str:
    """Round the decimal shown by ``repr`` half away from zero, as people expect on paper."""
    value = Decimal(repr(float(x))) * scale
    value = value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    if value == 0:
        value = abs(value)  # no "-0.0"
    return f"{value:{sep}.{digits}f}"


def format_percent(x, digits: int = 1, *, missing: str = SUPPRESSED) -> str:
    """Format a proportion as a percentage: ``0.2345 -> '23.5'``.

    Parameters
    ----------
    x : float
        A proportion (0.23 for 23%).
    digits : int, default 1
        Decimal places of the percentage.
    missing : str, default ``"*"``
        Shown for a missing value.

    Examples
    --------
    >>> format_percent(0.2345), format_percent(1.0, 0), format_percent(float("nan"))
    ('23.5', '100', '*')
    """
    if x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x):
        return missing
    return _round_half_up(x, digits, scale=100, sep="")


def format_number(x, digits: int = 2, *, missing: str = SUPPRESSED) -> str:
    """Format a number with a fixed number of decimals and thousands separators.

    Examples
    --------
    >>> format_number(1234.567), format_number(12, 0)
    ('1,234.57', '12')
    """
    if x is None or pd.isna(x):
        return missing
    return _round_half_up(x, digits)


def _format_interval(lo, hi, fmt) -> str:
    if pd.isna(lo) or pd.isna(hi):
        return SUPPRESSED
    return f"{fmt(lo)} to {fmt(hi)}"


def _label(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, pd.Timestamp):   # a year column read as dates: the year
        return str(value.year) if value == pd.Timestamp(value.year, 1, 1) else str(value.date())
    return str(value)


def publication_table(
    table: pd.DataFrame,
    *,
    percent: bool = True,
    digits: int = 1,
    min_n: int = 10,
    reliability: str | None = "flag",
    labels: dict | None = None,
    policy: DisclosurePolicy | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Turn an estimate table into a table of text for publication.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of ``proportion``, ``mean``, ``total`` or ``ratio`` (API.md columns).
    percent : bool, default True
        Show estimates and intervals as percentages (for proportions).
    digits : int, default 1
        Decimal places shown.
    min_n : int, default 10
        Cells resting on fewer unweighted observations are suppressed (see
        :func:`disclose`); ignored when ``policy`` is given.
    reliability : {"flag", "suppress", None}, default ``"flag"``
        What to do with proportions that fail the NCHS data presentation standards
        (:func:`nchs_reliability`): show them with a footnote marking them unreliable
        (``"flag"``), withhold them (``"suppress"``, as NCHS publications do) or ignore
        the standards (``None``). Applied only when ``percent`` is true.
    labels : dict, optional
        Display names for indicators, e.g. ``{"child_labour": "Child labour"}``.
    policy : harvest.disclosure.DisclosurePolicy, optional
        The disclosure settings. A ``table`` that already holds a ``suppressed`` column
        (the output of `harvest.disclosure.protect` for a publication of several
        tables) is taken as protected and its pattern is kept.

    Returns
    -------
    table : pandas.DataFrame
        Text columns: the ``by`` columns, ``Indicator``, ``Estimate`` (``%`` when
        ``percent``), ``CI`` (``"95% CI"``), ``n`` and ``Note``. Withheld cells show
        ``*`` for the estimate, the interval and the count.
    notes : list of str
        Footnotes for the markers used in ``Note``.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"region": ["Ahal", "Mary", "Lebap"], "indicator": "child_labour",
    ...     "estimate": [0.2345, 0.5, 0.3], "se": [0.02, 0.2, 0.05],
    ...     "ci_low": [0.19, 0.1, 0.2], "ci_high": [0.28, 0.9, 0.4], "level": 0.95,
    ...     "ci_method": "korn-graubard", "df": [30, 30, 30], "deff": [1.5, 1.0, 1.2],
    ...     "n": [480, 6, 60], "n_eff": [450, 6, 50]})
    >>> text, notes = publication_table(t)
    >>> text.iloc[:, :5]
      region     Indicator Estimate (%)        95% CI    n
    0   Ahal  child_labour         23.5  19.0 to 28.0  480
    1   Mary  child_labour            *             *    *
    2  Lebap  child_labour            *             *    *
    """
    _check_columns(table, ["indicator", "estimate", "ci_low", "ci_high", "n"], "table")
    reliability = _check_reliability(reliability) if percent else None
    policy = _policy_for(min_n, policy)
    by = by_columns(table)
    safe = table if "suppressed" in table.columns else disclose(table, policy=policy)
    if "suppression" not in safe.columns:
        safe = safe.assign(suppression=np.where(safe["suppressed"], "secondary", ""))
    labels = labels or {}
    level = table["level"].iloc[0] if "level" in table.columns and len(table) else 0.95
    ci_name = f"{_label(round(float(level) * 100, 1))}% CI"
    est_name = "Estimate (%)" if percent else "Estimate"

    def fmt(v):
        return format_percent(v, digits) if percent else format_number(v, digits)

    if reliability is not None and "se" in table.columns:
        rel = nchs_reliability(table)
        hide = ~rel["nchs_present"].to_numpy() & ~safe["suppressed"].to_numpy()
        if reliability == "flag":
            hide[:] = False
        flags = rel["nchs_flags"].where(~safe["suppressed"], "")
    else:
        hide = np.zeros(len(table), dtype=bool)
        flags = pd.Series([""] * len(table), index=table.index)

    used: dict[str, str] = {}
    marks = {"small": "a", "neff": "b", "width": "b", "relwidth": "b", "complement": "c",
             "df": "d", "zero": "d"}
    reasons = set(safe["suppression"][safe["suppressed"].to_numpy(dtype=bool)])
    texts = {
        "a": suppression_note(reasons, policy),
        "b": ("suppressed" if reliability == "suppress" else "unreliable, interpret with "
              "caution") + ": does not meet the NCHS data presentation standards for "
             "proportions (effective sample size below 30 or confidence interval too wide)",
        "c": "the complementary percentage does not meet the NCHS standard",
        "d": "review before publishing: fewer than 8 degrees of freedom or an estimate of "
             "0% or 100% (NCHS standard)",
    }
    rows = []
    for i in range(len(table)):
        src = safe.iloc[i]
        row = {c: _label(table[c].iloc[i]) for c in by}
        row["Indicator"] = labels.get(table["indicator"].iloc[i], str(table["indicator"].iloc[i]))
        note = []
        if safe["suppressed"].iloc[i]:
            row[est_name] = SUPPRESSED
            row[ci_name] = SUPPRESSED
            row["n"] = SUPPRESSED  # no "<10": a range would bound the complements
            note.append("a")
        else:
            shown = not hide[i]
            row[est_name] = fmt(src["estimate"]) if shown else SUPPRESSED
            row[ci_name] = _format_interval(src["ci_low"], src["ci_high"], fmt) if shown \
                else SUPPRESSED
            row["n"] = f"{int(src['n']):,}"
            for code in flags.iloc[i].split():
                if marks[code] not in note:
                    note.append(marks[code])
        for m in note:
            used[m] = texts[m]
        row["Note"] = " ".join(note)
        rows.append(row)
    out = pd.DataFrame(rows, columns=[*by, "Indicator", est_name, ci_name, "n", "Note"])
    notes = [f"{m}: {used[m]}" for m in sorted(used)]
    return out, notes


def comparison_status(comparison: pd.DataFrame, estimates: pd.DataFrame | None = None, *,
                      between: str | None = None, policy: DisclosurePolicy | None = None,
                      reliability: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Which rows of a comparison are withheld, and which rest on an unreliable level.

    A row is withheld when the group or the baseline cell is withheld by
    `harvest.disclosure.protect` applied to ``estimates`` (or to the cells rebuilt from
    the ``n_group`` and ``n_baseline`` columns), with the pattern kept consistent across
    the levels of ``between``. See `comparison_table` for the parameters.

    Returns
    -------
    withheld, unreliable : numpy.ndarray of bool
        One value per row of ``comparison``.

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"region": ["A", "B", "C"], "indicator": "x", "group": 2024,
    ...                   "baseline": 2023, "n_group": [5, 40, 30], "n_baseline": 50})
    >>> comparison_status(c)[0].tolist()
    [True, False, True]
    """
    policy = policy if policy is not None else DisclosurePolicy()
    by = by_columns(comparison)
    small = np.zeros(len(comparison), dtype=bool)
    unreliable = np.zeros(len(comparison), dtype=bool)
    if estimates is None and {"n_group", "n_baseline"}.issubset(comparison.columns):
        # the cells behind the comparison: (by, group) and (by, baseline)
        between = between or "_between"
        cells = pd.concat([
            comparison[[*by, "indicator"]].assign(**{between: comparison[side].to_numpy(),
                                                    "n": comparison[f"n_{side}"].to_numpy()})
            for side in ("group", "baseline")], ignore_index=True)
        cells[between] = cells[between].map(_label)
        cells = cells.drop_duplicates([*by, "indicator", between])
        estimates = cells[[*by, between, "indicator", "n"]]
    if estimates is not None:
        if between is None:
            raise ValueError("`between` is needed with `estimates` to find the group counts.")
        _check_columns(estimates, [between, "indicator", "n"], "estimates")
        if "suppressed" not in estimates.columns:
            estimates = protect(estimates, policy, time=between)
        keys = [*by, "indicator"]
        status = estimates[[*keys, between, "suppressed"]].copy()
        status[between] = status[between].map(_label)
        check_nchs = reliability is not None and {"se", "ci_low", "ci_high", "estimate"}.issubset(
            estimates.columns)
        status["_present"] = (nchs_reliability(estimates)["nchs_present"].to_numpy()
                              if check_nchs else True)
        left = comparison[keys].copy()
        for c in by:
            left[c] = left[c].map(_label)
            status[c] = status[c].map(_label)
        for side in ("group", "baseline"):
            left[between] = comparison[side].map(_label).to_numpy()
            merged = left.merge(status, on=[*keys, between], how="left")
            small |= merged["suppressed"].fillna(True).astype(bool).to_numpy()
            unreliable |= ~merged["_present"].fillna(False).astype(bool).to_numpy()
        unreliable &= ~small
    return small, unreliable


def comparison_table(
    comparison: pd.DataFrame,
    *,
    estimates: pd.DataFrame | None = None,
    between: str | None = None,
    min_n: int = 10,
    percent: bool = True,
    digits: int = 1,
    labels: dict | None = None,
    reliability: str | None = "flag",
    level: float = 0.95,
    policy: DisclosurePolicy | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Turn a ``design.compare`` table into a table of text for publication.

    Parameters
    ----------
    comparison : pandas.DataFrame
        Output of ``design.compare`` (API.md columns).
    estimates : pandas.DataFrame, optional
        The estimate table of the same indicator by ``by`` and ``between`` (for the
        unweighted counts). A row is suppressed when the group or the baseline rests on
        fewer than ``min_n`` observations. Without it, the counts are taken from the
        ``n_group`` and ``n_baseline`` columns that ``design.compare`` adds; when neither
        is available nothing can be suppressed.
    between : str, optional
        The column of ``estimates`` holding the compared groups (e.g. ``"year"``).
        Required with ``estimates``.
    min_n : int, default 10
        Disclosure threshold.
    percent : bool, default True
        Show levels as percentages and differences as percentage points (for
        ``measure="difference"``); ratios are shown as numbers.
    digits : int, default 1
        Decimal places.
    labels : dict, optional
        Display names for indicators.
    reliability : {"flag", "suppress", None}, default ``"flag"``
        With ``estimates`` holding ``se`` and the interval: when the group or the
        baseline estimate fails :func:`nchs_reliability`, mark the row (``"flag"``) or
        withhold it (``"suppress"``: the change and the other level would otherwise
        reveal the withheld estimate). Applied only when ``percent`` is true.
    level : float, default 0.95
        The confidence level of the intervals (for the column header).
    policy : harvest.disclosure.DisclosurePolicy, optional
        The disclosure settings (instead of ``min_n``). An ``estimates`` table holding a
        ``suppressed`` column is taken as protected; otherwise the cells behind the
        comparison (``by`` and ``between``) are protected jointly, consistently across
        the compared groups.

    Returns
    -------
    table : pandas.DataFrame
        Text columns: the ``by`` columns, ``Indicator`` (then ``Comparison``, naming the
        two groups, when the table holds several pairs), ``Baseline``, ``Group``,
        ``Change`` (percentage points for differences), its interval, ``p`` and ``Note``.
    notes : list of str
        Footnotes.

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"region": ["Ahal"], "indicator": "child_labour", "group": 2024,
    ...     "baseline": 2023, "estimate_group": [0.2], "estimate_baseline": [0.25],
    ...     "measure": "difference", "estimate": [-0.05], "se": [0.02],
    ...     "ci_low": [-0.09], "ci_high": [-0.01], "df": [30], "p_value": [0.02],
    ...     "p_adjusted": [0.04]})
    >>> comparison_table(c)[0].iloc[0, 2:6].tolist()
    ['25.0', '20.0', '-5.0', '-9.0 to -1.0']
    """
    _check_columns(comparison, list(COMPARISON_COLUMNS), "comparison")
    by = by_columns(comparison)
    labels = labels or {}
    reliability = _check_reliability(reliability) if percent else None
    policy = _policy_for(min_n, policy)
    small, unreliable = comparison_status(comparison, estimates, between=between,
                                          policy=policy, reliability=reliability)
    rows = []
    used = {}
    for i in range(len(comparison)):
        r = comparison.iloc[i]
        measure = str(r["measure"])
        as_pp = percent and measure == "difference"
        row = {c: _label(r[c]) for c in by}
        row["Indicator"] = labels.get(r["indicator"], str(r["indicator"]))
        lvl = (lambda v: format_percent(v, digits)) if percent else \
            (lambda v: format_number(v, digits + 1))
        chg = (lambda v: format_percent(v, digits)) if as_pp else \
            (lambda v: format_number(v, 2))
        if small[i]:
            row.update({"Baseline": SUPPRESSED, "Group": SUPPRESSED, "Change": SUPPRESSED,
                        "CI": SUPPRESSED, "p": SUPPRESSED, "Note": "a"})
            used["a"] = ("suppressed: a compared level is withheld by disclosure control "
                         f"(fewer than {policy.min_n} observations, too few respondents "
                         "on one side of the answer, or secondary suppression)")
        elif unreliable[i] and reliability == "suppress":
            row.update({"Baseline": SUPPRESSED, "Group": SUPPRESSED, "Change": SUPPRESSED,
                        "CI": SUPPRESSED, "p": SUPPRESSED, "Note": "b"})
            used["b"] = ("suppressed: a compared estimate does not meet the NCHS data "
                         "presentation standards for proportions")
        else:
            p = r["p_adjusted"] if not pd.isna(r["p_adjusted"]) else r["p_value"]
            row.update({
                "Baseline": lvl(r["estimate_baseline"]),
                "Group": lvl(r["estimate_group"]),
                "Change": chg(r["estimate"]),
                "CI": _format_interval(r["ci_low"], r["ci_high"], chg),
                "p": "<0.001" if p < 0.001 else f"{p:.3f}",
                "Note": "b" if unreliable[i] else "",
            })
            if unreliable[i]:
                used["b"] = ("unreliable, interpret with caution: a compared estimate does "
                             "not meet the NCHS data presentation standards for proportions")
        rows.append(row)
    change_name = "Change (percentage points)" if percent and (
        comparison["measure"] == "difference").all() else "Change"
    out = pd.DataFrame(rows, columns=[*by, "Indicator", "Baseline", "Group", "Change", "CI",
                                      "p", "Note"])
    unit = " (%)" if percent else ""
    pairs = comparison[["group", "baseline"]].astype(str).drop_duplicates()
    if len(pairs) == 1:
        names = {"Baseline": f"{_label(comparison['baseline'].iloc[0])}{unit}",
                 "Group": f"{_label(comparison['group'].iloc[0])}{unit}"}
    else:
        # several pairs: say on each row which groups are compared
        out.insert(len(by) + 1, "Comparison",
                   [f"{_label(g)} vs {_label(b)}" for g, b in
                    zip(comparison["group"], comparison["baseline"], strict=True)])
        names = {"Baseline": f"Baseline{unit}", "Group": f"Group{unit}"}
    out = out.rename(columns={**names, "Change": change_name,
                              "CI": f"{_label(round(float(level) * 100, 1))}% CI"})
    notes = [f"{m}: {used[m]}" for m in sorted(used)]
    return out, notes
