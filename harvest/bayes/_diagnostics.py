"""Rank-normalised split R-hat, bulk ESS and tail ESS with numpy only.

The same computations as ``arviz_stats.base.array_stats.rhat(method="rank")`` and
``ess(method="bulk")``/``ess(method="tail", prob=(0.05, 0.95))`` (Vehtari et al. 2021),
step for step and in the same floating-point order, so the numbers are bit-identical
(tested against ``arviz_stats`` in ``tests/test_bayes_diagnostics.py``). Why not call
``arviz_stats``: importing it imports scipy.stats, scipy.signal and xarray-einstats, about
a second of every process that fits a model, for three estimators of a few lines each.

The only scipy function used is ``scipy.special.ndtri`` (the normal quantile that
``scipy.stats.norm.ppf`` evaluates); scipy.special is imported by PyTensor anyway.
"""

from __future__ import annotations

import numpy as np

__all__ = ["rhat_rank", "ess_bulk", "ess_tail"]

_C = 3 / 8          # Blom's offset of the rank back-transformation


def _invalid(ary: np.ndarray, min_chains: int, min_draws: int = 4) -> bool:
    """``arviz_stats.base.stats_utils.not_valid``: NaN anywhere, or too few chains/draws."""
    isnan = np.isnan(ary)
    if isnan.all():
        return True
    shape = ary.shape
    chain_error = ((min_chains > 1) and (len(shape) < 2)) or (shape[0] < min_chains)
    draw_error = ((len(shape) < 2) and (shape[0] < min_draws)) or (
        (len(shape) > 1) and (shape[1] < min_draws))
    return bool(isnan.any() | chain_error | draw_error)


def _rankdata(values: np.ndarray) -> np.ndarray:
    """Average ranks (1-based) of a flat array, ties sharing the mean of their ranks."""
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    new = np.r_[True, ordered[1:] != ordered[:-1]]
    dense = np.empty(values.size, dtype=np.intp)
    dense[order] = np.cumsum(new)
    count = np.r_[np.flatnonzero(new), values.size]
    return 0.5 * (count[dense] + count[dense - 1] + 1)


def _z_scale(ary: np.ndarray) -> np.ndarray:
    from scipy.special import ndtri

    rank = _rankdata(np.ravel(ary))
    rank = (rank - _C) / (rank.size - 2 * _C + 1)
    return ndtri(rank).reshape(ary.shape)


def _split_chains(ary: np.ndarray) -> np.ndarray:
    if ary.ndim <= 1:
        ary = np.atleast_2d(ary)
    half = ary.shape[1] // 2
    return np.vstack((ary[:, :half], ary[:, -half:]))


def _rhat(ary: np.ndarray) -> float:
    ary = np.asarray(ary, dtype=float)
    n = ary.shape[1]
    chain_mean = np.mean(ary, axis=1)
    chain_var = np.var(ary, axis=1, ddof=1)
    between = n * np.var(chain_mean, axis=None, ddof=1)
    within = np.mean(chain_var)
    return np.sqrt((between / within + n - 1) / n)


