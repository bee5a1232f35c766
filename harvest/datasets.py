"""Bundled synthetic data: the 2023 and 2024 missions of every instrument.

The files live in the repository's ``data/`` folder and are installed inside the
wheel as ``harvest/_bundled``; :func:`load` finds either. They were made by
``scripts/make_data.py`` with a fixed seed from :mod:`harvest.simulate`: they are
synthetic, not field data (see ``data/README.md``).

Examples
--------
>>> import harvest as hv
>>> farms = hv.datasets.load("farms")
>>> sorted(farms["year"].unique().tolist())
[2023, 2024]
>>> hv.datasets.names()
['employees', 'farms', 'institutions', 'pickers', 'truth', 'visits']
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

__all__ = ["load", "names", "path", "data_dir", "INSTRUMENT_OF"]

#: Data set name -> instrument (None: not an instrument table).
INSTRUMENT_OF = {"farms": "farm", "pickers": "picker", "employees": "employee",
                 "institutions": "institution", "visits": None, "truth": None}


def data_dir() -> Path:
    """The folder holding the bundled files (installed package first, then the checkout)."""
    try:
        bundled = resources.files("harvest") / "_bundled"
        if bundled.is_dir():
            return Path(str(bundled))
    except (ModuleNotFoundError, TypeError):  # pragma: no cover - unusual loaders
        pass
    repo = Path(__file__).resolve().parent.parent / "data"
    if repo.is_dir():
        return repo
    raise FileNotFoundError(  # pragma: no cover - a broken installation
        "the bundled data were not found: neither harvest/_bundled nor the repository's "
        "data/ folder exists."
    )


def names() -> list[str]:
    """Names accepted by :func:`load`."""
    return sorted(INSTRUMENT_OF)


def path(name: str) -> Path:
    """Path of the file behind a data set name."""
    if name not in INSTRUMENT_OF:
        shown = ", ".join(repr(n) for n in names())
        raise ValueError(f"`name` must be one of {shown}; got {name!r}.")
    return data_dir() / f"{name}.csv"


def load(name: str) -> pd.DataFrame:
    """Load a bundled data set as a new DataFrame.

    Parameters
    ----------
    name : {"farms", "pickers", "employees", "institutions", "visits", "truth"}
        An instrument table (2023 and 2024 stacked, with a ``year`` column), every
        attempted visit (``visits``: ``visit_status``, ``interference``), or the true
        population values behind the synthetic data (``truth``).

    Returns
    -------
    pandas.DataFrame
        Instrument tables are validated and carry the derived indicators and the
        design columns ``stratum``, ``district``, ``weight``, ``n_districts``.

    Examples
    --------
    >>> import harvest as hv
    >>> farms = hv.datasets.load("farms")
    >>> design = hv.SurveyDesign(farms, weights="weight", strata="stratum",
    ...                          psu="district", fpc="n_districts")  # doctest: +SKIP
    >>> int((farms["year"] == 2024).sum())
    472
    """
    file = path(name)
    instrument = INSTRUMENT_OF[name]
    if instrument is not None:
        from harvest.io import read

        return read(file, instrument=instrument)
    df = pd.read_csv(file)
    for c in df.columns:
        if df[c].dtype == object:
            df[c] = df[c].astype("str")
    return df
