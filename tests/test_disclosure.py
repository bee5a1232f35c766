"""Disclosure control: the policy, secondary suppression, and attacks on what is published.

Every attack here is one a reader of harvest's outputs could mount: differencing the
all-levels total against the published levels (counts, weighted totals, proportions),
combining a proportion table with a total table, the field-work counts, the years of a
comparison, the model table; attribute disclosure; repeated records; formula and HTML
injection; weak settings; reproducibility. A test fails when an attack succeeds.
"""

import io
import itertools
import re

import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import harvest as hv
from harvest._errors import DataError, DisclosureWarning, LonelyPSUWarning
from harvest.cli import main
from harvest.disclosure import (
    DisclosurePolicy,
    answer_counts,
    protect,
    refuse_repeated,
    repeated_records,
)
from harvest.report import build_report, render_report
from harvest.writers import csv_text, neutralise, to_markdown, write_table

ALL = "ALL"


# ------------------------------------------------------------------ an independent attacker


def determined_cells(published: dict, dims_levels: dict):
    """Cells of the lattice a reader can solve from published values and known margins.

    ``published`` maps a key (tuple over dims, "ALL" for a margin) to True when the value
    is published, False when withheld. Unlisted lattice points (unprinted margins) are
    known. Every margin equals the sum of its children. Returns the withheld keys that
    the linear system determines (rank test, independent of harvest's implementation).
    """
    dims = list(dims_levels)
    axes = [list(dims_levels[d]) + ([ALL] if len(dims_levels[d]) > 1 else [])
            for d in dims]
    nodes = list(itertools.product(*axes))
    index = {k: i for i, k in enumerate(nodes)}
    rows = []
    for d, levels in enumerate(dims_levels.values()):
        if len(levels) < 2:
            continue
        for k in nodes:
            if k[d] != ALL:
                continue
            row = np.zeros(len(nodes))
            row[index[k]] = 1
            for lv in levels:
                row[index[k[:d] + (lv,) + k[d + 1:]]] = -1
            rows.append(row)
    A = np.array(rows).reshape(-1, len(nodes))
    unknown = [k for k, shown in published.items() if not shown]
    if not unknown:
        return []
    if not len(A):  # a single cell: nothing to subtract from
        return []
    cols = [index[k] for k in unknown]
    As = A[:, cols]
    r = np.linalg.matrix_rank(As)
    out = []
    for j, k in enumerate(unknown):
        e = np.zeros((1, len(cols)))
        e[0, j] = 1
        if np.linalg.matrix_rank(np.vstack([As, e])) == r:
            out.append(k)
    return out


def _key(row, dims, by):
    return tuple(str(row[d]) if d in by else ALL for d in dims)


def attack(tables, dims):
    """Run the attacker on protected tables; returns the withheld cells it solves."""
    published, levels = {}, {d: [] for d in dims}
    for t in tables:
        by = [c for c in dims if c in t.columns]
        for _, row in t.iterrows():
            k = _key(row, dims, by)
            published[k] = published.get(k, True) and not bool(row["suppressed"])
            for d in by:
                if str(row[d]) not in levels[d]:
                    levels[d].append(str(row[d]))
    levels = {d: v for d, v in levels.items() if v}
    # a dimension of one level: its margin is the same cell
    fixed = {}
    for k, shown in published.items():
        k2 = tuple(v if v != ALL or len(levels[d]) > 1 else levels[d][0]
                   for d, v in zip(dims, k, strict=True) if d in levels)
        fixed[k2] = fixed.get(k2, True) and shown
    return determined_cells(fixed, levels)


# ------------------------------------------------------------------------------- policy


