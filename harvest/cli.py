"""The ``harvest`` command: validate field data, estimate, compare, report and plan.

Every command reads CSV, Excel (``.xlsx``), Parquet, SPSS (``.sav``) or Stata (``.dta``)
files, checks them, and prints a table (Markdown on screen, or ``--out FILE`` as CSV,
XLSX or Markdown according to the suffix). Problems in the data stop the command with a
list of what to fix and exit code 2.

Examples
--------
.. code-block:: console

    $ harvest demo
    $ harvest validate farms_2024.xlsx --instrument farm
    $ harvest estimate farms.csv --indicator child_labour --by region
    $ harvest compare farms.csv --indicator child_labour --between year --baseline 2023 --by region
    $ harvest report farms.xlsx employees.xlsx --out report.html
    $ harvest plan --p 0.23 --moe 0.05 --deff 2
"""

from __future__ import annotations

import functools
import re
import sys
import warnings
from pathlib import Path

import click

from harvest._errors import DataError, HarvestWarning
from harvest._options import (
    ADJUST,
    CALIBRATION_METHODS,
    CHISQ_STATISTICS,
    COMPARE_MEASURES,
    GLM_FAMILIES,
    LONELY_PSU,
    NA_POLICY,
    PROPORTION_CI,
    QRULES,
    QUANTILE_INTERVALS,
    QUANTILE_REPLICATE_INTERVALS,
    STATISTICS,
    SUPPLIED_METHODS,
)
from harvest.instruments import INSTRUMENTS as _INSTRUMENT_COLUMNS

INSTRUMENTS = tuple(_INSTRUMENT_COLUMNS)
#: What the command being run has read: the file (named in every error) and, once rows
#: are left out (visits not completed), the file row of each remaining row.
_STATE: dict = {"file": None, "rows": None}
_DESIGN_DEFAULTS = {"strata": "stratum", "psu": "district", "weights": "weight",
                    "fpc": "n_districts"}


class HarvestCLIError(click.ClickException):
    """A problem the user can fix (bad data, bad option, missing file): exit code 2."""

    exit_code = 2


def _friendly(func):
    """Turn the package's errors into a short message and exit code 2 (no traceback),
    and its warnings into ``warning: ...`` lines on stderr."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        caught = []
        _STATE.update(file=None, rows=None)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", HarvestWarning)
                return _call(func, args, kwargs)
        finally:
            # the package's warnings as one line each on stderr (also before an error);
            # one given by many estimates (a lonely stratum) is printed once
            seen = set()
            for w in caught:
                if issubclass(w.category, HarvestWarning):
                    text = str(w.message)
                    if _ROWS.search(text):      # row numbers of the file, as in errors
                        text = _for_the_cli(text)
                    if text not in seen:
                        seen.add(text)
                        _note(f"warning: {text}")
                else:  # not ours: hand it on unchanged
                    warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)

    return wrapper


def _call(func, args, kwargs):
    """``func(*args, **kwargs)`` with the package's errors as short CLI messages."""
    try:
        return func(*args, **kwargs)
    except DataError as err:
        text = str(err).replace(
            "The full list is in the error's `problems` attribute.",
            "`harvest validate FILE --problems problems.xlsx` writes the full list.")
        raise HarvestCLIError(_for_the_cli(text, data=True)) from None
    except FileNotFoundError as err:
        raise HarvestCLIError(f"file not found: {err}") from None
    except (ValueError, OSError, KeyError) as err:
        raise HarvestCLIError(_for_the_cli(str(err))) from None


#: Python arguments named in the package's messages, and the CLI options that set them.
_OPTION_OF = {"na": "--na", "lonely_psu": "--lonely-psu", "ci": "--ci", "level": "--level",
              "weights": "--weights", "strata": "--strata", "psu": "--psu", "fpc": "--fpc",
              "by": "--by", "variables": "--indicator", "measure": "--measure",
              "adjust": "--adjust", "baseline": "--baseline", "moe": "--moe",
              "deff": "--deff", "p": "--p", "sheet": "--sheet", "encoding": "--encoding",
              "replicate_weights": "--replicate-weights", "method": "--replicate-method",
              "rho": "--rho", "scale": "--scale", "instrument": "--instrument"}
_ROWS = re.compile(r"\b(rows?) (\d+(?:, \d+)*)")


def _for_the_cli(text: str, data: bool = False) -> str:
    """A package message in the command line's terms: the file named first, row numbers
    of the file (not of the rows left after filtering), options instead of keywords."""
    rows = _STATE["rows"]

    def file_rows(m):
        nums = [int(x) for x in m.group(2).split(", ")]
        if rows is not None:
            nums = [int(rows[i]) if 0 <= i < len(rows) else i for i in nums]
        return f"file {m.group(1)} " + ", ".join(map(str, nums))

    text, n_rows = _ROWS.subn(file_rows, text)
    # keywords: lonely_psu='remove' -> --lonely-psu remove; `na` -> --na
    text = re.sub(r"\b(\w+)=(['\"])([^'\"]*)\2",
                  lambda m: (f"{_OPTION_OF[m.group(1)]} {m.group(3)}"
                             if m.group(1) in _OPTION_OF else m.group(0)), text)
    text = re.sub(r"`(\w+)`", lambda m: _OPTION_OF.get(m.group(1), m.group(0)), text)
    text = re.sub(r"\s*\(in Python: [^)]*\)", "", text)
    text = text.replace("leave those rows out with `subset`", "delete those rows from the file")
    text = text.replace("`design.subset`", "deleting those rows from the file")
    text = text.replace("(or sheet= in Python)", "")
    file = _STATE["file"]
    if data:
        where = f" in {file.name}" if file is not None else ""
        text = f"the data need fixing{where}.\n{text}"
    elif file is not None and file.name not in text:
        text = f"{file.name}: {text}"
    if n_rows:
        text += ("\nFile rows are counted from 0, the first row after the header (the "
                 "numbering of `harvest validate`).")
    return text


def _note(text: str) -> None:
    click.echo(text, err=True)


# ----------------------------------------------------------------------------- reading


def _read(path: Path, instrument: str | None, sheet=0, encoding=None, codes=None, keep=None):
    """Read a file once; validate it when it is (or is declared as) a field instrument.

    Returns the frame and the instrument (None for a table of another kind). The file
    is named in any error that follows. ``keep``: the columns the command names (see
    :func:`_needed`), so that a wide CSV file is parsed for those only.
    """
    from harvest import io

    _STATE.update(file=Path(path), rows=None)
    return io.read_any(path, instrument, sheet=sheet, encoding=encoding, codes=codes,
                       keep=keep)


