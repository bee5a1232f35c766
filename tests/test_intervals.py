"""Tests of harvest.intervals against R survey (stored output), edge cases and coverage.

Reference values: tests/reference/svyciprop.R (run `Rscript tests/reference/svyciprop.R`
from the repository root to regenerate svyciprop_cases.csv, svyciprop_rows.csv and
svyciprop_t.csv).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from harvest._options import PROPORTION_CI
from harvest.intervals import _kl_shift, irls_weight, proportion_ci, t_interval

REF = Path(__file__).parent / "reference"
R_NAME = {"korn-graubard": "beta", "wald": "mean"}
R_METHODS = ["logit", "xlogit", "korn-graubard", "wald", "likelihood", "asin"]


@pytest.fixture(scope="module")
def cases():
    return pd.read_csv(REF / "svyciprop_cases.csv", keep_default_na=False,
                       na_values=["NA", "NaN"])


def _ours(table, method, with_irls=True):
    """Our bounds for every row of ``table`` (one call per level, all domains at once)."""
    low = np.full(len(table), np.nan)
    high = np.full(len(table), np.nan)
    for level in table["level"].unique():
        rows = (table["level"] == level).to_numpy()
        t = table[rows]
        kw = {}
        if method == "likelihood" and with_irls:
            kw["irls_weight"] = t["irls_weight"].where(t["estimate"].between(0, 1, "neither"))
        low[rows], high[rows] = proportion_ci(method, t["estimate"], t["se"], t["df"],
                                              level, t["n"], **kw)
    return low, high


def _asin_folds(t):
    """Rows where R's asin interval leaves [0, pi/2] before sin^2 (R folds it back)."""
    q = stats.t.isf((1 - t["level"]) / 2, t["df"])
    centre = np.arcsin(np.sqrt(t["estimate"]))
    half = q * t["se"] / (2 * np.sqrt(t["estimate"] * (1 - t["estimate"])))
    return ((centre - half) < 0) | ((centre + half) > np.pi / 2)


def _r_logit_breaks(t):
    """Rows where R's logit interval breaks down: confint.svyglm turns the t quantile into
    a normal one through 1 - 2 * pnorm(qt(...)), which rounds to 1 for df = 1 at 95%."""
    return t["ci_high"].isna() & t["ci_low"].notna()


def _interior(t):
    return t["estimate"].between(0, 1, "neither") & (t["se"] > 0) & (t["df"] > 0)


@pytest.mark.parametrize("method", R_METHODS)
def test_agrees_with_r_svyciprop_in_domains(cases, method):
    t = cases[cases["method"] == R_NAME.get(method, method)].reset_index(drop=True)
    low, high = _ours(t, method)
    keep = _interior(t)
    if method == "asin":
        keep &= ~_asin_folds(t)
    if method == "logit":
        keep &= ~_r_logit_breaks(t)
    compared = 0
    for ours, theirs in ((low, t["ci_low"]), (high, t["ci_high"])):
        ok = keep & theirs.notna()
        compared += int(ok.sum())
        np.testing.assert_allclose(ours[ok], theirs[ok], rtol=1e-6, atol=0)
    # whole samples and domains of 5 designs, 3 levels: far more than a token check
    assert compared >= 150
    assert t.loc[keep, "domain"].nunique() >= 8
    # the domain values were also checked against svyby(..., svyciprop) inside R (the R
    # script stops on a difference), except where svyby stops because another domain of
    # the same call fails (likelihood with p = 0 or df = 0)
    checked = t.loc[keep & (t["by"] != ""), "svyby_checked"].dropna()
    assert len(checked) >= 40 and checked.eq(True).all()


def test_likelihood_without_irls_weight_is_close_to_r(cases):
    t = cases[cases["method"] == "likelihood"].reset_index(drop=True)
    low, high = _ours(t, "likelihood", with_irls=False)
    keep = _interior(t)
    for ours, theirs in ((low, t["ci_low"]), (high, t["ci_high"])):
        ok = keep & theirs.notna()
        np.testing.assert_allclose(ours[ok], theirs[ok], rtol=5e-4)


