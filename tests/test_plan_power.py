"""hv.plan power, minimum detectable change and sample size for a change: R, svy, statsmodels."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import harvest as hv

REF = Path(__file__).parent / "reference" / "plan_power.csv"


# ---------------------------------------------------------------- R power.prop.test


@pytest.fixture(scope="module")
def r_power():
    return pd.read_csv(REF)   # written by tests/reference/plan_power.R


def test_fleiss_power_matches_r_power_prop_test(r_power):
    r = r_power
    for level in (0.95, 0.90):
        sub = r[np.isclose(r["sig.level"], 1 - level)]
        two = hv.plan.power_change(sub["p1"].to_numpy(), sub["p2"].to_numpy(),
                                   n1=sub["n"].to_numpy(), level=level, method="fleiss")
        np.testing.assert_allclose(two["power"], sub["power_two_sided"], rtol=1e-10, atol=1e-12)
        # R's one-sided test looks in the direction of the true change
        fall = sub["p2"] < sub["p1"]
        for alternative, rows in (("less", fall), ("greater", ~fall)):
            one = hv.plan.power_change(sub["p1"][rows].to_numpy(), sub["p2"][rows].to_numpy(),
                                       n1=sub["n"][rows].to_numpy(), level=level,
                                       alternative=alternative, method="fleiss")
            np.testing.assert_allclose(one["power"], sub["power_one_sided"][rows], rtol=1e-10)


def test_fleiss_sample_size_matches_r(r_power):
    for level in (0.95, 0.90):
        sub = r_power[np.isclose(r_power["sig.level"], 1 - level)]
        t = hv.plan.sample_size_change(sub["p1"].to_numpy(), sub["p2"].to_numpy(), power=0.8,
                                       level=level, method="fleiss")
        # R solves power = 0.8 for n with uniroot (tol ~ 1.2e-4 on n): agreement to 1e-6
        np.testing.assert_allclose(t["n0"], sub["n_power80"], rtol=1e-6)


def test_fleiss_with_deff_matches_statsmodels_at_effective_size():
    # statsmodels' power_proportions_2indep uses the pooled null variance (Fleiss); a design
    # effect of 2 on n = 472 per year is an effective size of 236.
    from statsmodels.stats.proportion import power_proportions_2indep
    sm = power_proportions_2indep(-0.08, 0.23, 236, ratio=1, alpha=0.05).power
    ours = hv.plan.power_change(0.23, 0.15, 472, 472, deff=2.0, method="fleiss")["power"].iloc[0]
    assert ours == pytest.approx(sm, rel=1e-10)
    sm = power_proportions_2indep(-0.08, 0.23, 100, ratio=1.5, alpha=0.1).power
    # statsmodels: prop2 = 0.23 with nobs2 = 150, prop1 = 0.15 with nobs1 = 100 (effective)
    ours = hv.plan.power_change(0.23, 0.15, 225, 150, deff=1.5, level=0.9,
                                method="fleiss")["power"].iloc[0]
    assert ours == pytest.approx(sm, rel=1e-10)


# ---------------------------------------------------------------- Wald, svy


def test_wald_power_by_hand():
    # se = sqrt(2 (.23 .77 / 472 + .15 .85 / 472)) = 0.035926; lambda = -.08 / se = -2.2268
    t = hv.plan.power_change(p1=0.23, p2=0.15, n1=472, n2=472, deff=2.0).iloc[0]
    se = np.sqrt(2 * (0.23 * 0.77 / 472 + 0.15 * 0.85 / 472))
    assert t["se"] == pytest.approx(se, rel=1e-12)
    lam = 0.08 / se
    assert t["power"] == pytest.approx(stats.norm.cdf(lam - 1.959964) + stats.norm.cdf(
        -lam - 1.959964), abs=1e-6)
    assert t["power"] == pytest.approx(0.6052, abs=1e-4)
    less = hv.plan.power_change(0.23, 0.15, 472, 472, deff=2.0, alternative="less").iloc[0]
    assert less["power"] == pytest.approx(stats.norm.cdf(lam - 1.644854), abs=1e-6)
    greater = hv.plan.power_change(0.23, 0.15, 472, 472, deff=2.0, alternative="greater")
    assert greater["power"].iloc[0] < 0.001


def test_wald_power_matches_svy_engine():
    # svy 0.35 has no public power function; its engine's power_for_two_proportions is the
    # unpooled z test (no deff), which ours is with deff = 1.
    power_mod = pytest.importorskip("svy.engine.size_and_power.power")
    for p1, p2, n1, n2 in [(0.23, 0.15, 472, 472), (0.5, 0.4, 100, 300), (0.05, 0.1, 800, 500)]:
        for alt in ("two-sided", "less", "greater"):
            svy_alt = {"less": "greater", "greater": "less"}.get(alt, alt)  # svy tests pa - pb
            theirs = power_mod.power_for_two_proportions(
                p1, p2, samp_size_a=n1, samp_size_b=n2, testing_type=svy_alt, alpha=0.05)
            ours = hv.plan.power_change(p1, p2, n1, n2, alternative=alt)["power"].iloc[0]
            assert ours == pytest.approx(theirs, rel=1e-10, abs=1e-14), (p1, p2, alt)


def test_sample_size_change_matches_svy_compare_props():
    # svy.SampleSize().compare_props(p1, p2, alpha, power, deff, alloc_ratio): same formula,
    # rounded up after each step; our exact n0 rounds up to its n0.
    svy = pytest.importorskip("svy")
    for p1, p2 in [(0.23, 0.15), (0.3, 0.4), (0.1, 0.05)]:
        for deff in (1.0, 2.0):
            for ratio in (1.0, 1.5):
                s = svy.SampleSize().compare_props(p1=p1, p2=p2, deff=deff, alloc_ratio=ratio,
                                                   power=0.8, alpha=0.05).size
                t = hv.plan.sample_size_change(p1, p2, power=0.8, deff=deff,
                                               ratio=ratio).iloc[0]
                assert int(np.ceil(t["n0"] - 1e-9)) == s.n0[0]
                assert abs(t["n1"] - s.n[0]) <= 1
    s = svy.SampleSize().compare_props(p1=0.23, p2=0.15, deff=2.0).size
    assert hv.plan.sample_size_change(0.23, 0.15, deff=2.0)["n1"].iloc[0] == s.n[0] == 748


def test_sample_size_change_inverts_power():
    t = hv.plan.sample_size_change(0.23, 0.15, power=0.8, deff=2.0).iloc[0]
    exact = hv.plan.power_change(0.23, 0.15, t["n_deff"], t["n_deff"], deff=2.0)["power"]
    assert exact.iloc[0] == pytest.approx(0.8, abs=1e-4)   # the far tail adds < 1e-4
    rounded = hv.plan.power_change(0.23, 0.15, t["n1"], t["n2"], deff=2.0)["power"].iloc[0]
    assert rounded >= 0.8
    c = hv.plan.sample_size_change(0.23, 0.15, icc=0.05, cluster_size=20,
                                   response_rate=0.9).iloc[0]
    assert c["deff"] == pytest.approx(1.95)
    assert c["n_response"] == pytest.approx(c["n0"] * 1.95 / 0.9)
    assert c["clusters1"] == np.ceil(c["n1"] / 20)


# ---------------------------------------------------------------- clusters and t


def test_clusters_give_n_deff_and_df():
    t = hv.plan.power_change(0.23, 0.15, clusters=24, cluster_size=20, icc=0.05).iloc[0]
    assert (t["n1"], t["n2"], t["df"]) == (480, 480, 46)
    assert t["deff"] == pytest.approx(1.95)
    se = np.sqrt(1.95 * (0.23 * 0.77 + 0.15 * 0.85) / 480)
    crit = stats.t.isf(0.025, 46)
    lam = -0.08 / se
    want = stats.nct.sf(crit, 46, lam) + stats.nct.cdf(-crit, 46, lam)
    assert t["power"] == pytest.approx(want, rel=1e-10)
    # unequal clusters per year
    u = hv.plan.power_change(0.23, 0.15, clusters=10, clusters2=20, cluster_size=8,
                             deff=2).iloc[0]
    assert (u["n1"], u["n2"], u["df"]) == (80, 160, 28)


def test_t_power_tends_to_normal_and_is_lower_with_few_clusters():
    z = hv.plan.power_change(0.23, 0.15, 480, 480, deff=1.95)["power"].iloc[0]
    big = hv.plan.power_change(0.23, 0.15, 480, 480, deff=1.95, df=1e7)["power"].iloc[0]
    assert big == pytest.approx(z, abs=1e-5)
    few = hv.plan.power_change(0.23, 0.15, 480, 480, deff=1.95, df=4)["power"].iloc[0]
    assert few < z - 0.05


def test_power_at_no_change_is_alpha():
    t = hv.plan.power_change(0.3, 0.3, 200, 200, level=0.9)
    assert t["power"].iloc[0] == pytest.approx(0.10, abs=1e-12)
    t = hv.plan.power_change(0.3, 0.3, 200, 200, level=0.9, df=10)
    assert t["power"].iloc[0] == pytest.approx(0.10, abs=1e-9)


def test_vectorised_power_matches_scalar():
    t = hv.plan.power_change([0.23, 0.3], [0.15, 0.2], n1=[472, 300], deff=[2, 1.5])
    for i, (p1, p2, n, d) in enumerate([(0.23, 0.15, 472, 2), (0.3, 0.2, 300, 1.5)]):
        s = hv.plan.power_change(p1, p2, n, n, deff=d)
        assert t["power"].iloc[i] == pytest.approx(s["power"].iloc[0], rel=1e-14)


# ---------------------------------------------------------------- minimum detectable change


def test_mdc_has_the_target_power():
    for method in ("wald", "fleiss"):
        for direction in ("decrease", "increase"):
            t = hv.plan.minimum_detectable_change(0.23, 472, 472, deff=2.0, power=0.8,
                                                  method=method, direction=direction).iloc[0]
            back = hv.plan.power_change(0.23, t["p2"], 472, 472, deff=2.0, method=method)
            assert back["power"].iloc[0] == pytest.approx(0.8, abs=1e-9)
            assert (t["difference"] < 0) == (direction == "decrease")


def test_mdc_close_to_the_textbook_approximation():
    # (z_.975 + z_.8) sqrt(deff p q (2 / n)) with p = 0.23: 0.1085; the exact solution uses
    # p2 q2 < p1 q1 for the fall, so it is a little smaller.
    t = hv.plan.minimum_detectable_change(0.23, 472, deff=2.0).iloc[0]
    approx = (1.959964 + 0.841621) * np.sqrt(2 * 0.23 * 0.77 * 2 / 472)
    assert approx == pytest.approx(0.1085, abs=1e-4)
    assert -t["difference"] == pytest.approx(0.0984, abs=1e-4)
    assert -t["difference"] < approx


def test_mdc_one_sided_sets_direction_and_clusters():
    less = hv.plan.minimum_detectable_change(0.23, clusters=24, cluster_size=20, icc=0.05,
                                             alternative="less").iloc[0]
    assert less["difference"] < 0 and less["df"] == 46
    back = hv.plan.power_change(0.23, less["p2"], clusters=24, cluster_size=20, icc=0.05,
                                alternative="less")
    assert back["power"].iloc[0] == pytest.approx(0.8, abs=1e-9)
    more = hv.plan.minimum_detectable_change(0.23, 472, alternative="greater").iloc[0]
    assert more["difference"] > 0


def test_mdc_unreachable_is_missing():
    t = hv.plan.minimum_detectable_change(0.23, 5, deff=5.0, power=0.9)
    assert np.isnan(t["p2"].iloc[0]) and np.isnan(t["difference"].iloc[0])


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("kw, match", [
    (dict(p1=0.23, p2=0.15), "give the sample size per year"),
    (dict(p1=0.23, p2=1.0, n1=100), "`p2` must be a proportion strictly between 0 and 1"),
    (dict(p1=0.23, p2=0.15, n1=0), "`n1` must be a positive sample size"),
    (dict(p1=0.23, p2=0.15, n1=100, alternative="two.sided"), "`alternative` must be one of"),
    (dict(p1=0.23, p2=0.15, n1=100, method="score"), "`method` must be one of 'wald', 'fleiss'"),
    (dict(p1=0.23, p2=0.15, n1=100, clusters=10, cluster_size=5), "not both"),
    (dict(p1=0.23, p2=0.15, clusters=10), "`clusters` needs `cluster_size`"),
    (dict(p1=0.23, p2=0.15, clusters=1.5, cluster_size=5), "`clusters` must be a whole number"),
    (dict(p1=0.23, p2=0.15, n1=100, df=0), "`df` must be a positive number"),
    (dict(p1=0.23, p2=0.15, n1=100, df=10, method="fleiss"), "`df` applies to method='wald'"),
    (dict(p1=0.23, p2=0.15, n1=100, deff=2, icc=0.1, cluster_size=3), "either `deff` or `icc`"),
])
def test_power_bad_input(kw, match):
    with pytest.raises(ValueError, match=match):
        hv.plan.power_change(**kw)


def test_mdc_and_size_bad_input():
    with pytest.raises(ValueError, match="`power` must be a probability"):
        hv.plan.minimum_detectable_change(0.23, 472, power=1.0)
    with pytest.raises(ValueError, match="`direction` must be one of"):
        hv.plan.minimum_detectable_change(0.23, 472, direction="down")
    with pytest.raises(ValueError, match="`p1` and `p2` must differ"):
        hv.plan.sample_size_change(0.2, 0.2)
    with pytest.raises(ValueError, match="`ratio` must be a positive number"):
        hv.plan.sample_size_change(0.2, 0.3, ratio=0)
