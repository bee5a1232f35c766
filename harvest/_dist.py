"""The distribution functions the estimators need: normal and Student t quantiles in
numpy, the rest from ``scipy.special`` on first use.

A first estimate in a fresh process should not pay for importing scipy: ``scipy.stats``
takes about half a second (it loads most of scipy) and even ``scipy.special`` about
0.2-0.4 s (it loads ``scipy.linalg`` and the array-API layer). The default intervals
(logit for proportions, ``estimate +/- t * se`` for means, totals and ratios) need only
normal and t quantiles, so those are computed here with numpy alone:

* :func:`norm_ppf` is Wichura's (1988) algorithm AS 241 (PPND16), rational
  approximations accurate to about 1 part in 1e16.
* :func:`t_ppf` takes ``df`` per element (each domain has its own). For ``df >= 30``
  and ``z^2 <= df`` (``z`` the normal quantile; for ``df >= 41`` all of
  ``1e-10 <= q <= 1 - 1e-10``) it is the Cornish-Fisher expansion of the t quantile about
  the normal one in powers of ``1/df`` (Abramowitz & Stegun 26.7.5 give four terms;
  here 16, derived exactly from the differential equation the quantile function
  satisfies, ``scripts/t_quantile_coefficients.py``). Otherwise it is Newton's method on
  the t distribution function, from Hill's (1970, ACM algorithm 396) starting value: the
  distribution function is the regularized incomplete beta function, evaluated with its
  continued fraction (modified Lentz; Press et al., Numerical Recipes, 6.4) and the ratio
  ``Gamma(a + 1/2) / Gamma(a)`` from its Stirling series; in the tails Newton's step is
  taken on ``log F`` against ``log |t|``, which the power tails make almost linear.
  ``df = 1`` and ``df = 2`` have closed forms. ``0 < df < 1`` (and anything the iteration
  does not settle, which the tests never meet) falls back to ``scipy.special.stdtrit``.
* :func:`t_isf` is ``-t_ppf``. :func:`norm_cdf`, :func:`t_sf` and :func:`beta_ppf`
  (p-values, Korn-Graubard and Jeffreys intervals, the likelihood interval) call
  ``scipy.special`` (``ndtr``, ``stdtr``, ``betaincinv``: what ``scipy.stats`` itself
  calls, so those match it bit for bit) and import it only when called.

Accuracy. Against quantiles computed to 50 digits with mpmath
(``tests/reference/t_quantiles.csv``, written by ``scripts/t_quantile_reference.py``) the
relative error is below 5e-16 for the normal quantile and, for ``df`` from 1 to 1e7 and
infinite, integer or not, below 2e-15 for the t quantile at ``1e-10 <= q <= 1 - 1e-10``
(below 1e-13 out to ``q = 1e-300``, where ``|t|`` reaches 1e240 for ``df`` near 1).
:func:`norm_ppf` is within a few units in the last place of ``scipy.special.ndtri``;
:func:`t_ppf` agrees with ``scipy.special.stdtrit`` to 5e-13 away from the centre, and
is the more accurate of the two where they differ: ``stdtrit`` loses digits near
``q = 1/2`` (1e-10 relative at ``q = 1/2 - 1e-7`` for ``df <= 10``, 4e-4 at ``df = 4``),
is off by up to 2.5e-13 elsewhere, and returns ``inf`` in far tails where the quantile is
finite. ``tests/test_dist.py`` checks all of this.

References: M. J. Wichura (1988), Algorithm AS 241: The percentage points of the normal
distribution, Applied Statistics 37, 477-484. G. W. Hill (1970), Algorithm 396:
Student's t-quantiles, Communications of the ACM 13, 619-620. E. A. Cornish and
R. A. Fisher (1938), Moments and cumulants in the specification of distributions, Revue
de l'Institut International de Statistique 5, 307-320; M. Abramowitz and I. A. Stegun
(1964), Handbook of Mathematical Functions, 26.7.5. G. Steinbrecher and W. T. Shaw
(2008), Quantile mechanics, European Journal of Applied Mathematics 19, 87-112 (the
differential equation). W. H. Press et al. (2007), Numerical Recipes, 3rd ed., 6.4.

Examples
--------
>>> round(float(t_ppf(0.975, 10)), 6)
2.228139
>>> round(float(norm_ppf(0.975)), 6)
1.959964
"""

