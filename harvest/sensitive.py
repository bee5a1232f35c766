"""Sensitive questions: list experiments and randomized response, design-based.

Both estimators are functions of design-based means, so their estimates and standard
errors come from the design's own covariance of those means (Taylor linearisation or
replicate weights, `_DesignBase._estimate_vcov`), by domain, as R ``survey``'s
``svyby(..., covmat=TRUE)`` followed by ``svycontrast``:

* `list_experiment`: the item count technique, single lists (difference of the
  mean counts of the long and the short list) and double lists (Droitcour et al. 1991;
  Glynn 2013), with the Blair and Imai (2012) test for design effects
  (`design_effect_test`);
* `randomized_response`: forced response, Warner, unrelated question and
  crosswise models, an affine transform of the mean of the observed answer;
* `compare_sensitive`: year-over-year change of either, through
  ``design.compare(..., kind="list_experiment" | "randomized_response")``.

See ``docs/methods/sensitive.md`` for the formulas, assumptions and references.

Examples
--------
>>> import pandas as pd
>>> import harvest as hv
>>> df = pd.DataFrame({"psu": range(8), "long_list": [0, 1] * 4,
...                    "item_count": [1, 2, 2, 3, 0, 2, 1, 1]})
>>> d = hv.SurveyDesign(df, psu="psu")
>>> float(d.list_experiment("item_count", treatment="long_list")["estimate"].iloc[0])
1.0
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pandas as pd
from scipy import sparse

from harvest._errors import DataError, HarvestWarning, check_columns, describe_rows
from harvest._options import (
    NA_POLICY,
    RR_MODELS,
    as_list,
    check_level,
    check_option,
    check_probability,
)

__all__ = [
    "LIST_COLUMNS",
    "RR_COLUMNS",
    "list_experiment",
    "design_effect_test",
    "randomized_response",
    "rr_coefficients",
    "compare_sensitive",
    "direct_vs_list",
    "plain_note",
    "report_section",
    "list_module",
    "report_tables",
]

#: Columns of `list_experiment` after the ``by`` columns (API.md); with
#: ``design_test=True`` two more follow: ``design_test_p`` and ``design_test_min``.
LIST_COLUMNS = ["indicator", "estimate", "se", "ci_low", "ci_high", "level", "df",
                "n_treatment", "n_control"]

#: Columns of `randomized_response` after the ``by`` columns.
RR_COLUMNS = ["indicator", "model", "estimate", "se", "ci_low", "ci_high", "level",
              "ci_method", "df", "n", "observed", "observed_se"]

#: Treatment codings recognised without ``treated=``: (control, treatment).
_CODINGS = ((0, 1), (False, True), ("short", "long"), ("control", "treatment"),
            ("B", "A"))


# ---------------------------------------------------------------------------------------
# shared helpers
# ---------------------------------------------------------------------------------------
def _check_design(design) -> None:
    if not hasattr(design, "_estimate_vcov"):
        raise TypeError(
            "`design` must be a harvest design (hv.SurveyDesign or hv.ReplicateDesign); "
            f"got {type(design).__name__}."
        )


def _by_domain_df(design, variable, by, na) -> np.ndarray:
    """Design df of each ``by`` domain (PSUs minus strata holding it; replicate
    designs: the rank of the replicate weights minus 1), as the estimators' ``df``."""
    from harvest._domains import build_estimand

    estimand = build_estimand(design, "mean", [variable], by, na)
    return np.asarray(design._df(estimand), dtype=float)


def _interval(estimate, se, df, level):
    from harvest.intervals import t_interval

    return t_interval(estimate, se, df, level)


def _moments(C, estimate, vcov):
    """``C @ estimate`` and the covariance ``C V C^T``; a column of ``C`` that is unused
    by a row never spreads its NaN into that row."""
    C = sparse.csr_array(C)
    used = np.asarray(abs(C).sum(axis=0)).reshape(-1) > 0
    est = np.where(used, estimate, 0.0)
    V = np.where(used[:, None] & used[None, :], vcov, 0.0)
    theta = C @ est
    cov = np.asarray((C @ (C @ V).T).T) if C.shape[0] else np.zeros((0, 0))
    # rows using a NaN estimate are NaN
    bad = np.asarray(abs(C) @ (~np.isfinite(estimate)).astype(float)).reshape(-1) > 0
    theta = np.where(bad, np.nan, theta)
    cov = np.where(bad[:, None] | bad[None, :], np.nan, cov)
    return theta, cov


def _treatment_levels(levels, treatment, treated):
    """Position of the control and the treatment level among the sorted ``levels``."""
    values = list(levels)
    if len(values) != 2:
        shown = ", ".join(repr(v) for v in values[:10])
        raise DataError(
            f"`treatment` column {treatment!r} must have exactly two levels (the list "
            f"with and the list without the sensitive item) among the rows used; found "
            f"{len(values)}: {shown}."
        )
    if treated is not None:
        if treated not in values:
            raise DataError(
                f"`treated` {treated!r} is not a level of column {treatment!r}; levels "
                f"are {values[0]!r}, {values[1]!r}."
            )
        t = values.index(treated)
        return 1 - t, t
    for control, treat in _CODINGS:
        if set(values) == {control, treat} and all(type(v) is not bool or
                                                   isinstance(control, bool) for v in values):
            return values.index(control), values.index(treat)
    raise DataError(
        f"`treatment` column {treatment!r} has levels {values[0]!r} and {values[1]!r}; "
        "recognised codings are 0/1, False/True, 'short'/'long', 'control'/'treatment' "
        "(and 'B'/'A' for double lists): name the level with the sensitive item with "
        "`treated=`."
    )


def _check_treatment_column(design, treatment, by=()) -> None:
    """One column, present, not in ``by``, no missing value on a row with weight."""
    from harvest.compare import _check_grouping

    _check_grouping(design, treatment, "treatment", list(by))


def _check_counts(design, counts, treatment, treat_value_of, control_items, double):
    """DataError for counts that are not whole numbers in ``0..J`` (``0..J+1`` on the
    list that carries the sensitive item)."""
    if control_items is None:
        return
    J = int(control_items)
    if J < 1 or J != control_items:
        raise ValueError(f"`control_items` must be a positive whole number; got "
                         f"{control_items!r}.")
    data = design.data
    is_treated = treat_value_of(data[treatment].to_numpy())
    positive = design._codes.weights > 0
    for position, column in enumerate(counts):
        values = pd.to_numeric(data[column], errors="coerce").to_numpy(dtype=float)
        carries = is_treated if position == 0 else ~is_treated
        top = J + carries.astype(int)
        bad = positive & ~np.isnan(values) & ((values < 0) | (values > top)
                                              | (values != np.round(values)))
        if bad.any():
            rows = np.flatnonzero(bad)
            raise DataError(
                f"Column {column!r}: a count must be a whole number from 0 to {J} "
                f"({J + 1} on the list with the sensitive item, control_items={J}); "
                f"{describe_rows(rows)} hold {data[column].iloc[rows[0]]!r}"
                + (" among others." if len(rows) > 1 else ".")
            )


