"""Bayesian prevalence (harvest.bayes): models, summaries, diagnostics, bad input.

Fits use short chains; a compiled model is re-used for every fit of the same structure,
so only the first fit of each model pays for compilation.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import harvest as hv
from harvest._errors import DataError, SamplingWarning
from harvest.bayes._data import prepare, rng_seed
from harvest.bayes.direct import logit_inputs

FAST = {"draws": 250, "tune": 250, "chains": 2, "progress": False, "check": False}


def _frame(seed=0, n=470, n_dist=30, years=(2023, 2024)):
    """5 regions, ``n_dist`` districts, ``n`` farms a year, weights varying by district."""
    rng = np.random.default_rng(seed)
    regions = np.array(["Ahal", "Balkan", "Dashoguz", "Lebap", "Mary"])
    d_region = np.arange(n_dist) % 5
    d_effect = rng.normal(0, 0.6, n_dist)
    d_weight = rng.uniform(5, 40, n_dist)
    parts = []
    for k, year in enumerate(years):
        d = rng.integers(0, n_dist, n)
        p = 1 / (1 + np.exp(-(-1.1 + 0.2 * k + 0.3 * (d_region[d] - 2) + d_effect[d])))
        parts.append(pd.DataFrame({
            "year": year, "region": regions[d_region[d]],
            "district": np.char.add("D", d.astype(str)),
            "child_labour": (rng.random(n) < p).astype(np.int64),
            "weight": d_weight[d] * rng.uniform(0.8, 1.2, n),
        }))
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def farms():
    return _frame()


@pytest.fixture(scope="module")
def fit_h(farms):
    return hv.bayes.fit_prevalence(farms, "child_labour", rng=1, **FAST)


@pytest.fixture(scope="module")
def fit_s(farms):
    return hv.bayes.fit_prevalence(farms, "child_labour", model="smoothed_direct", rng=1, **FAST)


# ------------------------------------------------------------------ package hygiene


def test_import_harvest_does_not_import_pymc():
    code = ("import sys, harvest, harvest.bayes; "
            "print(any(m in sys.modules for m in ('pymc', 'pytensor', 'nutpie', 'arviz')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_rng_seed_from_int_and_generator():
    assert rng_seed(5) == rng_seed(5)
    assert rng_seed(5) != rng_seed(6)
    assert rng_seed(np.random.default_rng(5)) == rng_seed(5)
    with pytest.raises(TypeError, match="`rng`"):
        rng_seed("five")


# --------------------------------------------------------------- pseudo-likelihood data


def test_effective_counts_kish(farms):
    p = prepare(farms, "child_labour", "region", "year", "district", "weight")
    g = farms.assign(w2=farms["weight"] ** 2, wy=farms["weight"] * farms["child_labour"])
    g = g.groupby(["district", "year"]).agg(sw=("weight", "sum"), sw2=("w2", "sum"),
                                            swy=("wy", "sum"), n=("weight", "size"))
    g = g.reset_index().sort_values(["district", "year"])
    order = np.lexsort((p.clusters["time"].to_numpy(), p.clusters["cluster"].to_numpy()))
    np.testing.assert_allclose(p.n_eff[order], g["sw"] ** 2 / g["sw2"])
    np.testing.assert_allclose(p.y_eff[order], g["sw"] ** 2 / g["sw2"] * g["swy"] / g["sw"])
    np.testing.assert_array_equal(p.n[order], g["n"])
    assert p.n.sum() == len(farms)
    assert (p.n_eff <= p.n + 1e-9).all()


def test_unweighted_and_constant_weights_give_binomial_counts(farms):
    p0 = prepare(farms, "child_labour", "region", "year", "district", None)
    p1 = prepare(farms.assign(weight=7.0), "child_labour", "region", "year", "district",
                 "weight")
    np.testing.assert_array_equal(p0.n_eff, p0.n)
    np.testing.assert_allclose(p1.n_eff, p0.n)
    np.testing.assert_allclose(p1.y_eff, p0.y_eff)
    counts = farms.groupby(["district", "year"])["child_labour"].sum().sort_index()
    order = np.lexsort((p0.clusters["time"].to_numpy(), p0.clusters["cluster"].to_numpy()))
    np.testing.assert_array_equal(p0.y_eff[order], counts.to_numpy())


def test_scaling_weights_changes_nothing(farms):
    p1 = prepare(farms, "child_labour", "region", "year", "district", "weight")
    p2 = prepare(farms.assign(weight=farms["weight"] * 13.0), "child_labour", "region", "year",
                 "district", "weight")
    np.testing.assert_allclose(p1.n_eff, p2.n_eff)
    np.testing.assert_allclose(p1.y_eff, p2.y_eff)


# ----------------------------------------------------------------------- outputs


def test_summary_columns_and_intervals(fit_h, farms):
    s = fit_h.summary(level=0.9)
    assert list(s.columns) == ["area", "time", "mean", "sd", "ci_low", "ci_high", "r_hat",
                               "ess_bulk", "ess_tail"]
    assert len(s) == 10
    assert set(s["area"]) == set(farms["region"])
    assert ((s["ci_low"] < s["mean"]) & (s["mean"] < s["ci_high"])).all()
    assert ((s["ci_low"] > 0) & (s["ci_high"] < 1)).all()
    wide = fit_h.summary(level=0.99)
    assert (wide["ci_high"] - wide["ci_low"] > s["ci_high"] - s["ci_low"]).all()
    # the posterior mean is close to the weighted direct share (about 90 farms a cell)
    direct = fit_h.direct()
    merged = s.merge(direct, on=["area", "time"])
    assert np.abs(merged["mean"] - merged["estimate"]).max() < 0.12


def test_posterior_is_datatree_with_labelled_prevalence(fit_h):
    post = fit_h.posterior["posterior"]
    assert "prevalence" in post.data_vars and "sigma_cluster" in post.data_vars
    assert list(post["area"].values) == ["Ahal", "Balkan", "Dashoguz", "Lebap", "Mary"]
    assert list(post["time"].values) == [2023, 2024]
    assert post.sizes["chain"] == 2 and post.sizes["draw"] == 250
    assert "diverging" in fit_h.posterior["sample_stats"].data_vars


def test_same_rng_same_draws_other_rng_other_draws(farms, fit_h):
    again = hv.bayes.fit_prevalence(farms, "child_labour", rng=1, **FAST)
    assert again.timings["cached"]
    np.testing.assert_array_equal(again.prevalence_draws(), fit_h.prevalence_draws())
    other = hv.bayes.fit_prevalence(farms, "child_labour", rng=np.random.default_rng(9), **FAST)
    assert not np.array_equal(other.prevalence_draws(), fit_h.prevalence_draws())


def test_compare_difference_and_prob_decrease(fit_h):
    c = fit_h.compare(between="year", baseline=2023)
    assert list(c.columns) == ["area", "time", "baseline", "difference", "sd", "ci_low",
                               "ci_high", "prob_decrease", "r_hat", "ess_bulk", "ess_tail"]
    draws = fit_h.prevalence_draws()
    diff = (draws[..., 1] - draws[..., 0]).reshape(-1, 5)
    np.testing.assert_allclose(c["difference"], diff.mean(0))
    np.testing.assert_allclose(c["prob_decrease"], (diff < 0).mean(0))
    assert ((c["ci_low"] < c["difference"]) & (c["difference"] < c["ci_high"])).all()
    assert (c["baseline"] == 2023).all() and (c["time"] == 2024).all()
    reverse = fit_h.compare(between="year", baseline=2024)
    np.testing.assert_allclose(reverse["difference"], -c["difference"].to_numpy())
    np.testing.assert_allclose(reverse["prob_decrease"], 1 - c["prob_decrease"].to_numpy())


def test_compare_rejects_other_between_and_unknown_baseline(fit_h):
    with pytest.raises(ValueError, match="`between`"):
        fit_h.compare(between="region")
    with pytest.raises(ValueError, match="`baseline`"):
        fit_h.compare(between="year", baseline=2019)


def test_aggregate_is_population_weighted(fit_h):
    sizes = {"Ahal": 100.0, "Balkan": 50.0, "Dashoguz": 200.0, "Lebap": 300.0, "Mary": 350.0}
    agg = fit_h.aggregate(population=sizes)
    s = fit_h.summary()
    w = s["area"].map(sizes)
    expected = (s["mean"] * w).groupby(s["time"]).sum() / w.groupby(s["time"]).sum()
    np.testing.assert_allclose(agg["mean"], expected.to_numpy())
    assert list(agg["area"]) == ["All", "All"]
    groups = {"Ahal": "south", "Mary": "south", "Balkan": "west", "Dashoguz": "north",
              "Lebap": "north"}
    g = fit_h.aggregate(population=sizes, groups=groups)
    west = g[g["area"] == "west"]["mean"].to_numpy()
    np.testing.assert_allclose(west, s[s["area"] == "Balkan"]["mean"].to_numpy())
    # default sizes: the weight totals per area and year
    default = fit_h.aggregate()
    assert default["mean"].between(0, 1).all()
    national = fit_h.compare(between="year", baseline=2023, population=sizes)
    assert national["area"].iloc[-1] == "All"


def test_aggregate_needs_every_area(fit_h):
    with pytest.raises(DataError, match="Mary"):
        fit_h.aggregate(population={"Ahal": 1.0, "Balkan": 2.0, "Dashoguz": 3.0,
                                    "Lebap": 4.0})
    with pytest.raises(DataError, match="groups"):
        fit_h.aggregate(groups={"Ahal": "x"})


def test_diagnostics_warn_on_short_chains(fit_h):
    with pytest.warns(SamplingWarning, match="ESS"):
        d = fit_h.diagnostics()
    assert not d["ok"]
    assert d["min_ess_bulk"] < 400 or d["min_ess_tail"] < 400


def test_default_settings_pass_diagnostics(farms):
    """4 chains x 1000 draws: no divergence, R-hat <= 1.01, ESS >= 400, no warning."""
    fit = hv.bayes.fit_prevalence(farms, "child_labour", rng=3, progress=False)
    d = fit.diagnostics()
    assert d["ok"] and d["divergences"] == 0
    assert d["max_r_hat"] <= 1.01 and min(d["min_ess_bulk"], d["min_ess_tail"]) >= 400


def test_ppc_observed_is_weighted_share(fit_h, farms):
    ppc = hv.bayes.posterior_predictive_check(fit_h, rng=1)
    assert list(ppc.columns) == ["area", "time", "observed", "rep_mean", "rep_low", "rep_high",
                                 "p_value"]
    share = (farms.assign(wy=farms["weight"] * farms["child_labour"])
             .groupby(["region", "year"])[["wy", "weight"]].sum())
    np.testing.assert_allclose(ppc["observed"], (share["wy"] / share["weight"]).to_numpy())
    assert ppc["p_value"].between(0.02, 0.98).all()
    assert (ppc["rep_low"] <= ppc["rep_high"]).all()


def test_plot_direct_vs_model_returns_axes(fit_h):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    out = hv.bayes.plot_direct_vs_model(fit_h, ax=ax, time=2024)
    assert out is ax
    assert len(ax.get_yticklabels()) == 5
    plt.close(fig)


def test_data_frame_is_not_modified(farms):
    before = farms.copy()
    prepare(farms, "child_labour", "region", "year", "district", "weight")
    pd.testing.assert_frame_equal(farms, before)


# ---------------------------------------------------------------- smoothed direct


def test_smoothed_direct_uses_design_estimates(fit_s, farms):
    design = hv.SurveyDesign(farms, weights="weight", psu="district")
    direct = design.proportion("child_labour", by=["region", "year"])
    inputs = fit_s.model_inputs
    np.testing.assert_allclose(inputs["estimate"], direct["estimate"])
    p, se = direct["estimate"].to_numpy(), direct["se"].to_numpy()
    n, deff = direct["n"].to_numpy(), direct["deff"].to_numpy()
    np.testing.assert_allclose(inputs["logit"], np.log(p / (1 - p)))
    # default: pooled (generalised) variance with the median design effect
    np.testing.assert_allclose(inputs["logit_var"], np.median(deff) / (n * p * (1 - p)))
    # variance="design": each cell's own design variance, delta method
    _, var, _, table = logit_inputs(fit_s.direct_table, fit_s.data.areas, fit_s.data.times,
                                    variance="design")
    np.testing.assert_allclose(table["logit_var"], se**2 / (p * (1 - p)) ** 2)
    s = fit_s.summary()
    assert ((s["ci_low"] < s["mean"]) & (s["mean"] < s["ci_high"])).all()
    c = fit_s.compare(between="year", baseline=2023)
    assert c["prob_decrease"].between(0, 1).all()
    ppc = fit_s.ppc(rng=2)
    np.testing.assert_allclose(ppc["observed"], direct["estimate"])


def test_area_effects_options(farms, fit_h):
    assert fit_h.settings["area_effects"] == "fixed"          # "auto" with 5 areas
    assert "area_level" in fit_h.posterior["posterior"].data_vars
    rand = hv.bayes.fit_prevalence(farms, "child_labour", rng=1, area_effects="random", **FAST)
    post = rand.posterior["posterior"]
    assert "sigma_area" in post.data_vars and "area_level" not in post.data_vars
    assert rand.summary()["mean"].between(0, 1).all()


def test_zero_direct_estimate_adjusted_or_dropped(farms):
    zero = farms.copy()
    cell = (zero["region"] == "Balkan") & (zero["year"] == 2023)
    zero.loc[cell, "child_labour"] = 0
    fit = hv.bayes.fit_prevalence(zero, "child_labour", model="smoothed_direct", rng=2, **FAST)
    row = fit.model_inputs.query("area == 'Balkan' and time == 2023").iloc[0]
    assert row["estimate"] == 0 and row["adjusted"] and row["used"]
    assert np.isfinite(row["logit"]) and row["logit"] < -2.5
    table = fit.summary()
    s = table.query("area == 'Balkan' and time == 2023").iloc[0]
    later = table.query("area == 'Balkan' and time == 2024").iloc[0]
    assert 0 < s["mean"] < later["mean"]       # pulled down by the zero, finite
    dropped = hv.bayes.fit_prevalence(zero, "child_labour", model="smoothed_direct", rng=2,
                                      zero_one="drop", **FAST)
    row = dropped.model_inputs.query("area == 'Balkan' and time == 2023").iloc[0]
    assert not row["used"]
    s2 = dropped.summary().query("area == 'Balkan' and time == 2023").iloc[0]
    assert s2["mean"] > s["mean"]        # dropping ignores the evidence of zero


def test_logit_inputs_one_and_missing_cells():
    direct = pd.DataFrame({"area": ["a", "b", "c"], "time": [1, 1, 1],
                           "estimate": [1.0, 0.3, 0.2], "se": [0.0, 0.05, np.nan],
                           "n": [20, 40, 30], "deff": [np.nan, 2.0, np.nan]})
    theta, var, mask, table = logit_inputs(direct, ["a", "b", "c", "d"], [1])
    n_eff = 20 / 2.0
    p = (n_eff + 0.5) / (n_eff + 1)
    assert theta[0, 0] == pytest.approx(np.log(p / (1 - p)))
    assert var[0, 0] == pytest.approx(1 / (n_eff * p * (1 - p)))
    # c: no design variance, approximated from its size and the median design effect
    assert var[2, 0] == pytest.approx(2.0 / (30 * 0.2 * 0.8))
    assert theta[2, 0] == pytest.approx(np.log(0.25))
    assert mask[:, 0].tolist() == [1.0, 1.0, 1.0, 0.0]   # d: no data
    assert table["adjusted"].tolist() == [True, False, True]
    theta, var, mask, table = logit_inputs(direct, ["a", "b", "c", "d"], [1], zero_one="drop")
    assert mask[:, 0].tolist() == [0.0, 1.0, 1.0, 0.0]


def test_hierarchical_predicts_a_cell_without_data(farms):
    sub = farms[~((farms["region"] == "Balkan") & (farms["year"] == 2024))]
    fit = hv.bayes.fit_prevalence(sub, "child_labour", rng=4, **FAST)
    s = fit.summary()
    assert len(s) == 10
    gap = s.query("area == 'Balkan' and time == 2024").iloc[0]
    assert gap["ci_high"] - gap["ci_low"] > s["ci_high"].sub(s["ci_low"]).median()


def test_unweighted_fit_runs_and_needs_population_for_aggregate(farms):
    fit = hv.bayes.fit_prevalence(farms, "child_labour", weights=None, rng=5, **FAST)
    assert fit.summary()["mean"].between(0, 1).all()
    with pytest.raises(DataError, match="population"):
        fit.aggregate()


# -------------------------------------------------------------------- bad input


@pytest.mark.parametrize("kwargs, error, match", [
    ({"outcome": "nope"}, DataError, "'nope'"),
    ({"area": "province"}, DataError, "'province'.*`area`"),
    ({"weights": "w"}, DataError, "'w'.*`weights`"),
    ({"model": "bym2"}, ValueError, "`model`"),
    ({"draws": 0}, ValueError, "`draws`"),
    ({"chains": 1.5}, ValueError, "`chains`"),
    ({"target_accept": 1.0}, ValueError, "`target_accept`"),
    ({"sampler": "stan"}, ValueError, "`sampler`"),
    ({"zero_one": "keep"}, ValueError, "`zero_one`"),
    ({"variance": "replicate"}, ValueError, "`variance`"),
    ({"area_effects": "mixed"}, ValueError, "`area_effects`"),
    ({"priors": {"tau": 1}}, ValueError, "`priors`"),
    ({"priors": {"mu_sd": -1}}, ValueError, "`priors`"),
    ({"rng": "x"}, TypeError, "`rng`"),
])
def test_bad_arguments(farms, kwargs, error, match):
    args = {"outcome": "child_labour", **kwargs}
    with pytest.raises(error, match=match):
        hv.bayes.fit_prevalence(farms, **args)


def test_bad_values_name_column_and_rows(farms):
    bad = farms.copy()
    bad.loc[3, "child_labour"] = 2
    with pytest.raises(DataError, match=r"'child_labour'.*0/1.*row 3"):
        prepare(bad, "child_labour", "region", "year", "district", "weight")
    bad = farms.astype({"weight": float})
    bad.loc[[4, 9], "weight"] = -1.0
    with pytest.raises(DataError, match=r"'weight'.*negative.*rows 4, 9"):
        prepare(bad, "child_labour", "region", "year", "district", "weight")
    bad = farms.copy()
    bad.loc[0, "region"] = "Mary" if farms.loc[0, "region"] != "Mary" else "Ahal"
    with pytest.raises(DataError, match="more than one"):
        prepare(bad, "child_labour", "region", "year", "district", "weight")
    bad = farms.astype({"child_labour": float})
    bad.loc[[1, 2], "child_labour"] = np.nan
    with pytest.raises(DataError, match=r"missing.*rows 1, 2.*na='drop'"):
        prepare(bad, "child_labour", "region", "year", "district", "weight")
    kept = prepare(bad, "child_labour", "region", "year", "district", "weight", na="drop")
    assert kept.n.sum() == len(farms) - 2
    # rows are numbered as in the caller's data after rows with a missing outcome are left
    # out; a text weight and a negative weight are both reported
    bad = bad.astype({"weight": object})
    bad.loc[7, "weight"] = "heavy"
    with pytest.raises(DataError, match=r"`weights` column 'weight' must be numeric; "
                                        r"found 'heavy' .* in row 7\b"):
        prepare(bad, "child_labour", "region", "year", "district", "weight", na="drop")
    bad.loc[7, "weight"] = -3.0
    bad = bad.astype({"weight": float})
    with pytest.raises(DataError, match=r"negative values \(-3.0\) in row 7\b"):
        prepare(bad, "child_labour", "region", "year", "district", "weight", na="drop")
    bad = farms.copy()
    bad.loc[5, "district"] = None
    with pytest.raises(DataError, match=r"'district'.*row 5"):
        prepare(bad, "child_labour", "region", "year", "district", "weight")
    with pytest.raises(TypeError, match="DataFrame"):
        prepare(farms.to_dict(), "child_labour", "region", "year", "district", "weight")


# ------------------------------------------------------------------- calibration


@pytest.mark.slow
def test_small_calibration_on_simulated_missions():
    """90% intervals of regional prevalence over a few simulated missions (both models).

    The full study (>= 200 missions) is benchmarks/bench_bayes_calibration.py; here
    4 missions x 2 years x 5 regions = 40 intervals per model. With true coverage 0.9 the
    count of misses is Binomial(40, 0.1); more than 10 misses has probability < 0.3%.
    """
    misses = {"hierarchical": 0, "smoothed_direct": 0}
    years = {year: hv.simulate.missions(n=4, year=year, rng=year) for year in (2023, 2024)}
    truth = pd.concat([m.truth.query("instrument == 'farm' and indicator == 'child_labour' "
                                     "and region != 'All'") for m in years.values()])
    truth = truth.rename(columns={"region": "area", "year": "time"})[["area", "time", "value"]]
    total = 0
    for k in range(4):
        farms = pd.concat([m.farms[m.farms["sim"] == k] for m in years.values()],
                          ignore_index=True)
        for model in misses:
            fit = hv.bayes.fit_prevalence(farms, "child_labour", model=model, rng=k,
                                          draws=300, tune=300, chains=2, progress=False,
                                          check=False)
            s = fit.summary(level=0.9).merge(truth, on=["area", "time"])
            assert len(s) == 10
            misses[model] += int(((s["value"] < s["ci_low"]) | (s["value"] > s["ci_high"])).sum())
        total += 10
    for model, miss in misses.items():
        assert miss <= 10, f"{model}: {miss} of {total} 90% intervals missed the truth"


@pytest.mark.slow
def test_pymc_sampler_fallback_gives_same_table(farms):
    fit = hv.bayes.fit_prevalence(farms, "child_labour", rng=1, sampler="pymc", draws=60,
                                  tune=60, chains=1, progress=False, check=False)
    assert fit.timings["sampler"] == "pymc"
    s = fit.summary()
    assert list(s.columns)[:6] == ["area", "time", "mean", "sd", "ci_low", "ci_high"]
    assert s["mean"].between(0, 1).all() and len(s) == 10


def test_zero_weight_cluster_adds_nothing(farms):
    zero = farms.assign(weight=np.where(farms["district"] == "D3", 0.0, farms["weight"]))
    p = prepare(zero, "child_labour", "region", "year", "district", "weight")
    hit = (p.clusters["cluster"] == "D3").to_numpy()
    assert hit.any()
    assert (p.n_eff[hit] == 0).all() and (p.y_eff[hit] == 0).all()
    assert np.isfinite(p.n_eff).all() and np.isfinite(p.y_eff).all()


def test_single_period_fit(farms):
    one = farms[farms["year"] == 2024]
    fit = hv.bayes.fit_prevalence(one, "child_labour", rng=2, **FAST)
    s = fit.summary()
    assert len(s) == 5 and (s["time"] == 2024).all()
    assert ((s["ci_low"] < s["mean"]) & (s["mean"] < s["ci_high"])).all()
    with pytest.raises(ValueError, match="single period"):
        fit.compare(between="year")
