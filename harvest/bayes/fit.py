"""``fit_prevalence``: build, compile (once per model structure) and sample a model.

The steps, each a function: check the settings (:func:`_check_settings`), reduce the
rows to cluster or area totals (``harvest.bayes._data.prepare``), make the model's data
arrays (:func:`_model_arrays`), compile and sample (:func:`_sample`), integrate the
cluster effect out of the prevalence (:func:`_prevalence_draws`), label the posterior
(:func:`_label`) and wrap it all in a :class:`~harvest.bayes.summary.BayesFit`.

PyMC, PyTensor and nutpie are imported inside the functions only; ArviZ not at all unless
something asks for it (:mod:`harvest.bayes._trace`).
"""

from __future__ import annotations

import time as _time
import warnings
from collections import OrderedDict
from importlib.util import find_spec

import numpy as np

from harvest._errors import CompilerFallbackWarning, DataError
from harvest._options import LONELY_PSU, check_option, check_probability
from harvest.bayes._compile import COMPILERS, compile_model, missing_internals
from harvest.bayes._data import prepare, rng_seed
from harvest.bayes._trace import import_nutpie
from harvest.bayes._trace import sample as nutpie_sample
from harvest.bayes.direct import VARIANCES, ZERO_ONE, direct_estimates, logit_inputs
from harvest.bayes.models import (
    AREA_EFFECTS,
    MODELS,
    PRIORS,
    TARGET_ACCEPT,
    build_model,
    resolve_area_effects,
)
from harvest.bayes.summary import BayesFit

__all__ = ["fit_prevalence", "clear_cache", "SAMPLERS"]

SAMPLERS = ("auto", "nutpie", "pymc")

# Compiled nutpie models keyed by model structure (model, shapes, priors). Compiling costs
# seconds; sampling the same structure again with new data costs nothing extra.
_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 8

# Clusters are padded to a multiple of this (see fit_prevalence).
_CLUSTER_BLOCK = 16

# Gauss-Hermite nodes for integrating the cluster effect out of the prevalence.
_GH_NODES = 32


# None until the first compilation in this process checks what harvest's compiler needs.
_MISSING: list | None = None


def _route(compiler: str) -> str:
    """``compiler``, or ``"nutpie"`` (said once) where the fast route's internals are missing."""
    global _MISSING
    if compiler != "harvest":
        return compiler
    if _MISSING is None:
        _MISSING = missing_internals()
        if _MISSING:
            warnings.warn(
                "harvest's fast compiler needs internals that the installed nutpie/PyTensor "
                f"lack ({'; '.join(_MISSING)}); compiling with nutpie.compile_pymc_model "
                "instead (same model and posterior, slower to compile).",
                CompilerFallbackWarning, stacklevel=5)
    return "nutpie" if _MISSING else "harvest"


def clear_cache() -> None:
    """Forget every compiled model (the next fit compiles again)."""
    _CACHE.clear()


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}; got {value!r}.")
    return int(value)


def _compiled(model: str, key: tuple, data: dict, A: int, T: int, priors: dict, cache: bool,
              area_effects: str, compiler: str, timings: dict | None = None):
    """A nutpie compiled model for ``data``, from the cache when the structure is known.

    ``timings["build_s"]``: seconds spent building the PyMC model (0 from the cache).
    """
    timings = {} if timings is None else timings
    timings["build_s"] = 0.0
    if cache and key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key].with_data(**data), True
    t0 = _time.perf_counter()
    m = build_model(model, data, A, T, priors, area_effects)
    timings["build_s"] = _time.perf_counter() - t0
    if compiler == "harvest":
        compiled = compile_model(m)
    else:
        nutpie = import_nutpie()
        with warnings.catch_warnings():
            # numba declines to write some PyTensor-generated functions to its disk cache;
            # harmless (the message starts with terminal colour codes, hence the ".*")
            warnings.filterwarnings("ignore", message=".*Cannot cache compiled function")
            compiled = nutpie.compile_pymc_model(m)
    if cache:
        _CACHE[key] = compiled
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return compiled, False


