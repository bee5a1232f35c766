"""design.glm: coverage in simulation, behaviour and bad input (R values: test_regression_r)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import harvest as hv
from harvest._errors import DataError


def _population(rng, clusters=300, size=12):
    cluster = np.repeat(np.arange(clusters), size)
    u = rng.normal(size=clusters)[cluster]
    x = u + rng.normal(size=cluster.size)
    v = rng.normal(scale=0.8, size=clusters)[cluster]
    y = 1.0 + 0.5 * x + v + rng.normal(size=cluster.size)
    eta = -0.5 + 0.8 * x + v
    b = rng.random(cluster.size) < 1 / (1 + np.exp(-eta))
    return pd.DataFrame({"cluster": cluster, "x": x, "y": y, "b": b.astype(int)})


@pytest.mark.parametrize(("formula", "family"), [("y ~ x", "gaussian"),
                                                 ("b ~ x", "quasibinomial")])
def test_intervals_cover_the_census_coefficients(formula, family):
    """95% t intervals cover the finite-population coefficients at the nominal rate.

    A cluster sample of 30 of 300 clusters (intra-cluster correlation in x and y), 200
    samples: the coverage is within 3 binomial SEs of 0.95 for each coefficient.
    """
    rng = np.random.default_rng(16)
    pop = _population(rng)
    truth = hv.SurveyDesign(pop).glm(formula, family=family).coefficients.to_numpy()
    sims, n = 200, 30
    hits = np.zeros(2)
    for _ in range(sims):
        take = rng.choice(300, size=n, replace=False)
        sample = pop[pop["cluster"].isin(take)].assign(w=300 / n)
        t = hv.SurveyDesign(sample, weights="w", psu="cluster").glm(formula,
                                                                   family=family).table
        hits += (t["ci_low"].to_numpy() <= truth) & (truth <= t["ci_high"].to_numpy())
    coverage = hits / sims
    assert np.all(np.abs(coverage - 0.95) <= 3 * np.sqrt(0.95 * 0.05 / sims)), coverage


@pytest.fixture
def frame():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"psu": np.repeat(np.arange(24), 5), "x": rng.normal(size=120),
                       "g": rng.choice(["north", "south", "east"], 120)})
    df["y"] = 2 + df["x"] + (df["g"] == "south") + rng.normal(size=120)
    df["b"] = (df["y"] > 2.5).astype(int)
    df["k"] = rng.poisson(np.exp(0.3 * df["x"]))
    return df


def test_table_columns_and_treatment_coding(frame):
    fit = hv.SurveyDesign(frame, psu="psu").glm("y ~ x + g")
    assert list(fit.table.columns) == ["term", "estimate", "se", "ci_low", "ci_high",
                                       "level", "df", "statistic", "p_value"]
    # reference level: the first sorted level ("east")
    assert fit.table["term"].tolist() == ["(Intercept)", "x", "gnorth", "gsouth"]
    assert (fit.table["df"] == 24 - 1 + 1 - 4).all()
    assert fit.wald_test("g")["df_num"].iloc[0] == 2


def test_caller_data_is_not_modified(frame):
    before = frame.copy()
    hv.SurveyDesign(frame, psu="psu").glm("b ~ x + g", family="binomial", subset=frame["x"] > 0)
    pd.testing.assert_frame_equal(frame, before)


def test_subset_column_equals_mask_and_restricted_design(frame):
    frame = frame.assign(pos=frame["x"] > 0)
    d = hv.SurveyDesign(frame, psu="psu")
    a = d.glm("y ~ x", subset="pos").table
    b = d.glm("y ~ x", subset=frame["pos"].to_numpy()).table
    c = d.subset(frame["pos"]).glm("y ~ x").table
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)


def test_missing_values_leave_the_fit(frame):
    d = hv.SurveyDesign(frame.assign(x=frame["x"].where(frame.index != 3)), psu="psu")
    assert d.glm("y ~ x").n == 119


def test_replicate_fit_is_batched_and_near_taylor(frame):
    d = hv.SurveyDesign(frame, psu="psu")
    taylor = d.glm("k ~ x", family="poisson").table["se"].to_numpy()
    jack = d.replicate("jk1").glm("k ~ x", family="poisson").table["se"].to_numpy()
    np.testing.assert_allclose(jack, taylor, rtol=0.15)


def test_predict_uses_the_fit_levels(frame):
    fit = hv.SurveyDesign(frame, psu="psu").glm("b ~ x + g", family="quasibinomial")
    new = pd.DataFrame({"x": [0.0, 1.0], "g": ["east", "south"]})
    p = fit.predict(new)
    assert ((p["estimate"] > 0) & (p["estimate"] < 1)).all() and (p["se"] > 0).all()
    with pytest.raises(DataError):
        fit.predict(pd.DataFrame({"x": [0.0], "g": ["west"]}))


@pytest.mark.parametrize(("formula", "family", "message"), [
    ("y ~ x", "binomial", "between 0 and 1"),
    ("g ~ x", "gaussian", "not numeric"),
    ("y ~ nothing", "gaussian", "could not be evaluated"),
])
def test_bad_input_is_a_data_error(frame, formula, family, message):
    with pytest.raises(DataError, match=message):
        hv.SurveyDesign(frame, psu="psu").glm(formula, family=family)


def test_bad_options(frame):
    d = hv.SurveyDesign(frame, psu="psu")
    with pytest.raises(ValueError, match="family"):
        d.glm("y ~ x", family="gamma")
    with pytest.raises(ValueError, match="not in the model"):
        d.glm("y ~ x").wald_test("g")
    with pytest.raises(ValueError, match="formula"):
        d.glm("y x")


def test_odds_ratios_are_the_exponentiated_coefficients(frame):
    from harvest.regression import ODDS_RATIO_COLUMNS, odds_ratios

    d = hv.SurveyDesign(frame, psu="psu")
    table = odds_ratios(d, ["b"], ["x", "g"])
    assert list(table.columns) == ODDS_RATIO_COLUMNS
    fit = d.glm("b ~ x + g", family="quasibinomial").table.iloc[1:]
    np.testing.assert_allclose(table["estimate"], np.exp(fit["estimate"]), rtol=1e-12)
    np.testing.assert_allclose(table["ci_low"], np.exp(fit["ci_low"]), rtol=1e-12)
    assert table["term"].tolist() == ["x", "gnorth", "gsouth"]


def test_odds_ratio_forest_plot(frame):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from harvest.regression import odds_ratios

    table = odds_ratios(hv.SurveyDesign(frame, psu="psu"), ["b"], ["x", "g"])
    ax = hv.plot.odds_ratios(table)
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x", "gnorth", "gsouth"]
    plt.close(ax.figure)


def test_report_section_withholds_odds_ratios_of_small_categories():
    from harvest import report
    from harvest.disclosure import DisclosurePolicy

    farms = hv.datasets.load("farms")
    data = report.analyse({"farm": farms}, affected=True)
    assert set(data.affected["indicator"]) >= {"child_labour"}

    def withheld(page):
        section = page[page.index('id="affected"'):page.index('id="methods"')]
        return section.count(">*<")

    page = report.render_report(data)
    assert "Who is most affected" in page
    # Balkan has 59 farms: with min_n 100 its odds ratios are withheld too
    strict = report.render_report(data, policy=DisclosurePolicy(min_n=100))
    assert withheld(strict) > withheld(page)
    assert "withheld too" in strict
    plain = report.render_report(report.analyse({"farm": farms}))
    assert 'id="affected"' not in plain


def test_batched_replicate_refits_equal_one_fit_per_replicate(frame):
    """The stacked IRLS gives each replicate's own weighted fit; blocks change nothing."""
    d = hv.SurveyDesign(frame, psu="psu")
    rep = d.replicate("bootstrap", replicates=40, rng=5)
    se = rep.glm("k ~ x + g", family="poisson").table["se"].to_numpy()
    small = d.replicate("bootstrap", replicates=40, rng=5, batch=7)
    np.testing.assert_allclose(small.glm("k ~ x + g", family="poisson").table["se"], se,
                               rtol=1e-10)
    F = rep._factors.matrix()[:, d._codes.row_psu]
    betas = np.array([
        hv.SurveyDesign(frame.assign(w=f), weights="w").glm(
            "k ~ x + g", family="poisson").coefficients.to_numpy() for f in F])
    dev = betas - betas.mean(axis=0)
    manual = np.sqrt(np.diag(rep.scale * (dev.T * rep.rscales) @ dev))
    np.testing.assert_allclose(se, manual, rtol=1e-8)