def _with_columns(design, columns: dict):
    """A shallow copy of ``design`` whose data carry extra (derived) columns; the
    design codes are shared, the caller's frame is untouched."""
    view = copy.copy(design)
    view.data = design.data.assign(**columns)
    return view


# ---------------------------------------------------------------------------------------
# list experiment
# ---------------------------------------------------------------------------------------
def _list_core(design, count, treatment, by, na, treated, control_items):
    """Estimates, covariance, df and counts of the list estimator per ``by`` domain."""
    from harvest.compare import _domain_index

    check_option("na", na, NA_POLICY)
    counts = as_list(count)
    if len(counts) not in (1, 2):
        raise ValueError("`count` must be one column (single list) or two columns (double "
                         f"list: the counts of list A and list B); got {count!r}.")
    by = as_list(by)
    check_columns(design.data, [*counts, *by], "count/by")
    _check_treatment_column(design, treatment, by)
    if treatment in by or treatment in counts:
        raise ValueError(f"`treatment` column {treatment!r} must not be in `by` or `count`.")
    double = len(counts) == 2
    estimand, estimate, vcov, _ = design._estimate_vcov("mean", counts, by=[*by, treatment],
                                                        na=na)
    group_table, levels, index = _domain_index(estimand.domains, by, treatment)
    c, t = _treatment_levels(levels, treatment, treated)
    treated_value = levels[t]
    _check_counts(design, counts, treatment, lambda v: v == treated_value, control_items,
                  double)
    k = estimand.k
    G = index.shape[0]
    dt, dc = index[:, t], index[:, c]
    present = (dt >= 0) & (dc >= 0)
    rows = np.flatnonzero(present)
    if double:
        # 1/2 (A | T - A | C) + 1/2 (B | C - B | T): T carries the item in list A.
        r_idx = np.repeat(rows, 4)
        cols = np.column_stack([dt[rows] * k, dc[rows] * k, dc[rows] * k + 1,
                                dt[rows] * k + 1]).reshape(-1)
        vals = np.tile([0.5, -0.5, 0.5, -0.5], len(rows))
    else:
        r_idx = np.repeat(rows, 2)
        cols = np.column_stack([dt[rows] * k, dc[rows] * k]).reshape(-1)
        vals = np.tile([1.0, -1.0], len(rows))
    C = sparse.csr_array((vals, (r_idx, cols)), shape=(G, len(estimate)))
    theta, cov = _moments(C, estimate, vcov)
    theta = np.where(present, theta, np.nan)
    cov = np.where(present[:, None] & present[None, :], cov, np.nan)
    n = np.asarray(estimand.n).reshape(-1, k).min(axis=1)
    n_t = np.where(dt >= 0, n[np.maximum(dt, 0)], 0).astype(np.int64)
    n_c = np.where(dc >= 0, n[np.maximum(dc, 0)], 0).astype(np.int64)
    if (~present).any():
        warnings.warn(
            f"{int((~present).sum())} by-domain(s) lack the treatment or the control list; "
            "their list estimate is NaN.", HarvestWarning, stacklevel=3)
    df = _by_domain_df(design, counts[0], by, na)
    label = "+".join(str(x) for x in counts)
    return {"by": by, "groups": group_table, "estimate": theta, "vcov": cov, "df": df,
            "n_treatment": n_t, "n_control": n_c, "indicator": label, "counts": counts,
            "treated_value": treated_value}


