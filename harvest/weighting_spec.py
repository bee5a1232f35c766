"""Weighting given as data: a tidy margins file and a nonresponse column, applied to a design.

The command line (``harvest estimate/compare/report --calibrate margins.csv``,
``--nonresponse COLUMN --nonresponse-by COLUMN``) and the report read the population
figures from a file and weight every design the same way. Everything here calls the
design's own methods (``design.adjust_nonresponse``, ``design.calibrate``), so it works
for Taylor and replicate designs alike.

A margins file has one row per population figure, with the columns

``column``
    The column of the data the figure is about.
``level``
    A level of that column (the figure is its population count), or empty: the figure is
    the population total of a numeric column.
``total``
    The population count or total.
``year`` (optional)
    The year the figure is for: the data's ``year`` column must then be present, and the
    margins are applied within each year (stacked missions are independent samples).
``instrument`` (optional)
    Which instrument's table the row is for (``farm``, ``employee``...); rows for
    another instrument are left out (the report weights each instrument with its rows).

Examples
--------
>>> import pandas as pd
>>> margins = pd.DataFrame({"column": ["g", "g", "x"], "level": ["a", "b", None],
...                         "total": [60, 40, 250.0]})
>>> spec = margins_from_table(margins, source="margins.csv")
>>> spec
{'g': {'a': 60.0, 'b': 40.0}, 'x': 250.0}
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from harvest._errors import DataError
from harvest._options import CALIBRATION_METHODS, as_list, check_option
from harvest.weighting import describe_weighting

__all__ = ["Weighting", "read_margins", "margins_from_table", "apply_weighting",
           "weighting_summary", "check_respondents", "na_policy", "MARGIN_COLUMNS"]

#: Required columns of a margins file.
MARGIN_COLUMNS = ("column", "level", "total")
_OPTIONAL = ("year", "instrument")
#: Separator of a year-crossed level (``"2024 | Ahal"``) and column (``"region | year"``).
_CROSS = " | "


@dataclass(frozen=True)
class Weighting:
    """How a design is to be weighted: nonresponse adjustment first, then calibration.

    Attributes
    ----------
    margins : pandas.DataFrame or None
        The margins table (:data:`MARGIN_COLUMNS`, optionally ``year``, ``instrument``).
    source : str
        Its file name, for messages.
    method : {"linear", "raking", "logit"}
        The calibration function (R ``calfun``).
    bounds : tuple or None
        Bounds ``(lo, hi)`` on the g-weights.
    nonresponse : str or None
        A 0/1 column (1: responded).
    nonresponse_by : list of str
        The adjustment cells.
    """

    margins: pd.DataFrame | None = None
    source: str = "margins"
    method: str = "linear"
    bounds: tuple | None = None
    nonresponse: str | None = None
    nonresponse_by: list = field(default_factory=list)

    def __post_init__(self):
        check_option("method", self.method, CALIBRATION_METHODS)

    @property
    def active(self) -> bool:
        return self.margins is not None or self.nonresponse is not None

    def for_instrument(self, instrument) -> Weighting:
        """The same weighting with only the margins rows of ``instrument``."""
        m = self.margins
        if m is None or "instrument" not in m.columns:
            return self
        keep = m["instrument"].astype("string").str.strip() == str(instrument)
        kept = m[keep.fillna(False).to_numpy()]
        return Weighting(kept if len(kept) else None, self.source, self.method, self.bounds,
                         self.nonresponse, list(self.nonresponse_by))


def _row_text(source, i) -> str:
    # a line of the file (the header is line 1), as a text editor counts them
    return f"{source} line {int(i) + 2}"


def read_margins(path) -> pd.DataFrame:
    """Read and check a margins file (CSV, XLSX, ...; see the module docstring).

    Returns
    -------
    pandas.DataFrame
        The rows, checked: every required column present, ``column`` named on every row,
        ``total`` a finite non-negative number, no figure given twice.

    Raises
    ------
    harvest.DataError
        Naming the file and the row.
    """
    from pathlib import Path

    from harvest.io import read_table

    path = Path(path)
    return check_margins(read_table(path), path.name)


def check_margins(table: pd.DataFrame, source: str, rows=None) -> pd.DataFrame:
    """A copy of ``table`` with its column names normalised; a DataError naming
    ``source`` and the row for a malformed margins table (``rows``: the file row of
    each row of ``table``, default ``0..n-1``)."""
    columns = [str(c).strip().lower() for c in table.columns]
    table = table.set_axis(columns, axis=1)
    rows = np.arange(len(table)) if rows is None else np.asarray(rows)
    missing = [c for c in MARGIN_COLUMNS if c not in columns]
    if missing:
        raise DataError(f"{source}: a margins file needs the columns column, level, total "
                        f"(one row per population figure); {', '.join(missing)} missing. "
                        f"Its columns are: {', '.join(columns)}.")
    extra = [c for c in columns if c not in (*MARGIN_COLUMNS, *_OPTIONAL)]
    if extra:
        raise DataError(f"{source}: unknown column(s) {', '.join(extra)} in the margins "
                        f"file; the columns are column, level, total and optionally year, "
                        "instrument.")
    if len(table) == 0:
        raise DataError(f"{source}: the margins file has no rows.")
    name = table["column"].astype("string").str.strip()
    empty = np.flatnonzero(name.isna().to_numpy() | (name == "").fillna(True).to_numpy())
    if empty.size:
        raise DataError(f"{_row_text(source, rows[empty[0]])}: the `column` is empty; name "
                        "the column of the data the figure is about.")
    total = pd.to_numeric(table["total"], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(total) | (total < 0))
    if bad.size:
        raise DataError(f"{_row_text(source, rows[bad[0]])}: the total "
                        f"{table['total'].iloc[int(bad[0])]!r} is not a non-negative "
                        "number.")
    if "year" in columns:
        year = table["year"].astype("string").str.strip()
        noyear = np.flatnonzero(year.isna().to_numpy() | (year == "").fillna(True).to_numpy())
        if noyear.size:
            raise DataError(f"{_row_text(source, rows[noyear[0]])}: the year is empty; "
                            "give it on every row or drop the year column.")
    keys = [c for c in ("instrument", "year", "column", "level") if c in columns]
    text = table[keys].astype("string").apply(lambda s: s.str.strip()).fillna("")
    twice = np.flatnonzero(text.duplicated().to_numpy())
    if twice.size:
        first = int(np.flatnonzero((text == text.iloc[int(twice[0])]).all(axis=1))[0])
        shown = ", ".join(f"{k} {v!r}" for k, v in text.iloc[first].items())
        raise DataError(f"{_row_text(source, rows[twice[0]])} repeats the figure of line "
                        f"{int(rows[first]) + 2} ({shown}); give each figure once.")
    return table


def _level_map(data: pd.DataFrame, column: str, source: str, rows, levels) -> dict:
    """The data's value for each level text of the margins (a file holds text)."""
    values = data[column].dropna().unique()
    by_text = {str(v).strip(): v for v in values}
    out = {}
    for i, lev in zip(rows, levels, strict=True):
        if lev not in by_text:
            shown = ", ".join(sorted(by_text)[:20])
            raise DataError(f"{_row_text(source, int(i))}: level {lev!r} of column "
                            f"{column!r} is not in the data; its levels are: {shown}.")
        out[lev] = by_text[lev]
    return out