from __future__ import annotations

import numpy as np

__all__ = ["norm_ppf", "norm_cdf", "t_ppf", "t_isf", "t_sf", "beta_ppf"]

# ----------------------------------------------------------------------------------------
# normal quantile: Wichura (1988), AS 241 (PPND16); coefficients in ascending powers
# ----------------------------------------------------------------------------------------
_AS241_A = (3.3871328727963666080e0, 1.3314166789178437745e2, 1.9715909503065514427e3,
            1.3731693765509461125e4, 4.5921953931549871457e4, 6.7265770927008700853e4,
            3.3430575583588128105e4, 2.5090809287301226727e3)
_AS241_B = (1.0, 4.2313330701600911252e1, 6.8718700749205790830e2, 5.3941960214247511077e3,
            2.1213794301586595867e4, 3.9307895800092710610e4, 2.8729085735721942674e4,
            5.2264952788528545610e3)
_AS241_C = (1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0,
            3.64784832476320460504e0, 1.27045825245236838258e0, 2.41780725177450611770e-1,
            2.27238449892691845833e-2, 7.74545014278341407640e-4)
_AS241_D = (1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
            1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4,
            1.05075007164441684324e-9)
_AS241_E = (6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0,
            2.96560571828504891230e-1, 2.65321895265761230930e-2, 1.24266094738807843860e-3,
            2.71155556874348757815e-5, 2.01033439929228813265e-7)
_AS241_F = (1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1,
            1.48753612908506148525e-2, 7.86869131145613259100e-4, 1.84631831751005468180e-5,
            1.42151175831644588870e-7, 2.04426310338993978564e-15)


def _poly(coef, x):
    """``sum(coef[i] * x**i)`` by Horner's rule."""
    out = np.full(np.shape(x), coef[-1], dtype=float)
    for c in coef[-2::-1]:
        out = out * x + c
    return out


def _scalar_or_array(out, shape):
    out = out.reshape(shape)
    return out[()] if out.ndim == 0 else out


def _norm_lower(p):
    """AS 241 for ``0 < p <= 1/2`` (flat float array): the quantile, ``<= 0``."""
    out = np.empty(p.shape)
    d = p - 0.5
    central = d >= -0.425
    if central.any():
        dc = d[central]
        r = 0.180625 - dc * dc
        out[central] = dc * _poly(_AS241_A, r) / _poly(_AS241_B, r)
    tail = ~central
    if tail.any():
        r = np.sqrt(-np.log(p[tail]))
        near = r <= 5.0
        val = np.empty(r.shape)
        rn = r[near] - 1.6
        val[near] = _poly(_AS241_C, rn) / _poly(_AS241_D, rn)
        rf = r[~near] - 5.0
        val[~near] = _poly(_AS241_E, rf) / _poly(_AS241_F, rf)
        out[tail] = -val
    return out


def norm_ppf(q):
    """Standard normal quantile, ``scipy.stats.norm.ppf(q)`` (R ``qnorm``), by AS 241.

    ``q = 0`` and ``q = 1`` give ``-inf`` and ``inf``; ``q`` outside ``[0, 1]`` or NaN
    gives NaN.

    Examples
    --------
    >>> float(norm_ppf(0.5))
    0.0
    >>> norm_ppf([0.0, 1.0]).tolist()
    [-inf, inf]
    """
    q = np.asarray(q, dtype=float)
    shape = q.shape
    q = q.ravel()
    out = np.full(q.shape, np.nan)
    out[q == 0] = -np.inf
    out[q == 1] = np.inf
    inner = (q > 0) & (q < 1)
    qi = q[inner]
    lower = qi <= 0.5
    # the upper half from 1 - q (exact for q >= 1/2): the quantile is odd about 1/2
    val = _norm_lower(np.where(lower, qi, 1.0 - qi))
    out[inner] = np.where(lower, val, -val)
    return _scalar_or_array(out, shape)


