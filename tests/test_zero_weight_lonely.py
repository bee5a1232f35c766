"""Zero-weight domains and lonely PSUs: R's numbers, and a warning that says what happened.

Reference: ``tests/reference/zero_weight_lonely.R`` (R survey 4.1.1) on
``zero_weight_data.csv``; its output is ``zero_weight_lonely.csv``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harvest._errors import EmptyDomainWarning, LonelyPSUWarning
from harvest.design import SurveyDesign

REF = Path(__file__).parent / "reference"
DATA = pd.read_csv(REF / "zero_weight_data.csv")
R = pd.read_csv(REF / "zero_weight_lonely.csv")


def _estimates(design, statistic):
    if statistic == "mean_y":
        return design.mean("y", by="g")
    if statistic == "total_x":
        return design.total("x", by="g")
    return design.ratio("x", "z", by="g")


def _check(table, ref, rtol=1e-9):
    assert table["g"].tolist() == ref["g"].tolist()
    np.testing.assert_allclose(table["estimate"], ref["estimate"], rtol=rtol)
    np.testing.assert_allclose(table["se"], ref["se"], rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("kind", ["taylor", "jkn"])
@pytest.mark.parametrize("statistic", ["mean_y", "total_x", "ratio_x_z"])
def test_zero_weight_domain_is_left_out_as_r_and_named(kind, statistic):
    design = SurveyDesign(DATA, weights="w", strata="st", psu="psu")
    if kind == "jkn":
        design = design.replicate("jkn")
    rows = np.flatnonzero(DATA["g"].eq("c"))
    with pytest.warns(EmptyDomainWarning) as caught:
        table = _estimates(design, statistic)
    message = str(caught[0].message)
    assert "g='c'" in message and f"rows {rows[0]}, {rows[1]}" in message
    assert "weight 0" in message and "R svyby" in message
    _check(table, R[(R["case"] == kind) & (R["statistic"] == statistic)])
    assert (table["n"] == 12).all()


def test_zero_weight_domain_warns_in_compare_and_not_for_a_subset():
    design = SurveyDesign(DATA, weights="w", strata="st", psu="psu")
    with pytest.warns(EmptyDomainWarning, match="g='c'"):
        design._estimate_vcov("mean", "y", by="g")
    # a subpopulation leaves its other rows out on purpose: no warning, same numbers
    sub = design.subset(DATA["g"] != "c")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = sub.mean("y", by="g")
        again = sub.subset(DATA["g"] != "d").mean("y", by="g")
    _check(out, R[(R["case"] == "taylor") & (R["statistic"] == "mean_y")])
    assert again["g"].tolist() == ["a", "b"]
    # zero weights in the data inside a subset still count as zero weights
    with pytest.warns(EmptyDomainWarning, match="g='c'"):
        design.subset(DATA["g"] != "a").mean("y", by="g")


def _lonely_data():
    base = DATA.loc[DATA["g"] != "c", ["st", "psu", "g", "y", "w"]]
    extra = pd.DataFrame({"st": 4, "psu": 13, "g": "e", "y": [1, 0, 1], "w": [2.0, 2, 3]})
    return pd.concat([base, extra], ignore_index=True)


@pytest.mark.parametrize("policy", ["remove", "certainty", "adjust", "average"])
def test_lonely_psu_policies_match_r_and_warn_naming_the_stratum(policy):
    design = SurveyDesign(_lonely_data(), weights="w", strata="st", psu="psu",
                          lonely_psu=policy)
    ref = R[R["case"] == f"lonely_{policy}"]
    with pytest.warns(LonelyPSUWarning) as caught:
        table = design.mean("y", by="g")
        overall = design.mean("y")
    texts = [str(w.message) for w in caught]
    assert any(f"Stratum 4 (column(s) ['st']) has only one PSU; lonely_psu='{policy}'" in t
               for t in texts)
    by = ref[ref["g"] != "(all)"]
    assert table["g"].tolist() == by["g"].tolist()
    np.testing.assert_allclose(table["estimate"], by["estimate"], rtol=1e-9)
    np.testing.assert_allclose(table["se"], by["se"].fillna(np.nan), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(overall["se"], ref.loc[ref["g"] == "(all)", "se"], rtol=1e-9)
    nan_note = [t for t in texts if t.startswith("se is NaN")]
    if policy == "average":    # R gives NA: said, naming the domain
        assert np.isnan(table.loc[table["g"] == "e", "se"]).all()
        assert nan_note and "g='e'" in nan_note[0] and "lonely_psu='adjust'" in nan_note[0]
    else:
        assert not nan_note


def test_no_lonely_warning_without_lonely_strata_or_under_fail():
    data = _lonely_data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SurveyDesign(data[data["st"] < 4], weights="w", strata="st", psu="psu",
                     lonely_psu="remove").mean("y", by="g")
        # the lonely stratum holds no row of this subpopulation
        SurveyDesign(data, weights="w", strata="st", psu="psu",
                     lonely_psu="average").subset(data["g"] != "e").mean("y", by="g")
    with pytest.raises(Exception, match="Stratum 4"):
        SurveyDesign(data, weights="w", strata="st", psu="psu").mean("y", by="g")


def test_replicate_factors_warn_about_lonely_strata():
    design = SurveyDesign(_lonely_data(), weights="w", strata="st", psu="psu",
                          lonely_psu="remove")
    with pytest.warns(LonelyPSUWarning, match=r"Stratum 4 has only one PSU.*jkn"):
        rep = design.replicate("jkn")
    assert rep.mean("y", by="g")["g"].tolist() == ["a", "b", "d", "e"]
