"""Allocation of a sample across strata: proportional, equal, Neyman."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from harvest._options import check_option
from harvest.plan._checks import check_range

ALLOCATION_METHODS = ("proportional", "equal", "neyman")

ALLOCATION_COLUMNS = [
    "stratum", "N", "p", "sd", "minimum", "maximum", "share", "n_exact", "n", "fraction",
    "weight",
]


def _per_stratum(name: str, value, strata: pd.Index, default=np.nan) -> np.ndarray:
    """A scalar, dict or Series given per stratum, as an array in the strata's order."""
    if value is None:
        return np.full(len(strata), default, dtype=float)
    if isinstance(value, (Mapping, pd.Series)):
        given = pd.Series(dict(value) if isinstance(value, Mapping) else value)
        missing = strata.difference(given.index, sort=False)
        extra = given.index.difference(strata, sort=False)
        if len(missing) or len(extra):
            raise ValueError(
                f"`{name}` must give one value for each stratum of `strata`; "
                + (f"missing {list(missing)}" if len(missing) else "")
                + ("; " if len(missing) and len(extra) else "")
                + (f"not in `strata`: {list(extra)}" if len(extra) else "") + ".")
        try:
            return given.reindex(strata).to_numpy(dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"`{name}` must hold numbers; got {dict(given)!r}.") from None
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be a number, or a dict/Series of numbers by "
                         f"stratum; got {value!r}.") from None
    if arr.ndim != 0:
        raise ValueError(f"`{name}` must be a number, or a dict/Series keyed by stratum; got "
                         "an unlabelled array.")
    return np.full(len(strata), float(arr))