def _needed(*names, replicate_weights=None):
    """``(names, prefixes)`` of the columns a command reads: those it names, the standard
    design columns, ``year`` and ``visit_status``, and the replicate weights."""
    flat = [n for group in names for n in ([group] if isinstance(group, str) else group or ())
            if n]
    flat += [*_DESIGN_DEFAULTS.values(), "year", "visit_status"]
    prefixes = []
    if replicate_weights:
        parts = [c.strip() for c in replicate_weights.split(",") if c.strip()]
        if len(parts) > 1:
            flat += parts
        else:
            prefixes = parts
    return flat, prefixes


def _weighting_columns(weighting):
    """The columns the weighting options use (margins, nonresponse), for ``_needed``."""
    if weighting is None:
        return []
    cols = [weighting.nonresponse, *weighting.nonresponse_by]
    if weighting.margins is not None and "column" in weighting.margins.columns:
        cols += [str(c) for c in weighting.margins["column"].dropna().unique()]
    return [c for c in cols if c]


def _completed(df, instrument):
    """Keep completed visits; say how many were left out. Messages keep naming the
    rows by their file row."""
    if "visit_status" not in df.columns:
        return df
    status = df["visit_status"].astype("string").fillna("completed")
    keep = (status == "completed").to_numpy()
    if not keep.all():
        counts = status[~keep].value_counts().to_dict()
        shown = ", ".join(f"{v} {k}" for k, v in counts.items())
        _note(f"note: {int((~keep).sum())} {instrument or ''} visit(s) not completed "
              f"({shown}) are left out of the estimates.")
        import numpy as np

        _STATE["rows"] = np.flatnonzero(keep)
    return df[keep]


def _check_out(out) -> None:
    """Refuse an --out file of an unknown kind before anything is computed."""
    if out is not None:
        from harvest.tables import table_format

        try:
            table_format(out)
        except ValueError as err:
            raise click.BadParameter(str(err), param_hint="'--out'") from None


def _by_columns(by) -> list:
    """The --by columns, each once (``--by region --by region`` is ``--by region``)."""
    unique = list(dict.fromkeys(by))
    if len(unique) < len(by):
        _note(f"note: --by {' --by '.join(unique)} (a column given twice counts once).")
    return unique


def _pooled_years(df, by, between=None) -> None:
    """Warn when a year column holding several years is neither in --by nor compared."""
    if "year" not in df.columns or "year" in by or between == "year":
        return
    years = sorted(map(str, df["year"].dropna().unique()))
    if len(years) > 1:
        warnings.warn(
            f"the file holds {len(years)} years ({', '.join(years)}) and --by does not "
            "include year, so the estimates pool them as one sample; add --by year for "
            "one estimate per year.", HarvestWarning, stacklevel=2)


def _design(df, *, strata, psu, weights, fpc, lonely_psu, no_design, replicate_weights=None,
            replicate_method=None, rho=None, scale=None, mse=False):
    """Build the design: a ReplicateDesign when replicate weights are named, else a
    SurveyDesign (with the standard design columns when none are given)."""
    from harvest.design import SurveyDesign

    if replicate_weights is not None:
        return _replicate_design(df, weights=weights, strata=strata, psu=psu, fpc=fpc,
                                 no_design=no_design, replicate_weights=replicate_weights,
                                 method=replicate_method, rho=rho, scale=scale, mse=mse)
    extra = {"--replicate-method": replicate_method, "--rho": rho, "--scale": scale}
    extra = [k for k, v in extra.items() if v is not None] + (["--mse"] if mse else [])
    if extra:
        raise click.UsageError(f"{', '.join(extra)} only apply with --replicate-weights.")
    given = {"strata": strata, "psu": psu, "weights": weights, "fpc": fpc}
    if not no_design:
        # an option left out takes the standard design column when the file has it, so
        # naming one column never drops the others (e.g. the fpc) without a word
        found = {k: c for k, c in _DESIGN_DEFAULTS.items()
                 if given[k] is None and c in df.columns and c not in given.values()}
        given.update(found)
        if found:
            shown = " ".join(f"--{k} {c}" for k, c in found.items())
            _note(f"note: using the design columns found in the file ({shown}); "
                  "pass --no-design to use only the options given.")
    _check_columns(df, given)
    used = " ".join(f"--{k} {c}" for k, c in given.items() if c is not None)
    _note(f"design: {used or 'simple random sample, equal weights'} "
          f"--lonely-psu {lonely_psu}")
    return SurveyDesign(df, lonely_psu=lonely_psu, **given)


def _check_columns(df, given: dict) -> None:
    for k, c in given.items():
        if c is not None and c not in df.columns:
            raise DataError(f"the design column {c!r} (--{k}) is not in the file; its columns "
                            f"are: {', '.join(map(str, df.columns))}.")


def _replicate_design(df, *, weights, strata, psu, fpc, no_design, replicate_weights, method,
                      rho, scale, mse):
    """A ReplicateDesign (R ``svrepdesign``) from the replicate-weight options."""
    from harvest.replicate_design import ReplicateDesign

    clash = [f"--{k}" for k, v in (("strata", strata), ("psu", psu), ("fpc", fpc)) if v]
    if clash:
        raise click.UsageError(f"{', '.join(clash)} cannot be combined with "
                               "--replicate-weights: the replicate weights carry the design.")
    if method is None:
        raise click.UsageError("--replicate-weights needs --replicate-method (how the "
                               "replicates were made: bootstrap, jk1, jkn, brr, fay or other).")
    if weights is None and not no_design and "weight" in df.columns:
        # as on the Taylor path: the standard full-sample weight column when the file has it
        weights = "weight"
        _note("note: using the full-sample weights in the column 'weight' found in the file "
              "(--weights weight); pass --no-design to use only the options given.")
    _check_columns(df, {"weights": weights})
    # a prefix, or a list of columns (the design names any that are missing)
    columns = [c.strip() for c in replicate_weights.split(",") if c.strip()]
    replicate = columns if len(columns) > 1 else replicate_weights.strip()
    design = ReplicateDesign(df, weights=weights, replicate_weights=replicate, method=method,
                             rho=rho, scale=scale, mse=mse)
    used = [f"--replicate-weights {replicate_weights.strip()} "
            f"({design.n_replicates} columns)", f"--replicate-method {method}",
            f"--weights {weights}" if weights is not None else "--weights (equal)",
            f"--scale {design.scale:.6g}"]
    if method == "fay":
        used.append(f"--rho {design.rho:g}")
    if design.mse:
        used.append("--mse")
    _note(f"design: {' '.join(used)}")
    return design


# ----------------------------------------------------------------------------- writing


