"""Design-based quantiles with Woodruff, score and replicate intervals, as R ``svyquantile``.

`quantile` is R ``survey`` (>= 4.1) ``svyquantile`` with ``svyby`` for domains:

* the point estimate is a quantile rule (``qrule``) applied to the weighted empirical
  distribution function of the domain;
* ``interval="mean" | "beta" | "xlogit" | "asin"`` (Woodruff 1952): a confidence interval
  for the proportion :math:`\\hat F(\\hat q_p)` of the domain at or below the estimate,
  with the design's variance, mapped back through the quantile rule;
* ``interval="score"`` (Francisco and Fuller 1991): the interval inverts the design-based
  score test of :math:`F(\\theta) = p`, found by R's ``uniroot`` (Brent's ``zeroin``);
* ``interval="quantile"`` (replicate designs): the quantile rule on every replicate's
  weights, with the replicate variance;

and ``se = (ci_high - ci_low) / (2 t_{1-alpha/2, df})`` as R.

Domains never loop in Python: the rows are sorted once by (domain, value) and every
domain's cumulative weights are searched at once (a vectorised binary search over
segments); the proportions at the estimates come from the design's own variance
(Taylor or replicate) through one `harvest._domains.Estimand` per variable.
See ``docs/methods/quantiles.md``.

Examples
--------
>>> import pandas as pd
>>> import harvest as hv
>>> df = pd.DataFrame({"psu": range(8), "fee": [10.0, 20, 30, 40, 50, 60, 70, 80]})
>>> t = hv.SurveyDesign(df, psu="psu").quantile("fee", q=0.5)
>>> float(t["estimate"].iloc[0])
40.0
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harvest._core import group_sum
from harvest._dist import beta_ppf, t_ppf
from harvest._domains import Estimand, build_estimand
from harvest._errors import DataError
from harvest._options import (
    NA_POLICY,
    QRULES,
    QUANTILE_INTERVALS,
    QUANTILE_REPLICATE_INTERVALS,
    check_level,
    check_option,
)

__all__ = ["QUANTILE_COLUMNS", "quantile", "apply_rule"]

#: Columns of `quantile` after the ``by`` columns (API.md).
QUANTILE_COLUMNS = ["indicator", "quantile", "estimate", "se", "ci_low", "ci_high", "level",
                    "ci_method", "df", "n"]

_STEP_RULES = ("math", "school", "hf1", "hf2", "hf3", "hf4")
_EPS = np.finfo(float).eps


# ---------------------------------------------------------------------------------------
# segments: the rows of each domain, contiguous after one sort
# ---------------------------------------------------------------------------------------
class _Segments:
    """Rows sorted by (domain, value): ``start[d]:end[d]`` are domain ``d``'s rows."""

    def __init__(self, dom_sorted, n_domains):
        self.n = dom_sorted.size
        self.dom = dom_sorted
        self.start = np.searchsorted(dom_sorted, np.arange(n_domains), side="left")
        self.end = np.searchsorted(dom_sorted, np.arange(n_domains), side="right")
        self.size = self.end - self.start


def _search_last_le(key, seg, target):
    """Index of the last row of each segment with ``key <= target`` (``start - 1`` if none).

    ``key`` is ``(n, B)``, non-decreasing within each segment; ``target`` is
    ``(D, Q, B)``. A binary search run on every (segment, query, column) at once.
    """
    D, Q, B = target.shape
    lo = np.broadcast_to(seg.start[:, None, None], target.shape).copy()
    hi = np.broadcast_to(seg.end[:, None, None], target.shape).copy()
    col = np.broadcast_to(np.arange(B)[None, None, :], target.shape)
    top = max(seg.n - 1, 0)
    while True:
        active = lo < hi
        if not active.any():
            break
        mid = (lo + hi) // 2
        ok = key[np.minimum(mid, top), col] <= target
        lo = np.where(active & ok, mid + 1, lo)
        hi = np.where(active & ~ok, mid, hi)
    return lo - 1


