"""The HTML report: one self-contained page for a monitoring team.

:func:`build_report` runs the analysis on instrument tables (farm visits, employee
interviews, ...) and writes one HTML file with everything embedded: what was observed
(sites, refusals, interference), the headline indicators with intervals by region, the
change since the previous year, figures (inline SVG), and the methods used. Every table
passes through :mod:`harvest.tables`: cells resting on fewer than ``min_n`` observations
are suppressed and the NCHS presentation standards for proportions are applied. The
report never contains row-level data.

:func:`analyse` and :func:`render_report` are the two halves: the first computes tidy
tables, the second turns tidy tables (however they were made) into HTML.

Examples
--------
>>> import harvest as hv
>>> path = hv.report.demo("report.html", progress=False)   # doctest: +SKIP
"""

from __future__ import annotations

import datetime as _dt
import html
import io
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from harvest._errors import DataError
from harvest.disclosure import (
    DisclosurePolicy,
    answer_counts,
    protect,
    with_counts,
    withheld_terms,
)
from harvest.instruments import detect_instrument
from harvest.sensitive import list_module, report_section, report_tables
from harvest.tables import (
    SUPPRESSED,
    _check_reliability,
    by_columns,
    comparison_status,
    comparison_table,
    format_percent,
    nchs_reliability,
    publication_table,
)

__all__ = [
    "INDICATORS", "ID_COLUMNS", "ReportData", "detect_instrument", "observed_summary",
    "analyse", "protect_report", "shown_years", "render_report", "build_report", "demo",
]

#: Indicators reported per instrument: column -> plain-language label.
INDICATORS: dict[str, dict[str, str]] = {
    "farm": {
        "child_labour": "Farms with evidence of child labour",
        "civil_servants_on_farm": "Farms where civil servants picked cotton",
    },
    "employee": {
        "picked_or_paid": "Civil servants who picked cotton or paid for a replacement",
        "any_consequence": "Civil servants who would face at least one negative "
                           "consequence if they neither picked nor paid",
    },
    "picker": {
        "forced_labour": "Pickers in forced labour (involuntary and under menace of penalty)",
        "worked_alongside_children": "Pickers who worked alongside children",
    },
    "institution": {
        "received_quota": "Institutions that received a quota of pickers",
    },
}

_UNITS = {"farm": ("farm", "farms"), "employee": ("employee", "employees"),
          "picker": ("picker", "pickers"), "institution": ("institution", "institutions")}
_ID = {"farm": "farm_id", "employee": "employee_id", "picker": "picker_id",
       "institution": "institution_id"}
#: The record identifier of each instrument (for records repeated across files).
ID_COLUMNS = dict(_ID)


# ----------------------------------------------------------------------------- analysis


@dataclass
class ReportData:
    """Everything the report shows, as tidy tables (no row-level data).

    Attributes
    ----------
    estimates : dict of str to pandas.DataFrame
        Per instrument, a proportion table (API.md columns) by ``["year", "region"]``.
    national : dict of str to pandas.DataFrame
        Per instrument, the same by ``"year"`` only (all regions together).
    comparisons : dict of str to pandas.DataFrame
        Per instrument, ``design.compare`` output by region (may be empty).
    national_comparisons : dict of str to pandas.DataFrame
        Per instrument, ``design.compare`` output for all regions together.
    observed : pandas.DataFrame
        Counts and rates of the field work (see :func:`observed_summary`).
    model : pandas.DataFrame or None
        Bayesian small-area summary (``fit.summary()``), if fitted.
    model_indicator : str or None
        The indicator the model was fitted to.
    seed : int or None
        The seed of the random steps (recorded in the methods section).
    notices : list of str
        Warnings shown as a banner at the top of the report (e.g. repeated records).
    sensitive : dict of str to (pandas.DataFrame, pandas.DataFrame)
        Per instrument with a list-experiment module (picker, employee), the direct and
        the indirect estimate of the same item by ``["year", "region"]`` and by
        ``"year"`` (:func:`harvest.sensitive.report_tables`).
    fees : pandas.DataFrame or None
        The median amount paid for a replacement picker by the employees who paid, by
        year (``design.quantile`` columns), when the employee table has the amounts.
    """

    estimates: dict
    national: dict
    comparisons: dict
    national_comparisons: dict
    observed: pd.DataFrame
    year: object
    baseline: object = None
    level: float = 0.95
    ci: str = "korn-graubard"
    design: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)
    model: pd.DataFrame | None = None
    model_indicator: str | None = None
    model_settings: dict = field(default_factory=dict)
    model_diagnostics: dict = field(default_factory=dict)
    sources: list = field(default_factory=list)
    synthetic: bool = False
    seed: object = None
    notices: list = field(default_factory=list)
    weighting: dict = field(default_factory=dict)
    affected: pd.DataFrame | None = None
    affected_counts: list = field(default_factory=list)
    sensitive: dict = field(default_factory=dict)
    fees: pd.DataFrame | None = None


#: Covariates of the optional "Who is most affected" models, per instrument (those
#: present in the data are used; ``C(year)`` is added when the data hold several years).
AFFECTED_COVARIATES = {
    "farm": ["region", "n_pickers", "quota_pressure"],
    "employee": ["region", "sector"],
    "picker": ["region", "sex", "age_group", "employer_type"],
    "institution": ["region"],
}


def _affected(df, des, instrument, wanted, level):
    """Odds ratios of each indicator on the instrument's covariates (harvest.regression)."""
    from harvest.regression import odds_ratios

    covariates = [c for c in AFFECTED_COVARIATES.get(instrument, []) if c in df.columns]
    if "year" in df.columns and df["year"].nunique() > 1:
        covariates.append("C(year)")
    parts = []
    for v in wanted:
        try:
            parts.append(odds_ratios(des, v, covariates, level=level))
        except DataError:  # e.g. an indicator constant in a category: no model for it
            continue
    if not parts:
        return None
    out = pd.concat(parts, ignore_index=True)
    out.insert(0, "instrument", instrument)
    # unweighted counts per category level, for disclosure control at rendering
    counts = [answer_counts(df, wanted, by=[c], na="drop") for c in covariates
              if c in df.columns and not pd.api.types.is_numeric_dtype(df[c].dtype)]
    return out, counts


def _median_fees(des, df: pd.DataFrame, level: float):
    """The median ``amount_paid`` of the employees who paid, by year (Woodruff interval,
    R ``svyquantile``), or None without amounts or payers."""
    if not {"amount_paid", "paid_replacement"} <= set(df.columns):
        return None
    paid = (pd.to_numeric(df["paid_replacement"], errors="coerce") == 1).to_numpy()
    if not paid.any():
        return None
    by = ["year"] if "year" in df.columns else None
    return des.subset(paid).quantile("amount_paid", q=0.5, by=by, level=level, na="drop")


