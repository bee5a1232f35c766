"""Replicate designs (harvest.replicate_design): agreement with R survey, batches, edges.

R reference values: tests/reference/survey_replicates.R -> tests/reference/replicates/.
"""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import harvest as hv
from harvest._errors import DataError, HarvestWarning

# Lonely-PSU policies are applied on purpose here (R reference cases): their
# LonelyPSUWarning is tested in tests/test_zero_weight_lonely.py.
pytestmark = pytest.mark.filterwarnings("ignore::harvest._errors.LonelyPSUWarning")

REF = Path(__file__).parent / "reference" / "replicates"
RESULTS = pd.read_csv(REF / "results.csv", keep_default_na=False, na_values=["NA"])


def _read(name, **kw):
    return pd.read_csv(REF / name, keep_default_na=False, na_values=["NA"], **kw)


def _design(case):
    """The harvest design R's ``case`` was computed on, and its variables."""
    if case.startswith("jk1"):
        clus1 = _read("apiclus1.csv")
        fpc = "fpc" if case == "jk1_fpc" else None
        rep = hv.SurveyDesign(clus1, weights="pw", psu="dnum", fpc=fpc).replicate("jk1")
        return rep, "yes", "api00", "stype"
    if case in ("jkn", "jkn_fpc"):
        strat = _read("apistrat.csv")
        fpc = "fpc" if case == "jkn_fpc" else None
        rep = hv.SurveyDesign(strat, weights="pw", strata="stype", fpc=fpc).replicate("jkn")
        return rep, "yes", "api00", "awards"
    if case.startswith("jkn_lonely_"):
        strat = _read("apistrat.csv")
        design = hv.SurveyDesign(strat, weights="pw", strata="st", fpc="fpc2",
                                 lonely_psu=case.rsplit("_", 1)[1])
        return design.replicate("jkn"), "yes", "api00", "awards"
    if case in ("brr", "fay", "fay05"):
        design = hv.SurveyDesign(_read("brr_data.csv"), weights="w", strata="stratum",
                                 psu="psu")
        rep = (design.replicate("brr") if case == "brr"
               else design.replicate("fay", rho=0.3 if case == "fay" else 0.5))
        return rep, "yes", "x", "dom"
    if case in ("supplied_jk1", "supplied_jk1_mse", "supplied_other"):
        sup = _read("supplied_jk1.csv")
        if case == "supplied_other":
            rep = hv.ReplicateDesign(sup, weights="w", replicate_weights="repw_",
                                     method="other", scale=0.9,
                                     rscales=np.linspace(0.5, 1.2, 15))
        else:
            rep = hv.ReplicateDesign(sup, weights="w", replicate_weights="repw_",
                                     method="jk1", scale=14 / 15,
                                     mse=case.endswith("mse"))
        return rep, "yes", "api00", "stype"
    if case == "supplied_jkn":
        sup = _read("supplied_jkn.csv.gz")
        rscales = _read("supplied_jkn_rscales.csv")["rscales"].to_numpy()
        rep = hv.ReplicateDesign(sup, weights="pw", replicate_weights="jk_", method="jkn",
                                 scale=1, rscales=rscales)
        return rep, "yes", "api00", "awards"
    if case == "supplied_boot":
        rep = hv.ReplicateDesign(_read("supplied_boot.csv"), weights="w",
                                 replicate_weights="bs", method="bootstrap")
        return rep, "yes", "x", "dom"
    if case == "subboot_4000":
        clus1 = _read("apiclus1.csv")
        design = hv.SurveyDesign(clus1, weights="pw", strata="stype", psu="dnum")
        return design.replicate("bootstrap", replicates=4000, rng=20241124), "yes", \
            "api00", "stype"
    raise KeyError(case)


# R svyciprop method -> harvest ci
R_CI = {"ci_xlogit": "xlogit", "ci_asin": "asin", "ci_beta": "korn-graubard",
        "ci_mean": "wald", "ci_likelihood": "likelihood"}


