"""design.quantile against R survey's svyquantile (tests/reference/quantiles.R), its
intervals' coverage in simulation, and its handling of bad input."""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import harvest as hv
from harvest._errors import DataError
from harvest._options import QRULES, QUANTILE_INTERVALS
from harvest.quantiles import QUANTILE_COLUMNS

REF = Path(__file__).resolve().parent / "reference"
REFERENCE = pd.read_csv(REF / "quantiles_reference.csv", dtype={"domain": str})
REFERENCE["domain"] = REFERENCE["domain"].fillna("")
QS = [0.25, 0.5, 0.75]


def _replicate(data, weights_file, name, method):
    repw = pd.read_csv(REF / weights_file)
    rscales = pd.read_csv(REF / "quantiles_rscales.csv")
    rscales = rscales[rscales["design"] == name]
    columns = [c for c in repw.columns if c != "snum"]
    assert (repw["snum"].to_numpy() == data["snum"].to_numpy()).all()
    return hv.ReplicateDesign(pd.concat([data, repw[columns]], axis=1), weights="pw",
                              replicate_weights=columns, method=method,
                              scale=float(rscales["scale"].iloc[0]),
                              rscales=rscales["rscales"].to_numpy())


@pytest.fixture(scope="module")
def designs():
    strat = pd.read_csv(REF / "api_apistrat.csv")
    clus = pd.read_csv(REF / "api_apiclus1.csv")
    employees = hv.datasets.load("employees")
    paid = hv.SurveyDesign(employees, weights="weight", strata="stratum", psu="district",
                           fpc="n_districts").subset(employees["paid_replacement"] == 1)
    return {
        "apistrat": hv.SurveyDesign(strat, weights="pw", strata="stype", fpc="fpc"),
        "apiclus1": hv.SurveyDesign(clus, weights="pw", psu="dnum", fpc="fpc"),
        "apiclus1_jk1": _replicate(clus, "quantiles_jk1.csv", "jk1", "jk1"),
        "apistrat_boot": _replicate(strat, "quantiles_boot.csv", "boot", "bootstrap"),
        "employees_paid": paid,
    }


def _check(out, ref, domain_column):
    """Every R number within 1e-6 relative; where R stopped (uniroot found no sign
    change), harvest has a NaN interval end in that domain."""
    out = out.copy()
    out["domain"] = out[domain_column].astype(str) if domain_column else ""
    m = ref.merge(out, left_on=["domain", "q", "variable"],
                  right_on=["domain", "quantile", "indicator"], suffixes=("_r", ""))
    assert len(m) == len(ref) > 0
    failed = m["estimate_r"].isna()
    for domain in m.loc[failed, "domain"].unique():
        rows = m[m["domain"] == domain]
        assert (rows["ci_low"].isna() | rows["ci_high"].isna()).any()
    m = m[~failed]
    for column in ["estimate", "ci_low", "ci_high", "se", "df"]:
        r, h = m[f"{column}_r"].to_numpy(float), m[column].to_numpy(float)
        np.testing.assert_array_equal(np.isnan(r), np.isnan(h), err_msg=column)
        ok = ~np.isnan(r)
        np.testing.assert_allclose(h[ok], r[ok], rtol=1e-6, atol=0, err_msg=column)
    return len(m)


def _calls(cases, intervals):
    sub = REFERENCE[REFERENCE["case"].isin(cases)]
    triples = zip(sub["case"], sub["interval"], sub["qrule"], strict=True)
    return sorted({(c, i, r) for c, i, r in triples if i in intervals})


