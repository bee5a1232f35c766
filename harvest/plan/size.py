"""Sample size for a proportion with a margin of error, step by step."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from harvest._errors import HarvestWarning
from harvest._options import check_level, check_option
from harvest.plan._checks import (
    broadcast,
    check_probability,
    check_range,
    design_effect,
    labels_of,
    population_size,
    response_rate_of,
)

ROUNDING = ("final", "each")
#: Largest sample size reported (a count above this is a mistake in the inputs, and would
#: not fit the integer column).
MAX_SAMPLE_SIZE = 2.0 ** 53

SAMPLE_SIZE_COLUMNS = [
    "p", "moe", "relative", "moe_abs", "level", "z", "icc", "cluster_size", "deff", "N",
    "response_rate", "n0", "n_deff", "n_fpc", "n_response", "n", "clusters",
]


def ceil_int(x) -> np.ndarray:
    """Round up, ignoring floating-point noise (384.0000000001 -> 384)."""
    x = np.asarray(x, dtype=float)
    return np.ceil(x - 1e-9 * np.maximum(1.0, np.abs(x)))


def z_value(level: float, two_sided: bool = True) -> float:
    """Standard normal quantile for a confidence level (two-sided) or test level."""
    alpha = 1.0 - level
    return float(stats.norm.isf(alpha / 2.0 if two_sided else alpha))


def fpc_adjust(n, N):
    """Cochran's finite population correction ``n / (1 + (n - 1) / N)`` (none where N is NaN)."""
    n = np.asarray(n, dtype=float)
    N = np.asarray(N, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        adjusted = n / (1.0 + (n - 1.0) / N)
    return np.where(np.isfinite(N), adjusted, n)


def sample_size(p, moe, deff=None, level=0.95, relative=False, N=None, response_rate=1.0,
                icc=None, cluster_size=None, rounding="final"):
    r"""Sample size to estimate a proportion within a margin of error, step by step.

    Parameters
    ----------
    p : float, array, pandas Series or dict
        Expected proportion, strictly between 0 and 1. A Series or dict gives one
        row per label (e.g. per region); its labels become the index.
    moe : float, array, Series or dict
        Margin of error: the half-width of the confidence interval, absolute
        (0.05 = 5 percentage points) or, with ``relative=True``, as a fraction
        of ``p`` (0.2 = within 20% of the value).
    deff : float or array, optional
        Design effect (variance of the design over that of a simple random sample
        of the same size). Leave out and give ``icc`` and ``cluster_size`` to use
        Kish's ``1 + (cluster_size - 1) * icc``; leave all out for 1.
    level : float
        Confidence level of the interval, default 0.95.
    relative : bool
        Whether ``moe`` is relative to ``p``.
    N : float or array, optional
        Population size (farms, employees) for the finite population correction;
        None for an infinite population.
    response_rate : float or array
        Expected share of selected units that will be observed, in (0, 1].
    icc : float or array, optional
        Intra-cluster correlation of the indicator (with ``cluster_size``).
    cluster_size : float or array, optional
        Units observed per cluster (e.g. fields per district). With ``deff`` or
        ``icc`` it also gives the number of clusters to select.
    rounding : {"final", "each"}
        ``"final"`` (default) keeps every step exact and rounds up once at the end;
        ``"each"`` rounds up after every step, as ``svy.SampleSize`` does.

    Returns
    -------
    pandas.DataFrame
        One row per input (arguments broadcast together), columns ``p``, ``moe``,
        ``relative``, ``moe_abs`` (the absolute half-width), ``level``, ``z``,
        ``icc``, ``cluster_size``, ``deff``, ``N``, ``response_rate``, then the steps
        ``n0`` (simple random sample), ``n_deff`` (after the design effect),
        ``n_fpc`` (after the finite population correction), ``n_response`` (after
        non-response), ``n`` (final, rounded up) and ``clusters`` (``n`` over
        ``cluster_size``, rounded up; missing without a cluster size).

    Raises
    ------
    ValueError
        A bad argument, named in the message.

    Notes
    -----
    With :math:`z = \Phi^{-1}(1 - \alpha/2)` and :math:`d` the absolute margin
    (:math:`d = r p` for a relative margin :math:`r`), Cochran (1977, eq. 4.1-4.2):

    .. math::

        n_0 = \frac{z^2 p (1 - p)}{d^2}, \quad
        n_{\text{deff}} = \text{deff} \cdot n_0, \quad
        n_{\text{fpc}} = \frac{n_{\text{deff}}}{1 + (n_{\text{deff}} - 1)/N}, \quad
        n = \left\lceil n_{\text{fpc}} / \text{RR} \right\rceil,

    with Kish's (1965) :math:`\text{deff} = 1 + (m - 1)\rho` for clusters of
    :math:`m` units and intra-cluster correlation :math:`\rho`.

    Examples
    --------
    >>> import harvest as hv
    >>> t = hv.plan.sample_size(p=0.23, moe=0.05, deff=2.0)
    >>> int(t["n"].iloc[0])
    545
    >>> t = hv.plan.sample_size(0.23, 0.05, icc=0.05, cluster_size=20, N=5000)
    >>> int(t["n"].iloc[0]), int(t["clusters"].iloc[0])
    (480, 24)
    """
    labels = labels_of(p=p, moe=moe, N=N, deff=deff, response_rate=response_rate)
    level = check_level(level)
    check_option("rounding", rounding, ROUNDING)
    if not isinstance(relative, (bool, np.bool_)):
        raise ValueError(f"`relative` must be True or False; got {relative!r}.")
    p_arr = check_probability("p", p)
    moe_arr = (check_range("moe", moe, 0, None, rule="a positive fraction of p")
               if relative else
               check_range("moe", moe, 0, 1, rule="a number between 0 and 1 (0.05 means 5 "
                                                  "percentage points)"))
    deff_arr, icc_arr, m_arr = design_effect(deff, icc, cluster_size)
    N_arr = population_size(N)
    rr = response_rate_of(response_rate)
    a = broadcast(p=p_arr, moe=moe_arr, deff=deff_arr, icc=icc_arr, m=m_arr, N=N_arr, rr=rr)
    if labels is not None and len(labels) != len(a["p"]):
        raise ValueError(f"the labelled arguments ({len(labels)} labels) do not match the other "
                         f"arguments' length ({len(a['p'])}).")

    z = z_value(level)
    d = a["moe"] * a["p"] if relative else a["moe"]
    step = ceil_int if rounding == "each" else np.asarray
    with np.errstate(over="ignore", invalid="ignore"):
        n0 = step(z * z * a["p"] * (1.0 - a["p"]) / (d * d))
        n_deff = step(n0 * a["deff"])
        n_fpc = step(fpc_adjust(n_deff, a["N"]))
        n_response = step(n_fpc / a["rr"])
        n = ceil_int(n_response)
    huge = ~(n < MAX_SAMPLE_SIZE)
    if huge.any():
        i = int(np.flatnonzero(huge)[0])
        raise ValueError(
            f"the sample size needed is too large to count ({n_response[i]:.3g} units, from "
            f"moe = {a['moe'][i]:g} and deff = {a['deff'][i]:g}): check the margin of error "
            "and the design effect (`moe`, `deff`; --moe, --deff on the command line).")
    over = np.isfinite(a["N"]) & (n > a["N"])
    if over.any():
        warnings.warn(
            f"the sample needed ({int(n[over][0])}) exceeds the population N "
            f"({a['N'][over][0]:g}) at response rate {a['rr'][over][0]:g}: even a census "
            "will not reach this margin of error.", HarvestWarning, stacklevel=2)
    with np.errstate(invalid="ignore"):
        clusters = ceil_int(n / a["m"])

    out = pd.DataFrame({
        "p": a["p"], "moe": a["moe"], "relative": np.full(len(n), bool(relative)),
        "moe_abs": d, "level": level, "z": z, "icc": a["icc"], "cluster_size": a["m"],
        "deff": a["deff"], "N": a["N"], "response_rate": a["rr"], "n0": n0, "n_deff": n_deff,
        "n_fpc": n_fpc, "n_response": n_response, "n": n.astype(np.int64),
        "clusters": pd.array(np.where(np.isnan(clusters), None, clusters), dtype="Int64"),
    }, columns=SAMPLE_SIZE_COLUMNS)
    if labels is not None:
        out.index = labels
    return out


MOE_COLUMNS = ["p", "n", "level", "z", "icc", "cluster_size", "deff", "N", "se", "moe",
               "moe_relative"]


def margin_of_error(p, n, deff=None, level=0.95, N=None, icc=None, cluster_size=None):
    r"""Margin of error that a sample of ``n`` units gives for a proportion.

    The inverse of :func:`sample_size` (without the response rate): what a planned
    or achieved sample delivers, e.g. per region after :func:`allocate`.

    Parameters
    ----------
    p : float, array, Series or dict
        Expected proportion, strictly between 0 and 1; labels become the index.
    n : float, array, Series or dict
        Units observed.
    deff, level, N, icc, cluster_size
        As in :func:`sample_size`.

    Returns
    -------
    pandas.DataFrame
        One row per input: ``p``, ``n``, ``level``, ``z``, ``icc``,
        ``cluster_size``, ``deff``, ``N``, ``se`` (standard error), ``moe``
        (absolute half-width, ``z * se``) and ``moe_relative`` (``moe / p``).

    Notes
    -----
    .. math::

        \text{se} = \sqrt{\text{deff}\,\frac{p(1-p)}{n}\,\frac{N-n}{N-1}},
        \qquad \text{moe} = z\,\text{se},

    which inverts Cochran's :math:`n = n_0'/(1 + (n_0' - 1)/N)` exactly.

    Examples
    --------
    >>> import harvest as hv
    >>> t = hv.plan.margin_of_error(p=0.23, n=472, deff=2.0)
    >>> round(float(t["moe"].iloc[0]), 4)
    0.0537
    """
    labels = labels_of(p=p, n=n, N=N, deff=deff)
    level = check_level(level)
    p_arr = check_probability("p", p)
    n_arr = check_range("n", n, 0, None, rule="a positive sample size")
    deff_arr, icc_arr, m_arr = design_effect(deff, icc, cluster_size)
    N_arr = population_size(N)
    a = broadcast(p=p_arr, n=n_arr, deff=deff_arr, icc=icc_arr, m=m_arr, N=N_arr)
    finite = np.isfinite(a["N"])
    if (finite & (a["n"] > a["N"])).any():
        raise ValueError("`n` must not exceed the population size `N`.")
    if labels is not None and len(labels) != len(a["p"]):
        raise ValueError(f"the labelled arguments ({len(labels)} labels) do not match the other "
                         f"arguments' length ({len(a['p'])}).")
    with np.errstate(invalid="ignore", divide="ignore"):
        fpc = np.where(finite, (a["N"] - a["n"]) / (a["N"] - 1.0), 1.0)
    fpc = np.where(finite & (a["N"] == 1), 0.0, fpc)
    se = np.sqrt(a["deff"] * a["p"] * (1.0 - a["p"]) / a["n"] * fpc)
    z = z_value(level)
    out = pd.DataFrame({
        "p": a["p"], "n": a["n"], "level": level, "z": z, "icc": a["icc"],
        "cluster_size": a["m"], "deff": a["deff"], "N": a["N"], "se": se, "moe": z * se,
        "moe_relative": z * se / a["p"],
    }, columns=MOE_COLUMNS)
    if labels is not None:
        out.index = labels
    return out
