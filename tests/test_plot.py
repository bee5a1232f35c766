"""Figures: artists drawn from tidy tables, no global style changes."""


import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import harvest.plot as hplot  # noqa: E402
from harvest._errors import DataError  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def estimates():
    regions = ["Ahal", "Balkan", "Dashoguz", "Lebap", "Mary"]
    est = np.array([0.21, 0.18, 0.30, 0.25, 0.27])
    return pd.DataFrame({
        "region": regions, "indicator": "child_labour", "estimate": est, "se": 0.03,
        "ci_low": est - 0.05, "ci_high": est + 0.06, "level": 0.95,
        "ci_method": "logit", "df": 40.0, "deff": 1.5, "n": 100, "n_eff": 66.0,
    })


def comparison(measure="difference"):
    c = pd.DataFrame({
        "region": ["Ahal", "Balkan", "Mary"], "indicator": "child_labour", "group": 2024,
        "baseline": 2023, "estimate_group": [0.20, 0.18, 0.30],
        "estimate_baseline": [0.26, 0.19, 0.22], "measure": measure,
        "estimate": [-0.06, -0.01, 0.08], "se": [0.02, 0.03, 0.03],
        "ci_low": [-0.10, -0.07, 0.02], "ci_high": [-0.02, 0.05, 0.14], "df": 40.0,
        "p_value": [0.003, 0.7, 0.01], "p_adjusted": [0.009, 0.7, 0.02],
    })
    if measure != "difference":
        c["estimate"] = [0.77, 0.95, 1.36]
        c["ci_low"] = [0.62, 0.7, 1.05]
        c["ci_high"] = [0.95, 1.3, 1.8]
    return c


def errorbar_points(ax):
    """(x, y) of every errorbar's data line on the Axes."""
    xs, ys = [], []
    for container in ax.containers:
        line = container.lines[0]
        xs.extend(line.get_xdata())
        ys.extend(line.get_ydata())
    return np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)


def test_forest_one_point_and_interval_per_row():
    t = estimates()
    fig, ax = plt.subplots()
    out = hplot.forest(t, ax=ax)
    assert out is ax
    xs, ys = errorbar_points(ax)
    np.testing.assert_allclose(np.sort(xs), np.sort(t["estimate"]))
    assert len(ax.containers) == 1
    (bars,) = ax.containers[0].lines[2]  # the horizontal interval segments
    segs = bars.get_segments()
    assert len(segs) == 5
    # first row is drawn on top, with its interval
    top = max(segs, key=lambda s: s[0][1])
    np.testing.assert_allclose(top[:, 0], [0.16, 0.27])
    labels = [tl.get_text() for tl in ax.get_yticklabels()]
    assert labels == list(t["region"])
    ticks = ax.get_yticks()
    assert labels[int(np.argmax(ticks))] == "Ahal"  # first row on top
    assert "95% confidence interval" in ax.get_xlabel()
    assert ax.xaxis.get_major_formatter().__class__.__name__ == "PercentFormatter"


def test_forest_labels_with_several_indicators_and_by_columns():
    t = pd.concat([estimates().assign(indicator="child_labour"),
                   estimates().assign(indicator="civil_servants_on_farm")])
    t.insert(0, "year", 2024)
    ax = hplot.forest(t)
    labels = {tl.get_text() for tl in ax.get_yticklabels()}
    assert "2024 · Ahal · civil_servants_on_farm" in labels
    assert len(labels) == 10


def test_forest_marks_suppressed_rows_without_drawing_them():
    t = estimates()
    t.loc[1, ["estimate", "ci_low", "ci_high"]] = np.nan
    ax = hplot.forest(t)
    xs, _ = errorbar_points(ax)
    assert len(xs) == 4
    assert "Balkan (suppressed)" in [tl.get_text() for tl in ax.get_yticklabels()]


def test_forest_draws_flagged_rows_open_and_dashed():
    t = estimates()
    t["unreliable"] = [False, True, False, True, False]
    ax = hplot.forest(t, flag="unreliable")
    assert len(ax.containers) == 2
    solid, flagged = ax.containers
    assert len(solid.lines[0].get_xdata()) == 3
    np.testing.assert_allclose(flagged.lines[0].get_xdata(), [0.18, 0.25])
    assert flagged.lines[0].get_markerfacecolor() == "white"
    assert flagged.lines[2][0].get_linestyle()[0][1] is not None  # dashed segments
    labels = [tl.get_text() for tl in ax.get_yticklabels()]
    assert labels[1] == "Balkan \u2020" and labels[0] == "Ahal"
    with pytest.raises(DataError, match="'nope'"):
        hplot.forest(t, flag="nope")


