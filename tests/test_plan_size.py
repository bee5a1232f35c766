"""hv.plan.sample_size: textbook values (Cochran 1977, Kish 1965), svy.SampleSize, bad input."""

import math

import numpy as np
import pandas as pd
import pytest

import harvest as hv
from harvest._errors import HarvestWarning

Z95 = 1.959963984540054  # qnorm(0.975)


def one(**kw):
    return hv.plan.sample_size(**kw).iloc[0]


# ---------------------------------------------------------------- textbook values


def test_cochran_absolute_margin_p_half():
    # Cochran (1977) eq. 4.1, n0 = z^2 P Q / d^2: P = 0.5, d = 0.05, 95% -> 384.15 -> 385.
    r = one(p=0.5, moe=0.05)
    assert r["n0"] == pytest.approx(Z95**2 * 0.25 / 0.0025, rel=1e-12)
    assert r["n0"] == pytest.approx(384.1459, abs=1e-4)
    assert r["n"] == 385
    assert r["z"] == pytest.approx(Z95, rel=1e-12)


def test_cochran_finite_population_correction():
    # Cochran eq. 4.2, n = n0 / (1 + (n0 - 1) / N): 384.146 with N = 10000 -> 369.97 -> 370;
    # with N = 528 -> 222.6 -> 223 (hand arithmetic).
    r = one(p=0.5, moe=0.05, N=10_000)
    assert r["n_fpc"] == pytest.approx(384.14588 / (1 + 383.14588 / 10_000), rel=1e-6)
    assert r["n_fpc"] == pytest.approx(369.97, abs=0.005)
    assert r["n"] == 370
    r = one(p=0.5, moe=0.05, N=528)
    assert r["n_fpc"] == pytest.approx(222.60, abs=0.01)
    assert r["n"] == 223


def test_cochran_relative_margin():
    # Cochran eq. 4.6, n0 = z^2 Q / (r^2 P): P = 0.23, r = 0.2 -> 3.8415 * 0.77 / (0.04 * 0.23)
    r = one(p=0.23, moe=0.2, relative=True)
    assert r["n0"] == pytest.approx(Z95**2 * 0.77 / (0.04 * 0.23), rel=1e-12)
    assert r["n0"] == pytest.approx(321.52, abs=0.01)
    assert r["moe_abs"] == pytest.approx(0.046)
    # a relative margin r is the absolute margin r * p
    assert r["n0"] == pytest.approx(one(p=0.23, moe=0.046)["n0"], rel=1e-12)


def test_level_90_uses_z_1645():
    r = one(p=0.5, moe=0.05, level=0.90)
    assert r["z"] == pytest.approx(1.6448536, abs=1e-7)
    assert r["n"] == math.ceil(1.6448536269514722**2 * 0.25 / 0.0025)  # 270.6 -> 271


def test_kish_design_effect_from_icc():
    # Kish (1965, sec. 5.4): deff = 1 + (m - 1) roh; m = 20, roh = 0.05 -> 1.95.
    r = one(p=0.23, moe=0.05, icc=0.05, cluster_size=20)
    assert r["deff"] == pytest.approx(1.95)
    assert r["n_deff"] == pytest.approx(1.95 * r["n0"])
    assert r["clusters"] == math.ceil(r["n"] / 20)
    assert one(p=0.23, moe=0.05, icc=0.3, cluster_size=1)["deff"] == 1.0
    assert one(p=0.23, moe=0.05, icc=0.0, cluster_size=50)["deff"] == 1.0
    assert one(p=0.23, moe=0.05, icc=1.0, cluster_size=12)["deff"] == 12.0


def test_mission_question_within_five_points():
    # The call: 23% within 5 points with deff 2: n0 = 272.13, n = 545.
    r = one(p=0.23, moe=0.05, deff=2.0)
    assert r["n0"] == pytest.approx(Z95**2 * 0.23 * 0.77 / 0.0025, rel=1e-12)
    assert r["n_deff"] == pytest.approx(2 * r["n0"])
    assert r["n"] == 545
    assert pd.isna(r["clusters"]) and np.isnan(r["N"])


def test_response_rate_and_order_of_steps():
    r = one(p=0.23, moe=0.05, deff=2.0, N=3000, response_rate=0.8)
    n_fpc = 2 * r["n0"] / (1 + (2 * r["n0"] - 1) / 3000)
    assert r["n_fpc"] == pytest.approx(n_fpc, rel=1e-12)
    assert r["n_response"] == pytest.approx(n_fpc / 0.8, rel=1e-12)
    assert r["n"] == math.ceil(n_fpc / 0.8)


