"""The four field instruments, defined once as data, and their validation.

Each instrument (``farm``, ``picker``, ``employee``, ``institution``) is a tuple of
:class:`Column` definitions: name, kind, required or optional, the allowed codes or
range, and a description. Code lists (regions, districts, sectors, consequences and
the answer codes) are data too, held in a :class:`CodeLists` that a user replaces
without touching the package (another country's regions, another list of sectors).

:func:`problems` collects every problem of a frame as a tidy DataFrame;
:func:`validate` raises :class:`harvest.DataError` holding all of them at once, or
returns a new frame with the canonical dtypes. The data dictionary page
``docs/data/dictionary.md`` is written by :func:`dictionary_markdown` from the same
definitions.

Examples
--------
>>> import pandas as pd
>>> import harvest as hv
>>> farms = hv.datasets.load("farms")
>>> hv.instruments.summary(farms[farms["year"] == 2024], "farm")
'ok: 472 rows, 5 regions, 61 districts'
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np
import pandas as pd

from harvest._errors import DataError, check_frame, describe_rows

__all__ = [
    "CodeLists", "Column", "Rule", "INSTRUMENTS", "DERIVED", "TURKMENISTAN", "DESIGN_COLUMNS",
    "columns", "problems", "validate", "coerce", "summary", "multi_select_columns",
    "dictionary_markdown", "write_dictionary", "resolve_codes", "detect_instrument",
    "check_frame",
]

#: The kinds a column can have, and what each means in the data dictionary.
KINDS = {
    "int": "whole number",
    "float": "number",
    "binary": "0/1",
    "code": "one code from a list",
    "multi": "space-separated codes from a list (multi-select)",
    "text": "free text / identifier",
}


@dataclass(frozen=True)
class CodeLists:
    """The code lists the instruments refer to; replace any to suit another country.

    Parameters
    ----------
    regions : tuple of str
        Region (first-level, stratum) codes. Default: Turkmenistan's five velayats.
    districts : dict of str to tuple of str, optional
        Allowed district codes per region. ``None`` (default) accepts any non-empty
        district code, checking only that a district lies in one region per year.
    sectors : tuple of str
        Sectors of state institutions.
    consequences : tuple of str
        Negative consequences an employee or picker faces (multi-select); ``none``
        is exclusive.
    voluntary : tuple of str
        Answers to "did you take part voluntarily?".
    sex, age_groups, employer_types, recruitment, visit_status : tuple of str
        Further answer codes.
    list_forms : tuple of str
        The two forms of the list experiment: the short list, then the long list (the
        short one plus the sensitive item).
    list_control_items : int
        The number of control items of the list experiment, ``J`` (default
        `LIST_CONTROL_ITEMS`, 4): a count is checked to lie in ``0..J`` on the short
        list and ``0..J+1`` on the long one. Pass the same ``J`` as ``control_items=`` to
        ``design.list_experiment`` (CLI ``--control-items``).

    Examples
    --------
    >>> uz = TURKMENISTAN.replace(regions=("Andijan", "Bukhara", "Fergana"))
    >>> uz.regions
    ('Andijan', 'Bukhara', 'Fergana')
    """

    regions: tuple = ("Ahal", "Balkan", "Dashoguz", "Lebap", "Mary")
    districts: dict | None = None
    sectors: tuple = ("education", "health", "utilities", "other")
    consequences: tuple = (
        "wage_deduction", "bonus_loss", "reduced_hours", "dismissal", "reprimand", "other", "none",
    )
    voluntary: tuple = ("yes", "no", "dont_know")
    sex: tuple = ("female", "male")
    age_groups: tuple = ("15_17", "18_29", "30_44", "45_plus")
    employer_types: tuple = ("farmer", "state_institution", "private_company", "other")
    recruitment: tuple = ("own_initiative", "farmer", "employer", "local_official", "other")
    visit_status: tuple = ("completed", "refused", "dropped_interference")
    list_forms: tuple = ("short", "long")   # list experiment (issue #17)
    list_control_items: int = 4             # its number of control items (a setting)

    def __post_init__(self):
        _control_items(self.list_control_items)

    def replace(self, **changes) -> CodeLists:
        """Return a copy with some lists replaced (sequences become tuples)."""
        return replace(self, **_tuples(changes))


def _tuples(changes: dict) -> dict:
    names = {f.name for f in fields(CodeLists)}
    unknown = sorted(set(changes) - names)
    if unknown:
        raise ValueError(
            f"`codes` has unknown code list(s) {unknown}; known lists: {sorted(names)}."
        )
    out = {}
    for key, value in changes.items():
        if key == "list_control_items":
            out[key] = _control_items(value)
        elif key == "districts" and value is not None:
            out[key] = {str(r): tuple(str(d) for d in ds) for r, ds in dict(value).items()}
        elif value is not None:
            out[key] = tuple(str(v) for v in value)
        else:
            out[key] = value
    return out


def _control_items(value) -> int:
    """``value`` as the number of control items of a list: a whole number >= 1."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer | float) or \
            value != int(value) or value < 1:
        raise ValueError("`list_control_items` must be a whole number of control items "
                         f"(1 or more); got {value!r}.")
    return int(value)


