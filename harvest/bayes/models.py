"""The two PyMC models. PyMC is imported inside the functions only.

Both share the area x time linear predictor (logit scale)

    eta[a, 0] = alpha[a]
    eta[a, t] = eta[a, t-1] + delta[t] + sigma_area_time * g[a, t]   (t >= 1)

a random walk over periods: a common step ``delta[t]`` and an area-specific step
``sigma_area_time * g[a, t]``, with non-centred standard normal ``g`` and the priors

    delta[t] ~ Normal(0, 1),  sigma_area_time ~ HalfNormal(0.5),
    alpha[a] ~ Normal(0, 1.5)                          (area_effects="fixed"), or
    alpha[a] = mu + sigma_area * u[a],  mu ~ Normal(0, 1.5),  sigma_area ~ HalfNormal(0.5),
    u[a] ~ Normal(0, 1)                                (area_effects="random").

``"auto"`` (default) uses fixed area levels below 10 areas: with five regions a
between-area variance is barely identified and its shrinkage biases the extreme regions.

(With two or three periods a learned sd of the common step is not identified and gives a
funnel; a fixed, weakly informative step sd of 1 on the logit scale avoids it.)

``model="hierarchical"`` adds a cluster (district x period) effect
``sigma_cluster * z[c]``, ``sigma_cluster ~ HalfNormal(1)``, and the binomial
(pseudo-)likelihood ``y_eff[c] * eta[c] - n_eff[c] * log(1 + exp(eta[c]))``.

``model="smoothed_direct"`` (Fay-Herriot on the logit scale) adds the likelihood
``logit(p_hat[a, t]) ~ Normal(eta[a, t], v[a, t])`` with the design variances ``v``.

All data enter through ``pm.Data`` so that a compiled model can be re-used for new data
of the same shapes (``nutpie``'s ``with_data``); the area/period/cluster coordinates are
plain integer ranges and get their labels after sampling.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MODELS", "build_model", "PRIORS", "TARGET_ACCEPT"]

MODELS = ("hierarchical", "smoothed_direct")

#: Default target acceptance rate of NUTS per model (``fit_prevalence(target_accept=None)``).
#: The smoothed direct model's posterior has a mild funnel in ``sigma_area_time`` when the
#: direct estimates are precise: at 0.95, 8 of 200 simulated missions gave one divergent
#: transition (benchmarks/bench_bayes_calibration.py), at 0.98 none.
TARGET_ACCEPT = {"hierarchical": 0.95, "smoothed_direct": 0.98}

#: Prior scales (logit scale): intercept sd, sd of the common period-to-period step, the
#: half-normal scales of the area, area x period and cluster sds.
PRIORS = {"mu_sd": 1.5, "step_sd": 1.0, "area_scale": 0.5, "area_time_scale": 0.5,
          "cluster_scale": 1.0}

#: ``area_effects``: "fixed" (own weakly informative prior per area), "random" (exchangeable,
#: learned sd) or "auto" (fixed below :data:`RANDOM_FROM` areas, random from there on).
AREA_EFFECTS = ("auto", "fixed", "random")
RANDOM_FROM = 10


def resolve_area_effects(area_effects: str, A: int) -> str:
    """``"auto"`` -> ``"fixed"`` with fewer than 10 areas, else ``"random"``."""
    if area_effects == "auto":
        return "fixed" if A < RANDOM_FROM else "random"
    return area_effects


def _area_time(pm, pt, A: int, T: int, priors: dict, area_effects: str):
    if area_effects == "fixed":
        eta = pm.Normal("area_level", 0.0, priors["mu_sd"], dims="area")[:, None]
    else:
        mu = pm.Normal("mu", 0.0, priors["mu_sd"])
        sigma_area = pm.HalfNormal("sigma_area", priors["area_scale"])
        u = pm.Normal("z_area", 0.0, 1.0, dims="area")
        eta = mu + sigma_area * u[:, None]
    if T > 1:
        # common random walk over periods and an area-specific random walk around it
        step = pm.Normal("time_step", 0.0, priors["step_sd"], dims="step")
        sigma_at = pm.HalfNormal("sigma_area_time", priors["area_time_scale"])
        g = pm.Normal("z_area_time", 0.0, 1.0, dims=("area", "step"))
        steps = step[None, :] + sigma_at * g
        # walk[a, t] = sum of the steps before t: steps @ U with U[s, t] = 1 for s < t,
        # written as a broadcast product and sum (cheaper to compile than cumsum + join)
        upper = np.triu(np.ones((T - 1, T)), k=1)
        walk = (steps[:, :, None] * upper[None, :, :]).sum(axis=1)
        eta = eta + walk
    return pm.Deterministic("eta", eta, dims=("area", "time"))


def build_model(model: str, data: dict, A: int, T: int, priors: dict | None = None,
                area_effects: str = "auto"):
    """Build the PyMC model.

    Parameters
    ----------
    model : {"hierarchical", "smoothed_direct"}
    data : dict of numpy.ndarray
        ``hierarchical``: ``y_eff``, ``n_eff`` (float, shape (C,)) and ``cell`` (int,
        ``area * T + time``). ``smoothed_direct``: ``theta_hat``, ``inv_var`` and ``mask``
        (float, shape (A, T)); ``inv_var`` is ``1 / v`` (0 where ``mask`` is 0).
    A, T : int
        Numbers of areas and periods.
    priors : dict, optional
        Overrides of :data:`PRIORS`.
    area_effects : {"auto", "fixed", "random"}
        First-period area levels: ``"fixed"``, each ``Normal(0, mu_sd)``;
        ``"random"``, ``mu + sigma_area * u[a]``; ``"auto"``: fixed below 10 areas.

    Returns
    -------
    pymc.Model
    """
    import pymc as pm
    import pytensor.tensor as pt

    prior = {**PRIORS, **(priors or {})}
    coords = {"area": np.arange(A), "time": np.arange(T), "step": np.arange(max(T - 1, 0))}
    if model == "hierarchical":
        coords["cluster"] = np.arange(len(data["y_eff"]))
    with pm.Model(coords=coords) as m:
        eta = _area_time(pm, pt, A, T, prior, resolve_area_effects(area_effects, A))
        if model == "hierarchical":
            y = pm.Data("y_eff", data["y_eff"])
            n = pm.Data("n_eff", data["n_eff"])
            cell = pm.Data("cell", data["cell"])
            sigma_c = pm.HalfNormal("sigma_cluster", prior["cluster_scale"])
            z = pm.Normal("z_cluster", 0.0, 1.0, dims="cluster")
            eta_c = eta.ravel()[cell] + sigma_c * z
            # binomial kernel; exact binomial log-likelihood (up to a constant) when the
            # counts are integers, the effective-sample-size pseudo-likelihood otherwise
            pm.Potential("loglik", pt.sum(y * eta_c - n * pt.softplus(eta_c)))
        elif model == "smoothed_direct":
            theta_hat = pm.Data("theta_hat", data["theta_hat"])
            inv_var = pm.Data("inv_var", data["inv_var"])
            mask = pm.Data("mask", data["mask"])
            # Normal(theta_hat | eta, v) up to a constant; cells with mask 0 add nothing
            pm.Potential("loglik", -0.5 * pt.sum(mask * inv_var * (theta_hat - eta) ** 2))
        else:  # pragma: no cover - checked by the caller
            raise ValueError(model)
    return m
