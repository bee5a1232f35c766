"""Weighted (calibrated) designs: Taylor variances from the (PSU, domain) pairs and the
low-rank calibration term give the numbers of the dense PSU x domain path."""

import numpy as np
import pandas as pd
import pytest

import harvest as hv
import harvest._core as core
import harvest._domains as domains_mod
import harvest.replicate_design as rd
from harvest._base import _DesignBase
from harvest._core import stratified_vcov
from harvest._domains import build_estimand
from harvest.weighting import adjust_scores, score_adjustment

# lonely-PSU policies on purpose: LonelyPSUWarning is tested in tests/test_zero_weight_lonely.py.
pytestmark = pytest.mark.filterwarnings("ignore::harvest._errors.LonelyPSUWarning")

CELL = {"a": 900.0, "b": 1200.0, "c": 700.0, "d": 1200.0}
REGION = {"r1": 1500.0, "r2": 1300.0, "r3": 1200.0}


def _data(seed=5, n=1200, domains=40, lonely=True):
    rng = np.random.default_rng(seed)
    stratum = rng.integers(0, 6, n)
    psu = stratum * 10 + rng.integers(0, 5, n)
    if lonely:
        psu[stratum == 5] = 50                 # a stratum with a single PSU
    z = rng.normal(size=n) + 0.3 * (stratum == 2)
    z[rng.random(n) < 0.05] = np.nan           # missing values (na="drop")
    g = rng.integers(1, domains, n)
    g[:12] = 0
    z[g == 0] = np.nan                         # a domain without any value of z
    return pd.DataFrame({
        "stratum": stratum, "psu": psu, "w": rng.uniform(1, 4, n), "g": g,
        "cell": rng.choice(list("abcd"), n), "region": rng.choice(["r1", "r2", "r3"], n),
        "size": rng.uniform(0.5, 2.0, n), "resp": (rng.random(n) < 0.8).astype(int),
        "y": rng.integers(0, 2, n), "z": z, "x": rng.uniform(1, 2, n),
        "N": np.where(stratum == 3, 5, 40)})      # stratum 3: every PSU (a census)


WEIGHTINGS = {
    "poststratify": lambda d: d.poststratify("cell", CELL),
    "rake": lambda d: d.rake({"cell": CELL, "region": REGION}),
    "linear": lambda d: d.calibrate({"cell": CELL, "size": 5000.0}),
    "raking": lambda d: d.calibrate({"cell": CELL, "size": 5000.0}, method="raking"),
    "logit": lambda d: d.calibrate({"cell": CELL, "size": 5000.0}, method="logit",
                                   bounds=(0.3, 3.0)),
    "bounded": lambda d: d.calibrate({"region": REGION, "size": 5000.0}, bounds=(0.5, 2.0)),
    "trim": lambda d: d.poststratify("cell", CELL).trim_weights(upper=6.0),
    "nonresponse": lambda d: d.adjust_nonresponse("resp", by="region"),
    "ps_then_linear": lambda d: d.poststratify("cell", CELL).calibrate(
        {"region": REGION, "size": 5000.0}),
    "nonresponse_then_ps": lambda d: d.adjust_nonresponse("resp", by="region").poststratify(
        "cell", CELL),
}

ESTIMATES = {
    "proportion": dict(kind="proportion", variables=["y"]),
    "mean": dict(kind="mean", variables=["z", "y"]),
    "total": dict(kind="total", variables=["z", "y"]),
    "ratio": dict(kind="ratio", variables=["z", "y"], denominator="x"),
}


def _design(lonely, fpc=False, **kw):
    df = _data(lonely=lonely != "fail", **kw)
    return df, hv.SurveyDesign(df, weights="w", strata="stratum", psu="psu",
                               fpc="N" if fpc else None, lonely_psu=lonely)


def _dense(d, est):
    """The dense path: (P, m) residual scores, then stratified_vcov."""
    c = d._codes
    policy = "remove" if c.lonely_psu == "fail" else c.lonely_psu
    scores = adjust_scores(d, est, est.scores())
    return (stratified_vcov(scores, c.psu_stratum, c.n_psu, c.fraction, policy, full=False,
                            stratum_present=est.stratum_present),
            stratified_vcov(scores, c.psu_stratum, c.n_psu, c.fraction, policy, full=True))


