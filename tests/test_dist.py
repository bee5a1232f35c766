"""harvest._dist: numpy normal and t quantiles against 50-digit values and scipy; the
scipy.special wrappers against scipy.stats."""

import importlib.util
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from harvest import _dist, intervals

ROOT = Path(__file__).resolve().parent.parent
rng = np.random.default_rng(11)
Q = np.concatenate([[0.0, 1.0, 1e-12, 0.5, 1 - 1e-12, 0.025, 0.975], rng.random(200)])
DF = np.concatenate([[0.5, 1, 2, 3.5, 30, 1e6, np.inf], rng.uniform(0.3, 200, 200)])

# a dense grid: q from 1e-10 to 1 - 1e-10 (log-spaced into both tails and the centre), df
# 1..100 and log-spaced to 1e7 (integers), and non-integer df from 1 to 1e7
_lower = np.concatenate([np.logspace(-10, np.log10(0.49), 160),
                         0.5 - np.logspace(-13, -2, 40)])
GRID_Q = np.concatenate([_lower, 1.0 - _lower])
GRID_DF = np.concatenate([np.arange(1.0, 101.0), np.unique(np.round(np.logspace(2, 7, 40))),
                          rng.uniform(1, 30, 40), np.exp(rng.uniform(np.log(30), np.log(1e7), 30)),
                          [29.999, 30.0, 30.001, 40.4, 40.5]])


def _reference():
    ref = pd.read_csv(ROOT / "tests/reference/t_quantiles.csv", dtype={"t": str})
    return ref["q"].to_numpy(), ref["df"].to_numpy(), ref["t"].astype(float).to_numpy()


def test_normal():
    np.testing.assert_allclose(_dist.norm_ppf(Q), stats.norm.ppf(Q), rtol=2e-15, atol=0)
    x = rng.normal(0, 3, 300)
    np.testing.assert_allclose(_dist.norm_cdf(x), stats.norm.cdf(x), rtol=1e-14, atol=0)


def test_normal_quantile_edges_and_symmetry():
    assert _dist.norm_ppf(0.5) == 0.0
    assert isinstance(_dist.norm_ppf(0.3), np.floating)
    np.testing.assert_array_equal(_dist.norm_ppf([0.0, 1.0, -0.1, 1.1, np.nan]),
                                  [-np.inf, np.inf, np.nan, np.nan, np.nan])
    # odd about 1/2: u >= 1/2 and its exact complement 1 - u
    u = 1.0 - np.concatenate([np.logspace(-16, -1, 500), rng.uniform(0, 0.5, 500)])
    np.testing.assert_array_equal(_dist.norm_ppf(u), -_dist.norm_ppf(1.0 - u))
    assert _dist.norm_ppf(np.zeros((2, 3)) + 0.2).shape == (2, 3)


def test_normal_quantile_against_scipy_ndtri_everywhere():
    """AS 241 and scipy's ndtri (Cephes) agree to a few units in the last place, out to
    q = 1e-300."""
    q = np.concatenate([np.logspace(-300, np.log10(0.4999), 4000),
                        0.5 - np.logspace(-17, -1, 400)])
    q = np.concatenate([q, 1.0 - q[q > 1e-16]])
    got, want = _dist.norm_ppf(q), special.ndtri(q)
    assert np.max(np.abs(got - want) / np.spacing(np.abs(want))) <= 8


def test_quantiles_against_50_digit_values():
    """mpmath values (scripts/t_quantile_reference.py): df 1..1e7 and inf, integer and not,
    q from 1e-300 to 1/2 - 1e-12 (the upper half: the oddness test below)."""
    q, df, exact = _reference()
    rel = np.abs(_dist.t_ppf(q, df) / exact - 1.0)
    assert rel[q >= 1e-10].max() < 4e-15
    assert rel.max() < 1e-13
    assert np.all(_dist.t_isf(q, df) == -_dist.t_ppf(q, df))
    normal = np.isinf(df)
    np.testing.assert_allclose(_dist.norm_ppf(q[normal]), exact[normal], rtol=6e-16, atol=0)


