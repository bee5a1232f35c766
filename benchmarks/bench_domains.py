"""Time by-tables over many domains and comparisons of many domain pairs.

Sparse domains: 2,000,000 rows, 10,000 PSUs (100 strata x 100), 10,000 domains, one
0/1 indicator: ``design.proportion(y, by="district")``. Each domain (district) lies in a
few PSUs, as district-level domains do. Compare: ``design.compare(y, between="year",
baseline=..., by="district")`` over ``--compare`` districts x 2 years (one comparison per
district). Calibrated: the design linearly calibrated to the totals of region (10
levels), farm type (3 levels) and cotton area (numeric), then the same proportion by
district (the variance from the pairs and the low-rank calibration term, no PSU x domain
array). Prints wall time of each call; run under ``/usr/bin/time -v`` for the peak
memory (also printed by tracemalloc with ``--trace``, which slows numpy).

Run from the repository root::

    .venv/bin/python benchmarks/bench_domains.py [--rows 2000000] [--psus 10000]
        [--domains 10000] [--compare 2000]
        [--case all|taylor|floor|compare|replicates|calibrated]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd


def make_data(rows, psus, domains, strata=100, seed=1):
    """Rows in PSUs; each domain is spread over ~4 PSUs (district-level domains)."""
    rng = np.random.default_rng(seed)
    domain = rng.integers(0, domains, rows)
    # a domain's rows fall in 4 neighbouring PSUs
    home = (domain.astype(np.int64) * psus) // domains
    psu = (home + rng.integers(0, 4, rows)) % psus
    effect = rng.normal(0, 0.5, domains)[domain]
    y = (rng.random(rows) < 1 / (1 + np.exp(-(-1 + effect)))).astype(np.int8)
    return pd.DataFrame({"stratum": psu % strata, "psu": psu, "district": domain,
                         "weight": rng.uniform(5, 50, rows), "year": rng.integers(0, 2, rows),
                         "y": y})


def timed(label, fn):
    start = time.perf_counter()
    out = fn()
    print(f"{label}: {time.perf_counter() - start:.2f} s")
    return out


def floor(df, psus, domains):
    """The numpy floor: pair totals by one sort of combined codes and bincounts, the
    linearised variance per domain by bincounts (codes given in the data, no checks)."""
    psu = df["psu"].to_numpy()
    dom = df["district"].to_numpy()
    w = df["weight"].to_numpy()
    y = df["y"].to_numpy().astype(float)
    stratum_of_psu = np.arange(psus) % 100
    cells, pair = np.unique(dom.astype(np.int64) * psus + psu, return_inverse=True)
    Y = np.bincount(pair, w * y, len(cells))
    W = np.bincount(pair, w, len(cells))
    pd_, pp = cells // psus, cells % psus
    p = np.bincount(pd_, Y, domains) / np.bincount(pd_, W, domains)
    z = (Y - p[pd_] * W) / np.bincount(pd_, W, domains)[pd_]
    h = stratum_of_psu[pp]
    key, q = np.unique(pd_ * 100 + h, return_inverse=True)
    n_h = np.bincount(stratum_of_psu, minlength=100)[key % 100]
    mean = np.bincount(q, z, len(key)) / n_h
    c = z - mean[q]
    ss = np.bincount(q, c * c, len(key)) + (n_h - np.bincount(q, minlength=len(key))) * mean**2
    return p, np.sqrt(np.bincount(key // 100, ss * n_h / (n_h - 1), domains))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--psus", type=int, default=10_000)
    parser.add_argument("--domains", type=int, default=10_000)
    parser.add_argument("--compare", type=int, default=2_000)
    parser.add_argument("--replicates", type=int, default=100)
    parser.add_argument("--case", default="all")
    args = parser.parse_args(argv)
    import harvest as hv

    df = make_data(args.rows, args.psus, args.domains)
    print(f"{args.rows:,} rows, {args.psus:,} PSUs, {args.domains:,} domains")
    design = hv.SurveyDesign(df, weights="weight", strata="stratum", psu="psu")
    if args.case in ("all", "taylor"):
        out = timed(f"proportion by {args.domains:,} domains (Taylor)",
                    lambda: design.proportion("y", by="district", ci="wald"))
        print(f"  {len(out):,} rows of output, median se {out['se'].median():.4f}")
    if args.case in ("all", "floor"):
        p, se = timed("numpy floor of the same proportions", lambda: floor(
            df, args.psus, args.domains))
        if args.case == "all":
            print(f"  max |harvest - floor| se: {np.nanmax(np.abs(out['se'] - se)):.2e}")
    if args.case in ("all", "compare"):
        sub = design.subset(df["district"] < args.compare)
        out = timed(f"compare year 1 vs 0 in {args.compare:,} districts",
                    lambda: sub.compare("y", between="year", baseline=0, by="district"))
        print(f"  {len(out):,} comparisons")
    if args.case in ("all", "calibrated"):
        rng = np.random.default_rng(2)
        df["region"] = df["district"] * 10 // args.domains
        df["farm_type"] = rng.choice(["small", "medium", "large"], len(df), p=[.5, .3, .2])
        df["area"] = rng.gamma(2.0, 1.5, len(df))
        w = df["weight"].to_numpy()
        margins = {   # the sample's weighted totals, moved by a few percent
            "region": (df.groupby("region")["weight"].sum() * 1.05).to_dict(),
            "farm_type": {"small": .48, "medium": .32, "large": .2},
            "area": float((w * df["area"]).sum() * 1.02)}
        size = sum(margins["region"].values())
        margins["farm_type"] = {k: v * size for k, v in margins["farm_type"].items()}
        cal = timed("linear calibration to region (10), farm type (3), area",
                    lambda: design.calibrate(margins))
        out = timed(f"proportion by {args.domains:,} domains (Taylor, calibrated)",
                    lambda: cal.proportion("y", by="district", ci="wald"))
        print(f"  {len(out):,} rows of output, median se {out['se'].median():.4f}")
    if args.case in ("all", "replicates"):
        rep = design.replicate("bootstrap", replicates=args.replicates, rng=1)
        out = timed(f"{args.replicates} bootstrap replicates, proportion by "
                    f"{args.domains:,} domains",
                    lambda: rep.proportion("y", by="district", ci="wald"))
        print(f"  median se {out['se'].median():.4f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
