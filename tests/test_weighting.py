"""Weighting (harvest.weighting) against R survey 4.x: tests/reference/weighting.R."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import harvest as hv
from harvest._errors import CalibrationWarning, DataError

REF = Path(__file__).parent / "reference"
STYPE = {"E": 4421, "H": 755, "M": 1018}
SW = {"No": 1200, "Yes": 4994}


@pytest.fixture(scope="module")
def design():
    api = pd.read_csv(REF / "weighting_apistrat.csv")
    return hv.SurveyDesign(api, weights="pw", strata="stype", fpc="fpc")


def _weighted(design, name):
    cal = {"stype": STYPE, "api99": 3914069.0}
    return {
        "poststratify": lambda: design.poststratify("stype", STYPE),
        "rake": lambda: design.rake({"stype": STYPE, "sch.wide": SW}, tol=1e-12),
        "linear": lambda: design.calibrate(cal),
        "raking": lambda: design.calibrate(cal, method="raking"),
        "logit": lambda: design.calibrate(cal, method="logit", bounds=(0.7, 1.7)),
    }[name]()


@pytest.mark.parametrize("name", ["poststratify", "rake", "linear", "raking", "logit"])
def test_agrees_with_r(design, name):
    # 1e-6 relative for the closed forms, 1e-5 for the iterative ones
    tol = 1e-6 if name in ("poststratify", "linear") else 1e-5
    ref = pd.read_csv(REF / "weighting.csv", keep_default_na=False)
    ref = ref[ref["design"] == name]
    d = _weighted(design, name)
    got = {"mean_api00": d.mean("api00"), "total_enroll": d.total("enroll"),
           "mean_api00_by_sch.wide": d.mean("api00", by="sch.wide")}
    for stat, table in got.items():
        r = ref[ref["stat"] == stat]
        np.testing.assert_allclose(table["estimate"], r["estimate"], rtol=tol)
        np.testing.assert_allclose(table["se"], r["se"], rtol=tol)


def test_original_unchanged_and_totals_met(design):
    before = design.weights.copy()
    cal = design.calibrate({"stype": STYPE, "api99": 3914069.0})
    pd.testing.assert_series_equal(design.weights, before)
    assert np.isclose(cal.total("api99")["estimate"].iloc[0], 3914069.0)
    assert cal.weights.index.equals(design.data.index)


def test_errors(design):
    with pytest.raises(DataError, match="not in the margins"):
        design.poststratify("stype", {"E": 1, "H": 2})
    with pytest.raises(DataError, match="no row with positive weight"):
        design.poststratify("stype", {**STYPE, "X": 5})
    with pytest.raises(DataError, match="disagree on the population size"):
        design.rake({"stype": STYPE, "sch.wide": {"No": 1, "Yes": 2}})
    with pytest.raises(DataError, match="did not converge"):
        design.calibrate({"stype": STYPE, "api99": 3914069.0 * 3}, method="logit",
                         bounds=(0.9, 1.1))


def test_trim_and_nonresponse(design):
    tr = design.trim_weights(upper=40.0, strict=True)
    assert tr.weights.max() <= 40.0 + 1e-9
    with pytest.raises(DataError, match="cannot be met"):
        design.trim_weights(upper=30.0)
    assert np.isclose(tr.weights.sum(), design.weights.sum())
    data = design.data.assign(resp=(np.arange(len(design.data)) % 5 != 0).astype(int))
    d = hv.SurveyDesign(data, weights="pw", strata="stype", fpc="fpc")
    nr = d.adjust_nonresponse("resp", by="stype")
    assert (nr.weights[data["resp"] == 0] == 0).all()
    sums = nr.weights.groupby(data["stype"]).sum()
    np.testing.assert_allclose(sums, d.weights.groupby(data["stype"]).sum())


# -- replicate designs, nonresponse, chained steps: weighting_replicate.csv ----------------
POP = {"stype": STYPE, "api99": 3914069.0}
CASES = {  # (data, kind) -> bounds of linear_bounded, bounds of logit, upper of ps_trim
    ("apistrat", "taylor"): ((0.95, 1.04), (0.7, 1.7), 40.0),
    ("apistrat", "jkn"): ((0.95, 1.04), (0.7, 1.7), 40.0),
    ("apiclus1", "taylor"): ((0.41, 3.0), (0.2, 3.0), 45.0),
    ("apiclus1", "jk1"): ((0.41, 3.0), (0.2, 3.0), 45.0),
    ("apiclus1", "bootstrap"): ((0.1, 10.0), (0.05, 10.0), 45.0),
}
WEIGHTINGS = ["none", "poststratify", "rake", "linear", "raking", "logit", "linear_bounded",
              "ps_trim", "nonresponse"]
ITERATIVE = {"rake", "raking", "logit", "linear_bounded"}


@pytest.fixture(scope="module")
def api_designs():
    strat = pd.read_csv(REF / "weighting_apistrat.csv")
    clus = pd.read_csv(REF / "weighting_apiclus1.csv")
    for df, mod in ((strat, 7), (clus, 5)):
        df["yes"] = (df["sch.wide"] == "Yes").astype(int)
        df["resp"] = ((df["snum"] % mod) != (0 if mod == 7 else 2)).astype(int)
    boot = clus.merge(pd.read_csv(REF / "weighting_boot.csv"), on="snum", validate="1:1")
    dst = hv.SurveyDesign(strat, weights="pw", strata="stype", fpc="fpc")
    dcl = hv.SurveyDesign(clus, weights="pw", psu="dnum", fpc="fpc")
    return {("apistrat", "taylor"): dst, ("apistrat", "jkn"): dst.replicate("jkn"),
            ("apiclus1", "taylor"): dcl, ("apiclus1", "jk1"): dcl.replicate("jk1"),
            ("apiclus1", "bootstrap"): hv.ReplicateDesign(
                boot, weights="pw", replicate_weights="rw", method="bootstrap")}


def _weigh(d, name, bounds, logit, upper):
    return {
        "none": lambda: d,
        "poststratify": lambda: d.poststratify("stype", STYPE),
        "rake": lambda: d.rake({"stype": STYPE, "sch.wide": SW}, tol=1e-9),
        "linear": lambda: d.calibrate(POP),
        "raking": lambda: d.calibrate(POP, method="raking"),
        "logit": lambda: d.calibrate(POP, method="logit", bounds=logit),
        "linear_bounded": lambda: d.calibrate(POP, bounds=bounds),
        "ps_trim": lambda: d.poststratify("stype", STYPE).trim_weights(upper=upper,
                                                                       strict=True),
        "nonresponse": lambda: d.adjust_nonresponse("resp", by="stype"),
    }[name]()


def _stats(d):
    return {"mean_api00": d.mean("api00"), "total_enroll": d.total("enroll"),
            "prop_yes": d.proportion("yes"), "ratio_api00_api99": d.ratio("api00", "api99"),
            "mean_api00_by_sch.wide": d.mean("api00", by="sch.wide"),
            "total_enroll_by_stype": d.total("enroll", by="stype")}


def _max_rel(design, ref):
    worst = 0.0
    for stat, table in _stats(design).items():
        r = ref[ref["stat"] == stat]
        assert len(r) == len(table), stat
        size = np.abs(r["estimate"].to_numpy())
        for col in ("estimate", "se"):
            got, want = table[col].to_numpy(), r[col].to_numpy()
            # an SE that is zero up to rounding (a margin's own proportion) is compared
            # on the scale of 1e-6 of the estimate
            floor = np.maximum(np.abs(want), 1e-6 * size)
            worst = max(worst, float(np.max(np.abs(got - want) / floor)))
    return worst


@pytest.mark.parametrize("case", list(CASES), ids="-".join)
@pytest.mark.parametrize("name", WEIGHTINGS)
def test_replicate_and_chained_agree_with_r(api_designs, case, name):
    # tolerance: 1e-6 relative; 1e-5 for the iterative methods (rake, raking, logit, bounds)
    ref = pd.read_csv(REF / "weighting_replicate.csv", keep_default_na=False)
    ref = ref[(ref["data"] == case[0]) & (ref["kind"] == case[1]) & (ref["design"] == name)]
    assert len(ref), "no R reference"
    tol = 1e-5 if name in ITERATIVE else 1e-6
    d = _weigh(api_designs[case], name, *CASES[case])
    assert _max_rel(d, ref) < tol
    if case[1] == "taylor" and case[0] == "apiclus1" or case == ("apistrat", "taylor"):
        # replicate() of the weighted Taylor design = R's weighting of the replicate design
        kind = "jkn" if case[0] == "apistrat" else "jk1"
        rep = d.replicate(kind)
        ref = pd.read_csv(REF / "weighting_replicate.csv", keep_default_na=False)
        ref = ref[(ref["data"] == case[0]) & (ref["kind"] == kind) & (ref["design"] == name)]
        assert _max_rel(rep, ref) < tol


def test_replicate_weighting_leaves_design_and_batch_alone(api_designs):
    rep = api_designs[("apiclus1", "jk1")]
    before = rep.mean("api00")
    cal = rep.calibrate(POP, method="raking")
    pd.testing.assert_frame_equal(rep.mean("api00"), before)
    assert not hasattr(rep, "_rep_steps")
    small = hv.SurveyDesign(rep.data, weights="pw", psu="dnum", fpc="fpc").replicate(
        "jk1", batch=4).calibrate(POP, method="raking")
    pd.testing.assert_frame_equal(small.mean("api00", by="stype"),
                                  cal.mean("api00", by="stype"), rtol=1e-12)
    assert np.isclose(cal.total("api99")["estimate"].iloc[0], POP["api99"])
    assert cal.total("api99")["se"].iloc[0] < 1e-6 * POP["api99"]   # calibrated in each
    sub = cal.subset(cal.data["stype"] == "E").mean("api00")
    assert sub["n"].iloc[0] == (cal.data["stype"] == "E").sum()


def test_replicate_calibration_that_fails_warns(api_designs):
    rep = api_designs[("apiclus1", "jk1")]
    with pytest.warns(CalibrationWarning, match="did not converge in"):
        rep.calibrate(POP, method="logit", bounds=(0.41, 1.9))


def test_replicate_of_weighted_subset_refused(design):
    ps = design.poststratify("stype", STYPE)
    with pytest.raises(ValueError, match="subset"):
        ps.subset(design.data["stype"] == "E").replicate("jkn")


def test_psu_level_linear_path_equals_row_blocks(api_designs, monkeypatch):
    # linear calibration / post-stratification of generated factors runs at PSU level;
    # the row-block path (every other case) must give the same replicate estimates
    rep = api_designs[("apiclus1", "jk1")]
    fast = [rep.calibrate(POP).mean("api00", by="stype"),
            rep.poststratify("stype", STYPE).total("enroll", by="sch.wide")]
    monkeypatch.setattr(hv.ReplicateDesign, "_linear_sums", lambda self, *a: None)
    monkeypatch.setattr(hv.ReplicateDesign, "_psu_products", lambda self, *a: None)
    rows = [rep.calibrate(POP).mean("api00", by="stype"),
            rep.poststratify("stype", STYPE).total("enroll", by="sch.wide")]
    for a, b in zip(fast, rows, strict=True):
        pd.testing.assert_frame_equal(a, b, rtol=1e-11)
