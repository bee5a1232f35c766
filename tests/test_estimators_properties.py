"""Properties every design-based estimate must have, checked on random designs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harvest._errors import EmptyDomainWarning
from harvest.design import SurveyDesign

# Lonely-PSU policies are applied on purpose here (R reference cases): their
# LonelyPSUWarning is tested in tests/test_zero_weight_lonely.py.
pytestmark = pytest.mark.filterwarnings("ignore::harvest._errors.LonelyPSUWarning")

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def designs(draw):
    """A stratified clustered sample: 2-4 strata, 2-5 PSUs each, 1-6 rows per PSU."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n_strata = draw(st.integers(1, 4))
    psus = rng.integers(2, 6, n_strata)
    rows = []
    for h in range(n_strata):
        for p in range(psus[h]):
            m = int(rng.integers(1, 7))
            rows.append(pd.DataFrame({"h": h, "psu": p, "m": range(m)}))
    df = pd.concat(rows, ignore_index=True)
    n = len(df)
    df["w"] = rng.uniform(0.5, 20.0, n)
    df["y"] = (rng.random(n) < rng.uniform(0.1, 0.9)).astype(int)
    df["x"] = rng.gamma(2.0, 3.0, n) + 0.1
    df["g"] = rng.choice(["a", "b", "c"], n)
    return df


def _table(df, weights="w"):
    d = SurveyDesign(df, weights=weights, strata="h", psu="psu")
    return {
        "p": d.proportion("y", by="g"),
        "m": d.mean("x", by="g"),
        "t": d.total(["x", "y"], by="g"),
        "r": d.ratio("x", "w", by="g"),
    }


NUMERIC = ["estimate", "se", "ci_low", "ci_high", "df", "deff", "n", "n_eff"]


@SETTINGS
@given(designs(), st.integers(0, 2**32 - 1))
def test_permuting_rows_changes_nothing(df, seed):
    order = np.random.default_rng(seed).permutation(len(df))
    a = _table(df)
    b = _table(df.iloc[order])
    for key in a:
        pd.testing.assert_frame_equal(a[key][["g", "indicator"]], b[key][["g", "indicator"]])
        np.testing.assert_allclose(a[key][NUMERIC].to_numpy(float),
                                   b[key][NUMERIC].to_numpy(float), rtol=1e-9, atol=1e-12)


@SETTINGS
@given(designs(), st.floats(0.01, 1000.0))
def test_scaling_weights_changes_no_proportion_mean_or_se(df, c):
    a = _table(df)
    b = _table(df.assign(w=df["w"] * c))
    for key in ["p", "m"]:
        cols = ["estimate", "se", "ci_low", "ci_high", "df", "n", "n_eff"]
        np.testing.assert_allclose(a[key][cols].to_numpy(float), b[key][cols].to_numpy(float),
                                   rtol=1e-9, atol=1e-13)
    # totals scale with the weights, their relative standard error does not
    np.testing.assert_allclose(b["t"]["estimate"], c * a["t"]["estimate"], rtol=1e-9)
    np.testing.assert_allclose(b["t"]["se"], c * a["t"]["se"], rtol=1e-9, atol=1e-12)


@SETTINGS
@given(st.integers(3, 60), st.integers(0, 2**32 - 1), st.booleans())
def test_one_row_per_psu_gives_with_replacement_srs_variance(n, seed, equal):
    rng = np.random.default_rng(seed)
    y = rng.normal(10.0, 3.0, n)
    w = np.ones(n) if equal else rng.uniform(1.0, 5.0, n)
    df = pd.DataFrame({"y": y, "w": w, "b": (rng.random(n) < 0.4).astype(int)})
    d = SurveyDesign(df, weights="w")
    mean = d.mean("y").iloc[0]
    ybar = np.sum(w * y) / w.sum()
    expected = n / (n - 1) * np.sum((w * (y - ybar)) ** 2) / w.sum() ** 2
    assert mean["se"] ** 2 == pytest.approx(expected, rel=1e-10)
    assert mean["df"] == n - 1
    if equal:
        # the textbook s^2 / n
        assert mean["se"] ** 2 == pytest.approx(np.var(y, ddof=1) / n, rel=1e-10)
    # no PSU column and one PSU per row are the same design
    same = SurveyDesign(df.assign(id=range(n)), weights="w", psu="id").mean("y").iloc[0]
    assert same["se"] == pytest.approx(mean["se"], rel=1e-12)


@SETTINGS
@given(st.integers(3, 50), st.integers(100, 10_000), st.integers(0, 2**32 - 1))
def test_srs_without_replacement_has_design_effect_one(n, N, seed):
    """Weights N/n and fpc N: the design is simple random sampling, so deff = 1."""
    y = np.random.default_rng(seed).normal(size=n)
    df = pd.DataFrame({"y": y, "N": N})
    d = SurveyDesign(df, fpc="N")
    out = pd.concat([d.mean("y"), d.total("y")])
    np.testing.assert_allclose(out["deff"], 1.0, rtol=1e-10)
    t = d.total("y").iloc[0]
    assert t["se"] ** 2 == pytest.approx(N**2 * (1 - n / N) * np.var(y, ddof=1) / n, rel=1e-10)


