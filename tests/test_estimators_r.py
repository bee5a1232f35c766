"""Agreement with R survey 4.1.1 on R's api data and on a generated mission sample.

The values come from ``tests/reference/survey_taylor.R`` (run there; stored as CSV so
the tests need no R). Every case is one design, lonely-PSU policy, estimator, variable
and set of ``by`` columns; every domain row is compared column by column.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harvest.design import SurveyDesign

# Lonely-PSU policies are applied on purpose here (R reference cases): their
# LonelyPSUWarning is tested in tests/test_zero_weight_lonely.py.
pytestmark = pytest.mark.filterwarnings("ignore::harvest._errors.LonelyPSUWarning")

REF = Path(__file__).parent / "reference"
RTOL = 1e-8
RTOL_CI = 1e-6


def _read(name):
    return pd.read_csv(REF / name)


DATA = {
    "apistrat": _read("api_apistrat.csv"),
    "apiclus1": _read("api_apiclus1.csv"),
    "apiclus2": _read("api_apiclus2.csv"),
    "mission": _read("mission_taylor.csv"),
}
EXPECTED = pd.read_csv(REF / "survey_taylor.csv", keep_default_na=False,
                       na_values=["NA"], dtype={"dom1": str, "dom2": str,
                                                "denominator": str, "by": str,
                                                "subset": str})


@functools.cache
def make_design(name, policy):
    if name == "apistrat":
        return DATA["apistrat"], SurveyDesign(DATA["apistrat"], weights="pw", strata="stype",
                                              fpc="fpc", lonely_psu=policy)
    if name == "apiclus1":
        return DATA["apiclus1"], SurveyDesign(DATA["apiclus1"], weights="pw", psu="dnum",
                                              fpc="fpc", lonely_psu=policy)
    if name == "apiclus1_noweights":
        return DATA["apiclus1"], SurveyDesign(DATA["apiclus1"], psu="dnum", fpc="fpc",
                                              lonely_psu=policy)
    if name == "apiclus2":
        return DATA["apiclus2"], SurveyDesign(DATA["apiclus2"], weights="pw", psu="dnum",
                                              fpc="fpc", lonely_psu=policy)
    if name == "apisrs_nofpc":
        return DATA["apistrat"], SurveyDesign(DATA["apistrat"], weights="pw",
                                              lonely_psu=policy)
    if name == "mission":
        return DATA["mission"], SurveyDesign(DATA["mission"], weights="weight",
                                             strata=["year", "region"], psu="district",
                                             fpc="n_districts", lonely_psu=policy)
    raise KeyError(name)


CASE_KEYS = ["design", "policy", "subset", "kind", "variable", "denominator", "by"]
CASES = [key for key, _ in EXPECTED.groupby(CASE_KEYS, sort=False)]


def _ids(case):
    return "-".join(str(c) for c in case if c)


def run_case(case, ci="logit"):
    """The harvest table for one R case, merged with R's rows on the domain labels."""
    design_name, policy, subset, kind, variable, denominator, by = case
    data, design = make_design(design_name, "fail" if policy == "fail" else policy)
    if subset == "round_le_2":
        design = design.subset(data["round"] <= 2)
    by_cols = by.split("+") if by else None
    columns = [variable] + ([denominator] if denominator else [])
    na = "drop" if data[columns].isna().to_numpy().any() else "fail"
    if kind == "proportion":
        table = design.proportion(variable, by=by_cols, na=na, ci=ci)
    elif kind == "mean":
        table = design.mean(variable, by=by_cols, na=na)
    elif kind == "total":
        table = design.total(variable, by=by_cols, na=na)
    else:
        table = design.ratio(variable, denominator, by=by_cols, na=na)
    expected = EXPECTED.loc[(EXPECTED[CASE_KEYS] == pd.Series(case, index=CASE_KEYS)).all(axis=1)]
    keys = ["dom1", "dom2"][: len(by_cols or [])]
    if keys:
        table = table.assign(**{k: table[b].astype(str) for k, b in zip(keys, by_cols,
                                                                          strict=True)})
        merged = expected.add_suffix("_r").rename(columns={f"{k}_r": k for k in keys})
        merged = merged.merge(table, on=keys, how="outer", indicator=True)
    else:
        merged = expected.add_suffix("_r").reset_index(drop=True).join(table)
        merged["_merge"] = "both"
    return merged


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_matches_r(case):
    merged = run_case(case)
    # the same domains, no more and no fewer
    assert (merged["_merge"] == "both").all(), merged[["_merge"]]
    for column in ["estimate", "se", "df", "n"]:
        np.testing.assert_allclose(merged[column], merged[f"{column}_r"], rtol=RTOL,
                                   atol=1e-12, equal_nan=True, err_msg=column)
    # A constant variable in a domain (p = 0 or 1) has SRS variance 0 and deff 0/0:
    # R divides rounding noise by rounding noise (1e+31), harvest gives NaN.
    noise = np.abs(merged["deff_r"].to_numpy(float)) > 1e10
    assert np.isnan(merged.loc[noise, "deff"]).all()
    np.testing.assert_allclose(merged.loc[~noise, "deff"], merged.loc[~noise, "deff_r"],
                               rtol=RTOL, atol=1e-12, equal_nan=True, err_msg="deff")
    # Intervals: where R's are finite and the estimate is inside (0, 1) for proportions
    # (R's logit interval at p = 0 or 1 and with df = 1 overflows; harvest's documented
    # rule for those cases is tested in tests/test_intervals.py).
    _check_interval(merged, merged, "ci_low_r", "ci_high_r", case[3] == "proportion")