def test_columns_fixed_and_steps_unrounded():
    a = hv.plan.sample_size(0.23, 0.05)
    b = hv.plan.sample_size(0.23, 0.05, icc=0.1, cluster_size=8, N=900, response_rate=0.9)
    assert list(a.columns) == list(b.columns)
    assert a["n0"].iloc[0] != round(a["n0"].iloc[0])
    assert a["n"].dtype == np.int64


def test_positional_signature_p_moe_deff_level():
    a = hv.plan.sample_size(0.23, 0.05, 2.0, 0.9)
    assert a["deff"].iloc[0] == 2.0 and a["level"].iloc[0] == 0.9


def test_census_warning_when_response_pushes_past_N():
    with pytest.warns(HarvestWarning, match="exceeds the population"):
        hv.plan.sample_size(0.5, 0.01, N=100, response_rate=0.5)


# ---------------------------------------------------------------- vectorised


def test_vectorised_rows_match_scalar_calls():
    ps = np.array([0.05, 0.23, 0.5])
    t = hv.plan.sample_size(ps, 0.05, deff=[1.5, 2.0, 2.5], N=4000)
    assert len(t) == 3
    for i, p in enumerate(ps):
        s = one(p=p, moe=0.05, deff=[1.5, 2.0, 2.5][i], N=4000)
        assert t["n"].iloc[i] == s["n"]
        assert t["n_fpc"].iloc[i] == pytest.approx(s["n_fpc"], rel=1e-14)


def test_labelled_p_gives_labelled_rows():
    p = pd.Series({"Ahal": 0.2, "Mary": 0.3}, name="p")
    t = hv.plan.sample_size(p, 0.05, deff=2)
    assert list(t.index) == ["Ahal", "Mary"]
    t2 = hv.plan.sample_size({"Ahal": 0.2, "Mary": 0.3}, {"Ahal": 0.05, "Mary": 0.04})
    assert t2.loc["Mary", "moe"] == 0.04
    with pytest.raises(ValueError, match="labelled differently"):
        hv.plan.sample_size({"Ahal": 0.2, "Mary": 0.3}, {"Mary": 0.05, "Ahal": 0.04})


def test_array_lengths_must_agree():
    with pytest.raises(ValueError, match="same length"):
        hv.plan.sample_size([0.2, 0.3], [0.05, 0.04, 0.03])


# ---------------------------------------------------------------- svy.SampleSize


def _svy_grid():
    for p in (0.05, 0.23, 0.5, 0.8):
        for moe in (0.03, 0.05, 0.1):
            for deff in (1.0, 2.0, 3.5):
                for N in (None, 800, 5000):
                    for rr in (1.0, 0.85):
                        yield p, moe, deff, N, rr


