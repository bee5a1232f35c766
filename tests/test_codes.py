"""Integer codes of design and domain columns: the subtraction shortcut for integer and
bool columns gives the codes and labels of the general (pandas factorize) path."""

import numpy as np
import pandas as pd
import pytest

import harvest as hv
import harvest.replicate_design as rd
from harvest._codes import _codes_of, _compact, _integer_keys, _level_keys
from harvest._domains import _domain_codes, build_estimand
from harvest._errors import LonelyPSUWarning

BIG = np.iinfo(np.int64).max
SMALL = np.iinfo(np.int64).min

COLUMNS = {
    "negative": np.array([-3, 5, -3, 0, 7, -12, 5, 0, 1, -3]),
    "gaps": np.array([10, 40, 10, 1000, 40, 40, 1000, 10, 10, 40]),
    "one value": np.full(10, 42),
    "huge": np.array([BIG, 0, SMALL, BIG, 5, SMALL, 0, 5, BIG, 1]),
    "near the top": np.array([BIG, BIG - 3, BIG - 1, BIG, BIG - 3, BIG, BIG, BIG - 1,
                              BIG - 3, BIG]),
    "near the bottom": SMALL + np.array([0, 3, 1, 0, 3, 3, 0, 1, 1, 0]),
    "int8 extremes": np.array([-128, 127, 0, -128, 127, 5, 5, 0, -1, -1], dtype=np.int8),
    "uint64 top": np.array([2**64 - 1, 2**64 - 2, 2**64 - 1, 2**64 - 5, 2**64 - 2,
                            2**64 - 1, 2**64 - 5, 2**64 - 1, 2**64 - 2, 2**64 - 1],
                           dtype=np.uint64),
    "uint8": np.array([0, 255, 3, 3, 255, 0, 9, 9, 3, 0], dtype=np.uint8),
    "bool": np.array([True, False, True, True, False, True, True, True, False, True]),
    "bool, one value": np.ones(10, dtype=bool),
    "float": np.array([1.5, -2.0, 1.5, np.nan, 3.0, -2.0, np.nan, 1.5, 3.0, 3.0]),
    "categorical": pd.Categorical(list("bcabcaacbb"), categories=["c", "b", "a"]),
    "nullable Int64": pd.array([3, None, 1, 3, 1, None, 2, 2, 3, 1], dtype="Int64"),
    "text": np.array(list("qwqeewqwee"), dtype=object),
}


def _reference(data, columns):
    """The general path: ``pandas.factorize(sort=True)`` codes of every column, then
    dense codes of the combinations (as ``_codes_of`` before the integer shortcut)."""
    combined = np.zeros(len(data), dtype=np.int64)
    size = 1
    for column in columns:
        codes, levels = pd.factorize(data[column], sort=True)
        combined = combined * len(levels) + codes
        size *= len(levels)
    inverse, _, first = _compact(combined, size)
    frame = data[list(columns)].iloc[first]
    if len(columns) > 1:
        return inverse, list(zip(*(frame[c].tolist() for c in columns), strict=True))
    return inverse, frame[columns[0]].tolist()


@pytest.mark.parametrize("name", list(COLUMNS))
def test_integer_keys_order_rows_as_factorize(name):
    s = pd.Series(COLUMNS[name])
    fast = _integer_keys(s)
    integer = isinstance(s.dtype, np.dtype) and s.dtype.kind in "biu"
    if not integer:
        assert fast is None            # float (NaN), categorical, nullable, text: factorize
    keys, size = _level_keys(s)
    codes, levels = pd.factorize(s, sort=True)
    if fast is None:
        np.testing.assert_array_equal(keys, codes)
        assert size == len(levels)
        return
    assert keys.dtype == np.int64 and 0 <= keys.min() and keys.max() < size
    # the same order: dense ranks of the keys are the factorize codes
    np.testing.assert_array_equal(np.unique(keys, return_inverse=True)[1].reshape(-1), codes)


def test_wide_ranges_are_factorized():
    assert _integer_keys(pd.Series([0, 5000])) is None            # range > rows + 1024
    assert _integer_keys(pd.Series(np.array([SMALL, BIG]))) is None
    edge = np.zeros(10, dtype=np.int64)
    edge[3] = 10 + 1023                                   # range rows + 1024: counted
    keys, size = _integer_keys(pd.Series(edge - 7))
    assert size == 10 + 1024 and keys.tolist() == edge.tolist()
    edge[3] += 1                                          # one more: factorized
    assert _integer_keys(pd.Series(edge)) is None


@pytest.mark.parametrize("name", list(COLUMNS))
def test_codes_of_equals_the_factorize_path(name):
    df = pd.DataFrame({"a": COLUMNS[name], "b": np.arange(10) % 3 - 1,
                       "c": np.array(list("xyxyxyxyxy"), dtype=object)})
    if df["a"].isna().any():
        df = df[df["a"].notna()].reset_index(drop=True)   # design columns have no NaN
    for columns in (["a"], ["a", "b"], ["b", "a", "c"]):
        codes, labels = _codes_of(df, columns)
        ref_codes, ref_labels = _reference(df, columns)
        np.testing.assert_array_equal(codes, ref_codes)
        assert labels == ref_labels
        assert [type(v) for v in np.ravel(labels)] == [type(v) for v in np.ravel(ref_labels)]


def test_codes_of_many_wide_columns_stay_within_int64():
    # six columns of ~2000 distinct values: the product of their ranges passes 2**62, so
    # the combined keys are compacted on the way; the codes stay the sorted combinations
    rng = np.random.default_rng(4)
    n = 2000
    df = pd.DataFrame({f"c{j}": rng.integers(-10**9, 10**9, n) // 10**6 * 10**6 + j
                       for j in range(6)})
    df["c0"] = rng.permutation(n)   # fast path, range n
    df["c1"] = rng.permutation(n) - 500
    codes, labels = _codes_of(df, list(df.columns))
    expected = df.groupby(list(df.columns), sort=True).ngroup().to_numpy()
    np.testing.assert_array_equal(codes, expected)
    assert labels[codes[0]] == tuple(df.iloc[0].tolist())


