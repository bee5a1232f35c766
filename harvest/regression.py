"""Design-based generalised linear models: R ``survey::svyglm`` and ``regTermTest``.

The coefficients solve the weighted score equations

.. math:: \\hat U(\\beta) = \\sum_i w_i x_i \\frac{\\mu_i'}{V(\\mu_i)} (y_i - \\mu_i) = 0,

fitted by iteratively reweighted least squares (numpy, stacked ``(R, p, p)`` solves when
there are replicates). The variance is Binder's (1983) sandwich: the row influence
values :math:`x_i \\mu_i' (y_i - \\mu_i) / V(\\mu_i)\\,A^{-1}` with
:math:`A = \\sum_i w_i x_i x_i^\\top \\mu_i'^2 / V(\\mu_i)` become PSU totals of an
:class:`~harvest._domains.Estimand` and go through the design's own variance (the
ultimate-cluster estimator of :func:`harvest._core.stratified_vcov` for a
:class:`~harvest.SurveyDesign`, with its calibration residuals). A replicate design
refits the model under each replicate's weights starting from the full-sample
coefficients, as R ``svyglm.svyrep.design``, and combines the replicate coefficients
with the design's ``scale`` and ``rscales``. See ``docs/methods/regression.md``.

Examples
--------
>>> import numpy as np, pandas as pd
>>> import harvest as hv
>>> rng = np.random.default_rng(1)
>>> df = pd.DataFrame({"psu": np.repeat(np.arange(20), 5), "x": rng.normal(size=100)})
>>> df["y"] = 1.0 + 2.0 * df["x"] + rng.normal(size=100)
>>> fit = hv.SurveyDesign(df, psu="psu").glm("y ~ x")
>>> fit.table["term"].tolist()
['(Intercept)', 'x']
>>> round(float(fit.table["estimate"].iloc[1]), 2)
1.97
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from harvest._core import group_sum
from harvest._domains import Estimand
from harvest._errors import DataError, HarvestWarning, describe_rows
from harvest._options import GLM_FAMILIES, check_level, check_option

__all__ = ["GLMResult", "fit_glm", "odds_ratios", "TABLE_COLUMNS", "WALD_COLUMNS",
           "ODDS_RATIO_COLUMNS"]

#: Columns of :attr:`GLMResult.table` (API.md).
TABLE_COLUMNS = ["term", "estimate", "se", "ci_low", "ci_high", "level", "df", "statistic",
                 "p_value"]
#: Columns of :meth:`GLMResult.wald_test` (API.md).
WALD_COLUMNS = ["terms", "statistic", "df_num", "df_den", "p_value"]

#: Columns of :func:`odds_ratios`.
ODDS_RATIO_COLUMNS = ["indicator", "term", "estimate", "ci_low", "ci_high", "level", "df",
                      "p_value", "n"]

#: IRLS stops when no coefficient moves by more than this (relative to 1 + |beta|).
TOLERANCE = 1e-10
MAX_ITER = 100
#: Entries of one ``(replicates, rows, p)`` block of the batched replicate refits.
MAX_BLOCK = 4_000_000
_EPS = np.finfo(float).eps


# -- families ---------------------------------------------------------------------------
class _Family:
    """Link, inverse link, its derivative and the variance function of one family."""

    def __init__(self, name):
        self.name = name
        self.kind = name.removeprefix("quasi")
        #: dispersion estimated (gaussian, quasi-) or fixed at 1 (binomial, poisson)
        self.estimated = name in ("gaussian", "quasibinomial", "quasipoisson")

    def linkinv(self, eta):
        if self.kind == "binomial":
            # R's plogis with its bounds (binomial()$linkinv)
            mu = 1.0 / (1.0 + np.exp(-np.clip(eta, -700, 700)))
            return np.clip(mu, _EPS, 1 - _EPS)
        if self.kind == "poisson":
            return np.maximum(np.exp(np.minimum(eta, 700)), _EPS)
        return eta

    def mu_eta(self, eta):
        if self.kind == "binomial":
            e = np.exp(-np.abs(eta))
            return np.maximum(e / (1.0 + e) ** 2, _EPS)
        if self.kind == "poisson":
            return np.maximum(np.exp(np.minimum(eta, 700)), _EPS)
        return np.ones_like(eta)

    def variance(self, mu):
        if self.kind == "binomial":
            return mu * (1.0 - mu)
        if self.kind == "poisson":
            return mu
        return np.ones_like(mu)

    def start_eta(self, y, w):
        """R's ``family$initialize`` then ``linkfun(mustart)``."""
        if self.kind == "binomial":
            mu = (w * y + 0.5) / (w + 1.0)
            return np.log(mu / (1.0 - mu))
        if self.kind == "poisson":
            return np.log(y + 0.1)
        return y.astype(float)


