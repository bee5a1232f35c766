"""design.vcov and design.contrast against R vcov(svyby(..., covmat=TRUE)) and svycontrast.

Reference values: tests/reference/multistage_vcov.csv and multistage_contrast.csv, written
by tests/reference/multistage.R. Agreement to 1e-6 relative.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harvest.design import SurveyDesign

REF = Path(__file__).parent / "reference"
TOL = 1e-6


@pytest.fixture(scope="module")
def designs():
    api1 = pd.read_csv(REF / "multistage_apiclus1.csv")
    api1["yes"] = (api1["sch.wide"] == "Yes").astype(int)
    api2 = pd.read_csv(REF / "multistage_apiclus2.csv")
    return {"clus1": SurveyDesign(api1, weights="pw", psu="dnum", fpc="fpc"),
            "clus2": SurveyDesign(api2, psu=["dnum", "snum"], fpc=["fpc1", "fpc2"])}


TABLES = {  # case -> (design, variables, by, kind, denominator)
    "apiclus1_mean": ("clus1", "api00", "stype", "mean", None),
    "apiclus1_proportion": ("clus1", "yes", "stype", "proportion", None),
    "apiclus1_total2": ("clus1", ["api00", "api99"], "stype", "total", None),
    "apiclus1_ratio": ("clus1", "api00", "stype", "ratio", "api99"),
    "apiclus2_mean": ("clus2", "api00", "stype", "mean", None),
    "apiclus1_nobys": ("clus1", ["api00", "api99"], None, "mean", None),
}

FUNCTIONS = {
    "E / M": lambda p: p["E"] / p["M"],
    "log E - log H": lambda p: np.log(p["E"]) - np.log(p["H"]),
    "E * H / M^2": lambda p: p["E"] * p["H"] / p["M"] ** 2,
    "odds ratio E/H": lambda p: (p["E"] / (1 - p["E"])) / (p["H"] / (1 - p["H"])),
    "growth E": lambda p: p["E:api00"] / p["E:api99"] - 1,
    "H / E": lambda p: p["H"] / p["E"],
}
LINEAR = {
    "E - M": {"E": 1, "M": -1}, "mean of E, H": {"E": 0.5, "H": 0.5},
    "H - M": {"H": 1, "M": -1}, "E - H": {"E": 1, "H": -1},
    "api00 - api99": {"api00": 1, "api99": -1},
}


def _args(designs, case):
    name, variables, by, kind, den = TABLES[case]
    return designs[name], dict(variables=variables, by=by, kind=kind, denominator=den)


@pytest.mark.parametrize("case", list(TABLES))
def test_vcov_agrees_with_r(designs, case):
    ref = pd.read_csv(REF / "multistage_vcov.csv")
    ref = ref[ref["case"] == case]
    design, args = _args(designs, case)
    v = design.vcov(**args)
    ours = np.array([v.loc[r, c] for r, c in zip(ref["row"], ref["col"], strict=True)])
    rel = np.abs(ours - ref["value"].to_numpy()) / np.abs(ref["value"].to_numpy())
    assert rel.max() < TOL
    assert list(v.index) == list(v.columns)
    assert np.allclose(v.to_numpy(), v.to_numpy().T)


@pytest.mark.parametrize("case", sorted(set(pd.read_csv(REF / "multistage_contrast.csv")
                                            ["case"])))
def test_contrast_agrees_with_r(designs, case):
    ref = pd.read_csv(REF / "multistage_contrast.csv")
    ref = ref[ref["case"] == case]
    design, args = _args(designs, case)
    coefficients = {c: LINEAR[c] for c in ref["contrast"] if c in LINEAR}
    function = {c: FUNCTIONS[c] for c in ref["contrast"] if c in FUNCTIONS}
    t = design.contrast(**args, coefficients=coefficients or None,
                        function=function or None).set_index("contrast")
    t = t.loc[ref["contrast"]]
    for column in ("estimate", "se"):
        rel = np.abs(t[column].to_numpy() - ref[column].to_numpy()) / np.abs(ref[column])
        assert rel.max() < TOL, (column, t[column].to_numpy(), ref[column].to_numpy())


def test_contrast_columns_interval_and_p_value(designs):
    from scipy import stats

    t = designs["clus1"].contrast("api00", by="stype", kind="mean",
                                  coefficients={"E - M": {"E": 1, "M": -1}}, level=0.9)
    assert list(t.columns) == ["contrast", "estimate", "se", "ci_low", "ci_high", "level",
                               "df", "p_value"]
    row = t.iloc[0]
    assert row["df"] == 14.0           # 15 districts, one stratum (R degf)
    q = stats.t.ppf(0.95, 14)
    assert row["ci_low"] == pytest.approx(row["estimate"] - q * row["se"], rel=1e-12)
    assert row["p_value"] == pytest.approx(
        2 * stats.t.sf(abs(row["estimate"] / row["se"]), 14), rel=1e-10)


def test_linear_function_equals_coefficients(designs):
    d = designs["clus2"]
    a = d.contrast("api00", by="stype", kind="mean", coefficients={"x": {"E": 2, "M": -1}})
    b = d.contrast("api00", by="stype", kind="mean",
                   function={"x": lambda p: 2 * p["E"] - p["M"]})
    assert b["estimate"].iloc[0] == pytest.approx(a["estimate"].iloc[0], rel=1e-12)
    assert b["se"].iloc[0] == pytest.approx(a["se"].iloc[0], rel=1e-9)


def test_non_vectorised_function_and_coefficient_list(designs):
    import math

    d = designs["clus1"]
    t = d.contrast("api00", by="stype", kind="mean",
                   coefficients={"list": [1, 0, -1]},
                   function={"math": lambda p: math.log(p["E"]) - math.log(p["H"])})
    ref = pd.read_csv(REF / "multistage_contrast.csv").set_index("contrast")
    assert t["se"].iloc[0] == pytest.approx(ref.loc["E - M", "se"], rel=1e-9)
    assert t["se"].iloc[1] == pytest.approx(ref.loc["log E - log H", "se"], rel=1e-6)


def test_contrast_input_errors(designs):
    d = designs["clus1"]
    with pytest.raises(ValueError, match="needs `coefficients` or `function`"):
        d.contrast("api00", by="stype", kind="mean")
    with pytest.raises(ValueError, match="'Z', which is not an estimate"):
        d.contrast("api00", by="stype", kind="mean", coefficients={"x": {"Z": 1}})
    with pytest.raises(ValueError, match="3 numbers"):
        d.contrast("api00", by="stype", kind="mean", coefficients={"x": [1, 2]})
    with pytest.raises(ValueError, match="must be callable"):
        d.contrast("api00", by="stype", kind="mean", function={"x": 3})
    with pytest.raises(ValueError, match="needs `denominator`"):
        d.vcov("api00", by="stype", kind="ratio")


def test_replicate_design_vcov_and_contrast(designs):
    rep = designs["clus1"].replicate("jk1")
    v = rep.vcov("api00", by="stype", kind="mean")
    est = rep.replicate_estimates("api00", by="stype")
    assert v.shape == (3, 3)
    t = rep.contrast("api00", by="stype", kind="mean", coefficients={"d": {"E": 1, "M": -1}})
    g = np.array([1.0, 0.0, -1.0])
    assert t["se"].iloc[0] == pytest.approx(float(np.sqrt(g @ v.to_numpy() @ g)), rel=1e-12)
    assert est.shape[1] == 3


def test_labels_for_two_by_columns_and_several_indicators():
    df = pd.DataFrame({"psu": range(12), "r": list("aabb") * 3, "t": [1, 2] * 6,
                       "y": np.arange(12.0), "z": np.arange(12.0) ** 2})
    d = SurveyDesign(df, psu="psu")
    v = d.vcov("y", by=["r", "t"], kind="mean")
    assert list(v.index) == ["a.1", "a.2", "b.1", "b.2"]
    v2 = d.vcov(["y", "z"], by="r", kind="total")
    assert list(v2.columns) == ["a:y", "a:z", "b:y", "b:z"]
    table = d.total(["y", "z"], by="r")
    np.testing.assert_allclose(np.sqrt(np.diag(v2.to_numpy())), table["se"], rtol=1e-12)


def test_a_contrast_ignores_an_empty_domain_it_does_not_use():
    df = pd.DataFrame({"psu": range(6), "g": list("aabbcc"),
                       "y": [1.0, 2, 3, 5, np.nan, np.nan]})
    d = SurveyDesign(df, psu="psu")
    t = d.contrast("y", by="g", kind="mean", na="drop",
                   coefficients={"b - a": {"b": 1, "a": -1}, "c - a": {"c": 1, "a": -1}})
    assert t["estimate"].iloc[0] == pytest.approx(2.5)
    assert np.isfinite(t["se"].iloc[0])
    assert np.isnan(t["estimate"].iloc[1]) and np.isnan(t["se"].iloc[1])