def test_t_quantiles_against_scipy_on_a_dense_grid():
    """Agreement with scipy.special.stdtrit to 5e-13 where scipy is itself that accurate
    (|q - 1/2| >= 0.01); near the centre stdtrit loses digits (4e-4 relative at df = 4,
    q = 1/2 - 1e-12; harvest matches the 50-digit values there, test above), so there the
    check is on the absolute difference."""
    q, df = np.meshgrid(GRID_Q, GRID_DF)
    got = _dist.t_ppf(q, df)
    want = special.stdtrit(df, q)
    far = np.abs(q - 0.5) >= 0.01
    np.testing.assert_allclose(got[far], want[far], rtol=5e-13, atol=0)
    np.testing.assert_allclose(got[~far], want[~far], rtol=1e-10, atol=1e-7)
    # infinite df: the normal quantile, exactly
    np.testing.assert_array_equal(_dist.t_ppf(GRID_Q, np.inf), _dist.norm_ppf(GRID_Q))


def test_t_quantile_is_odd_and_monotone():
    u, df = np.meshgrid(1.0 - _lower, GRID_DF)          # u >= 1/2: 1 - u is exact
    np.testing.assert_array_equal(_dist.t_ppf(u, df), -_dist.t_ppf(1.0 - u, df))
    grid = np.unique(GRID_Q)
    for d in (1.0, 1.5, 3.0, 7.3, 29.5, 30.0, 41.0, 1e4, np.inf):
        assert np.all(np.diff(_dist.t_ppf(grid, d)) > 0)
    # more df: closer to the normal quantile
    tails = _dist.t_ppf(0.025, np.array([1, 2, 3, 10, 29, 30, 31, 100, 1e5, np.inf]))
    assert np.all(np.diff(tails) > 0)


@pytest.mark.parametrize("df", DF[:7])
def test_t_quantiles_and_tails(df):
    q = Q if df >= 1 else Q[np.abs(Q - 0.5) > 0.01]     # stdtrit near 1/2: see above
    np.testing.assert_allclose(_dist.t_ppf(q, df), stats.t.ppf(q, df), rtol=1e-12, atol=0)
    np.testing.assert_allclose(_dist.t_isf(q, df), stats.t.isf(q, df), rtol=1e-12, atol=0)
    x = rng.normal(0, 4, 50)
    np.testing.assert_allclose(_dist.t_sf(x, df), stats.t.sf(x, df), rtol=1e-12, atol=1e-300)


def test_t_random_df_and_beta():
    q, df = Q[7:], DF[7:]
    np.testing.assert_allclose(_dist.t_ppf(q, df), stats.t.ppf(q, df), rtol=1e-12)
    a, b = rng.uniform(0.2, 50, (2, q.size))
    np.testing.assert_allclose(_dist.beta_ppf(q, a, b), stats.beta.ppf(q, a, b), rtol=1e-12)


def test_t_quantile_edges():
    """As scipy.stats: df = inf the normal quantile, df <= 0 or NaN NaN, q = 0 / 1 -inf /
    inf, q outside [0, 1] NaN; scalars give a numpy scalar, arrays broadcast."""
    np.testing.assert_array_equal(_dist.t_ppf([0.0, 0.5, 1.0], 3), [-np.inf, 0.0, np.inf])
    np.testing.assert_array_equal(
        _dist.t_ppf(0.3, [0.0, -1.0, np.nan, np.inf]),
        [np.nan, np.nan, np.nan, _dist.norm_ppf(0.3)])
    np.testing.assert_array_equal(_dist.t_ppf([0.0, 1.0, 0.3], 0.0), [np.nan] * 3)
    np.testing.assert_array_equal(_dist.t_ppf([-0.1, 1.5, np.nan], 5), [np.nan] * 3)
    assert isinstance(_dist.t_ppf(0.975, 10), np.floating)
    assert _dist.t_ppf(np.full((3, 1), 0.9), np.array([1.0, 5.0, 50.0, np.inf])).shape == (3, 4)
    # df = 1 and 2 in closed form
    q = np.concatenate([np.logspace(-300, -1, 50), [0.2, 0.3, 0.45, 0.499999]])
    cauchy = np.where(q < 0.25, -1.0 / np.tan(np.pi * q), -np.tan(np.pi * (0.5 - q)))
    np.testing.assert_allclose(_dist.t_ppf(q, 1.0), cauchy, rtol=1e-15)
    np.testing.assert_allclose(_dist.t_ppf(q, 2.0), (2 * q - 1) / np.sqrt(2 * q * (1 - q)),
                               rtol=1e-15)