def _emit(tidy, text, notes, out: Path | None, fmt: str) -> None:
    """Write ``tidy`` (CSV/XLSX) or ``text`` (Markdown) to ``out``, or print to stdout.

    Every file and every table on screen goes through `harvest.writers` (escaping)."""
    from harvest.writers import csv_text, table_format, to_markdown, write_table

    if out is not None:
        kind = table_format(out)
        if kind == "markdown":
            write_table(text, out, notes=notes)
        else:
            write_table(tidy, out, notes=notes if kind == "xlsx" else None)
        _note(f"wrote {out}")
        return
    if fmt == "csv":
        click.echo(csv_text(tidy), nl=False)
    else:
        click.echo(to_markdown(text))
        for n in notes:
            click.echo(f"\n{n}" if n is notes[0] else n)


_out_option = click.option(
    "--out", "-o", type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the table to this file instead of the screen. The suffix picks the format: "
         ".csv or .xlsx (unrounded numbers, small cells blanked) or .md (the formatted "
         "table with its footnotes).")
_format_option = click.option(
    "--format", "fmt", type=click.Choice(["markdown", "csv"]), default="markdown",
    show_default=True,
    help="What to print when there is no --out: a formatted Markdown table, or the "
         "unrounded table as CSV.")
def _disclosure_options(func):
    """--min-n, --min-each and --allow-weak-disclosure (harvest.disclosure)."""
    options = [
        click.option("--min-n", type=click.IntRange(min=0), default=10, show_default=True,
                     help="Disclosure control: withhold every cell resting on fewer "
                          "observations (rows) than this, and the cells that would give it "
                          "back by subtraction. Below 5 needs --allow-weak-disclosure."),
        click.option("--min-each", type=click.IntRange(min=0), default=3, show_default=True,
                     help="Attribute rule: withhold a share of a 0/1 answer when fewer "
                          "respondents than this gave either answer (all yes or all no "
                          "would disclose everyone's answer). Below 3 needs "
                          "--allow-weak-disclosure."),
        click.option("--allow-weak-disclosure", is_flag=True,
                     help="Accept --min-n below 5 or --min-each below 3 (0 and 0 turn "
                          "disclosure control off): for internal work only; the output "
                          "carries a warning."),
    ]
    for opt in reversed(options):
        func = opt(func)
    return func


def _policy(min_n, min_each, allow_weak):
    """The DisclosurePolicy of the options; weak settings warn (or stop without the flag)."""
    from harvest.disclosure import DisclosurePolicy

    try:
        policy = DisclosurePolicy(min_n=min_n, min_each=min_each, allow_weak=allow_weak)
    except ValueError as err:
        raise click.UsageError(str(err).replace("allow_weak=True (CLI: "
                                                "--allow-weak-disclosure)",
                                                "--allow-weak-disclosure")) from None
    policy.warn()
    return policy


_min_n_option = _disclosure_options
_seed_option = click.option(
    "--seed", type=int, default=2024, show_default=True,
    help="Seed of every random step (the Bayesian fit), recorded in the report's methods: "
         "the same files and seed give the same report.")
_reliability_option = click.option(
    "--reliability", type=click.Choice(["flag", "suppress", "none"]), default="flag",
    show_default=True,
    help="Proportions that fail the NCHS data presentation standards (effective sample "
         "size below 30 or a too-wide interval): flag them with a footnote, suppress them, "
         "or do not check.")


_bayes_option = click.option(
    "--bayes/--no-bayes", default=False, show_default=True,
    help="Also fit the Bayesian small-area model to child labour (farm data): a few "
         "seconds, about half a minute the first time on a machine (compilation).")


def _file_argument(name="file"):
    return click.argument(name, type=click.Path(exists=True, dir_okay=False, path_type=Path))


_encoding_option = click.option(
    "--encoding", default=None, metavar="NAME",
    help="Text encoding of a CSV file (e.g. utf-8, cp1251, latin-1). Default: detected.")


def _design_options(func):
    options = [
        click.option("--strata", default=None, metavar="COLUMN",
                     help="Column of design strata (e.g. stratum: year and region)."),
        click.option("--psu", default=None, metavar="COLUMN",
                     help="Column of the first-stage clusters (PSUs), e.g. district."),
        click.option("--weights", default=None, metavar="COLUMN",
                     help="Column of sampling weights; equal weights when left out."),
        click.option("--fpc", default=None, metavar="COLUMN",
                     help="Column of the number of PSUs in the stratum's population "
                          "(or the sampling fraction), for the finite population "
                          "correction."),
        click.option("--lonely-psu", type=click.Choice(LONELY_PSU),
                     default="fail", show_default=True,
                     help="What to do with a stratum holding a single PSU (as R survey)."),
        click.option("--no-design", is_flag=True,
                     help="Ignore the design columns found in the file (stratum, "
                          "district, weight, n_districts): use only the design options "
                          "given; with none, a simple random sample with equal weights."),
        click.option("--replicate-weights", default=None, metavar="PREFIX|COLUMNS",
                     help="Use replicate weights for the variances instead of strata and "
                          "PSUs: a prefix (every column named PREFIX followed by digits, "
                          "e.g. repw for repw1..repw80) or a comma-separated list of "
                          "columns. Needs --replicate-method."),
        click.option("--replicate-method",
                     type=click.Choice(SUPPLIED_METHODS),
                     default=None,
                     help="How the replicate weights were made (as R svrepdesign type=); "
                          "sets the variance multipliers."),
        click.option("--rho", type=click.FloatRange(0, 1, max_open=True), default=None,
                     help="Fay's coefficient (with --replicate-method fay)."),
        click.option("--scale", type=click.FloatRange(min=0, min_open=True), default=None,
                     help="Overall variance multiplier of the replicates (overrides the "
                          "method's default)."),
        click.option("--mse", is_flag=True,
                     help="Centre the replicate variance on the full-sample estimate "
                          "(as R mse=TRUE) instead of the replicates' mean."),
        click.option("--instrument", type=click.Choice(INSTRUMENTS), default=None,
                     help="Which field instrument the file holds (checked against its "
                          "rules). Guessed from the identifier column when left out; "
                          "other tables are read as they are."),
        click.option("--sheet", default="0", show_default=True,
                     help="Excel sheet (name or 0-based number)."),
        _encoding_option,
    ]
    for opt in reversed(options):
        func = opt(func)
    return func


def _sheet(value):
    return int(value) if str(value).isdigit() else value


