"""Coverage of year-over-year comparisons in repeated sampling, with hv.simulate.

Two finite populations (the 2023 and 2024 scenarios) with known true shares; 200
independent missions from each, stacked so that one ``compare(..., by="sim")`` call
gives every mission pair's comparison at once (strata ``["sim", "stratum"]``: samples
never share PSUs). ``df="domain"`` gives each pair the df of its own PSUs, as an analyst
with one pair of missions would have.

* with a true change: the 95% intervals for the difference, ratio and odds ratio cover
  the true change at a rate consistent with 95% (exact binomial test);
* with no true change (two independent samples of one population), the t test rejects
  at 5% at a rate consistent with 5%.
"""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import harvest as hv
from harvest.compare import compare

N_SIM = 200


@pytest.fixture(scope="module")
def missions():
    pop23 = hv.simulate.population(2023, rng=11)
    pop24 = hv.simulate.population(2024, rng=12)
    m23 = hv.simulate.missions(n=N_SIM, population=pop23, rng=13)
    m24 = hv.simulate.missions(n=N_SIM, population=pop24, rng=14)

    def truth(pop):
        t = pop.truth.query("instrument == 'farm' and indicator == 'child_labour' "
                            "and region == 'All'")
        return float(t["value"].item())

    return m23.farms, m24.farms, truth(pop23), truth(pop24)


def design_of(frame):
    return hv.SurveyDesign(frame, weights="weight", strata=["sim", "stratum"],
                           psu="district", fpc="n_districts")


def consistent(successes, trials, rate):
    return stats.binomtest(int(successes), int(trials), rate).pvalue > 0.01


@pytest.mark.parametrize("measure", ["difference", "ratio", "odds_ratio"])
def test_intervals_cover_the_true_change(missions, measure):
    f23, f24, p23, p24 = missions
    design = design_of(pd.concat([f23, f24], ignore_index=True))
    out = compare(design, "child_labour", between="year", baseline=2023, by="sim",
                  measure=measure, adjust=None, df="domain")
    assert len(out) == N_SIM and out["estimate"].notna().all()
    true = {"difference": p24 - p23, "ratio": p24 / p23,
            "odds_ratio": (p24 / (1 - p24)) / (p23 / (1 - p23))}[measure]
    assert true != (0 if measure == "difference" else 1)
    covered = ((out["ci_low"] <= true) & (true <= out["ci_high"])).sum()
    assert consistent(covered, N_SIM, 0.95), covered / N_SIM
    # the estimates centre on the truth (bias well within the Monte Carlo error)
    centre = out["estimate"].mean() if measure == "difference" else np.exp(
        np.log(out["estimate"]).mean())
    mc_se = out["estimate"].std() / np.sqrt(N_SIM) if measure == "difference" else (
        true * np.log(out["estimate"]).std() / np.sqrt(N_SIM))
    assert abs(centre - true) < 4 * mc_se


@pytest.mark.parametrize("measure", ["difference", "odds_ratio"])
def test_no_true_change_rejects_at_the_nominal_rate(missions, measure):
    f23, f24, _, _ = missions
    half = N_SIM // 2
    # two independent samples of the same population: sims 0..99 against 100..199
    frames = []
    for offset, frame in ((0, f23), (half, f24)):
        frames.append(frame.assign(period=np.where(frame["sim"] < half, "a", "b"),
                                   pair=frame["sim"] % half + offset))
    design = design_of(pd.concat(frames, ignore_index=True))
    out = compare(design, "child_labour", between="period", baseline="a", by="pair",
                  measure=measure, adjust=None, df="domain")
    assert len(out) == N_SIM
    rejected = (out["p_value"] < 0.05).sum()
    assert consistent(rejected, N_SIM, 0.05), rejected / N_SIM
    # and the p-values are roughly uniform
    assert stats.kstest(out["p_value"], "uniform").pvalue > 0.01
