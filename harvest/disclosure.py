"""The one disclosure policy that every published table passes through.

harvest publishes shares, totals and counts about small, identifiable places. A reader
may combine everything published together (a report, or one CLI table) with the margins
that are one query away (the all-levels totals) and try to rebuild a withheld cell by
subtraction. This module holds

* :class:`DisclosurePolicy`: the settings (minimum cell size, the attribute rule, whether
  model estimates may be shown for a suppressed cell), with safe defaults; weak settings
  need ``allow_weak=True``;
* :func:`protect`: the one function that applies the policy jointly to every table
  published together: primary suppression (cell size, attribute disclosure) and
  secondary (complementary) suppression over the linked tables, to a fixpoint that is
  checked exactly (no suppressed cell is determined by the published linear relations);
* :func:`answer_counts`: the unweighted counts of yes answers the attribute rule needs;
* :func:`repeated_records`: records that appear in more than one input file.

References
----------
Hundepool A, Domingo-Ferrer J, Franconi L, et al. Statistical Disclosure Control. Wiley,
2012 (and the ESSnet Handbook on Statistical Disclosure Control, Eurostat, 2010):
threshold rule, secondary suppression in linked and hierarchical tables.

Parker JD, Talih M, Malec DJ, et al. National Center for Health Statistics data
presentation standards for proportions. Vital Health Stat 2(175), 2017.

Statistics Canada. Disclosure control guidelines (Statistics Act, section 17; minimum
cell sizes and complementary suppression for tabular data).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harvest._errors import DataError, DisclosureWarning

__all__ = [
    "DisclosurePolicy", "protect", "answer_counts", "withheld_terms", "repeated_records",
    "MIN_N_FLOOR",
    "MIN_EACH_FLOOR", "VALUE_COLUMNS",
]

#: Below this minimum cell size a setting is weak and needs ``allow_weak=True``: the
#: threshold rule of the ESSnet handbook asks for at least 3 contributors, and
#: agencies publishing survey counts (Statistics Canada, NCHS) use 5 or more; harvest's
#: respondents face retaliation, so anything under 5 is refused by default.
MIN_N_FLOOR = 5

#: The attribute rule: at least this many respondents on each side of a 0/1 answer
#: (the threshold rule of 3; Hundepool et al. 2012, section 5.2). Below it is weak.
MIN_EACH_FLOOR = 3

#: Statistics withheld together when a cell is suppressed (whichever are present).
VALUE_COLUMNS = ("estimate", "se", "ci_low", "ci_high", "df", "deff", "n", "n_eff", "n_yes",
                 "var", "cv", "mdc")

_ALL = "\x00all"  # the coordinate of a margin (all levels of a dimension)


def _whole(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"`{name}` must be a whole number >= 0; got {value!r}.")
    return int(value)


@dataclass(frozen=True)
class DisclosurePolicy:
    """The settings of disclosure control, with safe defaults.

    Parameters
    ----------
    min_n : int, default 10
        Primary suppression: a cell resting on fewer unweighted observations is withheld.
    min_each : int, default 3
        Attribute rule: a cell of a 0/1 answer is withheld when fewer than ``min_each``
        respondents gave either answer (a cell of 12 farms that all said yes discloses
        each farm's answer). The threshold rule of 3 (ESSnet handbook).
    model_for_suppressed : bool, default False
        Whether a model-based (Bayesian small-area) estimate may be shown for a cell
        whose direct estimate is suppressed.
    allow_weak : bool, default False
        Accept ``min_n < MIN_N_FLOOR`` or ``min_each < MIN_EACH_FLOOR`` (0 and 0 turn the
        control off). Weak settings raise a ``ValueError`` without it, and a
        `DisclosureWarning` with it (see `warn`).
    time : str or None, default ``"year"``
        The dimension along which suppression patterns are kept consistent: a cell
        withheld in one year shown is withheld in every year shown.

    Examples
    --------
    >>> DisclosurePolicy().min_n, DisclosurePolicy().min_each
    (10, 3)
    >>> DisclosurePolicy(min_n=2)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: weak disclosure settings: min_n=2 is below 5. Pass allow_weak=True ...
    >>> DisclosurePolicy(min_n=0, min_each=0, allow_weak=True).enabled
    False
    """

    min_n: int = 10
    min_each: int = 3
    model_for_suppressed: bool = False
    allow_weak: bool = False
    time: str | None = "year"

    def __post_init__(self):
        _whole(self.min_n, "min_n")
        _whole(self.min_each, "min_each")
        for name in ("model_for_suppressed", "allow_weak"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"`{name}` must be True or False; got "
                                 f"{getattr(self, name)!r}.")
        if self.weakness and not self.allow_weak:
            raise ValueError(
                "weak disclosure settings: " + "; ".join(self.weakness) + ". Pass "
                "allow_weak=True (CLI: --allow-weak-disclosure) to accept them; the output "
                "then carries a warning.")

    @property
    def enabled(self) -> bool:
        """False when neither the size rule nor the attribute rule is active."""
        return self.min_n > 0 or self.min_each > 0

    @property
    def weakness(self) -> list[str]:
        """What makes the settings weak (empty for safe settings)."""
        out = []
        if not self.enabled:
            return ["disclosure control is off (min_n=0, min_each=0)"]
        if self.min_n < MIN_N_FLOOR:
            out.append(f"min_n={self.min_n} is below {MIN_N_FLOOR}")
        if self.min_each < MIN_EACH_FLOOR:
            out.append(f"min_each={self.min_each} is below {MIN_EACH_FLOOR} (attribute rule)")
        return out

    @property
    def weak(self) -> bool:
        return bool(self.weakness)

    def warn(self) -> None:
        """Emit a `DisclosureWarning` when the settings are weak."""
        if self.weak:
            warnings.warn("weak disclosure settings: " + "; ".join(self.weakness) + ". The "
                          "output may disclose individual respondents.", DisclosureWarning,
                          stacklevel=2)

    def banner(self) -> str | None:
        """The text of the warning banner of a report made with weak settings."""
        if not self.weak:
            return None
        return ("Weak disclosure settings: " + "; ".join(self.weakness) + ". Cells of few "
                "respondents may be shown: do not publish this report.")

    def describe(self) -> str:
        """One sentence for the methods section of a report.

        Examples
        --------
        >>> DisclosurePolicy().describe()[:60]
        'Disclosure control: a cell resting on fewer than 10 observat'
        """
        if not self.enabled:
            return "Disclosure control: OFF (weak settings accepted explicitly)."
        rules = []
        if self.min_n > 0:
            rules.append(f"a cell resting on fewer than {self.min_n} observations")
        if self.min_each > 0:
            rules.append(f"a share where fewer than {self.min_each} respondents gave either "
                         "answer (attribute rule)")
        return ("Disclosure control: " + " and ".join(rules) + " is withheld (*) with its "
                "count; then further cells are withheld (secondary suppression, smallest "
                "cells first) until no withheld cell can be rebuilt from the published "
                "cells and their totals, in every table of this output jointly, and a cell "
                "withheld in one year is withheld in every year shown. "
                + ("Model estimates are shown for withheld cells."
                   if self.model_for_suppressed else
                   "Model estimates of withheld cells are withheld too."))


def _policy(policy, min_n=None) -> DisclosurePolicy:
    if policy is None:
        return DisclosurePolicy() if min_n is None else DisclosurePolicy(min_n=min_n)
    if not isinstance(policy, DisclosurePolicy):
        raise TypeError(f"`policy` must be a DisclosurePolicy; got {type(policy).__name__}.")
    return policy


def _key_text(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "nan"
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _by(table: pd.DataFrame) -> list[str]:
    cols = list(table.columns)
    return cols[: cols.index("indicator")] if "indicator" in cols else []


def _determined(A: np.ndarray) -> np.ndarray:
    """Which unknowns of ``A x = b`` the system determines (rows of the null space 0)."""
    k = A.shape[1]
    if k == 0:
        return np.zeros(0, dtype=bool)
    if A.shape[0] == 0:
        return np.zeros(k, dtype=bool)
    _, sv, vt = np.linalg.svd(A, full_matrices=True)
    rank = int((sv > 1e-9 * max(1.0, sv.max())).sum())
    null = vt[rank:].T
    if null.shape[1] == 0:
        return np.ones(k, dtype=bool)
    return np.linalg.norm(null, axis=1) < 1e-9


class _Lattice:
    """Every cell of the cross of ``dims`` and its margins, with their linear relations."""

    def __init__(self, keys: np.ndarray, dims: list[str], time: str | None):
        self.dims = dims
        D = len(dims)
        self.levels = []
        codes = np.zeros(keys.shape, dtype=np.int64)
        for d in range(D):
            levels = sorted({k for k in keys[:, d] if k != _ALL})
            single = len(levels) <= 1
            if not levels:
                levels = [_ALL]
            lookup = {v: i for i, v in enumerate(levels)}
            # a dimension with one level: its margin is that level (the same cell)
            lookup[_ALL] = 0 if single else len(levels)
            codes[:, d] = [lookup[k] for k in keys[:, d]]
            self.levels.append(levels)
        self.sizes = [len(lv) + (len(lv) >= 2) for lv in self.levels]
        self.shape = tuple(self.sizes)
        self.size = int(np.prod(self.shape)) if D else 1
        if self.size > 250_000:
            raise ValueError(f"too many cells for disclosure control ({self.size}); "
                             "publish fewer or coarser `by` columns.")
        self.flat = np.ravel_multi_index(codes.T, self.shape) if D else np.zeros(
            len(keys), dtype=np.int64)
        grid = np.indices(self.shape).reshape(D, -1) if D else np.zeros((0, 1), int)
        self.margin_depth = np.zeros(self.size)
        rows, cols, vals = [], [], []
        n_rel = 0
        for d in range(D):
            L = len(self.levels[d])
            if L < 2:
                continue
            self.margin_depth += grid[d] == L
            parents = np.flatnonzero(grid[d] == L)
            kids = np.repeat(grid[:, parents][:, :, None], L, axis=2)
            kids[d] = np.arange(L)[None, :]
            kid_flat = np.ravel_multi_index(kids.reshape(D, -1), self.shape).reshape(-1, L)
            rel = n_rel + np.arange(len(parents))
            rows += [rel, np.repeat(rel, L)]
            cols += [parents, kid_flat.ravel()]
            vals += [np.ones(len(parents)), -np.ones(kid_flat.size)]
            n_rel += len(parents)
        self.A = np.zeros((n_rel, self.size))
        if n_rel:
            self.A[np.concatenate(rows), np.concatenate(cols)] = np.concatenate(vals)
        # groups of cells equal but for the time coordinate (not its margin)
        self.time_group = None
        if time in dims and len(self.levels[dims.index(time)]) >= 2:
            t = dims.index(time)
            other = np.delete(grid, t, axis=0)
            gshape = tuple(np.delete(np.array(self.shape), t))
            g = np.ravel_multi_index(other, gshape) if other.size else np.zeros(self.size,
                                                                                 int)
            self.time_group = np.where(grid[t] == len(self.levels[t]), -1, g)


def _consistent(s: np.ndarray, published: np.ndarray, group) -> np.ndarray:
    if group is None:
        return s
    ok = group >= 0
    hit = np.zeros(group.max() + 1 if ok.any() else 1, dtype=bool)
    np.logical_or.at(hit, group[ok], s[ok])
    out = s.copy()
    out[ok] |= hit[group[ok]] & published[ok]
    return out


def _pattern(lat: _Lattice, published: np.ndarray, primary: np.ndarray, cost: np.ndarray):
    """Secondary suppression to a fixpoint; returns the suppressed cells of the lattice."""
    s = _consistent(primary & published, published, lat.time_group)
    member = lat.A != 0
    price = np.where(published, cost + lat.margin_depth * 1e12, np.inf)
    group = lat.time_group
    if group is not None:  # withholding a cell withholds its whole group over time
        ok = group >= 0
        total = np.zeros(group.max() + 1 if ok.any() else 1)
        np.add.at(total, group[ok], np.where(published[ok], price[ok], 0.0))
        price = np.where(ok & published, total[np.maximum(group, 0)], price)
    for _ in range(lat.size + 1):
        count = member[:, s].sum(axis=1) if member.size else np.zeros(0)
        bad = np.flatnonzero(count == 1)
        if bad.size:
            # one relation at a time: the fix of one often repairs others
            options = np.where(member[bad[0]] & ~s, price, np.inf)
            if not np.isfinite(options).any():
                return published.copy()  # nothing left to hide it with: withhold all
            new = s.copy()
            new[options.argmin()] = True
        else:
            idx = np.flatnonzero(s)
            det = _determined(lat.A[:, idx])
            if not det.any():
                return s
            rel = member[:, idx[det]].any(axis=1)
            options = np.where(member[rel] & ~s[None, :], price[None, :], np.inf)
            if not options.size or not np.isfinite(options).any():
                return published.copy()
            new = s.copy()
            new[np.unravel_index(options.argmin(), options.shape)[1]] = True
        s = _consistent(new, published, lat.time_group)
    return published.copy()  # pragma: no cover - the loop adds a cell each round


def protect(tables, policy: DisclosurePolicy | None = None, *, dims=None,
            time: str | None = None):
    """Apply the disclosure policy jointly to tables published together.

    Parameters
    ----------
    tables : pandas.DataFrame or list of pandas.DataFrame
        Tidy tables with the ``by`` columns first, then ``indicator`` and ``n``
        (unweighted observations), and optionally ``n_yes`` (unweighted yes answers of a
        0/1 indicator, see `answer_counts`). The ``by`` columns of each table must be
        among ``dims``; a table without a dimension holds its margin (all levels).
    policy : DisclosurePolicy, optional
        The settings (default: `DisclosurePolicy()`).
    dims : list of str, optional
        Every dimension of the publication (default: the union of the tables' ``by``).
    time : str, optional
        The dimension to keep patterns consistent along (default ``policy.time``).

    Returns
    -------
    pandas.DataFrame or list of pandas.DataFrame
        Copies of the tables (a list when a list was given) in which every statistic of a
        withheld row (`VALUE_COLUMNS`) is missing, with a boolean column ``suppressed``
        and ``suppression``: ``"size"`` (fewer than ``min_n``), ``"attribute"`` (fewer
        than ``min_each`` on one side of the answer), ``"secondary"`` (withheld so that
        another cell cannot be rebuilt) or ``""``. The callers' tables are not modified.

    Notes
    -----
    Cells are the points of the cross of ``dims`` and their margins (a coordinate
    "all"); each margin equals the sum of its children in every additive quantity
    (unweighted :math:`n`, weighted totals :math:`\\hat Y` and :math:`\\hat N`), so a
    reader holding a proportion table and a total table knows the linear relations
    :math:`A x = 0` over all cells. Margins that are not printed are treated as known
    (one query away). The pattern is the same for every indicator of the publication
    and depends only on the counts, so a proportion table and a total table of the same
    data carry the same pattern.

    1. Primary: cell :math:`c` is withheld when :math:`n_c < n_{\\min}` or, for a 0/1
       indicator, :math:`\\min(y_c, n_c - y_c) < k` (``min_each``).
    2. Consistency: a cell withheld in one level of ``time`` is withheld in all.
    3. Secondary: every relation with exactly one withheld cell gets a second one, the
       published cell of least information loss (smallest :math:`n`, children before
       margins); then the system is checked exactly: with :math:`S` the withheld cells,
       cell :math:`j \\in S` is determined iff the :math:`j`-th row of a basis of the
       null space of :math:`A_S` is zero; while one is, the cheapest cell of a relation
       holding it is withheld. Steps 2-3 repeat to a fixpoint (Hundepool et al. 2012,
       ch. 4, hypercube/linked-table suppression).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"region": ["A", "B", "C"], "indicator": "x",
    ...                   "estimate": [0.2, 0.5, 0.3], "n": [40, 6, 30],
    ...                   "n_yes": [8, 3, 9]})
    >>> out = protect(t)
    >>> out["suppression"].tolist(), out["n"].tolist()
    (['', 'size', 'secondary'], [40.0, nan, nan])
    """
    single = isinstance(tables, pd.DataFrame)
    tables = [tables] if single else list(tables)
    policy = _policy(policy)
    for t in tables:
        if not isinstance(t, pd.DataFrame):
            raise TypeError(f"tables must be DataFrames; got {type(t).__name__}.")
        missing = [c for c in ("indicator", "n") if c not in t.columns]
        if missing:
            raise DataError(f"a published table lacks the column(s) {missing}; expected a "
                            "harvest estimate table (by columns, indicator, ..., n).")
    if dims is None:
        dims = list(dict.fromkeys(c for t in tables for c in _by(t)))
    dims = list(dims)
    for t in tables:
        extra = [c for c in _by(t) if c not in dims]
        if extra:
            raise ValueError(f"the by column(s) {extra} are not among dims={dims}.")
    time = policy.time if time is None else time

    parts = []
    for i, t in enumerate(tables):
        by = _by(t)
        keys = np.empty((len(t), len(dims)), dtype=object)
        for j, d in enumerate(dims):
            keys[:, j] = t[d].map(_key_text).to_numpy(dtype=object) if d in by else _ALL
        n = pd.to_numeric(t["n"], errors="coerce").to_numpy(dtype=float)
        if "n_yes" in t.columns:
            y = pd.to_numeric(t["n_yes"], errors="coerce").to_numpy(dtype=float)
        else:  # without counts: a share of exactly 0 or 1 is all-no or all-yes
            est = (pd.to_numeric(t["estimate"], errors="coerce").to_numpy(dtype=float)
                   if "estimate" in t.columns else np.full(len(t), np.nan))
            y = np.where(est == 0, 0.0, np.where(est == 1, n, np.nan))
        small = ~(n >= policy.min_n)
        attribute = ~small & (np.minimum(y, n - y) < policy.min_each)
        parts.append((i, keys, n, small, attribute))

    all_keys = np.concatenate([p[1] for p in parts]) if parts else np.zeros((0, len(dims)))
    lat = _Lattice(all_keys, dims, time)
    offsets = np.cumsum([0] + [len(p[1]) for p in parts])
    flat = lat.flat
    published = np.zeros(lat.size, dtype=bool)
    primary = np.zeros(lat.size, dtype=bool)
    cost = np.zeros(lat.size)
    if len(flat):
        published[flat] = True
        sizes = np.concatenate([np.nan_to_num(p[2], nan=0.0) for p in parts])
        bad = np.concatenate([p[3] | p[4] for p in parts])
        np.logical_or.at(primary, flat, bad)
        np.maximum.at(cost, flat, sizes)
    s = _pattern(lat, published, primary, cost)

    out = []
    for (i, _keys, _n, small, attribute), t in zip(parts, tables, strict=True):
        hide = s[flat[offsets[i]:offsets[i + 1]]]
        res = t.copy()
        for col in VALUE_COLUMNS:
            if col in res.columns:
                values = pd.to_numeric(res[col], errors="coerce").to_numpy(dtype=float,
                                                                            copy=True)
                values[hide] = np.nan
                res[col] = values
        res["suppressed"] = hide
        res["suppression"] = np.where(small, "size", np.where(
            attribute, "attribute", np.where(hide, "secondary", "")))
        out.append(res)
    return out[0] if single else out


def answer_counts(data: pd.DataFrame, indicators, by=None, *, na: str = "drop"):
    """Unweighted counts behind each cell: ``n`` and ``n_yes`` (yes answers of 0/1 columns).

    Parameters
    ----------
    data : pandas.DataFrame
        The records (one row per observation).
    indicators : str or list of str
        The estimated columns; ``n_yes`` is missing for those that are not 0/1.
    by : str or list of str, optional
        Domain columns, as given to the estimator.
    na : {"fail", "drop"}, default ``"drop"``
        As the estimators.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, ``indicator``, ``n`` and ``n_yes``, one row per cell, labelled
        as the estimators label their rows.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"region": ["A", "A", "B"], "x": [1, 0, 1]})
    >>> answer_counts(d, "x", by="region")
      region indicator  n  n_yes
    0      A         x  2    1.0
    1      B         x  1    1.0
    """
    from harvest.design import SurveyDesign

    indicators = [indicators] if isinstance(indicators, str) else list(indicators)
    flat = data.drop(columns=[c for c in ("weight",) if c in data.columns and
                              c not in indicators], errors="ignore")
    des = SurveyDesign(flat)
    table = des.total(indicators, by=by, na=na)
    binary = {}
    for c in indicators:
        values = pd.to_numeric(data[c], errors="coerce")
        binary[c] = bool(values.dropna().isin([0, 1]).all())
    keep = [*_by(table), "indicator", "n"]
    out = table[keep].copy()
    out["n"] = pd.to_numeric(out["n"]).astype(np.int64)
    is_binary = out["indicator"].map(binary).to_numpy(dtype=bool)
    out["n_yes"] = np.where(is_binary, table["estimate"].to_numpy(dtype=float), np.nan)
    return out


def withheld_terms(table: pd.DataFrame, counts, policy: DisclosurePolicy | None = None
                   ) -> np.ndarray:
    """Which coefficients of a model give away a withheld cell.

    A model coefficient of a category level (R's treatment coding: ``regionBalkan``) is the
    level's contrast with the reference level, so it is withheld when :func:`protect`, run
    on the unweighted counts of the outcome by that category, withholds the level or the
    reference level (the first in sorted order); a term of an interaction is withheld when
    any of its parts is, and the intercept when a reference level is.

    Parameters
    ----------
    table : pandas.DataFrame
        A coefficient table with ``indicator`` (the outcome) and ``term`` columns.
    counts : list of pandas.DataFrame
        :func:`answer_counts` of the outcome(s), each by one category column.
    policy : DisclosurePolicy, optional

    Returns
    -------
    numpy.ndarray of bool
        One flag per row of ``table``.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"g": ["a"] * 20 + ["b"] * 12 + ["c"] * 2 + ["d"] * 16,
    ...                   "y": [0, 1] * 25})
    >>> t = pd.DataFrame({"indicator": "y", "term": ["(Intercept)", "gb", "gc", "gd"]})
    >>> withheld_terms(t, [answer_counts(d, "y", by="g")]).tolist()
    [False, True, True, False]

    Level ``c`` rests on 2 records; ``b``, the smallest other level, is withheld with it
    so that ``c`` cannot be rebuilt from the total.
    """
    policy = _policy(policy)
    hidden, references = set(), set()
    for part in counts:
        column = _by(part)[0]
        flags = protect(part, policy)
        # the reference level: the first in sorted order (numbers sorted as numbers)
        levels = [_key_text(v) for v in pd.Series(part[column].dropna().unique())
                  .sort_values(kind="stable")]
        reference = levels[0] if levels else None
        for r in flags.itertuples(index=False):
            if r.suppressed:
                level = _key_text(getattr(r, column))
                # R-style names: regionBalkan, and C(year)2024 for a number made a category
                hidden.update({(r.indicator, f"{column}{level}"),
                               (r.indicator, f"C({column}){level}")})
        for indicator in part["indicator"].unique():
            if (indicator, f"{column}{reference}") in hidden:
                references.add(indicator)
                hidden.update((indicator, f"{name}{v}") for v in levels
                              for name in (column, f"C({column})"))
    out = np.zeros(len(table), dtype=bool)
    for k, (indicator, term) in enumerate(zip(table["indicator"], table["term"],
                                              strict=True)):
        if term == "(Intercept)":
            out[k] = indicator in references
        else:
            out[k] = any((indicator, piece) in hidden for piece in str(term).split(":"))
    return out


def with_counts(table: pd.DataFrame, counts: pd.DataFrame) -> pd.DataFrame:
    """``table`` with the ``n_yes`` column of `answer_counts` (matched on by and indicator).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"region": ["A"], "indicator": "x", "estimate": [0.5], "n": [2]})
    >>> c = pd.DataFrame({"region": ["A"], "indicator": "x", "n": [2], "n_yes": [1.0]})
    >>> with_counts(t, c)["n_yes"].tolist()
    [1.0]
    """
    keys = [*_by(table), "indicator"]
    right = counts[[*keys, "n_yes"]]
    left = table.drop(columns=["n_yes"], errors="ignore").reset_index(drop=True)
    merged = left.merge(right, on=keys, how="left", validate="one_to_one")
    merged.index = table.index
    return merged


def repeated_records(frames, id_column: str, *, keys=("year",)) -> pd.DataFrame:
    """Records that appear in more than one input file (same id, and same year if any).

    Parameters
    ----------
    frames : list of (str, pandas.DataFrame)
        Each input file's name and records.
    id_column : str
        The record identifier (``farm_id``, ``employee_id``, ...).
    keys : tuple of str, default ``("year",)``
        Further columns that, with the id, identify a record (when present).

    Returns
    -------
    pandas.DataFrame
        One row per repeated record: the key columns, the id and ``files`` (the files
        holding it, joined by ``", "``). Empty when no record repeats.

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"farm_id": ["F1", "F2"]})
    >>> repeated_records([("a.csv", a), ("b.csv", a.iloc[:1])], "farm_id")
      farm_id         files
    0      F1  a.csv, b.csv
    """
    cols = None
    pieces = []
    for name, df in frames:
        if id_column not in df.columns:
            continue
        present = [k for k in keys if k in df.columns] + [id_column]
        cols = present if cols is None else [c for c in cols if c in present]
        pieces.append(df[present].assign(_file=str(name)))
    if not pieces or cols is None:
        return pd.DataFrame(columns=[id_column, "files"])
    stacked = pd.concat([p[[*cols, "_file"]] for p in pieces], ignore_index=True)
    key_text = stacked[cols].astype(str)
    files = stacked.groupby([key_text[c] for c in cols], sort=True)["_file"].agg(
        lambda f: ", ".join(dict.fromkeys(f)))
    nfiles = stacked.groupby([key_text[c] for c in cols], sort=True)["_file"].nunique()
    rep = files[nfiles > 1]
    out = rep.reset_index().rename(columns={"_file": "files"})
    return out[[*cols, "files"]]


def refuse_repeated(frames, id_column: str, *, allow: bool = False) -> pd.DataFrame:
    """Raise a `DataError` naming the records repeated across files, unless ``allow``.

    Returns the repeated records (empty when none), so that a caller that allows them
    can say so in its output.

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"farm_id": ["F1"]})
    >>> refuse_repeated([("a.csv", a), ("b.csv", a)], "farm_id")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    harvest._errors.DataError: 1 record(s) appear in more than one input file (farm_id F1 ...
    """
    rep = repeated_records(frames, id_column)
    if len(rep) and not allow:
        shown = "; ".join(
            f"{id_column} {r[id_column]}"
            + "".join(f" ({c} {r[c]})" for c in rep.columns if c not in (id_column, "files"))
            + f" in {r['files']}" for _, r in rep.head(10).iterrows())
        more = f"; and {len(rep) - 10} more" if len(rep) > 10 else ""
        raise DataError(
            f"{len(rep)} record(s) appear in more than one input file ({shown}{more}); "
            "stacking them would count them twice. Remove the copies, or pass "
            "--allow-repeated-records to keep them.", problems=rep)
    return rep

