"""The numpy kernels against plain loops written from R survey's onestrat/onestage."""

from __future__ import annotations

import numpy as np
import pytest

from harvest._core import group_sum, lonely_strata, stratified_vcov


def naive_vcov(scores, psu_stratum, n_psu, fraction, lonely, present=None):
    """Loop over strata, one stratum at a time, as R survey:::onestage/onestrat."""
    H = len(n_psu)
    m = scores.shape[1]
    if present is None:
        present = np.ones((H, m), bool)
    out = np.zeros(m)
    for j in range(m):
        total, nstrat, nok = 0.0, 0, 0
        for h in range(H):
            if not present[h, j]:
                continue
            nstrat += 1
            z = scores[psu_stratum == h, j]
            f = 1 - fraction[h]
            if f < 1e-7:
                nok += 1
                continue
            if n_psu[h] > 1:
                total += f * n_psu[h] / (n_psu[h] - 1) * np.sum((z - z.mean()) ** 2)
                nok += 1
            elif lonely == "adjust":
                total += f * z[0] ** 2
                nok += 1
            elif lonely in ("remove", "certainty"):
                nok += 1
            elif lonely == "fail":
                raise ValueError("lonely")
        out[j] = total * nstrat / nok if lonely == "average" else total
    return out


def test_group_sum_matches_loop(rng):
    codes = rng.integers(0, 7, 200)
    values = rng.normal(size=(200, 3))
    out = group_sum(codes, 9, values)
    assert out.shape == (9, 3)
    for g in range(9):
        np.testing.assert_allclose(out[g], values[codes == g].sum(axis=0), atol=1e-12)
    np.testing.assert_allclose(group_sum(codes, 9, values[:, 0])[:, 0], out[:, 0])


@pytest.mark.parametrize("lonely", ["remove", "certainty", "adjust", "average"])
def test_stratified_vcov_matches_loop(rng, lonely):
    n_psu = np.array([3, 1, 4, 2, 1, 5])
    fraction = np.array([0.1, 0.0, 0.5, 0.0, 0.2, 1.0])   # the last stratum is a census
    psu_stratum = np.repeat(np.arange(6), n_psu)
    scores = rng.normal(size=(n_psu.sum(), 4))
    present = rng.random((6, 4)) < 0.7
    present[:, 0] = True
    scores = np.where(present[psu_stratum], scores, 0.0)   # a domain has no scores outside
    for pres in (None, present):
        diag = stratified_vcov(scores, psu_stratum, n_psu, fraction, lonely, full=False,
                               stratum_present=pres)
        np.testing.assert_allclose(diag, naive_vcov(scores, psu_stratum, n_psu, fraction,
                                                    lonely, pres), rtol=1e-12)
    full = stratified_vcov(scores, psu_stratum, n_psu, fraction, lonely)
    np.testing.assert_allclose(np.diag(full), naive_vcov(scores, psu_stratum, n_psu,
                                                         fraction, lonely), rtol=1e-12)
    np.testing.assert_allclose(full, full.T)
    assert np.linalg.eigvalsh(full).min() > -1e-10


def test_full_covariance_is_the_variance_of_sums(rng):
    """Var(a'z) from the full matrix equals the variance of the combined scores."""
    n_psu = np.array([3, 4])
    psu_stratum = np.repeat([0, 1], n_psu)
    scores = rng.normal(size=(7, 3))
    a = np.array([1.0, -2.0, 0.5])
    full = stratified_vcov(scores, psu_stratum, n_psu, np.zeros(2), "fail")
    one = stratified_vcov(scores @ a, psu_stratum, n_psu, np.zeros(2), "fail")
    assert a @ full @ a == pytest.approx(one[0, 0], rel=1e-12)


def test_fail_raises_only_for_a_lonely_stratum_that_is_used():
    n_psu = np.array([2, 1])
    psu_stratum = np.array([0, 0, 1])
    scores = np.array([[1.0], [2.0], [3.0]])
    with pytest.raises(ValueError, match="Stratum 1 has only one PSU"):
        stratified_vcov(scores, psu_stratum, n_psu, np.zeros(2), "fail")
    out = stratified_vcov(scores, psu_stratum, n_psu, np.zeros(2), "fail", full=False,
                          stratum_present=np.array([[True], [False]]))
    assert out[0] == pytest.approx(2 * (0.5**2 + 0.5**2))   # n/(n-1) * sum of squares


def test_lonely_strata_ignores_census_strata():
    np.testing.assert_array_equal(lonely_strata([1, 1, 2], [0.0, 1.0, 0.0]),
                                  [True, False, False])


def test_average_with_only_lonely_strata_is_nan():
    out = stratified_vcov(np.array([[1.0]]), np.array([0]), np.array([1]), np.zeros(1),
                          "average", full=False)
    assert np.isnan(out[0])
