"""Calibrated bootstrap design at national scale: harvest vs svy, in one run.

Workload (fixed seed, default sizes): 40 strata x 50 PSUs x 100 rows = 200,000 rows,
weights varying within PSU, 500 Rao-Wu bootstrap replicates, linear calibration to
3 margins (``region``, 8 levels; ``agegrp``, 5 levels; the total of the numeric ``x``),
then 3 binary indicators estimated by 20 domains with replicate standard errors. Each
library starts from the pandas DataFrame (libraries already imported) and does the whole
chain:

(a) harvest: ``SurveyDesign(...).replicate("bootstrap", replicates=R, rng=7)``,
    ``.calibrate({"region": ..., "agegrp": ..., "x": total})`` (every replicate
    calibrated again, in blocks, one stacked solve per block), then
    ``proportion(["y1", "y2", "y3"], by="domain")``;
(b) svy: ``Sample(pl.from_pandas(df), Design(...))``, ``weighting.create_bs_wgts``,
    ``weighting.calibrate(controls={Cat("region"): ..., Cat("agegrp"): ..., "x": ...})``
    (svy's GREG, which also calibrates every replicate) and
    ``estimation.mean([...], by="domain", method="replication")``.

Both calibrate the full sample the same way (linear, Deville-Sarndal), so the point
estimates agree (printed); the bootstrap draws differ, so the SEs agree only up to Monte
Carlo error (their median ratio is printed). Times are the best of ``--repeat`` runs.

Run from the repository root::

    .venv/bin/python benchmarks/bench_weighting.py [--strata 40] [--psus 50] [--rows 100]
        [--replicates 500] [--svy-replicates 500] [--repeat 1] [--no-svy]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

DOMAINS = 20
INDICATORS = ["y1", "y2", "y3"]
REGIONS, AGES = 8, 5


def make_data(strata, psus, rows, seed=20261202):
    """The workload and its population totals (reachable: sample totals x 0.9-1.1)."""
    rng = np.random.default_rng(seed)
    P = strata * psus
    n = P * rows
    psu = np.repeat(np.arange(P), rows)
    df = pd.DataFrame({
        "stratum": psu // psus,
        "psu": psu,
        "w": rng.uniform(20.0, 200.0, P)[psu] * rng.uniform(0.5, 1.5, n),
        "domain": rng.integers(0, DOMAINS, n),
        "region": rng.integers(0, REGIONS, n).astype(str),
        "agegrp": rng.integers(0, AGES, n).astype(str),
        "x": rng.gamma(2.0, 5.0, n),
    })
    for j, name in enumerate(INDICATORS):
        p = 0.2 + 0.15 * j + 0.1 * (df["agegrp"].astype(int) - 2) / 2
        df[name] = (rng.uniform(size=n) < p).astype(np.int64)
    w = df["w"]
    region = (w.groupby(df["region"]).sum() * rng.uniform(0.9, 1.1, REGIONS)).to_dict()
    size = sum(region.values())
    age = w.groupby(df["agegrp"]).sum() * rng.uniform(0.9, 1.1, AGES)
    age = (age * size / age.sum()).to_dict()
    x_total = float((w * df["x"]).sum() * 1.03)
    return df, {"region": region, "agegrp": age, "x": x_total}


def run_harvest(df, margins, R):
    import harvest as hv

    design = hv.SurveyDesign(df, weights="w", strata="stratum", psu="psu")
    cal = design.replicate("bootstrap", replicates=R, rng=7).calibrate(margins)
    t = cal.proportion(INDICATORS, by="domain")
    return t["estimate"].to_numpy(), t["se"].to_numpy()


def run_svy(df, margins, R):
    import polars as pl
    import svy

    sample = svy.Sample(pl.from_pandas(df), svy.Design(stratum="stratum", psu="psu", wgt="w"))
    sample = sample.weighting.create_bs_wgts(n_reps=R, rstate=7)
    sample = sample.weighting.calibrate(controls={
        svy.Cat("region"): margins["region"], svy.Cat("agegrp"): margins["agegrp"],
        "x": margins["x"]})
    res = sample.estimation.mean(INDICATORS, by="domain", method="replication")
    table = res.to_polars() if hasattr(res, "to_polars") else res
    return table


def _svy_arrays(table):
    """svy's estimates and SEs in harvest's order (domain, then indicator)."""
    import polars as pl

    if not isinstance(table, pl.DataFrame):
        table = pl.DataFrame(table)
    cols = {c.lower(): c for c in table.columns}
    est = cols.get("est", cols.get("estimate"))
    se = cols.get("se", cols.get("stderr"))
    var = cols.get("y", cols.get("var", cols.get("variable")))
    t = table.sort(["domain", var]) if var else table.sort("domain")
    return t[est].to_numpy(), t[se].to_numpy()


def best(fn, repeat, *args):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(*args)
        times.append(time.perf_counter() - t0)
    return min(times), out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--strata", type=int, default=40)
    parser.add_argument("--psus", type=int, default=50, help="PSUs per stratum")
    parser.add_argument("--rows", type=int, default=100, help="rows per PSU")
    parser.add_argument("--replicates", type=int, default=500)
    parser.add_argument("--svy-replicates", type=int, default=None,
                        help="replicates for svy (default: --replicates); fewer are timed "
                             "and scaled linearly to --replicates")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-svy", action="store_true", help="time harvest only")
    args = parser.parse_args(argv)
    df, margins = make_data(args.strata, args.psus, args.rows)
    R = args.replicates
    print(f"{len(df):,} rows, {args.strata * args.psus} PSUs, {R} bootstrap replicates, "
          f"3 margins, {len(INDICATORS)} indicators x {DOMAINS} domains")
    import scipy.sparse  # noqa: F401  (imports are not timed)

    import harvest.weighting  # noqa: F401

    t_hv, (est, se) = best(run_harvest, args.repeat, df, margins, R)
    print(f"harvest : {t_hv:8.2f} s")
    if args.no_svy:
        return
    import svy  # noqa: F401

    R_svy = args.svy_replicates or R
    t_svy, table = best(run_svy, args.repeat, df, margins, R_svy)
    scaled = t_svy * R / R_svy
    label = "svy" if R_svy == R else f"svy ({R_svy} reps, time x{R / R_svy:g})"
    print(f"{label:8s}: {scaled:8.2f} s")
    print(f"ratio svy / harvest: {scaled / t_hv:.1f}x (goal >= 20x)")
    s_est, s_se = _svy_arrays(table)
    if s_est.shape == est.shape:
        print(f"max |estimate difference|: {np.max(np.abs(s_est - est)):.2e}; "
              f"median SE ratio svy/harvest: {np.median(s_se / se):.3f}")
    else:
        print(f"svy returned {s_est.size} estimates, harvest {est.size}: not compared")


if __name__ == "__main__":
    main()