def _irls(X, y, w, family, beta=None):
    """Coefficients ``(R, p)`` of the fits with weights ``w`` ``(R, n)``, and convergence.

    Newton (Fisher scoring) steps for every replicate at once: ``(R, p, p)`` matrices
    :math:`X^\\top W_r X` and one stacked solve per iteration.
    """
    if beta is None:
        eta = np.broadcast_to(family.start_eta(y, w / w.mean(axis=1, keepdims=True)),
                              w.shape)
    else:
        eta = beta @ X.T
    converged = False
    for _ in range(MAX_ITER):
        mu = family.linkinv(eta)
        d = family.mu_eta(eta)
        ww = w * d * d / family.variance(mu)
        z = eta + (y - mu) / d
        wx = ww[:, :, None] * X[None]
        A = np.matmul(wx.transpose(0, 2, 1), X)
        b = np.einsum("rnp,rn->rp", wx, z)
        new = np.linalg.solve(A, b[..., None])[..., 0]
        if not np.isfinite(new).all():
            raise DataError("the model could not be fitted: the iterations gave infinite "
                            "coefficients (perfect separation or an empty category?).")
        if beta is not None and (np.abs(new - beta) <= TOLERANCE * (1 + np.abs(beta))).all():
            beta = new
            converged = True
            break
        beta = new
        eta = beta @ X.T
    return beta, converged


# -- formulas -----------------------------------------------------------------------------
_TREATMENT = re.compile(r"\[T\.(.*?)\]")


def _r_name(column: str) -> str:
    """R's coefficient name for a formulaic column: ``region[T.north]`` -> ``regionnorth``."""
    if column == "Intercept":
        return "(Intercept)"
    return _TREATMENT.sub(lambda m: m.group(1), column)


def _canonical(term: str) -> str:
    """A term label with its factors sorted (R ``regTermTest``'s ``canonicalOrder``)."""
    return ":".join(sorted(part.strip() for part in str(term).split(":")))


def _split_formula(formula):
    if not isinstance(formula, str) or formula.count("~") != 1:
        raise ValueError(f"`formula` must be a string 'response ~ terms'; got {formula!r}.")
    lhs, rhs = (part.strip() for part in formula.split("~"))
    if not lhs or not rhs:
        raise ValueError(f"`formula` must be a string 'response ~ terms'; got {formula!r}.")
    return lhs, rhs


def _response(frame, lhs, family, data, rows):
    """The response on the frame's rows as floats (NaN where missing)."""
    if lhs in frame.columns:
        series = frame[lhs]
        if pd.api.types.is_bool_dtype(series.dtype):
            return series.astype(float).to_numpy(), lhs
        if pd.api.types.is_numeric_dtype(series.dtype):
            return series.to_numpy(dtype=float, na_value=np.nan), lhs
        # a two-level factor: the first (sorted) level is failure, as R's binomial
        levels = sorted(series.dropna().unique().tolist(), key=str)
        if family.kind != "binomial" or len(levels) != 2:
            raise DataError(
                f"response column {lhs!r} is not numeric (levels {levels[:5]}); a factor "
                "response needs exactly two levels and a binomial family.")
        y = (series == levels[1]).astype(float).to_numpy()
        return np.where(series.isna().to_numpy(), np.nan, y), f"{lhs}=={levels[1]}"
    import formulaic

    try:
        lhs_matrix = formulaic.model_matrix(f"{lhs} ~ 1", frame, na_action="ignore").lhs
    except Exception as error:  # formulaic raises many kinds
        raise DataError(f"the response {lhs!r} could not be evaluated: {error}") from None
    if lhs_matrix.shape[1] != 1:
        raise DataError(f"the response {lhs!r} gives {lhs_matrix.shape[1]} columns; "
                        "one is needed.")
    return np.asarray(lhs_matrix, dtype=float)[:, 0], lhs