def _direct_and_count(design, count, direct, by, treatment):
    """The direct 0/1 answer and the count as float arrays (NaN where missing), checked."""
    by = as_list(by)
    if isinstance(count, list | tuple):
        raise ValueError("`direct` combines a direct question with a single list; got a "
                         "double list.")
    check_columns(design.data, [count, direct, *by], "count/direct/by")
    _check_treatment_column(design, treatment, by)
    d = pd.to_numeric(design.data[direct], errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(design.data[count], errors="coerce").to_numpy(dtype=float)
    bad = (design._codes.weights > 0) & ~np.isnan(d) & ~np.isin(d, (0.0, 1.0))
    if bad.any():
        rows = np.flatnonzero(bad)
        raise DataError(f"Column {direct!r} (the direct question) must be 0/1; "
                        f"{describe_rows(rows)} hold {design.data[direct].iloc[rows[0]]!r}.")
    return by, d, y


def _totals_by_list(design, columns: dict, by, treatment, na, treated):
    """Design totals of derived ``columns`` (NaN rows left out together) in every
    ``by`` x list domain, with their covariance and where each domain's columns are."""
    from harvest.compare import _domain_index

    names = list(columns)
    k = len(names)
    stacked = np.column_stack(list(columns.values()))
    gone = np.isnan(stacked).any(axis=1)
    view = _with_columns(design, {name: np.where(gone, np.nan, stacked[:, j])
                                  for j, name in enumerate(names)})
    estimand, total, vcov, _ = view._estimate_vcov("total", names, by=[*by, treatment],
                                                   na=na)
    group_table, levels, index = _domain_index(estimand.domains, by, treatment)
    c, t = _treatment_levels(levels, treatment, treated)
    n = np.asarray(estimand.n).reshape(-1, k).min(axis=1)
    n_t = np.where(index[:, t] >= 0, n[np.maximum(index[:, t], 0)], 0).astype(np.int64)
    n_c = np.where(index[:, c] >= 0, n[np.maximum(index[:, c], 0)], 0).astype(np.int64)
    return {"total": total, "vcov": vcov, "groups": group_table,
            "present": (index >= 0).all(axis=1), "dt": np.maximum(index[:, t], 0) * k,
            "dc": np.maximum(index[:, c], 0) * k, "n_treatment": n_t, "n_control": n_c}


def _combined_core(design, count, treatment, direct, by, na, treated):
    """Aronow, Coppock, Crawford and Green (2015): direct answers and a list experiment
    combined, by the delta method on design totals, per ``by`` domain."""
    check_option("na", na, NA_POLICY)
    by, d, y = _direct_and_count(design, count, direct, by, treatment)
    tb = _totals_by_list(design, {"__harvest_one": np.ones_like(d), "__harvest_d": d,
                                  "__harvest_y0": y * (1 - d), "__harvest_n0": 1 - d},
                         by, treatment, na, treated)
    total, dt, dc, present = tb["total"], tb["dt"], tb["dc"], tb["present"]
    G = len(present)
    N1, D1, Y1, M1 = (total[dt + v] for v in range(4))
    N0, D0, Y0, M0 = (total[dc + v] for v in range(4))
    with np.errstate(divide="ignore", invalid="ignore"):
        N = N0 + N1
        q = (M0 + M1) / N
        delta = Y1 / M1 - Y0 / M0
        theta = (D0 + D1) / N + q * delta
        dN = -(D0 + D1) / N**2 - q * delta / N
        grads = [dN, 1 / N, q / M1, delta / N - q * Y1 / M1**2,     # treatment list
                 dN, 1 / N, -q / M0, delta / N + q * Y0 / M0**2]    # control list
    cols = np.column_stack([dt + v for v in range(4)] + [dc + v for v in range(4)])
    J = sparse.csr_array((np.column_stack(grads).reshape(-1),
                          (np.repeat(np.arange(G), 8), cols.reshape(-1))),
                         shape=(G, len(total)))
    _, cov = _moments(J, total, tb["vcov"])
    theta = np.where(present, theta, np.nan)
    cov = np.where(present[:, None] & present[None, :], cov, np.nan)
    return {"by": by, "groups": tb["groups"], "estimate": theta, "vcov": cov,
            "df": _by_domain_df(design, count, by, na), "n_treatment": tb["n_treatment"],
            "n_control": tb["n_control"], "indicator": str(count), "counts": [count]}


def list_experiment(design, count, treatment, by=None, level=0.95, na="fail", *,
                    control_items=None, design_test=False, treated=None, direct=None):
    """Prevalence of a sensitive item from a list experiment (item count technique).

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
    count : str or list of two str
        The number of items the respondent said apply. One column: a single list.
        Two columns ``[count_a, count_b]``: a double list, each respondent answered
        list A and list B and the sensitive item was added to one of them.
    treatment : str
        The column saying which list the respondent saw (single list) or which list
        carried the sensitive item (double list: the treatment level means list A).
        Recognised codings (control, treatment): 0/1, False/True, ``"short"/"long"``,
        ``"control"/"treatment"``, ``"B"/"A"``; otherwise name the level with
        ``treated=``.
    by : str or list of str, optional
        Domains.
    level : float
        Confidence level of the t interval.
    na : {"fail", "drop"}
        Missing counts, as the estimators.
    control_items : int, optional
        Number of control items ``J``: counts outside ``0..J`` (``0..J+1`` with the
        sensitive item) are a DataError. Needed for ``design_test``.
    design_test : bool
        Add the Blair and Imai (2012) test for design effects (single lists): columns
        ``design_test_p`` (Bonferroni p-value over every respondent-type share) and
        ``design_test_min`` (the smallest estimated share; negative values are what
        a design effect produces). The full table is `design_effect_test`.
    treated : scalar, optional
        The level of ``treatment`` that carries the sensitive item.
    direct : str, optional
        A 0/1 column with the answer to the same question asked directly. The
        estimate is then the combined estimator of Aronow, Coppock, Crawford and Green
        (2015): the share who say yes directly plus the list estimate among those who
        say no, times their share. It assumes nobody without the trait says yes
        directly (only holders lie, and only by denying) and that the direct question
        does not change the list answers. ``n_treatment``/``n_control`` count rows
        with both answers.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, then ``indicator, estimate, se, ci_low, ci_high, level, df,
        n_treatment, n_control`` (and the two design-test columns).

    Notes
    -----
    With :math:`\\bar y_{d1}`, :math:`\\bar y_{d0}` the design-weighted mean counts of the
    treatment and control lists in domain :math:`d` and :math:`V` the design covariance
    of all domain x list means (R ``svyby(~count, ~treat+region, svymean,
    covmat=TRUE)``),

    .. math:: \\hat\\pi_d = \\bar y_{d1} - \\bar y_{d0}, \\qquad
              \\widehat{\\mathrm{Var}}(\\hat\\pi_d) = V_{11} + V_{00} - 2 V_{10},

    the R ``svycontrast`` of the two means, equal to the treatment coefficient of
    ``svyglm(count ~ treat)`` in the domain. Double list:
    :math:`\\hat\\pi = \\tfrac12(\\bar a_1 - \\bar a_0) + \\tfrac12(\\bar b_0 - \\bar b_1)`.
    The covariance term is not zero under cluster sampling (both lists share PSUs).
    The interval is :math:`\\hat\\pi \\pm t_{1-\\alpha/2,\\nu}\\,\\mathrm{se}` with
    :math:`\\nu` the df of the by-domain. Combined with a direct question
    :math:`D`: :math:`\\hat\\pi = \\hat P(D=1) + \\hat P(D=0)(\\bar y_{1|D=0} -
    \\bar y_{0|D=0})`, written in design totals, its variance by the delta method on
    their design covariance (R ``svycontrast`` of ``svyby(..., svytotal,
    covmat=TRUE)`` with a quoted expression).

    Examples
    --------
    >>> import pandas as pd
    >>> import harvest as hv
    >>> df = pd.DataFrame({"psu": range(8), "long_list": [0, 1] * 4,
    ...                    "item_count": [1, 2, 2, 3, 0, 2, 1, 1]})
    >>> out = hv.SurveyDesign(df, psu="psu").list_experiment("item_count", "long_list")
    >>> out[["estimate", "n_treatment", "n_control"]]
       estimate  n_treatment  n_control
    0       1.0            4          4
    """
    _check_design(design)
    level = check_level(level)
    if direct is None:
        core = _list_core(design, count, treatment, by, na, treated, control_items)
    else:
        core = _combined_core(design, count, treatment, direct, by, na, treated)
        if control_items is not None:
            _list_core(design, count, treatment, by, na, treated, control_items)
    se = np.sqrt(np.maximum(np.diag(core["vcov"]), 0.0))
    low, high = _interval(core["estimate"], se, core["df"], level)
    G = len(core["estimate"])
    table = pd.DataFrame({
        "indicator": pd.array([core["indicator"]] * G, dtype=str),
        "estimate": core["estimate"], "se": se, "ci_low": low, "ci_high": high,
        "level": np.full(G, level), "df": core["df"],
        "n_treatment": core["n_treatment"], "n_control": core["n_control"],
    })
    if design_test:
        if len(core["counts"]) != 1:
            raise ValueError("`design_test` is the single-list test; run it on each list "
                             "of a double list separately.")
        if control_items is None:
            raise ValueError("`design_test=True` needs `control_items` (the number of "
                             "control items J).")
        cells = design_effect_test(design, count, treatment, control_items, by=by, na=na,
                                   treated=treated)
        table["design_test_p"] = cells.groupby("domain", sort=True)["p_bonferroni"].first(
        ).to_numpy()
        table["design_test_min"] = cells.groupby("domain", sort=True)["estimate"].min(
        ).to_numpy()
    return pd.concat([core["groups"].reset_index(drop=True), table], axis=1)


def design_effect_test(design, count, treatment, control_items, by=None, na="fail",
                       treated=None, draws=20_000, rng=2012):
    """Blair and Imai (2012) test for design effects in a single list experiment.

    Parameters
    ----------
    design, count, treatment, by, na, treated
        As `list_experiment` (``count`` one column).
    control_items : int
        Number of control items ``J``.
    draws : int
        Normal draws for the null distribution of the likelihood-ratio statistic
        (``p_gms``).
    rng : int or numpy.random.Generator
        Seed of those draws (fixed by default, so the p-value is reproducible).

    Returns
    -------
    pandas.DataFrame
        One row per by-domain x respondent type: the ``by`` columns, then ``domain``
        (0-based code of the by-domain), ``y`` (the control-item count ``0..J``),
        ``z`` (1: the sensitive item applies, 0: it does not), ``estimate`` (the share
        :math:`\\hat\\pi_{yz}`), ``se``, ``statistic`` (``estimate / se``), ``p_value``
        (one-sided, of :math:`\\pi_{yz} \\ge 0`, t with the domain's df) and
        ``p_bonferroni`` (the domain's Bonferroni-combined p-value, repeated on its
        rows) and ``p_gms`` (the domain's likelihood-ratio test with generalised moment
        selection, below). A small p-value says the treatment list changed how people
        answered the control items (floor or ceiling effects, a design effect).

    Notes
    -----
    Without a design effect the shares of respondent types are

    .. math:: \\pi_{y1} = F_0(y) - F_1(y), \\qquad \\pi_{y0} = F_1(y) - F_0(y-1),
              \\quad y = 0..J,

    with :math:`F_t(y)` the design-weighted share of counts :math:`\\le y` on list
    :math:`t` (:math:`F_0(-1) = 0`), and all are non-negative. Each share is a contrast
    of design-based means with its design variance; the test of the intersection of
    the :math:`2(J+1)` one-sided hypotheses rejects when
    :math:`\\min(1, K \\min_j p_j)` is small, :math:`K` the number of shares with a
    positive se (the Bonferroni form).

    ``p_gms`` is Blair and Imai's (2012) likelihood-ratio form, as R
    ``list::ict.test(gms=TRUE)``, with the design covariance in place of the
    simple-random-sampling one. For each sign :math:`z` separately, take the testable
    shares (:math:`y = 0..J-1` for :math:`z=1`, :math:`y = 1..J` for :math:`z=0`), drop
    those with zero se or, by generalised moment selection (Andrews and Soares 2010),
    with :math:`\\hat\\pi/\\mathrm{se} > \\sqrt{\\log n}` (far from binding; ``n`` the
    domain's rows), and compute

    .. math:: \\lambda = \\min_{t \\ge 0}(\\hat\\pi - t)^\\top \\Sigma^{-1}(\\hat\\pi - t)

    with :math:`\\Sigma` the design covariance of the kept shares (exactly, by the
    active sets). Its null distribution at the least favourable point is that of the
    same statistic of :math:`Z \\sim N(0, \\Sigma)`, a chi-bar-square mixture that
    R evaluates with closed-form weights for up to 3 shares and by simulation beyond;
    here it is simulated for every size (``draws`` draws, seeded by ``rng``), so
    ``p_gms`` carries a Monte Carlo error of about
    :math:`\\sqrt{p(1-p)/\\text{draws}}`. The two signs are combined as R does:
    :math:`\\min(1, 2\\min(p_1, p_0))`. R's code scales the selection statistic by the
    spread of the vector of shares (``var(pi.y1)``); harvest uses each share's own
    design se, as the moment selection of Andrews and Soares.

    Examples
    --------
    >>> import pandas as pd
    >>> import harvest as hv
    >>> df = pd.DataFrame({"psu": range(8), "t": [0, 1] * 4,
    ...                    "y": [1, 2, 2, 3, 0, 2, 1, 1]})
    >>> out = design_effect_test(hv.SurveyDesign(df, psu="psu"), "y", "t", 2)
    >>> len(out)
    6
    """
    from scipy import stats

    from harvest.compare import _domain_index

    _check_design(design)
    J = int(control_items)
    by = as_list(by)
    check_columns(design.data, [count, *by], "count/by")
    _check_treatment_column(design, treatment, by)
    y = pd.to_numeric(design.data[count], errors="coerce").to_numpy(dtype=float)
    names = [f"__harvest_le_{j}" for j in range(J + 1)]
    view = _with_columns(design, {name: np.where(np.isnan(y), np.nan, (y <= j) * 1.0)
                                  for j, name in enumerate(names)})
    estimand, estimate, vcov, _ = view._estimate_vcov("mean", names, by=[*by, treatment],
                                                      na=na)
    group_table, levels, index = _domain_index(estimand.domains, by, treatment)
    c, t = _treatment_levels(levels, treatment, treated)
    _check_counts(design, [count], treatment, lambda v: v == levels[t], J, False)
    k = J + 1
    G = index.shape[0]
    present = (index >= 0).all(axis=1)
    dt, dc = np.maximum(index[:, t], 0), np.maximum(index[:, c], 0)
    # rows: domain g, then z=1 for y=0..J, then z=0 for y=0..J
    rows, cols, vals = [], [], []
    ys = np.arange(k)
    base = np.arange(G)[:, None] * 2 * k
    # pi_y1 = F0(y) - F1(y)
    r1 = base + ys[None, :]
    rows += [r1, r1]
    cols += [dc[:, None] * k + ys[None, :], dt[:, None] * k + ys[None, :]]
    vals += [np.ones((G, k)), -np.ones((G, k))]
    # pi_y0 = F1(y) - F0(y-1)
    r0 = base + k + ys[None, :]
    rows += [r0]
    cols += [dt[:, None] * k + ys[None, :]]
    vals += [np.ones((G, k))]
    rows += [r0[:, 1:]]
    cols += [dc[:, None] * k + ys[None, :-1]]
    vals += [-np.ones((G, k - 1))]
    keep = np.repeat(present, 2 * k)
    flat = [np.concatenate([a.reshape(-1) for a in part]) for part in (rows, cols, vals)]
    C = sparse.csr_array((flat[2], (flat[0], flat[1])), shape=(G * 2 * k, len(estimate)))
    theta, cov = _moments(C, estimate, vcov)
    theta = np.where(keep, theta, np.nan)
    se = np.sqrt(np.maximum(np.where(keep, np.diag(cov), np.nan), 0.0))
    df = np.repeat(_by_domain_df(design, count, by, na), 2 * k)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = theta / se
    p = stats.t.cdf(stat, df)
    p = np.where(se > 0, p, np.where(theta >= -1e-12, 1.0, 0.0))
    p = np.where(keep, p, np.nan)
    tested = (se > 0).reshape(G, 2 * k)
    K = np.maximum(tested.sum(axis=1), 1)
    pmin = np.nanmin(np.where(np.isnan(p), np.inf, p).reshape(G, 2 * k), axis=1)
    p_bonf = np.where(present, np.minimum(1.0, K * pmin), np.nan)
    n_dom = np.bincount(estimand.row_domain, minlength=estimand.n_domains)
    n_g = np.where(present, n_dom[dt] + n_dom[dc], 0)
    p_gms = _gms_test(theta.reshape(G, 2 * k), cov, se.reshape(G, 2 * k), n_g, J,
                      draws, rng)
    p_gms = np.where(present, p_gms, np.nan)
    g = np.repeat(np.arange(G), 2 * k)
    out = group_table.iloc[g].reset_index(drop=True)
    return pd.concat([out, pd.DataFrame({
        "domain": g.astype(np.int64),
        "y": np.tile(np.r_[ys, ys], G).astype(np.int64),
        "z": np.tile(np.r_[np.ones(k), np.zeros(k)], G).astype(np.int64),
        "estimate": theta, "se": se, "statistic": stat, "p_value": p,
        "p_bonferroni": p_bonf[g], "p_gms": p_gms[g],
    })], axis=1)


def _cone_statistic(z, P, free):
    """``min_{t >= 0 on the constrained coordinates} (z - t)' P (z - t)``, exactly.

    ``z`` is ``(G, D, m)`` (domains x draws x shares), ``P`` ``(G, m, m)`` and ``free``
    ``(G, m)`` the coordinates left unconstrained (dropped by moment selection). The
    optimum has some support ``F`` of positive ``t``; for each ``F`` (a loop over the
    ``2**m`` active sets) the minimiser on ``t_{F^c} = 0`` is closed-form, and the
    smallest value among the feasible ones is the minimum."""
    from itertools import product

    G, D, m = z.shape
    best = np.full((G, D), np.inf)
    for mask in product((False, True), repeat=m):  # loop over active sets (2**m)
        F = np.array(mask)
        if not F.any():
            value = np.einsum("gdi,gij,gdj->gd", z, P, z)
            ok = ~free.any(axis=1)[:, None] & np.ones((G, D), dtype=bool)
        else:
            Fc = ~F
            PFF = P[:, F][:, :, F]
            PFc = P[:, F][:, :, Fc]
            A = np.linalg.solve(PFF, PFc)                       # (G, |F|, |Fc|)
            r = np.zeros_like(z)
            r[:, :, F] = -np.einsum("gij,gdj->gdi", A, z[:, :, Fc])
            r[:, :, Fc] = z[:, :, Fc]
            value = np.einsum("gdi,gij,gdj->gd", r, P, r)
            t = z[:, :, F] - r[:, :, F]
            constrained = ~free[:, F]
            ok = ((t >= -1e-12) | ~constrained[:, None, :]).all(axis=2)
            ok &= ~(free & Fc[None, :]).any(axis=1)[:, None]   # free coordinates in F
        best = np.where(ok, np.minimum(best, value), best)
    return best


def _gms_test(theta, cov, se, n, J, draws, rng):
    """Blair-Imai likelihood-ratio p-value with moment selection, per domain
    (`design_effect_test`): ``(G,)``."""
    G, two_k = theta.shape
    k = J + 1
    gen = np.random.default_rng(rng)
    cov_g = np.stack([cov[g * two_k:(g + 1) * two_k, g * two_k:(g + 1) * two_k]
                      for g in range(G)]) if G else np.zeros((0, two_k, two_k))
    p_sign = []
    for z_pos in (np.arange(0, J), k + np.arange(1, k)):  # the two signs, z=1 and z=0
        pi = np.nan_to_num(theta[:, z_pos])
        s = np.nan_to_num(se[:, z_pos])
        with np.errstate(divide="ignore", invalid="ignore"):
            slack = pi / s > np.sqrt(np.log(np.maximum(n, 2)))[:, None]
        free = (s <= 0) | (pi == 0) | slack
        S = cov_g[:, z_pos][:, :, z_pos]
        # dropped shares: decoupled with unit variance, their t left free (no effect)
        keep = ~free
        S = np.where(keep[:, :, None] & keep[:, None, :], S, 0.0)
        S = S + np.eye(J)[None] * free[:, :, None]
        P = np.linalg.inv(S)
        observed = _cone_statistic(np.where(free, 0.0, pi)[:, None, :], P, free)[:, 0]
        L = np.linalg.cholesky(S + 1e-300 * np.eye(J)[None])
        Z = np.einsum("gij,dj->gdi", L, gen.standard_normal((draws, J)))
        null = _cone_statistic(Z, P, free)
        p = (null >= observed[:, None] - 1e-12).mean(axis=1)
        p_sign.append(np.where(observed <= 1e-14, 1.0, p))
    return np.minimum(1.0, 2.0 * np.minimum(*p_sign))


# ---------------------------------------------------------------------------------------
# randomized response
# ---------------------------------------------------------------------------------------
def rr_coefficients(model, p=None, p_yes=None, p_no=None, unrelated_prevalence=None):
    """``(a, b)`` with prevalence ``pi = a + b * lambda``, ``lambda`` the share of "yes".

    Examples
    --------
    >>> a, b = rr_coefficients("forced", p_yes=0.25, p_no=0.25)
    >>> a, b
    (-0.5, 2.0)
    >>> rr_coefficients("warner", p=0.75)
    (-0.5, 2.0)
    """
    check_option("model", model, RR_MODELS)
    if model == "forced":
        if p_yes is None or p_no is None:
            raise ValueError("model='forced' needs `p_yes` and `p_no` (the chances the "
                             "device forces a yes or a no).")
        p_yes = float(p_yes)
        p_no = float(p_no)
        if not (0.0 <= p_yes < 1.0 and 0.0 <= p_no < 1.0 and p_yes + p_no < 1.0):
            raise ValueError(f"`p_yes` and `p_no` must be in [0, 1) with p_yes + p_no < 1; "
                             f"got p_yes={p_yes!r}, p_no={p_no!r}.")
        b = 1.0 / (1.0 - p_yes - p_no)
        return -p_yes * b, b
    if p is None:
        raise ValueError(f"model={model!r} needs `p`.")
    p = check_probability("p", p)
    if model == "unrelated":
        if unrelated_prevalence is None:
            raise ValueError("model='unrelated' needs `unrelated_prevalence` (the known "
                             "share of yes to the unrelated question).")
        q = float(unrelated_prevalence)
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"`unrelated_prevalence` must be in [0, 1]; got {q!r}.")
        return -(1.0 - p) * q / p, 1.0 / p
    if p == 0.5:
        raise ValueError(f"model={model!r} needs `p` different from 0.5 (the answer then "
                         "carries no information).")
    # warner: lambda = p pi + (1-p)(1-pi); crosswise: same algebra with p the known
    # prevalence of the innocuous statement.
    b = 1.0 / (2.0 * p - 1.0)
    return -(1.0 - p) * b, b


