"""Weighting a design to known population figures: post-stratification, raking,
calibration, trimming and nonresponse adjustment.

Each function takes a :class:`~harvest.design.SurveyDesign` or a
:class:`~harvest.replicate_design.ReplicateDesign` and returns a new one of the same kind
with new weights; the caller's design and frame are unchanged. On a Taylor design
post-stratification, raking, calibration and the nonresponse adjustment also record their
model (a :class:`Step`), so that the variance uses the residuals of the calibration
regression, as R ``survey``'s ``svyrecvar`` does with ``postStrata``, and the linearised
weighting-class estimator. On a replicate design every replicate is weighted again, in
blocks of replicates, with per-replicate parameters stored in the step (see
``docs/methods/weighting.md``).

Examples
--------
>>> import pandas as pd
>>> import harvest as hv
>>> df = pd.DataFrame({"psu": range(6), "g": list("aabbbb"), "y": [1.0, 0, 1, 1, 0, 1]})
>>> d = hv.SurveyDesign(df, psu="psu").poststratify("g", {"a": 50, "b": 50})
>>> d.weights.tolist()
[25.0, 25.0, 12.5, 12.5, 12.5, 12.5]
"""

from __future__ import annotations

import dataclasses
import numbers
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harvest._core import group_sum
from harvest._errors import CalibrationWarning, DataError, check_columns, describe_rows
from harvest._options import CALIBRATION_METHODS, check_option

__all__ = ["Step", "poststratify", "rake", "calibrate", "trim_weights",
           "adjust_nonresponse", "describe_weighting", "adjust_scores", "score_adjustment",
           "CALIBRATION_METHODS"]

#: ``method`` values of :func:`calibrate` (R ``calfun``).
#: Relative agreement the categorical margins' population sizes must reach.
_SIZE_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Step:
    """One calibration model, as the variance needs it (R's ``postStrata`` entry).

    Attributes
    ----------
    X : numpy.ndarray, shape (n, p)
        The calibration variables on every row of the data.
    before : numpy.ndarray, shape (n,)
        Weights of the regression (R: the weights before the step; 1 for raking's margins).
    after : numpy.ndarray, shape (n,)
        Weights right after the step.
    """

    X: np.ndarray
    before: np.ndarray
    after: np.ndarray
    #: ``"calibration"`` (R's postStrata entry) or ``"nonresponse"`` (weighting class
    #: adjustment: ``X`` the cells, ``before`` all weights, ``after`` the respondents').
    kind: str = "calibration"


# -- margins ---------------------------------------------------------------------------
def _is_categorical(value) -> bool:
    return isinstance(value, dict | pd.Series)


def _category_codes(data, column, levels, rows):
    """Code of each row's level in ``levels``; DataError for levels of the data not there."""
    values = data[column]
    missing = values.isna().to_numpy()
    if missing[rows].any():
        bad = rows[missing[rows]]
        raise DataError(f"margin column {column!r} has missing values (NaN) in "
                        f"{describe_rows(bad)}; every weighted row needs a level.")
    index = pd.Index(levels)
    codes = np.asarray(index.get_indexer(values), dtype=np.intp)
    unknown = rows[codes[rows] < 0]
    if unknown.size:
        raise DataError(f"margin column {column!r}: level {values.iloc[int(unknown[0])]!r} "
                        f"of the data is not in the margins ({describe_rows(unknown)}); "
                        f"the margins give {list(levels)!r}.")
    return codes