#: Default code lists: Turkmenistan (five velayats; districts not restricted).
TURKMENISTAN = CodeLists()


def resolve_codes(codes=None) -> CodeLists:
    """Turn ``codes`` (None, a dict of lists, or a CodeLists) into a CodeLists.

    A dict replaces only the lists it names; the others keep the defaults.

    Examples
    --------
    >>> resolve_codes({"sectors": ["school", "clinic"]}).sectors
    ('school', 'clinic')
    """
    if codes is None:
        return TURKMENISTAN
    if isinstance(codes, CodeLists):
        return codes
    if isinstance(codes, dict):
        return TURKMENISTAN.replace(**codes)
    raise TypeError(f"`codes` must be None, a dict or a CodeLists; got {type(codes).__name__}.")


@dataclass(frozen=True)
class Column:
    """One column of an instrument.

    Parameters
    ----------
    name : str
        Column name in the data.
    kind : str
        One of ``int``, ``float``, ``binary``, ``code``, ``multi``, ``text``.
    description : str
        What the column holds (shown in the data dictionary).
    required : bool
        Whether the column must be present and non-missing (missing values are allowed
        on rows whose ``visit_status`` is not ``completed``, except for key columns).
    codes : str, optional
        Name of the :class:`CodeLists` field holding the allowed codes.
    low, high : float, optional
        Allowed range, inclusive.
    key : bool
        Part of the identification of a visit (never missing, even for refusals).
    """

    name: str
    kind: str
    description: str
    required: bool = True
    codes: str | None = None
    low: float | None = None
    high: float | None = None
    key: bool = False

    def allowed(self, codes: CodeLists = TURKMENISTAN) -> str:
        """The allowed values in words, for the data dictionary and error messages."""
        if self.codes is not None:
            if self.codes == "districts" and codes.districts is None:
                return "any non-empty code (one region per district)"
            values = getattr(codes, self.codes)
            if isinstance(values, dict):
                values = sorted({v for vs in values.values() for v in vs})
            return ", ".join(f"`{v}`" for v in values)
        if self.kind == "binary":
            return "0, 1"
        if self.low is not None or self.high is not None:
            lo = "" if self.low is None else _num(self.low)
            hi = "" if self.high is None else _num(self.high)
            if self.high is None:
                return f">= {lo}"
            if self.low is None:
                return f"<= {hi}"
            return f"{lo} to {hi}"
        return "any"


def _num(x):
    return str(int(x)) if float(x).is_integer() else str(x)


@dataclass(frozen=True)
class Rule:
    """A rule across columns of one row.

    ``kind="le"``: ``left <= right``. ``kind="implies"``: ``left > 0`` only where
    ``right == 1``.
    """

    kind: str
    left: str
    right: str
    message: str


def _common(id_name: str, id_text: str) -> tuple:
    return (
        Column("year", "int", "Harvest year of the observation.", low=2000, high=2100, key=True),
        Column("region", "code", "Region (velayat); the stratum of the design.",
               codes="regions", key=True),
        Column("district", "code", "District (etrap); the first-stage cluster (PSU).",
               codes="districts", key=True),
        Column(id_name, "text", id_text, key=True),
    )


_VISIT = (
    Column("round", "int", "Observation round (about ten days each).", low=1, high=4),
    Column("obs_group", "int", "Observation group that made the visit.", required=False, low=1),
    Column("visit_status", "code", "Outcome of the visit; rows other than `completed` may "
           "leave answers missing.", required=False, codes="visit_status", key=True),
    Column("interference", "binary", "Some interference (officials present, answers "
           "coached) was noted during the visit.", required=False),
)

#: Design columns any instrument may carry (all optional; used by ``SurveyDesign``).
DESIGN_COLUMNS = (
    Column("stratum", "text", "Design stratum: year and region, e.g. `2024-Ahal`, so that "
           "stacked years are independent samples.", required=False),
    Column("weight", "float", "Sampling weight: inverse of the inclusion probability "
           "(given the units that responded).", required=False, low=0.0),
    Column("n_districts", "int", "Number of districts in the stratum's population "
           "(N_h, the first-stage finite population correction).", required=False, low=1),
)

