"""Publication tables: formatting, disclosure control and the NCHS standards."""


import numpy as np
import pandas as pd
import pytest

from harvest._errors import DataError, DisclosureWarning
from harvest.disclosure import DisclosurePolicy
from harvest.tables import (
    comparison_table,
    disclose,
    format_number,
    format_percent,
    nchs_reliability,
    publication_table,
    to_markdown,
    write_table,
)


def estimate_table(n, estimate=None, se=None, width=0.1, df=30):
    """A tidy proportion table with the API.md columns, one region per count."""
    n = np.asarray(n, dtype=float)
    k = len(n)
    est = np.full(k, 0.3) if estimate is None else np.asarray(estimate, dtype=float)
    se = np.full(k, 0.03) if se is None else np.asarray(se, dtype=float)
    return pd.DataFrame({
        "region": [f"R{i}" for i in range(k)],
        "indicator": "child_labour",
        "estimate": est,
        "se": se,
        "ci_low": est - width / 2,
        "ci_high": est + width / 2,
        "level": 0.95,
        "ci_method": "korn-graubard",
        "df": float(df),
        "deff": 1.4,
        "n": n,
        "n_eff": n / 1.4,
    })


def test_small_cells_show_nothing_below_the_threshold():
    # Counts and estimates chosen so that every number of a small cell is recognisable.
    t = estimate_table([500, 7, 9, 10, 3], estimate=[0.231, 0.777, 0.666, 0.312, 0.555],
                       se=[0.02, 0.02, 0.02, 0.02, 0.02], width=0.08, df=40)
    text, notes = publication_table(t, min_n=10, reliability=None)
    shown = " ".join(text.astype(str).to_numpy().ravel())
    for small in (1, 2, 4):
        row = text.iloc[small]
        assert row["Estimate (%)"] == "*"
        assert row["95% CI"] == "*"
        assert row["n"] == "*"  # no "<10": a range would bound the complementary cells
        # neither the estimate, its interval nor the count appear anywhere
        est = t["estimate"].iloc[small]
        assert format_percent(est) not in shown
        assert format_percent(est - 0.04) not in shown
    # no count below the threshold is printed anywhere in the n column
    assert text["n"].tolist() == ["500", "*", "*", "10", "*"]
    # the cells at or above the threshold are shown
    assert text["Estimate (%)"].iloc[0] == "23.1"
    assert text["n"].iloc[3] == "10"
    assert any("fewer than 10" in n for n in notes)
    # the Markdown and CSV renderings carry no small cell either
    md = to_markdown(text)
    assert "77.7" not in md and "66.6" not in md and "55.5" not in md


def test_threshold_is_settable_and_zero_disables():
    t = estimate_table([25, 40, 50])
    # 25 < 30; 40 is withheld too, else the total of the three would give 25 back
    out = disclose(t, min_n=30)
    assert out["suppressed"].tolist() == [True, True, False]
    assert out["suppression"].tolist() == ["size", "secondary", ""]
    with pytest.raises(ValueError, match="weak disclosure settings"):
        disclose(t, min_n=0)
    off = DisclosurePolicy(min_n=0, min_each=0, allow_weak=True)
    assert disclose(t, policy=off)["suppressed"].tolist() == [False, False, False]
    with pytest.raises(ValueError, match="`min_n` must be a whole number"):
        disclose(t, min_n=-1)
    with pytest.raises(ValueError, match="`min_n`"):
        disclose(t, min_n=2.5)


def test_disclose_blanks_every_statistic_and_keeps_input():
    t = estimate_table([4, 50, 60])
    before = t.copy()
    out = disclose(t)
    pd.testing.assert_frame_equal(t, before)  # caller's table untouched
    for col in ("estimate", "se", "ci_low", "ci_high", "df", "deff", "n", "n_eff"):
        assert np.isnan(out[col].iloc[0]), col
        assert np.isnan(out[col].iloc[1]), col  # its complement (smallest n)
        assert not np.isnan(out[col].iloc[2]), col
    assert out["region"].tolist() == ["R0", "R1", "R2"]