def _neighbours(eligible, seg):
    """``(previous, following)`` eligible row at or before / at or after each row, within
    its segment (``-1`` / ``n`` where there is none); both ``(n, B)``."""
    n, B = eligible.shape
    idx = np.arange(n)[:, None]
    prev = np.maximum.accumulate(np.where(eligible, idx, -1), axis=0)
    rows_start = seg.start[seg.dom][:, None]
    prev = np.where(prev >= rows_start, prev, -1)
    nxt = np.minimum.accumulate(np.where(eligible, idx, n)[::-1], axis=0)[::-1]
    rows_end = seg.end[seg.dom][:, None]
    nxt = np.where(nxt < rows_end, nxt, n)
    return prev, nxt


def _cumulative(w, seg, before=True):
    """Cumulative weights within segments as R ``cumsum`` (long double, then double),
    the weight before each row, and each segment's total ``(D, B)``."""
    # rows of replicates side by side: the sums run along contiguous memory
    wt = np.ascontiguousarray(w.T).astype(np.longdouble)
    cs_pad = np.zeros((wt.shape[0], wt.shape[1] + 1), dtype=np.longdouble)
    np.cumsum(wt, axis=1, out=cs_pad[:, 1:])        # cs_pad[:, i] = sum of rows < i
    base = cs_pad[:, seg.start[seg.dom]]
    cumw = (cs_pad[:, 1:] - base).astype(float).T
    prevcum = (cs_pad[:, :-1] - base).astype(float).T if before else None
    total = (cs_pad[:, seg.end] - cs_pad[:, seg.start]).astype(float).T
    return cumw, prevcum, total


def _take(a, index, col):
    """``a[index, col]`` with out-of-range indexes clipped (masked by the caller)."""
    return a[np.clip(index, 0, max(a.shape[0] - 1, 0)), col]


