"""The list length is data a team sets (issue 17): ``codes={"list_control_items": J}`` in
validation, ``control_items=J`` in estimation, ``--control-items J`` on the CLI."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from click.testing import CliRunner

import harvest as hv
from harvest.cli import main
from harvest.instruments import LIST_CONTROL_ITEMS, CodeLists, problems, resolve_codes


@pytest.fixture(scope="module")
def three_items():
    """The bundled 2024 employees with a simulated list of three control items (J = 3)."""
    employees = hv.datasets.load("employees")
    employees = employees[employees["year"] == 2024].reset_index(drop=True)
    return hv.simulate.sensitive_questions(employees, rng=12, control=(0.3, 0.5, 0.2))


def test_default_and_setting():
    assert LIST_CONTROL_ITEMS == CodeLists().list_control_items == 4
    assert resolve_codes({"list_control_items": 3}).list_control_items == 3
    for bad in (0, 2.5, "4", True):
        with pytest.raises(ValueError, match="list_control_items"):
            resolve_codes({"list_control_items": bad})


def test_validation_follows_the_setting(three_items):
    e = three_items
    assert e["item_count"].max() == 4          # J + 1 on the long list
    assert len(problems(e, "employee", codes={"list_control_items": 3})) == 0
    # with J = 2 the same data break the rule: on the short list (3) and the long (4)
    p = problems(e, "employee", codes={"list_control_items": 2})
    assert set(p["column"]) == {"item_count"}
    short = e["list_form"].eq("short") & e["item_count"].eq(3)
    assert set(p.loc[p["problem"].str.contains("short list's 2"), "row"]) == \
        set(short[short].index)
    assert p["problem"].str.contains(r"long list's 3 items \(list_control_items=2\)").any()
    # the default J = 4 accepts one more item on each list, not two more
    assert len(problems(e.assign(item_count=e["item_count"] + 1), "employee")) == 0
    assert len(problems(e.assign(item_count=e["item_count"] + 2), "employee")) > 0


def test_estimation_and_report_tables_take_control_items(three_items):
    d = hv.SurveyDesign(three_items, psu="district", strata="stratum", weights="weight")
    a = d.list_experiment("item_count", "list_form", control_items=3)
    assert a["estimate"].equals(d.list_experiment("item_count", "list_form")["estimate"])
    with pytest.raises(hv.DataError, match=r"'item_count'.*0 to 2.*control_items=2"):
        d.list_experiment("item_count", "list_form", control_items=2)
    module = hv.sensitive.list_module(three_items)
    with pytest.raises(hv.DataError, match="control_items=2"):
        hv.sensitive.report_tables(d, module, by="region", control_items=2)
    t = hv.sensitive.report_tables(d, module, by="region", control_items=3)
    assert len(t) == 3 * three_items["region"].nunique()


def test_cli_control_items(three_items, tmp_path):
    path = tmp_path / "employees.csv"
    three_items.drop(columns=["coached", "long_list"]).to_csv(path, index=False)
    runner = CliRunner()
    ok = runner.invoke(main, ["estimate", str(path), "--list-experiment", "item_count",
                              "--treatment", "list_form", "--control-items", "3",
                              "--format", "csv"])
    assert ok.exit_code == 0, ok.output
    table = pd.read_csv(io.StringIO(ok.output[ok.output.index("indicator,"):]))
    assert table["indicator"].tolist() == ["item_count"]
    assert 0 < table["estimate"].iloc[0] < 1
    bad = runner.invoke(main, ["estimate", str(path), "--list-experiment", "item_count",
                               "--treatment", "list_form", "--control-items", "2"])
    assert bad.exit_code != 0
    assert "short list's 2 items" in bad.output
    assert isinstance(pd.read_csv(path), pd.DataFrame)