def test_t_quantile_below_one_df_falls_back_to_scipy():
    q = np.array([1e-8, 0.025, 0.3, 0.7, 0.975])
    np.testing.assert_array_equal(_dist.t_ppf(q, 0.5), special.stdtrit(0.5, q))
    mixed = _dist.t_ppf(q, np.array([0.5, 3.0, 0.9, 40.0, np.inf]))
    np.testing.assert_allclose(mixed, stats.t.ppf(q, [0.5, 3.0, 0.9, 40.0, np.inf]), rtol=1e-13)


def test_cornish_fisher_table_is_the_exact_expansion():
    """The table in _dist is what scripts/t_quantile_coefficients.py derives, and its first
    four rows are Abramowitz & Stegun 26.7.5."""
    spec = importlib.util.spec_from_file_location(
        "t_quantile_coefficients", ROOT / "scripts/t_quantile_coefficients.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    exact = script.cornish_fisher_coefficients(len(_dist._CORNISH_FISHER))
    assert [[float(c) for c in row] for row in exact] == [list(r) for r in _dist._CORNISH_FISHER]
    F = Fraction
    assert exact[:4] == [
        [F(1, 4), F(1, 4)],
        [F(3, 96), F(16, 96), F(5, 96)],
        [F(-15, 384), F(17, 384), F(19, 384), F(3, 384)],
        [F(-945, 92160), F(-1920, 92160), F(1482, 92160), F(776, 92160), F(79, 92160)],
    ]


def test_gamma_half_ratio():
    """Gamma(a + 1/2) / Gamma(a): exact at a = 1/2 and 1, lgamma for small a, and
    r(a) r(a + 1/2) = a everywhere."""
    from math import exp, lgamma

    np.testing.assert_allclose(_dist._gamma_half_ratio(np.array([0.5, 1.0])),
                               [1 / np.sqrt(np.pi), np.sqrt(np.pi) / 2], rtol=4e-16)
    a = np.concatenate([[1.5, 2.0, 9.99, 10.0, 10.5], rng.uniform(0.5, 12.0, 50)])
    want = np.array([exp(lgamma(x + 0.5) - lgamma(x)) for x in a])
    np.testing.assert_allclose(_dist._gamma_half_ratio(a), want, rtol=1e-14)
    a = np.concatenate([a, np.exp(rng.uniform(np.log(12), np.log(1e8), 200))])
    product = _dist._gamma_half_ratio(a) * _dist._gamma_half_ratio(a + 0.5)
    np.testing.assert_allclose(product, a, rtol=2e-15)


def test_numpy_logit_expit_xlogy_match_scipy():
    p = np.concatenate([[0.0, 1.0, 0.3, 0.65, 0.5], rng.random(500), np.logspace(-300, -1, 50)])
    with np.errstate(divide="ignore"):
        want = special.logit(p)
    np.testing.assert_allclose(intervals._logit_of(p), want, rtol=4e-16, atol=0)
    x = np.concatenate([[-800.0, -40.0, 0.0, 40.0, 800.0], rng.normal(0, 10, 500)])
    np.testing.assert_allclose(intervals._expit(x), special.expit(x), rtol=4e-16, atol=0)
    y = np.concatenate([[0.0, 1.0, 0.5, np.nan], rng.random(20)])
    for xx in (0.0, 1.0, 0.5):
        np.testing.assert_array_equal(intervals._xlogy(np.full(y.shape, xx), y),
                                      special.xlogy(xx, y))
