"""hv.plan.simulate_mission: a plan checked on synthetic missions (hv.simulate + SurveyDesign)."""

import numpy as np
import pytest

import harvest as hv


@pytest.mark.slow
def test_simulated_missions_are_unbiased_and_consistent():
    R = 40
    t = hv.plan.simulate_mission(n_sim=R, moe=0.05, change={"child_labour": 0.15}, deff=2.0,
                                 rng=7).set_index("quantity")
    assert list(t.index) == ["estimate", "se_true", "se_estimated", "deff", "design_deff",
                             "moe", "coverage", "within_moe", "change", "power"]
    assert (t["n_sim"] == R).all()
    # the design-based estimates are unbiased for the population's value, in both years
    assert abs(t.loc["estimate", "mc_z"]) < 4
    assert abs(t.loc["change", "mc_z"]) < 4
    # the linearised SE estimates the spread of the estimates across missions
    diff = t.loc["se_estimated", "simulated"] - t.loc["se_true", "simulated"]
    assert abs(diff) < 4 * np.hypot(t.loc["se_estimated", "mc_se"], t.loc["se_true", "mc_se"])
    assert t.loc["coverage", "simulated"] >= 0.95 - 4 * np.sqrt(0.95 * 0.05 / R)
    # the formula column is the plan: deff as given, margin from margin_of_error
    assert t.loc["deff", "formula"] == t.loc["design_deff", "formula"] == 2.0
    p = t.loc["estimate", "formula"]
    assert t.loc["moe", "formula"] == pytest.approx(
        hv.plan.margin_of_error(p, 472, deff=2.0)["moe"].iloc[0], rel=0.02)
    assert 1.0 < t.loc["design_deff", "simulated"] < 4.0


def test_mission_bad_input():
    with pytest.raises(ValueError, match="`instrument` must be one of"):
        hv.plan.simulate_mission(instrument="household")
    with pytest.raises(ValueError, match="`change` must be a dict"):
        hv.plan.simulate_mission(change=0.15)
    with pytest.raises(ValueError, match="`ci` must be one of"):
        hv.plan.simulate_mission(ci="exact")
    with pytest.raises(ValueError, match="`n_sim` must be a whole number of missions"):
        hv.plan.simulate_mission(n_sim=1)


@pytest.mark.slow
def test_mission_unknown_indicator():
    with pytest.raises(ValueError, match="'nope' is not a column of the farm table"):
        hv.plan.simulate_mission("nope", n_sim=2, rng=1)