def _check_interval(merged, table, low_r, high_r, proportion, skip=None):
    finite = (np.isfinite(merged[low_r].to_numpy(float))
              & np.isfinite(merged[high_r].to_numpy(float)))
    if skip is not None:
        finite &= ~skip
    if proportion:
        finite &= (merged["estimate_r"] > 0).to_numpy() & (merged["estimate_r"] < 1).to_numpy()
        has_se = np.isfinite(table["se"].to_numpy(float))
        assert np.isfinite(table.loc[has_se, ["ci_low", "ci_high"]].to_numpy()).all()
    for column, r_column in [("ci_low", low_r), ("ci_high", high_r)]:
        np.testing.assert_allclose(table.loc[finite, column], merged.loc[finite, r_column],
                                   rtol=RTOL_CI, atol=1e-10, err_msg=column)


R_METHODS = {"xlogit": "xlogit", "korn-graubard": "korn_graubard", "wald": "wald",
             "likelihood": "likelihood", "asin": "asin"}
PROPORTION_CASES = [c for c in CASES if c[3] == "proportion"]


def _interval_params():
    out = []
    for case in PROPORTION_CASES:
        for method in R_METHODS:
            out.append(pytest.param(case, method, id=f"{_ids(case)}-{method}"))
    return out


DATA_OF = {"apistrat": DATA["apistrat"], "apiclus1": DATA["apiclus1"],
           "apiclus1_noweights": DATA["apiclus1"], "apiclus2": DATA["apiclus2"],
           "apisrs_nofpc": DATA["apistrat"], "mission": DATA["mission"]}


@pytest.mark.parametrize(("case", "method"), _interval_params())
def test_proportion_intervals_match_svyciprop(case, method):
    """Every R svyciprop method, per domain, with the domain's degf as df."""
    merged = run_case(case, ci=method)
    name = R_METHODS[method]
    skip = None
    if method == "asin":
        # R does not clip arcsin(sqrt(p)) +/- t*se to [0, pi/2], so sin^2 folds back
        # (e.g. a lower bound 0.38 for p = 0.5 with df = 1); harvest clips, giving 0 or 1.
        skip = ((merged["ci_low"] == 0) | (merged["ci_high"] == 1)).to_numpy()
    _check_interval(merged, merged, f"ci_{name}_low_r", f"ci_{name}_high_r", True, skip)
    assert (merged["ci_method"] == method).all()


def test_reference_covers_every_policy_and_estimator():
    assert set(EXPECTED["policy"]) >= {"remove", "certainty", "adjust", "average"}
    assert set(EXPECTED["kind"]) == {"proportion", "mean", "total", "ratio"}
    assert {"", "both", "stype+both", "year+region", "round"} <= set(EXPECTED["by"])
    # the lonely stratum makes the policies differ
    mission = EXPECTED[(EXPECTED["design"] == "mission") & (EXPECTED["by"] == "")]
    se = mission.groupby("policy")["se"].first()
    assert se["adjust"] != se["remove"] and se["average"] != se["remove"]


COVMAT = pd.read_csv(REF / "survey_taylor_covmat.csv", keep_default_na=False,
                     na_values=["NA"], dtype={"row": str, "col": str, "denominator": str})
COV_KEYS = ["design", "policy", "kind", "variable", "denominator", "by"]
COV_CASES = [key for key, _ in COVMAT.groupby(COV_KEYS, sort=False)]


