"""`harvest demo --bayes` says on stderr that it compiles, before the compile starts."""

import pytest

import harvest.bayes as hb
from harvest import report


class _Stop(Exception):
    pass


@pytest.mark.parametrize("progress", [True, False])
def test_demo_says_it_compiles_before_the_fit(tmp_path, monkeypatch, capsys, progress):
    seen = []

    def fit(*args, **kwargs):       # stands in for the compile + sampling
        seen.append(capsys.readouterr().err)
        raise _Stop

    monkeypatch.setattr(hb, "fit_prevalence", fit)
    with pytest.raises(_Stop):
        report.demo(tmp_path / "r.html", bayes=True, progress=progress)
    assert seen, "the Bayesian fit was not reached"
    assert ("compiling the Bayesian model" in seen[0]) is progress