def _model(design, margins, population_size):
    """Calibration matrix ``X`` (n, p), population totals (p,), and the categorical codes.

    The first categorical margin enters with every level (it carries the intercept), the
    others in treatment coding (first level dropped), numeric margins as columns; without
    a categorical margin an intercept column holds ``population_size`` when it is given.
    """
    if not isinstance(margins, dict) or not margins:
        raise ValueError("`margins` must be a non-empty dict: column -> {level: count} "
                         "or column -> population total.")
    data = design.data
    check_columns(data, list(margins), "margins")
    weights = design._codes.weights
    rows = np.flatnonzero(weights > 0)
    n = len(data)
    columns, totals, cats, sizes = [], [], [], []
    for column, value in margins.items():
        if _is_categorical(value):
            counts = pd.Series(value, dtype=float)
            if counts.isna().any() or (counts < 0).any():
                raise DataError(f"margin {column!r}: counts must be non-negative numbers; "
                                f"got {counts.to_dict()!r}.")
            levels = list(counts.index)
            codes = _category_codes(data, column, levels, rows)
            present = np.bincount(codes[rows], minlength=len(levels)) > 0
            absent = [lev for lev, p in zip(levels, present, strict=True) if not p]
            if absent:
                raise DataError(f"margin {column!r}: level(s) {absent!r} of the margins have "
                                "no row with positive weight in the data; drop them or "
                                "merge them with a neighbouring level.")
            sizes.append((column, float(counts.sum())))
            start = 0 if not cats else 1
            onehot = np.zeros((n, len(levels)))
            ok = codes >= 0
            onehot[np.flatnonzero(ok), codes[ok]] = 1.0
            columns.append(onehot[:, start:])
            totals.append(counts.to_numpy()[start:])
            cats.append((column, codes, levels, counts.to_numpy()))
        else:
            if not isinstance(value, numbers.Real) or not np.isfinite(value):
                raise DataError(f"margin {column!r}: a numeric margin is one finite "
                                f"population total; got {value!r}.")
            x = pd.to_numeric(data[column], errors="coerce").to_numpy(dtype=float)
            bad = rows[~np.isfinite(x[rows])]
            if bad.size:
                raise DataError(f"margin column {column!r} must be numeric and complete; "
                                f"found {data[column].iloc[int(bad[0])]!r} in "
                                f"{describe_rows(bad)}.")
            columns.append(np.where(np.isfinite(x), x, 0.0)[:, None])
            totals.append(np.array([float(value)]))
    if population_size is not None:
        sizes.append(("population_size", float(population_size)))
    if len({round(s, 0) for _, s in sizes}) > 1:
        ref = sizes[0][1]
        if any(abs(s - ref) > _SIZE_TOLERANCE * max(abs(ref), 1.0) for _, s in sizes):
            raise DataError("The margins disagree on the population size: "
                            + ", ".join(f"{c!r} sums to {s:g}" for c, s in sizes) + ".")
    if not cats and population_size is not None:
        columns.insert(0, np.ones((n, 1)))
        totals.insert(0, np.array([float(population_size)]))
    return np.hstack(columns), np.concatenate(totals), cats


# -- the weighted design -----------------------------------------------------------------
def _weighted(design, weights, step_list, description, recipe, rep_step=None):
    """A copy of ``design`` with new weights, more calibration steps and a history line.

    ``recipe`` is ``(function name, keyword arguments)``: ``SurveyDesign.replicate``
    re-applies the recipes to the replicates. ``rep_step`` is the step of every
    replicate's weights on a replicate design.
    """
    if not (weights > 0).any():
        raise DataError("The weighting leaves no row with positive weight.")
    new = object.__new__(type(design))
    new.__dict__.update(design.__dict__)
    new._codes = dataclasses.replace(design._codes, weights=weights)
    if _is_replicate(design):
        new._base_weights = getattr(design, "_base_weights", None)
        if new._base_weights is None:
            new._base_weights = design._codes.weights
        new._rep_steps = tuple(getattr(design, "_rep_steps", ())) + (rep_step,)
    else:
        new._weighting = tuple(getattr(design, "_weighting", ())) + tuple(step_list)
    new._unweighted = getattr(design, "_unweighted", None) or design
    new._recipe = tuple(getattr(design, "_recipe", ())) + (recipe,)
    new._weighting_history = tuple(getattr(design, "_weighting_history", ())) + (
        description,)
    return new


def _is_replicate(design) -> bool:
    # the design says what it is (no import of the design classes from below them)
    return not getattr(design, "_linearised", False)


def _check_design(design):
    if not getattr(design, "_linearised", False) and not hasattr(design, "_weight_blocks"):
        raise TypeError(f"Weighting needs a SurveyDesign or ReplicateDesign; got "
                        f"{type(design).__name__}.")


def poststratify(design, column, counts):
    """Post-stratify ``design`` on one categorical column (R ``postStratify``).

    See :meth:`harvest.SurveyDesign.poststratify`.
    """
    _check_design(design)
    if not _is_categorical(counts):
        raise ValueError("`counts` must be a dict or Series: level -> population count.")
    X, totals, cats = _model(design, {column: counts}, None)
    w = design._codes.weights
    cell_totals = X.T @ w
    g = X @ (totals / cell_totals)
    new_w = w * g
    step = Step(X=X, before=w, after=new_w)
    rep_step = None
    if _is_replicate(design):
        Xs = _sparse(X)
        psu = design._psu_products(Xs)
        if psu is not None:      # generated factors, first step: PSU-level cell totals
            lam = np.concatenate([_post_ratio(cells, totals) for _, cells in psu])
            rep_step = _RepCalibration(Xs, "linear", None, lam)
        else:
            rep_step = _fit_replicates(design, lambda W: _post_fit(W, Xs, totals),
                                       lambda lam: _RepCalibration(Xs, "linear", None, lam))
    return _weighted(design, new_w, [step], f"post-stratified on {column!r} "
                     f"({X.shape[1]} cells)", ("poststratify", {"column": column,
                                                                "counts": counts}),
                     rep_step)