def test_irls_weight_reproduces_r_glm_from_rows(cases):
    rows = pd.read_csv(REF / "svyciprop_rows.csv", keep_default_na=False)
    first = cases.drop_duplicates("case")
    checked = 0
    for (design, indicator, by), g in rows.groupby(["design", "indicator", "by"], sort=False):
        ref = first[(first["design"] == design) & (first["indicator"] == indicator)
                    & (first["by"] == by)].set_index("domain")["irls_weight"]
        doms = sorted(g["domain"].unique())
        codes = pd.Categorical(g["domain"], categories=doms).codes.astype(np.int64)
        got = irls_weight(g["y"].to_numpy(float), g["weight"].to_numpy(float), codes, len(doms))
        want = ref.loc[doms].to_numpy(float)
        ok = np.isfinite(want) & (want > 0) & np.isfinite(got)
        np.testing.assert_allclose(got[ok], want[ok], rtol=1e-10)
        checked += int(ok.sum())
    assert checked >= 30


def test_r_quasibinomial_dispersion_is_n_over_n_minus_1(cases):
    """The likelihood interval uses phi = n / (n - 1): R's svyvar of the Pearson residuals
    (y - mu) / sqrt(mu (1 - mu)) of a 0/1 variable, whatever the weights."""
    t = cases[_interior(cases)].drop_duplicates("case")
    assert len(t) >= 25
    np.testing.assert_allclose(t["dispersion"], t["n"] / (t["n"] - 1), rtol=1e-8)


def test_irls_weight_matrix_and_missing_values():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, size=(60, 2)).astype(float)
    w = rng.uniform(1, 10, 60)
    dom = np.repeat([0, 1, 2], 20)
    both = irls_weight(y, w, dom, 3)
    assert both.shape == (3, 2)
    np.testing.assert_array_equal(both[:, 1], irls_weight(y[:, 1], w, dom, 3))
    y[:5, 0] = np.nan                       # missing rows leave that indicator's fit only,
    keep = ~np.isnan(y[:, 0])               # but still count in svyglm's mean weight
    with_na = irls_weight(y, w, dom, 3)[:, 0]
    dropped = irls_weight(y[keep, 0], w[keep], dom[keep], 3)
    np.testing.assert_array_equal(with_na[1:], dropped[1:])
    scale = w[keep][:15].mean() / w[:20].mean()
    assert not np.isclose(scale, 1.0, rtol=1e-3)
    np.testing.assert_allclose(with_na[0], dropped[0] * scale, rtol=1e-3)
    dom[:20] = -1                           # rows outside every domain are ignored
    out = irls_weight(y[:, 1], w, dom, 3)
    assert np.isnan(out[0]) and np.isfinite(out[1:]).all()
    with pytest.raises(ValueError, match="`domain` must hold integer codes"):
        irls_weight(y[:, 1], w, dom.astype(float), 3)


def test_asin_clips_where_r_folds_the_interval_back(cases):
    """R's asin bound sin^2(x) of an x below 0 folds back above 0 (even above the estimate);
    harvest clips x to [0, pi/2] first."""
    t = cases[cases["method"] == "asin"].reset_index(drop=True)
    fold = _interior(t) & _asin_folds(t)
    assert fold.sum() >= 5
    low, high = _ours(t, "asin")
    q = stats.t.isf((1 - t["level"]) / 2, t["df"])
    centre = np.arcsin(np.sqrt(t["estimate"]))
    half = q * t["se"] / (2 * np.sqrt(t["estimate"] * (1 - t["estimate"])))
    below = fold & ((centre - half) < 0)
    np.testing.assert_allclose(t.loc[below, "ci_low"], np.sin(centre - half)[below] ** 2,
                               rtol=1e-6)      # what R does
    assert (low[below] == 0).all()             # what we do
    assert (t.loc[below, "ci_low"] > t.loc[below, "estimate"]).any()   # R's excludes p
    assert (low <= t["estimate"] + 1e-15)[_interior(t)].all()
    assert (high >= t["estimate"] - 1e-15)[_interior(t)].all()