#: The four instruments.
INSTRUMENTS: dict[str, tuple[Column, ...]] = {
    "farm": (
        *_common("farm_id", "Identifier of the cotton field / farmer (unique within a year)."),
        *_VISIT,
        Column("n_pickers", "int", "Pickers present in the field at the visit.", low=0),
        Column("n_children", "int", "Children under 15 observed picking (count).", low=0),
        Column("farmer_reports_minors", "binary", "The farmer reports minors picking on "
               "the farm."),
        Column("civil_servants_on_farm", "binary", "The farmer confirms state employees "
               "(civil servants) picked on the farm."),
        Column("quota_pressure", "binary", "The farmer reports pressure or threats (such as "
               "loss of land) to meet the production quota.", required=False),
    ),
    "picker": (
        *_common("picker_id", "Identifier of the picker interview (unique within a year)."),
        Column("farm_id", "text", "Field on which the picker was interviewed."),
        Column("round", "int", "Observation round.", required=False, low=1, high=4),
        Column("sex", "code", "Sex of the picker.", codes="sex"),
        Column("age_group", "code", "Age group in years.", codes="age_groups"),
        Column("employer_type", "code", "Who employs the picker (a state institution "
               "means a mobilised civil servant).", codes="employer_types"),
        Column("rate_per_kg", "float", "Pay per kilogram picked, in manat (0 if unpaid).",
               required=False, low=0.0),
        Column("written_contract", "binary", "The picker has a written contract."),
        Column("recruited", "code", "How the picker was recruited.", codes="recruitment",
               required=False),
        Column("voluntary", "code", "Whether the picker takes part voluntarily.",
               codes="voluntary"),
        Column("consequences", "multi", "Consequences feared if not participating "
               "(space-separated codes; `none` alone if none).", codes="consequences"),
        Column("worked_alongside_children", "binary", "The picker worked alongside children "
               "under 15."),
    ),
    "employee": (
        *_common("employee_id", "Identifier of the employee interview (unique within a "
                 "year)."),
        Column("institution_id", "text", "Institution where the employee works."),
        Column("sector", "code", "Sector of the institution.", codes="sectors"),
        Column("picked", "binary", "Picked cotton in person this harvest."),
        Column("paid_replacement", "binary", "Paid for a replacement picker."),
        Column("amount_paid", "float", "Amount paid for replacement pickers, in manat "
               "(0 if none).", low=0.0),
        Column("told_to_participate", "binary", "Was told to pick or pay."),
        Column("voluntary", "code", "Whether taking part (picking or paying) was voluntary.",
               codes="voluntary", required=False),
        Column("consequences", "multi", "Consequences if the employee neither picked nor "
               "paid (space-separated codes; `none` alone if none).", codes="consequences"),
        Column("worked_alongside_children", "binary", "Worked alongside children under 15 "
               "while picking.", required=False),
    ),
    "institution": (
        *_common("institution_id", "Identifier of the state institution (unique within a "
                 "year)."),
        *_VISIT,
        Column("sector", "code", "Sector of the institution.", codes="sectors"),
        Column("received_quota", "binary", "The manager reports a quota of pickers to send."),
        Column("n_staff", "int", "Number of staff of the institution.", low=0),
        Column("n_staff_sent", "int", "Number of staff sent to pick (or made to pay).", low=0),
    ),
}

#: Cross-column rules per instrument.
RULES: dict[str, tuple[Rule, ...]] = {
    "farm": (Rule("le", "n_children", "n_pickers",
                  "more children observed picking than pickers present"),),
    "picker": (),
    "employee": (Rule("implies", "amount_paid", "paid_replacement",
                      "an amount paid although `paid_replacement` is 0"),),
    "institution": (Rule("le", "n_staff_sent", "n_staff", "more staff sent than staff"),),
}

#: Columns that :func:`harvest.indicators.add_indicators` derives, per instrument:
#: (name, kind, description). The data dictionary lists them; the indicators module
#: computes exactly these.
DERIVED: dict[str, tuple[tuple[str, str, str], ...]] = {
    "farm": (
        ("child_labour", "binary", "Evidence of child labour: `n_children > 0` or "
         "`farmer_reports_minors == 1`."),
        ("children_observed", "binary", "Children under 15 observed picking "
         "(`n_children > 0`)."),
    ),
    "picker": (
        ("any_consequence", "binary", "At least one consequence other than `none`."),
        ("n_consequences", "int", "Number of consequences other than `none`."),
        ("paid_above_1", "binary", "Paid more than 1 manat per kg (`rate_per_kg > 1`)."),
        ("no_written_contract", "binary", "`1 - written_contract`."),
        ("involuntary", "binary", "`voluntary` is in the involuntary answer set "
         "(default `no`)."),
        ("forced_labour", "binary", "ILO forced labour: involuntary AND under menace of "
         "penalty (a consequence in the menace set)."),
    ),
    "employee": (
        ("pick_or_pay", "code", "`picked`, `paid`, `both` or `neither`."),
        ("picked_or_paid", "binary", "Picked or paid (or both)."),
        ("picked_only", "binary", "Picked and did not pay."),
        ("paid_only", "binary", "Paid and did not pick."),
        ("picked_and_paid", "binary", "Both picked and paid."),
        ("any_consequence", "binary", "At least one consequence other than `none`."),
        ("n_consequences", "int", "Number of consequences other than `none`."),
        ("involuntary", "binary", "`voluntary` is in the involuntary answer set "
         "(default `no`); added when the data have `voluntary`, missing where it is."),
        ("forced_labour", "binary", "ILO forced labour: involuntary AND under menace of "
         "penalty (added when the data have `voluntary`)."),
    ),
    "institution": (
        ("share_staff_sent", "float", "`n_staff_sent / n_staff` (missing when no staff)."),
    ),
}


