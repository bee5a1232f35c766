"""Bayesian prevalence by area and period (PyMC models sampled with nutpie).

Two models (``docs/methods/bayes.md`` has the equations and priors):

* ``"hierarchical"``: cluster-level binomial with area x period effects and cluster
  (district x period) random effects; survey weights enter through a Kish
  effective-sample-size pseudo-likelihood.
* ``"smoothed_direct"``: area-level (Fay-Herriot) smoothing of the design-based direct
  estimates on the logit scale with their design variances, a random walk over periods.

PyMC, PyTensor, nutpie and ArviZ are imported inside the functions only, so
``import harvest`` stays fast.

Examples
--------
>>> import harvest as hv
>>> farms = hv.simulate.mission(year=2024, rng=3).farms
>>> fit = hv.bayes.fit_prevalence(farms, outcome="child_labour", rng=1, draws=200,
...                               tune=200, chains=2, check=False)
>>> table = fit.summary(level=0.9)
>>> bool(((table["ci_low"] < table["mean"]) & (table["mean"] < table["ci_high"])).all())
True
"""

from harvest.bayes.fit import SAMPLERS, clear_cache, fit_prevalence
from harvest.bayes.models import MODELS, PRIORS
from harvest.bayes.summary import THRESHOLDS, BayesFit

__all__ = ["fit_prevalence", "BayesFit", "posterior_predictive_check", "plot_direct_vs_model",
           "clear_cache", "MODELS", "PRIORS", "SAMPLERS", "THRESHOLDS"]


def posterior_predictive_check(fit: BayesFit, rng=None, level: float = 0.9):
    """Posterior predictive check of the weighted share per area and period.

    Same as :meth:`BayesFit.ppc`: ``area``, ``time``, ``observed``, ``rep_mean``,
    ``rep_low``, ``rep_high``, ``p_value``.
    """
    return fit.ppc(rng=rng, level=level)


def plot_direct_vs_model(fit: BayesFit, ax=None, time=None, level: float = 0.9, **kwargs):
    """Direct versus model estimates of one period; returns the matplotlib Axes.

    Same as :meth:`BayesFit.plot`.
    """
    return fit.plot(ax=ax, time=time, level=level, **kwargs)
