"""Synthetic missions: sizes, truth, weights, and unbiasedness of design-based estimates."""

import numpy as np
import pandas as pd
import pytest

import harvest as hv
from harvest import simulate
from harvest.indicators import add_indicators
from harvest.instruments import DERIVED, problems

TABLES = {"farms": "farm", "pickers": "picker", "employees": "employee",
          "institutions": "institution"}


@pytest.fixture(scope="module")
def m2024():
    return simulate.mission(year=2024, rng=3)


def _truth(m, instrument, indicator, region="All"):
    t = m.truth
    sel = (t["instrument"] == instrument) & (t["indicator"] == indicator) & (t["region"] == region)
    return t.loc[sel, "value"].item()


def test_2024_mission_has_the_reported_shape(m2024):
    m = m2024
    assert (len(m.farms), len(m.pickers), len(m.institutions), len(m.employees)) == (
        472, 1762, 379, 2047)
    assert m.farms["district"].nunique() == 61
    assert m.farms["region"].nunique() == 5
    assert m.farms["obs_group"].max() <= 15
    v = m.visits.groupby(["instrument", "visit_status"]).size()
    assert v[("farm", "refused")] == 27 and v[("farm", "dropped_interference")] == 3
    assert v[("institution", "refused")] == 17 and v[("institution", "dropped_interference")] == 1
    share = hv.indicators.interference_rate(m.visits)["rate"].item()
    assert 0.17 < share < 0.29


def test_2023_mission_is_smaller():
    m = simulate.mission(year=2023, rng=3)
    assert len(m.farms) == 222 and m.farms["district"].nunique() == 32
    assert m.farms["obs_group"].max() <= 7
    assert len(m.pickers) < 1000 and len(m.employees) < 1000


def test_tables_validate_and_carry_design_columns(m2024):
    for name, instrument in TABLES.items():
        df = getattr(m2024, name)
        assert problems(df, instrument).empty, name
        for c in ("stratum", "district", "weight", "n_districts", "region", "year"):
            assert c in df.columns
        assert (df["weight"] > 0).all()
        assert set(df["stratum"]) == {f"2024-{r}" for r in hv.instruments.TURKMENISTAN.regions}
        for d, _, _ in DERIVED[instrument]:
            assert d in df.columns
        assert m2024.table(instrument) is df


def test_truth_is_near_the_published_figures(m2024):
    published = {("farm", "child_labour"): 0.23, ("farm", "civil_servants_on_farm"): 0.20,
                 ("farm", "farmer_reports_minors"): 0.17,
                 ("employee", "any_consequence"): 0.31, ("picker", "paid_above_1"): 0.71,
                 ("picker", "no_written_contract"): 0.784,
                 ("picker", "worked_alongside_children"): 0.11,
                 ("picker", "any_consequence"): 0.12,
                 ("employee", "worked_alongside_children"): 0.14}
    for (inst, ind), value in published.items():
        assert _truth(m2024, inst, ind) == pytest.approx(value, abs=0.02), (inst, ind)
    m23 = simulate.mission(year=2023, rng=3)
    assert _truth(m23, "picker", "paid_above_1") == pytest.approx(0.12, abs=0.02)
    assert _truth(m23, "farm", "child_labour") > _truth(m2024, "farm", "child_labour")


def test_truth_table_shape(m2024):
    t = m2024.truth
    assert list(t.columns) == ["year", "instrument", "region", "indicator", "value", "total", "N"]
    assert set(t["region"]) == {*hv.instruments.TURKMENISTAN.regions, "All"}
    # the country value is the N-weighted mean of the regions
    farm = t[(t["instrument"] == "farm") & (t["indicator"] == "child_labour")]
    regions = farm[farm["region"] != "All"]
    overall = farm[farm["region"] == "All"]
    assert regions["total"].sum() == pytest.approx(overall["total"].item())
    assert regions["N"].sum() == overall["N"].item()


def test_same_seed_same_mission_and_generators_accepted():
    a = simulate.mission(2024, rng=11)
    b = simulate.mission(2024, rng=np.random.default_rng(11))
    pd.testing.assert_frame_equal(a.farms, b.farms)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    c = simulate.mission(2024, rng=12)
    assert not a.farms["farm_id"].equals(c.farms["farm_id"])