def apply_rule(rule, x, w, seg, p):
    """The quantile rule ``rule`` on every segment and weight column at once.

    Parameters
    ----------
    rule : str
        One of :data:`harvest._options.QRULES` (R ``qrule``).
    x : numpy.ndarray, shape (n,)
        Values sorted within each segment (domain).
    w : numpy.ndarray, shape (n, B)
        Weights (columns: the full sample, or replicates); rows of weight 0 are left out,
        as R's rules do.
    seg : _Segments
    p : numpy.ndarray, shape (D, Q, B)
        Probabilities.

    Returns
    -------
    numpy.ndarray, shape (D, Q, B)
        NaN for a segment without positive weight.

    Notes
    -----
    With :math:`W_j` the cumulative weight of the sorted values :math:`x_j` and
    :math:`W = W_n`, the step rules use the last :math:`j` with :math:`W_j \\le pW`
    (``math``: :math:`x_j` when :math:`W_j = pW`, else :math:`x_{j+1}`); the
    interpolating rules (``hf5``-``hf9``) interpolate :math:`x` linearly in the plotting
    positions :math:`p_k` of R's ``qrule_hf*`` (see ``docs/methods/quantiles.md``).

    Examples
    --------
    >>> import numpy as np
    >>> seg = _Segments(np.zeros(4, dtype=int), 1)
    >>> x, w = np.array([1.0, 2, 3, 4]), np.ones((4, 1))
    >>> apply_rule("math", x, w, seg, np.full((1, 1, 1), 0.5)).item()
    2.0
    >>> apply_rule("school", x, w, seg, np.full((1, 1, 1), 0.5)).item()
    2.5
    """
    D, Q, B = p.shape
    if rule == "hf3":
        # R: the weights summed over the distinct values first (rowsum), then the step
        # rule on the distinct values
        runs = np.flatnonzero(np.r_[True, (x[1:] != x[:-1]) | (seg.dom[1:] != seg.dom[:-1])])
        x, w = x[runs], np.add.reduceat(w, runs, axis=0)
        seg = _Segments(seg.dom[runs], D)
    col = np.broadcast_to(np.arange(B)[None, None, :], p.shape)
    positive = w > 0
    cumw, prevcum, total = _cumulative(w, seg, before=rule not in _STEP_RULES)
    Wt = total[:, None, :]
    empty = ~(group_sum(seg.dom, D, positive.astype(float)) > 0)[:, None, :]
    if rule in _STEP_RULES:
        eligible = positive
        prev, nxt = _neighbours(eligible, seg)
        idx = _search_last_le(cumw, seg, p * Wt)
        pos = np.where(idx >= seg.start[:, None, None], _take(prev, idx, col), -1)
        first = _take(nxt, np.broadcast_to(seg.start[:, None, None], p.shape), col)
        pos = np.where(pos >= 0, pos, first)                   # R's last(): 1 if none
        following = _take(nxt, pos + 1, col)
        end = seg.end[:, None, None]
        posnext = np.where((following < end) & (pos + 1 < end), following, pos)
        qlow = _take(np.broadcast_to(x[:, None], w.shape), pos, col)
        qup = _take(np.broadcast_to(x[:, None], w.shape), posnext, col)
        with np.errstate(divide="ignore", invalid="ignore"):
            wlow = p - _take(cumw, pos, col) / Wt
            wup = _take(cumw, posnext, col) / Wt - p
            if rule in ("math", "hf1"):
                out = np.where(wlow == 0, qlow, qup)
            elif rule in ("school", "hf2"):
                out = np.where(wlow == 0, (qlow + qup) / 2, qup)
            elif rule == "hf3":
                counts = np.cumsum(eligible, axis=0)
                ilow = _take(counts, pos, col) - np.where(
                    seg.start[:, None, None] > 0,
                    _take(counts, seg.start[:, None, None] - 1, col), 0)
                out = np.where((wlow == 0) & (ilow % 2 == 0), qlow, qup)
            else:  # hf4
                gamma = wlow / (wup + wlow)
                out = qlow * (1 - gamma) + qup * gamma
        return np.where(empty, np.nan, out)
    return _interpolated(rule, x, w, positive, cumw, prevcum, total, seg, p, empty)