def _check_response(y, lhs, family, data, rows):
    if family.kind == "binomial":
        bad = np.flatnonzero((y < 0) | (y > 1))
        what = "between 0 and 1 (or True/False, or a two-level factor)"
    elif family.kind == "poisson":
        bad = np.flatnonzero(y < 0)
        what = "non-negative"
    else:
        bad = np.flatnonzero(~np.isfinite(y))
        what = "finite"
    if len(bad):
        raise DataError(f"response {lhs!r} must be {what} for family {family.name!r}; found "
                        f"{float(y[bad[0]])!r} in {describe_rows(rows[bad])}.")


# -- the result ---------------------------------------------------------------------------
class GLMResult:
    """A fitted design-based GLM (R ``svyglm``).

    Attributes
    ----------
    table : pandas.DataFrame
        ``term, estimate, se, ci_low, ci_high, level, df, statistic, p_value``: t
        statistics and intervals on ``df`` = design df + 1 - p (R ``summary.svyglm``).
    vcov : pandas.DataFrame
        Covariance of the coefficients, terms x terms (R ``vcov``).
    coefficients : pandas.Series
    df : float
        Residual degrees of freedom, R ``df.residual``.
    dispersion : float
        1 for ``binomial`` and ``poisson``; for ``gaussian`` and the quasi families the
        design-based variance of the Pearson residuals (R ``summary.svyglm``).
    family, formula : str
    n : int
        Rows in the fit (positive weight, complete values).
    converged : bool
    """

    def __init__(self, *, formula, family, spec, terms, names, beta, vcov, df, level,
                 dispersion, n, converged, term_columns):
        self.formula = formula
        self.family = family.name
        self._family = family
        self._spec = spec
        self.terms = terms
        self.names = names
        self.coefficients = pd.Series(beta, index=names, name="estimate")
        self.vcov = pd.DataFrame(vcov, index=names, columns=names)
        self.df = float(df)
        self.level = level
        self.dispersion = float(dispersion)
        self.n = int(n)
        self.converged = bool(converged)
        self._term_columns = term_columns
        self.table = self._table(beta, vcov, df, level)

    def __repr__(self) -> str:
        return (f"GLMResult({self.formula!r}, family={self.family!r}, n={self.n}, "
                f"df={self.df:g})\n{self.table.to_string(index=False)}")

    @staticmethod
    def _table(beta, vcov, df, level):
        from harvest._dist import t_sf
        from harvest.intervals import t_interval

        se = np.sqrt(np.maximum(np.diag(vcov), 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            stat = beta / se
        dfs = np.full(beta.size, float(df))
        if df > 0:
            p_value = 2.0 * t_sf(np.abs(stat), dfs)
        else:
            p_value = np.full(beta.size, np.nan)
        low, high = t_interval(beta, se, dfs, level)
        return pd.DataFrame({"term": None, "estimate": beta, "se": se, "ci_low": low,
                             "ci_high": high, "level": float(level), "df": dfs,
                             "statistic": stat, "p_value": p_value})

    def wald_test(self, terms, df=None) -> pd.DataFrame:
        """Wald test that every coefficient of ``terms`` is zero (R ``regTermTest``).

        Parameters
        ----------
        terms : str or list of str
            Formula terms (``"region"``, ``"region:n_pickers"``); all their
            coefficients are tested together.
        df : float, optional
            Denominator degrees of freedom; default the model's residual df. ``inf``
            gives the chi-squared test.

        Returns
        -------
        pandas.DataFrame
            One row: ``terms`` (the terms joined by ``" + "``), ``statistic`` (F, or
            chi-squared when ``df`` is infinite), ``df_num``, ``df_den``, ``p_value``.

        Notes
        -----
        :math:`X^2 = \\hat\\beta_T^\\top \\hat V_T^{-1} \\hat\\beta_T`;
        :math:`F = X^2 / q` on :math:`(q, \\nu)` degrees of freedom, with :math:`q` the
        number of coefficients tested and :math:`\\nu` the residual df.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> import harvest as hv
        >>> rng = np.random.default_rng(0)
        >>> df = pd.DataFrame({"psu": range(60), "g": list("abc") * 20,
        ...                    "y": rng.normal(size=60)})
        >>> t = hv.SurveyDesign(df, psu="psu").glm("y ~ g").wald_test("g")
        >>> list(t.columns), int(t["df_num"].iloc[0])
        (['terms', 'statistic', 'df_num', 'df_den', 'p_value'], 2)
        """
        from scipy import special

        if isinstance(terms, str):
            terms = [terms]
        terms = list(terms)
        if not terms:
            raise ValueError("`terms` must name at least one term of the model.")
        known = {_canonical(t): cols for t, cols in self._term_columns.items()}
        index = []
        for term in terms:
            key = _canonical(term)
            if key not in known:
                raise ValueError(f"term {term!r} is not in the model; its terms are "
                                 f"{list(self._term_columns)}.")
            index.extend(known[key])
        index = sorted(set(index))
        beta = self.coefficients.to_numpy()[index]
        V = self.vcov.to_numpy()[np.ix_(index, index)]
        chisq = float(beta @ np.linalg.solve(V, beta))
        q = len(index)
        den = self.df if df is None else float(df)
        if np.isinf(den):
            stat, p = chisq, float(special.chdtrc(q, chisq))
        else:
            stat = chisq / q
            p = float(special.fdtrc(q, den, stat)) if den > 0 else np.nan
        return pd.DataFrame({"terms": [" + ".join(terms)], "statistic": [stat],
                             "df_num": [float(q)], "df_den": [den], "p_value": [p]})

    def predict(self, new_frame) -> pd.DataFrame:
        """Predicted means on the response scale with SEs (R ``predict.svyglm``).

        Parameters
        ----------
        new_frame : pandas.DataFrame
            The covariates of the formula; factor levels must be among those of the
            fit. Rows with a missing covariate get NaN.

        Returns
        -------
        pandas.DataFrame
            ``estimate, se`` on ``new_frame``'s index: :math:`\\hat\\mu = g^{-1}(x^\\top
            \\hat\\beta)` and :math:`\\mathrm{se} = |\\mu'(\\eta)| \\sqrt{x^\\top \\hat V x}`
            (``type="response"``).

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> import harvest as hv
        >>> df = pd.DataFrame({"psu": range(40), "x": np.arange(40.0) % 4,
        ...                    "y": np.arange(40) % 3 == 0})
        >>> fit = hv.SurveyDesign(df, psu="psu").glm("y ~ x", family="binomial")
        >>> fit.predict(pd.DataFrame({"x": [0.0, 3.0]})).columns.tolist()
        ['estimate', 'se']
        """
        if not isinstance(new_frame, pd.DataFrame):
            raise TypeError("`new_frame` must be a pandas DataFrame.")
        try:
            mm = self._spec.get_model_matrix(new_frame, na_action="ignore")
        except Exception as error:  # formulaic raises many kinds
            raise DataError(f"`new_frame` does not fit the model's terms: {error}") from None
        X = np.asarray(mm, dtype=float)
        eta = X @ self.coefficients.to_numpy()
        var_eta = np.einsum("ni,ij,nj->n", X, self.vcov.to_numpy(), X)
        mu = self._family.linkinv(eta)
        d = self._family.mu_eta(eta)
        return pd.DataFrame({"estimate": mu, "se": d * np.sqrt(np.maximum(var_eta, 0))},
                            index=new_frame.index)


# -- fitting ------------------------------------------------------------------------------
def _score_estimand(design, rows, influence, names) -> Estimand:
    """The Estimand of the coefficients' influence values (kind ``"total"``)."""
    codes = design._codes
    P, H = codes.n_psus, codes.n_strata
    w = codes.weights[rows]
    psu = codes.row_psu[rows]
    p = influence.shape[1]
    Y = group_sum(psu, P, w[:, None] * influence)
    domain_psu = (np.bincount(psu, minlength=P) > 0)[:, None]
    present = group_sum(codes.psu_stratum, H, domain_psu.astype(float)) > 0
    return Estimand.from_dense(psu_stratum=codes.psu_stratum, n_strata=H, kind="total", by=[],
                               domains=pd.DataFrame(index=range(1)),
                    indicators=list(names), variables=list(names), denominators=[], Y=Y,
                    X=None, n=np.full(p, rows.size), wsum=np.full(p, w.sum()),
                    s2=np.full(p, np.nan), domain_psu=domain_psu,
                    stratum_present=np.repeat(present, p, axis=1), row_index=rows,
                    row_domain=np.zeros(rows.size, dtype=np.intp), row_y=influence,
                    row_weight=w)


def _replicate_weight_blocks(design, rows, p):
    """Yield ``(start, W)`` with ``W`` the ``(b, len(rows))`` replicate weights of ``rows``."""
    w = design._codes.weights[rows]
    factors = getattr(design, "_factors", None)
    batch = max(1, MAX_BLOCK // max(rows.size * p, 1))
    if factors is not None:
        psu = design._codes.row_psu[rows]
        for start, F in factors.blocks(design.batch):
            for lo in range(0, F.shape[0], batch):
                yield start + lo, F[lo:lo + batch][:, psu] * w
        return
    columns = design.replicate_columns
    values = design.data[columns]
    for lo in range(0, len(columns), batch):
        block = values.iloc[rows, lo:lo + batch].to_numpy(dtype=float).T
        yield lo, block if design.combined_weights else block * w


def _replicate_vcov(design, X, y, rows, family, beta0):
    """R ``svrVar`` of the replicate refits (started from ``beta0``)."""
    R = design.n_replicates
    betas = np.empty((R, beta0.size))
    converged = True
    for start, W in _replicate_weight_blocks(design, rows, beta0.size):
        b, ok = _irls(X, y, W, family, np.repeat(beta0[None], W.shape[0], axis=0))
        betas[start:start + W.shape[0]] = b
        converged &= ok
    rscales = np.broadcast_to(np.asarray(design.rscales, dtype=float), (R,))
    centre = beta0 if design.mse else betas[rscales > 0].mean(axis=0)
    dev = betas - centre
    return design.scale * (dev.T * rscales) @ dev, converged


def fit_glm(design, formula, family="gaussian", subset=None, level=0.95) -> GLMResult:
    """Fit a design-based GLM: the body of :meth:`harvest._base._DesignBase.glm`.

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
    formula : str
        ``"response ~ terms"`` (formulaic, R's treatment coding: first sorted level is
        the reference).
    family : {"gaussian", "binomial", "quasibinomial", "poisson", "quasipoisson"}
    subset : str or array_like of bool, optional
        A 0/1 or True/False column, or a mask: the domain. The full design stays for the
        variance (R ``svyglm(subset=)``).
    level : float

    Returns
    -------
    GLMResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import harvest as hv
    >>> df = pd.DataFrame({"psu": range(30), "x": np.arange(30.0),
    ...                    "y": np.arange(30.0) * 2 + 1})
    >>> fit_glm(hv.SurveyDesign(df, psu="psu"), "y ~ x").coefficients.round(6).tolist()
    [1.0, 2.0]
    """
    import formulaic

    check_option("family", family, GLM_FAMILIES)
    level = check_level(level)
    fam = _Family(family)
    if subset is not None:
        if isinstance(subset, str):
            if subset not in design.data.columns:
                raise DataError(f"`subset` column {subset!r} is not in the data.")
            column = design.data[subset]
            if pd.api.types.is_numeric_dtype(column.dtype) and not \
                    pd.api.types.is_bool_dtype(column.dtype):
                bad = np.flatnonzero(~column.isin([0, 1]).to_numpy())
                if len(bad):
                    raise DataError(f"`subset` column {subset!r} must be 0/1 or True/False; "
                                    f"found {column.iloc[bad[0]]!r} in {describe_rows(bad)}.")
                column = column == 1
            subset = column
        design = design._restricted(subset)
    lhs, rhs = _split_formula(formula)
    data = design.data
    rows = np.flatnonzero(design._codes.weights > 0)
    frame = data.iloc[rows]
    try:
        rhs_matrix = formulaic.model_matrix(rhs, frame, na_action="ignore")
    except Exception as error:  # formulaic raises many kinds
        raise DataError(f"the terms {rhs!r} could not be evaluated on the data: "
                        f"{error}") from None
    X = np.asarray(rhs_matrix, dtype=float)
    y, _ = _response(frame, lhs, fam, data, rows)
    complete = ~np.isnan(y) & ~np.isnan(X).any(axis=1)
    rows, X, y = rows[complete], X[complete], y[complete]
    if rows.size == 0:
        raise DataError(f"no row has complete values of the formula {formula!r} (with "
                        "positive weight).")
    _check_response(y, lhs, fam, data, rows)
    spec = rhs_matrix.model_spec
    columns = list(spec.column_names)
    names = [_r_name(c) for c in columns]
    p = len(names)
    rank = np.linalg.matrix_rank(X)
    if rank < p:
        aliased = next(j for j in range(p) if np.linalg.matrix_rank(X[:, :j + 1]) <= j)
        raise DataError(f"the model's columns are collinear on the rows of the fit: "
                        f"{names[aliased]!r} is a combination of the columns before it "
                        "(an empty category, or a covariate constant in the domain).")
    term_columns = {str(s.term): [columns.index(c) for c in s.columns]
                    for s in spec.structure}

    w = design._codes.weights[rows]
    beta, converged = _irls(X, y, w[None], fam)
    beta = beta[0]
    eta = X @ beta
    mu = fam.linkinv(eta)
    d = fam.mu_eta(eta)
    v = fam.variance(mu)
    A = (X * (w * d * d / v)[:, None]).T @ X
    Ainv = np.linalg.inv(A)
    influence = (X * (d * (y - mu) / v)[:, None]) @ Ainv
    estimand = _score_estimand(design, rows, influence, names)
    if design._linearised:
        vcov = np.asarray(design._vcov(estimand, True), dtype=float)
    else:
        vcov, ok = _replicate_vcov(design, X, y, rows, fam, beta)
        converged &= ok
    if not converged:
        warnings.warn(f"the fit of {formula!r} did not converge in {MAX_ITER} iterations "
                      "(for the full sample or a replicate).", HarvestWarning, stacklevel=3)
    design_df = float(np.asarray(design._df(estimand), dtype=float)[0])
    dispersion = 1.0
    if fam.estimated:
        pearson = (y - mu) / np.sqrt(v)     # R residuals.svyglm(type="pearson")
        mean = np.sum(w * pearson) / w.sum()
        n = rows.size
        dispersion = float(np.sum(w * (pearson - mean) ** 2) / w.sum() * n / (n - 1))
    result = GLMResult(formula=formula, family=fam, spec=spec, terms=list(term_columns),
                       names=names, beta=beta, vcov=vcov, df=design_df + 1 - p,
                       level=level, dispersion=dispersion, n=rows.size,
                       converged=converged, term_columns=term_columns)
    result.table["term"] = names
    return result


def odds_ratios(design, indicators, covariates, level=0.95, subset=None) -> pd.DataFrame:
    """Odds ratios of 0/1 indicators on covariates: "who is most affected".

    One quasibinomial model ``indicator ~ covariate_1 + ... + covariate_k`` per indicator
    (:meth:`~harvest._base._DesignBase.glm`); each coefficient but the intercept becomes
    an odds ratio :math:`e^{\\hat\\beta_j}` with the interval
    :math:`e^{\\hat\\beta_j \\pm t_{\\nu} \\mathrm{se}_j}`, adjusted for the other
    covariates.

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
    indicators : str or list of str
        0/1 columns.
    covariates : list of str
        Formula terms (columns; a category is compared with its first sorted level).
    level : float
    subset : optional
        As :meth:`~harvest._base._DesignBase.glm`.

    Returns
    -------
    pandas.DataFrame
        ``indicator, term, estimate, ci_low, ci_high, level, df, p_value, n``
        (``estimate`` is the odds ratio; ``p_value`` of the t test of the coefficient).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import harvest as hv
    >>> rng = np.random.default_rng(2)
    >>> df = pd.DataFrame({"psu": range(200), "x": rng.normal(size=200)})
    >>> df["y"] = (rng.random(200) < 1 / (1 + np.exp(-df["x"]))).astype(int)
    >>> t = odds_ratios(hv.SurveyDesign(df, psu="psu"), "y", ["x"])
    >>> t["term"].tolist(), bool(t["estimate"].iloc[0] > 1)
    (['x'], True)
    """
    if isinstance(indicators, str):
        indicators = [indicators]
    if isinstance(covariates, str):
        covariates = [covariates]
    if not indicators or not covariates:
        raise ValueError("`indicators` and `covariates` must each name at least one column.")
    parts = []
    for indicator in indicators:  # one model per indicator (not a loop over domains)
        fit = design.glm(f"{indicator} ~ {' + '.join(covariates)}", family="quasibinomial",
                         subset=subset, level=level)
        t = fit.table[fit.table["term"] != "(Intercept)"]
        parts.append(pd.DataFrame({
            "indicator": indicator, "term": t["term"].to_numpy(),
            "estimate": np.exp(t["estimate"].to_numpy()),
            "ci_low": np.exp(t["ci_low"].to_numpy()),
            "ci_high": np.exp(t["ci_high"].to_numpy()), "level": t["level"].to_numpy(),
            "df": t["df"].to_numpy(), "p_value": t["p_value"].to_numpy(), "n": fit.n}))
    return pd.concat(parts, ignore_index=True)[ODDS_RATIO_COLUMNS]
