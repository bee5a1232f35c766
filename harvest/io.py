"""Read and write field data: CSV, Excel, Parquet, SPSS and Stata; multi-select answers.

:func:`read` reads a file, turns multi-select answers exported as one 0/1 column per
option into the canonical text column of space-separated codes, validates the rows
against the instrument (every problem in one :class:`harvest.DataError`) and returns a
new frame with canonical dtypes and the derived indicators added. :func:`write` writes
any of the formats, so a round trip gives back an identical frame.

Multi-select conventions
------------------------
* one text column of space-separated codes (``consequences = "wage_deduction dismissal"``,
  the ODK/Kobo export): the canonical form;
* one 0/1 column per option, named ``<question>/<code>`` (Kobo's "group/option"
  headers) or ``<question>_<code>`` (the only form SPSS and Stata allow, and what
  :func:`write` produces with ``multi="columns"``): combined into the text column in
  the order of the code list. A row with every option 0 or missing has no answer.

Excel keeps numbers to 15-16 significant digits (openpyxl writes ``%.16g``), so a
round trip through ``.xlsx`` is exact for numbers with at most 15 significant digits
(the bundled weights are rounded to six decimals for this reason); the other formats
keep every bit.

Examples
--------
>>> import tempfile, os
>>> import harvest as hv
>>> farms = hv.datasets.load("farms")
>>> path = os.path.join(tempfile.mkdtemp(), "farms.parquet")
>>> _ = hv.io.write(farms, path)
>>> back = hv.read(path, instrument="farm")
>>> back.equals(farms)
True
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from harvest._errors import DataError
from harvest.indicators import INVOLUNTARY_ANSWERS, MENACE_ANSWERS, add_indicators
from harvest.instruments import (
    DERIVED,
    columns,
    detect_instrument,
    multi_select_columns,
    resolve_codes,
    validate,
)

__all__ = ["read", "read_any", "write", "read_table", "collapse_multi", "expand_multi", "FORMATS"]

#: File suffixes understood by :func:`read` and :func:`write`.
FORMATS = {".csv": "csv", ".xlsx": "excel", ".parquet": "parquet", ".pq": "parquet",
           ".sav": "spss", ".dta": "stata"}

_SEPARATORS = ("/", "_", ".")


def _format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        shown = ", ".join(FORMATS)
        raise DataError(f"{path.name}: cannot tell the format from the suffix "
                        f"{path.suffix!r}; use one of {shown}.")
    return fmt


#: Separators recognised in a CSV file, most usual first.
CSV_SEPARATORS = (",", ";", "\t", "|")


def _decode(raw: bytes, name: str, encoding: str | None) -> tuple[str, str]:
    """The text of a CSV file and its encoding: ``encoding`` when given, else UTF-8
    (with or without a byte-order mark), UTF-16 with a byte-order mark, else the
    encoding charset-normalizer finds."""
    if encoding is not None:
        try:
            return raw.decode(encoding), encoding
        except (LookupError, UnicodeDecodeError) as err:
            raise DataError(f"{name}: cannot be read as {encoding!r} text ({err}).") from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16"), "utf-16"
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = from_bytes(raw)
    best = matches.best()
    if best is None:
        raise DataError(f"{name}: is not text in any encoding harvest recognises (is it a "
                        "CSV file?); save it from the spreadsheet as 'CSV UTF-8', or give "
                        "the encoding (--encoding, encoding= in Python).")
    # equally plausible Western single-byte encodings: Windows-1252 (what a spreadsheet
    # saves on a Western Windows, and a superset of Latin-1's letters)
    tied = {m.encoding for m in matches if m.chaos <= best.chaos}
    tied |= set(best.could_be_from_charset)
    if best.encoding != "cp1252" and "cp1252" in tied:
        try:
            return raw.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            pass
    return str(best), best.encoding


def _separator(text: str, name: str) -> str:
    """The field separator of a CSV text: the candidate splitting the header into the
    most fields, provided the next lines split the same way."""
    lines = text.splitlines()[:20]
    header = lines[0]
    counts = {s: header.count(s) for s in CSV_SEPARATORS}
    best = max(CSV_SEPARATORS, key=lambda s: counts[s])
    return best if counts[best] else ","


def _check_header(names, name: str) -> None:
    """DataError naming a column whose name appears more than once in the header."""
    seen: dict[str, int] = {}
    for i, c in enumerate(names):
        key = str(c).strip()
        if key in seen:
            raise DataError(
                f"{name}: the column {key!r} appears twice in the header (columns "
                f"{seen[key] + 1} and {i + 1}); rename or delete one of them (otherwise the "
                "second would be read as a separate column and the first used silently).")
        seen[key] = i


def _text_columns(instrument) -> list:
    if instrument is None:
        return []
    return [c.name for c in columns(instrument) if c.kind in ("code", "text", "multi")]


def _from_header(names, instrument, detect):
    """The instrument (given, or told from the header when ``detect``) and its text
    columns present in the header."""
    if instrument is None and detect:
        try:   # the identifier columns are all the detector looks at (a wide file: fast)
            instrument = detect_instrument(
                pd.DataFrame(columns=[n for n in names if n in _ID_COLUMNS]))
        except DataError:
            instrument = None
    return instrument, [c for c in _text_columns(instrument) if c in names]


def _wanted_columns(header, instrument, keep):
    """The header's columns to read: all (``keep`` None, or naming a column the header
    lacks, so that a message lists every column), else the ones ``keep`` names, those
    starting with one of its prefixes, and every column the instrument needs (its own,
    the design columns and the option columns of its multi-select questions)."""
    if keep is None:
        return None
    names, prefixes = keep
    derived = {d[0] for d in DERIVED.get(instrument, ())}
    if not set(names) - derived <= set(header):
        return None
    own = {c.name for c in columns(instrument)} if instrument is not None else set()
    multi = tuple(f"{c.name}{sep}" for c in (columns(instrument) if instrument else ())
                  if c.kind == "multi" for sep in "/_.")
    starts = (*tuple(prefixes), *multi)
    chosen = {h for h in header
              if h in own or h in names or (starts and str(h).startswith(starts))}
    return chosen if len(chosen) < len(header) else None


def _read_csv(path: Path, instrument, detect, encoding, keep=None):
    import csv
    import io as _io

    raw = path.read_bytes()
    text, _ = _decode(raw, path.name, encoding)
    if not text.strip():
        raise DataError(f"{path.name}: the file is empty (not even a header row).")
    sep = _separator(text, path.name)
    header = next(csv.reader(_io.StringIO(text.lstrip("\ufeff")), delimiter=sep))
    _check_header(header, path.name)
    body = text.rstrip("\r\n")
    if "\n" in body:   # the last line and the number of lines, without splitting them all
        n_lines, last_line = body.count("\n") + 1, body.rsplit("\n", 1)[1].rstrip("\r")
    else:
        lines = body.splitlines()
        n_lines, last_line = len(lines), lines[-1] if lines else ""
    if n_lines > 1:
        last = next(csv.reader([last_line], delimiter=sep), [])
        if len(last) < len(header) and not text.endswith(("\n", "\r")):
            raise DataError(
                f"{path.name}: the last row (row {n_lines - 2}) has {len(last)} of the "
                f"{len(header)} fields and no line end: the file looks truncated; export it "
                "again.")
    instrument, text_cols = _from_header(header, instrument, detect)
    chosen = _wanted_columns(header, instrument, keep)
    try:
        # UTF-8 bytes for the parser: a StringIO of a wide file holds 4 bytes a character
        return pd.read_csv(_io.BytesIO(text.encode("utf-8")), sep=sep, encoding="utf-8",
                           usecols=None if chosen is None else chosen.__contains__,
                           dtype=dict.fromkeys(text_cols, "str")), instrument
    except pd.errors.ParserError as err:
        raise DataError(f"{path.name}: is not a well-formed CSV file ({err}).") from None


def _read_excel(path: Path, instrument, detect, sheet):
    import zipfile

    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as err:
        raise DataError(f"{path.name}: is not a readable .xlsx workbook ({type(err).__name__}: "
                        f"{err}); is it another kind of file renamed .xlsx, or cut short?"
                        ) from None
    sheets = list(book.sheetnames)
    book.close()
    shown = ", ".join(repr(s) for s in sheets)
    if isinstance(sheet, int) and not 0 <= sheet < len(sheets) or (
            isinstance(sheet, str) and sheet not in sheets):
        raise DataError(f"{path.name}: has no sheet {sheet!r}; its sheets are {shown} "
                        "(choose one with --sheet NAME or --sheet NUMBER, from 0).")
    head = pd.read_excel(path, sheet_name=sheet, header=None, nrows=1, engine="openpyxl")
    names = [] if head.empty else [c for c in head.iloc[0].tolist() if pd.notna(c)]
    _check_header(names, path.name)
    wanted = _ID_COLUMNS if instrument is None and detect else ("year", "region")
    if len(sheets) > 1 and (instrument is not None or detect) and not any(
            c in names for c in wanted):
        which = sheets[sheet] if isinstance(sheet, int) else sheet
        raise DataError(f"{path.name}: the sheet {which!r} does not hold the data (none of "
                        f"the columns {', '.join(map(repr, wanted))}); the sheets are "
                        f"{shown}: choose one with --sheet NAME (or sheet= in Python).")
    instrument, text_cols = _from_header(names, instrument, detect)
    return pd.read_excel(path, sheet_name=sheet, engine="openpyxl",
                         dtype=dict.fromkeys(text_cols, "str")), instrument


_ID_COLUMNS = ("farm_id", "picker_id", "employee_id", "institution_id")


def read_table(path, instrument: str | None = None, *, sheet=0,
               encoding: str | None = None) -> pd.DataFrame:
    """Read a file into a DataFrame without validating (identifiers kept as text).

    CSV files: the encoding is detected (UTF-8, UTF-16 with a byte-order mark, else
    what charset-normalizer finds: Latin-1, cp1251, ...) and the separator too (``,``,
    ``;``, tab or ``|``, whichever splits the header into the most fields). Rows keep
    the file's order, so row ``i`` of the frame is data row ``i`` of the file
    (counted from 0 after the header) in every message.

    Parameters
    ----------
    path : str or path-like
        ``.csv``, ``.xlsx``, ``.parquet``, ``.sav`` or ``.dta``.
    instrument : str, optional
        When given, code and text columns of the instrument are read as text (so
        identifiers such as ``007`` keep their zeros) and empty strings become missing.
    sheet : int or str
        Excel sheet.
    encoding : str, optional
        Text encoding of a CSV file (default: detected).

    Raises
    ------
    harvest.DataError
        Naming the file and what is wrong: an empty, truncated or corrupt file, a
        column name found twice in the header, an Excel sheet that does not hold the
        data (listing the sheets).
    FileNotFoundError
        No file at ``path``.
    """
    return _read_table(path, instrument, sheet=sheet, encoding=encoding)[0]


def _read_table(path, instrument=None, *, sheet=0, encoding=None, detect=False, keep=None):
    """:func:`read_table` returning the instrument too: given, or (``detect``) told
    from the identifier column of the header, or None. ``keep``: ``(names, prefixes)``
    of the columns a caller needs, so that a wide CSV file is parsed for those only
    (with the instrument's columns; all of them when a name is not in the header)."""
    path = Path(path)
    fmt = _format(path)
    if not path.exists():
        raise FileNotFoundError(f"no file at {str(path)!r}.")
    if path.stat().st_size == 0:
        raise DataError(f"{path.name}: the file is empty (0 bytes).")
    if fmt == "csv":
        df, instrument = _read_csv(path, instrument, detect, encoding, keep)
    elif fmt == "excel":
        df, instrument = _read_excel(path, instrument, detect, sheet)
    elif fmt == "parquet":
        try:
            df = pd.read_parquet(path)
        except Exception as err:  # pyarrow raises several unrelated types
            raise DataError(f"{path.name}: is not a readable Parquet file ({err}).") from None
    else:
        import pyreadstat

        reader = pyreadstat.read_sav if fmt == "spss" else pyreadstat.read_dta
        try:
            df, _meta = reader(str(path))
        except Exception as err:  # pyreadstat.ReadstatError and others
            kind = "SPSS .sav" if fmt == "spss" else "Stata .dta"
            raise DataError(f"{path.name}: is not a readable {kind} file ({err}).") from None
    if not isinstance(df.columns, pd.MultiIndex):
        _check_header(list(df.columns), path.name)
    if instrument is None and detect and fmt not in ("csv", "excel"):
        instrument, _ = _from_header(df.columns, None, True)
    for c in _text_columns(instrument):
        if c in df.columns and not pd.api.types.is_numeric_dtype(df[c].dtype):
            s = df[c].astype("str")
            df[c] = s.where(s.str.strip() != "")
    return df, instrument


def read_any(path, instrument: str | None = None, *, codes=None, sheet=0,
             encoding: str | None = None, indicators: bool = True, keep=None):
    """Read a file once: a field instrument (given, or told from its identifier column)
    is validated and enriched as by :func:`read`; another table is returned as read.

    Returns
    -------
    (pandas.DataFrame, str or None)
        The frame and its instrument (None for a table of another kind).

    Examples
    --------
    >>> import tempfile, os
    >>> import harvest as hv
    >>> path = os.path.join(tempfile.mkdtemp(), "farms.csv")
    >>> _ = hv.io.write(hv.datasets.load("farms"), path)
    >>> df, instrument = read_any(path)
    >>> instrument, len(df)
    ('farm', 694)
    """
    df, found = _read_table(path, instrument, sheet=sheet, encoding=encoding, detect=True,
                            keep=keep)
    if found is None:
        return df, None
    df = collapse_multi(df, found, codes=codes)
    clean = validate(df, found, codes=codes)
    if indicators:
        clean = add_indicators(clean, found)
    return clean, found


def collapse_multi(df: pd.DataFrame, instrument: str, *, codes=None) -> pd.DataFrame:
    """Combine 0/1 option columns into the text column of space-separated codes.

    For each multi-select question absent from ``df`` (e.g. ``consequences``), columns
    named ``consequences/<code>``, ``consequences_<code>`` or ``consequences.<code>`` are
    combined in code-list order. Option columns whose code is not in the list add
    their code too, so validation reports it as unknown. Returns a new frame; the
    option columns are dropped.

    Examples
    --------
    >>> df = pd.DataFrame({"consequences_dismissal": [1, 0, 0],
    ...                    "consequences/reprimand": [1, 0, 1],
    ...                    "consequences_none": [0, 1, 0]})
    >>> collapse_multi(df, "employee")["consequences"].tolist()
    ['dismissal reprimand', 'none', 'reprimand']
    """
    codes = resolve_codes(codes)
    out = df.copy()
    for col in multi_select_columns(instrument):
        if col.name in out.columns:
            continue
        allowed = list(getattr(codes, col.codes))
        found: dict[str, list[str]] = {}
        for c in out.columns:
            for sep in _SEPARATORS:
                prefix = col.name + sep
                if isinstance(c, str) and c.startswith(prefix) and len(c) > len(prefix):
                    found.setdefault(c[len(prefix):], []).append(c)
        if not found:
            continue
        order = [k for k in allowed if k in found] + sorted(k for k in found if k not in allowed)
        n = len(out)
        chosen = np.zeros((n, len(order)), bool)
        for j, code in enumerate(order):  # a loop over the options of one question
            for c in found[code]:
                v = pd.to_numeric(out[c], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
                chosen[:, j] |= np.nan_to_num(v, nan=0.0) != 0
        # rows share few distinct combinations: build the text once per combination
        combos, inverse = np.unique(chosen, axis=0, return_inverse=True)
        labels = np.array([" ".join(o for o, on in zip(order, row, strict=True) if on)
                           for row in combos] + [""], dtype=object)
        text = labels[np.asarray(inverse).ravel()] if n else np.array([], dtype=object)
        answered = chosen.any(axis=1)
        out = out.drop(columns=[c for cs in found.values() for c in cs])
        out[col.name] = pd.Series(text, index=out.index, dtype="str").where(answered)
    return out


def expand_multi(df: pd.DataFrame, instrument: str, *, codes=None,
                 sep: str = "_") -> pd.DataFrame:
    """One 0/1 column per option (``<question><sep><code>``) instead of the text column.

    Examples
    --------
    >>> df = pd.DataFrame({"consequences": ["dismissal reprimand", "none"]})
    >>> expand_multi(df, "employee")["consequences_dismissal"].tolist()
    [1, 0]
    """
    codes = resolve_codes(codes)
    out = df.copy()
    for col in multi_select_columns(instrument):
        if col.name not in out.columns:
            continue
        text = out[col.name].astype("string")
        missing = text.isna().to_numpy()
        pos = out.columns.get_loc(col.name)
        # distinct answers only: a (distinct answers x options) membership table
        ids, uniques = pd.factorize(text, use_na_sentinel=True)
        options = list(getattr(codes, col.codes))
        member = np.array([[o in str(u).split() for o in options] for u in uniques],
                          dtype=float).reshape(len(uniques), len(options))
        table = member[np.where(ids >= 0, ids, 0)] if len(uniques) else np.zeros(
            (len(text), len(options)))
        table[missing] = np.nan
        new = {}
        for j, code in enumerate(options):
            v = table[:, j]
            new[f"{col.name}{sep}{code}"] = v.astype("int64") if not missing.any() else v
        out = out.drop(columns=col.name)
        for k, (name, v) in enumerate(new.items()):
            out.insert(pos + k, name, v)
    return out


def read(path, instrument: str, *, codes=None, sheet=0, encoding: str | None = None,
         indicators: bool = True,
         involuntary_answers=INVOLUNTARY_ANSWERS,
         menace_answers=MENACE_ANSWERS) -> pd.DataFrame:
    """Read, validate and enrich a field-data file.

    Parameters
    ----------
    path : str or path-like
        ``.csv``, ``.xlsx`` (openpyxl), ``.parquet`` (pyarrow), ``.sav`` (SPSS) or
        ``.dta`` (Stata); the suffix tells the format.
    instrument : {"farm", "picker", "employee", "institution"}
    codes : dict or CodeLists, optional
        Code lists replacing the defaults (another country's regions, ...).
    sheet : int or str
        Excel sheet.
    encoding : str, optional
        Text encoding of a CSV file (default: detected, see :func:`read_table`).
    indicators : bool
        Add the derived indicators (:func:`harvest.indicators.add_indicators`).
    involuntary_answers, menace_answers : sequence of str
        Answer sets of the two ILO forced-labour dimensions.

    Returns
    -------
    pandas.DataFrame
        A new frame: canonical dtypes, multi-select answers as text, indicators added.

    Raises
    ------
    harvest.DataError
        With every problem of the file (its ``problems`` attribute is a table).

    Examples
    --------
    >>> import tempfile, os
    >>> import harvest as hv
    >>> emp = hv.datasets.load("employees")
    >>> path = os.path.join(tempfile.mkdtemp(), "employees.csv")
    >>> _ = hv.io.write(emp, path, multi="columns")
    >>> hv.read(path, instrument="employee")["any_consequence"].equals(emp["any_consequence"])
    True
    """
    df = read_table(path, instrument, sheet=sheet, encoding=encoding)
    df = collapse_multi(df, instrument, codes=codes)
    clean = validate(df, instrument, codes=codes)
    if indicators:
        clean = add_indicators(clean, instrument, involuntary_answers=involuntary_answers,
                               menace_answers=menace_answers)
    return clean


def write(df: pd.DataFrame, path, *, instrument: str | None = None, multi: str = "text",
          index: bool = False) -> Path:
    """Write a frame to ``path``; the suffix picks the format.

    Parameters
    ----------
    df : pandas.DataFrame
        Not modified.
    path : str or path-like
    instrument : str, optional
        Needed with ``multi="columns"`` (default: guessed from the id column).
    multi : {"text", "columns"}
        Multi-select answers as one text column, or one 0/1 column per option
        (``consequences_wage_deduction``).
    index : bool
        Write the index (CSV/Excel only).

    Returns
    -------
    pathlib.Path
    """
    if multi not in ("text", "columns"):
        raise ValueError(f"`multi` must be one of 'text', 'columns'; got {multi!r}.")
    path = Path(path)
    fmt = _format(path)
    out = df.copy()
    if multi == "columns":
        instrument = instrument or detect_instrument(out)
        out = expand_multi(out, instrument)
    if fmt in ("spss", "stata"):
        import pyreadstat

        for c in out.columns:
            s = out[c]
            if not (pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(
                    s.dtype)):
                out[c] = s.astype("str").where(s.notna(), "").astype(object)
            elif pd.api.types.is_bool_dtype(s.dtype):
                out[c] = s.astype("int64")
        if fmt == "spss":
            pyreadstat.write_sav(out, str(path))
        else:
            pyreadstat.write_dta(out, str(path), version=15)
    else:
        from harvest.writers import write_data

        write_data(out, path, fmt, index=index)
    return path