# ----------------------------------------------------------------------------------------
# Student t quantile
# ----------------------------------------------------------------------------------------
#: Cornish-Fisher expansion t = z + sum_k g_k(z) / df^k with g_k(z) = z * P_k(z^2);
#: row k - 1 holds the coefficients of P_k in ascending powers of z^2 (exact rationals,
#: written by scripts/t_quantile_coefficients.py; the first four are A&S 26.7.5).
_CORNISH_FISHER = (
    (0.25, 0.25),
    (0.03125, 0.16666666666666666, 0.052083333333333336),
    (-0.0390625, 0.044270833333333336, 0.049479166666666664, 0.0078125),
    (-0.01025390625, -0.020833333333333332, 0.016080729166666665, 0.008420138888888888,
     0.0008572048611111111),
    (0.0487060546875, -0.0020751953125, -0.004833984375, 0.0025227864583333335,
     0.0009195963541666667, 7.32421875e-05),
    (0.0132598876953125, 0.035888671875, 0.0033192952473958333, -0.0004437158978174603,
     0.00026276872692074514, 8.314559909611993e-05, 5.732137690145502e-06),
    (-0.15001296997070312, -0.024524688720703125, 0.007587941487630209, 0.001462433830140129,
     0.00015324856658881724, 5.531243756544863e-05, 9.272338221312831e-06,
     4.5614898520171956e-07),
    (-0.03987276554107666, -0.11947123209635417, -0.02573118209838867,
     -0.0016588665190197173, 7.797952682252914e-05, 4.669646947682429e-05,
     9.512534077065191e-06, 8.315187843318269e-07, 2.5675200070443397e-08),
    (0.8558453023433685, 0.206626425186793, -0.0038634379704793292, -0.00565298663245307,
     -0.0009191408148938806, -8.126849640403895e-05, -3.5774252261924858e-06,
     -9.213525501858971e-08, -5.5063338506789436e-09, 4.415158872251157e-11),
    (0.2223893366754055, 0.6982523401578268, 0.18408754343787828, 0.023644900511181545,
     0.0016566312949072956, 6.501703704227254e-06, -1.4521033551346248e-05,
     -2.1905484757715536e-06, -1.6771793554487242e-07, -4.7946204342010545e-09,
     1.8277037539351382e-11),
    (-7.8234564838930964, -2.1655549881979823, -0.1628975075359146, 0.016000254762669405,
     0.005840017888990659, 0.0007979812970719736, 6.568290418249163e-05,
     3.3415120307450293e-06, 1.4258997479902544e-07, 1.436821830870919e-08,
     1.0889948742768503e-09, 2.5534096562329136e-11),
    (-2.0040485486970283, -6.439927518367767, -1.8391733844997362, -0.28669984200378024,
     -0.02906617244840657, -0.0018142860893596722, -3.682050944851285e-05,
     6.285305384794367e-06, 1.026260825734422e-06, 9.873525404011394e-08,
     5.875916087128775e-09, 1.5806175700346704e-10, 7.678746562664803e-13),
    (104.76295737309556, 30.92528990462597, 3.6760062200191896, 0.12471769824707216,
     -0.03516086767324656, -0.0074845651214015905, -0.0008260207546606296,
     -6.219827051818751e-05, -3.291979075474848e-06, -1.1682988483242321e-07,
     -4.531944474643958e-09, -4.273309918319595e-10, -2.5088744621461265e-11,
     -4.623496481337934e-13),
    (26.614715490804883, 86.58720971070579, 25.707091381404098, 4.36131968669901,
     0.5053658217793349, 0.041321069273059945, 0.0023051198665407684, 6.485786383901381e-05,
     -2.8351654346535136e-06, -5.73092599271306e-07, -5.420053776711644e-08,
     -3.807653161779734e-09, -1.726656318352416e-10, -3.6039254196734752e-12,
     -1.164365719047674e-14),
    (-1933.2251063419449, -591.2897979029572, -84.43981109541755, -6.426319053669297,
     0.02738015666252823, 0.07460528503830938, 0.010962426435061526, 0.0010106044699113757,
     6.905512799236862e-05, 3.6146820999005183e-06, 1.3891198671855461e-07,
     3.7456067760423725e-09, 1.5153904554240958e-10, 1.3376475421810082e-11,
     6.334769315843428e-13, 9.69858969728523e-15),
    (-488.7640201642339, -1601.4204380824322, -485.85852024076615, -86.19475932083914,
     -10.659689363296165, -0.9720152135782048, -0.06686318573017389, -0.0033854932049788185,
     -0.00010619561119993047, 6.535824070653808e-07, 3.8380461006098005e-07,
     3.5467901634321615e-08, 2.4584968640875666e-09, 1.3620508867696593e-10,
     4.975972507913698e-12, 8.523065856562079e-14, 2.1671518396752524e-16),
)
#: the expansion is used for df >= _CF_MIN_DF and z^2 <= _CF_MAX_W * df, where its
#: truncation error is below 1e-15 relative (checked against 50-digit values)
_CF_MIN_DF = 30.0
_CF_MAX_W = 1.0