def _rr_core(design, answer, by, na, a, b):
    answers = as_list(answer)
    by = as_list(by)
    check_option("na", na, NA_POLICY)
    estimand, lam, vcov, df = design._estimate_vcov("proportion", answers, by=by, na=na)
    estimate = a + b * lam
    return estimand, lam, vcov, estimate, (b * b) * vcov, np.asarray(df, dtype=float)


def randomized_response(design, answer, model="forced", by=None, level=0.95, na="fail", *,
                        p=None, p_yes=None, p_no=None, unrelated_prevalence=None):
    """Prevalence of a sensitive attribute from a randomized-response question.

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
    answer : str or list of str
        The observed 0/1 answer (1 = "yes"; crosswise: 1 = "both statements the same").
    model : {"forced", "warner", "unrelated", "crosswise"}
        ``"forced"``: a device forces "yes" with chance ``p_yes``, "no" with ``p_no``,
        else the truthful answer. ``"warner"``: with chance ``p`` the respondent
        answers the sensitive statement, else its negation. ``"unrelated"``: with chance
        ``p`` the sensitive question, else an unrelated one with known share of yes
        ``unrelated_prevalence``. ``"crosswise"``: "are both statements true or both
        false?", ``p`` the known prevalence of the innocuous statement.
    by, level, na
        As the estimators.
    p, p_yes, p_no, unrelated_prevalence : float
        The model's design probabilities.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, then ``indicator, model, estimate, se, ci_low, ci_high,
        level, ci_method`` (``"wald"``), ``df, n, observed`` (the design-based share of
        "yes", :math:`\\hat\\lambda`) and ``observed_se``. The estimate is not truncated
        to [0, 1]: a negative value is information (sampling error or a failed
        design), not something to hide.

    Notes
    -----
    Every model makes the share of "yes" affine in the prevalence,
    :math:`\\lambda = \\alpha + \\beta\\pi`, so :math:`\\hat\\pi = (\\hat\\lambda - \\alpha)
    / \\beta` with :math:`\\hat\\lambda` the design-based mean of the answer (R
    ``svymean``) and :math:`\\mathrm{se}(\\hat\\pi) = \\mathrm{se}(\\hat\\lambda)/|\\beta|`:
    forced :math:`\\lambda = p_{yes} + (1-p_{yes}-p_{no})\\pi`; Warner and crosswise
    :math:`\\lambda = (1-p) + (2p-1)\\pi`; unrelated :math:`\\lambda = (1-p)q + p\\pi`.
    Interval: :math:`\\hat\\pi \\pm t_{1-\\alpha/2,\\nu}\\,\\mathrm{se}`.

    Examples
    --------
    >>> import pandas as pd
    >>> import harvest as hv
    >>> df = pd.DataFrame({"psu": range(6), "answer": [1, 0, 1, 1, 0, 0]})
    >>> out = hv.SurveyDesign(df, psu="psu").randomized_response(
    ...     "answer", model="forced", p_yes=1/6, p_no=1/6)
    >>> round(float(out["estimate"].iloc[0]), 6)
    0.5
    """
    _check_design(design)
    level = check_level(level)
    a, b = rr_coefficients(model, p=p, p_yes=p_yes, p_no=p_no,
                           unrelated_prevalence=unrelated_prevalence)
    estimand, lam, _, estimate, vcov, df = _rr_core(design, answer, by, na, a, b)
    variance = np.array(np.diag(vcov))
    lam_var = variance / (b * b)
    empty = estimand.n == 0
    estimate = np.where(empty, np.nan, estimate)
    se = np.sqrt(np.maximum(np.where(empty, np.nan, variance), 0.0))
    low, high = _interval(estimate, se, df, level)
    k, D = estimand.k, estimand.n_domains
    m = D * k
    out = estimand.domains.iloc[np.repeat(np.arange(D), k)].reset_index(drop=True)
    return pd.concat([out, pd.DataFrame({
        "indicator": pd.array(np.tile(np.asarray(estimand.indicators, dtype=object), D),
                              dtype=str),
        "model": pd.array([model] * m, dtype=str),
        "estimate": estimate, "se": se, "ci_low": low, "ci_high": high,
        "level": np.full(m, level), "ci_method": pd.array(["wald"] * m, dtype=str),
        "df": df, "n": np.asarray(estimand.n, dtype=np.int64),
        "observed": np.where(empty, np.nan, lam),
        "observed_se": np.sqrt(np.maximum(np.where(empty, np.nan, lam_var), 0.0)),
    })], axis=1)