def _fees_section(data: ReportData, policy: DisclosurePolicy):
    """The median-fee table, through the disclosure policy (amounts: no attribute rule)."""
    if data.fees is None or len(data.fees) == 0:
        return None
    safe = protect(data.fees.assign(n_yes=np.nan), policy)
    rows = []
    for r in safe.itertuples(index=False):
        hide = bool(r.suppressed)
        rows.append({**({"Year": _label(r.year)} if "year" in safe.columns else {}),
                     "Median paid (manat)": SUPPRESSED if hide else f"{r.estimate:,.0f}",
                     f"{data.level * 100:g}% CI": SUPPRESSED if hide else
                     f"{r.ci_low:,.0f} to {r.ci_high:,.0f}",
                     "Employees who paid": SUPPRESSED if hide else f"{int(r.n):,}"})
    text = ("What a civil servant who paid for a replacement picker paid: the median amount "
            "(fees are skewed, so the median says more than the mean), with a Woodruff "
            "confidence interval from the survey design (as R svyquantile).")
    if safe["suppressed"].any():
        text += " Cells resting on too few employees are withheld (*)."
    return {"text": text, "table": _html_table(pd.DataFrame(rows),
                                               caption="Median amount paid by employees "
                                                       "who paid for a replacement picker")}


def observed_summary(frames: dict, visits: pd.DataFrame | None = None) -> pd.DataFrame:
    """Counts of the field work per year and instrument: visits, refusals, interference.

    Parameters
    ----------
    frames : dict of str to pandas.DataFrame
        Instrument tables (``{"farm": farms, "employee": employees}``).
    visits : pandas.DataFrame, optional
        One row per attempted visit with ``year``, ``instrument``, ``visit_status`` and
        ``interference`` (``hv.datasets.load("visits")``). Without it the counts come
        from the instrument tables' own ``visit_status`` and ``interference`` columns.

    Returns
    -------
    pandas.DataFrame
        Columns ``year``, ``instrument``, ``attempted``, ``completed``, ``refused``,
        ``dropped``, ``refusal_rate``, ``interference_rate``, ``interviews`` (rows of the
        instrument table). Missing where the data do not say.
    """
    rows = []
    has_visits = visits is not None and {"instrument", "visit_status"}.issubset(visits.columns)
    instruments = list(frames)
    if has_visits:
        instruments += [i for i in visits["instrument"].astype(str).unique()
                        if i not in instruments]
    for instrument in instruments:
        df = frames.get(instrument)
        source = df if df is not None else visits[visits["instrument"].astype(str)
                                                   == instrument]
        years = (sorted(source["year"].dropna().unique()) if "year" in source.columns
                 else [None])
        for year in years:
            part = None
            if df is not None:
                part = df if year is None else df[df["year"] == year]
            src = None
            if has_visits:
                v = visits[visits["instrument"].astype(str) == instrument]
                if year is not None and "year" in v.columns:
                    v = v[v["year"] == year]
                src = v if len(v) else None
            if src is None and part is not None and "visit_status" in part.columns:
                src = part
            row = {"year": year, "instrument": instrument,
                   "interviews": len(part) if part is not None else np.nan}
            if src is not None:
                status = src["visit_status"].astype("string").fillna("completed")
                row["attempted"] = len(src)
                row["completed"] = int((status == "completed").sum())
                row["refused"] = int((status == "refused").sum())
                row["dropped"] = int((status == "dropped_interference").sum())
                row["refusal_rate"] = row["refused"] / max(row["attempted"], 1)
                if "interference" in src.columns:
                    x = pd.to_numeric(src["interference"], errors="coerce").to_numpy(float)
                    x = np.where(status.to_numpy(object) == "dropped_interference", 1.0, x)
                    x = np.where(status.to_numpy(object) == "refused", np.nan, x)
                    row["interference_rate"] = float(np.nanmean(x)) if np.isfinite(x).any() \
                        else np.nan
            rows.append(row)
    cols = ["year", "instrument", "attempted", "completed", "refused", "dropped",
            "refusal_rate", "interference_rate", "interviews"]
    return pd.DataFrame(rows, columns=cols)


def _design_columns(df: pd.DataFrame, design: dict | None) -> dict:
    if design is not None:
        return dict(design)
    cols = set(df.columns)
    return {
        "weights": "weight" if "weight" in cols else None,
        "strata": "stratum" if "stratum" in cols else ("region" if "region" in cols else None),
        "psu": "district" if "district" in cols else None,
        "fpc": "n_districts" if "n_districts" in cols else None,
        "lonely_psu": "adjust",
    }


def _prepare(df: pd.DataFrame, instrument: str, keep_all: bool = False) -> pd.DataFrame:
    """Completed visits only (every visit with ``keep_all``: a nonresponse adjustment),
    with the derived indicators added when missing."""
    from harvest.indicators import add_indicators

    if "visit_status" in df.columns and not keep_all:
        status = df["visit_status"].astype("string").fillna("completed")
        df = df[(status == "completed").to_numpy()]
    wanted = INDICATORS.get(instrument, {})
    if any(c not in df.columns for c in wanted) and instrument in ("farm", "employee",
                                                                    "picker"):
        df = add_indicators(df, instrument)  # a DataError names the missing column
    return df


