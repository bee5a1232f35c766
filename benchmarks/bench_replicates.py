"""Rao-Wu bootstrap at national scale: harvest vs svy vs the bare numpy floor.

Workload (fixed seed): 40 strata x 50 PSUs x 100 rows = 200,000 rows, 20 domains,
3 binary indicators, weights varying within PSU. Each case runs in its own
subprocess, starting from the pandas DataFrame (libraries already imported), and
reports, side by side:

- the *first call*: its wall time and peak resident memory in a fresh process (best
  and median of ``--repeat`` processes);
- the *warm call*: the same call again in the same process, best of ``--warm`` calls
  (per process; best over the processes), for harvest and the floor (and svy with
  ``--svy-warm``, which costs seconds per call); and, the steadiest ratio on a shared
  machine, harvest's and the floor's warm calls taken in turn in one process.

The cases' processes run in turn (harvest, svy, floor, harvest, ...).

The cases:

(a) harvest: ``SurveyDesign(...).replicate("bootstrap", replicates=R, rng=...)``, then
    ``proportion(["y1", "y2", "y3"], by="domain")`` (estimates, replicate SEs, logit
    intervals, df, deff);
(b) svy: ``Sample(pl.from_pandas(df), Design(...))``, ``weighting.create_bs_wgts`` and
    ``estimation.mean([...], by="domain", method="replication")``;
(c) the floor: the numpy operations any method needs (rows -> PSU totals by
    ``bincount`` over integer codes given in the data, replicate counts drawn for all
    strata at once (uniform positions and one ``bincount``, faster than
    ``Generator.multinomial``), one matrix product, the variance).

Then harvest's CPU time by phase (first and warm call), harvest with 20,000 replicates
(time and peak memory against the 500 run) and a check that harvest's results do not
depend on ``batch``.

Peak memory: the subprocess resets its peak RSS (``/proc/self/clear_refs``) once the data
and libraries are loaded, and reads ``VmHWM`` after the work; "work MB" is that peak minus
the RSS before the work, "peak MB" the whole process.

Run from the repository root::

    .venv/bin/python benchmarks/bench_replicates.py [--replicates 500] [--big 20000]
        [--svy-replicates 500] [--repeat 1] [--warm 5] [--svy-warm] [--blas-threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd

STRATA, PSUS, ROWS, DOMAINS = 40, 50, 100, 20
INDICATORS = ["y1", "y2", "y3"]


def make_data(seed: int = 20241124) -> pd.DataFrame:
    """The benchmark workload: 200,000 rows, weights vary within PSU."""
    rng = np.random.default_rng(seed)
    P = STRATA * PSUS
    n = P * ROWS
    psu = np.repeat(np.arange(P), ROWS)
    base = rng.uniform(20.0, 200.0, P)[psu]
    df = pd.DataFrame({
        "stratum": psu // PSUS,
        "psu": psu,
        "w": base * rng.uniform(0.5, 1.5, n),
        "domain": rng.integers(0, DOMAINS, n),
    })
    effect = rng.normal(0.0, 0.6, P)[psu]
    for i, name in enumerate(INDICATORS):
        p = 1.0 / (1.0 + np.exp(-(-1.2 + 0.5 * i + effect)))
        df[name] = (rng.random(n) < p).astype(np.int64)
    return df


# -- the cases (run inside a subprocess) -----------------------------------------------
def run_harvest(df, R, batch=None):
    import harvest as hv

    design = hv.SurveyDesign(df, weights="w", strata="stratum", psu="psu")
    rep = design.replicate("bootstrap", replicates=R, rng=7, batch=batch)
    table = rep.proportion(INDICATORS, by="domain")
    return table["estimate"].to_numpy(), table["se"].to_numpy()


def run_svy(df, R):
    import polars as pl
    import svy

    sample = svy.Sample(pl.from_pandas(df), svy.Design(stratum="stratum", psu="psu", wgt="w"))
    sample = sample.weighting.create_bs_wgts(n_reps=R, rstate=7)
    results = sample.estimation.mean(INDICATORS, by="domain", method="replication")
    tables = [r.to_polars().sort("domain") for r in results]
    # harvest's order: domain-major, indicators within domain
    est = np.column_stack([t["est"].to_numpy() for t in tables]).ravel()
    se = np.column_stack([t["se"].to_numpy() for t in tables]).ravel()
    return est, se


def run_floor(df, R, batch=2048):
    rng = np.random.default_rng(7)
    P, D, k = STRATA * PSUS, DOMAINS, len(INDICATORS)
    psu = df["psu"].to_numpy()
    dom = df["domain"].to_numpy()
    w = df["w"].to_numpy()
    cell = psu * D + dom
    Y = np.column_stack([np.bincount(cell, weights=w * df[c].to_numpy(), minlength=P * D)
                         .reshape(P, D) for c in INDICATORS]).reshape(P, k, D)
    Y = Y.transpose(0, 2, 1).reshape(P, D * k)
    X = np.bincount(cell, weights=w, minlength=P * D).reshape(P, D)
    est = Y.sum(0) / np.repeat(X.sum(0), k)
    thetas = []
    Z = np.hstack([Y, X])
    # PSU codes are stratum * PSUS + j: draw PSUS - 1 positions per stratum and replicate
    first = (np.arange(STRATA) * PSUS).repeat(PSUS - 1)
    for start in range(0, R, batch):
        b = min(batch, R - start)
        pos = (rng.random((b, STRATA * (PSUS - 1))) * PSUS).astype(np.intp)
        pos += first
        pos += (np.arange(b) * P)[:, None]
        F = np.bincount(pos.ravel(), minlength=b * P).reshape(b, P) * (PSUS / (PSUS - 1))
        FZ = F @ Z
        thetas.append(FZ[:, :D * k] / np.repeat(FZ[:, D * k:], k, axis=1))
    theta = np.concatenate(thetas)
    return est, theta.std(axis=0, ddof=1)


def run_phases(df, R):
    """harvest's CPU time by phase (ms), first call and warm call (the same again)."""
    return {"first": _phases(df, R), "warm": _phases(df, R)}


