"""Figures for reports and notebooks, drawn from tidy tables.

Every function takes ``ax=None`` (draw on the current figure's new Axes when omitted),
returns the matplotlib Axes, imports matplotlib only when called and never changes the
global style: it draws with explicit colours and leaves ``rcParams`` alone.

* :func:`forest`: estimates with their intervals, one row per domain and indicator;
* :func:`change`: the change between two groups (e.g. 2023 and 2024) per domain with the
  interval of the difference, from ``design.compare``;
* :func:`odds_ratios`: a forest plot of odds ratios on a log scale, from
  :func:`harvest.regression.odds_ratios`;
* :func:`direct_vs_model`: direct (design-based) estimates beside model-based (Bayesian)
  ones, per area.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harvest._errors import DataError, check_table

__all__ = ["forest", "change", "direct_vs_model", "odds_ratios"]

#: Colour-blind safe colours (Okabe and Ito) used by the figures.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442")


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def _require(table, columns, what):
    check_table(table, columns, what, " needed for the plot")
    if len(table) == 0:
        raise DataError(f"`{what}` has no rows to plot.")


def _by_columns(table, last="indicator"):
    cols = list(table.columns)
    return cols[: cols.index(last)] if last in cols else []


def _literal(text) -> str:
    """``text`` as matplotlib draws it literally: every ``$`` escaped, so that a label
    such as ``"$\\alpha$ region"`` is never read as (possibly invalid) maths."""
    return str(text).replace("$", r"\$")


def _labels(table, columns):
    """One text label per row from ``columns`` (e.g. ``"2024 · Ahal"``), drawn literally
    (datetimes of a year column as the year, whole floats without ``.0``)."""
    if not columns:
        return [""] * len(table)
    parts = [table[c].map(_label_text) for c in columns]
    out = parts[0]
    for p in parts[1:]:
        out = out + " · " + p
    return [_literal(v) for v in out.tolist()]


def _label_text(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, pd.Timestamp):
        return str(v.year) if v == pd.Timestamp(v.year, 1, 1) else str(v.date())
    return str(v)


def _percent_axis(axis):
    from matplotlib.ticker import PercentFormatter

    axis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))


def forest(table: pd.DataFrame, ax=None, *, label=None, percent: bool | None = None,
           color=None, title: str | None = None, flag: str | None = None, **kwargs):
    """Forest plot: each estimate as a point with its confidence interval.

    Parameters
    ----------
    table : pandas.DataFrame
        An estimate table (API.md columns: the ``by`` columns, ``indicator``,
        ``estimate``, ``ci_low``, ``ci_high``...). Rows with a missing estimate (e.g.
        suppressed by :func:`harvest.tables.disclose`) are drawn as a gap with the label
        "suppressed".
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.
    label : str or list of str, optional
        Columns that name each row. Defaults to the ``by`` columns, plus ``indicator``
        when the table holds several indicators.
    percent : bool, optional
        Format the axis as percentages. Defaults to True when every estimate lies in
        [0, 1].
    color : str, optional
        Colour of points and intervals.
    title : str, optional
        Axes title.
    flag : str, optional
        A boolean column of ``table``; rows where it is true (e.g. estimates that fail
        the NCHS standards, see :func:`harvest.tables.nchs_reliability`) are drawn with
        open markers and dashed intervals, and their label gets a dagger.
    **kwargs
        Passed to ``Axes.errorbar`` (e.g. ``markersize``, ``capsize``).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd, harvest as hv
    >>> t = pd.DataFrame({"region": ["Ahal", "Mary"], "indicator": "child_labour",
    ...                   "estimate": [0.2, 0.3], "ci_low": [0.15, 0.2],
    ...                   "ci_high": [0.25, 0.4]})
    >>> ax = hv.plot.forest(t)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['Ahal', 'Mary']
    """
    _require(table, ["estimate", "ci_low", "ci_high"], "table")
    ax = _axes(ax)
    if label is None:
        label = _by_columns(table)
        if "indicator" in table.columns and (table["indicator"].nunique() > 1 or not label):
            label = [*label, "indicator"]
    elif isinstance(label, str):
        label = [label]
    est = pd.to_numeric(table["estimate"], errors="coerce").to_numpy(dtype=float)
    lo = pd.to_numeric(table["ci_low"], errors="coerce").to_numpy(dtype=float)
    hi = pd.to_numeric(table["ci_high"], errors="coerce").to_numpy(dtype=float)
    shown = ~np.isnan(est)
    if percent is None:
        finite = np.concatenate([est[shown], lo[shown], hi[shown]])
        percent = bool(finite.size) and bool(np.nanmin(finite) >= 0 and np.nanmax(finite) <= 1)
    flagged = np.zeros(len(table), dtype=bool)
    if flag is not None:
        _require(table, [flag], "table")
        flagged = table[flag].fillna(False).astype(bool).to_numpy()
    names = _labels(table, label)
    names = [n if s else f"{n} (suppressed)" for n, s in zip(names, shown, strict=True)]
    names = [f"{n} \u2020" if f and s else n
             for n, f, s in zip(names, flagged, shown, strict=True)]
    y = np.arange(len(table))[::-1]  # first row on top
    color = color or PALETTE[0]
    options = {"fmt": "o", "color": color, "ecolor": color, "capsize": 3, "markersize": 6,
               "linewidth": 1.5}
    options.update(kwargs)
    for mask, extra in ((shown & ~flagged, {}),
                        (shown & flagged, {"markerfacecolor": "white", "linestyle": "none"})):
        if mask.any():
            bars = ax.errorbar(est[mask], y[mask],
                               xerr=np.vstack([est[mask] - lo[mask], hi[mask] - est[mask]]),
                               **{**options, **extra})
            if extra:
                for coll in bars.lines[2]:
                    coll.set_linestyle("--")
    ax.set_yticks(y, names)
    ax.set_ylim(-0.7, len(table) - 0.3)
    level = table["level"].iloc[0] if "level" in table.columns else None
    what = "Estimate"
    if level is not None and not pd.isna(level):
        what = f"Estimate with {float(level) * 100:g}% confidence interval"
    ax.set_xlabel(what)
    if percent:
        _percent_axis(ax.xaxis)
    ax.grid(axis="x", color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(_literal(title))
    return ax


def change(comparison: pd.DataFrame, ax=None, *, label=None, percent: bool | None = None,
           color=None, title: str | None = None, annotate: bool = True, **kwargs):
    """Change plot: the contrast between two groups per domain, with its interval.

    Parameters
    ----------
    comparison : pandas.DataFrame
        Output of ``design.compare`` (API.md columns: the ``by`` columns, ``indicator``,
        ``group``, ``baseline``, ``estimate_group``, ``estimate_baseline``, ``measure``,
        ``estimate``, ``ci_low``, ``ci_high``...).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.
    label : str or list of str, optional
        Columns naming each row; defaults to the ``by`` columns (plus ``indicator`` when
        there are several).
    percent : bool, optional
        Show differences in percentage points. Defaults to True for
        ``measure="difference"`` of proportions.
    color : str, optional
        Colour of the intervals that exclude no change; intervals that include it are grey.
    title : str, optional
        Axes title.
    annotate : bool, default True
        Write both levels (e.g. ``"25% → 20%"``) beside each row.
    **kwargs
        Passed to ``Axes.errorbar``.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    The vertical reference line marks no change: 0 for differences, 1 for ratios and
    odds ratios (drawn on a log scale).

    Examples
    --------
    >>> import pandas as pd, harvest as hv
    >>> c = pd.DataFrame({"region": ["Ahal"], "indicator": "child_labour", "group": 2024,
    ...     "baseline": 2023, "estimate_group": [0.2], "estimate_baseline": [0.25],
    ...     "measure": "difference", "estimate": [-0.05], "ci_low": [-0.09],
    ...     "ci_high": [-0.01]})
    >>> ax = hv.plot.change(c)
    >>> ax.get_xlabel()
    'Change 2023 to 2024 (percentage points)'
    """
    _require(comparison, ["group", "baseline", "estimate_group", "estimate_baseline",
                          "measure", "estimate", "ci_low", "ci_high"], "comparison")
    ax = _axes(ax)
    if label is None:
        label = _by_columns(comparison)
        if "indicator" in comparison.columns and (
                comparison["indicator"].nunique() > 1 or not label):
            label = [*label, "indicator"]
    elif isinstance(label, str):
        label = [label]
    measure = str(comparison["measure"].iloc[0])
    ratio = measure in ("ratio", "odds_ratio")
    est = pd.to_numeric(comparison["estimate"], errors="coerce").to_numpy(dtype=float)
    lo = pd.to_numeric(comparison["ci_low"], errors="coerce").to_numpy(dtype=float)
    hi = pd.to_numeric(comparison["ci_high"], errors="coerce").to_numpy(dtype=float)
    g = pd.to_numeric(comparison["estimate_group"], errors="coerce").to_numpy(dtype=float)
    b = pd.to_numeric(comparison["estimate_baseline"], errors="coerce").to_numpy(dtype=float)
    shown = ~np.isnan(est)
    levels_are_shares = bool(np.all((g[shown] >= 0) & (g[shown] <= 1)
                                    & (b[shown] >= 0) & (b[shown] <= 1)))
    if percent is None:
        percent = (not ratio) and levels_are_shares
    null = 1.0 if ratio else 0.0
    y = np.arange(len(comparison))[::-1]
    names = _labels(comparison, label)
    names = [n if s else f"{n} (suppressed)" for n, s in zip(names, shown, strict=True)]
    clear = shown & ((lo > null) | (hi < null))
    color = color or PALETTE[1]
    base = {"fmt": "D", "capsize": 3, "markersize": 6, "linewidth": 1.5}
    base.update(kwargs)
    for mask, col in ((clear, color), (shown & ~clear, "#7f7f7f")):
        if mask.any():
            ax.errorbar(est[mask], y[mask],
                        xerr=np.vstack([est[mask] - lo[mask], hi[mask] - est[mask]]),
                        color=col, ecolor=col, **base)
    ax.axvline(null, color="#333333", linewidth=1, linestyle="--")
    if ratio:
        ax.set_xscale("log")
    ax.set_yticks(y, names)
    ax.set_ylim(-0.7, len(comparison) - 0.3)
    grp = _labels(comparison.iloc[:1], ["group"])[0]
    bas = _labels(comparison.iloc[:1], ["baseline"])[0]
    unit = {"difference": " (percentage points)" if percent else "",
            "ratio": " (ratio)", "odds_ratio": " (odds ratio)"}.get(measure, "")
    ax.set_xlabel(f"Change {bas} to {grp}{unit}")
    if percent:
        from matplotlib.ticker import FuncFormatter

        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v * 100:+.0f}"
                                                   if v else "0"))
    if annotate:
        from matplotlib.transforms import blended_transform_factory

        trans = blended_transform_factory(ax.transAxes, ax.transData)
        fmt = (lambda v: f"{v * 100:.0f}%") if levels_are_shares else (lambda v: f"{v:.3g}")
        for yi, s, bi, gi in zip(y, shown, b, g, strict=True):
            if s:
                ax.text(1.01, yi, f"{fmt(bi)} → {fmt(gi)}", transform=trans, va="center",
                        ha="left", fontsize="small", color="#333333")
    ax.grid(axis="x", color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(_literal(title))
    return ax


def direct_vs_model(direct: pd.DataFrame, model: pd.DataFrame, ax=None, *,
                    area: str | None = None, model_area: str = "area",
                    time=None, percent: bool = True, labels=("Direct (design-based)",
                                                            "Model (Bayesian)"),
                    title: str | None = None, **kwargs):
    """Direct estimates beside model-based estimates, per area, with their intervals.

    Parameters
    ----------
    direct : pandas.DataFrame
        Design-based estimates (API.md columns: ``estimate``, ``ci_low``, ``ci_high`` and
        an area column).
    model : pandas.DataFrame
        Model-based estimates, e.g. ``fit.summary()`` of :mod:`harvest.bayes` (columns
        ``area``, ``mean``, ``ci_low``, ``ci_high``, optionally ``time``). An
        ``estimate`` column is used when ``mean`` is absent.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.
    area : str, optional
        The area column of ``direct``; defaults to its last ``by`` column.
    model_area : str, default ``"area"``
        The area column of ``model``.
    time : object, optional
        Keep only this period: rows of ``model`` with ``time == time`` and, when
        ``direct`` has a ``year`` or ``time`` column, its rows of that period.
    percent : bool, default True
        Format the axis as percentages.
    labels : tuple of str
        Legend entries for the two sources.
    title : str, optional
        Axes title.
    **kwargs
        Passed to both ``Axes.errorbar`` calls.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd, harvest as hv
    >>> d = pd.DataFrame({"region": ["Ahal", "Mary"], "indicator": "child_labour",
    ...     "estimate": [0.2, 0.5], "ci_low": [0.1, 0.2], "ci_high": [0.3, 0.8]})
    >>> m = pd.DataFrame({"area": ["Ahal", "Mary"], "mean": [0.22, 0.4],
    ...     "ci_low": [0.15, 0.3], "ci_high": [0.3, 0.5]})
    >>> ax = hv.plot.direct_vs_model(d, m)
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['Direct (design-based)', 'Model (Bayesian)']
    """
    _require(direct, ["estimate", "ci_low", "ci_high"], "direct")
    value = "mean" if "mean" in model.columns else "estimate"
    _require(model, [model_area, value, "ci_low", "ci_high"], "model")
    if area is None:
        by = _by_columns(direct)
        if not by:
            raise DataError("`direct` has no area column; pass `area=`.")
        area = by[-1]
    _require(direct, [area], "direct")
    if time is not None:
        if "time" in model.columns:
            model = model[model["time"].astype(str) == str(time)]
        for col in ("year", "time"):
            if col in direct.columns and col != area:
                direct = direct[direct[col].astype(str) == str(time)]
                break
    d_areas = direct[area].astype(str).tolist()
    m_areas = model[model_area].astype(str).tolist()
    if len(set(d_areas)) != len(d_areas) or len(set(m_areas)) != len(m_areas):
        raise DataError(
            "each area must appear once in `direct` and in `model`; pass `time=` (or filter "
            "the tables) so that one period is shown."
        )
    areas = list(dict.fromkeys([*d_areas, *m_areas]))
    ax = _axes(ax)
    pos = {a: i for i, a in enumerate(areas)}
    y = len(areas) - 1 - np.arange(len(areas), dtype=float)
    for k, (tab, names, col, offset, marker, lab) in enumerate((
            (direct, d_areas, "estimate", 0.15, "o", labels[0]),
            (model, m_areas, value, -0.15, "s", labels[1]))):
        est = pd.to_numeric(tab[col], errors="coerce").to_numpy(dtype=float)
        lo = pd.to_numeric(tab["ci_low"], errors="coerce").to_numpy(dtype=float)
        hi = pd.to_numeric(tab["ci_high"], errors="coerce").to_numpy(dtype=float)
        yy = np.array([y[pos[a]] for a in names]) + offset
        ok = ~np.isnan(est)
        options = {"fmt": marker, "color": PALETTE[k], "ecolor": PALETTE[k], "capsize": 3,
                   "markersize": 6, "linewidth": 1.5, "label": _literal(lab)}
        options.update(kwargs)
        ax.errorbar(est[ok], yy[ok], xerr=np.vstack([est[ok] - lo[ok], hi[ok] - est[ok]]),
                    **options)
    ax.set_yticks(y, [_literal(a) for a in areas])
    ax.set_ylim(-0.7, len(areas) - 0.3)
    ax.set_xlabel("Estimate with interval")
    if percent:
        _percent_axis(ax.xaxis)
    ax.legend(loc="best", frameon=False, fontsize="small")
    ax.grid(axis="x", color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(_literal(title))
    return ax


def odds_ratios(table: pd.DataFrame, ax=None, *, title: str | None = None, **kwargs):
    """Forest plot of odds ratios (log scale, a line at 1) from ``regression.odds_ratios``.

    Rows are labelled ``indicator · term`` when the table holds several indicators, else
    by term. Other keywords as :func:`forest`.

    Examples
    --------
    >>> import pandas as pd, harvest as hv
    >>> t = pd.DataFrame({"indicator": "child_labour", "term": ["regionMary", "n_pickers"],
    ...                   "estimate": [1.5, 1.01], "ci_low": [0.9, 0.99],
    ...                   "ci_high": [2.5, 1.03], "level": 0.95})
    >>> ax = hv.plot.odds_ratios(t)
    >>> ax.get_xscale(), ax.get_xlabel()
    ('log', 'Odds ratio with 95% confidence interval')
    """
    _require(table, ["indicator", "term", "estimate", "ci_low", "ci_high"], "table")
    label = ["indicator", "term"] if table["indicator"].nunique() > 1 else ["term"]
    ax = forest(table, ax, label=label, percent=False, title=title, **kwargs)
    ax.set_xscale("log")
    ax.axvline(1.0, color="#888888", linewidth=1, linestyle=":")
    ax.set_xlabel(ax.get_xlabel().replace("Estimate", "Odds ratio"))
    return ax