def _harvest_rows(rep, y, x, dom):
    """The statistics of survey_replicates.R's ``run()``, as a long table."""
    out = []

    def put(statistic, indicator, table, domain=None):
        for _, r in table.iterrows():
            out.append({"statistic": statistic, "indicator": indicator,
                        "domain": "" if domain is None else str(r[domain]),
                        "estimate": r.estimate, "se": r.se, "df": r.df,
                        "ci_low": r.ci_low, "ci_high": r.ci_high, "deff": r.deff})

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HarvestWarning)  # replicates at p = 0 or 1
        put("mean", y, rep.mean(y))
        put("mean", x, rep.mean(x))
        put("total", x, rep.total(x))
        put("ratio", f"{y}/{x}", rep.ratio(y, x))
        put("logit", y, rep.proportion(y, ci="logit"))
        put("mean", y, rep.mean(y, by=dom), dom)
        put("mean", x, rep.mean(x, by=dom), dom)
        put("total", x, rep.total(x, by=dom), dom)
        put("ratio", f"{y}/{x}", rep.ratio(y, x, by=dom), dom)
        put("mean", "x_na", rep.mean("x_na", na="drop"))
        put("mean", "x_na", rep.mean("x_na", by=dom, na="drop"), dom)
        put("logit", y, rep.proportion(y, by=dom, ci="logit"), dom)
        for r_name, ci in R_CI.items():
            put(r_name, y, rep.proportion(y, ci=ci))
            put(r_name, y, rep.proportion(y, by=dom, ci=ci), dom)
        degenerate = rep.replicate_estimates(y, by=dom).isin([0.0, 1.0]).any()
        overall = rep.replicate_estimates(y).isin([0.0, 1.0]).any().any()
    table = pd.DataFrame(out)
    # replicates whose proportion is 0 or 1: R's svyglm returns an unconverged logit
    flags = {str(key[0]): bool(v) for key, v in degenerate.items()}
    table["degenerate"] = [
        (overall if d == "" else flags.get(d, False)) if s in ("logit", "ci_likelihood") else False
        for s, d in zip(table["statistic"], table["domain"], strict=True)]
    return table


DETERMINISTIC = [c for c in RESULTS["case"].unique() if c != "subboot_4000"]


@pytest.mark.parametrize("case", DETERMINISTIC)
def test_agrees_with_r(case):
    ref = RESULTS[RESULTS["case"] == case]
    got = _harvest_rows(*_design(case))
    both = ref.merge(got, on=["statistic", "indicator", "domain"], suffixes=("_r", ""))
    assert len(both) == len(ref)  # R fails on a few domains at p = 0 or 1 (likelihood)
    assert len(got) >= len(ref)
    # logit rows carry no se in R's svyby(svyciprop) output
    se = both[both["se_r"].notna()]
    np.testing.assert_allclose(se["se"], se["se_r"], rtol=1e-8, atol=1e-300)
    np.testing.assert_allclose(both["estimate"], both["estimate_r"], rtol=1e-8)
    np.testing.assert_array_equal(both["df"], both["df_r"])
    deff = both[both["deff_r"].notna()]
    np.testing.assert_allclose(deff["deff"], deff["deff_r"], rtol=1e-8)
    ci = both[both["ci_low_r"].notna() & (both["estimate"] > 0) & (both["estimate"] < 1)
              & ~both["degenerate"]]
    assert set(ci["statistic"]) == {"logit", "ci_xlogit", "ci_asin", "ci_beta", "ci_mean"}
    np.testing.assert_allclose(ci[["ci_low", "ci_high"]].to_numpy(),
                               ci[["ci_low_r", "ci_high_r"]].to_numpy(), rtol=1e-6)
    # R's svyciprop(method="likelihood") is NA on replicate designs; harvest's is finite
    lik = both[(both["statistic"] == "ci_likelihood") & (both["estimate"] > 0)
               & (both["estimate"] < 1)]
    assert lik["ci_low_r"].isna().all()
    assert ((lik["ci_low"] < lik["estimate"]) & (lik["estimate"] < lik["ci_high"])).all()