def test_policy_defaults_and_weak_settings():
    p = DisclosurePolicy()
    assert (p.min_n, p.min_each, p.model_for_suppressed) == (10, 3, False)
    assert not p.weak and p.banner() is None
    for kwargs in ({"min_n": 4}, {"min_each": 2}, {"min_n": 0, "min_each": 0}):
        with pytest.raises(ValueError, match="weak disclosure settings"):
            DisclosurePolicy(**kwargs)
        weak = DisclosurePolicy(allow_weak=True, **kwargs)
        assert weak.weak and "do not publish" in weak.banner()
        with pytest.warns(DisclosureWarning, match="weak disclosure settings"):
            weak.warn()
    off = DisclosurePolicy(min_n=0, min_each=0, allow_weak=True)
    assert not off.enabled and "OFF" in off.describe()
    with pytest.raises(ValueError, match="`min_n` must be a whole number"):
        DisclosurePolicy(min_n=2.5)
    with pytest.raises(ValueError, match="`allow_weak`"):
        DisclosurePolicy(allow_weak="yes")


def cells(n, n_yes=None, regions=None, years=None):
    """A leaf table by (year, region) and its year margins, from counts."""
    regions = regions or [f"R{i}" for i in range(len(n[0]))]
    years = years or [2023 + i for i in range(len(n))]
    rows = []
    for i, y in enumerate(years):
        for j, r in enumerate(regions):
            yes = n_yes[i][j] if n_yes is not None else n[i][j] // 2
            rows.append({"year": y, "region": r, "indicator": "x",
                         "estimate": yes / n[i][j], "n": n[i][j], "n_yes": yes})
    leaf = pd.DataFrame(rows)
    nat = leaf.groupby("year", as_index=False)[["n", "n_yes"]].sum()
    nat.insert(1, "indicator", "x")
    nat["estimate"] = nat["n_yes"] / nat["n"]
    return leaf, nat


def test_one_small_region_gets_a_complement_of_least_loss():
    leaf, nat = cells([[50, 6, 30, 80]], years=[2024])
    out, onat = protect([leaf, nat], dims=["year", "region"])
    assert out["suppression"].tolist() == ["", "size", "secondary", ""]
    assert not onat["suppressed"].any()
    assert attack([out, onat], ["year", "region"]) == []


def test_attribute_rule_all_yes_or_all_no():
    leaf, nat = cells([[40, 12, 30, 35]], n_yes=[[10, 12, 9, 2]], years=[2024])
    out = protect([leaf, nat], dims=["year", "region"])[0]
    assert out["suppression"].tolist()[1] == "attribute"  # 12 of 12 said yes
    assert out["suppression"].tolist()[3] == "attribute"  # 2 of 35: fewer than 3 yes
    # without counts: a share of exactly 0 or 1 is all-no or all-yes
    t = leaf.drop(columns="n_yes")
    t["estimate"] = [0.25, 1.0, 0.3, 0.0]
    assert protect(t)["suppression"].tolist() == ["", "attribute", "", "attribute"]


def test_patterns_are_consistent_across_years_and_linked_tables():
    leaf, nat = cells([[50, 40, 30, 80], [52, 6, 33, 90]])
    out, onat = protect([leaf, nat], dims=["year", "region"])
    hidden = out.loc[out["suppressed"], ["year", "region"]]
    # R1 is small in 2024: withheld in both years, with the same complement in both
    assert set(hidden["region"]) == {"R1", "R2"}
    assert len(hidden) == 4
    assert attack([out, onat], ["year", "region"]) == []
    # a total table of the same cells carries the same pattern (depends on counts only)
    total = leaf.assign(estimate=leaf["n_yes"] * 7.5)
    assert protect([total, nat], dims=["year", "region"])[0]["suppressed"].equals(
        out["suppressed"])


def test_a_year_too_small_withholds_its_all_regions_row_and_the_other_year():
    leaf, nat = cells([[3, 2, 4], [40, 50, 60]])
    out, onat = protect([leaf, nat], dims=["year", "region"])
    assert onat["suppressed"].all()  # else 2023 = grand total - 2024
    assert attack([out, onat], ["year", "region"]) == []


