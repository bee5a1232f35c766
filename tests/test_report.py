"""The HTML report: content, disclosure control, and rendering in headless Chromium."""

import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

import harvest as hv
from harvest._errors import DataError
from harvest.report import (
    ReportData,
    analyse,
    build_report,
    detect_instrument,
    observed_summary,
    render_report,
)

REGIONS = ["Ahal", "Balkan", "Dashoguz", "Lebap", "Mary"]


def tidy_estimates(indicator, small=None, base=0.23):
    """A proportion table by year and region with the API.md columns."""
    rows = []
    for y in (2023, 2024):
        for i, r in enumerate(REGIONS):
            p = base + 0.02 * i - 0.03 * (y - 2023)
            rows.append(dict(year=y, region=r, indicator=indicator, estimate=p, se=0.04,
                             ci_low=p - 0.07, ci_high=p + 0.08, level=0.95,
                             ci_method="korn-graubard", df=30.0, deff=1.6,
                             n=6 if (y, r) == small else 95, n_eff=p * (1 - p) / 0.0016))
    return pd.DataFrame(rows)


def tidy_national(indicator):
    return pd.DataFrame([dict(year=y, indicator=indicator, estimate=0.27 - 0.03 * (y - 2023),
                              se=0.02, ci_low=0.23 - 0.03 * (y - 2023),
                              ci_high=0.31 - 0.03 * (y - 2023), level=0.95,
                              ci_method="korn-graubard", df=50.0, deff=1.6, n=472, n_eff=300.0)
                         for y in (2023, 2024)])


def tidy_comparison(indicator, by=True):
    e = tidy_estimates(indicator)
    rows = []
    for r in (REGIONS if by else [None]):
        if r is None:
            g, b = 0.24, 0.27
        else:
            g = e[(e.year == 2024) & (e.region == r)].estimate.item()
            b = e[(e.year == 2023) & (e.region == r)].estimate.item()
        d = dict(indicator=indicator, group=2024, baseline=2023, estimate_group=g,
                 estimate_baseline=b, measure="difference", estimate=g - b, se=0.03,
                 ci_low=g - b - 0.06, ci_high=g - b + 0.06, df=40.0, p_value=0.3,
                 p_adjusted=0.9)
        rows.append({"region": r, **d} if r is not None else d)
    return pd.DataFrame(rows)


def report_data(small=(2024, "Mary")):
    observed = pd.DataFrame([
        dict(year=2024, instrument="farm", attempted=502, completed=472, refused=27,
             dropped=3, refusal_rate=27 / 502, interference_rate=0.23, interviews=472)])
    return ReportData(
        estimates={"farm": tidy_estimates("child_labour", small=small)},
        national={"farm": tidy_national("child_labour")},
        comparisons={"farm": tidy_comparison("child_labour")},
        national_comparisons={"farm": tidy_comparison("child_labour", by=False)},
        observed=observed, year=2024, baseline=2023,
        design={"farm": dict(weights="weight", strata="stratum", psu="district",
                             fpc="n_districts")},
        labels={"child_labour": "Farms with evidence of child labour"},
        sources=["farms_2024.xlsx"],
    )


def table_rows(html, first_cell):
    """The text cells of every table row whose first cell is ``first_cell``."""
    out = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, flags=re.S):
        cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        if cells and cells[0] == first_cell:
            out.append(cells)
    return out


def test_render_has_sections_tables_and_figures():
    html = render_report(report_data())
    for section in ('id="summary"', 'id="observed"', 'id="indicators"', 'id="methods"'):
        assert section in html
    assert html.count("<table>") == 3  # observed, by region, change
    assert html.count("<svg") == 2  # forest and change figures, inline
    assert 'aria-label="Farms with evidence of child labour by region"' in html
    assert "Farms with evidence of child labour" in html
    assert "All regions" in html
    assert "Korn-Graubard" in html and "Parker et al. 2017" in html
    assert "Data: farms_2024.xlsx" in html
    assert "@media print" in html and 'name="viewport"' in html


def test_render_is_self_contained():
    html = render_report(report_data())
    assert "<link" not in html
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"""(src|href)=["']https?://""", html)
    assert "<?xml" not in html and "<!DOCTYPE svg" not in html


