"""Confidence intervals for design-based estimates (numpy; scipy only where needed).

Two interval functions, both vectorised over arrays holding one entry per
domain x indicator:

* :func:`proportion_ci` -- the eight proportion intervals of ``API.md``; the six that
  R ``survey::svyciprop`` offers reproduce it (``"logit"``, ``"xlogit"``,
  ``"korn-graubard"`` = R's ``beta``, ``"wald"`` = R's ``mean``, ``"likelihood"``,
  ``"asin"``), ``"wilson"`` and ``"jeffreys"`` use the degrees-of-freedom adjusted
  effective sample size.
* :func:`t_interval` -- ``estimate +/- t(df) * se`` for means, totals, ratios and
  contrasts (R ``confint(..., df = degf(design))``).

:func:`irls_weight` computes, from the rows, the one optional extra input with which the
``"likelihood"`` interval reproduces R to rounding error rather than to about 1e-4.

The formulas, R's names for them and the rules for ``df <= 0`` and for estimates of
exactly 0 or 1 are in ``docs/methods/intervals.md``.

Importing this module does not import scipy, and neither do the Wald, logit, xlogit,
asin and Wilson intervals and :func:`t_interval` (normal and t quantiles are numpy code
in :mod:`harvest._dist`); the beta quantiles of the Korn-Graubard and Jeffreys intervals
and the normal distribution function of the likelihood interval come from
``scipy.special``, imported when first called.

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

from harvest._dist import beta_ppf, norm_cdf, norm_ppf, t_isf, t_ppf
from harvest._options import PROPORTION_CI, check_level, check_option

__all__ = ["proportion_ci", "t_interval", "irls_weight"]

# Estimates this close outside [0, 1] (rounding in a ratio of sums) are clipped.
_TOL = 1e-12
_LOG_EPS = float(np.log(np.finfo(float).eps))
# Estimates within a few rounding errors of 0 or 1 count as 0 or 1.
_EDGE = 8 * float(np.finfo(float).eps)


# ----------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------
def _logit_of(p):
    """``log(p / (1 - p))``, computed as ``scipy.special.logit`` does (near 1/2 from
    ``log1p``, which keeps its precision there)."""
    p = np.asarray(p, dtype=float)
    s = 2.0 * (p - 0.5)
    with np.errstate(divide="ignore", invalid="ignore"):
        mid = np.log1p(s) - np.log1p(-s)
        out = np.log(p / (1.0 - p))
    return np.where((p < 0.3) | (p > 0.65), out, mid)


def _expit(x):
    """``1 / (1 + exp(-x))`` (``scipy.special.expit``)."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def _xlogy(x, y):
    """``x * log(y)``, 0 where ``x == 0`` (``scipy.special.xlogy``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = x * np.log(y)
    return np.where((x == 0) & ~np.isnan(y), 0.0, out)


def _t_lower(a, df):
    """``qt(a, df)`` for array ``df``; ``qnorm(a)`` where ``df`` is infinite, NaN where <= 0."""
    df = np.asarray(df, dtype=float)
    a = np.broadcast_to(np.asarray(a, dtype=float), df.shape)
    out = np.full(df.shape, np.nan)
    inf = np.isinf(df) & (df > 0)
    fin = np.isfinite(df) & (df > 0)
    out[inf] = norm_ppf(a[inf])
    out[fin] = t_ppf(a[fin], df[fin])
    return out


def _as_float(name, value):
    """``value`` as a float array, or a ValueError naming the argument."""
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be numbers; got {value!r}.") from None


def _kg_factor(a, n, df):
    """Korn-Graubard factor ``(qt(a, n - 1) / qt(a, df))**2`` (1 where ``n <= 1``)."""
    n = np.asarray(n, dtype=float)
    num = _t_lower(a, np.where(n > 1, n - 1.0, 1.0))
    den = _t_lower(a, np.where(df > 0, df, 1.0))
    return np.where(n > 1, (num / den) ** 2, 1.0)


def _check_inputs(estimate, se, df, n, irls):
    estimate = _as_float("estimate", estimate)
    se = _as_float("se", se)
    df = _as_float("df", df)
    n = _as_float("n", n)
    arrays = [estimate, se, df, n]
    if irls is not None:
        arrays.append(_as_float("irls_weight", irls))
    try:
        arrays = np.broadcast_arrays(*arrays)
    except ValueError:
        shapes = ", ".join(str(np.shape(a)) for a in arrays)
        raise ValueError(
            f"`estimate`, `se`, `df`, `n` (and `irls_weight`) must have the same shape; "
            f"got {shapes}."
        ) from None
    arrays = [np.array(a, dtype=float) for a in arrays]  # writable copies
    estimate, se, df, n = arrays[:4]
    irls = arrays[4] if irls is not None else None
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
    if irls is not None and ((irls <= 0) | (irls > 0.25)).any():
        bad = irls[(irls <= 0) | (irls > 0.25)]
        raise ValueError(f"`irls_weight` is a value of mu * (1 - mu), in (0, 0.25]; "
                         f"got {bad[0]!r}.")
    return estimate, se, df, n, irls


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
    arrays = (_as_float("estimate", estimate), _as_float("se", se), _as_float("df", df))
    try:
        estimate, se, df = np.broadcast_arrays(*arrays)
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
def proportion_ci(method, estimate, se, df, level, n, *, irls_weight=None):
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
    irls_weight : array_like, optional
        Only for ``"likelihood"``: the working weight :math:`\mu(1-\mu)` of the last
        IRLS iteration of R's ``svyglm`` fit, from :func:`irls_weight`. R's Rao-Scott
        factor uses it in place of :math:`\hat p(1-\hat p)`; the two differ by glm's
        convergence tolerance (up to about 1e-4 relative in the bounds). Default
        :math:`\hat p(1-\hat p)`, the converged value.

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
    * jeffreys: quantiles of :math:`B(n^*\hat p + 1/2, n^*(1-\hat p) + 1/2)`; a bound that
      would exclude :math:`\hat p` (fewer than about one effective event) is set to 0
      (or 1), as Brown, Cai & DasGupta do for 0 (or n) events.
    * likelihood: R's Rao-Scott scaled profile likelihood of the intercept-only
      quasibinomial ``svyglm`` (see the methods page).

    Rules (in this order; an estimate within :math:`8\epsilon \approx 1.8\times10^{-15}`
    of 0 or 1 counts as 0 or 1): NaN ``estimate`` or ``se`` gives NaN bounds; ``df <= 0``
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
    p, se, df, n, irls = _check_inputs(estimate, se, df, n, irls_weight)
    a = (1.0 - level) / 2.0
    shape = p.shape
    low = np.full(shape, np.nan)
    high = np.full(shape, np.nan)

    valid = ~(np.isnan(p) | np.isnan(se))
    nodf = valid & (df <= 0)
    low[nodf] = 0.0
    high[nodf] = 1.0
    rest = valid & ~nodf
    edge = rest & ((p <= _EDGE) | (p >= 1.0 - _EDGE))
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
        wi = None
        if method == "likelihood":
            wi = pi * (1.0 - pi)
            if irls is not None:
                wi = np.where(np.isnan(irls[inner]), wi, irls[inner])
        lo, hi = _METHODS[method](pi, si, di, ni, a, wi)
        low[inner] = lo
        high[inner] = hi
    return low, high


def _edge(method, p, n, df, a):
    """Bounds for estimates of exactly 0 or 1 (no design information: ``n_eff = n``)."""
    nstar = n * _kg_factor(a, n, df)
    if method == "wilson":
        z2 = norm_ppf(a) ** 2
        bound = z2 / (nstar + z2)
    elif method == "jeffreys":
        bound = beta_ppf(1.0 - a, 0.5, nstar + 0.5)
    else:
        bound = 1.0 - a ** (1.0 / nstar)   # upper Clopper-Pearson bound for 0 of n*
    zero = p < 0.5
    low = np.where(zero, 0.0, 1.0 - bound)
    high = np.where(zero, bound, 1.0)
    return low, high


def _wald(p, se, df, n, a, irls):
    q = -_t_lower(a, df)
    return p - q * se, p + q * se


def _logit(p, se, df, n, a, irls):
    q = -_t_lower(a, df)
    centre = _logit_of(p)
    half = q * se / (p * (1.0 - p))
    return _expit(centre - half), _expit(centre + half)


def _asin(p, se, df, n, a, irls):
    q = -_t_lower(a, df)
    centre = np.arcsin(np.sqrt(p))
    half = q * se / (2.0 * np.sqrt(p * (1.0 - p)))
    lo = np.clip(centre - half, 0.0, np.pi / 2)
    hi = np.clip(centre + half, 0.0, np.pi / 2)
    return np.sin(lo) ** 2, np.sin(hi) ** 2


def _nstar(p, se, df, n, a):
    return p * (1.0 - p) / se**2 * _kg_factor(a, n, df)


def _korn_graubard(p, se, df, n, a, irls):
    ns = _nstar(p, se, df, n, a)
    lo = beta_ppf(a, ns * p, ns * (1.0 - p) + 1.0)
    hi = beta_ppf(1.0 - a, ns * p + 1.0, ns * (1.0 - p))
    return lo, hi


def _wilson(p, se, df, n, a, irls):
    ns = _nstar(p, se, df, n, a)
    z = -norm_ppf(a)
    z2n = z * z / ns
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z / (1.0 + z2n) * np.sqrt(p * (1.0 - p) / ns + z2n / (4.0 * ns))
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def _jeffreys(p, se, df, n, a, irls):
    ns = _nstar(p, se, df, n, a)
    lo = beta_ppf(a, ns * p + 0.5, ns * (1.0 - p) + 0.5)
    hi = beta_ppf(1.0 - a, ns * p + 0.5, ns * (1.0 - p) + 0.5)
    # Brown, Cai & DasGupta set the lower bound to 0 for x = 0 (upper to 1 for x = n);
    # with fewer than about one effective event the beta quantile can pass the estimate,
    # and the same rule is used there.
    return np.where(lo > p, 0.0, lo), np.where(hi < p, 1.0, hi)


def _log1pmx(x):
    """``log(1 + x) - x`` without cancellation for small ``|x|``."""
    x = np.asarray(x, dtype=float)
    small = np.abs(x) < 0.1
    xs = np.where(small, x, 0.0)
    series = np.zeros_like(xs)
    for k in range(24, 1, -1):                 # -x^2/2 + x^3/3 - ... (Horner)
        series = xs * (((-1.0) ** (k + 1)) / k + series)
    series = xs * series
    with np.errstate(divide="ignore"):
        direct = np.log1p(np.where(small, 0.0, x)) - np.where(small, 0.0, x)
    return np.where(small, series, direct)


def _kl_shift(delta, p):
    """``KL(p || expit(logit(p) + delta))`` accurately, for tiny and for large ``delta``.

    With ``mu = expit(logit(p) + delta)``, ``KL = log(q + p e^delta) - p delta``; near
    ``delta = 0`` it is written as ``-p log1pmx(q r) - q log1pmx(-p r)`` with
    ``r = (mu - p) / (p q)`` so that the first-order terms cancel exactly.
    """
    q = 1.0 - p
    delta = np.asarray(delta, dtype=float)
    small = np.abs(delta) < 0.5
    d_s = np.where(small, delta, 0.0)
    e = np.expm1(d_s)
    r = e / (1.0 + p * e)
    near = -p * _log1pmx(q * r) - q * _log1pmx(-p * r)
    d_l = np.where(small, 1.0, delta)
    with np.errstate(over="ignore", divide="ignore"):
        far = np.where(d_l > 0,
                       q * d_l + np.log1p(q * np.expm1(-np.abs(d_l))),
                       np.log1p(p * np.expm1(-np.abs(d_l))) - p * d_l)
    return np.maximum(np.where(small, near, far), 0.0)


def _fmm_spline(x, y):
    """Coefficients of R's ``spline(method = "fmm")`` for each row of ``x``, ``y``.

    ``x`` and ``y`` are ``(m, L)`` with ``L >= 3`` and increasing rows; returns ``b, c, d``
    with ``s(u) = y[i] + b[i] dx + c[i] dx^2 + d[i] dx^3`` on ``[x[i], x[i+1]]``. A port of
    Forsythe, Malcolm & Moler's algorithm as in R's ``splines.c``, vectorised over rows
    (the loops run over the at most 19 knots, never over rows).
    """
    m, L = x.shape
    b = np.zeros((m, L))
    c = np.zeros((m, L))
    d = np.zeros((m, L))
    d[:, 0] = x[:, 1] - x[:, 0]
    c[:, 1] = (y[:, 1] - y[:, 0]) / d[:, 0]
    for i in range(1, L - 1):
        d[:, i] = x[:, i + 1] - x[:, i]
        b[:, i] = 2.0 * (d[:, i - 1] + d[:, i])
        c[:, i + 1] = (y[:, i + 1] - y[:, i]) / d[:, i]
        c[:, i] = c[:, i + 1] - c[:, i]
    b[:, 0] = -d[:, 0]
    b[:, L - 1] = -d[:, L - 2]
    c[:, 0] = 0.0
    c[:, L - 1] = 0.0
    if L > 3:
        c0 = c[:, 2] / (x[:, 3] - x[:, 1]) - c[:, 1] / (x[:, 2] - x[:, 0])
        cn = c[:, L - 2] / (x[:, L - 1] - x[:, L - 3]) - c[:, L - 3] / (x[:, L - 2] - x[:, L - 4])
        c[:, 0] = c0 * d[:, 0] ** 2 / (x[:, 3] - x[:, 0])
        c[:, L - 1] = -cn * d[:, L - 2] ** 2 / (x[:, L - 1] - x[:, L - 4])
    for i in range(1, L):
        t = d[:, i - 1] / b[:, i - 1]
        b[:, i] = b[:, i] - t * d[:, i - 1]
        c[:, i] = c[:, i] - t * c[:, i - 1]
    c[:, L - 1] = c[:, L - 1] / b[:, L - 1]
    for i in range(L - 2, -1, -1):
        c[:, i] = (c[:, i] - d[:, i] * c[:, i + 1]) / b[:, i]
    b[:, L - 1] = (y[:, L - 1] - y[:, L - 2]) / d[:, L - 2] + d[:, L - 2] * (
        c[:, L - 2] + 2.0 * c[:, L - 1])
    for i in range(L - 1):
        b[:, i] = (y[:, i + 1] - y[:, i]) / d[:, i] - d[:, i] * (c[:, i + 1] + 2.0 * c[:, i])
        d[:, i] = (c[:, i + 1] - c[:, i]) / d[:, i]
        c[:, i] = 3.0 * c[:, i]
    c[:, L - 1] = 3.0 * c[:, L - 1]
    d[:, L - 1] = d[:, L - 2]
    return b, c, d


def _spline_eval(x, y, b, c, d, u):
    """Evaluate the row-wise splines at the points ``u`` (``(m, K)``, inside the knots)."""
    L = x.shape[1]
    i = (x[:, None, :] <= u[:, :, None]).sum(axis=2) - 1
    i = np.clip(i, 0, L - 1)
    take = lambda arr: np.take_along_axis(arr, i, axis=1)  # noqa: E731
    dx = u - take(x)
    return take(y) + dx * (take(b) + dx * (take(c) + dx * take(d)))


def _approx(xs, ys, v):
    """R ``approx(xs, ys, xout = v)$y`` per row (``v`` is ``(m,)``); NaN outside the range.

    As R, the points are first ordered by ``xs`` (stable)."""
    order = np.argsort(xs, axis=1, kind="stable")
    xs = np.take_along_axis(xs, order, axis=1)
    ys = np.take_along_axis(ys, order, axis=1)
    K = xs.shape[1]
    i = np.clip((xs <= v[:, None]).sum(axis=1) - 1, 0, K - 2)[:, None]
    x0 = np.take_along_axis(xs, i, axis=1)[:, 0]
    x1 = np.take_along_axis(xs, i + 1, axis=1)[:, 0]
    y0 = np.take_along_axis(ys, i, axis=1)[:, 0]
    y1 = np.take_along_axis(ys, i + 1, axis=1)[:, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(v == x1, y1, y0 + (y1 - y0) * ((v - x0) / (x1 - x0)))
    outside = (v < xs[:, 0]) | (v > xs[:, -1]) | np.isnan(v)
    return np.where(outside, np.nan, out)


def _profile_root(p, n, target, sign):
    """Exact logit-scale solution of ``deviance(b) = target`` below (``sign=-1``) or
    above (``sign=+1``) ``logit(p)``, by vectorised bisection on the shift from it."""
    near = np.zeros_like(p)
    far = np.full_like(p, sign * 800.0)
    for _ in range(200):
        mid = 0.5 * (near + far)
        above = 2.0 * n * _kl_shift(mid, p) > target
        far = np.where(above, mid, far)
        near = np.where(above, near, mid)
    return _logit_of(p) + 0.5 * (near + far)


def _likelihood(p, se, df, n, a, irls):
    """R ``confint.svyglm(method = "likelihood")`` for the intercept-only quasibinomial fit.

    R profiles the deviance on a grid ``logit(p) +/- k * (zmax / 5) * se_b``,
    ``k = 1..9`` (stopping once the signed root passes ``zmax``), interpolates the signed
    root ``z(b) = sign * sqrt(deviance(b) / dispersion)`` with an FMM cubic spline on
    ``3 L`` equally spaced points and reads off ``z = -/+ |t_{df, alpha/2}| sqrt(lambda)``
    by linear interpolation. This does the same for all rows at once, grouped by the
    number ``L`` of profile points; where R's grid does not reach the cutoff (R: NA) the
    exact root of the profile equation is used instead.
    """
    pq = p * (1.0 - p)
    lam = n * se**2 * irls / pq**2            # design / model-based variance of the logit
    phi = np.where(n > 1, n / np.maximum(n - 1.0, 1.0), 1.0)   # quasibinomial dispersion
    cut = _t_lower(a, df) * np.sqrt(lam)      # negative cutoff on the signed-root scale
    alpha = norm_cdf(cut) / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        # R: sqrt(qf(alpha, 1, n - 1, lower.tail = FALSE)) = |qt(alpha / 2, n - 1)|
        zmax = t_isf(alpha / 2.0, np.where(n > 1, n - 1.0, np.nan))
    b0 = _logit_of(p)
    delta = zmax / 5.0 * se / pq
    steps = np.arange(1.0, 10.0)
    z = {}
    kept = {}
    grid = {}
    for sign in (-1.0, 1.0):
        shift = sign * steps * delta[:, None]
        bs = b0[:, None] + shift
        # R's binomial()$linkinv clamps the linear predictor to +/- 30 (mu = eps / (1 + eps))
        shift = np.where(bs < -30.0, _LOG_EPS - b0[:, None],
                         np.where(bs > 30.0, -_LOG_EPS - b0[:, None], shift))
        zz = 2.0 * n[:, None] * _kl_shift(shift, p[:, None]) / phi[:, None]
        zs = sign * np.sqrt(zz)
        hit = np.abs(zs) >= zmax[:, None]
        kept[sign] = np.where(hit.any(axis=1), hit.argmax(axis=1) + 1, 9)
        z[sign] = zs
        grid[sign] = bs
    # all 19 candidate points in increasing order: steps 9..1 down, centre, steps 1..9 up
    xall = np.concatenate([grid[-1.0][:, ::-1], b0[:, None], grid[1.0]], axis=1)
    zall = np.concatenate([z[-1.0][:, ::-1], np.zeros((p.size, 1)), z[1.0]], axis=1)
    length = kept[-1.0] + kept[1.0] + 1
    start = 9 - kept[-1.0]
    low = np.full(p.shape, np.nan)
    high = np.full(p.shape, np.nan)
    usable = np.isfinite(zmax) & np.isfinite(delta) & (delta > 0)
    for L in np.unique(length[usable]):        # at most 17 distinct grid sizes
        rows = np.flatnonzero(usable & (length == L))
        cols = start[rows, None] + np.arange(L)
        x = np.take_along_axis(xall[rows], cols, axis=1)
        y = np.take_along_axis(zall[rows], cols, axis=1)
        b, c, d = _fmm_spline(x, y)
        frac = np.arange(3 * L) / (3 * L - 1.0)
        u = x[:, :1] + (x[:, -1:] - x[:, :1]) * frac
        u[:, -1] = x[:, -1]
        su = _spline_eval(x, y, b, c, d, u)
        low[rows] = _approx(su, u, cut[rows])
        high[rows] = _approx(su, u, -cut[rows])
    target = phi * cut**2
    miss = np.isnan(low)
    if miss.any():
        low[miss] = _profile_root(p[miss], n[miss], target[miss], -1.0)
    miss = np.isnan(high)
    if miss.any():
        high[miss] = _profile_root(p[miss], n[miss], target[miss], 1.0)
    return _expit(low), _expit(high)


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


# ----------------------------------------------------------------------------------------
# R's glm iterations, for the likelihood interval
# ----------------------------------------------------------------------------------------
def irls_weight(y, weights, domain, n_domains, *, epsilon=1e-8, maxit=25):
    r"""Mean IRLS working weight of R's last ``glm`` iteration, per domain and indicator.

    R's ``confint.svyglm(method = "likelihood")`` (behind ``svyciprop(method =
    "likelihood")``) scales the profile likelihood by
    :math:`\lambda = \widehat{V}_{\rm design}(\hat\beta) / V_{\rm naive}(\hat\beta)`,
    and ``glm`` stores the naive variance :math:`1/\sum_i w_i \mu_i(1-\mu_i)` with the
    working weights of its *last* iteration, one step before convergence. This replays
    ``glm.fit``'s iterations for the intercept-only (quasi)binomial model of every domain
    at once and returns :math:`\sum_i w_i\mu_i(1-\mu_i)/n` of that step, to pass to
    :func:`proportion_ci` as ``irls_weight``.

    Parameters
    ----------
    y : array_like
        ``(n,)`` or ``(n, k)`` 0/1 indicators, NaN where missing (those rows are left out
        of that indicator's fit).
    weights : array_like
        ``(n,)`` sampling weights.
    domain : array_like
        ``(n,)`` integer domain code of each row in ``0..n_domains-1``; negative codes
        mark rows outside every domain.
    n_domains : int
        Number of domains.
    epsilon, maxit : float, int
        ``glm.control`` settings (R's defaults).

    Returns
    -------
    numpy.ndarray
        ``(n_domains,)`` for 1-D ``y``, else ``(n_domains, k)``. NaN for domains without
        rows or with an estimate of 0 or 1 (where the value is not used).

    Notes
    -----
    As ``svyglm``, prior weights are the sampling weights divided by their mean over all
    rows of the domain, rows missing the indicator included, :math:`w_i = W_i/\bar W`;
    ``glm`` then leaves the missing rows out. ``glm.fit`` starts from
    :math:`\mu_i^{(0)} = (w_i y_i + 1/2)/(w_i + 1)`; its first step is the weighted mean
    of the working response, :math:`\beta^{(1)} = \sum_i w_i v_i z_i / \sum_i w_i v_i`
    with :math:`v_i = \mu^{(0)}_i(1-\mu^{(0)}_i)`, :math:`z_i = \mathrm{logit}\,
    \mu^{(0)}_i + (y_i - \mu^{(0)}_i)/v_i`; afterwards all fitted values are equal and
    :math:`\beta^{(t+1)} = \beta^{(t)} + (\hat p - \mu^{(t)})/(\mu^{(t)}(1-\mu^{(t)}))`.
    It stops at the first :math:`t` with :math:`|D_t - D_{t-1}|/(|D_t| + 0.1) <
    \epsilon` (deviances :math:`D`); the value returned is the mean working weight of
    the weights used in that last step (from :math:`\mu^{(t-1)}`).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([1, 0, 0, 1, 0, 0, 0, 1.0])
    >>> w = np.array([1, 2, 3, 1, 2, 3, 1, 2.0])
    >>> v = irls_weight(y, w, np.array([0, 0, 0, 0, 1, 1, 1, 1]), 2)
    >>> p = np.array([2 / 7, 2 / 8])
    >>> bool(np.allclose(v, p * (1 - p), rtol=1e-3))
    True
    """
    Y = np.asarray(y, dtype=float)
    one = Y.ndim == 1
    Y = Y.reshape(Y.shape[0], -1)
    W = np.asarray(weights, dtype=float)
    dom = np.asarray(domain)
    nrow, k = Y.shape
    if W.shape != (nrow,) or dom.shape != (nrow,):
        raise ValueError(f"`weights` and `domain` must have shape ({nrow},) like the rows "
                         f"of `y`; got {W.shape} and {dom.shape}.")
    if not np.issubdtype(dom.dtype, np.integer) or (dom >= n_domains).any():
        raise ValueError(f"`domain` must hold integer codes below n_domains={n_domains}.")
    if (W < 0).any() or np.isnan(W).any():
        raise ValueError("`weights` must be non-negative numbers.")
    valid = ~np.isnan(Y) & (dom >= 0)[:, None]
    codes = np.where(dom >= 0, dom, 0)[:, None] * k + np.arange(k)
    m = n_domains * k
    flat = codes[valid]

    def gsum(values):
        return np.bincount(flat, weights=values[valid], minlength=m)

    Wb = np.broadcast_to(W[:, None], Y.shape)
    yv = np.where(valid, Y, 0.0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        count = gsum(np.ones_like(Y))
        # svyglm divides the weights by their mean over ALL rows of the domain (rows
        # missing the indicator included), then glm drops the missing rows.
        inside = dom >= 0
        wbar = (np.bincount(dom[inside], weights=W[inside], minlength=n_domains)
                / np.bincount(dom[inside], minlength=n_domains))
        w = np.where(valid, Wb / wbar[np.where(inside, dom, 0)][:, None], 0.0)
        total = gsum(w)
        p = gsum(w * yv) / total
        mu0 = (w * yv + 0.5) / (w + 1.0)
        v0 = mu0 * (1.0 - mu0)
        eta0 = _logit_of(mu0)
        a1 = gsum(w * v0)
        b1 = gsum(w * (v0 * eta0 + (yv - mu0)))
        dev_old = -2.0 * gsum(w * (_xlogy(yv, mu0) + _xlogy(1.0 - yv, 1.0 - mu0)))

        def deviance(beta):
            return 2.0 * total * (p * np.logaddexp(0.0, -beta)
                                  + (1.0 - p) * np.logaddexp(0.0, beta))

        beta = b1 / a1
        used = a1 / total                      # mean working weight of the step just done
        dev = deviance(beta)
        result = np.full(m, np.nan)
        active = np.isfinite(beta) & (p > 0) & (p < 1)
        done = active & (np.abs(dev - dev_old) / (np.abs(dev) + 0.1) < epsilon)
        result[done] = used[done]
        active &= ~done
        for _ in range(maxit - 1):             # loop over iterations, not domains
            if not active.any():
                break
            mu = _expit(beta)
            used = mu * (1.0 - mu)
            beta_new = beta + (p - mu) / used
            dev_new = deviance(beta_new)
            done = active & (np.abs(dev_new - dev) / (np.abs(dev_new) + 0.1) < epsilon)
            result[done] = used[done]
            active &= ~done
            beta = np.where(active, beta_new, beta)
            dev = np.where(active, dev_new, dev)
        result[active] = used[active]          # not converged in maxit steps (R warns)
        # per non-missing row: sum_i w_i mu_i (1 - mu_i) / n, with sum_i w_i = total
        result = result * total / count
    result = result.reshape(n_domains, k)
    return result[:, 0] if one else result