#: Stirling's series log Gamma(a + 1/2) - log Gamma(a) - log(a) / 2 =
#: sum_{k=1..8} _GAMMA_HALF[k - 1] / a**(2k - 1), the coefficients
#: (2**(1 - 2k) - 2) B_2k / (2k (2k - 1)) with B_2k the Bernoulli numbers
_GAMMA_HALF = (-1 / 8, 1 / 192, -1 / 640, 17 / 14336, -31 / 18432, 691 / 180224,
               -5461 / 425984, 929569 / 15728640)
_LOG_SQRT_PI = 0.5 * float(np.log(np.pi))


def _cornish_fisher(z, df):
    """The t quantile from the normal quantile ``z`` (arrays, ``df >= _CF_MIN_DF``)."""
    s = z * z
    e = 1.0 / df
    acc = np.zeros(z.shape)
    for coef in _CORNISH_FISHER[::-1]:
        acc = (acc + _poly(coef, s)) * e
    return z + z * acc


def _gamma_half_ratio(a):
    """``Gamma(a + 1/2) / Gamma(a)`` for ``a >= 1/2`` (array).

    ``a`` is raised to at least 10 with ``r(a) = r(a + 1) a / (a + 1/2)``; there the
    Stirling series of ``log r`` is exact to about 4e-18.
    """
    a = np.array(a, dtype=float)
    scale = np.ones(a.shape)
    for _ in range(10):
        low = a < 10.0
        if not low.any():
            break
        scale = np.where(low, scale * a / (a + 0.5), scale)
        a = np.where(low, a + 1.0, a)
    inv = 1.0 / a
    inv2 = inv * inv
    series = _poly(_GAMMA_HALF, inv2) * inv
    return scale * np.sqrt(a) * np.exp(series)


def _beta_fraction(a, b, x, max_terms=400):
    """The continued fraction of the regularized incomplete beta function,
    ``I_x(a, b) = x^a (1 - x)^b / (a B(a, b)) * cf``, by the modified Lentz method
    (Numerical Recipes 6.4); it converges quickly for ``x < (a + 1) / (a + b + 2)``.
    Returns ``cf`` and whether each element converged."""
    tiny = 1e-300

    def clamp(v):
        return np.where(np.abs(v) < tiny, tiny, v)

    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = np.ones(a.shape)
    d = 1.0 / clamp(1.0 - qab * x / qap)
    h = d.copy()
    active = np.ones(a.shape, dtype=bool)
    for m in range(1, max_terms + 1):
        m2 = 2.0 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 / clamp(1.0 + aa * d)
        c = clamp(1.0 + aa / c)
        h = np.where(active, h * d * c, h)
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 / clamp(1.0 + aa * d)
        c = clamp(1.0 + aa / c)
        delta = d * c
        h = np.where(active, h * delta, h)
        active &= np.abs(delta - 1.0) > 3e-16
        if not active.any():
            break
    return h, ~active


def _t_hill(p, df):
    """Hill's (1970) approximation to ``|t|`` with lower tail ``p < 1/2``, ``df >= 1``
    (R's ``qt`` starts from it too)."""
    P = 2.0 * p
    a = 1.0 / (df - 0.5)
    b = 48.0 / (a * a)
    c = ((20700.0 * a / b - 98.0) * a - 16.0) * a + 96.36
    d = ((94.5 / (b + c) - 3.0) / b + 1.0) * np.sqrt(a * np.pi / 2.0) * df
    log_y = 2.0 / df * (np.log(d) + np.log(P))
    y = np.exp(log_y)
    with np.errstate(all="ignore"):      # each branch is computed everywhere, kept where valid
        # y > 0.05 + a: an asymptotic expansion about the normal quantile
        x = _norm_lower(0.5 * P)
        c1 = c + np.where(df < 5.0, 0.3 * (df - 4.5) * (x + 0.6), 0.0)
        c1 = (((0.05 * d * x - 5.0) * x - 7.0) * x - 2.0) * x + b + c1
        x2 = x * x
        y1 = (((((0.4 * x2 + 6.3) * x2 + 36.0) * x2 + 94.5) / c1 - x2 - 3.0) / b + 1.0) * x
        near_normal = np.sqrt(df * np.expm1(a * y1 * y1))
        # otherwise the tail expansion; where y underflows, 1/y is all that is left
        y2 = (((1.0 / (((df + 6.0) / (df * y) - 0.089 * d - 0.822) * (df + 2.0) * 3.0)
                + 0.5 / (df + 4.0)) * y - 1.0) * (df + 1.0) / (df + 2.0) + 1.0 / y)
        tail = np.where(y < 1e-100, np.sqrt(df) * np.exp(-0.5 * log_y), np.sqrt(df * y2))
    return np.where(y > 0.05 + a, near_normal, tail)


