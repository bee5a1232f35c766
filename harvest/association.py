"""Tests of association in a two-way table and design-based t tests, as R ``survey``.

* `chisq`: R ``svychisq``. The Pearson statistic of the weighted table with the
  Rao-Scott (1984) first- (``"Chisq"``) and second-order (``"F"``) corrections, the
  exact distribution of the Pearson statistic under the design (``"lincom"``, with its
  saddlepoint approximation ``"saddlepoint"``), and the Wald tests of the null of
  independence (``"Wald"``, ``"adjWald"``, Koch et al. 1975; Thomas and Rao 1987).
* `ttest`: R ``svyttest``. The design-based t test of a mean (one sample) or of the
  difference of the means of two groups.

Both use the design's own covariance of the cell proportions, cell totals or domain
means (``_DesignBase._estimate_vcov``: Taylor linearisation or replicate weights), and
the design's degrees of freedom :math:`\\nu` (R ``degf``). See
``docs/methods/association.md`` for the formulas and references.

Examples
--------
>>> import pandas as pd
>>> import harvest as hv
>>> df = pd.DataFrame({"psu": range(8), "a": list("xxxxyyyy"),
...                    "b": [0, 0, 1, 1, 0, 1, 1, 1]})
>>> t = hv.SurveyDesign(df, psu="psu").chisq("a", "b")
>>> list(t.columns)
['rows', 'cols', 'test', 'statistic', 'df_num', 'df_den', 'p_value']
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
from scipy import special

from harvest._errors import DataError, check_columns, describe_rows
from harvest._options import CHISQ_STATISTICS, NA_POLICY, check_level, check_option

__all__ = ["CHISQ_STATISTICS", "CHISQ_COLUMNS", "TTEST_COLUMNS", "chisq", "ttest",
           "pchisqsum", "saddle"]

#: Columns of `chisq`.
CHISQ_COLUMNS = ["rows", "cols", "test", "statistic", "df_num", "df_den", "p_value"]

#: Columns of `ttest`.
TTEST_COLUMNS = ["indicator", "by", "group", "baseline", "estimate", "se", "ci_low",
                 "ci_high", "level", "df", "statistic", "p_value", "n"]


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------
def _check_design(design) -> None:
    if not hasattr(design, "_estimate_vcov"):
        raise TypeError(
            "`design` must be a harvest design (hv.SurveyDesign or hv.ReplicateDesign); "
            f"got {type(design).__name__}."
        )


def _with_columns(design, columns: dict):
    """A shallow copy of ``design`` whose data carry extra (derived) columns; the
    design codes are shared, the caller's frame is untouched."""
    view = copy.copy(design)
    view.data = design.data.assign(**columns)
    return view


def _fresh_names(data, prefix: str, k: int) -> list:
    """``k`` column names that ``data`` does not have."""
    stem = prefix
    while any(str(c).startswith(stem) for c in data.columns):
        stem = "_" + stem
    return [f"{stem}{j}" for j in range(k)]


def _missing_rows(design, columns, na):
    """Bool ``(n,)``: rows missing any of ``columns``; DataError under ``na="fail"``
    when a row with positive weight misses one."""
    data = design.data
    missing = np.zeros(len(data), dtype=bool)
    positive = design._codes.weights > 0
    for column in columns:
        miss = data[column].isna().to_numpy()
        if na == "fail" and (miss & positive).any():
            rows = np.flatnonzero(miss & positive)
            raise DataError(
                f"Column {column!r} has missing values ({describe_rows(rows)}); pass "
                "na='drop' to leave those rows out of the test (R na.rm=TRUE)."
            )
        missing |= miss
    return missing


def _levels(design, column, missing) -> list:
    """Sorted levels of ``column`` among the rows used (positive weight, not missing)."""
    used = (design._codes.weights > 0) & ~missing
    values = pd.unique(design.data[column].to_numpy()[used])
    try:
        return sorted(values.tolist())
    except TypeError:
        return sorted(values.tolist(), key=str)