# ---------------------------------------------------------------------------------------
# comparisons (design.compare(..., kind="list_experiment" | "randomized_response"))
# ---------------------------------------------------------------------------------------
SENSITIVE_KINDS = ("list_experiment", "randomized_response")


class _Estimates:
    """What `harvest.compare.compare` reads of an estimand."""

    def __init__(self, domains, indicators, n):
        self.domains = domains.reset_index(drop=True)
        self.indicators = list(indicators)
        self.n = np.asarray(n)

    @property
    def k(self):
        return len(self.indicators)

    @property
    def n_domains(self):
        return len(self.domains)


class _SensitiveView:
    """A design stand-in whose ``_estimate_vcov`` returns sensitive-question estimates,
    so that `harvest.compare.compare` contrasts them with its own code."""

    def __init__(self, design, kind, options):
        self._design = design
        self._kind = kind
        self._options = options
        self.data = design.data
        self._codes = design._codes

    def _estimate_vcov(self, kind, variables, by=None, na="fail", denominator=None):
        design, o = self._design, self._options
        if self._kind == "list_experiment":
            count = variables[0] if len(variables) == 1 else list(variables)
            core = _list_core(design, count, o["treatment"], by, na, o.get("treated"),
                              o.get("control_items"))
            est = _Estimates(core["groups"] if as_list(by) else
                             pd.DataFrame(index=range(1)), [core["indicator"]],
                             core["n_treatment"] + core["n_control"])
            return est, core["estimate"], core["vcov"], core["df"]
        a, b = rr_coefficients(o.get("model", "forced"), p=o.get("p"),
                               p_yes=o.get("p_yes"), p_no=o.get("p_no"),
                               unrelated_prevalence=o.get("unrelated_prevalence"))
        estimand, _, _, estimate, vcov, df = _rr_core(design, variables, by, na, a, b)
        empty = estimand.n == 0
        estimate = np.where(empty, np.nan, estimate)
        return estimand, estimate, vcov, df


