"""Sparse (PSU, domain) pairs give the numbers of the dense PSU x domain path."""

import warnings

import numpy as np
import pandas as pd
import pytest

import harvest as hv
import harvest._domains as domains_mod
import harvest.replicate_design as rd
from harvest._base import _DesignBase
from harvest._core import stratified_vcov
from harvest._domains import build_estimand
from harvest._errors import HarvestWarning

# lonely-PSU policies on purpose: LonelyPSUWarning is tested in tests/test_zero_weight_lonely.py.
pytestmark = pytest.mark.filterwarnings("ignore::harvest._errors.LonelyPSUWarning")


def _data(seed=3, n=1500, domains=60):
    rng = np.random.default_rng(seed)
    stratum = rng.integers(0, 8, n)
    psu = stratum * 10 + rng.integers(0, 6, n)
    psu[stratum == 7] = 70                     # a stratum with a single PSU
    return pd.DataFrame({
        "stratum": stratum, "psu": psu, "w": rng.uniform(1, 4, n),
        "g": rng.integers(0, domains, n), "year": rng.integers(0, 2, n),
        "y": rng.integers(0, 2, n), "z": rng.normal(size=n),
        "x": rng.uniform(1, 2, n)})


@pytest.mark.parametrize("lonely", ["remove", "adjust", "average"])
@pytest.mark.parametrize("kind", ["proportion", "mean", "total", "ratio"])
def test_pair_variances_equal_the_dense_path(kind, lonely):
    df = _data()
    d = hv.SurveyDesign(df, weights="w", strata="stratum", psu="psu", lonely_psu=lonely)
    variables = ["y"] if kind == "proportion" else ["z", "y"]
    est = build_estimand(d, kind, variables, by="g", denominator="x")
    c = d._codes
    dense = stratified_vcov(est.scores(), c.psu_stratum, c.n_psu, c.fraction, lonely,
                            full=False, stratum_present=est.stratum_present)
    np.testing.assert_allclose(d._vcov(est, False), dense, rtol=1e-12, atol=1e-300)
    full = stratified_vcov(est.scores(), c.psu_stratum, c.n_psu, c.fraction, lonely)
    i = np.arange(est.n.size)
    j = np.roll(i, 7)
    np.testing.assert_allclose(d._vcov_entries(est, i, j), full[i, j], rtol=1e-10,
                               atol=1e-12 * np.abs(full).max())


def test_replicate_sparse_products_and_ranks_equal_dense(monkeypatch):
    df = _data(n=800, domains=25)
    rep = hv.SurveyDesign(df, weights="w", strata="stratum", psu="psu",
                          lonely_psu="remove").replicate("bootstrap", replicates=60, rng=2)
    dense = rep.ratio(["z", "y"], "x", by="g")
    dense_p = rep.proportion("y", by=["g", "year"])
    monkeypatch.setattr(rd, "DENSE_TOTALS", 0)
    sparse = rep.ratio(["z", "y"], "x", by="g")
    pd.testing.assert_frame_equal(sparse, dense, rtol=1e-12)
    pd.testing.assert_frame_equal(rep.proportion("y", by=["g", "year"]), dense_p, rtol=1e-12)
    est = build_estimand(rep, "mean", ["z"], by="g")
    np.testing.assert_array_equal(rd._factor_rank(rep._factors, est),
                                  rep._factors.rank(est.domain_psu))


@pytest.mark.parametrize("replicated", [False, True])
def test_compare_from_entries_equals_full_covariance(replicated, monkeypatch):
    df = _data(n=900, domains=30)
    d = hv.SurveyDesign(df, weights="w", strata="stratum", psu="psu", lonely_psu="adjust")
    if replicated:
        d = d.replicate("jkn")
    fast = d.compare(["y"], between="year", baseline=0, by="g", measure="odds_ratio")
    monkeypatch.delattr(_DesignBase, "_estimate_entries")   # the full-matrix path
    full = d.compare(["y"], between="year", baseline=0, by="g", measure="odds_ratio")
    pd.testing.assert_frame_equal(fast, full, rtol=1e-10)


def test_many_domains_never_build_dense_arrays(monkeypatch):
    df = _data(n=600, domains=400)
    monkeypatch.setattr(domains_mod, "MAX_CELLS", 1000)  # a dense by-g view would refuse
    d = hv.SurveyDesign(df, weights="w", strata="stratum", psu="psu", lonely_psu="remove")
    t = d.mean("z", by=["g", "year"])
    assert len(t) > 400 and np.isfinite(t["se"]).any()
    with warnings.catch_warnings():   # domains with one year only: NaN rows, warned
        warnings.simplefilter("ignore", HarvestWarning)
        c = d.compare("y", between="year", baseline=0, by="g")
    assert len(c) > 100
    with pytest.raises(ValueError, match="dense"):
        _ = build_estimand(d, "mean", "z", by="g").Y