def _interpolated(rule, x, w, positive, cumw, prevcum, total, seg, p, empty):
    """Rules that interpolate in plotting positions (hf5-hf9, shahvaish)."""
    n, B = w.shape
    col = np.broadcast_to(np.arange(B)[None, None, :], p.shape)
    prev, nxt = _neighbours(positive, seg)
    last = _take(prev, np.broadcast_to(seg.end[:, None], (seg.start.size, B)) - 1,
                 np.arange(B)[None, :])                      # last positive row (D, B)
    last_r = last[seg.dom]                                   # per row (n, B)
    colr = np.broadcast_to(np.arange(B)[None, :], (n, B))
    w_last = _take(w, last_r, colr)
    W = total[seg.dom]
    with np.errstate(divide="ignore", invalid="ignore"):
        if rule == "hf5":
            pk = (cumw - w / 2) / W
        elif rule == "hf6":
            pk = cumw / (W + w_last)
        elif rule == "hf7":
            pk = prevcum / _take(prevcum, last_r, colr)
        elif rule == "hf8":
            pk = (prevcum * 1 / 3 + cumw * 2 / 3) / (W + w_last / 3)
        elif rule == "hf9":
            pk = (prevcum * 3 / 8 + cumw * 5 / 8) / (W + w_last / 4)
        else:  # shahvaish
            npos = group_sum(seg.dom, seg.start.size, positive.astype(float))[seg.dom]
            mean_w = W / npos
            pk = (cumw / mean_w + 0.5 - w / 2) / (npos + 1)
    # rows of weight 0 take the position of the positive row before them (-inf if none),
    # so that the positions stay sorted within each segment for the search
    pk = np.where(prev >= 0, _take(pk, prev, colr), -np.inf)
    xv = np.broadcast_to(x[:, None], (n, B))
    if rule == "shahvaish":
        # R's approx() sorts the plotting positions (they need not increase)
        order = np.argsort(pk, axis=0, kind="stable")
        order = np.take_along_axis(
            order, np.argsort(seg.dom[order], axis=0, kind="stable"), axis=0)
        pk = np.take_along_axis(pk, order, axis=0)
        xv = np.take_along_axis(np.ascontiguousarray(xv), order, axis=0)
        positive = np.take_along_axis(positive, order, axis=0)
        prev, nxt = _neighbours(positive, seg)
    idx = _search_last_le(pk, seg, p)
    i = np.where(idx >= seg.start[:, None, None], _take(prev, idx, col), -1)
    first = _take(nxt, np.broadcast_to(seg.start[:, None, None], p.shape), col)
    j = np.where(i >= 0, _take(nxt, i + 1, col), first)
    end = seg.end[:, None, None]
    has_j = (j < end) & (j < n) & (j > i)
    xi, xj = _take(xv, i, col), _take(xv, j, col)
    pi, pj = _take(pk, i, col), _take(pk, j, col)
    with np.errstate(divide="ignore", invalid="ignore"):
        if rule == "shahvaish":       # approx(method="constant", f=0, rule=2)
            inner = xi
        else:
            inner = np.where(p == pi, xi, xi + (xj - xi) * ((p - pi) / (pj - pi)))
    out = np.where(i < 0, xj, np.where(has_j, inner, xi))     # rule=2 at both ends
    return np.where(empty, np.nan, out)


# ---------------------------------------------------------------------------------------
# the design's proportions at given cut points
# ---------------------------------------------------------------------------------------
class _Variable:
    """One variable's rows with positive weight and a value, sorted by (domain, value)."""

    def __init__(self, design, base, j):
        x_all = base.row_y[:, j]
        valid = ~np.isnan(x_all)
        rows = base.row_index[valid]
        x = x_all[valid]
        dom = base.row_domain[valid]
        order = np.lexsort((x, dom))
        self.rows, self.x, self.dom = rows[order], x[order], dom[order]
        self.w = base.row_weight[valid][order]
        self.D = base.n_domains
        self.seg = _Segments(self.dom, self.D)
        self.design, self.base, self.name = design, base, base.variables[j]

    def proportion(self, indicator):
        """Design-based proportions of the 0/1 columns ``indicator`` (n, K) in each
        domain: ``(estimate, variance, df)`` each ``(D, K)``, from the design's own
        variance (``_vcov``: Taylor or replicates) and df (``_df``)."""
        design, D = self.design, self.D
        codes = design._codes
        K = indicator.shape[1]
        P, H = codes.n_psus, codes.n_strata
        cell = codes.row_psu[self.rows] * D + self.dom
        w = self.w
        Y = group_sum(cell, P * D, w[:, None] * indicator).reshape(P, D * K)
        X = np.repeat(group_sum(cell, P * D, w), K, axis=1).reshape(P, D * K)
        per_cell = np.bincount(cell, minlength=P * D)
        counts = np.repeat(per_cell.astype(float)[:, None], K, axis=1).reshape(P, D * K)
        est = Estimand.from_dense(
            psu_stratum=codes.psu_stratum, n_strata=H, kind="proportion", by=self.base.by,
            domains=self.base.domains,
            indicators=[f"{self.name}:{c}" for c in range(K)], variables=[self.name] * K,
            denominators=[], Y=Y, X=X, n=np.repeat(self.seg.size, K), wsum=X.sum(axis=0),
            s2=np.full(D * K, np.nan), domain_psu=(per_cell > 0).reshape(P, D),
            stratum_present=group_sum(codes.psu_stratum, H, counts) > 0,
            row_index=self.rows, row_domain=self.dom, row_y=indicator.astype(float),
            row_weight=w)
        estimate = est.estimate().reshape(D, K)
        variance = np.asarray(design._vcov(est, False), dtype=float).reshape(D, K)
        df = np.asarray(design._df(est), dtype=float).reshape(D, K)
        return estimate, variance, df

    def rule(self, qrule, p):
        """``qrule`` at probabilities ``p`` (D, K) with the full-sample weights."""
        return apply_rule(qrule, self.x, self.w[:, None], self.seg, p[:, :, None])[:, :, 0]

    def below(self, cut):
        """Rows at or below their domain's cut points ``cut`` (D, K): ``(n, K)``."""
        return self.x[:, None] <= cut[self.dom]