def _sample(model, data, A, T, priors, *, draws, tune, chains, seed, progress, target_accept,
            sampler, cache, area_effects, compiler):
    timings = {}
    if sampler == "auto":
        sampler = "nutpie" if find_spec("nutpie") is not None else "pymc"
    if sampler == "nutpie":
        compiler = _route(compiler)
        key = (model, area_effects, compiler, A, T, *(np.shape(v) for v in data.values()),
               tuple(sorted(priors.items())))
        t0 = _time.perf_counter()
        compiled, cached = _compiled(model, key, data, A, T, priors, cache, area_effects,
                                     compiler, timings)
        timings["compile_s"] = _time.perf_counter() - t0
        timings["cached"] = cached
        t0 = _time.perf_counter()
        tree = nutpie_sample(compiled, draws=draws, tune=tune, chains=chains, seed=seed,
                             progress_bar=progress, target_accept=target_accept)
        timings["sample_s"] = _time.perf_counter() - t0
    else:
        import pymc as pm

        t0 = _time.perf_counter()
        m = build_model(model, data, A, T, priors, area_effects)
        timings["compile_s"] = timings["build_s"] = _time.perf_counter() - t0
        timings["cached"] = False
        t0 = _time.perf_counter()
        tree = pm.sample(draws=draws, tune=tune, chains=chains, cores=1, random_seed=seed,
                         nuts_sampler="pymc",
                         progressbar=progress, target_accept=target_accept, model=m,
                         compute_convergence_checks=False)
        timings["sample_s"] = _time.perf_counter() - t0
    timings["sampler"] = sampler
    return tree, timings


def _prevalence_draws(model: str, posterior) -> np.ndarray:
    """(chain, draw, A, T) prevalence draws from the posterior group."""
    from scipy.special import expit

    eta = posterior["eta"].transpose("chain", "draw", "area", "time").to_numpy()
    if model == "smoothed_direct":
        return expit(eta)
    # integrate the cluster effect out: E_z[expit(eta + sigma z)], z ~ N(0, 1)
    x, w = np.polynomial.hermite.hermgauss(_GH_NODES)
    sigma = posterior["sigma_cluster"].transpose("chain", "draw").to_numpy()
    shift = np.sqrt(2.0) * sigma[:, :, None, None, None] * x
    return expit(eta[..., None] + shift) @ (w / np.sqrt(np.pi))


def _label(tree, prep, prevalence: np.ndarray):
    """Label the integer coordinates and add ``prevalence`` to the posterior group."""
    import xarray as xr

    labels = {"area": np.asarray(prep.areas), "time": np.asarray(prep.times)}
    for path in ("posterior",):
        ds = tree[path].to_dataset()
        if "cluster" in ds.dims:
            ds = ds.isel(cluster=slice(0, prep.n_clusters))
        ds = ds.assign_coords({k: v for k, v in labels.items() if k in ds.dims})
        if "cluster" in ds.dims:
            ds = ds.assign_coords(
                cluster_area=("cluster", np.asarray(prep.clusters["area"])),
                cluster_time=("cluster", np.asarray(prep.clusters["time"])),
                cluster_name=("cluster", np.asarray(prep.clusters["cluster"])),
            )
        ds["prevalence"] = xr.DataArray(
            prevalence, dims=("chain", "draw", "area", "time"),
            coords={"chain": ds["chain"], "draw": ds["draw"], "area": labels["area"],
                    "time": labels["time"]})
        tree[path] = xr.DataTree(ds)
    return tree