def test_protect_keeps_the_callers_tables_and_checks_input():
    leaf, nat = cells([[50, 6, 30]], years=[2024])
    before = leaf.copy()
    protect([leaf, nat])
    pd.testing.assert_frame_equal(leaf, before)
    with pytest.raises(DataError, match="lacks the column"):
        protect(pd.DataFrame({"region": ["a"], "estimate": [1.0]}))
    with pytest.raises(ValueError, match="not among dims"):
        protect(leaf, dims=["year"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_property_no_withheld_cell_is_derivable(data):
    n_years = data.draw(st.integers(1, 2))
    n_regions = data.draw(st.integers(2, 5))
    n = [[data.draw(st.integers(1, 30)) for _ in range(n_regions)] for _ in range(n_years)]
    yes = [[data.draw(st.integers(0, v)) for v in row] for row in n]
    leaf, nat = cells(n, yes)
    policy = DisclosurePolicy()
    out, onat = protect([leaf, nat], policy, dims=["year", "region"])
    # primary cells are withheld with every statistic
    primary = (leaf["n"] < 10) | (np.minimum(leaf["n_yes"], leaf["n"] - leaf["n_yes"]) < 3)
    assert out.loc[primary.to_numpy(), "suppressed"].all()
    assert out.loc[out["suppressed"], ["estimate", "n", "n_yes"]].isna().all().all()
    # each margin group has 0 or >= 2 withheld cells, and no withheld cell is determined
    for _, g in out.groupby("year"):
        k = int(g["suppressed"].sum()) + int(
            onat.loc[onat["year"] == g["year"].iloc[0], "suppressed"].iloc[0])
        assert k != 1
    assert attack([out, onat], ["year", "region"]) == []
    # consistent across the years
    if n_years == 2:
        per_region = out.groupby("region")["suppressed"].nunique()
        assert (per_region == 1).all()


# ------------------------------------------------------------------------ CLI attacks


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def small_file(tmp_path_factory):
    """The 2024 farms with Mary cut to 6 completed farms (the issue's example)."""
    farms = hv.datasets.load("farms")
    f = farms[(farms["year"] == 2024) & (farms["visit_status"] == "completed")]
    mary = f.index[f["region"] == "Mary"]
    small = f.drop(index=mary[6:])
    path = tmp_path_factory.mktemp("small") / "small.csv"
    hv.io.write(small, path)
    return path, small


def _csv(result):
    assert result.exit_code == 0, result.output
    return pd.read_csv(io.StringIO(result.stdout))


@pytest.mark.parametrize("statistic", ["proportion", "total"])
def test_cli_differencing_with_and_without_by(small_file, statistic):
    path, small = small_file
    by = _csv(run("estimate", path, "-i", "child_labour", "--by", "region", "--statistic",
                  statistic, "--no-design", "--format", "csv"))
    tot = _csv(run("estimate", path, "-i", "child_labour", "--statistic", statistic,
                   "--no-design", "--format", "csv"))
    assert by.loc[by["region"] == "Mary", "suppressed"].item()
    hidden = by[by["suppressed"]]
    # n_all - sum(published n) and Y_all - sum(published Y) cover >= 2 withheld regions
    assert len(hidden) >= 2
    assert hidden[["estimate", "se", "ci_low", "ci_high", "n"]].isna().all().all()
    assert int(tot["n"].item()) - by["n"].sum() == small["region"].isin(
        hidden["region"]).sum()  # only the sum of the withheld regions comes back
    assert attack([by.assign(indicator="x"), tot.assign(suppressed=tot["suppressed"])],
                  ["region"]) == []


def test_cli_proportion_and_total_tables_together(small_file):
    """Y = Y_all - sum(Y_r), N = Y_all/p_all - sum(Y_r/p_r): needs one withheld region."""
    path, _ = small_file
    runs = {}
    for stat in ("proportion", "total"):
        runs[stat] = _csv(run("estimate", path, "-i", "child_labour", "--by", "region",
                              "--statistic", stat, "--no-design", "--format", "csv"))
    assert runs["proportion"]["suppressed"].equals(runs["total"]["suppressed"])
    assert runs["proportion"]["suppressed"].sum() >= 2


def test_cli_by_year_and_region_and_compare(tmp_path):
    farms = hv.datasets.load("farms")
    f = farms[farms["visit_status"] == "completed"]
    mary24 = f.index[(f["region"] == "Mary") & (f["year"] == 2024)]
    path = tmp_path / "two_years.csv"
    hv.io.write(f.drop(index=mary24[6:]), path)
    est = _csv(run("estimate", path, "-i", "child_labour", "--by", "year", "--by", "region",
                   "--no-design", "--format", "csv"))
    mary = est[est["region"] == "Mary"]
    assert mary["suppressed"].all()  # both years: consistent pattern
    assert attack([est.assign(indicator="x")], ["year", "region"]) == []
    cmp = _csv(run("compare", path, "-i", "child_labour", "--between", "year", "--by",
                   "region", "--no-design", "--format", "csv"))
    row = cmp[cmp["region"] == "Mary"].iloc[0]
    assert row["suppressed"] and pd.isna(row["estimate_baseline"])
    assert pd.isna(row["estimate_group"]) and pd.isna(row["n_baseline"])


def test_cli_attribute_disclosure_all_yes(tmp_path):
    farms = hv.datasets.load("farms")
    f = farms[(farms["year"] == 2024) & (farms["visit_status"] == "completed")].copy()
    mary = f.index[f["region"] == "Mary"][:12]
    f = f.drop(index=f.index[(f["region"] == "Mary")].difference(mary))
    f.loc[mary, "child_labour"] = 1
    path = tmp_path / "all_yes.csv"
    hv.io.write(f, path)
    out = _csv(run("estimate", path, "-i", "child_labour", "--by", "region", "--no-design",
                   "--format", "csv"))
    row = out[out["region"] == "Mary"].iloc[0]
    assert row["suppressed"] and row["suppression"] == "attribute"
    text = run("estimate", path, "-i", "child_labour", "--by", "region", "--no-design")
    assert "100.0" not in text.stdout
    assert "fewer than 3 respondents gave one of the answers" in text.stdout


def test_cli_weak_settings_need_the_option_and_warn(small_file, tmp_path):
    path, _ = small_file
    result = run("estimate", path, "-i", "child_labour", "--min-n", "0")
    assert result.exit_code == 2 and "--allow-weak-disclosure" in result.stderr
    result = run("report", path, "--min-n", "2", "--out", tmp_path / "r.html", "-q")
    assert result.exit_code == 2 and "weak disclosure settings" in result.stderr
    out = tmp_path / "weak.html"
    result = run("report", path, "--min-n", "0", "--min-each", "0",
                 "--allow-weak-disclosure", "--out", out, "-q")
    assert result.exit_code == 0, result.output
    assert "warning: weak disclosure settings" in result.stderr
    html = out.read_text()
    assert 'class="banner" role="alert"' in html and "do not publish" in html
    assert "fewer than 0" not in html


# --------------------------------------------------------------------- report attacks


def _rows(html, first):
    out = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, flags=re.S):
        cells_ = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        if cells_ and cells_[0] == first:
            out.append(cells_)
    return out


@pytest.fixture(scope="module")
def small_report(tmp_path_factory):
    farms = hv.datasets.load("farms")
    mary24 = farms[(farms["region"] == "Mary") & (farms["year"] == 2024)
                   & (farms["visit_status"] == "completed")]
    small = farms.drop(index=mary24.index[6:])
    out = tmp_path_factory.mktemp("rep") / "r.html"
    # Mary 2024 is left with one district: the report's lonely_psu="adjust" says so
    with pytest.warns(LonelyPSUWarning, match="'2024-Mary'.*lonely_psu='adjust'"):
        build_report({"farm": small}, out, visits=hv.datasets.load("visits"), progress=False)
    return out.read_text(), small


def test_report_differencing_counts_and_field_work(small_report):
    html, small = small_report
    regions = sorted(small["region"].unique())
    n_of = {}
    for r in [*regions, "All regions"]:
        n_of[r] = [row[3] for row in _rows(html, r) if len(row) >= 5][:2]  # 2 indicators
    # Mary is withheld with its count, and at least one other region with it
    assert all(v == "*" for v in n_of["Mary"])
    hidden = [r for r in regions if n_of[r][0] == "*"]
    assert len(hidden) >= 2
    # "Records analysed" of 2024 is a margin: it cannot give Mary back either
    field = [row for row in _rows(html, "2024")]
    assert field, "the field-work table shows 2024"
    mary_n = int(((small["region"] == "Mary") & (small["year"] == 2024)
                  & (small["visit_status"] == "completed")).sum())
    assert mary_n == 6
    shown = " ".join(" ".join(r) for r in _rows(html, "Mary"))
    assert re.search(r"(^|\D)6(\D|$)", shown) is None


def test_report_comparison_does_not_publish_a_withheld_year(small_report):
    html, _ = small_report
    change_rows = [r for r in _rows(html, "Mary") if len(r) >= 7]
    assert change_rows and all(set(r[1:6]) == {"*"} for r in change_rows)


def test_report_model_table_hides_withheld_regions():
    from tests.test_report import report_data

    data = report_data(small=(2024, "Mary"))
    data.model = pd.DataFrame({"area": ["Ahal", "Balkan", "Dashoguz", "Lebap", "Mary"],
                               "time": 2024, "mean": [0.21, 0.22, 0.23, 0.24, 0.777],
                               "ci_low": 0.1, "ci_high": 0.9, "r_hat": 1.0})
    data.model_indicator = "child_labour"
    html = render_report(data)
    model_html = html[html.index('id="model"'):html.index('id="methods"')]
    mary = _rows(model_html, "Mary")[0]
    assert mary[1:3] == ["*", "*"] and "77.8" not in model_html
    ahal = _rows(model_html, "Ahal")[0]  # Ahal is Mary's complement: withheld as well
    assert ahal[1] == "*"
    assert _rows(model_html, "Lebap")[0][1] == "24.0"
    allowed = render_report(data, policy=DisclosurePolicy(model_for_suppressed=True))
    assert "77.7" in allowed[allowed.index('id="model"'):]


def test_report_escapes_labels_and_records_the_seed(tmp_path):
    farms = hv.datasets.load("farms")
    f = farms[farms["year"] == 2024].copy()
    f["region"] = f["region"].replace({"Mary": "<script>alert(1)</script>"})
    path = build_report({"farm": f}, tmp_path / "x.html", progress=False, rng=7)
    html = path.read_text()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert "Random seed: 7" in html


def test_report_is_reproducible_apart_from_the_date(tmp_path):
    farms = hv.datasets.load("farms")
    a = build_report({"farm": farms}, tmp_path / "a.html", progress=False).read_text()
    b = build_report({"farm": farms}, tmp_path / "b.html", progress=False).read_text()

    def strip(t):
        return re.sub(r"on \d{4}-\d\d-\d\d \d\d:\d\d UTC", "", t)

    assert strip(a) == strip(b)


# ------------------------------------------------------------------------------- inputs


def test_repeated_records_are_refused_with_their_ids(tmp_path):
    farms = hv.datasets.load("farms")
    f = farms[farms["year"] == 2024]
    a, b = tmp_path / "f.csv", tmp_path / "f_copy.csv"
    hv.io.write(f, a)
    hv.io.write(f, b)
    result = run("report", a, b, "--out", tmp_path / "r.html", "-q")
    assert result.exit_code == 2
    assert "appear in more than one input file" in result.stderr
    assert str(f["farm_id"].iloc[0]) in result.stderr and "f_copy.csv" in result.stderr
    out = tmp_path / "kept.html"
    result = run("report", a, b, "--out", out, "-q", "--allow-repeated-records")
    assert result.exit_code == 0, result.output
    assert "--allow-repeated-records" in result.stderr
    assert "were kept twice" in out.read_text()


def test_repeated_records_use_the_year_with_the_id():
    a = pd.DataFrame({"year": [2023, 2024], "farm_id": ["F1", "F1"]})
    b = pd.DataFrame({"year": [2024], "farm_id": ["F1"]})
    rep = repeated_records([("a", a), ("b", b)], "farm_id")
    assert rep[["year", "farm_id"]].values.tolist() == [["2024", "F1"]]
    assert len(refuse_repeated([("a", a.iloc[:1]), ("b", b)], "farm_id")) == 0


def test_answer_counts_match_the_data():
    d = pd.DataFrame({"region": ["A", "A", "B", "B"], "x": [1, 0, 1, np.nan],
                      "m": [2.5, 1.0, 3.0, 4.0]})
    c = answer_counts(d, ["x", "m"], by="region")
    assert c.loc[c["indicator"] == "x", ["n", "n_yes"]].values.tolist() == [[2, 1], [1, 1]]
    assert c.loc[c["indicator"] == "m", "n_yes"].isna().all()


# ------------------------------------------------------------------------------ writing


BAD = ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "Ahal"]