# ---------------------------------------------------------------------------------------
# intervals
# ---------------------------------------------------------------------------------------
def _woodruff(var: _Variable, qhat, probs, interval, qrule, alpha):
    """Woodruff interval (R ``woodruffCI``): the proportion's interval, mapped back."""
    p, v, df = var.proportion(var.below(qhat))
    se = np.sqrt(np.maximum(v, 0.0))
    tq = t_ppf(1 - alpha / 2, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        if interval == "mean":
            lo, hi = p + se * t_ppf(alpha / 2, df), p + se * tq
        elif interval == "xlogit":
            eta, s = np.log(p / (1 - p)), se / (p * (1 - p))
            lo = 1 / (1 + np.exp(-(eta + s * t_ppf(alpha / 2, df))))
            hi = 1 / (1 + np.exp(-(eta + s * tq)))
        elif interval == "asin":
            eta, s = np.arcsin(np.sqrt(p)), se / (2 * np.sqrt(p * (1 - p)))
            lo = np.sin(eta + s * t_ppf(alpha / 2, df)) ** 2
            hi = np.sin(eta + s * tq) ** 2
        else:  # beta
            n = var.seg.size[:, None].astype(float)
            n_eff = p * (1 - p) / v * (t_ppf(alpha / 2, n - 1) / t_ppf(alpha / 2, df)) ** 2
            lo = beta_ppf(alpha / 2, n_eff * p, n_eff * (1 - p) + 1)
            hi = beta_ppf(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p))
    lo = np.where(np.isnan(lo) | (lo < 0), np.nan, lo)
    hi = np.where(np.isnan(hi) | (hi > 1), np.nan, hi)
    both = var.rule(qrule, np.concatenate([np.nan_to_num(lo), np.nan_to_num(hi)], axis=1))
    Q = qhat.shape[1]
    low = np.where(np.isnan(lo), np.nan, both[:, :Q])
    high = np.where(np.isnan(hi), np.nan, both[:, Q:])
    return low, high, df


def _type7(var: _Variable, prob):
    """R ``quantile(x, prob)`` (type 7, unweighted) of each domain's values, ``(D,)``."""
    seg, x = var.seg, var.x
    n = seg.size
    index = 1 + np.maximum(n - 1, 0) * prob
    lo = np.floor(index).astype(np.intp)
    hi = np.ceil(index).astype(np.intp)
    top = max(x.size - 1, 0)
    xl = x[np.clip(seg.start + lo - 1, 0, top)]
    xh = x[np.clip(seg.start + hi - 1, 0, top)]
    h = index - lo
    return np.where((index > lo) & (xh != xl), (1 - h) * xl + h * xh, xl)