def test_bootstrap_se_within_monte_carlo_error_of_r_subbootstrap():
    """harvest's and R's Rao-Wu bootstrap SEs (4000 replicates each) agree within MC error.

    A variance estimated from R independent replicates has relative variance
    (kappa + 2) / R (kappa: excess kurtosis of the replicate estimates; 2/R when they are
    normal), so an SE has relative sd sqrt((kappa + 2) / R) / 2. The difference of two such
    independent SEs has relative sd sqrt(2) times that; we allow 4 of those sds (for 4000
    replicates and normal replicates: 4 * sqrt(2 * 2 / 4000) / 2 = 6.3%).
    """
    ref = RESULTS[(RESULTS["case"] == "subboot_4000")
                  & RESULTS["statistic"].isin(["mean", "total", "ratio"])]
    rep, y, x, dom = _design("subboot_4000")
    got = _harvest_rows(rep, y, x, dom)
    both = ref.merge(got, on=["statistic", "indicator", "domain"], suffixes=("_r", ""))
    assert len(both) == len(ref) == 20
    R = 4000
    kurt = {}
    for (statistic, indicator), _ in both.groupby(["statistic", "indicator"]):
        num, _, den = indicator.partition("/")
        for by in (None, dom):
            theta = rep.replicate_estimates(num, by=by, kind=statistic,
                                            denominator=den or None,
                                            na="drop" if num == "x_na" else "fail")
            for col, k in zip(theta.columns, stats.kurtosis(theta.to_numpy()), strict=True):
                kurt[(statistic, indicator, "" if by is None else str(col[0]))] = k
    kappa = np.array([kurt[(s, i, d)] for s, i, d in
                      zip(both["statistic"], both["indicator"], both["domain"], strict=True)])
    sd = np.sqrt(2.0) * np.sqrt((np.maximum(kappa, 0.0) + 2.0) / R) / 2.0
    rel = np.abs(both["se"] / both["se_r"] - 1.0)
    assert (rel <= 4 * sd).all(), pd.DataFrame({"rel": rel, "tol": 4 * sd})
    np.testing.assert_allclose(both["estimate"], both["estimate_r"], rtol=1e-10)
    np.testing.assert_array_equal(both["df"], both["df_r"])


def test_bootstrap_variance_of_totals_is_the_with_replacement_taylor_variance():
    """Rao-Wu with n_h - 1 draws: E[v_boot] of a total = the Taylor variance without fpc.

    Tolerance: 4 Monte Carlo sds of an SE from R replicates, sqrt((kappa + 2) / R) / 2.
    """
    clus1 = _read("apiclus1.csv")
    design = hv.SurveyDesign(clus1, weights="pw", strata="stype", psu="dnum")
    R = 20000
    rep = design.replicate("bootstrap", replicates=R, rng=3)
    boot = rep.total(["enroll", "api00"], by="stype")
    taylor = design.total(["enroll", "api00"], by="stype")
    kappa = stats.kurtosis(rep.replicate_estimates(["enroll", "api00"], by="stype",
                                                   kind="total").to_numpy())
    sd = np.sqrt((np.maximum(kappa, 0) + 2) / R) / 2
    rel = np.abs(boot["se"] / taylor["se"] - 1).to_numpy()
    assert (rel <= 4 * sd).all(), (rel, 4 * sd)


# -- batches, replicate estimates, covariance ----------------------------------------------------
def _small_frame(rng, n_strata=4, psus=5, rows=6):
    P = n_strata * psus
    n = P * rows
    psu = np.repeat(np.arange(P), rows)
    return pd.DataFrame({
        "stratum": psu // psus, "psu": psu,
        "w": rng.uniform(1, 4, n), "y": rng.integers(0, 2, n),
        "x": rng.gamma(3, 2, n), "g": rng.choice(["a", "b", "c"], n),
    })


def test_results_do_not_depend_on_batch(rng):
    df = _small_frame(rng)
    design = hv.SurveyDesign(df, weights="w", strata="stratum", psu="psu")
    tables = [design.replicate("bootstrap", replicates=300, rng=9, batch=b)
              .proportion(["y"], by="g") for b in (1, 37, 128, None)]
    for t in tables[1:]:
        pd.testing.assert_frame_equal(t, tables[0], rtol=1e-12)
    est = [design.replicate("bootstrap", replicates=300, rng=9, batch=b)
           .replicate_estimates("y", by="g") for b in (1, 300)]
    pd.testing.assert_frame_equal(est[0], est[1], rtol=1e-13)


