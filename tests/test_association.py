"""design.chisq and design.ttest against R survey's svychisq and svyttest
(tests/reference/association.R), the reference distributions, and the size of the
Rao-Scott F test in simulation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special

import harvest as hv
from harvest._errors import DataError
from harvest.association import chisq, pchisqsum, saddle

REF = Path(__file__).parent / "reference"
TOL = 1e-6


@pytest.fixture(scope="module")
def designs():
    strat = pd.read_csv(REF / "api_apistrat.csv")
    clus1 = pd.read_csv(REF / "api_apiclus1.csv")
    emp = pd.read_csv(REF / "association_employees.csv")
    emp_design = {"weights": "weight", "strata": "stratum", "psu": "district",
                  "lonely_psu": "adjust"}
    return {
        "apistrat": hv.SurveyDesign(strat, weights="pw", strata="stype", fpc="fpc"),
        "apiclus1": hv.SurveyDesign(clus1, weights="pw", psu="dnum", fpc="fpc"),
        "employees": hv.SurveyDesign(emp, fpc="n_districts", **emp_design),
        "rep_apiclus1": hv.SurveyDesign(clus1, weights="pw", psu="dnum").replicate("jk1"),
        "rep_employees": hv.SurveyDesign(emp, **emp_design).replicate("jkn"),
    }


def _rel(a, b):
    return abs(a - b) / abs(b)


def test_chisq_matches_svychisq(designs):
    ref = pd.read_csv(REF / "association_chisq.csv")
    assert set(ref["test"]) == {"F", "Chisq", "Wald", "adjWald", "saddlepoint"}
    assert set(ref["design"]) == set(designs)
    for r in ref.itertuples():
        got = designs[r.design].chisq(r.rows, r.cols, statistic=r.test).iloc[0]
        assert got["test"] == r.test
        for column in ("statistic", "df_num", "df_den", "p_value"):
            want = getattr(r, column)
            if pd.isna(want):   # R gives no denominator df: harvest reports inf
                assert got[column] == np.inf, (r, column)
            else:
                assert _rel(got[column], want) < TOL, (r, column, got[column], want)


def test_ttest_matches_svyttest(designs):
    ref = pd.read_csv(REF / "association_ttest.csv", keep_default_na=False,
                      na_values=["NA"])
    for r in ref.itertuples():
        got = designs[r.design].ttest(r.variable, by=r.by or None).iloc[0]
        for column in ("estimate", "se", "statistic", "df", "p_value", "ci_low", "ci_high"):
            assert _rel(got[column], getattr(r, column)) < TOL, (r, column)


def test_ttest_two_groups_is_the_difference_of_domain_means(designs):
    d = designs["apistrat"]
    t = d.ttest("api00", by="awards").iloc[0]
    means = d.mean("api00", by="awards").set_index("awards")["estimate"]
    assert t["estimate"] == pytest.approx(means[1] - means[0], rel=1e-12)
    assert (t["group"], t["baseline"], t["n"]) == (1, 0, 200)


def test_lincom_equal_eigenvalues_is_the_scaled_f_and_chisq():
    # sum of q equal lambda chi2_1 over chi2_ddf/ddf is lambda q F(q, ddf)
    for q, ddf in ((1, 5.5), (3, 40.3), (4, np.inf)):
        lam = np.full(q, 1.7)
        want = (special.chdtrc(q, 6.0 / 1.7) if ddf == np.inf
                else special.fdtrc(q, ddf, 6.0 / 1.7 / q))
        assert pchisqsum(6.0, lam, ddf=ddf) == pytest.approx(want, abs=1e-9)


def test_lincom_by_simulation_and_near_the_saddlepoint(designs):
    rng = np.random.default_rng(20261202)
    lam = np.array([2.5, 1.0, 0.3])
    q = (rng.chisquare(1, (400_000, 3)) * lam).sum(axis=1)
    d = rng.chisquare(20, 400_000) / 20
    for ddf, draws in ((np.inf, q), (20.0, q / d)):
        p = pchisqsum(6.0, lam, ddf=ddf)
        mc = (draws > 6.0).mean()
        assert abs(p - mc) < 4 * np.sqrt(p * (1 - p) / draws.size)
    # on the data, the exact and the saddlepoint p-values are close (R's two methods)
    for name in ("employees", "rep_employees"):
        a = designs[name].chisq("region", "sector", statistic="lincom").iloc[0]
        b = designs[name].chisq("region", "sector", statistic="saddlepoint").iloc[0]
        assert a["statistic"] == b["statistic"]
        assert a["p_value"] == pytest.approx(b["p_value"], rel=0.05)
    assert saddle(6.0, [1.0, 1.0]) == pytest.approx(special.chdtrc(2, 6.0), rel=0.02)


def test_chisq_na_and_errors(designs):
    d = designs["apistrat"]
    data = d.data.assign(st=d.data["stype"])
    data.loc[[3, 7], "stype"] = np.nan
    before = data.copy()
    holey = hv.SurveyDesign(data, weights="pw", strata="st", fpc="fpc")
    with pytest.raises(DataError, match=r"'stype'.*rows 3, 7"):
        holey.chisq("stype", "awards")
    dropped = holey.chisq("stype", "awards", na="drop").iloc[0]
    assert np.isfinite(dropped["p_value"])
    pd.testing.assert_frame_equal(holey.data, before)      # caller data untouched
    with pytest.raises(DataError, match="two or more"):
        hv.SurveyDesign(d.data.assign(k=1), weights="pw").chisq("k", "awards")
    with pytest.raises(ValueError, match="statistic"):
        d.chisq("stype", "awards", statistic="G")
    with pytest.raises(DataError, match="nope"):
        d.chisq("stype", "nope")
    with pytest.raises(DataError, match="exactly two levels"):
        d.ttest("api00", by="stype")
    assert chisq(d, "stype", "awards").equals(d.chisq("stype", "awards"))


def _independent_clusters(rng, n_psu=30, size=10):
    """Rows and columns independent, each strongly clustered within PSUs."""
    psu = np.repeat(np.arange(n_psu), size)
    a = rng.normal(size=n_psu)[psu] + 0.5 * rng.normal(size=psu.size)
    b = rng.normal(size=n_psu)[psu] + 0.5 * rng.normal(size=psu.size)
    return pd.DataFrame({"psu": psu, "r": np.digitize(a, [-0.5, 0.5]),
                         "c": (b > 0).astype(int),
                         "w": rng.uniform(1, 3, size=n_psu)[psu]})


def test_rao_scott_f_holds_its_size_under_independence():
    rng = np.random.default_rng(17)
    reps, naive_reps = 200, 50
    p_f, p_naive = np.empty(reps), np.empty(naive_reps)
    for i in range(reps):  # simulation replicates
        d = hv.SurveyDesign(_independent_clusters(rng), weights="w", psu="psu")
        p_f[i] = d.chisq("r", "c", statistic="F").iloc[0]["p_value"]
        if i < naive_reps:
            t = d.chisq("r", "c", statistic="Chisq").iloc[0]
            p_naive[i] = special.chdtrc(t["df_num"], t["statistic"])
    size = (p_f < 0.05).mean()
    assert abs(size - 0.05) < 3 * np.sqrt(0.05 * 0.95 / reps), size
    # the uncorrected Pearson test, on the same tables, rejects far too often
    assert (p_naive < 0.05).mean() > 0.05 + 6 * np.sqrt(0.05 * 0.95 / naive_reps)


def test_cli_test_command(tmp_path):
    from click.testing import CliRunner

    from harvest.cli import main

    path = tmp_path / "employees.csv"
    emp = pd.read_csv(REF / "association_employees.csv")
    emp.to_csv(path, index=False)
    ref = pd.read_csv(REF / "association_chisq.csv")
    want = ref[(ref["design"] == "employees") & (ref["rows"] == "sector")
               & (ref["test"] == "F")].iloc[0]
    out = CliRunner().invoke(main, ["test", str(path), "--rows", "sector", "--cols",
                                    "any_consequence", "--lonely-psu", "adjust",
                                    "--format", "csv"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    import io

    got = pd.read_csv(io.StringIO(out.output[out.output.index("rows,"):].split("note:")[0]))
    assert _rel(got["statistic"].iloc[0], want["statistic"]) < TOL
    assert _rel(got["p_value"].iloc[0], want["p_value"]) < TOL
    bad = CliRunner().invoke(main, ["test", str(path), "--rows", "sector", "--cols", "nope"])
    assert bad.exit_code == 2 and "nope" in bad.output