def test_a_census_reproduces_the_truth_exactly():
    """A census (every unit taken): weights are 1 and the estimates equal the truth."""
    sc = simulate.Scenario(
        districts=(3, 2, 3, 2, 2), sampled_districts=(3, 2, 3, 2, 2),
        farms_per_district=(4, 6), institutions_per_district=(2, 3), staff_per_institution=8,
        farm_visits=10**6, farm_refusals=0, farm_dropped=0, pickers_interviewed=10**7,
        institution_visits=10**6, institution_refusals=0, institution_dropped=0,
        employees_interviewed=10**7)
    m = simulate.mission(rng=5, scenario=sc)
    pop = m.population
    assert len(m.farms) == len(pop.farms["district"])
    assert len(m.pickers) == len(pop.pickers["farm"])
    assert len(m.employees) == len(pop.employees["institution"])
    for name, instrument in TABLES.items():
        df = getattr(m, name)
        np.testing.assert_allclose(df["weight"], 1.0)
        truth = m.truth[m.truth["instrument"] == instrument]
        for ind, g in truth.groupby("indicator"):
            by_region = df.groupby("region")[ind].mean()
            for region, value in zip(g["region"], g["value"], strict=True):
                got = df[ind].mean() if region == "All" else by_region[region]
                assert got == pytest.approx(value, rel=1e-12, abs=1e-12), (name, ind, region)
    # the sample's indicators are those add_indicators computes from the raw answers
    raw = m.employees.drop(columns=[d for d, _, _ in DERIVED["employee"]])
    pd.testing.assert_frame_equal(add_indicators(raw, "employee"), m.employees)


def test_weights_are_inverse_inclusion_probabilities(m2024):
    f = m2024.farms
    # constant within district; stage-1 factor N_h / n_h times M_d / r_d
    assert (f.groupby("district")["weight"].nunique() == 1).all()
    pop = m2024.population
    n_farms = pop.farms["M"]
    regions = np.asarray(pop.scenario.regions)[pop.district_region]
    district_names = [f"{r}-{i:02d}" for r, i in zip(
        regions, np.concatenate([np.arange(1, n + 1) for n in pop.scenario.districts]),
        strict=True)]
    M = pd.Series(n_farms, index=district_names)
    r = f.groupby("district").size()
    n_h = f.groupby("region")["district"].nunique()
    N_h = f.groupby("region")["n_districts"].first()
    region = f.groupby("district")["region"].first()
    expect = (N_h[region].to_numpy() / n_h[region].to_numpy()) * M[r.index].to_numpy() / r
    np.testing.assert_allclose(f.groupby("district")["weight"].first()[r.index], expect)


def test_missions_stack_independent_samples_of_one_population():
    ms = simulate.missions(n=4, year=2024, rng=2)
    assert ms.n == 4 and sorted(ms.farms["sim"].unique()) == [0, 1, 2, 3]
    assert (ms.farms.groupby("sim").size() == 472).all()
    assert (ms.employees.groupby("sim").size() == 2047).all()
    assert ms.truth is ms.population.truth
    a = set(ms.farms.loc[ms.farms["sim"] == 0, "farm_id"])
    b = set(ms.farms.loc[ms.farms["sim"] == 1, "farm_id"])
    assert a != b
    for name, instrument in TABLES.items():
        assert problems(getattr(ms, name).query("sim == 2"), instrument).empty


def test_batches_number_the_samples_consecutively():
    pop = simulate.population(2024, rng=4)
    s = simulate.sample(pop, rng=5, n=5, batch=2)
    for name in ("farms", "pickers", "employees", "institutions", "visits"):
        assert sorted(s[name]["sim"].unique()) == [0, 1, 2, 3, 4], name
    assert (s["farms"].groupby("sim").size() == 472).all()
    assert (s["pickers"].groupby("sim").size() == 1762).all()
    with pytest.raises(ValueError, match="`batch` must be a positive number"):
        simulate.sample(pop, rng=5, n=2, batch=0)


def test_settings_are_checked():
    with pytest.raises(ValueError, match="`sampled_districts` must be between 1 and"):
        simulate.mission(2024, rng=1, sampled_districts=(90, 5, 14, 15, 15))
    with pytest.raises(ValueError, match="one entry per region"):
        simulate.mission(2024, rng=1, districts=(80, 30))
    with pytest.raises(ValueError, match="`n` must be a positive number"):
        simulate.missions(n=0, rng=1)
    with pytest.raises(TypeError):
        simulate.mission(2024, rng=1, child_labor=0.3)


def _estimates(design_cls, df, ys, by=("sim",), kind="mean"):
    d = design_cls(df, weights="weight", strata=["sim", "stratum"], psu="district",
                   fpc="n_districts")
    return getattr(d, kind)(list(ys), by=list(by))


def _check_unbiased(est, truth, by_region=False, k=4.0):
    """|mean estimate - truth| <= k Monte Carlo standard errors, for each indicator (x region)."""
    keys = ["indicator", "region"] if by_region else ["indicator"]
    g = est.groupby(keys)["estimate"]
    summary = pd.DataFrame({"mean": g.mean(), "sd": g.std(ddof=1), "n": g.size()})
    summary["mcse"] = summary["sd"] / np.sqrt(summary["n"])
    t = truth.set_index(keys)["value"] if by_region else truth[
        truth["region"] == "All"].set_index("indicator")["value"]
    summary["truth"] = t.reindex(summary.index)
    summary["z"] = (summary["mean"] - summary["truth"]) / summary["mcse"]
    bad = summary[summary["z"].abs() > k]
    assert bad.empty, bad
    return summary


