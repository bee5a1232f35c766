"""design.glm against R survey 4.1 (svyglm, regTermTest, predict.svyglm).

Reference values: tests/reference/regression.R and its stored output (regression_*.csv).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import harvest as hv

REF = Path(__file__).parent / "reference"
ROOT = Path(__file__).parent.parent
RTOL = 1e-6


def _read(name):
    return pd.read_csv(REF / f"regression_{name}.csv", keep_default_na=True)


STRAT = _read("apistrat")
CLUS1 = _read("apiclus1")
NHANES = _read("nhanes")
FARMS = pd.read_csv(ROOT / "data" / "farms.csv")
COEF = _read("coef")
WALD = _read("wald")
PREDICT = _read("predict")


def _designs():
    dstrat = hv.SurveyDesign(STRAT, weights="pw", strata="stype", fpc="fpc")
    dclus1 = hv.SurveyDesign(CLUS1, weights="pw", psu="dnum", fpc="fpc")
    dnh = hv.SurveyDesign(NHANES, weights="WTMEC2YR", strata="SDMVSTRA", psu="SDMVPSU")
    dfarm = hv.SurveyDesign(FARMS, weights="weight", strata="stratum", psu="district",
                            fpc="n_districts")
    rw = _read("boot_repweights")
    boot = hv.ReplicateDesign(pd.concat([STRAT, rw], axis=1), weights="pw",
                              replicate_weights="rw", method="bootstrap")
    post = dstrat.poststratify("stype", {"E": 4421, "H": 755, "M": 1018})
    return {"strat": dstrat, "post": post, "clus1": dclus1, "nhanes": dnh, "farms": dfarm,
            "jk1": dclus1.replicate("jk1"), "boot": boot}


DESIGNS = _designs()
FRAMES = {"strat": STRAT, "post": STRAT, "clus1": CLUS1, "nhanes": NHANES, "farms": FARMS,
          "jk1": CLUS1, "boot": STRAT}

#: case -> (design, formula, family, subset, rows of predict's new frame)
CASES = {
    "strat_gaussian": ("strat", "api00 ~ ell + meals + mobility", "gaussian", None,
                       [0, 1, 2, 3, 4]),
    "poststrat_gaussian": ("post", "api00 ~ ell + meals", "gaussian", None,
                           [0, 1, 2, 3, 4]),
    "strat_quasibinomial": ("strat", "sch_wide ~ ell + stype", "quasibinomial", None,
                            [0, 1, 100, 150, 199]),
    "strat_binomial_interaction": ("strat", "sch_wide ~ ell * stype", "binomial", None,
                                   [0, 1, 100, 150, 199]),
    "clus1_gaussian": ("clus1", "api00 ~ ell + meals + mobility + stype", "gaussian", None,
                       [0, 1, 2, 3, 4]),
    "clus1_poisson": ("clus1", "enroll ~ stype + meals", "poisson", None, [0, 1, 2, 3, 4]),
    "clus1_quasipoisson": ("clus1", "enroll ~ stype + meals", "quasipoisson", None,
                           [0, 1, 2, 3, 4]),
    "clus1_subset_E": ("clus1", "api00 ~ ell + meals", "gaussian", "E", [0, 1, 2, 3, 4]),
    "nhanes_quasibinomial": ("nhanes", "HI_CHOL ~ race_f + agecat + RIAGENDR",
                             "quasibinomial", None, [0, 1, 2, 3, 4]),
    "jk1_gaussian": ("jk1", "api00 ~ ell + meals + mobility", "gaussian", None,
                     [0, 1, 2, 3, 4]),
    "jk1_quasibinomial": ("jk1", "sch_wide ~ ell + meals", "quasibinomial", None,
                          [0, 1, 2, 3, 4]),
    "jk1_subset_E": ("jk1", "api00 ~ ell + meals", "gaussian", "E", [0, 1, 2, 3, 4]),
    "boot_quasibinomial": ("boot", "sch_wide ~ ell + stype", "quasibinomial", None,
                           [0, 1, 100, 150, 199]),
    "farms_quasibinomial": ("farms", "interference ~ region + n_pickers", "quasibinomial",
                            None, [0, 1, 2, 3, 4]),
    "farms_poisson": ("farms", "n_children ~ region + n_pickers", "poisson", None,
                      [0, 1, 2, 3, 4]),
}

_FITS = {}


def fit(case):
    if case not in _FITS:
        name, formula, family, subset, _ = CASES[case]
        design = DESIGNS[name]
        mask = None if subset is None else (FRAMES[name]["stype"] == subset)
        _FITS[case] = design.glm(formula, family=family, subset=mask)
    return _FITS[case]


def _close(ours, theirs, what):
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    rel = np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1e-300)
    assert rel.max() <= RTOL, f"{what}: max relative difference {rel.max():.3g}"


def test_every_reference_case_is_run():
    assert set(COEF["case"]) == set(CASES)


@pytest.mark.parametrize("case", sorted(CASES))
def test_coefficients_se_df_statistics_p_values(case):
    ref = COEF[COEF["case"] == case]
    table = fit(case).table
    assert table["term"].tolist() == ref["term"].tolist()
    for column in ("estimate", "se", "df", "statistic", "p_value"):
        _close(table[column], ref[column], f"{case} {column}")
    # R's dispersion is not the documented one for replicate designs (no design$prob) and
    # with missing values (residuals.svyglm drops na.action rows from weights already
    # without them): compared where R's own formula holds.
    if CASES[case][0] not in ("jk1", "boot", "nhanes"):
        _close(fit(case).dispersion, ref["dispersion"].iloc[0], f"{case} dispersion")


@pytest.mark.parametrize("case", sorted(CASES))
def test_wald_test_as_regtermtest(case):
    ref = WALD[WALD["case"] == case]
    for _, row in ref.iterrows():
        df = None if np.isfinite(row["df_den"]) else float("inf")
        ours = fit(case).wald_test([row["terms"]], df=df).iloc[0]
        for column in ("statistic", "df_num", "df_den", "p_value"):
            if np.isinf(row[column]):
                assert np.isinf(ours[column])
                continue
            _close(ours[column], row[column], f"{case} {row['terms']} {column}")


@pytest.mark.parametrize("case", sorted(CASES))
def test_predict_response_scale(case):
    name, *_, rows = CASES[case]
    ref = PREDICT[PREDICT["case"] == case]
    ours = fit(case).predict(FRAMES[name].iloc[rows])
    _close(ours["estimate"], ref["estimate"], f"{case} predict")
    _close(ours["se"], ref["se"], f"{case} predict se")


def test_vcov_is_labelled_and_symmetric():
    v = fit("clus1_gaussian").vcov
    assert list(v.index) == list(v.columns) == fit("clus1_gaussian").table["term"].tolist()
    np.testing.assert_allclose(v.to_numpy(), v.to_numpy().T, rtol=1e-12)
    np.testing.assert_allclose(np.sqrt(np.diag(v)), fit("clus1_gaussian").table["se"])
