"""harvest.plan.sensitive: variance of indirect questions, sample size and power."""

import numpy as np
import pandas as pd
import pytest

import harvest as hv
from harvest.plan.sensitive import sensitive_power, sensitive_sample_size, sensitive_variance


def test_variance_formulas_match_simulation():
    # per-respondent variance x n equals the Monte Carlo variance of the estimators
    rng = np.random.default_rng(3)
    n, R, pi = 400, 4000, 0.31
    q = np.array([0.2, 0.45, 0.6, 0.3])
    z = rng.random((R, n)) < pi
    t = np.zeros((R, n), bool)
    t[:, : n // 2] = True
    count = (rng.random((R, n, 4)) < q).sum(axis=2) + t * z
    le = count[:, : n // 2].mean(1) - count[:, n // 2:].mean(1)
    f = rng.random((R, n))
    ans = np.where(f < 1 / 6, 1, np.where(f < 2 / 6, 0, z))
    rr = (ans.mean(1) - 1 / 6) / (2 / 3)
    v_le = sensitive_variance(pi, "list_experiment", control=q)["unit_variance"].iloc[0]
    v_rr = sensitive_variance(pi, "randomized_response")["unit_variance"].iloc[0]
    # the variance of a variance estimate from R draws has relative sd sqrt(2/R) ~ 2.2%
    assert le.var() * n == pytest.approx(v_le, rel=0.08)
    assert rr.var() * n == pytest.approx(v_rr, rel=0.08)


def test_sample_size_and_direct():
    t = sensitive_sample_size(0.31, 0.05, "direct", deff=2.0)
    assert (t["n"] == t["n_direct"]).all()
    assert int(t["n_direct"].iloc[0]) == int(hv.plan.sample_size(p=0.31, moe=0.05,
                                                                 deff=2.0)["n"].iloc[0])
    both = sensitive_sample_size([0.2, 0.31], 0.05, "list_experiment", deff=2.0)
    assert (both["variance_ratio"] > 5).all() and (both["n"] > both["n_direct"]).all()


def test_power_and_errors():
    p = sensitive_power(0.31, 0.21, 2047, method="randomized_response", deff=2.0)
    assert 0 < p["power"].iloc[0] < p["power_direct"].iloc[0] <= 1
    assert isinstance(p, pd.DataFrame)
    with pytest.raises(ValueError, match="`method` must be one of"):
        sensitive_variance(0.3, "survey")
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        sensitive_variance(1.2)
    with pytest.raises(ValueError, match="`moe`"):
        sensitive_sample_size(0.3, 0)
