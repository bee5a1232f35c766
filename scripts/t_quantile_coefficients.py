"""The Cornish-Fisher expansion of the Student t quantile, exactly (``harvest._dist``).

The t quantile with ``df`` degrees of freedom, as a function of the normal quantile ``z``
at the same probability, is ``t = z + sum_k g_k(z) / df**k`` (Abramowitz & Stegun 26.7.5
give ``g_1 .. g_4``). With ``t`` a function of ``z`` through ``Phi(z) = F_t(t)``,

    t'' = -z t' + H(t) t'^2,    H(t) = -f_t'(t) / f_t(t) = (1 + e) t / (1 + e t^2),

``e = 1/df`` (Steinbrecher & Shaw 2008, "quantile mechanics"). Multiplied by
``1 + e t^2`` it is polynomial in ``t``; the coefficient of ``e**k`` gives the linear
equation ``g_k'' - z g_k' - g_k = r_k(z)``, ``r_k`` made of ``g_1 .. g_{k-1}``, whose one
polynomial solution is found from the top degree down. ``g_k(z) = z P_k(z^2)`` with
``P_k`` of degree ``k``; this prints the coefficients of ``P_1 .. P_K`` (ascending powers
of ``z^2``) as the table ``harvest._dist._CORNISH_FISHER``.

Run from the repository root::

    python scripts/t_quantile_coefficients.py [K]      # K = 16, as harvest uses
"""

from __future__ import annotations

import sys
import textwrap
from fractions import Fraction

# A polynomial in z is a dict {power: Fraction}; a series in e is a list of polynomials.


def _add(a: dict, b: dict, scale=1) -> dict:
    out = dict(a)
    for n, c in b.items():
        out[n] = out.get(n, 0) + scale * c
    return {n: c for n, c in out.items() if c}


def _mul(a: dict, b: dict) -> dict:
    out: dict = {}
    for i, x in a.items():
        for j, y in b.items():
            out[i + j] = out.get(i + j, 0) + x * y
    return {n: c for n, c in out.items() if c}


def _der(a: dict) -> dict:
    return {n - 1: c * n for n, c in a.items() if n}


def _coef(series_a: list, series_b: list, k: int) -> dict:
    """Coefficient of e**k in the product of two series."""
    out: dict = {}
    for i in range(k + 1):
        out = _add(out, _mul(series_a[i], series_b[k - i]))
    return out


def cornish_fisher_coefficients(K: int = 16) -> list[list[Fraction]]:
    """``[P_1, ..., P_K]``, each the list of its coefficients in ascending powers of z^2."""
    g = [{1: Fraction(1)}]                       # g_0 = z
    d1 = [{0: Fraction(1)}]                      # g_k'
    lin = [{1: Fraction(1)}]                     # g_k'' + z g_k' (for g_0 = z: z)
    t2, sq, ttt = [], [], []                     # series of t^2, t'^2 and t t'^2

    def extend(k):
        """Append the e**k coefficients of t^2, t'^2, t t'^2 (g_0..g_k known)."""
        t2.append(_coef(g, g, k))
        sq.append(_coef(d1, d1, k))
        ttt.append(_coef(g, sq, k))

    extend(0)
    for k in range(1, K + 1):
        # G = (1 + e t^2)(t'' + z t') - (1 + e) t t'^2 at e**k, with g_k = 0 for now
        g.append({})
        d1.append({})
        lin.append({})
        extend(k)
        r = _add(_coef(t2, lin, k - 1), ttt[k], -1)
        r = _add(r, ttt[k - 1], -1)
        # g_k'' - z g_k' - g_k = -r: L(z^n) = n (n - 1) z^(n-2) - (n + 1) z^n
        rest = {n: -c for n, c in r.items()}
        sol: dict = {}
        for n in range(max(rest, default=0), -1, -1):
            c = rest.get(n, 0)
            if not c:
                continue
            a = -c / (n + 1)
            sol[n] = a
            rest[n] = 0
            if n >= 2:
                rest[n - 2] = rest.get(n - 2, 0) - a * n * (n - 1)
        g[k] = sol
        d1[k] = _der(sol)
        lin[k] = _add(_der(d1[k]), _mul({1: 1}, d1[k]))
        for series in (t2, sq, ttt):
            series.pop()
        extend(k)
    out = []
    for k in range(1, K + 1):
        assert set(g[k]) <= set(range(1, 2 * k + 2, 2)), g[k]
        out.append([g[k].get(2 * j + 1, Fraction(0)) for j in range(k + 1)])
    return out


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    K = int(argv[0]) if argv else 16
    lines = []
    for row in cornish_fisher_coefficients(K):
        body = textwrap.wrap(", ".join(repr(float(c)) for c in row), 88)
        body[-1] += "),"
        lines += ["    (" + body[0]] + ["     " + b for b in body[1:]]
    print("_CORNISH_FISHER = (")
    print("\n".join(lines))
    print(")")


if __name__ == "__main__":
    main()
