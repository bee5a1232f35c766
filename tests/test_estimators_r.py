"""Agreement with R survey 4.1.1 on R's api data and on a generated mission sample.

The values come from ``tests/reference/survey_taylor.R`` (run there; stored as CSV so
the tests need no R). Every case is one design, lonely-PSU policy, estimator, variable
and set of ``by`` columns; every domain row is compared column by column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harvest.design import SurveyDesign

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


def run_case(case):
    """The harvest table for one R case, merged with R's rows on the domain labels."""
    design_name, policy, subset, kind, variable, denominator, by = case
    data, design = make_design(design_name, "fail" if policy == "fail" else policy)
    if subset == "round_le_2":
        design = design.subset(data["round"] <= 2)
    by_cols = by.split("+") if by else None
    columns = [variable] + ([denominator] if denominator else [])
    na = "drop" if data[columns].isna().to_numpy().any() else "fail"
    if kind == "proportion":
        table = design.proportion(variable, by=by_cols, na=na)
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
    finite = (np.isfinite(merged["ci_low_r"].to_numpy(float))
              & np.isfinite(merged["ci_high_r"].to_numpy(float)))
    if case[3] == "proportion":
        finite &= (merged["estimate_r"] > 0).to_numpy() & (merged["estimate_r"] < 1).to_numpy()
        has_se = np.isfinite(merged["se"].to_numpy(float))
        assert np.isfinite(merged.loc[has_se, ["ci_low", "ci_high"]].to_numpy()).all()
    for column in ["ci_low", "ci_high"]:
        np.testing.assert_allclose(merged.loc[finite, column],
                                   merged.loc[finite, f"{column}_r"], rtol=RTOL_CI,
                                   atol=1e-10, err_msg=column)


def test_reference_covers_every_policy_and_estimator():
    assert set(EXPECTED["policy"]) >= {"remove", "certainty", "adjust", "average"}
    assert set(EXPECTED["kind"]) == {"proportion", "mean", "total", "ratio"}
    assert {"", "both", "stype+both", "year+region", "round"} <= set(EXPECTED["by"])
    # the lonely stratum makes the policies differ
    mission = EXPECTED[(EXPECTED["design"] == "mission") & (EXPECTED["by"] == "")]
    se = mission.groupby("policy")["se"].first()
    assert se["adjust"] != se["remove"] and se["average"] != se["remove"]
