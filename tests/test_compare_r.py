"""harvest.compare against R survey: svyby(..., covmat=TRUE) + svycontrast.

The reference values, the generated data and the R script are in tests/reference/
(``Rscript tests/reference/survey_compare.R`` rewrites them). Agreement to 1e-6.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harvest.compare import compare, trend
from harvest.design import SurveyDesign

REF = Path(__file__).parent / "reference"
TOL = 1e-6


@pytest.fixture(scope="module")
def reference():
    return pd.read_csv(REF / "compare_reference.csv", keep_default_na=False,
                       na_values=["NA"])


@pytest.fixture(scope="module")
def generated():
    data = pd.read_csv(REF / "compare_data.csv")
    return SurveyDesign(data, weights="weight", strata="stratum", psu="district",
                        fpc="n_districts")


@pytest.fixture(scope="module")
def api():
    data = pd.read_csv(REF / "compare_api.csv")
    strat = data[data["data"] == "apistrat"].reset_index(drop=True)
    clus1 = data[data["data"] == "apiclus1"].reset_index(drop=True)
    return {
        "apistrat": SurveyDesign(strat, weights="pw", strata="stype", fpc="fpc"),
        "apiclus1": SurveyDesign(clus1, weights="pw", psu="dnum", fpc="fpc"),
    }


def matched(out, reference, call, by=None, group_col="group", baseline_col="baseline"):
    """Rows of ``out`` next to the R rows of ``call`` (every row on both sides)."""
    ref = reference[reference["call"] == call].copy()
    assert len(ref) > 0, call
    got = out.copy()
    got["by_value"] = got[by].astype(str) if by else ""
    got["group"] = got[group_col].astype(str)
    got["baseline"] = got[baseline_col].astype(str)
    ref["group"] = ref["group"].astype(str)
    ref["baseline"] = ref["baseline"].astype(str)
    both = got.merge(ref, on=["by_value", "indicator", "group", "baseline"],
                     suffixes=("", "_r"), validate="one_to_one")
    assert len(both) == len(ref) == len(got)
    return both


def assert_close(both, columns):
    for column in columns:
        np.testing.assert_allclose(both[column], both[f"{column}_r"], rtol=0, atol=TOL,
                                   err_msg=column)


STATS = ["estimate", "se", "ci_low", "ci_high", "df", "p_value", "estimate_group",
         "estimate_baseline"]
ADJUST = {"holm": "p_holm", "bonferroni": "p_bonferroni", "fdr_bh": "p_fdr_bh"}


@pytest.mark.parametrize("measure", ["difference", "ratio", "odds_ratio"])
@pytest.mark.parametrize("adjust", ["holm", "bonferroni", "fdr_bh"])
def test_years_overall_and_by_region(generated, reference, measure, adjust):
    out = compare(generated, ["y1", "y2"], between="year", baseline=2022, measure=measure,
                  adjust=adjust)
    both = matched(out, reference, f"gen_year_{measure}")
    assert_close(both, STATS)
    np.testing.assert_allclose(both["p_adjusted"], both[ADJUST[adjust]], atol=TOL)

    out = compare(generated, ["y1", "y2"], between="year", baseline=2022, by="region",
                  measure=measure, adjust=adjust)
    both = matched(out, reference, f"gen_year_region_{measure}", by="region")
    assert_close(both, STATS)
    np.testing.assert_allclose(both["p_adjusted"], both[ADJUST[adjust]], atol=TOL)


@pytest.mark.parametrize("measure", ["difference", "ratio", "odds_ratio"])
def test_all_pairs_of_sectors_by_year(generated, reference, measure):
    out = compare(generated, ["y1", "y2"], between="sector", by="year", measure=measure)
    both = matched(out, reference, f"gen_sector_pairs_year_{measure}", by="year")
    assert_close(both, STATS)
    np.testing.assert_allclose(both["p_adjusted"], both["p_holm"], atol=TOL)


@pytest.mark.parametrize("measure", ["difference", "ratio"])
def test_means_by_region(generated, reference, measure):
    out = compare(generated, "x", between="year", baseline=2022, by="region",
                  measure=measure, kind="mean")
    both = matched(out, reference, f"gen_x_year_region_{measure}", by="region")
    assert_close(both, STATS)
    np.testing.assert_allclose(both["p_adjusted"], both["p_holm"], atol=TOL)


@pytest.mark.parametrize("measure", ["difference", "ratio"])
def test_totals_and_ratios_of_totals(generated, reference, measure):
    out = compare(generated, "x", between="year", baseline=2022, by="region",
                  measure=measure, kind="total")
    both = matched(out, reference, f"gen_x_total_year_region_{measure}", by="region")
    assert_close(both, ["estimate", "ci_low", "ci_high", "df", "p_value"])
    np.testing.assert_allclose(both["se"], both["se_r"], rtol=1e-9)  # totals: se ~ 1e4
    out = compare(generated, ["y1", "y2"], between="year", baseline=2022, measure=measure,
                  kind="ratio", denominator="x")
    both = matched(out, reference, f"gen_y1_per_x_year_{measure}")
    assert_close(both, STATS)
    np.testing.assert_allclose(both["p_adjusted"], both["p_holm"], atol=TOL)


def test_level_90(generated, reference):
    out = compare(generated, ["y1", "y2"], between="year", baseline=2022, by="region",
                  level=0.90)
    both = matched(out, reference, "gen_year_region_level90_difference", by="region")
    assert_close(both, STATS)


@pytest.mark.parametrize("measure", ["difference", "ratio", "odds_ratio"])
def test_domain_df_is_degf_of_the_compared_domains(generated, reference, measure):
    out = compare(generated, ["y1", "y2"], between="year", baseline=2022, by="region",
                  measure=measure, df="domain")
    both = matched(out, reference, f"gen_year_region_{measure}", by="region")
    np.testing.assert_array_equal(both["df"], both["df_domain"])
    assert_close(both, ["estimate", "se"])
    out = compare(generated, ["y1", "y2"], between="sector", by="year", measure=measure,
                  df="domain")
    both = matched(out, reference, f"gen_sector_pairs_year_{measure}", by="year")
    np.testing.assert_array_equal(both["df"], both["df_domain"])


@pytest.mark.parametrize("measure", ["difference", "ratio", "odds_ratio"])
def test_api_strat_against_baseline(api, reference, measure):
    out = compare(api["apistrat"], ["sch_wide", "awards"], between="stype", baseline="E",
                  measure=measure)
    both = matched(out, reference, f"apistrat_stype_{measure}")
    assert_close(both, STATS)
    np.testing.assert_allclose(both["p_adjusted"], both["p_holm"], atol=TOL)


@pytest.mark.parametrize("measure", ["difference", "ratio", "odds_ratio"])
def test_api_clus1_all_pairs(api, reference, measure):
    out = compare(api["apiclus1"], ["sch_wide", "awards"], between="stype", measure=measure)
    both = matched(out, reference, f"apiclus1_stype_pairs_{measure}")
    assert_close(both, STATS)
    np.testing.assert_allclose(both["p_adjusted"], both["p_holm"], atol=TOL)
    out = compare(api["apiclus1"], ["sch_wide", "awards"], between="stype", measure=measure,
                  df="domain")
    both = matched(out, reference, f"apiclus1_stype_pairs_{measure}")
    np.testing.assert_array_equal(both["df"], both["df_domain"])


@pytest.mark.parametrize("measure", ["difference", "ratio"])
def test_api_clus1_mean(api, reference, measure):
    out = compare(api["apiclus1"], "api00", between="stype", baseline="E", measure=measure,
                  kind="mean")
    both = matched(out, reference, f"apiclus1_api00_stype_{measure}")
    assert_close(both, STATS)


def test_design_method_is_the_function(generated, reference):
    out = generated.compare(["y1", "y2"], "year", baseline=2022, by="region",
                            measure="ratio")
    both = matched(out, reference, "gen_year_region_ratio", by="region")
    assert_close(both, STATS)


def test_trend_overall_and_by_region(generated, reference):
    out = trend(generated, ["y1", "y2"], time="year")
    both = matched(out, reference, "gen_trend", group_col="time_last",
                   baseline_col="time_first")
    assert_close(both, ["estimate", "se", "ci_low", "ci_high", "df", "p_value"])
    np.testing.assert_allclose(both["p_adjusted"], both["p_holm"], atol=TOL)

    out = trend(generated, ["y1", "y2"], time="year", by="region", adjust="fdr_bh")
    both = matched(out, reference, "gen_trend_region", by="region", group_col="time_last",
                   baseline_col="time_first")
    assert_close(both, ["estimate", "se", "ci_low", "ci_high", "df", "p_value"])
    np.testing.assert_allclose(both["p_adjusted"], both["p_fdr_bh"], atol=TOL)
    assert (out["n_times"] == 3).all()

    out = trend(generated, ["y1", "y2"], time="year", by="region", df="domain")
    both = matched(out, reference, "gen_trend_region", by="region", group_col="time_last",
                   baseline_col="time_first")
    np.testing.assert_array_equal(both["df"], both["df_domain"])


def test_every_reference_row_agrees(generated, api, reference):
    """All R rows (Taylor and replicate) in one sweep; prints the largest deviations.

    ``pytest tests/test_compare_r.py -k every_reference -s`` shows the figures.
    """
    import harvest as hv

    repw = pd.read_csv(REF / "compare_repweights.csv")
    rscales = pd.read_csv(REF / "compare_rscales.csv")
    rep = hv.ReplicateDesign(pd.concat([generated.data, repw], axis=1), weights="weight",
                             replicate_weights="repw_", method="jkn",
                             scale=float(rscales["scale"].iloc[0]),
                             rscales=rscales["rscales"].to_numpy())
    gen, strat, clus = generated, api["apistrat"], api["apiclus1"]
    y, sa = ["y1", "y2"], ["sch_wide", "awards"]
    calls = {}
    for m in ["difference", "ratio", "odds_ratio"]:
        calls[f"gen_year_{m}"] = (lambda m=m: compare(gen, y, "year", 2022, measure=m), None)
        calls[f"gen_year_region_{m}"] = (
            lambda m=m: compare(gen, y, "year", 2022, by="region", measure=m), "region")
        calls[f"gen_sector_pairs_year_{m}"] = (
            lambda m=m: compare(gen, y, "sector", by="year", measure=m), "year")
        calls[f"rep_year_{m}"] = (lambda m=m: compare(rep, y, "year", 2022, measure=m), None)
        calls[f"rep_year_region_{m}"] = (
            lambda m=m: compare(rep, y, "year", 2022, by="region", measure=m), "region")
        calls[f"apistrat_stype_{m}"] = (lambda m=m: compare(strat, sa, "stype", "E",
                                                            measure=m), None)
        calls[f"apiclus1_stype_pairs_{m}"] = (lambda m=m: compare(clus, sa, "stype",
                                                                  measure=m), None)
    for m in ["difference", "ratio"]:
        calls[f"gen_x_year_region_{m}"] = (
            lambda m=m: compare(gen, "x", "year", 2022, by="region", measure=m, kind="mean"),
            "region")
        calls[f"apiclus1_api00_stype_{m}"] = (
            lambda m=m: compare(clus, "api00", "stype", "E", measure=m, kind="mean"), None)
        calls[f"gen_x_total_year_region_{m}"] = (
            lambda m=m: compare(gen, "x", "year", 2022, by="region", measure=m,
                                kind="total"), "region")
        calls[f"rep_x_total_year_region_{m}"] = (
            lambda m=m: compare(rep, "x", "year", 2022, by="region", measure=m,
                                kind="total"), "region")
        calls[f"gen_y1_per_x_year_{m}"] = (
            lambda m=m: compare(gen, y, "year", 2022, measure=m, kind="ratio",
                                denominator="x"), None)
    calls["gen_year_region_level90_difference"] = (
        lambda: compare(gen, y, "year", 2022, by="region", level=0.9), "region")
    calls["gen_trend"] = (lambda: trend(gen, y), None)
    calls["gen_trend_region"] = (lambda: trend(gen, y, by="region"), "region")
    calls["rep_trend_region"] = (lambda: trend(rep, y, by="region"), "region")
    assert set(calls) == set(reference["call"])

    worst, rows = {}, 0
    for call, (run, by) in calls.items():
        out = run().rename(columns={"time_last": "group", "time_first": "baseline"})
        both = matched(out, reference, call, by=by)
        rows += len(both)
        relative = "total" in call  # totals are ~1e4: compare those relatively
        for column in ["estimate", "se", "ci_low", "ci_high", "df", "p_value", "p_adjusted"]:
            r_col = "p_holm" if column == "p_adjusted" else f"{column}_r"
            diff = np.abs(both[column] - both[r_col])
            if relative:
                diff = diff / np.abs(both[r_col])
            worst[column] = max(worst.get(column, 0.0), float(diff.max()))
    print(f"\n{len(calls)} calls, {rows} rows; largest |harvest - R| (relative for totals):",
          {k: f"{v:.1e}" for k, v in worst.items()})
    assert rows == len(reference)
    assert max(worst.values()) < TOL
