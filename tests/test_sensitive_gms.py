"""Blair and Imai (2012) design-effect test, likelihood-ratio form with generalised
moment selection (``p_gms`` of design_effect_test): exact statistic, size and power on
small seeded simulations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special

import harvest as hv
from harvest.sensitive import _cone_statistic, design_effect_test


def _sample(rng, effect=False, n_psu=40, size=10):
    """Clustered list experiment, J = 3; ``effect``: treated respondents drop a control
    item (a deflation design effect)."""
    n = n_psu * size
    t = rng.random(n) < 0.5
    z = rng.random(n) < 0.3
    control = (rng.random((n, 3)) < np.array([0.2, 0.5, 0.7])).sum(axis=1)
    if effect:
        control = np.where(t & (control > 0) & (rng.random(n) < 0.6), control - 1, control)
    return pd.DataFrame({"psu": np.repeat(np.arange(n_psu), size), "t": t.astype(int),
                         "y": control + t * z})


def test_cone_statistic_is_the_projection():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(3, 3))
    S = A @ A.T + np.eye(3)
    P = np.linalg.inv(S)
    z = rng.normal(size=(1, 50, 3))
    got = _cone_statistic(z, P[None], np.zeros((1, 3), dtype=bool))[0]
    # brute force over a grid of t >= 0 is never below the exact minimum
    grid = np.stack(np.meshgrid(*[np.linspace(0, 3, 31)] * 3), -1).reshape(-1, 3)
    for i in range(5):
        r = z[0, i][None, :] - grid
        brute = np.einsum("ni,ij,nj->n", r, P, r).min()
        assert got[i] <= brute + 1e-9
        assert got[i] >= brute - 0.05
    # one coordinate: (min(z, 0))^2 / sigma^2; a free coordinate adds nothing
    one = _cone_statistic(np.array([[[-1.5], [2.0]]]), np.array([[[0.25]]]),
                          np.zeros((1, 1), dtype=bool))
    assert one[0].tolist() == [pytest.approx(0.5625), 0.0]
    free = _cone_statistic(z[:, :5], P[None], np.array([[True, True, True]]))
    assert np.allclose(free, 0.0)


def test_one_negative_share_is_the_one_sided_normal_test():
    # with one share below zero and the others far from binding (dropped by moment
    # selection), p_gms = 2 * one-sided normal p-value (two signs, as R)
    rng = np.random.default_rng(16)   # a sample with one kept share, below zero
    d = hv.SurveyDesign(_sample(rng, n_psu=60), psu="psu")
    out = design_effect_test(d, "y", "t", 3, draws=200_000, rng=1)
    z1 = out[(out["z"] == 1) & (out["y"] < 3)]
    z0 = out[(out["z"] == 0) & (out["y"] > 0)]
    cut = np.sqrt(np.log(len(d.data)))
    kept1 = z1[~(z1["estimate"] / z1["se"] > cut)]
    assert len(kept1) == 1 and kept1["estimate"].iloc[0] < 0
    assert (z0["estimate"] / z0["se"] > cut).all()        # the other sign: all dropped
    p1 = special.ndtr(kept1["estimate"].iloc[0] / kept1["se"].iloc[0])
    assert out["p_gms"].iloc[0] == pytest.approx(2 * p1, abs=0.005)


def test_size_and_power():
    rng = np.random.default_rng(2012)
    null = [design_effect_test(hv.SurveyDesign(_sample(rng), psu="psu"), "y", "t", 3,
                               draws=2000, rng=i)["p_gms"].iloc[0] for i in range(60)]
    size = np.mean(np.array(null) < 0.05)
    assert size <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 60)      # holds its size
    alt = [design_effect_test(hv.SurveyDesign(_sample(rng, effect=True), psu="psu"), "y",
                              "t", 3, draws=2000, rng=i) for i in range(30)]
    gms = np.array([a["p_gms"].iloc[0] for a in alt])
    bonf = np.array([a["p_bonferroni"].iloc[0] for a in alt])
    assert (gms < 0.05).mean() >= 0.7                           # detects the effect
    assert (gms <= bonf + 0.02).mean() >= 0.8                   # less conservative
