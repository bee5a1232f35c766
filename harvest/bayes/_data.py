"""Input checks and the cluster-level summaries the models are fitted to (numpy + pandas).

No PyMC here: this module is imported by :mod:`harvest.bayes` at package import time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from harvest._codes import weight_values
from harvest._errors import DataError, describe_rows
from harvest._options import NA_POLICY, as_generator, check_option

__all__ = ["PrevalenceData", "prepare", "rng_seed"]


@dataclass(frozen=True)
class PrevalenceData:
    """Cluster-level (cluster x time) summaries of one binary outcome.

    Attributes
    ----------
    areas, times : pandas.Index
        Sorted labels of the areas and periods (``A`` and ``T`` of them).
    clusters : pandas.DataFrame
        One row per non-empty cluster x period: ``area``, ``time``, ``cluster``.
    cluster_area, cluster_time : numpy.ndarray of int, shape (C,)
        Area and period codes of each cluster.
    n : numpy.ndarray of int, shape (C,)
        Rows (units) observed in each cluster.
    n_eff, y_eff : numpy.ndarray of float, shape (C,)
        Kish effective sample size ``(sum w)^2 / sum w^2`` and effective number of
        positives ``n_eff * sum(w y) / sum(w)`` (``n`` and the count of positives when
        the data are unweighted).
    w_sum, wy_sum : numpy.ndarray of float, shape (C,)
        Sum of weights and of weighted outcomes (``n`` and the count when unweighted).
    weighted : bool
        Whether survey weights were given.
    """

    outcome: str
    area_name: str
    time_name: str
    cluster_name: str
    weights_name: str | None
    areas: pd.Index
    times: pd.Index
    clusters: pd.DataFrame
    cluster_area: np.ndarray
    cluster_time: np.ndarray
    n: np.ndarray
    n_eff: np.ndarray
    y_eff: np.ndarray
    w_sum: np.ndarray
    wy_sum: np.ndarray
    weighted: bool
    frame: pd.DataFrame

    @property
    def n_areas(self) -> int:
        return len(self.areas)

    @property
    def n_times(self) -> int:
        return len(self.times)

    @property
    def n_clusters(self) -> int:
        return len(self.n)

    @property
    def cluster_cell(self) -> np.ndarray:
        """Cell code ``area * T + time`` of each cluster."""
        return self.cluster_area * self.n_times + self.cluster_time

    def cell_totals(self, values: np.ndarray) -> np.ndarray:
        """``(A, T)`` sums of a per-cluster array."""
        out = np.bincount(self.cluster_cell, values, self.n_areas * self.n_times)
        return out.reshape(self.n_areas, self.n_times)


def rng_seed(rng) -> int:
    """A sampler seed (``0 <= seed < 2**32``) derived from a seed or a Generator.

    Examples
    --------
    >>> rng_seed(1) == rng_seed(1)
    True
    """
    return int(as_generator(rng).integers(0, 2**32 - 1))


def _check_column(data: pd.DataFrame, column, argument: str) -> None:
    if not isinstance(column, str):
        raise TypeError(f"`{argument}` must be a column name (str); got {column!r}.")
    if column not in data.columns:
        raise DataError(f"column {column!r} (the `{argument}` argument) is not in the data.")


def _missing(data: pd.DataFrame, column: str, argument: str) -> None:
    bad = np.flatnonzero(data[column].isna().to_numpy())
    if len(bad):
        raise DataError(
            f"column {column!r} (the `{argument}` argument) has missing values in "
            f"{describe_rows(bad)}; the {argument} must be known for every row."
        )


def _binary(values: pd.Series, column: str, rows: np.ndarray) -> np.ndarray:
    if values.dtype == bool or str(values.dtype) == "boolean":
        return values.to_numpy(dtype=float)
    numeric = pd.to_numeric(values, errors="coerce")
    bad_type = np.flatnonzero(numeric.isna().to_numpy() & values.notna().to_numpy())
    if len(bad_type):
        shown = values.iloc[bad_type[0]]
        raise DataError(
            f"column {column!r} (the outcome) must be 0/1; found non-numeric value {shown!r} in "
            f"{describe_rows(rows[bad_type])}."
        )
    y = numeric.to_numpy(dtype=float)
    bad = np.flatnonzero((y != 0) & (y != 1))
    if len(bad):
        raise DataError(
            f"column {column!r} (the outcome) must be 0/1; found {y[bad[0]]!r} in "
            f"{describe_rows(rows[bad])}."
        )
    return y


def prepare(data, outcome: str, area: str, time: str, cluster: str, weights: str | None,
            na: str = "fail") -> PrevalenceData:
    """Check the input and reduce it to cluster x period summaries.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit (farm); never modified.
    outcome, area, time, cluster : str
        Column names: the 0/1 outcome, the area (region), the period (year) and the
        cluster (district), nested in the area.
    weights : str or None
        Column of survey weights, or None for an unweighted fit.
    na : {"fail", "drop"}
        Missing outcomes: raise (default) or leave those rows out of the fit.

    Returns
    -------
    PrevalenceData

    Notes
    -----
    With weights ``w_i`` in cluster ``c``: ``n_eff_c = (sum w_i)^2 / sum w_i^2`` (Kish)
    and ``y_eff_c = n_eff_c * sum(w_i y_i) / sum(w_i)``; without weights ``n_eff_c = n_c``
    and ``y_eff_c`` is the count of positives.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"y": [1, 0, 0, 1], "r": ["a", "a", "b", "b"],
    ...                    "t": [1, 1, 1, 1], "d": [1, 1, 2, 2], "w": [1.0, 3.0, 2.0, 2.0]})
    >>> p = prepare(df, "y", "r", "t", "d", "w")
    >>> p.n_eff.round(3).tolist(), p.y_eff.round(3).tolist()
    ([1.6, 2.0], [0.4, 1.0])
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"`data` must be a pandas DataFrame; got {type(data).__name__}.")
    check_option("na", na, NA_POLICY)
    for column, argument in ((outcome, "outcome"), (area, "area"), (time, "time"),
                             (cluster, "cluster")):
        _check_column(data, column, argument)
    if weights is not None:
        _check_column(data, weights, "weights")
    if len(data) == 0:
        raise DataError("`data` has no rows.")
    for column, argument in ((area, "area"), (time, "time"), (cluster, "cluster")):
        _missing(data, column, argument)

    rows = np.arange(len(data))
    missing_y = data[outcome].isna().to_numpy()
    if missing_y.any():
        if na == "fail":
            raise DataError(
                f"column {outcome!r} (the outcome) has missing values in "
                f"{describe_rows(rows[missing_y])}; pass na='drop' to leave those rows out."
            )
        rows = rows[~missing_y]
        if len(rows) == 0:
            raise DataError(f"column {outcome!r} (the outcome) has no non-missing value.")
    frame = data.iloc[rows]
    y = _binary(frame[outcome], outcome, rows)

    if weights is None:
        w = np.ones(len(frame))
    else:
        w = weight_values(frame, weights, positions=rows)

    a_codes, areas = pd.factorize(frame[area], sort=True)
    t_codes, times = pd.factorize(frame[time], sort=True)
    c_codes, c_labels = pd.factorize(frame[cluster], sort=True)
    T = len(times)
    # a cluster is one (cluster label, period) pair and must lie in one area
    pair = c_codes.astype(np.int64) * T + t_codes
    pairs, pair_codes = np.unique(pair, return_inverse=True)
    first = np.zeros(len(pairs), dtype=np.int64)
    first[pair_codes[::-1]] = np.arange(len(pair_codes))[::-1]
    area_of_pair = a_codes[first]
    split = np.flatnonzero(a_codes != area_of_pair[pair_codes])
    if len(split):
        i = split[0]
        raise DataError(
            f"cluster {c_labels[c_codes[i]]!r} (column {cluster!r}) lies in more than one "
            f"{area!r} in {time!r} {times[t_codes[i]]!r}: {areas[area_of_pair[pair_codes[i]]]!r} "
            f"and {areas[a_codes[i]]!r} ({describe_rows(rows[split])}); clusters must be "
            f"nested in areas."
        )

    C = len(pairs)
    n = np.bincount(pair_codes, minlength=C)
    w_sum = np.bincount(pair_codes, w, C)
    w2_sum = np.bincount(pair_codes, w * w, C)
    wy_sum = np.bincount(pair_codes, w * y, C)
    with np.errstate(invalid="ignore", divide="ignore"):
        n_eff = np.where(w2_sum > 0, w_sum**2 / w2_sum, 0.0)
        share = np.where(w_sum > 0, wy_sum / w_sum, 0.0)
    y_eff = n_eff * share
    cluster_area = area_of_pair
    cluster_time = pairs % T
    clusters = pd.DataFrame({
        "area": areas[cluster_area],
        "time": times[cluster_time],
        "cluster": c_labels[pairs // T],
    })
    return PrevalenceData(
        outcome=outcome, area_name=area, time_name=time, cluster_name=cluster,
        weights_name=weights, areas=pd.Index(areas), times=pd.Index(times), clusters=clusters,
        cluster_area=cluster_area, cluster_time=cluster_time, n=n, n_eff=n_eff, y_eff=y_eff,
        w_sum=w_sum, wy_sum=wy_sum, weighted=weights is not None, frame=frame,
    )