def test_supplied_weights_do_not_depend_on_batch():
    sup = _read("supplied_jk1.csv")
    a = hv.ReplicateDesign(sup, weights="w", replicate_weights="repw_", method="jk1",
                           scale=14 / 15, batch=2).mean("api00", by="stype")
    b = hv.ReplicateDesign(sup, weights="w", replicate_weights="repw_", method="jk1",
                           scale=14 / 15).mean("api00", by="stype")
    pd.testing.assert_frame_equal(a, b, rtol=1e-12)


def test_replicate_estimates_rebuild_the_variance(rng):
    df = _small_frame(rng)
    rep = hv.SurveyDesign(df, weights="w", strata="stratum", psu="psu").replicate("jkn")
    theta = rep.replicate_estimates(["y", "x"], by="g")
    assert theta.shape == (rep.n_replicates, 6)
    assert theta.columns.names == ["g", "indicator"]
    assert list(theta.columns[:2]) == [("a", "y"), ("a", "x")]
    t = theta.to_numpy()
    rs = theta.attrs["rscales"]
    var = theta.attrs["scale"] * (rs[:, None] * (t - t.mean(axis=0)) ** 2).sum(axis=0)
    table = rep.mean(["y", "x"], by="g")
    np.testing.assert_allclose(table["se"] ** 2, var, rtol=1e-12)
    np.testing.assert_allclose(theta.attrs["estimate"], table["estimate"], rtol=1e-14)


def test_mse_centres_on_the_full_sample_estimate(rng):
    df = _small_frame(rng)
    design = hv.SurveyDesign(df, weights="w", strata="stratum", psu="psu")
    rep = design.replicate("bootstrap", replicates=200, rng=1, mse=True)
    theta = rep.replicate_estimates("x", by="g").to_numpy()
    table = rep.mean("x", by="g")
    manual = ((theta - table["estimate"].to_numpy()) ** 2).sum(axis=0) / 199
    np.testing.assert_allclose(table["se"] ** 2, manual, rtol=1e-12)


def test_full_covariance_across_domains(rng):
    df = _small_frame(rng)
    rep = hv.SurveyDesign(df, weights="w", strata="stratum", psu="psu").replicate(
        "bootstrap", replicates=150, rng=3)
    estimand, estimate, vcov, dof = rep._estimate_vcov("proportion", "y", by="g")
    theta = rep.replicate_estimates("y", by="g").to_numpy()
    dev = theta - theta.mean(axis=0)
    np.testing.assert_allclose(vcov, dev.T @ dev / 149, rtol=1e-12)
    np.testing.assert_allclose(np.sqrt(np.diag(vcov)),
                               rep.proportion("y", by="g")["se"], rtol=1e-12)


def test_replicates_with_an_empty_domain_are_left_out_with_a_warning():
    # domain "z" lives in one PSU of a 3-PSU stratum: bootstrap replicates that do not
    # draw it have no estimate for "z" (R: NA replicates dropped with a warning)
    df = pd.DataFrame({"stratum": [0] * 6 + [1] * 6, "psu": np.repeat(np.arange(6), 2),
                       "y": [1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 1, 1],
                       "g": ["z", "z"] + ["a"] * 10})
    rep = hv.SurveyDesign(df, strata="stratum", psu="psu").replicate(
        "bootstrap", replicates=200, rng=2)
    with pytest.warns(HarvestWarning, match="replicates gave no estimate"):
        table = rep.mean("y", by="g")
    with pytest.warns(HarvestWarning, match="replicates gave no estimate"):
        theta = rep.replicate_estimates("y", by="g")
    z = theta[("z", "y")].dropna()
    assert 0 < len(z) < 200
    expected = ((z - z.mean()) ** 2).sum() / 199
    assert table.loc[table["g"] == "z", "se"].iloc[0] ** 2 == pytest.approx(expected)


# -- intervals ----------
def test_percentile_interval_is_the_replicate_quantiles(rng):
    df = _small_frame(rng)
    rep = hv.SurveyDesign(df, weights="w", strata="stratum", psu="psu").replicate(
        "bootstrap", replicates=400, rng=4)
    table = rep.proportion("y", by="g", ci="percentile", level=0.9)
    theta = rep.replicate_estimates("y", by="g").to_numpy()
    np.testing.assert_allclose(table["ci_low"], np.quantile(theta, 0.05, axis=0))
    np.testing.assert_allclose(table["ci_high"], np.quantile(theta, 0.95, axis=0))
    assert (table["ci_method"] == "percentile").all()
    assert rep.mean("x", ci="percentile")["ci_method"].iloc[0] == "percentile"


