"""Coverage of Taylor intervals over repeated samples from a known population.

Many independent samples are stacked in one data frame, each with its own strata, and
estimated in one call with ``by="sample"``: a domain never shares a stratum with
another, so each domain's estimate, variance and df are exactly those of its own
sample (the property R's svyby relies on). One vectorised call, no loop over samples.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from harvest.design import SurveyDesign

H, N_H, N_SAMPLED, M = 4, 40, 8, 12      # strata, clusters per stratum (pop / sample), size


def population(rng):
    """Clusters with their own child-labour rate and a skewed amount."""
    rate = stats.beta.rvs(1.5, 4.0, size=(H, N_H), random_state=rng)
    y = rng.random((H, N_H, M)) < rate[..., None]
    amount = rng.gamma(2.0, 20.0 * (1 + rate[..., None]), size=(H, N_H, M))
    return y.astype(float), amount


def stacked_samples(rng, y, amount, n_samples):
    """One-stage stratified cluster samples (clusters by SRSWOR, all units)."""
    pick = np.argsort(rng.random((n_samples, H, N_H)), axis=2)[:, :, :N_SAMPLED]
    s, h, c = np.meshgrid(np.arange(n_samples), np.arange(H), np.arange(N_SAMPLED),
                          indexing="ij")
    cluster = pick[s, h, c]                                     # (S, H, n)
    rows = {
        "sample": np.repeat(s.ravel(), M),
        "stratum": np.repeat((s * H + h).ravel(), M),
        "district": np.repeat(cluster.ravel(), M),
        "child_labour": y[h, cluster].reshape(-1),
        "amount": amount[h, cluster].reshape(-1),
    }
    df = pd.DataFrame(rows)
    df["weight"] = N_H / N_SAMPLED
    df["n_districts"] = N_H
    return df


@pytest.mark.slow
@pytest.mark.parametrize("ci", ["logit", "korn-graubard"])
def test_proportion_interval_coverage(ci):
    rng = np.random.default_rng(2024)
    y, amount = population(rng)
    truth_p = y.mean()
    truth_mean = amount.mean()
    n_samples = 400         # P x D cells grow as samples**2: keep the stack moderate
    df = stacked_samples(rng, y, amount, n_samples)
    design = SurveyDesign(df, weights="weight", strata="stratum", psu="district",
                          fpc="n_districts")
    p = design.proportion("child_labour", by="sample", ci=ci)
    m = design.mean("amount", by="sample")
    assert len(p) == n_samples and (p["df"] == H * N_SAMPLED - H).all()

    for table, truth in [(p, truth_p), (m, truth_mean)]:
        covered = int(((table["ci_low"] <= truth) & (truth <= table["ci_high"])).sum())
        test = stats.binomtest(covered, n_samples, 0.95)
        assert test.pvalue > 0.001, (covered / n_samples, test.pvalue)
        # the variance estimator is unbiased for this design (one stage, fpc)
        ratio = np.mean(table["se"] ** 2) / np.var(table["estimate"], ddof=1)
        assert 0.78 < ratio < 1.25, ratio     # about 3 standard errors at 400 samples
        # and the estimator is unbiased
        bias = table["estimate"].mean() - truth
        assert abs(bias) < 4 * table["estimate"].std() / np.sqrt(n_samples)