def _whole_df(design) -> float:
    """Degrees of freedom of the design (R ``degf``) over the rows with positive weight."""
    from harvest._domains import build_estimand

    view = _with_columns(design, {_fresh_names(design.data, "_one", 1)[0]: 1.0})
    estimand = build_estimand(view, "mean", [view.data.columns[-1]], None, "fail")
    return float(np.asarray(design._df(estimand), dtype=float)[0])


# ---------------------------------------------------------------------------------------
# distributions of a sum of weighted chi-squares (R survey's pchisqsum / pFsum)
# ---------------------------------------------------------------------------------------
def saddle(x: float, lam) -> float:
    """Saddlepoint upper tail of :math:`\\sum_j \\lambda_j \\chi^2_1` at ``x``.

    R ``survey:::saddle`` (Kuonen 1999): NaN where the saddlepoint is too close to 0
    (:math:`|\\hat\\zeta| < 10^{-4}`) for the approximation to hold.

    Parameters
    ----------
    x : float
    lam : array_like
        The weights :math:`\\lambda_j` (negative ones allowed).

    Returns
    -------
    float
        :math:`1 - \\Phi(w + \\log(v/w)/w)` with :math:`w = \\mathrm{sign}(\\hat\\zeta)
        \\sqrt{2(\\hat\\zeta x - K(\\hat\\zeta))}`, :math:`v = \\hat\\zeta\\sqrt{K''(\\hat
        \\zeta)}`, :math:`K(\\zeta) = -\\tfrac12\\sum_j\\log(1 - 2\\zeta\\lambda_j)` and
        :math:`K'(\\hat\\zeta) = x`.

    Examples
    --------
    >>> round(saddle(6.0, [1.0, 1.0]), 3)   # exact chi-square(2) tail: 0.0498
    0.051
    """
    from scipy.optimize import brentq

    from harvest._dist import norm_cdf

    lam = np.asarray(lam, dtype=float)
    d = lam.max()
    lam = lam / d
    x = x / d
    if (lam < 0).any():
        lmin = np.max(1.0 / (2.0 * lam[lam < 0])) * 0.99999
    elif x > lam.sum():
        lmin = -0.01
    else:
        lmin = -lam.size / (2.0 * x)
    lmax = np.min(1.0 / (2.0 * lam[lam > 0])) * 0.99999

    def kprime(z):
        return float(np.sum(lam / (1.0 - 2.0 * z * lam))) - x

    zeta = brentq(kprime, lmin, lmax, xtol=1e-14, rtol=1e-15, maxiter=500)
    k0 = -np.sum(np.log(1.0 - 2.0 * zeta * lam)) / 2.0
    k2 = 2.0 * np.sum(lam ** 2 / (1.0 - 2.0 * zeta * lam) ** 2)
    w = np.sign(zeta) * np.sqrt(2.0 * (zeta * x - k0))
    v = zeta * np.sqrt(k2)
    if abs(zeta) < 1e-4:
        return float("nan")
    return float(1.0 - norm_cdf(w + np.log(v / w) / w))


def _satterthwaite(lam):
    lam = np.asarray(lam, dtype=float)
    tr = lam.mean()
    tr2 = np.mean(lam ** 2) / tr ** 2
    return tr * tr2, lam.size / tr2