def _weighting_options(func):
    """--calibrate, --calibrate-method, --calibrate-bounds, --nonresponse, --nonresponse-by."""
    options = [
        click.option("--calibrate", "calibrate_file", default=None,
                     type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="Calibrate the weights to population figures in this file "
                          "(CSV or XLSX; columns column, level, total, optionally year "
                          "and instrument): one row per level count, or a row with an "
                          "empty level for the total of a numeric column."),
        click.option("--calibrate-method", type=click.Choice(CALIBRATION_METHODS),
                     default="linear", show_default=True,
                     help="Calibration function (as R calibrate's calfun): linear "
                          "(GREG), raking (always positive weights) or logit (needs "
                          "--calibrate-bounds)."),
        click.option("--calibrate-bounds", type=float, nargs=2, default=None,
                     metavar="LO HI",
                     help="Keep every weight between LO and HI times its design weight "
                          "(LO < 1 < HI), e.g. 0.5 3."),
        click.option("--nonresponse", default=None, metavar="COLUMN",
                     help="0/1 column, 1 for a respondent: respondents carry the weight "
                          "of the non-respondents of their cell (rows of every visit "
                          "status are kept for this)."),
        click.option("--nonresponse-by", multiple=True, metavar="COLUMN",
                     help="The nonresponse adjustment cells (e.g. region, or a farm-size "
                          "class). Repeat to cross columns. Default: the whole sample."),
    ]
    for opt in reversed(options):
        func = opt(func)
    return func


def _weighting(calibrate_file, calibrate_method, calibrate_bounds, nonresponse,
               nonresponse_by):
    """The Weighting of the options (the margins file read and checked), or None."""
    from harvest.weighting_spec import Weighting, read_margins

    if nonresponse_by and nonresponse is None:
        raise click.UsageError("--nonresponse-by needs --nonresponse COLUMN.")
    if calibrate_file is None and (calibrate_bounds or calibrate_method != "linear"):
        raise click.UsageError("--calibrate-method and --calibrate-bounds need "
                               "--calibrate FILE.")
    if calibrate_method == "logit" and not calibrate_bounds:
        raise click.UsageError("--calibrate-method logit needs --calibrate-bounds LO HI.")
    if calibrate_bounds and not calibrate_bounds[0] < 1 < calibrate_bounds[1]:
        raise click.BadParameter(f"need LO < 1 < HI; got {calibrate_bounds[0]:g} "
                                 f"{calibrate_bounds[1]:g}.", param_hint="'--calibrate-bounds'")
    if calibrate_file is None and nonresponse is None:
        return None
    margins = None
    if calibrate_file is not None:
        _STATE.update(file=Path(calibrate_file), rows=None)
        margins = read_margins(calibrate_file)
        _STATE.update(file=None)
    return Weighting(margins=margins, source=Path(calibrate_file).name if calibrate_file
                     else "margins", method=calibrate_method,
                     bounds=tuple(calibrate_bounds) if calibrate_bounds else None,
                     nonresponse=nonresponse, nonresponse_by=list(nonresponse_by))


def _file_design(file, instrument, sheet, encoding, **options):
    """The completed visits of a file and the design the options describe (``model``,
    ``test``: commands without weighting options)."""
    df, instrument = _read(file, instrument, _sheet(sheet), encoding)
    df = _completed(df, instrument)
    return df, _design(df, **options)


def _weighting_frame(df, instrument, weighting):
    """Completed visits (all of them with --nonresponse) and the frame and margins the
    weighting needs (year-crossed margin columns added to the command's own copy)."""
    from harvest.weighting_spec import check_respondents, prepare

    if weighting is not None and weighting.nonresponse is not None:
        n_out = check_respondents(df, weighting.nonresponse)
        if n_out:
            _note(f"note: {n_out} visit(s) not completed stay in the design as "
                  f"non-respondents (--nonresponse {weighting.nonresponse}), with weight 0.")
    else:
        df = _completed(df, instrument)
    if weighting is not None and instrument is not None:
        weighting = weighting.for_instrument(instrument)
    return prepare(df, weighting)


def _na_for(df, indicators, weighting, na):
    from harvest.weighting_spec import na_policy

    return na_policy(df, indicators, weighting, na)


def _weighted(design, weighting, margins):
    """The design weighted as the options say, with a line saying how."""
    from harvest.weighting_spec import apply_weighting, weighting_summary

    if weighting is None:
        return design
    design = apply_weighting(design, weighting, margins)
    _note(f"weighting: {weighting_summary(design)}")
    return design


# ----------------------------------------------------------------------------- commands


@click.group(context_settings={"help_option_names": ["-h", "--help"],
                               "max_content_width": 100})
@click.version_option(package_name="harvest", prog_name="harvest")
def main():
    """Estimates of child labour and forced labour in the cotton harvest from field
    observations, with intervals that account for the survey design.

    Start with `harvest demo` (writes report.html from the bundled synthetic data), then
    `harvest validate` your own files. Run `harvest COMMAND --help` for each command.
    """


@main.command()
@click.option("--out", "-o", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              default=Path("report.html"), show_default=True,
              help="Where to write the HTML report.")
@_min_n_option
@_reliability_option
@_bayes_option
@_seed_option
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@_friendly
def demo(out, min_n, min_each, allow_weak_disclosure, reliability, bayes, seed, quiet):
    """Run the whole analysis on the bundled synthetic 2023-2024 data and write a report.

    The report (one HTML file, open it in any web browser) shows what was observed, the
    indicators by region with their intervals, the change since 2023, figures and the
    methods. The data are synthetic: made up to look like a real mission.
    """
    from harvest.report import demo as run_demo

    policy = _policy(min_n, min_each, allow_weak_disclosure)
    path = run_demo(out, bayes=bayes, progress=not quiet, policy=policy, rng=seed,
                    reliability=None if reliability == "none" else reliability)
    size = path.stat().st_size / 1024
    click.echo(f"Wrote the report to {path.resolve()} ({size:.0f} KB). "
               "Open it in a web browser.")


@main.command()
@_file_argument()
@click.option("--instrument", type=click.Choice(INSTRUMENTS), default=None,
              help="Which field instrument the file holds; guessed from the identifier "
                   "column (farm_id, picker_id, employee_id, institution_id) when left out.")
@click.option("--sheet", default="0", show_default=True,
              help="Excel sheet (name or 0-based number).")
@_encoding_option
@click.option("--problems", "problems_out",
              type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Also write every problem found (row, column, value, problem) to this "
                   "file (.csv, .xlsx or .md).")
@_friendly
def validate(file, instrument, sheet, encoding, problems_out):
    """Check a field-data file against its instrument's rules.

    Lists every problem at once (missing columns, unknown codes, values out of range,
    inconsistent answers) with the rows to fix, and exits with code 2 if there is any.
    Rows are numbered from 0, the first data row after the header.
    """
    from harvest import instruments, io
    from harvest.writers import write_table

    if problems_out is not None:
        _check_out(problems_out)
    _STATE.update(file=Path(file), rows=None)
    given = instrument
    raw, instrument = io._read_table(file, instrument, sheet=_sheet(sheet), encoding=encoding,
                                     detect=True)
    if instrument is None:
        instruments.detect_instrument(raw)  # raises, naming the identifier columns
    if given is None:
        _note(f"note: read as the `{instrument}` instrument (use --instrument to change).")
    df = io.collapse_multi(raw, instrument)
    found = instruments.problems(df, instrument)
    if len(found):
        if problems_out is not None:
            write_table(found, problems_out)
            _note(f"wrote the {len(found)} problem(s) to {problems_out}")
        raise DataError(instruments._describe(found, instrument), problems=found)
    click.echo(f"{file.name}: " + instruments.summary_line(
        instruments.coerce(df, instrument)))