def analyse(frames: dict, *, visits=None, design: dict | None = None, level: float = 0.95,
            ci: str = "korn-graubard", baseline=None, bayes: bool = False,
            bayes_options: dict | None = None, rng=2024, progress=None,
            weighting=None, affected: bool = False, control_items=None) -> ReportData:
    """Run the report's analysis on instrument tables and return tidy tables.

    Parameters
    ----------
    frames : dict of str to pandas.DataFrame
        Instrument tables keyed by instrument (``"farm"``, ``"employee"``, ...). Rows
        with a ``visit_status`` other than ``completed`` are counted as refusals or
        drops and left out of the estimates.
    visits : pandas.DataFrame, optional
        Attempted visits (see :func:`observed_summary`).
    design : dict, optional
        Keyword arguments of :class:`harvest.SurveyDesign` (``weights``, ``strata``,
        ``psu``, ``fpc``, ``lonely_psu``). By default the columns ``weight``,
        ``stratum`` (else ``region``), ``district`` and ``n_districts`` are used when
        present, with ``lonely_psu="adjust"`` so that a stratum left with one district
        does not stop the report (R ``options(survey.lonely.psu="adjust")``).
    level : float, default 0.95
        Confidence level.
    ci : str, default ``"korn-graubard"``
        Interval method for proportions; Korn-Graubard is what the NCHS presentation
        standards are defined on.
    baseline : optional
        The year the latest year is compared with (default: the year before it, when
        the data hold it).
    bayes : bool, default False
        Also fit the Bayesian small-area model (:mod:`harvest.bayes`) to child labour.
    bayes_options : dict, optional
        Extra keyword arguments of ``hv.bayes.fit_prevalence`` (e.g. ``draws``).
    rng : int or numpy.random.Generator, default 2024
        Seed for every random step (the Bayesian fit); recorded in the report.
    progress : callable, optional
        Called with a short text after each step (for a progress bar).
    weighting : harvest.weighting_spec.Weighting, optional
        Nonresponse adjustment and calibration applied to every instrument's design
        (margins rows of another ``instrument`` left out); the methods section says
        which and the weights' spread.
    control_items : int, optional
        The list experiment's number of control items J (picker and employee tables):
        item counts outside 0..J (0..J+1 on the long list) are refused. Default: not
        checked here (the instrument's ``list_control_items`` checks them when read).
    affected : bool, default False
        Also fit the "Who is most affected" models: a quasibinomial model of each
        indicator on the instrument's covariates (:data:`AFFECTED_COVARIATES`,
        :func:`harvest.regression.odds_ratios`).

    Returns
    -------
    ReportData
    """
    from harvest.design import SurveyDesign
    from harvest.weighting_spec import apply_weighting, prepare, weighting_summary

    step = progress or (lambda _text: None)
    fees = None
    estimates, national, comparisons, national_cmp, labels = {}, {}, {}, {}, {}
    prepared = {}
    years = set()
    used_design, designs, weighted = {}, {}, {}
    odds = []
    sensitive = {}
    for instrument, raw in frames.items():
        rule = weighting.for_instrument(instrument) if weighting is not None else None
        if rule is not None and rule.nonresponse is not None \
                and rule.nonresponse not in raw.columns:
            # the nonresponse column is in some instruments' tables: adjust those
            rule = replace(rule, nonresponse=None, nonresponse_by=[])
        df = _prepare(raw, instrument, keep_all=rule is not None and
                      rule.nonresponse is not None)
        wanted = [c for c in INDICATORS.get(instrument, {}) if c in df.columns]
        if not wanted or len(df) == 0:
            step(f"{instrument}: nothing to estimate")
            continue
        labels.update({c: INDICATORS[instrument][c] for c in wanted})
        cols = _design_columns(df, design)
        used_design[instrument] = cols
        df, margins = prepare(df, rule)
        prepared[instrument] = df
        des = apply_weighting(SurveyDesign(df, **cols), rule, margins)
        designs[instrument] = des
        if rule is not None and rule.active:
            weighted[instrument] = (weighting_summary(des), bool(margins))
        by_region = ["year", "region"] if "year" in df.columns else ["region"]
        by_year = ["year"] if "year" in df.columns else None
        # with the unweighted yes counts for the attribute rule of disclosure control
        estimates[instrument] = with_counts(
            des.proportion(wanted, by=by_region, ci=ci, level=level, na="drop"),
            answer_counts(df, wanted, by=by_region, na="drop"))
        national[instrument] = with_counts(
            des.proportion(wanted, by=by_year, ci=ci, level=level, na="drop"),
            answer_counts(df, wanted, by=by_year, na="drop"))
        if "year" in df.columns:
            years.update(df["year"].dropna().unique().tolist())
        if affected:
            odds.append(_affected(df, des, instrument, wanted, level))
        module = list_module(df) if instrument in ("picker", "employee") else None
        if module is not None:   # direct and indirect answers of the same item
            sensitive[instrument] = (
                report_tables(des, module, by_region, level, control_items=control_items),
                report_tables(des, module, by_year, level, control_items=control_items))
        if instrument == "employee":
            fees = _median_fees(des, df, level)
        step(f"{instrument}: estimates")
    if weighting is not None and weighting.nonresponse is not None and not any(
            weighting.nonresponse in raw.columns for raw in frames.values()):
        raise DataError(f"the nonresponse column {weighting.nonresponse!r} (--nonresponse) "
                        "is in none of the tables.")
    if not estimates:
        raise DataError(
            "none of the tables holds an indicator the report knows "
            f"({', '.join(sorted({c for d in INDICATORS.values() for c in d}))})."
        )
    years = sorted(years)
    year = years[-1] if years else None
    if baseline is None and len(years) > 1:
        baseline = years[-2]
    if baseline is not None and baseline not in years:
        raise DataError(f"the baseline year {baseline!r} is not in the data (years: "
                        f"{', '.join(map(str, years))}).")
    if baseline is not None:
        for instrument, df in prepared.items():
            des = designs[instrument]
            wanted = list(estimates[instrument]["indicator"].unique())
            keep = df["year"].isin([baseline, year]).to_numpy()
            sub = des.subset(keep)
            comparisons[instrument] = pd.concat(
                [sub.compare(v, between="year", baseline=baseline, by="region",
                             measure="difference", level=level, adjust="holm", na="drop")
                 for v in wanted], ignore_index=True)
            national_cmp[instrument] = pd.concat(
                [sub.compare(v, between="year", baseline=baseline, measure="difference",
                             level=level, adjust=None, na="drop") for v in wanted],
                ignore_index=True)
            step(f"{instrument}: change since {baseline}")
    model = model_indicator = None
    settings, diagnostics = {}, {}
    if bayes and "farm" in prepared:
        import harvest.bayes as hb

        settings = {"model": "hierarchical", **(bayes_options or {})}
        farms = prepared["farm"]
        cols = used_design["farm"]
        if getattr(progress, "enabled", False):   # said before the compile, on stderr
            print(BAYES_NOTICE, file=sys.stderr, flush=True)
        fit = hb.fit_prevalence(farms, outcome="child_labour", area="region",
                                time="year" if "year" in farms.columns else None,
                                cluster=cols.get("psu"), weights=cols.get("weights"),
                                strata=cols.get("strata"), fpc=cols.get("fpc"), rng=rng,
                                progress=False, check=False, na="drop", **settings)
        model = fit.summary(level=0.9)
        diagnostics = fit.diagnostics(warn=False).to_dict()
        model_indicator = "child_labour"
        step("Bayesian small-area model")
    return ReportData(
        estimates=estimates, national=national, comparisons=comparisons,
        national_comparisons=national_cmp, observed=observed_summary(frames, visits),
        year=year, baseline=baseline, level=level, ci=ci, design=used_design, labels=labels,
        model=model, model_indicator=model_indicator, model_settings=settings,
        model_diagnostics=diagnostics,
        seed=rng if isinstance(rng, (int, np.integer)) else None, weighting=weighted,
        affected=pd.concat([o[0] for o in odds if o is not None], ignore_index=True)
        if any(o is not None for o in odds) else None,
        affected_counts=[c for o in odds if o is not None for c in o[1]],
        sensitive=sensitive, fees=fees,
    )


# ---------------------------------------------------------------------------- rendering


_TEXT_COLUMNS = ("Indicator", "Note", "Observed", "Region")