def rake(design, margins, max_iter=50, tol=1e-7):
    """Rake ``design`` to categorical margins by iterative proportional fitting (R ``rake``).

    See :meth:`harvest.SurveyDesign.rake`.
    """
    _check_design(design)
    if not isinstance(margins, dict) or not all(_is_categorical(v) for v in margins.values()):
        raise ValueError("`margins` must be a dict: column -> {level: population count}.")
    _, _, cats = _model(design, margins, None)
    w0 = design._codes.weights
    n = w0.size
    onehots = []
    for _, codes, levels, _ in cats:
        onehot = np.zeros((n, len(levels)))
        ok = codes >= 0
        onehot[np.flatnonzero(ok), codes[ok]] = 1.0
        onehots.append(onehot)
    combined = np.zeros(n, dtype=np.int64)
    size = 1
    for _, codes, levels, _ in cats:
        combined = combined * len(levels) + np.maximum(codes, 0)
        size *= len(levels)
    epsilon = tol * w0.sum() if tol < 1 else tol      # R: epsilon < 1 is relative
    w = w0.copy()
    old = np.bincount(combined, weights=w, minlength=size)
    converged, delta, iteration = False, np.inf, 0
    after = [None] * len(cats)
    sweeps = 0
    while iteration < max_iter:
        sweeps += 1
        for k, (_, _, _, counts) in enumerate(cats):
            cell = onehots[k].T @ w
            w = w * (onehots[k] @ np.divide(counts, cell, out=np.zeros_like(cell),
                                             where=cell > 0))
            after[k] = w
        new = np.bincount(combined, weights=w, minlength=size)
        delta = float(np.abs(old - new).max())
        if delta < epsilon:
            converged = True
            break
        old = new
        iteration += 1
    if not converged:
        warnings.warn(f"Raking did not converge after {iteration} iterations: the weighted "
                      f"table still moved by {delta:.3g} (tolerance {epsilon:.3g}).",
                      CalibrationWarning, stacklevel=3)
    # R's variance: ten sweeps of unweighted cell-mean removal per margin (svyrecvar)
    margin_steps = [Step(X=onehots[k], before=(after[k] > 0).astype(float), after=after[k])
                    for k in range(len(cats))]
    steps = margin_steps * 10
    names = ", ".join(repr(c) for c, *_ in cats)
    rep_step = None
    if _is_replicate(design):
        # as R's rake() of a replicate design: every replicate post-stratified on each
        # margin in turn, for the sweeps the full sample took
        X = _sparse(np.hstack(onehots))
        mats = [(_sparse(o), o.argmax(axis=1)) for o in onehots]
        rep_step = _fit_replicates(
            design, lambda W: _rake_fit(W, mats, [c[3] for c in cats], sweeps),
            lambda lam: _RepCalibration(X, "raking", None, lam))
    return _weighted(design, w, steps, f"raked to the margins of {names}",
                     ("rake", {"margins": margins, "max_iter": max_iter, "tol": tol}),
                     rep_step)


def _g_functions(method, bounds):
    lo, hi = (-np.inf, np.inf) if bounds is None else (float(bounds[0]), float(bounds[1]))
    if method == "logit":
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise ValueError("method='logit' needs finite `bounds` (lo, hi) on g.")
        a = (hi - lo) / ((1 - lo) * (hi - 1))

        def g(u):
            e = np.exp(np.clip(a * u, -300, 300))
            return (lo * (hi - 1) + hi * (1 - lo) * e) / ((hi - 1) + (1 - lo) * e)

        def dg(u):
            e = np.exp(np.clip(a * u, -300, 300))
            return a * e * (hi - lo) * (hi - 1) * (1 - lo) / ((hi - 1) + (1 - lo) * e) ** 2
        return g, dg
    base = (lambda u: 1.0 + u) if method == "linear" else np.exp
    dbase = (lambda u: np.ones_like(u)) if method == "linear" else np.exp
    if bounds is None:
        return base, dbase

    def gb(u):
        return np.clip(base(u), lo, hi)

    def dgb(u):
        v = base(u)
        return np.where((v > lo) & (v < hi), dbase(u), 0.0)
    return gb, dgb