def _estimate_quantiles(design, indicators, by, quantiles, interval, qrule, level, na,
                        policy, out, fmt):
    """``harvest estimate --statistic quantile``: the quantile table, protected as any."""
    from harvest import disclosure
    from harvest.tables import publication_table

    try:
        q = [float(v) for item in (quantiles or ("0.5",)) for v in item.split(",") if v]
    except ValueError as error:
        raise click.BadParameter(f"--q takes probabilities such as 0.5 ({error}).") from None
    table = design.quantile(indicators, q=q, by=by, interval=interval, qrule=qrule,
                            level=level, na=na)
    # the one disclosure policy of every table; amounts have no 0/1 answer (n_yes unknown:
    # no attribute rule, and a quantile of 0 is not an all-no share)
    tidy = disclosure.protect(table.assign(n_yes=float("nan")), policy).drop(columns="n_yes")
    shown = tidy.assign(indicator=[f"{name} (q={p:g})" for name, p in
                                   zip(tidy["indicator"], tidy["quantile"], strict=True)])
    text, notes = publication_table(shown.drop(columns="quantile"), percent=False,
                                    policy=policy, reliability=None)
    _emit(tidy, text, notes, out, fmt)


@main.command()
@_file_argument()
@click.option("--indicator", "-i", "indicators", multiple=True, required=False,
              metavar="COLUMN",
              help="Column to estimate (0/1 for a proportion). Repeat for several.")
@click.option("--by", "-b", multiple=True, metavar="COLUMN",
              help="Estimate within each level of this column (e.g. region). Repeat to "
                   "cross columns (--by year --by region).")
@click.option("--list-experiment", "list_count", default=None, metavar="COUNT",
              help="List experiment: the column of item counts (instead of --indicator); "
                   "needs --treatment.")
@click.option("--treatment", default=None, metavar="FORM",
              help="List experiment: the column saying which list was shown (0/1 or "
                   "short/long).")
@click.option("--control-items", "control_items", type=click.IntRange(min=1), default=None,
              metavar="J", help="List experiment: the number of control items J (counts "
                                "0..J, J+1 on the long list); the instrument's setting "
                                "list_control_items when the file is validated.")
@click.option("--statistic", type=click.Choice(STATISTICS),
              default="proportion", show_default=True,
              help="What to estimate for each indicator.")
@click.option("--ci", type=click.Choice(PROPORTION_CI),
              default="logit", show_default=True,
              help="Confidence interval method for proportions (as R svyciprop).")
@click.option("--q", "quantiles", multiple=True, metavar="P",
              help="--statistic quantile: the probability (0.5 for the median); repeat "
                   "or give a comma list (--q 0.25,0.5,0.75).")
@click.option("--interval", type=click.Choice(sorted({*QUANTILE_INTERVALS,
                                                      *QUANTILE_REPLICATE_INTERVALS})),
              default="mean", show_default=True,
              help="--statistic quantile: interval type (as R svyquantile interval.type).")
@click.option("--qrule", type=click.Choice(QRULES), default="math", show_default=True,
              help="--statistic quantile: quantile rule (as R svyquantile qrule).")
@click.option("--level", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=0.95, show_default=True, help="Confidence level.")
@click.option("--na", type=click.Choice(NA_POLICY), default="fail", show_default=True,
              help="Missing values in an indicator: stop with the rows, or leave those rows "
                   "out of that estimate.")
@_design_options
@_weighting_options
@_min_n_option
@_reliability_option
@_out_option
@_format_option
@_friendly
def estimate(file, indicators, by, list_count, treatment, control_items, statistic, ci,
             quantiles, interval, qrule, level, na, strata,
             psu, weights, fpc, lonely_psu, no_design, replicate_weights, replicate_method,
             rho, scale, mse, instrument, sheet, encoding, calibrate_file, calibrate_method,
             calibrate_bounds, nonresponse, nonresponse_by, min_n, min_each,
             allow_weak_disclosure, reliability, out, fmt):
    """Estimate indicators (shares, means or totals) with confidence intervals.

    Example: harvest estimate farms.csv --indicator child_labour --by region
    --strata stratum --psu district --weights weight
    """
    from harvest import disclosure
    from harvest.tables import nchs_reliability, publication_table

    policy = _policy(min_n, min_each, allow_weak_disclosure)
    _check_out(out)
    by = _by_columns(by)
    weighting = _weighting(calibrate_file, calibrate_method, calibrate_bounds, nonresponse,
                           nonresponse_by)
    keep = _needed(indicators, by, list_count, treatment, strata, psu, weights, fpc,
                   _weighting_columns(weighting), replicate_weights=replicate_weights)
    df, instrument = _read(file, instrument, _sheet(sheet), encoding,
                           codes={"list_control_items": control_items}
                           if control_items is not None else None, keep=keep)
    df, margins = _weighting_frame(df, instrument, weighting)
    _pooled_years(df, by)
    design = _design(df, strata=strata, psu=psu, weights=weights, fpc=fpc,
                     lonely_psu=lonely_psu, no_design=no_design,
                     replicate_weights=replicate_weights, replicate_method=replicate_method,
                     rho=rho, scale=scale, mse=mse)
    design = _weighted(design, weighting, margins)
    by = list(by) or None
    indicators = list(indicators)
    if list_count is not None:   # issue #17: list experiment (harvest.sensitive)
        if treatment is None:
            raise click.UsageError("--list-experiment needs --treatment COLUMN.")
        table = design.list_experiment(list_count, treatment=treatment, by=by, level=level,
                                       na=na, control_items=control_items)
        table["n"] = table["n_treatment"] + table["n_control"]
        # the one disclosure policy, as every other table (no 0/1 answer: no attribute rule)
        tidy = disclosure.protect(table, policy)
        tidy[["n_treatment", "n_control"]] = tidy[["n_treatment", "n_control"]].astype(
            "Float64").mask(tidy["suppressed"])
        text, notes = publication_table(tidy, percent=True, policy=policy, reliability=None)
        _emit(tidy, text, notes, out, fmt)
        return
    if not indicators:
        raise click.UsageError("give --indicator COLUMN (or --list-experiment COUNT "
                               "--treatment FORM).")
    na = _na_for(df, indicators, weighting, na)
    if statistic == "quantile":   # issue #16: quantiles (harvest.quantiles)
        _estimate_quantiles(design, indicators, by, quantiles, interval, qrule, level, na,
                            policy, out, fmt)
        return
    if quantiles:
        raise click.UsageError("--q needs --statistic quantile.")
    if statistic == "proportion":
        table = design.proportion(indicators, by=by, ci=ci, level=level, na=na)
    else:
        table = getattr(design, statistic)(indicators, by=by, level=level, na=na)
    reliability = None if reliability == "none" else reliability
    proportion = statistic == "proportion"
    # the pattern depends on the counts only: a proportion and a total table of the same
    # data withhold the same cells
    counts = disclosure.answer_counts(df, indicators, by=by, na=na)
    tidy = disclosure.protect(disclosure.with_counts(table, counts), policy)
    text, notes = publication_table(tidy, percent=proportion, policy=policy,
                                    reliability=reliability)
    tidy = tidy.drop(columns=["n_yes"])
    if proportion and reliability is not None:
        rel = nchs_reliability(table)
        tidy["nchs_flags"] = rel["nchs_flags"].where(~tidy["suppressed"], "")
        if reliability == "suppress":
            hide = ~rel["nchs_present"].to_numpy() & ~tidy["suppressed"].to_numpy()
            tidy.loc[hide, ["estimate", "se", "ci_low", "ci_high"]] = float("nan")
    _emit(tidy, text, notes, out, fmt)


