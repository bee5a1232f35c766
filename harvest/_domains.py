"""Estimands and tidy tables, shared by every design class.

:func:`build_estimand` reduces the rows of a design, once per call, to PSU-level totals
on the (PSU, domain) pairs that occur (``pair_Y``, ``pair_X``), one column per indicator;
the estimates are columns ``j = d * k + v`` (domain-major). Nothing of size PSUs x
domains is built unless a caller asks for the dense views ``Y`` and ``X``.
Linearisation and replicate variances both start from these totals; :func:`assemble_table`
writes the tidy output of ``API.md``.

Examples
--------
>>> import pandas as pd
>>> from harvest.design import SurveyDesign
>>> df = pd.DataFrame({"psu": [1, 2, 3, 4], "g": ["a", "a", "b", "b"],
...                    "y": [1.0, 3.0, 5.0, 7.0]})
>>> est = build_estimand(SurveyDesign(df, psu="psu"), "mean", "y", by="g", na="fail")
>>> est.estimate()
array([2., 6.])
>>> est.Y.shape
(4, 2)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harvest._codes import _combine_keys, _compact, _integer_keys
from harvest._core import group_sum
from harvest._errors import (
    DataError,
    EmptyDomainWarning,
    check_columns,
    describe_rows,
    plain_value,
)
from harvest._options import KINDS, NA_POLICY, as_list, check_option

__all__ = ["Estimand", "build_estimand", "assemble_table", "TABLE_COLUMNS", "KINDS"]

#: The statistic columns of every estimator's table, after the ``by`` columns.
TABLE_COLUMNS = ["indicator", "estimate", "se", "ci_low", "ci_high", "level", "ci_method",
                 "df", "deff", "n", "n_eff"]


#: Largest ``P * D * k`` (PSUs x domains x variables) one call reduces to; each of the
#: few ``(P, D*k)`` arrays of an estimand takes 8 bytes per cell.
MAX_CELLS = 100_000_000


@dataclass
class Estimand:
    """What one call estimates, reduced to PSU totals.

    Attributes
    ----------
    kind : str
        ``"proportion"``, ``"mean"``, ``"total"`` or ``"ratio"``.
    by : list
        The ``by`` column names (empty without domains).
    domains : pandas.DataFrame
        One row per non-empty domain (sorted levels), columns ``by``.
    indicators : list of str
        The ``k`` indicator labels (``"num/den"`` for ratios).
    variables, denominators : list
        The numerator and denominator columns (``denominators`` empty unless ratio).
    pair_psu, pair_domain : numpy.ndarray of int, shape (q,)
        The (PSU, domain) pairs that hold rows with positive weight, sorted by domain
        then PSU: the only PSU totals stored (no dense ``P x D`` array).
    pair_Y : numpy.ndarray, shape (q, k)
        Pair totals of ``w * y`` over the rows with a non-missing value; the dense
        ``(P, m)`` view is :attr:`Y` (zero where a PSU lacks the domain).
    pair_X : numpy.ndarray or None, shape (q, k)
        Pair totals of ``w`` (means, proportions) or ``w * x`` (ratios); ``None`` for
        totals (dense view :attr:`X`).
    pair_counts : numpy.ndarray, shape (q, k)
        Rows with a non-missing value per pair.
    n_psus, psu_stratum, n_strata
        The design's PSUs and their strata.
    n : numpy.ndarray, shape (m,)
        Unweighted rows with positive weight and non-missing values, per column.
    wsum : numpy.ndarray, shape (m,)
        Sum of the weights of those rows.
    s2 : numpy.ndarray, shape (m,)
        Element variance R ``svyvar`` gives for the variable the SRS variance of the
        design effect is made of (``y`` for totals, ``y - mean`` for means, the ratio's
        linearised variable for ratios), with divisor ``n - 1``.
    row_index : numpy.ndarray of int
        Positions (in the data) of the rows with positive weight, that the estimate used.
    row_domain : numpy.ndarray of int
        Domain code of each of those rows.
    row_y : numpy.ndarray, shape (len(row_index), k)
        The variables on those rows, NaN where missing (or where a ratio's denominator
        is missing).
    row_weight : numpy.ndarray, shape (len(row_index),)
        The weights of those rows.
    unit_Y, unit_X, unit_present : numpy.ndarray, shape (U, m), optional
        ``Y``, ``X`` and "holds rows" over the last-stage units of a multistage design
        (``None`` for one-stage designs).
    ytot, xtot : numpy.ndarray, shape (m,)
        Column totals of ``pair_Y`` and ``pair_X`` (``xtot`` None for totals).
    """

    kind: str
    by: list
    domains: pd.DataFrame
    indicators: list
    variables: list
    denominators: list
    pair_psu: np.ndarray
    pair_domain: np.ndarray
    pair_Y: np.ndarray
    pair_X: np.ndarray | None
    pair_counts: np.ndarray
    n_psus: int
    psu_stratum: np.ndarray
    n_strata: int
    n: np.ndarray
    wsum: np.ndarray
    s2: np.ndarray
    row_index: np.ndarray
    row_domain: np.ndarray
    row_y: np.ndarray | None = None
    row_weight: np.ndarray | None = None
    unit_Y: np.ndarray | None = None
    unit_X: np.ndarray | None = None
    unit_present: np.ndarray | None = None
    ytot: np.ndarray | None = None
    xtot: np.ndarray | None = None

    @classmethod
    def from_dense(cls, *, Y, X, domain_psu, psu_stratum, n_strata, stratum_present=None,
                   **fields) -> Estimand:
        """An estimand from dense ``(P, D*k)`` PSU totals, for estimators that build their
        own (quantiles, regression): the (PSU, domain) pairs that hold rows or a non-zero
        total. ``stratum_present`` is implied by the pairs (accepted, not used)."""
        Y = np.asarray(Y, dtype=float)
        P, D = domain_psu.shape
        k = Y.shape[1] // D
        cube = Y.reshape(P, D, k)
        held = np.asarray(domain_psu, dtype=bool) | (cube != 0).any(axis=2)
        dom, psu = np.nonzero(held.T)          # sorted by domain, then PSU
        pair_X = None if X is None else np.asarray(X, dtype=float).reshape(P, D, k)[psu, dom]
        return cls(pair_psu=psu.astype(np.intp), pair_domain=dom.astype(np.intp),
                   pair_Y=cube[psu, dom], pair_X=pair_X, pair_counts=np.ones((psu.size, k)),
                   n_psus=P, psu_stratum=np.asarray(psu_stratum, dtype=np.intp),
                   n_strata=n_strata, ytot=Y.sum(axis=0),
                   xtot=None if X is None else np.asarray(X, dtype=float).sum(axis=0),
                   **fields)

    # -- dense views (small designs, calibrated designs, tests) ------------------------
    def _dense(self, values) -> np.ndarray:
        P, D, k = self.n_psus, self.n_domains, self.k
        if P * D * k > MAX_CELLS:
            raise ValueError(
                f"{D} domains x {k} variables x {P} PSUs = {P * D * k:,} PSU-level totals, "
                f"more than {MAX_CELLS:,} as a dense array; this step needs them dense "
                "(estimate fewer domains or variables per call).")
        out = np.zeros((P, D, k))
        out[self.pair_psu, self.pair_domain] = values
        return out.reshape(P, D * k)

    @property
    def Y(self) -> np.ndarray:
        """Dense PSU totals ``(P, m)`` of ``w * y`` (zero where a PSU lacks the domain)."""
        return self._dense(self.pair_Y)

    @property
    def X(self) -> np.ndarray | None:
        """Dense PSU totals ``(P, m)`` of the denominators; ``None`` for totals."""
        return None if self.pair_X is None else self._dense(self.pair_X)

    @property
    def domain_psu(self) -> np.ndarray:
        """Dense ``(P, D)`` bool: which PSUs hold rows of each domain."""
        out = np.zeros((self.n_psus, self.n_domains), dtype=bool)
        out[self.pair_psu, self.pair_domain] = True
        return out

    @property
    def pair_stratum(self) -> np.ndarray:
        """Stratum of each (PSU, domain) pair."""
        return self.psu_stratum[self.pair_psu]

    @property
    def stratum_present(self) -> np.ndarray:
        """Dense ``(H, m)`` bool: which strata hold rows of each column."""
        out = np.zeros((self.n_strata, self.n_domains, self.k), dtype=bool)
        hit = self.pair_counts > 0
        np.logical_or.at(out, (self.pair_stratum, self.pair_domain), hit)
        return out.reshape(self.n_strata, -1)

    def strata_holding(self) -> np.ndarray:
        """``(H,)`` bool: strata holding a row of some column (what a lonely check needs)."""
        hit = (self.pair_counts > 0).any(axis=1)
        return np.bincount(self.pair_stratum[hit], minlength=self.n_strata) > 0

    def pair_scores(self) -> np.ndarray:
        """Scores (the linearised variable's PSU totals) on the pairs, ``(pairs, k)``.

        The non-zero entries of :meth:`scores`: a PSU without the domain scores 0.
        """
        if self.pair_X is None:
            return self.pair_Y
        D, k = self.n_domains, self.k
        den = self.xtot.reshape(D, k)[self.pair_domain]
        est = self.estimate().reshape(D, k)[self.pair_domain]
        with np.errstate(divide="ignore", invalid="ignore"):
            fitted = est * self.pair_X
            diff = self.pair_Y - fitted
            noise = (np.abs(diff)
                     <= 8 * np.finfo(float).eps * (np.abs(self.pair_Y) + np.abs(fitted)))
            out = np.where(noise, 0.0, diff) / den
        return np.where(den > 0, out, 0.0)

    @property
    def n_domains(self) -> int:
        """Number of domains ``D``."""
        return len(self.domains)

    @property
    def k(self) -> int:
        """Number of indicators per domain."""
        return len(self.indicators)

    def estimate(self) -> np.ndarray:
        """Point estimates ``Y.sum(0) / X.sum(0)`` (or ``Y.sum(0)`` for totals), ``(m,)``."""
        if self.xtot is None:
            return self.ytot
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.ytot / self.xtot

    def scores(self) -> np.ndarray:
        """PSU totals of the linearised variable, dense ``(P, m)``.

        ``(Y - est * X) / X.sum(0)`` for ratios of totals, ``Y`` for totals
        (:meth:`pair_scores` on the (PSU, domain) pairs that occur, zero elsewhere).
        """
        return self._dense(self.pair_scores())

    def unit_scores(self) -> np.ndarray:
        """Totals of the linearised variable over the last-stage units, ``(U, m)``."""
        Y, X = self.unit_Y, self.unit_X
        if self.pair_X is None:
            return Y
        den = self.xtot
        est = self.estimate()
        with np.errstate(divide="ignore", invalid="ignore"):
            fitted = est * X
            diff = Y - fitted
            # A difference at the rounding level of its terms is zero (e.g. a domain
            # inside one PSU), so a zero variance comes out as 0, not 1e-30.
            noise = np.abs(diff) <= 8 * np.finfo(float).eps * (np.abs(Y) + np.abs(fitted))
            out = np.where(noise, 0.0, diff) / den
        return np.where(den > 0, out, 0.0)

    def design_df(self, codes) -> np.ndarray:
        """Degrees of freedom per column: PSUs minus strata holding the domain, ``(m,)``.

        R ``degf()`` of the design restricted to the domain (rows with positive weight).
        """
        D = self.n_domains
        n_psu = np.bincount(self.pair_domain, minlength=D)
        key = self.pair_domain.astype(np.int64) * codes.n_strata + self.pair_stratum
        n_strata = np.bincount(np.unique(key) // codes.n_strata, minlength=D)
        return np.repeat((n_psu - n_strata).astype(float), self.k)

    def srs_variance(self, replace: bool = False) -> np.ndarray:
        """Variance under simple random sampling, as R ``survey``'s ``deff=TRUE``.

        Without replacement (``replace=False``, R ``deff=TRUE``):
        ``s2 * c * (W - n) / (W n)``; with replacement (R ``deff="replace"``):
        ``s2 * c / n``, where ``W`` is the domain's weight sum, ``n`` its rows and
        ``c = 1`` for means and proportions, ``W**2`` for totals and ratios. For means
        and proportions a weight sum below ``n`` gives NaN (R warns and returns NA).
        """
        n = self.n.astype(float)
        scale = np.ones_like(n) if self.kind in ("mean", "proportion") else self.wsum ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            if replace:
                return self.s2 * scale / n
            out = self.s2 * scale * (self.wsum - n) / (self.wsum * n)
        if self.kind in ("mean", "proportion"):
            out = np.where(self.wsum < n, np.nan, out)
        return out

    def srs_ratio(self, variance, replace: bool = False) -> np.ndarray:
        """Design effect ``variance / srs_variance(replace)`` (``(m,)``)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(variance, dtype=float) / self.srs_variance(replace)

    def effective_n(self, estimate, variance) -> np.ndarray:
        """Effective sample size per column.

        Proportions: ``p (1 - p) / se**2`` (API.md). Means, totals and ratios:
        ``n / deff_replace = s2 * c / se**2``, the size of a simple random sample with
        replacement giving the same variance. Where ``se == 0`` it is ``n``.
        """
        variance = np.asarray(variance, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.kind == "proportion":
                out = estimate * (1.0 - estimate) / variance
            else:
                out = self.n * self.srs_variance(replace=True) / variance
        return np.where(variance > 0, out, np.where(np.isnan(variance), np.nan, self.n))





def domain_label(estimand: Estimand, j: int) -> str:
    """Column ``j`` of an estimand in words, for messages: ``"region='Ahal', indicator 'y'"``.

    Examples
    --------
    >>> import pandas as pd
    >>> from harvest.design import SurveyDesign
    >>> df = pd.DataFrame({"psu": [1, 2], "g": ["a", "b"], "y": [1.0, 2.0]})
    >>> est = build_estimand(SurveyDesign(df, psu="psu"), "mean", "y", by="g")
    >>> domain_label(est, 1)
    "g='b', indicator 'y'"
    """
    d, v = divmod(int(j), estimand.k)
    parts = [f"{c}={plain_value(estimand.domains[c].iloc[d])!r}" for c in estimand.by]
    parts.append(f"indicator {estimand.indicators[v]!r}")
    return ", ".join(parts)


def _values(data, column, rows, proportion: bool) -> np.ndarray:
    """Float values of ``column`` on ``rows``; DataError for non-numeric or non-0/1 values."""
    return _checked_values(data, column, rows, proportion).astype(float, copy=False)


def _checked_values(data, column, rows, proportion: bool) -> np.ndarray:
    """As :func:`_values`, but an integer or bool column comes back in its own dtype
    (checked), for a caller that writes it into a float array (no float copy)."""
    series = data[column]
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biu":
        # plain integers or booleans: no missing or infinite values to look for
        raw = series.to_numpy()
        if len(rows) < len(raw):
            raw = raw[rows]
        if proportion and dtype.kind != "b":
            bad = np.flatnonzero((raw < 0) | (raw > 1))
            if len(bad):
                raise DataError(
                    f"column {column!r} must be 0/1 (or True/False) for a proportion; "
                    f"found {plain_value(raw[bad[0]])!r} in {describe_rows(rows[bad])}.")
        return raw
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        values = series.to_numpy(dtype=float, na_value=np.nan)[rows]
    else:
        sub = series.iloc[rows]
        missing = sub.isna().to_numpy()
        raw = sub.to_numpy(dtype=object)
        is_number = np.fromiter(
            (isinstance(v, bool | int | float | np.number) for v in raw), bool, len(raw)
        )
        bad = np.flatnonzero(~missing & ~is_number)
        if len(bad):
            kind = "0/1 (or True/False)" if proportion else "numeric"
            value = plain_value(raw[bad[0]])
            what = "text" if isinstance(value, str) else type(value).__name__
            raise DataError(
                f"column {column!r} must be {kind}; found {value!r} in "
                f"{describe_rows(rows[bad])} ({what}, not a number); convert the column to "
                "numbers (in Python: pd.to_numeric)."
            )
        values = np.where(missing, np.nan, raw).astype(float)
    if proportion:
        bad = np.flatnonzero(~np.isnan(values) & (values != 0) & (values != 1))
        if len(bad):
            raise DataError(
                f"column {column!r} must be 0/1 (or True/False) for a proportion; found "
                f"{plain_value(series.iloc[rows[bad[0]]])!r} in {describe_rows(rows[bad])}."
            )
    bad = np.flatnonzero(np.isinf(values))
    if len(bad):
        raise DataError(
            f"column {column!r} has infinite values in {describe_rows(rows[bad])}."
        )
    return values


def _value_columns(data, columns, rows, proportion: bool) -> np.ndarray:
    """``(len(rows), k)`` float array (Fortran order) of :func:`_values` of each column."""
    out = np.empty((len(rows), len(columns)), order="F")
    for j, column in enumerate(columns):   # a loop over the few variables
        out[:, j] = _checked_values(data, column, rows, proportion)   # cast as astype
    return out


def _factorize_labels(values: pd.Series, column):
    """Codes and sorted levels of a domain column; DataError when two different levels
    print the same (``1`` and ``"1"``, ``1.0`` and ``"1.0"``), which would give two
    domains with one label."""
    try:
        codes, levels = pd.factorize(values, sort=True)
    except TypeError:  # a mix of types that cannot be sorted (numbers and text)
        codes, levels = pd.factorize(values, sort=False)
    if values.dtype == object and len(levels) > 1:
        shown = pd.Index([str(v) for v in levels])
        if shown.has_duplicates:
            label = shown[shown.duplicated()][0]
            kinds = sorted({type(v).__name__ for v in levels if str(v) == label})
            raise DataError(
                f"`by` column {column!r} holds the label {label!r} as different types "
                f"({', '.join(kinds)}), which would give two domains both labelled {label}; "
                "store the column as one type (e.g. all text)."
            )
        if not _sortable(levels):
            order = np.argsort(np.asarray(shown, dtype=object).astype(str), kind="stable")
            rank = np.empty(len(order), dtype=np.intp)
            rank[order] = np.arange(len(order))
            codes = np.where(codes >= 0, rank[codes], codes)
            levels = levels[order]
    return codes, levels


def _sortable(levels) -> bool:
    try:
        sorted(levels)
    except TypeError:
        return False
    return True


def _domain_codes(data, by, rows):
    """Domain code (0..D-1, sorted levels) of each row in ``rows`` and the domain table."""
    if not by:
        return np.zeros(len(rows), dtype=np.intp), pd.DataFrame(index=range(1))
    combined, size = None, 1
    every_row = len(rows) == len(data)     # rows are sorted positions: then all of them
    for column in by:
        values = data[column] if every_row else data[column].iloc[rows]
        # integer or bool columns: keys by subtraction, in the same sorted order as the
        # codes of a factorization (no missing values possible)
        fast = _integer_keys(values)
        if fast is not None:
            keys, n_keys = fast
        else:
            missing = values.isna().to_numpy()
            if missing.any():
                bad = rows[missing]
                raise DataError(
                    f"`by` column {column!r} has missing values (NaN) in "
                    f"{describe_rows(bad)}; recode them as a level or leave those rows out "
                    "with `subset`."
                )
            keys, levels = _factorize_labels(values, column)
            n_keys = len(levels)
        combined, size = _combine_keys(combined, size, keys, n_keys)
    # a count of the combinations when few are possible, else a sort; any row of a
    # combination has its labels
    dom, _, first = _compact(combined, size)
    table = data[by].iloc[rows[first]].reset_index(drop=True)
    return dom, table


def _warn_zero_weight_domains(data, by, codes) -> None:
    """EmptyDomainWarning naming the ``by`` domains whose rows all have weight 0.

    R ``svyby`` lists only the levels of rows with a positive sampling weight, so such a
    domain is not in the table; said here, as it would otherwise vanish without a word.
    Rows outside a ``subset`` are meant to be left out and are not looked at.
    """
    weights = codes.weights
    zero = weights == 0
    if codes.outside is not None:
        zero &= ~codes.outside
    if not zero.any():
        return
    known = data[by].notna().all(axis=1).to_numpy()
    rows = np.flatnonzero(((weights > 0) | zero) & known)
    dom, table = _domain_codes(data, by, rows)
    positive = np.bincount(dom[weights[rows] > 0], minlength=len(table)) > 0
    if positive.all():
        return
    lost = np.flatnonzero(~positive)
    shown = []
    for d in lost[:5]:   # at most five named, for the message only
        label = ", ".join(f"{c}={plain_value(table[c].iloc[d])!r}" for c in by)
        shown.append(f"{label} ({describe_rows(rows[dom == d], limit=5)})")
    more = f" and {len(lost) - 5} more" if len(lost) > 5 else ""
    one = len(lost) == 1
    warnings.warn(
        f"{'domain' if one else 'domains'} {'; '.join(shown)}{more}: every row has weight 0, "
        f"so {'it is' if one else 'they are'} left out of the table (as R svyby does: a "
        "zero weight stands for no one). Check the weights column if these rows should "
        "count.",
        EmptyDomainWarning, stacklevel=5)


def build_estimand(design, kind: str, variables, by=None, na: str = "fail",
                   denominator=None) -> Estimand:
    """Reduce a design's rows to the PSU totals of one estimate (see the module doc).

    Parameters
    ----------
    design : harvest._base._DesignBase
        Supplies ``data`` and ``_codes`` (a :class:`harvest._codes.DesignCodes`).
    kind : {"proportion", "mean", "total", "ratio"}
    variables : str or list of str
        The variables (numerators for ``"ratio"``).
    by : str or list of str, optional
        Domain columns; their combinations with rows of positive weight are the domains.
    na : {"fail", "drop"}
        ``"fail"``: a missing value on a row with positive weight is a DataError.
        ``"drop"``: such rows leave that variable's estimate but stay in the design.
    denominator : str or list of str, optional
        For ``"ratio"``: one denominator for every numerator, or one per numerator.

    Returns
    -------
    Estimand
    """
    check_option("kind", kind, KINDS)
    check_option("na", na, NA_POLICY)
    data = design.data
    codes = design._codes
    variables = as_list(variables)
    by = as_list(by)
    if not variables:
        raise ValueError("`variables` must name at least one column.")
    check_columns(data, variables, "variables" if kind != "ratio" else "numerator")
    check_columns(data, by, "by")
    denominators = []
    if kind == "ratio":
        denominators = as_list(denominator)
        check_columns(data, denominators, "denominator")
        if len(denominators) == 1:
            denominators = denominators * len(variables)
        if len(denominators) != len(variables):
            raise ValueError(
                "`denominator` must be one column or one per numerator; got "
                f"{len(denominators)} for {len(variables)} numerators."
            )
        indicators = [f"{a}/{b}" for a, b in zip(variables, denominators, strict=True)]
    else:
        indicators = list(variables)

    weights_all = codes.weights
    rows = np.flatnonzero(weights_all > 0)
    if by:
        _warn_zero_weight_domains(data, by, codes)
    every_row = rows.size == weights_all.size
    w = weights_all if every_row else weights_all[rows]
    dom, domains = _domain_codes(data, by, rows)
    D, k = len(domains), len(variables)
    P, H = codes.n_psus, codes.n_strata
    psu = codes.row_psu if every_row else codes.row_psu[rows]

    # one contiguous column per variable (Fortran order): the per-column bincounts of
    # group_sum read them without a copy
    y = _value_columns(data, variables, rows, kind == "proportion")
    valid = ~np.isnan(y)
    if kind == "ratio":
        x = _value_columns(data, denominators, rows, False)
        valid &= ~np.isnan(x)
    if na == "fail" and not valid.all():
        j = int(np.flatnonzero(~valid.all(axis=0))[0])
        bad = rows[~valid[:, j]]
        names = (repr(variables[j]) if kind != "ratio"
                 else f"{variables[j]!r} or {denominators[j]!r}")
        raise DataError(
            f"column {names} has {len(bad)} missing value(s) in {describe_rows(bad)}; "
            "use na='drop' to leave those rows out of this estimate (they stay in the design)."
        )
    complete = bool(valid.all())
    row_y = y if complete else np.where(valid, y, np.nan)
    y = y if complete else np.where(valid, y, 0.0)
    # w * valid: with every value present that is w itself (w * 1.0 == w), as a view
    wv = np.broadcast_to(w[:, None], y.shape) if complete else w[:, None] * valid

    # PSU x domain totals over the (PSU, domain) pairs that occur, never a dense
    # P x D array: pairs sorted by domain, then PSU.
    cell = dom.astype(np.int64, copy=False) * P
    cell += psu
    pair, cells, _ = _compact(cell, P * D, rows=False)
    npair = cells.size
    pair_psu = (cells % P).astype(np.intp)
    pair_dom = (cells // P).astype(np.intp)
    Yp = group_sum(pair, npair, wv * y)
    if complete:   # every variable has every row: one weight sum and count per pair
        Wp = np.repeat(group_sum(pair, npair, w), k, axis=1)
    else:
        Wp = group_sum(pair, npair, wv)
    if kind == "ratio":
        x = np.where(valid, x, 0.0)
        Xp = group_sum(pair, npair, wv * x)
    elif kind == "total":
        Xp = None
    else:
        Xp = Wp
    unit = {}
    stages = getattr(codes, "stages", ())
    if stages:   # multistage: the same totals over the last-stage units
        last = stages[-1]
        U = len(last.unit_parent)
        ucell = last.row_unit[rows] * D + dom
        unit["unit_Y"] = group_sum(ucell, U * D, wv * y).reshape(U, D * k)
        if kind == "ratio":
            unit["unit_X"] = group_sum(ucell, U * D, wv * x).reshape(U, D * k)
        elif kind != "total":
            unit["unit_X"] = group_sum(ucell, U * D, wv).reshape(U, D * k)
        unit["unit_present"] = group_sum(ucell, U * D, valid).reshape(U, D * k) > 0
    if complete:
        counts = np.repeat(np.bincount(pair, minlength=npair).astype(float)[:, None], k,
                           axis=1)
        # the k columns of counts and Wp are equal: sum one, repeat it (same numbers)
        n = np.repeat(group_sum(pair_dom, D, counts[:, :1]), k, axis=1)
        wsum = np.repeat(group_sum(pair_dom, D, Wp[:, :1]), k, axis=1).reshape(-1)
    else:
        counts = group_sum(pair, npair, valid)
        n = group_sum(pair_dom, D, counts)
        wsum = group_sum(pair_dom, D, Wp).reshape(-1)
    n = n.reshape(-1).round().astype(np.int64)
    ytot = group_sum(pair_dom, D, Yp).reshape(-1)
    if Xp is None:
        xtot = None
    elif Xp is Wp:   # means and proportions: the denominators are the weight sums
        xtot = wsum.copy()
    else:
        xtot = group_sum(pair_dom, D, Xp).reshape(-1)


    # Element variance (R svyvar, divisor n - 1) of the variable that R's deff=TRUE
    # builds its SRS variance from. Domain means come from the same PSU totals as the
    # estimates, so a constant variable has exactly zero spread.
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "total":
            centre = ytot / wsum                              # mean of y
            u = y - centre.reshape(D, k)[dom]
        elif kind == "ratio":
            r = (ytot / xtot).reshape(D, k)
            lin = (y - r[dom] * x) / xtot.reshape(D, k)[dom]  # the ratio's linearised y
            ubar = (ytot - r.reshape(-1) * xtot) / xtot / wsum
            u = lin - ubar.reshape(D, k)[dom]
        elif kind == "proportion":
            # 0/1 values: sum_i w_i (y_i - p)^2 = Y (1 - p) exactly, no pass over the rows
            u = None
            ss = ytot * (1.0 - ytot / wsum)
        else:
            mean = ytot / wsum
            ubar = (ytot - mean * wsum) / wsum                # R re-centres: ~0
            u = y - (mean + ubar).reshape(D, k)[dom]
        if u is not None:
            u = np.where(valid, u, 0.0)
            ss = group_sum(dom, D, wv * u * u).reshape(-1)
        s2 = n / (n - 1.0) * ss / wsum

    return Estimand(kind=kind, by=by, domains=domains, indicators=indicators,
                    variables=variables, denominators=denominators, pair_psu=pair_psu,
                    pair_domain=pair_dom, pair_Y=Yp, pair_X=Xp, pair_counts=counts,
                    n_psus=P, psu_stratum=np.asarray(codes.psu_stratum, dtype=np.intp),
                    n_strata=H, n=n, wsum=wsum, s2=s2, row_index=rows, row_domain=dom,
                    row_y=row_y, row_weight=w, ytot=ytot, xtot=xtot, **unit)


def assemble_table(estimand: Estimand, estimate, se, ci_low, ci_high, level, ci_method,
                   df, deff, n_eff) -> pd.DataFrame:
    """The tidy table of API.md: ``by`` columns, then :data:`TABLE_COLUMNS`.

    One row per domain x indicator, domains in sorted order, indicators in the order
    asked for. No rounding.
    """
    k = estimand.k
    D = estimand.n_domains
    table = estimand.domains.iloc[np.repeat(np.arange(D), k)].reset_index(drop=True)
    m = D * k
    columns = {
        "indicator": np.tile(np.asarray(estimand.indicators, dtype=object), D),
        "estimate": np.asarray(estimate, dtype=float),
        "se": np.asarray(se, dtype=float),
        "ci_low": np.asarray(ci_low, dtype=float),
        "ci_high": np.asarray(ci_high, dtype=float),
        "level": np.full(m, float(level)),
        "ci_method": np.full(m, ci_method, dtype=object),
        "df": np.asarray(df, dtype=float),
        "deff": np.asarray(deff, dtype=float),
        "n": np.asarray(estimand.n, dtype=np.int64),
        "n_eff": np.asarray(n_eff, dtype=float),
    }
    stats = pd.DataFrame(columns)
    stats["indicator"] = stats["indicator"].astype(str)
    stats["ci_method"] = stats["ci_method"].astype(str)
    return pd.concat([table, stats], axis=1)