def pchisqsum(x: float, lam, ddf: float = np.inf, method: str = "integration") -> float:
    """Upper tail of :math:`Q = \\sum_j \\lambda_j \\chi^2_1`, or of :math:`Q/(\\chi^2_
    \\nu/\\nu)` when ``ddf`` :math:`= \\nu` is finite, at ``x``.

    R ``survey``'s ``pchisqsum`` (``ddf = Inf``) and ``pFsum``, the reference
    distributions of ``svychisq(statistic="lincom" | "saddlepoint")``.

    Parameters
    ----------
    x : float
    lam : array_like
        Weights :math:`\\lambda_j > 0` (the eigenvalues of the design-effect matrix).
    ddf : float
        Denominator degrees of freedom; ``inf``: none.
    method : {"integration", "saddlepoint", "satterthwaite"}
        ``"integration"``: the exact tail by Imhof's (1961) inversion formula
        :math:`P(Q' > 0) = \\tfrac12 + \\tfrac1\\pi\\int_0^\\infty \\sin\\theta(u) /
        (u\\rho(u))\\,du` of :math:`Q' = \\sum_j\\lambda_j\\chi^2_1 - (x/\\nu)\\chi^2_\\nu`
        (or :math:`Q - x`), numerically integrated (R uses Davies' algorithm from
        ``CompQuadForm``, the same quantity); ``"saddlepoint"``: R's saddlepoint
        approximation (Kuonen 1999; the finite ``ddf`` enters as
        :math:`\\lfloor\\nu\\rfloor` weights :math:`-x/\\nu`, as R), falling back to
        Satterthwaite where it is undefined; ``"satterthwaite"``: the scaled
        :math:`\\chi^2` (or F) with matched first two moments.

    Examples
    --------
    >>> from scipy import special
    >>> round(pchisqsum(6.0, [1.0, 1.0]), 8) == round(float(special.chdtrc(2, 6.0)), 8)
    True
    """
    lam = np.asarray(lam, dtype=float)
    check_option("method", method, ("integration", "saddlepoint", "satterthwaite"))
    finite = np.isfinite(ddf)
    scale, ndf = _satterthwaite(lam)
    if finite:
        guess = float(special.fdtrc(ndf, ddf, x / ndf / scale))
    else:
        guess = float(special.chdtrc(ndf, x / scale))
    if method == "satterthwaite":
        return guess
    if method == "saddlepoint":
        if finite:
            s = saddle(0.0, np.concatenate([lam, np.full(int(np.floor(ddf)), -x / ddf)]))
        else:
            s = saddle(x, lam)
        return guess if np.isnan(s) else s
    return _imhof(x, lam, ddf)


def _imhof(x, lam, ddf) -> float:
    """``P(sum lam_j chi2_1 > x)`` (``ddf`` inf: Ruben's series) or ``P(sum lam_j chi2_1
    - (x/ddf) chi2_ddf > 0)`` (Imhof's inversion formula)."""
    from scipy.integrate import quad

    if not np.isfinite(ddf):
        return _ruben(x, lam)
    weights = np.concatenate([lam, [-x / ddf]])
    dof = np.concatenate([np.ones(lam.size), [ddf]])

    def integrand(u):
        theta = 0.5 * np.sum(dof * np.arctan(weights * u))
        log_rho = 0.25 * np.sum(dof * np.log1p((weights * u) ** 2))
        return np.sin(theta) * np.exp(-log_rho) / u

    # |integrand| <= 1/(u rho(u)) decays as u^-(1 + (q + ddf)/2): a finite range suffices
    edges = np.concatenate([[0.0], np.geomspace(1e-3, 1e3, 40) / np.abs(weights).max()])
    total = 0.0
    for a, b in zip(edges[:-1], edges[1:], strict=True):  # loop over integration pieces
        total += quad(integrand, a, b, epsabs=1e-13, epsrel=1e-11, limit=200)[0]
    return float(min(max(0.5 + total / np.pi, 0.0), 1.0))


def _ruben(x, lam, tol=1e-13, max_terms=100_000) -> float:
    """``P(sum lam_j chi2_1 > x)`` for positive ``lam`` by Ruben's (1962) series
    ``sum_k a_k P(chi2_{q+2k} <= x / beta)``, ``beta = min lam`` (the a_k are positive
    and sum to 1, so the truncation error is below ``1 - sum a_k``)."""
    lam = np.asarray(lam, dtype=float)
    q = lam.size
    beta = lam.min()
    gamma = 1.0 - beta / lam
    a = [float(np.prod(np.sqrt(beta / lam)))]
    g = [0.0]
    total = a[0]
    k = 0
    while 1.0 - total > tol and k < max_terms:  # loop over series terms
        k += 1
        g.append(0.5 * float(np.sum(gamma ** k)))
        a.append(float(np.dot(g[k:0:-1], a[:k])) / k)
        total += a[-1]
    terms = np.asarray(a)
    cdf = special.chdtr(q + 2.0 * np.arange(terms.size), x / beta)
    return float(min(max(1.0 - float(terms @ cdf), 0.0), 1.0))