def calibrate(design, margins, method="linear", bounds=None, population_size=None,
              max_iter=50, tol=1e-7):
    """Calibrate ``design`` to population totals (R ``calibrate``, Deville-Sarndal g-weights).

    See :meth:`harvest.SurveyDesign.calibrate`.
    """
    _check_design(design)
    check_option("method", method, CALIBRATION_METHODS)
    if bounds is not None:
        if len(bounds) != 2 or not bounds[0] < 1 < bounds[1]:
            raise ValueError(f"`bounds` must be (lo, hi) with lo < 1 < hi; got {bounds!r}.")
    X, totals, _ = _model(design, margins, population_size)
    w = design._codes.weights
    g_of, dg_of = _g_functions(method, bounds)
    lam = np.zeros(X.shape[1])
    scale = 1.0 + np.abs(totals)
    misfit = totals - X.T @ (w * g_of(X @ lam))
    iteration = 0
    while np.max(np.abs(misfit) / scale) >= tol:
        if iteration >= max_iter:
            reason = (" within `bounds` " + repr(tuple(bounds))) if bounds is not None else ""
            raise DataError(
                f"Calibration ({method!r}) did not converge{reason} after {iteration} "
                f"iterations: the largest relative misfit to a population total is "
                f"{np.max(np.abs(misfit) / scale):.3g} (tolerance {tol:g}); the totals may "
                "be out of reach of these bounds or of the sample.")
        jac = X.T @ (X * (w * dg_of(X @ lam))[:, None])
        step = np.linalg.pinv(jac, rcond=256 * np.finfo(float).eps) @ misfit
        trial = lam + step
        for _ in range(30):          # halve a step that leaves the range of g
            if np.isfinite(g_of(X @ trial)).all():
                break
            step = step / 2
            trial = lam + step
        lam = trial
        misfit = totals - X.T @ (w * g_of(X @ lam))
        iteration += 1
    g = g_of(X @ lam)
    new_w = w * g
    if method == "linear" and ((new_w <= 0) & (w > 0)).any():
        bad = np.flatnonzero((new_w <= 0) & (w > 0))
        warnings.warn(f"Linear calibration gave {bad.size} weight(s) <= 0 "
                      f"({describe_rows(bad)}); consider bounds or method='logit'.",
                      CalibrationWarning, stacklevel=3)
    step = Step(X=X, before=w, after=new_w)
    names = ", ".join(repr(c) for c in margins)
    text = f"calibrated ({method}) to the totals of {names}"
    if bounds is not None:
        text += f" with g-weights bounded to [{bounds[0]:g}, {bounds[1]:g}]"
    rep_step = None
    if _is_replicate(design):
        failed = []
        XX = _row_outer(_sparse(X))
        flat = None if method == "linear" and bounds is None else dg_of   # g' = 1
        model = (_sparse(X), XX)
        psu = None
        if flat is None:
            from scipy import sparse

            psu = design._psu_products(sparse.hstack([model[0], XX]).tocsr())
        if psu is not None:
            # linear, generated factors, first step: each replicate's sample totals and
            # x x' sums are products of its factors with PSU totals; one stacked solve
            p = X.shape[1]
            lam = np.concatenate([_linear_lambda(FA[:, :p], FA[:, p:], totals)
                                  for _, FA in psu])
            rep_step = _RepCalibration(model[0], method, bounds, lam)
        else:
            rep_step = _fit_replicates(
                design, lambda W: _calibrate_fit(W, model, totals, g_of, flat, max_iter,
                                                 tol, failed),
                lambda lam: _RepCalibration(model[0], method, bounds, lam))
        if failed:
            worst = max(f[1] for f in failed)
            warnings.warn(f"Calibration ({method!r}) did not converge in "
                          f"{sum(f[0] for f in failed)} of {design.n_replicates} replicates "
                          f"after {max_iter} iterations (largest relative misfit "
                          f"{worst:.3g}, tolerance {tol:g}); their weights are the last "
                          "iterate (R keeps them silently).", CalibrationWarning,
                          stacklevel=3)
    recipe = ("calibrate", {"margins": margins, "method": method, "bounds": bounds,
                            "population_size": population_size, "max_iter": max_iter,
                            "tol": tol})
    return _weighted(design, new_w, [step], text, recipe, rep_step)