def test_percentile_needs_bootstrap_and_bad_ci_is_rejected(rng):
    rep = hv.SurveyDesign(_small_frame(rng), weights="w", strata="stratum",
                          psu="psu").replicate("jkn")
    with pytest.raises(ValueError, match="ci='percentile' needs bootstrap replicates"):
        rep.proportion("y", ci="percentile")
    with pytest.raises(ValueError, match="`ci` must be one of"):
        rep.mean("x", ci="logit")


def test_proportion_of_zero_or_one_has_a_finite_interval(rng):
    df = _small_frame(rng)
    df["none"] = 0
    df["all"] = 1
    rep = hv.SurveyDesign(df, weights="w", strata="stratum", psu="psu").replicate(
        "bootstrap", replicates=100, rng=1)
    for ci in ("logit", "korn-graubard", "wilson", "percentile"):
        table = rep.proportion(["none", "all"], ci=ci)
        assert np.isfinite(table[["ci_low", "ci_high"]].to_numpy()).all(), ci
        assert table["se"].max() < 1e-12
        assert table["ci_low"].iloc[0] == 0.0 and table["ci_high"].iloc[1] == 1.0
        assert table["ci_high"].iloc[0] > 0.0 and table["ci_low"].iloc[1] < 1.0


# -- data handling ----------
def test_missing_values_and_subsets(rng):
    df = _small_frame(rng)
    df["x_na"] = df["x"].where(rng.random(len(df)) > 0.1)
    design = hv.SurveyDesign(df, weights="w", strata="stratum", psu="psu")
    rep = design.replicate("jkn")
    with pytest.raises(DataError, match="'x_na' has .* missing value"):
        rep.mean("x_na")
    dropped = rep.mean("x_na", na="drop")
    sub = rep.subset(df["x_na"].notna()).mean("x_na", na="drop")
    np.testing.assert_allclose(dropped["se"], sub["se"], rtol=1e-12)
    assert dropped["n"].iloc[0] == df["x_na"].notna().sum()
    assert df.equals(df.copy())  # the caller's frame is untouched
    with pytest.raises(DataError, match="selects no rows"):
        rep.subset(np.zeros(len(df), dtype=bool))


def test_zero_weights_leave_the_estimate_like_a_subset(rng):
    df = _small_frame(rng)
    df.loc[df.index[:10], "w"] = 0.0
    rep = hv.SurveyDesign(df, weights="w", strata="stratum", psu="psu").replicate("jkn")
    full = hv.SurveyDesign(df.assign(w=_small_frame(np.random.default_rng(20241124))["w"]),
                           weights="w", strata="stratum", psu="psu").replicate("jkn")
    keep = np.arange(len(df)) >= 10
    np.testing.assert_allclose(rep.mean("x")["estimate"],
                               full.subset(keep).mean("x")["estimate"], rtol=1e-12)
    assert rep.mean("x")["n"].iloc[0] == len(df) - 10


