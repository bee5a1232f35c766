"""The estimators every design class shares: proportion, mean, total, ratio.

:class:`_DesignBase` implements them once. A design class (Taylor
:class:`~harvest.design.SurveyDesign`, replicate :class:`~harvest.ReplicateDesign`)
holds ``data`` (the caller's DataFrame, by reference) and ``_codes`` (a
:class:`~harvest._codes.DesignCodes`) and supplies three methods:

* ``_vcov(estimand, full)``: ``(m, m)`` covariance of the estimates, or the ``(m,)``
  variances when ``full`` is False;
* ``_df(estimand)``: ``(m,)`` degrees of freedom for the intervals;
* ``_deff(estimand, variance)``: ``(m,)`` design effects.

``_table`` (behind every estimator) has three hooks with Taylor defaults that
:class:`~harvest.ReplicateDesign` overrides: ``_check_ci``, ``_table_variance`` and
``_interval``. ``subset`` keeps its body in ``_restricted``; ``summary()`` describes
the design (each class adds its fields in ``_summary``).

Examples
--------
>>> import pandas as pd
>>> from harvest.design import SurveyDesign
>>> df = pd.DataFrame({"psu": [1, 2, 3, 4], "y": [0, 1, 1, 0], "w": [1.0, 2, 3, 4]})
>>> t = SurveyDesign(df, weights="w", psu="psu").proportion("y")
>>> list(t.columns)  # doctest: +NORMALIZE_WHITESPACE
['indicator', 'estimate', 'se', 'ci_low', 'ci_high', 'level', 'ci_method', 'df', 'deff',
 'n', 'n_eff']
"""

from __future__ import annotations

import dataclasses

import numpy as np

from harvest._codes import mask_array
from harvest._domains import KINDS, Estimand, assemble_table, build_estimand
from harvest._errors import DataError
from harvest._options import NA_POLICY, PROPORTION_CI, check_level, check_option

__all__ = ["_DesignBase"]