_LIST_OPTIONS = ("treatment", "treated", "control_items")
_RR_OPTIONS = ("model", "p", "p_yes", "p_no", "unrelated_prevalence")


def compare_sensitive(design, indicators, between, baseline=None, by=None, kind=None,
                      df="design", **options):
    """Year-over-year (or any ``between``) change of a list-experiment or
    randomized-response estimate, with the design covariance of the two estimates.

    Called by ``design.compare`` for ``kind="list_experiment"`` (options
    ``treatment=``, ``treated=``, ``control_items=``) and
    ``kind="randomized_response"`` (options ``model=``, ``p=``, ``p_yes=``, ``p_no=``,
    ``unrelated_prevalence=``); the other arguments and the columns are those of
    ``compare``. ``df="domain"`` is not offered here (use ``"design"`` or a number).

    Notes
    -----
    The estimates of every ``by`` x ``between`` domain are linear in the domain means
    (`list_experiment`, `randomized_response`), so their full covariance
    is :math:`L V L^T` with :math:`V` the design covariance of the means; the change
    is then the ``compare`` contrast of those estimates.

    Examples
    --------
    >>> import pandas as pd
    >>> import harvest as hv
    >>> df = pd.DataFrame({"psu": range(8), "year": [2023] * 4 + [2024] * 4,
    ...                    "answer": [1, 0, 0, 0, 1, 1, 0, 1]})
    >>> out = hv.SurveyDesign(df, psu="psu").compare(
    ...     "answer", between="year", baseline=2023, kind="randomized_response",
    ...     model="warner", p=0.75)
    >>> float(out["estimate"].iloc[0])
    1.0
    """
    from harvest.compare import compare

    check_option("kind", kind, SENSITIVE_KINDS)
    allowed = _LIST_OPTIONS if kind == "list_experiment" else _RR_OPTIONS
    unknown = sorted(set(options) - set(allowed) - {"measure", "level", "adjust", "na",
                                                    "power"})
    if unknown:
        raise TypeError(f"kind={kind!r} does not take {', '.join(unknown)}; its options "
                        f"are {', '.join(allowed)}.")
    if kind == "list_experiment" and options.get("treatment") is None:
        raise ValueError("kind='list_experiment' needs `treatment=` (the list column).")
    if isinstance(df, str) and df == "domain":
        raise ValueError("`df`='domain' is not offered for sensitive kinds; use "
                         "df='design' or a number.")
    model_options = {key: options.pop(key) for key in list(options) if key in allowed}
    if kind == "list_experiment" and between == model_options["treatment"]:
        raise ValueError("`between` must differ from `treatment`.")
    view = _SensitiveView(design, kind, model_options)
    return compare(view, as_list(indicators), between, baseline=baseline, by=by,
                   kind="mean", df=df, **options)


