"""The few distribution functions the estimators need, from ``scipy.special``.

``scipy.stats`` takes about half a second to import (it loads most of scipy), which
would be most of a first estimate in a fresh process. The intervals and tests need only
the normal, Student t and beta quantiles and tail probabilities; these are the
``scipy.special`` functions ``scipy.stats`` itself calls, so the numbers are the same
bit for bit (``tests/test_intervals.py`` checks this against ``scipy.stats``).

Examples
--------
>>> round(float(t_ppf(0.975, 10)), 6)
2.228139
>>> round(float(norm_ppf(0.975)), 6)
1.959964
"""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["norm_ppf", "norm_cdf", "t_ppf", "t_isf", "t_sf", "beta_ppf"]


def norm_ppf(q):
    """Standard normal quantile, ``scipy.stats.norm.ppf(q)`` (R ``qnorm``).

    Examples
    --------
    >>> float(norm_ppf(0.5))
    0.0
    """
    return special.ndtri(q)


def norm_cdf(x):
    """Standard normal distribution function, ``scipy.stats.norm.cdf(x)`` (R ``pnorm``).

    Examples
    --------
    >>> float(norm_cdf(0.0))
    0.5
    """
    return special.ndtr(x)


def t_ppf(q, df):
    """Student t quantile, ``scipy.stats.t.ppf(q, df)`` (R ``qt``).

    ``df = inf`` gives the normal quantile; ``df <= 0`` or NaN gives NaN; ``q = 0`` and
    ``q = 1`` give ``-inf`` and ``inf`` (as ``scipy.stats``).

    Notes
    -----
    ``scipy.special.stdtrit(df, q)`` inverts :math:`F_t(x; \\nu) = q`.

    Examples
    --------
    >>> t_ppf([0.0, 0.5, 1.0], 3).tolist()
    [-inf, 0.0, inf]
    """
    q = np.asarray(q, dtype=float)
    df = np.asarray(df, dtype=float)
    out = np.asarray(special.stdtrit(df, q), dtype=float)
    ok = df > 0
    out = np.where(ok & (q == 0), -np.inf, out)
    return np.where(ok & (q == 1), np.inf, out)


def t_isf(q, df):
    """Upper Student t quantile, ``scipy.stats.t.isf(q, df)``: ``-t_ppf(q, df)``.

    Examples
    --------
    >>> round(float(t_isf(0.025, 10)), 6)
    2.228139
    """
    return -t_ppf(q, df)


def t_sf(x, df):
    """Student t upper tail, ``scipy.stats.t.sf(x, df)`` (R ``pt(x, df, lower.tail = FALSE)``).

    Examples
    --------
    >>> float(t_sf(0.0, 5))
    0.5
    """
    return special.stdtr(df, -np.asarray(x, dtype=float))


def beta_ppf(q, a, b):
    """Beta quantile, ``scipy.stats.beta.ppf(q, a, b)`` (R ``qbeta``).

    Examples
    --------
    >>> round(float(beta_ppf(0.5, 2.0, 2.0)), 12)
    0.5
    """
    return special.betaincinv(a, b, q)