def _t_newton(p, df, max_steps=60):
    """``t < 0`` with ``F(t; df) = p`` for ``0 < p < 1/2``, ``df >= 1`` (flat arrays), by
    Newton's method from Hill's start; also whether each element converged."""
    a = 0.5 * df
    ratio = _gamma_half_ratio(a)
    log_ratio = np.log(ratio)
    log_dens0 = log_ratio - 0.5 * np.log(df) - _LOG_SQRT_PI       # log f(0)
    log_front = log_ratio - _LOG_SQRT_PI
    threshold = 1.5 / (a + 2.5)              # continued fraction for I_y(1/2, a) below
    t = -_t_hill(p, df)
    ok = np.zeros(p.shape, dtype=bool)
    idx = np.arange(p.size)
    for _ in range(max_steps):
        ti, dfi, ai, pi = t[idx], df[idx], a[idx], p[idx]
        log_abs = np.log(-ti)
        log_s = np.log(dfi) - 2.0 * log_abs               # s = df / t^2, overflow-safe
        with np.errstate(over="ignore"):
            s = np.where(log_abs < 300.0, dfi / (ti * ti), np.exp(log_s))
        with np.errstate(divide="ignore"):
            l1p = np.where(s < 1.0, np.log1p(s) - log_s, np.log1p(1.0 / s))  # log(1+t^2/df)
        y = 1.0 / (1.0 + s)                                # t^2 / (df + t^2)
        x = s / (1.0 + s)                                  # df / (df + t^2)
        tail = y > threshold[idx]
        cf, conv = _beta_fraction(np.where(tail, ai, 0.5), np.where(tail, 0.5, ai),
                                  np.where(tail, x, y))
        # the factor both forms share: x^a / B(a, 1/2) = (1 - y)^a / B(1/2, a); the other,
        # (1 - x)^(1/2) = y^(1/2), is 1 / sqrt(1 + s)
        log_common = log_front[idx] - ai * l1p
        log_dens = log_dens0[idx] - (ai + 0.5) * l1p
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            # tail: F = I_x(a, 1/2) / 2, Newton's step on log F against log|t|
            log_F = log_common - 0.5 * np.log1p(s) + np.log(0.5 * cf / ai)
            slope = np.exp(log_F - log_dens - log_abs)      # F / (f |t|), no underflow
            step = np.clip((log_F - np.log(pi)) * slope, -5.0, 5.0)
            t_tail = ti * np.exp(step)
            # centre: F = 1/2 - I_y(1/2, a) / 2; plain Newton on F - p
            resid = (0.5 - pi) - np.exp(log_common) / np.sqrt(1.0 + s) * cf
            t_centre = ti - resid / np.exp(log_dens)
            t_centre = np.where(t_centre < 0, t_centre, 0.5 * ti)
        new = np.where(tail, t_tail, t_centre)
        small = np.abs(new - ti) <= 1e-11 * np.abs(ti)
        good = np.isfinite(new) & conv
        t[idx] = np.where(good, new, ti)
        settled = small & good
        ok[idx[settled]] = True
        idx = idx[~(settled | ~good)]               # not converged: left to the caller
        if idx.size == 0:
            break
    return t, ok


