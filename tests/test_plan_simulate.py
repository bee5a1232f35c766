"""hv.plan.simulate_clusters: simulation and formulas agree within Monte Carlo error where the
formulas' assumptions hold; the simulated estimator is the design-based one."""

import time

import numpy as np
import pandas as pd
import pytest

import harvest as hv
from harvest.plan.simulation import cluster_estimates, draw_cluster_counts


def rows(table):
    return table.set_index("quantity")


def tolerance(formula_share, n_sim, k=4.0):
    """k Monte Carlo standard errors of a simulated share whose true value is the formula's."""
    return k * np.sqrt(formula_share * (1 - formula_share) / n_sim)


def test_many_clusters_everything_agrees():
    # 200 clusters of 5: the normal approximation and the estimated SE both hold, so every
    # simulated quantity must sit within 4 Monte Carlo SEs of its formula.
    n_sim = 4000
    t = rows(hv.plan.simulate_clusters(0.3, clusters=200, cluster_size=5, icc=0.05, p2=0.26,
                                       moe=0.03, n_sim=n_sim, rng=11))
    assert (t["n_sim"] == n_sim).all()
    assert list(t.index) == ["estimate", "se_true", "se_estimated", "deff", "moe", "coverage",
                             "within_moe", "change", "power"]
    for q in ["estimate", "se_true", "se_estimated", "deff", "change"]:
        assert abs(t.loc[q, "mc_z"]) < 4, (q, t.loc[q].to_dict())
    # the planned margin uses z, the design's interval t with 199 df (0.6% wider): the
    # simulation is precise enough to see it, so the check is on the ratio
    assert t.loc["moe", "simulated"] / t.loc["moe", "formula"] == pytest.approx(1.006, abs=0.004)
    for q in ["coverage", "within_moe", "power"]:
        f = t.loc[q, "formula"]
        assert abs(t.loc[q, "simulated"] - f) < tolerance(f, n_sim), (q, t.loc[q].to_dict())
    assert t.loc["deff", "formula"] == pytest.approx(1.2)
    assert t.loc["power", "formula"] == pytest.approx(
        hv.plan.power_change(0.3, 0.26, clusters=200, cluster_size=5, icc=0.05)["power"].iloc[0])


def test_mission_scenario_power_agrees_with_formula():
    # the question: 24 districts of 20 farms a year, icc 0.05, a fall from 23% to 15%
    n_sim = 4000
    t = rows(hv.plan.simulate_clusters(0.23, clusters=24, cluster_size=20, icc=0.05, p2=0.15,
                                       n_sim=n_sim, rng=2024))
    f = t.loc["power", "formula"]
    assert f == pytest.approx(0.6051, abs=1e-3)
    assert abs(t.loc["power", "simulated"] - f) < tolerance(f, n_sim)
    for q in ["estimate", "se_true", "se_estimated", "deff", "change"]:
        assert abs(t.loc[q, "mc_z"]) < 4, (q, t.loc[q].to_dict())


def test_few_clusters_show_what_the_z_formula_misses():
    # 6 clusters of 30: the variance formula (Kish deff) still holds exactly, and the t-based
    # power formula too; but the planned z margin understates the t interval actually used.
    n_sim = 4000
    t = rows(hv.plan.simulate_clusters(0.3, clusters=6, cluster_size=30, icc=0.1, p2=0.15,
                                       n_sim=n_sim, rng=5))
    for q in ["estimate", "se_true", "se_estimated", "deff", "change"]:
        assert abs(t.loc[q, "mc_z"]) < 4, (q, t.loc[q].to_dict())
    f = t.loc["power", "formula"]
    assert abs(t.loc["power", "simulated"] - f) < tolerance(f, n_sim)
    assert t.loc["moe", "mc_z"] > 10                 # t with 5 df: half-widths ~ 20% wider
    assert t.loc["moe", "simulated"] > 1.15 * t.loc["moe", "formula"]


def test_no_clustering_is_simple_random_sampling():
    t = rows(hv.plan.simulate_clusters(0.4, clusters=100, cluster_size=4, icc=0.0, n_sim=3000,
                                       rng=3))
    assert t.loc["deff", "formula"] == 1.0
    assert abs(t.loc["deff", "mc_z"]) < 4
    assert abs(t.loc["se_true", "simulated"] - np.sqrt(0.24 / 400)) < 4 * t.loc["se_true",
                                                                                "mc_se"]