def test_replicate_design_from_supplied_weights_matches_generated(rng):
    """Writing generated replicate weights to columns and reading them back changes nothing."""
    df = _small_frame(rng)
    design = hv.SurveyDesign(df, weights="w", strata="stratum", psu="psu")
    rep = design.replicate("jkn")
    F = rep._factors.matrix()
    cols = {f"rw{i + 1}": df["w"].to_numpy() * F[i, design._codes.row_psu]
            for i in range(F.shape[0])}
    wide = pd.concat([df, pd.DataFrame(cols)], axis=1)
    sup = hv.ReplicateDesign(wide, weights="w", replicate_weights="rw", method="jkn",
                             rscales=rep.rscales)
    a, b = rep.proportion("y", by="g"), sup.proportion("y", by="g")
    np.testing.assert_allclose(a["se"], b["se"], rtol=1e-12)
    np.testing.assert_allclose(a["ci_low"], b["ci_low"], rtol=1e-12)
    np.testing.assert_array_equal(a["df"], b["df"])
    fac = hv.ReplicateDesign(wide.assign(**{c: F[i, design._codes.row_psu]
                                            for i, c in enumerate(cols)}),
                             weights="w", replicate_weights=list(cols), method="jkn",
                             rscales=rep.rscales, combined_weights=False)
    np.testing.assert_allclose(fac.proportion("y", by="g")["se"], a["se"], rtol=1e-12)
    jk1 = hv.SurveyDesign(df, weights="w", psu="psu").replicate("jk1")
    F1 = jk1._factors.matrix()
    fac1 = pd.concat([df, pd.DataFrame({f"f{i + 1}": F1[i, jk1._codes.row_psu]
                                        for i in range(F1.shape[0])})], axis=1)
    with pytest.warns(HarvestWarning, match="guessed from the factors of the first"):
        guess = hv.ReplicateDesign(fac1, weights="w", replicate_weights="f", method="jk1",
                                   combined_weights=False)
    assert guess.scale == pytest.approx(jk1.scale)
    np.testing.assert_allclose(guess.mean("x")["se"], jk1.mean("x")["se"], rtol=1e-12)


def test_jkn_rscales_guessed_from_the_largest_factor_with_a_warning():
    sup = _read("supplied_jkn.csv.gz")
    given = _read("supplied_jkn_rscales.csv")["rscales"].to_numpy()
    with pytest.warns(HarvestWarning, match="rscales not given for method='jkn'"):
        rep = hv.ReplicateDesign(sup, weights="pw", replicate_weights="jk_", method="jkn")
    np.testing.assert_allclose(rep.rscales, given, rtol=1e-12)
    exact = hv.ReplicateDesign(sup, weights="pw", replicate_weights="jk_", method="jkn",
                               rscales=given)
    np.testing.assert_allclose(rep.mean("api00")["se"], exact.mean("api00")["se"], rtol=1e-12)


# -- bad input ----------
def test_supplied_weights_bad_input():
    sup = _read("supplied_jk1.csv")
    with pytest.raises(DataError, match="no column is named 'rw_' followed by a number"):
        hv.ReplicateDesign(sup, weights="w", replicate_weights="rw_", method="jk1", scale=1)
    with pytest.raises(DataError, match="column 'nope' is not in the data"):
        hv.ReplicateDesign(sup, weights="w", replicate_weights=["repw_1", "nope"],
                           method="jk1", scale=1)
    bad = sup.copy()
    bad.loc[[3, 8], "repw_2"] = np.nan
    with pytest.raises(DataError, match="'repw_2' has missing or infinite values in rows 3, 8"):
        hv.ReplicateDesign(bad, weights="w", replicate_weights="repw_", method="jk1", scale=1)
    text = sup.assign(repw_3=sup["repw_3"].astype(str))
    with pytest.raises(DataError, match="`replicate_weights` column 'repw_3' must be numeric"):
        hv.ReplicateDesign(text, weights="w", replicate_weights="repw_", method="jk1", scale=1)
    with pytest.raises(ValueError, match="method='fay' needs the `rho`"):
        hv.ReplicateDesign(sup, weights="w", replicate_weights="repw_", method="fay")
    with pytest.raises(ValueError, match="`rscales` has length 3"):
        hv.ReplicateDesign(sup, weights="w", replicate_weights="repw_", method="other",
                           scale=1, rscales=[1, 2, 3])
    with pytest.raises(ValueError, match="`method` must be one of"):
        hv.ReplicateDesign(sup, weights="w", replicate_weights="repw_", method="jackknife")
    zero = sup.copy()
    zero.loc[5, "w"] = 0.0
    with pytest.raises(DataError, match=r"non-zero on rows whose `weights` column 'w' is 0 "
                                        r"\(row 5\)"):
        hv.ReplicateDesign(zero, weights="w", replicate_weights="repw_", method="jk1", scale=1)
    with pytest.warns(HarvestWarning, match="n = number of replicates assumed"):
        rep = hv.ReplicateDesign(sup, weights="w", replicate_weights="repw_", method="jk1")
    assert rep.scale == pytest.approx(14 / 15)
    with pytest.warns(HarvestWarning, match="equal weights 1 assumed"):
        hv.ReplicateDesign(sup, replicate_weights="repw_", method="jk1", scale=1)


