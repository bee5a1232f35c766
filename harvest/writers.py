"""The one place that writes tables and pages to files (CSV, XLSX, Markdown, HTML).

Every output file of harvest is written here, with the escaping rules that keep a label
from turning into something else in the reader's program:

* CSV: a text cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
  is prefixed with a single quote, as OWASP recommends against CSV (formula) injection;
* XLSX: every text cell is written as a string cell (openpyxl data type ``"s"``), never a
  formula, whatever it begins with;
* Markdown: ``<``, ``>`` and ``&`` in cells are written as HTML entities and ``|`` is
  escaped, so that a label cannot inject HTML or break the table;
* HTML: pages are rendered with autoescaping (see `harvest.report`) and written as UTF-8.

References
----------
OWASP Foundation. CSV Injection. https://owasp.org/www-community/attacks/CSV_Injection
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd

__all__ = ["FORMULA_START", "neutralise", "csv_text", "to_markdown", "table_format",
           "write_csv", "write_xlsx", "write_markdown", "write_html", "write_table"]

#: First characters that make a spreadsheet read a text cell as a formula (OWASP).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Make a text cell inert in a spreadsheet: prefix a single quote (OWASP).

    Non-text values are returned unchanged.

    Examples
    --------
    >>> neutralise("=HYPERLINK(1)"), neutralise("Ahal"), neutralise(-3)
    ("'=HYPERLINK(1)", 'Ahal', -3)
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _neutral_frame(table: pd.DataFrame) -> pd.DataFrame:
    out = table.copy()
    out.columns = [neutralise(str(c)) for c in out.columns]
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]) or isinstance(
                out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].astype(object).map(neutralise)
    return out


def csv_text(table: pd.DataFrame) -> str:
    """The table as CSV text with formula-like text cells neutralised.

    Examples
    --------
    >>> import pandas as pd
    >>> print(csv_text(pd.DataFrame({"region": ["=1+1", "Ahal"], "n": [3, -4]})), end="")
    region,n
    '=1+1,3
    Ahal,-4
    """
    return _neutral_frame(table).to_csv(index=False)


_NUMBER_TEXT = re.compile(r"^\s*([-+\u2212]?[\d.,]+%?|\*|<[\d,]+|<0\.001)"
                          r"(\s+to\s+[-+\u2212]?[\d.,]+%?)?\s*$")


def _looks_numeric(column: pd.Series) -> bool:
    """A text column of formatted numbers (``"23.5"``, ``"1.0 to 2.0"``, ``"*"``)."""
    if pd.api.types.is_numeric_dtype(column):
        return False
    values = [v for v in column.tolist() if isinstance(v, str) and v]
    return bool(values) and all(_NUMBER_TEXT.match(v) for v in values) and any(
        any(ch.isdigit() for ch in v) for v in values)


def _md_cell(v) -> str:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return ""
    if isinstance(v, float):
        v = f"{v:.6g}"
    text = html.escape(str(v), quote=False)
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def to_markdown(table: pd.DataFrame, *, index: bool = False) -> str:
    """Render a table as GitHub-flavoured Markdown, with HTML in cells escaped.

    Examples
    --------
    >>> import pandas as pd
    >>> print(to_markdown(pd.DataFrame({"a": [1, 2], "b": ["x", "<b>y|z</b>"]})))
    | a | b |
    |---:|:---|
    | 1 | x |
    | 2 | &lt;b&gt;y\\|z&lt;/b&gt; |
    """
    t = table.reset_index() if index else table
    numeric = [(pd.api.types.is_numeric_dtype(t[c]) and not pd.api.types.is_bool_dtype(t[c]))
               or _looks_numeric(t[c]) for c in t.columns]
    lines = ["| " + " | ".join(_md_cell(str(c)) for c in t.columns) + " |",
             "|" + "|".join("---:" if num else ":---" for num in numeric) + "|"]
    for row in t.itertuples(index=False):
        lines.append("| " + " | ".join(_md_cell(v) for v in row) + " |")
    return "\n".join(lines)


_FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".md": "markdown", ".markdown": "markdown"}


def table_format(path) -> str:
    """Return ``"csv"``, ``"xlsx"`` or ``"markdown"`` from a file name's suffix.

    Examples
    --------
    >>> table_format("out/estimates.xlsx")
    'xlsx'
    """
    suffix = Path(path).suffix.lower()
    if suffix not in _FORMATS:
        raise ValueError(
            f"cannot tell the table format from {str(path)!r}: use a file name ending in "
            ".csv, .xlsx or .md."
        )
    return _FORMATS[suffix]


def write_csv(table: pd.DataFrame, path) -> Path:
    """Write ``table`` as CSV (UTF-8) with formula-like text neutralised (`neutralise`)."""
    path = Path(path)
    path.write_text(csv_text(table), encoding="utf-8")
    return path


def _sheet(wb, title: str, table: pd.DataFrame, first: bool):
    ws = wb.active if first else wb.create_sheet()
    ws.title = title
    rows = [list(map(str, table.columns))]
    rows += [list(r) for r in table.itertuples(index=False)]
    for i, row in enumerate(rows, start=1):
        for j, value in enumerate(row, start=1):
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                continue
            if hasattr(value, "item") and not isinstance(value, str):
                value = value.item()  # numpy scalar -> Python
            if not isinstance(value, (int, float, bool, str)):
                value = str(value)
            cell = ws.cell(row=i, column=j)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # text, never a formula


def write_xlsx(table: pd.DataFrame, path, *, notes=None) -> Path:
    """Write ``table`` to an XLSX sheet ``table`` (and ``notes``), text as string cells."""
    from openpyxl import Workbook

    path = Path(path)
    wb = Workbook()
    _sheet(wb, "table", table, first=True)
    if notes:
        _sheet(wb, "notes", pd.DataFrame({"note": list(notes)}), first=False)
    wb.save(path)
    return path


def write_markdown(table: pd.DataFrame, path, *, notes=None) -> Path:
    """Write ``table`` as a Markdown table, with its footnotes as a list below it."""
    path = Path(path)
    text = to_markdown(table)
    if notes:
        text += "\n\n" + "\n".join(f"- {_md_cell(n)}" for n in notes)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def write_document(text: str, path) -> Path:
    """Write a document that is already text (a rendered HTML page, generated Markdown)."""
    path = Path(path)
    path.write_text(text, encoding="utf-8")
    return path


def write_html(page: str, path) -> Path:
    """Write an HTML page (already rendered with autoescaping) as UTF-8."""
    return write_document(page, path)


def write_data(frame: pd.DataFrame, path, fmt: str, *, index: bool = False) -> Path:
    """Write a data set (``harvest.io.write``): every value kept exactly, for reading back.

    Not a publication, so CSV text is not altered; in XLSX a text value that would start a
    formula (``=...``) is stored as a string cell, never as a live formula.

    Parameters
    ----------
    frame : pandas.DataFrame
    path : str or pathlib.Path
    fmt : {"csv", "excel", "parquet"}
    index : bool, default False
    """
    path = Path(path)
    if fmt == "csv":
        frame.to_csv(path, index=index)
    elif fmt == "excel":
        with pd.ExcelWriter(path, engine="openpyxl") as xw:
            frame.to_excel(xw, index=index)
            for sheet in xw.sheets.values():
                for row in sheet.iter_rows():
                    for cell in row:
                        if cell.data_type == "f":
                            cell.data_type = "s"  # text, never a formula
    elif fmt == "parquet":
        frame.to_parquet(path, index=index)
    else:
        raise ValueError(f"`fmt` must be 'csv', 'excel' or 'parquet'; got {fmt!r}.")
    return path


def write_table(table: pd.DataFrame, path, *, notes=None) -> Path:
    """Write a table as CSV, XLSX or Markdown, chosen from the suffix of ``path``.

    Parameters
    ----------
    table : pandas.DataFrame
        The table to write (tidy or formatted).
    path : str or pathlib.Path
        Target file; ``.csv``, ``.xlsx`` or ``.md``.
    notes : list of str, optional
        Footnotes, written under a Markdown table or on a second ``notes`` sheet of an
        XLSX file (CSV files carry none, so that they stay machine-readable).

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> write_table(pd.DataFrame({"region": ["=cmd"]}), d / "t.csv").read_text()
    "region\\n'=cmd\\n"
    """
    kind = table_format(path)
    if kind == "csv":
        return write_csv(table, path)
    if kind == "xlsx":
        return write_xlsx(table, path, notes=notes)
    return write_markdown(table, path, notes=notes)
