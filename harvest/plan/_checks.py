"""Input checks shared by the planning functions (validate first, compute second).

Every check returns a float ``numpy`` array and raises a ``ValueError`` whose
message names the argument in backticks, states the rule and shows the value.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from harvest._options import check_probability as _check_probability


def _first_bad(arr: np.ndarray, bad: np.ndarray) -> str:
    """``'1.5'`` for a scalar, ``'1.5 at position 3'`` for an array."""
    if arr.ndim == 0:
        return repr(arr.item())
    pos = int(np.flatnonzero(bad.ravel())[0])
    return f"{arr.ravel()[pos].item()!r} at position {pos}"


def as_array(name: str, value) -> np.ndarray:
    """``value`` as a float array (scalars stay 0-d); a clear error for text or None."""
    if isinstance(value, Mapping):
        value = list(value.values())
    if isinstance(value, pd.Series):
        value = value.to_numpy()
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be a number or an array of numbers; "
                         f"got {value!r}.") from None
    if arr.ndim > 1:
        raise ValueError(f"`{name}` must be a number or a 1-d array; got shape {arr.shape}.")
    if arr.size == 0:
        raise ValueError(f"`{name}` must not be empty.")
    return arr


def check_range(name: str, value, low=None, high=None, *, low_open=True, high_open=True,
                integer=False, rule: str | None = None) -> np.ndarray:
    """Check that every element of ``value`` lies in the stated interval.

    Missing values (NaN) are refused; infinity only where ``high`` is ``inf``
    and ``high_open`` is False.
    """
    arr = as_array(name, value)
    bad = ~np.isfinite(arr)
    if high == np.inf and not high_open:
        bad = np.isnan(arr)
    if low is not None:
        bad |= (arr <= low) if low_open else (arr < low)
    if high is not None:
        bad |= (arr >= high) if high_open else (arr > high)
    if integer:
        with np.errstate(invalid="ignore"):
            bad |= np.isfinite(arr) & (arr != np.round(arr))
    if bad.any():
        if rule is None:
            lo = "" if low is None else f"{'>' if low_open else '>='} {low:g}"
            hi = "" if high is None else f"{'<' if high_open else '<='} {high:g}"
            rule = " and ".join(s for s in (lo, hi) if s)
            rule = ("an integer " if integer else "a number ") + rule
        raise ValueError(f"`{name}` must be {rule}; got {_first_bad(arr, bad)}.")
    return arr


def labels_of(**named):
    """The index of the first argument given as a pandas Series or a dict, else None.

    Two labelled arguments must carry the same labels in the same order.
    """
    found = None
    for name, value in named.items():
        if isinstance(value, Mapping):
            index = pd.Index(list(value.keys()))
        elif isinstance(value, pd.Series):
            index = value.index
        else:
            continue
        if found is None:
            found = (name, index)
        elif not found[1].equals(index):
            raise ValueError(f"`{found[0]}` and `{name}` are labelled differently; "
                             "give them the same labels in the same order.")
    return None if found is None else found[1]


def broadcast(**arrays) -> dict[str, np.ndarray]:
    """Broadcast the named 0-d/1-d arrays together, naming the culprits on failure."""
    try:
        out = np.broadcast_arrays(*arrays.values())
    except ValueError:
        sizes = ", ".join(f"`{k}` has {np.size(v)}" for k, v in arrays.items() if np.ndim(v))
        raise ValueError(f"array arguments must have the same length or be scalars: {sizes}.") \
            from None
    return {k: np.atleast_1d(v).astype(float) for k, v in zip(arrays, out, strict=True)}


def design_effect(deff, icc, cluster_size):
    """The design effect and its inputs, after checking that they are consistent.

    Returns ``(deff, icc, cluster_size)`` as float arrays (NaN where not given).
    ``deff`` given directly wins; otherwise Kish's ``1 + (m - 1) * icc`` when both
    ``icc`` and ``cluster_size`` are given; otherwise 1 (simple random sampling).
    """
    if deff is not None and icc is not None:
        raise ValueError("give either `deff` or `icc` (with `cluster_size`), not both.")
    if icc is not None and cluster_size is None:
        raise ValueError("`icc` needs `cluster_size` (units per cluster) to give a design "
                         "effect, 1 + (cluster_size - 1) * icc.")
    m = (np.array(np.nan) if cluster_size is None
         else check_range("cluster_size", cluster_size, 1, None, low_open=False,
                          rule="a number >= 1 (units per cluster)"))
    if icc is not None:
        rho = check_range("icc", icc, 0, 1, low_open=False, high_open=False,
                          rule="a number between 0 and 1")
        return 1.0 + (m - 1.0) * rho, rho, m
    if deff is None:
        return np.array(1.0), np.array(np.nan), m
    d = check_range("deff", deff, 0, None, rule="a positive number (1 means simple random "
                    "sampling)")
    return d, np.array(np.nan), m


def check_probability(name: str, value) -> np.ndarray:
    """A planned proportion strictly between 0 and 1 (``_options.check_probability``)."""
    return _check_probability(
        name, as_array(name, value), array=True,
        rule="a proportion strictly between 0 and 1 (a planned value of 0 or 1 has no "
             "variance to plan for; use a conservative guess such as 0.5)")


def population_size(N) -> np.ndarray:
    """``N`` checked as a population size >= 1; NaN (no finite population) for None or inf."""
    if N is None:
        return np.array(np.nan)
    arr = check_range("N", N, 1, np.inf, low_open=False, high_open=False,
                      rule="a population size >= 1 (or None)")
    return np.where(np.isinf(arr), np.nan, arr)


def response_rate_of(response_rate) -> np.ndarray:
    """``response_rate`` checked as a share in (0, 1]."""
    return check_range("response_rate", response_rate, 0, 1, high_open=False,
                       rule="a share in (0, 1]")