@main.command()
@_file_argument()
@click.option("--indicator", "-i", "indicators", multiple=True, required=True,
              metavar="COLUMN", help="0/1 column to compare. Repeat for several.")
@click.option("--between", required=True, metavar="COLUMN",
              help="Column whose levels are compared (e.g. year).")
@click.option("--baseline", default=None, metavar="VALUE",
              help="The level every other level is compared with (e.g. 2023). Default: "
                   "every pair of levels.")
@click.option("--by", "-b", multiple=True, metavar="COLUMN",
              help="Compare within each level of this column (e.g. region).")
@click.option("--measure", type=click.Choice(COMPARE_MEASURES),
              default="difference", show_default=True,
              help="Difference (percentage points), ratio, or odds ratio.")
@click.option("--adjust", type=click.Choice([a or "none" for a in ADJUST]),
              default="holm", show_default=True,
              help="Adjustment of p-values for the number of comparisons.")
@click.option("--level", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=0.95, show_default=True, help="Confidence level.")
@click.option("--na", type=click.Choice(NA_POLICY), default="fail", show_default=True,
              help="Missing values in an indicator: stop, or leave those rows out.")
@_design_options
@_weighting_options
@_min_n_option
@_reliability_option
@_out_option
@_format_option
@_friendly
def compare(file, indicators, between, baseline, by, measure, adjust, level, na, strata, psu,
            weights, fpc, lonely_psu, no_design, replicate_weights, replicate_method, rho,
            scale, mse, instrument, sheet, encoding, calibrate_file, calibrate_method,
            calibrate_bounds, nonresponse, nonresponse_by, min_n, min_each,
            allow_weak_disclosure, reliability, out, fmt):
    """Compare indicators between groups, such as 2024 against 2023, with intervals.

    The interval and p-value of each change use the covariance between the groups from
    the survey design. Example: harvest compare farms.csv --indicator child_labour
    --between year --baseline 2023 --by region
    """
    from harvest import disclosure
    from harvest.tables import comparison_status, comparison_table

    policy = _policy(min_n, min_each, allow_weak_disclosure)
    _check_out(out)
    by = _by_columns(by)
    weighting = _weighting(calibrate_file, calibrate_method, calibrate_bounds, nonresponse,
                           nonresponse_by)
    keep = _needed(indicators, by, between, strata, psu, weights, fpc,
                   _weighting_columns(weighting), replicate_weights=replicate_weights)
    df, instrument = _read(file, instrument, _sheet(sheet), encoding, keep=keep)
    df, margins = _weighting_frame(df, instrument, weighting)
    if between not in df.columns:
        raise HarvestCLIError(
            f"{file.name}: the column {between!r} (--between) is not in the file; its "
            f"columns are: {', '.join(map(str, df.columns[:30]))}.")
    if between in by:
        raise click.BadParameter(f"{between!r} is both compared and in --by.",
                                 param_hint="'--between'")
    if baseline is not None:
        levels = df[between].dropna().unique()
        match = [v for v in levels if str(v) == str(baseline)]
        if not match:
            shown = ", ".join(sorted(map(str, levels)))
            raise click.BadParameter(
                f"{baseline!r} is not a value of the --between column {between!r} in "
                f"{file.name}; its values are: {shown}.", param_hint="'--baseline'")
        baseline = match[0]
    _pooled_years(df, by, between)
    design = _design(df, strata=strata, psu=psu, weights=weights, fpc=fpc,
                     lonely_psu=lonely_psu, no_design=no_design,
                     replicate_weights=replicate_weights, replicate_method=replicate_method,
                     rho=rho, scale=scale, mse=mse)
    design = _weighted(design, weighting, margins)
    na = _na_for(df, list(indicators), weighting, na)
    table = design.compare(list(indicators), between, baseline=baseline, by=by or None,
                           measure=measure, level=level,
                           adjust=None if adjust == "none" else adjust, na=na)
    reliability = None if reliability == "none" else reliability
    # the cells behind the comparison, protected jointly and consistently across `between`;
    # with the level estimates when flagged, for the same reliability flags as the report
    cells = disclosure.answer_counts(df, list(indicators), by=[*by, between], na=na)
    if reliability is not None and measure == "difference":
        levels = design.proportion(list(indicators), by=[*by, between], level=level, na=na)
        cells = disclosure.with_counts(levels, cells)
    cells = disclosure.protect(cells, policy, time=between)
    text, notes = comparison_table(table, estimates=cells, between=between, policy=policy,
                                   percent=measure == "difference", level=level,
                                   reliability=reliability)
    if adjust != "none" and len(table) > 1:
        notes = [*notes, f"p: adjusted for the {len(table)} comparisons ({adjust})."]
    tidy = table.copy()
    small, unreliable = comparison_status(table, cells, between=between, policy=policy,
                                          reliability=reliability)
    cols = [c for c in ("estimate_group", "estimate_baseline", "estimate", "se", "ci_low",
                        "ci_high", "p_value", "p_adjusted", "n_group", "n_baseline", "mdc")
            if c in tidy.columns]
    tidy.loc[small, cols] = float("nan")
    tidy["suppressed"] = small
    if reliability is not None:     # the flags of the printed table, in every output
        tidy["unreliable"] = unreliable
        if reliability == "suppress":   # withheld as in the printed table; counts kept
            numbers = [c for c in cols if c not in ("n_group", "n_baseline")]
            tidy.loc[unreliable, numbers] = float("nan")
    _emit(tidy, text, notes, out, fmt)