# -- optional indirect-question modules (issue #17; harvest.sensitive) -----------------
#: Default number of control items of the list experiment in the picker and employee
#: instruments; a team sets its own as ``codes={"list_control_items": J}``
#: (`CodeLists.list_control_items`).
LIST_CONTROL_ITEMS = CodeLists.list_control_items

#: Optional columns of the list-experiment and randomized-response modules.
SENSITIVE_MODULE: tuple[Column, ...] = (
    Column("list_form", "code", "List experiment: the list the respondent saw (`long`: "
           "the control items plus the sensitive item).",
           required=False, codes="list_forms"),
    Column("long_list", "binary", "List experiment: 1 if the respondent saw the long "
           "list (the same as `list_form == 'long'`).", required=False),
    Column("item_count", "int", "List experiment: how many items of the list apply "
           "(0 to J, J + 1 on the long list; J is the code-list setting "
           f"`list_control_items`, default {LIST_CONTROL_ITEMS}).",
           required=False, low=0),
    Column("direct_answer", "binary", "The sensitive question asked directly.",
           required=False),
    Column("rr_answer", "binary", "Randomized response: the answer given after the "
           "private device (die) was used; required on every completed interview once "
           "the module is in the data.", required=False),
)
for _name in ("picker", "employee"):
    INSTRUMENTS[_name] = INSTRUMENTS[_name] + SENSITIVE_MODULE
del _name


def _sensitive_problems(df: pd.DataFrame, instrument: str, completed, out,
                        codes: CodeLists = TURKMENISTAN) -> None:
    """Checks of the indirect-question modules that span columns: a count above the
    length of the list the respondent saw (``codes.list_control_items`` control items,
    one more on the long list), a list form that disagrees with ``long_list``, a missing
    device outcome (``rr_answer``) on a completed interview."""
    if instrument not in ("picker", "employee"):
        return
    J = codes.list_control_items
    long = None
    if "list_form" in df.columns:
        form = df["list_form"].astype("string").str.strip()
        long = (form == codes.list_forms[1]).to_numpy(dtype=bool, na_value=False)
    if "long_list" in df.columns:
        flag, _ = _to_number(df["long_list"])
        if long is not None:
            both = ~np.isnan(flag) & np.isin(flag, (0.0, 1.0))
            clash = both & (long != (flag == 1)) & ~_missing(df["list_form"])
            _record(out, np.flatnonzero(clash), "list_form, long_list",
                    df["list_form"].to_numpy(dtype=object)[clash],
                    "list form disagrees with `long_list`")
        else:
            long = flag == 1
    if "item_count" in df.columns:
        count, _ = _to_number(df["item_count"])
        over = ~np.isnan(count) & (count > J + 1)
        _record(out, np.flatnonzero(over), "item_count", df["item_count"].to_numpy(
            dtype=object)[over], f"count above the long list's {J + 1} items "
            f"(list_control_items={J})")
        if long is not None:
            short = ~np.isnan(count) & ~long & (count > J) & ~over
            _record(out, np.flatnonzero(short), "item_count", df["item_count"].to_numpy(
                dtype=object)[short], f"count above the short list's {J} items "
                f"(list_control_items={J})")
    if "rr_answer" in df.columns:
        miss = _missing(df["rr_answer"]) & completed
        _record(out, np.flatnonzero(miss), "rr_answer", [None] * int(miss.sum()),
                "missing device outcome (randomized-response answer)")


def columns(instrument: str) -> tuple[Column, ...]:
    """The columns of an instrument followed by the optional design columns.

    Examples
    --------
    >>> [c.name for c in columns("institution")][:4]
    ['year', 'region', 'district', 'institution_id']
    """
    _check_instrument(instrument)
    return (*INSTRUMENTS[instrument], *DESIGN_COLUMNS)


def _check_instrument(instrument):
    if instrument not in INSTRUMENTS:
        shown = ", ".join(repr(k) for k in INSTRUMENTS)
        raise ValueError(f"`instrument` must be one of {shown}; got {instrument!r}.")