def test_csv_and_xlsx_do_not_hold_formulas(tmp_path):
    t = pd.DataFrame({"region": BAD, "n": range(len(BAD))})
    text = csv_text(t)
    for v in BAD[:-1]:
        assert neutralise(v) == "'" + v
    assert "\n=HYPERLINK" not in text and "'=HYPERLINK" in text
    xlsx = write_table(t, tmp_path / "t.xlsx", notes=["=note"])
    wb = openpyxl.load_workbook(xlsx)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f"
    assert wb["table"]["A2"].value == BAD[0]  # kept as text, unchanged


def test_cli_outputs_are_safe(tmp_path):
    rng = np.random.default_rng(1)
    labels = ["=cmd|' /C calc'!A0", "<script>x</script>", "@SUM(1)", "Ok"]
    t = pd.DataFrame({"district": np.repeat(labels, 30), "y": rng.integers(0, 2, 120)})
    path = tmp_path / "survey.csv"
    t.to_csv(path, index=False)
    for suffix in ("xlsx", "csv", "md"):
        out = tmp_path / f"t.{suffix}"
        result = run("estimate", path, "-i", "y", "--by", "district", "--out", out)
        assert result.exit_code == 0, result.output
        if suffix == "xlsx":
            ws = openpyxl.load_workbook(out)["table"]
            assert all(c.data_type != "f" for r in ws.iter_rows() for c in r)
            assert labels[0] in [c.value for c in ws["A"]]
        elif suffix == "csv":
            assert "\n=cmd" not in out.read_text() and "'=cmd" in out.read_text()
            assert "'@SUM" in out.read_text()
        else:
            md = out.read_text()
            assert "<script>" not in md and "&lt;script&gt;" in md
    result = run("estimate", path, "-i", "y", "--by", "district", "--format", "csv")
    assert "\n=cmd" not in result.stdout and "'=cmd" in result.stdout
    result = run("estimate", path, "-i", "y", "--by", "district")
    assert "<script>" not in result.stdout


def test_validate_problems_file_holds_no_formula(tmp_path):
    farms = hv.datasets.load("farms")
    f = farms[farms["year"] == 2024].copy()
    f["region"] = f["region"].replace({"Mary": "=HYPERLINK(\"http://x\")"})
    path, problems = tmp_path / "bad.csv", tmp_path / "p.xlsx"
    hv.io.write(f, path)
    result = run("validate", path, "--problems", problems)
    assert result.exit_code == 2
    ws = openpyxl.load_workbook(problems)["table"]
    values = [c.value for r in ws.iter_rows() for c in r]
    assert any(isinstance(v, str) and "=HYPERLINK" in v for v in values)
    assert all(c.data_type != "f" for r in ws.iter_rows() for c in r)


def test_markdown_escapes_html():
    md = to_markdown(pd.DataFrame({"<b>": ["<img src=x onerror=alert(1)>", "a|b"]}))
    assert "<img" not in md and "<b>" not in md and "a\\|b" in md
