"""Multistage and PPS designs: the vectorised recursion against a literal transcription
of R ``survey:::multistage``/``onestage``, default weights, input errors."""

import numpy as np
import pandas as pd
import pytest

from harvest import DataError
from harvest.design import SurveyDesign


def _three_stage(seed=5):
    rng = np.random.default_rng(seed)
    rows = []
    for h in range(3):
        n1 = int(rng.integers(2, 5))
        N1 = n1 + int(rng.integers(0, 6))
        for i in range(n1):
            n2 = int(rng.integers(1, 4))
            N2 = n2 + int(rng.integers(0, 3))       # some PSUs are a census of stage 2
            for j in range(n2):
                n3 = int(rng.integers(1, 3))
                N3 = n3 + int(rng.integers(0, 4))
                for k in range(n3):
                    for _ in range(int(rng.integers(1, 3))):
                        rows.append((h, i, j, k, N1, N2, N3))
    df = pd.DataFrame(rows, columns=["h", "c1", "c2", "c3", "N1", "N2", "N3"])
    df["y"] = rng.normal(size=len(df)) + df["c1"]
    df["g"] = rng.choice(["a", "b"], size=len(df))
    df["w"] = rng.uniform(1, 5, size=len(df))
    return df


def _onestage(x, strata, clusters, f, lonely):
    v = np.zeros((x.shape[1], x.shape[1]))
    for h in np.unique(strata):
        idx = strata == h
        fpc = 1.0 - f[idx][0]
        if fpc < 1e-7:
            continue
        z = pd.DataFrame(x[idx]).groupby(clusters[idx]).sum().to_numpy()
        n = z.shape[0]
        if n > 1:
            zc = z - z.mean(axis=0)
            v += fpc * n / (n - 1) * zc.T @ zc
        elif lonely == "adjust":
            v += fpc * z.T @ z
    return v


def _multistage(x, strata, clusters, fractions, lonely):
    """R's recursion, literally (loops: this is the reference, not the code under test)."""
    v = _onestage(x, strata, clusters[0], fractions[0], lonely)
    if len(clusters) > 1:
        for c in np.unique(clusters[0]):
            idx = clusters[0] == c
            v += _multistage(x[idx], clusters[0][idx], [k[idx] for k in clusters[1:]],
                             [f[idx] for f in fractions[1:]], lonely) * fractions[0][idx][0]
    return v


def _fractions(df):
    c1 = df["h"] * 100 + df["c1"]
    c2 = c1 * 100 + df["c2"]
    c3 = c2 * 100 + df["c3"]
    n1 = df.groupby("h")["c1"].transform("nunique")
    n2 = df.assign(c2=c2).groupby(c1)["c2"].transform("nunique")
    n3 = df.assign(c3=c3).groupby(c2)["c3"].transform("nunique")
    return ([c1.to_numpy(), c2.to_numpy(), c3.to_numpy()],
            [(n1 / df["N1"]).to_numpy(), (n2 / df["N2"]).to_numpy(),
             (n3 / df["N3"]).to_numpy()])


@pytest.mark.parametrize("lonely", ["adjust", "remove"])
def test_three_stage_domain_means_match_rs_recursion(lonely):
    df = _three_stage()
    d = SurveyDesign(df, weights="w", strata="h", psu=["c1", "c2", "c3"],
                     fpc=["N1", "N2", "N3"], lonely_psu=lonely)
    table = d.mean("y", by="g")
    v = d.vcov("y", by="g", kind="mean")
    clusters, fractions = _fractions(df)
    w, y = df["w"].to_numpy(), df["y"].to_numpy()
    x = np.zeros((len(df), 2))
    for j, level in enumerate(["a", "b"]):
        inside = (df["g"] == level).to_numpy()
        mean = (w * y)[inside].sum() / w[inside].sum()
        x[:, j] = np.where(inside, w * (y - mean) / w[inside].sum(), 0.0)
    ref = _multistage(x, df["h"].to_numpy(), clusters, fractions, lonely)
    np.testing.assert_allclose(v.to_numpy(), ref, rtol=1e-10)
    np.testing.assert_allclose(table["se"].to_numpy(), np.sqrt(np.diag(ref)), rtol=1e-10)
    # the later stages add variance to the ultimate-cluster one
    one = SurveyDesign(df, weights="w", strata="h", psu="c1", fpc="N1",
                       lonely_psu=lonely).mean("y", by="g")
    assert (table["se"].to_numpy() > one["se"].to_numpy()).all()


