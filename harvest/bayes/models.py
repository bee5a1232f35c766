"""The two PyMC models. PyMC is imported inside the functions only.

Both share the area x time linear predictor (logit scale)

    eta[a, t] = mu + tau[t] + sigma_area * u[a] + sigma_area_time * g[a, t]
    tau[0] = 0,  tau[t] = tau[t-1] + sigma_time * e[t]     (random walk over periods)

with non-centred standard normal ``u``, ``g``, ``e`` and the priors

    mu ~ Normal(0, 1.5),  sigma_area, sigma_area_time, sigma_time ~ HalfNormal(1).

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

__all__ = ["MODELS", "build_model", "PRIORS"]

MODELS = ("hierarchical", "smoothed_direct")

#: Prior scales (logit scale): intercept sd and half-normal scales of the standard deviations.
PRIORS = {"mu_sd": 1.5, "sigma_scale": 1.0}


def _area_time(pm, pt, A: int, T: int, priors: dict):
    mu = pm.Normal("mu", 0.0, priors["mu_sd"])
    scale = priors["sigma_scale"]
    sigma_area = pm.HalfNormal("sigma_area", scale)
    u = pm.Normal("z_area", 0.0, 1.0, dims="area")
    eta = mu + sigma_area * u[:, None]
    if T > 1:
        sigma_time = pm.HalfNormal("sigma_time", scale)
        e = pm.Normal("z_time", 0.0, 1.0, dims="step")
        tau = pt.concatenate([pt.zeros(1), pt.cumsum(sigma_time * e)])
        sigma_at = pm.HalfNormal("sigma_area_time", scale)
        g = pm.Normal("z_area_time", 0.0, 1.0, dims=("area", "time"))
        eta = eta + tau[None, :] + sigma_at * g
    return pm.Deterministic("eta", eta, dims=("area", "time"))


def build_model(model: str, data: dict, A: int, T: int, priors: dict | None = None):
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
        eta = _area_time(pm, pt, A, T, prior)
        if model == "hierarchical":
            y = pm.Data("y_eff", data["y_eff"])
            n = pm.Data("n_eff", data["n_eff"])
            cell = pm.Data("cell", data["cell"])
            sigma_c = pm.HalfNormal("sigma_cluster", prior["sigma_scale"])
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
