"""The report's direct-versus-indirect section (issue 17): simulated list experiment,
through the disclosure policy jointly with the indicator tables."""

from __future__ import annotations

import re

import numpy as np
import pytest

import harvest as hv
from harvest._errors import DataError
from harvest.disclosure import DisclosurePolicy
from harvest.report import analyse, protect_report, render_report


@pytest.fixture(scope="module")
def mission_employees():
    return hv.simulate.mission(year=2024, rng=3).employees


@pytest.fixture(scope="module")
def report_data(mission_employees):
    employees = hv.simulate.sensitive_questions(mission_employees, rng=4)
    return analyse({"employee": employees}, progress=None)


def _section(html):
    start = html.index('<section class="sensitive">')
    return html[start:html.index("</section>", start)]


def test_section_shows_direct_and_indirect_with_intervals(report_data):
    reg, nat = report_data.sensitive["employee"]
    assert set(reg["indicator"]) == {"direct", "list_experiment", "difference"}
    # the simulated direct answers under-report: the list estimate is higher
    est = nat.set_index("indicator")["estimate"]
    assert est["list_experiment"] > est["direct"]
    html = render_report(report_data, policy=DisclosurePolicy(min_n=10))
    section = _section(html)
    assert "Asked directly and through a list experiment" in section
    row = nat.set_index("indicator").loc["difference"]
    assert f"{100 * row['estimate']:.1f}%" in section
    assert f"{100 * row['ci_low']:.1f}% to {100 * row['ci_high']:.1f}%" in section
    assert section.count("<p>") == reg["region"].nunique() + 1     # one note per domain
    assert "under-report" in section


def test_withheld_cells_stay_withheld_and_cannot_be_subtracted(report_data):
    reg, _ = report_data.sensitive["employee"]
    n = reg[reg["indicator"] == "direct"].set_index("region")["n"]
    small = n.idxmin()
    policy = DisclosurePolicy(min_n=int(n.min()) + 1)   # primary: the smallest region
    protected, sensitive = protect_report(report_data, policy, sensitive=True)
    s_reg, s_nat = sensitive["employee"]
    withheld = set(s_reg.loc[s_reg["suppressed"], "region"])
    assert small in withheld
    # no leak by subtraction: the all-regions row minus the published regions must not
    # give back one region, so a second one (or the margin) is withheld too
    assert len(withheld) >= 2 or s_nat["suppressed"].all()
    assert s_reg.loc[s_reg["suppressed"], ["estimate", "ci_low", "n"]].isna().all().all()
    # one pattern with the indicator tables of the same instrument
    main = protected["employee"][0]
    assert set(main.loc[main["suppressed"], "region"]) == withheld
    section = _section(render_report(report_data, policy=policy))
    for region in withheld:
        cells = re.findall(rf"<tr><td>{region}</td><td>[a-z ]+</td>(.*?)</tr>", section)
        assert len(cells) == 3
        assert all(set(re.findall(r"<td>(.*?)</td>", c)) == {"*"} for c in cells)
        assert f"{region}: not shown (disclosure control" in section
    shown = reg[~reg["region"].isin(withheld) & (reg["indicator"] == "direct")]
    assert all(f"<td>{int(v)}</td>" in section for v in shown["n"])


def test_attribute_rule_on_the_direct_answers(report_data):
    reg, _ = report_data.sensitive["employee"]
    yes = reg[reg["indicator"] == "direct"].set_index("region")["n_yes"]
    policy = DisclosurePolicy(min_n=10, min_each=int(yes.min()) + 1)
    _, sensitive = protect_report(report_data, policy, sensitive=True)
    s_reg = sensitive["employee"][0]
    assert yes.idxmin() in set(s_reg.loc[s_reg["suppressed"], "region"])
    assert (s_reg.loc[s_reg["suppressed"], "suppression"] != "").all()


def test_no_section_without_the_module(mission_employees):
    data = analyse({"employee": mission_employees}, progress=None)
    assert data.sensitive == {}
    assert '<section class="sensitive">' not in render_report(data)
    assert np.isfinite(data.national["employee"]["estimate"]).all()


def test_the_team_list_length_reaches_the_section(mission_employees):
    """`analyse(control_items=J)` (`harvest report --control-items J`) checks the item counts
    of the report's list-experiment section against the team's list length."""
    employees = hv.simulate.sensitive_questions(mission_employees, rng=4)
    J = int(employees.loc[employees["long_list"] == 0, "item_count"].max())
    assert analyse({"employee": employees}, progress=None, control_items=J).sensitive
    with pytest.raises((DataError, ValueError), match="control_items"):
        analyse({"employee": employees}, progress=None, control_items=J - 1)