# ---------------------------------------------------------------------------------------
# direct vs indirect, for reports
# ---------------------------------------------------------------------------------------
#: Columns of :func:`direct_vs_list` after the ``by`` columns.
DIRECT_COLUMNS = ["quantity", "estimate", "se", "ci_low", "ci_high", "level", "df", "n"]

#: Columns `report_tables` and the disclosure policy add (not ``by`` columns).
_PUBLICATION_COLUMNS = ["indicator", "n_yes", "suppressed", "suppression"]

#: Treatment columns of the instruments' list-experiment module, in order of preference.
_LIST_FORMS = ("list_form", "long_list")


def list_module(df: pd.DataFrame):
    """The list-experiment module of an instrument table, or None when it has none.

    The picker and employee instruments' optional module: a list form (``list_form``
    ``"long"``/``"short"``, or ``long_list`` 0/1), the ``item_count`` and the
    ``direct_answer`` to the same item asked directly.

    Returns
    -------
    dict or None
        ``{"direct": ..., "count": ..., "treatment": ...}`` column names.

    Examples
    --------
    >>> list_module(pd.DataFrame({"long_list": [0], "item_count": [1],
    ...                           "direct_answer": [0]}))["treatment"]
    'long_list'
    """
    treatment = next((c for c in _LIST_FORMS if c in df.columns), None)
    if treatment is None or "item_count" not in df.columns or \
            "direct_answer" not in df.columns:
        return None
    if df["item_count"].notna().sum() == 0 or df["direct_answer"].notna().sum() == 0:
        return None
    return {"direct": "direct_answer", "count": "item_count", "treatment": treatment}


def report_tables(design, module: dict, by=None, level=0.95,
                  control_items=None) -> pd.DataFrame:
    """`direct_vs_list` by domain, ready for the disclosure policy.

    The ``by`` columns, then ``indicator`` (the quantity: ``"direct"``,
    ``"list_experiment"``, ``"difference"``), then the `direct_vs_list` columns and
    ``n_yes``: the unweighted yes answers to the direct question (on the ``"direct"``
    rows; missing on the others), for the attribute rule of
    :func:`harvest.disclosure.protect`. The three rows of a domain share its cell, so a
    withheld cell withholds all three (the pattern is per cell, for every indicator).

    Examples
    --------
    >>> import harvest as hv
    >>> df = pd.DataFrame({"psu": range(8), "long_list": [0, 1] * 4,
    ...                    "direct_answer": [0, 0, 1, 0, 0, 0, 0, 1],
    ...                    "item_count": [1, 2, 2, 3, 0, 2, 1, 1]})
    >>> t = report_tables(hv.SurveyDesign(df, psu="psu"), list_module(df))
    >>> t[["indicator", "n_yes"]].to_dict("list")
    {'indicator': ['direct', 'list_experiment', 'difference'], 'n_yes': [2.0, nan, nan]}
    """
    by = as_list(by)
    table = direct_vs_list(design, module["direct"], module["count"], module["treatment"],
                           by=by, level=level, na="drop", control_items=control_items)
    data = design.data
    used = (design._codes.weights > 0) & data[module["direct"]].notna().to_numpy() & \
        data[module["count"]].notna().to_numpy()
    yes = pd.to_numeric(data[module["direct"]], errors="coerce").where(used, 0.0)
    if by:
        counts = yes.groupby([data[c] for c in by], observed=True, dropna=False).sum()
        keys = pd.MultiIndex.from_frame(table[by]) if len(by) > 1 else table[by[0]]
        n_yes = counts.reindex(keys).to_numpy(dtype=float)
    else:
        n_yes = np.full(len(table), float(yes.sum()))
    table.insert(len(by), "indicator", table.pop("quantity"))
    table["quantity"] = table["indicator"]
    table["n_yes"] = np.where(table["indicator"] == "direct", n_yes, np.nan)
    return table