def test_render_suppresses_small_cells_everywhere():
    html = render_report(report_data(small=(2024, "Mary")))
    (mary,) = table_rows(html, "Mary")[:1]
    assert mary[1:4] == ["*", "*", "*"]  # the count too: no "<10" range
    # the change row of Mary is suppressed too: its 2024 level rests on 6 farms
    mary_change = table_rows(html, "Mary")[1]
    assert set(mary_change[1:6]) == {"*"}
    # Mary's 2024 estimate (0.23 + 0.08 - 0.03 = 28%) appears in no table cell
    cells = " ".join(" ".join(r) for r in table_rows(html, "Mary"))
    assert "28.0" not in cells
    assert "Mary (suppressed)" in html  # and is not drawn in the figures
    assert "fewer than 10 observations" in html


def test_nchs_failures_are_flagged_or_withheld():
    data = report_data(small=None)
    # Ahal 2024: 20% with a 15-point interval passes; make Balkan fail the relative width
    est = data.estimates["farm"]
    balkan = (est["region"] == "Balkan") & (est["year"] == 2024)
    est.loc[balkan, ["estimate", "ci_low", "ci_high"]] = [0.06, 0.02, 0.13]
    html = render_report(data)
    row = table_rows(html, "Balkan")[0]
    assert row[1:5] == ["6.0", "2.0 to 13.0", "95", "b"]
    assert "interpret with caution" in html and "Balkan \u2020" in html
    html = render_report(data, reliability="suppress")
    assert table_rows(html, "Balkan")[0][1:5] == ["*", "*", "95", "b"]
    assert "Balkan (suppressed)" in html
    # a flagged national estimate carries its mark on the headline card
    nat = data.national["farm"]
    nat.loc[nat["year"] == 2024, ["estimate", "ci_low", "ci_high"]] = [0.05, 0.01, 0.12]
    html = render_report(data)
    assert "(note b below)" in html
    with pytest.raises(ValueError, match="`reliability`"):
        render_report(data, reliability="drop")


def test_min_n_is_respected():
    html = render_report(report_data(small=None), min_n=100)
    for region in REGIONS:
        assert table_rows(html, region)[0][1:4] == ["*", "*", "*"]
    assert "fewer than 100 observations" in html


def test_text_is_escaped():
    data = report_data()
    data.labels = {"child_labour": "<b>Child</b> labour"}
    data.sources = ["<script>alert(1)</script>.csv"]
    html = render_report(data)
    assert "<script>alert" not in html
    assert "&lt;b&gt;Child&lt;/b&gt; labour" in html


def test_detect_instrument():
    assert detect_instrument(pd.DataFrame(columns=["employee_id", "institution_id"])) == \
        "employee"
    with pytest.raises(DataError, match="cannot tell which instrument"):
        detect_instrument(pd.DataFrame(columns=["a"]))


def test_observed_summary_counts_refusals_and_interference():
    farms = pd.DataFrame({
        "year": [2024] * 6, "farm_id": list("abcdef"),
        "visit_status": ["completed", "completed", "refused", "dropped_interference",
                         "completed", "completed"],
        "interference": [0, 1, np.nan, np.nan, 0, 0],
    })
    out = observed_summary({"farm": farms})
    row = out.iloc[0]
    assert (row["attempted"], row["completed"], row["refused"], row["dropped"]) == (6, 4, 1, 1)
    assert row["refusal_rate"] == pytest.approx(1 / 6)
    assert row["interference_rate"] == pytest.approx(2 / 5)  # dropped counts, refused not


# --- on a synthetic mission (real estimators) ----------------------------------------


@pytest.fixture(scope="module")
def mission():
    """The bundled synthetic 2023-2024 data (what ``harvest demo`` reports on)."""
    return {"farm": hv.datasets.load("farms"), "employee": hv.datasets.load("employees"),
            "visits": hv.datasets.load("visits")}


def test_analyse_on_a_mission(mission):
    frames = {"farm": mission["farm"], "employee": mission["employee"]}
    before = frames["farm"].copy()
    data = analyse(frames, visits=mission["visits"])
    pd.testing.assert_frame_equal(frames["farm"], before)  # input untouched
    assert (data.year, data.baseline) == (2024, 2023)
    est = data.estimates["farm"]
    assert list(est.columns[:3]) == ["year", "region", "indicator"]
    assert set(est["indicator"]) == {"child_labour", "civil_servants_on_farm"}
    assert (est["ci_method"] == "korn-graubard").all()
    completed = (mission["farm"]["visit_status"] == "completed").sum()
    nat = data.national["farm"]
    assert nat[nat["indicator"] == "child_labour"]["n"].sum() == completed
    cmp = data.comparisons["farm"]
    assert len(cmp) == 2 * 5 and (cmp["group"] == 2024).all()
    assert {"farm", "institution"} <= set(data.observed["instrument"])


