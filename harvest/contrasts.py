"""The covariance of a by-table and user contrasts of it (R ``vcov(svyby(...))``, ``svycontrast``).

:func:`vcov` labels the design covariance of every domain x indicator estimate;
:func:`contrast` turns it into linear combinations and smooth functions of the
estimates (delta method), with the columns of ``API.md``:
``contrast, estimate, se, ci_low, ci_high, level, df, p_value``.

Labels follow R ``svyby``: the domain's levels joined by ``"."`` (``"Lebap"``,
``"Lebap.2024"``), followed by ``":indicator"`` when there are several indicators;
without ``by`` the indicator names.

Examples
--------
>>> import pandas as pd
>>> import harvest as hv
>>> df = pd.DataFrame({"psu": range(8), "g": list("aabbaabb"),
...                    "y": [0, 1, 1, 1, 0, 0, 1, 0]})
>>> d = hv.SurveyDesign(df, psu="psu")
>>> d.contrast("y", by="g", coefficients={"b - a": {"b": 1, "a": -1}})["estimate"].tolist()
[0.5]
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from harvest._options import KINDS, as_list, check_level, check_option

__all__ = ["vcov", "contrast", "CONTRAST_COLUMNS", "labels_of"]

#: The columns of :func:`contrast` (API.md).
CONTRAST_COLUMNS = ["contrast", "estimate", "se", "ci_low", "ci_high", "level", "df",
                    "p_value"]

#: Relative step of the numerical derivative (Richardson-extrapolated central
#: differences at ``h`` and ``h / 2``: truncation error of order ``h**4``).
STEP = 1e-3


def labels_of(estimand) -> list[str]:
    """R ``svyby``-style labels of the ``m = D * k`` estimates, domain-major."""
    indicators = [str(v) for v in estimand.indicators]
    if not estimand.by:
        return indicators
    domains = [".".join(str(v) for v in row)
               for row in estimand.domains[estimand.by].itertuples(index=False)]
    if len(indicators) == 1:
        return domains
    return [f"{d}:{v}" for d in domains for v in indicators]


def _estimates(design, variables, by, kind, denominator, na):
    check_option("kind", kind, KINDS)
    if kind == "ratio" and denominator is None:
        raise ValueError("`kind`='ratio' needs `denominator`.")
    if kind != "ratio" and denominator is not None:
        raise ValueError("`denominator` is only for kind='ratio'.")
    estimand, estimate, cov, _ = design._estimate_vcov(kind, variables, by=by, na=na,
                                                       denominator=denominator)
    return estimand, np.asarray(estimate, dtype=float), np.asarray(cov, dtype=float)


def vcov(design, variables, by=None, kind="proportion", denominator=None, na="fail"):
    """Design covariance of the estimates of a by-table, labelled (R ``vcov(svyby(...))``).

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
    variables : str or list of str
        The indicators (numerators for ``kind="ratio"``).
    by : str or list of str, optional
        Domain columns.
    kind : {"proportion", "mean", "total", "ratio"}
        The estimator.
    denominator : str or list of str, optional
        For ``kind="ratio"``.
    na : {"fail", "drop"}
        As the estimators.

    Returns
    -------
    pandas.DataFrame
        Square, index and columns the labels (see the module docstring), in the row
        order of the estimator's table.

    Notes
    -----
    The covariance of the estimated domain totals (or of the linearised ratios) from
    the same PSU totals as the standard errors:
    :math:`\\hat V = \\sum_h (1 - f_h) \\frac{n_h}{n_h - 1} \\sum_i (z_{hi} - \\bar z_h)
    (z_{hi} - \\bar z_h)^\\top` for a Taylor design (plus the later stages of a
    multistage design), the replicate formula for a replicate design; the covariance
    of R ``svyby(..., covmat=TRUE)``.

    Examples
    --------
    >>> import pandas as pd
    >>> import harvest as hv
    >>> df = pd.DataFrame({"psu": range(6), "g": list("aabbab"), "y": [1.0, 2, 3, 4, 5, 6]})
    >>> v = hv.SurveyDesign(df, psu="psu").vcov("y", by="g", kind="mean")
    >>> list(v.index)
    ['a', 'b']
    """
    estimand, _, cov = _estimates(design, variables, by, kind, denominator, na)
    labels = labels_of(estimand)
    return pd.DataFrame(cov, index=pd.Index(labels), columns=pd.Index(labels))


def _coefficient_vector(name, coef, labels, index) -> np.ndarray:
    m = len(labels)
    if isinstance(coef, Mapping):
        unknown = [k for k in coef if k not in index]
        if unknown:
            raise ValueError(
                f"`coefficients` {name!r} names {unknown[0]!r}, which is not an estimate; "
                f"the labels are {labels!r}."
            )
        g = np.zeros(m)
        for key, value in coef.items():   # the few coefficients a user writes
            g[index[key]] = _number(name, value)
        return g
    if isinstance(coef, pd.Series):
        return _coefficient_vector(name, coef.to_dict(), labels, index)
    g = np.asarray(coef, dtype=float).reshape(-1)
    if g.shape != (m,):
        raise ValueError(f"`coefficients` {name!r} must be a dict label -> coefficient or "
                         f"{m} numbers (one per estimate: {labels!r}); got {len(g)}.")
    return g


def _number(name, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"`coefficients` {name!r}: coefficients must be numbers; got "
                         f"{value!r}.")
    return float(value)


def _evaluate(name, fn, points: np.ndarray, labels) -> np.ndarray:
    """``fn`` at each row of ``points`` (shape ``(r, m)``), one vectorised call if it can.

    The function receives a DataFrame (one column per label, one row per point), so
    ``p["Lebap"] / p["Mary"]`` and numpy functions work elementwise; a function that
    does not broadcast is called once per point with a Series.
    """
    frame = pd.DataFrame(points, columns=pd.Index(labels))
    try:
        with np.errstate(all="ignore"):
            out = np.asarray(fn(frame), dtype=float).reshape(-1)
        if out.shape == (points.shape[0],):
            return out
    except (TypeError, ValueError, KeyError):   # not vectorised: point by point
        pass
    values = []
    for i in range(points.shape[0]):   # 4 m + 1 points, only for a non-vectorised function
        with np.errstate(all="ignore"):
            value = fn(pd.Series(points[i], index=pd.Index(labels)))
        value = np.asarray(value, dtype=float)
        if value.size != 1:
            raise ValueError(f"`function` {name!r} must return one number; got shape "
                             f"{value.shape}.")
        values.append(float(value.reshape(-1)[0]))
    return np.asarray(values)


def _gradient(name, fn, x, scale, labels):
    """Value and gradient of ``fn`` at ``x`` by Richardson-extrapolated central differences.

    With :math:`D(h) = (f(x + h e_j) - f(x - h e_j)) / (2h)`, the derivative is
    :math:`(4 D(h/2) - D(h)) / 3`, error :math:`O(h^4)`; ``h_j = STEP * scale_j``.
    """
    m = len(x)
    h = STEP * scale
    eye = np.eye(m)
    offsets = np.concatenate([np.zeros((1, m)), eye * h, -eye * h,
                              eye * (h / 2), -eye * (h / 2)])
    values = _evaluate(name, fn, x[None, :] + offsets, labels)
    f0 = values[0]
    plus, minus, plus2, minus2 = values[1:].reshape(4, m)
    with np.errstate(invalid="ignore", divide="ignore"):
        d1 = (plus - minus) / (2 * h)
        d2 = (plus2 - minus2) / h
        grad = (4 * d2 - d1) / 3
    # a coordinate the function ignores has an exact zero derivative
    grad = np.where((plus == minus) & (plus2 == minus2), 0.0, grad)
    return f0, grad


def contrast(design, variables, by=None, kind="proportion", coefficients=None,
             function=None, level=0.95, denominator=None, na="fail"):
    """Linear and nonlinear contrasts of a by-table's estimates (R ``svycontrast``).

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
    variables, by, kind, denominator, na
        The table, as :func:`vcov`.
    coefficients : dict, optional
        ``{name: {label: coefficient}}`` (labels missing from the dict get 0), or
        ``{name: [m numbers]}`` in the table's order: :math:`\\theta = g^\\top \\hat\\beta`.
    function : dict, optional
        ``{name: callable}``: ``callable(p)`` of the estimates ``p`` indexed by label
        (``p["Lebap"]``), a smooth function; delta method. ``p`` is a DataFrame with
        one column per label (numpy and pandas arithmetic broadcast over its rows);
        a function that does not broadcast gets a Series per evaluation.
    level : float
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        ``contrast, estimate, se, ci_low, ci_high, level, df, p_value``: one row per
        contrast (the ``coefficients`` first, then the ``function`` ones).

    Notes
    -----
    For :math:`\\theta = f(\\hat\\beta)`, :math:`\\widehat{\\mathrm{Var}}(\\hat\\theta) =
    \\nabla f^\\top \\hat V \\nabla f` with :math:`\\hat V` from :func:`vcov` (for a linear
    contrast :math:`\\nabla f = g`). R differentiates symbolically; here the gradient is
    Richardson-extrapolated central differences with steps :math:`10^{-3}` and
    :math:`5 \\cdot 10^{-4}` times :math:`\\max(|\\hat\\beta_j|, \\mathrm{se}_j)`
    (truncation error of order :math:`h^4`, about :math:`10^{-12}` relative for smooth
    functions). The interval is :math:`\\hat\\theta \\pm t_{df} \\mathrm{se}` and
    ``p_value`` tests :math:`\\theta = 0` with the design df (R ``degf(design)``, the
    df passed to ``confint(svycontrast(...), df=degf(design))``).

    Examples
    --------
    >>> import pandas as pd
    >>> import harvest as hv
    >>> df = pd.DataFrame({"psu": range(8), "g": list("aabbaabb"),
    ...                    "y": [0, 1, 1, 1, 0, 1, 1, 0]})
    >>> d = hv.SurveyDesign(df, psu="psu")
    >>> t = d.contrast("y", by="g", function={"b / a": lambda p: p["b"] / p["a"]})
    >>> round(float(t["estimate"].iloc[0]), 6)
    1.5
    """
    from harvest.compare import _design_df, _t_test

    level = check_level(level)
    if not coefficients and not function:
        raise ValueError("`contrast` needs `coefficients` or `function` (or both).")
    for argument, value in (("coefficients", coefficients), ("function", function)):
        if value is not None and not isinstance(value, Mapping):
            raise ValueError(f"`{argument}` must be a dict name -> "
                             f"{'coefficients' if argument == 'coefficients' else 'callable'};"
                             f" got {type(value).__name__}.")
    for name, fn in (function or {}).items():
        if not isinstance(fn, Callable):
            raise ValueError(f"`function` {name!r} must be callable; got "
                             f"{type(fn).__name__}.")
    estimand, estimate, cov = _estimates(design, variables, by, kind, denominator, na)
    labels = labels_of(estimand)
    index = {label: j for j, label in enumerate(labels)}
    names, theta, grads = [], [], []
    for name, coef in (coefficients or {}).items():   # the user's few contrasts
        g = _coefficient_vector(name, coef, labels, index)
        used = g != 0
        names.append(str(name))
        theta.append(float(g[used] @ estimate[used]) if used.any() else 0.0)
        grads.append(g)
    scale = np.maximum(np.abs(estimate), np.sqrt(np.abs(np.diag(cov))))
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    for name, fn in (function or {}).items():
        f0, g = _gradient(name, fn, estimate, scale, labels)
        names.append(str(name))
        theta.append(f0)
        grads.append(g)
    G = np.vstack(grads)
    used = G != 0
    # estimates a contrast does not use (e.g. an empty domain's NaN) do not enter it
    Gz = np.where(used, G, 0.0)
    cov_z = np.where(np.isnan(cov), 0.0, cov)
    variance = np.einsum("ci,ij,cj->c", Gz, cov_z, Gz)
    bad = (used & np.isnan(np.diag(cov))[None, :]).any(axis=1)
    variance = np.where(bad, np.nan, variance)
    theta = np.asarray(theta, dtype=float)
    se = np.sqrt(np.maximum(variance, 0.0))
    df_value = _design_df(design, kind, as_list(variables), na,
                          None if denominator is None else as_list(denominator))
    df = np.full(len(names), df_value)
    low, high, p_value = _t_test(theta, se, df, level)
    return pd.DataFrame({"contrast": names, "estimate": theta, "se": se, "ci_low": low,
                         "ci_high": high, "level": np.full(len(names), level), "df": df,
                         "p_value": p_value})
