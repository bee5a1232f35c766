"""harvest.sensitive: list experiments and randomized response against R survey
(tests/reference/sensitive.R), input checks, and a small seeded simulation."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import harvest as hv
from harvest.sensitive import LIST_COLUMNS, RR_COLUMNS, rr_coefficients

REF = Path(__file__).parent / "reference"
TOL = 1e-6


@pytest.fixture(scope="module")
def reference():
    return pd.read_csv(REF / "sensitive_reference.csv")


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(REF / "sensitive_data.csv")


@pytest.fixture(scope="module")
def taylor(data):
    return hv.SurveyDesign(data, weights="weight", strata="stratum", psu="district",
                           fpc="n_districts")


@pytest.fixture(scope="module")
def jkn(data):
    repw = pd.read_csv(REF / "sensitive_repweights.csv")
    rscales = pd.read_csv(REF / "sensitive_rscales.csv")
    return hv.ReplicateDesign(pd.concat([data, repw], axis=1), weights="weight",
                              replicate_weights="repw_", method="jkn",
                              scale=float(rscales["scale"].iloc[0]),
                              rscales=rscales["rscales"].to_numpy())


@pytest.fixture(params=["taylor", "jkn"])
def design(request, taylor, jkn):
    return request.param, {"taylor": taylor, "jkn": jkn}[request.param]


def ref_rows(reference, name, call):
    out = reference[(reference["design"] == name) & (reference["call"] == call)]
    assert len(out) > 0
    return out.reset_index(drop=True)


def close(got, want):
    got, want = np.asarray(got, float), np.asarray(want, float)
    assert np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-12)) < TOL


def test_list_by_region_matches_svycontrast_and_svyglm(design, reference):
    name, d = design
    out = d.list_experiment("item_count", treatment="long_list", by="region")
    assert list(out.columns) == ["region", *LIST_COLUMNS]
    ref = ref_rows(reference, name, "list")
    assert out["region"].tolist() == ref["region"].tolist()
    close(out["estimate"], ref["estimate"])
    close(out["se"], ref["se"])
    close(out["estimate"], ref["svyglm_coef"])
    close(out["se"], ref["svyglm_se"])


def test_list_whole_sample(design, reference):
    name, d = design
    out = d.list_experiment("item_count", treatment="long_list")
    ref = ref_rows(reference, name, "list_all")
    close(out["estimate"], ref["estimate"])
    close(out["se"], ref["se"])
    assert out["n_treatment"].iloc[0] + out["n_control"].iloc[0] == len(d.data)


def test_double_list(design, reference):
    name, d = design
    out = d.list_experiment(["list_a", "list_b"], treatment="sens_in_a", by="region")
    ref = ref_rows(reference, name, "double")
    close(out["estimate"], ref["estimate"])
    close(out["se"], ref["se"])


def test_list_change_between_years(design, reference):
    name, d = design
    out = d.compare("item_count", between="year", baseline=2023, by="region",
                    kind="list_experiment", treatment="long_list")
    ref = ref_rows(reference, name, "list_change")
    close(out["estimate"], ref["estimate"])
    close(out["se"], ref["se"])
    assert {"estimate_group", "estimate_baseline", "p_value"} <= set(out.columns)


def test_rr_forced_and_warner(design, reference):
    name, d = design
    out = d.randomized_response("rr_answer", model="forced", p_yes=1/6, p_no=1/6,
                                by="region")
    assert list(out.columns) == ["region", *RR_COLUMNS]
    ref = ref_rows(reference, name, "rr_forced")
    close(out["estimate"], ref["estimate"])
    close(out["se"], ref["se"])
    w = d.randomized_response("rr_answer", model="warner", p=0.8)
    ref = ref_rows(reference, name, "rr_warner")
    close(w["estimate"], ref["estimate"])
    close(w["se"], ref["se"])


def test_rr_change_between_years(design, reference):
    name, d = design
    out = d.compare("rr_answer", between="year", baseline=2023, by="region",
                    kind="randomized_response", model="forced", p_yes=1/6, p_no=1/6)
    ref = ref_rows(reference, name, "rr_change")
    close(out["estimate"], ref["estimate"])
    close(out["se"], ref["se"])


def test_unweighted_equals_ols_difference(data, reference):
    # list::ictreg(method="lm") is the OLS coefficient of the treatment indicator.
    out = hv.SurveyDesign(data).list_experiment("item_count", treatment="long_list")
    ref = ref_rows(reference, "unweighted", "ols")
    close(out["estimate"], ref["estimate"])


def test_rr_models_invert_the_answer_share():
    pi = 0.3
    cases = {("forced", (("p_yes", 0.1), ("p_no", 0.2))): 0.1 + 0.7 * pi,
             ("warner", (("p", 0.7),)): 0.7 * pi + 0.3 * (1 - pi),
             ("unrelated", (("p", 0.6), ("unrelated_prevalence", 0.5))): 0.6 * pi + 0.2,
             ("crosswise", (("p", 0.2),)): pi * 0.2 + (1 - pi) * 0.8}
    for (model, kw), lam in cases.items():
        a, b = rr_coefficients(model, **dict(kw))
        assert a + b * lam == pytest.approx(pi)


def test_bad_inputs(taylor, data):
    with pytest.raises(ValueError, match="`model` must be one of"):
        taylor.randomized_response("rr_answer", model="coin")
    with pytest.raises(ValueError, match="different from 0.5"):
        taylor.randomized_response("rr_answer", model="warner", p=0.5)
    with pytest.raises(hv.DataError, match="'item_count'.*rows"):
        taylor.list_experiment("item_count", treatment="long_list", control_items=2)
    bad = data.assign(form=np.where(data["long_list"] == 1, "x", "y"))
    with pytest.raises(hv.DataError, match="treated="):
        hv.SurveyDesign(bad).list_experiment("item_count", treatment="form")
    out = hv.SurveyDesign(bad).list_experiment("item_count", treatment="form", treated="x")
    ref = hv.SurveyDesign(data).list_experiment("item_count", treatment="long_list")
    close(out["estimate"], ref["estimate"])
    miss = data.assign(long_list=data["long_list"].where(data.index != 3))
    with pytest.raises(hv.DataError, match="row 3"):
        hv.SurveyDesign(miss).list_experiment("item_count", treatment="long_list")
    before = data.copy()
    taylor.list_experiment("item_count", treatment="long_list", control_items=3,
                           design_test=True)
    pd.testing.assert_frame_equal(data, before)


def test_design_effect_test_cells(taylor):
    cells = hv.sensitive.design_effect_test(taylor, "item_count", "long_list", 3,
                                            by="region")
    # the shares of respondent types of a domain sum to 1
    np.testing.assert_allclose(cells.groupby("region")["estimate"].sum(), 1.0)
    out = taylor.list_experiment("item_count", treatment="long_list", by="region",
                                 control_items=3, design_test=True)
    assert out["design_test_p"].between(0, 1).all()


def _simulate(rng, n_psu=40, m=12, pi=0.3, J=3, effect=False):
    """One stratified clustered sample with a list experiment and a forced-response
    question; the PSU effect moves the control items and the sensitive item."""
    psu = np.repeat(np.arange(n_psu), m)
    u = rng.normal(0, 0.5, n_psu)[psu]
    z = rng.random(psu.size) < pi + 0.1 * np.tanh(u)
    t = rng.integers(0, 2, psu.size)
    control = rng.binomial(J, 1 / (1 + np.exp(-(0.3 + u))))
    count = control + t * z
    if effect:  # design effect: half the treated without the item deflate their count
        deflate = (t == 1) & ~z & (control > 0) & (rng.random(psu.size) < 0.5)
        count = count - deflate
    f = rng.random(psu.size)
    answer = np.where(f < 1 / 6, 1, np.where(f < 2 / 6, 0, z)).astype(int)
    return pd.DataFrame({"stratum": psu % 4, "psu": psu, "t": t, "y": count,
                         "a": answer}), z.mean()


def test_simulation_unbiased_coverage_and_test_size():
    rng = np.random.default_rng(17)
    R = 200
    est, cover, reject, rr_est, rr_cover = [], [], [], [], []
    for _ in range(R):
        df, truth = _simulate(rng)
        d = hv.SurveyDesign(df, strata="stratum", psu="psu")
        le = d.list_experiment("y", "t", control_items=3, design_test=True).iloc[0]
        rr = d.randomized_response("a", model="forced", p_yes=1/6, p_no=1/6).iloc[0]
        est.append(le["estimate"] - truth)
        cover.append(le["ci_low"] <= truth <= le["ci_high"])
        reject.append(le["design_test_p"] < 0.05)
        rr_est.append(rr["estimate"] - truth)
        rr_cover.append(rr["ci_low"] <= truth <= rr["ci_high"])
    for errors, covered in ((est, cover), (rr_est, rr_cover)):
        errors = np.asarray(errors)
        assert abs(errors.mean()) < 4 * errors.std(ddof=1) / np.sqrt(R)
        # 95% coverage within 3 binomial SE
        assert abs(np.mean(covered) - 0.95) < 3 * np.sqrt(0.95 * 0.05 / R)
    # size: at most nominal plus 3 binomial SE (the Bonferroni test is conservative)
    assert np.mean(reject) <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / R)


def test_design_test_detects_a_design_effect():
    rng = np.random.default_rng(5)
    df, _ = _simulate(rng, n_psu=60, m=20, pi=0.1, J=2, effect=True)
    out = hv.SurveyDesign(df, strata="stratum", psu="psu").list_experiment(
        "y", "t", control_items=2, design_test=True)
    assert out["design_test_p"].iloc[0] < 0.05


def test_combined_direct_and_list(design, reference):
    name, d = design
    out = d.list_experiment("item_count", treatment="long_list", direct="direct")
    ref = ref_rows(reference, name, "combined")
    close(out["estimate"], ref["estimate"])
    close(out["se"], ref["se"])


def test_simulated_mission_with_indirect_questions():
    m = hv.simulate.mission(year=2024, rng=3)
    before = m.employees.copy()
    e = hv.simulate.sensitive_questions(m.employees, rng=4)
    pd.testing.assert_frame_equal(m.employees, before)
    again = hv.simulate.sensitive_questions(m.employees, rng=4)
    pd.testing.assert_frame_equal(e, again)
    z = e["any_consequence"]
    assert (e["direct_answer"] <= z).all()                       # under-reporting only
    assert e["item_count"].between(0, 4 + e["long_list"]).all()
    assert set(e["list_form"]) == {"long", "short"}
    # coached institutions deny more often
    held = e[z == 1]
    assert held.groupby("coached")["direct_answer"].mean().is_monotonic_decreasing
    d = hv.SurveyDesign(e, weights="weight", strata="stratum", psu="district",
                        fpc="n_districts")
    a = d.list_experiment("item_count", "long_list", control_items=4)
    b = d.list_experiment("item_count", "list_form", control_items=4)
    close(a["estimate"], b["estimate"])
    with pytest.raises(hv.DataError, match="must be 0/1"):
        hv.simulate.sensitive_questions(e.assign(any_consequence=2), rng=1)


def test_instrument_modules_are_validated():
    from harvest.instruments import problems

    m = hv.simulate.mission(year=2024, rng=3)
    e = hv.simulate.sensitive_questions(m.employees, rng=4)
    base = problems(m.employees, "employee")
    assert len(problems(e, "employee")) == len(base)
    bad = e.copy()
    short = np.flatnonzero(bad["list_form"].to_numpy() == "short")[:2]
    bad.loc[short[0], "item_count"] = 5                  # above the short list
    bad.loc[short[1], "list_form"] = "medium"            # neither form
    bad.loc[7, "rr_answer"] = np.nan                     # missing device outcome
    found = problems(bad, "employee")
    new = found[~found.index.isin(range(len(base)))] if len(base) else found
    text = " | ".join(new["problem"])
    assert "above the short list" in text
    assert "unknown code" in text
    assert "missing device outcome" in text
    assert set(new["row"]) >= {int(short[0]), int(short[1]), 7}


def test_cli_list_experiment(tmp_path):
    from click.testing import CliRunner

    from harvest.cli import main

    m = hv.simulate.mission(year=2024, rng=3)
    e = hv.simulate.sensitive_questions(m.employees, rng=4)
    path = tmp_path / "employees.csv"
    e.to_csv(path, index=False)
    res = CliRunner().invoke(main, ["estimate", str(path), "--list-experiment", "item_count",
                                    "--treatment", "long_list", "--format", "csv",
                                    "--strata", "stratum", "--psu", "district",
                                    "--weights", "weight", "--fpc", "n_districts"])
    assert res.exit_code == 0, res.output
    got = pd.read_csv(__import__("io").StringIO(res.stdout))
    d = hv.SurveyDesign(e, weights="weight", strata="stratum", psu="district",
                        fpc="n_districts")
    close(got["estimate"], d.list_experiment("item_count", "long_list")["estimate"])
    res = CliRunner().invoke(main, ["estimate", str(path), "--list-experiment", "item_count"])
    assert res.exit_code != 0 and "--treatment" in res.output


def test_direct_vs_list_difference(design, reference):
    name, d = design
    out = hv.sensitive.direct_vs_list(d, "direct", "item_count", "long_list")
    ref = ref_rows(reference, name, "list_minus_direct")
    diff = out[out["quantity"] == "difference"]
    close(diff["estimate"], ref["estimate"])
    close(diff["se"], ref["se"])
    close(out.loc[out["quantity"] == "list_experiment", "estimate"],
          ref_rows(reference, name, "list_all")["estimate"])
    notes = hv.sensitive.plain_note(out)
    assert len(notes) == 1 and "under-report" in notes[0]
    html = hv.sensitive.report_section(hv.sensitive.direct_vs_list(
        d, "direct", "item_count", "long_list", by="region"))
    assert html.count("<tr>") == 1 + 6 and "Lebap" in html


def test_double_list_change_is_the_difference_of_yearly_estimates(taylor):
    out = taylor.compare(["list_a", "list_b"], between="year", baseline=2023,
                         kind="list_experiment", treatment="sens_in_a")
    yearly = taylor.list_experiment(["list_a", "list_b"], treatment="sens_in_a", by="year")
    est = yearly.set_index("year")["estimate"]
    assert out["estimate"].iloc[0] == pytest.approx(est[2024] - est[2023], rel=1e-12)
    with pytest.raises(TypeError, match="does not take"):
        taylor.compare("rr_answer", between="year", kind="randomized_response",
                       treatment="long_list")