def fit_prevalence(data, outcome: str, area: str = "region", time: str = "year",
                   cluster: str = "district", weights: str | None = "weight",
                   model: str = "hierarchical", *, rng=None, draws: int = 1000,
                   tune: int = 1000, chains: int = 4, progress: bool | None = None,
                   population=None, strata: str | None = None, fpc: str | None = None,
                   lonely_psu: str = "adjust", zero_one: str = "adjust",
                   variance: str = "pooled", area_effects: str = "auto", na: str = "fail",
                   target_accept: float | None = None, sampler: str = "auto",
                   priors: dict | None = None, check: bool = True,
                   cache: bool = True, compiler: str = "harvest") -> BayesFit:
    """Bayesian prevalence of a 0/1 outcome by area and period (PyMC, sampled with nutpie).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit (farm), never modified.
    outcome : str
        The 0/1 outcome column, e.g. ``"child_labour"``.
    area, time, cluster : str
        Area (region), period (year) and cluster (district, nested in area) columns.
    weights : str or None, default ``"weight"``
        Survey weights; ``None`` for an unweighted (exact binomial) fit.
    model : {"hierarchical", "smoothed_direct"}
        Cluster-level binomial model with area x period and cluster random effects, or
        area-level (Fay-Herriot) smoothing of the design-based direct estimates.
    rng : int or numpy.random.Generator, optional
        The only source of randomness: the sampler seed is drawn from it.
    draws, tune, chains : int
        Posterior draws and warm-up iterations per chain, and number of chains.
    progress : bool, optional
        Show the sampler's progress bar; by default shown for long fits
        (``chains * (draws + tune) >= 8000``) only.
    population : mapping or pandas.Series, optional
        Population sizes per area (or per (area, period)) for national and grouped
        aggregates (:meth:`BayesFit.aggregate`); by default the sums of the weights.
    strata, fpc, lonely_psu : optional
        Design columns and lonely-PSU policy of the direct estimates
        (:class:`harvest.SurveyDesign` with ``psu=cluster``).
    zero_one : {"adjust", "drop"}
        ``smoothed_direct`` only: how a direct estimate of exactly 0 or 1 enters the model
        (see :func:`harvest.bayes.direct.logit_inputs`).
    variance : {"pooled", "design"}
        ``smoothed_direct`` only: a generalised variance function with the cell's size and
        the median design effect (default; far less noisy when cells hold few PSUs), or
        each cell's own design variance as R SUMMER's ``smoothDirect`` (see
        :func:`harvest.bayes.direct.logit_inputs`).
    area_effects : {"auto", "fixed", "random"}
        First-period area levels: own ``Normal(0, 1.5)`` prior each (``"fixed"``) or
        exchangeable with a learned sd (``"random"``); ``"auto"``: fixed below 10 areas.
    na : {"fail", "drop"}
        Missing outcomes: raise, or leave those rows out.
    target_accept : float, optional
        Target acceptance rate of NUTS (higher: smaller steps, fewer divergences). By
        default :data:`harvest.bayes.models.TARGET_ACCEPT`: 0.95 for ``hierarchical``,
        0.98 for ``smoothed_direct`` (at 0.95, 8 of 200 simulated missions gave one
        divergent transition; at 0.98 none, for 0.03 s more sampling).
    sampler : {"auto", "nutpie", "pymc"}
        ``"auto"`` uses nutpie when installed, else PyMC's own NUTS.
    priors : dict, optional
        Overrides of :data:`harvest.bayes.models.PRIORS` (``mu_sd``, ``step_sd``,
        ``area_scale``, ``area_time_scale``, ``cluster_scale``).
    check : bool, default True
        Run :meth:`BayesFit.diagnostics` after sampling (warns with
        :class:`harvest._errors.SamplingWarning` past the thresholds).
    cache : bool, default True
        Re-use a compiled model of the same structure (same model, numbers of areas,
        periods and clusters, priors) within this Python process.
    compiler : {"harvest", "nutpie"}
        nutpie only: how the model becomes machine code. ``"harvest"`` (default,
        :mod:`harvest.bayes._compile`): code that does not depend on the data's sizes,
        compiled once per form of model and kept in PyTensor's disk cache, so later
        processes load it in about a second; ``"nutpie"``: ``nutpie.compile_pymc_model``,
        which compiles again (7-8 s on the bundled data) in every process. Where the
        installed nutpie/PyTensor lack the internals ``"harvest"`` needs, it falls back to
        ``"nutpie"`` with one ``CompilerFallbackWarning``.

    Returns
    -------
    BayesFit
        ``summary()``, ``compare()``, ``aggregate()``, ``diagnostics()``, ``ppc()``,
        ``plot()`` and the ArviZ ``posterior`` DataTree (with a ``prevalence`` variable).

    Notes
    -----
    Hierarchical model, cluster ``c`` (district x period) in area ``a``, period ``t``::

        y_eff[c] ~ "Binomial"(n_eff[c], p[c]),  logit p[c] = eta[a, t] + sigma_c z[c]
        eta[a, t] = mu + tau[t] + sigma_a u[a] + sigma_at g[a, t],  tau a random walk

    with ``n_eff`` the Kish effective sample size of the cluster and ``y_eff = n_eff *``
    the weighted share (pseudo-likelihood; exact binomial without weights). The area
    prevalence is ``E_z[expit(eta[a, t] + sigma_c z)]``, the cluster effect integrated out
    (Gauss-Hermite, 32 nodes). ``smoothed_direct``: ``logit(p_hat[a, t]) ~
    Normal(eta[a, t], v[a, t])`` and prevalence ``expit(eta[a, t])``. See
    ``docs/methods/bayes.md`` for the priors and what the pseudo-likelihood guarantees.

    Examples
    --------
    >>> import harvest as hv
    >>> farms = hv.simulate.mission(year=2024, rng=3).farms
    >>> fit = hv.bayes.fit_prevalence(farms, "child_labour", rng=1, draws=200, tune=200,
    ...                               chains=2, check=False)
    >>> list(fit.summary().columns)
    ['area', 'time', 'mean', 'sd', 'ci_low', 'ci_high', 'r_hat', 'ess_bulk', 'ess_tail']
    """
    draws, tune, chains, target_accept, prior = _check_settings(
        model=model, sampler=sampler, zero_one=zero_one, variance=variance,
        area_effects=area_effects, lonely_psu=lonely_psu, compiler=compiler, draws=draws,
        tune=tune, chains=chains, target_accept=target_accept, priors=priors)
    seed = rng_seed(rng)
    if progress is None:
        progress = chains * (draws + tune) >= 8000

    t_start = _time.perf_counter()
    prep = prepare(data, outcome, area, time, cluster, weights, na=na)
    A, T = prep.n_areas, prep.n_times
    area_effects = resolve_area_effects(area_effects, A)
    arrays, direct, inputs = _model_arrays(model, prep, strata=strata, fpc=fpc,
                                           lonely_psu=lonely_psu, zero_one=zero_one,
                                           variance=variance)
    tree, timings = _sample(model, arrays, A, T, prior, draws=draws, tune=tune, chains=chains,
                            seed=seed, progress=bool(progress), target_accept=target_accept,
                            sampler=sampler, cache=cache, area_effects=area_effects,
                            compiler=compiler)
    prevalence = _prevalence_draws(model, tree["posterior"])
    tree = _label(tree, prep, prevalence)
    timings["total_s"] = _time.perf_counter() - t_start
    fit = BayesFit(
        model=model, posterior=tree, data=prep, direct_table=direct, model_inputs=inputs,
        population=population,
        design={"strata": strata, "fpc": fpc, "lonely_psu": lonely_psu},
        settings={"draws": draws, "tune": tune, "chains": chains, "seed": seed,
                  "target_accept": target_accept, "priors": prior,
                  "zero_one": zero_one, "variance": variance, "area_effects": area_effects},
        timings=timings,
    )
    if check:
        fit.diagnostics(warn=True)
    return fit