def test_disclose_missing_n_is_suppressed_and_warns():
    t = estimate_table([np.nan, 50, 60])
    with pytest.warns(DisclosureWarning, match="2 cell"):
        out = disclose(t, warn=True)
    assert out["suppressed"].tolist() == [True, True, False]


def test_disclose_rejects_a_table_without_counts():
    with pytest.raises(DataError, match="lacks the column.*'n'"):
        disclose(pd.DataFrame({"estimate": [0.1]}))
    with pytest.raises(TypeError, match="DataFrame"):
        disclose([0.1, 0.2])


# --- NCHS data presentation standards (Parker et al. 2017) ------------------------------


def nchs_row(p, se, lo, hi, n=1000, df=30):
    return pd.DataFrame({"estimate": [p], "se": [se], "ci_low": [lo], "ci_high": [hi],
                         "df": [df], "n": [n]})


@pytest.mark.parametrize(
    ("p", "se", "lo", "hi", "n", "df", "present", "flags"),
    [
        # n_eff = .25/.1^2 = 25 < 30: suppress, whatever the width
        (0.5, 0.1, 0.45, 0.49, 1000, 30, False, "neff"),
        # n_eff capped at n = 20 even though p(1-p)/se^2 is huge
        (0.5, 0.001, 0.49, 0.51, 20, 30, False, "neff"),
        # width 0.04 <= 0.05: present even though relative width 0.04/0.02 = 2 > 1.3
        (0.02, 0.005, 0.005, 0.045, 1000, 30, True, ""),
        # width exactly 0.30: suppress
        (0.5, 0.02, 0.35, 0.65, 1000, 30, False, "width"),
        # width 0.10, relative width 0.10/0.07 = 1.43 > 1.30: suppress
        (0.07, 0.02, 0.03, 0.13, 1000, 30, False, "relwidth"),
        # width 0.10, relative 0.10/0.08 = 1.25: present
        (0.08, 0.02, 0.04, 0.14, 1000, 30, True, ""),
        # complement: width 0.10 / (1 - 0.93) = 1.43 > 1.30: present with a footnote
        (0.93, 0.02, 0.87, 0.97, 1000, 30, True, "complement"),
        # fewer than 8 degrees of freedom: present, statistical review
        (0.3, 0.03, 0.25, 0.29, 1000, 7, True, "df"),
        # exactly 0: n_eff = n, width taken as 0, present with review
        (0.0, 0.0, 0.0, 0.0, 200, 30, True, "zero"),
        # exactly 1 with fewer than 30 rows: suppressed
        (1.0, 0.0, 1.0, 1.0, 12, 30, False, "neff"),
    ],
)
def test_nchs_branches(p, se, lo, hi, n, df, present, flags):
    r = nchs_reliability(nchs_row(p, se, lo, hi, n, df)).iloc[0]
    assert bool(r["nchs_present"]) is present
    assert r["nchs_flags"] == flags


def test_nchs_effective_sample_size_and_widths():
    r = nchs_reliability(nchs_row(0.2, 0.04, 0.12, 0.3, n=400)).iloc[0]
    assert r["nchs_n_eff"] == pytest.approx(0.16 / 0.0016)
    assert r["ci_width"] == pytest.approx(0.18)
    assert r["ci_rel_width"] == pytest.approx(0.9)
    assert r["nchs_present"]


def test_nchs_is_vectorised_and_keeps_the_index():
    t = pd.concat([nchs_row(0.5, 0.1, 0.45, 0.49), nchs_row(0.08, 0.02, 0.04, 0.14)])
    t.index = [10, 20]
    r = nchs_reliability(t)
    assert list(r.index) == [10, 20]
    assert r["nchs_present"].tolist() == [False, True]


