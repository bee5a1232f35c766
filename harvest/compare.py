"""Comparisons between domains and years that respect the design.

* :func:`compare`: differences, ratios and odds ratios between the levels of one
  column (years, sectors, observation rounds), against a baseline level or for every
  pair, for many indicators and ``by`` domains at once;
* :func:`trend`: the linear trend over three or more years (a centred linear contrast);
* :func:`minimum_detectable_change`: the smallest change a comparison could have
  detected, to read beside a change that is not significant.

Years kept in separate files are stacked first with :func:`harvest.prepare.pool_years`
(also ``hv.pool_years``; importable from here as before).

Every contrast is ``C @ estimate`` with variance ``diag(C V C^T)``, where ``V`` is the
*full* covariance of the domain estimates from the design (linearisation or
replicates, R ``svyby(..., covmat=TRUE)``); domains that share PSUs are never treated
as independent. See ``docs/methods/compare.md`` for the formulas.

Examples
--------
>>> import pandas as pd
>>> import harvest as hv
>>> df = pd.DataFrame({"district": [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6],
...                    "year": [2023, 2024] * 6,
...                    "y": [0, 1, 0, 0, 1, 1, 0, 1, 0, 1, 1, 1]})
>>> design = hv.SurveyDesign(df, psu="district")
>>> out = compare(design, "y", between="year", baseline=2023)
>>> out[["indicator", "group", "baseline", "estimate"]]
  indicator  group  baseline  estimate
0         y   2024      2023       0.5
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import sparse

from harvest._dist import t_ppf, t_sf
from harvest._errors import DataError, HarvestWarning, check_columns, describe_rows
from harvest._options import (
    ADJUST,
    COMPARE_MEASURES,
    KINDS,
    as_list,
    check_level,
    check_option,
    check_probability,
)
from harvest.prepare import pool_years  # noqa: F401  (moved; the old import path)

__all__ = [
    "COMPARE_COLUMNS",
    "TREND_COLUMNS",
    "compare",
    "trend",
    "minimum_detectable_change",
]

#: Columns of :func:`compare` after the ``by`` columns: the API.md set, then the
#: documented extras ``n_group``, ``n_baseline`` and ``mdc``.
COMPARE_COLUMNS = [
    "indicator", "group", "baseline", "estimate_group", "estimate_baseline", "measure",
    "estimate", "se", "ci_low", "ci_high", "df", "p_value", "p_adjusted",
    "n_group", "n_baseline", "mdc",
]

#: Columns of :func:`trend` after the ``by`` columns.
TREND_COLUMNS = [
    "indicator", "time_first", "time_last", "n_times", "measure", "estimate", "se",
    "ci_low", "ci_high", "df", "p_value", "p_adjusted", "mdc",
]


# ---------------------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------------------

def _check_design(design) -> None:
    if not hasattr(design, "_estimate_vcov"):
        raise TypeError(
            "`design` must be a harvest design (hv.SurveyDesign or hv.ReplicateDesign); "
            f"got {type(design).__name__}."
        )


def _check_common(design, adjust, kind, level, power, df):
    """The checks ``compare`` and ``trend`` share; ``(level, power, df)`` as used."""
    _check_design(design)
    check_option("adjust", adjust, ADJUST)
    check_option("kind", kind, KINDS)
    return check_level(level), check_probability("power", power), _check_df(df)


def _by_level(design, kind, indicators, by, column, argument, na, denominator):
    """Estimates and their full design covariance in every ``by`` x ``column`` domain,
    with the ``(groups, levels)`` index of each domain's first column (-1: empty).

    ``by`` and ``indicators`` come back as lists; ``column`` is checked as the
    ``argument`` (``"between"`` or ``"time"``)."""
    by = as_list(by)
    indicators = as_list(indicators)
    _check_grouping(design, column, argument, by)
    if hasattr(design, "_estimate_entries"):   # the covariance entries the contrasts use
        estimand, estimate, vcov, _ = design._estimate_entries(
            kind, indicators, by=[*by, column], na=na, denominator=denominator)
        return (by, indicators, estimand, np.asarray(estimate, dtype=float), vcov,
                *_domain_index(estimand.domains, by, column))
    estimand, estimate, vcov, _ = design._estimate_vcov(kind, indicators, by=[*by, column],
                                                         na=na, denominator=denominator)
    group_table, levels, index = _domain_index(estimand.domains, by, column)
    return (by, indicators, estimand, np.asarray(estimate, dtype=float),
            np.asarray(vcov, dtype=float), group_table, levels, index)


def _check_grouping(design, column, argument: str, by: list) -> None:
    if not isinstance(column, str | int) or isinstance(column, bool):
        raise TypeError(f"`{argument}` must be one column name; got {column!r}.")
    check_columns(design.data, [column], argument)
    if column in by:
        raise ValueError(f"`{argument}` column {column!r} must not also be in `by`.")
    missing = design.data[column].isna().to_numpy() & (design._codes.weights > 0)
    if missing.any():
        rows = np.flatnonzero(missing)
        raise DataError(
            f"`{argument}` column {column!r} has missing values (NaN) in "
            f"{describe_rows(rows)}; recode them as a level or leave those rows out with "
            "`design.subset`."
        )


# ---------------------------------------------------------------------------------------
# numpy core
# ---------------------------------------------------------------------------------------
def _contrast_moments(C, estimate, vcov, transform: str):
    """``C @ g(estimate)`` and ``diag(J V J^T)`` with ``J = C diag(g'(estimate))``.

    ``C`` is a sparse ``(r, m)`` contrast matrix, ``g`` the identity, ``log`` or
    ``logit``. Only the columns a row uses enter its result, so a NaN estimate of an
    unrelated domain does not spread.
    """
    C = sparse.csr_array(C)
    with np.errstate(divide="ignore", invalid="ignore"):
        if transform == "identity":
            g, grad = estimate, np.ones_like(estimate)
        elif transform == "log":
            g, grad = np.log(estimate), 1.0 / estimate
        else:  # logit
            g = np.log(estimate) - np.log1p(-estimate)
            grad = 1.0 / (estimate * (1.0 - estimate))
    J = C @ sparse.dia_array((grad[None, :], [0]), shape=(len(grad), len(grad)))
    J = sparse.csr_array(J)
    theta = C @ g
    if callable(vcov):
        # only the entries V[i, j] of columns i, j used by one row: cost ~ rows x terms^2
        J.sum_duplicates()
        width = np.diff(J.indptr)
        row = np.repeat(np.arange(J.shape[0]), width)
        size = width[row]                        # each entry pairs with its row's entries
        left = np.repeat(np.arange(J.nnz), size)
        right = (np.arange(left.size) - np.repeat(np.cumsum(size) - size, size)
                 + J.indptr[row][left])
        entries = vcov(J.indices[left], J.indices[right]) if left.size else np.zeros(0)
        with np.errstate(invalid="ignore", over="ignore"):
            terms = J.data[left] * J.data[right] * entries
        variance = np.bincount(row[left], weights=terms, minlength=J.shape[0])
    else:
        JV = J @ vcov
        variance = np.asarray(J.multiply(JV).sum(axis=1)).reshape(-1)
    # A row whose gradient is not finite (log of 0) has no delta-method variance.
    bad_grad = np.asarray(
        abs(C).multiply((~np.isfinite(grad)).astype(float)[None, :]).sum(axis=1)
    ).reshape(-1) > 0
    variance = np.where(bad_grad, np.nan, variance)
    return theta, variance


def _t_test(theta, se, df, level):
    """Two-sided t interval and p-value of ``theta`` with standard error ``se``.

    ``se == 0`` with ``theta == 0`` gives p = 1; ``se == 0`` with ``theta != 0`` gives
    NaN (no test without sampling variability).
    """
    q = t_ppf(0.5 + level / 2.0, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = theta / se
        p = 2.0 * t_sf(np.abs(t), df)
    p = np.where((se == 0) & (theta == 0), 1.0, p)
    p = np.where((se == 0) & (theta != 0), np.nan, p)
    return theta - q * se, theta + q * se, p


def _adjust(p, method):
    """Adjusted p-values across the finite entries of ``p`` (NaN stays NaN).

    ``"bonferroni"`` and ``"fdr_bh"`` through statsmodels' ``multipletests``. ``"holm"``
    is the same step-down formula computed here, because statsmodels' Holm branch calls
    ``gc.collect()`` on every call (about 0.2 s in a session with pandas loaded, more
    than the whole comparison); ``tests/test_compare.py`` checks both agree.
    """
    out = np.array(p, dtype=float)
    if method is None:
        return out
    ok = np.isfinite(out)
    if not ok.any():
        return out
    if method == "holm":
        values = out[ok]
        order = np.argsort(values, kind="stable")
        K = len(values)
        stepped = np.maximum.accumulate(values[order] * np.arange(K, 0, -1))
        adjusted = np.empty(K)
        adjusted[order] = np.minimum(stepped, 1.0)
        out[ok] = adjusted
        return out
    from statsmodels.stats.multitest import multipletests

    out[ok] = multipletests(out[ok], method=method)[1]
    return out


def _mdc_core(se_scale, df, level, power, log_scale):
    """``(t_{1-alpha/2, df} + t_{power, df}) * se``; ``exp`` of it on the log scale."""
    with np.errstate(invalid="ignore", over="ignore"):
        mult = t_ppf(0.5 + level / 2.0, df) + t_ppf(power, df)
        out = mult * se_scale
        return np.where(log_scale, np.exp(np.where(log_scale, out, 0.0)), out)


DF_CHOICES = ("design", "domain")


def _check_df(df):
    """``"design"``, ``"domain"`` or a positive number."""
    if isinstance(df, str) or df is None:
        return check_option("df", df, DF_CHOICES)
    if isinstance(df, bool) or not isinstance(df, int | float | np.integer | np.floating):
        raise ValueError(f"`df` must be 'design', 'domain' or a positive number; got {df!r}.")
    if not (np.isfinite(df) or df == np.inf) or df <= 0:
        raise ValueError(f"`df` must be a positive number; got {df!r}.")
    return float(df)


def _design_df(design, kind, variables, na, denominator) -> float:
    """R ``degf(design)``: the design's df over all rows with positive weight."""
    _, _, _, df = design._estimate_vcov(kind, variables[:1], by=None, na="drop",
                                        denominator=as_list(denominator)[:1] or None)
    return float(np.max(np.asarray(df, dtype=float)))


def _contrast_df(df, design, estimand, C, kind, variables, na, denominator) -> np.ndarray:
    """Degrees of freedom of each row of the contrast matrix ``C`` (``(r,)``).

    ``"design"``: R ``degf(design)`` for every row. ``"domain"`` (Taylor designs): PSUs
    holding rows of any domain the contrast uses, minus the strata holding those PSUs.
    A number: that number.
    """
    r = C.shape[0]
    if not isinstance(df, str):
        return np.full(r, df)
    if df == "design":
        return np.full(r, _design_df(design, kind, variables, na, denominator))
    if not getattr(design, "_linearised", False):
        raise ValueError(
            "`df`='domain' needs a Taylor design (SurveyDesign); a replicate design's df "
            "comes from its replicate weights: use df='design'."
        )
    codes = design._codes
    k = estimand.k
    C = sparse.csr_array(C)
    uses = sparse.csr_array((np.ones(C.nnz), (np.repeat(np.arange(r), np.diff(C.indptr)),
                                              C.indices // k)),
                            shape=(r, estimand.n_domains))
    # (P, r): PSUs holding rows of any domain of each contrast.
    dom_psu = sparse.csr_array((np.ones(estimand.pair_psu.size),
                                (estimand.pair_domain, estimand.pair_psu)),
                               shape=(estimand.n_domains, codes.n_psus))
    held = sparse.coo_array(uses @ dom_psu)
    held.sum_duplicates()
    row, psu = held.coords[0][held.data > 0], held.coords[1][held.data > 0]
    n_psu = np.bincount(row, minlength=r)
    key = np.unique(row.astype(np.int64) * codes.n_strata + codes.psu_stratum[psu])
    return (n_psu - np.bincount(key // codes.n_strata, minlength=r)).astype(float)


def _domain_index(domains: pd.DataFrame, by: list, column):
    """Codes of the by-groups and of the levels of ``column`` for each domain.

    Returns ``(group_table, levels, index)`` with ``index[g, l]`` the domain of by-group
    ``g`` and level ``l``, or -1 where that domain has no rows.
    """
    D = len(domains)
    if by:
        combined = np.zeros(D, dtype=np.int64)
        for col in by:
            codes, uniq = pd.factorize(domains[col], sort=True)
            combined = combined * len(uniq) + codes
        _, first, gcode = np.unique(combined, return_index=True, return_inverse=True)
        group_table = domains[by].iloc[first].reset_index(drop=True)
    else:
        gcode, group_table = np.zeros(D, dtype=np.intp), pd.DataFrame(index=range(1))
    lcode, levels = pd.factorize(domains[column], sort=True)
    index = np.full((len(group_table), len(levels)), -1, dtype=np.intp)
    index[gcode.reshape(-1), lcode] = np.arange(D)
    return group_table, levels, index


def _warn_missing(missing, group_table, what: str) -> None:
    if missing.any():
        where = np.flatnonzero(missing)
        shown = ", ".join(
            str(dict(group_table.iloc[g])) if len(group_table.columns) else "(all rows)"
            for g in where[:5]
        )
        warnings.warn(
            f"{what} in {len(where)} row(s) of the result (by-domains {shown}"
            f"{' ...' if len(where) > 5 else ''}); those rows are NaN and left out of "
            "the p-value adjustment.",
            HarvestWarning,
            stacklevel=3,
        )


# ---------------------------------------------------------------------------------------
# compare
# ---------------------------------------------------------------------------------------
def compare(design, indicators, between, baseline=None, by=None, measure="difference",
            level=0.95, adjust="holm", kind="proportion", *, na="fail", denominator=None,
            power=0.8, df="design"):
    """Differences, ratios or odds ratios between the levels of ``between``.

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
        The design; the covariance between compared domains comes from it.
    indicators : str or list of str
        Variables to compare (0/1 columns for ``kind="proportion"``; numerators for
        ``kind="ratio"``).
    between : str
        The column whose levels are compared (``"year"``, ``"sector"``, ``"round"``).
    baseline : scalar, optional
        The reference level: every other level is compared with it. ``None``: every
        pair of levels, ``group`` the later and ``baseline`` the earlier level in sorted
        order.
    by : str or list of str, optional
        Domains within which the comparison is made (``"region"``).
    measure : {"difference", "ratio", "odds_ratio"}
        ``group - baseline`` (percentage points as a fraction for proportions),
        ``group / baseline``, or the odds ratio (proportions only).
    level : float
        Confidence level of the intervals; ``1 - level`` is also the significance
        level of :func:`minimum_detectable_change` in the ``mdc`` column.
    adjust : {"holm", "bonferroni", "fdr_bh", None}
        Multiplicity adjustment across every row of this call: all indicators, ``by``
        domains and pairs (the values of statsmodels ``multipletests`` and R
        ``p.adjust``). ``None``: ``p_adjusted`` equals ``p_value``.
    kind : {"proportion", "mean", "total", "ratio"}
        The estimate compared, as the estimator of the same name. The method
        ``design.compare`` also takes ``"list_experiment"`` and ``"randomized_response"``
        with their estimator's options as keywords (``treatment=``; ``model=``, ``p=``,
        ...): :func:`harvest.sensitive.compare_sensitive`, which builds on this function.
    na : {"fail", "drop"}
        Missing values, as the estimators.
    denominator : str or list of str, optional
        For ``kind="ratio"``.
    power : float
        Power used for the ``mdc`` column (default 0.8).
    df : {"design", "domain"} or float
        Degrees of freedom of the t reference distribution. ``"design"`` (default): R
        ``degf(design)``, PSUs minus strata of the whole design (replicate designs: the
        rank of the replicate weights minus 1), what R users pass to
        ``confint(svycontrast(...), df=degf(design))``. ``"domain"`` (Taylor designs
        only): PSUs holding rows of the compared domains minus the strata holding them
        (Korn and Graubard 1999, section 5.2), smaller and more cautious when a
        comparison rests on few PSUs. A number: that df.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, then ``indicator, group, baseline, estimate_group,
        estimate_baseline, measure, estimate, se, ci_low, ci_high, df, p_value,
        p_adjusted`` (API.md), then three documented extras: ``n_group`` and
        ``n_baseline`` (unweighted rows behind each estimate, for disclosure control)
        and ``mdc`` (:func:`minimum_detectable_change` at ``power`` and
        ``alpha = 1 - level``). One row per ``by`` domain x indicator x pair, in that
        order. A pair whose group or baseline has no rows in a ``by`` domain gives a
        NaN row and a :class:`~harvest.HarvestWarning`; such rows are not in the
        adjustment family.

    Raises
    ------
    DataError
        A column is missing, ``baseline`` is not a level of ``between`` among the rows
        used, or ``between`` has a single level.
    ValueError
        An option is not one of the allowed values, or ``measure="odds_ratio"`` with a
        ``kind`` other than ``"proportion"``.

    Notes
    -----
    With :math:`\\hat\\theta` the ``m`` domain x indicator estimates and :math:`V` their
    full covariance from the design, a sparse contrast matrix :math:`C` (one row per
    comparison, +1 for the group and -1 for the baseline) gives

    .. math:: \\hat\\Delta = C g(\\hat\\theta), \\qquad
              \\widehat{\\mathrm{Var}}(\\hat\\Delta) = \\mathrm{diag}(J V J^T), \\quad
              J = C\\,\\mathrm{diag}(g'(\\hat\\theta)),

    with :math:`g` the identity (difference), :math:`\\log` (ratio) or
    :math:`\\mathrm{logit}` (odds ratio). Intervals are
    :math:`\\hat\\Delta \\pm t_{1-\\alpha/2,\\nu}\\,\\mathrm{se}` on that scale, back-transformed
    with :math:`\\exp` for ratio and odds ratio; the p-value is the two-sided t test of
    :math:`\\hat\\Delta = 0` on that scale. :math:`\\nu` is the design's degrees of freedom,
    R ``degf(design)`` (PSUs minus strata over the whole design), the df R users pass to
    ``confint(svycontrast(...), df=degf(design))``. For ratio and odds ratio ``estimate``
    is on the natural scale and ``se`` is its delta-method standard error
    (``estimate * se_log``, R ``svycontrast(stat, quote(a/b))``); the log-scale se is
    ``se / estimate``.

    Examples
    --------
    >>> import pandas as pd
    >>> import harvest as hv
    >>> df = pd.DataFrame({"district": [1, 1, 2, 2, 3, 3, 4, 4],
    ...                    "year": [2023, 2024] * 4, "y": [0, 1, 1, 1, 0, 0, 0, 1]})
    >>> d = hv.SurveyDesign(df, psu="district")
    >>> out = compare(d, "y", between="year", baseline=2023, measure="ratio")
    >>> float(out["estimate"].iloc[0])
    3.0
    """
    check_option("measure", measure, COMPARE_MEASURES)
    level, power, df = _check_common(design, adjust, kind, level, power, df)
    if measure == "odds_ratio" and kind != "proportion":
        raise ValueError(
            f"`measure`='odds_ratio' needs kind='proportion'; got kind={kind!r}."
        )
    by, indicators, estimand, estimate, vcov, group_table, levels, index = _by_level(
        design, kind, indicators, by, between, "between", na, denominator)
    k = estimand.k
    G, L = index.shape
    if L < 2:
        raise DataError(
            f"`between` column {between!r} has a single level ({levels[0]!r}) among the "
            "rows used; a comparison needs at least two."
        )
    if baseline is None:
        pb, pg = np.triu_indices(L, 1)
    else:
        found = levels.get_indexer([baseline])[0] if _hashable(baseline) else -1
        if found < 0:
            shown = ", ".join(repr(v) for v in levels[:20])
            raise DataError(
                f"`baseline` {baseline!r} is not a level of column {between!r} among the "
                f"rows used; levels are {shown}."
            )
        pg = np.delete(np.arange(L), found)
        pb = np.full(L - 1, found)
    npairs = len(pg)

    # Rows in the order by-domain (g), indicator (v), pair (p).
    g = np.repeat(np.arange(G), k * npairs)
    v = np.tile(np.repeat(np.arange(k), npairs), G)
    p = np.tile(np.arange(npairs), G * k)
    dg, db = index[g, pg[p]], index[g, pb[p]]
    present = (dg >= 0) & (db >= 0)
    jg = np.where(present, dg * k + v, 0)
    jb = np.where(present, db * k + v, 0)
    r = len(g)
    rows = np.flatnonzero(present)
    C = sparse.csr_array(
        (np.r_[np.ones(len(rows)), -np.ones(len(rows))],
         (np.r_[rows, rows], np.r_[jg[rows], jb[rows]])),
        shape=(r, len(estimate)),
    )
    transform = {"difference": "identity", "ratio": "log", "odds_ratio": "logit"}[measure]
    theta, variance = _contrast_moments(C, estimate, vcov, transform)
    theta = np.where(present, theta, np.nan)
    se_t = np.sqrt(np.where(present, np.maximum(variance, 0.0), np.nan))
    df = _contrast_df(df, design, estimand, C, kind, indicators, na, denominator)
    low, high, p_value = _t_test(theta, se_t, df, level)

    est_g = np.where(present, estimate[jg], np.nan)
    est_b = np.where(present, estimate[jb], np.nan)
    n = np.asarray(estimand.n)
    n_g = np.where(dg >= 0, n[np.maximum(dg, 0) * k + v], 0)
    n_b = np.where(db >= 0, n[np.maximum(db, 0) * k + v], 0)
    if measure == "difference":
        value, se = theta, se_t
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            value = est_g / est_b if measure == "ratio" else (
                (est_g / (1.0 - est_g)) / (est_b / (1.0 - est_b)))
            se = np.where(np.isfinite(se_t), value * se_t, np.nan)
        with np.errstate(over="ignore"):
            low, high = np.exp(low), np.exp(high)
    mdc = _mdc_core(se_t, df, level, power, measure != "difference")

    _warn_missing(~present.reshape(G, -1).all(axis=1), group_table,
                  f"a level of {between!r} has no rows")
    undefined = present & ~np.isfinite(se_t)
    _warn_missing(undefined.reshape(G, -1).any(axis=1), group_table,
                  f"the {measure} has no standard error (an estimate is NaN, or 0 or 1 "
                  "on a log scale)")
    nodisp = present & (se_t == 0) & (theta != 0)
    _warn_missing(nodisp.reshape(G, -1).any(axis=1), group_table,
                  "a nonzero contrast has standard error 0 (no test is possible)")

    out = group_table.iloc[g].reset_index(drop=True)
    stats_table = pd.DataFrame({
        "indicator": pd.array(np.asarray(estimand.indicators, dtype=object)[v], dtype=str),
        "group": levels.take(pg[p]),
        "baseline": levels.take(pb[p]),
        "estimate_group": est_g,
        "estimate_baseline": est_b,
        "measure": pd.array(np.full(r, measure, dtype=object), dtype=str),
        "estimate": value,
        "se": se,
        "ci_low": low,
        "ci_high": high,
        "df": df,
        "p_value": p_value,
        "p_adjusted": _adjust(p_value, adjust),
        "n_group": n_g.astype(np.int64),
        "n_baseline": n_b.astype(np.int64),
        "mdc": mdc,
    })
    return pd.concat([out, stats_table], axis=1)


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


# ---------------------------------------------------------------------------------------
# trend
# ---------------------------------------------------------------------------------------
def trend(design, indicators, time="year", by=None, level=0.95, adjust="holm",
          kind="proportion", *, scores=None, na="fail", denominator=None, power=0.8,
          df="design"):
    """Linear trend over three or more times: the slope of a centred linear contrast.

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
    indicators : str or list of str
    time : str
        The column of times (years, rounds). Numeric values are the scores; other
        values need ``scores``.
    by : str or list of str, optional
        A trend per domain.
    level, adjust, kind, na, denominator, power, df
        As :func:`compare`; the adjustment family is every row of the call, and
        ``df="domain"`` counts the PSUs of every time in the ``by`` domain.
    scores : dict, optional
        ``{time level: number}`` (e.g. ``{"round 1": 1, "round 2": 2, ...}``).

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, then ``indicator, time_first, time_last, n_times,
        measure`` (``"slope"``), ``estimate`` (change per unit of the score, e.g. per
        year), ``se, ci_low, ci_high, df, p_value, p_adjusted, mdc``. A ``by`` domain
        with fewer than three times gives a NaN row and a warning.

    Notes
    -----
    In each ``by`` domain with times :math:`s_t` present, :math:`c_t = s_t - \\bar s`
    and the slope :math:`\\hat\\beta = \\sum_t c_t \\hat\\theta_t / \\sum_t c_t^2` is the
    least-squares slope through the yearly estimates, its variance
    :math:`c^T V c / (\\sum_t c_t^2)^2` with :math:`V` the design covariance of the
    yearly estimates. The t test of :math:`\\beta = 0` uses the design df, as
    :func:`compare`.

    Examples
    --------
    >>> import pandas as pd
    >>> import harvest as hv
    >>> df = pd.DataFrame({"district": range(1, 10), "year": [2022, 2023, 2024] * 3,
    ...                    "y": [0, 0, 1, 0, 1, 1, 0, 0, 1]})
    >>> out = trend(hv.SurveyDesign(df, psu="district"), "y", time="year")
    >>> round(float(out["estimate"].iloc[0]), 4)
    0.5
    """
    level, power, df = _check_common(design, adjust, kind, level, power, df)
    by, indicators, estimand, estimate, vcov, group_table, levels, index = _by_level(
        design, kind, indicators, by, time, "time", na, denominator)
    k = estimand.k
    G, L = index.shape
    if L < 3:
        raise DataError(
            f"`time` column {time!r} has {L} level(s) among the rows used; a trend needs "
            "at least three (use `compare` for two)."
        )
    level_scores = _time_scores(levels, scores, time)

    has = index >= 0
    n_times = has.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = (np.where(has, level_scores[None, :], 0.0).sum(axis=1) / n_times)
        c = np.where(has, level_scores[None, :] - centre[:, None], 0.0)
        c = c / (c * c).sum(axis=1, keepdims=True)
    ok = n_times >= 3
    c = np.where(ok[:, None], c, 0.0)
    # Sparse C: row g*k + v, column d*k + v for each present domain d of by-group g.
    gg, ll = np.nonzero(has & ok[:, None])
    d = index[gg, ll]
    rows = (gg[:, None] * k + np.arange(k)[None, :]).reshape(-1)
    cols = (d[:, None] * k + np.arange(k)[None, :]).reshape(-1)
    vals = np.repeat(c[gg, ll], k)
    C = sparse.csr_array((vals, (rows, cols)), shape=(G * k, len(estimate)))
    theta, variance = _contrast_moments(C, estimate, vcov, "identity")
    okr = np.repeat(ok, k)
    theta = np.where(okr, theta, np.nan)
    se = np.sqrt(np.where(okr, np.maximum(variance, 0.0), np.nan))
    df = _contrast_df(df, design, estimand, C, kind, indicators, na, denominator)
    low, high, p_value = _t_test(theta, se, df, level)
    _warn_missing(~ok, group_table, f"fewer than three levels of {time!r} have rows")

    first = np.where(has, np.arange(L)[None, :], L).min(axis=1)
    last = np.where(has, np.arange(L)[None, :], -1).max(axis=1)
    g = np.repeat(np.arange(G), k)
    v = np.tile(np.arange(k), G)
    out = group_table.iloc[g].reset_index(drop=True)
    stats_table = pd.DataFrame({
        "indicator": pd.array(np.asarray(estimand.indicators, dtype=object)[v], dtype=str),
        "time_first": levels.take(first[g]),
        "time_last": levels.take(last[g]),
        "n_times": n_times[g].astype(np.int64),
        "measure": pd.array(np.full(G * k, "slope", dtype=object), dtype=str),
        "estimate": theta,
        "se": se,
        "ci_low": low,
        "ci_high": high,
        "df": df,
        "p_value": p_value,
        "p_adjusted": _adjust(p_value, adjust),
        "mdc": _mdc_core(se, df, level, power, False),
    })
    return pd.concat([out, stats_table], axis=1)


def _time_scores(levels: pd.Index, scores, time) -> np.ndarray:
    if scores is None:
        if pd.api.types.is_numeric_dtype(levels.dtype) and not pd.api.types.is_bool_dtype(
            levels.dtype
        ):
            return levels.to_numpy(dtype=float)
        raise DataError(
            f"`time` column {time!r} is not numeric (levels {list(levels[:5])!r}); give "
            "`scores`, a dict from each level to a number."
        )
    if not isinstance(scores, dict):
        raise TypeError(f"`scores` must be a dict from time level to number; got {scores!r}.")
    missing = [lv for lv in levels if lv not in scores]
    if missing:
        raise DataError(f"`scores` has no value for level(s) {missing[:5]!r} of {time!r}.")
    values = np.array([scores[lv] for lv in levels], dtype=float)
    if not np.isfinite(values).all() or len(np.unique(values)) < len(values):
        raise DataError(f"`scores` must be distinct finite numbers; got {scores!r}.")
    return values


# ---------------------------------------------------------------------------------------
# minimum detectable change
# ---------------------------------------------------------------------------------------
def minimum_detectable_change(comparison: pd.DataFrame, power=0.8, alpha=0.05) -> pd.Series:
    """The smallest true change each comparison would detect with the given power.

    Parameters
    ----------
    comparison : pandas.DataFrame
        Output of :func:`compare` (or :func:`trend`): uses ``measure``, ``estimate``,
        ``se`` and ``df``.
    power : float
        Probability of a significant result when the true change equals the MDC.
    alpha : float
        Two-sided significance level of the test (unadjusted).

    Returns
    -------
    pandas.Series
        Named ``mdc``, aligned with ``comparison``: for ``difference`` and ``slope`` a
        change on the estimate's scale (a fraction for proportions); for ``ratio`` and
        ``odds_ratio`` the ratio above 1 (its inverse is the detectable ratio below 1).

    Notes
    -----
    :math:`\\mathrm{MDC} = (t_{1-\\alpha/2,\\nu} + t_{1-\\beta,\\nu})\\,\\mathrm{se}`, with
    power :math:`1-\\beta` and :math:`\\nu` the comparison's df (Bloom 1995); on the log
    scale for ratios, :math:`\\exp\\{(t_{1-\\alpha/2,\\nu} + t_{1-\\beta,\\nu})\\,
    \\mathrm{se}/\\hat R\\}`. The se is that of the observed change, an approximation
    to the se under the alternative.

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"measure": ["difference"], "estimate": [0.02], "se": [0.03],
    ...                   "df": [30.0]})
    >>> round(float(minimum_detectable_change(c).iloc[0]), 4)
    0.0869
    """
    power = check_probability("power", power)
    alpha = check_probability("alpha", alpha)
    if not isinstance(comparison, pd.DataFrame):
        raise TypeError("`comparison` must be the DataFrame returned by compare or trend.")
    missing = [c for c in ("measure", "estimate", "se", "df") if c not in comparison.columns]
    if missing:
        raise DataError(f"`comparison` lacks column(s) {missing}; pass compare's output.")
    measure = comparison["measure"].astype(str).to_numpy()
    log_scale = np.isin(measure, ["ratio", "odds_ratio"])
    se = comparison["se"].to_numpy(dtype=float)
    estimate = comparison["estimate"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        se_scale = np.where(log_scale, se / estimate, se)
    out = _mdc_core(se_scale, comparison["df"].to_numpy(dtype=float), 1.0 - alpha, power,
                    log_scale)
    return pd.Series(out, index=comparison.index, name="mdc")
