"""harvest.compare: covariance from the design, edge cases, bad input, MDC, pool_years."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.multitest import multipletests

import harvest as hv
from harvest._errors import DataError, HarvestWarning
from harvest.compare import (
    COMPARE_COLUMNS,
    TREND_COLUMNS,
    compare,
    minimum_detectable_change,
    pool_years,
    trend,
)
from harvest.design import SurveyDesign

# Lonely-PSU policies are applied on purpose here (R reference cases): their
# LonelyPSUWarning is tested in tests/test_zero_weight_lonely.py.
pytestmark = pytest.mark.filterwarnings("ignore::harvest._errors.LonelyPSUWarning")

API_COLUMNS = ["indicator", "group", "baseline", "estimate_group", "estimate_baseline",
               "measure", "estimate", "se", "ci_low", "ci_high", "df", "p_value",
               "p_adjusted"]


def panel(rng, n_strata=3, psu_per_stratum=6, rows=8, years=(2022, 2023, 2024),
          shared=True):
    """Rows of districts visited in every year (shared=True) or in one year each."""
    records = []
    for h in range(n_strata):
        for j in range(psu_per_stratum):
            u = rng.normal(0, 1.5)
            for y in years:
                district = f"d{h}-{j}" if shared else f"d{h}-{j}-{y}"
                n = rows
                p = 1 / (1 + np.exp(-(-0.5 + u + 0.3 * (y - 2023))))
                records.append(pd.DataFrame({
                    "year": y, "stratum": f"s{h}", "region": "A" if h < 2 else "B",
                    "district": district, "weight": rng.uniform(1, 3, n),
                    "y": rng.binomial(1, p, n), "z": rng.binomial(1, 0.4, n),
                    "x": rng.gamma(2.0, 10.0 * np.exp(0.3 * u), n),
                    "N": 40 + 5 * h,
                }))
    return pd.concat(records, ignore_index=True)


@pytest.fixture
def data(rng):
    return panel(rng)


@pytest.fixture
def design(data):
    return SurveyDesign(data, weights="weight", strata="stratum", psu="district", fpc="N")


# ---------------------------------------------------------------------------------------
# the contrast and its variance come from the design's full covariance
# ---------------------------------------------------------------------------------------
def test_columns_are_the_api_set_then_documented_extras(design):
    out = compare(design, ["y", "z"], between="year", baseline=2022, by="region")
    assert list(out.columns) == ["region", *COMPARE_COLUMNS]
    assert COMPARE_COLUMNS[:13] == API_COLUMNS
    assert len(out) == 2 * 2 * 2  # regions x indicators x (years - baseline)
    assert set(out["measure"]) == {"difference"}
    t = trend(design, ["y", "z"], time="year", by="region")
    assert list(t.columns) == ["region", *TREND_COLUMNS]


@pytest.mark.parametrize("measure", ["difference", "ratio", "odds_ratio"])
def test_contrast_uses_the_full_covariance(design, measure):
    est_obj, est, vcov, _ = design._estimate_vcov("proportion", ["y"], by=["region", "year"])
    dom = est_obj.domains
    g = np.flatnonzero((dom["region"] == "B") & (dom["year"] == 2024))[0]
    b = np.flatnonzero((dom["region"] == "B") & (dom["year"] == 2022))[0]
    fun = {"difference": (lambda p: p, lambda p: 1.0),
           "ratio": (np.log, lambda p: 1 / p),
           "odds_ratio": (lambda p: np.log(p / (1 - p)), lambda p: 1 / (p * (1 - p)))}[measure]
    grad = np.zeros(len(est))
    grad[g], grad[b] = fun[1](est[g]), -fun[1](est[b])
    theta = fun[0](est[g]) - fun[0](est[b])
    se_scale = np.sqrt(grad @ vcov @ grad)
    assert abs(vcov[g, b]) > 1e-6  # shared districts: the years are correlated
    out = compare(design, "y", between="year", baseline=2022, by="region", measure=measure)
    row = out[(out["region"] == "B") & (out["group"] == 2024)].iloc[0]
    natural = theta if measure == "difference" else np.exp(theta)
    assert row["estimate"] == pytest.approx(natural, rel=1e-12)
    se_expected = se_scale if measure == "difference" else np.exp(theta) * se_scale
    assert row["se"] == pytest.approx(se_expected, rel=1e-10)
    # ignoring the covariance would give another standard error
    naive = np.sqrt(grad[g] ** 2 * vcov[g, g] + grad[b] ** 2 * vcov[b, b])
    assert abs(naive - se_scale) / se_scale > 0.05


def test_independent_years_have_zero_covariance_after_pooling(rng):
    frames = {y: panel(rng, years=(y,), shared=False).drop(columns="year")
              for y in (2023, 2024)}
    pooled = pool_years(frames, strata="stratum", psu="district", weights="weight", fpc="N")
    design = SurveyDesign(pooled, weights="weight", strata="stratum", psu="district",
                          fpc="N")
    out = compare(design, ["y", "z"], between="year", baseline=2023)
    per_year = [
        SurveyDesign(frames[y], weights="weight", strata="stratum", psu="district",
                     fpc="N").proportion(["y", "z"], ci="wald")
        for y in (2023, 2024)
    ]
    se = np.sqrt(per_year[0]["se"].to_numpy() ** 2 + per_year[1]["se"].to_numpy() ** 2)
    np.testing.assert_allclose(out["se"], se, rtol=1e-12)
    np.testing.assert_allclose(
        out["estimate"], per_year[1]["estimate"].to_numpy() - per_year[0]["estimate"].to_numpy(),
        rtol=1e-12)
    # design df of the pooled design: every year's PSUs minus every year's strata
    assert out["df"].iloc[0] == per_year[0]["df"].iloc[0] + per_year[1]["df"].iloc[0]


def test_shared_psus_kept_by_same_psus(rng):
    # the same districts (with the same district effects) visited in both years
    both = panel(rng, years=(2023, 2024))
    frames = {y: both[both["year"] == y].drop(columns="year").reset_index(drop=True)
              for y in (2023, 2024)}
    linked = pool_years(frames, strata="stratum", psu="district", weights="weight", fpc="N",
                        same_psus=True)
    assert set(linked["district"]) == set(both["district"])
    d_linked = SurveyDesign(linked, weights="weight", strata="stratum", psu="district",
                            fpc="N")
    _, _, vcov, _ = d_linked._estimate_vcov("proportion", ["y"], by=["year"])
    assert abs(vcov[0, 1]) > 1e-6
    out = compare(d_linked, "y", "year", 2023)
    assert out["se"].iloc[0] == pytest.approx(
        np.sqrt(vcov[0, 0] + vcov[1, 1] - 2 * vcov[0, 1]), rel=1e-12)


def test_swapping_group_and_baseline(design):
    a = compare(design, ["y", "z"], "year", 2022, measure="difference")
    b = compare(design, ["y", "z"], "year", 2024, measure="difference")
    a24 = a[a["group"] == 2024].reset_index(drop=True)
    b22 = b[b["group"] == 2022].reset_index(drop=True)
    np.testing.assert_allclose(a24["estimate"], -b22["estimate"], rtol=1e-12)
    np.testing.assert_allclose(a24["se"], b22["se"], rtol=1e-12)
    np.testing.assert_allclose(a24["p_value"], b22["p_value"], rtol=1e-10)
    r = compare(design, "y", "year", 2022, measure="odds_ratio")
    s = compare(design, "y", "year", 2024, measure="odds_ratio")
    assert r["estimate"].iloc[1] == pytest.approx(1 / s["estimate"].iloc[0], rel=1e-12)
    assert r["ci_low"].iloc[1] == pytest.approx(1 / s["ci_high"].iloc[0], rel=1e-12)


def test_all_pairs_order_and_count(design):
    out = compare(design, "y", between="year", by="region")
    assert out[["group", "baseline"]].values.tolist() == [[2023, 2022], [2024, 2022],
                                                          [2024, 2023]] * 2
    assert out["region"].tolist() == ["A"] * 3 + ["B"] * 3


def test_interval_and_p_value_use_t_on_the_design_df(design):
    out = compare(design, "y", "year", 2022, level=0.9, measure="difference")
    row = out.iloc[1]
    q = stats.t.ppf(0.95, row["df"])
    assert row["df"] == 18 - 3  # PSUs minus strata of the whole design
    assert row["ci_low"] == pytest.approx(row["estimate"] - q * row["se"], rel=1e-12)
    assert row["p_value"] == pytest.approx(
        2 * stats.t.sf(abs(row["estimate"] / row["se"]), row["df"]), rel=1e-12)
    fixed = compare(design, "y", "year", 2022, df=4)
    assert (fixed["df"] == 4).all()
    assert fixed["p_value"].iloc[1] > compare(design, "y", "year", 2022)["p_value"].iloc[1]


@pytest.mark.parametrize("adjust", ["holm", "bonferroni", "fdr_bh", None])
def test_adjustment_family_is_every_row_of_the_call(design, adjust):
    out = compare(design, ["y", "z"], "year", 2022, by="region", adjust=adjust)
    expected = (out["p_value"] if adjust is None
                else multipletests(out["p_value"], method=adjust)[1])
    np.testing.assert_allclose(out["p_adjusted"], expected, rtol=1e-12)
    assert (out["p_adjusted"] >= out["p_value"] - 1e-15).all()


@pytest.mark.parametrize("method", ["holm", "bonferroni", "fdr_bh"])
def test_adjustment_equals_statsmodels_with_ties_and_nan(method):
    from harvest.compare import _adjust

    rng = np.random.default_rng(5)
    p = np.r_[rng.uniform(0, 0.2, 30), [0.01, 0.01, 0.5, 1.0, 0.0], [np.nan, np.nan]]
    rng.shuffle(p)
    got = _adjust(p, method)
    ok = np.isfinite(p)
    np.testing.assert_allclose(got[ok], multipletests(p[ok], method=method)[1], rtol=1e-14)
    assert np.isnan(got[~ok]).all()
    assert (got[ok] <= 1).all()


def test_ratio_of_means_and_totals(design, data):
    out = compare(design, "x", "year", 2022, kind="mean", measure="ratio")
    means = design.mean("x", by="year")["estimate"].to_numpy()
    np.testing.assert_allclose(out["estimate"], means[1:] / means[0], rtol=1e-12)
    tot = compare(design, "x", "year", 2022, kind="total")
    totals = design.total("x", by="year")["estimate"].to_numpy()
    np.testing.assert_allclose(tot["estimate"], totals[1:] - totals[0], rtol=1e-12)
    rat = compare(design, "x", "year", 2022, kind="ratio", denominator="weight")
    assert rat["indicator"].iloc[0] == "x/weight"


def test_caller_frame_not_modified(data):
    before = data.copy()
    design = SurveyDesign(data, weights="weight", strata="stratum", psu="district", fpc="N")
    compare(design, ["y", "z"], "year", 2022, by="region", measure="odds_ratio")
    trend(design, "y")
    pd.testing.assert_frame_equal(data, before)


# ---------------------------------------------------------------------------------------
# edge cases
# ---------------------------------------------------------------------------------------
def test_proportion_zero_in_both_groups(data):
    data = data.assign(y=np.where(data["region"] == "A", 0, data["y"]))
    design = SurveyDesign(data, weights="weight", strata="stratum", psu="district", fpc="N")
    out = compare(design, "y", "year", 2022, by="region")
    a = out[out["region"] == "A"]
    assert (a["estimate"] == 0).all() and (a["se"] == 0).all()
    assert (a["p_value"] == 1).all()
    assert (a["ci_low"] == 0).all() and (a["ci_high"] == 0).all()


def test_ratio_with_a_zero_baseline_is_nan_with_a_warning(data):
    data = data.assign(y=np.where((data["region"] == "A") & (data["year"] == 2022), 0,
                                  data["y"]))
    design = SurveyDesign(data, weights="weight", strata="stratum", psu="district", fpc="N")
    with pytest.warns(HarvestWarning, match="no standard error"):
        out = compare(design, "y", "year", 2022, by="region", measure="ratio")
    a = out[out["region"] == "A"]
    assert np.isinf(a["estimate"]).all()
    assert a[["se", "ci_low", "ci_high", "p_value", "p_adjusted"]].isna().all().all()
    b = out[out["region"] == "B"]
    assert b["p_adjusted"].notna().all()
    np.testing.assert_allclose(b["p_adjusted"], multipletests(b["p_value"], method="holm")[1])


def test_baseline_missing_in_a_domain_gives_nan_rows(data):
    data = data[~((data["region"] == "B") & (data["year"] == 2022))].reset_index(drop=True)
    design = SurveyDesign(data, weights="weight", strata="stratum", psu="district", fpc="N")
    with pytest.warns(HarvestWarning, match="has no rows"):
        out = compare(design, "y", "year", 2022, by="region")
    assert len(out) == 4
    b = out[out["region"] == "B"]
    assert b["estimate_baseline"].isna().all() and b["estimate"].isna().all()
    assert (b["n_baseline"] == 0).all() and (b["n_group"] > 0).all()
    a = out[out["region"] == "A"]
    np.testing.assert_allclose(a["p_adjusted"], multipletests(a["p_value"], method="holm")[1])


def test_missing_values(data):
    data = data.copy()
    data.loc[[3, 50, 51], "y"] = np.nan
    design = SurveyDesign(data, weights="weight", strata="stratum", psu="district", fpc="N")
    with pytest.raises(DataError, match="'y'.*missing"):
        compare(design, "y", "year", 2022)
    out = compare(design, "y", "year", 2022, na="drop")
    est = design.proportion("y", by="year", na="drop")
    np.testing.assert_allclose(out["estimate_group"], est["estimate"].iloc[1:], rtol=1e-12)
    assert out["n_baseline"].iloc[0] == est["n"].iloc[0]


def test_zero_weights_and_subset(design, data):
    zero = data.assign(weight=np.where(data["region"] == "B", 0.0, data["weight"]))
    d_zero = SurveyDesign(zero, weights="weight", strata="stratum", psu="district", fpc="N")
    sub = design.subset(data["region"] == "A")
    a = compare(d_zero, "y", "year", 2022)
    b = compare(sub, "y", "year", 2022)
    np.testing.assert_allclose(a["estimate"], b["estimate"], rtol=1e-12)
    np.testing.assert_allclose(a["se"], b["se"], rtol=1e-12)
    assert a["df"].iloc[0] == 12 - 2  # the PSUs and strata holding positive weights


def test_one_psu_in_a_stratum(data):
    lonely = pd.concat([data, data.iloc[:4].assign(stratum="s9", district="lonely")],
                       ignore_index=True)
    with pytest.raises(DataError, match="only one PSU"):
        compare(SurveyDesign(lonely, weights="weight", strata="stratum", psu="district"),
                "y", "year", 2022)
    out = compare(SurveyDesign(lonely, weights="weight", strata="stratum", psu="district",
                               lonely_psu="certainty"), "y", "year", 2022)
    assert out["se"].notna().all()


# ---------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------
def test_bad_input(design):
    with pytest.raises(DataError, match="`baseline` 2019 is not a level of column 'year'"):
        compare(design, "y", "year", 2019)
    with pytest.raises(DataError, match="`between`: column 'yr' is not in the data"):
        compare(design, "y", "yr", 2022)
    with pytest.raises(ValueError, match="`measure` must be one of"):
        compare(design, "y", "year", 2022, measure="log_ratio")
    with pytest.raises(ValueError, match="`adjust` must be one of"):
        compare(design, "y", "year", 2022, adjust="BH")
    with pytest.raises(ValueError, match="odds_ratio.*kind='proportion'"):
        compare(design, "x", "year", 2022, measure="odds_ratio", kind="mean")
    with pytest.raises(ValueError, match="`between` column 'year' must not also be in `by`"):
        compare(design, "y", "year", 2022, by=["region", "year"])
    with pytest.raises(ValueError, match="`level` must be strictly between"):
        compare(design, "y", "year", 2022, level=95)
    with pytest.raises(ValueError, match="`power` must be strictly between"):
        compare(design, "y", "year", 2022, power=1.0)
    with pytest.raises(ValueError, match="`df` must be one of"):
        compare(design, "y", "year", 2022, df="residual")
    with pytest.raises(ValueError, match="`df` must be a positive number"):
        compare(design, "y", "year", 2022, df=0)
    with pytest.raises(TypeError, match="`design` must be a harvest design"):
        compare(design.data, "y", "year", 2022)
    with pytest.raises(DataError, match="must be 0/1"):
        compare(design, "x", "year", 2022)
    gap = design.data.assign(year=design.data["year"].where(design.data.index != 7))
    with pytest.raises(DataError, match="`between` column 'year' has missing values.*row 7"):
        compare(SurveyDesign(gap, weights="weight", strata="stratum", psu="district"),
                "y", "year", 2022)
    with pytest.raises(DataError, match="`time` column 'year' has missing values.*row 7"):
        trend(SurveyDesign(gap, weights="weight", strata="stratum", psu="district"), "y")
    one_year = design.subset(design.data["year"] == 2023)
    with pytest.raises(DataError, match="single level"):
        compare(one_year, "y", "year")


# ---------------------------------------------------------------------------------------
# trend
# ---------------------------------------------------------------------------------------
def test_trend_is_the_least_squares_slope(design):
    est = design.proportion(["y", "z"], by="year", ci="wald")
    out = trend(design, ["y", "z"], time="year")
    for v, row in zip(["y", "z"], out.itertuples(), strict=True):
        e = est[est["indicator"] == v]
        slope = np.polyfit(e["year"].to_numpy(float), e["estimate"].to_numpy(), 1)[0]
        assert row.estimate == pytest.approx(slope, rel=1e-10)
    assert (out["time_first"] == 2022).all() and (out["n_times"] == 3).all()
    # unequal spacing through scores: per unit of the score
    rounds = design.data.assign(rnd=design.data["year"].map({2022: "r1", 2023: "r2",
                                                             2024: "r3"}))
    d2 = SurveyDesign(rounds, weights="weight", strata="stratum", psu="district", fpc="N")
    out2 = trend(d2, "y", time="rnd", scores={"r1": 0, "r2": 2, "r3": 4})
    assert out2["estimate"].iloc[0] == pytest.approx(out["estimate"].iloc[0] / 2, rel=1e-10)
    with pytest.raises(DataError, match="not numeric.*scores"):
        trend(d2, "y", time="rnd")
    with pytest.raises(DataError, match="no value for level"):
        trend(d2, "y", time="rnd", scores={"r1": 0, "r2": 1})


def test_trend_needs_three_times(design, data):
    two = design.subset(data["year"] != 2024)
    with pytest.raises(DataError, match="at least three"):
        trend(two, "y")
    part = design.subset(~((data["region"] == "B") & (data["year"] == 2024)))
    with pytest.warns(HarvestWarning, match="fewer than three"):
        out = trend(part, "y", by="region")
    assert out.loc[out["region"] == "B", "estimate"].isna().all()
    assert out.loc[out["region"] == "A", "estimate"].notna().all()


# ---------------------------------------------------------------------------------------
# minimum detectable change
# ---------------------------------------------------------------------------------------
def test_mdc_column_and_function(design):
    out = compare(design, ["y", "z"], "year", 2022, level=0.95, power=0.8)
    mdc = minimum_detectable_change(out, power=0.8, alpha=0.05)
    np.testing.assert_allclose(out["mdc"], mdc, rtol=1e-12)
    df = out["df"].to_numpy()
    expected = (stats.t.ppf(0.975, df) + stats.t.ppf(0.8, df)) * out["se"].to_numpy()
    np.testing.assert_allclose(mdc, expected, rtol=1e-12)
    ratio = compare(design, "y", "year", 2022, measure="ratio")
    se_log = ratio["se"] / ratio["estimate"]
    expected = np.exp((stats.t.ppf(0.975, ratio["df"]) + stats.t.ppf(0.8, ratio["df"]))
                      * se_log)
    np.testing.assert_allclose(ratio["mdc"], expected, rtol=1e-12)
    assert (minimum_detectable_change(out, power=0.9) > mdc).all()


def test_mdc_gives_the_stated_power():
    # with many df, a true change equal to the MDC is detected with probability `power`
    se, alpha = 0.04, 0.05
    table = pd.DataFrame({"measure": ["difference"], "estimate": [0.01], "se": [se],
                          "df": [1e7]})
    for power in (0.5, 0.8, 0.9):
        mdc = minimum_detectable_change(table, power=power, alpha=alpha).iloc[0]
        z = stats.norm.ppf(1 - alpha / 2)
        achieved = stats.norm.sf(z - mdc / se) + stats.norm.cdf(-z - mdc / se)
        assert achieved == pytest.approx(power, abs=1e-4)


def test_mdc_bad_input():
    with pytest.raises(DataError, match="lacks column"):
        minimum_detectable_change(pd.DataFrame({"se": [0.1]}))
    with pytest.raises(ValueError, match="`alpha` must be strictly between"):
        minimum_detectable_change(pd.DataFrame({"measure": ["difference"], "estimate": [0],
                                                "se": [1.0], "df": [3]}), alpha=5)


# ---------------------------------------------------------------------------------------
# pool_years
# ---------------------------------------------------------------------------------------
def frames_for(rng):
    return {y: panel(rng, years=(y,), shared=True).drop(columns="year") for y in (2023, 2024)}


def test_pool_years_labels_and_inputs_untouched(rng):
    frames = frames_for(rng)
    copies = {y: f.copy() for y, f in frames.items()}
    pooled = pool_years(frames, strata="stratum", psu="district", weights="weight", fpc="N")
    for y in frames:
        pd.testing.assert_frame_equal(frames[y], copies[y])
    assert list(pooled.columns)[0] == "year"
    assert len(pooled) == sum(len(f) for f in frames.values())
    assert pooled["district"].str.startswith(("2023:", "2024:")).all()
    assert pooled.loc[pooled["year"] == 2024, "stratum"].str.startswith("2024:").all()
    assert not (set(pooled.loc[pooled["year"] == 2023, "district"])
                & set(pooled.loc[pooled["year"] == 2024, "district"]))
    # a list of frames that carry the year
    listed = pool_years([f.assign(year=y) for y, f in frames.items()], strata="stratum",
                        psu="district")
    assert listed["district"].tolist() == pooled["district"].tolist()


def test_pool_years_refuses_disagreeing_design_columns(rng):
    frames = frames_for(rng)
    with pytest.raises(DataError, match="`fpc` column 'N' is missing from the frame for 2024"):
        pool_years({2023: frames[2023], 2024: frames[2024].drop(columns="N")}, fpc="N")
    with pytest.raises(DataError, match="`psu` column 'district' has different dtypes"):
        bad = frames[2024].assign(district=pd.factorize(frames[2024]["district"])[0])
        pool_years({2023: frames[2023], 2024: bad}, psu="district")
    with pytest.raises(DataError, match="population sizes.*fractions"):
        bad = frames[2024].assign(N=0.2)
        pool_years({2023: frames[2023], 2024: bad}, strata="stratum", fpc="N")
    with pytest.raises(DataError, match="differs between years in stratum 's0'"):
        bad = frames[2024].assign(N=frames[2024]["N"] + 1)
        pool_years({2023: frames[2023], 2024: bad}, strata="stratum", psu="district",
                   fpc="N", same_psus=True)
    with pytest.raises(DataError, match="must equal the key 2024"):
        pool_years({2023: frames[2023], 2024: frames[2024].assign(year=2023)})
    with pytest.raises(DataError, match="has no column 'year'"):
        pool_years([frames[2023]])
    with pytest.raises(DataError, match="`weights` column 'weight' must be numeric"):
        pool_years({y: f.assign(weight=f["weight"].astype(str)) for y, f in frames.items()},
                   weights="weight")


def test_pool_years_without_strata(rng):
    frames = frames_for(rng)
    pooled = pool_years(frames, psu="district", weights="weight")
    assert pooled["district"].str.startswith(("2023:", "2024:")).all()
    pd.testing.assert_series_equal(pooled["stratum"],
                                   pd.concat([f["stratum"] for f in frames.values()],
                                             ignore_index=True))
    design = SurveyDesign(pooled, weights="weight", strata="year", psu="district")
    out = compare(design, "y", "year", 2023)
    assert out["df"].iloc[0] == pooled["district"].nunique() - 2


def test_package_root_exposes_pool_years():
    assert hv.pool_years is pool_years


def test_no_warning_on_a_plain_call(design):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compare(design, ["y", "z"], "year", 2022, by="region", measure="odds_ratio")


# ---------------------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------------------
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), scale=st.floats(0.01, 100.0),
       measure=st.sampled_from(["difference", "ratio", "odds_ratio"]))
def test_invariant_to_row_order_and_weight_scale(seed, scale, measure):
    rng = np.random.default_rng(seed)
    data = panel(rng, n_strata=2, psu_per_stratum=4, rows=5)
    design = SurveyDesign(data, weights="weight", strata="stratum", psu="district")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HarvestWarning)  # a 0 share on a log scale
        base = compare(design, ["y", "z"], "year", 2022, by="region", measure=measure)
        shuffled = data.sample(frac=1.0, random_state=np.random.default_rng(seed))
        shuffled = shuffled.assign(weight=shuffled["weight"] * scale)
        other = compare(SurveyDesign(shuffled, weights="weight", strata="stratum",
                                     psu="district"),
                        ["y", "z"], "year", 2022, by="region", measure=measure)
    pd.testing.assert_frame_equal(base, other, rtol=1e-9)


def test_pool_years_lives_in_prepare_and_keeps_its_old_paths():
    import harvest.compare
    import harvest.prepare

    assert hv.pool_years is harvest.prepare.pool_years is harvest.compare.pool_years
    assert "pool_years" not in harvest.compare.__all__
