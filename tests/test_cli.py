"""The `harvest` command, through its real entry point (click's CliRunner on `main`)
and once through the installed console script."""

import io
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import harvest as hv
from harvest.cli import main

DATA = Path(hv.datasets.path("farms")).parent


@pytest.fixture
def runner():
    return CliRunner()


def run(runner, *args):
    return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def farms():
    return hv.datasets.load("farms")


# ---------------------------------------------------------------------------- help


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ([], ["demo", "validate", "estimate", "compare", "report", "plan"]),
        (["demo"], ["--out", "--min-n", "--bayes", "--quiet"]),
        (["validate"], ["--instrument", "--problems", "--sheet"]),
        (["estimate"], ["--indicator", "--by", "--strata", "--psu", "--weights", "--fpc",
                        "--lonely-psu", "--ci", "--level", "--min-n", "--out", "--format",
                        "--reliability", "--replicate-weights", "--replicate-method", "--rho",
                        "--scale", "--mse"]),
        (["compare"], ["--indicator", "--between", "--baseline", "--by", "--measure",
                       "--adjust", "--replicate-weights", "--replicate-method"]),
        (["report"], ["--out", "--visits", "--baseline", "--min-n", "--reliability"]),
        (["plan"], ["--p", "--moe", "--deff", "--level", "--population", "--icc"]),
    ],
)
def test_help_explains_every_option(runner, command, words):
    result = run(runner, *command, "--help")
    assert result.exit_code == 0
    for w in words:
        assert w in result.output, w
    if command:
        # every option carries a sentence of help
        lines = [ln for ln in result.output.splitlines() if ln.strip().startswith("--")]
        assert all(len(ln.split("  ")) > 1 or ln.rstrip().endswith("]") for ln in lines)


def test_version(runner):
    result = run(runner, "--version")
    assert result.exit_code == 0 and hv.__version__ in result.output


# ---------------------------------------------------------------------------- demo


