"""Replicate-weight designs: the estimators of :class:`SurveyDesign`, replicate variances.

A :class:`ReplicateDesign` comes either from ``SurveyDesign.replicate(method, ...)``
(factors generated per PSU by :mod:`harvest.replicates`) or from a data set that ships
its own replicate weights (``hv.ReplicateDesign(df, weights=..., replicate_weights=...)``,
R ``svrepdesign`` semantics). Every estimator of :class:`~harvest._base._DesignBase`
(proportion, mean, total, ratio, compare) works unchanged; the variance is

.. math:: \\hat V = \\mathrm{scale} \\sum_r \\mathrm{rscales}_r
          (\\hat\\theta_r - \\bar\\theta)(\\hat\\theta_r - \\bar\\theta)^\\top ,

with :math:`\\hat\\theta_r = (F_r Y) / (F_r X)` computed from the PSU totals ``Y``, ``X``
of the estimand, one matrix product per block of replicates.

Examples
--------
>>> import numpy as np, pandas as pd
>>> import harvest as hv
>>> rng = np.random.default_rng(0)
>>> df = pd.DataFrame({"stratum": np.repeat([1, 2], 40), "psu": np.repeat(np.arange(16), 5),
...                    "w": rng.uniform(1, 3, 80), "y": rng.integers(0, 2, 80)})
>>> design = hv.SurveyDesign(df, weights="w", strata="stratum", psu="psu")
>>> rep = design.replicate("jkn")
>>> taylor = design.proportion("y")["se"].iloc[0]
>>> jack = rep.proportion("y")["se"].iloc[0]
>>> bool(abs(jack / taylor - 1) < 0.1)
True
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd

from harvest._base import _DesignBase
from harvest._codes import DesignCodes, _numeric, weight_values
from harvest._domains import build_estimand
from harvest._errors import DataError, HarvestWarning, check_columns, check_frame, describe_rows
from harvest._options import (
    KINDS,
    NA_POLICY,
    PROPORTION_CI,
    REPLICATE_METHODS,
    SUPPLIED_METHODS,
    check_option,
)
from harvest.replicates import ReplicateFactors, _check_batch, make_factors

__all__ = ["ReplicateDesign"]

#: Interval methods of replicate designs beyond the proportion intervals.
PERCENTILE = "percentile"
_MEAN_CI = ("wald", PERCENTILE)
# per-domain rank of user-supplied weights: skip when it would take longer than this
_MAX_RANK_WORK = 4e9


class ReplicateDesign(_DesignBase):
    """A design whose variances come from replicate weights (R ``svrepdesign``).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per observed unit; kept by reference, never modified.
    weights : str, optional
        Column of full-sample weights (``None``: 1, with a warning as R).
    replicate_weights : str or list of str
        A prefix (every column whose name starts with it followed only by digits, in
        the data's column order, as R ``repweights="prefix[0-9]+"``) or a list of
        columns.
    method : {"bootstrap", "jk1", "jkn", "brr", "fay", "other"}
        Sets the default ``scale`` and ``rscales`` as R ``svrepdesign(type=)``:
        ``bootstrap`` ``1/(R-1)``; ``jk1`` ``(R-1)/R``; ``jkn`` needs ``rscales``;
        ``brr`` ``1/R``; ``fay`` ``1/(R(1-rho)^2)``; ``other`` 1. Without ``rscales``,
        ``jkn`` guesses them as 1 / the largest factor of each replicate, with a warning
        (R does so for non-combined weights and refuses combined ones).
    scale : float, optional
        Overall variance multiplier (overrides the default; ignored by ``brr``/``fay``,
        as R).
    rscales : float or array_like, optional
        Per-replicate multipliers (length 1 or ``R``); default 1.
    mse : bool, default False
        Centre on the full-sample estimate instead of the replicates' mean.
    rho : float, optional
        Fay's coefficient, required with ``method="fay"``.
    combined_weights : bool, default True
        The replicate columns are complete weights (R's default); ``False``: they are
        factors multiplying ``weights``.
    batch : int, optional
        Replicates per block of the batched products (bounds memory).
    df : float, optional
        Stated design degrees of freedom for every interval (R ``svrepdesign(degf=)``);
        by default the rank of the replicate weights minus 1.

    Notes
    -----
    For replicate weights that vary within PSU (the usual case for shipped weights)
    the replicate totals are a batched ``(replicates x rows) @ (rows x estimates)``
    product. Degrees of freedom are R's ``degf``: the rank of the replicate weights
    on the rows of the domain, minus 1.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import harvest as hv
    >>> df = pd.DataFrame({"w": [1.0, 1, 1, 1], "y": [0, 1, 1, 0],
    ...                    "rw1": [0.0, 4 / 3, 4 / 3, 4 / 3], "rw2": [4 / 3, 0, 4 / 3, 4 / 3],
    ...                    "rw3": [4 / 3, 4 / 3, 0, 4 / 3], "rw4": [4 / 3, 4 / 3, 4 / 3, 0]})
    >>> rep = hv.ReplicateDesign(df, weights="w", replicate_weights="rw", method="jk1",
    ...                          scale=3 / 4)
    >>> round(float(rep.mean("y")["se"].iloc[0]), 6)
    0.288675
    """

    def __init__(self, data, weights=None, replicate_weights=None, method="jkn",
                 scale=None, rscales=None, mse=False, rho=None, combined_weights=True,
                 batch=None, df=None):
        if not isinstance(data, pd.DataFrame):
            raise TypeError(f"`data` must be a pandas DataFrame; got {type(data).__name__}.")
        check_frame(data)
        if len(data) == 0:
            raise DataError("`data` has no rows.")
        check_option("method", method, SUPPLIED_METHODS)
        self.data = data
        self.method = method
        self.weights_column = weights
        self.batch = None if batch is None else _check_batch(batch)
        self.combined_weights = bool(combined_weights)
        self.degf = _check_df(df)
        columns = _replicate_columns(data, replicate_weights)
        self.replicate_columns = columns
        n = len(data)
        R = len(columns)
        if weights is None:
            warnings.warn("No sampling weights given: equal weights 1 assumed (as R).",
                          HarvestWarning, stacklevel=2)
            w = np.ones(n)
        else:
            w = _weight_column(data, weights)
        _check_replicate_values(data, columns)
        if method == "jk1" and scale is None and not self.combined_weights:
            # R: scale = 1 / max(first replicate's factors) for non-combined weights
            warnings.warn("scale (n-1)/n not provided for method='jk1': guessed from the "
                          "factors of the first replicate (as R).", HarvestWarning,
                          stacklevel=2)
            scale = 1.0 / float(data[columns[0]].to_numpy(dtype=float).max())
        if method == "jkn" and rscales is None:
            rscales = _guess_jkn_rscales(data, columns, w, self.combined_weights)
        scale, rscales, rho = _svrep_constants(method, R, scale, rscales, rho)
        self.scale, self.rscales, self.rho, self.mse = scale, rscales, rho, bool(mse)
        self._factors = None
        self.source = None  # the SurveyDesign of a generated replicate design
        if self.combined_weights:
            # a replicate weight on a row without full-sample weight cannot be expressed as
            # a factor of it; R would count such rows in the replicates only.
            zero = np.flatnonzero(w == 0)
            if zero.size:
                rw = data[columns].iloc[zero].to_numpy(dtype=float)
                bad = zero[(rw != 0).any(axis=1)]
                if bad.size:
                    raise DataError(
                        f"`replicate_weights` are non-zero on rows whose `weights` column "
                        f"{weights!r} is 0 ({describe_rows(bad)}); such rows would enter "
                        "the replicates but not the full-sample estimate.")
        self._codes = DesignCodes(
            row_psu=np.arange(n, dtype=np.intp), psu_stratum=np.zeros(n, dtype=np.intp),
            n_psu=np.array([n]), fraction=np.zeros(1), weights=w, lonely_psu="remove",
            row_stratum=np.zeros(n, dtype=np.intp), stratum_labels=[None])

    @classmethod
    def _from_design(cls, design, factors: ReplicateFactors, batch=None) -> ReplicateDesign:
        new = object.__new__(cls)
        new.data = design.data
        new.method = factors.method
        new.weights_column = getattr(design, "weights_column", None)
        new.batch = None if batch is None else _check_batch(batch)
        new.combined_weights = True
        new.degf = None
        new.replicate_columns = None
        new.scale, new.rscales = factors.scale, factors.rscales
        new.rho, new.mse = factors.rho, factors.mse
        new._factors = factors
        new._codes = design._codes
        new.source = design
        return new

    # -- public -----------------------------------------------------------------------
    @property
    def n_replicates(self) -> int:
        """Number of replicates ``R``."""
        if self._factors is not None:
            return self._factors.n_replicates
        return len(self.replicate_columns)

    def _summary(self) -> dict:
        return {"method": self.method, "replicates": self.n_replicates,
                "scale": float(self.scale), "mse": self.mse,
                "rho": None if self.rho is None else float(self.rho)}

    def __repr__(self) -> str:
        return (f"ReplicateDesign({len(self.data)} rows, method={self.method!r}, "
                f"{self.n_replicates} replicates, scale={self.scale:.6g}, mse={self.mse})")

    def subset(self, mask) -> ReplicateDesign:
        """The design restricted to a subpopulation (rows outside get weight 0).

        As R's ``subset`` of a replicate design: the replicate weights of the kept rows
        are unchanged.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> import harvest as hv
        >>> df = pd.DataFrame({"psu": np.arange(6), "y": [1.0, 2, 3, 4, 5, 6]})
        >>> rep = hv.SurveyDesign(df, psu="psu").replicate("jk1")
        >>> float(rep.subset(df["y"] > 3).mean("y")["estimate"].iloc[0])
        5.0
        """
        return self._restricted(mask)

    def proportion(self, variables, by=None, ci="logit", level=0.95, na="fail"):
        """Proportions with replicate standard errors; see ``SurveyDesign.proportion``.

        ``ci`` also accepts ``"percentile"`` for bootstrap designs: the
        ``(1-level)/2`` and ``(1+level)/2`` quantiles of the replicate estimates
        (for an estimate of exactly 0 or 1, the same interval as the other methods).
        ``"logit"`` uses the replicate variance of the logit of the estimate, as R's
        ``svyciprop`` on a replicate design (via ``svyglm``).

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> import harvest as hv
        >>> df = pd.DataFrame({"psu": np.arange(30), "y": np.arange(30) % 3 == 0})
        >>> rep = hv.SurveyDesign(df, psu="psu").replicate("bootstrap", replicates=200, rng=1)
        >>> t = rep.proportion("y", ci="percentile")
        >>> bool(t["ci_low"].iloc[0] < 1 / 3 < t["ci_high"].iloc[0])
        True
        """
        check_option("ci", ci, (*PROPORTION_CI, PERCENTILE))
        return self._table("proportion", variables, by, na, level, ci=ci)

    def mean(self, variables, by=None, level=0.95, na="fail", ci="wald"):
        """Means with replicate standard errors; see ``SurveyDesign.mean``.

        ``ci="wald"``: ``estimate +/- t(df) * se``; ``ci="percentile"`` (bootstrap
        designs): quantiles of the replicate estimates.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> import harvest as hv
        >>> df = pd.DataFrame({"psu": np.arange(4), "y": [1.0, 2.0, 3.0, 6.0]})
        >>> rep = hv.SurveyDesign(df, psu="psu").replicate("jk1")
        >>> round(float(rep.mean("y")["se"].iloc[0]), 6)   # JK1 = Taylor for a mean here
        1.080123
        """
        check_option("ci", ci, _MEAN_CI)
        return self._table("mean", variables, by, na, level, ci=ci)

    def total(self, variables, by=None, level=0.95, na="fail", ci="wald"):
        """Totals with replicate standard errors; see ``SurveyDesign.total``.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> import harvest as hv
        >>> df = pd.DataFrame({"psu": np.arange(4), "w": [2.0] * 4, "y": [1.0, 2, 3, 6]})
        >>> rep = hv.SurveyDesign(df, weights="w", psu="psu").replicate("jk1")
        >>> float(rep.total("y")["estimate"].iloc[0])
        24.0
        """
        check_option("ci", ci, _MEAN_CI)
        return self._table("total", variables, by, na, level, ci=ci)

    def ratio(self, numerator, denominator, by=None, level=0.95, na="fail", ci="wald"):
        """Ratios of totals with replicate standard errors; see ``SurveyDesign.ratio``.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> import harvest as hv
        >>> df = pd.DataFrame({"psu": np.arange(4), "a": [1.0, 2, 3, 6], "b": [2.0] * 4})
        >>> rep = hv.SurveyDesign(df, psu="psu").replicate("jk1")
        >>> rep.ratio("a", "b")[["indicator", "estimate"]].to_dict("records")
        [{'indicator': 'a/b', 'estimate': 1.5}]
        """
        check_option("ci", ci, _MEAN_CI)
        return self._table("ratio", numerator, by, na, level, ci=ci, denominator=denominator)

    def replicate_estimates(self, variables, by=None, kind="mean", na="fail",
                            denominator=None) -> pd.DataFrame:
        """The replicate estimates: one row per replicate, one column per domain x indicator.

        Parameters
        ----------
        variables : str or list of str
        by : str or list of str, optional
        kind : {"mean", "proportion", "total", "ratio"}
            The statistic (``"proportion"`` is the mean of a 0/1 variable).
        na : {"fail", "drop"}
        denominator : str or list of str, optional
            For ``kind="ratio"``.

        Returns
        -------
        pandas.DataFrame
            Index ``replicate`` (0 .. R-1); columns a :class:`pandas.MultiIndex` with
            levels ``[*by, "indicator"]`` (domains in sorted order, indicators in the
            order asked). The variance is rebuilt as
            ``scale * sum(rscales * (theta - theta.mean())**2)`` with the design's own
            attributes ``rep.scale``, ``rep.rscales`` and ``rep.mse`` (centre on the
            full-sample estimate, the ``estimate`` column of the estimator, when ``mse``).
            For convenience ``attrs`` carries copies of ``scale``, ``rscales``, ``mse``
            and the full-sample ``estimate``; pandas drops ``attrs`` in many operations,
            so read them from the design when it matters.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> import harvest as hv
        >>> df = pd.DataFrame({"psu": np.arange(4), "y": [1.0, 2, 3, 6], "g": list("aabb")})
        >>> est = hv.SurveyDesign(df, psu="psu").replicate("jk1").replicate_estimates(
        ...     "y", by="g")
        >>> est.shape, list(est.columns)
        ((4, 2), [('a', 'y'), ('b', 'y')])
        """
        check_option("kind", kind, KINDS)
        check_option("na", na, NA_POLICY)
        estimand = build_estimand(self, kind, variables, by, na, denominator)
        theta = self._pass(estimand, full=False, keep_theta=True)["theta"]
        by_cols = estimand.by
        dom = estimand.domains
        tuples = [(*dom.iloc[d].tolist(), ind) for d in range(estimand.n_domains)
                  for ind in estimand.indicators]
        columns = pd.MultiIndex.from_tuples(tuples, names=[*by_cols, "indicator"])
        out = pd.DataFrame(theta, columns=columns,
                           index=pd.RangeIndex(theta.shape[0], name="replicate"))
        out.attrs.update(scale=self.scale, rscales=np.asarray(self.rscales).copy(),
                         mse=self.mse, estimate=estimand.estimate())
        return out

    # -- weighting (harvest.weighting): every replicate weighted again ----------------
    def poststratify(self, column, counts):
        """Post-stratify the full sample and every replicate (R ``postStratify``).

        As :meth:`harvest.SurveyDesign.poststratify`; each replicate's weights are
        scaled to the population counts within each cell, so the replicate variance
        accounts for the post-stratification.

        Examples
        --------
        >>> import pandas as pd
        >>> import harvest as hv
        >>> df = pd.DataFrame({"psu": range(6), "g": list("aabbbb"), "y": [1.0, 0, 1, 1, 0, 1]})
        >>> rep = hv.SurveyDesign(df, psu="psu").replicate("jk1").poststratify(
        ...     "g", {"a": 50, "b": 50})
        >>> t = rep.total("y")                    # R: svytotal(~y, postStratify(...)) 34.861
        >>> float(t["estimate"].iloc[0]), round(float(t["se"].iloc[0]), 3)
        (62.5, 34.861)
        """
        from harvest.weighting import poststratify

        return poststratify(self, column, counts)

    def rake(self, margins, max_iter=50, tol=1e-7):
        """Rake the full sample and every replicate (R ``rake`` of a replicate design).

        Every replicate is post-stratified on each margin in turn for as many sweeps as
        the full sample needed, as R does.

        Examples
        --------
        >>> import pandas as pd
        >>> import harvest as hv
        >>> df = pd.DataFrame({"psu": range(8), "a": list("xxyyxxyy"), "b": list("uvuvuuvv")})
        >>> rep = hv.SurveyDesign(df, psu="psu").replicate("jk1").rake(
        ...     {"a": {"x": 30, "y": 10}, "b": {"u": 20, "v": 20}})
        >>> round(float(rep.weights.sum()), 6)
        40.0
        """
        from harvest.weighting import rake

        return rake(self, margins, max_iter=max_iter, tol=tol)

    def calibrate(self, margins, method="linear", bounds=None, population_size=None):
        """Calibrate the full sample and every replicate (R ``calibrate``).

        As :meth:`harvest.SurveyDesign.calibrate`; the replicates are calibrated in
        blocks, with stacked ``(b, p, p)`` Newton systems.

        Examples
        --------
        >>> import pandas as pd
        >>> import harvest as hv
        >>> df = pd.DataFrame({"psu": range(6), "x": [1.0, 2, 3, 4, 5, 6],
        ...                    "y": [1.0, 2, 2, 5, 4, 7]})
        >>> rep = hv.SurveyDesign(df, psu="psu").replicate("jk1").calibrate(
        ...     {"x": 40.0}, population_size=12)
        >>> round(float(rep.total("x")["se"].iloc[0]), 9)
        0.0
        """
        from harvest.weighting import calibrate

        return calibrate(self, margins, method=method, bounds=bounds,
                         population_size=population_size)

    def trim_weights(self, lower=None, upper=None, strict=False):
        """Trim the full-sample weights and every replicate's the same way.

        As :meth:`harvest.SurveyDesign.trim_weights`, applied to each replicate's
        weights (R's ``trimWeights`` of a replicate design leaves the full-sample
        weights unchanged; see ``docs/methods/weighting.md``).

        Examples
        --------
        >>> import pandas as pd
        >>> import harvest as hv
        >>> df = pd.DataFrame({"psu": range(4), "w": [1.0, 1, 1, 9]})
        >>> rep = hv.SurveyDesign(df, weights="w", psu="psu").replicate("jk1")
        >>> rep.trim_weights(upper=5).weights.round(4).tolist()
        [2.3333, 2.3333, 2.3333, 5.0]
        """
        from harvest.weighting import trim_weights

        return trim_weights(self, lower=lower, upper=upper, strict=strict)

    def adjust_nonresponse(self, column, by=None):
        """Weighting-class nonresponse adjustment of the full sample and every replicate.

        As :meth:`harvest.SurveyDesign.adjust_nonresponse`; each replicate's cell ratio
        comes from that replicate's weights.

        Examples
        --------
        >>> import pandas as pd
        >>> import harvest as hv
        >>> df = pd.DataFrame({"psu": range(6), "r": [1, 0, 1, 1, 1, 0], "g": list("aaabbb"),
        ...                    "y": [1.0, 2, 3, 4, 5, 6]})
        >>> rep = hv.SurveyDesign(df, psu="psu").replicate("jk1")
        >>> rep.adjust_nonresponse("r", by="g").weights.tolist()
        [1.5, 0.0, 1.5, 1.5, 1.5, 0.0]
        """
        from harvest.weighting import adjust_nonresponse

        return adjust_nonresponse(self, column, by=by)

    # -- what _DesignBase needs -------------------------------------------------------
    def _vcov(self, estimand, full: bool):
        return self._pass(estimand, full=full)["vcov"]

    def _vcov_entries(self, estimand, first, second):
        return self._pass(estimand, full=False, entries=(first, second))["vcov"]

    def _df(self, estimand):
        if getattr(self, "degf", None) is not None:
            return np.full(estimand.n.size, self.degf)
        return self._rank(estimand).astype(float) - 1.0

    def _deff(self, estimand, variance):
        return estimand.srs_ratio(variance, replace=False)

    # -- the hooks of _DesignBase._table -------------------------------------------------
    def _check_ci(self, ci) -> None:
        if ci == PERCENTILE and self.method != "bootstrap":
            raise ValueError("ci='percentile' needs bootstrap replicates; this design's "
                             f"method is {self.method!r}.")

    def _table_variance(self, estimand, kind, ci):
        logit = kind == "proportion" and ci == "logit"
        res = self._pass(estimand, full=False, keep_theta=ci == PERCENTILE, logit=logit)
        return res["vcov"], res

    def _interval(self, estimand, kind, ci, estimate, se, df, level, extra):
        from harvest.intervals import proportion_ci

        if ci == PERCENTILE:
            low, high = _percentile(extra["theta"], level)
            if kind == "proportion":
                # within [0, 1]; at 0 or 1 the replicates carry no information: the
                # interval of the other methods for an estimate of exactly 0 or 1
                low, high = np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)
                edge = (estimate == 0) | (estimate == 1)
                if edge.any():
                    e_low, e_high = proportion_ci("korn-graubard", estimate, se, df, level,
                                                  np.maximum(estimand.n, 1))
                    low, high = np.where(edge, e_low, low), np.where(edge, e_high, high)
            return low, high, PERCENTILE
        if kind != "proportion":
            return super()._interval(estimand, kind, ci, estimate, se, df, level, extra)
        se_ci = se
        if ci == "logit":
            # R: svyglm's replicate variance of logit(p) -> se on the p scale
            inner = (estimate > 0) & (estimate < 1)
            with np.errstate(invalid="ignore"):
                se_logit = np.sqrt(np.maximum(extra["vcov_logit"], 0.0))
            se_ci = np.where(inner, se_logit * estimate * (1 - estimate), se)
        # (no IRLS weight for "likelihood": the Rao-Scott factor uses p(1-p))
        low, high = proportion_ci(ci, estimate, se_ci, df, level, np.maximum(estimand.n, 1))
        return low, high, ci

    # -- the replicate pass -------------------------------------------------------------
    def _products(self, Z):
        """Yield ``(start, F_b @ Z)`` for the blocks ``F_b`` of replicate factors.

        Generated designs: ``(b, P)`` factor blocks times the PSU totals. Supplied
        weights: the rows are the PSUs and ``F[r, i] = w_ri / w_i``, computed as
        ``((Z / w)^T @ W_b)^T`` with ``W_b`` the ``(rows, b)`` block of replicate columns
        (the tall product BLAS handles well; no division of the weights).
        """
        sparse_z = not isinstance(Z, np.ndarray)   # a scipy.sparse (m, P) transpose
        if self._factors is not None:
            for start, F in self._factors.blocks(self.batch):
                yield start, ((Z @ F.T).T if sparse_z else F @ Z)
            return
        n = len(self.data)
        R = len(self.replicate_columns)
        batch = self.batch or max(1, min(R, 4_000_000 // max(n, 1)))
        if self.combined_weights:
            w = self._codes.weights
            inv = np.divide(1.0, w, out=np.zeros_like(w), where=w > 0)
            if sparse_z:
                from scipy import sparse

                Zt = sparse.csr_array(Z @ sparse.dia_array((inv[None, :], [0]),
                                                           shape=(n, n)))
            else:
                Zt = np.ascontiguousarray((Z * inv[:, None]).T)
        elif sparse_z:
            Zt = Z
        else:
            Zt = np.ascontiguousarray(Z.T)
        for start in range(0, R, batch):
            cols = self.replicate_columns[start:start + batch]
            block = self.data[cols].to_numpy(dtype=float)
            yield start, (Zt @ block).T

    def _weight_blocks(self):
        """Yield ``(start, W_b)``: ``(n, b)`` blocks of every replicate's row weights.

        The replicate weights before any weighting (generated factors times the
        full-sample weights, or the supplied columns), then each weighting step of
        :mod:`harvest.weighting` applied to every replicate of the block at once. A block
        holds about 4 million weights.
        """
        w0 = getattr(self, "_base_weights", None)
        if w0 is None:
            w0 = self._codes.weights
        n = w0.size
        c = self.batch or max(1, 4_000_000 // max(n, 1))
        steps = getattr(self, "_rep_steps", ())
        if self._factors is not None:
            psu = self._codes.row_psu
            def generated():
                for start, F in self._factors.blocks(self.batch):
                    FT = F.T
                    for lo in range(0, F.shape[0], c):
                        W = np.ascontiguousarray(FT[:, lo:lo + c])[psu]   # (n, b) gather
                        W *= w0[:, None]
                        yield start + lo, W
            source = generated()
        else:
            R = len(self.replicate_columns)
            keep = (w0 > 0).astype(float)    # a subset's rows outside keep no weight

            def supplied():
                for start in range(0, R, c):
                    cols = self.replicate_columns[start:start + c]
                    W = self.data[cols].to_numpy(dtype=float)
                    yield start, W * (w0 if not self.combined_weights else keep)[:, None]
            source = supplied()
        for start, W in source:
            for step in steps:
                W = step.apply(W, start)
            yield start, W

    def _psu_products(self, M):
        """``(start, F_b @ (PSU totals of w0 * M))`` blocks, or None.

        Only for generated factors and no weighting step yet: then every replicate's row
        weight is ``F[r, psu(i)] * w0_i`` and a replicate sum of any row matrix ``M``
        (sparse, ``(n, q)``) is a product with its PSU totals.
        """
        if self._factors is None or getattr(self, "_rep_steps", ()):
            return None
        from scipy import sparse

        codes = self._codes
        n = codes.row_psu.size
        G = sparse.csr_matrix((codes.weights, (codes.row_psu, np.arange(n))),
                              shape=(codes.n_psus, n))
        A = np.asarray((G @ M).todense()) if sparse.issparse(M) else G @ M
        return ((start, F @ A) for start, F in self._factors.blocks(self.batch))

    def _linear_sums(self, Zt, width):
        """Replicate sums ``(start, S)`` after one linear calibration step, at PSU level.

        With ``g_ri = 1 + x_i' lambda_r`` and generated factors, replicate ``r``'s sum of
        the rows' ``z`` is ``F_r A_0 + sum_j lambda_rj F_r A_j`` with ``A_j`` the PSU totals
        of ``w0 x_j z``: products of the factor block with the ``(P, width)`` totals
        ``A_j``, dense while ``P * width * (p + 1)`` is at most ``LINEAR_DENSE``
        (one product with ``(P, (p+1) width)``), else sparse (over the PSUs that hold
        each column: no PSU x column array). None when that does not apply.
        """
        steps = getattr(self, "_rep_steps", ())
        if (self._factors is None or len(steps) != 1
                or getattr(steps[0], "method", None) != "linear"
                or getattr(steps[0], "bounds", 0) is not None):
            return None
        from scipy import sparse

        step = steps[0]
        X = sparse.csc_matrix(step.X)
        p = X.shape[1]
        P = self._codes.n_psus
        Z = Zt.T.tocsr()
        blocks = [Z] + [sparse.diags(X[:, j].toarray().ravel()) @ Z for j in range(p)]
        w0 = getattr(self, "_base_weights", None)
        codes = self._codes
        n = codes.row_psu.size
        G = sparse.csr_matrix((w0, (codes.row_psu, np.arange(n))), shape=(P, n))
        if P * width * (p + 1) <= LINEAR_DENSE:
            A = np.asarray((G @ sparse.hstack(blocks).tocsc()).todense())  # (P, (p+1) w)

            def sums():
                for start, F in self._factors.blocks(self.batch):
                    FA = (F @ A).reshape(F.shape[0], p + 1, width)
                    lam = step.lam[start:start + F.shape[0]]
                    yield start, FA[:, 0] + np.einsum("bj,bjw->bw", lam, FA[:, 1:])
            return sums()
        # sparse (width, P) transposes of the A_j: F A_j = (A_j' F')', one at a time
        At = [(G @ block).T.tocsr() for block in blocks]

        def sparse_sums():
            for start, F in self._factors.blocks(self.batch):
                Ft = np.ascontiguousarray(F.T)
                lam = step.lam[start:start + F.shape[0]]
                S = np.ascontiguousarray((At[0] @ Ft).T)
                for j in range(p):           # over the calibration variables
                    S += lam[:, j:j + 1] * (At[j + 1] @ Ft).T
                yield start, S
        return sparse_sums()

    def _weighted_sums(self, estimand, X_dom):
        """Yield ``(start, num, den)``: replicate sums of the weighted design's estimand.

        Every replicate's weights differ within PSUs after weighting, so the sums are
        ``Z^T W_b`` over the rows, with ``Z`` the sparse ``(rows, columns)`` matrix of
        the estimand's variables in their domain columns.
        """
        from scipy import sparse

        from harvest._domains import _values

        rows, dom = estimand.row_index, estimand.row_domain
        D, k = estimand.n_domains, estimand.k
        n = self._codes.weights.size
        valid = ~np.isnan(estimand.row_y)
        y = np.where(valid, np.nan_to_num(estimand.row_y), 0.0)
        col = dom[:, None] * k + np.arange(k)[None, :]
        m = D * k
        parts = [(y, col)]
        if estimand.pair_X is not None:
            if estimand.kind == "ratio":
                x = np.column_stack([_values(self.data, v, rows, False)
                                     for v in estimand.denominators])
                x = np.where(valid, x, 0.0)
            else:
                x = valid.astype(float)
            if X_dom is not None:
                parts.append((x[:, :1], m + dom[:, None]))
            else:
                parts.append((x, m + col))
        vals = np.concatenate([v.ravel() for v, _ in parts])
        cols = np.concatenate([c.ravel() for _, c in parts])
        rr = np.concatenate([np.repeat(rows, v.shape[1]) for v, _ in parts])
        width = m + (0 if estimand.pair_X is None else (D if X_dom is not None else m))
        Zt = sparse.csr_matrix((vals, (cols, rr)), shape=(width, n))
        fast = self._linear_sums(Zt, width)
        if fast is not None:
            for start, S in fast:
                yield start, S[:, :m], (S[:, m:] if estimand.pair_X is not None else None)
            return
        for start, W in self._weight_blocks():
            S = np.asarray(Zt @ W).T
            yield start, S[:, :m], (S[:, m:] if estimand.pair_X is not None else None)

    def _pass(self, estimand, full: bool, keep_theta: bool = False, logit: bool = False,
              entries=None):
        """One pass over the replicate blocks: covariance (and replicate estimates)."""
        k = estimand.k
        Xp = estimand.pair_X
        X = Xp
        # same denominator for every indicator: one denominator column per domain
        one_den = Xp is not None and k > 1 and bool((Xp == Xp[:, :1]).all())
        X_dom = one_den or None
        est = estimand.estimate()
        m = est.size
        # one product per block: numerators and (distinct) denominators side by side
        Z = _stacked_totals(estimand, one_den)
        rscales = np.asarray(self.rscales, dtype=float)
        acc = _Moments(m, full, est) if entries is None else _EntryMoments(m, est, *entries)
        acc_logit = _Moments(m, False, _logit(est)) if logit else None
        thetas = []
        if getattr(self, "_rep_steps", ()):
            sums = self._weighted_sums(estimand, X_dom)
        else:
            sums = ((start, FZ, None) for start, FZ in self._products(Z))
        for start, FZ, den in sums:
            if X is None:
                theta = FZ
            else:
                num, den = (FZ, den) if den is not None else (FZ[:, :m], FZ[:, m:])
                if X_dom is not None:
                    den = np.repeat(den, k, axis=1)
                with np.errstate(divide="ignore", invalid="ignore"):
                    theta = num / den
            a = rscales[start:start + FZ.shape[0]]
            acc.add(theta, a)
            if logit:
                acc_logit.add(_logit(theta), a)
            if keep_theta:
                thetas.append(theta)
        out = {"vcov": acc.result(self.scale, self.mse)}
        if logit:
            out["vcov_logit"] = acc_logit.result(self.scale, self.mse)
        if keep_theta:
            out["theta"] = np.concatenate(thetas) if thetas else np.empty((0, m))
        # a domain empty in the full sample has nothing to estimate (NaN, as under Taylor):
        # only domains that empty out in some replicates are worth a warning
        dropped = np.where(estimand.n == 0, 0, acc.dropped())
        if dropped.any():
            j = int(np.argmax(dropped))
            warnings.warn(
                f"{int(dropped[j])} of {self.n_replicates} replicates gave no estimate "
                f"(an empty domain in the replicate) for {int((dropped > 0).sum())} "
                "estimate(s) and were left out of their variance, as R does.",
                HarvestWarning, stacklevel=4)
        return out

    # -- degrees of freedom ---------------------------------------------------------------
    def _rank(self, estimand) -> np.ndarray:
        """Rank of the replicate weights on each domain's rows, ``(m,)``."""
        k = estimand.k
        if self._factors is not None:
            return np.repeat(_factor_rank(self._factors, estimand), k)
        rows = estimand.row_index
        D = estimand.n_domains
        R = len(self.replicate_columns)
        if rows.size * R * R > _MAX_RANK_WORK:
            # too costly to factorise: assume full rank (documented)
            return np.repeat(np.full(D, min(R, rows.size)), k)
        return np.repeat(_gram_rank(self._analysis_gram(rows, estimand.row_domain, D)), k)

    def _analysis_gram(self, rows, domain, D) -> np.ndarray:
        """``(D, R, R)`` Gram matrices of the analysis weights on each domain's rows.

        Rows are taken in slices of ``c`` positions within their domain: slice ``j`` is a
        zero-padded ``(D, c, R)`` array and one batched product ``A^T A`` adds it to every
        domain's Gram matrix (no loop over domains).
        """
        R = len(self.replicate_columns)
        gram = np.zeros((D, R, R))
        order = np.argsort(domain, kind="stable")
        rows, domain = rows[order], domain[order]
        start = np.searchsorted(domain, np.arange(D))
        position = np.arange(rows.size) - start[domain]
        w = self._codes.weights
        c = max(1, 4_000_000 // max(D * R, 1))
        for lo in range(0, int(position.max()) + 1, c):  # slices of rows, bounded memory
            pick = np.flatnonzero((position >= lo) & (position < lo + c))
            A = self.data[self.replicate_columns].iloc[rows[pick]].to_numpy(dtype=float)
            if not self.combined_weights:
                A = A * w[rows[pick], None]
            padded = np.zeros((D, c, R))
            padded[domain[pick], position[pick] - lo] = A
            gram += np.matmul(padded.transpose(0, 2, 1), padded)
        return gram


#: Largest dense ``(P, columns)`` array of PSU totals the replicate products use; above
#: it the totals are a sparse matrix over the (PSU, domain) pairs that occur.
DENSE_TOTALS = 20_000_000

#: Largest dense ``(P, (p + 1) columns)`` array of PSU totals a linearly calibrated
#: replicate design's products use (``ReplicateDesign._linear_sums``); above it sparse.
LINEAR_DENSE = 30_000_000


def _stacked_totals(estimand, one_den: bool):
    """Numerator and denominator PSU totals side by side: dense ``(P, c)`` when small,
    else the sparse transpose ``(c, P)`` built from the (PSU, domain) pairs."""
    D, k, P = estimand.n_domains, estimand.k, estimand.n_psus
    m = D * k
    Xp = estimand.pair_X
    cols = m + (0 if Xp is None else (D if one_den else m))
    if P * cols <= DENSE_TOTALS:
        # written straight into one (P, cols) array: [Y | X] (X one column per domain
        # when one_den), the same numbers as hstack of the dense views
        Z = np.zeros((P, cols))
        flat = Z.reshape(-1)
        at = estimand.pair_psu * cols + estimand.pair_domain * k   # (pair, column 0)
        flat[(at[:, None] + np.arange(k)).reshape(-1)] = estimand.pair_Y.reshape(-1)
        if Xp is not None:
            if one_den:
                flat[estimand.pair_psu * cols + m + estimand.pair_domain] = Xp[:, 0]
            else:
                flat[((at + m)[:, None] + np.arange(k)).reshape(-1)] = Xp.reshape(-1)
        return Z
    from scipy import sparse

    psu, dom = estimand.pair_psu, estimand.pair_domain
    col = dom[:, None] * k + np.arange(k)
    rows = [col.reshape(-1)]
    data = [estimand.pair_Y.reshape(-1)]
    where = [np.repeat(psu, k)]
    if Xp is not None:
        if one_den:
            rows.append(m + dom)
            data.append(Xp[:, 0])
            where.append(psu)
        else:
            rows.append(m + col.reshape(-1))
            data.append(Xp.reshape(-1))
            where.append(np.repeat(psu, k))
    return sparse.csr_array((np.concatenate(data), (np.concatenate(rows),
                                                    np.concatenate(where))),
                            shape=(cols, P))


class _Moments:
    """Streaming replicate covariance with replicates left out where NaN (per column)."""

    def __init__(self, m, full, centre):
        self.full, self.c = full, np.asarray(centre, dtype=float)
        self.c = np.where(np.isfinite(self.c), self.c, 0.0)
        shape = (m, m) if full else (m,)
        self.s0 = np.zeros(shape)   # sum a * d_j d_k (both finite)
        self.s1 = np.zeros(shape)   # sum a * d_j (where k finite too)
        self.a = np.zeros(shape)    # sum a (both finite)
        self.sum = np.zeros(m)      # sum of d over finite replicates with rscale > 0
        self.cnt = np.zeros(m)
        self.nan = np.zeros(m)

    def _deviations(self, theta, a):
        """Count a block's deviations from the centre; ``(d0, okf, ad)`` for the sums."""
        d = theta - self.c
        ok = np.isfinite(d)
        d0 = np.where(ok, d, 0.0)
        pos = (a > 0)[:, None] & ok
        self.sum += np.where(pos, d0, 0.0).sum(axis=0)
        self.cnt += pos.sum(axis=0)
        self.nan += (~ok).sum(axis=0)
        return d0, ok.astype(float), a[:, None] * d0

    def add(self, theta, a):
        d0, okf, ad = self._deviations(theta, a)
        if self.full:
            self.s0 += ad.T @ d0
            self.s1 += ad.T @ okf
            self.a += (a[:, None] * okf).T @ okf
        else:
            self.s0 += (ad * d0).sum(axis=0)
            self.s1 += ad.sum(axis=0)
            self.a += (a[:, None] * okf).sum(axis=0)

    def dropped(self):
        return self.nan

    def result(self, scale, mse):
        if mse:
            return scale * self.s0
        with np.errstate(divide="ignore", invalid="ignore"):
            mu = np.where(self.cnt > 0, self.sum / self.cnt, np.nan)
        if self.full:
            v = (self.s0 - self.s1 * mu[None, :] - mu[:, None] * self.s1.T
                 + mu[:, None] * mu[None, :] * self.a)
        else:
            v = self.s0 - 2.0 * mu * self.s1 + mu * mu * self.a
        return scale * v


class _EntryMoments(_Moments):
    """:class:`_Moments` of chosen covariance entries ``(first[e], second[e])`` only."""

    def __init__(self, m, centre, first, second):
        super().__init__(0, False, centre)
        self.sum, self.cnt, self.nan = np.zeros(m), np.zeros(m), np.zeros(m)
        self.i, self.j = np.asarray(first, dtype=np.intp), np.asarray(second, dtype=np.intp)
        e = self.i.size
        self.s0, self.s1, self.s1t, self.a = (np.zeros(e) for _ in range(4))

    def add(self, theta, a):
        d0, okf, ad = self._deviations(theta, a)
        i, j = self.i, self.j
        self.s0 += (ad[:, i] * d0[:, j]).sum(axis=0)
        self.s1 += (ad[:, i] * okf[:, j]).sum(axis=0)
        self.s1t += (ad[:, j] * okf[:, i]).sum(axis=0)
        self.a += (a[:, None] * okf[:, i] * okf[:, j]).sum(axis=0)

    def result(self, scale, mse):
        if mse:
            return scale * self.s0
        with np.errstate(divide="ignore", invalid="ignore"):
            mu = np.where(self.cnt > 0, self.sum / self.cnt, np.nan)
        i, j = self.i, self.j
        return scale * (self.s0 - self.s1 * mu[j] - mu[i] * self.s1t
                        + mu[i] * mu[j] * self.a)


def _logit(p):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(p) - np.log1p(-p)


def _percentile(theta, level):
    a = (1.0 - level) / 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low = np.nanquantile(theta, a, axis=0)
        high = np.nanquantile(theta, 1.0 - a, axis=0)
    return low, high


def _factor_rank(factors, estimand) -> np.ndarray:
    """:meth:`ReplicateFactors.rank` of each domain from the (PSU, domain) pairs
    (no dense PSU x domain array); same numbers."""
    spec = factors._spec
    psu_stratum = spec["psu_stratum"]
    H = spec["n_strata"]
    D = estimand.n_domains
    psu, dom = estimand.pair_psu, estimand.pair_domain
    p_d = np.bincount(dom, minlength=D)
    varying = ~factors.constant_psu
    n_var = np.bincount(psu_stratum[varying], minlength=H)
    sums_constant = (n_var > 0) & ~spec.get("free_strata", np.zeros(H, bool))
    vary = varying[psu]
    key = dom[vary].astype(np.int64) * H + psu_stratum[psu[vary]]
    if D * H <= 4 * key.size + 1024:   # count the (domain, stratum) cells, no sort
        held = np.bincount(key, minlength=D * H)
        cells = np.flatnonzero(held)
        held = held[cells]
    else:
        cells, held = np.unique(key, return_counts=True)
    h = cells % H
    full = (held == n_var[h]) & sums_constant[h]
    complete = np.bincount(cells[full] // H, minlength=D)
    constants = np.bincount(dom[~vary], minlength=D)
    k_d = complete + constants
    rank = p_d - k_d + (k_d > 0)
    return np.minimum(rank, factors.n_replicates).astype(int)


def _gram_rank(gram) -> np.ndarray:
    """Numerical rank of each Gram matrix: singular values above 1e-5 of the largest."""
    if gram.shape[-1] == 0:
        return np.zeros(gram.shape[0], dtype=int)
    eig = np.linalg.eigvalsh(gram)
    top = eig.max(axis=-1, keepdims=True)
    return (eig > 1e-10 * top).sum(axis=-1)


def _check_df(df):
    """A stated df (R ``degf=``): ``None`` or a positive number (``inf`` allowed)."""
    if df is None:
        return None
    try:
        value = float(df)
    except (TypeError, ValueError):
        raise ValueError(f"`df` must be a positive number or None; got {df!r}.") from None
    if not value > 0:
        raise ValueError(f"`df` must be a positive number or None; got {df!r}.")
    return value


def _replicate_columns(data, replicate_weights) -> list:
    if replicate_weights is None:
        raise ValueError("`replicate_weights` must be a column prefix or a list of columns.")
    if isinstance(replicate_weights, str):
        names = [c for c in data.columns if isinstance(c, str)
                 and c.startswith(replicate_weights)
                 and c[len(replicate_weights):].isdigit()]
        if not names:
            raise DataError(f"`replicate_weights`: no column is named {replicate_weights!r} "
                            "followed by a number.")
        return names
    names = list(replicate_weights)
    check_columns(data, names, "replicate_weights")
    if len(names) < 2:
        raise ValueError("`replicate_weights` must name at least two columns.")
    return names


def _weight_column(data, column) -> np.ndarray:
    check_columns(data, [column], "weights")
    return weight_values(data, column)


def _check_replicate_values(data, columns) -> None:
    """Numeric and finite replicate weights, checked in blocks of columns."""
    dtypes = data[columns].dtypes
    bad_type = [c for c, t in zip(columns, dtypes, strict=True)
                if pd.api.types.is_bool_dtype(t) or not pd.api.types.is_numeric_dtype(t)]
    if bad_type:
        _numeric(data, bad_type[0], "replicate_weights")  # raises, naming rows and value
    step = max(1, 4_000_000 // max(len(data), 1))
    for start in range(0, len(columns), step):  # blocks bound memory
        block = data[columns[start:start + step]].to_numpy(dtype=float, na_value=np.nan)
        bad = ~np.isfinite(block)
        if bad.any():
            j = int(np.flatnonzero(bad.any(axis=0))[0])
            rows = np.flatnonzero(bad[:, j])
            raise DataError(f"`replicate_weights` column {columns[start + j]!r} has missing "
                            f"or infinite values in {describe_rows(rows)} (R: 'Missing "
                            "values not allowed in repweights').")


def _guess_jkn_rscales(data, columns, w, combined) -> np.ndarray:
    """R's guess of JKn ``rscales``: 1 / the largest factor of each replicate, with a warning.

    R guesses this way for ``combined.weights=FALSE`` and refuses combined weights; here
    combined weights are divided by the full-sample weights first (rows with weight > 0).
    The largest factor of a delete-one replicate is ``n_h / (n_h - 1)``.
    """
    warnings.warn("rscales not given for method='jkn': guessed as 1 / the largest factor "
                  "of each replicate ((n_h - 1)/n_h for plain JKn weights); give `rscales` "
                  "when the data's documentation states them.", HarvestWarning, stacklevel=3)
    keep = w > 0
    step = max(1, 4_000_000 // max(len(data), 1))
    largest = []
    for start in range(0, len(columns), step):  # blocks of columns bound memory
        block = data[columns[start:start + step]].to_numpy(dtype=float)[keep]
        if combined:
            block = block / w[keep][:, None]
        largest.append(block.max(axis=0))
    largest = np.concatenate(largest)
    if not (largest > 0).all():
        raise ValueError("Cannot guess `rscales`: a replicate has no positive weight.")
    return 1.0 / largest


def _svrep_constants(method, R, scale, rscales, rho):
    """``scale``, ``rscales``, ``rho`` as R ``svrepdesign`` sets them for ``type=method``."""
    if rscales is not None:
        rscales = np.atleast_1d(np.asarray(rscales, dtype=float))
        if rscales.size not in (1, R):
            raise ValueError(f"`rscales` has length {rscales.size}; it must be 1 or the "
                             f"number of replicate columns ({R}).")
        rscales = np.broadcast_to(rscales, (R,)).copy()
    if method == "fay" and rho is None:
        raise ValueError("method='fay' needs the `rho` the weights were made with.")
    if rho is not None and method != "fay":
        raise ValueError("`rho` applies to method='fay' only.")
    if method == "brr":
        if scale is not None:
            warnings.warn("method='brr' sets scale = 1/R; `scale` is ignored (as R).",
                          HarvestWarning, stacklevel=3)
        scale = 1.0 / R
    elif method == "fay":
        rho = float(rho)
        if not 0.0 <= rho < 1.0:
            raise ValueError(f"`rho` must be in [0, 1); got {rho!r}.")
        scale = 1.0 / (R * (1.0 - rho) ** 2)
    elif method == "bootstrap":
        scale = 1.0 / (R - 1) if scale is None else scale
    elif method == "jk1":
        if scale is None:
            warnings.warn("scale (n-1)/n not provided for method='jk1': n = number of "
                          "replicates assumed (as R).", HarvestWarning, stacklevel=3)
            scale = (R - 1) / R
    elif method == "other":
        if scale is None or rscales is None:
            warnings.warn("scale or rscales not given for method='other': set to 1 (as R).",
                          HarvestWarning, stacklevel=3)
    scale = 1.0 if scale is None else float(scale)
    if rscales is None:
        rscales = np.ones(R)
    return scale, rscales, (0.0 if rho is None else rho)


def replicate(design, method: str, *, replicates: int = 500, rng=None, rho: float = 0.3,
              batch: int | None = None, mse: bool = False) -> ReplicateDesign:
    """Replicate design of a :class:`~harvest.design.SurveyDesign` (R ``as.svrepdesign``).

    See :meth:`harvest.design.SurveyDesign.replicate`.
    """
    check_option("method", method, REPLICATE_METHODS)
    codes = design._codes
    n = codes.row_psu.size
    P = codes.n_psus
    psu_first = strat_first = None   # the bootstrap does not use the order of the rows
    if method != "bootstrap":
        rows = np.arange(n, dtype=np.intp)
        psu_first = np.empty(P, dtype=np.intp)
        psu_first[codes.row_psu[::-1]] = rows[::-1]  # the last write, the first row, wins
        strat_first = np.empty(codes.n_strata, dtype=np.intp)
        strat_first[codes.row_stratum[::-1]] = rows[::-1]
    factors = make_factors(
        method, codes.psu_stratum, replicates=replicates, rng=rng,
        rho=rho if method == "fay" else None, fraction=codes.fraction,
        lonely_psu=codes.lonely_psu, has_strata=bool(getattr(design, "strata_columns", [])),
        psu_first_row=psu_first, stratum_first_row=strat_first,
        stratum_labels=codes.stratum_labels)
    if mse:
        factors = dataclasses.replace(factors, mse=True)
    return ReplicateDesign._from_design(design, factors, batch=batch)
