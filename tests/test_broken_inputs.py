"""Broken inputs get a clear error (exit 2, the file, the row, a hint), never a traceback,
and awkward but valid inputs give the same numbers as the plain file (issue #13)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import harvest as hv
from harvest.cli import main

FARMS = Path(hv.datasets.path("farms"))


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


@pytest.fixture(scope="module")
def farms_raw():
    """The bundled farm file as read, one year, region names with letters outside ASCII."""
    return pd.read_csv(FARMS, dtype=str)


def invoke(runner, *args):
    return runner.invoke(main, [str(a) for a in args])


# ------------------------------------------------------------------ the broken files
# Each builder writes a broken file into ``d`` and returns its path, the words the
# message must contain (what is wrong, the row when there is one, the hint).


def _csv_text(farms_raw, n=40):
    return farms_raw.head(n).to_csv(index=False)


def dup_weight(d, raw):
    text = _csv_text(raw).splitlines()
    text[0] = text[0].replace("n_districts", "weight")
    path = d / "dup_weight.csv"
    path.write_text("\n".join(text) + "\n")
    return path, ["'weight' appears twice", "rename"]


def dup_weight_xlsx(d, raw):
    df = raw.head(30).copy()
    df.columns = [("weight" if c == "n_districts" else c) for c in df.columns]
    path = d / "dup_weight.xlsx"
    df.to_excel(path, index=False)
    return path, ["'weight' appears twice", "rename"]


def csv_renamed_xlsx(d, raw):
    path = d / "renamed.xlsx"
    path.write_text(_csv_text(raw))
    return path, ["not a readable .xlsx", "renamed"]


def truncated_xlsx(d, raw):
    good = d / "whole.xlsx"
    raw.head(60).to_excel(good, index=False)
    path = d / "truncated.xlsx"
    path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    return path, ["not a readable .xlsx", "cut short"]


def junk_sav(d, raw):
    path = d / "junk.sav"
    path.write_bytes(b"this is not an SPSS file\x00\x01" * 20)
    return path, ["not a readable SPSS .sav file"]


def junk_dta(d, raw):
    path = d / "junk.dta"
    path.write_bytes(b"\x00\xffjunk" * 50)
    return path, ["not a readable Stata .dta file"]


def junk_parquet(d, raw):
    path = d / "junk.parquet"
    path.write_bytes(b"PAR1 not really")
    return path, ["not a readable Parquet file"]


def empty_csv(d, raw):
    path = d / "empty.csv"
    path.write_bytes(b"")
    return path, ["the file is empty"]


def blank_csv(d, raw):
    path = d / "blank.csv"
    path.write_text("\n\n  \n")
    return path, ["the file is empty"]


def header_only(d, raw):
    path = d / "header_only.csv"
    path.write_text(",".join(raw.columns) + "\n")
    return path, ["no data rows", "harvest validate"]


def truncated_last_row(d, raw):
    text = _csv_text(raw, 25)
    cut = text.rstrip("\n")
    cut = cut[: cut.rfind(",", 0, cut.rfind(",") - 1)]    # the last row loses 2 fields
    path = d / "truncated.csv"
    path.write_text(cut)
    return path, ["row 24", "looks truncated", "export it again"]


def truncated_last_row_newline(d, raw):
    lines = _csv_text(raw, 25).splitlines()
    lines[-1] = ",".join(lines[-1].split(",")[:-1])      # no n_districts on row 24
    path = d / "short_row.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, ["file row 24", "n_districts", "design column"]


def missing_weight(d, raw):
    df = raw.head(40).copy()
    df.loc[20, "weight"] = ""
    path = d / "missing_weight.csv"
    df.to_csv(path, index=False)
    return path, ["file row 20", "weight", "--problems"]


def cover_sheet(d, raw):
    path = d / "cover.xlsx"
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame({"Mission report": ["2024 harvest", "prepared by the team"]}).to_excel(
            xl, sheet_name="Cover", index=False)
        raw.head(30).to_excel(xl, sheet_name="farms", index=False)
    return path, ["'Cover'", "'farms'", "--sheet"]


def undecodable(d, raw):
    path = d / "binary.csv"
    path.write_bytes(bytes(range(256)) * 8)
    return path, ["binary.csv"]


def no_identifier(d, raw):
    path = d / "no_id.csv"
    raw.head(20).drop(columns=["farm_id"]).to_csv(path, index=False)
    return path, ["farm_id", "--instrument"]


BROKEN = [dup_weight, dup_weight_xlsx, csv_renamed_xlsx, truncated_xlsx, junk_sav, junk_dta,
          junk_parquet, empty_csv, blank_csv, header_only, truncated_last_row,
          truncated_last_row_newline, missing_weight, cover_sheet, undecodable]

COMMANDS = {
    "validate": lambda p: ["validate", p],
    "estimate": lambda p: ["estimate", p, "-i", "child_labour", "--by", "region"],
    "compare": lambda p: ["compare", p, "-i", "child_labour", "--between", "year",
                          "--by", "region"],
    "report": lambda p: ["report", p, "--out", p.with_suffix(".html"), "--quiet"],
}


def _clean_exit(result, path, words):
    message = result.output + getattr(result, "stderr", "")
    assert result.exit_code == 2, (result.exit_code, message, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in message
    assert path.name in message, message
    for w in words:
        assert w in message, (w, message)


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("build", BROKEN, ids=lambda b: b.__name__)
def test_broken_file(runner, farms_raw, tmp_path, build, command):
    path, words = build(tmp_path, farms_raw)
    result = invoke(runner, *COMMANDS[command](path))
    _clean_exit(result, path, words)


@pytest.mark.parametrize("command", ["validate", "estimate", "compare"])
def test_no_identifier_column(runner, farms_raw, tmp_path, command):
    path, words = no_identifier(tmp_path, farms_raw)
    result = invoke(runner, *COMMANDS[command](path), "--instrument", "farm")
    _clean_exit(result, path, ["farm_id", "required column is missing"])
    result = invoke(runner, "report", path, "--quiet")
    _clean_exit(result, path, ["cannot tell which instrument"])


def test_rows_are_file_rows_after_refused_visits(runner, farms_raw, tmp_path):
    """A missing answer in file row 20 is row 20, however many refusals come first."""
    df = farms_raw.head(60).copy()
    df.loc[2:6, "visit_status"] = "refused"
    df.loc[20, "quota_pressure"] = ""
    path = tmp_path / "refusals.csv"
    df.to_csv(path, index=False)
    result = invoke(runner, "estimate", path, "-i", "quota_pressure")
    _clean_exit(result, path, ["file row 20", "--na drop"])
    assert "na='drop'" not in result.output + result.stderr
    result = invoke(runner, "compare", path, "-i", "quota_pressure", "--between", "region",
                    "--baseline", "Ahal")
    _clean_exit(result, path, ["file row 20", "--na drop"])


def test_bad_options_are_refused_before_computing(runner, tmp_path):
    result = invoke(runner, "estimate", FARMS, "-i", "child_labour", "--out", tmp_path / "x.json")
    assert result.exit_code == 2 and "'--out'" in result.stderr and ".csv, .xlsx or .md" in \
        result.stderr
    assert "design:" not in result.stderr      # nothing was read or computed
    result = invoke(runner, "compare", FARMS, "-i", "child_labour", "--between", "year",
                    "--baseline", "1999")
    assert result.exit_code == 2 and "'--baseline'" in result.stderr
    assert "the data need fixing" not in result.stderr and "2023, 2024" in result.stderr


def test_by_twice_counts_once(runner):
    once = invoke(runner, "estimate", FARMS, "-i", "child_labour", "--by", "year",
                  "--format", "csv")
    twice = invoke(runner, "estimate", FARMS, "-i", "child_labour", "--by", "year", "--by",
                   "year", "--format", "csv")
    assert twice.exit_code == 0, twice.output
    assert twice.stdout == once.stdout


def test_pooled_years_warn_and_design_is_printed(runner):
    result = invoke(runner, "estimate", FARMS, "-i", "child_labour", "--by", "region")
    assert result.exit_code == 0
    assert "warning: the file holds 2 years (2023, 2024)" in result.stderr
    assert "--by year" in result.stderr
    by_year = invoke(runner, "estimate", FARMS, "-i", "child_labour", "--by", "year")
    assert "warning" not in by_year.stderr


def test_one_design_option_keeps_the_other_design_columns(runner):
    """`--psu district` alone gives the numbers of the bare command (the fpc is kept)."""
    bare = invoke(runner, "estimate", FARMS, "-i", "child_labour", "--by", "year",
                  "--format", "csv")
    one = invoke(runner, "estimate", FARMS, "-i", "child_labour", "--by", "year", "--psu",
                 "district", "--format", "csv")
    assert one.stdout == bare.stdout
    assert "design: --strata stratum --psu district --weights weight --fpc n_districts" \
        in one.stderr
    srs = invoke(runner, "estimate", FARMS, "-i", "child_labour", "--no-design", "--weights",
                 "weight", "--format", "csv")
    assert "design: --weights weight --lonely-psu fail" in srs.stderr


def test_compare_reliability_flags(runner):
    base = ["compare", FARMS, "-i", "child_labour", "--between", "year", "--baseline", "2023",
            "--by", "region"]
    flagged = invoke(runner, *base)
    none = invoke(runner, *base, "--reliability", "none")
    assert flagged.exit_code == 0 and none.exit_code == 0
    assert "NCHS" in flagged.stdout and "NCHS" not in none.stdout


def test_plan_sizes_too_large_and_deff_assumed(runner):
    for args in (["--moe", "1e-12"], ["--moe", "0.05", "--deff", "1e308"]):
        result = invoke(runner, "plan", "--p", "0.5", *args)
        assert result.exit_code == 2 and "too large" in result.stderr
        assert "-9,223" not in result.output
    result = invoke(runner, "plan", "--p", "0.23", "--moe", "0.05")
    assert result.exit_code == 0 and "assuming a design effect of 1" in result.stderr
    assert "assuming" not in invoke(runner, "plan", "--p", "0.23", "--moe", "0.05", "--deff",
                                    "2").stderr


# ------------------------------------------------------ awkward files read correctly


@pytest.mark.parametrize("encoding,sep", [("latin-1", ","), ("cp1251", ","), ("utf-16", ","),
                                          ("utf-8", ";"), ("utf-8-sig", "\t"),
                                          ("cp1251", ";")])
def test_encodings_and_separators(runner, farms_raw, tmp_path, encoding, sep):
    df = farms_raw.head(120).copy()
    # text outside ASCII in a column the estimate does not use
    df["note"] = {"latin-1": "café crème", "cp1251": "Дашогуз велаят"}.get(
        encoding, "Daşoguz çöl")
    plain = tmp_path / "plain.csv"
    df.to_csv(plain, index=False)
    odd = tmp_path / f"odd_{encoding}.csv"
    df.to_csv(odd, index=False, sep=sep, encoding=encoding)
    args = ["-i", "child_labour", "--by", "region", "--format", "csv"]
    want = invoke(runner, "estimate", plain, *args)
    got = invoke(runner, "estimate", odd, *args)
    assert got.exit_code == 0, got.stderr
    assert got.stdout == want.stdout
    back = hv.io.read_table(odd)
    assert list(back.columns) == list(df.columns)
    assert back["note"].tolist() == df["note"].tolist()


# ------------------------------------------------------------------ the Python API


def test_api_duplicate_and_multiindex_columns():
    farms = hv.datasets.load("farms")
    dup = pd.concat([farms, farms[["weight"]]], axis=1)
    with pytest.raises(hv.DataError, match="'weight' appears 2 times"):
        hv.SurveyDesign(dup, weights="weight")
    with pytest.raises(hv.DataError, match="'weight' appears 2 times"):
        hv.validate(dup, instrument="farm")
    multi = farms.copy()
    multi.columns = pd.MultiIndex.from_tuples([(c, "") for c in farms.columns])
    with pytest.raises(hv.DataError, match="MultiIndex"):
        hv.SurveyDesign(multi, weights="weight")
    with pytest.raises(hv.DataError, match="MultiIndex"):
        hv.validate(multi, instrument="farm")


def test_api_label_one_and_text_one():
    df = pd.DataFrame({"y": [0, 1, 1, 0, 1, 0], "g": [1, "1", 2, 2, 1, "1"]})
    with pytest.raises(hv.DataError, match=r"`by` column 'g' holds the label '1'.*int, str"):
        hv.SurveyDesign(df).proportion("y", by="g")


def test_api_numbers_stored_as_objects():
    farms = hv.datasets.load("farms")
    as_obj = farms.astype({"weight": object})
    a = hv.SurveyDesign(farms, weights="weight", psu="district", strata="stratum")
    b = hv.SurveyDesign(as_obj, weights="weight", psu="district", strata="stratum")
    pd.testing.assert_frame_equal(a.proportion("child_labour"), b.proportion("child_labour"))
    as_text = farms.astype({"weight": str})
    with pytest.raises(hv.DataError, match=r"found '181.333333' \(text"):
        hv.SurveyDesign(as_text, weights="weight")


def test_detector_is_one():
    from harvest import instruments, io, report

    assert report.detect_instrument is instruments.detect_instrument
    assert io.detect_instrument is instruments.detect_instrument
    assert hv.instruments.detect_instrument(pd.DataFrame(columns=["picker_id", "farm_id"])) \
        == "picker"


def test_cli_choice_lists_come_from_options():
    from harvest import _options
    from harvest.cli import compare, estimate

    def choices(command, name):
        return tuple(next(p for p in command.params if p.name == name).type.choices)

    assert choices(estimate, "lonely_psu") == _options.LONELY_PSU
    assert choices(estimate, "ci") == _options.PROPORTION_CI
    assert choices(estimate, "na") == _options.NA_POLICY
    assert choices(estimate, "statistic") == _options.STATISTICS
    assert choices(estimate, "replicate_method") == _options.SUPPLIED_METHODS
    assert choices(compare, "measure") == _options.COMPARE_MEASURES
    assert choices(compare, "adjust") == tuple(a or "none" for a in _options.ADJUST)


# ------------------------------------------- dtypes and label types (hypothesis)

_BASE = pd.DataFrame({
    "y": np.tile([0, 1, 1, 0, 1, 0, 0, 1, 1], 4),
    "x": np.tile([2.5, 1.0, 3.0, 4.0, 0.5, 2.0, 1.5, 3.5, 1.0], 4),
    "w": np.tile([1.0, 2.0, 1.5, 3.0], 9),
    "g": np.tile([1, 2, 3], 12),
    "psu": np.repeat(np.arange(12), 3),
    "h": np.repeat([0, 1], 18),
})

_CASTS = {
    "int64": lambda s: s.astype("int64") if (s == s.round()).all() else s,
    "float64": lambda s: s.astype("float64"),
    "Int64/Float64": lambda s: s.astype("Int64") if (s == s.round()).all() else s.astype(
        "Float64"),
    "object": lambda s: s.astype(object),
    "category": lambda s: s.astype("category"),
    "text": lambda s: s.astype(str),
    "string": lambda s: s.astype("string"),
    "bool": lambda s: s.astype(bool) if set(s.unique()) <= {0, 1} else s,
}
_LABELS = {
    "int": lambda g: g,
    "str": lambda g: g.astype(str),
    "category": lambda g: g.astype("category"),
    "object-int": lambda g: g.astype(object),
    "float": lambda g: g.astype(float),
    "mixed": lambda g: pd.Series([v if i % 2 else str(v) for i, v in enumerate(g)],
                                 dtype=object),
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(y=st.sampled_from(list(_CASTS)), x=st.sampled_from(list(_CASTS)),
       w=st.sampled_from(list(_CASTS)), g=st.sampled_from(list(_LABELS)))
def test_dtypes_give_the_plain_result_or_a_data_error(y, x, w, g):
    frame = _BASE.assign(y=_CASTS[y](_BASE["y"]), x=_CASTS[x](_BASE["x"]),
                         w=_CASTS[w](_BASE["w"]), g=_LABELS[g](_BASE["g"]))
    before = frame.copy()
    plain = hv.SurveyDesign(_BASE, weights="w", psu="psu", strata="h")
    want = [plain.proportion("y", by="g"), plain.mean("x", by="g")]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            d = hv.SurveyDesign(frame, weights="w", psu="psu", strata="h")
            got = [d.proportion("y", by="g"), d.mean("x", by="g")]
    except hv.DataError:
        return
    finally:
        pd.testing.assert_frame_equal(frame, before)        # the caller's data untouched
    for a, b in zip(got, want, strict=True):
        assert len(a) == len(b)
        assert [str(v) for v in a["g"]] == [str(v) for v in b["g"]] or g == "float"
        cols = ["estimate", "se", "ci_low", "ci_high", "n"]
        np.testing.assert_allclose(a[cols].to_numpy(float), b[cols].to_numpy(float),
                                   rtol=1e-12)


def test_plot_labels_are_drawn_literally(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    farms = hv.datasets.load("farms")
    names = {"Ahal": "$\\alpha$ Ahal", "Balkan": "Bal$kan", "Dashoguz": "$\\frac{$"}
    farms["region"] = farms["region"].map(lambda r: names.get(r, r))
    design = hv.SurveyDesign(farms, strata="stratum", psu="district", weights="weight")
    table = design.proportion("child_labour", by="region")
    ax = hv.plot.forest(table, title="$x$ and $\\frac{")
    ax.figure.savefig(tmp_path / "f.png")        # invalid maths would raise here
    drawn = [t for t in ax.get_yticklabels()]
    assert [t._preprocess_math(t.get_text()) for t in drawn][0] == ("$\\alpha$ Ahal", False)
    assert ax.title._preprocess_math(ax.title.get_text()) == ("$x$ and $\\frac{", False)


# ------------------------------------------------- captions, report --encoding, outputs


def test_report_captions_datetime_year_and_no_year():
    import re

    from harvest.report import analyse, render_report

    farms = hv.datasets.load("farms")
    dated = farms.assign(year=pd.to_datetime(farms["year"].astype(str) + "-01-01"))
    html = render_report(analyse({"farm": dated}))
    captions = re.findall(r'class="caption">([^<]*)<', html)
    assert "Farms with evidence of child labour, 2024, by region" in captions
    assert "Farms with evidence of child labour: 2023 and 2024" in captions
    assert "00:00:00" not in html and "2024-01-01" not in html
    html = render_report(analyse({"farm": farms[farms["year"] == 2024].drop(columns="year")}))
    captions = re.findall(r'class="caption">([^<]*)<', html)
    assert "Farms with evidence of child labour, by region" in captions
    assert "None" not in html


def test_report_encoding_option(runner, farms_raw, tmp_path):
    path = tmp_path / "farms_cp1251.csv"
    df = farms_raw.head(120).copy()
    df["district"] = df["district"].str.replace("Ahal", "Ахал")   # free text
    path.write_bytes(df.to_csv(index=False).encode("cp1251"))
    out = tmp_path / "r.html"
    result = invoke(runner, "report", path, "--encoding", "cp1251", "--out", out, "-q",
                    "--min-n", 1, "--min-each", 0, "--allow-weak-disclosure")
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    wrong = invoke(runner, "report", path, "--encoding", "utf-8", "--out", out, "-q")
    assert wrong.exit_code == 2 and path.name in wrong.stderr
    assert "cannot be read as 'utf-8'" in wrong.stderr
    assert "Traceback" not in wrong.output


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_compare_reliability_suppress_in_every_output(runner, tmp_path, suffix):
    base = ["compare", FARMS, "-i", "child_labour", "--between", "year", "--baseline", "2023",
            "--by", "region"]
    shown = invoke(runner, *base, "--reliability", "suppress")
    out = tmp_path / f"cmp.{suffix}"
    written = invoke(runner, *base, "--reliability", "suppress", "--out", out)
    flagged = tmp_path / f"flag.{suffix}"
    invoke(runner, *base, "--out", flagged)
    assert shown.exit_code == 0 and written.exit_code == 0
    read = pd.read_csv if suffix == "csv" else pd.read_excel
    table, flags = read(out), read(flagged)
    starred = [line.split("|")[1].strip() for line in shown.stdout.splitlines()
               if line.startswith("| ") and "| * |" in line]
    hidden = table.loc[table["estimate"].isna(), "region"].tolist()
    assert hidden == starred and len(hidden) > table["suppressed"].sum()
    assert (table["unreliable"] | table["suppressed"]).eq(table["estimate"].isna()).all()
    # --reliability flag keeps the numbers and says which rows are unreliable
    assert flags["unreliable"].equals(table["unreliable"])
    assert flags.loc[flags["unreliable"], "estimate"].notna().all()


def test_replicate_weights_fill_the_weights_and_print_the_design(runner, tmp_path):
    farms = hv.datasets.load("farms")
    df = farms[farms["year"] == 2024].reset_index(drop=True)
    codes, districts = pd.factorize(df["district"])
    k = len(districts)
    w = df["weight"].to_numpy(dtype=float)
    reps = pd.DataFrame({f"repw{j + 1}": w * (codes != j) * k / (k - 1) for j in range(k)})
    path = tmp_path / "jk1.csv"
    pd.concat([df.drop(columns=["stratum", "n_districts"]), reps], axis=1).to_csv(
        path, index=False)
    args = ["estimate", path, "-i", "child_labour", "--replicate-weights", "repw",
            "--replicate-method", "jk1", "--scale", (k - 1) / k, "--format", "csv"]
    filled = invoke(runner, *args)
    given = invoke(runner, *args, "--weights", "weight")
    assert filled.exit_code == 0, filled.output
    assert filled.stdout == given.stdout
    assert "found in the file (--weights weight)" in filled.stderr
    assert (f"design: --replicate-weights repw ({k} columns) --replicate-method jk1 "
            f"--weights weight --scale {(k - 1) / k:.6g}") in filled.stderr
    # --no-design: only what is given (equal full-sample weights here)
    bare = invoke(runner, *args, "--no-design")
    assert bare.exit_code == 0, bare.output
    assert "--weights (equal)" in bare.stderr and bare.stdout != filled.stdout


def test_wide_file_is_parsed_for_the_needed_columns_only(runner, tmp_path, monkeypatch):
    """A file with thousands of extra columns gives the plain file's numbers; the CLI
    parses only the columns it names, the design and the instrument's own columns."""
    from harvest import io as hio

    farms = pd.read_csv(FARMS)
    extra = pd.DataFrame(np.zeros((len(farms), 3000)), columns=[f"x{i}" for i in range(3000)])
    wide = tmp_path / "wide.csv"
    pd.concat([farms, extra], axis=1).to_csv(wide, index=False)
    seen = []
    real = hio._read_table

    def spy(*args, **kwargs):
        df, instrument = real(*args, **kwargs)
        seen.append(df.shape[1])
        return df, instrument

    monkeypatch.setattr(hio, "_read_table", spy)
    args = ["-i", "child_labour", "--by", "year", "--by", "region", "--format", "csv"]
    plain = invoke(runner, "estimate", FARMS, *args)
    got = invoke(runner, "estimate", wide, *args)
    assert got.exit_code == 0, got.output
    assert got.stdout == plain.stdout
    assert seen == [farms.shape[1], farms.shape[1]]     # read once, without the x columns
    cmp = invoke(runner, "compare", wide, "-i", "child_labour", "--between", "year",
                 "--format", "csv")
    assert cmp.exit_code == 0 and seen[-1] == farms.shape[1]
    # a column the header lacks: the whole file is read, so the message lists every column
    bad = invoke(runner, "estimate", wide, "-i", "child_labour", "--by", "x2999", "--by",
                 "nope")
    assert bad.exit_code == 2 and "nope" in bad.stderr and seen[-1] == farms.shape[1] + 3000


def test_cli_names_a_zero_weight_domain_with_file_rows(runner, tmp_path):
    data = pd.read_csv(FARMS).drop(columns="farm_id")      # a table of no instrument
    data.loc[data["region"] == "Balkan", "weight"] = 0.0
    path = tmp_path / "zero.csv"
    data.to_csv(path, index=False)
    result = invoke(runner, "estimate", path, "-i", "civil_servants_on_farm", "--by", "year",
                    "--by", "region", "--min-n", 1, "--min-each", 0,
                    "--allow-weak-disclosure", "--format", "csv")
    assert result.exit_code == 0, result.output
    first = int(np.flatnonzero(data["region"].eq("Balkan").to_numpy())[0])
    assert "year=2023, region='Balkan'" in result.stderr
    assert f"file rows {first}," in result.stderr and "weight 0" in result.stderr
    assert result.stderr.count("every row has weight 0") == 1
    assert "Balkan" not in result.stdout
