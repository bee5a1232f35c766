"""Numpy kernels for design-based estimation: grouped sums and the Taylor variance.

No pandas here. Every reduction runs over integer codes with :func:`numpy.bincount`,
so the cost is one pass over the rows (or over the PSUs) whatever the number of
groups; there is no Python loop over domains, strata or PSUs.

Examples
--------
>>> import numpy as np
>>> group_sum(np.array([0, 1, 0]), 2, np.array([1.0, 2.0, 3.0]))
array([[4.],
       [2.]])
"""

from __future__ import annotations

import numpy as np

#: A stratum whose finite population correction ``1 - n_h/N_h`` is below this value
#: is a census stratum and adds nothing to the variance (as R ``survey``'s ``onestrat``).
CENSUS_TOLERANCE = 1e-7

#: Scores less a low-rank term (:func:`pair_stratified_variance` ``low_rank``): a
#: variance below this fraction of the sizes of the terms it is the sum of loses too
#: many digits to the cancellation and is computed from dense residuals instead (a
#: calibration margin's own total or proportion, whose residuals are almost zero).
LOW_RANK_CANCELLATION = 1e-4

#: Cells (PSUs x columns) of one block of those dense residuals.
DENSE_BLOCK_CELLS = 4_000_000


def group_sum(codes, n_groups: int, values) -> np.ndarray:
    """Sum the rows of ``values`` within groups given by integer ``codes``.

    Parameters
    ----------
    codes : array_like of int, shape (n,)
        Group of each row, in ``0 .. n_groups - 1``.
    n_groups : int
        Number of groups (rows of the result), including groups without rows.
    values : array_like, shape (n,) or (n, k)
        Values to add up.

    Returns
    -------
    numpy.ndarray, shape (n_groups, k)
        ``out[g, j] = sum(values[i, j] for i with codes[i] == g)``; a 1-d ``values``
        gives ``k = 1``.

    Notes
    -----
    One :func:`numpy.bincount` per column: :math:`O(nk)` work, no loop over groups.

    Examples
    --------
    >>> import numpy as np
    >>> group_sum(np.array([1, 1, 0]), 3, np.array([[1.0, 10.0], [2.0, 20.0], [4.0, 40.0]]))
    array([[ 4., 40.],
           [ 3., 30.],
           [ 0.,  0.]])
    """
    codes = np.asarray(codes, dtype=np.intp)
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    values = np.asfortranarray(values)   # contiguous columns for bincount
    out = np.empty((n_groups, values.shape[1]))
    for j in range(values.shape[1]):  # loop over columns (indicators), never over groups
        out[:, j] = np.bincount(codes, weights=values[:, j], minlength=n_groups)
    return out


def stratum_factor(n_psu, fraction, lonely: str) -> np.ndarray:
    """Per-stratum multiplier of the centred squared PSU totals.

    ``(1 - f_h) n_h / (n_h - 1)`` for strata with two or more PSUs; for a stratum with
    one PSU it is ``1 - f_h`` under ``"adjust"`` (the PSU total is not centred) and 0
    otherwise. Census strata (``1 - f_h < 1e-7``) get 0.

    Examples
    --------
    >>> stratum_factor(np.array([2, 1]), np.array([0.0, 0.0]), "adjust")
    array([2., 1.])
    """
    n_psu = np.asarray(n_psu, dtype=float)
    fpc = 1.0 - np.asarray(fraction, dtype=float)
    single = n_psu <= 1
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(single, 0.0, fpc * n_psu / (n_psu - 1.0))
    if lonely == "adjust":
        factor = np.where(single, fpc, factor)
    return np.where(fpc < CENSUS_TOLERANCE, 0.0, factor)


def _psu_factor(psu_stratum, n_psu, psu_fraction, lonely: str) -> np.ndarray:
    """``stratum_factor`` with one fraction per PSU (R ``onestrat``'s per-row ``f``)."""
    fpc = 1.0 - np.asarray(psu_fraction, dtype=float)
    n_h = np.asarray(n_psu, dtype=float)[psu_stratum]
    single = n_h <= 1
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(single, 0.0, fpc * n_h / (n_h - 1.0))
    if lonely == "adjust":
        factor = np.where(single, fpc, factor)
    sampled = np.bincount(psu_stratum, weights=(fpc >= CENSUS_TOLERANCE).astype(float),
                          minlength=len(n_psu))
    return np.where(sampled[psu_stratum] > 0, factor, 0.0)


