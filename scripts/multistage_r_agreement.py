"""Largest relative difference from R of the multistage, PPS, vcov and contrast results.

Run from the repository root: PYTHONPATH=$PWD python scripts/multistage_r_agreement.py
"""
import sys

import numpy as np
import pandas as pd

sys.path.insert(0, "tests")
import test_contrasts as c  # noqa: E402
import test_multistage_r as t  # noqa: E402


def _rel(ours, theirs) -> float:
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    return float((np.abs(ours - theirs) / np.abs(theirs)).max())


def multistage() -> dict:
    ref = pd.read_csv(t.REF / "multistage_reference.csv", keep_default_na=False,
                      na_values=["NA"])
    designs = t._designs()
    by = {"apiclus2": "stype", "farms": "region"}
    worst = {}
    for (case, kind, var, has), fr in t._cases(ref):
        tab = t._ours(designs[case], kind, var, by[case] if has else None)
        if has:
            tab = tab.set_index(by[case]).loc[fr["domain"]]
        for col in ("estimate", "se"):
            worst[col] = max(worst.get(col, 0.0), _rel(tab[col], fr[col]))
    return worst


def vcov_and_contrasts() -> tuple[float, float]:
    api1 = pd.read_csv(c.REF / "multistage_apiclus1.csv")
    api1["yes"] = (api1["sch.wide"] == "Yes").astype(int)
    api2 = pd.read_csv(c.REF / "multistage_apiclus2.csv")
    designs = {"clus1": c.SurveyDesign(api1, weights="pw", psu="dnum", fpc="fpc"),
               "clus2": c.SurveyDesign(api2, psu=["dnum", "snum"], fpc=["fpc1", "fpc2"])}
    vr = pd.read_csv(c.REF / "multistage_vcov.csv")
    cr = pd.read_csv(c.REF / "multistage_contrast.csv")
    wv = wc = 0.0
    for case in c.TABLES:
        d, a = c._args(designs, case)
        v = d.vcov(**a)
        s = vr[vr.case == case]
        ours = [v.loc[r, k] for r, k in zip(s.row, s.col, strict=True)]
        wv = max(wv, _rel(ours, s.value))
        s = cr[cr.case == case]
        linear = {k: c.LINEAR[k] for k in s.contrast if k in c.LINEAR} or None
        functions = {k: c.FUNCTIONS[k] for k in s.contrast if k in c.FUNCTIONS} or None
        tt = d.contrast(**a, coefficients=linear, function=functions)
        tt = tt.set_index("contrast").loc[s.contrast]
        for col in ("estimate", "se"):
            wc = max(wc, _rel(tt[col], s[col]))
    return wv, wc


if __name__ == "__main__":
    print("multistage/pps", multistage())
    wv, wc = vcov_and_contrasts()
    print("vcov", wv, "contrast", wc)