@SETTINGS
@given(designs())
def test_domains_are_subsets_and_by_order_is_irrelevant(df):
    d = SurveyDesign(df, weights="w", strata="h", psu="psu")
    by = d.proportion("y", by="g")
    for _, row in by.iterrows():
        one = d.subset(df["g"] == row["g"]).proportion("y").iloc[0]
        for column in ["estimate", "se", "df", "deff", "n"]:
            assert one[column] == pytest.approx(row[column], rel=1e-10, abs=1e-14, nan_ok=True)
    two = d.mean("x", by=["h", "g"])
    swapped = d.mean("x", by=["g", "h"]).sort_values(["h", "g"]).reset_index(drop=True)
    np.testing.assert_allclose(two["estimate"], swapped["estimate"], rtol=1e-12)
    np.testing.assert_allclose(two["se"], swapped["se"], rtol=1e-12)


def test_many_variables_equal_one_at_a_time():
    df = pd.read_csv(__import__("pathlib").Path(__file__).parent / "reference"
                     / "mission_taylor.csv")
    d = SurveyDesign(df, weights="weight", strata=["year", "region"], psu="district",
                     fpc="n_districts", lonely_psu="adjust")
    both = d.proportion(["child_labour", "civil_servants"], by=["year", "region"], na="drop")
    assert list(both["indicator"][:2]) == ["child_labour", "civil_servants"]
    for v in ["child_labour", "civil_servants"]:
        one = d.proportion(v, by=["year", "region"], na="drop")
        mine = both[both["indicator"] == v].reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, one)


def test_output_columns_and_empty_levels():
    df = pd.DataFrame({"psu": [1, 2, 3, 4], "y": [1, 0, 1, 1],
                       "g": pd.Categorical(["a", "a", "b", "b"], categories=["a", "b", "z"])})
    out = SurveyDesign(df, psu="psu").proportion("y", by="g")
    assert list(out.columns) == ["g", "indicator", "estimate", "se", "ci_low", "ci_high",
                                 "level", "ci_method", "df", "deff", "n", "n_eff"]
    assert list(out["g"]) == ["a", "b"]            # level "z" has no rows: no row
    assert out["level"].eq(0.95).all() and out["ci_method"].eq("logit").all()


def test_proportion_of_zero_or_one_is_finite():
    df = pd.DataFrame({"psu": range(6), "y": [0, 0, 0, 1, 1, 1], "g": list("aaabbb")})
    out = SurveyDesign(df, psu="psu").proportion("y", by="g", ci="korn-graubard")
    assert list(out["estimate"]) == [0.0, 1.0]
    assert np.isfinite(out[["ci_low", "ci_high"]].to_numpy()).all()
    assert list(out["se"]) == [0.0, 0.0]
    assert list(out["n_eff"]) == [3.0, 3.0]        # se = 0: n_eff is n
    assert np.isnan(out["deff"]).all()             # 0 / 0, as R


def test_zero_weight_rows_are_outside_every_domain():
    df = pd.DataFrame({"psu": [1, 2, 3, 4, 5], "w": [1.0, 1, 1, 1, 0],
                       "y": [1.0, 2, 3, 4, 100], "g": list("aabbc")})
    with pytest.warns(EmptyDomainWarning, match=r"domain g='c' \(row 4\): every row has weight 0"):
        out = SurveyDesign(df, weights="w", psu="psu").mean("y", by="g")
    assert list(out["g"]) == ["a", "b"]            # as R svyby: zero-weight level dropped
    assert SurveyDesign(df, weights="w", psu="psu").mean("y")["n"].iloc[0] == 4


def test_domain_without_any_value_gives_nan_not_zero():
    df = pd.DataFrame({"psu": [1, 2, 3, 4, 5], "y": [1, 0, np.nan, np.nan, 1],
                       "g": list("aabbc")})
    d = SurveyDesign(df, psu="psu")
    for table in [d.proportion("y", by="g", na="drop"), d.total("y", by="g", na="drop")]:
        empty = table[table["g"] == "b"].iloc[0]
        assert empty["n"] == 0
        assert np.isnan(empty[["estimate", "se", "ci_low", "ci_high", "n_eff"]].astype(float)
                        ).all()
    _, estimate, vcov, _ = d._estimate_vcov("mean", "y", by="g", na="drop")
    assert np.isnan(estimate[1]) and np.isnan(vcov[1]).all() and np.isnan(vcov[:, 1]).all()
    assert vcov[0, 0] > 0


def test_too_many_psu_domain_cells_only_limits_the_dense_view(monkeypatch):
    # by-tables work on the (PSU, domain) pairs: no limit; a dense view says why it refuses
    import harvest._domains as domains

    monkeypatch.setattr(domains, "MAX_CELLS", 10)
    df = pd.DataFrame({"psu": range(6), "y": [0, 1] * 3, "g": list("abcabc")})
    design = SurveyDesign(df, psu="psu")
    assert len(design.mean("y", by="g")) == 3
    with pytest.raises(ValueError, match=r"3 domains x 1 variables x 6 PSUs = 18"):
        _ = domains.build_estimand(design, "mean", "y", by="g").Y