def lonely_strata(n_psu, fraction) -> np.ndarray:
    """Boolean ``(H,)``: strata with a single PSU that are not census strata.

    Examples
    --------
    >>> lonely_strata(np.array([1, 3, 1]), np.array([0.0, 0.0, 1.0]))
    array([ True, False, False])
    """
    n_psu = np.asarray(n_psu)
    return (n_psu <= 1) & (1.0 - np.asarray(fraction, dtype=float) >= CENSUS_TOLERANCE)


def stratified_vcov(scores, psu_stratum, n_psu, fraction, lonely: str, full: bool = True,
                    stratum_present=None, psu_fraction=None) -> np.ndarray:
    """Ultimate-cluster (Taylor) covariance of estimated totals of ``scores``.

    Parameters
    ----------
    scores : array_like, shape (P, m)
        PSU totals of the weighted linearised variable of each of ``m`` estimates.
    psu_stratum : array_like of int, shape (P,)
        Stratum code ``0 .. H-1`` of each PSU.
    n_psu : array_like of int, shape (H,)
        Number of PSUs in each stratum of the *design* (not of the domain).
    fraction : array_like, shape (H,)
        First-stage sampling fraction ``n_h / N_h`` (0 without a finite population
        correction).
    lonely : {"fail", "remove", "certainty", "adjust", "average"}
        What a stratum with a single PSU contributes, as R ``survey``.
    full : bool, default True
        Return the ``(m, m)`` covariance matrix; otherwise the ``(m,)`` variances.
    stratum_present : array_like of bool, shape (H, m), optional
        Which strata hold rows of each estimate (its domain). Used by ``"fail"`` (only a
        lonely stratum that holds the domain is an error) and ``"average"`` (the number
        of strata is counted within the domain). ``None`` means every stratum, which is
        the covariance of R ``svyby(..., covmat=TRUE)``.
    psu_fraction : array_like, shape (P,), optional
        A sampling fraction per PSU that replaces ``fraction[h]`` in the factor
        :math:`1 - f`: the inclusion probabilities :math:`\\pi_i` of a PPS design
        (Brewer's approximation, R ``svydesign(pps="brewer")``). A stratum adds nothing
        when every PSU in it has :math:`1 - \\pi_i < 10^{-7}`.

    Returns
    -------
    numpy.ndarray
        ``(m, m)`` when ``full``, else ``(m,)``.

    Raises
    ------
    ValueError
        ``lonely="fail"`` and a lonely stratum holds an estimate's domain. The message
        holds the stratum code; :class:`harvest.design.SurveyDesign` checks first and
        names the stratum label.

    Notes
    -----
    With :math:`z_{hi}` the total of PSU :math:`i` in stratum :math:`h`,
    :math:`\\bar z_h` their mean over the :math:`n_h` PSUs of the stratum and
    :math:`f_h = n_h/N_h`,

    .. math::

        \\hat V = \\sum_h (1 - f_h) \\frac{n_h}{n_h - 1}
                 \\sum_i (z_{hi} - \\bar z_h)(z_{hi} - \\bar z_h)^\\top .

    A stratum with one PSU adds 0 (``"remove"``, ``"certainty"``), or
    :math:`(1 - f_h) z_{h1} z_{h1}^\\top` (``"adjust"``: R ``survey`` 4.1 leaves the
    single PSU total uncentred, i.e. centred on the grand mean of zero-mean scores), or
    nothing while the sum over the other strata is multiplied by
    :math:`H / H_{ok}` (``"average"``, counted over strata holding the estimate).
    This is ``survey:::onestage``/``onestrat`` with ``survey.adjust.domain.lonely=FALSE``.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.array([[1.0], [3.0], [2.0], [6.0]])
    >>> stratified_vcov(z, np.array([0, 0, 1, 1]), np.array([2, 2]), np.zeros(2), "fail")
    array([[20.]])
    """
    scores = np.asarray(scores, dtype=float)
    if scores.ndim == 1:
        scores = scores[:, None]
    psu_stratum = np.asarray(psu_stratum, dtype=np.intp)
    n_psu = np.asarray(n_psu)
    n_strata = n_psu.shape[0]
    m = scores.shape[1]
    lonely_h = lonely_strata(n_psu, fraction)
    if stratum_present is None:
        present = np.ones((n_strata, m), dtype=bool)
    else:
        present = np.asarray(stratum_present, dtype=bool)

    if lonely == "fail" and lonely_h.any():
        hit = lonely_h[:, None] & present
        if hit.any():
            bad = int(np.flatnonzero(hit.any(axis=1))[0])
            raise ValueError(f"Stratum {bad} has only one PSU.")

    # Centre PSU totals within strata; a single PSU is left uncentred for "adjust".
    means = group_sum(psu_stratum, n_strata, scores) / np.maximum(n_psu, 1)[:, None]
    centred = scores - means[psu_stratum]
    if lonely == "adjust":
        single = (n_psu <= 1)[psu_stratum]
        centred[single] = scores[single]
    if psu_fraction is None:
        factor = stratum_factor(n_psu, fraction, lonely)[psu_stratum]
    else:
        factor = _psu_factor(psu_stratum, n_psu, psu_fraction, lonely)

    if full:
        weighted = centred * factor[:, None]
        if centred.shape[0] * m * m <= 20_000_000:
            # Small products: numpy's own loop. A threaded BLAS call costs more than the
            # arithmetic here, and far more on a busy machine (measured 0.3 ms vs 130 ms).
            vcov = np.einsum("pi,pj->ij", weighted, centred)
        else:
            vcov = weighted.T @ centred
    else:
        vcov = np.einsum("pj,pj,p->j", centred, centred, factor)

    if lonely == "average" and lonely_h.any():
        nstrat = present.sum(axis=0).astype(float)
        nok = nstrat - (lonely_h[:, None] & present).sum(axis=0)
        # nok == 0 (every stratum holding the estimate is lonely): 0 * inf = NaN, as R.
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(nstrat > 0, nstrat / nok, 1.0)
            if full:
                if stratum_present is None:
                    vcov = vcov * scale[0]
                else:
                    root = np.sqrt(scale)
                    vcov = vcov * np.outer(root, root)
            else:
                vcov = vcov * scale
    return vcov