def id_column(instrument: str) -> str:
    """The identifier column of an instrument (``farm_id``, ``picker_id``, ...)."""
    _check_instrument(instrument)
    return INSTRUMENTS[instrument][3].name


#: Identifier columns, most specific first: a picker table also has ``farm_id`` and an
#: employee table ``institution_id``, so those are recognised before farm/institution.
_DETECT_ORDER = ("picker", "employee", "institution", "farm")


def detect_instrument(df: pd.DataFrame) -> str:
    """Tell which instrument a table holds from its identifier column.

    The one detector of the package (the CLI and the report use it). Identifier
    columns are tried most specific first: ``picker_id`` (a picker table also names
    the ``farm_id``), ``employee_id`` (it also names the ``institution_id``),
    ``institution_id``, then ``farm_id``.

    Raises
    ------
    harvest.DataError
        When none of the identifier columns is present.

    Examples
    --------
    >>> import pandas as pd
    >>> detect_instrument(pd.DataFrame(columns=["year", "farm_id", "n_children"]))
    'farm'
    >>> detect_instrument(pd.DataFrame(columns=["picker_id", "farm_id"]))
    'picker'
    """
    cols = set(df.columns)
    for instrument in _DETECT_ORDER:
        if id_column(instrument) in cols:
            return instrument
    shown = ", ".join(repr(id_column(i)) for i in _DETECT_ORDER)
    raise DataError(
        f"cannot tell which instrument this table holds: none of the identifier columns "
        f"{shown} is present. Pass the instrument explicitly (--instrument on the "
        "command line)."
    )


def multi_select_columns(instrument: str) -> list[Column]:
    """The multi-select columns of an instrument."""
    return [c for c in columns(instrument) if c.kind == "multi"]


# --------------------------------------------------------------------------- checks


def _missing(s: pd.Series) -> np.ndarray:
    miss = s.isna().to_numpy()
    if s.dtype == object or isinstance(s.dtype, pd.StringDtype):
        miss = miss | (s.astype("string").str.strip() == "").fillna(True).to_numpy(bool)
    return miss


def _to_number(s: pd.Series):
    """Numeric values (float, NaN where missing) and a mask of unparseable entries."""
    if pd.api.types.is_bool_dtype(s.dtype):
        vals = s.astype("float64").to_numpy()
        return vals, np.zeros(len(s), bool)
    if pd.api.types.is_numeric_dtype(s.dtype):
        vals = s.astype("float64").to_numpy(dtype="float64", na_value=np.nan)
        return vals, np.zeros(len(s), bool)
    text = s.astype("string").str.strip()
    num = pd.to_numeric(text.replace("", pd.NA), errors="coerce")
    vals = num.astype("float64").to_numpy(dtype="float64", na_value=np.nan)
    bad = np.isnan(vals) & ~_missing(s)
    return vals, bad


def _record(out, rows, column, values, problem):
    rows = np.asarray(rows)
    if rows.size == 0:
        return
    vals = np.asarray(values, dtype=object)
    out.append(pd.DataFrame({
        "row": rows.astype("int64"),
        "column": column,
        "value": [None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
                  for v in vals],
        "problem": problem,
    }))