def _next_fast_len(target: int) -> int:
    """Smallest 2^a 3^b 5^c >= ``target`` (``scipy.fftpack.next_fast_len``)."""
    if target <= 6:
        return max(int(target), 1)
    best = None
    p5 = 1
    while p5 < 2 * target:
        p35 = p5
        while p35 < 2 * target:
            # the smallest power of two that lifts p35 to target or beyond
            quotient = -(-target // p35)
            candidate = p35 * (1 << (int(quotient) - 1).bit_length())
            if candidate >= target and (best is None or candidate < best):
                best = candidate
            p35 *= 3
        p5 *= 5
    return best


def _autocov(ary: np.ndarray) -> np.ndarray:
    """Autocovariance of each row at every lag (FFT), as ``arviz_stats`` computes it."""
    n = ary.shape[1]
    m = _next_fast_len(2 * n)
    ary = ary - ary.mean(1, keepdims=True)
    transform = np.fft.rfft(ary, n=m, axis=1)
    transform *= np.conjugate(transform)
    cov = np.fft.irfft(transform, n=m, axis=1)[:, :n]
    cov /= n
    return cov


def _ess(ary: np.ndarray) -> float:
    """Effective sample size of a (chain, draw) array (Geyer's initial sequences)."""
    ary = np.asarray(ary, dtype=float)
    if (np.max(ary) - np.min(ary)) < np.finfo(float).resolution:
        return ary.size
    n_chain, n_draw = ary.shape
    acov = _autocov(ary)
    chain_mean = ary.mean(axis=1)
    mean_var = np.mean(acov[:, 0]) * n_draw / (n_draw - 1.0)
    var_plus = mean_var * (n_draw - 1.0) / n_draw
    if n_chain > 1:
        var_plus += np.var(chain_mean, axis=None, ddof=1)
    rho = np.zeros(n_draw)
    rho_even = 1.0
    rho[0] = rho_even
    rho_odd = 1.0 - (mean_var - np.mean(acov[:, 1])) / var_plus
    rho[1] = rho_odd
    t = 1
    while t < (n_draw - 3) and (rho_even + rho_odd) > 0.0:
        rho_even = 1.0 - (mean_var - np.mean(acov[:, t + 1])) / var_plus
        rho_odd = 1.0 - (mean_var - np.mean(acov[:, t + 2])) / var_plus
        if (rho_even + rho_odd) >= 0:
            rho[t + 1] = rho_even
            rho[t + 2] = rho_odd
        t += 2
    max_t = t - 2
    if rho_even > 0:
        rho[max_t + 1] = rho_even
    t = 1
    while t <= max_t - 2:
        if (rho[t + 1] + rho[t + 2]) > (rho[t - 1] + rho[t]):
            rho[t + 1] = (rho[t - 1] + rho[t]) / 2.0
            rho[t + 2] = rho[t + 1]
        t += 2
    ess = n_chain * n_draw
    tau = -1.0 + 2.0 * np.sum(rho[: max_t + 1]) + np.sum(rho[max_t + 1: max_t + 2])
    tau = max(tau, 1 / np.log10(ess))
    ess = ess / tau
    if np.isnan(rho).any():
        ess = np.nan
    return ess


def _rhat_rank_2d(ary):
    if _invalid(ary, min_chains=2):
        return np.nan
    split = _split_chains(ary)
    bulk = _rhat(_z_scale(split))
    tail = _rhat(_z_scale(abs(split - np.median(split))))
    return max(bulk, tail)


def _ess_bulk_2d(ary):
    if _invalid(ary, min_chains=1):
        return np.nan
    return _ess(_z_scale(_split_chains(ary)))


def _ess_quantile_2d(ary, prob):
    if _invalid(ary, min_chains=1):
        return np.nan
    quantile = np.quantile(ary, prob, axis=None, method="linear")
    return _ess(_split_chains(ary <= quantile))


def _ess_tail_2d(ary, prob=(0.05, 0.95)):
    if _invalid(ary, min_chains=1):
        return np.nan
    low, high = prob
    return min(_ess_quantile_2d(ary, low), _ess_quantile_2d(ary, high))


def _apply(func, draws: np.ndarray) -> np.ndarray:
    """``func`` of each element's (chain, draw) array; ``draws`` is (chain, draw, ...)."""
    draws = np.asarray(draws)
    if draws.ndim < 2:
        raise ValueError(f"draws must have shape (chain, draw, ...); got {draws.shape}")
    # the element axes first, chain and draw last (arviz_stats' process_ary_axes)
    ary = np.transpose(draws, [*range(2, draws.ndim), 0, 1])
    shape = ary.shape[:-2]
    out = np.empty(shape)
    for idx in np.ndindex(shape):
        value = np.asarray(func(ary[idx]))
        out[idx] = np.squeeze(value) if idx == () else value
    return out


def rhat_rank(draws: np.ndarray) -> np.ndarray:
    """Rank-normalised split R-hat of each element of ``(chain, draw, ...)`` draws.

    NaN with fewer than 2 chains or 4 draws, or where a draw is NaN.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(4, 500))
    >>> bool(abs(rhat_rank(x) - 1) < 0.01)
    True
    """
    return _apply(_rhat_rank_2d, draws)


def ess_bulk(draws: np.ndarray) -> np.ndarray:
    """Bulk effective sample size of each element of ``(chain, draw, ...)`` draws.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(4, 500, 3))
    >>> bool((ess_bulk(x) > 1000).all())
    True
    """
    return _apply(_ess_bulk_2d, draws)


def ess_tail(draws: np.ndarray, prob: tuple[float, float] = (0.05, 0.95)) -> np.ndarray:
    """Tail effective sample size (the smaller of the ESS of the two quantile indicators).

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(4, 500))
    >>> bool(ess_tail(x) > 1000)
    True
    """
    return _apply(lambda a: _ess_tail_2d(a, prob), draws)
