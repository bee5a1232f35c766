"""Calibration of the Bayesian prevalence models on simulated missions with known truth.

For each of ``--populations`` pairs of finite populations (one for 2023, one for 2024,
``hv.simulate.missions``) ``--samples`` two-year missions are drawn; both models are fitted
to every mission and the 90% credible intervals of the regional prevalence are compared
with the true population shares (``truth``: farms with child labour per region and year).
The design-based 90% logit intervals of the direct estimates are scored alongside.

Target (issue 6): coverage between 85% and 95% for both models over >= 200 missions.

Run: ``.venv/bin/python benchmarks/bench_bayes_calibration.py --populations 10 --samples 20``
(``--max-minutes`` stops early and reports the exact number of missions fitted).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from scipy.stats import beta

import harvest as hv

MODELS = ("hierarchical", "smoothed_direct")


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    a = (1 - level) / 2
    lo = beta.ppf(a, k, n - k + 1) if k > 0 else 0.0
    hi = beta.ppf(1 - a, k + 1, n - k) if k < n else 1.0
    return float(lo), float(hi)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--populations", type=int, default=10)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--tune", type=int, default=500)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--level", type=float, default=0.9)
    parser.add_argument("--max-minutes", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", default=None, help="CSV of every interval")
    args = parser.parse_args()

    t0 = time.perf_counter()
    seeds = np.random.default_rng(args.seed).integers(0, 2**31, size=(args.populations, 2))
    rows, done, stopped = [], 0, False
    for p in range(args.populations):
        years = {year: hv.simulate.missions(n=args.samples, year=year, rng=int(seeds[p, j]))
                 for j, year in enumerate((2023, 2024))}
        truth = pd.concat([m.truth.query("instrument == 'farm' and indicator == "
                                         "'child_labour' and region != 'All'")
                           for m in years.values()])
        truth = truth.rename(columns={"region": "area", "year": "time"})[
            ["area", "time", "value"]]
        for k in range(args.samples):
            if time.perf_counter() - t0 > 60 * args.max_minutes:
                stopped = True
                break
            farms = pd.concat([m.farms[m.farms["sim"] == k] for m in years.values()],
                              ignore_index=True)
            for model in MODELS:
                fit = hv.bayes.fit_prevalence(
                    farms, "child_labour", model=model, rng=1000 * p + k, draws=args.draws,
                    tune=args.tune, chains=args.chains, progress=False, check=False)
                s = fit.summary(level=args.level).merge(truth, on=["area", "time"])
                d = fit.diagnostics(warn=False)
                s["model"] = model
                s["divergences"] = d["divergences"]
                rows.append(s)
                if model == "smoothed_direct":
                    direct = fit.direct_table.merge(truth, on=["area", "time"])
                    rows.append(pd.DataFrame({
                        "area": direct["area"], "time": direct["time"],
                        "mean": direct["estimate"], "ci_low": direct["ci_low"],
                        "ci_high": direct["ci_high"], "value": direct["value"],
                        "model": "direct (design-based, logit)", "divergences": 0}))
            for r in rows[-3:]:
                r["population"], r["sample"] = p, k
            done += 1
        print(f"population {p}: {done} missions so far, {time.perf_counter() - t0:.0f} s",
              flush=True)
        if stopped:
            break

    table = pd.concat(rows, ignore_index=True)
    table["covered"] = (table["ci_low"] <= table["value"]) & (table["value"] <= table["ci_high"])
    table["width"] = table["ci_high"] - table["ci_low"]
    table["error"] = table["mean"] - table["value"]
    if args.out:
        table.to_csv(args.out, index=False)
    print(f"\nmissions fitted: {done} ({args.populations} population pairs x up to "
          f"{args.samples} samples; {'stopped by --max-minutes' if stopped else 'complete'}), "
          f"{args.chains} chains x {args.draws} draws (+{args.tune} tuning), "
          f"{time.perf_counter() - t0:.0f} s")
    print(f"coverage of {args.level:.0%} intervals of regional prevalence (5 regions x 2 years "
          f"per mission):")
    for model, g in table.groupby("model", sort=False):
        k, n = int(g["covered"].sum()), len(g)
        lo, hi = clopper_pearson(k, n)
        diverged = int((g.groupby(["population", "sample"])["divergences"].max() > 0).sum())
        print(f"  {model:32s} {k / n:6.3f}  (95% CI {lo:.3f}-{hi:.3f}; {k}/{n})  "
              f"mean width {g['width'].mean():.3f}  bias {g['error'].mean():+.4f}  "
              f"rmse {np.sqrt((g['error'] ** 2).mean()):.4f}  "
              f"fits with divergences {diverged}")
    print("\nby region and year:")
    print(table.pivot_table(index=["area", "time"], columns="model", values="covered",
                            aggfunc="mean", sort=False).round(3).to_string())


if __name__ == "__main__":
    main()