def margins_from_table(table: pd.DataFrame, data: pd.DataFrame | None = None,
                       source: str = "margins", rows=None) -> dict:
    """The ``margins`` argument of ``design.calibrate`` from a margins table.

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``column``, ``level``, ``total`` (a ``year`` column is handled by
        :func:`apply_weighting`, which crosses the margins with the year).
    data : pandas.DataFrame, optional
        The data: level texts are matched to its values (``"2024"`` to ``2024``), and
        unknown columns or levels raise a DataError naming the row.
    source : str
        The file name for messages.
    rows : array_like, optional
        The file row of each row of ``table`` (default ``0..n-1``), for messages.

    Returns
    -------
    dict
        Column -> {level: count} or column -> total, in the order of the file.
    """
    file_rows = np.arange(len(table)) if rows is None else np.asarray(rows)
    table = check_margins(table, source, file_rows)
    names = table["column"].astype("string").str.strip()
    level = table["level"].astype("string").str.strip()
    level = level.where(level != "", pd.NA)
    total = pd.to_numeric(table["total"]).to_numpy(dtype=float)
    out: dict = {}
    for column in dict.fromkeys(names.tolist()):
        at = np.flatnonzero((names == column).to_numpy())
        rows = file_rows[at]
        if data is not None and column not in data.columns:
            raise DataError(f"{_row_text(source, int(rows[0]))}: the column {column!r} is "
                            f"not in the data; its columns are: "
                            f"{', '.join(map(str, data.columns[:30]))}.")
        levs = level.iloc[at]
        blank = levs.isna().to_numpy()
        if blank.all():
            if rows.size > 1:
                raise DataError(f"{_row_text(source, int(rows[1]))}: a second total of the "
                                f"numeric column {column!r}; give it once.")
            out[column] = float(total[at[0]])
            continue
        if blank.any():
            raise DataError(f"{_row_text(source, int(rows[np.flatnonzero(blank)[0]]))}: "
                            f"column {column!r} has levels on other rows, so this row needs "
                            "a level too (an empty level is the total of a numeric column).")
        texts = levs.tolist()
        keys = _level_map(data, column, source, rows, texts) if data is not None else \
            dict(zip(texts, texts, strict=True))
        out[column] = {keys[t]: float(total[i]) for t, i in zip(texts, at, strict=True)}
    return out