def _check(d, est):
    var, full = _dense(d, est)
    got = d._vcov(est, False)
    np.testing.assert_allclose(got, var, rtol=1e-12, atol=1e-300)
    m = est.n.size
    i = np.repeat(np.arange(m), 3)
    j = np.concatenate([np.roll(np.arange(m), s) for s in (0, 1, 5)]).reshape(3, m).T.ravel()
    scale = np.sqrt(np.abs(np.diag(full)[i] * np.diag(full)[j]))
    entries = d._vcov_entries(est, i, j)
    np.testing.assert_allclose(entries, full[i, j], rtol=1e-12, atol=1e-12 * scale.max())
    assert np.all(np.abs(entries - full[i, j]) <= 1e-12 * scale + 1e-300)


@pytest.mark.parametrize("weighting", list(WEIGHTINGS))
@pytest.mark.parametrize("estimate", list(ESTIMATES))
def test_pair_variances_of_weighted_designs_equal_the_dense_path(weighting, estimate):
    _, d = _design("adjust")
    w = WEIGHTINGS[weighting](d)
    spec = ESTIMATES[estimate]
    est = build_estimand(w, spec["kind"], spec["variables"], by="g", na="drop",
                         denominator=spec.get("denominator"))
    assert (est.n == 0).any() == ("z" in spec["variables"])   # no z in domain 0
    _check(w, est)
    # and without domains
    est = build_estimand(w, spec["kind"], spec["variables"], na="drop",
                         denominator=spec.get("denominator"))
    _check(w, est)


@pytest.mark.parametrize("lonely", ["fail", "remove", "certainty", "adjust", "average"])
@pytest.mark.parametrize("fpc", [False, True])
@pytest.mark.parametrize("weighting", ["linear", "rake", "nonresponse_then_ps"])
def test_every_lonely_policy_and_fpc(lonely, fpc, weighting):
    _, d = _design(lonely, fpc=fpc)
    w = WEIGHTINGS[weighting](d)
    for by in ("g", ["g", "region"], None):
        est = build_estimand(w, "mean", ["z", "y"], by=by, na="drop")
        _check(w, est)


def test_a_margin_of_the_calibration_keeps_the_dense_digits():
    # the proportion of a raking margin's cell and the totals of calibration variables:
    # the residuals are (almost) zero, the low-rank terms cancel, and the dense
    # residuals of those columns give the variance
    df, d = _design("remove")
    df["is_a"] = (df["cell"] == "a").astype(int)
    cases = ((d.rake({"cell": CELL, "region": REGION}), "proportion", ["is_a", "y"]),
             (d.calibrate({"cell": CELL, "size": 5000.0}), "total", ["size", "is_a", "y"]))
    for w, kind, variables in cases:
        est = build_estimand(w, kind, variables)
        var, full = _dense(w, est)
        # the first columns are rounding noise of the dense path itself (~1e-11 of the
        # scores' size); the low-rank terms alone would give noise of 1e-8 of that size
        got = w._vcov(est, False)
        np.testing.assert_allclose(got[:-1], var[:-1], rtol=1e-6)
        np.testing.assert_allclose(got[-1], var[-1], rtol=1e-12)
        before = d._vcov(build_estimand(d, kind, variables), False)
        assert np.all(var[:-1] < 1e-12 * before[:-1]) and var[-1] > 1e-3 * before[-1]
        m = len(variables)
        i, j = np.repeat(np.arange(m), m), np.tile(np.arange(m), m)
        gap = np.abs(w._vcov_entries(est, i, j) - full[i, j])
        assert np.all(gap <= 1e-6 * np.abs(full[i, j]) + 1e-12 * np.sqrt(var[i] * var[j]))