def problems(df: pd.DataFrame, instrument: str, *, codes=None) -> pd.DataFrame:
    """Every problem of ``df`` as one tidy table (empty when the frame is valid).

    Checks, for each column of the instrument: presence of required columns, values
    missing in required columns (allowed on rows whose ``visit_status`` is not
    ``completed``, except key columns), type (numbers, whole numbers, 0/1), range,
    codes of single and multi-select answers (``none`` must stand alone), then the
    rules across columns (e.g. more children than pickers, an amount paid without
    paying), identifiers duplicated within a year, and districts found in more than
    one region in a year. Extra columns are allowed and not checked.

    Parameters
    ----------
    df : pandas.DataFrame
        The data; never modified.
    instrument : {"farm", "picker", "employee", "institution"}
        Which instrument the rows are.
    codes : dict or CodeLists, optional
        Code lists replacing the defaults (Turkmenistan).

    Returns
    -------
    pandas.DataFrame
        Columns ``row`` (0-based position in ``df``, ``-1`` for a whole-column
        problem), ``column``, ``value`` (as text, None when missing) and ``problem``.

    Examples
    --------
    >>> import pandas as pd
    >>> bad = pd.DataFrame({"year": [2024], "region": ["Ahall"]})
    >>> p = problems(bad, "institution")
    >>> p.loc[p["column"] == "region", "problem"].iloc[0]
    "unknown code; allowed: 'Ahal', 'Balkan', 'Dashoguz', 'Lebap', 'Mary'"
    """
    _check_instrument(instrument)
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"`df` must be a pandas DataFrame; got {type(df).__name__}.")
    check_frame(df, "df")
    codes = resolve_codes(codes)
    out: list[pd.DataFrame] = []
    n = len(df)
    if n == 0:
        _record(out, [-1], "(all)", [None], "no data rows (only a header): nothing to estimate")
    completed = np.ones(n, bool)
    if "visit_status" in df.columns:
        status = df["visit_status"].astype("string")
        completed = (status.isna() | (status == "completed")).to_numpy(bool)
    numbers: dict[str, np.ndarray] = {}
    for col in columns(instrument):
        if col.name not in df.columns:
            if col.required:
                _record(out, [-1], col.name, [None], "required column is missing")
            continue
        s = df[col.name]
        miss = _missing(s)
        if col.required:
            need = np.ones(n, bool) if col.key else completed
            _record(out, np.flatnonzero(miss & need), col.name, [None] * int((miss & need).sum()),
                    "missing value in a required column")
        elif col in DESIGN_COLUMNS and (miss & completed).any():
            # the design refuses a missing weight, stratum or fpc on a row it uses
            bad = miss & completed
            _record(out, np.flatnonzero(bad), col.name, [None] * int(bad.sum()),
                    "missing value in a design column (the estimates need it on every "
                    "completed visit; a truncated last row?)")
        raw = s.to_numpy(dtype=object)
        if col.kind in ("int", "float", "binary"):
            vals, bad = _to_number(s)
            _record(out, np.flatnonzero(bad), col.name, raw[bad],
                    f"not a number (expected {KINDS[col.kind]})")
            ok = ~np.isnan(vals)
            if col.kind in ("int", "binary"):
                frac = ok & (vals != np.round(vals))
                _record(out, np.flatnonzero(frac), col.name, raw[frac], "not a whole number")
            if col.kind == "binary":
                b = ok & ~np.isin(vals, (0.0, 1.0))
                _record(out, np.flatnonzero(b), col.name, raw[b], "must be 0 or 1")
            if col.low is not None:
                b = ok & (vals < col.low)
                _record(out, np.flatnonzero(b), col.name, raw[b],
                        f"below the allowed minimum {_num(col.low)}")
            if col.high is not None:
                b = ok & (vals > col.high)
                _record(out, np.flatnonzero(b), col.name, raw[b],
                        f"above the allowed maximum {_num(col.high)}")
            if col.name == "weight":
                b = ok & (vals == 0)
                _record(out, np.flatnonzero(b), col.name, raw[b], "weight must be positive")
            numbers[col.name] = np.where(bad, np.nan, vals)
        elif col.kind == "code":
            _check_codes(out, s, miss, col, codes)
        elif col.kind == "multi":
            _check_multi(out, s, miss, col, codes)
    for rule in RULES[instrument]:
        if rule.left in numbers and rule.right in numbers:
            a, b = numbers[rule.left], numbers[rule.right]
            if rule.kind == "le":
                bad = a > b
                shown = [f"{_num(x)} > {_num(y)}" for x, y in zip(a[bad], b[bad], strict=True)]
            else:
                bad = (a > 0) & (b != 1) & ~np.isnan(b)
                shown = [f"{_num(x)} with {rule.right} = {_num(y)}"
                         for x, y in zip(a[bad], b[bad], strict=True)]
            _record(out, np.flatnonzero(bad), f"{rule.left}, {rule.right}", shown, rule.message)
    _sensitive_problems(df, instrument, completed, out, codes)   # issue #17
    idc = id_column(instrument)
    if idc in df.columns and "year" in df.columns:
        key = df[[idc, "year"]].astype("string")
        dup = key.duplicated(keep=False).to_numpy() & ~_missing(df[idc])
        _record(out, np.flatnonzero(dup), idc, df[idc].to_numpy(dtype=object)[dup],
                "identifier duplicated within the year")
    if {"district", "region", "year"} <= set(df.columns):
        k = df[["year", "district", "region"]].astype("string").reset_index(drop=True)
        # a region that is not a known code is reported once, as an unknown code
        k = k[k["region"].str.strip().isin(codes.regions).fillna(False)]
        n_regions = k.groupby(["year", "district"])["region"].transform("nunique")
        bad = np.zeros(n, bool)
        bad[np.asarray(n_regions.index)[(n_regions > 1).fillna(False).to_numpy(bool)]] = True
        _record(out, np.flatnonzero(bad), "district", df["district"].to_numpy(dtype=object)[bad],
                "district found in more than one region in the same year")
    if not out:
        return pd.DataFrame({"row": pd.Series(dtype="int64"), "column": pd.Series(dtype="str"),
                             "value": pd.Series(dtype="object"),
                             "problem": pd.Series(dtype="str")})
    res = pd.concat(out, ignore_index=True)
    return res.astype({"column": "str", "problem": "str"})


def _allowed_codes(col: Column, codes: CodeLists, region=None):
    values = getattr(codes, col.codes)
    if isinstance(values, dict):
        return values
    return tuple(values)