def trim_weights(design, lower=None, upper=None, strict=False):
    """Trim weights to ``[lower, upper]`` and share the excess (R ``trimWeights``).

    See :meth:`harvest.SurveyDesign.trim_weights`.
    """
    _check_design(design)
    lo = -np.inf if lower is None else float(lower)
    hi = np.inf if upper is None else float(upper)
    if lo >= hi:
        raise ValueError(f"`lower` ({lower!r}) must be below `upper` ({upper!r}).")
    w = design._codes.weights.copy()
    active = w > 0
    mean = w[active].mean()
    if not lo <= mean <= hi:
        raise DataError(f"The bounds [{lo:g}, {hi:g}] cannot be met: the mean positive weight "
                        f"is {mean:g}, and trimming keeps the weights' sum.")
    for _ in range(100 if strict else 1):
        outside = active & ((w < lo) | (w > hi))
        if not outside.any():
            break
        inside = active & ~outside
        if not inside.any():
            raise DataError(f"Every weight lies outside [{lo:g}, {hi:g}]; nothing can take "
                            "the trimmed weight.")
        trimmed = np.where(outside, np.clip(w, lo, hi), w)
        excess = (w - trimmed).sum()
        w = np.where(inside, trimmed + excess / inside.sum(), trimmed)
    rep_step = None
    if _is_replicate(design):
        rep_step = _fit_replicates(design, lambda W: _trim_fit(W, lo, hi, strict),
                                   lambda c: _RepTrim(lo, hi, c), axis=1)
    return _weighted(design, w, [], f"weights trimmed to [{lo:g}, {hi:g}]"
                     + (" (strict)" if strict else ""),
                     ("trim_weights", {"lower": lower, "upper": upper, "strict": strict}),
                     rep_step)


def adjust_nonresponse(design, column, by=None):
    """Weighting-class nonresponse adjustment.

    See :meth:`harvest.SurveyDesign.adjust_nonresponse`.
    """
    from harvest._codes import _codes_of
    from harvest._options import as_list

    _check_design(design)
    data = design.data
    check_columns(data, [column], "column")
    by = as_list(by)
    check_columns(data, by, "by")
    r = pd.to_numeric(data[column], errors="coerce").to_numpy(dtype=float)
    w = design._codes.weights
    bad = np.flatnonzero((w > 0) & ~np.isin(r, (0.0, 1.0)))
    if bad.size:
        raise DataError(f"`column` {column!r} must be 0/1 (respondent); found "
                        f"{data[column].iloc[int(bad[0])]!r} in {describe_rows(bad)}.")
    r = np.where(np.isin(r, (0.0, 1.0)), r, 0.0)
    if by:
        cell, labels = _codes_of(data, by)
    else:
        cell, labels = np.zeros(len(data), dtype=np.intp), [None]
    total = np.bincount(cell, weights=w, minlength=len(labels))
    resp = np.bincount(cell, weights=w * r, minlength=len(labels))
    empty = np.flatnonzero((total > 0) & (resp == 0))
    if empty.size:
        rows = np.flatnonzero(cell == empty[0])
        raise DataError(f"Nonresponse cell {labels[int(empty[0])]!r} (column(s) {by}) has no "
                        f"respondent with positive weight ({describe_rows(rows)}); merge it "
                        "with a neighbouring cell.")
    ratio = np.divide(total, resp, out=np.zeros_like(total), where=resp > 0)
    new_w = w * r * ratio[cell]
    onehot = np.zeros((len(data), len(labels)))
    onehot[np.arange(len(data)), cell] = 1.0
    step = Step(X=onehot, before=w, after=new_w, kind="nonresponse")
    rep_step = None
    if _is_replicate(design):
        lost = []
        M = _sparse(onehot)
        rep_step = _fit_replicates(design, lambda W: _nonresponse_fit(W, M, r, lost),
                                   lambda ratio_r: _RepNonresponse(cell, r, ratio_r))
        if lost:
            warnings.warn(f"{sum(lost)} replicate(s) have a nonresponse cell with weight "
                          "but no respondent; that cell's weight is lost in those "
                          "replicates.", CalibrationWarning, stacklevel=3)
    return _weighted(design, new_w, [step], f"nonresponse adjustment of {column!r} within "
                     f"{by if by else 'the whole sample'} ({len(labels)} cells)",
                     ("adjust_nonresponse", {"column": column, "by": by or None}),
                     rep_step)


def describe_weighting(design) -> dict:
    """What weighting a design carries and the spread of its weights.

    Returns
    -------
    dict
        ``steps`` (list of str, in order), ``min``, ``max`` (positive weights),
        ``kish_deff`` (:math:`n \\sum w^2 / (\\sum w)^2`).

    Examples
    --------
    >>> import pandas as pd
    >>> import harvest as hv
    >>> df = pd.DataFrame({"psu": range(4), "g": list("aabb")})
    >>> d = hv.SurveyDesign(df, psu="psu").poststratify("g", {"a": 10, "b": 30})
    >>> describe_weighting(d)["kish_deff"]
    1.25
    """
    w = design._codes.weights
    w = w[w > 0]
    return {"steps": list(getattr(design, "_weighting_history", ())),
            "min": float(w.min()), "max": float(w.max()),
            "kish_deff": float(w.size * (w ** 2).sum() / w.sum() ** 2)}


