"""harvest.forced_labour: the ICLS 2018 classification and its design-based shares."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

import harvest as hv
from harvest.forced_labour import ILO_RULES, Indicator, classify, forced_labour_share


def test_both_dimensions_must_hold():
    df = pd.DataFrame({
        "voluntary": ["no", "no", "yes", "yes", None, None, "no"],
        "told_to_participate": [0, 0, 0, 0, np.nan, np.nan, 1],
        "consequences": ["dismissal", "none", "dismissal", "none", "none", "reprimand",
                         "bonus_loss other"],
    })
    out = classify(df, "employee")
    np.testing.assert_array_equal(out["involuntary"], [1, 1, 0, 0, np.nan, np.nan, 1])
    np.testing.assert_array_equal(out["menace"], [1, 0, 1, 0, 0, 1, 1])
    # a missing involuntary answer with menace 0 is still decided; with menace 1 it is not
    np.testing.assert_array_equal(out["forced_labour"], [1, 0, 0, 0, 0, np.nan, 1])
    assert out["category"].tolist()[:5] == ["privately_imposed", "not_forced_labour",
                                            "not_forced_labour", "not_forced_labour",
                                            "not_forced_labour"]
    assert pd.isna(out["category"].iloc[5])
    assert out["category"].iloc[6] == "state_imposed"
    assert (out["reference_period"] == ILO_RULES["employee"].reference_period).all()


def test_rules_are_data():
    df = pd.DataFrame({"voluntary": ["dont_know"], "consequences": ["other"],
                       "employer_type": ["farmer"], "recruited": ["farmer"]})
    assert classify(df, "picker")["forced_labour"].iloc[0] == 0
    own = {"reference_period": "2024 harvest, September to November",
           "involuntary": [{"name": "unsure", "column": "voluntary",
                            "answers": ("no", "dont_know")}],
           "menace": [{"name": "any", "column": "consequences", "answers": ("other",),
                       "multi": True}]}
    out = classify(df, rules=own)
    assert out["forced_labour"].iloc[0] == 1
    assert out["category"].iloc[0] == "privately_imposed"     # no state indicator set
    rules = dataclasses.replace(
        ILO_RULES["picker"], menace=(Indicator("o", "consequences", ("other",), True),),
        involuntary=(Indicator("u", "voluntary", ("dont_know",)),))
    assert classify(df, rules=rules)["forced_labour"].iloc[0] == 1
    with pytest.raises(hv.DataError, match="menace"):
        classify(df[["voluntary"]], "picker")
    with pytest.raises(ValueError, match="reference period"):
        classify(df, rules=dataclasses.replace(rules, reference_period=" "))


def test_share_with_design_se():
    employees = hv.datasets.load("employees")
    before = employees.copy()
    design = hv.SurveyDesign(employees, weights="weight", strata="stratum",
                             psu="district", fpc="n_districts")
    out = forced_labour_share(design, "employee", by="year")
    pd.testing.assert_frame_equal(employees, before)
    flags = classify(employees, "employee")
    manual = hv.SurveyDesign(employees.assign(fl=flags["forced_labour"]), weights="weight",
                             strata="stratum", psu="district", fpc="n_districts"
                             ).proportion("fl", by="year", na="drop")
    got = out[out["indicator"] == "forced_labour"].reset_index(drop=True)
    np.testing.assert_allclose(got["estimate"], manual["estimate"], rtol=1e-12)
    np.testing.assert_allclose(got["se"], manual["se"], rtol=1e-12)
    parts = out.pivot(index="year", columns="indicator", values="estimate")
    np.testing.assert_allclose(parts["forced_labour"],
                               parts["state_imposed_forced_labour"]
                               + parts["privately_imposed_forced_labour"], rtol=1e-12)
