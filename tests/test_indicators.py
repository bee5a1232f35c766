"""Derived indicators: definitions, missing values, user answer sets, rates."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import harvest as hv
from harvest import indicators as ind
from harvest.instruments import DERIVED, TURKMENISTAN


def test_child_labour_is_observed_or_reported():
    df = pd.DataFrame({"n_children": [0, 2, 0, 3, np.nan, np.nan, 0],
                       "farmer_reports_minors": [0, 0, 1, 1, 1, 0, np.nan]})
    got = ind.child_labour(df)
    np.testing.assert_array_equal(got.to_numpy(), [0, 1, 1, 1, 1, np.nan, np.nan])
    assert got.dtype == "float64"
    clean = df.iloc[:4]
    assert ind.child_labour(clean).dtype == "int64"
    assert ind.children_observed(clean).tolist() == [0, 1, 0, 1]


def test_pick_or_pay_status_and_helpers():
    df = pd.DataFrame({"picked": [1, 0, 1, 0, np.nan], "paid_replacement": [0, 1, 1, 0, 1]})
    status = ind.pick_or_pay(df)
    assert status.iloc[:4].tolist() == ["picked", "paid", "both", "neither"]
    assert pd.isna(status.iloc[4])
    d = ind.pick_or_pay_dummies(df)
    np.testing.assert_array_equal(d["picked_or_paid"], [1, 1, 1, 0, np.nan])
    np.testing.assert_array_equal(d["picked_only"], [1, 0, 0, 0, np.nan])
    np.testing.assert_array_equal(d["paid_only"], [0, 1, 0, 0, np.nan])
    np.testing.assert_array_equal(d["picked_and_paid"], [0, 0, 1, 0, np.nan])


def test_consequences_any_and_count():
    df = pd.DataFrame({"consequences": ["none", "wage_deduction dismissal", "other",
                                        None, "reprimand bonus_loss reduced_hours"]})
    np.testing.assert_array_equal(ind.consequence_count(df), [0, 2, 1, np.nan, 3])
    np.testing.assert_array_equal(ind.any_consequence(df), [0, 1, 1, np.nan, 1])


def test_forced_labour_needs_both_dimensions_and_answer_sets_are_settable():
    df = pd.DataFrame({
        "voluntary": ["no", "no", "yes", "dont_know", "dont_know", None, "yes"],
        "consequences": ["dismissal", "none", "dismissal", "reprimand", "other", "dismissal",
                         None],
    })
    np.testing.assert_array_equal(ind.forced_labour(df), [1, 0, 0, 0, 0, np.nan, 0])
    wide = ind.forced_labour(df, involuntary_answers=["no", "dont_know"],
                             menace_answers=["dismissal", "reprimand", "other"])
    np.testing.assert_array_equal(wide, [1, 0, 0, 1, 1, np.nan, 0])
    np.testing.assert_array_equal(ind.menace(df, answers=["other"]),
                                  [0, 0, 0, 0, 1, 0, np.nan])


def test_codes_are_matched_as_whole_tokens():
    df = pd.DataFrame({"consequences": ["other_loss", "xdismissal", "dismissal"]})
    np.testing.assert_array_equal(ind.menace(df, answers=["dismissal", "other"]), [0, 0, 1])


def test_paid_above_is_strict():
    df = pd.DataFrame({"rate_per_kg": [0.5, 1.0, 1.01, np.nan]})
    np.testing.assert_array_equal(ind.paid_above(df), [0, 0, 1, np.nan])
    np.testing.assert_array_equal(ind.paid_above(df, rate=0.4), [1, 1, 1, np.nan])


def test_refusal_and_interference_rates():
    v = hv.datasets.load("visits")
    r = ind.refusal_rate(v, by=["year", "instrument"])
    assert list(r.columns) == ["year", "instrument", "indicator", "rate", "count", "n"]
    row = r[(r["year"] == 2024) & (r["instrument"] == "farm")].iloc[0]
    assert (row["count"], row["n"]) == (27, 502)
    assert row["rate"] == pytest.approx(27 / 502)
    i = ind.interference_rate(v, by="year")
    sub = v[(v["year"] == 2024) & (v["visit_status"] != "refused")]
    expect = ((sub["interference"] == 1) | (sub["visit_status"] == "dropped_interference")).mean()
    assert i.loc[i["year"] == 2024, "rate"].item() == pytest.approx(expect)
    overall = ind.refusal_rate(v)
    assert list(overall.columns) == ["indicator", "rate", "count", "n"]
    assert overall["n"].item() == len(v)


def test_add_indicators_adds_exactly_the_derived_columns_and_copies():
    for name, instrument in (("farms", "farm"), ("pickers", "picker"),
                             ("employees", "employee"), ("institutions", "institution")):
        df = hv.datasets.load(name)
        derived = [d[0] for d in DERIVED[instrument]]
        raw = df.drop(columns=derived)
        before = raw.copy()
        out = ind.add_indicators(raw, instrument)
        assert list(out.columns) == list(raw.columns) + derived
        pd.testing.assert_frame_equal(raw, before)
        pd.testing.assert_frame_equal(out, df)


def test_add_indicators_passes_answer_sets():
    emp = hv.datasets.load("employees")
    default = ind.add_indicators(emp, "employee")["forced_labour"]
    wide = ind.add_indicators(emp, "employee", involuntary_answers=["no", "dont_know"],
                              menace_answers=TURKMENISTAN.consequences[:-1])["forced_labour"]
    assert (wide >= default).all() and wide.sum() > default.sum()


def test_bad_input_messages():
    with pytest.raises(hv.DataError, match=r"\['farmer_reports_minors'\]"):
        ind.child_labour(pd.DataFrame({"n_children": [1]}))
    with pytest.raises(ValueError, match="`instrument` must be one of"):
        ind.add_indicators(pd.DataFrame(), "manager")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sets(st.sampled_from(TURKMENISTAN.consequences[:-1]), max_size=6),
                min_size=1, max_size=20))
def test_any_consequence_matches_count(answers):
    text = [" ".join(sorted(a)) if a else "none" for a in answers]
    df = pd.DataFrame({"consequences": text})
    count = ind.consequence_count(df).to_numpy()
    np.testing.assert_array_equal(count, [len(a) for a in answers])
    np.testing.assert_array_equal(ind.any_consequence(df).to_numpy(), count > 0)