# ---------------------------------------------------------------------------------------
# chisq
# ---------------------------------------------------------------------------------------
def chisq(design, rows, cols, statistic="F", na="fail"):
    """Design-based test of independence of two categorical columns (R ``svychisq``).

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
    rows, cols : str
        The two columns of the table (any values; levels sorted as R ``factor``).
    statistic : {"F", "Chisq", "Wald", "adjWald", "lincom", "saddlepoint"}
        ``"F"`` (default): Rao-Scott second-order correction; ``"Chisq"``: first-order
        correction; ``"Wald"``, ``"adjWald"``: Wald tests of the cell interactions;
        ``"lincom"``: the exact (linear combination of chi-squares) distribution of the
        Pearson statistic; ``"saddlepoint"``: its saddlepoint approximation.
    na : {"fail", "drop"}
        A missing value in either column: an error naming the column and rows, or leave
        the row out of the table (it stays in the design; R's default ``na.rm=TRUE``).

    Returns
    -------
    pandas.DataFrame
        One row: ``rows, cols, test, statistic, df_num, df_den, p_value``. ``statistic``
        is what R reports: the F statistic for ``"F"``, ``"Wald"`` and ``"adjWald"``, the
        Pearson :math:`X^2` for ``"Chisq"``, ``"lincom"`` and ``"saddlepoint"``.
        ``df_num, df_den`` are the F degrees of freedom (``"Chisq"``: ``df_num`` the
        chi-square df, ``df_den`` inf; ``"lincom"``, ``"saddlepoint"``: ``df_num`` is
        :math:`(r-1)(c-1)` and ``df_den`` the :math:`d_0\\nu` of the reference
        distribution for a Taylor design, inf for a replicate design, as R).

    Notes
    -----
    With :math:`\\hat p_{ij}` the estimated cell proportions, :math:`\\hat p_{i+},
    \\hat p_{+j}` the margins and :math:`N` the rows in the design,

    .. math::

        X^2 = N\\sum_{ij}(\\hat p_{ij} - \\hat p_{i+}\\hat p_{+j})^2 /
              (\\hat p_{i+}\\hat p_{+j}).

    With :math:`C` a basis of the interaction contrasts (the cell space orthogonal to
    the row and column effects), :math:`D = \\mathrm{diag}(\\hat p)` and :math:`V` the
    design covariance of :math:`\\hat p`, the design-effect matrix is
    :math:`\\Delta = (C^\\top D^{-1}C/N)^{-1}\\,C^\\top D^{-1}VD^{-1}C`. ``"F"``:
    :math:`F = X^2/\\mathrm{tr}\\,\\Delta` on :math:`d_0` and :math:`d_0\\nu` df,
    :math:`d_0 = (\\mathrm{tr}\\,\\Delta)^2/\\mathrm{tr}(\\Delta^2)`; ``"Chisq"``:
    :math:`X^2/\\bar\\delta` on :math:`(r-1)(c-1)` df, :math:`\\bar\\delta` the mean of
    the diagonal of :math:`\\Delta`; ``"lincom"``: :math:`X^2` against
    :math:`\\sum_j\\delta_j\\chi^2_1` (the eigenvalues :math:`\\delta_j` of
    :math:`\\Delta`; divided by :math:`\\chi^2_{d_0\\nu}/(d_0\\nu)` for a Taylor design),
    see `pchisqsum`. ``"Wald"``: with :math:`Y_{ij} = \\hat N_{ij} -
    \\hat N_{i+}\\hat N_{+j}/\\hat N` over :math:`i, j \\ge 2` and :math:`V_Y` its
    delta-method covariance from the design covariance of the cell and margin totals,
    :math:`W = Y^\\top V_Y^{-1} Y`, :math:`F = W/q` on :math:`q = (r-1)(c-1)` and
    :math:`\\nu` df; ``"adjWald"``: :math:`F = W(\\nu - q + 1)/(q\\nu)` on :math:`q` and
    :math:`\\nu - q + 1` df.

    Examples
    --------
    >>> import pandas as pd
    >>> import harvest as hv
    >>> df = pd.DataFrame({"psu": range(8), "a": list("xxxxyyyy"),
    ...                    "b": [0, 0, 1, 1, 0, 1, 1, 1]})
    >>> t = hv.SurveyDesign(df, psu="psu").chisq("a", "b", statistic="Chisq")
    >>> round(float(t["statistic"].iloc[0]), 4)   # Pearson X^2 of the 2 x 2 table
    0.5333
    """
    _check_design(design)
    check_option("statistic", statistic, CHISQ_STATISTICS)
    check_option("na", na, NA_POLICY)
    for name, value in (("rows", rows), ("cols", cols)):
        if not isinstance(value, str):
            raise TypeError(f"`{name}` must be one column name; got {value!r}.")
    if rows == cols:
        raise ValueError(f"`rows` and `cols` must be two different columns; got {rows!r} "
                         "twice.")
    check_columns(design.data, [rows, cols], "chisq")
    missing = _missing_rows(design, [rows, cols], na)
    row_levels = _levels(design, rows, missing)
    col_levels = _levels(design, cols, missing)
    for column, levels in ((rows, row_levels), (cols, col_levels)):
        if len(levels) < 2:
            raise DataError(
                f"Column {column!r} has {len(levels)} level(s) among the rows used "
                f"({', '.join(map(repr, levels))}); a test of association needs two or "
                "more."
            )
    nr, nc = len(row_levels), len(col_levels)
    data = design.data
    ri = pd.Categorical(data[rows], categories=row_levels).codes
    ci = pd.Categorical(data[cols], categories=col_levels).codes
    used = ~missing & (ri >= 0) & (ci >= 0)
    # cells in R's order: the row level varies fastest (interaction(rows, cols))
    cell = np.where(used, ri + nr * ci, -1)
    nu = _whole_df(design)
    rows_in_design = float((design._codes.weights > 0).sum())
    if statistic in ("Wald", "adjWald"):
        stat, df_num, df_den, p = _wald(design, cell, ri, ci, used, nr, nc, nu, statistic)
    else:
        stat, df_num, df_den, p = _rao_scott(design, cell, used, nr, nc, nu,
                                             rows_in_design, statistic)
    return pd.DataFrame({"rows": [rows], "cols": [cols], "test": [statistic],
                         "statistic": [stat], "df_num": [df_num], "df_den": [df_den],
                         "p_value": [p]}, columns=CHISQ_COLUMNS)