def _html_table(text: pd.DataFrame, *, caption: str | None = None, total_label=None) -> str:
    """An HTML table of text cells (already formatted and disclosed), escaped."""
    e = html.escape
    out = [f'<p class="caption">{e(caption)}</p>' if caption else "",
           '<div class="table-wrap"><table>']
    out.append("<thead><tr>")
    for i, c in enumerate(text.columns):
        cls = ' class="text"' if i == 0 or c in _TEXT_COLUMNS else ""
        out.append(f'<th scope="col"{cls}>{e(str(c))}</th>')
    out.append("</tr></thead><tbody>")
    for row in text.itertuples(index=False):
        first = str(row[0])
        cls = ' class="total"' if total_label is not None and first == total_label else ""
        out.append(f"<tr{cls}>")
        for c, v in zip(text.columns, row, strict=True):
            v = "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)
            td = ' class="note-cell"' if c == "Note" else (
                ' class="text"' if c in _TEXT_COLUMNS else "")
            out.append(f"<td{td}>{e(v)}</td>")
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def _svg(fig, salt: str, label: str = "figure") -> str:
    """The figure as inline SVG (text kept as text), without the XML prologue."""
    import matplotlib
    import matplotlib.pyplot as plt

    for ax in fig.axes:  # larger text: the figure is shown at phone width too
        ax.tick_params(labelsize=11)
        ax.xaxis.label.set_size(11.5)
        for text in ax.texts:
            text.set_fontsize(10)
        legend = ax.get_legend()
        if legend is not None:
            for text in legend.get_texts():
                text.set_fontsize(10.5)
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    return re.sub(r"<svg ", f'<svg role="img" aria-label="{html.escape(label)}" ', text,
                  count=1)


def _displayable(table: pd.DataFrame, reliability="flag") -> pd.DataFrame:
    """Estimates safe to draw from a protected table: withheld cells missing, NCHS
    failures flagged or hidden. Adds a boolean column ``unreliable``."""
    safe = table.copy()
    unreliable = ~nchs_reliability(table)["nchs_present"].to_numpy() if reliability else \
        np.zeros(len(table), dtype=bool)
    if reliability == "suppress":
        for c in ("estimate", "ci_low", "ci_high"):
            safe.loc[unreliable, c] = np.nan
    safe["unreliable"] = unreliable & ~safe["suppressed"].to_numpy(dtype=bool)
    return safe


def _safe_comparison(comparison, estimates, policy, reliability="flag"):
    """The comparison with the rows withheld in its table set to missing (for figures)."""
    out = comparison.copy()
    small, unreliable = comparison_status(comparison, estimates, between="year",
                                          policy=policy, reliability=reliability)
    hide = small | (unreliable if reliability == "suppress" else False)
    for c in ("estimate", "ci_low", "ci_high", "estimate_group", "estimate_baseline"):
        out.loc[hide, c] = np.nan
    return out


def _change_phrase(row, baseline, lvl: str) -> str:
    """``"9.7 points lower than in 2023 (95% CI of the change -18.9 to -0.4)"``."""
    est = float(row["estimate"])
    size = format_percent(abs(est))
    lo, hi = format_percent(row["ci_low"]), format_percent(row["ci_high"])
    if size == format_percent(0.0):
        head = f"About the same as in {_label(baseline)}"
    else:
        head = (f"{size} percentage points {'lower' if est < 0 else 'higher'} than in "
                f"{_label(baseline)}")
    return f"{head} ({lvl} CI of the change {lo} to {hi})".replace("-", "−")


def _label(v) -> str:
    """A year (or other label) as a reader writes it: ``2024`` for ``2024.0`` and for a
    datetime of 1 January 00:00 (a year column read as dates), the date otherwise.

    Examples
    --------
    >>> _label(2024.0), _label(pd.Timestamp("2024-01-01")), _label(pd.Timestamp("2024-05-02"))
    ('2024', '2024', '2024-05-02')
    """
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    if isinstance(v, (_dt.datetime, _dt.date, np.datetime64)) and not pd.isna(v):
        v = pd.Timestamp(v)
        return str(v.year) if v == pd.Timestamp(v.year, 1, 1) else str(v.date())
    return str(v)


def _with_year(text: str, year, after: str = "") -> str:
    """``"text, 2024after"``, or ``"textafter"`` without a year (no "None" in captions)."""
    return f"{text}, {_label(year)}{after}" if year is not None else f"{text}{after}"


def shown_years(data: ReportData) -> list:
    """The years a report shows: the baseline and the latest year (when known).

    Examples
    --------
    >>> import pandas as pd
    >>> d = ReportData({}, {}, {}, {}, pd.DataFrame(), year=2024, baseline=2023)
    >>> shown_years(d)
    [2023, 2024]
    """
    return [y for y in (data.baseline, data.year) if y is not None]


def protect_report(data: ReportData, policy: DisclosurePolicy, *, sensitive: bool = False):
    """Step 1 of the report: the disclosure policy applied to everything it publishes.

    Per instrument, the regional and the all-regions tables of the years shown are
    protected jointly (`harvest.disclosure.protect`, dimensions year and region, the
    pattern consistent across the years), together with the instrument's direct and
    indirect answers (``data.sensitive``) when it has them. Every later step (tables,
    cards, figures, comparisons, field-work counts, the model table, the direct and
    indirect answers) reads the pattern from here.

    Parameters
    ----------
    data : ReportData
    policy : DisclosurePolicy
    sensitive : bool, default False
        Also return the protected direct-and-indirect tables.

    Returns
    -------
    dict of str to (pandas.DataFrame, pandas.DataFrame or None)
        Per instrument, the protected regional and all-regions tables; with
        ``sensitive=True`` a pair: that dict and the same for ``data.sensitive``.
    """
    years = shown_years(data)
    out, out_sensitive = {}, {}

    def shown(t):
        if t is not None and "year" in t.columns and years:
            return t[t["year"].isin(years)]
        return t

    for instrument, table in data.estimates.items():
        nat = shown(data.national.get(instrument))
        table = shown(table)
        tables = [table] + ([nat] if nat is not None else [])
        extra = [shown(t) for t in data.sensitive.get(instrument, ())]
        done = protect(tables + extra, policy, dims=by_columns(table), time="year")
        out[instrument] = (done[0], done[1] if nat is not None else None)
        if extra:
            out_sensitive[instrument] = tuple(done[len(tables):])
    return (out, out_sensitive) if sensitive else out


def _sensitive_sections(data: ReportData, protected: dict) -> list:
    """Step 5: per instrument, the direct and the indirect answers of the latest year
    (protected: a withheld cell shows the suppression mark)."""
    sections = []
    for instrument, (table, nat) in protected.items():
        latest = _latest(table, data.year).drop(columns=["year"], errors="ignore")
        whole = _latest(nat, data.year).drop(columns=["year"], errors="ignore")
        whole.insert(0, "region", "All regions")
        both = pd.concat([latest, whole], ignore_index=True).rename(
            columns={"region": "Region"})
        unit = _UNITS.get(instrument, (instrument, instrument))[1]
        when = f" ({_label(data.year)})" if data.year is not None else ""
        sections.append(report_section(
            both, title=f"Asked directly and through a list experiment: {unit}{when}",
            withheld=SUPPRESSED))
    return sections


def _latest(table, year):
    if table is None:
        return None
    return table[table["year"] == year] if "year" in table.columns else table


