"""A fit without ArviZ's full import (harvest.bayes._trace) and the graph-keyed cache."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import harvest as hv
from harvest.bayes import _trace
from harvest.bayes._compile import _graph_key, compile_model
from harvest.bayes._data import prepare
from harvest.bayes.models import build_model

pytest.importorskip("pymc")
pytest.importorskip("nutpie")

KW = dict(draws=150, tune=150, chains=2, seed=11, progress_bar=False, target_accept=0.95)


@pytest.fixture(scope="module")
def compiled():
    p = prepare(hv.datasets.load("farms"), "child_labour", "region", "year", "district",
                "weight")
    data = {"y_eff": p.y_eff, "n_eff": p.n_eff, "cell": p.cluster_cell.astype(np.int64)}
    return compile_model(build_model("hierarchical", data, p.n_areas, p.n_times))


def _groups(tree):
    out = {}
    for name in tree.children:
        ds = tree[name].to_dataset()
        ds.attrs.pop("created_at", None)
        out[name] = ds
    return out


def test_tree_equals_nutpie_sample(compiled):
    nutpie = _trace.import_nutpie()
    theirs = _groups(nutpie.sample(compiled, save_warmup=False, **KW))
    ours = _groups(_trace.sample(compiled, **KW))
    assert list(ours) == list(theirs) == ["posterior", "sample_stats"]
    for name in ours:
        assert ours[name].identical(theirs[name]), name


def test_internals_are_checked_and_missing_ones_fall_back(compiled, monkeypatch):
    import importlib

    module = importlib.import_module("nutpie.sample")    # nutpie.sample is also a function
    assert _trace.missing_internals() == []
    monkeypatch.delattr(module, "_add_arrow_data")
    assert "nutpie.sample._add_arrow_data" in _trace.missing_internals()
    monkeypatch.undo()
    fast = _groups(_trace.sample(compiled, **KW))
    monkeypatch.setattr(_trace, "_MISSING", ["nutpie.sample._add_arrow_data"])
    monkeypatch.setattr(_trace, "to_datatree", None)     # the fallback must not use it
    slow = _groups(_trace.sample(compiled, **KW))
    for name in fast:
        assert fast[name].identical(slow[name]), name


@pytest.mark.slow
def test_fit_and_summary_do_not_import_arviz_or_matplotlib():
    code = textwrap.dedent("""
        import sys
        import harvest as hv
        fit = hv.bayes.fit_prevalence(hv.datasets.load("farms"), "child_labour", rng=2,
                                      draws=150, tune=150, chains=2, check=True)
        fit.summary(); fit.compare(); fit.diagnostics(warn=False)
        heavy = ("arviz", "arviz_stats", "arviz_plots", "matplotlib", "scipy.stats")
        print(sorted(m for m in heavy if m in sys.modules))
        import arviz, xarray
        print(isinstance(fit.posterior, xarray.DataTree), callable(arviz.from_dict),
              sys.modules["arviz"] is arviz)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split("\n")
    assert out[0] == "[]"
    assert out[1] == "True True True"


def _key_of(model):
    """A graph key of ``model``'s log density (data, sizes and values read from inputs)."""
    import pytensor
    import pytensor.tensor as pt
    from pytensor.graph import clone_replace

    x, buf = pt.dvector("x"), pt.dvector("buf")
    values = [model.rvs_to_values[v] for v in model.free_RVs]
    # a stand-in replacement is enough to compare keys of two builds of one model
    point = model.initial_point()
    replace = {v: pt.zeros(np.shape(point[v.name])) + x.sum() for v in values}
    replace.update({d: buf[: d.get_value().size].reshape(d.get_value().shape).astype(d.dtype)
                    for d in model.data_vars})
    replace.update({v: buf.shape[0].astype(v.dtype) for v in model.dim_lengths.values()
                    if isinstance(v, pytensor.compile.SharedVariable)})
    return _graph_key([x, buf], clone_replace([model.logp()], replace))


def test_graph_key_same_for_same_model_and_differs_otherwise():
    p = prepare(hv.datasets.load("farms"), "child_labour", "region", "year", "district",
                "weight")
    data = {"y_eff": p.y_eff, "n_eff": p.n_eff, "cell": p.cluster_cell.astype(np.int64)}
    A, T = p.n_areas, p.n_times
    key = _key_of(build_model("hierarchical", data, A, T))
    assert key is not None and key == _key_of(build_model("hierarchical", data, A, T))
    other_prior = _key_of(build_model("hierarchical", data, A, T, {"cluster_scale": 2.0}))
    other_effects = _key_of(build_model("hierarchical", data, A, T, area_effects="random"))
    assert len({key, other_prior, other_effects}) == 3


def test_graph_key_ignores_names_sees_constants_and_refuses_other_roots():
    import pytensor
    import pytensor.tensor as pt

    x, y = pt.dvector("x"), pt.dvector("y")
    shared = pytensor.shared(np.ones(3), name="s")
    assert _graph_key([x], [x * 2 + 1]) == _graph_key([y], [y * 2 + 1])   # names don't count
    assert _graph_key([x], [x * shared]) is None
    assert _graph_key([x], [x * 2.0]) != _graph_key([x], [x * 3.0])


@pytest.mark.slow
def test_later_process_loads_the_callbacks_without_compiling(tmp_path):
    """Second process, same cache: the callbacks come from the graph-keyed cache entry."""
    import os

    code = textwrap.dedent("""
        import numpy as np
        import harvest as hv
        from harvest.bayes._compile import compile_model
        from harvest.bayes._data import prepare
        from harvest.bayes.models import build_model
        p = prepare(hv.datasets.load("farms"), "child_labour", "region", "year", "district",
                    "weight")
        data = {"theta_hat": np.full((p.n_areas, p.n_times), -1.0),
                "inv_var": np.full((p.n_areas, p.n_times), 4.0),
                "mask": np.ones((p.n_areas, p.n_times))}
        c = compile_model(build_model("smoothed_direct", data, p.n_areas, p.n_times))
        print(c.logp_func is None, c.compiled_logp_func.cache_hits)
    """)
    env = {**os.environ, "PYTENSOR_FLAGS": f"base_compiledir={tmp_path}"}
    runs = [subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True, check=True).stdout.strip() for _ in range(2)]
    assert runs == ["False 0", "True 1"]