def _crossed(data: pd.DataFrame, table: pd.DataFrame, source: str):
    """Data with year-crossed margin columns and the margins on them.

    A categorical column ``c`` becomes ``"c | year"`` with levels ``"2024 | Ahal"``; a
    numeric column ``x`` becomes one column ``"x | 2024"`` per year (``x`` in that
    year, 0 elsewhere). Returns the new frame (a copy) and the margins dict.
    """
    if "year" not in data.columns:
        raise DataError(f"{source} gives a year on each row but the data have no `year` "
                        "column.")
    years = {str(v).strip(): v for v in data["year"].dropna().unique()}
    file_years = table["year"].astype("string").str.strip()
    unknown = np.flatnonzero(~file_years.isin(list(years)).to_numpy())
    if unknown.size:
        raise DataError(f"{_row_text(source, int(unknown[0]))}: year "
                        f"{file_years.iloc[int(unknown[0])]!r} is not in the data; its years "
                        f"are: {', '.join(sorted(years))}.")
    absent = sorted(set(years) - set(file_years))
    if absent:
        raise DataError(f"{source} gives no figures for the year(s) {', '.join(absent)} "
                        "of the data: give them, or keep only the years it covers in the "
                        "data file.")
    out = data.copy()
    margins: dict = {}
    year_text = data["year"].map(lambda v: str(v).strip())
    per_year = {}
    for y in years:
        at = np.flatnonzero((file_years == y).to_numpy())
        per_year[y] = margins_from_table(table.iloc[at], data[(year_text == y).to_numpy()],
                                         source, rows=at)
    kinds = {}
    for m in per_year.values():
        for column, value in m.items():
            kind = "cat" if isinstance(value, dict) else "num"
            if kinds.setdefault(column, kind) != kind:
                raise DataError(f"{source}: column {column!r} has levels in one year and a "
                                "single total in another.")
    for column, kind in kinds.items():
        if kind == "cat":
            name = f"{column}{_CROSS}year"
            out[name] = (year_text + _CROSS + data[column].map(
                lambda v: str(v).strip(), na_action="ignore")).where(data[column].notna())
            margins[name] = {f"{y}{_CROSS}{str(lev).strip()}": n for y, m in per_year.items()
                             if column in m for lev, n in m[column].items()}
        else:
            x = pd.to_numeric(data[column], errors="coerce")
            for y, m in per_year.items():
                if column in m:
                    name = f"{column}{_CROSS}{y}"
                    out[name] = x.where((year_text == y).to_numpy(), 0.0)
                    margins[name] = m[column]
    return out, margins


def prepare(data: pd.DataFrame, weighting: Weighting | None):
    """The frame the design is built on and the margins for ``design.calibrate``.

    With a ``year`` column in the margins, the frame is a copy with the year-crossed
    margin columns added (see :func:`apply_weighting`); otherwise ``data`` itself.
    Checks the nonresponse columns too, so that errors come before any estimation.
    """
    if weighting is None or not weighting.active:
        return data, None
    needed = [c for c in [weighting.nonresponse, *weighting.nonresponse_by] if c]
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise DataError(f"the nonresponse column {missing[0]!r} is not in the data; its "
                        f"columns are: {', '.join(map(str, data.columns[:30]))}.")
    table = weighting.margins
    if table is None:
        return data, None
    table = check_margins(table, weighting.source)
    if "year" in table.columns:
        return _crossed(data, table, weighting.source)
    margins = margins_from_table(table, data, weighting.source)
    if "year" in data.columns and data["year"].nunique() > 1:
        years = ", ".join(sorted(map(str, data["year"].dropna().unique())))
        raise DataError(f"the data hold several years ({years}) but {weighting.source} has "
                        "no year column: stacked missions are weighted each to its own "
                        "figures, so add a year column (the year of each figure), or keep "
                        "one year in the data file.")
    return data, margins


