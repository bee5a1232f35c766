"""Agreement of ``design.quantile`` with R ``svyquantile`` and its wall time.

* agreement: every row of ``tests/reference/quantiles_reference.csv`` (R survey 4.1,
  ``tests/reference/quantiles.R``): the largest relative difference of the estimate, the
  interval ends, the SE and df, over every case, interval type and rule (rows where R
  stopped are left out; the tests check harvest has a missing end there);
* timing: 100,000 rows, 20 strata, 400 PSUs, 50 domains, three quartiles, Taylor
  (``mean``, ``beta``, ``score``) and 100 bootstrap replicates (``mean``, ``quantile``).

Run: ``PYTHONPATH=. python benchmarks/bench_quantiles.py``
"""

import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import harvest as hv

REF = Path(__file__).resolve().parent.parent / "tests" / "reference"


def _designs():
    strat = pd.read_csv(REF / "api_apistrat.csv")
    clus = pd.read_csv(REF / "api_apiclus1.csv")
    rscales = pd.read_csv(REF / "quantiles_rscales.csv")

    def rep(data, file, name, method):
        w = pd.read_csv(REF / file)
        cols = [c for c in w.columns if c != "snum"]
        r = rscales[rscales["design"] == name]
        return hv.ReplicateDesign(pd.concat([data, w[cols]], axis=1), weights="pw",
                                  replicate_weights=cols, method=method,
                                  scale=float(r["scale"].iloc[0]),
                                  rscales=r["rscales"].to_numpy())

    na = strat.copy()
    na.loc[[2, 49, 119], "api00"] = np.nan
    emp = hv.datasets.load("employees")
    paid = hv.SurveyDesign(emp, weights="weight", strata="stratum", psu="district",
                           fpc="n_districts").subset(emp["paid_replacement"] == 1)
    return {
        "apistrat": (hv.SurveyDesign(strat, weights="pw", strata="stype", fpc="fpc"), "stype"),
        "apiclus1": (hv.SurveyDesign(clus, weights="pw", psu="dnum", fpc="fpc"), "stype"),
        "apiclus1_jk1": (rep(clus, "quantiles_jk1.csv", "jk1", "jk1"), "stype"),
        "apistrat_boot": (rep(strat, "quantiles_boot.csv", "boot", "bootstrap"), "stype"),
        "apistrat_na": (hv.SurveyDesign(na, weights="pw", strata="stype", fpc="fpc"), "stype"),
        "employees_paid": (paid, "year"),
    }


def agreement():
    ref = pd.read_csv(REF / "quantiles_reference.csv", dtype={"domain": str})
    ref["domain"] = ref["domain"].fillna("")
    designs = _designs()
    worst, rows = 0.0, 0
    for (case, variable, interval, qrule), g in ref.groupby(
            ["case", "variable", "interval", "qrule"]):
        design, by = designs[case]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parts = [design.quantile(variable, q=[0.25, 0.5, 0.75], interval=interval,
                                     qrule=qrule, na="drop").assign(domain="")]
            if (g["domain"] != "").any():
                t = design.quantile(variable, q=[0.25, 0.5, 0.75], by=by, interval=interval,
                                    qrule=qrule, na="drop")
                parts.append(t.assign(domain=t[by].astype(str)))
        out = pd.concat(parts)
        m = g.merge(out, left_on=["domain", "q"], right_on=["domain", "quantile"],
                    suffixes=("_r", ""))
        m = m[m["estimate_r"].notna()]
        rows += len(m)
        for c in ["estimate", "ci_low", "ci_high", "se", "df"]:
            r, h = m[f"{c}_r"].to_numpy(float), m[c].to_numpy(float)
            if (np.isnan(r) != np.isnan(h)).any():
                return float("inf"), rows
            ok = ~np.isnan(r)
            if ok.any():   # where R gives 0 the difference itself (must be 0)
                diff = np.abs(h[ok] - r[ok])
                scale = np.where(r[ok] == 0, 1.0, np.abs(r[ok]))
                worst = max(worst, float(np.max(diff / scale)))
    return worst, rows


def timing():
    rng = np.random.default_rng(1)
    n = 100_000
    df = pd.DataFrame({"stratum": rng.integers(0, 20, n), "g": rng.integers(0, 50, n),
                       "w": rng.uniform(1, 5, n), "y": rng.lognormal(3, 1, n)})
    df["psu"] = df["stratum"] * 100 + rng.integers(0, 20, n)
    d = hv.SurveyDesign(df, weights="w", strata="stratum", psu="psu")
    r = d.replicate("bootstrap", replicates=100, rng=1)
    out = {}
    for name, design, interval in [("taylor", d, "mean"), ("taylor", d, "beta"),
                                   ("taylor", d, "score"), ("bootstrap100", r, "mean"),
                                   ("bootstrap100", r, "quantile")]:
        t = time.perf_counter()
        design.quantile("y", q=[0.25, 0.5, 0.75], by="g", interval=interval)
        out[f"{name} {interval}"] = time.perf_counter() - t
    return out


if __name__ == "__main__":
    worst, rows = agreement()
    print(f"R agreement: max relative difference {worst:.2e} over {rows} rows")
    for k, v in timing().items():
        print(f"{k:24s} {v:7.3f} s")
