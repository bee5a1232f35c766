"""The size-independent nutpie compilation (harvest.bayes._compile)."""

from __future__ import annotations

import ctypes
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import harvest as hv
from harvest.bayes import _compile as compile_internals
from harvest.bayes._compile import compile_model
from harvest.bayes._data import prepare
from harvest.bayes.models import build_model

pytest.importorskip("pymc")
pytest.importorskip("nutpie")

_P = ctypes.POINTER(ctypes.c_double)


@pytest.fixture(scope="module")
def prep():
    return prepare(hv.datasets.load("farms"), "child_labour", "region", "year", "district",
                   "weight")


def _hier_data(p, take=None):
    take = slice(None) if take is None else take
    return {"y_eff": p.y_eff[take], "n_eff": p.n_eff[take],
            "cell": p.cluster_cell[take].astype(np.int64)}


def _direct_data(A, T, seed=0):
    rng = np.random.default_rng(seed)
    mask = (rng.random((A, T)) > 0.2).astype(float)
    return {"theta_hat": rng.normal(-1, 0.5, (A, T)), "inv_var": mask * rng.uniform(2, 9, (A, T)),
            "mask": mask}


def _c_logp(compiled, x):
    """Log density and gradient through the C callback nutpie calls."""
    out = np.zeros(compiled.n_dim)
    value = np.zeros(1)
    rc = compiled.compiled_logp_func.ctypes(
        compiled.n_dim, x.ctypes.data_as(_P), out.ctypes.data_as(_P),
        value.ctypes.data_as(_P), compiled.user_data.ctypes.data_as(_P))
    return rc, value[0], out


def _c_expand(compiled, x):
    out = np.zeros(compiled.n_expanded)
    rc = compiled.compiled_expand_func.ctypes(
        compiled.n_dim, compiled.n_expanded, x.ctypes.data_as(_P), out.ctypes.data_as(_P),
        compiled.user_data.ctypes.data_as(_P))
    return rc, out


def _pymc_reference(m, compiled, x):
    """PyMC's own log density, gradient and deterministics at the flat point ``x``."""
    names, slices, shapes = compiled.shape_info
    point = {n: x[s].reshape(sh) for n, s, sh in zip(names, slices, shapes, strict=True)
             if n in {v.name for v in m.value_vars}}
    logp = m.compile_logp(mode="FAST_COMPILE")(point)
    dlogp = m.compile_dlogp(mode="FAST_COMPILE")(point)
    return logp, dlogp, point


CASES = [
    ("hierarchical", "fixed", 2), ("hierarchical", "random", 2), ("hierarchical", "fixed", 1),
    ("smoothed_direct", "fixed", 2), ("smoothed_direct", "random", 3),
]


@pytest.mark.parametrize(("model", "effects", "T"), CASES)
def test_log_density_and_gradient_equal_pymc(prep, model, effects, T):
    import pytensor

    A = prep.n_areas
    if model == "hierarchical":
        data = _hier_data(prep)
        data["cell"] = data["cell"] // prep.n_times * T + data["cell"] % prep.n_times % T
    else:
        data = _direct_data(A, T)
    m = build_model(model, data, A, T, area_effects=effects)
    c = compile_model(m)
    rng = np.random.default_rng(1)
    for seed in range(5):
        x = c.initial_point_func(seed) + rng.normal(0, 0.7, c.n_dim)
        rc, value, grad = _c_logp(c, x)
        logp, dlogp, _ = _pymc_reference(m, c, x)
        assert rc == 0
        np.testing.assert_allclose(value, logp, rtol=1e-12)
        np.testing.assert_allclose(grad, dlogp, rtol=1e-10, atol=1e-10)
        rc, expanded = _c_expand(c, x)
        assert rc == 0
        np.testing.assert_array_equal(expanded[:c.n_dim], x)
        names, slices, shapes = c.shape_info
        eta = expanded[slices[names.index("eta")]].reshape(shapes[names.index("eta")])
        eta_graph = m.replace_rvs_by_values([m["eta"]])[0]
        ref = pytensor.function(m.value_vars, eta_graph, on_unused_input="ignore",
                                mode="FAST_COMPILE")(
            *[x[slices[names.index(v.name)]].reshape(shapes[names.index(v.name)])
              for v in m.value_vars])
        np.testing.assert_allclose(eta, ref, rtol=1e-12)


