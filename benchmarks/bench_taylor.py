"""Time the Taylor-linearised estimators on a large synthetic sample.

200,000 rows in 2,000 PSUs (20 strata of 100 PSUs), 20 domains, 3 indicators with some
missing values. Prints the best of several runs of each call.

Run from the repository root::

    .venv/bin/python benchmarks/bench_taylor.py [--rows 200000] [--psus 2000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from harvest.design import SurveyDesign


def make_data(rows: int, psus: int, strata: int = 20, domains: int = 20, seed: int = 1):
    rng = np.random.default_rng(seed)
    psu = rng.integers(0, psus, rows)
    df = pd.DataFrame({
        "stratum": psu % strata,
        "psu": psu,
        "n_psu_pop": 1000,
        "weight": rng.uniform(5.0, 50.0, rows),
        "domain": rng.integers(0, domains, rows),
        "year": rng.choice([2023, 2024], rows),
    })
    effect = rng.normal(0, 0.7, psus)[psu]
    for i, name in enumerate(["child_labour", "civil_servants", "any_penalty"]):
        p = 1 / (1 + np.exp(-(-1.0 + 0.3 * i + effect)))
        y = (rng.random(rows) < p).astype(float)
        y[rng.random(rows) < 0.02] = np.nan
        df[name] = y
    df["amount"] = rng.gamma(2.0, 50.0, rows)
    df["n_pickers"] = rng.integers(1, 40, rows)
    return df


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), float(np.median(times))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--psus", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    df = make_data(args.rows, args.psus)
    indicators = ["child_labour", "civil_servants", "any_penalty"]
    design = None

    def build():
        nonlocal design
        design = SurveyDesign(df, weights="weight", strata="stratum", psu="psu",
                              fpc="n_psu_pop", lonely_psu="adjust")

    cases = {
        "SurveyDesign(...)": build,
        "proportion(3 indicators, by=domain [20])": lambda: design.proportion(
            indicators, by="domain", na="drop"),
        "proportion(3 indicators, by=[year, domain] [40])": lambda: design.proportion(
            indicators, by=["year", "domain"], na="drop"),
        "proportion(..., ci='korn-graubard')": lambda: design.proportion(
            indicators, by="domain", na="drop", ci="korn-graubard"),
        "mean(amount, by=domain)": lambda: design.mean("amount", by="domain"),
        "ratio(amount/n_pickers, by=domain)": lambda: design.ratio(
            "amount", "n_pickers", by="domain"),
        "_estimate_vcov(full 60x60)": lambda: design._estimate_vcov(
            "proportion", indicators, by="domain", na="drop"),
    }
    print(f"{args.rows:,} rows, {args.psus:,} PSUs, 20 strata; best and median of "
          f"{args.repeat} runs")
    build()
    for name, fn in cases.items():
        best, median = best_of(fn, args.repeat)
        print(f"  {name:<48} best {best * 1000:8.1f} ms   median {median * 1000:8.1f} ms")
    table = design.proportion(indicators, by="domain", na="drop")
    assert len(table) == 60 and np.isfinite(table["se"]).all()


if __name__ == "__main__":
    main()