def _check_codes(out, s, miss, col, codes):
    text = s.astype("string").str.strip()
    raw = s.to_numpy(dtype=object)
    if col.codes == "districts":
        if codes.districts is None:
            return
        allowed = {d for ds in codes.districts.values() for d in ds}
        bad = ~miss & ~text.isin(allowed).fillna(False).to_numpy(bool)
        _record(out, np.flatnonzero(bad), col.name, raw[bad], "unknown district code")
        return
    allowed = _allowed_codes(col, codes)
    bad = ~miss & ~text.isin(allowed).fillna(False).to_numpy(bool)
    shown = ", ".join(repr(a) for a in allowed)
    _record(out, np.flatnonzero(bad), col.name, raw[bad], f"unknown code; allowed: {shown}")


def _check_multi(out, s, miss, col, codes):
    allowed = set(_allowed_codes(col, codes))
    raw = s.to_numpy(dtype=object)
    # answers take few distinct values: check each distinct answer once
    ids, uniques = pd.factorize(s.astype("string").str.strip(), use_na_sentinel=True)
    tokens = [str(u).split() for u in uniques]
    unknown = np.array([any(t not in allowed for t in ts) for ts in tokens] + [False])
    mixed = np.array([len(ts) > 1 and "none" in ts and "none" in allowed for ts in tokens]
                     + [False])
    shown = ", ".join(repr(a) for a in _allowed_codes(col, codes))
    bad = unknown[ids] & ~miss
    _record(out, np.flatnonzero(bad), col.name, raw[bad],
            f"unknown code in a multi-select answer; allowed: {shown}")
    bad = mixed[ids] & ~miss
    _record(out, np.flatnonzero(bad), col.name, raw[bad], "`none` combined with other answers")


def _describe(p: pd.DataFrame, instrument: str, limit: int = 20) -> str:
    groups = p.groupby(["column", "problem"], sort=False)
    lines = []
    for (column, problem), g in groups:
        rows = g["row"].to_numpy()
        where = "whole column" if (rows == -1).all() else describe_rows(rows)
        vals = [v for v in g["value"].tolist() if v is not None]
        shown = ""
        if vals:
            uniq = list(dict.fromkeys(vals))
            shown = "; values " + ", ".join(repr(v) for v in uniq[:5])
            shown += " ..." if len(uniq) > 5 else ""
        lines.append(f"  - `{column}`: {problem} ({where}{shown})")
    more = len(lines) - limit
    lines = lines[:limit] + ([f"  ... and {more} more kinds of problem"] if more > 0 else [])
    return (f"{len(p)} problem(s) in the `{instrument}` data:\n" + "\n".join(lines)
            + "\nThe full list is in the error's `problems` attribute.")


def validate(df: pd.DataFrame, instrument: str, *, codes=None) -> pd.DataFrame:
    """Check ``df`` against an instrument; raise with every problem, or return a clean copy.

    Parameters
    ----------
    df : pandas.DataFrame
        The data; never modified.
    instrument : {"farm", "picker", "employee", "institution"}
        Which instrument the rows are.
    codes : dict or CodeLists, optional
        Code lists replacing the defaults, e.g. ``{"regions": [...]}`` for another
        country.

    Returns
    -------
    pandas.DataFrame
        A new frame with the instrument's columns in canonical dtypes (see
        :func:`coerce`); extra columns are kept unchanged.

    Raises
    ------
    harvest.DataError
        Listing every problem found (not only the first); its ``problems`` attribute is
        the table returned by :func:`problems`.

    Examples
    --------
    >>> import pandas as pd
    >>> import harvest as hv
    >>> df = hv.datasets.load("institutions")
    >>> clean = hv.validate(df, instrument="institution")
    >>> bad = df.assign(n_staff_sent=df["n_staff"] + 1)
    >>> try:
    ...     hv.validate(bad, instrument="institution")
    ... except hv.DataError as err:
    ...     print(err.problems["problem"].iloc[0])
    more staff sent than staff
    """
    p = problems(df, instrument, codes=codes)
    if len(p):
        raise DataError(_describe(p, instrument), problems=p)
    return coerce(df, instrument)


def coerce(df: pd.DataFrame, instrument: str) -> pd.DataFrame:
    """Return a new frame with the instrument's columns in canonical dtypes.

    Whole numbers and 0/1 columns become ``int64`` (``float64`` with NaN where values
    are missing), numbers ``float64``, codes and text the pandas string dtype. The
    result depends only on the values, so a frame read back from any file format
    compares equal to the one written. Assumes the frame passed :func:`problems`.
    """
    out = df.copy()
    for col in columns(instrument):
        if col.name not in out.columns:
            continue
        s = out[col.name]
        if col.kind in ("int", "binary", "float"):
            vals, _ = _to_number(s)
            if col.kind != "float" and not np.isnan(vals).any():
                out[col.name] = pd.Series(vals.astype("int64"), index=s.index)
            else:
                out[col.name] = pd.Series(vals, index=s.index, dtype="float64")
        else:
            text = s.astype("str") if not pd.api.types.is_numeric_dtype(s.dtype) else s.astype(
                "str")
            text = text.where(~pd.Series(_missing(s), index=s.index))
            if col.kind == "multi":
                text = text.str.split().str.join(" ")
            out[col.name] = text.str.strip().astype("str")
    return out