def _phases(df, R):
    """harvest's CPU time by phase (ms): where the time goes, for the lead's triage."""
    import harvest as hv
    from harvest._domains import build_estimand

    out = {}
    clock = [time.process_time()]

    def tick(name):
        clock.append(time.process_time())
        out[name] = 1000 * (clock[-1] - clock[-2])

    design = hv.SurveyDesign(df, weights="w", strata="stratum", psu="psu")
    tick("design codes")
    rep = design.replicate("bootstrap", replicates=R, rng=7)
    tick("replicate()")
    est = build_estimand(rep, "proportion", INDICATORS, "domain", "fail")
    tick("estimand (PSU totals, n, deff inputs)")
    rep._pass(est, False, logit=True)
    tick("replicate pass (draws, product, variances)")
    total = sum(out.values())
    clock.append(time.process_time())
    rep.proportion(INDICATORS, by="domain")
    out["whole proportion() call after design"] = 1000 * (time.process_time() - clock[-1])
    out["sum of phases"] = total
    return out


def _memory():
    status = open("/proc/self/status").read()
    return {key: int(re.search(rf"{key}:\s+(\d+) kB", status).group(1)) / 1024
            for key in ("VmRSS", "VmHWM")}


def child(case: str, R: int, batch: int | None, seed: int, warm: int) -> None:
    import gc

    import harvest.design  # noqa: F401  (imports are not part of the workload)
    import harvest.intervals  # noqa: F401
    import harvest.replicate_design  # noqa: F401
    if case == "svy":
        import polars  # noqa: F401
        import svy  # noqa: F401

    df = make_data(seed)
    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak RSS
    before = _memory()["VmRSS"]
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    if case == "phases":
        print(json.dumps(run_phases(df, R)))
        return
    if case == "pair":
        print(json.dumps(run_pair(df, R, max(warm, 1))))
        return
    if case == "harvest":
        def run():
            return run_harvest(df, R, batch)
    elif case == "svy":
        def run():
            return run_svy(df, R)
    else:
        def run():
            return run_floor(df, R)
    est, se = run()
    wall = time.perf_counter() - start
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    peak = _memory()["VmHWM"]
    warm_walls = []
    for _ in range(warm):   # the same call again in this process
        start = time.perf_counter()
        est2, se2 = run()
        warm_walls.append(time.perf_counter() - start)
        if case != "svy" and not (np.array_equal(est2, est) and np.array_equal(se2, se)):
            raise RuntimeError(f"{case}: a warm call gave other numbers than the first")
    print(json.dumps({"case": case, "R": R, "wall": wall, "cpu": cpu, "peak": peak,
                      "work": peak - before, "est": est.tolist(), "se": se.tolist(),
                      "warm": min(warm_walls) if warm_walls else None}))


