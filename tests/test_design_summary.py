"""design.summary(): what a result needs to say about its design, kept on the design
(not in DataFrame.attrs, which pandas drops)."""

import numpy as np
import pandas as pd

import harvest as hv


def _frame():
    rng = np.random.default_rng(4)
    return pd.DataFrame({"stratum": np.repeat([1, 2], 12), "psu": np.repeat(np.arange(8), 3),
                         "w": rng.uniform(1, 3, 24), "y": rng.integers(0, 2, 24)})


def test_taylor_summary_matches_the_design():
    df = _frame()
    d = hv.SurveyDesign(df, weights="w", strata="stratum", psu="psu")
    s = d.summary()
    assert s == {"design": "taylor", "rows": 24, "rows_in_estimates": 24, "weights": "w",
                 "weight_sum": float(df["w"].sum()), "strata": 2, "psus": 8, "df": 6,
                 "fpc": None, "lonely_psu": "fail"}
    assert s["df"] == d.proportion("y")["df"].iloc[0]
    sub = d.subset(df["stratum"] == 1).summary()
    assert sub["rows_in_estimates"] == 12 and sub["psus"] == 8  # PSUs kept for the variance
    assert np.isclose(sub["weight_sum"], df.loc[df["stratum"] == 1, "w"].sum(), rtol=1e-14)


def test_replicate_summary_and_attrs_are_a_copy_of_the_design():
    df = _frame()
    rep = hv.SurveyDesign(df, weights="w", strata="stratum", psu="psu").replicate("jkn")
    s = rep.summary()
    assert (s["design"], s["method"], s["replicates"], s["mse"]) == ("replicate", "jkn", 8,
                                                                     False)
    assert s["scale"] == rep.scale
    theta = rep.replicate_estimates("y")
    # attrs is a convenience copy; the design holds the same values
    assert theta.attrs["scale"] == rep.scale
    np.testing.assert_array_equal(theta.attrs["rscales"], rep.rscales)
    t = theta.to_numpy()[:, 0]
    var = rep.scale * (np.asarray(rep.rscales) * (t - t.mean()) ** 2).sum()
    assert np.isclose(np.sqrt(var), rep.proportion("y")["se"].iloc[0], rtol=1e-12)
