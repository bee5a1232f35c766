"""hv.plan.allocate: proportional, equal and Neyman allocation with bounds."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import harvest as hv

N_H = {"Ahal": 2400, "Balkan": 600, "Dashoguz": 2000, "Lebap": 2600, "Mary": 2400}
P_H = {"Ahal": 0.2, "Balkan": 0.1, "Dashoguz": 0.3, "Lebap": 0.25, "Mary": 0.2}


def test_proportional_exact_when_divisible():
    t = hv.plan.allocate(600, N_H)
    assert t["n"].tolist() == [144, 36, 120, 156, 144]   # 6% of every stratum
    assert t["fraction"].tolist() == pytest.approx([0.06] * 5)
    assert t["weight"].tolist() == pytest.approx([1 / 0.06] * 5)
    assert list(t["stratum"]) == list(N_H)


def test_largest_remainder_rounding_by_hand():
    # quotas 7 * (5, 3, 2) / 10 = 3.5, 2.1, 1.4: floors 3, 2, 1 (6), the last unit goes to
    # the largest remainder (0.5, stratum a).
    t = hv.plan.allocate(7, {"a": 5, "b": 3, "c": 2}, minimum=0)
    assert t["n"].tolist() == [4, 2, 1]
    assert t["n_exact"].tolist() == pytest.approx([3.5, 2.1, 1.4])


def test_equal_allocation_and_ties_go_to_earlier_strata():
    t = hv.plan.allocate(10, {"a": 100, "b": 100, "c": 100}, method="equal")
    assert t["n"].tolist() == [4, 3, 3]


def test_neyman_proportional_to_N_times_sd():
    t = hv.plan.allocate(600, N_H, method="neyman", p=P_H)
    sd = np.sqrt(np.array(list(P_H.values())) * (1 - np.array(list(P_H.values()))))
    measure = np.array(list(N_H.values())) * sd
    assert t["sd"].tolist() == pytest.approx(sd.tolist())
    assert t["n_exact"].to_numpy() == pytest.approx(600 * measure / measure.sum())
    assert t["n"].sum() == 600
    assert (np.abs(t["n"] - t["n_exact"]) < 1).all()


def test_neyman_matches_hand_computation():
    # measure N_h sqrt(p q): 2400*.4=960, 600*.3=180, 2000*.458258=916.515, 2600*.433013=1125.833,
    # 960: total 4142.348; 600 * share = 139.05, 26.07, 132.75, 163.07, 139.05
    t = hv.plan.allocate(600, N_H, method="neyman", p=P_H)
    assert t["n_exact"].to_numpy() == pytest.approx([139.052, 26.072, 132.753, 163.072, 139.052],
                                                    abs=1e-3)
    assert t["n"].tolist() == [139, 26, 133, 163, 139]


def test_scalar_p_neyman_equals_proportional():
    a = hv.plan.allocate(500, N_H, method="neyman", p=0.23)
    b = hv.plan.allocate(500, N_H)
    assert a["n"].tolist() == b["n"].tolist()


def test_minimum_binds_and_others_shrink_proportionally():
    t = hv.plan.allocate(100, {"a": 10, "b": 1000, "c": 5}, minimum=8)
    # a and c rise to their minimums (c capped at N_c = 5), b takes the rest
    assert t["n"].tolist() == [8, 87, 5]
    assert t["minimum"].tolist() == [8, 8, 5]


def test_maximum_and_population_cap_redistribute():
    t = hv.plan.allocate(300, {"a": 50, "b": 1000, "c": 1000}, method="equal",
                         maximum={"a": 100, "b": 120, "c": 500})
    assert t["n"].tolist() == [50, 120, 130]
    assert t["maximum"].tolist() == [50, 120, 500]


def test_census_when_n_equals_population():
    t = hv.plan.allocate(60, {"a": 10, "b": 50})
    assert t["n"].tolist() == [10, 50]
    assert t["weight"].tolist() == [1.0, 1.0]


def test_zero_p_stratum_gets_its_minimum_under_neyman():
    t = hv.plan.allocate(100, {"a": 500, "b": 500}, method="neyman", p={"a": 0.0, "b": 0.3},
                         minimum=3)
    assert t["n"].tolist() == [3, 97]


def test_series_input_and_caller_data_untouched():
    s = pd.Series(N_H, name="farms")
    before = s.copy()
    t = hv.plan.allocate(601, s, method="neyman", p=pd.Series(P_H))
    pd.testing.assert_series_equal(s, before)
    assert t["n"].sum() == 601


def test_against_svy_allocate():
    # svy 0.35 SampleSize().allocate(n, pop_size, method, sigma, min_n): Hamilton rounding; the
    # same as ours when no bound binds (svy floors at min_n, we at `minimum`).
    svy = pytest.importorskip("svy")
    sigma = {k: float(np.sqrt(v * (1 - v))) for k, v in P_H.items()}
    for n in (60, 347, 600, 1234):
        for method in ("proportional", "equal", "neyman"):
            ours = hv.plan.allocate(n, N_H, method=method,
                                    p=P_H if method == "neyman" else None, minimum=1)
            theirs = svy.SampleSize().allocate(n, pop_size=N_H, method=method,
                                               sigma=sigma if method == "neyman" else None,
                                               min_n=1).n
            assert dict(zip(ours["stratum"], ours["n"].tolist(), strict=True)) == theirs, (
                n, method)


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 5000), min_size=1, max_size=12),
    frac=st.floats(0.0, 1.0),
    minimum=st.integers(0, 20),
    method=st.sampled_from(["proportional", "equal", "neyman"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_allocation_properties(sizes, frac, minimum, method, seed):
    strata = {f"s{i}": n for i, n in enumerate(sizes)}
    lo = np.minimum(minimum, sizes)
    n = int(lo.sum() + round(frac * (sum(sizes) - lo.sum())))
    if n == 0:
        return
    p = dict(zip(strata, np.random.default_rng(seed).uniform(0.01, 0.99, len(sizes)),
                 strict=True))
    t = hv.plan.allocate(n, strata, method=method, p=p, minimum=minimum)
    assert t["n"].sum() == n
    assert (t["n"] >= t["minimum"]).all() and (t["n"] <= t["N"]).all()
    assert t["n_exact"].sum() == pytest.approx(n)
    assert (np.abs(t["n"] - t["n_exact"]) < 1 + 1e-9).all()


@pytest.mark.parametrize("kw, match", [
    (dict(n=600, strata=[1, 2]), "`strata` must be a pandas Series or a dict"),
    (dict(n=600, strata={}), "`strata` must hold at least one stratum"),
    (dict(n=600, strata={"a": 0, "b": 10}), "`strata` must be a population size >= 1"),
    (dict(n=600.5, strata=N_H), "`n` must be a positive whole number"),
    (dict(n=0, strata=N_H), "`n` must be a positive whole number"),
    (dict(n=600, strata=N_H, method="optimal"), "`method` must be one of"),
    (dict(n=600, strata=N_H, method="neyman"), "`p` .* is required for method='neyman'"),
    (dict(n=600, strata=N_H, method="neyman", p={"Ahal": 0.2}), r"`p` must give one value for "
     r"each stratum of `strata`; missing \['Balkan'"),
    (dict(n=600, strata=N_H, p=dict(P_H, Nowhere=0.1)), r"not in `strata`: \['Nowhere'\]"),
    (dict(n=600, strata=N_H, method="neyman", p=1.5), "`p` must be a proportion"),
    (dict(n=600, strata=N_H, method="neyman", p=[0.1, 0.2, 0.3, 0.2, 0.1]),
     "`p` must be a number, or a dict/Series keyed by stratum"),
    (dict(n=600, strata=N_H, method="neyman", p=0.0), "nothing to allocate by"),
    (dict(n=8, strata=N_H), r"`n` = 8 is smaller than the sum of the minimums"),
    (dict(n=20000, strata=N_H), "larger than the strata can hold"),
    (dict(n=600, strata=N_H, minimum=50, maximum=40), r"`minimum` \(50\) exceeds `maximum`"),
    (dict(n=600, strata=N_H, minimum=-1), "`minimum` must be a whole number >= 0"),
])
def test_bad_input(kw, match):
    with pytest.raises(ValueError, match=match):
        hv.plan.allocate(**kw)


def test_unreachable_with_zero_measure_strata():
    with pytest.raises(ValueError, match="cannot place `n`"):
        hv.plan.allocate(30, {"a": 10, "b": 500}, method="neyman", p={"a": 0.3, "b": 0.0},
                         minimum=1)
