"""Design-based direct estimates by area and period, and their logit-scale inputs.

The direct estimates come from :class:`harvest.SurveyDesign` (Taylor linearisation, R
``survey`` semantics). :func:`logit_inputs` turns them into the data of the area-level
(Fay-Herriot) model, with a documented rule for estimates of exactly 0 or 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harvest._errors import DataError

__all__ = ["direct_estimates", "logit_inputs", "ZERO_ONE"]

ZERO_ONE = ("adjust", "drop")
VARIANCES = ("pooled", "design")


def direct_estimates(prep, strata=None, fpc=None, lonely_psu="adjust",
                     level: float = 0.9) -> pd.DataFrame:
    """Direct (design-based) proportions of the outcome by area and period.

    Parameters
    ----------
    prep : PrevalenceData
        From :func:`harvest.bayes._data.prepare`.
    strata, fpc : str, optional
        Design columns passed to :class:`harvest.SurveyDesign` (``psu`` is the cluster
        column, ``weights`` the weights column).
    lonely_psu : str
        Lonely-PSU policy of the design (R ``survey``'s options).
    level : float
        Level of the logit intervals.

    Returns
    -------
    pandas.DataFrame
        ``area``, ``time`` and the API.md columns of ``SurveyDesign.proportion``
        (``estimate``, ``se``, ``ci_low``, ``ci_high``, ``df``, ``deff``, ``n``,
        ``n_eff`` ...), one row per area x period holding data.
    """
    from harvest.design import SurveyDesign

    design = SurveyDesign(prep.frame, weights=prep.weights_name, strata=strata,
                          psu=prep.cluster_name, fpc=fpc, lonely_psu=lonely_psu)
    table = design.proportion(prep.outcome, by=[prep.area_name, prep.time_name], ci="logit",
                              level=level)
    table = table.rename(columns={prep.area_name: "area", prep.time_name: "time"})
    return table.reset_index(drop=True)


def logit_inputs(direct: pd.DataFrame, areas, times, zero_one: str = "adjust",
                 variance: str = "design"):
    """Logit-scale direct estimates and their variances on the ``(A, T)`` grid.

    Parameters
    ----------
    direct : pandas.DataFrame
        Output of :func:`direct_estimates`.
    areas, times : sequence
        The grid's labels.
    zero_one : {"adjust", "drop"}
        What to do with a direct estimate of exactly 0 or 1 (or a zero variance), whose
        logit is undefined: ``"adjust"`` (default) replaces it by
        ``p~ = (n_eff p + 1/2) / (n_eff + 1)`` with variance
        ``1 / (n_eff p~ (1 - p~))`` on the logit scale, where ``n_eff`` is the cell's
        unweighted size divided by ``deff_med``, the median design effect of the other
        cells (at least 1); ``"drop"`` leaves the cell out of the likelihood (the model
        then predicts it from the other cells, which assumes such cells are missing at
        random and tends to overstate their prevalence). A cell with ``0 < p < 1`` but
        no finite, positive design variance (e.g. a single PSU) gets the variance
        ``1 / (n_eff p (1 - p))`` and is flagged ``adjusted`` as well.

    variance : {"design", "pooled"}
        ``"design"``: each cell's own design variance (Fay-Herriot, as SUMMER's
        ``smoothDirect``); ``"pooled"``: a generalised variance function
        ``deff_med / (n p (1 - p))`` on the logit scale, the cell's own size with the
        median design effect of all cells, which is far less noisy when a cell holds
        few PSUs.

    Returns
    -------
    theta_hat, var, mask : numpy.ndarray, shape (A, T)
        Logit estimate, its variance ``se^2 / (p (1 - p))^2`` (delta method) and 1 where a
        cell enters the likelihood (0 for empty cells and dropped 0/1 cells).
    table : pandas.DataFrame
        ``area``, ``time``, ``estimate``, ``se``, ``logit``, ``logit_var``, ``used``,
        ``adjusted``: what entered the model.
    """
    if zero_one not in ZERO_ONE:
        raise ValueError(f"`zero_one` must be one of {ZERO_ONE}; got {zero_one!r}.")
    if variance not in VARIANCES:
        raise ValueError(f"`variance` must be one of {VARIANCES}; got {variance!r}.")
    A, T = len(areas), len(times)
    a = pd.Index(areas).get_indexer(direct["area"])
    t = pd.Index(times).get_indexer(direct["time"])
    if (a < 0).any() or (t < 0).any():
        raise DataError("direct estimates hold an area or period that is not in the fit.")
    p = direct["estimate"].to_numpy(dtype=float)
    se = direct["se"].to_numpy(dtype=float)
    n = direct["n"].to_numpy(dtype=float)
    deff = direct["deff"].to_numpy(dtype=float)
    inside = (p > 0) & (p < 1)
    good_var = se > 0                                  # False for NaN
    good_deff = deff[inside & good_var & np.isfinite(deff)]
    deff_med = max(1.0, float(np.median(good_deff))) if len(good_deff) else 1.0
    n_eff = n / deff_med
    with np.errstate(divide="ignore", invalid="ignore"):
        logit = np.log(p / (1 - p))
        var = np.where(good_var, se**2 / (p * (1 - p)) ** 2, 1.0 / (n_eff * p * (1 - p)))
        if variance == "pooled":
            var = 1.0 / (n_eff * p * (1 - p))
    adjusted = (n > 0) & ~(inside & good_var)
    edge = (n > 0) & ~inside & np.isfinite(p)
    if zero_one == "adjust":
        p_adj = (n_eff * p + 0.5) / (n_eff + 1)
        logit = np.where(edge, np.log(p_adj / (1 - p_adj)), logit)
        var = np.where(edge, 1.0 / (n_eff * p_adj * (1 - p_adj)), var)
    else:
        adjusted = adjusted & ~edge
    used = (n > 0) & np.isfinite(logit) & np.isfinite(var) & (var > 0)
    if zero_one == "drop":
        used = used & ~edge
    theta_hat = np.zeros((A, T))
    v = np.ones((A, T))
    mask = np.zeros((A, T))
    theta_hat[a[used], t[used]] = logit[used]
    v[a[used], t[used]] = var[used]
    mask[a[used], t[used]] = 1.0
    table = pd.DataFrame({
        "area": direct["area"].to_numpy(), "time": direct["time"].to_numpy(),
        "estimate": p, "se": se, "logit": np.where(used, logit, np.nan),
        "logit_var": np.where(used, var, np.nan), "used": used, "adjusted": adjusted & used,
    })
    return theta_hat, v, mask, table