def test_design_replicate_bad_input(rng):
    design = hv.SurveyDesign(_small_frame(rng), weights="w", strata="stratum", psu="psu")
    with pytest.raises(ValueError, match="`method` must be one of"):
        design.replicate("half-sample")
    with pytest.raises(ValueError, match="unstratified design"):
        design.replicate("jk1")
    with pytest.raises(ValueError, match="exactly two PSUs in every stratum; strata 0"):
        design.replicate("brr")
    with pytest.raises(ValueError, match="`batch` must be a positive integer"):
        design.replicate("jkn", batch=0)


# -- coverage over simulated missions ----------
def test_bootstrap_intervals_cover_at_the_nominal_rate():
    """200 simulated 2024 missions, one bootstrap of 100 replicates each (all in one design).

    Coverage of the true national child-labour share by the logit and percentile 95%
    intervals must be consistent with 0.95 (two-sided exact binomial test, p > 0.001).
    """
    from harvest.simulate import missions

    ms = missions(n=200, year=2024, rng=11)
    truth = ms.truth.query("instrument == 'farm' and region == 'All' and "
                           "indicator == 'child_labour'")["value"].iloc[0]
    design = hv.SurveyDesign(ms.farms, weights="weight", strata=["sim", "stratum"],
                             psu="district")
    rep = design.replicate("bootstrap", replicates=100, rng=4)
    for ci in ("logit", "percentile"):
        table = rep.proportion("child_labour", by="sim", ci=ci)
        covered = int(((table["ci_low"] <= truth) & (truth <= table["ci_high"])).sum())
        assert stats.binomtest(covered, 200, 0.95).pvalue > 0.001, (ci, covered)


# -- an exact identity: for totals every deterministic method equals Taylor
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("method", ["jk1", "jkn", "brr", "fay"])
def test_replicate_variance_of_totals_equals_taylor(method, seed):
    """Delete-one jackknives and balanced half-samples are exact for linear statistics.

    JKn with rscales (1-f_h)(n_h-1)/n_h reproduces the ultimate-cluster variance with fpc;
    BRR/Fay with a fully orthogonal Hadamard matrix reproduce it for two PSUs per stratum
    (without fpc). Domains too (a domain total is linear).
    """
    rng = np.random.default_rng(seed)
    if method == "jk1":
        n_strata, sizes = 1, [rng.integers(3, 12)]
    elif method == "jkn":
        n_strata = int(rng.integers(2, 7))
        sizes = rng.integers(2, 7, size=n_strata)
    else:
        n_strata = int(rng.integers(2, 20))
        sizes = np.full(n_strata, 2)
    psu_stratum = np.repeat(np.arange(n_strata), sizes)
    rows = rng.integers(1, 6, size=psu_stratum.size)
    psu = np.repeat(np.arange(psu_stratum.size), rows)
    df = pd.DataFrame({"stratum": psu_stratum[psu], "psu": psu,
                       "w": rng.uniform(1, 9, psu.size), "y": rng.gamma(2, 3, psu.size),
                       "g": rng.choice(["a", "b"], psu.size)})
    fpc = None
    if method in ("jk1", "jkn"):
        df["N"] = (np.asarray(sizes) * rng.uniform(1.5, 4, n_strata)).round()[df["stratum"]]
        fpc = "N"
    strata = None if method == "jk1" else "stratum"
    design = hv.SurveyDesign(df, weights="w", strata=strata, psu="psu", fpc=fpc)
    rep = design.replicate(method)
    for by in (None, "g"):
        np.testing.assert_allclose(rep.total("y", by=by)["se"],
                                   design.total("y", by=by)["se"], rtol=1e-10)