# -- the steps of fit_prevalence ---------------------------------------------------------
def _check_settings(*, model, sampler, zero_one, variance, area_effects, lonely_psu,
                    compiler, draws, tune, chains, target_accept, priors):
    """Every option checked before any work: ``(draws, tune, chains, target_accept, priors)``
    with the model's default acceptance rate and the default priors filled in."""
    check_option("model", model, MODELS)
    check_option("sampler", sampler, SAMPLERS)
    check_option("zero_one", zero_one, ZERO_ONE)
    check_option("variance", variance, VARIANCES)
    check_option("area_effects", area_effects, AREA_EFFECTS)
    check_option("lonely_psu", lonely_psu, LONELY_PSU)
    check_option("compiler", compiler, COMPILERS)
    draws = _check_int("draws", draws, 1)
    tune = _check_int("tune", tune, 0)
    chains = _check_int("chains", chains, 1)
    if target_accept is None:
        target_accept = TARGET_ACCEPT[model]
    target_accept = check_probability("target_accept", target_accept)
    unknown = set(priors or {}) - set(PRIORS)
    if unknown:
        raise ValueError(f"`priors` has unknown keys {sorted(unknown)}; allowed: "
                         f"{sorted(PRIORS)}.")
    prior = {**PRIORS, **{k: float(v) for k, v in (priors or {}).items()}}
    if any(not v > 0 for v in prior.values()):
        raise ValueError(f"`priors` must be positive scales; got {prior}.")
    return draws, tune, chains, target_accept, prior


def _model_arrays(model, prep, *, strata, fpc, lonely_psu, zero_one, variance):
    """The data arrays the model samples from: ``(arrays, direct table, model inputs)``.

    ``hierarchical``: cluster totals, padded to a multiple of 16 clusters with empty ones
    (``n_eff = y_eff = 0``: they add nothing to the likelihood, their effects are prior
    draws, dropped after sampling) so that data sets with a few more or fewer clusters
    share a compiled model. ``smoothed_direct``: the logit direct estimates and their
    inverse variances (the direct table and the inputs are returned for the fit).
    """
    if model == "hierarchical":
        pad = -prep.n_clusters % _CLUSTER_BLOCK
        arrays = {"y_eff": np.r_[prep.y_eff, np.zeros(pad)],
                  "n_eff": np.r_[prep.n_eff, np.zeros(pad)],
                  "cell": np.r_[prep.cluster_cell, np.zeros(pad, np.int64)].astype(np.int64)}
        return arrays, None, None
    direct = direct_estimates(prep, strata=strata, fpc=fpc, lonely_psu=lonely_psu)
    theta_hat, var, mask, inputs = logit_inputs(direct, prep.areas, prep.times, zero_one,
                                                variance)
    if mask.sum() == 0:
        raise DataError("no area x period holds a usable direct estimate (all empty or "
                        "without a design variance); use model='hierarchical'.")
    arrays = {"theta_hat": theta_hat, "inv_var": np.where(mask > 0, 1.0 / var, 0.0),
              "mask": mask}
    return arrays, direct, inputs
