"""Make the bundled synthetic data in ``data/`` and the data dictionary page.

Usage::

    python scripts/make_data.py            # data/*.csv, data/README.md tables, docs pages
    python scripts/make_data.py --docs     # only docs/data/dictionary.md
    python scripts/make_data.py --check    # exit 1 if anything committed is out of date

The data come from :func:`harvest.simulate.mission` with fixed seeds (below), one
mission per year; both years are stacked in one CSV per table with a ``year`` column.
They are synthetic: no row describes a real farm, person or institution.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

import harvest as hv
from harvest.instruments import INSTRUMENTS, dictionary_markdown

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
DOCS = ROOT / "docs" / "data"

#: year -> seed of the mission that makes the bundled data.
SEEDS = {2023: 20231, 2024: 20241}
TABLES = {"farms": "farm", "pickers": "picker", "employees": "employee",
          "institutions": "institution", "visits": None, "truth": None}


def build() -> dict[str, pd.DataFrame]:
    """The bundled tables: raw instrument columns plus design columns, both years."""
    missions = {y: hv.simulate.mission(year=y, rng=seed) for y, seed in SEEDS.items()}
    out = {}
    for name, instrument in TABLES.items():
        frames = [getattr(m, name) for m in missions.values()]
        df = pd.concat(frames, ignore_index=True)
        if instrument is not None:
            keep = [c.name for c in INSTRUMENTS[instrument] if c.name in df.columns]
            df = df[keep + ["stratum", "weight", "n_districts"]]
            # six decimals: an exact round trip through Excel (15-16 significant digits)
            df = df.assign(weight=df["weight"].round(6))
        out[name] = df
    return out


def csv_text(df: pd.DataFrame) -> str:
    return df.to_csv(index=False, lineterminator="\n")


def truth_table(truth: pd.DataFrame) -> str:
    """Markdown table of the headline true values (country level) for the data card."""
    keep = {
        ("farm", "child_labour"), ("farm", "farmer_reports_minors"),
        ("farm", "civil_servants_on_farm"), ("picker", "paid_above_1"),
        ("picker", "no_written_contract"), ("picker", "worked_alongside_children"),
        ("picker", "any_consequence"), ("picker", "forced_labour"),
        ("employee", "any_consequence"), ("employee", "picked_or_paid"),
        ("employee", "forced_labour"), ("employee", "worked_alongside_children"),
        ("institution", "received_quota"),
    }
    t = truth[truth["region"] == "All"]
    t = t[[(i, k) in keep for i, k in zip(t["instrument"], t["indicator"], strict=True)]]
    wide = t.pivot_table(index=["instrument", "indicator"], columns="year", values="value",
                         sort=False)
    lines = ["| instrument | indicator | 2023 | 2024 |", "|---|---|---|---|"]
    for (inst, ind), row in wide.iterrows():
        lines.append(f"| {inst} | `{ind}` | {row[2023]:.3f} | {row[2024]:.3f} |")
    return "\n".join(lines)


def sizes_table(tables: dict[str, pd.DataFrame]) -> str:
    lines = ["| table | 2023 rows | 2024 rows | districts 2023 | districts 2024 |",
             "|---|---|---|---|---|"]
    for name in ("farms", "pickers", "employees", "institutions", "visits"):
        df = tables[name]
        n = df.groupby("year").size()
        d = df.groupby("year")["district"].nunique()
        lines.append(f"| `{name}` | {n[2023]} | {n[2024]} | {d[2023]} | {d[2024]} |")
    return "\n".join(lines)


def card(tables: dict[str, pd.DataFrame]) -> str:
    template = (ROOT / "scripts" / "data_card.template.md").read_text(encoding="utf-8")
    return (template.replace("{{SIZES}}", sizes_table(tables))
            .replace("{{TRUTH}}", truth_table(tables["truth"]))
            .replace("{{SEEDS}}", ", ".join(f"{y}: `rng={s}`" for y, s in SEEDS.items())))


def outputs() -> dict[Path, str]:
    """Every generated file and its text."""
    tables = build()
    files = {DATA / f"{name}.csv": csv_text(df) for name, df in tables.items()}
    files[DATA / "README.md"] = card(tables)
    files[DOCS / "dictionary.md"] = dictionary_markdown()
    files[DOCS / "card.md"] = card(tables)
    return files


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", action="store_true", help="only the data dictionary")
    parser.add_argument("--check", action="store_true", help="check, do not write")
    args = parser.parse_args(argv)
    files = ({DOCS / "dictionary.md": dictionary_markdown()} if args.docs else outputs())
    stale = [p for p, text in files.items()
             if not p.exists() or p.read_text(encoding="utf-8") != text]
    if args.check:
        for p in stale:
            print(f"out of date: {p.relative_to(ROOT)}")
        return 1 if stale else 0
    for p, text in files.items():
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
        print(f"wrote {p.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