def test_publication_table_flags_or_hides_what_nchs_rejects():
    t = estimate_table([400, 400], estimate=[0.07, 0.3], se=[0.02, 0.03], width=0.1)
    text, notes = publication_table(t, min_n=10)  # default: flag
    assert text["Estimate (%)"].tolist() == ["7.0", "30.0"]
    assert text["Note"].tolist() == ["b", ""]
    assert any("NCHS" in n and "caution" in n for n in notes)
    text, notes = publication_table(t, min_n=10, reliability="suppress")
    assert text["Estimate (%)"].tolist() == ["*", "30.0"]
    assert text["95% CI"].iloc[0] == "*"
    assert text["Note"].iloc[0] == "b"
    assert text["n"].iloc[0] == "400"  # the count is not small: it stays
    assert any(n.startswith("b: suppressed") for n in notes)
    text, notes = publication_table(t, reliability=None)
    assert text["Note"].tolist() == ["", ""] and notes == []
    # the standards are for proportions only
    text, notes = publication_table(t, percent=False)
    assert text["Note"].tolist() == ["", ""]
    with pytest.raises(ValueError, match="`reliability`"):
        publication_table(t, reliability=True)


def test_publication_table_numbers_and_labels():
    t = estimate_table([400])
    t["estimate"] = 12.3456
    t["ci_low"], t["ci_high"] = 10.0, 14.5
    text, _ = publication_table(t, percent=False, digits=2,
                                labels={"child_labour": "Child labour"})
    assert text.columns.tolist() == ["region", "Indicator", "Estimate", "95% CI", "n", "Note"]
    assert text.iloc[0].tolist()[:4] == ["R0", "Child labour", "12.35", "10.00 to 14.50"]


def test_format_percent_and_number():
    assert format_percent(0.2345) == "23.5"  # half up, not binary 23.449999...
    assert format_percent(0.0, 0) == "0"
    assert format_percent(-0.00001) == "0.0"
    assert format_percent(None) == "*"
    assert format_number(1234567.891, 1) == "1,234,567.9"
    assert format_number(np.nan, missing="-") == "-"


def comparison(n_regions=2):
    return pd.DataFrame({
        "region": ["Ahal", "Mary"][:n_regions],
        "indicator": "child_labour",
        "group": 2024,
        "baseline": 2023,
        "estimate_group": [0.2, 0.31][:n_regions],
        "estimate_baseline": [0.25, 0.22][:n_regions],
        "measure": "difference",
        "estimate": [-0.05, 0.09][:n_regions],
        "se": [0.02, 0.04][:n_regions],
        "ci_low": [-0.09, 0.01][:n_regions],
        "ci_high": [-0.01, 0.17][:n_regions],
        "df": 30.0,
        "p_value": [0.012, 0.0004][:n_regions],
        "p_adjusted": [0.024, 0.0008][:n_regions],
    })


def test_comparison_table_suppresses_small_groups():
    est = pd.DataFrame({
        "year": [2023, 2024, 2023, 2024, 2023, 2024],
        "region": ["Ahal", "Ahal", "Mary", "Mary", "Lebap", "Lebap"],
        "indicator": "child_labour",
        "n": [120, 130, 80, 6, 50, 55],
    })
    text, notes = comparison_table(comparison(), estimates=est, between="year")
    assert text.columns.tolist() == ["region", "Indicator", "2023 (%)", "2024 (%)",
                                     "Change (percentage points)", "95% CI", "p", "Note"]
    assert text.iloc[0, 2:7].tolist() == ["25.0", "20.0", "-5.0", "-9.0 to -1.0", "0.024"]
    assert (text.iloc[1, 2:7] == "*").all()
    assert "31.0" not in to_markdown(text)
    assert notes and "fewer than 10" in notes[0]