def test_default_weights_are_the_product_of_the_stage_fractions():
    df = _three_stage()
    d = SurveyDesign(df, strata="h", psu=["c1", "c2", "c3"], fpc=["N1", "N2", "N3"])
    _, fractions = _fractions(df)
    np.testing.assert_allclose(d.weights.to_numpy(),
                               1 / (fractions[0] * fractions[1] * fractions[2]))


def test_without_fpc_a_multistage_design_is_the_ultimate_cluster_one():
    df = _three_stage()
    a = SurveyDesign(df, weights="w", strata="h", psu=["c1", "c2"]).mean("y", by="g")
    b = SurveyDesign(df, weights="w", strata="h", psu="c1").mean("y", by="g")
    pd.testing.assert_frame_equal(a, b)


def test_row_order_does_not_matter_and_data_are_untouched():
    df = _three_stage()
    before = df.copy()
    shuffled = df.sample(frac=1.0, random_state=3).reset_index(drop=True)
    args = dict(weights="w", strata="h", psu=["c1", "c2", "c3"], fpc=["N1", "N2", "N3"],
                lonely_psu="adjust")
    a = SurveyDesign(df, **args).total("y", by="g")
    b = SurveyDesign(shuffled, **args).total("y", by="g")
    np.testing.assert_allclose(a["se"], b["se"], rtol=1e-12)
    pd.testing.assert_frame_equal(df, before)


def test_lonely_second_stage_unit_fails_by_default_and_average_gives_nan():
    df = pd.DataFrame({"p": [1, 1, 2, 2, 3], "s": [1, 2, 1, 2, 1], "N1": 10,
                       "N2": [4, 4, 4, 4, 3], "y": [1.0, 2, 3, 4, 5]})
    with pytest.raises(DataError, match=r"'p' = 3.*only one sampled stage-2 unit"):
        SurveyDesign(df, psu=["p", "s"], fpc=["N1", "N2"]).mean("y")
    d = SurveyDesign(df, psu=["p", "s"], fpc=["N1", "N2"], lonely_psu="average")
    assert np.isnan(d.mean("y")["se"].iloc[0])
    # outside the domain of the lonely unit the estimate is fine
    sub = SurveyDesign(df, psu=["p", "s"], fpc=["N1", "N2"]).subset(df["p"] < 3)
    assert np.isfinite(sub.mean("y")["se"].iloc[0])
    # a census at stage 2 (N2 = 1) is not lonely
    census = df.assign(N2=[4, 4, 4, 4, 1])
    assert np.isfinite(SurveyDesign(census, psu=["p", "s"], fpc=["N1", "N2"])
                       .mean("y")["se"].iloc[0])


def test_poststratified_multistage_design_runs_through_the_units():
    df = _three_stage()
    d = SurveyDesign(df, weights="w", strata="h", psu=["c1", "c2", "c3"],
                     fpc=["N1", "N2", "N3"], lonely_psu="adjust")
    ps = d.poststratify("g", {"a": 500.0, "b": 700.0})
    t = ps.mean("y", by="g")
    assert np.isfinite(t["se"]).all()
    # one post-stratum holding every row, at the estimated size: nothing changes
    one = d.poststratify("h", df.groupby("h")["w"].sum().to_dict())
    np.testing.assert_allclose(one.total("y")["estimate"], d.total("y")["estimate"])
    assert (one.total("y")["se"].iloc[0] < d.total("y")["se"].iloc[0])


def test_summary_and_repr():
    df = _three_stage()
    d = SurveyDesign(df, strata="h", psu=["c1", "c2"], fpc=["N1", "N2"])
    assert d.summary()["stages"] == 2
    assert "stages=2" in repr(d)
    p = SurveyDesign(pd.DataFrame({"pi": [0.2, 0.5, 0.4], "y": [1.0, 2, 3]}), fpc="pi",
                     pps="brewer")
    assert p.summary()["pps"] == "brewer"


def test_multistage_replicate_design_uses_the_first_stage():
    df = _three_stage()
    d = SurveyDesign(df, weights="w", strata="h", psu=["c1", "c2"])
    assert d.replicate("jkn").n_replicates == d.summary()["psus"]


PPS = pd.DataFrame({"psu": [3, 1, 2, 4, 5], "pi": [0.6, 0.2, 0.5, 0.3, 0.4],
                    "y": [10.0, 3, 7, 4, 6]})


def test_brewer_is_a_per_psu_fpc():
    d = SurveyDesign(PPS, psu="psu", fpc="pi", pps="brewer")
    z = PPS["y"].to_numpy() / PPS["pi"].to_numpy()
    n = len(z)
    v = n / (n - 1) * np.sum((1 - PPS["pi"].to_numpy()) * (z - z.mean()) ** 2)
    assert d.total("y")["se"].iloc[0] == pytest.approx(np.sqrt(v), rel=1e-12)
    np.testing.assert_allclose(d.weights, 1 / PPS["pi"])