def _zeroin(f, a, b, fa, fb, tol, maxit=1000):
    """R ``uniroot`` (Brent's ``zeroin``, R's ``R_zeroin2``) on many functions at once.

    ``f`` maps ``(m,)`` abscissae to ``(m,)`` values; columns whose end-point values have
    the same sign (where R stops with an error) give NaN.
    """
    a, b, fa, fb = (np.array(v, dtype=float) for v in (a, b, fa, fb))
    c, fc = a.copy(), fa.copy()
    root = np.full(a.shape, np.nan)
    done = ~np.isfinite(fa) | ~np.isfinite(fb) | (fa * fb > 0)
    for hit, value in ((fa == 0, a), (fb == 0, b)):
        new = hit & ~done
        root[new], done = value[new], done | new
    for _ in range(maxit + 1):
        if done.all():
            break
        prev_step = b - a
        swap = np.abs(fc) < np.abs(fb)
        a, b, c = np.where(swap, b, a), np.where(swap, c, b), np.where(swap, b, c)
        fa, fb, fc = np.where(swap, fb, fa), np.where(swap, fc, fb), np.where(swap, fb, fc)
        tol_act = 2 * _EPS * np.abs(b) + tol / 2
        new_step = (c - b) / 2
        conv = ((np.abs(new_step) <= tol_act) | (fb == 0)) & ~done
        root[conv], done = b[conv], done | conv
        cb = c - b
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            t1 = fb / fa
            p_lin, q_lin = cb * t1, 1.0 - t1
            qq, t1q, t2 = fa / fc, fb / fc, fb / fa
            p_quad = t2 * (cb * qq * (qq - t1q) - (b - a) * (t1q - 1.0))
            q_quad = (qq - 1.0) * (t1q - 1.0) * (t2 - 1.0)
            pp = np.where(a == c, p_lin, p_quad)
            qv = np.where(a == c, q_lin, q_quad)
            qv = np.where(pp > 0, -qv, qv)
            pp = np.abs(pp)
            accept = ((np.abs(prev_step) >= tol_act) & (np.abs(fa) > np.abs(fb))
                      & (pp < 0.75 * cb * qv - np.abs(tol_act * qv) / 2)
                      & (pp < np.abs(prev_step * qv / 2)))
            new_step = np.where(accept, pp / qv, new_step)
        new_step = np.where(np.abs(new_step) < tol_act,
                            np.where(new_step > 0, tol_act, -tol_act), new_step)
        a, fa = b, fb
        b = np.where(done, b, b + new_step)
        fb = np.where(done, fb, f(b))
        flip = ((fb > 0) & (fc > 0)) | ((fb < 0) & (fc < 0))
        c, fc = np.where(flip, a, c), np.where(flip, fa, fc)
    root[~done] = b[~done]     # R: maximum iterations reached (with a warning)
    return root