def test_report_rejects_useless_input(mission):
    with pytest.raises(DataError, match="none of the tables holds an indicator"):
        analyse({"institution": mission["farm"][["year", "region", "farm_id"]]})
    # indicators that cannot be derived say which column is missing
    with pytest.raises(DataError, match="n_children"):
        analyse({"farm": mission["farm"][["year", "region", "farm_id"]]})
    with pytest.raises(DataError, match="baseline year 2019"):
        analyse({"farm": mission["farm"]}, baseline=2019)


def test_report_with_a_tiny_region_shows_nothing_of_it(mission, tmp_path):
    farms = mission["farm"]
    mary24 = farms[(farms["region"] == "Mary") & (farms["year"] == 2024)
                   & (farms["visit_status"] == "completed")]
    # keep 7 completed farm visits in Mary 2024, spread over its districts
    keep = mary24.groupby("district").head(1).index[:7]
    assert len(keep) == 7
    small = farms.drop(index=mary24.index.difference(keep))
    path = build_report({"farm": small}, tmp_path / "r.html", progress=False)
    html = path.read_text()
    mary = table_rows(html, "Mary")
    assert len(mary) == 4  # two indicators: by-region rows and change rows
    for row in mary:
        # every cell of Mary is suppressed: "*", the "<10" count, or a footnote mark
        assert set(row[1:-1]) <= {"*", "&lt;10"}, row
    assert "Mary (suppressed)" in html
    # no row-level data: no identifier of any farm appears
    assert not any(fid in html for fid in small["farm_id"].astype(str).head(50))


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
@pytest.mark.parametrize("width", [1100, 390])
def test_report_renders_in_headless_chromium(mission, tmp_path, width):
    path = build_report({"farm": mission["farm"], "employee": mission["employee"]},
                        tmp_path / "report.html", visits=mission["visits"], progress=False,
                        synthetic=True)
    png = tmp_path / f"report-{width}.png"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={tmp_path / 'chromium'}",
           f"--screenshot={png}", f"--window-size={width},2400", "--hide-scrollbars",
           path.resolve().as_uri()]
    subprocess.run(cmd, check=True, timeout=120, capture_output=True)
    assert png.exists() and png.stat().st_size > 20_000
    with open(png, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(head[16:20], "big") == width
    # and the page it took holds the tables and the figures
    html = path.read_text()
    # observed; by region and change x 4; the median fee paid (employees)
    assert html.count("<table>") == 1 + 4 * 2 + 1
    n_svg = html.count("<svg")
    assert 4 <= n_svg <= 8  # a forest plot per indicator, a change plot unless all hidden
    # the dumped DOM after layout still holds them (the page parses and renders)
    dom = subprocess.run([*cmd[:-2], "--dump-dom", path.resolve().as_uri()], check=True,
                         timeout=120, capture_output=True, text=True).stdout
    assert dom.count("<table>") == html.count("<table>")
    assert dom.count("<svg") == n_svg


@pytest.mark.slow
def test_report_with_the_bayesian_model(mission, tmp_path):
    path = build_report({"farm": mission["farm"]}, tmp_path / "bayes.html", bayes=True,
                        bayes_options={"draws": 200, "tune": 200, "chains": 2}, rng=5,
                        progress=False)
    html = path.read_text()
    assert 'id="model"' in html and "Small-area model" in html
    assert "Sampler diagnostics" in html and "2 chains x 200 draws" in html
    rows = [table_rows(html, r) for r in REGIONS]
    # each region: by-region rows (2 indicators), change rows (2) and the model row
    assert all(len(r) == 5 for r in rows)
    assert "Direct (design-based)" in html  # the direct-vs-model figure's legend


def test_progress_bar_only_on_a_terminal_and_labelled(monkeypatch, capsys):
    """No carriage-return frames when stderr is not a terminal; demo's bar says demo."""
    from harvest import report

    made = []

    class FakeTqdm:
        def __init__(self, **kw):
            made.append(kw["desc"])
            self.n, self.total = 0, kw["total"]

        def set_description_str(self, *a, **k):
            pass

        def update(self, n):
            self.n += n

        def close(self):
            pass

    import tqdm.auto

    monkeypatch.setattr(tqdm.auto, "tqdm", FakeTqdm)
    monkeypatch.setattr(report.sys.stderr, "isatty", lambda: False, raising=False)
    assert report._Progress(True, 3, "harvest demo").bar is None
    monkeypatch.setattr(report.sys.stderr, "isatty", lambda: True, raising=False)
    assert report._Progress(True, 3, "harvest demo").bar is not None
    assert made == ["harvest demo"]