def test_r_logit_breakdown_at_one_df_and_xlogit_agrees_with_us(cases):
    logit = cases[cases["method"] == "logit"].reset_index(drop=True)
    broken = _r_logit_breaks(logit) & _interior(logit)
    assert broken.sum() >= 2 and (logit.loc[broken, "df"] == 1).all()
    assert (logit.loc[broken, "ci_low"] == 0).all()           # R: [0, NaN]
    xlogit = cases[cases["method"] == "xlogit"].reset_index(drop=True)
    low, high = _ours(logit[broken], "logit")
    np.testing.assert_allclose(low, xlogit.loc[broken, "ci_low"], rtol=1e-6)
    np.testing.assert_allclose(high, xlogit.loc[broken, "ci_high"], rtol=1e-6)


def test_t_interval_agrees_with_r_confint():
    t = pd.read_csv(REF / "svyciprop_t.csv")
    low = np.empty(len(t))
    high = np.empty(len(t))
    for level in t["level"].unique():
        rows = (t["level"] == level).to_numpy()
        low[rows], high[rows] = t_interval(t.loc[rows, "estimate"], t.loc[rows, "se"],
                                           t.loc[rows, "df"], level)
    np.testing.assert_allclose(low, t["ci_low"], rtol=1e-10)
    np.testing.assert_allclose(high, t["ci_high"], rtol=1e-10)
    assert t["domain"].nunique() >= 5


def test_t_interval_infinite_and_zero_df():
    low, high = t_interval([1.0, 1.0, 1.0, np.nan], [0.5, 0.5, 0.0, 1.0],
                           [np.inf, 0, 5, 5], 0.9)
    z = stats.norm.isf(0.05)
    assert low[0] == pytest.approx(1 - z * 0.5) and high[0] == pytest.approx(1 + z * 0.5)
    assert low[1] == -np.inf and high[1] == np.inf
    assert low[2] == high[2] == 1.0
    assert np.isnan(low[3]) and np.isnan(high[3])


# ---------------------------------------------------------------------------------------
# edge cases: 0 and 1, zero se, zero df, tiny se, df = 1
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", PROPORTION_CI)
def test_zero_and_one_give_finite_documented_bounds(method):
    p = np.array([0.0, 1.0, 0.0, 1.0])
    n = np.array([21.0, 54.0, 1.0, 300.0])
    df = np.array([8.0, 10.0, 3.0, np.inf])
    low, high = proportion_ci(method, p, np.zeros(4), df, 0.95, n)
    assert np.isfinite(low).all() and np.isfinite(high).all()
    a = 0.025
    factor = np.where(n > 1, (stats.t.ppf(a, np.maximum(n - 1, 1)) / stats.t.ppf(a, df)) ** 2,
                      1.0)
    nstar = n * factor
    if method == "wilson":
        z2 = stats.norm.ppf(a) ** 2
        bound = z2 / (nstar + z2)
    elif method == "jeffreys":
        bound = stats.beta.ppf(1 - a, 0.5, nstar + 0.5)
    else:
        bound = 1 - a ** (1 / nstar)        # Clopper-Pearson / Korn-Graubard, 0 of n*
    np.testing.assert_allclose(low, [0, 1 - bound[1], 0, 1 - bound[3]], rtol=1e-12)
    np.testing.assert_allclose(high, [bound[0], 1, bound[2], 1], rtol=1e-12)
    assert (bound > 0).all() and (bound < 1).all()


def test_zero_matches_korn_graubard_limit():
    """The 0/1 rule is the limit of R's beta interval as n_eff -> n."""
    n, df = 40.0, 12.0
    se = np.sqrt(1e-9 * (1 - 1e-9) / n)     # n_eff = n
    lo, hi = proportion_ci("korn-graubard", 1e-9, se, df, 0.95, n)
    lo0, hi0 = proportion_ci("korn-graubard", 0.0, 0.0, df, 0.95, n)
    assert hi == pytest.approx(hi0, rel=1e-6) and lo0 == 0


def test_r_edge_cases_are_nan_or_stop_where_ours_are_finite(cases):
    """What R gives for p = 0 or 1, se = 0 and df = 0 (recorded for the methods page)."""
    edge = cases[~_interior(cases)].reset_index(drop=True)
    assert {"apiclus1", "sim"} <= set(edge["design"])
    assert (edge["df"] == 0).any() and edge["estimate"].isin([0, 1]).any()
    r_bad = edge["ci_low"].isna() | edge["ci_high"].isna()
    assert r_bad.mean() > 0.5
    for method in R_METHODS:
        t = edge[edge["method"] == R_NAME.get(method, method)].reset_index(drop=True)
        low, high = _ours(t, method)
        assert np.isfinite(low).all() and np.isfinite(high).all()
        assert ((low <= t["estimate"]) & (t["estimate"] <= high)).all()
        nodf = (t["df"] <= 0).to_numpy()
        assert (low[nodf] == 0).all() and (high[nodf] == 1).all()


