"""SurveyDesign: codes, fpc, subset, lonely PSUs, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import harvest as hv
from harvest import DataError
from harvest.design import SurveyDesign

# Lonely-PSU policies are applied on purpose here (R reference cases): their
# LonelyPSUWarning is tested in tests/test_zero_weight_lonely.py.
pytestmark = pytest.mark.filterwarnings("ignore::harvest._errors.LonelyPSUWarning")

REF = Path(__file__).parent / "reference"
MISSION = pd.read_csv(REF / "mission_taylor.csv")


@pytest.fixture
def small():
    return pd.DataFrame({
        "stratum": ["a", "a", "a", "a", "b", "b", "b", "b"],
        "psu": [1, 1, 2, 2, 1, 1, 2, 3],          # labels repeat across strata (nested)
        "w": [1.0, 2.0, 1.5, 1.0, 3.0, 2.0, 1.0, 2.0],
        "N": [10, 10, 10, 10, 30, 30, 30, 30],
        "y": [1, 0, 1, 1, 0, 0, 1, 0],
        "g": ["x", "y", "x", "y", "x", "y", "x", "y"],
    })


def test_package_root_exports_survey_design():
    assert hv.SurveyDesign is SurveyDesign


def test_codes_nest_psus_within_strata(small):
    c = SurveyDesign(small, weights="w", strata="stratum", psu="psu", fpc="N")._codes
    assert c.n_psus == 5 and c.n_strata == 2
    np.testing.assert_array_equal(c.n_psu, [2, 3])
    np.testing.assert_array_equal(c.psu_stratum, [0, 0, 1, 1, 1])
    np.testing.assert_array_equal(c.row_psu, [0, 0, 1, 1, 2, 2, 3, 4])
    np.testing.assert_allclose(c.fraction, [2 / 10, 3 / 30])
    np.testing.assert_array_equal(c.weights, small["w"].to_numpy())


def test_fpc_as_fraction_equals_fpc_as_population(small):
    frac = small.assign(N=np.where(small["stratum"] == "a", 2 / 10, 3 / 30))
    a = SurveyDesign(small, weights="w", strata="stratum", psu="psu", fpc="N")
    b = SurveyDesign(frac, weights="w", strata="stratum", psu="psu", fpc="N")
    np.testing.assert_allclose(a._codes.fraction, b._codes.fraction)
    pd.testing.assert_frame_equal(a.mean("y"), b.mean("y"))


def test_weights_none_with_fpc_uses_inverse_fraction(small):
    """As R svydesign: no weights but an fpc gives weights N_h / n_h."""
    d = SurveyDesign(small, strata="stratum", psu="psu", fpc="N")
    np.testing.assert_allclose(d._codes.weights, np.repeat([10 / 2, 30 / 3], 4))
    assert np.all(SurveyDesign(small, psu="psu")._codes.weights == 1.0)


def test_strata_from_several_columns():
    d = SurveyDesign(MISSION, weights="weight", strata=["year", "region"], psu="district",
                     fpc="n_districts", lonely_psu="remove")
    assert d._codes.n_strata == 10
    # the label of each stratum is the (year, region) pair
    assert d._codes.stratum_labels[0] == (2023, "Ahal")


def test_design_never_touches_callers_frame(small):
    before = small.copy()
    d = SurveyDesign(small, weights="w", strata="stratum", psu="psu", fpc="N")
    d.proportion("y", by="g")
    d.subset(small["g"] == "x").mean("y", na="drop")
    pd.testing.assert_frame_equal(small, before)
    assert d.data is small


# -- subset -----------------------------------------------------------------------------
def test_subset_keeps_every_psu_for_the_variance(small):
    d = SurveyDesign(small, weights="w", strata="stratum", psu="psu", fpc="N")
    sub = d.subset(small["g"] == "x")
    # same as a `by` domain: estimate, se and df of the domain
    by = d.mean("y", by="g").iloc[0]
    one = sub.mean("y").iloc[0]
    for column in ["estimate", "se", "df", "deff", "n"]:
        assert one[column] == pytest.approx(by[column], rel=1e-12)
    # the subset design still knows every PSU
    assert sub._codes.n_psus == d._codes.n_psus
    np.testing.assert_array_equal(sub._codes.n_psu, d._codes.n_psu)


def test_subset_missing_mask_values_are_false(small):
    d = SurveyDesign(small, weights="w", psu="psu")
    mask = pd.Series([True, None, True, False, None, True, True, False], dtype="boolean")
    assert d.subset(mask).mean("y")["n"].iloc[0] == 4


@pytest.mark.parametrize("mask", [np.zeros(8, bool), [False] * 8])
def test_subset_selecting_nothing_is_an_error(small, mask):
    d = SurveyDesign(small, weights="w", psu="psu")
    with pytest.raises(DataError, match="selects no rows"):
        d.subset(mask)


def test_subset_mask_must_be_boolean_and_full_length(small):
    d = SurveyDesign(small, weights="w", psu="psu")
    with pytest.raises(DataError, match="one value per row"):
        d.subset([True, False])
    with pytest.raises(DataError, match=r"True/False; found 'yes' in row 1"):
        d.subset([True, "yes", True, True, True, True, True, True])


# -- lonely PSUs ------------------------------------------------------------------------
def test_fail_names_the_lonely_stratum():
    d = SurveyDesign(MISSION, weights="weight", strata=["year", "region"], psu="district",
                     fpc="n_districts")
    with pytest.raises(DataError, match=r"Stratum \(2024, 'Balkan'\).*only one PSU"):
        d.proportion("civil_servants")
    # a domain that does not touch the lonely stratum needs no policy (as R)
    ok = d.subset(MISSION["region"] != "Balkan").proportion("civil_servants")
    assert np.isfinite(ok["se"]).all()


def test_certainty_and_remove_agree_and_adjust_adds_variance():
    se = {}
    for policy in ["remove", "certainty", "adjust", "average"]:
        d = SurveyDesign(MISSION, weights="weight", strata=["year", "region"],
                         psu="district", fpc="n_districts", lonely_psu=policy)
        se[policy] = d.total("n_children")["se"].iloc[0]
    assert se["remove"] == se["certainty"]
    assert se["adjust"] > se["remove"] and se["average"] > se["remove"]


def test_census_stratum_is_not_lonely():
    """A single PSU that is the whole stratum population adds nothing, even under fail."""
    df = pd.DataFrame({"h": [1, 1, 2, 2, 2], "psu": [1, 1, 2, 3, 4], "N": [1, 1, 5, 5, 5],
                       "y": [1.0, 2.0, 3.0, 4.0, 8.0]})
    d = SurveyDesign(df, strata="h", psu="psu", fpc="N")
    t = d.total("y")
    rest = SurveyDesign(df.iloc[2:], strata="h", psu="psu", fpc="N").total("y")
    assert t["se"].iloc[0] == pytest.approx(rest["se"].iloc[0], rel=1e-12)


# -- bad input --------------------------------------------------------------------------
@pytest.mark.parametrize("argument", ["weights", "strata", "psu", "fpc"])
def test_unknown_column(small, argument):
    with pytest.raises(DataError, match=rf"`{argument}`: column 'nope' is not in the data"):
        SurveyDesign(small, **{argument: "nope"})


def test_unknown_variable_and_by_column(small):
    d = SurveyDesign(small, psu="psu")
    with pytest.raises(DataError, match="`variables`: column 'zz'"):
        d.mean("zz")
    with pytest.raises(DataError, match="`by`: column 'zz'"):
        d.mean("y", by="zz")
    with pytest.raises(DataError, match="`denominator`: column 'zz'"):
        d.ratio("y", "zz")


def test_non_numeric_weights(small):
    bad = small.assign(w=["1", "2", "x", "1", "1", "1", "1", "1"])
    with pytest.raises(DataError,
                       match=r"`weights` column 'w' must be numeric; found 'x' .* in row 2"):
        SurveyDesign(bad, weights="w")


def test_negative_weights_name_rows(small):
    bad = small.assign(w=[1.0, -2.0, 1, 1, 1, -1, 1, 1])
    with pytest.raises(DataError, match=r"'w' has negative values \(-2.0\) in rows 1, 5"):
        SurveyDesign(bad, weights="w")


def test_missing_weights_name_rows(small):
    bad = small.assign(w=[1.0, np.nan, 1, 1, 1, 1, 1, 1])
    with pytest.raises(DataError, match=r"'w' has missing or infinite values.*row 1"):
        SurveyDesign(bad, weights="w")


@pytest.mark.parametrize("argument, column", [("strata", "stratum"), ("psu", "psu")])
def test_nan_in_design_columns(small, argument, column):
    bad = small.astype({column: object})
    bad.loc[3, column] = None
    with pytest.raises(DataError, match=rf"`{argument}` column '{column}' has missing.*row 3"):
        SurveyDesign(bad, **{argument: column})


def test_fpc_must_be_constant_within_stratum(small):
    bad = small.assign(N=[10, 10, 11, 10, 30, 30, 30, 30])
    with pytest.raises(DataError, match=r"'N' varies within stratum 'a'"):
        SurveyDesign(bad, strata="stratum", psu="psu", fpc="N")


def test_fpc_smaller_than_sample_is_an_error(small):
    bad = small.assign(N=[1, 1, 1, 1, 30, 30, 30, 30])
    with pytest.raises(DataError, match=r"stratum 'a' but the sample has 2 PSUs"):
        SurveyDesign(bad, strata="stratum", psu="psu", fpc="N")


def test_fpc_mixing_counts_and_fractions(small):
    bad = small.assign(N=[10, 10, 10, 10, 0.5, 0.5, 0.5, 0.5])
    with pytest.raises(DataError, match="mixes population sizes"):
        SurveyDesign(bad, strata="stratum", psu="psu", fpc="N")


def test_bad_lonely_policy_and_data(small):
    with pytest.raises(ValueError, match="`lonely_psu` must be one of"):
        SurveyDesign(small, lonely_psu="drop")
    with pytest.raises(TypeError, match="DataFrame"):
        SurveyDesign(small.to_numpy())
    with pytest.raises(DataError, match="no rows"):
        SurveyDesign(small.iloc[:0])


def test_strings_in_indicator_name_column_rows_and_value(small):
    bad = small.astype({"y": object})
    bad.loc[[2, 6], "y"] = "yes"
    d = SurveyDesign(bad, psu="psu")
    with pytest.raises(DataError, match=r"column 'y' must be 0/1.*found 'yes' in rows 2, 6"):
        d.proportion("y")
    with pytest.raises(DataError, match=r"column 'y' must be numeric; found 'yes'"):
        d.mean("y")


def test_proportion_rejects_values_other_than_0_1(small):
    d = SurveyDesign(small.assign(y=[0, 1, 2, 0, 1, 1, 0, 0]), psu="psu")
    with pytest.raises(DataError, match=r"must be 0/1.*found 2 in row 2"):
        d.proportion("y")


def test_bool_indicator_is_accepted(small):
    d = SurveyDesign(small.assign(b=small["y"].astype(bool)), psu="psu")
    a = d.proportion("b")
    b = d.proportion("y")
    np.testing.assert_allclose(a[["estimate", "se"]], b[["estimate", "se"]])


def test_missing_values_fail_or_drop(small):
    data = small.assign(y=[1, np.nan, 1, 1, 0, np.nan, 1, 0])
    d = SurveyDesign(data, weights="w", strata="stratum", psu="psu")
    with pytest.raises(DataError, match=r"column 'y' has 2 missing value\(s\) in rows 1, 5"):
        d.proportion("y")
    dropped = d.proportion("y", na="drop")
    assert dropped["n"].iloc[0] == 6
    # dropping keeps the design: same as a subset to the non-missing rows
    sub = d.subset(data["y"].notna()).proportion("y")
    np.testing.assert_allclose(dropped[["estimate", "se", "deff"]], sub[["estimate", "se",
                                                                          "deff"]])
    with pytest.raises(ValueError, match="`na` must be one of"):
        d.proportion("y", na="ignore")


def test_nan_in_by_column_is_an_error(small):
    data = small.assign(g=["x", None, "x", "y", "x", "y", "x", "y"])
    with pytest.raises(DataError, match=r"`by` column 'g' has missing values.*row 1"):
        SurveyDesign(data, psu="psu").mean("y", by="g")


def test_bad_options(small):
    d = SurveyDesign(small, psu="psu")
    with pytest.raises(ValueError, match="`ci` must be one of"):
        d.proportion("y", ci="exact")
    with pytest.raises(ValueError, match="`level`"):
        d.mean("y", level=95)
    with pytest.raises(ValueError, match="one per numerator"):
        d.ratio(["y", "w"], ["w", "y", "N"])


def test_domain_in_one_psu_of_a_larger_stratum_is_not_lonely():
    """R's survey.adjust.domain.lonely = FALSE: no error, the ordinary formula."""
    df = pd.DataFrame({"h": [1, 1, 1, 1], "psu": [1, 1, 2, 2], "y": [1.0, 3.0, 2.0, 2.0],
                       "g": ["a", "a", "b", "b"]})
    out = SurveyDesign(df, strata="h", psu="psu").total("y", by="g")
    # domain a: PSU totals (4, 0) -> 2/(2-1) * ((4-2)^2 + (0-2)^2) = 16
    assert out["se"].iloc[0] ** 2 == pytest.approx(16.0)
    assert out["df"].tolist() == [0.0, 0.0]