# -- every replicate weighted again (replicate designs) ----------------------------------
def _sparse(X):
    from scipy import sparse

    return sparse.csr_matrix(X)


def _row_outer(Xs):
    """Sparse ``(n, p*p)`` matrix of the rows' ``x_i x_i'`` from the sparse ``X`` (n, p)."""
    from scipy import sparse

    n, p = Xs.shape
    Xs = Xs.tocsr()
    Xs.sort_indices()
    k = np.diff(Xs.indptr)                       # nonzeros per row
    row = np.repeat(np.arange(n), k)             # row of each nonzero
    ke = k[row]
    a = np.repeat(np.arange(Xs.nnz), ke)         # every nonzero with each of its row's
    offset = np.arange(a.size) - np.repeat(np.cumsum(ke) - ke, ke)
    b = Xs.indptr[row][a] + offset
    return sparse.csr_matrix((Xs.data[a] * Xs.data[b],
                              (row[a], Xs.indices[a] * p + Xs.indices[b])), shape=(n, p * p))


def _fit_replicates(design, fit, make, axis=0):
    """Fit one weighting step on every replicate's weights, block by block.

    ``fit(W)`` takes an ``(n, b)`` block of replicate weights (a column per replicate,
    after the design's earlier steps) and returns the block's parameters (replicates on
    ``axis``); ``make(params)`` builds the step from the parameters of all replicates.
    """
    parts = [fit(W) for _, W in design._weight_blocks()]
    if axis == 1:                      # trimming: (iterations, b) blocks, padded
        depth = max(p.shape[0] for p in parts)
        parts = [np.vstack([p, np.zeros((depth - p.shape[0], p.shape[1]))]) for p in parts]
    return make(np.concatenate(parts, axis=axis))


@dataclass(frozen=True)
class _RepCalibration:
    """Replicate ``r``'s weights times ``g(X lambda_r)`` (post-stratification, raking,
    calibration): ``X`` the (n, p) calibration matrix (dense or sparse), ``lam`` is
    ``(R, p)``."""

    X: object
    method: str
    bounds: tuple | None
    lam: np.ndarray

    def apply(self, W, start):
        g_of, _ = _g_functions(self.method, self.bounds)
        lam = self.lam[start:start + W.shape[1]]
        return W * g_of(np.asarray(self.X @ lam.T))


@dataclass(frozen=True)
class _RepTrim:
    """Trimming of every replicate: ``c`` (iterations, R) the shares of the excess."""

    lo: float
    hi: float
    c: np.ndarray

    def apply(self, W, start):
        for c in self.c[:, start:start + W.shape[1]]:
            W = _trim_sweep(W, self.lo, self.hi, c)[0]
        return W


@dataclass(frozen=True)
class _RepNonresponse:
    """Respondents' weights of replicate ``r`` times the cell ratio ``ratio[r, cell]``."""

    cell: np.ndarray
    r: np.ndarray
    ratio: np.ndarray

    def apply(self, W, start):
        return W * self.r[:, None] * self.ratio[start:start + W.shape[1]].T[self.cell]


def _cell_sums(W, X):
    """``W' X`` for the ``(n, b)`` weights and a sparse or dense ``X`` (n, p): ``(b, p)``."""
    return np.asarray(X.T @ W).T



def _post_fit(W, Xs, totals):
    return _post_ratio(_cell_sums(W, Xs), totals)


def _post_ratio(cells, totals):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(cells > 0, totals / cells - 1.0, 0.0)


def _rake_fit(W, mats, counts, sweeps):
    """Log cumulative factors of every margin's cells after ``sweeps`` sweeps, (b, p).

    ``mats``: per margin, the sparse one-hot cells and each row's cell.
    """
    logs = [np.zeros((W.shape[1], M.shape[1])) for M, _ in mats]
    for _ in range(sweeps):
        for k, (M, cell) in enumerate(mats):
            cells = _cell_sums(W, M)
            with np.errstate(divide="ignore", invalid="ignore"):
                f = np.where(cells > 0, counts[k] / cells, 1.0)
            W = W * f.T[cell]
            logs[k] += np.log(f)
    return np.hstack(logs)


