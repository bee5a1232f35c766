"""First and second call in a fresh process: harvest vs svy, import included.

Workload: the one of ``bench_replicates.py`` (40 strata x 50 PSUs x 100 rows = 200,000
rows, 20 domains, 3 binary indicators, weights varying within PSU). Each case runs in its
own subprocess. The data are built first (numpy and pandas are imported: the caller has a
DataFrame); the clock starts just before ``import harvest`` (or ``import svy``, with
polars) and stops at the result of the first call; the second call is the same call again
in the same process. Cases:

- ``taylor``: ``SurveyDesign(...)`` and ``proportion(["y1", "y2", "y3"], by="domain")``
  (logit intervals) against svy ``Sample(...)`` and ``estimation.prop(..., by="domain")``;
- ``replicates``: ``SurveyDesign(...).replicate("bootstrap", replicates=500)`` and the
  same ``proportion`` against svy ``weighting.create_bs_wgts(n_reps=500)`` and
  ``estimation.mean(..., method="replication")``.

The modules each child imported beyond numpy/pandas are counted, and whether any scipy
module was among them (issue 18: none on this path) and which parts of scipy are printed.

Run from the repository root::

    .venv/bin/python benchmarks/bench_startup.py [--repeat 5] [--replicates 500]
        [--svy-repeat 2] [--cases taylor,replicates]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
INDICATORS = ["y1", "y2", "y3"]


def child(lib: str, case: str, R: int) -> None:
    sys.path.insert(0, HERE)
    from bench_replicates import make_data

    df = make_data()
    before = set(sys.modules)
    times = []
    start = time.perf_counter()
    if lib == "harvest":
        import harvest as hv

        def call():
            design = hv.SurveyDesign(df, weights="w", strata="stratum", psu="psu")
            if case == "replicates":
                design = design.replicate("bootstrap", replicates=R, rng=7)
            return design.proportion(INDICATORS, by="domain")["se"].to_numpy()
    else:
        import polars as pl
        import svy

        def call():
            sample = svy.Sample(pl.from_pandas(df),
                                svy.Design(stratum="stratum", psu="psu", wgt="w"))
            if case == "replicates":
                sample = sample.weighting.create_bs_wgts(n_reps=R, rstate=7)
                return sample.estimation.mean(INDICATORS, by="domain", method="replication")
            return sample.estimation.prop(INDICATORS, by="domain")

    call()
    times.append(time.perf_counter() - start)
    start = time.perf_counter()
    call()
    times.append(time.perf_counter() - start)
    new = set(sys.modules) - before
    print(json.dumps({"first": times[0], "second": times[1], "modules": len(new),
                      "scipy_any": any(m == "scipy" or m.startswith("scipy.") for m in new),
                      "scipy_stats": "scipy.stats" in new,
                      "scipy": sorted({m.split(".")[1] for m in new
                                       if m.startswith("scipy.") and m.count(".") >= 1})}))


def spawn(lib, case, R):
    cmd = [sys.executable, __file__, "--child", lib, "--case", case, "--replicates", str(R)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{lib} {case} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def best(lib, case, R, repeat):
    runs = [spawn(lib, case, R) for _ in range(repeat)]
    out = min(runs, key=lambda r: r["first"])
    out["second"] = min(r["second"] for r in runs)
    out["first_all"] = [round(r["first"], 3) for r in runs]
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="harvest runs (best of)")
    parser.add_argument("--svy-repeat", type=int, default=2, help="svy runs (best of)")
    parser.add_argument("--replicates", type=int, default=500)
    parser.add_argument("--cases", default="taylor,replicates")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--case", default="taylor", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.case, args.replicates)
        return

    print(f"load average before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} "
          f"{os.getloadavg()[2]:.2f} ({os.cpu_count()} CPUs)")
    print("200,000 rows, 40 strata x 50 PSUs, 20 domains, 3 indicators; time from the "
          "import to the result, data already in memory\n")
    print(f"{'case':42s} {'harvest s':>10s} {'svy s':>8s} {'svy/harvest':>12s}")
    for case in args.cases.split(","):
        h = best("harvest", case, args.replicates, args.repeat)
        s = best("svy", case, args.replicates, args.svy_repeat)
        label = ("Taylor proportions by domain" if case == "taylor"
                 else f"{args.replicates} bootstrap replicates + proportions")
        print(f"{label + ', first call':42s} {h['first']:10.3f} {s['first']:8.3f} "
              f"{s['first'] / h['first']:11.1f}x")
        print(f"{label + ', second call':42s} {h['second']:10.3f} {s['second']:8.3f} "
              f"{s['second'] / h['second']:11.1f}x")
        print(f"    harvest first calls {h['first_all']}; modules imported "
              f"{h['modules']}; any scipy module imported: {h['scipy_any']}; "
              f"scipy.stats imported: {h['scipy_stats']}; "
              f"scipy parts: {', '.join(h['scipy']) or 'none'}")
    print(f"\nload average after: {os.getloadavg()[0]:.2f} (best of {args.repeat} harvest, "
          f"{args.svy_repeat} svy runs)")


if __name__ == "__main__":
    main()
