"""Planning questions answered by simulation: many two-stage cluster samples at once."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from harvest._options import as_generator, check_level, check_option
from harvest.plan._checks import check_probability, check_range
from harvest.plan.power import ALTERNATIVES, _power_kernel
from harvest.plan.size import z_value

SIMULATE_COLUMNS = ["quantity", "formula", "simulated", "mc_se", "mc_z", "n_sim"]


def draw_cluster_counts(rng: np.random.Generator, p: float, clusters: int, cluster_size: int,
                        icc: float, size: int) -> np.ndarray:
    """Positive counts per cluster for ``size`` simulated samples, shape ``(size, clusters)``.

    Each cluster's prevalence is Beta with mean ``p`` and intra-cluster correlation
    ``icc`` (``alpha + beta = (1 - icc) / icc``); its ``cluster_size`` units are then
    Binomial. ``icc = 0`` gives plain binomial (simple random) samples.
    """
    if icc > 0:
        total = (1.0 - icc) / icc
        prev = rng.beta(p * total, (1.0 - p) * total, size=(size, clusters))
    else:
        prev = np.full((size, clusters), p)
    return rng.binomial(cluster_size, prev)


def cluster_estimates(counts: np.ndarray, cluster_size: int, level: float):
    """Estimate, ultimate-cluster SE and interval half-width for each row of ``counts``.

    With equal cluster sizes and equal weights the design-based (ratio) estimate is
    the mean of the cluster proportions and its linearised variance is
    ``sum((pc - p_hat)^2) / (k (k - 1))``, the variance R ``survey`` gives for
    ``svydesign(ids = ~cluster)``; the interval uses ``t`` with ``k - 1`` df.
    """
    k = counts.shape[1]
    cluster_p = counts / cluster_size
    est = cluster_p.mean(axis=1)
    se = np.sqrt(cluster_p.var(axis=1, ddof=1) / k)
    half = stats.t.isf((1.0 - level) / 2.0, k - 1) * se
    return est, se, half


def simulate_clusters(p, clusters, cluster_size, icc=0.0, *, p2=None, clusters2=None,
                      moe=None, level=0.95, alternative="two-sided", n_sim=1000, batch=None,
                      rng=None):
    r"""Check a plan by simulating many two-stage cluster samples at once.

    Each simulated mission observes ``clusters`` clusters (districts) of
    ``cluster_size`` units (fields) whose prevalences vary with intra-cluster
    correlation ``icc`` (beta-binomial clusters). For every simulated sample the
    design-based estimate, its ultimate-cluster standard error and a ``t``
    interval with ``clusters - 1`` df are computed, all samples at once (numpy,
    no loop over simulations). With ``p2`` a second, independent year is drawn and
    the change is tested as ``design.compare`` does (Wald t test, df
    ``clusters + clusters2 - 2``).

    Parameters
    ----------
    p : float
        True proportion (first year).
    clusters : int
        Clusters observed (at least 2).
    cluster_size : int
        Units observed per cluster.
    icc : float
        Intra-cluster correlation, in [0, 1).
    p2 : float, optional
        True proportion in a second year; adds the rows ``change`` and ``power``.
    clusters2 : int, optional
        Clusters in the second year (default ``clusters``).
    moe : float, optional
        Target margin of error; adds the row ``within_moe``.
    level : float
        Confidence level of the intervals and ``1 - alpha`` of the test.
    alternative : {"two-sided", "less", "greater"}
        Alternative of the test of change.
    n_sim : int
        Number of simulated missions (default 1000).
    batch : int, optional
        Missions simulated per batch (bounds memory at ``batch * clusters``
        numbers); the default keeps each batch near two million numbers.
    rng : int, numpy.random.Generator or None
        Seed or generator; the only source of randomness.

    Returns
    -------
    pandas.DataFrame
        One row per quantity with columns ``quantity``, ``formula`` (what the
        planning formulas predict), ``simulated``, ``mc_se`` (Monte Carlo standard
        error of ``simulated``), ``mc_z`` (``(simulated - formula) / mc_se``) and
        ``n_sim``. Quantities (first year unless stated): ``estimate`` (mean
        estimate; formula ``p``), ``se_true`` (standard deviation of the
        estimates; formula ``sqrt(deff p q / n)``), ``se_estimated`` (root mean
        square of the estimated SEs, same formula: the ultimate-cluster variance
        estimator is unbiased, though its square root is not), ``deff`` (variance
        over that of a simple random sample; formula ``1 + (m - 1) icc``), ``moe``
        (mean half-width of the t interval; formula: the planned
        ``z * sqrt(deff p q / n)``),
        ``coverage`` (share of intervals holding ``p``; formula ``level``),
        ``within_moe`` (share of estimates within ``moe`` of ``p``; formula
        ``2 Phi(moe / se) - 1``), ``change`` (mean of ``p2_hat - p_hat``) and
        ``power`` (share of tests rejecting; formula
        :func:`power_change` with the same clusters and df).

    Notes
    -----
    Cluster prevalences :math:`\pi_c \sim \text{Beta}(p\,s, (1-p)\,s)` with
    :math:`s = (1-\rho)/\rho` and counts :math:`y_c \sim \text{Bin}(m, \pi_c)`
    give exactly :math:`\text{Var}(\hat p) = p q\,(1 + (m-1)\rho)/(k m)`, the
    assumption of the formulas; what the simulation adds is the behaviour of the
    *estimated* SE and the t quantile when the clusters are few. Monte Carlo SEs:
    :math:`s/\sqrt{R}` for means, :math:`\sqrt{P(1-P)/R}` for shares, and
    :math:`\sqrt{(m_4 - s^4)/R}` (scaled) for the variance and the design effect.

    Examples
    --------
    >>> import harvest as hv
    >>> t = hv.plan.simulate_clusters(0.23, clusters=24, cluster_size=20, icc=0.05, p2=0.15,
    ...                               n_sim=2000, rng=1)
    >>> list(t["quantity"])
    ['estimate', 'se_true', 'se_estimated', 'deff', 'moe', 'coverage', 'change', 'power']
    """
    gen = as_generator(rng)
    level = check_level(level)
    check_option("alternative", alternative, ALTERNATIVES)
    p = float(check_probability("p", p))
    k1 = int(check_range("clusters", clusters, 2, None, low_open=False, integer=True,
                         rule="a whole number of clusters >= 2"))
    m = int(check_range("cluster_size", cluster_size, 1, None, low_open=False, integer=True,
                        rule="a whole number of units per cluster >= 1"))
    icc = float(check_range("icc", icc, 0, 1, low_open=False,
                            rule="a number in [0, 1) (intra-cluster correlation)"))
    n_sim = int(check_range("n_sim", n_sim, 2, None, low_open=False, integer=True,
                            rule="a whole number of simulations >= 2"))
    if p2 is not None:
        p2 = float(check_probability("p2", p2))
    k2 = k1 if clusters2 is None else int(check_range(
        "clusters2", clusters2, 2, None, low_open=False, integer=True,
        rule="a whole number of clusters >= 2"))
    if moe is not None:
        moe = float(check_range("moe", moe, 0, 1, rule="a number between 0 and 1"))
    per_sim = k1 + (k2 if p2 is not None else 0)
    if batch is None:
        batch = max(1, 2_000_000 // per_sim)
    batch = int(check_range("batch", batch, 1, None, low_open=False, integer=True,
                            rule="a whole number >= 1"))

    est, se, half, diff, reject = (np.empty(n_sim) for _ in range(5))
    df_change = k1 + k2 - 2
    for start in range(0, n_sim, batch):  # batches of missions bound memory; no loop per mission
        stop = min(start + batch, n_sim)
        size = stop - start
        e1, s1, h1 = cluster_estimates(draw_cluster_counts(gen, p, k1, m, icc, size), m, level)
        est[start:stop], se[start:stop], half[start:stop] = e1, s1, h1
        if p2 is not None:
            e2, s2, _ = cluster_estimates(draw_cluster_counts(gen, p2, k2, m, icc, size), m,
                                          level)
            d = e2 - e1
            s = np.sqrt(s1 ** 2 + s2 ** 2)
            with np.errstate(divide="ignore", invalid="ignore"):
                t = np.where(s > 0, d / np.where(s > 0, s, 1.0), np.sign(d) * np.inf)
            a = (1.0 - level) / (2.0 if alternative == "two-sided" else 1.0)
            crit = stats.t.isf(a, df_change)
            if alternative == "two-sided":
                rej = np.abs(t) > crit
            elif alternative == "less":
                rej = t < -crit
            else:
                rej = t > crit
            diff[start:stop], reject[start:stop] = d, rej

    deff_f = 1.0 + (m - 1.0) * icc
    n = k1 * m
    var_srs = p * (1.0 - p) / n
    se_f = np.sqrt(deff_f * var_srs)
    rows = []

    def mean_row(name, values, formula):
        sd = values.std(ddof=1)
        rows.append((name, formula, values.mean(), sd / np.sqrt(n_sim)))

    def share_row(name, hits, formula):
        rate = hits.mean()
        rows.append((name, formula, rate, np.sqrt(max(rate * (1.0 - rate), 1.0 / n_sim)
                                                  / n_sim)))

    centred = est - est.mean()
    var = np.mean(centred ** 2) * n_sim / (n_sim - 1)
    var_mc = np.sqrt(max(np.mean(centred ** 4) - var ** 2, 0.0) / n_sim)
    mean_row("estimate", est, p)
    rows.append(("se_true", se_f, np.sqrt(var), var_mc / (2.0 * np.sqrt(var))))
    se2 = se ** 2   # the variance estimator is unbiased: compare its mean, on the SE scale
    rms = np.sqrt(se2.mean())
    rows.append(("se_estimated", se_f, rms, se2.std(ddof=1) / np.sqrt(n_sim) / (2.0 * rms)))
    rows.append(("deff", deff_f, var / var_srs, var_mc / var_srs))
    mean_row("moe", half, z_value(level) * se_f)
    share_row("coverage", np.abs(est - p) <= half, level)
    if moe is not None:
        share_row("within_moe", np.abs(est - p) <= moe, 2.0 * stats.norm.cdf(moe / se_f) - 1.0)
    if p2 is not None:
        mean_row("change", diff, p2 - p)
        formula_power, _ = _power_kernel(np.array(p), np.array(p2), np.array(float(n)),
                                         np.array(float(k2 * m)), np.array(deff_f), level,
                                         alternative, "wald", np.array(float(df_change)))
        share_row("power", reject.astype(bool), float(formula_power))
    out = pd.DataFrame(rows, columns=["quantity", "formula", "simulated", "mc_se"])
    out["mc_z"] = (out["simulated"] - out["formula"]) / out["mc_se"]
    out["n_sim"] = n_sim
    return out[SIMULATE_COLUMNS]


def simulate(*args, **kwargs):
    """Deprecated name of :func:`simulate_clusters` (planning by simulated cluster samples).

    ``hv.plan.simulate`` was easy to confuse with the mission simulator ``hv.simulate``;
    it warns and calls :func:`simulate_clusters` with the same arguments.
    """
    warnings.warn("hv.plan.simulate is deprecated; use hv.plan.simulate_clusters (cluster "
                  "samples for planning; hv.simulate draws synthetic missions).",
                  DeprecationWarning, stacklevel=2)
    return simulate_clusters(*args, **kwargs)
