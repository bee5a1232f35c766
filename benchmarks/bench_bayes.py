"""Wall time, divergences, R-hat and ESS of the Bayesian prevalence models.

Each measurement runs in a fresh Python process (so imports and compilation are counted
as a user meets them) on the bundled 2023-2024 farm data, 4 chains x 1000 draws after
1000 tuning steps:

* ``harvest``: ``hv.bayes.fit_prevalence`` for both models, wall time from the start of the
  process (``import harvest`` included) to the summary table, then a second fit of new data
  with the same structure in the same process (compiled model re-used). Each model gets an
  empty PyTensor cache directory (``PYTENSOR_FLAGS=base_compiledir=...``):

  - ``first process``: the first fit on a machine (nothing compiled yet, the cost of
    compiling every numba function of the model);
  - ``later process``: every later process, whatever the data's sizes (the compiled
    code comes from the disk cache);
  - ``compiler='nutpie'`` (``nutpie.compile_pymc_model``), run twice in the same cache
    directory: the second run is what it costs in every later process;

* ``pm.sample(nuts_sampler="nutpie")``: the same hierarchical PyMC model sampled through
  PyMC's nutpie route;
* ``pm.sample(nuts_sampler="pymc")``: the same model with PyMC's own NUTS (C backend,
  2 cores);
* ``plain``: a plain PyMC model of similar size (centred district and region x year
  effects, ``pm.Binomial`` on the rounded effective counts) with PyMC's own NUTS and with
  nutpie.

The PyMC routes use the user's own PyTensor cache (warm after the first run).

``--later N``: only the later process, what a user meets every time after the first fit on
a machine. One process fills an empty PyTensor cache directory, then N fresh processes run
``import harvest``, ``datasets.load("farms")``, ``fit_prevalence(..., rng=1,
progress=False)`` with the default settings and ``fit.summary()``, for both models; each
prints its wall time from the start of the process and where it went: ``imports_s``
(harvest, the data, PyTensor, PyMC, nutpie), ``build_s`` (the PyMC model), ``load_s``
(the compiled code from the disk cache), ``sample_s``, ``after_s`` (prevalence draws,
labels and the diagnostics check) and ``summary_s``; then the best wall time of each model.

Run: ``.venv/bin/python benchmarks/bench_bayes.py [--only harvest] [--repeat N] [--later N]``.
The load average of the machine is printed first: the 2-core machines are shared, so
compare figures taken under similar load.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap

PRELUDE = """
import time, json, warnings, os
T0 = time.perf_counter(); C0 = time.process_time()
"""

HARVEST = PRELUDE + """
import harvest as hv
farms = hv.datasets.load("farms")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    fit = hv.bayes.fit_prevalence(farms, "child_labour", model=MODEL, rng=1, progress=False,
                                  compiler=COMPILER)
    table = fit.summary()
wall = time.perf_counter() - T0
cpu = time.process_time() - C0
d = fit.diagnostics(warn=False)
t1 = time.perf_counter()
farms2 = farms.copy()
farms2["child_labour"] = farms2["child_labour"].sample(frac=1.0, random_state=3).to_numpy()
fit2 = hv.bayes.fit_prevalence(farms2, "child_labour", model=MODEL, rng=2, progress=False,
                               check=False, compiler=COMPILER)
fit2.summary()
second = time.perf_counter() - t1
print(json.dumps({"what": f"harvest {MODEL} compiler={COMPILER!r} {PHASE}", "wall_s": wall,
                  "cpu_s": cpu,
                  "compile_s": fit.timings["compile_s"], "sample_s": fit.timings["sample_s"],
                  "second_fit_s": second, "second_cached": fit2.timings["cached"],
                  "divergences": int(d["divergences"]), "max_r_hat": float(d["max_r_hat"]),
                  "min_ess_bulk": float(d["min_ess_bulk"]),
                  "min_ess_tail": float(d["min_ess_tail"]),
                  "warnings": [str(w.message)[:120] for w in caught]}))
"""

LATER = PRELUDE + """
import harvest as hv
farms = hv.datasets.load("farms")
import pytensor, pymc
from harvest.bayes._trace import import_nutpie
import_nutpie()
imports = time.perf_counter() - T0
fit = hv.bayes.fit_prevalence(farms, "child_labour", model=MODEL, rng=1, progress=False)
t1 = time.perf_counter()
table = fit.summary()
summary = time.perf_counter() - t1
wall = time.perf_counter() - T0
t = fit.timings
print(json.dumps({"what": f"harvest {MODEL} later process", "wall_s": wall,
                  "cpu_s": time.process_time() - C0, "imports_s": imports,
                  "build_s": t["build_s"], "load_s": t["compile_s"] - t["build_s"],
                  "sample_s": t["sample_s"],
                  "after_s": t["total_s"] - t["compile_s"] - t["sample_s"],
                  "summary_s": summary, "cached": t["cached"]}))
"""

PYMC_ROUTE = PRELUDE + """
import numpy as np, pymc as pm, arviz as az
import harvest as hv
from harvest.bayes._data import prepare
from harvest.bayes.models import build_model
farms = hv.datasets.load("farms")
p = prepare(farms, "child_labour", "region", "year", "district", "weight")
data = {"y_eff": p.y_eff, "n_eff": p.n_eff, "cell": p.cluster_cell.astype(np.int64)}
m = build_model("hierarchical", data, p.n_areas, p.n_times)
kw = dict(nuts_sampler="nutpie") if SAMPLER == "nutpie" else dict(nuts_sampler="pymc", cores=2)
tr = pm.sample(draws=1000, tune=1000, chains=4, random_seed=1, progressbar=False,
               target_accept=0.95, model=m, compute_convergence_checks=False, **kw)