@pytest.mark.parametrize("method", PROPORTION_CI)
def test_zero_se_inside_and_no_df(method):
    low, high = proportion_ci(method, [0.12, 0.3, 0.0, np.nan], [0.0, 0.05, 0.0, 0.1],
                              [197, 0, -1, 5], 0.95, [200, 30, 30, 30])
    assert low[0] == high[0] == 0.12         # no sampling error: a stratum share under fpc
    assert (low[1], high[1]) == (0.0, 1.0)   # df <= 0: no variance information
    assert (low[2], high[2]) == (0.0, 1.0)
    assert np.isnan(low[3]) and np.isnan(high[3])


@pytest.mark.parametrize("method", PROPORTION_CI)
def test_near_zero_one_tiny_se_and_df_one(method):
    p = np.array([1e-12, 1 - 1e-12, 1e-6, 0.5, 0.3, 0.02, 0.98, 0.4])
    se = np.array([1e-13, 1e-13, 1e-3, 1e-12, 0.05, 0.03, 0.03, 0.2])
    df = np.array([30, 30, 5, 50, 1, 1, 1, np.inf])
    n = np.array([500, 500, 40, 1000, 20, 60, 60, 10])
    for level in (0.9, 0.95, 0.99):
        low, high = proportion_ci(method, p, se, df, level, n)
        assert np.isfinite(low).all() and np.isfinite(high).all()
        assert (low <= p * (1 + 1e-9)).all() and (high >= p * (1 - 1e-9)).all()
        if method != "wald":
            assert (low >= 0).all() and (high <= 1).all()
    # tiny se gives a tiny interval around p
    low, high = proportion_ci(method, p[3], se[3], df[3], 0.95, n[3])
    assert high - low < 1e-9


@pytest.mark.parametrize("method", PROPORTION_CI)
def test_wider_at_higher_level_and_shape_kept(method):
    rng = np.random.default_rng(11)
    p = rng.uniform(0.02, 0.98, size=(4, 5))
    n = rng.integers(20, 400, size=(4, 5)).astype(float)
    se = np.sqrt(p * (1 - p) / n) * rng.uniform(0.8, 2.0, size=(4, 5))
    df = rng.integers(2, 60, size=(4, 5)).astype(float)
    lo90, hi90 = proportion_ci(method, p, se, df, 0.90, n)
    lo99, hi99 = proportion_ci(method, p, se, df, 0.99, n)
    assert lo90.shape == (4, 5)
    assert (lo99 <= lo90 + 1e-12).all() and (hi99 >= hi90 - 1e-12).all()
    assert (lo90 < p).all() and (hi90 > p).all()


def test_logit_and_xlogit_are_the_delta_method_on_the_logit_scale():
    p, se, df = 0.2, 0.04, 14
    q = stats.t.isf(0.025, df)
    want = special.expit(special.logit(p) + np.array([-1, 1]) * q * se / (p * (1 - p)))
    for method in ("logit", "xlogit"):
        np.testing.assert_allclose(proportion_ci(method, p, se, df, 0.95, 100), want)


def test_wilson_and_jeffreys_formulas():
    p, se, df, n, level = 0.3, 0.05, 20, 150, 0.95
    a = 0.025
    nstar = p * (1 - p) / se**2 * (stats.t.ppf(a, n - 1) / stats.t.ppf(a, df)) ** 2
    z = stats.norm.isf(a)
    centre = (p + z**2 / (2 * nstar)) / (1 + z**2 / nstar)
    half = z / (1 + z**2 / nstar) * np.sqrt(p * (1 - p) / nstar + z**2 / (4 * nstar**2))
    np.testing.assert_allclose(proportion_ci("wilson", p, se, df, level, n),
                               [centre - half, centre + half])
    jeff = stats.beta.ppf([a, 1 - a], nstar * p + 0.5, nstar * (1 - p) + 0.5)
    np.testing.assert_allclose(proportion_ci("jeffreys", p, se, df, level, n), jeff)


