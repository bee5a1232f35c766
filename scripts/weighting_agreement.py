"""Largest relative difference from R of every weighted design in tests/test_weighting.py.

Reads tests/reference/weighting_replicate.csv (written by tests/reference/weighting.R) and
prints, per data set x design kind x weighting, the largest relative difference in the
estimates and SEs of the six statistics the tests compare (SEs that are zero up to rounding
are compared on 1e-6 of the estimate, as the tests do). Run from the repository root::

    PYTHONPATH=. .venv/bin/python scripts/weighting_agreement.py
"""

import sys
from pathlib import Path

import pandas as pd


def main():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    import test_weighting as t

    designs = t.api_designs.__wrapped__()
    ref = pd.read_csv(t.REF / "weighting_replicate.csv", keep_default_na=False)
    rows = []
    for case, args in t.CASES.items():
        for name in t.WEIGHTINGS:
            pick = (ref.data == case[0]) & (ref.design == name)
            d = t._weigh(designs[case], name, *args)
            rows.append((case[0], case[1], name, t._max_rel(d, ref[pick & (ref.kind == case[1])])))
            if case[1] == "taylor":
                kind = "jkn" if case[0] == "apistrat" else "jk1"
                rows.append((case[0], f"{kind} via replicate()", name,
                             t._max_rel(d.replicate(kind), ref[pick & (ref.kind == kind)])))
    out = pd.DataFrame(rows, columns=["data", "kind", "design", "max_rel"])
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 20)
    table = out.pivot_table(index=["data", "kind"], columns="design", values="max_rel")
    print(table.map(lambda v: f"{v:.1e}"))
    print(f"overall largest relative difference: {out.max_rel.max():.2e}")


if __name__ == "__main__":
    main()