@pytest.mark.slow
def test_design_based_estimates_are_unbiased_for_the_truth():
    """Over 200 samples of one population, Taylor estimates centre on the true values.

    Tolerance: 4 Monte Carlo standard errors (sd of the 200 estimates / sqrt(200)) per
    indicator; ratio-estimator bias is O(1/n) and far smaller.
    """
    from harvest.design import SurveyDesign

    ms = simulate.missions(n=200, year=2024, rng=20241124)
    t = ms.truth
    farm_y = ["child_labour", "civil_servants_on_farm", "farmer_reports_minors", "n_pickers"]
    est = _estimates(SurveyDesign, ms.farms, farm_y)
    s = _check_unbiased(est, t[t["instrument"] == "farm"])
    assert s["mcse"].max() < 0.01 * max(1.0, t["value"].max())
    est = _estimates(SurveyDesign, ms.farms, ["child_labour"], by=("sim", "region"))
    _check_unbiased(est, t[t["instrument"] == "farm"], by_region=True)
    pick_y = ["paid_above_1", "any_consequence", "forced_labour", "worked_alongside_children",
              "rate_per_kg"]
    _check_unbiased(_estimates(SurveyDesign, ms.pickers, pick_y), t[t["instrument"] == "picker"])
    emp_y = ["any_consequence", "picked_or_paid", "forced_labour", "amount_paid"]
    _check_unbiased(_estimates(SurveyDesign, ms.employees, emp_y),
                    t[t["instrument"] == "employee"])
    _check_unbiased(_estimates(SurveyDesign, ms.institutions, ["received_quota", "n_staff"]),
                    t[t["instrument"] == "institution"])
    # totals are unbiased for the population totals
    tot = _estimates(SurveyDesign, ms.farms, ["child_labour"], kind="total")
    truth_tot = t[(t["instrument"] == "farm") & (t["indicator"] == "child_labour")
                  & (t["region"] == "All")]["total"].item()
    mcse = tot["estimate"].std(ddof=1) / np.sqrt(len(tot))
    assert abs(tot["estimate"].mean() - truth_tot) < 4 * mcse


def test_refusal_bias_biases_the_estimate_downwards():
    """With farms with child labour refusing more, the weighted share falls below the truth."""
    ms = simulate.missions(n=100, year=2024, rng=7, refusal_bias=3.0, farm_refusals=120)
    f = ms.farms
    est = (f["weight"] * f["child_labour"]).groupby(f["sim"]).sum() / f.groupby("sim")[
        "weight"].sum()
    truth = _truth(ms, "farm", "child_labour")
    mcse = est.std(ddof=1) / np.sqrt(len(est))
    assert est.mean() < truth - 4 * mcse


def test_ignoring_the_weights_is_detectably_biased():
    """The unbiasedness check has power: wrong weights move estimates by many MC errors."""
    ms = simulate.missions(n=100, year=2024, rng=8)
    f = ms.farms
    unweighted = f.groupby("sim")["child_labour"].mean()
    mcse = unweighted.std(ddof=1) / np.sqrt(len(unweighted))
    assert unweighted.mean() < _truth(ms, "farm", "child_labour") - 4 * mcse
    # picker weights without the within-farm factor P_f / k_f
    p = ms.pickers.merge(f[["sim", "farm_id", "n_pickers"]], on=["sim", "farm_id"])
    k = p.groupby(["sim", "farm_id"])["weight"].transform("size")
    w = p["weight"] * k / p["n_pickers"]
    est = (w * p["paid_above_1"]).groupby(p["sim"]).sum() / w.groupby(p["sim"]).sum()
    mcse = est.std(ddof=1) / np.sqrt(len(est))
    assert est.mean() < _truth(ms, "picker", "paid_above_1") - 4 * mcse


@pytest.mark.slow
def test_design_based_estimates_are_unbiased_in_2023_too():
    """The smaller 2023 mission (32 districts): same check, 4 Monte Carlo standard errors."""
    from harvest.design import SurveyDesign

    ms = simulate.missions(n=200, year=2023, rng=2023)
    t = ms.truth
    _check_unbiased(_estimates(SurveyDesign, ms.farms, ["child_labour", "n_children"]),
                    t[t["instrument"] == "farm"])
    _check_unbiased(_estimates(SurveyDesign, ms.employees, ["any_consequence", "amount_paid"]),
                    t[t["instrument"] == "employee"])


def test_old_keywords_with_trailing_underscores_warn_and_still_work():
    sc = simulate.scenario(2024).replace(child_labour=0.3)
    with pytest.warns(DeprecationWarning, match="`scenario_` is deprecated; use `scenario`"):
        pop = simulate.population(rng=2, scenario_=sc)
    assert pop.scenario == sc
    with pytest.warns(DeprecationWarning, match="`population_` is deprecated"):
        old = simulate.mission(rng=4, population_=pop)
    new = simulate.mission(rng=4, population=pop)
    pd.testing.assert_frame_equal(old.farms, new.farms)
    with pytest.warns(DeprecationWarning, match="`scenario_`"):
        ms = simulate.missions(n=2, rng=1, scenario_=sc)
    assert ms.population.scenario == sc
    with pytest.raises(TypeError, match="not both"):
        simulate.mission(rng=1, scenario=sc, scenario_=sc)