def _score(var: _Variable, qhat, probs, qrule, alpha):
    """Francisco-Fuller score interval (R ``ffullerCI``)."""
    D, Q = qhat.shape
    _, _, df = var.proportion(var.below(qhat))
    qlimit = np.concatenate([t_ppf(1 - alpha / 2, df), t_ppf(alpha / 2, df)], axis=1)
    p2 = np.concatenate([np.broadcast_to(probs, (D, Q))] * 2, axis=1)

    def f(theta):
        theta = theta.reshape(D, 2 * Q)
        above, v, _ = var.proportion(~var.below(theta))
        with np.errstate(divide="ignore", invalid="ignore"):
            return ((above - (1 - p2)) / np.sqrt(v) - qlimit).reshape(-1)

    seg, x = var.seg, var.x
    top = max(x.size - 1, 0)
    iqr = _type7(var, 0.75) - _type7(var, 0.25)
    lower = np.repeat(x[np.clip(seg.start, 0, top)] + iqr / 100, 2 * Q)
    upper = np.repeat(x[np.clip(seg.end - 1, 0, top)] - iqr / 100, 2 * Q)
    tol = np.repeat(1 / (100 * np.sqrt(seg.size.astype(float))), 2 * Q)
    root = _zeroin(f, lower, upper, f(lower), f(upper), tol).reshape(D, 2 * Q)
    # R: qrule(x, w, mean(x <= root)), the unweighted share of the domain at or below
    at_or_below = _search_last_le(x[:, None], seg, np.nan_to_num(root)[:, :, None])[:, :, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = (at_or_below - seg.start[:, None] + 1) / seg.size[:, None]
    ends = var.rule(qrule, np.nan_to_num(share))
    ends = np.where(np.isnan(root), np.nan, ends)
    return ends[:, :Q], ends[:, Q:], df


def _replicate_weight_blocks(design, rows):
    """``(start, (len(rows), b))`` blocks of the replicate analysis weights on ``rows``."""
    w = design._codes.weights[rows]
    if design._factors is not None:
        psu = design._codes.row_psu[rows]
        for start, F in design._factors.blocks(design.batch):
            yield start, w[:, None] * F[:, psu].T
        return
    columns = design.replicate_columns
    R = len(columns)
    batch = design.batch or max(1, min(R, 4_000_000 // max(rows.size, 1)))
    for start in range(0, R, batch):
        block = design.data[columns[start:start + batch]].iloc[rows].to_numpy(dtype=float)
        if not design.combined_weights:
            block = block * w[:, None]
        yield start, block


def _replicate_quantile(var: _Variable, qhat, probs, qrule, alpha):
    """The quantile rule on each replicate, replicate variance (R ``repCI``)."""
    design = var.design
    D, Q = qhat.shape
    _, _, df = var.proportion(var.below(qhat))
    thetas = []
    for _, block in _replicate_weight_blocks(design, var.rows):
        p = np.broadcast_to(probs[None, :, None], (D, Q, block.shape[1]))
        thetas.append(apply_rule(qrule, var.x, block, var.seg, np.ascontiguousarray(p)))
    theta = np.concatenate(thetas, axis=2)                 # (D, Q, R)
    rscales = np.asarray(design.rscales, dtype=float)
    ok = ~np.isnan(theta)                                  # R: na.omit on the replicates
    with np.errstate(invalid="ignore", divide="ignore"):
        if design.mse:
            centre = qhat[:, :, None]
        else:
            centre = (np.where(ok, theta, 0).sum(axis=2) / ok.sum(axis=2))[:, :, None]
        dev = np.where(ok, theta - centre, 0.0)
        v = design.scale * (rscales * dev * dev).sum(axis=2)
    half = np.sqrt(v) * t_ppf(1 - alpha / 2, df)
    return qhat - half, qhat + half, df


# ---------------------------------------------------------------------------------------
# the estimator
# ---------------------------------------------------------------------------------------
def _check_q(q) -> np.ndarray:
    values = np.atleast_1d(np.asarray(q, dtype=float)).reshape(-1)
    if values.size == 0:
        raise ValueError("`q` must hold at least one probability.")
    bad = ~((values >= 0) & (values <= 1))
    if bad.any():
        raise ValueError(f"`q` must be probabilities in [0, 1]; got {values[bad][0]!r}.")
    return values


def quantile(design, variables, q=0.5, by=None, interval="mean", qrule="math", level=0.95,
             na="fail"):
    """Design-based quantiles of each variable in each domain, with their intervals.

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
    variables : str or list of str
        Numeric columns.
    q : float or list of float
        Probabilities in [0, 1] (0.5: the median).
    by : str or list of str, optional
        Domain columns (R ``svyby(~x, ~by, svyquantile, ...)``).
    interval : str
        ``"mean"`` (default), ``"beta"``, ``"xlogit"``, ``"asin"`` (Woodruff) or
        ``"score"`` (Francisco-Fuller) on a Taylor design; ``"mean"`` or ``"quantile"``
        on a replicate design (R ``interval.type``).
    qrule : str
        ``"math"`` (default), ``"school"``, ``"shahvaish"``, ``"hf1"`` ... ``"hf9"``
        (R ``qrule``).
    level : float
        Confidence level.
    na : {"fail", "drop"}
        Missing values: an error, or leave those rows out (R ``na.rm=TRUE``).

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, then ``indicator, quantile, estimate, se, ci_low, ci_high,
        level, ci_method, df, n``: one row per domain x variable x probability.

    Notes
    -----
    With sorted values :math:`x_{(j)}`, cumulative weights :math:`W_j` and
    :math:`W = W_n`, ``qrule="math"`` gives :math:`\\hat q_p = x_{(j+1)}` for the last
    :math:`j` with :math:`W_j \\le pW` (:math:`x_{(j)}` if :math:`W_j = pW`). Woodruff's
    interval (``"mean"``) is

    .. math::

        \\left[\\hat Q\\left(\\hat F(\\hat q_p) - t\\,\\mathrm{se}\\right),\\;
        \\hat Q\\left(\\hat F(\\hat q_p) + t\\,\\mathrm{se}\\right)\\right],

    with :math:`\\hat F(\\hat q_p)` the design-based mean of :math:`1(x_i \\le \\hat q_p)`
    and :math:`\\hat Q` the quantile rule; ``se`` is
    :math:`(c_{high} - c_{low}) / (2 t_{1-\\alpha/2, df})`. Ends outside :math:`[0, 1]`
    give NaN, as R.

    Examples
    --------
    >>> import pandas as pd
    >>> import harvest as hv
    >>> df = pd.DataFrame({"psu": range(6), "fee": [5.0, 1, 4, 2, 3, 6],
    ...                    "g": list("aaabbb")})
    >>> t = hv.SurveyDesign(df, psu="psu").quantile("fee", q=0.5, by="g")
    >>> t["estimate"].tolist()
    [4.0, 3.0]
    """
    level = check_level(level)
    check_option("na", na, NA_POLICY)
    check_option("qrule", qrule, QRULES)
    replicate = not design._linearised
    check_option("interval", interval,
                 QUANTILE_REPLICATE_INTERVALS if replicate else QUANTILE_INTERVALS)
    probs = _check_q(q)
    base = build_estimand(design, "mean", variables, by, na)
    alpha = 1.0 - level
    D, Q, k = base.n_domains, probs.size, base.k
    shape = (D, k, Q)
    est, low, high, dfs = (np.full(shape, np.nan) for _ in range(4))
    counts = np.zeros((D, k), dtype=np.int64)
    for j in range(k):   # variables (columns), never domains
        var = _Variable(design, base, j)
        counts[:, j] = var.seg.size
        if var.x.size == 0:
            raise DataError(f"column {var.name!r} has no values with positive weight.")
        qhat = var.rule(qrule, np.broadcast_to(probs, (D, Q)).copy())
        if interval == "score":
            lo, hi, df = _score(var, qhat, probs, qrule, alpha)
        elif interval == "quantile":
            lo, hi, df = _replicate_quantile(var, qhat, probs, qrule, alpha)
        else:
            lo, hi, df = _woodruff(var, qhat, probs, interval, qrule, alpha)
        est[:, j], low[:, j], high[:, j], dfs[:, j] = qhat, lo, hi, df
    with np.errstate(invalid="ignore"):
        se = (high - low) / (2 * t_ppf(1 - alpha / 2, dfs))
    m = D * k * Q
    table = base.domains.iloc[np.repeat(np.arange(D), k * Q)].reset_index(drop=True)
    stats = pd.DataFrame({
        "indicator": np.tile(np.repeat(np.asarray(base.indicators, dtype=object), Q), D),
        "quantile": np.tile(probs, D * k),
        "estimate": est.reshape(-1), "se": se.reshape(-1),
        "ci_low": low.reshape(-1), "ci_high": high.reshape(-1),
        "level": np.full(m, level), "ci_method": np.full(m, interval, dtype=object),
        "df": dfs.reshape(-1), "n": np.repeat(counts.reshape(-1), Q),
    })
    stats["indicator"] = stats["indicator"].astype(str)
    stats["ci_method"] = stats["ci_method"].astype(str)
    return pd.concat([table, stats], axis=1)