def _t_lower(p, df):
    """The t quantile for ``0 < p < 1/2``, ``df > 0`` (flat arrays): ``(t, ok)``, ``ok``
    False where the caller must fall back to scipy."""
    t = np.full(p.shape, np.nan)
    ok = np.zeros(p.shape, dtype=bool)
    z = _norm_lower(p)
    with np.errstate(divide="ignore"):
        e = 1.0 / df
    cf = (df >= _CF_MIN_DF) & (z * z * e <= _CF_MAX_W)
    if cf.any():
        t[cf] = _cornish_fisher(z[cf], df[cf])
        ok[cf] = True
    one = df == 1.0
    if one.any():                        # Cauchy: -cot(pi p)
        po = p[one]
        with np.errstate(divide="ignore", over="ignore"):   # p below 1e-308: -inf
            t[one] = np.where(po < 0.25, -1.0 / np.tan(np.pi * po),
                              -np.tan(np.pi * (0.5 - po)))
        ok[one] = True
    two = df == 2.0
    if two.any():
        pt = p[two]
        t[two] = (2.0 * pt - 1.0) / np.sqrt(2.0 * pt * (1.0 - pt))
        ok[two] = True
    rest = ~cf & ~one & ~two & (df >= 1.0)
    if rest.any():
        t[rest], ok[rest] = _t_newton(p[rest], df[rest])
    return t, ok


def t_ppf(q, df):
    """Student t quantile, ``scipy.stats.t.ppf(q, df)`` (R ``qt``), vectorised over ``q``
    and ``df`` (broadcast).

    ``df = inf`` gives the normal quantile (:func:`norm_ppf`); ``df <= 0`` or NaN gives
    NaN; ``q = 0`` and ``q = 1`` give ``-inf`` and ``inf``, ``q`` outside ``[0, 1]`` or
    NaN gives NaN (as ``scipy.stats``). How it is computed, and how accurately: the
    module docstring.

    Examples
    --------
    >>> t_ppf([0.0, 0.5, 1.0], 3).tolist()
    [-inf, 0.0, inf]
    >>> round(float(t_ppf(0.025, 1)), 6)
    -12.706205
    """
    q, df = np.broadcast_arrays(np.asarray(q, dtype=float), np.asarray(df, dtype=float))
    shape = q.shape
    q = q.ravel()
    df = df.ravel()
    out = np.full(q.shape, np.nan)
    valid = (df > 0) & (q >= 0) & (q <= 1)
    out[valid & (q == 0)] = -np.inf
    out[valid & (q == 1)] = np.inf
    out[valid & (q == 0.5)] = 0.0
    inner = valid & (q > 0) & (q < 1) & (q != 0.5)
    if inner.any():
        qi, di = q[inner], df[inner]
        lower = qi < 0.5
        t, ok = _t_lower(np.where(lower, qi, 1.0 - qi), di)
        if not ok.all():
            from scipy import special  # 0 < df < 1, or not settled: rare, import then

            t[~ok] = special.stdtrit(di[~ok], np.where(lower, qi, 1.0 - qi)[~ok])
        out[inner] = np.where(lower, t, -t)
    return _scalar_or_array(out, shape)


def t_isf(q, df):
    """Upper Student t quantile, ``scipy.stats.t.isf(q, df)``: ``-t_ppf(q, df)``.

    Examples
    --------
    >>> round(float(t_isf(0.025, 10)), 6)
    2.228139
    """
    return -t_ppf(q, df)


# ----------------------------------------------------------------------------------------
# from scipy.special, imported on first use
# ----------------------------------------------------------------------------------------
def norm_cdf(x):
    """Standard normal distribution function, ``scipy.stats.norm.cdf(x)`` (R ``pnorm``).

    Examples
    --------
    >>> float(norm_cdf(0.0))
    0.5
    """
    from scipy import special

    return special.ndtr(x)


def t_sf(x, df):
    """Student t upper tail, ``scipy.stats.t.sf(x, df)`` (R ``pt(x, df, lower.tail = FALSE)``).

    Examples
    --------
    >>> float(t_sf(0.0, 5))
    0.5
    """
    from scipy import special

    return special.stdtr(df, -np.asarray(x, dtype=float))


def beta_ppf(q, a, b):
    """Beta quantile, ``scipy.stats.beta.ppf(q, a, b)`` (R ``qbeta``).

    Examples
    --------
    >>> round(float(beta_ppf(0.5, 2.0, 2.0)), 12)
    0.5
    """
    from scipy import special

    return special.betaincinv(a, b, q)
