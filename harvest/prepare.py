"""Data preparation before a design is built: several years' files pooled into one.

:func:`pool_years` stacks yearly frames so that a single
:class:`~harvest.SurveyDesign` over the pooled rows gives the covariance between years
that :func:`harvest.compare.compare` and :func:`harvest.compare.trend` need: strata and
PSUs stay distinct per year (or are linked across years with ``same_psus=True``), and
pooling is refused when the design columns of the years disagree. See
``docs/methods/compare.md``.

Examples
--------
>>> import pandas as pd
>>> a = pd.DataFrame({"district": [1, 2], "y": [0, 1]})
>>> b = pd.DataFrame({"district": [1, 2], "y": [1, 1]})
>>> pool_years({2023: a, 2024: b}, psu="district")["year"].tolist()
[2023, 2023, 2024, 2024]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harvest._errors import DataError, describe_rows

__all__ = ["pool_years"]


def _dtype_family(dtype) -> str:
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        return "text"
    return str(dtype)


def pool_years(frames, year_column="year", *, strata=None, psu=None, weights=None,
               fpc=None, same_psus=False) -> pd.DataFrame:
    """Stack several years' data into one frame with year-specific strata and PSUs.

    Parameters
    ----------
    frames : dict or list of pandas.DataFrame
        ``{year: frame}`` (a ``year_column`` is added, or checked against the key when
        present) or a list of frames that each hold ``year_column``.
    year_column : str
        The column that holds (or will hold) the year.
    strata, psu, weights, fpc : str, optional
        The design columns, as for :class:`~harvest.SurveyDesign` (``strata`` one
        column). Each must be in every year with the same kind of dtype.
    same_psus : bool
        ``False`` (default): every year is an independent sample; stratum and PSU
        labels become ``"<year>:<label>"`` so no PSU is shared between years and the
        covariance between years is zero by the design. ``True``: the same PSUs were
        revisited (a panel of districts); labels are kept, so a PSU seen in several
        years is one cluster and the covariance between years enters every comparison.
        The strata's ``fpc`` must then agree between years.

    Returns
    -------
    pandas.DataFrame
        A new frame (inputs are not modified): the rows of every year in the order
        given, index ``0..n-1``, ``year_column`` first when it was added, and the
        ``strata`` and ``psu`` columns relabelled as text. Without ``strata`` and
        with ``same_psus=False``, use ``strata=year_column`` in the design so that
        each year is its own stratum.

    Raises
    ------
    DataError
        A design column is missing in a year, its dtype differs between years, ``fpc``
        mixes population sizes and fractions between years or differs for a stratum
        shared between years, or a frame's ``year_column`` disagrees with its key.

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"stratum": ["A", "A"], "district": [1, 2], "y": [0, 1]})
    >>> b = pd.DataFrame({"stratum": ["A", "A"], "district": [1, 3], "y": [1, 1]})
    >>> pool_years({2023: a, 2024: b}, strata="stratum", psu="district")["district"].tolist()
    ['2023:1', '2023:2', '2024:1', '2024:3']
    """
    if isinstance(frames, dict):
        items = list(frames.items())
    elif isinstance(frames, list | tuple):
        items = [(None, f) for f in frames]
    else:
        raise TypeError("`frames` must be a dict {year: DataFrame} or a list of DataFrames.")
    if len(items) == 0:
        raise ValueError("`frames` is empty.")
    for key, frame in items:
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"`frames`: the entry for {key!r} is a {type(frame).__name__}, "
                            "not a DataFrame.")
    design_cols = {"strata": strata, "psu": psu, "weights": weights, "fpc": fpc}
    for argument, column in design_cols.items():
        if column is not None and not isinstance(column, str | int):
            raise TypeError(f"`{argument}` must be one column name; got {column!r}.")

    parts, years, added = [], [], False
    for key, frame in items:
        label = key if key is not None else "list entry"
        if key is None:
            if year_column not in frame.columns:
                raise DataError(
                    f"a frame in `frames` has no column {year_column!r}; pass a dict "
                    "{year: frame} or add the column."
                )
            year_values = frame[year_column]
        elif year_column in frame.columns:
            bad = np.flatnonzero((frame[year_column] != key).to_numpy())
            if len(bad):
                raise DataError(
                    f"column {year_column!r} of the frame for {key!r} holds "
                    f"{frame[year_column].iloc[int(bad[0])]!r} in {describe_rows(bad)}; "
                    f"it must equal the key {key!r}."
                )
            year_values = frame[year_column]
        else:
            added = True
            year_values = pd.Series(np.repeat(key, len(frame)), index=frame.index)
        missing_year = np.flatnonzero(year_values.isna().to_numpy())
        if len(missing_year):
            raise DataError(f"column {year_column!r} is missing in {describe_rows(missing_year)} "
                            f"of the frame for {label!r}.")
        for argument, column in design_cols.items():
            if column is not None and column not in frame.columns:
                raise DataError(
                    f"`{argument}` column {column!r} is missing from the frame for "
                    f"{label!r}; every year needs the same design columns."
                )
        years.append(year_values.to_numpy())
        parts.append(frame)

    # Same kind of dtype for every design column in every year.
    for argument, column in design_cols.items():
        if column is None:
            continue
        families = [_dtype_family(f[column].dtype) for f in parts]
        if len(set(families)) > 1:
            shown = ", ".join(
                f"{k if k is not None else i}: {f[column].dtype}"
                for i, ((k, _), f) in enumerate(zip(items, parts, strict=True))
            )
            raise DataError(
                f"`{argument}` column {column!r} has different dtypes between years "
                f"({shown}); make them agree before pooling."
            )
        if argument in ("weights", "fpc") and families[0] != "numeric":
            raise DataError(f"`{argument}` column {column!r} must be numeric; got "
                            f"{parts[0][column].dtype}.")

    pooled = pd.concat(parts, ignore_index=True)
    year_all = np.concatenate(years)
    if added:
        pooled.insert(0, year_column, year_all)
    year_text = pd.Series(year_all).astype(str).to_numpy(dtype=object)

    if fpc is not None:
        _check_pooled_fpc(pooled, year_all, fpc, strata, same_psus)
    if not same_psus:
        for column in (strata, psu):
            if column is not None:
                missing = np.flatnonzero(pooled[column].isna().to_numpy())
                if len(missing):
                    raise DataError(f"column {column!r} has missing values in "
                                    f"{describe_rows(missing)} of the pooled rows.")
                labels = pooled[column].astype(str).to_numpy(dtype=object)
                pooled[column] = pd.array(year_text + ":" + labels, dtype=str)
    return pooled


def _check_pooled_fpc(pooled, year_all, fpc, strata, same_psus) -> None:
    values = pooled[fpc].to_numpy(dtype=float, na_value=np.nan)
    size_form = pd.Series(values > 1).groupby(year_all).any()
    if size_form.nunique() > 1:
        fraction_years = size_form.index[~size_form.to_numpy()]
        rows = np.flatnonzero(np.isin(year_all, fraction_years))
        raise DataError(
            f"`fpc` column {fpc!r} gives population sizes (>1) in some years and sampling "
            f"fractions (<=1) in others (e.g. {values[rows[0]]!r} in {describe_rows(rows)}, "
            f"year {year_all[rows[0]]!r}); use one form for every year."
        )
    if same_psus and strata is not None:
        key = pooled[strata].astype(str).to_numpy(dtype=object)
        spread = pd.Series(values).groupby(key).agg(["min", "max"])
        bad = spread.index[(spread["min"] != spread["max"]).to_numpy()]
        if len(bad):
            rows = np.flatnonzero(np.isin(key, list(bad)))
            raise DataError(
                f"`fpc` column {fpc!r} differs between years in stratum {bad[0]!r} "
                f"({describe_rows(rows)}); with same_psus=True a stratum's population of "
                "PSUs must be the same every year."
            )