def check_respondents(df: pd.DataFrame, column: str) -> int:
    """Check the 0/1 respondent ``column`` against ``visit_status``; the visits not completed.

    Every visit stays in the design for a nonresponse adjustment; a visit that was not
    completed cannot be a respondent (DataError naming the rows).

    Returns
    -------
    int
        The number of visits not completed (non-respondents by their status).
    """
    if column not in df.columns:
        raise DataError(f"the column {column!r} (--nonresponse) is not in the file; its "
                        f"columns are: {', '.join(map(str, df.columns))}.")
    if "visit_status" not in df.columns:
        return 0
    status = df["visit_status"].astype("string").fillna("completed")
    said = pd.to_numeric(df[column], errors="coerce")
    bad = np.flatnonzero(((status != "completed") & (said == 1)).to_numpy())
    if bad.size:
        raise DataError(f"--nonresponse {column}: rows {', '.join(map(str, bad[:10]))} "
                        f"are {status.iloc[int(bad[0])]} visits but marked as respondents "
                        "(1).")
    return int((status != "completed").sum())


def na_policy(df: pd.DataFrame, indicators, weighting: Weighting | None, na: str) -> str:
    """The ``na`` for estimates on a nonresponse-adjusted design.

    Answers missing only on non-respondents (weight 0 after the adjustment) need no
    ``na="drop"``: they are ``"drop"`` then, which leaves the estimates as they are.
    Missing answers of respondents keep ``na`` (and stop with ``"fail"``).
    """
    if weighting is None or weighting.nonresponse is None or na != "fail":
        return na
    responded = pd.to_numeric(df[weighting.nonresponse], errors="coerce").eq(1).to_numpy()
    cols = [c for c in indicators if c in df.columns]
    if cols and not df.loc[responded, cols].isna().any().any():
        return "drop"
    return na


def apply_weighting(design, weighting: Weighting | None, margins: dict | None = None):
    """Weight ``design``: the nonresponse adjustment first, then the calibration.

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
        Built on the frame :func:`prepare` returned.
    weighting : Weighting or None
        Nothing to do when None.
    margins : dict, optional
        The margins :func:`prepare` returned.

    Returns
    -------
    The weighted design (a new one; ``design`` is unchanged).

    Examples
    --------
    >>> import pandas as pd
    >>> import harvest as hv
    >>> df = pd.DataFrame({"psu": range(4), "g": list("aabb"), "r": [1, 0, 1, 1]})
    >>> w = Weighting(nonresponse="r", nonresponse_by=["g"])
    >>> apply_weighting(hv.SurveyDesign(df, psu="psu"), w).weights.tolist()
    [2.0, 0.0, 1.0, 1.0]
    """
    if weighting is None or not weighting.active:
        return design
    for method in ("adjust_nonresponse", "calibrate"):
        if not callable(getattr(design, method, None)):
            raise ValueError(f"{type(design).__name__} cannot be weighted here (no "
                             f"`{method}`); weight the Taylor design instead.")
    try:
        return _apply(design, weighting, margins)
    except TypeError as err:  # a kind of design the weighting does not take (yet)
        raise ValueError(str(err)) from None


def _apply(design, weighting, margins):
    if weighting.nonresponse is not None:
        design = design.adjust_nonresponse(weighting.nonresponse,
                                           by=as_list(weighting.nonresponse_by) or None)
    if margins:
        design = design.calibrate(margins, method=weighting.method, bounds=weighting.bounds)
    return design


def weighting_summary(design) -> str:
    """One sentence: the weighting steps and the spread of the weights.

    Examples
    --------
    >>> import pandas as pd
    >>> import harvest as hv
    >>> df = pd.DataFrame({"psu": range(4), "g": list("aabb")})
    >>> d = hv.SurveyDesign(df, psu="psu").poststratify("g", {"a": 10, "b": 30})
    >>> weighting_summary(d)
    "post-stratified on 'g' (2 cells); weights from 5 to 15, Kish design effect 1.25"
    """
    info = describe_weighting(design)
    steps = "; then ".join(info["steps"]) if info["steps"] else "design weights only"
    return (f"{steps}; weights from {info['min']:.4g} to {info['max']:.4g}, Kish design "
            f"effect {info['kish_deff']:.3g}")