def test_forest_does_not_touch_global_style():
    before = dict(matplotlib.rcParams)
    hplot.forest(estimates())
    hplot.change(comparison())
    after = dict(matplotlib.rcParams)
    assert before == after


def test_forest_bad_input():
    with pytest.raises(DataError, match="lacks the column.*'ci_low'"):
        hplot.forest(estimates().drop(columns="ci_low"))
    with pytest.raises(DataError, match="no rows"):
        hplot.forest(estimates().iloc[:0])
    with pytest.raises(TypeError, match="DataFrame"):
        hplot.forest([1, 2])


def test_forest_non_proportions_are_not_percent():
    t = estimates()
    t[["estimate", "ci_low", "ci_high"]] *= 1000
    ax = hplot.forest(t, color="k", markersize=3)
    assert ax.xaxis.get_major_formatter().__class__.__name__ != "PercentFormatter"


def test_change_difference_plot():
    c = comparison()
    ax = hplot.change(c)
    xs, ys = errorbar_points(ax)
    np.testing.assert_allclose(np.sort(xs), np.sort(c["estimate"]))
    # two groups of intervals: those that exclude zero (coloured) and the one that does not
    assert len(ax.containers) == 2
    grey = [cont for cont in ax.containers
            if matplotlib.colors.to_hex(cont.lines[0].get_color()) == "#7f7f7f"]
    assert len(grey) == 1 and len(grey[0].lines[0].get_xdata()) == 1
    assert ax.get_xlabel() == "Change 2023 to 2024 (percentage points)"
    ref = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert len(ref) == 1 and ref[0].get_xdata()[0] == 0
    texts = [t.get_text() for t in ax.texts]
    assert "26% → 20%" in texts and len(texts) == 3


def test_change_ratio_uses_log_scale_and_one():
    ax = hplot.change(comparison("ratio"), annotate=False)
    assert ax.get_xscale() == "log"
    ref = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert ref[0].get_xdata()[0] == 1
    assert len(ax.texts) == 0
    assert ax.get_xlabel().endswith("(ratio)")


def test_change_needs_compare_columns():
    with pytest.raises(DataError, match="estimate_baseline"):
        hplot.change(comparison().drop(columns="estimate_baseline"))


def bayes_summary():
    return pd.DataFrame({
        "area": ["Ahal", "Balkan", "Dashoguz", "Lebap", "Mary"] * 2,
        "time": [2023] * 5 + [2024] * 5,
        "mean": np.linspace(0.15, 0.3, 10), "sd": 0.02,
        "ci_low": np.linspace(0.1, 0.25, 10), "ci_high": np.linspace(0.2, 0.35, 10),
        "r_hat": 1.0, "ess_bulk": 900.0, "ess_tail": 800.0,
    })


def test_direct_vs_model_two_series_per_area():
    d = estimates()
    d.insert(0, "year", 2024)
    ax = hplot.direct_vs_model(d, bayes_summary(), time=2024)
    assert len(ax.containers) == 2
    xs, ys = errorbar_points(ax)
    assert len(xs) == 10
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["Direct (design-based)", "Model (Bayesian)"]
    assert [t.get_text() for t in ax.get_yticklabels()] == list(d["region"])
    model_x = ax.containers[1].lines[0].get_xdata()
    np.testing.assert_allclose(model_x, bayes_summary()["mean"].iloc[5:])


def test_direct_vs_model_requires_one_period():
    with pytest.raises(DataError, match="each area must appear once"):
        hplot.direct_vs_model(estimates(), bayes_summary())
    with pytest.raises(DataError, match="lacks the column.*'area'"):
        hplot.direct_vs_model(estimates(), bayes_summary().drop(columns="area"))


def test_importing_reporting_modules_does_not_import_matplotlib():
    import subprocess
    import sys

    code = ("import sys, harvest as hv, harvest.plot, harvest.report, harvest.tables, "
            "harvest.cli; hv.plot; hv.tables; "
            "print(sorted(m for m in ('matplotlib', 'seaborn', 'pymc', 'jinja2') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
