"""Multistage and PPS-without-replacement variances: codes and numpy kernels.

A multistage design (``SurveyDesign(psu=[stage1, stage2, ...], fpc=[fpc1, fpc2, ...])``)
adds to the first-stage (ultimate-cluster) variance one term per later stage: the
variance of the stage-``s`` unit totals within their parent units, weighted by the
sampling fractions of the parents and their ancestors. That is R ``survey``'s
``multistage``/``onestage`` recursion, vectorised: one :func:`~harvest._core.group_sum`
and one :func:`~harvest._core.stratified_vcov` per stage, no loop over PSUs.

PPS sampling without replacement uses the inclusion probabilities :math:`\\pi_i`:
Brewer's approximation (a per-PSU finite population correction, in
:func:`~harvest._core.stratified_vcov`), Overton's approximation of the joint
probabilities (:func:`overton_vcov`) or the Horvitz-Thompson variance with the joint
probabilities given (:func:`delta_vcov`). See ``docs/methods/multistage.md``.

Examples
--------
>>> import numpy as np
>>> z = np.array([[1.0], [3.0], [2.0]])
>>> overton_vcov(z, np.zeros(3, dtype=int), np.array([3]), np.array([0.5, 0.5, 0.5]))
array([[1.5]])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harvest._codes import StageCodes, _compact, _numeric
from harvest._core import group_sum, lonely_strata, stratified_vcov
from harvest._errors import DataError, describe_rows, plain_value

__all__ = ["build_stages", "fpc_values", "group_fraction", "multistage_vcov",
           "overton_vcov", "delta_vcov", "ht_delta", "stage_scores", "lonely_units"]

#: R ``ppsmat``'s default tolerance: entries of the weighted covariance of the sampling
#: indicators smaller than this in absolute value are taken as zero.
JOINT_TOLERANCE = 1e-4


# -- building the codes ------------------------------------------------------------------
def fpc_values(data: pd.DataFrame, columns: list, pps: bool) -> tuple[list, bool]:
    """The fpc columns as float arrays and whether they hold population sizes.

    As R ``as.fpc``: population sizes when any value of any stage exceeds 1 (then every
    value must be at least 1), else sampling fractions (inclusion probabilities for
    PPS, which must be fractions).
    """
    values = []
    for column in columns:
        v = _numeric(data, column, "fpc")
        bad = np.flatnonzero(~np.isfinite(v) | (v <= 0))
        if len(bad):
            raise DataError(
                f"`fpc` column {column!r} must hold positive numbers; found "
                f"{plain_value(data[column].iloc[int(bad[0])])!r} in {describe_rows(bad)}."
            )
        values.append(v)
    popsize = any((v > 1).any() for v in values)
    if popsize:
        for column, v in zip(columns, values, strict=True):
            small = np.flatnonzero(v < 1)
            if len(small):
                raise DataError(
                    f"`fpc` column {column!r} mixes population sizes (>1) and sampling "
                    f"fractions (<1), e.g. {plain_value(v[small[0]])!r} in "
                    f"{describe_rows(small)}."
                )
        if pps:
            column = next(c for c, v in zip(columns, values, strict=True) if (v > 1).any())
            rows = np.flatnonzero(values[columns.index(column)] > 1)
            raise DataError(
                f"`fpc` column {column!r} must hold inclusion probabilities (<= 1) for a "
                f"PPS design; found {plain_value(data[column].iloc[int(rows[0])])!r} in "
                f"{describe_rows(rows)}."
            )
    return values, popsize


def group_fraction(values, column, row_group, n_groups: int, n_sampled, describe,
                   popsize: bool, unit: str = "units") -> np.ndarray:
    """Sampling fraction ``(G,)`` of each group from an fpc column constant within groups.

    ``describe(g)`` words group ``g`` for messages (e.g. "within stratum 'a'");
    ``n_sampled`` ``(G,)`` are the sampled units of each group (for population sizes).
    """
    lo = np.full(n_groups, np.inf)
    hi = np.full(n_groups, -np.inf)
    np.minimum.at(lo, row_group, values)
    np.maximum.at(hi, row_group, values)
    varying = np.flatnonzero(lo != hi)
    if len(varying):
        g = int(varying[0])
        rows = np.flatnonzero(row_group == g)
        raise DataError(
            f"`fpc` column {column!r} varies {describe(g)} "
            f"(values {plain_value(lo[g])!r} to {plain_value(hi[g])!r}, "
            f"{describe_rows(rows)}); it must be constant there."
        )
    fraction = np.asarray(n_sampled, dtype=float) / lo if popsize else lo.copy()
    over = np.flatnonzero(fraction > 1 + 1e-12)
    if len(over):
        g = int(over[0])
        rows = np.flatnonzero(row_group == g)
        raise DataError(
            f"`fpc` column {column!r} gives N = {plain_value(n_sampled[g] / fraction[g])!r} "
            f"population {unit} {describe(g).replace('within ', 'in ')} but the sample has "
            f"{int(n_sampled[g])} {unit} ({describe_rows(rows)})."
        )
    return np.minimum(fraction, 1.0)


def build_stages(data: pd.DataFrame, row_psu, n_psus: int, psu_columns: list,
                 fpc_values_: list, fpc_columns: list, popsize: bool, pps: bool) -> tuple:
    """:class:`~harvest._codes.StageCodes` of stages 2, 3, ... (nested in the earlier ones).

    A stage's fpc is constant within its parent units (R: the strata of stage ``s`` are
    the clusters of stage ``s - 1``), or within its own units for PPS.
    """
    stages = []
    parent_row = np.asarray(row_psu, dtype=np.intp)
    n_parent = n_psus
    for s in range(1, len(psu_columns)):
        column = psu_columns[s]
        missing = data[column].isna().to_numpy()
        if missing.any():
            raise DataError(
                f"`psu` column {column!r} (stage {s + 1}) has missing values (NaN) in "
                f"{describe_rows(np.flatnonzero(missing))}; design columns must be complete."
            )
        codes, levels = pd.factorize(data[column], sort=True)
        L = max(len(levels), 1)
        combined = parent_row.astype(np.int64) * L + codes
        row_unit, keys, _ = _compact(combined, n_parent * L)
        unit_parent = (keys // L).astype(np.intp)
        n_units = np.bincount(unit_parent, minlength=n_parent)
        values = fpc_values_[s]
        if pps:
            frac_unit = group_fraction(values, fpc_columns[s], row_unit, len(keys),
                                       np.ones(len(keys)), lambda g, c=column, s=s:
                                       f"within a stage-{s + 1} unit ({c!r})", False)
        else:
            frac_parent = group_fraction(values, fpc_columns[s], parent_row, n_parent, n_units,
                                         lambda g, s=s: f"within a stage-{s} unit", popsize)
            frac_unit = frac_parent[unit_parent]
        low = np.full(n_parent, np.inf)
        np.minimum.at(low, unit_parent, frac_unit)
        stages.append(StageCodes(row_unit=row_unit, unit_parent=unit_parent, n_units=n_units,
                                 unit_fraction=frac_unit, fraction=np.where(
                                     np.isfinite(low), low, 1.0)))
        parent_row, n_parent = row_unit, len(keys)
    return tuple(stages)


def ht_delta(joint, pi, order) -> np.ndarray:
    """``(P, P)`` weighted covariance of the sampling indicators from joint probabilities.

    ``joint`` is square over the PSUs in the order they first appear in the data;
    ``order[k]`` is the code of the ``k``-th of them and ``pi`` the inclusion
    probabilities in code order, as is the result. :math:`\\check\\Delta_{ij} = (\\pi_{ij} -
    \\pi_i\\pi_j)/\\pi_{ij}`, set to 0 where smaller than :data:`JOINT_TOLERANCE` in
    absolute value (R ``ppsmat``).
    """
    P = len(pi)
    try:
        J = np.array(joint, dtype=float)
    except (TypeError, ValueError) as err:
        raise DataError(f"`joint_probabilities` must be a numeric square array ({err}).") \
            from None
    if J.shape != (P, P):
        raise DataError(f"`joint_probabilities` must be a square array with one row and "
                        f"column per PSU ({P} x {P}); got shape {J.shape}.")
    if not np.isfinite(J).all() or (J < 0).any() or (J > 1).any():
        raise DataError("`joint_probabilities` must hold probabilities in [0, 1].")
    if not np.allclose(J, J.T, rtol=1e-10, atol=1e-12):
        raise DataError("`joint_probabilities` must be symmetric.")
    inverse = np.empty(P, dtype=np.intp)
    inverse[order] = np.arange(P)
    J = J[np.ix_(inverse, inverse)]      # to PSU code order
    d = np.diag(J).copy()
    bad = np.flatnonzero(np.abs(d - pi) > 1e-6 * np.maximum(pi, 1e-12))
    if len(bad):
        i = int(bad[0])
        raise DataError(
            f"`joint_probabilities` diagonal must equal the inclusion probabilities in "
            f"`fpc`; PSU number {int(inverse[i]) + 1} has {plain_value(d[i])!r} on the "
            f"diagonal and {plain_value(pi[i])!r} in `fpc`."
        )
    off = J <= 0
    np.fill_diagonal(off, False)
    if off.any():
        i, j = (int(a) for a in np.argwhere(off)[0])
        raise DataError(
            "`joint_probabilities` must be positive (every pair of PSUs can be sampled "
            f"together for the Horvitz-Thompson variance); PSUs {int(inverse[i]) + 1} and "
            f"{int(inverse[j]) + 1} have {plain_value(J[i, j])!r}."
        )
    delta = (J - np.outer(d, d)) / J
    delta[np.abs(delta) < JOINT_TOLERANCE] = 0.0
    return delta


# -- kernels -----------------------------------------------------------------------------
def overton_vcov(scores, psu_stratum, n_psu, pi, full: bool = True) -> np.ndarray:
    """Horvitz-Thompson covariance with Overton's joint probabilities (R ``pps="overton"``).

    :math:`\\check\\Delta_{ii} = 1 - \\pi_i`, :math:`\\check\\Delta_{ij} = -((1 - \\pi_i)
    + (1 - \\pi_j)) / (2 (n_h - 1))` for PSUs :math:`i \\ne j` of one stratum, 0 across
    strata; :math:`\\hat V = \\sum_{ij} \\check\\Delta_{ij} z_i z_j^\\top`. Computed from
    stratum sums, :math:`O(P m^2)`.

    Examples
    --------
    >>> import numpy as np
    >>> overton_vcov(np.array([[2.0], [4.0]]), np.array([0, 0]), np.array([2]),
    ...              np.array([0.5, 0.5]), full=False)
    array([2.])
    """
    z = np.asarray(scores, dtype=float)
    if z.ndim == 1:
        z = z[:, None]
    h = np.asarray(psu_stratum, dtype=np.intp)
    n = np.asarray(n_psu, dtype=float)
    a = 1.0 - np.asarray(pi, dtype=float)
    with np.errstate(divide="ignore"):
        c = np.where(n > 1, 1.0 / (2.0 * (n - 1.0)), 0.0)
    H = len(n)
    A = group_sum(h, H, a[:, None] * z)
    T = group_sum(h, H, z)
    own = a * (1.0 + 2.0 * c[h])
    if full:
        return (np.einsum("pi,pj,p->ij", z, z, own)
                - np.einsum("hi,hj,h->ij", A, T, c) - np.einsum("hi,hj,h->ij", T, A, c))
    return np.einsum("pj,pj,p->j", z, z, own) - 2.0 * np.einsum("hj,hj,h->j", A, T, c)


def delta_vcov(scores, delta, full: bool = True) -> np.ndarray:
    """:math:`Z^\\top \\check\\Delta Z` (R ``htvar.matrix``), or its diagonal.

    Examples
    --------
    >>> import numpy as np
    >>> delta_vcov(np.array([[1.0], [2.0]]), np.array([[0.5, -0.1], [-0.1, 0.5]]))
    array([[2.1]])
    """
    z = np.asarray(scores, dtype=float)
    if z.ndim == 1:
        z = z[:, None]
    dz = np.asarray(delta) @ z
    if full:
        return z.T @ dz
    return np.einsum("pj,pj->j", z, dz)


def stage_scores(stages, unit_scores, unit_present, n_psus: int):
    """Scores and presence of every stage from the last stage's units, upwards.

    Returns ``(psu_scores (P, m), [scores of stage 2 units, stage 3 units, ...],
    [presence (U_parent, m) of each later stage's parents])``.
    """
    scores = [None] * len(stages)
    parents_present = [None] * len(stages)
    z = np.asarray(unit_scores, dtype=float)
    present = np.asarray(unit_present, dtype=bool)
    for s in range(len(stages) - 1, -1, -1):   # the few stages, from the last one up
        st = stages[s]
        scores[s] = z
        n_parent = n_psus if s == 0 else len(stages[s - 1].unit_parent)
        z = group_sum(st.unit_parent, n_parent, z)
        present = group_sum(st.unit_parent, n_parent, present) > 0
        parents_present[s] = present
    return z, scores, parents_present


def multistage_vcov(codes, psu_scores, scores, parents_present, lonely: str, full: bool,
                    stratum_present=None) -> np.ndarray:
    """Covariance of a multistage design: R ``survey:::multistage``, vectorised.

    Parameters
    ----------
    codes : harvest._codes.DesignCodes
        With ``stages`` (stage 2, 3, ...).
    psu_scores : numpy.ndarray, shape (P, m)
        PSU totals of the linearised variable.
    scores : list of numpy.ndarray
        The totals of stage-2, stage-3, ... units (``(U_s, m)``).
    parents_present : list of numpy.ndarray of bool
        Which parent units of each later stage hold rows of each estimate.
    lonely : str
        The lonely-PSU policy of the first stage ("fail" already checked by the
        caller); at later stages a parent with one sampled unit adds 0
        (``"remove"``, ``"certainty"``, and ``"fail"`` once checked), its uncentred
        total (``"adjust"``) or makes the estimate NaN (``"average"``, as R).
    full, stratum_present
        As :func:`~harvest._core.stratified_vcov`.

    Notes
    -----
    With :math:`f_1` the first-stage fraction of PSU :math:`i` and :math:`V_2(i)` the
    stratified variance of its stage-2 unit totals (the PSU as stratum, fraction
    :math:`f_2`),

    .. math:: \\hat V = V_1 + \\sum_i f_{1i} \\Big( V_{2}(i) + \\sum_j f_{2ij} V_3(ij)
              + \\dots \\Big).

    A parent's term is scaled by multiplying its units' totals by the square root of
    the product of the ancestors' fractions.
    """
    first = "remove" if lonely == "fail" else lonely
    v = stratified_vcov(psu_scores, codes.psu_stratum, codes.n_psu, codes.fraction, first,
                        full=full, stratum_present=None if full else stratum_present,
                        psu_fraction=codes.psu_fraction)
    v = np.array(v, dtype=float)
    multiplier = codes.psu_fractions()
    policy = "adjust" if lonely == "adjust" else "remove"
    for st, z, present in zip(codes.stages, scores, parents_present, strict=True):
        root = np.sqrt(multiplier)[st.unit_parent]
        part = stratified_vcov(z * root[:, None], st.unit_parent, st.n_units, st.fraction,
                               policy, full=full, psu_fraction=st.unit_fraction)
        if lonely == "average":
            lonely_parent = lonely_strata(st.n_units, st.fraction)
            bad = (present & lonely_parent[:, None]).any(axis=0)
            if bad.any():
                part = np.array(part, dtype=float)
                if full:
                    part[bad, :] = np.nan
                    part[:, bad] = np.nan
                else:
                    part[bad] = np.nan
        v = v + part
        multiplier = multiplier[st.unit_parent] * st.unit_fraction
    return v


def lonely_units(stages):
    """``[(stage number, bool (U_parent,))]``: parents with one sampled unit, not census."""
    return [(s + 2, lonely_strata(st.n_units, st.fraction)) for s, st in enumerate(stages)]

