"""What a first estimate imports (issue 18): no scipy, and none of the heavy optional
libraries, on the default estimation path.

Each check runs in a fresh interpreter (``sys.executable -c ...``) and reads
``sys.modules`` after the calls: a behavioural test, not a timing test. scipy is
imported later, when a function that needs it is called (Korn-Graubard and Jeffreys
intervals, the likelihood interval, p-values, comparisons, ...).
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("scipy", "pymc", "arviz", "matplotlib", "seaborn", "pytensor", "statsmodels")

_DATA = """
import sys
import numpy as np
import pandas as pd
import harvest as hv

rng = np.random.default_rng(18)
n = 4000
stratum = rng.integers(0, 8, n)
df = pd.DataFrame({
    "stratum": stratum, "psu": stratum * 100 + rng.integers(0, 25, n),
    "w": rng.uniform(1.0, 4.0, n), "domain": rng.integers(0, 12, n),
    "y1": rng.integers(0, 2, n).astype(float), "x": rng.gamma(2.0, 3.0, n),
    "z": rng.uniform(1.0, 2.0, n)})
df["y2"] = (df["x"] > 6).astype(float)
df.loc[df["domain"] == 3, "y2"] = 0.0          # an estimate of exactly 0: the edge rule
# a domain in 5 PSUs of one stratum (4 df: the t quantile by Newton steps)
df.loc[:, "small"] = np.where(df["psu"].isin([101, 102, 103, 104, 105]), "few", "many")
"""

_REPORT = """
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})
print("HEAVY:" + ",".join(heavy))
"""


def _heavy_after(code: str) -> list:
    script = _DATA + code + _REPORT.format(heavy=set(HEAVY))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    line = [x for x in out.splitlines() if x.startswith("HEAVY:")][-1]
    return [m for m in line[len("HEAVY:"):].split(",") if m]


def test_taylor_estimates_import_no_scipy():
    heavy = _heavy_after("""
d = hv.SurveyDesign(df, weights="w", strata="stratum", psu="psu")
for by in ("domain", "small", None):
    d.proportion(["y1", "y2"], by=by)
    d.mean(["x", "y1"], by=by, level=0.9)
    d.total("x", by=by)
    d.ratio("x", "z", by=by)
for ci in ("logit", "xlogit", "wald", "asin", "wilson"):
    d.proportion("y2", by="domain", ci=ci)
""")
    assert heavy == []


def test_replicate_estimates_import_no_scipy():
    heavy = _heavy_after("""
d = hv.SurveyDesign(df, weights="w", strata="stratum", psu="psu")
for rep in (d.replicate("bootstrap", replicates=500, rng=7), d.replicate("jkn")):
    rep.proportion(["y1", "y2"], by="domain")
    rep.mean("x", by="domain")
    rep.total("x", by="domain")
    rep.ratio("x", "z", by="domain")
""")
    assert heavy == []


def test_cli_estimate_imports_no_scipy():
    heavy = _heavy_after("""
from harvest.cli import main
main(["estimate", str(hv.datasets.path("farms")), "--indicator", "child_labour",
      "--by", "region"], standalone_mode=False)
""")
    assert heavy == []


def test_scipy_comes_when_a_method_needs_it():
    """The Korn-Graubard interval needs beta quantiles (scipy.special, imported then),
    and still not scipy.stats."""
    heavy = _heavy_after("""
d = hv.SurveyDesign(df, weights="w", strata="stratum", psu="psu")
d.proportion("y1", by="domain", ci="korn-graubard")
""")
    assert "scipy.special" in heavy
    assert not [m for m in heavy if m.startswith("scipy.stats") or m.split(".")[0] != "scipy"]


def test_estimation_does_not_import_scipy_stats():
    code = ("import sys, pandas as pd, harvest as hv\n"
            "df = pd.DataFrame({'p': [1, 2, 3, 4], 'g': [0, 0, 1, 1], 'y': [0, 1, 1, 0]})\n"
            "d = hv.SurveyDesign(df, psu='p')\n"
            "d.proportion('y', by='g'); d.mean('y'); d.compare('y', 'g', 0)\n"
            "print('scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout.strip()
    assert out == "False"
