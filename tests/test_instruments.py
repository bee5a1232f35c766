"""Instrument definitions, code lists and validation that collects every problem."""

from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import harvest as hv
from harvest.instruments import (
    DERIVED,
    INSTRUMENTS,
    KINDS,
    TURKMENISTAN,
    CodeLists,
    columns,
    dictionary_markdown,
    problems,
    resolve_codes,
    summary,
    validate,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def farms():
    return hv.datasets.load("farms")


@pytest.fixture(scope="module")
def employees():
    return hv.datasets.load("employees")


def test_definitions_are_consistent():
    code_lists = {f.name for f in fields(CodeLists)}
    for name, cols in INSTRUMENTS.items():
        names = [c.name for c in cols]
        assert len(names) == len(set(names)), name
        assert names[:3] == ["year", "region", "district"]
        assert names[3].endswith("_id")
        for c in cols:
            assert c.kind in KINDS
            assert c.description
            assert c.codes is None or c.codes in code_lists
            assert (c.kind in ("code", "multi")) == (c.codes is not None), c.name
        assert set(DERIVED[name]) and not set(d[0] for d in DERIVED[name]) & set(names)
    assert TURKMENISTAN.regions == ("Ahal", "Balkan", "Dashoguz", "Lebap", "Mary")


def test_bundled_data_are_valid_and_input_untouched(farms):
    before = farms.copy()
    for name, instrument in (("farms", "farm"), ("pickers", "picker"),
                             ("employees", "employee"), ("institutions", "institution")):
        df = hv.datasets.load(name)
        assert problems(df, instrument).empty
        out = validate(df, instrument)
        assert out is not df
        pd.testing.assert_frame_equal(out, df)
    pd.testing.assert_frame_equal(farms, before)


def test_problems_table_has_fixed_columns_when_empty(farms):
    p = problems(farms, "farm")
    assert list(p.columns) == ["row", "column", "value", "problem"]
    assert len(p) == 0


def _broken_farms(farms):
    """A farm file with thirteen different problems, each in known rows."""
    bad = farms[farms["year"] == 2024].head(30).reset_index(drop=True)
    bad = bad.drop(columns=["child_labour", "children_observed"])
    bad = bad.astype({"n_pickers": "object", "round": "object", "region": "object",
                      "farmer_reports_minors": "object", "n_children": "object"})
    bad = bad.drop(columns=["civil_servants_on_farm"])           # 1 missing required column
    bad.loc[1, "n_pickers"] = "many"                            # 2 not a number
    bad.loc[2, "round"] = 7                                     # 3 above maximum
    bad.loc[3, "region"] = "Ahall"                              # 4 unknown code
    bad.loc[4, "farm_id"] = bad.loc[5, "farm_id"]               # 5 duplicated id (rows 4, 5)
    bad.loc[6, "n_children"] = 99                               # 6 more children than pickers
    bad.loc[6, "n_pickers"] = 10
    bad.loc[7, "farmer_reports_minors"] = 2                     # 7 not 0/1
    bad.loc[8, "n_children"] = -1                               # 8 negative count
    bad.loc[9, "round"] = 2.5                                   # 9 not a whole number
    bad.loc[10, "weight"] = 0.0                                 # 10 zero weight
    bad.loc[11, "visit_status"] = "maybe"                       # 11 unknown visit status
    bad.loc[12, "year"] = np.nan                                # 12 missing key value
    bad.loc[13, "district"] = bad.loc[20, "district"]           # 13 district in two regions
    bad.loc[13, "region"] = "Mary" if bad.loc[20, "region"] != "Mary" else "Ahal"
    bad.loc[14, "interference"] = -3                            # 14 below minimum / not 0/1
    return bad


def test_a_dozen_problems_all_in_one_error(farms):
    bad = _broken_farms(farms)
    with pytest.raises(hv.DataError, match=r"problem\(s\) in the `farm` data") as err:
        hv.validate(bad, instrument="farm")
    p = err.value.problems
    assert list(p.columns) == ["row", "column", "value", "problem"]
    expected = {
        ("civil_servants_on_farm", "required column is missing", -1),
        ("n_pickers", "not a number (expected whole number)", 1),
        ("round", "above the allowed maximum 4", 2),
        ("region", "unknown code; allowed: 'Ahal', 'Balkan', 'Dashoguz', 'Lebap', 'Mary'", 3),
        ("farm_id", "identifier duplicated within the year", 4),
        ("farm_id", "identifier duplicated within the year", 5),
        ("n_children, n_pickers", "more children observed picking than pickers present", 6),
        ("farmer_reports_minors", "must be 0 or 1", 7),
        ("n_children", "below the allowed minimum 0", 8),
        ("round", "not a whole number", 9),
        ("weight", "weight must be positive", 10),
        ("visit_status", "unknown code; allowed: 'completed', 'refused', "
         "'dropped_interference'", 11),
        ("year", "missing value in a required column", 12),
        ("district", "district found in more than one region in the same year", 13),
        ("interference", "must be 0 or 1", 14),
    }
    found = set(zip(p["column"], p["problem"], p["row"], strict=True))
    assert expected <= found, expected - found
    # nothing else is reported: every problem row is one of the planted ones
    shared = set(np.flatnonzero(bad["district"] == bad.loc[20, "district"]))
    assert set(p["row"]) <= {-1, *range(15), *shared}
    # the unknown region of row 3 is reported once, not again as a district in two regions
    assert not ((p["column"] == "district") & (p["row"] == 3)).any()
    msg = str(err.value)
    assert "rows 4, 5" in msg and "'many'" in msg and "Ahall" in msg
    # the non-raising form gives the same table
    pd.testing.assert_frame_equal(problems(bad, "farm"), p)


def test_employee_rules_and_multi_select(employees):
    bad = employees.head(10).reset_index(drop=True).copy()
    bad.loc[0, "amount_paid"] = -5.0
    bad.loc[1, "paid_replacement"] = 0
    bad.loc[1, "amount_paid"] = 200.0
    bad.loc[2, "consequences"] = "wage_deduction firing"
    bad.loc[3, "consequences"] = "none dismissal"
    bad.loc[4, "sector"] = "army"
    p = problems(bad, "employee")
    got = set(zip(p["row"], p["problem"], strict=True))
    assert (0, "below the allowed minimum 0") in got
    assert (1, "an amount paid although `paid_replacement` is 0") in got
    assert any(r == 2 and t.startswith("unknown code in a multi-select") for r, t in got)
    assert (3, "`none` combined with other answers") in got
    assert any(r == 4 and t.startswith("unknown code") for r, t in got)


def test_institution_staff_rule():
    inst = hv.datasets.load("institutions")
    bad = inst.assign(n_staff_sent=inst["n_staff"] + 1)
    with pytest.raises(hv.DataError, match="more staff sent than staff"):
        validate(bad, "institution")


def test_another_countrys_code_lists(farms):
    uz = farms.replace({"region": {"Ahal": "Andijan", "Balkan": "Bukhara",
                                   "Dashoguz": "Fergana", "Lebap": "Khorezm",
                                   "Mary": "Samarkand"}})
    with pytest.raises(hv.DataError, match="unknown code"):
        validate(uz, "farm")
    regions = ["Andijan", "Bukhara", "Fergana", "Khorezm", "Samarkand"]
    assert problems(uz, "farm", codes={"regions": regions}).empty
    assert problems(uz, "farm", codes=TURKMENISTAN.replace(regions=regions)).empty
    # a district list restricts districts too
    districts = {r: [] for r in regions}
    p = problems(uz, "farm", codes={"regions": regions, "districts": districts})
    assert set(p["problem"]) == {"unknown district code"}


def test_refused_visits_may_leave_answers_missing(farms):
    df = farms.head(4).reset_index(drop=True).copy()
    df["visit_status"] = df["visit_status"].astype("object")
    df.loc[0, "visit_status"] = "refused"
    df["n_pickers"] = df["n_pickers"].astype("float64")
    df.loc[[0, 1], "n_pickers"] = np.nan
    p = problems(df, "farm")
    assert p["row"].tolist() == [1]
    assert p["problem"].tolist() == ["missing value in a required column"]


def test_option_errors():
    with pytest.raises(ValueError, match="`instrument` must be one of"):
        problems(pd.DataFrame(), "farmer")
    with pytest.raises(ValueError, match=r"`codes` has unknown code list\(s\) \['velayats'\]"):
        resolve_codes({"velayats": ["A"]})
    with pytest.raises(TypeError, match="`codes` must be None"):
        resolve_codes(["Ahal"])
    with pytest.raises(TypeError, match="`df` must be a pandas DataFrame"):
        problems([1, 2], "farm")


def test_summary_line(farms):
    assert summary(farms[farms["year"] == 2024], "farm") == "ok: 472 rows, 5 regions, 61 districts"
    assert summary(farms[farms["year"] == 2023], "farm") == "ok: 222 rows, 5 regions, 32 districts"


def test_columns_include_design_columns():
    names = [c.name for c in columns("farm")]
    assert names[-3:] == ["stratum", "weight", "n_districts"]


def test_dictionary_page_is_up_to_date():
    page = ROOT / "docs" / "data" / "dictionary.md"
    assert page.read_text(encoding="utf-8") == dictionary_markdown(), (
        "docs/data/dictionary.md is stale: run `python scripts/make_data.py --docs`"
    )
    text = dictionary_markdown()
    for name, cols in INSTRUMENTS.items():
        assert f"## `{name}`" in text
        for c in cols:
            assert f"| `{c.name}` |" in text


@settings(max_examples=25, deadline=None)
@given(st.sets(st.integers(0, 39), max_size=12), st.sets(st.integers(0, 39), max_size=12))
def test_every_planted_problem_is_found_and_nothing_else(too_many, unknown):
    """Random rows get more children than pickers, others an unknown sector: exactly those."""
    inst = _INST.copy()
    inst["sector"] = inst["sector"].astype("object")
    rows_a, rows_b = sorted(too_many), sorted(unknown)
    inst.loc[rows_a, "n_staff_sent"] = inst.loc[rows_a, "n_staff"] + 1
    inst.loc[rows_b, "sector"] = "army"
    p = problems(inst, "institution")
    assert sorted(p.loc[p["problem"] == "more staff sent than staff", "row"]) == rows_a
    assert sorted(p.loc[p["column"] == "sector", "row"]) == rows_b
    assert len(p) == len(rows_a) + len(rows_b)


_INST = hv.datasets.load("institutions").head(40).reset_index(drop=True)
