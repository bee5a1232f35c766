"""Weighting (harvest.weighting) against R survey 4.x: tests/reference/weighting.R."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import harvest as hv
from harvest._errors import DataError

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
