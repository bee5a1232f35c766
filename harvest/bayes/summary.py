"""Posterior summaries, comparisons, aggregates, diagnostics and checks of a fit.

Everything here works on numpy arrays of draws with shape ``(chain, draw, ...)``; R-hat and
ESS (rank-normalised split R-hat, bulk and tail ESS of Vehtari et al. 2021) come from
:mod:`harvest.bayes._diagnostics`, numpy code that gives the numbers ``arviz_stats`` gives
without its import (about a second).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from harvest._errors import DataError, SamplingWarning
from harvest._options import as_generator, check_level

__all__ = ["BayesFit", "THRESHOLDS", "draw_summary"]

#: Diagnostic thresholds: any divergence, R-hat above 1.01, bulk or tail ESS below 400.
THRESHOLDS = {"divergences": 0, "r_hat": 1.01, "ess": 400}


def _stats(draws: np.ndarray):
    """R-hat, bulk ESS and tail ESS of ``(chain, draw, ...)`` draws (NaN if too few)."""
    from harvest.bayes._diagnostics import ess_bulk, ess_tail, rhat_rank

    with warnings.catch_warnings():
        # constant draws (e.g. a prevalence of exactly 0) give 0/0 inside the estimators
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        r_hat = rhat_rank(draws)
        bulk = ess_bulk(draws)
        tail = ess_tail(draws, (0.05, 0.95))
    return np.asarray(r_hat, float), np.asarray(bulk, float), np.asarray(tail, float)


def draw_summary(draws: np.ndarray, level: float = 0.9) -> dict:
    """Mean, sd, equal-tailed interval, R-hat and ESS of ``(chain, draw, ...)`` draws.

    Returns a dict of arrays of the trailing shape: ``mean``, ``sd``, ``ci_low``,
    ``ci_high``, ``r_hat``, ``ess_bulk``, ``ess_tail``.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(4, 500, 2))
    >>> s = draw_summary(x, 0.9)
    >>> bool(abs(s["ci_high"][0] - 1.645) < 0.1)
    True
    """
    level = check_level(level)
    flat = draws.reshape(-1, *draws.shape[2:])
    lo, hi = np.quantile(flat, [(1 - level) / 2, (1 + level) / 2], axis=0)
    r_hat, bulk, tail = _stats(draws)
    return {"mean": flat.mean(0), "sd": flat.std(0, ddof=1) if len(flat) > 1 else
            np.full(flat.shape[1:], np.nan), "ci_low": lo, "ci_high": hi, "r_hat": r_hat,
            "ess_bulk": bulk, "ess_tail": tail}


def _population(population, areas: pd.Index, times: pd.Index, default: np.ndarray | None):
    """``(A, T)`` population sizes from a mapping/Series per area or per (area, time)."""
    if population is None:
        if default is None:
            raise DataError("no population sizes: pass `population=` (sizes per area) for an "
                            "unweighted fit.")
        return default
    if isinstance(population, pd.DataFrame):
        raise TypeError("`population` must be a mapping or a pandas Series indexed by area "
                        "(or by (area, time)); got a DataFrame.")
    pop = pd.Series(population, dtype=float) if not isinstance(population, pd.Series) \
        else population.astype(float)
    A, T = len(areas), len(times)
    if isinstance(pop.index, pd.MultiIndex) or (len(pop) and isinstance(pop.index[0], tuple)):
        idx = pd.MultiIndex.from_tuples(list(pop.index))
        grid = pd.MultiIndex.from_product([areas, times])
        values = pop.set_axis(idx).reindex(grid).to_numpy().reshape(A, T)
    else:
        values = np.repeat(pop.reindex(areas).to_numpy()[:, None], T, axis=1)
    bad = ~np.isfinite(values) | (values <= 0)
    if bad.any():
        a, t = np.argwhere(bad)[0]
        raise DataError(f"`population` needs a positive size for every area (and period); "
                        f"missing or non-positive for area {areas[a]!r}, time {times[t]!r}.")
    return values


@dataclass(frozen=True)
class BayesFit:
    """A fitted prevalence model (returned by :func:`harvest.bayes.fit_prevalence`).

    Attributes
    ----------
    model : str
        ``"hierarchical"`` or ``"smoothed_direct"``.
    posterior : xarray.DataTree
        The sampler's ArviZ DataTree; its ``posterior`` group holds every parameter, the
        area x period linear predictor ``eta`` and the ``prevalence`` (labelled coords).
    data : PrevalenceData
        The cluster-level summaries the model saw.
    direct_table : pandas.DataFrame or None
        Design-based direct estimates (``smoothed_direct``; computed on demand otherwise).
    model_inputs : pandas.DataFrame or None
        ``smoothed_direct``: the logit estimates and variances that entered the likelihood.
    settings, timings : dict
        Sampler settings (``seed`` included) and seconds spent compiling (``compile_s``,
        of which ``build_s`` building the PyMC model) and sampling (``sample_s``).
    """

    model: str
    posterior: object
    data: object
    direct_table: pd.DataFrame | None
    model_inputs: pd.DataFrame | None
    population: object
    design: dict
    settings: dict
    timings: dict = field(default_factory=dict)

    # ------------------------------------------------------------------ draws
    def prevalence_draws(self) -> np.ndarray:
        """Prevalence draws, shape ``(chain, draw, area, time)``."""
        return self.posterior["posterior"]["prevalence"].transpose(
            "chain", "draw", "area", "time").to_numpy()

    def _grid(self) -> pd.DataFrame:
        return pd.DataFrame({
            "area": np.repeat(np.asarray(self.data.areas, dtype=object), self.data.n_times),
            "time": np.tile(np.asarray(self.data.times, dtype=object), self.data.n_areas),
        })

    # -------------------------------------------------------------- summaries
    def summary(self, level: float = 0.9) -> pd.DataFrame:
        """Posterior prevalence per area and period.

        Parameters
        ----------
        level : float, default 0.9
            Probability of the equal-tailed credible interval.

        Returns
        -------
        pandas.DataFrame
            ``area``, ``time``, ``mean``, ``sd``, ``ci_low``, ``ci_high``, ``r_hat``,
            ``ess_bulk``, ``ess_tail``; one row per area x period (periods within area).
        """
        s = draw_summary(self.prevalence_draws(), level)
        out = self._grid()
        for k, v in s.items():
            out[k] = v.ravel()
        return out

    def _time_index(self, between: str, baseline):
        names = {self.data.time_name, "time"}
        if between not in names:
            raise ValueError(f"`between` must be the time column {self.data.time_name!r} "
                             f"(comparisons between periods); got {between!r}.")
        times = self.data.times
        if baseline is None:
            return 0
        pos = np.flatnonzero(np.asarray(times).astype(str) == str(baseline))
        if len(pos) == 0:
            raise ValueError(f"`baseline` {baseline!r} is not one of the periods "
                             f"{list(times)}.")
        return int(pos[0])

    def compare(self, between: str = "year", baseline=None, level: float = 0.9,
                population=None, total: bool = False) -> pd.DataFrame:
        """Posterior difference of prevalence between each period and a baseline period.

        Parameters
        ----------
        between : str
            The time column (comparisons are between periods).
        baseline : optional
            The baseline period; the first period by default.
        level : float, default 0.9
            Probability of the equal-tailed credible interval of the difference.
        population : mapping or Series, optional
            Population sizes (as in :meth:`aggregate`) for the national row.
        total : bool, default False
            Add the population-weighted national difference as area ``"All"``.

        Returns
        -------
        pandas.DataFrame
            ``area``, ``time``, ``baseline``, ``difference`` (posterior mean of
            ``p[time] - p[baseline]``, a fraction: percentage points / 100), ``sd``,
            ``ci_low``, ``ci_high``, ``prob_decrease`` (posterior probability that the
            difference is negative), ``r_hat``, ``ess_bulk``, ``ess_tail``.

        Examples
        --------
        >>> fit.compare(between="year", baseline=2023)  # doctest: +SKIP
        """
        b = self._time_index(between, baseline)
        draws = self.prevalence_draws()
        areas = list(self.data.areas)
        if total or population is not None:
            national = self._aggregate_draws(population, None)[1]
            draws = np.concatenate([draws, national], axis=2)
            areas = [*areas, "All"]
        others = [t for t in range(self.data.n_times) if t != b]
        if not others:
            raise ValueError("the fit has a single period; nothing to compare.")
        diff = draws[:, :, :, others] - draws[:, :, :, [b]]
        s = draw_summary(diff, level)
        flat = diff.reshape(-1, *diff.shape[2:])
        times = np.asarray(self.data.times, dtype=object)
        out = pd.DataFrame({
            "area": np.repeat(np.asarray(areas, dtype=object), len(others)),
            "time": np.tile(times[others], len(areas)),
            "baseline": times[b],
            "difference": s["mean"].ravel(), "sd": s["sd"].ravel(),
            "ci_low": s["ci_low"].ravel(), "ci_high": s["ci_high"].ravel(),
            "prob_decrease": (flat < 0).mean(0).ravel(),
            "r_hat": s["r_hat"].ravel(), "ess_bulk": s["ess_bulk"].ravel(),
            "ess_tail": s["ess_tail"].ravel(),
        })
        return out

    def _aggregate_draws(self, population, groups):
        pop = population if population is not None else self.population
        default = self.data.cell_totals(self.data.w_sum) if self.data.weighted else None
        sizes = _population(pop, self.data.areas, self.data.times, default)  # (A, T)
        if groups is None:
            labels = np.array(["All"], dtype=object)
            member = np.zeros(self.data.n_areas, dtype=np.int64)
        else:
            g = pd.Series(groups)
            mapped = g.reindex(self.data.areas)
            if mapped.isna().any():
                missing = list(self.data.areas[mapped.isna().to_numpy()])
                raise DataError(f"`groups` gives no group for areas {missing}.")
            member, labels = pd.factorize(mapped, sort=True)
            labels = np.asarray(labels, dtype=object)
        G = len(labels)
        onehot = np.zeros((self.data.n_areas, G))
        onehot[np.arange(self.data.n_areas), member] = 1.0
        weight = onehot[:, :, None] * sizes[:, None, :]          # (A, G, T)
        weight = weight / weight.sum(0, keepdims=True)
        draws = self.prevalence_draws()                           # (c, d, A, T)
        agg = np.einsum("cdat,agt->cdgt", draws, weight)
        return labels, agg

    def aggregate(self, population=None, groups=None, level: float = 0.9) -> pd.DataFrame:
        """Population-weighted prevalence of groups of areas (the whole country by default).

        Parameters
        ----------
        population : mapping or pandas.Series, optional
            Size (e.g. number of farms) of each area, or of each (area, period) with a
            two-level index. Defaults to the ``population`` given to the fit, else to the
            sums of the survey weights per area and period (estimated population sizes).
        groups : mapping, optional
            Area -> group label (e.g. districts to regions when areas are districts); by
            default every area belongs to one group ``"All"``.
        level : float, default 0.9
            Probability of the credible interval.

        Returns
        -------
        pandas.DataFrame
            ``area`` (the group), ``time``, ``mean``, ``sd``, ``ci_low``, ``ci_high``,
            ``r_hat``, ``ess_bulk``, ``ess_tail``.

        Notes
        -----
        ``p[g, t] = sum_{a in g} N[a, t] p[a, t] / sum_{a in g} N[a, t]`` draw by draw.
        """
        labels, agg = self._aggregate_draws(population, groups)
        s = draw_summary(agg, level)
        out = pd.DataFrame({
            "area": np.repeat(labels, self.data.n_times),
            "time": np.tile(np.asarray(self.data.times, dtype=object), len(labels)),
        })
        for k, v in s.items():
            out[k] = v.ravel()
        return out

    # ------------------------------------------------------------ diagnostics
    def diagnostics(self, warn: bool = True) -> pd.Series:
        """Divergences, worst R-hat and smallest bulk/tail ESS over every posterior variable.

        Parameters
        ----------
        warn : bool, default True
            Warn with :class:`harvest._errors.SamplingWarning` when any divergence
            occurred, an R-hat exceeds 1.01, or a bulk or tail ESS is below 400.

        Returns
        -------
        pandas.Series
            ``divergences``, ``max_r_hat``, ``min_ess_bulk``, ``min_ess_tail``, ``chains``,
            ``draws``, ``ok``.
        """
        post = self.posterior["posterior"]
        stats = self.posterior["sample_stats"]
        divergences = int(np.asarray(stats["diverging"]).sum())
        r_max, bulk_min, tail_min = -np.inf, np.inf, np.inf
        for name in post.data_vars:
            da = post[name]
            other = [d for d in da.dims if d not in ("chain", "draw")]
            x = da.transpose("chain", "draw", *other).to_numpy()
            r_hat, bulk, tail = _stats(x)
            vary = np.ptp(x.reshape(-1, *x.shape[2:]), axis=0) > 0  # skip constants
            if vary.any():
                r_max = max(r_max, float(np.nanmax(np.where(vary, r_hat, -np.inf))))
                bulk_min = min(bulk_min, float(np.nanmin(np.where(vary, bulk, np.inf))))
                tail_min = min(tail_min, float(np.nanmin(np.where(vary, tail, np.inf))))
        chains = int(post.sizes["chain"])
        draws = int(post.sizes["draw"])
        problems = []
        if divergences > THRESHOLDS["divergences"]:
            problems.append(f"{divergences} divergent transitions")
        if not r_max <= THRESHOLDS["r_hat"]:
            problems.append(f"R-hat up to {r_max:.3f} (> {THRESHOLDS['r_hat']})")
        if not bulk_min >= THRESHOLDS["ess"]:
            problems.append(f"bulk ESS down to {bulk_min:.0f} (< {THRESHOLDS['ess']})")
        if not tail_min >= THRESHOLDS["ess"]:
            problems.append(f"tail ESS down to {tail_min:.0f} (< {THRESHOLDS['ess']})")
        if problems and warn:
            warnings.warn(
                f"the {self.model!r} fit did not pass its diagnostics ({chains} chains x "
                f"{draws} draws): " + "; ".join(problems) + ". Increase `draws`/`tune` or "
                "`target_accept`, and do not trust the intervals until these pass.",
                SamplingWarning, stacklevel=2)
        return pd.Series({"divergences": divergences, "max_r_hat": r_max,
                          "min_ess_bulk": bulk_min, "min_ess_tail": tail_min,
                          "chains": chains, "draws": draws, "ok": not problems}, dtype=object)

    # ------------------------------------------------------------ direct & checks
    def direct(self, level: float = 0.9) -> pd.DataFrame:
        """Design-based direct estimates by area and period (``area``, ``time`` + API.md).

        Uses :class:`harvest.SurveyDesign` with the fit's weights, ``psu=cluster`` and the
        ``strata``/``fpc``/``lonely_psu`` given to the fit; logit intervals at ``level``.
        """
        from harvest.bayes.direct import direct_estimates

        return direct_estimates(self.data, level=check_level(level), **self.design)

    def ppc(self, rng=None, level: float = 0.9) -> pd.DataFrame:
        """Posterior predictive check of the weighted share per area and period.

        Replicated data are drawn from the posterior predictive distribution and reduced to
        the statistic the direct estimate uses: the weighted share ``sum(w y)/sum(w)`` per
        area and period. ``hierarchical``: per cluster ``y_rep ~ Binomial(m, p[c])`` with
        ``m = max(1, round(n_eff[c]))``, cluster shares ``y_rep / m`` weighted by the
        cluster's weight total; ``smoothed_direct``: ``logit p_rep ~ Normal(eta, v)``.

        Parameters
        ----------
        rng : int or numpy.random.Generator, optional
            Seed or generator for the replicates.
        level : float, default 0.9
            Probability of the predictive interval.

        Returns
        -------
        pandas.DataFrame
            ``area``, ``time``, ``observed``, ``rep_mean``, ``rep_low``, ``rep_high``,
            ``p_value`` (posterior predictive ``P(T_rep >= T_obs)``); one row per area x
            period with data. Values of ``p_value`` near 0 or 1 flag misfit.
        """
        from scipy.special import expit

        level = check_level(level)
        gen = as_generator(rng)
        post = self.posterior["posterior"]
        d = self.data
        A, T = d.n_areas, d.n_times
        eta = post["eta"].transpose("chain", "draw", "area", "time").to_numpy()
        S = eta.shape[0] * eta.shape[1]
        eta = eta.reshape(S, A * T)
        if self.model == "hierarchical":
            sigma = post["sigma_cluster"].to_numpy().reshape(S)
            z = post["z_cluster"].transpose("chain", "draw", "cluster").to_numpy().reshape(S, -1)
            p = expit(eta[:, d.cluster_cell] + sigma[:, None] * z)          # (S, C)
            m = np.maximum(1, np.rint(d.n_eff)).astype(np.int64)
            share = gen.binomial(m, p) / m
            num = np.zeros((S, A * T))
            np.add.at(num.T, d.cluster_cell, (share * d.w_sum).T)
            den = np.bincount(d.cluster_cell, d.w_sum, A * T)
            with np.errstate(invalid="ignore", divide="ignore"):
                rep = num / den
                observed = np.bincount(d.cluster_cell, d.wy_sum, A * T) / den
            has = den > 0
        else:
            inputs = self.model_inputs
            a = d.areas.get_indexer(inputs["area"])
            t = d.times.get_indexer(inputs["time"])
            cell = a * T + t
            used = inputs["used"].to_numpy()
            sd = np.sqrt(inputs["logit_var"].to_numpy(dtype=float))
            rep = np.full((S, A * T), np.nan)
            rep[:, cell[used]] = expit(eta[:, cell[used]] + sd[used] * gen.standard_normal(
                (S, int(used.sum()))))
            observed = np.full(A * T, np.nan)
            observed[cell[used]] = expit(inputs["logit"].to_numpy(dtype=float)[used])
            has = ~np.isnan(observed)
        lo, hi = np.quantile(rep[:, has], [(1 - level) / 2, (1 + level) / 2], axis=0)
        grid = self._grid()[has].reset_index(drop=True)
        grid["observed"] = observed[has]
        grid["rep_mean"] = rep[:, has].mean(0)
        grid["rep_low"] = lo
        grid["rep_high"] = hi
        grid["p_value"] = (rep[:, has] >= observed[has]).mean(0)
        return grid

    def plot(self, ax=None, time=None, level: float = 0.9, **kwargs):
        """Direct (design-based) versus model estimates for one period, with intervals.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Where to draw; a new figure when omitted.
        time : optional
            The period shown; the last one by default.
        level : float, default 0.9
            Level of both intervals.
        **kwargs
            Passed to :func:`harvest.plot.direct_vs_model`.

        Returns
        -------
        matplotlib.axes.Axes
        """
        from harvest.plot import direct_vs_model

        if time is None:
            time = self.data.times[-1]
        direct = self.direct(level)
        direct = direct[direct["time"].astype(str) == str(time)]
        model = self.summary(level)
        model = model[model["time"].astype(str) == str(time)]
        return direct_vs_model(direct.drop(columns="time"), model, ax=ax, area="area",
                               **kwargs)
