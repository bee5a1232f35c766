"""harvest.compare on replicate designs against R (as.svrepdesign JKn + svycontrast).

R's JKn replicate weights for the generated data are stored in
tests/reference/compare_repweights.csv (with their rscales), so these tests check the
comparison on top of a given replicate design; the same contrasts from
``SurveyDesign.replicate("jkn")`` check harvest's own JKn factors too.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import harvest as hv
from harvest.compare import compare, trend
from harvest.design import SurveyDesign

REF = Path(__file__).parent / "reference"
TOL = 1e-6
STATS = ["estimate", "se", "ci_low", "ci_high", "df", "p_value", "estimate_group",
         "estimate_baseline"]


@pytest.fixture(scope="module")
def reference():
    return pd.read_csv(REF / "compare_reference.csv", keep_default_na=False,
                       na_values=["NA"])


@pytest.fixture(scope="module")
def taylor():
    data = pd.read_csv(REF / "compare_data.csv")
    return SurveyDesign(data, weights="weight", strata="stratum", psu="district",
                        fpc="n_districts")


@pytest.fixture(scope="module")
def shipped(taylor):
    repw = pd.read_csv(REF / "compare_repweights.csv")
    rscales = pd.read_csv(REF / "compare_rscales.csv")
    data = pd.concat([taylor.data, repw], axis=1)
    return hv.ReplicateDesign(data, weights="weight", replicate_weights="repw_",
                              method="jkn", scale=float(rscales["scale"].iloc[0]),
                              rscales=rscales["rscales"].to_numpy())


def matched(out, reference, call, by=None, group_col="group", baseline_col="baseline"):
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


@pytest.mark.parametrize("measure", ["difference", "ratio", "odds_ratio"])
def test_shipped_jkn_weights(shipped, reference, measure):
    out = compare(shipped, ["y1", "y2"], between="year", baseline=2022, measure=measure)
    both = matched(out, reference, f"rep_year_{measure}")
    assert_close(both, STATS)
    np.testing.assert_allclose(both["p_adjusted"], both["p_holm"], atol=TOL)
    out = shipped.compare(["y1", "y2"], "year", baseline=2022, by="region", measure=measure,
                          adjust="fdr_bh")
    both = matched(out, reference, f"rep_year_region_{measure}", by="region")
    assert_close(both, STATS)
    np.testing.assert_allclose(both["p_adjusted"], both["p_fdr_bh"], atol=TOL)


@pytest.mark.parametrize("measure", ["difference", "ratio", "odds_ratio"])
def test_harvest_jkn_factors(taylor, reference, measure):
    rep = taylor.replicate("jkn")
    out = compare(rep, ["y1", "y2"], between="year", baseline=2022, by="region",
                  measure=measure)
    both = matched(out, reference, f"rep_year_region_{measure}", by="region")
    assert_close(both, STATS)


@pytest.mark.parametrize("measure", ["difference", "ratio"])
def test_replicate_totals(shipped, reference, measure):
    out = compare(shipped, "x", between="year", baseline=2022, by="region",
                  measure=measure, kind="total")
    both = matched(out, reference, f"rep_x_total_year_region_{measure}", by="region")
    assert_close(both, ["estimate", "ci_low", "ci_high", "df", "p_value"])
    np.testing.assert_allclose(both["se"], both["se_r"], rtol=1e-9)


def test_replicate_trend(shipped, reference):
    out = trend(shipped, ["y1", "y2"], time="year", by="region")
    both = matched(out, reference, "rep_trend_region", by="region", group_col="time_last",
                   baseline_col="time_first")
    assert_close(both, ["estimate", "se", "ci_low", "ci_high", "df", "p_value"])


def test_replicate_and_taylor_differ_but_agree_roughly(shipped, taylor):
    a = compare(shipped, ["y1", "y2"], "year", 2022, by="region")
    b = compare(taylor, ["y1", "y2"], "year", 2022, by="region")
    np.testing.assert_allclose(a["estimate"], b["estimate"], rtol=1e-12)
    assert not np.allclose(a["se"], b["se"], rtol=1e-6)
    np.testing.assert_allclose(a["se"], b["se"], rtol=0.35)


def test_domain_df_needs_a_taylor_design(shipped):
    with pytest.raises(ValueError, match="df`='domain' needs a Taylor design"):
        compare(shipped, "y1", "year", 2022, df="domain")