@pytest.mark.parametrize("case", COV_CASES, ids=[_ids(c) for c in COV_CASES])
def test_full_covariance_matches_svyby_covmat(case):
    """The covariance across domains that comparisons use: R svyby(covmat=TRUE)."""
    design_name, policy, kind, variable, denominator, by = case
    _, design = make_design(design_name, policy)
    estimand, estimate, vcov, df = design._estimate_vcov(
        kind, variable, by=by.split("+"), na="fail", denominator=denominator or None)
    labels = estimand.domains.astype(str).agg("|".join, axis=1).tolist()
    expected = COVMAT[(COVMAT[COV_KEYS] == pd.Series(case, index=COV_KEYS)).all(axis=1)]
    table = expected.pivot(index="row", columns="col", values="cov").loc[labels, labels]
    assert vcov.shape == (len(labels), len(labels)) and estimate.shape == df.shape
    np.testing.assert_allclose(vcov, table.to_numpy(), rtol=RTOL, atol=1e-14)
    # its diagonal is the squared standard error of the tables (lonely strata
    # "average" aside, where R's svyby covmat counts every stratum of the design)
    if policy != "average":
        table_se = _table_for(design, kind, variable, by, denominator)["se"].to_numpy()
        np.testing.assert_allclose(np.sqrt(np.diag(vcov)), table_se, rtol=1e-10)


def _table_for(design, kind, variable, by, denominator):
    by = by.split("+")
    if kind == "ratio":
        return design.ratio(variable, denominator, by=by)
    return getattr(design, kind)(variable, by=by)


def max_differences():
    """Largest relative difference to R per column, over every case (for reports).

    ``.venv/bin/python tests/test_estimators_r.py`` prints them.
    """
    def rel(a, b):
        a = np.asarray(a, float)
        b = np.asarray(b, float)
        ok = np.isfinite(a) & np.isfinite(b)
        d = np.abs(a[ok] - b[ok]) / np.maximum(np.abs(b[ok]), 1e-300)
        d[(np.abs(b[ok]) < 1e-12) & (np.abs(a[ok] - b[ok]) < 1e-12)] = 0
        return d.max() if d.size else 0.0

    out = {}
    rows = 0
    for case in CASES:
        m = run_case(case)
        rows += len(m)
        for c in ["estimate", "se", "df", "n"]:
            out[c] = max(out.get(c, 0), rel(m[c], m[c + "_r"]))
        sane = np.abs(m["deff_r"]) < 1e10
        out["deff"] = max(out.get("deff", 0), rel(m.loc[sane, "deff"], m.loc[sane, "deff_r"]))
        if case[3] == "proportion":
            inner = (m["estimate_r"] > 0) & (m["estimate_r"] < 1)
        else:
            inner = m["estimate_r"].notna()
        key = "ci logit" if case[3] == "proportion" else "ci t (mean/total/ratio)"
        inner &= np.isfinite(m["ci_low_r"]) & np.isfinite(m["ci_high_r"])
        for c in ["ci_low", "ci_high"]:
            out[key] = max(out.get(key, 0), rel(m.loc[inner, c], m.loc[inner, c + "_r"]))
    for case in PROPORTION_CASES:
        for meth, name in R_METHODS.items():
            m = run_case(case, ci=meth)
            inner = (m["estimate_r"] > 0) & (m["estimate_r"] < 1)
            inner &= np.isfinite(m[f"ci_{name}_low_r"]) & np.isfinite(m[f"ci_{name}_high_r"])
            if meth == "asin":
                inner &= ~((m["ci_low"] == 0) | (m["ci_high"] == 1))
            label = f"ci {meth}"
            if meth == "likelihood" and DATA_OF[case[0]][case[4]].isna().any():
                label += " (variable with NA)"
            for c in ["low", "high"]:
                out[label] = max(out.get(label, 0), rel(m.loc[inner, f"ci_{c}"],
                                                        m.loc[inner, f"ci_{name}_{c}_r"]))
    for case in COV_CASES:
        design_name, policy, kind, variable, denominator, by = case
        _, design = make_design(design_name, policy)
        estimand, _, vcov, _ = design._estimate_vcov(
            kind, variable, by=by.split("+"), denominator=denominator or None)
        labels = estimand.domains.astype(str).agg("|".join, axis=1).tolist()
        expected = COVMAT[(COVMAT[COV_KEYS] == pd.Series(case, index=COV_KEYS)).all(axis=1)]
        table = expected.pivot(index="row", columns="col", values="cov").loc[labels, labels]
        out["covariance (svyby covmat)"] = max(out.get("covariance (svyby covmat)", 0),
                                               rel(vcov.ravel(), table.to_numpy().ravel()))
    return len(CASES), rows, out


if __name__ == "__main__":
    import warnings

    warnings.simplefilter("ignore")
    n_cases, n_rows, diffs = max_differences()
    print(f"{n_cases} R cases, {n_rows} domain rows")
    for name, value in diffs.items():
        print(f"  {name:<36} max relative difference {value:.2e}")