def test_against_svy_sample_size():
    # svy 0.35: SampleSize().estimate_prop(p, moe, pop_size, alpha, deff, resp_rate) runs the
    # same pipeline (n0 -> deff -> fpc N n / (N + n - 1) -> / response) but rounds up after
    # every step. rounding="each" reproduces it exactly; the default rounds once at the end,
    # so its n is never larger and its exact n0 rounds up to svy's n0.
    svy = pytest.importorskip("svy")
    for p, moe, deff, N, rr in _svy_grid():
        for level in (0.95, 0.9):
            s = svy.SampleSize().estimate_prop(p=p, moe=moe, deff=deff, pop_size=N,
                                               resp_rate=rr, alpha=1 - level).size
            each = one(p=p, moe=moe, deff=deff, N=N, response_rate=rr, level=level,
                       rounding="each")
            assert (each["n0"], each["n_deff"], each["n_fpc"], each["n"]) == (
                s.n0, s.n1_deff, s.n2_fpc, s.n), (p, moe, deff, N, rr, level)
            final = one(p=p, moe=moe, deff=deff, N=N, response_rate=rr, level=level)
            assert math.ceil(final["n0"] - 1e-9) == s.n0
            assert final["n"] <= s.n


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("kw, match", [
    (dict(p=0.0, moe=0.05), "`p` must be a proportion strictly between 0 and 1"),
    (dict(p=1.0, moe=0.05), "`p` must be a proportion strictly between 0 and 1"),
    (dict(p=[0.2, 1.2], moe=0.05), r"`p` .* got 1.2 at position 1"),
    (dict(p=np.nan, moe=0.05), "`p` must be"),
    (dict(p="a", moe=0.05), "`p` must be a number"),
    (dict(p=0.2, moe=0.0), "`moe` must be a number between 0 and 1"),
    (dict(p=0.2, moe=5.0), "`moe` must be a number between 0 and 1"),
    (dict(p=0.2, moe=-0.1, relative=True), "`moe` must be a positive fraction of p"),
    (dict(p=0.2, moe=0.05, level=1.0), "`level` must be strictly between 0 and 1"),
    (dict(p=0.2, moe=0.05, deff=0.0), "`deff` must be a positive number"),
    (dict(p=0.2, moe=0.05, deff=2.0, icc=0.1, cluster_size=5), "either `deff` or `icc`"),
    (dict(p=0.2, moe=0.05, icc=0.1), "`icc` needs `cluster_size`"),
    (dict(p=0.2, moe=0.05, icc=1.5, cluster_size=5), "`icc` must be a number between 0 and 1"),
    (dict(p=0.2, moe=0.05, icc=0.1, cluster_size=0), "`cluster_size` must be a number >= 1"),
    (dict(p=0.2, moe=0.05, N=0), "`N` must be a population size >= 1"),
    (dict(p=0.2, moe=0.05, response_rate=0.0), r"`response_rate` must be a share in \(0, 1\]"),
    (dict(p=0.2, moe=0.05, response_rate=1.2), "`response_rate`"),
    (dict(p=0.2, moe=0.05, rounding="up"), "`rounding` must be one of 'final', 'each'"),
    (dict(p=0.2, moe=0.05, relative="yes"), "`relative` must be True or False"),
    (dict(p=[[0.2]], moe=0.05), "`p` must be a number or a 1-d array"),
])
def test_bad_input_names_the_argument(kw, match):
    with pytest.raises(ValueError, match=match):
        hv.plan.sample_size(**kw)


def test_infinite_N_means_no_correction():
    a = one(p=0.3, moe=0.05, N=np.inf)
    assert np.isnan(a["N"]) and a["n_fpc"] == a["n_deff"]


# ---------------------------------------------------------------- margin_of_error


def test_margin_of_error_inverts_sample_size_exactly():
    for N in (None, 3000):
        s = hv.plan.sample_size([0.1, 0.23, 0.5], 0.05, 2.0, N=N)
        back = hv.plan.margin_of_error(s["p"], s["n_fpc"], 2.0, N=N)
        np.testing.assert_allclose(back["moe"], 0.05, rtol=1e-12)


def test_margin_of_error_by_hand_and_census():
    t = hv.plan.margin_of_error(0.23, 472, deff=2.0).iloc[0]
    assert t["se"] == pytest.approx(np.sqrt(2 * 0.23 * 0.77 / 472), rel=1e-12)
    assert t["moe"] == pytest.approx(0.05369, abs=1e-5)
    assert t["moe_relative"] == pytest.approx(t["moe"] / 0.23)
    assert hv.plan.margin_of_error(0.23, 500, N=500)["moe"].iloc[0] == 0.0
    r = hv.plan.margin_of_error({"Ahal": 0.2, "Mary": 0.3}, {"Ahal": 100, "Mary": 150},
                                icc=0.1, cluster_size=8)
    assert list(r.index) == ["Ahal", "Mary"] and r["deff"].iloc[0] == pytest.approx(1.7)
    with pytest.raises(ValueError, match="`n` must not exceed the population size `N`"):
        hv.plan.margin_of_error(0.2, 600, N=500)
    with pytest.raises(ValueError, match="`n` must be a positive sample size"):
        hv.plan.margin_of_error(0.2, 0)


def test_labelled_population_sizes_must_line_up():
    p = pd.Series({"Ahal": 0.19, "Balkan": 0.13})
    N = pd.Series({"Ahal": 4532, "Balkan": 1509})
    t = hv.plan.sample_size(p, 0.05, N=N)
    assert t.loc["Balkan", "N"] == 1509
    with pytest.raises(ValueError, match="`p` and `N` are labelled differently"):
        hv.plan.sample_size(p, 0.05, N=N[::-1])
    with pytest.raises(ValueError, match="`p` and `N` are labelled differently"):
        hv.plan.margin_of_error(p, 100, N=N[::-1])
