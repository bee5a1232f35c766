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

import warnings

import numpy as np
import pandas as pd

from harvest._base import _DesignBase
from harvest._codes import DesignCodes, _codes_of, _compact, _level_keys, weight_values
from harvest._core import pair_covariance_entries, pair_stratified_variance, stratified_vcov
from harvest._errors import (
    DataError,
    LonelyPSUWarning,
    check_columns,
    check_frame,
    describe_rows,
    plain_value,
)
from harvest._options import LONELY_PSU, PPS, as_list, check_option
from harvest._stages import build_stages, fpc_values, group_fraction, ht_delta

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
    psu : str or list of str, optional
        Column of first-stage cluster labels, nested within strata, or a list of
        cluster columns, one per stage (``["district", "farm_id"]``), each nested in the
        one before. ``None``: every row is its own PSU.
    fpc : str or list of str, optional
        Column of the first-stage finite population correction: the number of PSUs in
        the stratum's population ``N_h`` when every value is at least 1 and some exceed 1,
        else the sampling fraction ``n_h/N_h``. Must be constant within a stratum. With
        several stages, one column per stage (R ``fpc=~n1+n2``): stage ``s``'s column
        is constant within each stage ``s - 1`` unit, and population sizes versus
        fractions is decided over all of them, as R ``as.fpc``. With ``pps``: the
        inclusion probabilities of the PSUs (constant within a PSU).
    lonely_psu : {"fail", "remove", "certainty", "adjust", "average"}
        What a stratum with a single PSU contributes to the variance (R
        ``options(survey.lonely.psu=)``): ``"fail"`` raises
        :class:`~harvest.DataError` naming the stratum when an estimate needs it,
        ``"remove"``/``"certainty"`` add zero, ``"adjust"`` uses the PSU total's
        deviation from the grand mean (zero), ``"average"`` replaces it by the average
        of the other strata. At later stages of a multistage design a unit with one
        sampled sub-unit is handled the same way (``"average"`` gives NaN, as R).
    pps : {"brewer", "overton", "ht"}, optional
        PPS sampling without replacement with the inclusion probabilities in ``fpc``
        (R ``svydesign(..., fpc=~p, pps=...)``): Brewer's approximation, Overton's
        approximation of the joint probabilities, or the Horvitz-Thompson variance with
        ``joint_probabilities``. ``None``: the with-replacement (or fpc) variance.
    joint_probabilities : array_like, shape (P, P), optional
        Joint inclusion probabilities of the PSUs for ``pps="ht"`` (R ``ppsmat``), in
        the order the PSUs first appear in the data, diagonal equal to ``fpc``.

    Notes
    -----
    Totals are Horvitz-Thompson sums :math:`\\hat Y = \\sum_i w_i y_i`; means, proportions
    and ratios are ratios of such totals, linearised. The variance is the
    ultimate-cluster estimator with first-stage fpc, see
    :func:`harvest._core.stratified_vcov` and ``docs/methods/estimation.md``. A
    multistage design with fpc adds, per later stage, the stratified variance of the
    stage's unit totals within their parents times the parents' sampling fractions
    (R ``multistage``; ``docs/methods/multistage.md``):

    .. math::

        \\hat V = V_1 + \\sum_i f_{1i} \\Big( V_2(i) + \\sum_j f_{2ij} V_3(ij) + \\dots \\Big).

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

    A two-stage design, fpc as population sizes (R ``fpc=~n1+n2``):

    >>> two = pd.DataFrame({"d": [1, 1, 2, 2, 3, 3], "f": [1, 2, 1, 2, 1, 2],
    ...                     "N1": 10, "N2": 5, "y": [1.0, 2, 3, 4, 5, 7]})
    >>> d2 = SurveyDesign(two, psu=["d", "f"], fpc=["N1", "N2"])
    >>> round(float(d2.weights.iloc[0]), 4)      # 10/3 districts x 5/2 farms
    8.3333
    """

    _linearised = True

    def __init__(self, data, weights=None, strata=None, psu=None, fpc=None,
                 lonely_psu="fail", pps=None, joint_probabilities=None):
        if not isinstance(data, pd.DataFrame):
            raise TypeError(f"`data` must be a pandas DataFrame; got {type(data).__name__}.")
        check_frame(data)
        if len(data) == 0:
            raise DataError("`data` has no rows.")
        check_option("lonely_psu", lonely_psu, LONELY_PSU)
        check_option("pps", pps, PPS)
        strata_cols = as_list(strata)
        psu_cols = as_list(psu)
        fpc_cols = as_list(fpc)
        for argument, cols in (("weights", as_list(weights)), ("strata", strata_cols),
                               ("psu", psu_cols), ("fpc", fpc_cols)):
            check_columns(data, cols, argument)
        if psu is not None and not isinstance(psu, str | int | list | tuple):
            raise TypeError("`psu` must be a column name or a list of them, one per stage.")
        if psu is not None and not psu_cols:
            raise ValueError("`psu` must name at least one column.")
        if fpc is not None and len(fpc_cols) != max(len(psu_cols), 1):
            raise ValueError(
                f"`fpc` must give one column per stage of `psu` ({max(len(psu_cols), 1)}); "
                f"got {len(fpc_cols)}: {fpc_cols!r}."
            )
        if pps is not None:
            if fpc is None:
                raise ValueError(f"`pps`={pps!r} needs `fpc`: the inclusion probabilities "
                                 "of the PSUs.")
            if pps != "brewer" and len(psu_cols) > 1:
                raise ValueError(f"`pps`={pps!r} is for one-stage designs (as R); "
                                 "use pps='brewer' for a multistage PPS design.")
        if (joint_probabilities is None) != (pps != "ht"):
            raise ValueError("`joint_probabilities` is needed with pps='ht' and only "
                             "there.")

        self.data = data
        self.weights_column = weights
        self.strata_columns = strata_cols
        self.psu_columns = psu_cols
        self.psu_column = psu_cols[0] if psu_cols else None
        self.fpc_columns = fpc_cols
        self.fpc_column = fpc
        self.lonely_psu = lonely_psu
        self.pps = pps
        self._joint = joint_probabilities
        self._codes = self._build_codes()
        self._joint = None           # folded into the codes

    # -- building the codes ------------------------------------------------------------
    def _build_codes(self) -> DesignCodes:
        data = self.data
        n = len(data)
        for column in self.strata_columns:
            _no_missing(data, column, "strata")
        for column in self.psu_columns:
            _no_missing(data, column, "psu")
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
            psu_keys, n_keys = _level_keys(data[self.psu_column])
            nested = row_stratum.astype(np.int64, copy=False) * n_keys
            nested += psu_keys
            row_psu, uniq, _ = _compact(nested, n_strata * n_keys, rows=False)
            psu_stratum = (uniq // n_keys).astype(np.intp)
        n_psu = np.bincount(psu_stratum, minlength=n_strata)
        n_psus = len(psu_stratum)

        fraction = np.zeros(n_strata)
        psu_fraction = None
        stages = ()
        row_fraction = None
        if self.fpc_columns:
            values, popsize = fpc_values(data, self.fpc_columns, self.pps is not None)
            column = self.fpc_columns[0]
            if self.pps is None:
                fraction = group_fraction(
                    values[0], column, row_stratum, n_strata, n_psu,
                    lambda h: ("across the rows (the design has no strata, so it must be "
                               "one value)" if labels[h] is None
                               else f"within stratum {labels[h]!r}"), popsize, "PSUs")
                row_fraction = fraction[row_stratum]
            else:
                psu_fraction = group_fraction(values[0], column, row_psu, n_psus,
                                              np.ones(n_psus),
                                              lambda p: "within a PSU", False)
                low = np.full(n_strata, np.inf)
                np.minimum.at(low, psu_stratum, psu_fraction)
                fraction = low
                row_fraction = psu_fraction[row_psu]
            if len(self.psu_columns) > 1:
                stages = build_stages(data, row_psu, n_psus, self.psu_columns, values,
                                      self.fpc_columns, popsize, self.pps is not None)
                for st in stages:
                    row_fraction = row_fraction * st.unit_fraction[st.row_unit]

        if self.weights_column is None:
            weights = 1.0 / row_fraction if row_fraction is not None else np.ones(n)
        else:
            weights = self._weights()
        pps_delta = None
        if self.pps == "ht":
            first = np.full(n_psus, n, dtype=np.intp)
            np.minimum.at(first, row_psu, np.arange(n))
            order = np.argsort(first, kind="stable")     # PSUs as they first appear
            pps_delta = ht_delta(self._joint, psu_fraction, order)
        return DesignCodes(row_psu=row_psu, psu_stratum=psu_stratum, n_psu=n_psu,
                           fraction=fraction, weights=weights, lonely_psu=self.lonely_psu,
                           row_stratum=row_stratum, stratum_labels=labels,
                           psu_fraction=psu_fraction, stages=stages, pps=self.pps,
                           pps_delta=pps_delta)

    def _weights(self) -> np.ndarray:
        column = self.weights_column
        values = weight_values(self.data, column)
        if not (values > 0).any():
            raise DataError(f"`weights` column {column!r} is zero in every row.")
        return values

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
        (implemented in :mod:`harvest.replicates`). Of a weighted design (post-stratified,
        raked, calibrated, trimmed or adjusted for nonresponse) the factors are those of
        the unweighted design and every weighting step is applied again to the full
        sample and to each replicate, in order (as R's ``calibrate`` of
        ``as.svrepdesign(unweighted)``; R's ``as.svrepdesign`` of a calibrated design
        keeps the calibrated weights with plain factors instead).

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"psu": [1, 2, 3, 4], "y": [0, 1, 1, 0]})
        >>> SurveyDesign(df, psu="psu").replicate("jk1").n_replicates
        4
        """
        from harvest.replicate_design import replicate

        if self.pps is not None:
            raise ValueError("replicate() of a PPS design is not available: the replicate "
                             "methods here assume equal-probability sampling of PSUs within "
                             "strata; use the design's own (Taylor) variance.")
        recipe = getattr(self, "_recipe", ())
        source = getattr(self, "_unweighted", None) or self
        rep = replicate(source, method, replicates=replicates, rng=rng, rho=rho, batch=batch,
                        mse=mse)
        # a weighted design: the factors of the unweighted one, then every weighting step
        # again on the full sample and on each replicate
        if recipe:   # imported only for a weighted design
            from harvest import weighting

            for name, options in recipe:
                rep = getattr(weighting, name)(rep, **options)
        if recipe and not np.array_equal(rep._codes.weights > 0, self._codes.weights > 0):
            raise ValueError("replicate() of a subset of a weighted design would lose the "
                             "subset; make the replicates first, then take the subset.")
        return rep

    def _summary(self) -> dict:
        c = self._codes
        out = {"strata": c.n_strata, "psus": c.n_psus, "df": c.n_psus - c.n_strata,
               "fpc": self.fpc_column, "lonely_psu": self.lonely_psu}
        if len(self.psu_columns) > 1:
            out["stages"] = len(self.psu_columns)
        if self.pps is not None:
            out["pps"] = self.pps
        return out

    def __repr__(self) -> str:
        c = self._codes
        extra = "" if len(self.psu_columns) < 2 else f", stages={len(self.psu_columns)}"
        extra += "" if self.pps is None else f", pps={self.pps!r}"
        return (f"SurveyDesign({len(self.data)} rows, {c.n_strata} strata, {c.n_psus} PSUs, "
                f"weights={self.weights_column!r}, fpc={self.fpc_column!r}, "
                f"lonely_psu={self.lonely_psu!r}{extra})")

    # -- what a design class supplies to _DesignBase ------------------------------------
    def _check_lonely(self, present, parents_present=()) -> None:
        """Raise DataError naming a lonely stratum an estimate needs (``"fail"``).

        ``parents_present``: for a multistage design, which PSUs (stage-2 parents, ...)
        hold each estimate; a PSU with one sampled stage-2 unit is lonely too (R).
        """
        from harvest._core import lonely_strata
        from harvest._stages import lonely_units

        c = self._codes
        if c.lonely_psu != "fail" or c.pps in ("overton", "ht"):
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
        for (stage, lonely), here in zip(lonely_units(c.stages), parents_present,
                                         strict=False):
            hit = lonely & here.any(axis=1)
            if hit.any():
                parent = int(np.flatnonzero(hit)[0])
                row_parent = c.row_psu if stage == 2 else c.stages[stage - 3].row_unit
                rows = np.flatnonzero(row_parent == parent)
                raise DataError(
                    f"A stage-{stage - 1} unit ({self.psu_columns[stage - 2]!r} = "
                    f"{plain_value(self.data[self.psu_columns[stage - 2]].iloc[int(rows[0])])!r}, "
                    f"{describe_rows(rows)}) has only one sampled stage-{stage} unit "
                    f"({self.psu_columns[stage - 1]!r}) and is not a census; choose "
                    "lonely_psu='remove', 'certainty', 'adjust' or 'average'."
                )

    def _warn_lonely(self, estimand, present) -> None:
        """LonelyPSUWarning: the policy applied to lonely strata an estimate needs, and
        the domains ``"average"`` leaves with se = NaN (no stratum to average over)."""
        from harvest._core import lonely_strata

        c = self._codes
        lonely = lonely_strata(c.n_psu, c.fraction)
        hit = np.flatnonzero(lonely & present.any(axis=1))
        if c.lonely_psu == "fail" or not hit.size:
            return
        shown = ", ".join(repr(plain_value(c.stratum_labels[h])) for h in hit[:10])
        shown += f" (and {hit.size - 10} more)" if hit.size > 10 else ""
        one = hit.size == 1
        effect = {
            "remove": "it adds nothing to the variance",
            "certainty": "it is taken as sampled with certainty and adds nothing to the "
                         "variance",
            "adjust": "its PSU total is centred on the overall mean (R 'adjust')",
            "average": "the variance of the other strata is scaled by (strata holding the "
                       "estimate) / (those with two or more PSUs), as R",
        }[c.lonely_psu]
        warnings.warn(
            f"{'Stratum' if one else 'Strata'} {shown} (column(s) {self.strata_columns}) "
            f"{'has' if one else 'have'} only one PSU; lonely_psu={c.lonely_psu!r}: "
            f"{effect if one else effect.replace('it ', 'each ', 1).replace('its ', 'each ', 1)}.",
            LonelyPSUWarning, stacklevel=6)
        if c.lonely_psu != "average":
            return
        held = present.any(axis=0)
        alone = np.flatnonzero(held & ~(present & ~lonely[:, None]).any(axis=0))
        if alone.size:
            from harvest._domains import domain_label

            names = sorted({domain_label(estimand, j) for j in alone})
            warnings.warn(
                f"se is NaN for {', '.join(names[:10])}: every stratum holding "
                f"{'it' if len(names) == 1 else 'them'} has one PSU, so lonely_psu='average' "
                "has no stratum to average over (as R survey, which gives NA); choose "
                "lonely_psu='adjust', 'remove' or 'certainty' to estimate it.",
                LonelyPSUWarning, stacklevel=6)

    def _vcov(self, estimand, full: bool):
        c = self._codes
        if c.stages:
            return self._multistage_vcov(estimand, full)
        present = estimand.stratum_present
        self._check_lonely(present)
        self._warn_lonely(estimand, present)
        # After the check, a lonely stratum under "fail" holds none of these domains, so
        # it adds nothing: "remove" gives the same numbers without a second check.
        policy = "remove" if c.lonely_psu == "fail" else c.lonely_psu
        low_rank = self._score_adjustment(estimand)
        if not (full or c.pps is not None or c.psu_fraction is not None):
            # variances only: over the (PSU, domain) pairs that occur (no P x D array);
            # a weighted design's residual scores are the pair scores less A @ B
            return pair_stratified_variance(estimand.pair_psu, estimand.pair_domain,
                                            estimand.pair_scores(), estimand.n_domains,
                                            c.psu_stratum, c.n_psu, c.fraction, policy,
                                            present=estimand.pair_counts > 0,
                                            low_rank=low_rank)
        scores = estimand.scores()
        if low_rank is not None:      # residuals of the calibration model, dense
            scores = scores - low_rank[0] @ low_rank[1]
        if c.pps == "overton":
            from harvest._stages import overton_vcov

            return overton_vcov(scores, c.psu_stratum, c.n_psu, c.psu_fraction, full=full)
        if c.pps == "ht":
            from harvest._stages import delta_vcov

            return delta_vcov(scores, c.pps_delta, full=full)
        return stratified_vcov(scores, c.psu_stratum, c.n_psu, c.fraction,
                               policy, full=full, stratum_present=None if full else present,
                               psu_fraction=c.psu_fraction)

    def _vcov_entries(self, estimand, first, second):
        c = self._codes
        if c.stages or c.pps is not None or c.psu_fraction is not None:
            return super()._vcov_entries(estimand, first, second)
        present = estimand.stratum_present
        self._check_lonely(present)
        self._warn_lonely(estimand, present)
        policy = "remove" if c.lonely_psu == "fail" else c.lonely_psu
        return pair_covariance_entries(estimand.pair_psu, estimand.pair_domain,
                                       estimand.pair_scores(), estimand.n_domains,
                                       c.psu_stratum, c.n_psu, c.fraction, policy,
                                       first, second,
                                       low_rank=self._score_adjustment(estimand))

    def _score_adjustment(self, estimand):
        """``(A, B)`` of :func:`harvest.weighting.score_adjustment` (the calibrated
        scores are ``S - A @ B``), or None for a design without weighting steps."""
        if not getattr(self, "_weighting", ()):
            return None
        from harvest.weighting import score_adjustment

        return score_adjustment(self, estimand)

    def _multistage_vcov(self, estimand, full: bool):
        """R ``multistage``: :func:`harvest._stages.multistage_vcov` on the unit totals."""
        from harvest._stages import multistage_vcov, stage_scores

        c = self._codes
        unit = estimand.unit_scores()
        if getattr(self, "_weighting", ()):
            from harvest.weighting import adjust_scores

            last = c.stages[-1]
            unit = adjust_scores(self, estimand, unit, row_group=last.row_unit,
                                 n_groups=len(last.unit_parent))
        psu, scores, parents = stage_scores(c.stages, unit, estimand.unit_present, c.n_psus)
        self._check_lonely(estimand.stratum_present, parents)
        return multistage_vcov(c, psu, scores, parents, c.lonely_psu, full,
                               stratum_present=estimand.stratum_present)

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
        with weight 0, so every PSU stays in the design. The variance linearises the
        weighting-class estimator :math:`\\sum_c (\\hat N_c / \\hat N_{c,r}) \\hat T_{c,r}`:
        a row of cell :math:`c` contributes
        :math:`w_i^* (z_i - \\bar z_{c,r}) + w_i \\bar z_{c,r}` with :math:`\\bar z_{c,r}`
        the respondents' (adjusted-weight) mean of the linearised variable ``z`` in the
        cell, so non-respondents' PSUs count (``docs/methods/weighting.md``).

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"psu": range(4), "r": [1, 0, 1, 1], "g": list("aabb")})
        >>> SurveyDesign(df, psu="psu").adjust_nonresponse("r", by="g").weights.tolist()
        [2.0, 0.0, 1.0, 1.0]
        """
        from harvest.weighting import adjust_nonresponse

        return adjust_nonresponse(self, column, by=by)