def test_tables_of_weighted_designs_without_a_dense_array(monkeypatch):
    df, d = _design("average")
    w = d.poststratify("cell", CELL).calibrate({"region": REGION, "size": 5000.0})
    est = build_estimand(w, "ratio", ["z", "y"], by=["g", "region"], na="drop",
                         denominator="x")
    var, _ = _dense(w, est)
    want = w.ratio(["z", "y"], "x", by=["g", "region"], na="drop")
    P, m = d._codes.n_psus, est.n.size
    monkeypatch.setattr(domains_mod, "MAX_CELLS", P * m // 4)   # the dense view refuses
    with pytest.raises(ValueError, match="dense array"):
        est.scores()
    got = w.ratio(["z", "y"], "x", by=["g", "region"], na="drop")
    pd.testing.assert_frame_equal(got, want, rtol=1e-12)
    se = np.sqrt(np.maximum(np.where(est.n == 0, np.nan, var), 0.0))
    np.testing.assert_allclose(got["se"].to_numpy(), se, rtol=1e-12)
    cmp = w.compare("y", between="region", baseline="r1", by="g")
    assert len(cmp) and np.isfinite(cmp["se"]).all()


@pytest.mark.parametrize("weighting", ["poststratify", "linear", "nonresponse"])
def test_compare_of_weighted_designs_from_entries_equals_full_covariance(weighting,
                                                                         monkeypatch):
    _, d = _design("adjust")
    w = WEIGHTINGS[weighting](d)
    fast = w.compare(["y"], between="region", baseline="r1", by="g")
    monkeypatch.delattr(_DesignBase, "_estimate_entries")   # the full-matrix path
    full = w.compare(["y"], between="region", baseline="r1", by="g")
    pd.testing.assert_frame_equal(fast, full, rtol=1e-10)


def test_dense_columns_in_blocks(monkeypatch):
    # every column through the dense fallback, in blocks of two PSU columns at a time
    _, d = _design("average")
    w = WEIGHTINGS["ps_then_linear"](d)
    est = build_estimand(w, "mean", ["z", "y"], by="g", na="drop")
    var, full = _dense(w, est)
    monkeypatch.setattr(core, "LOW_RANK_CANCELLATION", 2.0)    # |V| <= the terms' size
    monkeypatch.setattr(core, "DENSE_BLOCK_CELLS", 2 * d._codes.n_psus)
    monkeypatch.setattr(core, "_dense_residuals", _counting(core._dense_residuals))
    np.testing.assert_allclose(w._vcov(est, False), var, rtol=1e-12, atol=1e-300)
    i, j = np.arange(est.n.size), np.roll(np.arange(est.n.size), 3)
    np.testing.assert_allclose(w._vcov_entries(est, i, j), full[i, j], rtol=1e-12,
                               atol=1e-300)
    assert core._dense_residuals.calls >= 2


def _counting(fn):
    def wrapped(*args, **kw):
        wrapped.calls += 1
        return fn(*args, **kw)
    wrapped.calls = 0
    return wrapped


def test_score_adjustment_pieces():
    _, d = _design("remove")
    w = d.rake({"cell": CELL, "region": REGION})
    est = build_estimand(w, "mean", ["z"], by="g", na="drop")
    A, B = score_adjustment(w, est)
    # raking's ten sweeps enter once per margin: p = 4 + 3 columns
    assert A.shape == (d._codes.n_psus, 7) and B.shape == (7, est.n.size)
    np.testing.assert_allclose(adjust_scores(w, est, est.scores()), est.scores() - A @ B)
    A0, B0 = score_adjustment(d, est)
    assert A0.shape == (d._codes.n_psus, 0) and B0.shape == (0, est.n.size)


@pytest.mark.filterwarnings("ignore:.*replicates gave no estimate")   # small domains
def test_linearly_calibrated_replicates_sparse_products_equal_dense(monkeypatch):
    # ReplicateDesign._linear_sums: the PSU totals A_j dense (small) or sparse (large),
    # and the weight blocks (every replicate's row weights) give the same replicate sums
    _, d = _design("remove")
    rep = d.replicate("bootstrap", replicates=40, rng=3).calibrate(
        {"cell": CELL, "size": 5000.0})
    dense = rep.ratio(["z", "y"], "x", by="g", na="drop")
    dense_p = rep.proportion("y", by=["g", "region"])
    monkeypatch.setattr(rd, "LINEAR_DENSE", 0)
    sparse = rep.ratio(["z", "y"], "x", by="g", na="drop")
    pd.testing.assert_frame_equal(sparse, dense, rtol=1e-12)
    pd.testing.assert_frame_equal(rep.proportion("y", by=["g", "region"]), dense_p,
                                  rtol=1e-12)
    monkeypatch.setattr(rd.ReplicateDesign, "_linear_sums", lambda self, Zt, width: None)
    pd.testing.assert_frame_equal(rep.ratio(["z", "y"], "x", by="g", na="drop"), dense,
                                  rtol=1e-10)