def test_same_code_for_other_sizes_and_with_data(prep):
    """A model with fewer clusters reuses the compiled graphs; with_data swaps data."""
    A, T = prep.n_areas, prep.n_times
    big = compile_model(build_model("hierarchical", _hier_data(prep), A, T))
    small_data = _hier_data(prep, slice(0, 40))
    small = compile_model(build_model("hierarchical", small_data, A, T))
    assert small.n_dim < big.n_dim
    assert small.compiled_logp_func.cache_hits or small.logp_func.vm.jit_fn.stats.cache_hits
    x = small.initial_point_func(3)
    rc, value, grad = _c_logp(small, x)
    ref_m = build_model("hierarchical", small_data, A, T)
    logp, dlogp, _ = _pymc_reference(ref_m, small, x)
    assert rc == 0
    np.testing.assert_allclose([value, *grad], [logp, *dlogp], rtol=1e-10, atol=1e-10)

    other = dict(small_data, y_eff=small_data["n_eff"] - small_data["y_eff"])
    swapped = small.with_data(y_eff=other["y_eff"])
    logp2, dlogp2, _ = _pymc_reference(build_model("hierarchical", other, A, T), small, x)
    rc, value2, grad2 = _c_logp(swapped, x)
    np.testing.assert_allclose([value2, *grad2], [logp2, *dlogp2], rtol=1e-10, atol=1e-10)
    # the original is unchanged (frozen dataclass, new buffer)
    assert _c_logp(small, x)[1] == value


def test_with_data_checks_names_shapes_and_integers(prep):
    A, T = prep.n_areas, prep.n_times
    c = compile_model(build_model("hierarchical", _hier_data(prep), A, T))
    with pytest.raises(KeyError, match="unknown data variable.*'y'"):
        c.with_data(y=np.zeros(3))
    with pytest.raises(ValueError, match="'n_eff' has shape \\(3,\\)"):
        c.with_data(n_eff=np.zeros(3))
    with pytest.raises(ValueError, match="'cell' must hold whole numbers"):
        c.with_data(cell=np.full(prep.n_clusters, 0.5))
    assert not c.user_data.flags.writeable


def test_works_with_pytensor_numba_cache_off(prep):
    import pytensor

    A, T = prep.n_areas, prep.n_times
    data = _hier_data(prep, slice(0, 24))
    with pytensor.config.change_flags(numba__cache=False):
        m = build_model("hierarchical", data, A, T)
        c = compile_model(m)
    x = c.initial_point_func(1)
    rc, value, grad = _c_logp(c, x)
    logp, dlogp, _ = _pymc_reference(m, c, x)
    assert rc == 0 and c.compiled_logp_func.cache_hits == 0
    np.testing.assert_allclose([value, *grad], [logp, *dlogp], rtol=1e-10, atol=1e-10)


def test_model_with_random_generator_in_log_density_is_refused():
    import pymc as pm

    with pm.Model() as m:
        x = pm.Normal("x")
        pm.Potential("noise", x * pm.Normal.dist())
    with pytest.raises(ValueError, match="neither pm.Data nor dimension lengths"):
        compile_model(m)


def test_samples_like_nutpie_compiler(prep):
    """Same posterior (within Monte Carlo error) as nutpie.compile_pymc_model."""
    farms = hv.datasets.load("farms")
    kw = dict(rng=4, draws=400, tune=400, chains=2, check=False, progress=False)
    ours = hv.bayes.fit_prevalence(farms, "child_labour", **kw).summary()
    theirs = hv.bayes.fit_prevalence(farms, "child_labour", compiler="nutpie", **kw).summary()
    z = (ours["mean"] - theirs["mean"]) / np.hypot(ours["sd"], theirs["sd"])
    assert np.all(np.abs(z) < 0.5)  # identical posterior; MC error is ~sd / 15 here


