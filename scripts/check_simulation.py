"""Print truth vs design-based estimates over many simulated missions.

Usage::

    python scripts/check_simulation.py [--n 200] [--year 2024] [--seed 20241124]

For each headline indicator: the true population value, the mean of the estimates
over ``n`` samples of one population, the bias in Monte Carlo standard errors, the
empirical sd of the estimates, the mean estimated standard error, the mean design
effect and the coverage of the 95% logit interval (``SurveyDesign`` with
``strata=["sim", "stratum"], psu="district", fpc="n_districts"``).
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

import harvest as hv

INDICATORS = {
    "farms": ["child_labour", "civil_servants_on_farm", "farmer_reports_minors"],
    "pickers": ["paid_above_1", "no_written_contract", "worked_alongside_children",
                "any_consequence", "forced_labour"],
    "employees": ["any_consequence", "picked_or_paid", "forced_labour"],
    "institutions": ["received_quota"],
}


def run(n: int, year: int, seed: int) -> pd.DataFrame:
    ms = hv.simulate.missions(n=n, year=year, rng=seed)
    rows = []
    for table, ys in INDICATORS.items():
        instrument = hv.datasets.INSTRUMENT_OF[table]
        design = hv.SurveyDesign(getattr(ms, table), weights="weight",
                                 strata=["sim", "stratum"], psu="district", fpc="n_districts")
        est = design.proportion(ys, by="sim", ci="logit")
        truth = ms.truth[(ms.truth["instrument"] == instrument) & (ms.truth["region"] == "All")]
        est = est.merge(truth[["indicator", "value"]], on="indicator")
        g = est.assign(cover=(est["ci_low"] <= est["value"]) & (est["value"] <= est["ci_high"]))
        for ind, d in g.groupby("indicator", sort=False):
            sd = d["estimate"].std(ddof=1)
            rows.append({
                "table": table, "indicator": ind, "truth": d["value"].iloc[0],
                "mean_estimate": d["estimate"].mean(),
                "bias_in_mcse": (d["estimate"].mean() - d["value"].iloc[0]) / (sd / np.sqrt(n)),
                "sd_estimates": sd, "mean_se": d["se"].mean(), "mean_deff": d["deff"].mean(),
                "coverage_95": d["cover"].mean(),
            })
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument("--seed", type=int, default=20241124)
    args = parser.parse_args(argv)
    out = run(args.n, args.year, args.seed)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(f"{args.n} missions, year {args.year}, seed {args.seed}")
        print(out.round(4).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