def _water_fill(n: int, w: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Real allocation ``x = clip(lam * w, lo, hi)`` with ``sum(x) = n``.

    ``sum(clip(lam * w, lo, hi))`` is piecewise linear and non-decreasing in
    ``lam``; it is evaluated at every breakpoint at once and ``lam`` is found by
    linear interpolation between the two that bracket ``n``. Exact, no loop.
    """
    pos = w > 0
    breaks = np.unique(np.concatenate([[0.0], lo[pos] / w[pos], hi[pos] / w[pos]]))
    totals = np.clip(breaks[:, None] * w[None, :], lo, hi).sum(axis=1)
    k = int(np.searchsorted(totals, n - 1e-9 * n))
    if k >= len(breaks):
        raise ValueError(
            f"cannot place `n` = {n}: the strata that can take more units are all at their "
            "maximum, and the others have a zero allocation measure (Neyman with p = 0 or 1).")
    if k == 0:
        lam = breaks[0]
    else:
        lam = breaks[k - 1] + (n - totals[k - 1]) * (breaks[k] - breaks[k - 1]) / (
            totals[k] - totals[k - 1])
    return np.clip(lam * w, lo, hi)


def largest_remainder(x: np.ndarray, n: int, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Integers within ``[lo, hi]`` summing to ``n``, closest to ``x`` (Hamilton's method).

    ``x`` must already lie in ``[lo, hi]`` (integer bounds) and sum to ``n``: each
    stratum gets ``floor(x)``, and the units left go one each to the strata with
    the largest fractional parts (ties to the earlier stratum).
    """
    base = np.clip(np.floor(x + 1e-9), lo, hi)
    left = int(round(n - base.sum()))
    frac = np.where(base < hi, x - base, -np.inf)
    order = np.argsort(-frac, kind="stable")
    base[order[:left]] += 1
    return base.astype(np.int64)


def allocate(n, strata, method="proportional", p=None, minimum=2, maximum=None):
    r"""Split a total sample of ``n`` units across strata.

    Parameters
    ----------
    n : int
        Total sample size to allocate (e.g. the ``n`` of :func:`sample_size`).
    strata : pandas Series or dict
        Population size ``N_h`` of each stratum, keyed by stratum (region).
    method : {"proportional", "equal", "neyman"}
        ``n_h`` proportional to ``N_h``, equal, or to ``N_h S_h`` with
        ``S_h = sqrt(p_h (1 - p_h))`` (Neyman's optimum for a proportion).
    p : float, dict or Series, optional
        Expected proportion per stratum (or one for all); required for Neyman.
    minimum : int, dict or Series
        Smallest sample per stratum, default 2 (a stratum needs two units or PSUs
        for a variance); never more than ``N_h``.
    maximum : int, dict or Series, optional
        Largest sample per stratum (e.g. field capacity); never more than ``N_h``,
        which is the default.

    Returns
    -------
    pandas.DataFrame
        One row per stratum, in the order given: ``stratum``, ``N``, ``p``,
        ``sd`` (``S_h`` used by Neyman, else from ``p`` when given), ``minimum``,
        ``maximum`` (the bounds applied), ``share`` (the method's share before
        bounds), ``n_exact`` (real-valued allocation within bounds, summing to
        ``n``), ``n`` (integer, summing exactly to ``n``), ``fraction``
        (``n / N``) and ``weight`` (``N / n``, the design weight).

    Raises
    ------
    ValueError
        A bad argument, or bounds that cannot hold ``n`` (named in the message).

    Notes
    -----
    With measure :math:`a_h` (:math:`N_h`, 1 or :math:`N_h S_h`), the exact
    allocation is :math:`x_h = \min(\max(\lambda a_h, l_h), u_h)` with
    :math:`\lambda` such that :math:`\sum_h x_h = n` (Cochran 1977, sec. 5.5 and
    5.9, with bounds). Integers come from the largest-remainder rule: floors,
    then one more unit to the strata with the largest fractional parts, which keeps
    every stratum within its bounds and the total exactly ``n``.

    Examples
    --------
    >>> import harvest as hv
    >>> N_h = {"Ahal": 2400, "Balkan": 600, "Dashoguz": 2000, "Lebap": 2600, "Mary": 2400}
    >>> hv.plan.allocate(600, N_h)["n"].tolist()
    [144, 36, 120, 156, 144]
    >>> t = hv.plan.allocate(600, N_h, method="neyman", p={"Ahal": 0.2, "Balkan": 0.1,
    ...     "Dashoguz": 0.3, "Lebap": 0.25, "Mary": 0.2})
    >>> int(t["n"].sum())
    600
    """
    check_option("method", method, ALLOCATION_METHODS)
    if isinstance(strata, Mapping):
        strata = pd.Series(dict(strata))
    if not isinstance(strata, pd.Series):
        raise ValueError("`strata` must be a pandas Series or a dict of population sizes "
                         f"keyed by stratum; got {type(strata).__name__}.")
    if len(strata) == 0:
        raise ValueError("`strata` must hold at least one stratum.")
    if not strata.index.is_unique:
        dup = strata.index[strata.index.duplicated()].unique().tolist()
        raise ValueError(f"`strata` names a stratum more than once: {dup}.")
    index = strata.index
    N = check_range("strata", strata.to_numpy(), 1, None, low_open=False,
                    rule="a population size >= 1 for every stratum")
    n_arr = check_range("n", n, 0, None, integer=True, rule="a positive whole number")
    if n_arr.ndim != 0:
        raise ValueError(f"`n` must be one whole number (the total); got {n!r}.")
    n = int(n_arr)

    p_h = _per_stratum("p", p, index)
    if p is not None:
        check_range("p", p_h, 0, 1, low_open=False, high_open=False,
                    rule="a proportion between 0 and 1")
    if method == "neyman" and p is None:
        raise ValueError("`p` (expected proportion by stratum) is required for "
                         "method='neyman', which allocates in proportion to N_h * sqrt(p(1-p)).")
    sd = np.sqrt(p_h * (1.0 - p_h))
    lo = np.minimum(check_range("minimum", _per_stratum("minimum", minimum, index), 0, None,
                                low_open=False, integer=True,
                                rule="a whole number >= 0"), N)
    hi = (N.copy() if maximum is None else np.minimum(
        check_range("maximum", _per_stratum("maximum", maximum, index), 0, None,
                    low_open=False, integer=True, rule="a whole number >= 0"), N))
    if (lo > hi).any():
        i = int(np.flatnonzero(lo > hi)[0])
        raise ValueError(f"`minimum` ({lo[i]:g}) exceeds `maximum` ({hi[i]:g}) in stratum "
                         f"{index[i]!r}.")
    if lo.sum() > n:
        raise ValueError(f"`n` = {n} is smaller than the sum of the minimums per stratum "
                         f"({int(lo.sum())}); lower `minimum` or raise `n`.")
    if hi.sum() < n:
        raise ValueError(f"`n` = {n} is larger than the strata can hold ({int(hi.sum())} "
                         "with `maximum` and the population sizes).")

    if method == "proportional":
        measure = N
    elif method == "equal":
        measure = np.ones_like(N)
    else:
        measure = N * sd
        if not (measure > 0).any():
            raise ValueError("`p` is 0 or 1 in every stratum: Neyman allocation has nothing "
                             "to allocate by.")
    share = measure / measure.sum()
    exact = _water_fill(n, measure, lo, hi)
    alloc = largest_remainder(exact, n, lo, hi)
    with np.errstate(divide="ignore"):
        weight = np.where(alloc > 0, N / np.maximum(alloc, 1), np.nan)
    return pd.DataFrame({
        "stratum": index.to_numpy(), "N": N, "p": p_h, "sd": sd, "minimum": lo.astype(np.int64),
        "maximum": hi.astype(np.int64), "share": share, "n_exact": exact, "n": alloc,
        "fraction": alloc / N, "weight": weight,
    }, columns=ALLOCATION_COLUMNS)