def pair_stratified_variance(pair_psu, pair_group, values, n_groups: int, psu_stratum,
                             n_psu, fraction, lonely: str, present=None,
                             low_rank=None) -> np.ndarray:
    """Taylor variances of :func:`stratified_vcov` (``full=False``) from sparse scores.

    Parameters
    ----------
    pair_psu, pair_group : array_like of int, shape (q,)
        The PSU and the group (domain) of each non-zero entry; each (PSU, group) pair
        at most once. A PSU absent from a group scores 0 there.
    values : array_like, shape (q, k)
        The scores of the pairs, ``k`` columns per group (column ``g * k + v``).
    n_groups : int
        Number of groups ``G``.
    psu_stratum, n_psu, fraction, lonely
        As :func:`stratified_vcov`.
    present : array_like of bool, shape (q, k), optional
        Which pairs hold rows of each column (``"average"`` counts the strata holding
        the estimate); ``None``: every stratum, as ``stratum_present=None``.
    low_rank : tuple (A, B), optional
        A dense low-rank term taken off the scores: ``A`` ``(P, p)`` and ``B``
        ``(p, G * k)``, the scores being ``S - A @ B`` with ``S`` the sparse pair scores
        (a calibrated design: ``A`` the PSU totals of the calibration variables, ``B``
        the regression coefficients, :func:`harvest.weighting.score_adjustment`).

    Returns
    -------
    numpy.ndarray, shape (G * k,)
        The same numbers as ``stratified_vcov(dense_scores, ..., full=False)``, with
        ``dense_scores = S - A @ B`` when ``low_rank`` is given.

    Notes
    -----
    With :math:`c_{hg}` the PSUs of stratum :math:`h` holding group :math:`g` and
    :math:`\\bar z_{hg} = \\sum_{i} z_{hgi} / n_h`,
    :math:`\\sum_{i \\in h} (z_{hgi} - \\bar z_{hg})^2 = \\sum_{i \\in c_{hg}}
    (z_{hgi} - \\bar z_{hg})^2 + (n_h - |c_{hg}|)\\,\\bar z_{hg}^2`: the work is over the
    pairs, never over PSUs x groups.

    With ``low_rank``, write :math:`C` for the stratified centring and scaling of
    :func:`stratified_vcov` (within-stratum centring, factor
    :math:`(1 - f_h) n_h / (n_h - 1)`, the lonely-PSU policy) and :math:`s_j`,
    :math:`b_j` for column :math:`j` of the scores and of ``B``:

    .. math::

        \\hat V_j = s_j^\\top C s_j - 2\\, s_j^\\top C A\\, b_j
                   + b_j^\\top (A^\\top C A)\\, b_j .

    The first term is the sparse variance above; :math:`s_j^\\top C A` is a sum over the
    pairs of :math:`s` times the centred, scaled rows of :math:`A` (the centring of
    :math:`s` drops out against the centred :math:`A`), :math:`O(q p)`; :math:`A^\\top C A`
    is :math:`p \\times p`. Nothing of size PSUs x groups is formed. ``"average"``
    scales the sum, as it scales the dense variance. The terms can cancel (a calibration
    variable's own total has residuals near zero): a column whose :math:`\\hat V_j` is
    below :data:`LOW_RANK_CANCELLATION` times the sum of the terms' absolute values is
    computed again from its dense residuals :math:`s_j - A b_j` (``(P, c)`` blocks of
    such columns), so the result keeps the digits of the dense path.

    Examples
    --------
    >>> import numpy as np
    >>> pair_stratified_variance(np.array([0, 1, 2, 3]), np.zeros(4, int),
    ...                          np.array([1.0, 3.0, 2.0, 6.0]), 1, np.array([0, 0, 1, 1]),
    ...                          np.array([2, 2]), np.zeros(2), "fail")
    array([20.])

    Taking ``A @ B`` off the scores (here the scores' stratum means, so only the
    within-stratum spread is left, and the variance is unchanged):

    >>> A = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    >>> pair_stratified_variance(np.array([0, 1, 2, 3]), np.zeros(4, int),
    ...                          np.array([1.0, 3.0, 2.0, 6.0]), 1, np.array([0, 0, 1, 1]),
    ...                          np.array([2, 2]), np.zeros(2), "fail",
    ...                          low_rank=(A, np.array([[2.0], [4.0]]))).round(12)
    array([20.])
    """
    var, q, Q, hq, gq = _pair_variance(pair_psu, pair_group, values, n_groups, psu_stratum,
                                       n_psu, fraction, lonely)
    if low_rank is not None:
        var = _low_rank_variance(pair_psu, pair_group, values, n_groups, low_rank,
                                 psu_stratum, n_psu, fraction, lonely, var)[0]
    n_psu = np.asarray(n_psu)
    H = n_psu.shape[0]
    lonely_h = lonely_strata(n_psu, fraction)
    if lonely == "average" and lonely_h.any():
        if present is None:
            nstrat = float(H)
            nok = nstrat - lonely_h.sum()
        else:
            hit = group_sum(q, Q, np.asarray(present, dtype=bool)) > 0     # (Q, k)
            nstrat = group_sum(gq, n_groups, hit).reshape(-1)
            nok = nstrat - group_sum(gq, n_groups, hit & lonely_h[hq, None]).reshape(-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(np.asarray(nstrat) > 0, nstrat / nok, 1.0)
            var = var * scale
    return var


def _pair_variance(pair_psu, pair_group, values, n_groups: int, psu_stratum, n_psu,
                   fraction, lonely: str):
    """The variances of :func:`pair_stratified_variance` before ``"average"`` scales them,
    and the (stratum, group) cells of the pairs: ``(var, q, Q, hq, gq)``."""
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    pair_psu = np.asarray(pair_psu, dtype=np.intp)
    pair_group = np.asarray(pair_group, dtype=np.int64)
    psu_stratum = np.asarray(psu_stratum, dtype=np.intp)
    n_psu = np.asarray(n_psu)
    H = n_psu.shape[0]
    h = psu_stratum[pair_psu]
    key = pair_group * H + h
    if H * n_groups <= 4 * len(key) + 1024:
        used = np.bincount(key, minlength=H * n_groups) > 0
        q = (np.cumsum(used) - 1)[key]
        cells = np.flatnonzero(used)
    else:
        cells, q = np.unique(key, return_inverse=True)
        q = q.reshape(-1)
    Q = cells.size
    hq, gq = cells % H, cells // H
    nh = n_psu[hq].astype(float)
    mean = group_sum(q, Q, values) / np.maximum(nh, 1.0)[:, None]
    if lonely == "adjust":
        mean[nh <= 1] = 0.0      # a single PSU is left uncentred
    centred = values - mean[q]
    held = np.bincount(q, minlength=Q).astype(float)
    ss = group_sum(q, Q, centred * centred) + (nh - held)[:, None] * mean * mean
    factor = stratum_factor(n_psu, fraction, lonely)[hq]
    var = group_sum(gq, n_groups, ss * factor[:, None]).reshape(-1)
    return var, q, Q, hq, gq


def pair_covariance_entries(pair_psu, pair_group, values, n_groups: int, psu_stratum,
                            n_psu, fraction, lonely: str, first, second,
                            low_rank=None) -> np.ndarray:
    """Chosen entries ``V[first, second]`` of :func:`stratified_vcov` (``full=True``,
    ``stratum_present=None``) from sparse scores, without the ``(m, m)`` matrix.

    Parameters
    ----------
    pair_psu, pair_group, values, n_groups, psu_stratum, n_psu, fraction, lonely
        As :func:`pair_stratified_variance`; the pairs sorted by group, then PSU.
    first, second : array_like of int, shape (e,)
        Columns (``g * k + v``) of the entries wanted.
    low_rank : tuple (A, B), optional
        Scores ``S - A @ B``, as :func:`pair_stratified_variance`.

    Returns
    -------
    numpy.ndarray, shape (e,)

    Notes
    -----
    Within stratum :math:`h`, :math:`\\sum_i (z_{hi} - \\bar z_h)(u_{hi} - \\bar u_h) =
    \\sum_i z_{hi} u_{hi} - n_h \\bar z_h \\bar u_h`; the products run over the PSUs holding
    both groups (a sorted search per entry), so the cost grows with the entries asked
    and the PSUs of their groups, not with the square of the groups. Diagonal entries
    come from :func:`pair_stratified_variance` (centred, as the dense path). With
    ``low_rank`` each entry adds
    :math:`- s_i^\\top C A\\, b_j - s_j^\\top C A\\, b_i + b_i^\\top (A^\\top C A)\\, b_j`
    (notation of :func:`pair_stratified_variance`).

    Examples
    --------
    >>> import numpy as np
    >>> z = np.array([1.0, 3.0, 2.0, 6.0, 1.0, 1.0])
    >>> pair_covariance_entries(np.array([0, 1, 2, 3, 0, 2]), np.array([0, 0, 0, 0, 1, 1]),
    ...     z, 2, np.array([0, 0, 1, 1]), np.array([2, 2]), np.zeros(2), "fail",
    ...     np.array([0, 0]), np.array([0, 1])).round(6).tolist()
    [20.0, -6.0]
    """
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    k = values.shape[1]
    first = np.asarray(first, dtype=np.int64)
    second = np.asarray(second, dtype=np.int64)
    out = np.empty(first.size)
    diag = first == second
    if low_rank is not None and not diag.all():
        # the low-rank part of the off-diagonal entries; entries with a column whose
        # variance cancels come from the dense residuals, as the variance does
        plain = _pair_variance(pair_psu, pair_group, values, n_groups, psu_stratum, n_psu,
                               fraction, lonely)[0]
        _, dense, (cross, M, B) = _low_rank_variance(
            pair_psu, pair_group, values, n_groups, low_rank, psu_stratum, n_psu,
            fraction, lonely, plain)
        extra = (np.einsum("ec,ce->e", cross[first], B[:, second])
                 + np.einsum("ec,ce->e", cross[second], B[:, first]))
        extra = np.einsum("ce,ce->e", B[:, first], M @ B[:, second]) - extra
        redo = np.flatnonzero(~diag & (dense[first] | dense[second]))
    if diag.any():
        var = pair_stratified_variance(pair_psu, pair_group, values, n_groups, psu_stratum,
                                       n_psu, fraction, lonely, low_rank=low_rank)
        out[diag] = var[first[diag]]
    off = np.flatnonzero(~diag)
    if not off.size:
        return out
    pair_psu = np.asarray(pair_psu, dtype=np.int64)
    pair_group = np.asarray(pair_group, dtype=np.int64)
    psu_stratum = np.asarray(psu_stratum, dtype=np.intp)
    n_psu = np.asarray(n_psu)
    H, P = n_psu.shape[0], psu_stratum.shape[0]
    factor = stratum_factor(n_psu, fraction, lonely)
    g1, v1 = first[off] // k, first[off] % k
    g2, v2 = second[off] // k, second[off] % k
    starts = np.searchsorted(pair_group, np.arange(n_groups + 1))

    # sum over PSUs holding both groups of factor_h * z_i * u_i
    size = starts[g1 + 1] - starts[g1]
    entry = np.repeat(np.arange(off.size), size)
    pos = np.arange(entry.size) - np.repeat(np.cumsum(size) - size, size) + starts[g1][entry]
    psu = pair_psu[pos]
    key = pair_group * P + pair_psu                         # sorted
    want = g2[entry] * P + psu
    at = np.minimum(np.searchsorted(key, want), key.size - 1)
    hit = key[at] == want
    prod = (values[pos[hit], v1[entry[hit]]] * values[at[hit], v2[entry[hit]]]
            * factor[psu_stratum[psu[hit]]])
    cross = np.bincount(entry[hit], weights=prod, minlength=off.size)

    # minus sum over strata of factor_h * n_h * mean_z * mean_u (centring)
    h = psu_stratum[pair_psu]
    skey = pair_group * H + h
    cells, q = np.unique(skey, return_inverse=True)
    q = q.reshape(-1)
    hq = cells % H
    nh = n_psu[hq].astype(float)
    mean = group_sum(q, cells.size, values) / np.maximum(nh, 1.0)[:, None]
    if lonely == "adjust":
        mean[nh <= 1] = 0.0
    cstart = np.searchsorted(cells // H, np.arange(n_groups + 1))
    size = cstart[g1 + 1] - cstart[g1]
    entry = np.repeat(np.arange(off.size), size)
    pos = np.arange(entry.size) - np.repeat(np.cumsum(size) - size, size) + cstart[g1][entry]
    hh = hq[pos]
    want = g2[entry] * H + hh
    at = np.minimum(np.searchsorted(cells, want), cells.size - 1)
    hit = cells[at] == want
    e = entry[hit]
    centre = (factor[hh[hit]] * nh[pos[hit]] * mean[pos[hit], v1[e]] * mean[at[hit], v2[e]])
    out[off] = cross - np.bincount(e, weights=centre, minlength=off.size)
    if low_rank is not None:
        out[off] += extra[off]
        if redo.size:
            out[redo] = _dense_entries(pair_psu, pair_group, values, n_groups, low_rank,
                                       psu_stratum, n_psu, fraction, lonely, first[redo],
                                       second[redo])
    lonely_h = lonely_strata(n_psu, fraction)
    if lonely == "average" and lonely_h.any():
        nok = H - lonely_h.sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            out[off] = out[off] * (H / nok)
    return out


def _low_rank_variance(pair_psu, pair_group, values, n_groups: int, low_rank, psu_stratum,
                       n_psu, fraction, lonely: str, var):
    """Variances of the scores ``S - A @ B`` before ``"average"`` scales them, from the
    variances ``var`` of ``S`` (:func:`_pair_variance`).

    Returns ``(variances, dense, (cross, M, B))``: ``dense`` marks the columns computed
    from their dense residuals (the terms cancel below :data:`LOW_RANK_CANCELLATION`).
    """
    cross, M, B = _low_rank_terms(pair_psu, pair_group, values, n_groups, low_rank,
                                  psu_stratum, n_psu, fraction, lonely)
    out = var - 2.0 * np.einsum("jc,cj->j", cross, B) + np.einsum("cj,cj->j", B, M @ B)
    absB = np.abs(B)
    size = (np.abs(var) + 2.0 * np.einsum("jc,cj->j", np.abs(cross), absB)
            + np.einsum("cj,cj->j", absB, np.abs(M) @ absB))
    dense = np.abs(out) < LOW_RANK_CANCELLATION * size
    cols = np.flatnonzero(dense)
    if cols.size:
        P = np.asarray(psu_stratum).shape[0]
        plain = "remove" if lonely in ("average", "fail") else lonely    # unscaled
        step = max(1, DENSE_BLOCK_CELLS // max(P, 1))
        for start in range(0, cols.size, step):      # blocks of columns, (P, step)
            part = cols[start:start + step]
            res = _dense_residuals(pair_psu, pair_group, values, n_groups, low_rank, part)
            out[part] = stratified_vcov(res, psu_stratum, n_psu, fraction, plain,
                                        full=False)
    return out, dense, (cross, M, B)


def _dense_residuals(pair_psu, pair_group, values, n_groups: int, low_rank, cols):
    """Columns ``cols`` of the dense scores ``S - A @ B``, ``(P, len(cols))``."""
    A, B = low_rank
    A = np.asarray(A, dtype=float)
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    k = values.shape[1]
    out = -(A @ np.asarray(B, dtype=float)[:, cols])
    slot = np.full(n_groups * k, -1, dtype=np.intp)
    slot[cols] = np.arange(len(cols))
    pair_psu = np.asarray(pair_psu, dtype=np.intp)
    pair_group = np.asarray(pair_group, dtype=np.int64)
    for v in range(k):                   # loop over the indicators, not the groups
        at = slot[pair_group * k + v]
        ok = at >= 0
        out[pair_psu[ok], at[ok]] += values[ok, v]     # each (PSU, group) pair once
    return out


def _dense_entries(pair_psu, pair_group, values, n_groups: int, low_rank, psu_stratum,
                   n_psu, fraction, lonely: str, first, second):
    """Entries ``V[first, second]`` (before ``"average"`` scales them) of the scores
    ``S - A @ B`` from the dense residuals of their columns, in blocks of entries."""
    P = np.asarray(psu_stratum).shape[0]
    plain = "remove" if lonely in ("average", "fail") else lonely
    out = np.empty(first.size)
    step = max(1, DENSE_BLOCK_CELLS // max(2 * P, 1))
    for start in range(0, first.size, step):        # blocks of entries, (P, 2 * step)
        a, b = first[start:start + step], second[start:start + step]
        cols, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
        res = _dense_residuals(pair_psu, pair_group, values, n_groups, low_rank, cols)
        V = stratified_vcov(res, psu_stratum, n_psu, fraction, plain, full=True)
        out[start:start + a.size] = V[inverse[:a.size], inverse[a.size:]]
    return out


def _low_rank_terms(pair_psu, pair_group, values, n_groups: int, low_rank, psu_stratum,
                    n_psu, fraction, lonely: str):
    """``(S' C A, A' C A, B)`` of scores ``S - A @ B`` (see :func:`pair_stratified_variance`).

    ``S' C A`` is ``(G * k, p)``, one row per column of the sparse scores ``S`` (values on
    the pairs); ``A' C A`` is ``(p, p)``. ``C`` centres within strata (a single PSU is
    left uncentred under ``"adjust"``) and scales by :func:`stratum_factor`, with no
    ``"average"`` rescaling (the caller applies it to the whole variance).
    """
    A, B = low_rank
    A = np.asarray(A, dtype=float)
    B = np.asarray(B, dtype=float)
    if A.ndim == 1:
        A = A[:, None]
        B = B.reshape(1, -1)
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    psu_stratum = np.asarray(psu_stratum, dtype=np.intp)
    n_psu = np.asarray(n_psu)
    means = group_sum(psu_stratum, n_psu.shape[0], A) / np.maximum(n_psu, 1)[:, None]
    centred = A - means[psu_stratum]
    if lonely == "adjust":
        single = (n_psu <= 1)[psu_stratum]
        centred[single] = A[single]
    scaled = centred * stratum_factor(n_psu, fraction, lonely)[psu_stratum][:, None]
    M = scaled.T @ centred
    # sum over the pairs of a column of s_pair * (C A)[psu]; the centring of s drops
    # out, as the rows of C A sum to zero within each stratum with n_h >= 2
    pair_psu = np.asarray(pair_psu, dtype=np.intp)
    k = values.shape[1]
    cross = np.empty((n_groups * k, A.shape[1]))
    scaled_t = np.ascontiguousarray(scaled.T)
    for c in range(A.shape[1]):      # loop over the p columns of A, never over groups
        at = scaled_t[c][pair_psu]
        cross[:, c] = group_sum(pair_group, n_groups, values * at[:, None]).reshape(-1)
    return cross, M, B