def test_comparison_table_hides_levels_that_fail_nchs():
    est = estimate_table([120, 130, 80, 90], estimate=[0.25, 0.2, 0.22, 0.07],
                         se=[0.03, 0.03, 0.03, 0.02], width=0.1)
    est["region"] = ["Ahal", "Ahal", "Mary", "Mary"]
    est.insert(0, "year", [2023, 2024, 2023, 2024])
    text, notes = comparison_table(comparison(), estimates=est, between="year",
                                   reliability="suppress")
    # Mary 2024: 7% with a 10-point interval fails the relative-width rule
    assert text["Note"].tolist() == ["", "b"]
    assert (text.iloc[1, 2:7] == "*").all()
    assert "NCHS" in notes[0] and notes[0].startswith("b: suppressed")
    # flagged by default: shown, with the footnote
    text, notes = comparison_table(comparison(), estimates=est, between="year")
    assert text["Note"].tolist() == ["", "b"]
    assert text.iloc[1, 4] == "9.0"
    assert "interpret with caution" in notes[0]
    text, _ = comparison_table(comparison(), estimates=est, between="year", reliability=None)
    assert text["Note"].tolist() == ["", ""]
    with pytest.raises(ValueError, match="`reliability` must be one of"):
        comparison_table(comparison(), reliability="hide")


def test_comparison_table_uses_compare_counts():
    c = comparison().assign(n_group=[130, 6], n_baseline=[120, 80])
    text, notes = comparison_table(c)
    # Mary 2024 rests on 6 farms; with two regions, Ahal 2024 and the all-regions total
    # would give it back, so Ahal is withheld too (secondary suppression), and the
    # pattern holds in both years
    assert text["Note"].tolist() == ["a", "a"]
    assert (text.iloc[:, 2:7] == "*").all().all()


def test_comparison_table_needs_between_with_estimates():
    with pytest.raises(ValueError, match="`between`"):
        comparison_table(comparison(), estimates=pd.DataFrame({"n": [1]}))
    with pytest.raises(DataError, match="p_adjusted"):
        comparison_table(comparison().drop(columns="p_adjusted"))


def test_comparison_table_with_several_pairs_names_them():
    c = pd.concat([comparison(1), comparison(1).assign(group="health",
                                                       baseline="education")])
    text, _ = comparison_table(c, level=0.9)
    assert text.columns.tolist() == ["region", "Indicator", "Comparison", "Baseline (%)",
                                     "Group (%)", "Change (percentage points)", "90% CI",
                                     "p", "Note"]
    assert text["Comparison"].tolist() == ["2024 vs 2023", "health vs education"]


def test_small_p_values_are_shown_as_bounds():
    text, _ = comparison_table(comparison())
    assert text["p"].tolist() == ["0.024", "<0.001"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".md"])
def test_write_table_by_suffix(tmp_path, suffix):
    t = estimate_table([50, 60])
    path = write_table(t, tmp_path / f"out{suffix}", notes=["a: a note"])
    assert path.exists()
    if suffix == ".csv":
        back = pd.read_csv(path)
        np.testing.assert_allclose(back["estimate"], t["estimate"])
    elif suffix == ".xlsx":
        back = pd.read_excel(path, sheet_name=None)
        assert set(back) == {"table", "notes"}
        assert back["table"]["n"].tolist() == [50, 60]
    else:
        text = path.read_text()
        assert text.startswith("| region | indicator |")
        assert "- a: a note" in text


def test_write_table_rejects_unknown_suffix(tmp_path):
    with pytest.raises(ValueError, match=r"\.csv, \.xlsx or \.md"):
        write_table(estimate_table([50]), tmp_path / "out.json")


def test_to_markdown_escapes_and_aligns():
    md = to_markdown(pd.DataFrame({"x": [1.5, np.nan], "y": ["a|b", None]}))
    lines = md.splitlines()
    assert lines[1] == "|---:|:---|"
    assert lines[2] == "| 1.5 | a\\|b |"
    assert lines[3] == "|  |  |"