class _DesignBase:
    """Estimators shared by every design class (see the module docstring)."""

    #: True when the variance is by linearisation over the design's strata and PSUs
    #: (``SurveyDesign``); False for replicate designs. Read by ``compare(df="domain")``.
    _linearised = False

    # -- what a subclass supplies ------------------------------------------------------
    def _vcov(self, estimand: Estimand, full: bool) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _df(self, estimand: Estimand) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _deff(self, estimand: Estimand, variance) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    # -- public estimators -------------------------------------------------------------
    def proportion(self, variables, by=None, ci="logit", level=0.95, na="fail"):
        """Proportion of rows with value 1 of each 0/1 variable, in each domain.

        Parameters
        ----------
        variables : str or list of str
            0/1 (or True/False) columns; anything else is a DataError naming the
            column, rows and value.
        by : str or list of str, optional
            Domain columns; one row of output per combination present in the data.
        ci : str
            Interval method: ``"logit"`` (default), ``"xlogit"``, ``"korn-graubard"``,
            ``"wald"``, ``"likelihood"``, ``"asin"``, ``"wilson"``, ``"jeffreys"``
            (see ``docs/methods/intervals.md``).
        level : float
            Confidence level.
        na : {"fail", "drop"}
            Missing values: an error naming the column, or leave those rows out of the
            estimate (they stay in the design for the variance). With ``"drop"``, ``n``
            counts the rows with a value and ``df`` does not change: it counts every PSU
            holding rows of the domain, also one whose rows all miss the variable
            (``docs/methods/estimation.md``, "Degrees of freedom with missing values").

        Returns
        -------
        pandas.DataFrame
            The ``by`` columns, then ``indicator, estimate, se, ci_low, ci_high, level,
            ci_method, df, deff, n, n_eff``.

        Notes
        -----
        :math:`\\hat p_d = \\sum_i w_i y_i 1_{d}(i) / \\sum_i w_i 1_d(i)`, linearised as a
        ratio of totals (R ``svymean`` on the domain); ``n_eff`` is
        :math:`\\hat p(1-\\hat p)/\\mathrm{se}^2`.

        Examples
        --------
        >>> import pandas as pd
        >>> from harvest.design import SurveyDesign
        >>> df = pd.DataFrame({"psu": [1, 2, 3, 4, 5, 6], "y": [0, 1, 1, 0, 1, 1],
        ...                    "g": list("aabbbb")})
        >>> SurveyDesign(df, psu="psu").proportion("y", by="g")["estimate"].tolist()
        [0.5, 0.75]
        """
        check_option("ci", ci, PROPORTION_CI)
        return self._table("proportion", variables, by, na, level, ci=ci)

    def mean(self, variables, by=None, level=0.95, na="fail"):
        """Weighted mean of each variable in each domain, with a t interval.

        Same parameters and columns as :meth:`proportion` (``ci_method`` is ``"wald"``:
        ``estimate +/- t(df) * se``, R ``confint(svymean(...), df=degf(design))``). With
        ``na="drop"`` the df is that of the domain's PSUs whether or not their rows have
        a value; ``n`` counts the rows with one.

        Notes
        -----
        :math:`\\bar y_d = \\hat Y_d / \\hat N_d`, variance of the linearised variable
        :math:`w_i (y_i - \\bar y_d) 1_d(i) / \\hat N_d`. ``n_eff`` is ``n / deff`` with the
        with-replacement design effect: :math:`s^2 / \\mathrm{se}^2`.

        Examples
        --------
        >>> import pandas as pd
        >>> from harvest.design import SurveyDesign
        >>> df = pd.DataFrame({"psu": [1, 2, 3, 4], "y": [1.0, 2.0, 3.0, 6.0]})
        >>> float(SurveyDesign(df, psu="psu").mean("y")["estimate"].iloc[0])
        3.0
        """
        return self._table("mean", variables, by, na, level)

    def total(self, variables, by=None, level=0.95, na="fail"):
        """Horvitz-Thompson total of each variable in each domain, with a t interval.

        Same parameters and columns as :meth:`mean` (with ``na="drop"``: df from every
        PSU holding rows of the domain, ``n`` from the rows with a value).

        Notes
        -----
        :math:`\\hat Y_d = \\sum_i w_i y_i 1_d(i)`; the PSU totals of :math:`w_i y_i 1_d(i)`
        enter the ultimate-cluster variance directly.

        Examples
        --------
        >>> import pandas as pd
        >>> from harvest.design import SurveyDesign
        >>> df = pd.DataFrame({"psu": [1, 2, 3], "w": [10.0, 10, 20], "y": [1, 0, 1]})
        >>> float(SurveyDesign(df, weights="w", psu="psu").total("y")["estimate"].iloc[0])
        30.0
        """
        return self._table("total", variables, by, na, level)

    def ratio(self, numerator, denominator, by=None, level=0.95, na="fail"):
        """Ratio of two totals in each domain, ``indicator = "num/den"``.

        Parameters
        ----------
        numerator : str or list of str
        denominator : str or list of str
            One column for every numerator, or one per numerator (paired).
        by, level, na
            As :meth:`mean`. With ``na="drop"`` a row leaves a ratio when its numerator
            or its denominator is missing (R ``svyratio(na.rm=TRUE)``); ``df`` still
            counts every PSU holding rows of the domain, ``n`` the rows with both values.

        Notes
        -----
        :math:`\\hat R_d = \\hat Y_d / \\hat X_d`, linearised variable
        :math:`w_i (y_i - \\hat R_d x_i) 1_d(i) / \\hat X_d` (R ``svyratio``).

        Examples
        --------
        >>> import pandas as pd
        >>> from harvest.design import SurveyDesign
        >>> df = pd.DataFrame({"psu": [1, 2, 3], "a": [1.0, 2, 3], "b": [2.0, 2, 2]})
        >>> SurveyDesign(df, psu="psu").ratio("a", "b")["indicator"].tolist()
        ['a/b']
        """
        return self._table("ratio", numerator, by, na, level, denominator=denominator)

    def compare(self, indicators, between, baseline=None, by=None, **options):
        """Contrasts between the levels of ``between``: :func:`harvest.compare.compare`.

        Examples
        --------
        >>> import pandas as pd
        >>> from harvest.design import SurveyDesign
        >>> df = pd.DataFrame({"psu": [1, 1, 2, 2], "year": [2023, 2024] * 2,
        ...                    "y": [0, 1, 1, 1]})
        >>> SurveyDesign(df, psu="psu").compare("y", "year", 2023)["estimate"].tolist()
        [0.5]
        """
        if options.get("kind") in ("list_experiment", "randomized_response"):
            # the change of an indirect estimate (harvest.sensitive builds on compare)
            from harvest.sensitive import compare_sensitive

            return compare_sensitive(self, indicators, between, baseline=baseline, by=by,
                                     **options)
        from harvest.compare import compare

        return compare(self, indicators, between, baseline=baseline, by=by, **options)

    def vcov(self, variables, by=None, kind="proportion", denominator=None, na="fail"):
        """Covariance of a by-table, labelled by domain: :func:`harvest.contrasts.vcov`.

        Examples
        --------
        >>> import pandas as pd
        >>> from harvest.design import SurveyDesign
        >>> df = pd.DataFrame({"psu": range(4), "g": list("abab"), "y": [0, 1, 1, 1]})
        >>> SurveyDesign(df, psu="psu").vcov("y", by="g").shape
        (2, 2)
        """
        from harvest.contrasts import vcov

        return vcov(self, variables, by=by, kind=kind, denominator=denominator, na=na)

    def contrast(self, variables, by=None, kind="proportion", coefficients=None,
                 function=None, level=0.95, denominator=None, na="fail"):
        """Linear and delta-method contrasts (R ``svycontrast``):
        :func:`harvest.contrasts.contrast`.

        Examples
        --------
        >>> import pandas as pd
        >>> from harvest.design import SurveyDesign
        >>> df = pd.DataFrame({"psu": range(4), "g": list("abab"), "y": [0, 1, 1, 1]})
        >>> SurveyDesign(df, psu="psu").contrast(
        ...     "y", by="g", coefficients={"b - a": {"b": 1, "a": -1}})["estimate"].tolist()
        [0.5]
        """
        from harvest.contrasts import contrast

        return contrast(self, variables, by=by, kind=kind, coefficients=coefficients,
                        function=function, level=level, denominator=denominator, na=na)

    def glm(self, formula, family="gaussian", subset=None, level=0.95):
        """Design-based generalised linear model: :func:`harvest.regression.fit_glm`.

        As R ``svyglm``: ``family`` is ``"gaussian"``, ``"binomial"``,
        ``"quasibinomial"``, ``"poisson"`` or ``"quasipoisson"``; ``subset`` (a column or
        a mask) is the domain, the full design stays for the variance. Returns a
        :class:`~harvest.regression.GLMResult` (``table``, ``vcov``, ``wald_test``,
        ``predict``).

        Examples
        --------
        >>> import pandas as pd
        >>> from harvest.design import SurveyDesign
        >>> df = pd.DataFrame({"psu": range(6), "x": [1.0, 2, 3, 4, 5, 6],
        ...                    "y": [3.0, 5, 7, 9, 11, 13]})
        >>> SurveyDesign(df, psu="psu").glm("y ~ x").table["estimate"].round(6).tolist()
        [1.0, 2.0]
        """
        from harvest.regression import fit_glm

        return fit_glm(self, formula, family=family, subset=subset, level=level)

    @property
    def weights(self):
        """The design's final weights, a Series on the caller's index.

        Examples
        --------
        >>> import pandas as pd
        >>> from harvest.design import SurveyDesign
        >>> SurveyDesign(pd.DataFrame({"y": [1, 2]})).weights.tolist()
        [1.0, 1.0]
        """
        import pandas as pd

        return pd.Series(self._codes.weights, index=self.data.index, name="weight")

    # -- for comparisons (harvest.compare) ----------------------------------------------
    def _estimate_vcov(self, kind, variables, by=None, na="fail", denominator=None):
        """Estimates, their full covariance and df, for contrasts between domains.

        Parameters
        ----------
        kind : {"proportion", "mean", "total", "ratio"}
        variables, by, na, denominator
            As the estimators.

        Returns
        -------
        estimand : Estimand
            ``estimand.domains`` and ``estimand.indicators`` label the columns
            (column ``j = d * k + v``).
        estimate : numpy.ndarray, shape (m,)
        vcov : numpy.ndarray, shape (m, m)
            Covariance across every domain x indicator, from the design (R
            ``svyby(..., covmat=TRUE)``).
        df : numpy.ndarray, shape (m,)
        """
        check_option("kind", kind, KINDS)
        check_option("na", na, NA_POLICY)
        estimand = build_estimand(self, kind, variables, by, na, denominator)
        estimate = estimand.estimate()
        vcov = np.array(self._vcov(estimand, True), dtype=float)
        empty = estimand.n == 0          # no value observed: nothing estimable
        estimate = np.where(empty, np.nan, estimate)
        vcov[empty, :] = np.nan
        vcov[:, empty] = np.nan
        return estimand, estimate, vcov, self._df(estimand)

    def _estimate_entries(self, kind, variables, by=None, na="fail", denominator=None):
        """As :meth:`_estimate_vcov`, with the covariance as a function of the entries
        asked (``entries(first, second) -> V[first, second]``) instead of the ``(m, m)``
        matrix: what comparisons of a few pairs among many domains need."""
        check_option("kind", kind, KINDS)
        check_option("na", na, NA_POLICY)
        estimand = build_estimand(self, kind, variables, by, na, denominator)
        empty = estimand.n == 0
        estimate = np.where(empty, np.nan, estimand.estimate())

        def entries(first, second):
            first = np.asarray(first, dtype=np.intp)
            second = np.asarray(second, dtype=np.intp)
            out = np.asarray(self._vcov_entries(estimand, first, second), dtype=float)
            return np.where(empty[first] | empty[second], np.nan, out)

        return estimand, estimate, entries, self._df(estimand)

    def _vcov_entries(self, estimand: Estimand, first, second) -> np.ndarray:
        """``V[first, second]`` of the full covariance (default: from the full matrix)."""
        return np.asarray(self._vcov(estimand, True), dtype=float)[first, second]

    # -- shared machinery --------------------------------------------------------------
    def _table(self, kind, variables, by, na, level, ci=None, denominator=None):
        """The tidy table of every estimator; the two hooks below differ by design class."""
        level = check_level(level)
        check_option("na", na, NA_POLICY)
        self._check_ci(ci)
        estimand = build_estimand(self, kind, variables, by, na, denominator)
        estimate = estimand.estimate()
        variance, extra = self._table_variance(estimand, kind, ci)
        variance = np.asarray(variance, dtype=float)
        # A domain whose rows all miss the variable (na="drop") has nothing to estimate.
        empty = estimand.n == 0
        estimate = np.where(empty, np.nan, estimate)
        variance = np.where(empty, np.nan, variance)
        se = np.sqrt(np.maximum(variance, 0.0))
        df = np.asarray(self._df(estimand), dtype=float)
        deff = self._deff(estimand, variance)
        n_eff = estimand.effective_n(estimate, variance)
        low, high, method = self._interval(estimand, kind, ci, estimate, se, df, level, extra)
        return assemble_table(estimand, estimate, se, low, high, level, method, df, deff,
                              n_eff)

    # -- the hooks of _table (ReplicateDesign overrides them) ---------------------------
    def _check_ci(self, ci) -> None:
        """Refuse an interval method this design cannot give (here: every one is fine)."""

    def _table_variance(self, estimand: Estimand, kind, ci):
        """``(variances (m,), extra)``: ``extra`` is what :meth:`_interval` needs besides."""
        return self._vcov(estimand, False), None

    def _interval(self, estimand: Estimand, kind, ci, estimate, se, df, level, extra):
        """``(ci_low, ci_high, ci_method)``: a proportion interval or a t interval."""
        from harvest.intervals import proportion_ci, t_interval

        if kind != "proportion":
            low, high = t_interval(estimate, se, df, level)
            return low, high, "wald"
        options = {}
        if ci == "likelihood":
            from harvest.intervals import irls_weight

            options["irls_weight"] = irls_weight(
                estimand.row_y, estimand.row_weight, estimand.row_domain,
                estimand.n_domains).reshape(-1)
        low, high = proportion_ci(ci, estimate, se, df, level, np.maximum(estimand.n, 1),
                                  **options)
        return low, high, ci

    # -- subpopulations (both subset methods) -------------------------------------------
    def _mask_array(self, mask) -> np.ndarray:
        """``mask`` as a bool array over the rows: :func:`harvest._codes.mask_array`."""
        return mask_array(self.data, mask)

    def _restricted(self, mask):
        """A copy of the design whose rows outside ``mask`` have weight 0 (``subset``)."""
        keep = self._mask_array(mask)
        weights = np.where(keep, self._codes.weights, 0.0)
        if not (weights > 0).any():
            raise DataError(
                f"`mask` selects no rows with positive weight (of {len(keep)} rows, "
                f"{int(keep.sum())} selected); the subpopulation is empty."
            )
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        outside = ~keep if self._codes.outside is None else self._codes.outside | ~keep
        new._codes = dataclasses.replace(self._codes, weights=weights, outside=outside)
        return new

    def quantile(self, variables, q=0.5, by=None, interval="mean", qrule="math", level=0.95,
                 na="fail"):
        """Design-based quantiles with their intervals: :func:`harvest.quantiles.quantile`.

        Examples
        --------
        >>> import pandas as pd
        >>> from harvest.design import SurveyDesign
        >>> df = pd.DataFrame({"psu": range(5), "fee": [3.0, 1, 4, 1, 5]})
        >>> SurveyDesign(df, psu="psu").quantile("fee")["estimate"].tolist()
        [3.0]
        """
        from harvest.quantiles import quantile

        return quantile(self, variables, q=q, by=by, interval=interval, qrule=qrule,
                        level=level, na=na)

    # -- sensitive questions (harvest.sensitive) ----------------------------------------
    def list_experiment(self, count, treatment, by=None, level=0.95, na="fail", **options):
        """List-experiment prevalence: :func:`harvest.sensitive.list_experiment`.

        Examples
        --------
        >>> import pandas as pd
        >>> from harvest.design import SurveyDesign
        >>> df = pd.DataFrame({"psu": range(4), "t": [0, 1, 0, 1], "c": [1, 2, 1, 1]})
        >>> SurveyDesign(df, psu="psu").list_experiment("c", "t")["estimate"].tolist()
        [0.5]
        """
        from harvest.sensitive import list_experiment

        return list_experiment(self, count, treatment, by=by, level=level, na=na, **options)

    def randomized_response(self, answer, model="forced", by=None, level=0.95, na="fail",
                            **options):
        """Randomized-response prevalence: :func:`harvest.sensitive.randomized_response`.

        Examples
        --------
        >>> import pandas as pd
        >>> from harvest.design import SurveyDesign
        >>> df = pd.DataFrame({"psu": range(4), "a": [1, 0, 1, 0]})
        >>> SurveyDesign(df, psu="psu").randomized_response(
        ...     "a", model="warner", p=0.75)["estimate"].tolist()
        [0.5]
        """
        from harvest.sensitive import randomized_response

        return randomized_response(self, answer, model=model, by=by, level=level, na=na,
                                   **options)

    # -- tests (harvest.association) --------------------------------------------------
    def chisq(self, rows, cols, statistic="F", na="fail"):
        """Test of independence in a two-way table: :func:`harvest.association.chisq`.

        Examples
        --------
        >>> import pandas as pd
        >>> from harvest.design import SurveyDesign
        >>> df = pd.DataFrame({"psu": range(8), "a": list("xxxxyyyy"),
        ...                    "b": [0, 0, 1, 1, 0, 1, 1, 1]})
        >>> SurveyDesign(df, psu="psu").chisq("a", "b")["test"].tolist()
        ['F']
        """
        from harvest.association import chisq

        return chisq(self, rows, cols, statistic=statistic, na=na)

    def ttest(self, variable, by=None, level=0.95, na="fail"):
        """Design-based t test of a mean or a difference: :func:`harvest.association.ttest`.

        Examples
        --------
        >>> import pandas as pd
        >>> from harvest.design import SurveyDesign
        >>> df = pd.DataFrame({"psu": range(4), "y": [1.0, 2, 4, 5], "g": [0, 0, 1, 1]})
        >>> SurveyDesign(df, psu="psu").ttest("y", by="g")["estimate"].tolist()
        [3.0]
        """
        from harvest.association import ttest

        return ttest(self, variable, by=by, level=level, na=na)

    # -- what the design is (survives any DataFrame operation) --------------------------
    def summary(self) -> dict:
        """The design in one dict: what a report or a result needs to say about it.

        Returns
        -------
        dict
            ``design`` (``"taylor"`` or ``"replicate"``), ``rows``, ``rows_in_estimates``
            (rows with positive weight: fewer after :meth:`subset`), ``weights`` (the
            column or None), ``weight_sum``, then per class: ``strata``, ``psus``,
            ``df`` (PSUs minus strata, R ``degf``), ``fpc``, ``lonely_psu`` for a
            Taylor design; ``method``, ``replicates``, ``scale``, ``mse``, ``rho`` for a
            replicate design.

        Notes
        -----
        Plain values on the design object: unlike ``DataFrame.attrs`` (experimental in
        pandas, dropped by many operations) they stay available whatever is done to the
        tables the design produced.

        Examples
        --------
        >>> import pandas as pd
        >>> from harvest.design import SurveyDesign
        >>> df = pd.DataFrame({"psu": [1, 2, 3, 4], "y": [0, 1, 1, 0]})
        >>> s = SurveyDesign(df, psu="psu").summary()
        >>> s["design"], s["rows"], s["psus"], s["df"]
        ('taylor', 4, 4, 3)
        """
        w = self._codes.weights
        out = {"design": "taylor" if self._linearised else "replicate",
               "rows": len(self.data), "rows_in_estimates": int((w > 0).sum()),
               "weights": getattr(self, "weights_column", None),
               "weight_sum": float(w.sum())}
        out.update(self._summary())
        return out

    def _summary(self) -> dict:  # pragma: no cover - every design class supplies it
        return {}