def _deviance(b, p, n):
    """Binomial deviance of a logit-scale intercept ``b`` minus its minimum, for weights
    rescaled to sum to ``n`` (as ``svyglm``): ``2 n KL(p || expit(b))``."""
    return 2.0 * n * _kl_shift(b - special.logit(p), p)


def test_likelihood_falls_back_to_the_exact_profile_root(cases):
    """Where R's profile grid stops short of the cutoff (R: NA), the bound solves the
    scaled profile equation exactly."""
    t = cases[(cases["method"] == "likelihood") & cases["ci_low"].isna() & _interior(cases)]
    assert len(t) >= 2
    for _, r in t.iterrows():
        low, high = proportion_ci("likelihood", r.estimate, r.se, r.df, r.level, r.n,
                                  irls_weight=r.irls_weight)
        assert 0 < low < r.estimate < high <= 1
        pq = r.estimate * (1 - r.estimate)
        lam = r.n * r.se**2 * r.irls_weight / pq**2
        target = r.n / (r.n - 1) * stats.t.ppf((1 - r.level) / 2, r.df) ** 2 * lam
        dev = _deviance(special.logit(low), r.estimate, r.n)
        assert dev == pytest.approx(target, rel=1e-8)


# ---------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------
def test_bad_input_raises_clear_errors():
    ok = dict(estimate=[0.2], se=[0.05], df=[10], level=0.95, n=[50])
    with pytest.raises(ValueError, match="`ci` must be one of 'logit'.*got 'clopper'"):
        proportion_ci("clopper", **ok)
    with pytest.raises(ValueError, match="`level` must be strictly between 0 and 1"):
        proportion_ci("logit", **{**ok, "level": 95})
    with pytest.raises(ValueError, match=r"`estimate` must be a proportion in \[0, 1\]"):
        proportion_ci("logit", **{**ok, "estimate": [1.2]})
    with pytest.raises(ValueError, match="`se` must be >= 0"):
        proportion_ci("wald", **{**ok, "se": [-0.1]})
    with pytest.raises(ValueError, match="`n` .* must be >= 1"):
        proportion_ci("korn-graubard", **{**ok, "n": [0]})
    with pytest.raises(ValueError, match="`df` must not be NaN"):
        proportion_ci("asin", **{**ok, "df": [np.nan]})
    with pytest.raises(ValueError, match="must have the same shape"):
        proportion_ci("logit", **{**ok, "estimate": [0.2, 0.3], "se": [0.05, 0.06, 0.07]})
    with pytest.raises(ValueError, match=r"`irls_weight` .* in \(0, 0.25\]"):
        proportion_ci("likelihood", **ok, irls_weight=[0.3])
    with pytest.raises(ValueError, match="`df` must not be NaN"):
        t_interval([1.0], [0.1], [np.nan], 0.95)
    with pytest.raises(ValueError, match="`level` must be a number"):
        t_interval([1.0], [0.1], [3], "high")
    with pytest.raises(ValueError, match="`se` must be numbers"):
        t_interval([1.0], ["a"], [3], 0.9)
    with pytest.raises(ValueError, match="`n` must be numbers"):
        proportion_ci("wilson", **{**ok, "n": ["many"]})


def test_rounding_just_outside_unit_interval_is_clipped():
    low, high = proportion_ci("logit", [1 + 1e-15, -1e-16], [0.0, 0.0], [9, 9], 0.95, [30, 30])
    assert high[0] == 1 and low[1] == 0 and np.isfinite([low, high]).all()


@pytest.mark.parametrize("method", PROPORTION_CI)
def test_rounding_next_to_zero_or_one_gets_the_edge_rule(method):
    p = np.array([1 - 2**-52, 2**-60])
    got = proportion_ci(method, p, [1e-17, 1e-18], [9, 9], 0.95, [30, 30])
    want = proportion_ci(method, [1.0, 0.0], [0.0, 0.0], [9, 9], 0.95, [30, 30])
    np.testing.assert_array_equal(got, want)