def test_demo_writes_the_report(runner, tmp_path):
    out = tmp_path / "demo.html"
    result = run(runner, "demo", "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    assert out.exists()
    assert str(out.resolve()) in result.output and "web browser" in result.output
    html = out.read_text()
    assert "Synthetic demonstration data" in html
    assert html.count("<table>") >= 5 and "<svg" in html


def test_demo_writes_no_progress_frames_when_not_a_terminal(tmp_path):
    # CliRunner's stderr is not a terminal, as a log file; the terminal case is
    # tests/test_report.py::test_progress_bar_only_on_a_terminal_and_labelled
    result = CliRunner().invoke(main, ["demo", "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    assert "\r" not in result.stderr and "\r" not in result.stdout
    assert "harvest report" not in result.stdout


# ---------------------------------------------------------------------------- validate


def test_validate_good_file(runner):
    result = run(runner, "validate", DATA / "farms.csv", "--instrument", "farm")
    assert result.exit_code == 0, result.output
    assert "farms.csv: ok:" in result.stdout and "5 regions" in result.stdout


def bad_farms(farms, tmp_path, suffix=".csv"):
    bad = farms.copy()
    bad["region"] = bad["region"].astype(object)
    bad.loc[3, "region"] = "Atlantis"
    bad.loc[5, "n_children"] = bad.loc[5, "n_pickers"] + 5
    path = tmp_path / f"bad_farms{suffix}"
    hv.io.write(bad, path)
    return path


def test_validate_bad_file_lists_the_problems(runner, farms, tmp_path):
    path = bad_farms(farms, tmp_path)
    problems = tmp_path / "problems.csv"
    result = run(runner, "validate", path, "--problems", problems)
    assert result.exit_code == 2
    assert "Error: the data need fixing" in result.stderr
    assert "`region`" in result.stderr and "'Atlantis'" in result.stderr
    assert "row 3" in result.stderr
    assert "more children observed picking than pickers present" in result.stderr
    assert "Traceback" not in result.output
    assert result.stderr.count("Error:") == 1
    assert "--problems problems.xlsx` writes the full list" in result.stderr
    table = pd.read_csv(problems)
    assert {"row", "column", "value", "problem"} <= set(table.columns)
    assert 3 in table["row"].tolist() and 5 in table["row"].tolist()


def test_validate_xlsx(runner, farms, tmp_path):
    path = bad_farms(farms.head(40), tmp_path, ".xlsx")
    result = run(runner, "validate", path, "--instrument", "farm")
    assert result.exit_code == 2 and "'Atlantis'" in result.stderr


def test_missing_and_unreadable_files(runner, tmp_path):
    result = run(runner, "validate", tmp_path / "nope.csv")
    assert result.exit_code == 2 and "does not exist" in result.stderr
    odd = tmp_path / "farms.json"
    odd.write_text("{}")
    result = run(runner, "estimate", odd, "--indicator", "child_labour")
    assert result.exit_code == 2
    assert "cannot tell the format" in result.stderr and ".csv" in result.stderr
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    result = run(runner, "estimate", empty, "--indicator", "x")
    assert result.exit_code == 2 and "Error:" in result.stderr


def test_validate_unknown_table(runner, tmp_path):
    path = tmp_path / "other.csv"
    pd.DataFrame({"a": [1, 2]}).to_csv(path, index=False)
    result = run(runner, "validate", path)
    assert result.exit_code == 2 and "cannot tell which instrument" in result.stderr


# ---------------------------------------------------------------------------- estimate


def test_estimate_prints_a_markdown_table(runner):
    result = run(runner, "estimate", DATA / "farms.csv", "--indicator", "child_labour",
                 "--by", "year", "--by", "region", "--strata", "stratum", "--psu", "district",
                 "--weights", "weight")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "| year | region | Indicator | Estimate (%) | 95% CI | n | Note |"
    assert len([ln for ln in lines if ln.startswith("| 2024 |")]) == 5


def test_estimate_matches_the_library(runner, farms, tmp_path):
    out = tmp_path / "est.csv"
    result = run(runner, "estimate", DATA / "farms.csv", "-i", "child_labour",
                 "-i", "civil_servants_on_farm", "--by", "region", "--strata", "stratum",
                 "--psu", "district", "--weights", "weight", "--fpc", "n_districts",
                 "--out", out)
    assert result.exit_code == 0, result.output
    got = pd.read_csv(out)
    want = hv.SurveyDesign(farms, weights="weight", strata="stratum", psu="district",
                           fpc="n_districts").proportion(
        ["child_labour", "civil_servants_on_farm"], by="region")
    assert list(got.columns[:12]) == list(want.columns)
    pd.testing.assert_series_equal(got["estimate"], want["estimate"], check_names=False)
    pd.testing.assert_series_equal(got["ci_low"], want["ci_low"], check_names=False)
    assert not got["suppressed"].any()


@pytest.mark.parametrize("suffix", [".xlsx", ".md"])
def test_estimate_output_formats(runner, tmp_path, suffix):
    out = tmp_path / f"est{suffix}"
    result = run(runner, "estimate", DATA / "farms.csv", "-i", "child_labour", "--by",
                 "region", "--out", out)
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.stderr
    if suffix == ".xlsx":
        sheets = pd.read_excel(out, sheet_name=None)
        assert len(sheets["table"]) == 5 and "estimate" in sheets["table"]
    else:
        assert out.read_text().startswith("| region | Indicator | Estimate (%)")


def test_estimate_csv_on_stdout(runner):
    result = run(runner, "estimate", DATA / "farms.csv", "-i", "child_labour", "--format",
                 "csv", "--no-design")
    assert result.exit_code == 0
    assert result.stdout.startswith("indicator,estimate,se,ci_low,ci_high")


def test_estimate_suppresses_small_cells(runner, farms, tmp_path):
    mary = farms.index[farms["region"] == "Mary"]
    small = farms.drop(index=mary[7:])  # 7 farms left in Mary
    path = tmp_path / "small.csv"
    hv.io.write(small, path)
    result = run(runner, "estimate", path, "-i", "child_labour", "--by", "region",
                 "--no-design")
    assert result.exit_code == 0, result.output
    (mary,) = [ln for ln in result.stdout.splitlines() if ln.startswith("| Mary")]
    assert mary == "| Mary | child_labour | * | * | * | a |"  # no "<10" range
    out = tmp_path / "small_out.csv"
    run(runner, "estimate", path, "-i", "child_labour", "--by", "region", "--no-design",
        "--out", out)
    tidy = pd.read_csv(out)
    row = tidy[tidy["region"] == "Mary"].iloc[0]
    assert row["suppressed"] and pd.isna(row["estimate"]) and pd.isna(row["n"])
    # a higher threshold is honoured
    result = run(runner, "estimate", path, "-i", "child_labour", "--by", "region",
                 "--no-design", "--min-n", "1000")
    rows = [ln for ln in result.stdout.splitlines() if ln.startswith("| ") and "child" in ln]
    assert len(rows) == 5 and all(ln.endswith("| * | * | * | a |") for ln in rows)


def test_estimate_bad_column_and_bad_values(runner, farms, tmp_path):
    result = run(runner, "estimate", DATA / "farms.csv", "-i", "child_labour", "--psu",
                 "etrap")
    assert result.exit_code == 2
    assert "'etrap' (--psu) is not in the file" in result.stderr
    result = run(runner, "estimate", DATA / "farms.csv", "-i", "no_such_column")
    assert result.exit_code == 2 and "no_such_column" in result.stderr
    result = run(runner, "estimate", DATA / "farms.csv", "-i", "n_pickers")
    assert result.exit_code == 2 and "n_pickers" in result.stderr  # not 0/1
    result = run(runner, "estimate", DATA / "farms.csv", "-i", "child_labour", "--level", "2")
    assert result.exit_code == 2 and "--level" in result.stderr


def test_estimate_a_table_that_is_not_an_instrument(runner, tmp_path):
    path = tmp_path / "survey.csv"
    pd.DataFrame({"psu": [1, 2, 3, 4, 5, 6], "y": [0, 1, 1, 0, 1, 1]}).to_csv(path,
                                                                          index=False)
    result = run(runner, "estimate", path, "-i", "y", "--psu", "psu", "--min-n", "0",
                 "--min-each", "0", "--allow-weak-disclosure", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert pd.read_csv(__import__("io").StringIO(result.stdout))["estimate"].iloc[0] == \
        pytest.approx(4 / 6)


# ---------------------------------------------------------------------------- compare


def test_compare_years_by_region(runner, farms, tmp_path):
    out = tmp_path / "cmp.csv"
    result = run(runner, "compare", DATA / "farms.csv", "--indicator", "child_labour",
                 "--between", "year", "--baseline", "2023", "--by", "region", "--out", out)
    assert result.exit_code == 0, result.output
    got = pd.read_csv(out)
    want = hv.SurveyDesign(farms, weights="weight", strata="stratum", psu="district",
                           fpc="n_districts").compare("child_labour", "year", baseline=2023,
                                                      by="region")
    assert len(got) == 5
    # Balkan 2023: 2 farms of 21 with child labour (attribute rule), so Balkan is withheld
    # in both years, and Ahal (the smallest other region) with it (secondary suppression)
    assert got["suppressed"].tolist() == [True, True, False, False, False]
    assert got.loc[got["suppressed"], ["estimate", "n_group"]].isna().all().all()
    shown = ~got["suppressed"]
    pd.testing.assert_series_equal(got["estimate"][shown], want["estimate"][shown],
                                   check_names=False)
    pd.testing.assert_series_equal(got["p_adjusted"][shown], want["p_adjusted"][shown],
                                   check_names=False)
    result = run(runner, "compare", DATA / "farms.csv", "-i", "child_labour", "--between",
                 "year", "--baseline", "2023")
    assert "| child_labour | " in result.stdout
    assert "Change (percentage points)" in result.stdout
    result = run(runner, "compare", DATA / "farms.csv", "-i", "child_labour", "--between",
                 "year", "--by", "region")
    assert "p: adjusted for the 5 comparisons (holm)." in result.stdout


def test_compare_bad_baseline_and_column(runner):
    result = run(runner, "compare", DATA / "farms.csv", "-i", "child_labour", "--between",
                 "year", "--baseline", "2019")
    assert result.exit_code == 2
    assert "'--baseline': '2019' is not a value of the --between column 'year'" in result.stderr
    assert "the data need fixing" not in result.stderr
    assert "2023, 2024" in result.stderr
    result = run(runner, "compare", DATA / "farms.csv", "-i", "child_labour", "--between",
                 "harvest_year")
    assert result.exit_code == 2 and "'harvest_year' (--between)" in result.stderr


@pytest.fixture(scope="module")
def jk1_file(farms, tmp_path_factory):
    """The 2024 farms with delete-one-district JK1 replicate weights repw1..repwK."""
    df = farms[farms["year"] == 2024].reset_index(drop=True)
    codes, districts = pd.factorize(df["district"])
    k = len(districts)
    w = df["weight"].to_numpy(dtype=float)
    reps = pd.DataFrame({f"repw{j + 1}": w * (codes != j) * k / (k - 1) for j in range(k)})
    path = tmp_path_factory.mktemp("rep") / "farms_jk1.csv"
    pd.concat([df.drop(columns=["stratum", "n_districts"]), reps], axis=1).to_csv(path,
                                                                                   index=False)
    return path


def _jk1(data, **kwargs):
    with pytest.warns(hv.HarvestWarning, match="scale"):
        return hv.ReplicateDesign(data, weights="weight", replicate_weights="repw",
                                  method="jk1", **kwargs)


def test_estimate_and_compare_with_replicate_weights(runner, jk1_file, tmp_path):
    data = pd.read_csv(jk1_file)
    want = _jk1(data).proportion("child_labour", by="region")
    out = tmp_path / "rep.csv"
    result = run(runner, "estimate", jk1_file, "-i", "child_labour", "--by", "region",
                 "--replicate-weights", "repw", "--replicate-method", "jk1", "--min-n", 0,
                 "--min-each", 0, "--allow-weak-disclosure", "--reliability", "none",
                 "--out", out)
    assert result.exit_code == 0, result.output
    assert "using the full-sample weights in the column 'weight'" in result.stderr
    assert "warning: scale (n-1)/n not provided for method='jk1'" in result.stderr
    got = pd.read_csv(out)
    for col in ("estimate", "se", "ci_low", "ci_high", "df"):
        np.testing.assert_allclose(got[col], want[col], rtol=1e-12)
    # a list of columns works as the prefix does; --mse changes the standard errors
    cols = ",".join(c for c in data.columns if c.startswith("repw"))
    listed = run(runner, "estimate", jk1_file, "-i", "child_labour", "--replicate-weights",
                 cols, "--replicate-method", "jk1", "--weights", "weight", "--format", "csv")
    prefix = run(runner, "estimate", jk1_file, "-i", "child_labour", "--replicate-weights",
                 "repw", "--replicate-method", "jk1", "--weights", "weight", "--format", "csv")
    assert listed.stdout == prefix.stdout
    mse = run(runner, "estimate", jk1_file, "-i", "child_labour", "--replicate-weights",
              "repw", "--replicate-method", "jk1", "--mse", "--format", "csv")
    want_mse = _jk1(data, mse=True).proportion("child_labour")
    got_mse = pd.read_csv(io.StringIO(mse.stdout))
    np.testing.assert_allclose(got_mse["se"], want_mse["se"], rtol=1e-12)

    cmp_out = tmp_path / "cmp.csv"
    result = run(runner, "compare", jk1_file, "-i", "child_labour", "--between", "region",
                 "--baseline", "Ahal", "--replicate-weights", "repw", "--replicate-method",
                 "jk1", "--out", cmp_out)
    assert result.exit_code == 0, result.output
    want = _jk1(data).compare("child_labour", "region", baseline="Ahal")
    got = pd.read_csv(cmp_out)
    np.testing.assert_allclose(got["se"], want["se"], rtol=1e-12)


def test_replicate_weight_options_misused(runner, jk1_file):
    base = ["estimate", jk1_file, "-i", "child_labour"]
    result = run(runner, *base, "--replicate-weights", "repw")
    assert result.exit_code == 2 and "needs --replicate-method" in result.stderr
    result = run(runner, *base, "--replicate-weights", "repw", "--replicate-method", "jk1",
                 "--psu", "district")
    assert result.exit_code == 2
    assert "--psu cannot be combined with --replicate-weights" in result.stderr
    result = run(runner, *base, "--rho", "0.5")
    assert result.exit_code == 2 and "--rho only apply with --replicate-weights" in result.stderr
    result = run(runner, *base, "--replicate-weights", "repw1,repw2,nope",
                 "--replicate-method", "jk1")
    assert result.exit_code == 2 and "column 'nope' is not in the data" in result.stderr
    result = run(runner, *base, "--replicate-weights", "bs", "--replicate-method", "bootstrap")
    assert result.exit_code == 2 and "no column is named 'bs' followed by a number" in (
        result.stderr)
    result = run(runner, *base, "--replicate-weights", "repw", "--replicate-method", "fay")
    assert result.exit_code == 2 and "rho" in result.stderr


# ---------------------------------------------------------------------------- report


def test_report_from_two_files(runner, tmp_path):
    out = tmp_path / "report.html"
    farms24 = tmp_path / "farms_2024.xlsx"
    emp = tmp_path / "employees_2024.csv"
    f = hv.datasets.load("farms")
    e = hv.datasets.load("employees")
    hv.io.write(f[f["year"] == 2024], farms24)
    hv.io.write(e[e["year"] == 2024], emp)
    result = run(runner, "report", farms24, emp, "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert "farms_2024.xlsx" in html and "employees_2024.csv" in html
    assert "Civil servants who picked cotton" in html
    assert "Change since" not in html  # one year only
    assert str(out.resolve()) in result.stdout


def test_report_stacks_years_and_uses_visits(runner, tmp_path):
    out = tmp_path / "report.html"
    result = run(runner, "report", DATA / "farms.csv", "--visits", DATA / "visits.csv",
                 "--out", out, "--quiet", "--reliability", "suppress", "--min-n", "50")
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert "Change since 2023" in html and "Institutions" in html
    assert "fewer than 50 observations" in html


def test_report_rejects_files_it_cannot_place(runner, tmp_path):
    path = tmp_path / "other.csv"
    pd.DataFrame({"a": [1]}).to_csv(path, index=False)
    result = run(runner, "report", path, "--out", tmp_path / "r.html")
    assert result.exit_code == 2
    assert "other.csv: cannot tell which instrument" in result.stderr
    result = run(runner, "report", "--out", tmp_path / "r.html")
    assert result.exit_code == 2 and "Missing argument" in result.stderr


# ---------------------------------------------------------------------------- plan


def test_plan(runner):
    result = run(runner, "plan", "--p", "0.23", "--moe", "0.05", "--deff", "2")
    assert result.exit_code == 0, result.output
    want = int(hv.plan.sample_size(p=0.23, moe=0.05, deff=2.0)["n"].iloc[0])
    assert f"| Sample size | {want} |" in result.stdout
    result = run(runner, "plan", "--p", "0.23", "--moe", "0.05", "--icc", "0.1",
                 "--cluster-size", "8", "--format", "csv")
    assert "clusters" in result.stdout.splitlines()[0]


def test_plan_bad_values(runner):
    result = run(runner, "plan", "--p", "1.5", "--moe", "0.05")
    assert result.exit_code == 2 and "--p" in result.stderr
    result = run(runner, "plan", "--moe", "0.05")
    assert result.exit_code == 2 and "Missing option '--p'" in result.stderr


# ---------------------------------------------------------------------------- installed script


def installed_script():
    here = Path(sys.executable).parent / "harvest"
    return str(here) if here.exists() else shutil.which("harvest")


@pytest.mark.skipif(installed_script() is None, reason="the harvest script is not installed")
def test_installed_script(tmp_path):
    exe = installed_script()
    ok = subprocess.run([exe, "plan", "--p", "0.23", "--moe", "0.05", "--deff", "2"],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "| Sample size |" in ok.stdout
    bad = subprocess.run([exe, "validate", str(tmp_path / "missing.csv")],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert "does not exist" in bad.stderr and "Traceback" not in bad.stderr


def test_estimate_leaves_out_refused_visits_and_says_so(runner, farms, tmp_path):
    refused = farms.head(3).copy()
    refused["farm_id"] = refused["farm_id"].astype(str) + "-r"
    refused["visit_status"] = "refused"
    answers = ["n_pickers", "n_children", "farmer_reports_minors", "civil_servants_on_farm",
               "child_labour", "children_observed", "interference", "quota_pressure"]
    refused[answers] = float("nan")
    path = tmp_path / "with_refusals.csv"
    hv.io.write(pd.concat([farms, refused], ignore_index=True), path)
    result = run(runner, "estimate", path, "-i", "child_labour", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert "3 farm visit(s) not completed (3 refused) are left out" in result.stderr
    est = pd.read_csv(__import__("io").StringIO(result.stdout))
    assert est["n"].iloc[0] == len(farms)
