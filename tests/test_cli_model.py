"""`harvest model`: the design-based GLM from the command line."""

from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner

import harvest as hv
from harvest.cli import main

FARMS = Path(__file__).parent.parent / "data" / "farms.csv"


def test_model_prints_the_coefficients_and_the_term_tests():
    result = CliRunner().invoke(main, ["model", str(FARMS), "--formula",
                                       "child_labour ~ region + n_pickers",
                                       "--family", "quasibinomial"])
    assert result.exit_code == 0, result.output
    assert "| regionBalkan |" in result.output and "| n_pickers |" in result.output
    assert "region: F = " in result.output


def test_model_out_csv_is_the_tidy_table_of_design_glm(tmp_path):
    out = tmp_path / "model.csv"
    result = CliRunner().invoke(main, ["model", str(FARMS), "--formula",
                                       "interference ~ region + n_pickers", "--family",
                                       "quasibinomial", "--strata", "stratum", "--psu",
                                       "district", "--weights", "weight", "--fpc",
                                       "n_districts", "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out)
    farms = pd.read_csv(FARMS)
    expected = hv.SurveyDesign(farms, weights="weight", strata="stratum", psu="district",
                               fpc="n_districts").glm("interference ~ region + n_pickers",
                                                      family="quasibinomial").table
    assert written["term"].tolist() == expected["term"].tolist()
    np.testing.assert_allclose(written["se"], expected["se"], rtol=1e-12)


def test_model_bad_formula_is_a_message_not_a_traceback():
    result = CliRunner().invoke(main, ["model", str(FARMS), "--formula",
                                       "interference ~ no_such_column"])
    assert result.exit_code != 0
    assert "Traceback" not in result.output


def test_report_who_is_most_affected_section(tmp_path):
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", str(FARMS), "--out", str(out), "--quiet",
                                       "--who-is-most-affected"])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert 'id="affected"' in page and "regionBalkan" in page


def test_model_withholds_coefficients_of_withheld_categories(tmp_path):
    """A coefficient of a category level that disclosure control withholds (or compared
    with a withheld reference level) is not printed nor written (issue #12's rule)."""
    import pandas as pd
    from click.testing import CliRunner

    import harvest as hv
    from harvest.cli import main

    farms = hv.datasets.load("farms")
    counts = farms.groupby("region").size()
    out = tmp_path / "m.csv"
    # a threshold between the smallest and the largest regional count
    cut = int(counts.sort_values().iloc[1])
    result = CliRunner().invoke(main, [
        "model", str(hv.datasets.path("farms")), "--formula", "child_labour ~ region + n_pickers",
        "--family", "quasibinomial", "--min-n", str(cut), "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    hidden = table.loc[table["estimate"].isna(), "term"].tolist()
    assert f"region{counts.idxmin()}" in hidden
    assert "n_pickers" not in hidden
    if "(Intercept)" in hidden:   # the reference level went: every region contrast with it
        assert {f"region{r}" for r in sorted(counts.index)[1:]} <= set(hidden)
    # the default policy withholds nothing on the bundled file
    plain = CliRunner().invoke(main, [
        "model", str(hv.datasets.path("farms")), "--formula", "child_labour ~ region",
        "--family", "quasibinomial", "--format", "csv"])
    assert plain.exit_code == 0 and "*" not in plain.stdout