def test_internals_the_fast_route_needs_are_checked(monkeypatch):
    import dataclasses

    import nutpie.compile_pymc

    assert compile_internals.missing_internals() == []  # the route the other tests take

    @dataclasses.dataclass(frozen=True)
    class Changed:                       # a release that renamed a field and a helper
        dims: dict
        data: object

        def with_data(self, **kw):
            return self

    monkeypatch.setattr(nutpie.compile_pymc, "CompiledPyMCModel", Changed)
    monkeypatch.delattr(nutpie.compile_pymc, "_prepare_dims_and_coords")
    missing = compile_internals.missing_internals()
    assert "nutpie.compile_pymc._prepare_dims_and_coords" in missing
    monkeypatch.setattr(nutpie.compile_pymc, "_prepare_dims_and_coords", None, raising=False)
    missing = compile_internals.missing_internals()
    assert "nutpie.compile_pymc.CompiledPyMCModel field 'user_data'" in missing
    assert "nutpie.compile_pymc.CompiledPyMCModel field 'dims'" not in missing


def test_falls_back_to_nutpie_compiler_once_when_internals_are_missing(monkeypatch):
    """Without the internals, the default route is nutpie's own compiler, said once."""
    from collections import OrderedDict

    import nutpie

    from harvest._errors import CompilerFallbackWarning
    from harvest.bayes import fit as fit_module

    farms = hv.datasets.load("farms")
    kw = dict(rng=4, draws=400, tune=400, chains=2, check=False, progress=False)
    ours = hv.bayes.fit_prevalence(farms, "child_labour", **kw).summary()

    def fast_route(model):
        raise AssertionError("the fast route ran although its internals are missing")

    calls = []

    def nutpie_route(model):
        calls.append(model)
        return compile_with_nutpie(model)

    compile_with_nutpie = nutpie.compile_pymc_model
    monkeypatch.setattr(fit_module, "_CACHE", OrderedDict())
    monkeypatch.setattr(fit_module, "_MISSING", None)
    monkeypatch.setattr(fit_module, "missing_internals",
                        lambda: ["nutpie.compile_pymc.CompiledPyMCModel field 'user_data'"])
    monkeypatch.setattr(fit_module, "compile_model", fast_route)
    monkeypatch.setattr(nutpie, "compile_pymc_model", nutpie_route)
    with pytest.warns(CompilerFallbackWarning, match="field 'user_data'") as said:
        fallback = hv.bayes.fit_prevalence(farms, "child_labour", **kw).summary()
        hv.bayes.fit_prevalence(farms, "child_labour", **{**kw, "rng": 5})
    assert len(said) == 1 and len(calls) == 1     # said once; compiled once, then cached
    z = (ours["mean"] - fallback["mean"]) / np.hypot(ours["sd"], fallback["sd"])
    assert np.all(np.abs(z) < 0.5)                # the same posterior


@pytest.mark.slow
def test_same_draws_in_a_new_process(tmp_path):
    """The first process (fresh compilation) and a later one (disk cache) agree exactly."""
    code = textwrap.dedent("""
        import harvest as hv
        fit = hv.bayes.fit_prevalence(hv.datasets.load("farms"), "child_labour", rng=7,
                                      draws=100, tune=100, chains=2, check=False)
        print(repr(float(fit.posterior["posterior"]["eta"].sum())))
    """)
    env = {"PYTENSOR_FLAGS": f"base_compiledir={tmp_path}"}
    import os

    env = {**os.environ, **env}
    runs = [subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True, check=True).stdout.strip() for _ in range(2)]
    assert runs[0] == runs[1]
