"""What every design shares: the integer codes of the design and the checks behind them.

The ground floor of the designs (see ``docs/dev/internals.md``): :class:`DesignCodes`,
the numeric and weight checks of design columns, dense integer codes of column
combinations, and the row mask of ``subset``. It imports nothing from the design
classes, so :mod:`harvest.design` and :mod:`harvest.replicate_design` can both build on
it without importing each other.

Examples
--------
>>> import pandas as pd
>>> from harvest._codes import _codes_of
>>> codes, labels = _codes_of(pd.DataFrame({"s": ["b", "a", "b"]}), ["s"])
>>> codes.tolist(), labels
([1, 0, 1], ['a', 'b'])
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harvest._errors import DataError, describe_rows, plain_value

__all__ = ["DesignCodes", "StageCodes", "mask_array", "weight_values"]


@dataclass(frozen=True)
class StageCodes:
    """One later stage (2, 3, ...) of a multistage design, as integer codes.

    The units of stage ``s`` are nested in the units of stage ``s - 1`` (their
    *parents*: the PSUs for stage 2), which act as the strata of stage ``s``.

    Attributes
    ----------
    row_unit : numpy.ndarray of int, shape (n,)
        Stage-``s`` unit of each row, ``0 .. U-1``.
    unit_parent : numpy.ndarray of int, shape (U,)
        Stage-``s - 1`` unit (PSU code for stage 2) holding each unit.
    n_units : numpy.ndarray of int, shape (U_parent,)
        Sampled stage-``s`` units in each parent.
    unit_fraction : numpy.ndarray of float, shape (U,)
        Sampling fraction of each unit within its parent (``n / N``, or its
        inclusion probability in a PPS design).
    fraction : numpy.ndarray of float, shape (U_parent,)
        The smallest ``unit_fraction`` in each parent (a parent is a census when it is
        1), for the lonely-unit rules.
    """

    row_unit: np.ndarray
    unit_parent: np.ndarray
    n_units: np.ndarray
    unit_fraction: np.ndarray
    fraction: np.ndarray


@dataclass(frozen=True)
class DesignCodes:
    """The design columns as integer codes (built once by :class:`SurveyDesign`).

    Attributes
    ----------
    row_psu : numpy.ndarray of int, shape (n,)
        PSU code of each row, ``0 .. P-1``; PSUs are nested in strata.
    psu_stratum : numpy.ndarray of int, shape (P,)
        Stratum code of each PSU, ``0 .. H-1``.
    n_psu : numpy.ndarray of int, shape (H,)
        PSUs per stratum in the design.
    fraction : numpy.ndarray of float, shape (H,)
        First-stage sampling fraction ``n_h / N_h`` (0 without fpc).
    weights : numpy.ndarray of float, shape (n,)
        Sampling weights; 0 for rows outside a :meth:`SurveyDesign.subset`.
    lonely_psu : str
        The lonely-PSU policy.
    row_stratum : numpy.ndarray of int, shape (n,)
        Stratum code of each row.
    stratum_labels : list
        The stratum value(s) of each code, for messages.
    psu_fraction : numpy.ndarray of float, shape (P,), optional
        Per-PSU first-stage sampling fraction: the inclusion probability of a PPS
        design; ``None`` when it is ``fraction[psu_stratum]``.
    stages : tuple of StageCodes
        Stages 2, 3, ... of a multistage design with fpc (empty: one stage, the
        ultimate-cluster variance).
    pps : str, optional
        ``"brewer"``, ``"overton"`` or ``"ht"`` for PPS sampling without replacement.
    pps_delta : numpy.ndarray, shape (P, P), optional
        :math:`\\check\\Delta_{ij} = (\\pi_{ij} - \\pi_i \\pi_j) / \\pi_{ij}` of a
        ``pps="ht"`` design, PSUs in code order.
    outside : numpy.ndarray of bool, shape (n,), or None
        Rows a :meth:`SurveyDesign.subset` left out (their weight is 0 here); None when
        no subset was taken. A zero weight on any other row came with the data.
    """

    row_psu: np.ndarray
    psu_stratum: np.ndarray
    n_psu: np.ndarray
    fraction: np.ndarray
    weights: np.ndarray
    lonely_psu: str
    row_stratum: np.ndarray
    stratum_labels: list
    psu_fraction: np.ndarray | None = None
    stages: tuple = ()
    pps: str | None = None
    pps_delta: np.ndarray | None = None

    def psu_fractions(self) -> np.ndarray:
        """First-stage sampling fraction of each PSU, ``(P,)``."""
        if self.psu_fraction is not None:
            return self.psu_fraction
        return np.asarray(self.fraction, dtype=float)[self.psu_stratum]
    outside: np.ndarray | None = None

    @property
    def n_psus(self) -> int:
        """Number of PSUs ``P``."""
        return int(self.psu_stratum.shape[0])

    @property
    def n_strata(self) -> int:
        """Number of strata ``H``."""
        return int(self.n_psu.shape[0])


def _numeric(data: pd.DataFrame, column, argument: str, positions=None) -> np.ndarray:
    """The column as float, or a DataError naming the non-numeric rows and values.

    ``positions``: the row numbers reported for ``data``'s rows (default 0, 1, ...).
    """
    series = data[column]
    where = np.arange(len(series)) if positions is None else np.asarray(positions)
    if pd.api.types.is_bool_dtype(series.dtype) or not pd.api.types.is_numeric_dtype(
        series.dtype
    ):
        raw = series.to_numpy(dtype=object)
        number = np.fromiter((isinstance(v, numbers.Real) and not isinstance(v, bool | np.bool_)
                              for v in raw), bool, len(raw)) | series.isna().to_numpy()
        if number.all() and not pd.api.types.is_bool_dtype(series.dtype):
            # numbers stored as Python objects (or as categories): their values
            return pd.to_numeric(pd.Series(raw, dtype=object)).to_numpy(dtype=float,
                                                                         na_value=np.nan)
        converted = pd.to_numeric(pd.Series(raw, dtype=object), errors="coerce")
        bad = np.flatnonzero(converted.isna().to_numpy() & series.notna().to_numpy())
        bad = bad if len(bad) else np.flatnonzero(~number)
        value = plain_value(series.iloc[int(bad[0])])
        kind = "text" if isinstance(value, str) else type(value).__name__
        raise DataError(
            f"`{argument}` column {column!r} must be numeric; found {value!r} ({kind}, "
            f"column dtype {series.dtype}) in {describe_rows(where[bad])}; convert the "
            "column to numbers (in Python: pd.to_numeric)."
        )
    values = series.to_numpy(dtype=float, na_value=np.nan)
    return values


def weight_values(data: pd.DataFrame, column, positions=None) -> np.ndarray:
    """The ``weights`` column as float: numeric, finite and non-negative, else a DataError.

    ``positions``: the row numbers reported for ``data``'s rows (default 0, 1, ...), for a
    caller that passes a subset of its rows. A column that is zero everywhere passes here.
    """
    values = _numeric(data, column, "weights", positions)
    where = np.arange(len(values)) if positions is None else np.asarray(positions)
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        raise DataError(
            f"`weights` column {column!r} has missing or infinite values "
            f"({plain_value(data[column].iloc[int(bad[0])])!r}) in {describe_rows(where[bad])}."
        )
    bad = np.flatnonzero(values < 0)
    if len(bad):
        raise DataError(
            f"`weights` column {column!r} has negative values "
            f"({plain_value(values[bad[0]])!r}) in {describe_rows(where[bad])}; weights must be "
            ">= 0."
        )
    return values


def _compact(combined: np.ndarray, size: int, rows: bool = True):
    """Dense codes ``0..K-1`` (in sorted order) of integer keys in ``0..size-1``.

    Returns ``(codes, keys, first)``: the code of each row, the distinct keys sorted, and
    one row holding each key (None when ``rows`` is False).
    Counting instead of sorting when ``size`` is small.
    """
    if size <= 4 * len(combined) + 1024:
        present = np.bincount(combined, minlength=size) > 0
        codes = (np.cumsum(present) - 1)[combined].astype(np.intp, copy=False)
        keys = np.flatnonzero(present)
        if not rows:
            return codes, keys, None
        first = np.empty(len(keys), dtype=np.intp)
        first[codes] = np.arange(len(combined))   # any row of a key will do
        return codes, keys, first
    if not rows:
        keys, codes = np.unique(combined, return_inverse=True)
        return codes.astype(np.intp).reshape(-1), keys, None
    keys, first, codes = np.unique(combined, return_index=True, return_inverse=True)
    return codes.astype(np.intp).reshape(-1), keys, first


def _integer_keys(series: pd.Series):
    """``(keys, size)`` of an integer or bool column by subtraction, or None.

    ``keys = value - min`` (``0 .. size-1``, int64), which orders the rows as the sorted
    distinct values do (as ``pandas.factorize(sort=True)`` codes, with gaps where a value
    in the range is absent); ``size = max - min + 1``. Only for numpy integer and bool
    columns whose range is at most the number of rows plus 1024, so that counting
    over ``0 .. size-1`` stays cheap; None otherwise (the caller factorizes).

    Examples
    --------
    >>> keys, size = _integer_keys(pd.Series([7, -2, 7, 3]))
    >>> keys.tolist(), size
    ([9, 0, 9, 5], 10)
    >>> _integer_keys(pd.Series([0, 10**12])) is None    # range too wide: factorize
    True
    """
    dtype = series.dtype
    if not (isinstance(dtype, np.dtype) and dtype.kind in "biu") or len(series) == 0:
        return None
    values = series.to_numpy()
    if dtype.kind == "b":
        return values.astype(np.int64), 2
    low, high = values.min(), values.max()
    size = int(high) - int(low) + 1          # Python ints: no overflow at the extremes
    if size > len(values) + 1024:
        return None
    if dtype.itemsize < 8:   # e.g. int8 from -128 to 127: the difference needs int64
        return values.astype(np.int64) - np.int64(low), size
    # a 64-bit column: value - low is below size, which int64 holds, so it is exact
    return (values - low).astype(np.int64, copy=False), size


def _integer_labels(values: np.ndarray, keys: np.ndarray) -> list:
    """The values (Python scalars, as ``Series.tolist``) of :func:`_integer_keys`'s
    ``keys`` of the integer or bool array ``values``."""
    if values.dtype.kind == "b":
        return keys.astype(bool).tolist()
    if values.dtype.kind == "u":   # unsigned: up to 2**64 - 1, beyond int64
        return (keys.astype(np.uint64) + np.uint64(values.min())).tolist()
    return (keys + np.int64(values.min())).tolist()   # min <= min + key <= max


def _level_keys(series: pd.Series) -> tuple[np.ndarray, int]:
    """``(keys, size)``: int64 keys ``0 .. size-1`` of a column in the sorted order of its
    values (equal values, equal keys; gaps allowed): :func:`_integer_keys` where it
    applies, else the codes of ``pandas.factorize(sort=True)`` and the number of levels.

    Examples
    --------
    >>> keys, size = _level_keys(pd.Series(["b", "a", "b"]))
    >>> keys.tolist(), size
    ([1, 0, 1], 2)
    """
    fast = _integer_keys(series)
    if fast is not None:
        return fast
    codes, levels = pd.factorize(series, sort=True)
    return codes.astype(np.int64, copy=False), len(levels)


#: Combined keys of several columns are compacted before they could pass this bound.
_KEY_LIMIT = 2**62


def _combine_keys(combined, size: int, keys, n_keys: int):
    """Keys of the combinations of the columns so far with one more column.

    ``combined`` holds keys in ``0 .. size-1`` (None before the first column) and
    ``keys`` the next column's keys in ``0 .. n_keys-1``; returns
    ``(combined * n_keys + keys, size * n_keys)``, in the sorted order of the
    combinations. Where that product would pass :data:`_KEY_LIMIT`, ``combined`` is first
    compacted to the keys that occur, so the result stays within int64.

    Examples
    --------
    >>> combined, size = _combine_keys(None, 1, np.array([1, 0, 1]), 2)
    >>> _combine_keys(combined, size, np.array([2, 2, 0]), 3)
    (array([5, 2, 3]), 6)
    """
    if combined is None:
        return np.asarray(keys, dtype=np.int64), n_keys
    if size * n_keys > _KEY_LIMIT:
        combined, distinct, _ = _compact(combined, size, rows=False)
        size = len(distinct)
    return combined * n_keys + keys, size * n_keys


def _codes_of(data: pd.DataFrame, columns) -> tuple[np.ndarray, list]:
    """Integer codes of the combination of ``columns`` (sorted levels) and the labels."""
    if len(columns) == 1:
        series = data[columns[0]]
        fast = _integer_keys(series)
        if fast is not None:   # one integer column: its labels are min + the keys present
            inverse, present, _ = _compact(*fast, rows=False)
            return inverse, _integer_labels(series.to_numpy(), present)
    combined, size = None, 1
    for column in columns:
        combined, size = _combine_keys(combined, size, *_level_keys(data[column]))
    inverse, _, first = _compact(combined, size)
    frame = data[list(columns)].iloc[first]
    if len(columns) > 1:
        labels = list(zip(*(frame[c].tolist() for c in columns), strict=True))
    else:
        labels = frame[columns[0]].tolist()
    return inverse, labels


def mask_array(data: pd.DataFrame, mask) -> np.ndarray:
    """``mask`` as a bool array over ``data``'s rows (missing: False), else a DataError.

    Accepts a bool array, a list, or a Series sharing ``data``'s index; anything but
    True/False/missing is an error naming the rows and the value.
    """
    n = len(data)
    if isinstance(mask, pd.Series):
        if not mask.index.equals(data.index):
            raise DataError("`mask`: a Series must have the same index as the data.")
        mask = mask.to_numpy(dtype=object, na_value=False)
    mask = np.asarray(mask, dtype=object) if not isinstance(mask, np.ndarray) else mask
    if mask.shape != (n,):
        raise DataError(f"`mask` must have one value per row ({n}); got shape {mask.shape}.")
    if mask.dtype != bool:
        flat = pd.Series(mask, dtype=object)
        missing = flat.isna().to_numpy()
        ok = missing | flat.map(lambda v: isinstance(v, bool | np.bool_)).to_numpy()
        if not ok.all():
            bad = np.flatnonzero(~ok)
            raise DataError(
                f"`mask` must be True/False; found {plain_value(mask[bad[0]])!r} in "
                f"{describe_rows(bad)}."
            )
        mask = np.where(missing, False, flat.to_numpy()).astype(bool)
    return mask