# ---------------------------------------------------------------------------------------
# coverage with known truth
# ---------------------------------------------------------------------------------------
def _cluster_samples(rng, reps, clusters, size, p, icc):
    """``reps`` one-stage cluster samples (equal sizes) of a 0/1 variable with mean ``p``:
    cluster probabilities from a beta distribution with intra-cluster correlation ``icc``.
    Returns estimate, linearisation se, df and n for every sample, vectorised."""
    s = (1 - icc) / icc
    pc = rng.beta(p * s, (1 - p) * s, size=(reps, clusters))
    yc = rng.binomial(size, pc)                           # events per cluster
    est = yc.sum(1) / (clusters * size)
    z = (yc - est[:, None] * size) / (clusters * size)    # cluster totals of the score
    var = clusters / (clusters - 1) * ((z - z.mean(1, keepdims=True)) ** 2).sum(1)
    return est, np.sqrt(var), np.full(reps, clusters - 1.0), np.full(reps, clusters * size)


@pytest.mark.parametrize("method", PROPORTION_CI)
def test_coverage_of_95_percent_intervals(method):
    rng = np.random.default_rng(20241124)
    reps, p = 2000, 0.25
    est, se, df, n = _cluster_samples(rng, reps, clusters=30, size=12, p=p, icc=0.05)
    low, high = proportion_ci(method, est, se, df, 0.95, n)
    covered = int(((low <= p) & (p <= high)).sum())
    test = stats.binomtest(covered, reps, 0.95)
    assert test.pvalue > 1e-3, (method, covered / reps)
    assert 0.93 <= covered / reps <= 0.97


def test_every_method_runs_on_many_domains_at_once():
    rng = np.random.default_rng(3)
    est, se, df, n = _cluster_samples(rng, 20000, clusters=8, size=10, p=0.1, icc=0.1)
    for method in PROPORTION_CI:
        low, high = proportion_ci(method, est, se, df, 0.9, n)
        assert np.isfinite(low).all() and np.isfinite(high).all()
        assert (low <= est + 1e-12).all() and (high >= est - 1e-12).all()


def _agreement_table(cases):
    """Largest relative difference to R per method, over the bounds the tests compare."""
    out = []
    for method in R_METHODS:
        for with_irls in (True, False) if method == "likelihood" else (True,):
            t = cases[cases["method"] == R_NAME.get(method, method)].reset_index(drop=True)
            low, high = _ours(t, method, with_irls=with_irls)
            keep = _interior(t)
            if method == "asin":
                keep &= ~_asin_folds(t)
            if method == "logit":
                keep &= ~_r_logit_breaks(t)
            rel, count = 0.0, 0
            for ours, theirs in ((low, t["ci_low"]), (high, t["ci_high"])):
                ok = (keep & theirs.notna()).to_numpy()
                rel = max(rel, float(np.max(np.abs(ours[ok] / theirs[ok] - 1))))
                count += int(ok.sum())
            label = method if with_irls else f"{method} (no irls_weight)"
            out.append((label, rel, count))
    return out


def _coverage_table():
    """95% coverage per method in three cluster-sampling settings (2,000 samples each)."""
    settings = [(0.25, 30, 12, 0.05), (0.05, 30, 12, 0.05), (0.10, 10, 20, 0.10)]
    out = []
    for p, clusters, size, icc in settings:
        rng = np.random.default_rng(20241124)
        est, se, df, n = _cluster_samples(rng, 2000, clusters, size, p, icc)
        row = {}
        for method in PROPORTION_CI:
            low, high = proportion_ci(method, est, se, df, 0.95, n)
            row[method] = float(((low <= p) & (p <= high)).mean())
        out.append((f"p={p} {clusters} clusters of {size}, icc={icc}", row))
    return out


if __name__ == "__main__":      # python tests/test_intervals.py: the figures of the docs
    table = pd.read_csv(REF / "svyciprop_cases.csv", keep_default_na=False,
                        na_values=["NA", "NaN"])
    for label, rel, count in _agreement_table(table):
        print(f"{label:30s} max relative difference to R {rel:.2e} over {count} bounds")
    for label, row in _coverage_table():
        print(label, " ".join(f"{m}={c:.3f}" for m, c in row.items()))
