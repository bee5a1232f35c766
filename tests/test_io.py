"""Readers and writers: identical round trips, multi-select layouts, problems reported."""

import numpy as np
import pandas as pd
import pytest

import harvest as hv
from harvest.io import collapse_multi, expand_multi, read, read_table, write

TABLES = {"farms": "farm", "pickers": "picker", "employees": "employee",
          "institutions": "institution"}
SUFFIXES = [".csv", ".xlsx", ".parquet", ".sav", ".dta"]


@pytest.fixture(scope="module")
def bundled():
    return {name: hv.datasets.load(name) for name in TABLES}


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("name", list(TABLES))
def test_round_trip_is_identical(bundled, tmp_path, name, suffix):
    df = bundled[name]
    if suffix == ".xlsx":
        df = df.groupby("year").head(60).reset_index(drop=True)  # keep the Excel test quick
    before = df.copy()
    path = write(df, tmp_path / f"{name}{suffix}")
    back = read(path, instrument=TABLES[name])
    pd.testing.assert_frame_equal(back, df, check_exact=True)
    pd.testing.assert_frame_equal(df, before)  # the writer does not touch its input


@pytest.mark.parametrize("suffix", [".csv", ".sav", ".dta", ".parquet"])
def test_round_trip_with_one_column_per_option(bundled, tmp_path, suffix):
    df = bundled["employees"]
    path = write(df, tmp_path / f"e{suffix}", multi="columns")
    raw = read_table(path)
    assert "consequences" not in raw.columns
    assert "consequences_wage_deduction" in raw.columns
    back = read(path, instrument="employee")
    pd.testing.assert_frame_equal(back[df.columns], df, check_exact=True)


def test_kobo_slash_columns_are_combined(tmp_path):
    df = pd.DataFrame({
        "consequences/wage_deduction": [1, 0, 0, np.nan],
        "consequences/dismissal": [1, 0, 0, np.nan],
        "consequences/none": [0, 1, 0, np.nan],
        "consequences/firing": [0, 0, 1, np.nan],
    })
    out = collapse_multi(df, "employee")
    assert out["consequences"].iloc[:3].tolist() == ["wage_deduction dismissal", "none", "firing"]
    assert pd.isna(out["consequences"].iloc[3])
    assert list(out.columns) == ["consequences"]
    p = hv.instruments.problems(out, "employee")
    p = p[p["column"] == "consequences"].set_index("row")["problem"]
    assert p[3] == "missing value in a required column"  # no option answered
    assert p[2].startswith("unknown code in a multi-select answer")  # option 'firing'


def test_expand_then_collapse_is_identity(bundled):
    pk = bundled["pickers"]
    wide = expand_multi(pk, "picker")
    assert {f"consequences_{c}" for c in hv.instruments.TURKMENISTAN.consequences} <= set(wide)
    back = collapse_multi(wide, "picker")
    pd.testing.assert_series_equal(back["consequences"], pk["consequences"])


def test_read_reports_every_problem_of_a_file(bundled, tmp_path):
    df = bundled["farms"].head(20).copy()
    df["visit_status"] = df["visit_status"].astype("object")
    df.loc[0, "visit_status"] = "maybe"
    df.loc[1, "n_children"] = 500
    df.loc[2, "farm_id"] = df.loc[3, "farm_id"]
    path = write(df, tmp_path / "broken.csv")
    with pytest.raises(hv.DataError) as err:
        read(path, instrument="farm")
    p = err.value.problems
    assert set(p["row"]) == {0, 1, 2, 3}
    assert {"visit_status", "n_children, n_pickers", "farm_id"} <= set(p["column"])


def test_identifiers_keep_leading_zeros(tmp_path):
    inst = hv.datasets.load("institutions").head(3).copy()
    inst["institution_id"] = ["007", "010", "100"]
    path = write(inst, tmp_path / "inst.csv")
    back = read(path, instrument="institution")
    assert back["institution_id"].tolist() == ["007", "010", "100"]


def test_read_table_turns_blank_strings_into_missing(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("year,region,district,institution_id\n2024,Ahal,Ahal-01,  \n")
    raw = read_table(path, "institution")
    assert pd.isna(raw["institution_id"].iloc[0])


def test_bad_paths_and_options(tmp_path, bundled):
    with pytest.raises(ValueError, match="cannot tell the format"):
        read(tmp_path / "farms.json", instrument="farm")
    with pytest.raises(FileNotFoundError, match="no file at"):
        read(tmp_path / "nothing.csv", instrument="farm")
    with pytest.raises(ValueError, match="`multi` must be one of"):
        write(bundled["farms"], tmp_path / "f.csv", multi="wide")


def test_another_country_through_read(tmp_path, bundled):
    df = bundled["institutions"].replace({"region": {"Ahal": "Sughd"}})
    path = write(df, tmp_path / "tj.parquet")
    with pytest.raises(hv.DataError, match="unknown code"):
        read(path, instrument="institution")
    regions = ["Sughd", "Balkan", "Dashoguz", "Lebap", "Mary"]
    out = read(path, instrument="institution", codes={"regions": regions})
    assert (out["region"] == "Sughd").sum() == (df["region"] == "Sughd").sum()


def test_write_xlsx_keeps_formula_like_text_as_text(tmp_path):
    """hv.io.write: a label starting with '=' is a string cell, never a live formula."""
    import openpyxl

    df = pd.DataFrame({"district": ["=1+1", "@SUM(A1)", "Ok"], "n": [1, 2, 3]})
    path = hv.io.write(df, tmp_path / "d.xlsx")
    ws = openpyxl.load_workbook(path).active
    cells = {c.value: c.data_type for row in ws.iter_rows() for c in row}
    assert cells["=1+1"] == "s" and cells["@SUM(A1)"] == "s"
    back = pd.read_excel(path)
    assert back["district"].tolist() == df["district"].tolist()
