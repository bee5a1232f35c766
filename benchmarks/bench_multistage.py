"""Time a two-stage design against the one-stage (ultimate-cluster) design.

1,000,000 rows, 2,000 PSUs in 50 strata, up to 20 second-stage units per PSU, a
proportion in 10 domains. Prints the best of several runs of each step.

Run from the repository root::

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_multistage.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from harvest.design import SurveyDesign


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n = args.rows
    psu = rng.integers(0, 2000, n)
    df = pd.DataFrame({"h": psu % 50, "psu": psu, "ssu": rng.integers(0, 20, n),
                       "N1": 400, "N2": 60, "w": rng.uniform(1, 3, n),
                       "y": rng.integers(0, 2, n), "g": rng.integers(0, 10, n)})
    two = dict(weights="w", strata="h", psu=["psu", "ssu"], fpc=["N1", "N2"])
    one = dict(weights="w", strata="h", psu="psu", fpc="N1")
    d2, d1 = SurveyDesign(df, **two), SurveyDesign(df, **one)
    print(f"{n:,} rows")
    print(f"build two-stage   {best(lambda: SurveyDesign(df, **two), args.repeat):.3f} s")
    print(f"build one-stage   {best(lambda: SurveyDesign(df, **one), args.repeat):.3f} s")
    for name, d in (("two-stage", d2), ("one-stage", d1)):
        seconds = best(lambda d=d: d.proportion("y", by="g"), args.repeat)
        print(f"proportion by 10 domains, {name} {seconds:.3f} s")


if __name__ == "__main__":
    main()