@pytest.mark.parametrize("name", ["negative", "gaps", "huge", "near the top", "int8 extremes",
                                  "uint64 top", "uint8", "bool", "bool, one value", "text"])
@pytest.mark.parametrize("every_row", [True, False])
def test_domain_codes_equal_the_factorize_path(name, every_row):
    df = pd.DataFrame({"g": COLUMNS[name], "h": np.arange(10) % 2 == 0})
    as_object = df.astype(object)     # object columns take the general path
    rows = np.arange(10) if every_row else np.array([0, 2, 3, 5, 8, 9])
    for by in (["g"], ["g", "h"], ["h", "g"]):
        dom, table = _domain_codes(df, by, rows)
        ref_dom, ref_table = _domain_codes(as_object, by, rows)
        np.testing.assert_array_equal(dom, ref_dom)
        assert table.astype(object).values.tolist() == ref_table.values.tolist()
        for c in by:
            assert table[c].dtype == df[c].dtype       # labels keep the column's dtype


def test_domain_codes_keep_the_missing_value_error():
    df = pd.DataFrame({"g": [1.0, np.nan, 2.0]})
    with pytest.raises(hv.DataError, match="missing values"):
        _domain_codes(df, ["g"], np.arange(3))


def _survey(n=600, seed=5):
    rng = np.random.default_rng(seed)
    stratum = rng.integers(0, 6, n)
    return pd.DataFrame({
        "stratum": stratum * -7 + 3,                           # negative, gaps
        "psu": stratum * 10**6 + rng.integers(0, 5, n) * 3,    # codes far apart
        "w": rng.uniform(1, 3, n), "g": rng.integers(-2, 3, n),
        "flag": rng.random(n) < 0.4, "y": rng.integers(0, 2, n),
        "z": rng.normal(size=n)})


@pytest.mark.parametrize("method", ["bootstrap", "jkn"])
def test_design_codes_and_replicate_results_equal_the_factorize_path(method):
    df = _survey()
    as_object = df.astype({"stratum": object, "psu": object, "g": object, "flag": object})
    fast = hv.SurveyDesign(df, weights="w", strata="stratum", psu="psu")
    slow = hv.SurveyDesign(as_object, weights="w", strata="stratum", psu="psu")
    for field in ("row_psu", "psu_stratum", "n_psu", "row_stratum"):
        np.testing.assert_array_equal(getattr(fast._codes, field), getattr(slow._codes, field))
    assert fast._codes.stratum_labels == slow._codes.stratum_labels
    a = fast.replicate(method, replicates=40, rng=3).mean(["z", "y"], by=["g", "flag"])
    b = slow.replicate(method, replicates=40, rng=3).mean(["z", "y"], by=["g", "flag"])
    for column in ("estimate", "se", "df", "deff", "n"):
        np.testing.assert_array_equal(a[column].to_numpy(), b[column].to_numpy())


@pytest.mark.parametrize("kind", ["proportion", "mean", "total", "ratio"])
@pytest.mark.parametrize("missing", [False, True])
def test_stacked_totals_equal_the_dense_views(kind, missing):
    df = _survey()
    if missing:
        df.loc[::7, "z"] = np.nan
    rep = hv.SurveyDesign(df, weights="w", strata="stratum", psu="psu").replicate(
        "bootstrap", replicates=10, rng=1)
    variables = ["y", "flag"] if kind == "proportion" else ["z", "y"]
    est = build_estimand(rep, kind, variables, by="g", na="drop", denominator="w")
    for one_den in (False, True):
        if one_den and est.pair_X is None:
            continue
        Z = rd._stacked_totals(est, one_den)
        if est.pair_X is None:
            expected = est.Y
        else:
            P, D, k = est.n_psus, est.n_domains, est.k
            X = est.X.reshape(P, D, k)[:, :, 0] if one_den else est.X
            expected = np.hstack([est.Y, X])
        np.testing.assert_array_equal(Z, expected)


@pytest.mark.parametrize("domains", [5, 400])   # (domain, stratum) cells counted / sorted
def test_factor_rank_equals_the_dense_rank(domains):
    rng = np.random.default_rng(8)
    n = 900
    stratum = rng.integers(0, 40, n)
    df = pd.DataFrame({"stratum": stratum, "psu": stratum * 5 + rng.integers(0, 3, n),
                       "g": rng.integers(0, domains, n), "z": rng.normal(size=n)})
    rep = hv.SurveyDesign(df, strata="stratum", psu="psu", lonely_psu="remove").replicate(
        "bootstrap", replicates=30, rng=2)
    est = build_estimand(rep, "mean", "z", by="g")
    np.testing.assert_array_equal(rd._factor_rank(rep._factors, est),
                                  rep._factors.rank(est.domain_psu))


def test_bootstrap_of_census_strata_only():
    # every stratum a single PSU kept as certainty: no draws at all (empty work arrays)
    df = pd.DataFrame({"stratum": [1, 1, 2, 2], "psu": [1, 1, 2, 2], "y": [1.0, 2, 3, 4]})
    d = hv.SurveyDesign(df, strata="stratum", psu="psu", lonely_psu="certainty")
    with pytest.warns(LonelyPSUWarning):
        rep = d.replicate("bootstrap", replicates=5, rng=1)
    np.testing.assert_array_equal(rep._factors.matrix(), np.ones((5, 2)))
