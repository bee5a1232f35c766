"""Weighting from the command line (--calibrate margins.csv, --nonresponse) and in the
report, and the simulations behind it: covariate-driven nonresponse biases the unadjusted
estimate and the adjustment removes the bias; calibrated intervals cover."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import harvest as hv
from harvest.cli import main
from harvest.weighting_spec import (
    Weighting,
    apply_weighting,
    margins_from_table,
    prepare,
    weighting_summary,
)

FARMS = Path(hv.datasets.path("farms"))
EMPLOYEES = Path(hv.datasets.path("employees"))


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def farms():
    return hv.datasets.load("farms")


def registry(with_year=True):
    """The farm registry's counts per region and the pickers' total, from truth.csv."""
    t = hv.datasets.load("truth")
    t = t[t["instrument"] == "farm"]
    n = t[(t["indicator"] == "child_labour") & (t["region"] != "All")]
    p = t[(t["indicator"] == "n_pickers") & (t["region"] == "All")]
    m = pd.concat([pd.DataFrame({"year": n["year"], "column": "region", "level": n["region"],
                                 "total": n["N"]}),
                   pd.DataFrame({"year": p["year"], "column": "n_pickers", "level": "",
                                 "total": p["total"]})], ignore_index=True)
    return m if with_year else m[m["year"] == 2024].drop(columns="year")


def test_margins_table_is_the_calibrate_argument(farms):
    m = margins_from_table(registry(False), farms)
    assert list(m) == ["region", "n_pickers"]
    assert m["region"]["Ahal"] == 4569.0 and m["n_pickers"] == 536182.0
    frame = registry(False)
    before = frame.copy()
    margins_from_table(frame, farms)
    pd.testing.assert_frame_equal(frame, before)   # the caller's table is not touched


def test_calibrate_with_years_meets_each_years_totals(farms):
    w = Weighting(margins=registry(), source="m.csv")
    df, margins = prepare(farms, w)
    assert "region | year" in df.columns and "region | year" not in farms.columns
    design = hv.SurveyDesign(df, weights="weight", strata="stratum", psu="district",
                             fpc="n_districts")
    cal = apply_weighting(design, w, margins)
    got = cal.total("n_pickers", by="year")["estimate"].to_numpy()
    np.testing.assert_allclose(got, [527942.0, 536182.0], rtol=1e-9)
    sizes = cal.weights.groupby([farms["year"], farms["region"]]).sum()
    assert sizes[(2024, "Lebap")] == pytest.approx(6386.0, rel=1e-9)
    # the same as calibrating each year by itself
    one = farms[farms["year"] == 2024]
    d24 = hv.SurveyDesign(one, weights="weight", strata="stratum", psu="district",
                          fpc="n_districts").calibrate(margins_from_table(registry(False), one))
    np.testing.assert_allclose(cal.weights[one.index], d24.weights, rtol=1e-8)
    text = weighting_summary(cal)
    assert "calibrated (linear)" in text and "Kish design effect" in text


def test_cli_estimate_calibrated(tmp_path):
    path = tmp_path / "registry.csv"
    registry().to_csv(path, index=False)
    plain = run("estimate", FARMS, "-i", "child_labour", "--by", "year", "--format", "csv")
    cal = run("estimate", FARMS, "-i", "child_labour", "--by", "year", "--format", "csv",
              "--calibrate", path)
    assert cal.exit_code == 0, cal.stderr
    assert "weighting: calibrated (linear) to the totals of 'region | year'" in cal.stderr
    assert "Kish design effect" in cal.stderr
    a = pd.read_csv(pd.io.common.StringIO(plain.stdout))
    b = pd.read_csv(pd.io.common.StringIO(cal.stdout))
    assert not np.allclose(a["estimate"], b["estimate"])
    np.testing.assert_allclose(a["estimate"], b["estimate"], atol=0.02)
    # raking and bounded logit run too and say so
    rk = run("estimate", FARMS, "-i", "child_labour", "--by", "year", "--calibrate", path,
             "--calibrate-method", "logit", "--calibrate-bounds", "0.3", "3")
    assert rk.exit_code == 0, rk.stderr
    assert "calibrated (logit)" in rk.stderr and "bounded to [0.3, 3]" in rk.stderr
    cmp = run("compare", FARMS, "-i", "child_labour", "--between", "year", "--baseline",
              "2023", "--calibrate", path)
    assert cmp.exit_code == 0, cmp.stderr
    assert "weighting: calibrated" in cmp.stderr


@pytest.mark.parametrize(("content", "words"), [
    ("column,level\nregion,Ahal\n", ["registry.csv", "total missing"]),
    ("column,level,total\nregion,Ahal,4569\nregion,Atlantis,10\n",
     ["registry.csv line 3", "'Atlantis'", "'region'", "Ahal, Balkan"]),
    ("column,level,total\nhectares,,100\n", ["registry.csv line 2", "'hectares'"]),
    ("column,level,total\nregion,Ahal,many\n", ["registry.csv line 2", "'many'"]),
    ("column,level,total\nregion,Ahal,4569\nregion,Ahal,4570\n",
     ["registry.csv line 3", "repeats the figure of line 2"]),
    ("column,level,total\nregion,Ahal,4569\nregion,,12\n",
     ["registry.csv line 3", "needs a level"]),
    ("column,level,total,source\nregion,Ahal,4569,x\n", ["unknown column(s) source"]),
    ("year,column,level,total\n2024,region,Ahal,4569\n", ["year(s) 2023"]),
    ("column,level,total\nregion,Ahal,4569\n", ["several years (2023, 2024)",
                                               "add a year column"]),
])
def test_cli_bad_margins_files(tmp_path, content, words):
    path = tmp_path / "registry.csv"
    path.write_text(content)
    result = run("estimate", FARMS, "-i", "child_labour", "--calibrate", path)
    assert result.exit_code == 2, result.stdout
    for w in words:
        assert w in result.stderr, (w, result.stderr)
    assert "Traceback" not in result.stderr


def test_cli_level_of_the_data_missing_from_margins(tmp_path):
    path = tmp_path / "registry.csv"
    registry(False)[lambda m: m["level"] != "Mary"].to_csv(path, index=False)
    only = tmp_path / "farms24.csv"
    pd.read_csv(FARMS).query("year == 2024").to_csv(only, index=False)
    result = run("estimate", only, "-i", "child_labour", "--calibrate", path)
    assert result.exit_code == 2
    assert "'Mary'" in result.stderr and "not in the margins" in result.stderr


def test_cli_option_errors(tmp_path):
    result = run("estimate", FARMS, "-i", "child_labour", "--nonresponse-by", "region")
    assert result.exit_code == 2 and "--nonresponse-by needs --nonresponse" in result.stderr
    result = run("estimate", FARMS, "-i", "child_labour", "--nonresponse", "answered")
    assert result.exit_code == 2 and "'answered' (--nonresponse)" in result.stderr
    path = tmp_path / "m.csv"
    registry().to_csv(path, index=False)
    result = run("estimate", FARMS, "-i", "child_labour", "--calibrate", path,
                 "--calibrate-method", "logit")
    assert result.exit_code == 2 and "needs --calibrate-bounds" in result.stderr


def sized_institutions(n_missions, seed, **settings):
    pop = hv.simulate.population(2024, rng=seed, refusal_size=2.0, keep_refusals=True,
                                 institution_refusals=120, **settings)
    truth = pop.truth.query("instrument == 'institution' and indicator == 'received_quota' "
                            "and region == 'All'")["value"].item()
    return hv.simulate.missions(n=n_missions, population=pop, rng=seed + 1), truth


@pytest.fixture(scope="module")
def one_mission():
    return sized_institutions(1, 5)[0]


@pytest.fixture(scope="module")
def many_missions():
    return sized_institutions(150, 11)


def test_cli_nonresponse_adjustment(tmp_path, one_mission):
    ms = one_mission
    path = tmp_path / "institutions.csv"
    ms.institutions.drop(columns="sim").to_csv(path, index=False)
    # answers missing on the non-respondents only: no --na drop needed
    result = run("estimate", path, "-i", "received_quota", "--format", "csv",
                 "--nonresponse", "responded", "--nonresponse-by", "size_class")
    assert result.exit_code == 0, result.stderr
    assert "stay in the design as non-respondents" in result.stderr
    assert "weighting: nonresponse adjustment of 'responded' within ['size_class']" \
        in result.stderr
    est = pd.read_csv(pd.io.common.StringIO(result.stdout))["estimate"].item()
    inst = ms.institutions
    d = hv.SurveyDesign(inst, weights="weight", strata="stratum", psu="district",
                        fpc="n_districts").adjust_nonresponse("responded", by="size_class")
    assert est == pytest.approx(
        d.proportion("received_quota", na="drop")["estimate"].item(), rel=1e-9)
    # a refused visit marked as a respondent is refused
    bad = inst.drop(columns="sim").copy()
    bad.loc[bad["visit_status"] == "refused", "responded"] = 1
    bad.to_csv(path, index=False)
    result = run("estimate", path, "-i", "received_quota", "--na", "drop",
                 "--nonresponse", "responded")
    assert result.exit_code == 2 and "marked as respondents" in result.stderr


def test_report_states_the_weighting(tmp_path):
    path = tmp_path / "registry.csv"
    registry().assign(instrument="farm").to_csv(path, index=False)
    out = tmp_path / "r.html"
    result = run("report", FARMS, EMPLOYEES, "--calibrate", path, "-q", "--out", out)
    assert result.exit_code == 0, result.stderr
    page = out.read_text()
    assert "Weighting of the farms: calibrated (linear)" in page
    assert "Kish design effect" in page and "Weighting of the employees" not in page
    # several instruments and no instrument column: which table is a figure for?
    registry().to_csv(path, index=False)
    result = run("report", FARMS, EMPLOYEES, "--calibrate", path, "-q", "--out", out)
    assert result.exit_code == 2 and "add a column instrument" in result.stderr


def test_report_with_nonresponse_adjustment(tmp_path, one_mission):
    ms = one_mission
    path = tmp_path / "employees.csv"
    ms.employees.drop(columns="sim").to_csv(path, index=False)
    farms = tmp_path / "farms.csv"
    pd.read_csv(FARMS).query("year == 2024").to_csv(farms, index=False)
    out = tmp_path / "r.html"
    result = run("report", farms, path, "--nonresponse", "responded", "--nonresponse-by",
                 "size_class", "-q", "--out", out)
    assert result.exit_code == 0, result.stderr
    page = out.read_text()
    assert "Weighting of the employees: nonresponse adjustment of" in page
    assert "treated as fixed" in page and "Weighting of the farms" not in page
    result = run("report", FARMS, "--nonresponse", "answered", "-q", "--out", out)
    assert result.exit_code == 2 and "in none of the tables" in result.stderr


def test_covariate_nonresponse_bias_and_its_removal(many_missions):
    """Large institutions refuse 7 times as often and get more quotas: the unadjusted
    estimate is biased; adjusting within size classes removes the bias (4 MC SE)."""
    ms, truth = many_missions
    inst = ms.institutions
    design = hv.SurveyDesign(inst, weights="weight", strata=["sim", "stratum"],
                             psu="district", fpc="n_districts")
    unadjusted = design.subset(inst["responded"].to_numpy() == 1).proportion(
        "received_quota", by="sim", na="drop")["estimate"].to_numpy()
    adjusted = design.adjust_nonresponse("responded", by=["sim", "size_class"]).proportion(
        "received_quota", by="sim", na="drop")["estimate"].to_numpy()
    for est, biased in ((unadjusted, True), (adjusted, False)):
        mcse = est.std(ddof=1) / np.sqrt(est.size)
        z = (est.mean() - truth) / mcse
        assert (abs(z) > 4) == biased, (est.mean(), truth, mcse)
    assert unadjusted.mean() < truth   # the large institutions, with more quotas, refuse


def test_employee_sample_adjusted_for_institution_refusals(many_missions):
    """The employees of refusing institutions are missing; one row per refusal standing
    for its staff lets the same adjustment remove the bias of employee estimates."""
    ms, _ = many_missions
    emp = ms.employees
    truth = ms.truth.query("instrument == 'employee' and indicator == 'any_consequence' "
                           "and region == 'All'")["value"].item()
    design = hv.SurveyDesign(emp, weights="weight", strata=["sim", "stratum"],
                             psu="district", fpc="n_districts")
    unadjusted = design.subset(emp["responded"].to_numpy() == 1).proportion(
        "any_consequence", by="sim", na="drop")["estimate"].to_numpy()
    adjusted = design.adjust_nonresponse("responded", by=["sim", "size_class"]).proportion(
        "any_consequence", by="sim", na="drop")["estimate"].to_numpy()
    for est, biased in ((unadjusted, True), (adjusted, False)):
        z = (est.mean() - truth) / (est.std(ddof=1) / np.sqrt(est.size))
        assert (abs(z) > 4) == biased, (est.mean(), truth, z)


@pytest.fixture(scope="module")
def calibration_frame():
    pop = hv.simulate.population(2024, rng=21)
    truth = pop.truth.query("instrument == 'institution' and indicator == 'received_quota' "
                            "and region == 'All'")["value"].item()
    ms = hv.simulate.missions(n=150, population=pop, rng=22)
    inst = ms.institutions.assign(size_class=np.where(ms.institutions["n_staff"] >= 35,
                                                      "large", "small"))
    return inst, margins_from_table(ms.margins("institution"), inst), truth


@pytest.mark.parametrize(("method", "bounds"), [("linear", None), ("raking", None),
                                                ("logit", (0.4, 2.5))])
def test_calibrated_intervals_cover(calibration_frame, method, bounds):
    """95% intervals after calibrating to the registry's counts (region, sector, size
    class, staff total) cover the truth at the nominal rate: 150 missions, within three
    binomial standard errors."""
    inst, margins, truth = calibration_frame
    covered = []
    for _, part in inst.groupby("sim"):  # one calibration per mission
        d = hv.SurveyDesign(part, weights="weight", strata="stratum", psu="district",
                            fpc="n_districts").calibrate(margins, method=method,
                                                         bounds=bounds)
        t = d.proportion("received_quota").iloc[0]
        covered.append(t["ci_low"] <= truth <= t["ci_high"])
    rate, n = np.mean(covered), len(covered)
    assert abs(rate - 0.95) <= 3 * np.sqrt(0.95 * 0.05 / n), rate


def test_guide_weighting_example_output_is_what_the_command_prints(tmp_path):
    """docs/guide.md section 7: the registry file and the printed table are real."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "guide.md").read_text()
    section = text.split("## 7. Weight the farm sample")[1].split("## 8.")[0]
    blocks = section.split("```text\n")
    registry_text = blocks[1].split("```")[0]
    shown = blocks[2].split("```")[0].splitlines()
    path = tmp_path / "registry_farms.csv"
    path.write_text(registry_text)
    result = run("estimate", FARMS, "--indicator", "child_labour", "--by", "year",
                 "--calibrate", path)
    assert result.exit_code == 0, result.stderr
    assert shown[0] in result.stderr           # the weighting line
    for line in shown[1:]:
        assert line in result.stdout, line
