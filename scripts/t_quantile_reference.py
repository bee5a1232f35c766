"""Reference values for harvest._dist: normal and Student t quantiles to 50 digits (mpmath).

``scipy.special.stdtrit`` is not accurate to the last digits everywhere (near q = 1/2 it
is off by up to 1e-10 relative for df <= 10, and by 4e-4 at df = 4; in the far tails it
returns inf), so ``tests/test_dist.py`` compares harvest's quantiles with these exact
values as well as with scipy where scipy is accurate.

Each quantile solves ``F(t) = q`` by Newton's method on ``log F`` against ``log(-t)`` at
50 significant digits (``DPS=80`` recomputes at 80: the stored values do not change).
The t distribution function is mpmath's regularized incomplete beta function: the tail
form ``F(-|t|) = I_x(df/2, 1/2) / 2``, ``x = df / (df + t^2)``, for q <= 1/4, else the
central form ``1/2 - I_y(1/2, df/2) / 2``, ``y = t^2 / (df + t^2)``, which keeps the
digits of ``1/2 - q``. The normal one is ``mpmath.ncdf``. Only q < 1/2 is stored: the
quantiles are odd about q = 1/2.

Needs mpmath (not a harvest dependency). Run from the repository root::

    python scripts/t_quantile_reference.py      # writes tests/reference/t_quantiles.csv
"""

import csv
import math
import os

import mpmath as mp

mp.mp.dps = int(os.environ.get("DPS", 50))
TOL = mp.mpf(10) ** -35

Q = ["1e-300", "1e-100", "1e-40", "1e-20", "1e-10", "1e-7", "1e-5", "1e-3", "0.01", "0.025",
     "0.05", "0.1", "0.2", "0.3", "0.4", "0.45", "0.49", "0.499", "0.4999999",
     "0.499999999999"]
DF = ["1", "1.25", "1.5", "2", "2.5", "3", "3.7", "4", "5", "7", "7.3", "10", "14", "15",
      "16", "20", "29.5", "30", "50", "100", "200", "1000", "1e4", "1e5", "1e7", "inf"]
OUT = "tests/reference/t_quantiles.csv"


def _newton(residual, density, p, t):
    """Solve ``F(t) = p`` for ``t < 0`` (``residual(t) = F(t) - p``): Newton's method on
    ``log F`` against ``log(-t)``, which the power tails of small df make nearly linear."""
    for _ in range(500):
        r = residual(t)
        step = mp.log1p(r / p) * (p + r) / (density(t) * t)
        new = t * mp.exp(-step)
        if abs(new - t) <= TOL * abs(t):
            return new
        t = new
    raise RuntimeError(f"no convergence at p = {mp.nstr(p, 17)}")


def norm_quantile(q):
    """Lower-tail standard normal quantile for float q < 1/2 (as an mpf)."""
    p = mp.mpf(q)
    return _newton(lambda x: mp.ncdf(x) - p, mp.npdf, p, -mp.sqrt(-2 * mp.log(p)))


def t_quantile(q, df):
    """Lower-tail Student t quantile for float q < 1/2 and float df > 0 (as an mpf)."""
    p = mp.mpf(q)
    nu = mp.mpf(df)
    a = nu / 2
    half = mp.mpf(1) / 2
    c = mp.exp(mp.loggamma(a + half) - mp.loggamma(a)) / mp.sqrt(nu * mp.pi)

    def residual(t):
        if p > mp.mpf(1) / 4:
            y = t * t / (nu + t * t)
            return (half - p) - half * mp.betainc(half, a, 0, y, regularized=True)
        return half * mp.betainc(a, half, 0, nu / (nu + t * t), regularized=True) - p

    def density(t):
        return c * (1 + t * t / nu) ** (-(nu + 1) / 2)

    # start: the normal quantile, or for few df the power tail F(t) ~ c df^((df-1)/2) |t|^-df
    z = norm_quantile(q)
    tail = -mp.exp((mp.log(c * nu ** ((nu - 1) / 2)) - mp.log(p)) / nu)
    return _newton(residual, density, p, min(z, tail) if df < 30 else z)


def main():
    rows = []
    for df in DF:
        for q in Q:
            value = (norm_quantile(float(q)) if df == "inf"
                     else t_quantile(float(q), float(df)))
            assert math.isfinite(float(value))
            rows.append((repr(float(q)), repr(float(df)), mp.nstr(value, 25)))
    with open(OUT, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["q", "df", "t"])
        writer.writerows(rows)
    print(f"wrote {len(rows)} rows to {OUT}")


if __name__ == "__main__":
    main()
