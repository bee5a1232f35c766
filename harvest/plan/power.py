"""Power and minimum detectable change between two independent years."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from harvest._options import check_level, check_option
from harvest.plan._checks import (
    as_array,
    broadcast,
    check_probability,
    check_range,
    design_effect,
    population_size,
    response_rate_of,
)
from harvest.plan.size import ceil_int, fpc_adjust, z_value

ALTERNATIVES = ("two-sided", "less", "greater")
POWER_METHODS = ("wald", "fleiss")
DIRECTIONS = ("decrease", "increase")

POWER_COLUMNS = [
    "p1", "p2", "difference", "n1", "n2", "clusters1", "clusters2", "cluster_size", "icc",
    "deff", "level", "alternative", "method", "df", "se", "power",
]
MDC_COLUMNS = [
    "p1", "p2", "difference", "n1", "n2", "clusters1", "clusters2", "cluster_size", "icc",
    "deff", "level", "alternative", "method", "df", "power",
]
SIZE_CHANGE_COLUMNS = [
    "p1", "p2", "difference", "power", "level", "alternative", "method", "icc",
    "cluster_size", "deff", "ratio", "N", "response_rate", "n0", "n_deff", "n_fpc",
    "n_response", "n1", "n2", "clusters1", "clusters2",
]


def _power_kernel(p1, p2, n1, n2, deff, level, alternative, method, df):
    """Power of the test of ``p1 == p2`` (arrays broadcast together; no checks here).

    Wald: the test divides the estimated change by its estimated standard error
    ``sqrt(deff (p1 q1 / n1 + p2 q2 / n2))`` and compares it with a normal (``df``
    infinite) or Student t critical value; power from the normal, or from the
    non-central t with non-centrality ``(p2 - p1) / se``.
    Fleiss: normal test whose null standard error uses the pooled proportion.
    Returns ``(power, se)``.
    """
    ne1, ne2 = n1 / deff, n2 / deff
    se = np.sqrt(p1 * (1 - p1) / ne1 + p2 * (1 - p2) / ne2)
    delta = p2 - p1
    two = alternative == "two-sided"
    alpha = 1.0 - level
    a = alpha / 2.0 if two else alpha
    if method == "fleiss":
        pbar = (ne1 * p1 + ne2 * p2) / (ne1 + ne2)
        se0 = np.sqrt(pbar * (1 - pbar) * (1 / ne1 + 1 / ne2))
        z = stats.norm.isf(a)
        up = stats.norm.cdf((delta - z * se0) / se)       # reject for large change
        down = stats.norm.cdf((-delta - z * se0) / se)    # reject for a large fall
    else:
        lam = delta / se
        df = np.broadcast_to(df, lam.shape)
        finite = np.isfinite(df)
        crit = np.where(finite, stats.t.isf(a, np.where(finite, df, 1.0)), stats.norm.isf(a))
        with np.errstate(invalid="ignore"):
            t_up = stats.nct.sf(crit, np.where(finite, df, 1.0), lam)
            t_down = stats.nct.cdf(-crit, np.where(finite, df, 1.0), lam)
        up = np.where(finite, t_up, stats.norm.cdf(lam - crit))
        down = np.where(finite, t_down, stats.norm.cdf(-lam - crit))
    if alternative == "greater":
        power = up
    elif alternative == "less":
        power = down
    else:
        power = up + down
    return np.clip(power, 0.0, 1.0), se


def _common(level, alternative, method, df, deff, icc, cluster_size):
    level = check_level(level)
    check_option("alternative", alternative, ALTERNATIVES)
    check_option("method", method, POWER_METHODS)
    deff_arr, icc_arr, m_arr = design_effect(deff, icc, cluster_size)
    if df is not None:
        df = check_range("df", df, 0, np.inf, high_open=False,
                         rule="a positive number of degrees of freedom (or None)")
        if method == "fleiss" and np.isfinite(df).any():
            raise ValueError("`df` applies to method='wald' (a t test); method='fleiss' is a "
                             "large-sample normal test.")
    return level, deff_arr, icc_arr, m_arr, df


def _sizes(n1, n2, clusters1, clusters2, m_arr, method, df):
    """Per-year sizes from ``n1``/``n2`` or from clusters times cluster size, and the df."""
    if clusters1 is not None:
        if n1 is not None or n2 is not None:
            raise ValueError("give `n1`/`n2` or `clusters` (with `cluster_size`), not both.")
        if np.isnan(m_arr).all():
            raise ValueError("`clusters` needs `cluster_size` (units per cluster).")
        k1 = check_range("clusters", clusters1, 1, None, integer=True,
                         rule="a whole number of clusters >= 2")
        k2 = k1 if clusters2 is None else check_range(
            "clusters2", clusters2, 1, None, integer=True, rule="a whole number of clusters >= 2")
        n1, n2 = k1 * m_arr, k2 * m_arr
        if df is None and method == "wald":
            df = k1 + k2 - 2.0
    else:
        if n1 is None:
            raise ValueError("give the sample size per year, `n1` (and `n2`), or `clusters` "
                             "and `cluster_size`.")
        n1 = check_range("n1", n1, 0, None, rule="a positive sample size")
        n2 = n1 if n2 is None else check_range("n2", n2, 0, None, rule="a positive sample size")
        k1 = k2 = np.array(np.nan)
    if df is None:
        df = np.array(np.inf)
    return n1, n2, k1, k2, df


def power_change(p1, p2, n1=None, n2=None, deff=None, level=0.95, alternative="two-sided",
                 *, clusters=None, clusters2=None, cluster_size=None, icc=None, df=None,
                 method="wald"):
    r"""Power to detect a change in a proportion between two independent years.

    Parameters
    ----------
    p1, p2 : float or array
        The proportion in the first (baseline) and the second year.
    n1, n2 : float or array, optional
        Sample sizes (units observed) in each year; ``n2`` defaults to ``n1``.
    deff : float or array, optional
        Design effect of each year's estimate (1 when left out and no ``icc``).
    level : float
        ``1 - alpha``: 0.95 tests at the 5% level.
    alternative : {"two-sided", "less", "greater"}
        ``"less"``: a one-sided test for a fall (``p2 < p1``).
    clusters, clusters2 : int, optional
        Clusters (e.g. districts) observed in the first and second year, instead of
        ``n1``/``n2``; each holds ``cluster_size`` units. ``clusters2`` defaults to
        ``clusters``.
    cluster_size : float, optional
        Units observed per cluster.
    icc : float, optional
        Intra-cluster correlation; with ``cluster_size`` gives
        ``deff = 1 + (cluster_size - 1) * icc``.
    df : float, optional
        Degrees of freedom of the t test (method ``"wald"``). Default: infinite
        (normal) for ``n1``/``n2``; ``clusters + clusters2 - 2`` with clusters, as
        the design-based comparison of two unstratified years uses.
    method : {"wald", "fleiss"}
        ``"wald"``: the design-based test (change over its unpooled standard
        error), as ``design.compare`` does. ``"fleiss"``: the classical pooled
        normal test (Fleiss et al. 2003; R ``power.prop.test(strict = TRUE)``),
        with effective sample sizes ``n / deff``.

    Returns
    -------
    pandas.DataFrame
        One row per input: ``p1``, ``p2``, ``difference`` (``p2 - p1``), ``n1``,
        ``n2``, ``clusters1``, ``clusters2``, ``cluster_size``, ``icc``, ``deff``,
        ``level``, ``alternative``, ``method``, ``df``, ``se`` (standard error of the
        change under the alternative) and ``power``.

    Notes
    -----
    With :math:`\text{se} = \sqrt{\text{deff}\,(p_1 q_1 / n_1 + p_2 q_2 / n_2)}`,
    :math:`\lambda = (p_2 - p_1)/\text{se}` and critical value :math:`c`
    (normal or :math:`t_{df}` quantile at :math:`1 - \alpha/2`), the two-sided
    Wald power is :math:`\Phi(\lambda - c) + \Phi(-\lambda - c)`, or with a t
    test :math:`1 - T_{df,\lambda}(c) + T_{df,\lambda}(-c)` (non-central t).
    Fleiss: :math:`\Phi((|\delta| - z\,\text{se}_0)/\text{se}) +
    \Phi((-|\delta| - z\,\text{se}_0)/\text{se})` with
    :math:`\text{se}_0^2 = \bar p \bar q\,\text{deff}\,(1/n_1 + 1/n_2)`.

    Examples
    --------
    >>> import harvest as hv
    >>> t = hv.plan.power_change(p1=0.23, p2=0.15, n1=472, n2=472, deff=2.0)
    >>> round(float(t["power"].iloc[0]), 3)
    0.605
    """
    level, deff_arr, icc_arr, m_arr, df = _common(level, alternative, method, df, deff, icc,
                                                  cluster_size)
    p1 = check_probability("p1", p1)
    p2 = check_probability("p2", p2)
    n1, n2, k1, k2, df = _sizes(n1, n2, clusters, clusters2, m_arr, method, df)
    a = broadcast(p1=p1, p2=p2, n1=n1, n2=n2, k1=k1, k2=k2, m=m_arr, icc=icc_arr,
                  deff=deff_arr, df=df)
    power, se = _power_kernel(a["p1"], a["p2"], a["n1"], a["n2"], a["deff"], level,
                              alternative, method, a["df"])
    return pd.DataFrame({
        "p1": a["p1"], "p2": a["p2"], "difference": a["p2"] - a["p1"], "n1": a["n1"],
        "n2": a["n2"], "clusters1": a["k1"], "clusters2": a["k2"], "cluster_size": a["m"],
        "icc": a["icc"], "deff": a["deff"], "level": level, "alternative": alternative,
        "method": method, "df": a["df"], "se": se, "power": power,
    }, columns=POWER_COLUMNS)


def minimum_detectable_change(p1, n1=None, n2=None, deff=None, power=0.8, level=0.95,
                              alternative="two-sided", *, direction="decrease", clusters=None,
                              clusters2=None, cluster_size=None, icc=None, df=None,
                              method="wald"):
    r"""Smallest change from ``p1`` that a test detects with the given power.

    Parameters
    ----------
    p1 : float or array
        Proportion in the baseline year.
    n1, n2, deff, level, clusters, clusters2, cluster_size, icc, df, method
        As in :func:`power_change`.
    power : float
        Target power, in (0, 1); default 0.8.
    alternative : {"two-sided", "less", "greater"}
        The test to be run; ``"less"`` looks for a fall, ``"greater"`` for a rise.
    direction : {"decrease", "increase"}
        For a two-sided test, which side's detectable value to report. A one-sided
        alternative sets it (``"less"`` -> decrease).

    Returns
    -------
    pandas.DataFrame
        One row per input, columns as :func:`power_change` without ``se``:
        ``p2`` is the detectable second-year proportion and ``difference`` is
        ``p2 - p1`` (negative for a fall). Missing when no proportion in (0, 1)
        reaches the power.

    Notes
    -----
    ``p2`` solves ``power_change(p1, p2, ...) == power`` by vectorised bisection
    (power is monotone in ``|p2 - p1|`` on each side of ``p1``). The familiar
    closed form :math:`(z_{1-\alpha/2} + z_{1-\beta}) \sqrt{\text{deff}\,p q
    (1/n_1 + 1/n_2)}` is its approximation that ignores the change of variance
    with ``p2`` and the opposite tail.

    Examples
    --------
    >>> import harvest as hv
    >>> t = hv.plan.minimum_detectable_change(p1=0.23, n1=472, n2=472, deff=2.0)
    >>> round(float(t["difference"].iloc[0]), 3)
    -0.098
    """
    level, deff_arr, icc_arr, m_arr, df = _common(level, alternative, method, df, deff, icc,
                                                  cluster_size)
    target = check_range("power", power, 0, 1, rule="a probability strictly between 0 and 1")
    check_option("direction", direction, DIRECTIONS)
    if alternative == "less":
        direction = "decrease"
    elif alternative == "greater":
        direction = "increase"
    p1 = check_probability("p1", p1)
    n1, n2, k1, k2, df = _sizes(n1, n2, clusters, clusters2, m_arr, method, df)
    a = broadcast(p1=p1, n1=n1, n2=n2, k1=k1, k2=k2, m=m_arr, icc=icc_arr, deff=deff_arr,
                  df=df, target=target)
    eps = 1e-10
    if direction == "decrease":
        near, far = a["p1"].copy(), np.full_like(a["p1"], eps)
    else:
        near, far = a["p1"].copy(), np.full_like(a["p1"], 1.0 - eps)

    def pw(p2):
        return _power_kernel(a["p1"], p2, a["n1"], a["n2"], a["deff"], level, alternative,
                             method, a["df"])[0]

    reachable = pw(far) >= a["target"]
    for _ in range(60):  # bisection on all rows at once; 2**-60 of the interval
        mid = 0.5 * (near + far)
        ok = pw(mid) >= a["target"]
        far = np.where(ok, mid, far)
        near = np.where(ok, near, mid)
    p2 = np.where(reachable, far, np.nan)
    return pd.DataFrame({
        "p1": a["p1"], "p2": p2, "difference": p2 - a["p1"], "n1": a["n1"], "n2": a["n2"],
        "clusters1": a["k1"], "clusters2": a["k2"], "cluster_size": a["m"], "icc": a["icc"],
        "deff": a["deff"], "level": level, "alternative": alternative, "method": method,
        "df": a["df"], "power": a["target"],
    }, columns=MDC_COLUMNS)


def sample_size_change(p1, p2, power=0.8, deff=None, level=0.95, alternative="two-sided", *,
                       ratio=1.0, N=None, response_rate=1.0, icc=None, cluster_size=None,
                       method="wald"):
    r"""Sample size per year to detect a change from ``p1`` to ``p2`` with given power.

    Parameters
    ----------
    p1, p2 : float or array
        Proportions in the baseline and the second year.
    power : float
        Target power, default 0.8.
    deff, level, alternative, icc, cluster_size, method
        As in :func:`power_change`.
    ratio : float
        ``n2 / n1``, default 1 (same size each year).
    N : float, optional
        Population size each year, for the finite population correction.
    response_rate : float
        Expected response rate, in (0, 1].

    Returns
    -------
    pandas.DataFrame
        One row per input, with the steps for the first year: ``n0`` (simple
        random sampling), ``n_deff``, ``n_fpc``, ``n_response``; the final sizes
        ``n1`` and ``n2 = ratio * n1`` (rounded up) and ``clusters1``/``clusters2``
        when ``cluster_size`` is given.

    Notes
    -----
    Large-sample normal formulas (Fleiss et al. 2003, sec. 4.2; ``svy``'s
    ``compare_props`` for Wald), with :math:`\delta = p_2 - p_1` and
    :math:`z_\beta = \Phi^{-1}(\text{power})`:

    .. math::

        n_0 = \frac{(z_{\alpha} + z_\beta)^2 (p_1 q_1 + p_2 q_2 / r)}{\delta^2}
        \quad\text{(Wald)}, \qquad
        n_0 = \frac{\left(z_{\alpha}\sqrt{\bar p \bar q (1 + 1/r)}
              + z_\beta \sqrt{p_1 q_1 + p_2 q_2 / r}\right)^2}{\delta^2}
        \quad\text{(Fleiss)},

    then ``deff``, the finite population correction and the response rate as in
    :func:`sample_size`. :math:`z_\alpha` is two-sided unless ``alternative``
    is one-sided; the far tail of a two-sided test is ignored, as is usual.

    Examples
    --------
    >>> import harvest as hv
    >>> t = hv.plan.sample_size_change(p1=0.23, p2=0.15, deff=2.0)
    >>> int(t["n1"].iloc[0])
    748
    """
    level = check_level(level)
    check_option("alternative", alternative, ALTERNATIVES)
    check_option("method", method, POWER_METHODS)
    p1 = check_probability("p1", p1)
    p2 = check_probability("p2", p2)
    if np.any(np.broadcast_to(p1, np.broadcast_shapes(p1.shape, p2.shape))
              == np.broadcast_to(p2, np.broadcast_shapes(p1.shape, p2.shape))):
        raise ValueError("`p1` and `p2` must differ: no sample detects a change of zero.")
    target = check_range("power", power, 0, 1, rule="a probability strictly between 0 and 1")
    r = check_range("ratio", ratio, 0, None, rule="a positive number (n2 / n1)")
    deff_arr, icc_arr, m_arr = design_effect(deff, icc, cluster_size)
    N_arr = population_size(N)
    rr = response_rate_of(response_rate)
    a = broadcast(p1=p1, p2=p2, target=target, r=r, deff=deff_arr, icc=icc_arr, m=m_arr,
                  N=N_arr, rr=rr)
    z_a = z_value(level, two_sided=alternative == "two-sided")
    z_b = stats.norm.ppf(a["target"])
    q1, q2 = 1 - a["p1"], 1 - a["p2"]
    delta = a["p2"] - a["p1"]
    v_alt = a["p1"] * q1 + a["p2"] * q2 / a["r"]
    if method == "fleiss":
        pbar = (a["p1"] + a["r"] * a["p2"]) / (1 + a["r"])
        n0 = (z_a * np.sqrt(pbar * (1 - pbar) * (1 + 1 / a["r"]))
              + z_b * np.sqrt(v_alt)) ** 2 / delta ** 2
    else:
        n0 = (z_a + z_b) ** 2 * v_alt / delta ** 2
    n_deff = n0 * a["deff"]
    n_fpc = fpc_adjust(n_deff, a["N"])
    n_response = n_fpc / a["rr"]
    n1 = ceil_int(n_response)
    n2 = ceil_int(a["r"] * n1)
    with np.errstate(invalid="ignore"):
        c1, c2 = ceil_int(n1 / a["m"]), ceil_int(n2 / a["m"])
    return pd.DataFrame({
        "p1": a["p1"], "p2": a["p2"], "difference": delta, "power": a["target"],
        "level": level, "alternative": alternative, "method": method, "icc": a["icc"],
        "cluster_size": a["m"], "deff": a["deff"], "ratio": a["r"], "N": a["N"],
        "response_rate": a["rr"], "n0": n0, "n_deff": n_deff, "n_fpc": n_fpc,
        "n_response": n_response, "n1": n1.astype(np.int64), "n2": n2.astype(np.int64),
        "clusters1": pd.array(np.where(np.isnan(c1), None, c1), dtype="Int64"),
        "clusters2": pd.array(np.where(np.isnan(c2), None, c2), dtype="Int64"),
    }, columns=SIZE_CHANGE_COLUMNS)


__all__ = ["power_change", "minimum_detectable_change", "sample_size_change", "as_array"]