def _agreement_report():
    """Print the agreement with R per case (``python tests/test_replicate_design.py``)."""
    worst = 0.0
    print(f"{'case':22s} {'SEs':>4s} {'max rel SE diff':>16s} {'CIs':>4s} "
          f"{'max rel CI diff':>16s} {'df equal':>9s}")
    for case in DETERMINISTIC:
        ref = RESULTS[RESULTS["case"] == case]
        both = ref.merge(_harvest_rows(*_design(case)), on=["statistic", "indicator", "domain"],
                         suffixes=("_r", ""))
        se = both[both["se_r"].notna()]
        rel = (np.abs(se["se"] - se["se_r"]) / se["se_r"].where(se["se_r"] > 0, 1.0)).max()
        ci = both[both["ci_low_r"].notna() & (both["estimate"] > 0) & (both["estimate"] < 1)
                  & ~both["degenerate"]]
        rci = np.abs(ci[["ci_low", "ci_high"]].to_numpy()
                     / ci[["ci_low_r", "ci_high_r"]].to_numpy() - 1).max()
        worst = max(worst, rel)
        print(f"{case:22s} {len(se):4d} {rel:16.1e} {len(ci):4d} {rci:16.1e} "
              f"{bool((both['df'] == both['df_r']).all())!s:>9s}")
    print(f"largest relative SE difference: {worst:.1e}")
    ref = RESULTS[(RESULTS["case"] == "subboot_4000")
                  & RESULTS["statistic"].isin(["mean", "total", "ratio"])]
    both = ref.merge(_harvest_rows(*_design("subboot_4000")),
                     on=["statistic", "indicator", "domain"], suffixes=("_r", ""))
    print("\nRao-Wu bootstrap, 4000 replicates each: harvest SE / R subbootstrap SE - 1")
    print(both.assign(rel=both["se"] / both["se_r"] - 1)[
        ["statistic", "indicator", "domain", "se_r", "se", "rel"]].to_string(index=False))


if __name__ == "__main__":
    warnings.simplefilter("ignore", HarvestWarning)
    _agreement_report()


@pytest.mark.parametrize("method", ["jk1", "bootstrap"])
def test_empty_domain_same_under_taylor_and_replicates(method):
    """A domain with no observed value is NaN and silent under both variance methods."""
    df = pd.DataFrame({"psu": np.arange(16), "g": list("ab") * 8,
                       "y": np.tile([1.0, np.nan, 0.0, np.nan], 4)})
    design = hv.SurveyDesign(df, psu="psu")
    rep = design.replicate(method, replicates=20, rng=3)
    for estimator in ("mean", "proportion", "total"):
        taylor = getattr(design, estimator)("y", by="g", na="drop")
        replicate = getattr(rep, estimator)("y", by="g", na="drop")  # no warning
        cols = ["estimate", "se", "ci_low", "ci_high", "deff", "n_eff"]
        assert taylor[cols].iloc[1].isna().all() and replicate[cols].iloc[1].isna().all()
        assert replicate[cols].iloc[0].notna().all()
        assert taylor["n"].tolist() == replicate["n"].tolist() == [8, 0]


def test_stated_df_is_used_for_intervals():
    """R svrepdesign(degf=): a stated df replaces the rank for every interval."""
    import numpy as np
    import pandas as pd
    from scipy import stats

    import harvest as hv

    df = pd.DataFrame({"w": [1.0, 1, 1, 1], "y": [1.0, 2, 4, 7],
                       "rw1": [0.0, 4 / 3, 4 / 3, 4 / 3], "rw2": [4 / 3, 0, 4 / 3, 4 / 3],
                       "rw3": [4 / 3, 4 / 3, 0, 4 / 3], "rw4": [4 / 3, 4 / 3, 4 / 3, 0]})
    rep = hv.ReplicateDesign(df, weights="w", replicate_weights="rw", method="jk1",
                             scale=3 / 4, df=10)
    t = rep.mean("y")
    assert t["df"].iloc[0] == 10
    half = stats.t.ppf(0.975, 10) * t["se"].iloc[0]
    assert np.isclose(t["ci_high"].iloc[0] - t["estimate"].iloc[0], half, rtol=1e-12)
    default = hv.ReplicateDesign(df, weights="w", replicate_weights="rw", method="jk1",
                                 scale=3 / 4).mean("y")
    assert default["df"].iloc[0] == 3
    with pytest.raises(ValueError, match="`df` must be a positive number"):
        hv.ReplicateDesign(df, weights="w", replicate_weights="rw", method="jk1",
                           scale=3 / 4, df=0)