def direct_vs_list(design, direct, count, treatment, by=None, level=0.95, na="fail", *,
                   treated=None, control_items=None):
    """The direct answer's share, the list-experiment estimate of the same item, and
    their difference (list minus direct) with its design-based standard error.

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
    direct : str
        0/1 answer to the question asked directly.
    count, treatment, by, level, na, treated, control_items
        As `list_experiment` (single list); ``control_items=J`` checks the counts.

    Returns
    -------
    pandas.DataFrame
        Three rows per ``by`` domain: the ``by`` columns, then ``quantity``
        (``"direct"``, ``"list_experiment"``, ``"difference"``), ``estimate, se,
        ci_low, ci_high, level, df, n``. A positive difference is under-reporting of
        the direct question (if the list's assumptions hold).

    Notes
    -----
    In design totals per domain (``N_t`` rows, ``D_t`` direct yes, ``Y_t`` counts on
    list ``t``): direct :math:`(D_0+D_1)/(N_0+N_1)`, list :math:`Y_1/N_1 - Y_0/N_0`;
    the three are linearised jointly by the delta method on the design covariance of
    the totals, so the difference's se includes their covariance.

    Examples
    --------
    >>> import pandas as pd
    >>> import harvest as hv
    >>> df = pd.DataFrame({"psu": range(8), "t": [0, 1] * 4, "d": [0, 0, 1, 0, 0, 0, 0, 1],
    ...                    "y": [1, 2, 2, 3, 0, 2, 1, 1]})
    >>> out = direct_vs_list(hv.SurveyDesign(df, psu="psu"), "d", "y", "t")
    >>> out["estimate"].tolist()
    [0.25, 1.0, 0.75]
    """
    _check_design(design)
    level = check_level(level)
    check_option("na", na, NA_POLICY)
    if control_items is not None:   # counts in 0..J (J+1 on the long list)
        _list_core(design, count, treatment, as_list(by), na, treated, control_items)
    by, d, y = _direct_and_count(design, count, direct, by, treatment)
    tb = _totals_by_list(design, {"__harvest_one": np.ones_like(d), "__harvest_d": d,
                                  "__harvest_y": y}, by, treatment, na, treated)
    total, dt, dc, present = tb["total"], tb["dt"], tb["dc"], tb["present"]
    G = len(present)
    N1, D1, Y1 = (total[dt + v] for v in range(3))
    N0, D0, Y0 = (total[dc + v] for v in range(3))
    with np.errstate(divide="ignore", invalid="ignore"):
        N = N0 + N1
        p_direct = (D0 + D1) / N
        p_list = Y1 / N1 - Y0 / N0
        g_direct = [-p_direct / N, 1 / N, 0 * N, -p_direct / N, 1 / N, 0 * N]
        g_list = [-Y1 / N1**2, 0 * N, 1 / N1, Y0 / N0**2, 0 * N, -1 / N0]
    g_diff = [a - b for a, b in zip(g_list, g_direct, strict=True)]
    cols = np.column_stack([dt, dt + 1, dt + 2, dc, dc + 1, dc + 2])      # (G, 6)
    rows = np.arange(3 * G).reshape(G, 3)
    vals = np.stack([np.column_stack(g) for g in (g_direct, g_list, g_diff)], axis=1)
    J = sparse.csr_array((vals.reshape(-1), (np.repeat(rows.reshape(-1), 6),
                                             np.repeat(cols[:, None, :], 3, 1).reshape(-1))),
                         shape=(3 * G, len(total)))
    _, cov = _moments(J, total, tb["vcov"])
    estimate = np.column_stack([p_direct, p_list, p_list - p_direct]).reshape(-1)
    keep = np.repeat(present, 3)
    estimate = np.where(keep, estimate, np.nan)
    se = np.sqrt(np.maximum(np.where(keep, np.diag(cov), np.nan), 0.0))
    df = np.repeat(_by_domain_df(design, count, by, na), 3)
    low, high = _interval(estimate, se, df, level)
    n_dom = tb["n_treatment"] + tb["n_control"]
    out = tb["groups"].iloc[np.repeat(np.arange(G), 3)].reset_index(drop=True)
    return pd.concat([out, pd.DataFrame({
        "quantity": pd.array(np.tile(["direct", "list_experiment", "difference"], G),
                             dtype=str),
        "estimate": estimate, "se": se, "ci_low": low, "ci_high": high,
        "level": np.full(3 * G, level), "df": df,
        "n": np.repeat(n_dom, 3).astype(np.int64),
    })], axis=1)


def _pct(x) -> str:
    return "n/a" if not np.isfinite(x) else f"{100 * x:.1f}%"


def _points(x) -> str:
    return f"{100 * x:.1f} percentage points"


def plain_note(table: pd.DataFrame) -> list:
    """One plain-words sentence per domain of a `direct_vs_list` table.

    Examples
    --------
    >>> t = pd.DataFrame({"quantity": ["direct", "list_experiment", "difference"],
    ...                   "estimate": [0.2, 0.35, 0.15], "ci_low": [0.17, 0.26, 0.06],
    ...                   "ci_high": [0.23, 0.44, 0.24], "level": 0.95})
    >>> plain_note(t)[0][:61]
    'All respondents: asked directly, 20.0% said yes (95% CI 17.0%'
    """
    by = [c for c in table.columns if c not in DIRECT_COLUMNS + _PUBLICATION_COLUMNS]
    rows = table.to_dict("records")
    notes = []
    for i in range(0, len(rows), 3):
        direct, lst, diff = rows[i:i + 3]
        where = ", ".join(str(direct[c]) for c in by) or "All respondents"
        if any(bool(r.get("suppressed", False)) for r in (direct, lst, diff)):
            notes.append(f"{where}: not shown (disclosure control: too few respondents, or "
                         "a figure that would give a withheld one back).")
            continue
        level = f"{100 * float(direct['level']):g}%"
        text = (f"{where}: asked directly, {_pct(direct['estimate'])} said yes ({level} CI "
                f"{_pct(direct['ci_low'])} to {_pct(direct['ci_high'])}); the list "
                f"experiment, where nobody reveals their own answer, estimates "
                f"{_pct(lst['estimate'])} ({_pct(lst['ci_low'])} to {_pct(lst['ci_high'])}). ")
        if not np.isfinite(diff["ci_low"]):
            text += "The difference cannot be estimated here."
        elif diff["ci_low"] > 0:
            text += (f"The direct question appears to under-report by "
                     f"{_points(diff['estimate'])} ({_points(diff['ci_low'])} to "
                     f"{_points(diff['ci_high'])}): some people who are affected do not say "
                     "so when asked directly.")
        elif diff["ci_high"] < 0:
            text += ("The direct answer is higher than the list estimate beyond sampling "
                     "error, which suggests a problem with the list (a design effect).")
        else:
            text += ("The difference is within sampling error: the data do not show that "
                     "the direct question under-reports, though the list experiment is "
                     "too imprecise to rule it out.")
        notes.append(text)
    return notes


def report_section(table: pd.DataFrame, title: str = "Direct and indirect answers",
                   withheld: str = "*") -> str:
    """An HTML fragment (heading, table, notes) for a report, from `direct_vs_list`.

    Only estimates, intervals and counts appear (no row-level data); every text is
    HTML-escaped. A table protected by :func:`harvest.disclosure.protect` (column
    ``suppressed``) shows ``withheld`` for every figure of a withheld cell and no note
    on it; `harvest.report` places the protected `report_tables` here.

    Examples
    --------
    >>> t = pd.DataFrame({"quantity": ["direct", "list_experiment", "difference"],
    ...                   "estimate": [0.2, 0.35, 0.15], "se": 0.04,
    ...                   "ci_low": [0.17, 0.26, 0.06], "ci_high": [0.23, 0.44, 0.24],
    ...                   "level": 0.95, "df": 50.0, "n": 2000})
    >>> report_section(t).startswith("<section")
    True
    """
    from html import escape

    by = [c for c in table.columns if c not in DIRECT_COLUMNS + _PUBLICATION_COLUMNS]
    head = "".join(f"<th>{escape(str(c))}</th>" for c in
                   [*by, "Quantity", "Estimate", "CI", "n"])
    body = []
    for row in table.to_dict("records"):
        if bool(row.get("suppressed", False)):
            # withheld by the disclosure policy: nothing of the cell is printed
            values = [withheld] * 3
        else:
            values = [_pct(row["estimate"]),
                      f"{_pct(row['ci_low'])} to {_pct(row['ci_high'])}",
                      str(int(row["n"])) if np.isfinite(row["n"]) else "n/a"]
        cells = [*(str(row[c]) for c in by), str(row["quantity"]).replace("_", " "),
                 *values]
        body.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
    notes = "".join(f"<p>{escape(n)}</p>" for n in plain_note(table))
    return (f'<section class="sensitive"><h2>{escape(title)}</h2><table><thead><tr>{head}'
            f"</tr></thead><tbody>{''.join(body)}</tbody></table>{notes}</section>")