def _calibrate_fit(W, model, totals, g_of, dg_of, max_iter, tol, failed):
    """Newton iterations for every replicate of the block at once: ``(b, p)`` lambdas.

    ``model`` is ``(Xs, XX)``: the sparse calibration matrix and the sparse rows'
    ``x x'`` (n, p*p); ``dg_of`` is None when ``g' = 1`` (linear). The ``(b, p, p)``
    Jacobians are one product of the weights with ``XX`` and one stacked
    ``np.linalg.solve``.
    """
    Xs, XX = model
    b, p = W.shape[1], Xs.shape[1]
    scale = 1.0 + np.abs(totals)
    lam = np.zeros((b, p))

    def linear(lam):                          # (n, b): x_i' lambda_r
        return np.asarray(Xs @ lam.T)

    misfit = np.broadcast_to(totals - _cell_sums(W, Xs), (b, p)).copy()
    for _ in range(max_iter):
        todo = np.max(np.abs(misfit) / scale, axis=1) >= tol
        if not todo.any():
            break
        every = bool(todo.all())
        Wt = W if every else W[:, todo]
        lt = lam if every else lam[todo]
        dW = Wt if dg_of is None else Wt * dg_of(linear(lt))
        jac = _cell_sums(dW, XX).reshape(-1, p, p)
        solved = True
        try:
            step = np.linalg.solve(jac, misfit[todo][:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:    # a replicate without rows in some margin cell
            solved = False
            step = (np.linalg.pinv(jac, rcond=256 * np.finfo(float).eps)
                    @ misfit[todo][:, :, None])[:, :, 0]
        if dg_of is None and solved:
            # linear g without bounds: the Newton step is the closed form (R regcalibrate)
            lam[todo] = lt + step
            misfit[todo] = 0.0
            break
        trial = lt + step
        g = g_of(linear(trial))
        for _ in range(30):          # halve the steps that leave the range of g
            bad = ~np.isfinite(g).all(axis=0)
            if not bad.any():
                break
            step[bad] /= 2
            trial = lt + step
            g = g_of(linear(trial))
        lam[todo] = trial
        misfit[todo] = totals - _cell_sums(Wt * g, Xs)
    rel = np.max(np.abs(misfit) / scale, axis=1)
    if (rel >= tol).any():
        failed.append((int((rel >= tol).sum()), float(rel.max())))
    return lam


def _linear_lambda(sample, cross, totals):
    """Linear calibration of a block of replicates: ``lambda_r = J_r^{-1}(T - t_r)``."""
    p = sample.shape[1]
    jac = cross.reshape(-1, p, p)
    rhs = (totals - sample)[:, :, None]
    try:
        return np.linalg.solve(jac, rhs)[:, :, 0]
    except np.linalg.LinAlgError:        # a replicate without rows in some margin cell
        return (np.linalg.pinv(jac, rcond=256 * np.finfo(float).eps) @ rhs)[:, :, 0]


def _trim_sweep(W, lo, hi, c=None):
    """One trimming sweep of every column of ``W`` (n, b); the shares ``c`` (b,) if given."""
    active = W > 0
    outside = active & ((W < lo) | (W > hi))
    inside = active & ~outside
    trimmed = np.where(outside, np.clip(W, lo, hi), W)
    if c is None:
        count = inside.sum(axis=0)
        excess = (W - trimmed).sum(axis=0)
        c = np.divide(excess, count, out=np.zeros_like(excess), where=count > 0)
    return np.where(inside, trimmed + c[None, :], trimmed), c, outside.any()


def _trim_fit(W, lo, hi, strict):
    shares = []
    for _ in range(100 if strict else 1):
        W, c, any_outside = _trim_sweep(W, lo, hi)
        if not any_outside:
            break
        shares.append(c)
    return np.array(shares).reshape(len(shares), W.shape[1])


def _nonresponse_fit(W, M, r, lost):
    total = _cell_sums(W, M)
    resp = _cell_sums(W * r[:, None], M)
    gone = (total > 0) & (resp == 0)
    if gone.any():
        lost.append(int(gone.any(axis=1).sum()))
    return np.divide(total, resp, out=np.zeros_like(total), where=resp > 0)


# -- the variance ---------------------------------------------------------------------------
def score_adjustment(design, estimand, row_group=None, n_groups=None):
    """The calibration term of the scores: ``(A, B)``, adjusted scores ``S - A @ B``.

    For each step ``s`` in order (R ``svyrecvar`` with ``postStrata``), the row-level
    linearised variable ``x`` becomes ``x - after_s * X_s B_s`` with
    ``B_s = (X_s' diag(before_s) X_s)^{-1} X_s' diag(before_s / after_s) x`` (a
    nonresponse step: ``x - (after_s - before_s) X_s B_s``, ``B_s`` the cell means of
    ``x`` under the new weights). The rows' ``x`` is never formed: ``X_s' diag(v) x`` is a
    group sum over the domains and the earlier steps enter through ``p x p`` cross
    products. The PSU totals of the residuals are therefore the scores ``S`` less
    ``sum_s A_s B_s`` with ``A_s`` the PSU totals of ``X_s * removed_s``.

    Parameters
    ----------
    design : SurveyDesign
        A design with weighting steps (``design._weighting``).
    estimand : harvest._domains.Estimand
    row_group, n_groups : optional
        The units the scores are totals over (default the PSUs; a multistage design's
        last-stage units).

    Returns
    -------
    A : numpy.ndarray, shape (P, p)
        The steps' ``A_s`` side by side; a step that recurs (raking's sweeps) once.
    B : numpy.ndarray, shape (p, m)
        The steps' coefficients stacked (summed over the recurrences of a step), columns
        ``j = d * k + v`` as the estimand's.

    Notes
    -----
    :func:`adjust_scores` gives the dense ``S - A @ B``; the Taylor variances of a
    one-stage design use the pieces (``harvest._core.pair_stratified_variance``), so no
    ``(P, m)`` array is formed.
    """
    from harvest._domains import _values

    codes = design._codes
    # the units the scores are totals over: PSUs, or a multistage design's last stage
    row_group = codes.row_psu if row_group is None else row_group
    P = codes.n_psus if n_groups is None else n_groups
    D, k = estimand.n_domains, estimand.k
    steps = getattr(design, "_weighting", ())
    if not steps:
        return np.zeros((P, 0)), np.zeros((0, D * k))
    rows = estimand.row_index
    dom = estimand.row_domain
    valid = ~np.isnan(estimand.row_y)
    y = np.where(valid, np.nan_to_num(estimand.row_y), 0.0)
    if estimand.kind == "ratio":
        x = np.column_stack([_values(design.data, v, rows, False)
                             for v in estimand.denominators])
        x = np.where(valid, x, 0.0)
    else:
        x = valid.astype(float)
    est = estimand.estimate()
    if estimand.xtot is None:
        a, b = np.ones_like(est), np.zeros_like(est)
    else:
        den = estimand.xtot
        with np.errstate(divide="ignore", invalid="ignore"):
            a = np.where(den > 0, 1.0 / den, 0.0)
            b = np.where(den > 0, -est / den, 0.0)
    wf = codes.weights
    every = rows.size == wf.size and np.array_equal(rows, np.arange(wf.size))   # no gather
    done = []
    blocks = {}          # id(step) -> [A_s, B summed over the step's recurrences]
    products = {}        # (id(step), id(earlier step)) -> X' diag(ratio * removed) X
    # a nonresponse adjustment is linearised last-step-first (the chain rule); R's
    # order (first step first) is kept for chains of calibrations alone
    if any(s.kind == "nonresponse" for s in steps):
        steps = steps[::-1]
    for s in steps:
        if s.kind == "nonresponse":
            # u <- u - (after - before) X B, B = cell means of u under the new weights
            ratio = np.ones_like(s.after)
            removed = s.after - s.before
            A = s.X.T @ (s.X * s.after[:, None])
        else:
            # u <- u - after X B, B = (X' diag(before) X)^-1 X' diag(before/after) u
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(s.after > 0, s.before / s.after, 0.0)
            removed = s.after
            A = s.X.T @ (s.X * s.before[:, None])
        p = s.X.shape[1]
        v = (ratio * wf)[rows]
        C = np.empty((p, D * k))
        for c in range(p):          # one calibration variable at a time: (n_r, k) arrays
            xv = (s.X[:, c] if every else s.X[rows, c]) * v
            C[c] = (a * group_sum(dom, D, xv[:, None] * y).reshape(-1)
                    + b * group_sum(dom, D, xv[:, None] * x).reshape(-1))
        for prev, prev_removed, B in done:
            key = (id(s), id(prev))
            if key not in products:
                products[key] = (s.X * (ratio * prev_removed)[:, None]).T @ prev.X
            C -= products[key] @ B
        B = np.linalg.lstsq(A, C, rcond=None)[0]
        if id(s) in blocks:
            blocks[id(s)][1] = blocks[id(s)][1] + B
        else:
            G = np.empty((P, p))
            for c in range(p):
                G[:, c] = np.bincount(row_group, weights=s.X[:, c] * removed, minlength=P)
            blocks[id(s)] = [G, B]
        done.append((s, removed, B))
    return (np.hstack([g for g, _ in blocks.values()]),
            np.vstack([B for _, B in blocks.values()]))


def adjust_scores(design, estimand, scores, row_group=None, n_groups=None):
    """PSU totals of the calibration residuals of the estimand's linearised variable.

    The dense ``scores - A @ B`` with ``(A, B)`` of :func:`score_adjustment`; used where
    the variance needs the dense totals (multistage designs, the full covariance, PPS).
    """
    if not getattr(design, "_weighting", ()):
        return scores
    A, B = score_adjustment(design, estimand, row_group=row_group, n_groups=n_groups)
    return np.asarray(scores, dtype=float) - A @ B