def _indicators(design, codes, used, k, prefix):
    """Derived 0/1 columns ``codes == j`` (NaN on rows not used), and their names."""
    names = _fresh_names(design.data, prefix, k)
    onehot = (codes[:, None] == np.arange(k)[None, :]).astype(float)
    onehot[~used] = np.nan
    return names, dict(zip(names, onehot.T, strict=True))


def _rao_scott(design, cell, used, nr, nc, nu, N, statistic):
    m = nr * nc
    names, columns = _indicators(design, cell, used, m, "_cell")
    view = _with_columns(design, columns)
    na = "drop" if not used.all() else "fail"
    _, p, V, _ = view._estimate_vcov("mean", names, None, na=na)
    P = p.reshape(nc, nr).T                       # P[i, j]: row level i, column level j
    expected = np.outer(P.sum(axis=1), P.sum(axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        x2 = float(N * np.sum((P - expected) ** 2 / expected))
    # the interaction contrasts: residuals of the interaction columns on the main effects
    r_of = np.tile(np.arange(nr), nc)
    c_of = np.repeat(np.arange(nc), nr)
    X1 = np.column_stack([np.ones(m)]
                         + [(r_of == i).astype(float) for i in range(1, nr)]
                         + [(c_of == j).astype(float) for j in range(1, nc)])
    X_int = np.column_stack([((r_of == i) & (c_of == j)).astype(float)
                             for j in range(1, nc) for i in range(1, nr)])
    C = X_int - X1 @ np.linalg.lstsq(X1, X_int, rcond=None)[0]
    with np.errstate(divide="ignore"):
        inv_p = np.where(p == 0, 0.0, 1.0 / p)
    CD = C * inv_p[:, None]                       # D^{-1} C
    denom = C.T @ CD / N
    numer = CD.T @ V @ CD
    delta = np.linalg.solve(denom, numer)
    tr = float(np.trace(delta))
    d0 = tr ** 2 / float(np.trace(delta @ delta))
    q = delta.shape[0]
    if statistic == "F":
        f = x2 / tr
        return f, d0, d0 * nu, float(special.fdtrc(d0, d0 * nu, f))
    if statistic == "Chisq":
        return x2, float(q), np.inf, float(special.chdtrc(q, x2 / (tr / q)))
    eigen = np.real(np.linalg.eigvals(delta))
    ddf = d0 * nu if design._linearised else np.inf
    method = "integration" if statistic == "lincom" else "saddlepoint"
    return x2, float(q), ddf, pchisqsum(x2, eigen, ddf=ddf, method=method)


def _wald(design, cell, ri, ci, used, nr, nc, nu, statistic):
    m = nr * nc
    names_c, cols_c = _indicators(design, cell, used, m, "_cell")
    names_r, cols_r = _indicators(design, np.where(used, ri, -1), used, nr, "_row")
    names_k, cols_k = _indicators(design, np.where(used, ci, -1), used, nc, "_col")
    one_name = _fresh_names(design.data, "_one", 1)[0]
    one = np.where(used, 1.0, np.nan)
    view = _with_columns(design, {**cols_c, **cols_r, **cols_k, one_name: one})
    na = "drop" if not used.all() else "fail"
    _, tot, V, _ = view._estimate_vcov("total", names_c + names_r + names_k + [one_name],
                                       None, na=na)
    n_cell, n_row, n_col, n_all = tot[:m], tot[m:m + nr], tot[m + nr:m + nr + nc], tot[-1]
    r_of = np.tile(np.arange(nr), nc)
    c_of = np.repeat(np.arange(nc), nr)
    Y = n_cell - n_row[r_of] * n_col[c_of] / n_all
    # Jacobian of Y in (cells, row margins, column margins, total), as svychisq
    J = np.hstack([
        np.eye(m),
        -(r_of[:, None] == np.arange(nr)[None, :]).astype(float) * (n_col[c_of] / n_all)[:, None],
        -(c_of[:, None] == np.arange(nc)[None, :]).astype(float) * (n_row[r_of] / n_all)[:, None],
        (n_row[r_of] * n_col[c_of] / n_all ** 2)[:, None],
    ])
    VY = J @ V @ J.T
    use = (r_of > 0) & (c_of > 0)
    w = float(Y[use] @ np.linalg.solve(VY[np.ix_(use, use)], Y[use]))
    q = (nr - 1) * (nc - 1)
    if statistic == "Wald":
        f, df_den = w / q, nu
    else:
        df_den = nu - q + 1
        f = w * df_den / (q * nu)
    return f, float(q), float(df_den), float(special.fdtrc(q, df_den, f))


# ---------------------------------------------------------------------------------------
# ttest
# ---------------------------------------------------------------------------------------
def ttest(design, variable, by=None, level=0.95, na="fail"):
    """Design-based t test of a mean, or of the difference of two group means (R
    ``svyttest``).

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
    variable : str
        Numeric (or 0/1) column.
    by : str, optional
        A column with exactly two levels among the rows used: the test of the
        difference ``mean(second level) - mean(first level)`` (levels sorted, R's
        treatment coding of ``svyglm(variable ~ by)``). ``None``: the test of
        ``mean = 0`` (R ``svyttest(variable ~ 0)``).
    level : float
        Confidence level of the interval.
    na : {"fail", "drop"}
        Missing values in ``variable`` or ``by``: an error, or leave the rows out.

    Returns
    -------
    pandas.DataFrame
        One row: ``indicator, by, group, baseline, estimate, se, ci_low, ci_high, level,
        df, statistic, p_value, n`` (``by``, ``group`` and ``baseline`` are None for one
        sample; ``n`` the rows used).

    Notes
    -----
    :math:`t = \\hat\\theta/\\mathrm{se}(\\hat\\theta)` with :math:`\\hat\\theta = \\bar
    y_2 - \\bar y_1` (the ``svyglm`` treatment coefficient, whose sandwich variance is
    the design variance of the difference of the two domain means) or :math:`\\bar y`;
    two-sided p-value and interval :math:`\\hat\\theta \\pm t_{\\nu-1}\\mathrm{se}` on
    :math:`\\nu - 1` df, :math:`\\nu` the design df (R: the residual df of the
    regression, ``degf(design) - 1``, for one sample too).

    Examples
    --------
    >>> import pandas as pd
    >>> import harvest as hv
    >>> df = pd.DataFrame({"psu": range(6), "y": [1.0, 2, 3, 4, 6, 8],
    ...                    "g": [0, 0, 0, 1, 1, 1]})
    >>> t = hv.SurveyDesign(df, psu="psu").ttest("y", by="g")
    >>> float(t["estimate"].iloc[0])
    4.0
    """
    from harvest._dist import t_ppf, t_sf

    _check_design(design)
    level = check_level(level)
    check_option("na", na, NA_POLICY)
    if not isinstance(variable, str):
        raise TypeError(f"`variable` must be one column name; got {variable!r}.")
    if by is not None and not isinstance(by, str):
        raise TypeError(f"`by` must be one column name or None; got {by!r}.")
    if by == variable:
        raise ValueError(f"`by` must differ from `variable`; got {by!r} twice.")
    columns = [variable] + ([by] if by is not None else [])
    check_columns(design.data, columns, "ttest")
    missing = _missing_rows(design, columns, na)
    y = design.data[variable]
    if not pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y):
        raise DataError(f"Column {variable!r} must be numeric for a t test; it holds "
                        f"{y.dtype} values such as {y.dropna().iloc[0]!r}.")
    values = np.where(missing, np.nan, y.to_numpy(dtype=float, na_value=np.nan))
    positive = design._codes.weights > 0
    name = _fresh_names(design.data, "_y", 1)[0]
    derived = {name: values}
    nu = _whole_df(design)
    used_na = "drop" if missing.any() else "fail"
    n = int((positive & ~missing).sum())
    if by is None:
        view = _with_columns(design, derived)
        _, est, V, _ = view._estimate_vcov("mean", [name], None, na=used_na)
        estimate, se = float(est[0]), float(np.sqrt(V[0, 0]))
        group = baseline = None
    else:
        levels = _levels(design, by, missing)
        if len(levels) != 2:
            shown = ", ".join(repr(v) for v in levels[:10])
            raise DataError(f"`by` column {by!r} must have exactly two levels among the "
                            f"rows used; found {len(levels)}: {shown}.")
        codes = pd.Categorical(design.data[by], categories=levels).codes
        group_name = _fresh_names(design.data, "_g", 1)[0]
        derived[group_name] = np.where(codes < 0, 0, codes)
        view = _with_columns(design, derived)
        estimand, est, V, _ = view._estimate_vcov("mean", [name], [group_name], na=used_na)
        order = estimand.domains[group_name].to_numpy()
        first, second = int(np.flatnonzero(order == 0)[0]), int(np.flatnonzero(order == 1)[0])
        estimate = float(est[second] - est[first])
        se = float(np.sqrt(V[first, first] + V[second, second] - 2 * V[first, second]))
        baseline, group = levels
    df = nu - 1.0
    statistic = estimate / se
    p_value = float(2.0 * t_sf(abs(statistic), df))
    half = float(t_ppf(0.5 + level / 2.0, df)) * se
    return pd.DataFrame({"indicator": [variable], "by": [by], "group": [group],
                         "baseline": [baseline], "estimate": [estimate], "se": [se],
                         "ci_low": [estimate - half], "ci_high": [estimate + half],
                         "level": [level], "df": [df], "statistic": [statistic],
                         "p_value": [p_value], "n": [n]}, columns=TTEST_COLUMNS)