def _level_table(part, npart, label, year, lvl, unit_plural, policy, reliability):
    """The table of one indicator by region with its all-regions row, card and sentence."""
    body, notes = publication_table(part, policy=policy, reliability=reliability)
    body = body.drop(columns=["Indicator"]).rename(columns={"region": "Region"})
    sentence, card = "", None
    if npart is not None:
        ntext, nnotes = publication_table(npart, policy=policy, reliability=reliability)
        ntext = ntext.drop(columns=["Indicator"])
        ntext.insert(0, "Region", "All regions")
        body = pd.concat([body, ntext], ignore_index=True)
        notes = list(dict.fromkeys([*notes, *nnotes]))
        shown = ntext.iloc[0]
        est_col, ci_col = body.columns[1], body.columns[2]
        card = {"label": f"{label} ({_label(year)})" if year is not None else label,
                "value": f"{shown[est_col]}%" if shown[est_col] != SUPPRESSED
                else SUPPRESSED,
                "ci": f"{lvl} CI {shown[ci_col]}%" if shown[ci_col] != SUPPRESSED
                else "not shown (disclosure control)", "delta": ""}
        if shown["Note"] and shown[est_col] != SUPPRESSED:
            card["ci"] += f" (note {shown['Note']} below)"
        if shown[est_col] != SUPPRESSED:
            sentence = (f"{'In ' + _label(year) + ', ' if year is not None else ''}"
                        f"{shown[est_col]}% ({lvl} confidence "
                        f"interval {shown[ci_col]}%) across all regions, from "
                        f"{shown['n']} {unit_plural} observed.")
    return body, notes, sentence, card


def _change_section(ind, data, indicator, est, nat, cmp_all, ncmp_all, card, policy,
                    reliability, fig_no, step):
    """The change table and figure of one indicator; returns the figure count."""
    import matplotlib.pyplot as plt

    from harvest import plot

    year, baseline, lvl = data.year, data.baseline, f"{data.level * 100:g}%"
    label = ind["label"]
    cmp = cmp_all[cmp_all["indicator"] == indicator]
    est_all = est[est["indicator"] == indicator]
    ctext, cnotes = comparison_table(cmp, estimates=est_all, between="year", policy=policy,
                                     reliability=reliability, level=data.level)
    ctext = ctext.drop(columns=["Indicator"]).rename(columns={"region": "Region"})
    if ncmp_all is not None and len(ncmp_all) and nat is not None:
        ncmp = ncmp_all[ncmp_all["indicator"] == indicator]
        nest = nat[nat["indicator"] == indicator]
        ntext, nnotes = comparison_table(ncmp, estimates=nest, between="year", policy=policy,
                                         reliability=reliability, level=data.level)
        ntext = ntext.drop(columns=["Indicator"])
        ntext.insert(0, "Region", "All regions")
        ctext = pd.concat([ctext, ntext], ignore_index=True)
        cnotes = list(dict.fromkeys([*cnotes, *nnotes]))
        if ntext.iloc[0, 3] != SUPPRESSED and card is not None and len(ncmp) == 1:
            card["delta"] = _change_phrase(ncmp.iloc[0], baseline, lvl)
    cnotes.append("p: adjusted for the number of regions compared (Holm); the all-regions "
                  "row is not adjusted.")
    ind["change_table"] = _html_table(
        ctext, caption=f"{label}: {_label(baseline)} and {_label(year)}",
        total_label="All regions")
    ind["change_notes"] = cnotes
    safe_cmp = _safe_comparison(cmp, est_all, policy, reliability)
    if safe_cmp["estimate"].isna().all():
        step(f"figure: change in {indicator} (all suppressed)")
        return fig_no
    fig, ax = plt.subplots(figsize=(4.4, 0.4 * len(cmp) + 1.2))
    plot.change(safe_cmp.rename(columns={"region": "Region"}), ax=ax, label="Region")
    fig.subplots_adjust(right=0.8)
    fig_no += 1
    ind["change_figure"] = _svg(fig, f"harvest-{fig_no}",
                                f"{label}: change since {_label(baseline)}")
    ind["change_caption"] = (
        f"Change from {_label(baseline)} to {_label(year)} in percentage points, with the "
        f"{lvl} confidence interval of the difference (coloured where it excludes no "
        "change); levels on the right.")
    step(f"figure: change in {indicator}")
    return fig_no


def _indicator_sections(data, protected, policy, reliability, step):
    """Step 2: per indicator its table, card, sentence, figure and change."""
    import matplotlib.pyplot as plt

    from harvest import plot

    year, lvl = data.year, f"{data.level * 100:g}%"
    indicators, cards, fig_no = [], [], 0
    for instrument, (table, nat) in protected.items():
        unit_plural = _UNITS.get(instrument, ("unit", "units"))[1]
        latest, nat_latest = _latest(table, year), _latest(nat, year)
        cmp_all = data.comparisons.get(instrument)
        ncmp_all = data.national_comparisons.get(instrument)
        for indicator in latest["indicator"].unique():
            label = data.labels.get(indicator, indicator)
            part = latest[latest["indicator"] == indicator].drop(columns=["year"],
                                                                   errors="ignore")
            npart = None if nat_latest is None else nat_latest[
                nat_latest["indicator"] == indicator].drop(
                columns=["year"], errors="ignore").reset_index(drop=True)
            body, notes, sentence, card = _level_table(part, npart, label, year, lvl,
                                                       unit_plural, policy, reliability)
            if card is not None:
                cards.append(card)
            ind = {"name": indicator, "label": label, "sentence": sentence,
                   "table": _html_table(body, caption=_with_year(label, year, ", by region"),
                                        total_label="All regions"),
                   "notes": notes}
            fig, ax = plt.subplots(figsize=(4.4, 0.4 * len(part) + 1.2))
            plot.forest(_displayable(part, reliability).rename(columns={"region": "Region"}),
                        ax=ax, label="Region", flag="unreliable")
            fig_no += 1
            ind["figure"] = _svg(fig, f"harvest-{fig_no}", f"{label} by region")
            ind["figure_caption"] = (
                _with_year(f"{label} by region", year, f": estimate and {lvl} confidence "
                           "interval.")
                + (" Open markers and dashed intervals (\u2020): the estimate does not meet "
                   "the NCHS presentation standards; interpret with caution."
                   if reliability == "flag" else ""))
            step(f"figure: {indicator}")
            if cmp_all is not None and len(cmp_all):
                fig_no = _change_section(ind, data, indicator, table, nat, cmp_all, ncmp_all,
                                         card, policy, reliability, fig_no, step)
            for k in ("change_table", "change_figure", "change_notes", "change_caption"):
                ind.setdefault(k, None)
            indicators.append(ind)
    return indicators, cards, fig_no


def _summary(data: ReportData, n_ind: int):
    """Step 3: the summary sentence and the subtitle lines."""
    year, baseline, lvl = data.year, data.baseline, f"{data.level * 100:g}%"
    summary_text = (
        f"{n_ind} indicator{'s' if n_ind != 1 else ''} from the "
        f"{_label(year) if year is not None else ''} field observations, by region, with "
        f"{lvl} confidence intervals"
        + (f" and the change since {_label(baseline)}." if baseline is not None else ".")
    )
    subtitle = []
    if year is not None:
        subtitle.append(f"Harvest {_label(year)}"
                        + (f", compared with {_label(baseline)}" if baseline is not None
                           else ""))
    if data.sources:
        subtitle.append("Data: " + ", ".join(map(str, data.sources)))
    return summary_text, subtitle