def test_ht_follows_the_order_psus_first_appear_and_overton_matches_its_matrix():
    pi = PPS["pi"].to_numpy()
    n = len(pi)
    fbar = (pi[:, None] + pi[None, :]) / 2
    delta = (fbar - 1) / (n - 1)                 # Overton's weighted covariance (R)
    np.fill_diagonal(delta, 1 - pi)
    joint = np.outer(pi, pi) / (1 - delta)
    np.fill_diagonal(joint, pi)
    z = PPS["y"].to_numpy() / pi
    frame = PPS
    ov = SurveyDesign(frame, psu="psu", fpc="pi", pps="overton")
    # the joint matrix is given in the order the PSUs appear (3, 1, 2, 4, 5)
    ht = SurveyDesign(frame, psu="psu", fpc="pi", pps="ht", joint_probabilities=joint)
    v_ov = ov.vcov("y", kind="total").to_numpy()[0, 0]
    v_ht = ht.vcov("y", kind="total").to_numpy()[0, 0]
    assert v_ht == pytest.approx(z @ delta @ z, rel=1e-10)
    assert v_ov == pytest.approx(z @ delta @ z, rel=1e-10)
    # reordering the rows (and so the matrix) changes nothing
    order = [4, 2, 0, 1, 3]
    ht2 = SurveyDesign(frame.iloc[order], psu="psu", fpc="pi", pps="ht",
                       joint_probabilities=joint[np.ix_(order, order)])
    assert ht2.vcov("y", kind="total").to_numpy()[0, 0] == pytest.approx(v_ht, rel=1e-12)


def test_pps_input_errors():
    with pytest.raises(ValueError, match="needs `fpc`"):
        SurveyDesign(PPS, psu="psu", pps="brewer")
    with pytest.raises(ValueError, match="`pps` must be one of"):
        SurveyDesign(PPS, psu="psu", fpc="pi", pps="sampford")
    with pytest.raises(ValueError, match="`joint_probabilities` is needed"):
        SurveyDesign(PPS, psu="psu", fpc="pi", pps="ht")
    with pytest.raises(ValueError, match="`joint_probabilities` is needed"):
        SurveyDesign(PPS, psu="psu", fpc="pi", pps="brewer", joint_probabilities=np.eye(5))
    with pytest.raises(DataError, match="5 x 5"):
        SurveyDesign(PPS, psu="psu", fpc="pi", pps="ht", joint_probabilities=np.eye(4))
    with pytest.raises(DataError, match="diagonal must equal"):
        SurveyDesign(PPS, psu="psu", fpc="pi", pps="ht",
                     joint_probabilities=np.full((5, 5), 0.1))
    with pytest.raises(DataError, match="inclusion probabilities"):
        SurveyDesign(PPS.assign(pi=[6, 2, 5, 3, 4]), psu="psu", fpc="pi", pps="brewer")
    with pytest.raises(ValueError, match="replicate\\(\\) of a PPS design"):
        SurveyDesign(PPS, psu="psu", fpc="pi", pps="brewer").replicate("jk1")
    two = PPS.assign(s=[1, 1, 1, 1, 1], pi2=1.0)
    with pytest.raises(ValueError, match="one-stage designs"):
        SurveyDesign(two, psu=["psu", "s"], fpc=["pi", "pi2"], pps="overton")


def test_multistage_input_errors():
    df = _three_stage()
    with pytest.raises(ValueError, match="one column per stage"):
        SurveyDesign(df, strata="h", psu=["c1", "c2"], fpc="N1")
    bad = df.assign(N2=np.arange(len(df)) + 10)
    with pytest.raises(DataError, match="'N2' varies within a stage-1 unit"):
        SurveyDesign(bad, strata="h", psu=["c1", "c2"], fpc=["N1", "N2"])
    small = df.assign(N2=1)
    with pytest.raises(DataError, match="'N2' gives N = 1.0 population units"):
        SurveyDesign(small, strata="h", psu=["c1", "c2", "c3"], fpc=["N1", "N2", "N3"])
    with pytest.raises(DataError, match="mixes population sizes"):
        SurveyDesign(df.assign(N2=0.5), strata="h", psu=["c1", "c2"], fpc=["N1", "N2"])
    with pytest.raises(DataError, match="`psu` column 'c2' has missing values"):
        SurveyDesign(df.assign(c2=np.nan), strata="h", psu=["c1", "c2"])