def _run(designs, case, interval, qrule, by):
    design = designs[case]
    variables = ["amount_paid"] if case == "employees_paid" else ["api00", "enroll"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # R's jackknife-quantile caution, HarvestWarning
        return design.quantile(variables, q=QS, by=by, interval=interval, qrule=qrule)


@pytest.mark.parametrize("case,interval,qrule", _calls(
    ["apistrat", "apiclus1"], QUANTILE_INTERVALS))
def test_taylor_by_domain_matches_r(designs, case, interval, qrule):
    ref = REFERENCE[(REFERENCE["case"] == case) & (REFERENCE["interval"] == interval)
                    & (REFERENCE["qrule"] == qrule)]
    assert _check(_run(designs, case, interval, qrule, "stype"),
                  ref[ref["domain"] != ""], "stype") > 0
    if qrule in ("math", "hf3", "hf7", "shahvaish"):   # the whole sample, a few rules
        assert _check(_run(designs, case, interval, qrule, None),
                      ref[ref["domain"] == ""], None) > 0


@pytest.mark.parametrize("case,interval,qrule", _calls(
    ["apiclus1_jk1", "apistrat_boot"], ("mean", "quantile")))
def test_replicate_by_domain_matches_r(designs, case, interval, qrule):
    ref = REFERENCE[(REFERENCE["case"] == case) & (REFERENCE["interval"] == interval)
                    & (REFERENCE["qrule"] == qrule)]
    assert _check(_run(designs, case, interval, qrule, "stype"),
                  ref[ref["domain"] != ""], "stype") > 0
    if qrule in ("math", "hf7"):
        assert _check(_run(designs, case, interval, qrule, None),
                      ref[ref["domain"] == ""], None) > 0


@pytest.mark.parametrize("interval", QUANTILE_INTERVALS)
def test_employee_fees_match_r(designs, interval):
    for qrule in ("math", "school", "hf7"):
        ref = REFERENCE[(REFERENCE["case"] == "employees_paid")
                        & (REFERENCE["interval"] == interval) & (REFERENCE["qrule"] == qrule)]
        assert _check(_run(designs, "employees_paid", interval, qrule, "year"), ref,
                      "year") == 6


def test_reference_covers_every_interval_and_rule():
    assert set(REFERENCE["qrule"]) == set(QRULES)
    assert set(REFERENCE["interval"]) == {*QUANTILE_INTERVALS, "quantile"}


def test_columns_and_order(designs):
    out = designs["apistrat"].quantile(["api00", "enroll"], q=[0.1, 0.9], by="stype")
    assert list(out.columns) == ["stype", *QUANTILE_COLUMNS]
    assert out["stype"].tolist() == ["E"] * 4 + ["H"] * 4 + ["M"] * 4
    assert out["indicator"].tolist()[:4] == ["api00", "api00", "enroll", "enroll"]
    assert out["quantile"].tolist()[:4] == [0.1, 0.9, 0.1, 0.9]
    assert (out["n"].to_numpy() == np.repeat([100, 50, 50], 4)).all()


def test_bad_input(designs):
    d = designs["apistrat"]
    with pytest.raises(ValueError, match="interval"):
        d.quantile("api00", interval="quantile")      # replicate designs only
    with pytest.raises(ValueError, match="interval"):
        designs["apiclus1_jk1"].quantile("api00", interval="score")
    with pytest.raises(ValueError, match="qrule"):
        d.quantile("api00", qrule="hf10")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        d.quantile("api00", q=1.5)
    data = d.data.copy()
    data.loc[3, "api00"] = np.nan
    before = data.copy()
    missing = hv.SurveyDesign(data, weights="pw", strata="stype", fpc="fpc")
    with pytest.raises(DataError, match="api00"):
        missing.quantile("api00")
    out = missing.quantile("api00", na="drop")
    assert out["n"].iloc[0] == len(data) - 1
    pd.testing.assert_frame_equal(data, before)       # caller's data untouched


def test_median_interval_coverage():
    """Woodruff ("mean") and score intervals for the median of a two-stage-like clustered
    population cover its known median at about the nominal 95%."""
    rng = np.random.default_rng(16)
    n_clusters, size = 400, 20
    effect = rng.normal(0, 0.5, n_clusters)
    pop = np.exp(3 + np.repeat(effect, size) + rng.normal(0, 0.8, n_clusters * size))
    cluster = np.repeat(np.arange(n_clusters), size)
    truth = np.quantile(pop, 0.5, method="inverted_cdf")
    sims, take = 120, 30
    hits = {i: 0 for i in ("mean", "score")}
    for _ in range(sims):
        chosen = rng.choice(n_clusters, take, replace=False)
        rows = np.flatnonzero(np.isin(cluster, chosen))
        df = pd.DataFrame({"psu": cluster[rows], "y": pop[rows],
                           "w": n_clusters / take, "N": n_clusters})
        design = hv.SurveyDesign(df, weights="w", psu="psu", fpc="N")
        for interval in hits:
            t = design.quantile("y", interval=interval)
            hits[interval] += int(t["ci_low"].iloc[0] <= truth <= t["ci_high"].iloc[0])
    for interval, h in hits.items():
        # 120 draws: a 95% interval covers 114 on average (binomial sd about 2.4)
        assert 106 <= h <= 120, (interval, h)


EMPLOYEE_DESIGN = ["--strata", "stratum", "--psu", "district", "--weights", "weight",
                   "--fpc", "n_districts"]


def test_cli_quantile_matches_the_api_and_is_protected():
    import io

    from click.testing import CliRunner

    from harvest.cli import main

    file = str(hv.datasets.path("employees"))
    runner = CliRunner()
    res = runner.invoke(main, ["estimate", file, "--statistic", "quantile", "--q", "0.5,0.9",
                               "--q", "0.25", "-i", "amount_paid", "--by", "year",
                               *EMPLOYEE_DESIGN, "--format", "csv"])
    assert res.exit_code == 0, res.output
    got = pd.read_csv(io.StringIO(res.stdout[res.stdout.index("year,"):]))
    data = hv.datasets.load("employees")
    want = hv.SurveyDesign(data, weights="weight", strata="stratum", psu="district",
                           fpc="n_districts").quantile("amount_paid", q=[0.5, 0.9, 0.25],
                                                       by="year")
    np.testing.assert_allclose(got["estimate"], want["estimate"])
    np.testing.assert_allclose(got["ci_high"], want["ci_high"])
    assert not got["suppressed"].any()
    # small districts: withheld by the disclosure policy, as every other estimate
    res = runner.invoke(main, ["estimate", file, "--statistic", "quantile", "-i",
                               "amount_paid", "--by", "district", *EMPLOYEE_DESIGN,
                               "--min-n", "60", "--format", "csv"])
    assert res.exit_code == 0, res.output
    got = pd.read_csv(io.StringIO(res.stdout[res.stdout.index("district,"):]))
    small = got["n"].isna() | (got["n"] < 60)
    assert got["suppressed"].any() and got.loc[got["suppressed"], "estimate"].isna().all()
    assert got.loc[small, "suppressed"].all()
    res = runner.invoke(main, ["estimate", file, "--q", "0.5", "-i", "amount_paid",
                               *EMPLOYEE_DESIGN])
    assert res.exit_code != 0 and "--statistic quantile" in res.output


def test_report_shows_the_median_fee_through_the_disclosure_policy():
    from harvest import report
    from harvest.disclosure import DisclosurePolicy

    frames = {"employee": hv.datasets.load("employees")}
    data = report.analyse(frames)
    ref = REFERENCE[(REFERENCE["case"] == "employees_paid") & (REFERENCE["q"] == 0.5)
                    & (REFERENCE["interval"] == "mean") & (REFERENCE["qrule"] == "math")]
    np.testing.assert_allclose(data.fees["estimate"], ref["estimate"], rtol=1e-6)
    np.testing.assert_allclose(data.fees["ci_low"], ref["ci_low"], rtol=1e-6)
    page = report.render_report(data)
    section = page[page.index('id="fees"'):page.index('id="methods"')]
    assert "<td>393</td><td>375 to 413</td><td>273</td>" in section
    strict = report.render_report(data, policy=DisclosurePolicy(min_n=300))
    section = strict[strict.index('id="fees"'):strict.index('id="methods"')]
    assert "<td>393</td>" not in section and "withheld" in section


def test_generated_jackknife_matches_r():
    """harvest's own JK1 replicates (design.replicate) give R's numbers too; the step
    rules with ties of cumulative weights at exactly pW depend on the last bit of the
    replicate weights, so the interpolating rule is compared for interval="quantile"."""
    clus = pd.read_csv(REF / "api_apiclus1.csv")
    design = hv.SurveyDesign(clus, weights="pw", psu="dnum", fpc="fpc").replicate("jk1")
    for interval, qrule in [("mean", "math"), ("mean", "school"), ("quantile", "hf7")]:
        ref = REFERENCE[(REFERENCE["case"] == "apiclus1_jk1") & (REFERENCE["interval"] == interval)
                        & (REFERENCE["qrule"] == qrule) & (REFERENCE["domain"] != "")]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = design.quantile(["api00", "enroll"], q=QS, by="stype", interval=interval,
                                  qrule=qrule)
        assert _check(out, ref, "stype") == 18


@pytest.mark.parametrize("interval", ["mean", "beta", "score"])
def test_missing_values_dropped_as_r_na_rm(interval):
    data = pd.read_csv(REF / "api_apistrat.csv")
    data.loc[[2, 49, 119], "api00"] = np.nan          # R rows 3, 50, 120
    design = hv.SurveyDesign(data, weights="pw", strata="stype", fpc="fpc")
    for qrule in ("math", "hf7"):
        ref = REFERENCE[(REFERENCE["case"] == "apistrat_na")
                        & (REFERENCE["interval"] == interval) & (REFERENCE["qrule"] == qrule)]
        whole = design.quantile("api00", q=QS, interval=interval, qrule=qrule, na="drop")
        assert _check(whole, ref[ref["domain"] == ""], None) == 3
        by = design.quantile("api00", q=QS, by="stype", interval=interval, qrule=qrule,
                             na="drop")
        assert _check(by, ref[ref["domain"] != ""], "stype") == 9
