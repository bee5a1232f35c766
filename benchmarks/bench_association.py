"""design.chisq and design.ttest: agreement with R survey and time per call.

Prints the largest relative difference from the stored R output
(``tests/reference/association_chisq.csv``, ``association_ttest.csv``, made by
``tests/reference/association.R``) over every case and column, then the time of one
``chisq`` (each statistic) on the bundled employee design and on a 200,000-row
stratified clustered design (40 strata x 50 PSUs x 100 rows, a 5 x 4 table).

Run from the repository root::

    .venv/bin/python benchmarks/bench_association.py
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

import harvest as hv
from harvest._options import CHISQ_STATISTICS

REF = Path(__file__).resolve().parents[1] / "tests" / "reference"


def designs():
    strat = pd.read_csv(REF / "api_apistrat.csv")
    clus1 = pd.read_csv(REF / "api_apiclus1.csv")
    emp = pd.read_csv(REF / "association_employees.csv")
    cols = {"weights": "weight", "strata": "stratum", "psu": "district",
            "lonely_psu": "adjust"}
    return {
        "apistrat": hv.SurveyDesign(strat, weights="pw", strata="stype", fpc="fpc"),
        "apiclus1": hv.SurveyDesign(clus1, weights="pw", psu="dnum", fpc="fpc"),
        "employees": hv.SurveyDesign(emp, fpc="n_districts", **cols),
        "rep_apiclus1": hv.SurveyDesign(clus1, weights="pw", psu="dnum").replicate("jk1"),
        "rep_employees": hv.SurveyDesign(emp, **cols).replicate("jkn"),
    }


def agreement(d) -> tuple[float, float]:
    worst_chisq = worst_t = 0.0
    for r in pd.read_csv(REF / "association_chisq.csv").itertuples():
        got = d[r.design].chisq(r.rows, r.cols, statistic=r.test).iloc[0]
        for c in ("statistic", "df_num", "df_den", "p_value"):
            want = getattr(r, c)
            if not pd.isna(want):
                worst_chisq = max(worst_chisq, abs(got[c] - want) / abs(want))
    ref = pd.read_csv(REF / "association_ttest.csv", keep_default_na=False,
                      na_values=["NA"])
    for r in ref.itertuples():
        got = d[r.design].ttest(r.variable, by=r.by or None).iloc[0]
        for c in ("estimate", "se", "statistic", "df", "p_value", "ci_low", "ci_high"):
            worst_t = max(worst_t, abs(got[c] - getattr(r, c)) / abs(getattr(r, c)))
    return worst_chisq, worst_t


def big_design():
    rng = np.random.default_rng(1)
    H, P, m = 40, 50, 100
    n = H * P * m
    psu = np.repeat(np.arange(H * P), m)
    df = pd.DataFrame({"stratum": psu // P, "psu": psu,
                       "w": rng.uniform(1, 5, H * P)[psu],
                       "a": rng.integers(0, 5, n), "b": rng.integers(0, 4, n)})
    return hv.SurveyDesign(df, weights="w", strata="stratum", psu="psu")


def timed(design, rows, cols):
    out = {}
    for statistic in CHISQ_STATISTICS:
        start = time.perf_counter()
        design.chisq(rows, cols, statistic=statistic)
        out[statistic] = time.perf_counter() - start
    return out


if __name__ == "__main__":
    d = designs()
    c, t = agreement(d)
    print(f"max relative difference from R: chisq {c:.2e}, ttest {t:.2e}")
    for name, (design, rows, cols) in {
            "employees (2,852 rows)": (d["employees"], "sector", "any_consequence"),
            "employees JKn": (d["rep_employees"], "sector", "any_consequence"),
            "200,000 rows, 5 x 4": (big_design(), "a", "b")}.items():
        times = timed(design, rows, cols)
        print(name + ": " + ", ".join(f"{k} {1000 * v:.0f} ms" for k, v in times.items()))