def test_beta_binomial_draws_have_the_stated_icc():
    rng = np.random.default_rng(8)
    counts = draw_cluster_counts(rng, 0.23, 50, 20, 0.1, 2000)
    assert counts.shape == (2000, 50)
    props = counts / 20
    var = props.var()
    assert var == pytest.approx(0.23 * 0.77 / 20 * (1 + 19 * 0.1), rel=0.03)
    assert props.mean() == pytest.approx(0.23, abs=0.002)


def test_vectorised_estimates_equal_survey_design():
    # Stack 12 simulated samples (strata = simulation, PSU = cluster) and let SurveyDesign
    # estimate every sample at once: estimate, SE and t interval equal the vectorised kernel.
    rng = np.random.default_rng(42)
    k, m = 7, 9
    counts = draw_cluster_counts(rng, 0.23, k, m, 0.1, 12)
    sim, cluster, unit = np.meshgrid(np.arange(12), np.arange(k), np.arange(m), indexing="ij")
    y = (unit < counts[:, :, None]).astype(float)
    df = pd.DataFrame({"sim": sim.ravel(), "cluster": cluster.ravel(), "y": y.ravel()})
    design = hv.SurveyDesign(df, strata="sim", psu="cluster")
    table = design.proportion("y", by="sim", ci="wald")
    est, se, half = cluster_estimates(counts, m, 0.95)
    np.testing.assert_allclose(table["estimate"], est, rtol=1e-12)
    np.testing.assert_allclose(table["se"], se, rtol=1e-10)
    np.testing.assert_allclose(table["df"], k - 1)
    np.testing.assert_allclose(table["ci_high"] - table["estimate"], half, rtol=1e-8)


def test_a_thousand_missions_take_seconds():
    hv.plan.simulate_clusters(0.23, clusters=5, cluster_size=5, n_sim=10, rng=0)   # warm imports
    start = time.perf_counter()
    hv.plan.simulate_clusters(0.23, clusters=61, cluster_size=8, icc=0.05, p2=0.15, moe=0.05,
                              n_sim=1000, rng=1)
    assert time.perf_counter() - start < 5.0


def test_rng_reproducible_and_batches_bound_memory():
    a = hv.plan.simulate_clusters(0.23, 10, 10, 0.05, p2=0.15, n_sim=500, rng=7)
    b = hv.plan.simulate_clusters(0.23, 10, 10, 0.05, p2=0.15, n_sim=500,
                                  rng=np.random.default_rng(7))
    pd.testing.assert_frame_equal(a, b)
    c = hv.plan.simulate_clusters(0.23, 10, 10, 0.05, p2=0.15, n_sim=500, rng=8)
    assert not a["simulated"].equals(c["simulated"])
    small = rows(hv.plan.simulate_clusters(0.23, 10, 10, 0.05, n_sim=2000, batch=7, rng=1))
    assert abs(small.loc["deff", "mc_z"]) < 4


def test_one_sided_power():
    n_sim = 3000
    t = rows(hv.plan.simulate_clusters(0.23, 20, 20, 0.05, p2=0.17, alternative="less", n_sim=n_sim,
                                       rng=4))
    f = t.loc["power", "formula"]
    assert abs(t.loc["power", "simulated"] - f) < tolerance(f, n_sim)


@pytest.mark.parametrize("kw, match", [
    (dict(rng="seed"), "`rng` must be a seed"),
    (dict(clusters=1), "`clusters` must be a whole number of clusters >= 2"),
    (dict(icc=1.0), r"`icc` must be a number in \[0, 1\)"),
    (dict(n_sim=1), "`n_sim` must be a whole number of simulations >= 2"),
    (dict(p=0.0), "`p` must be a proportion"),
    (dict(p2=1.0), "`p2` must be a proportion"),
    (dict(cluster_size=2.5), "`cluster_size` must be a whole number"),
    (dict(alternative="down"), "`alternative` must be one of"),
    (dict(batch=0), "`batch` must be a whole number >= 1"),
])
def test_bad_input(kw, match):
    args = dict(p=0.23, clusters=10, cluster_size=10, icc=0.05, n_sim=10, rng=1)
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        hv.plan.simulate_clusters(**args)


def test_old_name_simulate_warns_and_gives_the_same_table():
    with pytest.warns(DeprecationWarning, match="simulate_clusters"):
        old = hv.plan.simulate(0.23, 10, 10, 0.05, n_sim=50, rng=5)
    pd.testing.assert_frame_equal(old, hv.plan.simulate_clusters(0.23, 10, 10, 0.05, n_sim=50,
                                                                 rng=5))