def spawn(case, R, batch=None, seed=20241124, warm=0):
    cmd = [sys.executable, __file__, "--child", case, "--replicates", str(R),
           "--seed", str(seed), "--warm", str(warm)]
    if batch is not None:
        cmd += ["--batch", str(batch)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False, env=CHILD_ENV)
    if out.returncode != 0:
        raise RuntimeError(f"{case} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


#: Environment of the child processes (``--blas-threads`` sets the BLAS thread counts).
CHILD_ENV = dict(os.environ)
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def best(case, R, repeat, **kw):
    """The run with the shortest first-call wall time, with the median first-call wall
    time of all runs and the best warm call of all runs (None without warm calls)."""
    return summary([spawn(case, R, **kw) for _ in range(repeat)])


def summary(runs):
    """:func:`best` of runs already made."""
    out = min(runs, key=lambda r: r["wall"])
    out["median"] = float(np.median([r["wall"] for r in runs]))
    warm = [r["warm"] for r in runs if r["warm"] is not None]
    out["warm"] = min(warm) if warm else None
    return out


def interleaved(cases, repeat):
    """``{name: best run}`` of ``cases`` (``name: (case, R, warm)``), the processes of the
    cases taken in turn (h, s, f, h, s, f, ...) so that a change of load on a shared
    machine falls on every case alike."""
    runs = {name: [] for name in cases}
    for _ in range(repeat):
        for name, (case, R, warm) in cases.items():
            runs[name].append(spawn(case, R, warm=warm))
    return {name: summary(r) for name, r in runs.items()}


def run_pair(df, R, warm):
    """Warm calls of harvest and the floor taken in turn in one process (after one
    untimed call of each): best wall time of each."""
    run_harvest(df, R)
    run_floor(df, R)
    h, f = [], []
    for _ in range(warm):
        start = time.perf_counter()
        run_harvest(df, R)
        h.append(time.perf_counter() - start)
        start = time.perf_counter()
        run_floor(df, R)
        f.append(time.perf_counter() - start)
    return {"harvest": min(h), "floor": min(f)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=500)
    parser.add_argument("--big", type=int, default=20_000)
    parser.add_argument("--svy-replicates", type=int, default=None,
                        help="replicates for svy (default: --replicates); fewer are "
                             "scaled linearly to --replicates and labelled so")
    parser.add_argument("--repeat", type=int, default=1,
                        help="fresh processes per case (best and median first call)")
    parser.add_argument("--warm", type=int, default=5,
                        help="warm calls per process after the first (best is shown)")
    parser.add_argument("--svy-warm", action="store_true",
                        help="time warm calls of svy too (seconds each)")
    parser.add_argument("--blas-threads", type=int, default=None,
                        help="BLAS threads of every case (default: the library's own); 1 "
                             "gives steadier timings on a loaded shared machine")
    parser.add_argument("--seed", type=int, default=20241124)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.replicates, args.batch, args.seed, args.warm)
        return

    if args.blas_threads is not None:
        CHILD_ENV.update({name: str(args.blas_threads) for name in BLAS_THREADS})
    R = args.replicates
    R_svy = args.svy_replicates or R
    print(f"workload: {STRATA} strata x {PSUS} PSUs x {ROWS} rows = "
          f"{STRATA * PSUS * ROWS:,} rows, {DOMAINS} domains, {len(INDICATORS)} binary "
          f"indicators, weights vary within PSU; Rao-Wu bootstrap, {R} replicates; BLAS "
          f"threads: {args.blas_threads or 'default'}\n")
    runs = interleaved({"harvest": ("harvest", R, args.warm),
                        "svy": ("svy", R_svy, args.warm if args.svy_warm else 0),
                        "floor": ("floor", R, args.warm)}, args.repeat)
    h, s, f = runs["harvest"], runs["svy"], runs["floor"]
    pair = [spawn("pair", R, warm=args.warm) for _ in range(args.repeat)]
    pair_h = min(p["harvest"] for p in pair)
    pair_f = min(p["floor"] for p in pair)
    k = R / R_svy
    label = "svy" if R_svy == R else f"svy ({R_svy} reps, time x{k:g})"
    svy_wall = s["wall"] * k
    svy_warm = None if s["warm"] is None else s["warm"] * k

    def ms(x):
        return f"{1000 * x:9.1f}" if x is not None else f"{'-':>9s}"

    rows = [("(a) harvest", h["wall"], h["median"], h["warm"], h["cpu"], h["peak"], h["work"]),
            (f"(b) {label}", svy_wall, s["median"] * k, svy_warm, s["cpu"] * k, s["peak"],
             s["work"]),
            ("(c) numpy floor", f["wall"], f["median"], f["warm"], f["cpu"], f["peak"],
             f["work"])]
    print(f"{'case':34s} {'first ms':>9s} {'median':>9s} {'warm ms':>9s} {'cpu ms':>9s} "
          f"{'peak MB':>9s} {'work MB':>9s}")
    for name, wall, median, warm, cpu, peak, work in rows:
        print(f"{name:34s} {ms(wall)} {ms(median)} {ms(warm)} {ms(cpu)} {peak:9.1f} "
              f"{work:9.1f}")
    print(f"(first: the first call in a fresh process, best and median of {args.repeat} "
          f"process(es), the cases' processes in turn; warm: the same call again in the "
          f"same process, best of {args.warm} x {args.repeat}; cpu: user + system time of "
          "the best first call, all threads)")
    print(f"warm, harvest and the floor in turn in one process (best of {args.warm} x "
          f"{args.repeat}): harvest {1000 * pair_h:.1f} ms, floor {1000 * pair_f:.1f} ms")
    print(f"\n{'ratio':34s} {'first':>9s} {'warm':>9s}")
    warm_svy = (svy_warm if svy_warm is not None else svy_wall) / h["warm"]
    print(f"{'svy / harvest wall time':34s} {svy_wall / h['wall']:8.1f}x {warm_svy:8.1f}x"
          f"   (targets >= 10 first, >= 100 warm"
          f"{'' if svy_warm is not None else '; warm: svy first call / harvest warm'})")
    print(f"{'harvest / floor wall time':34s} {h['wall'] / f['wall']:8.2f}x "
          f"{h['warm'] / f['warm']:8.2f}x   (target <= 2 warm; medians of first calls "
          f"{h['median'] / f['median']:.2f}x)")
    print(f"{'  warm, in turn in one process':34s} {'':9s} {pair_h / pair_f:8.2f}x")
    print(f"{'harvest / svy work memory':34s} {h['work'] / s['work']:9.3f}   (target <= 0.2)")
    print(f"{'harvest / svy peak memory':34s} {h['peak'] / s['peak']:9.3f}")

    # same numbers from three implementations (different random draws)
    se_h, se_s, se_f = (np.array(x["se"]) for x in (h, s, f))
    est_diff = max(np.abs(np.array(h["est"]) - np.array(s["est"])).max(),
                   np.abs(np.array(h["est"]) - np.array(f["est"])).max())
    print(f"\nestimates: max |harvest - svy|, |harvest - floor| = {est_diff:.2e}")
    mc = np.sqrt(1 / (2 * R) + 1 / (2 * R_svy))
    print(f"bootstrap SEs, median |harvest/svy - 1| = {np.median(np.abs(se_h / se_s - 1)):.3f},"
          f" |harvest/floor - 1| = {np.median(np.abs(se_h / se_f - 1)):.3f} "
          f"(Monte Carlo sd of a ratio of two independent SEs ~ {mc:.3f})")

    phases = subprocess.run([sys.executable, __file__, "--child", "phases", "--replicates",
                             str(R)], capture_output=True, text=True, check=True,
                            env=CHILD_ENV)
    for which, times in json.loads(phases.stdout.splitlines()[-1]).items():
        print(f"\nharvest CPU time by phase, {which} call (ms): " + ", ".join(
            f"{k} {v:.1f}" for k, v in times.items()))

    big = best("harvest", args.big, args.repeat)
    print(f"\nharvest, {args.big:,} replicates: {big['wall']:.2f} s (target < 10 s), "
          f"peak {big['peak']:.1f} MB, {big['peak'] - h['peak']:+.1f} MB vs {R} replicates "
          f"(target <= +500 MB)")

    a = spawn("harvest", R, batch=7)
    b = spawn("harvest", R, batch=4096)
    diff = max(np.abs(np.array(a["se"]) - np.array(h["se"])).max(),
               np.abs(np.array(b["se"]) - np.array(h["se"])).max())
    rel = diff / np.abs(np.array(h["se"])).min()
    print(f"batch invariance: SEs with batch=7 and batch=4096 vs default: max |diff| = "
          f"{diff:.1e} (relative {rel:.1e})")


if __name__ == "__main__":
    main()
