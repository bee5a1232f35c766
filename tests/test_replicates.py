"""Replicate-weight factors (harvest.replicates, harvest._hadamard).

R reference: tests/reference/survey_replicates.R (R's Hadamard matrices and BRR/Fay
factor matrices in tests/reference/replicates/).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harvest._errors import HarvestWarning
from harvest._hadamard import hadamard
from harvest.replicates import BLOCK, as_seed_sequence, make_factors, r_string_order

# Lonely-PSU policies are applied on purpose here: their LonelyPSUWarning is
# tested in tests/test_zero_weight_lonely.py.
pytestmark = pytest.mark.filterwarnings("ignore::harvest._errors.LonelyPSUWarning")

REF = Path(__file__).parent / "reference" / "replicates"


def _random_design(rng, n_strata=6, low=2, high=7):
    n_psu = rng.integers(low, high, size=n_strata)
    return np.repeat(np.arange(n_strata), n_psu)


# -- Hadamard -----------------------------------------------------------------------------
def test_hadamard_is_r_hadamard():
    ref = pd.read_csv(REF / "hadamard.csv", dtype={"bits": str})
    for n, rows in ref.groupby("n"):
        expected = np.array([[int(c) for c in b] for b in rows.sort_values("row")["bits"]])
        np.testing.assert_array_equal(hadamard(int(n)), expected, err_msg=f"n={n}")


@pytest.mark.parametrize("n", [1, 5, 41, 77, 150, 257])
def test_hadamard_is_orthogonal_with_enough_rows(n):
    H = hadamard(n).astype(int)
    S = 2 * H - 1
    assert H.shape[0] == H.shape[1] >= n + 1
    np.testing.assert_array_equal(S.T @ S, H.shape[0] * np.eye(H.shape[0], dtype=int))


def test_hadamard_rejects_zero():
    with pytest.raises(ValueError, match="positive number of strata"):
        hadamard(0)


# -- BRR and Fay: R's factor matrices -----------------------------------------------------------
@pytest.mark.parametrize("method,rho,file", [("brr", None, "brr_factors.csv"),
                                              ("fay", 0.3, "fay_factors.csv")])
def test_brr_and_fay_factors_equal_r(method, rho, file):
    data = pd.read_csv(REF / "brr_data.csv")
    ref = pd.read_csv(REF / file)  # one row per PSU in order of first appearance
    first = data.drop_duplicates("psu")
    labels = sorted(first["stratum"].unique())  # codes in sorted order, as SurveyDesign
    code = {s: i for i, s in enumerate(labels)}
    psu_stratum = first["stratum"].map(code).to_numpy()
    strat_first = pd.Series(np.arange(len(first)), index=first["stratum"]).groupby(
        level=0).min().loc[labels].to_numpy()
    f = make_factors(method, psu_stratum, rho=rho, stratum_labels=labels,
                     psu_first_row=np.arange(len(first)), stratum_first_row=strat_first)
    expected = ref.drop(columns="psu").to_numpy().T
    assert f.n_replicates == expected.shape[0] == 16
    np.testing.assert_allclose(f.matrix(), expected, rtol=0, atol=1e-15)
    assert f.scale == pytest.approx(1 / (16 * (1 - (rho or 0)) ** 2))


def test_r_string_order_sorts_like_r():
    # R: sort(c("s1","s10","s2","S3","b","A")) -> "A" "b" "s1" "s10" "s2" "S3"
    labels = ["s1", "s10", "s2", "S3", "b", "A"]
    assert [labels[i] for i in r_string_order(labels)] == ["A", "b", "s1", "s10", "s2", "S3"]
    assert r_string_order([2, 10, 1]).tolist() == [2, 1, 0]   # "1" < "10" < "2"


def test_brr_needs_two_psus_per_stratum_and_names_the_strata():
    with pytest.raises(ValueError, match=r"'north' \(3 PSUs\), 'west' \(1 PSUs\)"):
        make_factors("brr", np.array([0, 0, 0, 1, 1, 2]),
                     stratum_labels=["north", "south", "west"])


def test_brr_rejects_rho_and_fay_checks_rho():
    with pytest.raises(ValueError, match="use method='fay'"):
        make_factors("brr", np.array([0, 0, 1, 1]), rho=0.5)
    with pytest.raises(ValueError, match=r"`rho` must be in \[0, 1\)"):
        make_factors("fay", np.array([0, 0, 1, 1]), rho=1.0)


def test_brr_warns_that_fpc_is_dropped():
    with pytest.warns(HarvestWarning, match="Finite population correction dropped"):
        make_factors("brr", np.array([0, 0, 1, 1]), fraction=np.array([0.1, 0.1]))


def test_fay_factors_are_rho_and_two_minus_rho():
    f = make_factors("fay", np.repeat(np.arange(5), 2), rho=0.3).matrix()
    assert set(np.unique(f).round(12)) == {0.3, 1.7}
    np.testing.assert_allclose(f[:, 0::2] + f[:, 1::2], 2.0)


# -- jackknives -----------------------------------------------------------------------------
def test_jkn_factors_by_hand():
    f = make_factors("jkn", np.array([1, 0, 1, 0, 0]), fraction=np.array([0.0, 0.5]),
                     psu_first_row=np.array([0, 1, 2, 3, 4]),
                     stratum_first_row=np.array([1, 0]))
    # replicates in R's order: stratum 1 first (appears first), then stratum 0
    expected = np.array([[0, 1, 2, 1, 1], [2, 1, 0, 1, 1],
                         [1, 0, 1, 1.5, 1.5], [1, 1.5, 1, 0, 1.5], [1, 1.5, 1, 1.5, 0]])
    np.testing.assert_allclose(f.matrix(), expected)
    np.testing.assert_allclose(f.rscales, [0.5 * 0.5, 0.5 * 0.5, 2 / 3, 2 / 3, 2 / 3])
    assert f.scale == 1.0


def test_jk1_scale_uses_fpc_and_rejects_strata():
    f = make_factors("jk1", np.zeros(4, dtype=int), fraction=np.array([0.25]),
                     has_strata=False)
    assert f.scale == pytest.approx(0.75 * 3 / 4)
    np.testing.assert_allclose(f.matrix(), (4 / 3) * (1 - np.eye(4)))
    with pytest.raises(ValueError, match="unstratified design"):
        make_factors("jk1", np.array([0, 0, 1, 1]))


def test_jkn_brr_fay_need_strata():
    for method in ("jkn", "brr", "fay"):
        with pytest.raises(ValueError, match="needs a stratified design"):
            make_factors(method, np.zeros(4, dtype=int), has_strata=False)


def test_jkn_lonely_psu_policies():
    psu_stratum = np.array([0, 0, 1, 2, 2, 2])
    with pytest.raises(ValueError, match="Stratum 'b' has only one PSU"):
        make_factors("jkn", psu_stratum, stratum_labels=["a", "b", "c"])
    removed = make_factors("jkn", psu_stratum, lonely_psu="remove")
    assert removed.n_replicates == 5 and removed.scale == 1.0
    np.testing.assert_array_equal(removed.matrix()[:, 2], 1.0)
    average = make_factors("jkn", psu_stratum, lonely_psu="average")
    assert average.scale == pytest.approx(6 / 5)
    adjust = make_factors("jkn", psu_stratum, lonely_psu="adjust")
    assert adjust.n_replicates == 6
    extra = adjust.matrix()[2]  # stratum b's replicate comes third, as in R
    np.testing.assert_allclose(extra, [1.5, 1.5, 0, 1.5, 1.5, 1.5])
    assert adjust.rscales[2] == pytest.approx(2 / 3)


def test_jkn_census_stratum_has_no_replicates():
    f = make_factors("jkn", np.array([0, 0, 1, 1, 1]), fraction=np.array([1.0, 0.0]))
    assert f.n_replicates == 3
    np.testing.assert_array_equal(f.matrix()[:, :2], 1.0)
    with pytest.raises(ValueError, match="exhaustively sampled"):
        make_factors("jkn", np.array([0, 0, 1, 1]), fraction=np.array([1.0, 1.0]))


# -- bootstrap -------------------------------------------------------------------------------
def test_bootstrap_structure(rng):
    psu_stratum = _random_design(rng)
    n_psu = np.bincount(psu_stratum)
    f = make_factors("bootstrap", psu_stratum, replicates=300, rng=3)
    F = f.matrix()
    assert F.shape == (300, psu_stratum.size)
    assert f.scale == pytest.approx(1 / 299) and np.all(f.rscales == 1)
    # each stratum: n_h - 1 draws, factor n_h / (n_h - 1) per draw -> sums to n_h
    sums = np.stack([np.bincount(psu_stratum, weights=row) for row in F])
    np.testing.assert_allclose(sums, np.broadcast_to(n_psu, sums.shape))
    counts = F * ((n_psu - 1) / n_psu)[psu_stratum]
    np.testing.assert_allclose(counts, np.round(counts), atol=1e-12)


def test_bootstrap_with_psu_codes_not_grouped_by_stratum(rng):
    psu_stratum = rng.permutation(_random_design(rng))
    n_psu = np.bincount(psu_stratum)
    F = make_factors("bootstrap", psu_stratum, replicates=200, rng=8).matrix()
    sums = np.stack([np.bincount(psu_stratum, weights=row) for row in F])
    np.testing.assert_allclose(sums, np.broadcast_to(n_psu, sums.shape))
    # every PSU is drawn in some replicate and missed in another
    assert ((F > 0).any(axis=0) & (F == 0).any(axis=0)).all()


def test_bootstrap_factors_have_mean_one_and_rao_wu_variance():
    # E[factor] = 1; Var[factor] = (n/(n-1))^2 (n-1)(1/n)(1-1/n) = 1 for every n_h
    psu_stratum = np.repeat(np.arange(4), [2, 3, 5, 9])
    F = make_factors("bootstrap", psu_stratum, replicates=20000, rng=11).matrix()
    R = F.shape[0]
    np.testing.assert_allclose(F.mean(axis=0), 1.0, atol=5 / np.sqrt(R))
    np.testing.assert_allclose(F.var(axis=0), 1.0, atol=0.06)


@pytest.mark.parametrize("batch", [1, 7, BLOCK, BLOCK + 1, 1000])
def test_bootstrap_does_not_depend_on_batch(batch):
    psu_stratum = np.repeat(np.arange(5), [2, 3, 4, 5, 6])
    f = make_factors("bootstrap", psu_stratum, replicates=333, rng=42)
    whole = f.matrix()
    parts = [block for _, block in f.blocks(batch)]
    assert max(p.shape[0] for p in parts) <= batch
    np.testing.assert_array_equal(np.concatenate(parts), whole)


def test_bootstrap_rng_seed_and_generator_agree_and_seeds_differ():
    psu_stratum = np.repeat(np.arange(3), 4)
    a = make_factors("bootstrap", psu_stratum, replicates=50, rng=5).matrix()
    b = make_factors("bootstrap", psu_stratum, replicates=50,
                     rng=np.random.default_rng(5)).matrix()
    c = make_factors("bootstrap", psu_stratum, replicates=50, rng=6).matrix()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    gen = np.random.default_rng(5)
    first = make_factors("bootstrap", psu_stratum, replicates=50, rng=gen).matrix()
    second = make_factors("bootstrap", psu_stratum, replicates=50, rng=gen).matrix()
    assert not np.array_equal(first, second)  # a Generator moves on


def test_as_seed_sequence_from_a_legacy_seeded_generator():
    bits = np.random.MT19937()
    bits._legacy_seeding(3)  # no SeedSequence behind it
    a = as_seed_sequence(np.random.Generator(bits))
    bits2 = np.random.MT19937()
    bits2._legacy_seeding(3)
    b = as_seed_sequence(np.random.Generator(bits2))
    assert isinstance(a, np.random.SeedSequence) and a.entropy == b.entropy


def test_bootstrap_lonely_psu():
    psu_stratum = np.array([0, 0, 0, 1, 2, 2])
    with pytest.raises(ValueError, match="Stratum 1 has only one PSU"):
        make_factors("bootstrap", psu_stratum, replicates=10, rng=1)
    with pytest.raises(ValueError, match="not defined for the bootstrap"):
        make_factors("bootstrap", psu_stratum, replicates=10, rng=1, lonely_psu="adjust")
    f = make_factors("bootstrap", psu_stratum, replicates=10, rng=1, lonely_psu="remove")
    np.testing.assert_array_equal(f.matrix()[:, 3], 1.0)
    avg = make_factors("bootstrap", psu_stratum, replicates=10, rng=1, lonely_psu="average")
    assert avg.scale == pytest.approx(f.scale * 3 / 2)


def test_bootstrap_warns_that_fpc_is_not_used():
    with pytest.warns(HarvestWarning, match="not used by the Rao-Wu bootstrap"):
        make_factors("bootstrap", np.array([0, 0, 1, 1]), replicates=5, rng=1,
                     fraction=np.array([0.2, 0.2]))


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "10"])
def test_bad_batch(bad):
    f = make_factors("bootstrap", np.array([0, 0, 1, 1]), replicates=5, rng=1)
    with pytest.raises(ValueError, match="`batch` must be a positive integer"):
        next(f.blocks(bad))


@pytest.mark.parametrize("bad", [1, 0, 2.5, True, "10"])
def test_bad_replicates(bad):
    with pytest.raises(ValueError, match="`replicates` must be an integer of at least 2"):
        make_factors("bootstrap", np.array([0, 0, 1, 1]), replicates=bad, rng=1)


def test_unknown_method_and_policy():
    with pytest.raises(ValueError, match="`method` must be one of"):
        make_factors("jackknife", np.array([0, 0]))
    with pytest.raises(ValueError, match="`lonely_psu` must be one of"):
        make_factors("jkn", np.array([0, 0, 1, 1]), lonely_psu="drop")


# -- rank (degrees of freedom) ---------------------------------------------------------------
def _numerical_rank(F, present):
    return np.array([np.linalg.matrix_rank(F[:, present[:, j]]) if present[:, j].any()
                     else 0 for j in range(present.shape[1])])


@pytest.mark.parametrize("method,replicates", [("bootstrap", 15), ("bootstrap", 400),
                                               ("jkn", None), ("brr", None), ("fay", None)])
def test_rank_formula_equals_numerical_rank(method, replicates, rng):
    if method in ("brr", "fay"):
        psu_stratum = np.repeat(np.arange(9), 2)
    else:
        psu_stratum = _random_design(rng, n_strata=7)
    kwargs = {"replicates": replicates, "rng": 1} if replicates else {}
    f = make_factors(method, psu_stratum, **kwargs)
    F = f.matrix()
    P = psu_stratum.size
    present = np.column_stack([np.ones(P, dtype=bool), rng.random(P) < 0.5,
                               psu_stratum < 3, psu_stratum == 0])
    np.testing.assert_array_equal(f.rank(present), _numerical_rank(F, present))


def test_rank_with_lonely_psus():
    psu_stratum = np.array([0, 0, 0, 1, 2, 2, 3, 3, 3, 3])
    present = np.column_stack([np.ones(10, dtype=bool), psu_stratum != 2,
                               np.isin(np.arange(10), [0, 3, 6])])
    for policy in ("remove", "adjust", "average"):
        f = make_factors("jkn", psu_stratum, lonely_psu=policy)
        np.testing.assert_array_equal(f.rank(present), _numerical_rank(f.matrix(), present),
                                      err_msg=policy)
    f = make_factors("bootstrap", psu_stratum, replicates=300, rng=2, lonely_psu="remove")
    np.testing.assert_array_equal(f.rank(present), _numerical_rank(f.matrix(), present))


def test_hadamard_constructions_are_our_own():
    """Orders 4 and 16 come from Sylvester's doubling, Paley orders from a sieve of primes
    p = 3 (mod 4), and the two stored orders (28, 36) are Hadamard."""
    from harvest import _hadamard

    assert set(_hadamard._STORED) == {28, 36}
    for order in (28, 36):
        P = 2 * _hadamard._precooked(order).astype(int) - 1
        np.testing.assert_array_equal(P.T @ P, order * np.eye(order))
    S = np.array([[1]], dtype=np.int8)
    for _ in range(4):
        S = _hadamard._doubler(S)
    np.testing.assert_array_equal(hadamard(15), S)
    primes = _hadamard._SMALL_PRIMES
    assert primes[:6].tolist() == [3, 7, 11, 19, 23, 31] and primes[-1] == 7919
    assert all(p % 4 == 3 and all(p % q for q in range(2, int(p ** 0.5) + 1))
               for p in primes[::25])
