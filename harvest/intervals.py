"""Confidence intervals for design-based estimates (numpy/scipy only).

Two public functions, both vectorised over arrays holding one entry per
domain x indicator:

* :func:`proportion_ci` -- the eight proportion intervals of ``API.md``; the six that
  R ``survey::svyciprop`` offers reproduce it (``"logit"``, ``"xlogit"``,
  ``"korn-graubard"`` = R's ``beta``, ``"wald"`` = R's ``mean``, ``"likelihood"``,
  ``"asin"``), ``"wilson"`` and ``"jeffreys"`` use the degrees-of-freedom adjusted
  effective sample size.
* :func:`t_interval` -- ``estimate +/- t(df) * se`` for means, totals, ratios and
  contrasts (R ``confint(..., df = degf(design))``).

:func:`quasibinomial_dispersion` computes the one extra input that the
``"likelihood"`` interval needs to agree with R when weights vary within a domain.

The formulas, R's names for them and the rules for ``df <= 0`` and for estimates of
exactly 0 or 1 are in ``docs/methods/intervals.md``.

Examples
--------
>>> import numpy as np
>>> from harvest.intervals import proportion_ci, t_interval
>>> low, high = proportion_ci("logit", np.array([0.2]), np.array([0.05]),
...                           df=np.array([30]), level=0.95, n=np.array([200]))
>>> bool(low[0] < 0.2 < high[0])
True
>>> t_interval(np.array([10.0]), np.array([1.0]), np.array([np.inf]), 0.95)[1].round(3)
array([11.96])
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from harvest._options import PROPORTION_CI, check_level, check_option

__all__ = ["proportion_ci", "t_interval"]

# Estimates this close outside [0, 1] (rounding in a ratio of sums) are clipped.
_TOL = 1e-12


# ----------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------
def _t_lower(a, df):
    """``qt(a, df)`` for array ``df``; ``qnorm(a)`` where ``df`` is infinite, NaN where <= 0."""
    df = np.asarray(df, dtype=float)
    a = np.broadcast_to(np.asarray(a, dtype=float), df.shape)
    out = np.full(df.shape, np.nan)
    inf = np.isinf(df) & (df > 0)
    fin = np.isfinite(df) & (df > 0)
    out[inf] = stats.norm.ppf(a[inf])
    out[fin] = stats.t.ppf(a[fin], df[fin])
    return out


def _as_float(name, value):
    arr = np.asarray(value, dtype=float)
    return arr


def _kg_factor(a, n, df):
    """Korn-Graubard factor ``(qt(a, n - 1) / qt(a, df))**2`` (1 where ``n <= 1``)."""
    n = np.asarray(n, dtype=float)
    num = _t_lower(a, np.where(n > 1, n - 1.0, 1.0))
    den = _t_lower(a, np.where(df > 0, df, 1.0))
    return np.where(n > 1, (num / den) ** 2, 1.0)


def _check_inputs(estimate, se, df, n, dispersion):
    estimate = _as_float("estimate", estimate)
    se = _as_float("se", se)
    df = _as_float("df", df)
    n = _as_float("n", n)
    arrays = [estimate, se, df, n]
    if dispersion is not None:
        arrays.append(_as_float("dispersion", dispersion))
    try:
        arrays = np.broadcast_arrays(*arrays)
    except ValueError:
        shapes = ", ".join(str(np.shape(a)) for a in arrays)
        raise ValueError(
            f"`estimate`, `se`, `df`, `n` (and `dispersion`) must have the same shape; "
            f"got {shapes}."
        ) from None
    arrays = [np.array(a, dtype=float) for a in arrays]  # writable copies
    estimate, se, df, n = arrays[:4]
    dispersion = arrays[4] if dispersion is not None else None
    if np.isnan(df).any():
        raise ValueError("`df` must not be NaN (use 0 for no degrees of freedom, inf for none "
                         "needed).")
    ok = ~np.isnan(estimate)
    if (ok & ((estimate < -_TOL) | (estimate > 1 + _TOL))).any():
        bad = estimate[ok & ((estimate < -_TOL) | (estimate > 1 + _TOL))]
        raise ValueError(f"`estimate` must be a proportion in [0, 1]; got {bad[0]!r}.")
    np.clip(estimate, 0.0, 1.0, out=estimate, where=ok)
    if (se < 0).any():
        raise ValueError(f"`se` must be >= 0; got {se[se < 0][0]!r}.")
    if np.isnan(n).any() or (n < 1).any():
        bad = n[np.isnan(n) | (n < 1)]
        raise ValueError(f"`n` (rows in the domain) must be >= 1; got {bad[0]!r}.")
    if dispersion is not None and ((dispersion <= 0) & ~np.isnan(dispersion)).any():
        bad = dispersion[dispersion <= 0]
        raise ValueError(f"`dispersion` must be > 0; got {bad[0]!r}.")
    return estimate, se, df, n, dispersion


# ----------------------------------------------------------------------------------------
# t interval
# ----------------------------------------------------------------------------------------
def t_interval(estimate, se, df, level=0.95):
    r"""Symmetric t interval ``estimate +/- t_{df, 1 - alpha/2} * se``.

    Parameters
    ----------
    estimate, se, df : array_like
        Estimates, their standard errors and the design degrees of freedom, all of one
        shape (broadcastable). ``df`` may be ``inf`` (normal quantile) or ``<= 0``.
    level : float
        Confidence level strictly between 0 and 1.

    Returns
    -------
    low, high : numpy.ndarray
        The interval bounds, float arrays of the broadcast shape.

    Notes
    -----
    .. math:: \hat\theta \pm t_{d,\,1-\alpha/2}\,\widehat{\mathrm{se}}(\hat\theta)

    as R ``confint(svymean(...), df = degf(design))``. With ``df = inf`` the normal
    quantile is used. With ``df <= 0`` the variance has no degrees of freedom, the t
    quantile is infinite and the bounds are ``-inf`` and ``+inf`` (R returns NaN).
    NaN estimates or standard errors give NaN bounds.

    Examples
    --------
    >>> import numpy as np
    >>> low, high = t_interval(np.array([2.0, 2.0]), np.array([0.5, 0.5]),
    ...                        np.array([10, 0]), level=0.95)
    >>> print(low.round(4), high.round(4))
    [0.8859   -inf] [3.1141    inf]
    """
    level = check_level(level)
    try:
        estimate, se, df = np.broadcast_arrays(
            np.asarray(estimate, dtype=float), np.asarray(se, dtype=float),
            np.asarray(df, dtype=float))
    except ValueError:
        raise ValueError("`estimate`, `se` and `df` must have the same shape.") from None
    if np.isnan(df).any():
        raise ValueError("`df` must not be NaN (use 0 for no degrees of freedom).")
    if (se < 0).any():
        raise ValueError(f"`se` must be >= 0; got {se[se < 0][0]!r}.")
    q = -_t_lower((1.0 - level) / 2.0, df)
    half = q * se
    nodf = df <= 0
    low = np.where(nodf, -np.inf, estimate - np.where(nodf, 0.0, half))
    high = np.where(nodf, np.inf, estimate + np.where(nodf, 0.0, half))
    nan = np.isnan(estimate) | np.isnan(se)
    low[nan] = np.nan
    high[nan] = np.nan
    return low, high


# ----------------------------------------------------------------------------------------
# proportion intervals
# ----------------------------------------------------------------------------------------
def proportion_ci(method, estimate, se, df, level, n, *, dispersion=None):
    r"""Confidence interval for a proportion estimated from a complex survey.

    Parameters
    ----------
    method : str
        One of ``"logit"``, ``"xlogit"``, ``"korn-graubard"``, ``"wald"``,
        ``"likelihood"``, ``"asin"``, ``"wilson"``, ``"jeffreys"``.
    estimate : array_like
        Estimated proportions in [0, 1] (one per domain x indicator).
    se : array_like
        Their design-based standard errors.
    df : array_like
        Design degrees of freedom (R ``degf`` of the domain's design); ``inf`` allowed.
    level : float
        Confidence level strictly between 0 and 1.
    n : array_like
        Unweighted number of rows in the domain (R ``nrow`` of the domain's design),
        used by ``korn-graubard``, ``wilson``, ``jeffreys``, ``likelihood`` and by the
        rule for estimates of exactly 0 or 1.
    dispersion : array_like, optional
        Only for ``"likelihood"``: R's quasibinomial dispersion of the intercept-only
        ``svyglm`` (see :func:`quasibinomial_dispersion`). Default ``n / (n - 1)``, its
        value when the weights are equal within the domain.

    Returns
    -------
    low, high : numpy.ndarray
        Bounds, float arrays of the broadcast shape. Finite whenever ``estimate`` and
        ``se`` are not NaN.

    Notes
    -----
    With :math:`\hat p`, :math:`s` the standard error, :math:`d` the degrees of freedom,
    :math:`t = t_{d,1-\alpha/2}` and :math:`n_{\rm eff} = \hat p(1-\hat p)/s^2`:

    * wald (R ``mean``): :math:`\hat p \pm t s`.
    * logit, xlogit: :math:`\mathrm{expit}(\mathrm{logit}\,\hat p \pm t s/(\hat p(1-\hat p)))`.
    * asin: :math:`\sin^2(\arcsin\sqrt{\hat p} \pm t s / (2\sqrt{\hat p(1-\hat p)}))`,
      the transformed bounds clipped to :math:`[0, \pi/2]`.
    * korn-graubard (R ``beta``): with :math:`n^* = n_{\rm eff}\,(t_{n-1,\alpha/2} /
      t_{d,\alpha/2})^2`, the bounds are the :math:`\alpha/2` quantile of
      :math:`B(n^*\hat p, n^*(1-\hat p)+1)` and the :math:`1-\alpha/2` quantile of
      :math:`B(n^*\hat p+1, n^*(1-\hat p))`.
    * wilson: Wilson's score interval with :math:`n^*` and :math:`z_{1-\alpha/2}`.
    * jeffreys: quantiles of :math:`B(n^*\hat p + 1/2, n^*(1-\hat p) + 1/2)`.
    * likelihood: R's Rao-Scott scaled profile likelihood of the intercept-only
      quasibinomial ``svyglm`` (see the methods page).

    Rules (in this order): NaN ``estimate`` or ``se`` gives NaN bounds; ``df <= 0``
    gives [0, 1]; ``se == 0`` with :math:`0<\hat p<1` (no sampling error, e.g. a stratum
    share under a finite population correction) gives :math:`[\hat p, \hat p]`;
    :math:`\hat p \in \{0, 1\}` (no design information) uses
    :math:`n^* = n\,(t_{n-1,\alpha/2}/t_{d,\alpha/2})^2` and returns the Korn-Graubard
    (Clopper-Pearson) bound :math:`[0, 1-(\alpha/2)^{1/n^*}]` for the six R methods,
    Wilson's :math:`[0, z^2/(n^*+z^2)]` and Jeffreys' :math:`[0, B_{1-\alpha/2}(1/2,
    n^*+1/2)]` (mirrored for 1).

    Examples
    --------
    >>> import numpy as np
    >>> low, high = proportion_ci("korn-graubard", np.array([0.3, 0.0]),
    ...                           np.array([0.04, 0.0]), df=np.array([14, 14]),
    ...                           level=0.95, n=np.array([150, 40]))
    >>> bool(low[1] == 0.0 and 0 < high[1] < 0.2)
    True
    """
    method = check_option("ci", method, PROPORTION_CI)
    level = check_level(level)
    p, se, df, n, dispersion = _check_inputs(estimate, se, df, n, dispersion)
    a = (1.0 - level) / 2.0
    shape = p.shape
    low = np.full(shape, np.nan)
    high = np.full(shape, np.nan)

    valid = ~(np.isnan(p) | np.isnan(se))
    nodf = valid & (df <= 0)
    low[nodf] = 0.0
    high[nodf] = 1.0
    rest = valid & ~nodf
    edge = rest & ((p == 0.0) | (p == 1.0))
    exact = rest & ~edge & (se == 0.0)
    low[exact] = p[exact]
    high[exact] = p[exact]
    inner = rest & ~edge & ~exact

    if edge.any():
        lo, hi = _edge(method, p[edge], n[edge], df[edge], a)
        low[edge] = lo
        high[edge] = hi
    if inner.any():
        pi, si, di, ni = p[inner], se[inner], df[inner], n[inner]
        phi = None
        if method == "likelihood":
            phi = dispersion[inner] if dispersion is not None else None
            if phi is None:
                phi = np.where(ni > 1, ni / np.maximum(ni - 1.0, 1.0), 1.0)
            else:
                phi = np.where(np.isnan(phi), ni / np.maximum(ni - 1.0, 1.0), phi)
        lo, hi = _METHODS[method](pi, si, di, ni, a, phi)
        low[inner] = lo
        high[inner] = hi
    return low, high


def _edge(method, p, n, df, a):
    """Bounds for estimates of exactly 0 or 1 (no design information: ``n_eff = n``)."""
    nstar = n * _kg_factor(a, n, df)
    if method == "wilson":
        z2 = stats.norm.ppf(a) ** 2
        bound = z2 / (nstar + z2)
    elif method == "jeffreys":
        bound = stats.beta.ppf(1.0 - a, 0.5, nstar + 0.5)
    else:
        bound = 1.0 - a ** (1.0 / nstar)   # upper Clopper-Pearson bound for 0 of n*
    zero = p == 0.0
    low = np.where(zero, 0.0, 1.0 - bound)
    high = np.where(zero, bound, 1.0)
    return low, high


def _wald(p, se, df, n, a, phi):
    q = -_t_lower(a, df)
    return p - q * se, p + q * se


def _logit(p, se, df, n, a, phi):
    q = -_t_lower(a, df)
    centre = special.logit(p)
    half = q * se / (p * (1.0 - p))
    return special.expit(centre - half), special.expit(centre + half)


def _asin(p, se, df, n, a, phi):
    q = -_t_lower(a, df)
    centre = np.arcsin(np.sqrt(p))
    half = q * se / (2.0 * np.sqrt(p * (1.0 - p)))
    lo = np.clip(centre - half, 0.0, np.pi / 2)
    hi = np.clip(centre + half, 0.0, np.pi / 2)
    return np.sin(lo) ** 2, np.sin(hi) ** 2


def _nstar(p, se, df, n, a):
    return p * (1.0 - p) / se**2 * _kg_factor(a, n, df)


def _korn_graubard(p, se, df, n, a, phi):
    ns = _nstar(p, se, df, n, a)
    lo = stats.beta.ppf(a, ns * p, ns * (1.0 - p) + 1.0)
    hi = stats.beta.ppf(1.0 - a, ns * p + 1.0, ns * (1.0 - p))
    return lo, hi


def _wilson(p, se, df, n, a, phi):
    ns = _nstar(p, se, df, n, a)
    z = -stats.norm.ppf(a)
    z2n = z * z / ns
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z / (1.0 + z2n) * np.sqrt(p * (1.0 - p) / ns + z2n / (4.0 * ns))
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def _jeffreys(p, se, df, n, a, phi):
    ns = _nstar(p, se, df, n, a)
    lo = stats.beta.ppf(a, ns * p + 0.5, ns * (1.0 - p) + 0.5)
    hi = stats.beta.ppf(1.0 - a, ns * p + 0.5, ns * (1.0 - p) + 0.5)
    return lo, hi


def _likelihood(p, se, df, n, a, phi):
    raise NotImplementedError("likelihood interval: in progress")


_METHODS = {
    "wald": _wald,
    "logit": _logit,
    "xlogit": _logit,
    "asin": _asin,
    "korn-graubard": _korn_graubard,
    "wilson": _wilson,
    "jeffreys": _jeffreys,
    "likelihood": _likelihood,
}
