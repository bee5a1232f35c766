"""Largest relative difference from R of the multistage, PPS, vcov and contrast results.

Run from the repository root: PYTHONPATH=$PWD python scripts/multistage_r_agreement.py
"""
import sys; sys.path.insert(0, "tests")
import numpy as np, pandas as pd
import test_multistage_r as t, test_contrasts as c
ref = t.pd.read_csv(t.REF / "multistage_reference.csv", keep_default_na=False, na_values=["NA"])
ds = t._designs(); by = {"apiclus2": "stype", "farms": "region"}; worst = {}
for (case, kind, var, has), fr in t._cases(ref):
    tab = t._ours(ds[case], kind, var, by[case] if has else None)
    if has: tab = tab.set_index(by[case]).loc[fr["domain"]]
    for col in ("estimate", "se"):
        r = float((np.abs(tab[col].to_numpy() - fr[col].to_numpy()) / np.abs(fr[col].to_numpy())).max())
        worst[col] = max(worst.get(col, 0), r)
print("multistage/pps", worst)
api1 = pd.read_csv(c.REF / "multistage_apiclus1.csv"); api1["yes"] = (api1["sch.wide"] == "Yes").astype(int)
api2 = pd.read_csv(c.REF / "multistage_apiclus2.csv")
D = {"clus1": c.SurveyDesign(api1, weights="pw", psu="dnum", fpc="fpc"), "clus2": c.SurveyDesign(api2, psu=["dnum","snum"], fpc=["fpc1","fpc2"])}
vr = pd.read_csv(c.REF / "multistage_vcov.csv"); cr = pd.read_csv(c.REF / "multistage_contrast.csv")
wv = wc = 0
for case in c.TABLES:
    d, a = c._args(D, case); v = d.vcov(**a); s = vr[vr.case == case]
    o = np.array([v.loc[r, k] for r, k in zip(s.row, s.col)]); wv = max(wv, float((np.abs(o - s.value) / np.abs(s.value)).max()))
    s = cr[cr.case == case]
    tt = d.contrast(**a, coefficients={k: c.LINEAR[k] for k in s.contrast if k in c.LINEAR} or None,
                    function={k: c.FUNCTIONS[k] for k in s.contrast if k in c.FUNCTIONS} or None).set_index("contrast").loc[s.contrast]
    for col in ("estimate", "se"):
        wc = max(wc, float((np.abs(tt[col].to_numpy() - s[col].to_numpy()) / np.abs(s[col].to_numpy())).max()))
print("vcov", wv, "contrast", wc)
