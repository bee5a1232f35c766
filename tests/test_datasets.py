"""Bundled data: names, columns used by the API examples, made by the committed script."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import harvest as hv
from harvest import datasets

ROOT = Path(__file__).resolve().parent.parent


def test_names_and_files():
    assert datasets.names() == ["employees", "farms", "institutions", "pickers", "truth",
                                "visits"]
    for name in datasets.names():
        assert datasets.path(name).is_file()


def test_farms_have_the_columns_of_the_api_examples():
    farms = hv.datasets.load("farms")
    for c in ("weight", "stratum", "district", "n_districts", "region", "year",
              "child_labour", "civil_servants_on_farm", "n_children", "n_pickers"):
        assert c in farms.columns, c
    assert sorted(farms["year"].unique()) == [2023, 2024]
    assert farms.groupby("year").size().to_dict() == {2023: 222, 2024: 472}
    assert farms["child_labour"].dtype == "int64"
    assert farms["region"].dtype == "str"
    # stacked years are separate strata, so their PSUs never merge
    assert farms.groupby("stratum")["year"].nunique().max() == 1


def test_employees_and_others():
    emp = hv.datasets.load("employees")
    for c in ("amount_paid", "any_consequence", "sector", "pick_or_pay", "forced_labour",
              "weight", "stratum", "district", "n_districts"):
        assert c in emp.columns, c
    assert emp.groupby("year").size().to_dict() == {2023: 805, 2024: 2047}
    truth = hv.datasets.load("truth")
    assert set(truth["year"]) == {2023, 2024}
    assert list(truth.columns) == ["year", "instrument", "region", "indicator", "value",
                                   "total", "N"]
    visits = hv.datasets.load("visits")
    assert set(visits["visit_status"]) == {"completed", "refused", "dropped_interference"}


def test_each_load_is_a_new_frame():
    a = hv.datasets.load("institutions")
    a.loc[:, "n_staff"] = 0
    b = hv.datasets.load("institutions")
    assert (b["n_staff"] > 0).all()


def test_unknown_name():
    with pytest.raises(ValueError, match="`name` must be one of 'employees', 'farms'"):
        hv.datasets.load("farm")


def test_data_dir_is_the_checkout_in_an_editable_install():
    assert datasets.data_dir() == ROOT / "data" or datasets.data_dir().name == "_bundled"


def test_bundled_truth_matches_the_truth_table_of_the_simulator():
    truth = hv.datasets.load("truth")
    row = truth[(truth["year"] == 2024) & (truth["instrument"] == "farm")
                & (truth["region"] == "All") & (truth["indicator"] == "child_labour")]
    assert row["value"].item() == pytest.approx(0.23, abs=0.02)


@pytest.mark.slow
def test_committed_data_are_what_the_script_makes():
    """``scripts/make_data.py --check`` regenerates everything and compares it byte for byte."""
    res = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_data.py"), "--check"],
                         capture_output=True, text=True, cwd=ROOT, check=False)
    assert res.returncode == 0, res.stdout + res.stderr


def test_bundled_estimates_are_near_the_truth():
    """The bundled 2024 sample estimates the truth within a few standard errors."""
    from harvest.design import SurveyDesign

    farms = hv.datasets.load("farms")
    truth = hv.datasets.load("truth")
    design = SurveyDesign(farms, weights="weight", strata="stratum", psu="district",
                          fpc="n_districts")
    est = design.proportion(["child_labour", "civil_servants_on_farm"], by="year")
    t = truth[(truth["instrument"] == "farm") & (truth["region"] == "All")]
    merged = est.merge(t, on=["year", "indicator"])
    assert len(merged) == 4
    z = (merged["estimate"] - merged["value"]) / merged["se"]
    assert (z.abs() < 3.5).all(), merged
    assert isinstance(est, pd.DataFrame)