def summary(df: pd.DataFrame, instrument: str, *, codes=None) -> str:
    """One line for the command line: ``ok: 472 rows, 5 regions, 61 districts``.

    Raises :class:`harvest.DataError` (every problem) if the frame is not valid.

    Examples
    --------
    >>> import harvest as hv
    >>> farms = hv.datasets.load("farms")
    >>> summary(farms[farms["year"] == 2024], "farm")
    'ok: 472 rows, 5 regions, 61 districts'
    """
    return summary_line(validate(df, instrument, codes=codes))


def summary_line(clean: pd.DataFrame) -> str:
    """The line of :func:`summary` for a frame already validated."""
    n_reg = clean["region"].nunique()
    n_dis = clean[["region", "district"]].drop_duplicates().shape[0]
    return f"ok: {len(clean)} rows, {n_reg} regions, {n_dis} districts"


# ------------------------------------------------------------------ data dictionary


def dictionary_markdown(codes=None) -> str:
    """The data dictionary page (Markdown) written from the instrument definitions.

    ``docs/data/dictionary.md`` is this text; a test checks it is up to date.
    """
    codes = resolve_codes(codes)
    lines = [
        "# Data dictionary",
        "",
        "<!-- Generated by `python scripts/make_data.py --docs` from "
        "`harvest/instruments.py`; do not edit by hand. -->",
        "",
        "One table per instrument, one row per unit observed. *Required* columns must be",
        "present and non-missing (on rows whose `visit_status` is not `completed` only the",
        "key columns are required). Extra columns are allowed. Code lists are data: pass",
        "`codes={\"regions\": [...]}` (or a `harvest.instruments.CodeLists`) to",
        "`hv.validate` / `hv.read` for another country. The defaults are below.",
        "",
        "Multi-select answers are one text column of space-separated codes (the ODK/Kobo",
        "export). `hv.read` also accepts one 0/1 column per option, named",
        "`<question>_<code>` or `<question>/<code>` (e.g. `consequences_wage_deduction`,",
        "`consequences/dismissal`), and turns them into the text column.",
        "",
    ]
    for name, cols in INSTRUMENTS.items():
        lines += [f"## `{name}`", "", "| column | kind | required | allowed | description |",
                  "|---|---|---|---|---|"]
        for c in cols:
            req = "key" if c.key and c.required else ("yes" if c.required else "no")
            lines.append(f"| `{c.name}` | {KINDS[c.kind]} | {req} | {c.allowed(codes)} | "
                         f"{c.description} |")
        rules = RULES[name]
        if rules:
            lines += ["", "Rules across columns: " + "; ".join(
                f"`{r.left}` {'<=' if r.kind == 'le' else '> 0 only if'} `{r.right}`"
                + ("" if r.kind == "le" else " is 1") for r in rules) + "."]
        lines += ["", f"Derived by `hv.indicators.add_indicators(df, \"{name}\")` "
                  "(added by `hv.read` and `hv.datasets.load`):", "",
                  "| column | kind | definition |", "|---|---|---|"]
        for dname, kind, desc in DERIVED[name]:
            lines.append(f"| `{dname}` | {KINDS[kind]} | {desc} |")
        lines.append("")
    lines += ["## Design columns (any instrument, optional)", "",
              "| column | kind | allowed | description |", "|---|---|---|---|"]
    for c in DESIGN_COLUMNS:
        lines.append(f"| `{c.name}` | {KINDS[c.kind]} | {c.allowed(codes)} | {c.description} |")
    lines += ["", "## Default code lists", "", "| list | codes |", "|---|---|"]
    for f in fields(CodeLists):
        value = getattr(codes, f.name)
        if isinstance(value, int):   # a setting, not a list (list_control_items)
            shown = f"`{value}` (a number, set like the lists)"
        else:
            shown = ("any (not restricted)" if value is None
                     else ", ".join(f"`{v}`" for v in value))
        lines.append(f"| `{f.name}` | {shown} |")
    lines += ["", "Identifiers must be unique within a year; a district must lie in one region",
              "in a year. Every problem is collected before `hv.DataError` is raised.", ""]
    return "\n".join(lines)


def write_dictionary(path) -> Path:
    """Write :func:`dictionary_markdown` to ``path`` and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    from harvest.writers import write_document

    return write_document(dictionary_markdown(), path)