wall = time.perf_counter() - T0
s = az.summary(tr, var_names=["~eta"])
print(json.dumps({"what": "pm.sample " + SAMPLER, "wall_s": wall,
                  "cpu_s": time.process_time() - C0,
                  "divergences": int(tr.sample_stats["diverging"].sum()),
                  "max_r_hat": float(s["r_hat"].astype(float).max()),
                  "min_ess_bulk": float(s["ess_bulk"].astype(float).min()),
                  "min_ess_tail": float(s["ess_tail"].astype(float).min())}))
"""

PLAIN = PRELUDE + """
import numpy as np, pymc as pm, arviz as az
import harvest as hv
from harvest.bayes._data import prepare
farms = hv.datasets.load("farms")
p = prepare(farms, "child_labour", "region", "year", "district", "weight")
A, T = p.n_areas, p.n_times
with pm.Model() as m:
    mu = pm.Normal("mu", 0, 1.5)
    s_at = pm.HalfNormal("s_at", 1)
    b = pm.Normal("b", mu, s_at, shape=(A, T))
    s_c = pm.HalfNormal("s_c", 1)
    u = pm.Normal("u", 0, s_c, shape=len(p.n))
    pm.Binomial("y", n=np.maximum(1, np.rint(p.n_eff)).astype(int),
                logit_p=b[p.cluster_area, p.cluster_time] + u,
                observed=np.rint(p.y_eff).astype(int))
    tr = pm.sample(draws=1000, tune=1000, chains=4, random_seed=1, progressbar=False,
                   cores=2, compute_convergence_checks=False, nuts_sampler=SAMPLER)
wall = time.perf_counter() - T0
s = az.summary(tr)
print(json.dumps({"what": f"plain pymc (centred, pm.Binomial, nuts_sampler={SAMPLER})",
                  "wall_s": wall,
                  "cpu_s": time.process_time() - C0,
                  "divergences": int(tr.sample_stats["diverging"].sum()),
                  "max_r_hat": float(s["r_hat"].astype(float).max()),
                  "min_ess_bulk": float(s["ess_bulk"].astype(float).min()),
                  "min_ess_tail": float(s["ess_tail"].astype(float).min())}))
"""


def run(code: str, cache: str | None = None, **values) -> dict:
    head = "".join(f"{k} = {v!r}\n" for k, v in values.items())
    env = dict(os.environ)
    if cache is not None:
        env["PYTENSOR_FLAGS"] = ",".join(
            [f for f in [env.get("PYTENSOR_FLAGS", "")] if f] + [f"base_compiledir={cache}"])
    out = subprocess.run([sys.executable, "-c", head + textwrap.dedent(code)],
                         capture_output=True, text=True, check=False, env=env)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode or not lines:
        return {"error": out.stderr[-2000:]}
    return json.loads(lines[-1])


def later(n: int) -> None:
    """N later processes per model, after one that fills an empty PyTensor cache."""
    with tempfile.TemporaryDirectory(prefix="harvest-bench-") as tmp:
        for model in ("hierarchical", "smoothed_direct"):
            cache = os.path.join(tmp, model)
            first = run(LATER, cache, MODEL=model)
            print(json.dumps({"what": f"harvest {model} first process (fills the cache)",
                              "wall_s": round(first.get("wall_s", float("nan")), 3),
                              **({"error": first["error"]} if "error" in first else {})}),
                  flush=True)
            walls = []
            for _ in range(n):
                result = run(LATER, cache, MODEL=model)
                walls.append(result.get("wall_s", float("inf")))
                print(json.dumps({"load": round(os.getloadavg()[0], 2),
                                  **{k: (round(v, 3) if isinstance(v, float) else v)
                                     for k, v in result.items()}}), flush=True)
            print(f"{model}: later process, best of {n}: {min(walls):.2f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["harvest", "pymc"], default=None)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--later", type=int, default=0, metavar="N",
                        help="only N later processes per model (cache filled first)")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}", flush=True)
    if args.later:
        later(args.later)
        print(f"load average at end: {os.getloadavg()}")
        return
    jobs = []
    tmp = tempfile.TemporaryDirectory(prefix="harvest-bench-")
    if args.only in (None, "harvest"):
        for model in ("hierarchical", "smoothed_direct"):
            cache = os.path.join(tmp.name, model)
            jobs.append((HARVEST, cache, {"MODEL": model, "COMPILER": "harvest",
                                          "PHASE": "first process"}))
            jobs += [(HARVEST, cache, {"MODEL": model, "COMPILER": "harvest",
                                       "PHASE": "later process"})] * args.repeat
            jobs += [(HARVEST, cache, {"MODEL": model, "COMPILER": "nutpie", "PHASE": p})
                     for p in ("first process", "later process")]
    if args.only in (None, "pymc"):
        jobs += [(code, None, values) for code, values in [
            (PYMC_ROUTE, {"SAMPLER": "nutpie"}), (PYMC_ROUTE, {"SAMPLER": "pymc"}),
            (PLAIN, {"SAMPLER": "pymc"}), (PLAIN, {"SAMPLER": "nutpie"})]]
    for code, cache, values in jobs:
        result = run(code, cache, **values)
        print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v)
                          for k, v in result.items()}), flush=True)
    tmp.cleanup()
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