@main.command("test")
@_file_argument()
@click.option("--rows", required=True, metavar="COLUMN", help="Row variable of the table.")
@click.option("--cols", required=True, metavar="COLUMN",
              help="Column variable of the table.")
@click.option("--statistic", "test_statistic", type=click.Choice(CHISQ_STATISTICS),
              default="F", show_default=True,
              help="F: Rao-Scott second order; Chisq: first order; Wald, adjWald: Wald "
                   "tests; lincom, saddlepoint: the exact reference distribution of the "
                   "Pearson statistic (as R svychisq).")
@click.option("--na", type=click.Choice(NA_POLICY), default="fail", show_default=True,
              help="Missing values in either column: stop with the rows, or leave those "
                   "rows out of the table.")
@_design_options
@_out_option
@_format_option
@_friendly
def association_command(file, rows, cols, test_statistic, na, strata, psu, weights, fpc,
                        lonely_psu, no_design, replicate_weights, replicate_method, rho,
                        scale, mse, instrument, sheet, encoding, out, fmt):
    """Test whether two categorical columns are associated, with the survey design.

    Example: harvest test employees.csv --rows sector --cols any_consequence
    """
    _check_out(out)
    df, design = _file_design(file, instrument, sheet, encoding, strata=strata, psu=psu,
                              weights=weights, fpc=fpc, lonely_psu=lonely_psu,
                              no_design=no_design, replicate_weights=replicate_weights,
                              replicate_method=replicate_method, rho=rho, scale=scale, mse=mse)
    import pandas as pd

    tidy = design.chisq(rows, cols, statistic=test_statistic, na=na)
    r = tidy.iloc[0]
    text = pd.DataFrame({"Rows": [rows], "Columns": [cols], "Test": [test_statistic],
                         "Statistic": [f"{r['statistic']:.4g}"],
                         "df": [f"{r['df_num']:.4g}, {r['df_den']:.4g}"],
                         "p": [f"{r['p_value']:.3g}"]})
    notes = ["Test of independence with the design's covariance (R svychisq); a test "
             "statistic shows no cell of the table."]
    _emit(tidy, text, notes, out, fmt)


def _protected_model(df, formula, table, policy):
    """The coefficient table with the coefficients that would give away a withheld cell
    blanked (:func:`harvest.disclosure.withheld_terms`), and the flags."""
    import re

    import pandas as pd

    from harvest.disclosure import answer_counts, withheld_terms

    outcome, _, rhs = formula.partition("~")
    outcome = outcome.strip()
    names = dict.fromkeys(re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", rhs))
    categories = [c for c in names if c in df.columns and c != outcome and (
        not pd.api.types.is_numeric_dtype(df[c]) or f"C({c})" in rhs.replace(" ", ""))]
    data = df if outcome in df.columns else df.assign(**{outcome: 2.0})   # n only
    counts = [answer_counts(data, outcome, by=[c], na="drop") for c in categories]
    table = table.assign(indicator=outcome)
    withheld = withheld_terms(table, counts, policy)
    values = ["estimate", "se", "ci_low", "ci_high", "statistic", "p_value"]
    table.loc[withheld, values] = float("nan")
    return table.drop(columns="indicator"), withheld


@main.command()
@_file_argument()
@click.option("--formula", required=True, metavar="'Y ~ TERMS'",
              help="Model formula, e.g. \"child_labour ~ region + n_pickers\" (R's "
                   "treatment coding: the first level of a category is the reference).")
@click.option("--family", type=click.Choice(GLM_FAMILIES), default="gaussian",
              show_default=True, help="Model family, as R svyglm (quasibinomial for 0/1 "
                                      "indicators).")
@click.option("--level", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=0.95, show_default=True, help="Confidence level.")
@_design_options
@_disclosure_options
@_out_option
@_format_option
@_friendly
def model(file, formula, family, level, strata, psu, weights, fpc, lonely_psu, no_design,
          replicate_weights, replicate_method, rho, scale, mse, instrument, sheet, encoding,
          min_n, min_each, allow_weak_disclosure, out, fmt):
    """Fit a design-based regression model (R svyglm) and print its coefficients.

    Example: harvest model farms.csv --formula "child_labour ~ region + n_pickers"
    --family quasibinomial
    """
    policy = _policy(min_n, min_each, allow_weak_disclosure)
    _check_out(out)
    df, design = _file_design(file, instrument, sheet, encoding, strata=strata, psu=psu,
                              weights=weights, fpc=fpc, lonely_psu=lonely_psu,
                              no_design=no_design, replicate_weights=replicate_weights,
                              replicate_method=replicate_method, rho=rho, scale=scale, mse=mse)
    fit = design.glm(formula, family=family, level=level)
    tidy, withheld = _protected_model(df, formula, fit.table, policy)
    text = tidy.assign(**{c: tidy[c].map(lambda v: "*" if v != v else f"{v:.4g}")
                          for c in ("estimate", "se", "ci_low", "ci_high", "statistic")},
                       p_value=tidy["p_value"].map(lambda v: "*" if v != v else f"{v:.3g}"),
                       df=tidy["df"].map(lambda v: f"{v:g}")).drop(columns="level")
    notes = [f"{family} model of {formula} on {fit.n} rows; t tests and {level:.0%} "
             f"intervals on {fit.df:g} degrees of freedom (design df + 1 - coefficients)."]
    if withheld.any():
        notes.append(f"{int(withheld.sum())} coefficient(s) withheld (*): a category level "
                     "(or the reference level it is compared with) rests on too few records "
                     "for the disclosure policy.")
    hidden_terms = {t for t, w in zip(tidy["term"], withheld, strict=True) if w}
    for term in fit.terms:
        if any(t == term or t.startswith(term) for t in hidden_terms):
            continue
        test = fit.wald_test(term).iloc[0]
        if test["df_num"] > 1:
            notes.append(f"{term}: F = {test['statistic']:.4g} on ({test['df_num']:g}, "
                         f"{test['df_den']:g}) df, p = {test['p_value']:.3g} (Wald test of "
                         "all its coefficients).")
    _emit(tidy, text, notes, out, fmt)


@main.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "-o", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              default=Path("report.html"), show_default=True,
              help="Where to write the HTML report.")
@click.option("--visits", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None,
              help="Optional table of every attempted visit (year, instrument, "
                   "visit_status, interference) for the refusal and interference rates.")