def _footer_text(policy: DisclosurePolicy) -> str:
    """The footer's sentence on disclosure control (never "fewer than 0")."""
    if not policy.enabled:
        return ("Disclosure control was turned OFF for this report (weak settings): it may "
                "disclose individual respondents.")
    rules = []
    if policy.min_n > 0:
        rules.append(f"cells resting on fewer than {policy.min_n} observations")
    if policy.min_each > 0:
        rules.append(f"shares with fewer than {policy.min_each} respondents on one side")
    return (" and ".join(rules) + ", and the cells that would give them back by subtraction, "
            "are suppressed (*).").capitalize()


def _page(data, title, indicators, cards, observed, model, methods, policy, sensitive=(),
          affected=None, fees=None):
    """Step 6: the HTML page from the parts (autoescaped template)."""
    import jinja2

    import harvest

    summary_text, subtitle = _summary(data, len(indicators))
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("harvest", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    template = env.get_template("report.html.j2")
    safe = jinja2.utils.markupsafe.Markup  # only for HTML built here, escaped cell by cell
    for ind in indicators:
        for k in ("table", "figure", "change_table", "change_figure"):
            if ind.get(k):
                ind[k] = safe(ind[k])
    if fees:
        fees["table"] = safe(fees["table"])
    if model:
        model["table"] = safe(model["table"])
        model["figure"] = safe(model["figure"]) if model.get("figure") else None
    if affected:
        affected["table"] = safe(affected["table"])
        affected["figures"] = [safe(f) for f in affected["figures"]]
    banners = [b for b in [policy.banner(), *data.notices] if b]
    observed_table, observed_text, observed_notes = observed
    return template.render(
        title=title, subtitle=subtitle, synthetic=data.synthetic, summary_text=summary_text,
        cards=cards, observed_table=safe(observed_table), observed_text=observed_text,
        observed_notes=observed_notes, indicators=indicators, baseline=_label(data.baseline),
        model=model, affected=affected, fees=fees, methods=methods, version=harvest.__version__,
        banners=banners, sensitive=[safe(section) for section in sensitive],
        footer_disclosure=_footer_text(policy), level_text=f"{data.level * 100:g}%",
        generated=_dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


def render_report(data: ReportData, *, min_n: int = 10, reliability: str | None = "flag",
                  title: str | None = None, progress=None,
                  policy: DisclosurePolicy | None = None) -> str:
    """Turn the tidy tables of :class:`ReportData` into one self-contained HTML page.

    The report is the unit of publication: `protect_report` applies the disclosure
    policy to everything it shows, jointly, before any table, card, figure, comparison,
    field-work count or model estimate is made from the protected tables.

    Parameters
    ----------
    data : ReportData
        Tidy tables, e.g. from :func:`analyse`.
    min_n : int, default 10
        Disclosure threshold (ignored when ``policy`` is given).
    reliability : {"flag", "suppress", None}, default ``"flag"``
        Estimates that fail the NCHS data presentation standards for proportions are
        shown with a footnote and open markers (``"flag"``), withheld (``"suppress"``),
        or not checked (``None``); see :func:`harvest.tables.publication_table`.
    title : str, optional
        Page title.
    progress : callable, optional
        Called with a short text after each figure.
    policy : harvest.disclosure.DisclosurePolicy, optional
        All disclosure settings (default: ``DisclosurePolicy(min_n=min_n)``).

    Returns
    -------
    str
        The HTML document.
    """
    reliability = _check_reliability(reliability)
    policy = policy if policy is not None else DisclosurePolicy(min_n=min_n)
    step = progress or (lambda _text: None)
    title = title or "Forced and child labour in the cotton harvest"
    protected, protected_sensitive = protect_report(data, policy, sensitive=True)
    indicators, cards, fig_no = _indicator_sections(data, protected, policy, reliability, step)
    observed = _observed(data.observed, protected, policy, shown_years(data))
    model = _model_section(data, protected, policy, fig_no, reliability) \
        if data.model is not None else None
    affected = _affected_section(data, policy, fig_no + 1 + (model is not None)) \
        if data.affected is not None else None
    methods = _methods(data, policy, reliability)
    sensitive = _sensitive_sections(data, protected_sensitive)
    fees = _fees_section(data, policy)
    return _page(data, title, indicators, cards, observed, model, methods, policy, sensitive,
                 affected=affected, fees=fees)


def _observed(observed: pd.DataFrame, protected: dict, policy: DisclosurePolicy, years):
    """Step 4: the field-work table of the years shown, counts withheld where they would
    give back a withheld cell (or are themselves below ``min_n``)."""
    if years and "year" in observed.columns:
        observed = observed[observed["year"].isin(years) | observed["year"].isna()]
    withheld = set()
    for instrument, (_table, nat) in protected.items():
        if nat is not None:
            rows = nat[nat["suppressed"].to_numpy(dtype=bool)]
            years_hit = rows["year"].tolist() if "year" in rows.columns else \
                ([None] if len(rows) else [])
            withheld.update((instrument, _label(y)) for y in years_hit)
    rows = []
    for r in observed.itertuples(index=False):
        unit = _UNITS.get(r.instrument, (r.instrument, r.instrument))[1]
        small = any(pd.notna(v) and v < policy.min_n for v in (r.completed, r.interviews))
        hide = small or (r.instrument, _label(r.year)) in withheld or \
            (r.instrument, "None") in withheld

        def count(v, hide=hide):
            return SUPPRESSED if hide else ("–" if pd.isna(v) else f"{int(v):,}")

        def rate(v, hide=hide):
            return SUPPRESSED if hide else ("–" if pd.isna(v) else f"{format_percent(v)}%")

        rows.append({
            "Year": _label(r.year) if r.year is not None and not pd.isna(r.year) else "",
            "Observed": unit.capitalize(),
            "Visits attempted": count(r.attempted),
            "Completed": count(r.completed),
            "Refused": count(r.refused),
            "Dropped (interference)": count(r.dropped),
            "Refusal rate": rate(r.refusal_rate),
            "Interference": rate(r.interference_rate),
            "Records analysed": count(r.interviews),
        })
    text = pd.DataFrame(rows)
    if len(text):
        text = text.loc[:, [c for c in text.columns if (text[c] != "–").any()]]
        text = text.sort_values(["Year", "Observed"], kind="stable")
    sentence = (
        "Field work behind the estimates. Refusals and interference can bias the estimates: "
        "a refusing farm or institution may differ from those observed, and coached answers "
        "understate what happens. Read every estimate below with these rates in mind."
    )
    notes = ["Interference: share of visits (not refused) where observers noted "
             "interference, counting visits dropped for it.",
             "Records analysed: rows of the instrument table behind the estimates "
             "(completed visits or interviews); – where the data do not say.",
             "Counts are of all visits in the year and are not broken down further, so that "
             "no site can be identified; a row is withheld (*) when its counts are below "
             "the disclosure threshold or would give back a withheld all-regions cell."]
    return _html_table(text, caption="Field work by year"), sentence, notes


def _model_section(data: ReportData, protected: dict, policy: DisclosurePolicy, fig_no: int,
                   reliability="flag"):
    """Step 5: the Bayesian model table and figure; model estimates of regions whose
    direct estimate is withheld are withheld too (unless the policy allows them)."""
    import matplotlib.pyplot as plt

    from harvest import plot

    summ = data.model
    ind = data.model_indicator
    direct = protected["farm"][0]
    direct = direct[direct["indicator"] == ind]
    time = data.year if "time" in summ.columns else None
    m = (summ[summ["time"] == time] if time is not None else summ).copy()
    d_latest = _latest(direct, data.year)
    shown = _displayable(d_latest, reliability)
    hidden = set(d_latest.loc[d_latest["suppressed"].to_numpy(dtype=bool), "region"]
                 .map(str))
    if policy.model_for_suppressed:
        hidden = set()
    m_hide = m["area"].map(str).isin(hidden).to_numpy()
    for c in ("mean", "ci_low", "ci_high"):
        if c in m.columns:
            m.loc[m_hide, c] = np.nan
    rows = []
    for r, h in zip(m.itertuples(index=False), m_hide, strict=True):
        rows.append({"Region": str(r.area),
                     "Model mean (%)": SUPPRESSED if h else format_percent(r.mean),
                     "90% credible interval": SUPPRESSED if h else
                     f"{format_percent(r.ci_low)} to {format_percent(r.ci_high)}",
                     "R-hat": SUPPRESSED if h else f"{r.r_hat:.3f}"})
    fig, ax = plt.subplots(figsize=(4.6, 0.5 * len(m) + 1.4))
    plot.direct_vs_model(shown, m, ax=ax, area="region", time=time)
    figure = _svg(fig, f"harvest-{fig_no + 1}", "direct and model-based estimates")
    label = data.labels.get(ind, ind)
    text = (f"{label}: a hierarchical Bayesian model (harvest.bayes) borrows strength across "
            "regions and years, which steadies estimates for regions with few observations. "
            "Model estimates are shown with 90% credible intervals beside the direct, "
            "design-based ones.")
    if m_hide.any():
        text += (" Model estimates of regions whose direct estimate is withheld by "
                 "disclosure control are withheld too (*).")
    dg = data.model_diagnostics
    if dg:
        verdict = ("passed" if dg.get("ok") else "did NOT pass: treat the model estimates "
                   "as provisional")
        text += (f" Sampler diagnostics {verdict} ({dg.get('chains')} chains x "
                 f"{dg.get('draws')} draws; {dg.get('divergences')} divergent transitions; "
                 f"largest R-hat {float(dg.get('max_r_hat')):.3f}; smallest bulk effective "
                 f"sample size {float(dg.get('min_ess_bulk')):.0f}).")
    return {"text": text, "table": _html_table(pd.DataFrame(rows), caption=_with_year(
                f"{label}, model-based", data.year)),
            "figure": figure,
            "caption": f"{label}: direct ({data.level * 100:g}% CI) and model-based (90% "
                       "credible interval) estimates by region."}


def _affected_section(data: ReportData, policy: DisclosurePolicy, fig_no: int):
    """The optional "Who is most affected" section: odds ratios, table and forest plots.

    The odds ratio of a category level is withheld when disclosure control
    (:func:`harvest.disclosure.protect`, on the unweighted counts of the indicator by that
    category) withholds the level or the reference level it is compared with.
    """
    import matplotlib.pyplot as plt

    from harvest import plot

    table = data.affected.copy()
    hide = withheld_terms(table, data.affected_counts, policy)
    table.loc[hide, ["estimate", "ci_low", "ci_high", "p_value"]] = np.nan
    lvl = f"{data.level * 100:g}%"
    rows = [{"Indicator": data.labels.get(r.indicator, r.indicator), "Term": r.term,
             "Odds ratio": SUPPRESSED if h else f"{r.estimate:.2f}",
             f"{lvl} confidence interval": SUPPRESSED if h else
             f"{r.ci_low:.2f} to {r.ci_high:.2f}",
             "p": SUPPRESSED if h else f"{r.p_value:.3f}"}
            for r, h in zip(table.itertuples(index=False), hide, strict=True)]
    figures = []
    for k, (instrument, part) in enumerate(table.groupby("instrument", sort=False)):
        part = part[part["estimate"].notna()]
        if not len(part):
            continue
        fig, ax = plt.subplots(figsize=(6.0, 0.3 * len(part) + 1.4))
        plot.odds_ratios(part, ax=ax)
        figures.append(_svg(fig, f"harvest-{fig_no + k}", f"odds ratios, {instrument}"))
    text = ("Which farms, employees or pickers are most affected? For each indicator a "
            "design-based logistic model (quasibinomial, as R svyglm) on the instrument's "
            "covariates gives odds ratios adjusted for the other covariates: a category "
            "against its first level in alphabetical order, a number per unit. Standard "
            "errors and intervals use the survey design (Binder's sandwich) on the "
            "design's degrees of freedom plus one minus the number of coefficients.")
    if hide.any():
        text += (" Odds ratios of categories withheld by disclosure control (or compared "
                 "with a withheld category) are withheld too (*).")
    return {"text": text, "table": _html_table(pd.DataFrame(rows),
                                               caption="Odds ratios, all years"),
            "figures": figures,
            "caption": f"Odds ratios with {lvl} confidence intervals (log scale; the "
                       "dotted line is no association)."}


def _methods(data: ReportData, policy: DisclosurePolicy, reliability="flag") -> list[str]:
    """Step 5b: the methods section, with the disclosure settings and the seed."""
    out = []
    for instrument, cols in data.design.items():
        unit = _UNITS.get(instrument, (instrument, instrument))[1]
        parts = []
        parts.append(f"strata: {cols.get('strata')}" if cols.get("strata") else "no strata")
        parts.append(f"first-stage clusters (PSUs): {cols.get('psu')}" if cols.get("psu")
                     else "every record its own PSU")
        parts.append(f"weights: {cols.get('weights')}" if cols.get("weights")
                     else "equal weights")
        if cols.get("fpc"):
            parts.append(f"finite population correction: {cols.get('fpc')}")
        if cols.get("lonely_psu"):
            parts.append(f"strata with a single PSU: '{cols.get('lonely_psu')}' "
                         "(as R survey.lonely.psu)")
        out.append(f"Design for {unit}: " + "; ".join(parts) + ". Standard errors by Taylor "
                   "linearisation with ultimate-cluster variance, as R survey's svydesign.")
        if instrument in data.weighting:
            text, calibrated = data.weighting[instrument]
            out.append(f"Weighting of the {unit}: {text} (Kish: 1 + the squared "
                       "coefficient of variation of the weights). " + (
                           "The standard errors account for the calibration (residuals of "
                           "the calibration regression, as R survey's calibrate)."
                           if calibrated else "The adjusted weights are treated as fixed "
                           "in the standard errors."))
    names = {"korn-graubard": "Korn-Graubard (R svyciprop method 'beta')",
             "logit": "logit", "wilson": "Wilson with the effective sample size"}
    out.append(f"Confidence intervals for proportions: {names.get(data.ci, data.ci)}, at "
               f"{data.level * 100:g}%, with the design degrees of freedom.")
    if data.baseline is not None:
        out.append(f"Change since {_label(data.baseline)}: difference of proportions with a "
                   "standard error that uses the covariance between years from the design; "
                   "p-values across regions adjusted by Holm's method.")
    out.append(policy.describe() + " Only aggregates are shown, never records.")
    if reliability is not None:
        action = "are withheld (*)" if reliability == "suppress" else \
            "are marked (b) as unreliable"
        out.append("Reliability: estimates that fail the NCHS data presentation standards for "
                   "proportions (Parker et al. 2017): an effective sample size below 30, a "
                   "Korn-Graubard interval wider than 30 percentage points, or one wider than "
                   f"130% of the estimate, {action}; estimates with fewer than 8 degrees of "
                   "freedom or of 0% or 100% are marked for review (d).")
    out.append("Observation sites are not a strict probability sample: observers choose "
               "sites and some refuse. The intervals describe sampling variability under the "
               "stated design only, not bias from site selection, refusals or interference.")
    if data.model is not None:
        s = ", ".join(f"{k}={v}" for k, v in data.model_settings.items())
        out.append(f"Small-area model: harvest.bayes.fit_prevalence ({s}); see the "
                   "methods documentation for the model and its diagnostics.")
    if data.seed is not None:
        out.append(f"Random seed: {data.seed} (--seed), used by every random step (the "
                   "Bayesian fit); the same files and seed give the same report.")
    return out


# -------------------------------------------------------------------------- front doors


#: What ``analyse(bayes=True)`` says on stderr before fitting (a progress bar shows
#: nothing while numba compiles). Figures: docs/performance.md.
BAYES_NOTICE = ("harvest: compiling the Bayesian model (first run on this machine: about "
                "30 s on a quiet 2-core machine, minutes under load; later runs load it "
                "from the PyTensor cache in about 2 s) ...")


class _Progress:
    """A tqdm progress bar on stderr when it is a terminal, or nothing.

    Not a terminal (a log file, CI): no bar, so no carriage-return frames in the log.
    """

    def __init__(self, enabled: bool, total: int, desc: str):
        self.bar = None
        self.enabled = enabled   # said: notices on stderr (terminal or log)
        if enabled and sys.stderr.isatty():
            from tqdm.auto import tqdm

            self.desc = desc
            self.bar = tqdm(total=total, desc=desc, file=sys.stderr, leave=False,
                            bar_format="{desc:<52.52} {bar:20} {n_fmt}/{total_fmt}")

    def __call__(self, text: str):
        if self.bar is not None:
            self.bar.set_description_str(f"{self.desc}: {text}", refresh=False)
            if self.bar.n < self.bar.total:
                self.bar.update(1)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def build_report(frames: dict, out="report.html", *, visits=None, design: dict | None = None,
                 level: float = 0.95, ci: str = "korn-graubard", baseline=None,
                 min_n: int = 10, reliability: str | None = "flag", bayes: bool = False,
                 bayes_options: dict | None = None, rng=2024, title: str | None = None,
                 sources=None, synthetic: bool = False, progress: bool = True,
                 policy: DisclosurePolicy | None = None, notices=None,
                 weighting=None, affected: bool = False, control_items=None) -> Path:
    """Analyse instrument tables and write the self-contained HTML report.

    Parameters
    ----------
    frames : dict of str to pandas.DataFrame
        Instrument tables keyed by instrument, e.g. ``{"farm": farms, "employee": emp}``.
    out : str or pathlib.Path, default ``"report.html"``
        The file to write.
    visits, design, level, ci, baseline, bayes, bayes_options, rng, weighting, affected,
    control_items
        As :func:`analyse`.
    min_n : int, default 10
        Disclosure threshold (see :func:`harvest.tables.disclose`); ignored with
        ``policy``.
    reliability : {"flag", "suppress", None}, default ``"flag"``
        Treatment of estimates failing the NCHS standards (see :func:`render_report`).
    title : str, optional
        Page title.
    sources : list of str, optional
        File names shown under the title.
    synthetic : bool, default False
        Mark the page as made from synthetic data.
    progress : bool or str, default True
        Show a progress bar on stderr when it is a terminal; a string is the bar's label
        (default ``"harvest report"``).
    policy : harvest.disclosure.DisclosurePolicy, optional
        All disclosure settings (default ``DisclosurePolicy(min_n=min_n)``); weak
        settings put a banner on the report.
    notices : list of str, optional
        Warnings for the banner (e.g. records repeated across input files).

    Returns
    -------
    pathlib.Path
        The file written.
    """
    from harvest.writers import write_html

    out = Path(out)
    policy = policy if policy is not None else DisclosurePolicy(min_n=min_n)
    n_ind = sum(len(INDICATORS.get(k, {})) for k in frames)
    bar = _Progress(bool(progress), total=2 * len(frames) + 2 * n_ind + int(bayes) + 1,
                    desc=progress if isinstance(progress, str) else "harvest report")
    try:
        data = analyse(frames, visits=visits, design=design, level=level, ci=ci,
                       baseline=baseline, bayes=bayes, bayes_options=bayes_options, rng=rng,
                       progress=bar, weighting=weighting, affected=affected,
                       control_items=control_items)
        data.sources = list(sources or [])
        data.synthetic = synthetic
        data.notices = list(notices or [])
        page = render_report(data, policy=policy, reliability=reliability, title=title,
                             progress=bar)
        write_html(page, out)
        bar("written")
    finally:
        bar.close()
    return out


def demo(out="report.html", *, bayes: bool = False, progress: bool = True, rng=2024,
         min_n: int = 10, reliability: str | None = "flag",
         policy: DisclosurePolicy | None = None) -> Path:
    """Write the report for the bundled synthetic 2023-2024 data.

    Parameters
    ----------
    out : str or pathlib.Path, default ``"report.html"``
        The file to write.
    bayes : bool, default False
        Include the Bayesian small-area model (takes longer).
    progress : bool, default True
        Show a progress bar on stderr.
    rng : int, default 2024
        Seed of the Bayesian fit.
    min_n : int, default 10
        Disclosure threshold.
    reliability : {"flag", "suppress", None}, default ``"flag"``
        Treatment of estimates failing the NCHS standards (see :func:`render_report`).
    policy : harvest.disclosure.DisclosurePolicy, optional
        All disclosure settings (instead of ``min_n``).

    Returns
    -------
    pathlib.Path
    """
    from harvest import datasets

    frames = {"farm": datasets.load("farms"), "employee": datasets.load("employees")}
    try:
        visits = datasets.load("visits")
    except (KeyError, ValueError, FileNotFoundError):
        visits = None
    return build_report(frames, out, visits=visits, bayes=bayes, rng=rng, min_n=min_n,
                        policy=policy, reliability=reliability,
                        progress="harvest demo" if progress else False, synthetic=True,
                        sources=["bundled synthetic data (hv.datasets)"],
                        bayes_options=None)
