"""harvest's numpy R-hat and ESS (harvest.bayes._diagnostics) give arviz_stats' numbers."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from harvest.bayes import _diagnostics as diag


def _cases():
    rng = np.random.default_rng(1)
    nan = rng.normal(size=(3, 50, 4))
    nan[1, 7, 2] = np.nan
    return {
        "normal": rng.normal(size=(4, 1000, 3)),
        "random walk": np.cumsum(rng.normal(size=(4, 300, 2, 3)), axis=1),
        "ties": rng.integers(0, 3, size=(4, 200, 5)).astype(float),
        "constant": np.ones((4, 100, 2)),
        "with a NaN": nan,
        "one chain": rng.normal(size=(1, 100, 2)),
        "three draws": rng.normal(size=(2, 3)),
        "odd number of draws": rng.normal(size=(3, 101)),
        "skewed scalar": rng.gamma(2, size=(4, 1000)),
        "rare events": (rng.random((4, 500, 2)) < 0.1).astype(float),
    }


@pytest.mark.parametrize("name", list(_cases()))
def test_rhat_and_ess_equal_arviz_stats_bit_for_bit(name):
    array_stats = pytest.importorskip("arviz_stats.base").array_stats
    x = _cases()[name]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        theirs = [array_stats.rhat(x, chain_axis=0, draw_axis=1, method="rank"),
                  array_stats.ess(x, chain_axis=0, draw_axis=1, method="bulk"),
                  array_stats.ess(x, chain_axis=0, draw_axis=1, method="tail",
                                  prob=(0.05, 0.95))]
        ours = [diag.rhat_rank(x), diag.ess_bulk(x), diag.ess_tail(x, (0.05, 0.95))]
    for a, b in zip(theirs, ours, strict=True):
        a = np.asarray(a, float)
        assert a.shape == b.shape
        np.testing.assert_array_equal(a, b)


def test_fft_length_equals_scipy():
    from scipy.fftpack import next_fast_len

    assert [diag._next_fast_len(n) for n in range(1, 5000)] == \
        [next_fast_len(n) for n in range(1, 5000)]


def test_needs_chain_and_draw_axes():
    with pytest.raises(ValueError, match="shape \\(chain, draw, ...\\)"):
        diag.rhat_rank(np.zeros(10))
