"""Survey designs: strata, first-stage clusters (PSUs), weights and fpc, coded once.

:class:`SurveyDesign` follows R ``survey::svydesign(ids=~psu, strata=~stratum,
weights=~weight, fpc=~fpc, nest=TRUE)``. The design columns are turned once into the
integer codes of :class:`DesignCodes`; every estimate then works on those codes.

Examples
--------
>>> import pandas as pd
>>> import harvest as hv
>>> df = pd.DataFrame({"stratum": [1, 1, 1, 1, 2, 2, 2, 2],
...                    "district": [1, 1, 2, 2, 3, 3, 4, 4],
...                    "weight": [10.0, 10, 12, 12, 5, 5, 6, 6],
...                    "y": [1, 0, 1, 1, 0, 0, 1, 0]})
>>> d = hv.SurveyDesign(df, weights="weight", strata="stratum", psu="district")
>>> float(d.proportion("y")["estimate"].iloc[0]).__round__(4)
0.6061
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harvest._base import _DesignBase
from harvest._codes import DesignCodes, _codes_of, _compact, _numeric, weight_values
from harvest._core import pair_covariance_entries, pair_stratified_variance, stratified_vcov
from harvest._errors import DataError, check_columns, check_frame, describe_rows, plain_value
from harvest._options import LONELY_PSU, as_list, check_option

__all__ = ["DesignCodes", "SurveyDesign"]


def _no_missing(data: pd.DataFrame, column, argument: str) -> None:
    missing = data[column].isna().to_numpy()
    if missing.any():
        rows = np.flatnonzero(missing)
        raise DataError(
            f"`{argument}` column {column!r} has missing values (NaN) in "
            f"{describe_rows(rows)}; design columns must be complete."
        )


class SurveyDesign(_DesignBase):
    """A stratified, clustered sample with weights: R ``svydesign(..., nest=TRUE)``.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per observed unit. Kept by reference; never copied or modified.
    weights : str, optional
        Column of sampling weights (non-negative numbers). ``None``: weights
        ``N_h / n_h`` implied by ``fpc`` when it is given (as R), else equal weights 1.
    strata : str or list of str, optional
        Column(s) whose combination defines the strata. ``None``: one stratum.
    psu : str, optional
        Column of first-stage cluster labels, nested within strata. ``None``: every row
        is its own PSU.
    fpc : str, optional
        Column of the first-stage finite population correction: the number of PSUs in
        the stratum's population ``N_h`` when every value is at least 1 and some exceed 1,
        else the sampling fraction ``n_h/N_h``. Must be constant within a stratum.
    lonely_psu : {"fail", "remove", "certainty", "adjust", "average"}
        What a stratum with a single PSU contributes to the variance (R
        ``options(survey.lonely.psu=)``): ``"fail"`` raises
        :class:`~harvest.DataError` naming the stratum when an estimate needs it,
        ``"remove"``/``"certainty"`` add zero, ``"adjust"`` uses the PSU total's
        deviation from the grand mean (zero), ``"average"`` replaces it by the average
        of the other strata.

    Notes
    -----
    Totals are Horvitz-Thompson sums :math:`\\hat Y = \\sum_i w_i y_i`; means, proportions
    and ratios are ratios of such totals, linearised. The variance is the
    ultimate-cluster estimator with first-stage fpc, see
    :func:`harvest._core.stratified_vcov` and ``docs/methods/estimation.md``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"psu": [1, 1, 2, 2, 3, 3], "w": [2.0] * 6,
    ...                    "y": [1, 0, 0, 0, 1, 1], "region": list("ABABAB")})
    >>> d = SurveyDesign(df, weights="w", psu="psu")
    >>> d.mean("y", by="region")[["region", "indicator", "estimate", "n"]]
      region indicator  estimate  n
    0      A         y  0.666667  3
    1      B         y  0.333333  3
    """

    _linearised = True

    def __init__(self, data, weights=None, strata=None, psu=None, fpc=None,
                 lonely_psu="fail"):
        if not isinstance(data, pd.DataFrame):
            raise TypeError(f"`data` must be a pandas DataFrame; got {type(data).__name__}.")
        check_frame(data)
        if len(data) == 0:
            raise DataError("`data` has no rows.")
        check_option("lonely_psu", lonely_psu, LONELY_PSU)
        strata_cols = as_list(strata)
        for argument, cols in (("weights", as_list(weights)), ("strata", strata_cols),
                               ("psu", as_list(psu)), ("fpc", as_list(fpc))):
            check_columns(data, cols, argument)
        if psu is not None and not isinstance(psu, str | int):
            raise TypeError("`psu` must be one column name.")

        self.data = data
        self.weights_column = weights
        self.strata_columns = strata_cols
        self.psu_column = psu
        self.fpc_column = fpc
        self.lonely_psu = lonely_psu
        self._codes = self._build_codes()

    # -- building the codes ------------------------------------------------------------
    def _build_codes(self) -> DesignCodes:
        data = self.data
        n = len(data)
        for column in self.strata_columns:
            _no_missing(data, column, "strata")
        if self.strata_columns:
            row_stratum, labels = _codes_of(data, self.strata_columns)
        else:
            row_stratum, labels = np.zeros(n, dtype=np.intp), [None]
        n_strata = len(labels)

        if self.psu_column is None:
            row_psu = np.arange(n, dtype=np.intp)
            psu_stratum = row_stratum.copy()
        else:
            _no_missing(data, self.psu_column, "psu")
            psu_codes, psu_levels = pd.factorize(data[self.psu_column], sort=True)
            nested = row_stratum.astype(np.int64) * len(psu_levels) + psu_codes
            row_psu, uniq, _ = _compact(nested, n_strata * len(psu_levels))
            psu_stratum = (uniq // len(psu_levels)).astype(np.intp)
        n_psu = np.bincount(psu_stratum, minlength=n_strata)

        fraction = np.zeros(n_strata)
        if self.fpc_column is not None:
            fraction = self._fraction(row_stratum, n_psu, labels)

        if self.weights_column is None:
            if self.fpc_column is not None:
                weights = 1.0 / fraction[row_stratum]
            else:
                weights = np.ones(n)
        else:
            weights = self._weights()
        return DesignCodes(row_psu=row_psu, psu_stratum=psu_stratum, n_psu=n_psu,
                           fraction=fraction, weights=weights, lonely_psu=self.lonely_psu,
                           row_stratum=row_stratum, stratum_labels=labels)

    def _weights(self) -> np.ndarray:
        column = self.weights_column
        values = weight_values(self.data, column)
        if not (values > 0).any():
            raise DataError(f"`weights` column {column!r} is zero in every row.")
        return values

    def _fraction(self, row_stratum, n_psu, labels) -> np.ndarray:
        column = self.fpc_column
        values = _numeric(self.data, column, "fpc")
        bad = np.flatnonzero(~np.isfinite(values) | (values <= 0))
        if len(bad):
            raise DataError(
                f"`fpc` column {column!r} must hold positive numbers; found "
                f"{plain_value(self.data[column].iloc[int(bad[0])])!r} in {describe_rows(bad)}."
            )
        n_strata = len(n_psu)
        lo = np.full(n_strata, np.inf)
        hi = np.full(n_strata, -np.inf)
        np.minimum.at(lo, row_stratum, values)
        np.maximum.at(hi, row_stratum, values)
        varying = np.flatnonzero(lo != hi)
        if len(varying):
            h = int(varying[0])
            rows = np.flatnonzero(row_stratum == h)
            where_ = ("across the rows (the design has no strata, so it must be one value)"
                      if labels[h] is None else f"within stratum {labels[h]!r}")
            raise DataError(
                f"`fpc` column {column!r} varies {where_} "
                f"(values {plain_value(lo[h])!r} to {plain_value(hi[h])!r}, "
                f"{describe_rows(rows)}); "
                "it must be constant within a stratum."
            )
        if (values > 1).any():
            small = np.flatnonzero(values < 1)
            if len(small):
                raise DataError(
                    f"`fpc` column {column!r} mixes population sizes (>1) and sampling "
                    f"fractions (<1), e.g. {plain_value(values[small[0]])!r} in "
                    f"{describe_rows(small)}."
                )
            fraction = n_psu / lo
        else:
            fraction = lo.copy()
        over = np.flatnonzero(fraction > 1 + 1e-12)
        if len(over):
            h = int(over[0])
            rows = np.flatnonzero(row_stratum == h)
            raise DataError(
                f"`fpc` column {column!r} gives N_h = {plain_value(n_psu[h] / fraction[h])!r} "
                f"population PSUs in stratum {labels[h]!r} but the sample has "
                f"{int(n_psu[h])} PSUs there ({describe_rows(rows)})."
            )
        return np.minimum(fraction, 1.0)

    # -- public ---------------------------------------------------------------------
    def subset(self, mask) -> SurveyDesign:
        """The design restricted to a subpopulation, keeping every PSU for the variance.

        Rows outside ``mask`` get weight 0 in every estimate but keep their PSUs and
        strata, so ``n_h`` and the degrees of freedom come from the full design, as R
        ``subset.survey.design``.

        Parameters
        ----------
        mask : array_like of bool, shape (n,)
            ``True`` for rows in the subpopulation. Missing values count as ``False``.
            A pandas Series must share the data's index.

        Returns
        -------
        SurveyDesign

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"psu": [1, 2, 3, 4], "y": [1.0, 2.0, 3.0, 4.0]})
        >>> d = SurveyDesign(df, psu="psu")
        >>> float(d.subset(df["y"] > 2).mean("y")["estimate"].iloc[0])
        3.5
        """
        return self._restricted(mask)

    def replicate(self, method, *, replicates=500, rng=None, rho=0.3, batch=None, mse=False):
        """Replicate-weight version of this design (R ``as.svrepdesign``).

        Parameters
        ----------
        method : {"bootstrap", "jk1", "jkn", "brr", "fay"}
            Rao-Wu rescaling bootstrap with ``n_h - 1`` draws (R ``"subbootstrap"``),
            delete-one jackknife (unstratified), stratified jackknife, BRR (two PSUs
            per stratum, R's Hadamard matrices) or Fay's BRR.
        replicates : int, default 500
            Bootstrap replicates (the other methods' number is fixed by the design).
        rng : int or numpy.random.Generator, optional
            Random source of the bootstrap (keyword only).
        rho : float, default 0.3
            Fay's coefficient (``method="fay"`` only).
        batch : int, optional
            Replicates per block of the batched products; results do not depend on it.
        mse : bool, default False
            Centre replicate deviations on the full-sample estimate.

        Returns
        -------
        harvest.ReplicateDesign

        Notes
        -----
        Factors, ``scale`` and ``rscales`` in ``docs/methods/replicates.md``
        (implemented in :mod:`harvest.replicates`).

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"psu": [1, 2, 3, 4], "y": [0, 1, 1, 0]})
        >>> SurveyDesign(df, psu="psu").replicate("jk1").n_replicates
        4
        """
        from harvest.replicate_design import replicate

        if getattr(self, "_weighting", ()):
            raise ValueError("replicate() of a post-stratified, raked or calibrated design "
                             "would ignore the weighting in the replicates; build the "
                             "replicate design from the unweighted SurveyDesign.")
        return replicate(self, method, replicates=replicates, rng=rng, rho=rho, batch=batch,
                         mse=mse)

    def _summary(self) -> dict:
        c = self._codes
        return {"strata": c.n_strata, "psus": c.n_psus, "df": c.n_psus - c.n_strata,
                "fpc": self.fpc_column, "lonely_psu": self.lonely_psu}

    def __repr__(self) -> str:
        c = self._codes
        return (f"SurveyDesign({len(self.data)} rows, {c.n_strata} strata, {c.n_psus} PSUs, "
                f"weights={self.weights_column!r}, fpc={self.fpc_column!r}, "
                f"lonely_psu={self.lonely_psu!r})")

    # -- what a design class supplies to _DesignBase ------------------------------------
    def _check_lonely(self, present) -> None:
        """Raise DataError naming a lonely stratum an estimate needs (``"fail"``)."""
        from harvest._core import lonely_strata

        c = self._codes
        if c.lonely_psu != "fail":
            return
        hit = lonely_strata(c.n_psu, c.fraction) & present.any(axis=1)
        if hit.any():
            h = int(np.flatnonzero(hit)[0])
            rows = np.flatnonzero(c.row_stratum == h)
            raise DataError(
                f"Stratum {c.stratum_labels[h]!r} (column(s) {self.strata_columns}) has only "
                f"one PSU ({describe_rows(rows)}); choose lonely_psu='remove', "
                "'certainty', 'adjust' or 'average'."
            )

    def _vcov(self, estimand, full: bool):
        c = self._codes
        self._check_lonely(estimand.strata_holding()[:, None])
        # After the check, a lonely stratum under "fail" holds none of these domains, so
        # it adds nothing: "remove" gives the same numbers without a second check.
        policy = "remove" if c.lonely_psu == "fail" else c.lonely_psu
        if getattr(self, "_weighting", ()):
            from harvest.weighting import adjust_scores  # residuals of the calibration model

            scores = adjust_scores(self, estimand, estimand.scores())
            return stratified_vcov(scores, c.psu_stratum, c.n_psu, c.fraction, policy,
                                   full=full,
                                   stratum_present=None if full else estimand.stratum_present)
        if full:
            return stratified_vcov(estimand.scores(), c.psu_stratum, c.n_psu, c.fraction,
                                   policy, full=True)
        # variances only: over the (PSU, domain) pairs that occur (no P x D array)
        return pair_stratified_variance(estimand.pair_psu, estimand.pair_domain,
                                        estimand.pair_scores(), estimand.n_domains,
                                        c.psu_stratum, c.n_psu, c.fraction, policy,
                                        present=estimand.pair_counts > 0)

    def _vcov_entries(self, estimand, first, second):
        if getattr(self, "_weighting", ()):
            return super()._vcov_entries(estimand, first, second)
        c = self._codes
        self._check_lonely(estimand.strata_holding()[:, None])
        policy = "remove" if c.lonely_psu == "fail" else c.lonely_psu
        return pair_covariance_entries(estimand.pair_psu, estimand.pair_domain,
                                       estimand.pair_scores(), estimand.n_domains,
                                       c.psu_stratum, c.n_psu, c.fraction, policy,
                                       first, second)

    def _df(self, estimand):
        return estimand.design_df(self._codes)

    def _deff(self, estimand, variance):
        return estimand.srs_ratio(variance, replace=False)

    # -- weighting (harvest.weighting) ------------------------------------------------
    def poststratify(self, column, counts):
        """Post-stratify to known population counts of one column (R ``postStratify``).

        Parameters
        ----------
        column : str
            Categorical column; every level with positive weight must be in ``counts``
            and every level of ``counts`` in the data.
        counts : dict or pandas.Series
            Level -> population count.

        Returns
        -------
        SurveyDesign
            New weights :math:`w_i N_l / \\hat N_l` in cell :math:`l`; the variance uses
            the residuals from the cell means (weighted by the old weights), as R.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"psu": range(4), "g": list("aabb"), "y": [1.0, 2, 3, 5]})
        >>> ps = SurveyDesign(df, psu="psu").poststratify("g", {"a": 10, "b": 30})
        >>> float(ps.total("y")["estimate"].iloc[0])
        135.0
        """
        from harvest.weighting import poststratify

        return poststratify(self, column, counts)

    def rake(self, margins, max_iter=50, tol=1e-7):
        """Rake to several categorical margins by iterative proportional fitting (R ``rake``).

        Parameters
        ----------
        margins : dict
            Column -> {level: population count}.
        max_iter : int
            Sweeps over the margins at most (a :class:`~harvest.CalibrationWarning` when
            not converged, as R).
        tol : float
            Stop when no cell of the weighted cross-table moves by more than
            ``tol * sum(weights)`` in a sweep (R's ``epsilon < 1``).

        Notes
        -----
        Each sweep post-stratifies on every margin in turn. The variance removes the
        unweighted margin-cell means of the linearised variable ten times per margin,
        as R ``svyrecvar`` does for raked designs.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"psu": range(4), "a": list("xxyy"), "b": list("uvuv")})
        >>> r = SurveyDesign(df, psu="psu").rake({"a": {"x": 30, "y": 10},
        ...                                       "b": {"u": 20, "v": 20}})
        >>> r.weights.round(6).tolist()
        [15.0, 15.0, 5.0, 5.0]
        """
        from harvest.weighting import rake

        return rake(self, margins, max_iter=max_iter, tol=tol)

    def calibrate(self, margins, method="linear", bounds=None, population_size=None):
        """Calibrate to population totals (R ``calibrate``; Deville and Sarndal 1992).

        Parameters
        ----------
        margins : dict
            Column -> {level: population count} for a categorical column, or column ->
            population total (a number) for a numeric one.
        method : {"linear", "raking", "logit"}
            The calibration function (R ``calfun``).
        bounds : tuple (lo, hi), optional
            Bounds on the g-weights (``lo < 1 < hi``); required by ``"logit"``.
        population_size : float, optional
            The population size (intercept total) when no categorical margin gives it.

        Notes
        -----
        :math:`w_i^* = w_i g_i`, :math:`g_i = F(x_i^\\top \\lambda)` with
        :math:`\\sum_i w_i g_i x_i = T_x`, solved by Newton steps;
        ``F(u) = 1 + u`` (linear), ``exp(u)`` (raking), the bounded logistic (logit).
        The variance uses the residuals :math:`e_i = z_i - x_i^\\top B` of the
        linearised variable regressed on the calibration variables (R ``svyrecvar``).

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"psu": range(4), "x": [1.0, 2, 3, 4], "y": [1.0, 2, 2, 5]})
        >>> c = SurveyDesign(df, psu="psu").calibrate({"x": 30.0}, population_size=12)
        >>> round(float(c.total("x")["estimate"].iloc[0]), 6)
        30.0
        """
        from harvest.weighting import calibrate

        return calibrate(self, margins, method=method, bounds=bounds,
                         population_size=population_size)

    def trim_weights(self, lower=None, upper=None, strict=False):
        """Trim weights to ``[lower, upper]``, sharing the excess equally (R ``trimWeights``).

        The weight cut from the trimmed rows is added in equal parts to the others; with
        ``strict=True`` this repeats until no weight lies outside the bounds. The variance
        treats the trimmed weights as fixed, as R.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"psu": range(4), "w": [1.0, 1, 1, 9]})
        >>> SurveyDesign(df, weights="w", psu="psu").trim_weights(upper=5).weights.tolist()
        [2.333333333333333, 2.333333333333333, 2.333333333333333, 5.0]
        """
        from harvest.weighting import trim_weights

        return trim_weights(self, lower=lower, upper=upper, strict=strict)

    def adjust_nonresponse(self, column, by=None):
        """Weighting-class nonresponse adjustment.

        Respondents' weights (``column`` = 1) are multiplied by their cell's ratio
        :math:`\\sum_{cell} w_i / \\sum_{cell} w_i r_i`; non-respondents keep their rows
        with weight 0, so every PSU stays in the design. The variance treats the
        adjusted weights as fixed.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"psu": range(4), "r": [1, 0, 1, 1], "g": list("aabb")})
        >>> SurveyDesign(df, psu="psu").adjust_nonresponse("r", by="g").weights.tolist()
        [2.0, 0.0, 1.0, 1.0]
        """
        from harvest.weighting import adjust_nonresponse

        return adjust_nonresponse(self, column, by=by)