@click.option("--baseline", type=int, default=None,
              help="Year to compare the latest year with (default: the year before it).")
@click.option("--level", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=0.95, show_default=True, help="Confidence level.")
@click.option("--title", default=None, help="Title of the report.")
@_min_n_option
@_reliability_option
@_bayes_option
@click.option("--who-is-most-affected", "affected", is_flag=True,
              help="Add the section 'Who is most affected': a design-based logistic model "
                   "of each indicator on the instrument's covariates (odds ratios).")
@_seed_option
@click.option("--allow-repeated-records", is_flag=True,
              help="Stack records that appear in more than one input file (same id and "
                   "year) instead of stopping; the report then says so.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--control-items", "control_items", type=click.IntRange(min=1), default=None,
              metavar="J", help="List experiment: the number of control items J of the "
                                "picker and employee tables' list (default: the instrument's "
                                "list_control_items, 4).")
@_weighting_options
@_encoding_option
@_friendly
def report(files, out, visits, baseline, level, title, min_n, min_each, allow_weak_disclosure,
           reliability, bayes, affected, seed, allow_repeated_records, quiet, control_items,
           calibrate_file, calibrate_method, calibrate_bounds, nonresponse, nonresponse_by,
           encoding):
    """Write the HTML report for one or more field-data files.

    Give each instrument's file (farms, employees, ...): the instrument is recognised
    from its identifier column. Files of the same instrument (e.g. 2023 and 2024) are
    stacked. The design columns stratum, district, weight and n_districts are used when
    present. Example: harvest report farms_2024.xlsx employees_2024.xlsx --out report.html
    """
    import pandas as pd

    from harvest.disclosure import refuse_repeated
    from harvest.io import read_table
    from harvest.report import ID_COLUMNS, build_report

    policy = _policy(min_n, min_each, allow_weak_disclosure)
    weighting = _weighting(calibrate_file, calibrate_method, calibrate_bounds, nonresponse,
                           nonresponse_by)
    frames: dict[str, list] = {}
    names: dict[str, list] = {}
    for f in files:
        df, instrument = _read(f, None, encoding=encoding,
                               codes={"list_control_items": control_items}
                               if control_items is not None else None)
        if instrument is None:
            raise DataError(
                f"{f.name}: cannot tell which instrument this file holds (no farm_id, "
                "picker_id, employee_id or institution_id column).")
        frames.setdefault(instrument, []).append(df)
        names.setdefault(instrument, []).append(f.name)
    if (weighting is not None and weighting.margins is not None and len(frames) > 1
            and "instrument" not in weighting.margins.columns):
        raise HarvestCLIError(
            f"{weighting.source} has no instrument column, but the report holds several "
            f"instruments ({', '.join(frames)}): add a column instrument saying which "
            "table each population figure is for.")
    notices = []
    for instrument, dfs in frames.items():
        rep = refuse_repeated(list(zip(names[instrument], dfs, strict=True)),
                              ID_COLUMNS[instrument], allow=allow_repeated_records)
        if len(rep):
            notices.append(f"{len(rep)} {instrument} record(s) appear in more than one input "
                           "file and were kept twice (--allow-repeated-records): counts "
                           "and estimates count them more than once.")
            _note(f"warning: {notices[-1]}")
    stacked = {k: pd.concat(v, ignore_index=True) if len(v) > 1 else v[0]
               for k, v in frames.items()}
    if visits is not None:
        _STATE.update(file=Path(visits), rows=None)     # errors name the visits file
        visits_df = read_table(visits, encoding=encoding)
    else:
        visits_df = None
    path = build_report(stacked, out, visits=visits_df, level=level, baseline=baseline,
                        policy=policy,
                        reliability=None if reliability == "none" else reliability,
                        bayes=bayes, rng=seed, title=title, sources=[f.name for f in files],
                        progress=not quiet, notices=notices, weighting=weighting,
                        affected=affected, control_items=control_items)
    click.echo(f"Wrote the report to {path.resolve()}. Open it in a web browser.")


@main.command()
@click.option("--p", "p", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              required=True, help="Expected proportion, e.g. 0.23 for 23%.")
@click.option("--moe", type=click.FloatRange(0, 1, min_open=True), required=True,
              help="Margin of error: half the width of the interval, e.g. 0.05 for +/- 5 "
                   "percentage points (relative to p with --relative).")
@click.option("--deff", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Design effect of the clustered design (e.g. 2). Or give --icc and "
                   "--cluster-size.")
@click.option("--level", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=0.95, show_default=True, help="Confidence level.")
@click.option("--relative", is_flag=True, help="--moe is relative to p (0.2 = within 20%).")
@click.option("--population", "N", type=click.FloatRange(min=1), default=None,
              help="Population size, for the finite population correction.")
@click.option("--response-rate", type=click.FloatRange(0, 1, min_open=True), default=1.0,
              show_default=True, help="Expected share of selected units observed.")
@click.option("--icc", type=click.FloatRange(0, 1), default=None,
              help="Intra-cluster correlation (with --cluster-size, instead of --deff).")
@click.option("--cluster-size", type=click.FloatRange(min=1), default=None,
              help="Units observed per cluster (e.g. farms per district).")
@_out_option
@_format_option
@_friendly
def plan(p, moe, deff, level, relative, N, response_rate, icc, cluster_size, out, fmt):
    """Sample size to estimate a proportion within a margin of error.

    Example: harvest plan --p 0.23 --moe 0.05 --deff 2
    """
    import pandas as pd

    from harvest.plan import sample_size

    _check_out(out)
    if deff is None and icc is None and cluster_size is None:
        _note("note: no --deff (or --icc and --cluster-size) given: assuming a design effect "
              "of 1, a simple random sample; a clustered design usually needs more.")
    table = sample_size(p=p, moe=moe, deff=deff, level=level, relative=relative, N=N,
                        response_rate=response_rate, icc=icc, cluster_size=cluster_size)
    row = table.iloc[0]
    steps = [("Simple random sample (n0)", row["n0"]),
             ("After the design effect", row["n_deff"]),
             ("After the finite population correction", row["n_fpc"]),
             ("After non-response", row["n_response"]),
             ("Sample size", row["n"])]
    if "clusters" in table.columns and pd.notna(row["clusters"]):
        steps.append(("Clusters to select", row["clusters"]))
    text = pd.DataFrame({"Step": [s for s, _ in steps],
                         "Units": [f"{v:,.1f}" if s != "Sample size" and
                                   s != "Clusters to select" else f"{int(v):,}"
                                   for s, v in steps]})
    notes = [f"For p = {p:g}, margin of error {row['moe_abs']:g} at {level:.0%} confidence, "
             f"design effect {row['deff']:g}."]
    _emit(table, text, notes, out, fmt)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
