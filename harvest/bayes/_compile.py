"""Compile a PyMC model for nutpie: machine code that does not depend on the data's sizes.

Why not ``nutpie.compile_pymc_model``: it wraps the PyTensor log density in a C callback
that reads each ``pm.Data`` array through a generic record of pointers and shapes. numba
types and generates that callback again in every Python process, and with it the whole
PyTensor graph it calls (numba links a callee's code into its caller): 4-7 s per process on
these machines even when every PyTensor function comes from PyTensor's disk cache, and the
graph itself is specialised to the model's shapes, so a data set with one more district
compiles again.

Here the model's sizes travel with its data. Everything the log density needs besides the
unconstrained point ``x`` sits in one float64 buffer (``user_data``)::

    [length, dims..., (start, shape...) per free variable, (start, shape...) per data
     array, data arrays...]

The PyTensor graph reads the dimension lengths, slices and reshapes ``x`` and the data from
that buffer itself (integers are exact in float64), so its types carry no static shapes.
The log-density graph, the graph of the stored values and the two small C callbacks around
them are then compiled once per *form* of model (e.g. the hierarchical model with fixed
area levels and a random walk) and kept in PyTensor's numba disk cache; any later process,
with any data of that form, loads them in about a second. The callbacks are cached under a
key made of the two graphs' PyTensor cache keys.

Floating point: PyTensor's numba fast-math flags are turned off for these functions, so the
code numba generates in memory and the code it stores in the cache compute bit-identical
results, and the same seed gives the same draws in the first process on a machine and in
every later one.

The result is nutpie's own :class:`nutpie.compile_pymc.CompiledPyMCModel` (same trace
layout; same initial points: PyMC support points jittered by U(-1, 1) on the unconstrained
scale), so ``nutpie.sample`` treats it exactly as a model compiled by nutpie.

What it relies on: that class's fields, two private helpers of ``nutpie.compile_pymc``, and
PyTensor's numba source cache (``pytensor.link.numba.cache``) and config flags. None of these
are public, and harvest pins no versions: :func:`missing_internals` checks, before the first
compilation in a process, that every one of them is there in the installed nutpie and
PyTensor. Where one is missing (a release that changed them),
:func:`harvest.bayes.fit_prevalence` compiles with ``nutpie.compile_pymc_model`` instead and
says so once (:class:`harvest._errors.CompilerFallbackWarning`): the same model and
posterior, only slower to compile (docs: methods/bayes.md, "Compilation").

PyMC, PyTensor, numba and nutpie are imported inside the functions only (nutpie through
:func:`harvest.bayes._trace.import_nutpie`, which leaves ArviZ unloaded).
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from math import prod

import numpy as np

from harvest.bayes._trace import import_nutpie

__all__ = ["compile_model", "missing_internals", "COMPILERS"]

#: ``"harvest"``: this module; ``"nutpie"``: ``nutpie.compile_pymc_model``.
COMPILERS = ("harvest", "nutpie")

#: Bump when :data:`_WRAPPERS` or the buffer layout change (part of the disk-cache key).
_WRAPPER_VERSION = 2

# The two C callbacks nutpie calls: log density + gradient, and the values stored in the
# trace (``data_[0]`` is the buffer's length). Generated from source so that PyTensor's
# numba cache can hold them on disk.
_WRAPPERS = """
def logp(dim, x_, out_, logp_, data_):
    n = np.int64(numba.carray(data_, (1,))[0])
    x = numba.carray(x_, (dim,))
    out = numba.carray(out_, (dim,))
    d = numba.carray(data_, (n,))
    value, grad = logp_jit(x, d)
    if grad.shape[0] != dim:
        return -1
    bad = False
    for i in range(dim):
        out[i] = grad[i]
        if not np.isfinite(grad[i]):
            bad = True
    logp_[0] = value
    if bad:
        return 3
    if not np.isfinite(value):
        return 4
    return 0


def expand(dim, n_out, x_, out_, data_):
    n = np.int64(numba.carray(data_, (1,))[0])
    x = numba.carray(x_, (dim,))
    out = numba.carray(out_, (n_out,))
    d = numba.carray(data_, (n,))
    (values,) = expand_jit(x, d)
    if values.shape[0] != n_out:
        return -1
    for i in range(n_out):
        out[i] = values[i]
    return 0
"""


#: The fields of ``nutpie.compile_pymc.CompiledPyMCModel`` that :func:`compile_model` sets.
_NUTPIE_FIELDS = ("_n_dim", "dims", "_coords", "_shapes", "compiled_logp_func",
                  "compiled_expand_func", "initial_point_func", "shared_data", "shared_var_keys",
                  "user_data", "n_expanded", "shape_info", "logp_func", "expand_func",
                  "reparameterized_names")
#: (module, attribute) pairs :func:`compile_model` and :func:`_c_wrappers` use.
_INTERNALS = (("nutpie.compile_pymc", "CompiledPyMCModel"),
              ("nutpie.compile_pymc", "_prepare_dims_and_coords"),
              ("nutpie.compile_pymc", "_rv_dict_to_flat_array_wrapper"),
              ("pytensor.link.numba.cache", "CACHED_SRC_FUNCTIONS"),
              ("pytensor.link.numba.cache", "compile_numba_function_src"),
              ("pymc.initial_point", "make_initial_point_fn"))
#: PyTensor config flags :func:`compile_model` reads or changes.
_FLAGS = ("numba__cache", "numba__fastmath")


def missing_internals() -> list[str]:
    """What this module needs from nutpie, PyTensor and PyMC that the installed ones lack.

    Returns
    -------
    list of str
        Empty when the fast route can run; otherwise one entry per missing piece (e.g.
        ``"nutpie.compile_pymc.CompiledPyMCModel field 'user_data'"``).

    Examples
    --------
    >>> from harvest.bayes._compile import missing_internals
    >>> missing_internals()
    []
    """
    import importlib

    import_nutpie()                    # before nutpie.compile_pymc: ArviZ stays unloaded
    missing = []
    for module_name, name in _INTERNALS:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            missing.append(f"module {module_name}")
            continue
        if not hasattr(module, name):
            missing.append(f"{module_name}.{name}")
    if not missing:
        from nutpie.compile_pymc import CompiledPyMCModel

        if not dataclasses.is_dataclass(CompiledPyMCModel):
            missing.append("nutpie.compile_pymc.CompiledPyMCModel as a dataclass")
        else:
            fields = {f.name for f in dataclasses.fields(CompiledPyMCModel)}
            missing += [f"nutpie.compile_pymc.CompiledPyMCModel field {f!r}"
                        for f in _NUTPIE_FIELDS if f not in fields]
        if not callable(getattr(CompiledPyMCModel, "with_data", None)):
            missing.append("nutpie.compile_pymc.CompiledPyMCModel.with_data")
        import pytensor

        missing += [f"pytensor.config.{flag}" for flag in _FLAGS
                    if not hasattr(pytensor.config, flag)]
    return missing


@dataclasses.dataclass(frozen=True)
class _Layout:
    """Where the sizes, the free variables and the data sit in the flat buffers."""

    dims: tuple[str, ...]                  # dimension names, in header order
    free: dict                             # value-variable name -> shape
    data: dict                             # data name -> shape
    dtypes: dict                           # data name -> dtype

    @property
    def header_size(self) -> int:
        return (1 + len(self.dims) + sum(1 + len(s) for s in self.free.values())
                + sum(1 + len(s) for s in self.data.values()))

    def pack(self, dim_lengths: dict, values: dict) -> np.ndarray:
        """The buffer for these dimension lengths and data arrays (checked)."""
        header = [float(dim_lengths[d]) for d in self.dims]
        start = 0
        for shape in self.free.values():
            header += [start, *shape]
            start += prod(shape)
        start = self.header_size
        parts = []
        for name, shape in self.data.items():
            v = np.asarray(values[name])
            if v.shape != tuple(shape):
                raise ValueError(f"data variable {name!r} has shape {v.shape}; the compiled "
                                 f"model needs {tuple(shape)}")
            if np.dtype(self.dtypes[name]).kind in "iub" and not np.array_equal(v, np.round(v)):
                raise ValueError(f"data variable {name!r} must hold whole numbers")
            header += [start, *shape]
            start += v.size
            parts.append(v.astype(np.float64).ravel())
        buf = np.concatenate([[float(start)], header, *parts])
        if buf.size != start:  # pragma: no cover - header_size and pack disagree
            raise RuntimeError(f"internal error: data buffer of {buf.size} values, "
                               f"header says {start}")
        buf.flags.writeable = False
        return buf


def _symbolic(layout: _Layout, buf, x):
    """Graph replacements: dimension lengths, free variables and data read from ``buf``."""
    pos = 1

    def read(source, ndim):
        # (start, shape...) at ``pos`` in the header -> that slice of ``source``, reshaped
        nonlocal pos
        start = buf[pos].astype("int64")
        shape = [buf[pos + 1 + i].astype("int64") for i in range(ndim)]
        pos += 1 + ndim
        return source[start:start + prod(shape)].reshape(shape) if shape else source[start]

    dims = {}
    for name in layout.dims:
        dims[name] = buf[pos].astype("int64")
        pos += 1
    free = {name: read(x, len(shape)) for name, shape in layout.free.items()}
    data = {name: read(buf, len(shape)).astype(layout.dtypes[name])
            for name, shape in layout.data.items()}
    return dims, free, data


def _locked(fn):
    """``fn`` behind a lock: nutpie's chains ask for initial points from several threads."""
    lock = threading.Lock()

    def call(*args, **kwargs):
        with lock:
            return fn(*args, **kwargs)

    return call


def _compiled_class():
    """A subclass of nutpie's compiled PyMC model whose data live in one float buffer."""
    from nutpie.compile_pymc import CompiledPyMCModel

    @dataclasses.dataclass(frozen=True)
    class FlatDataModel(CompiledPyMCModel):
        layout: _Layout | None = None
        dim_lengths: dict = dataclasses.field(default_factory=dict)

        def with_data(self, **updates):
            """The same compiled model with new values of (some of) its data arrays."""
            unknown = set(updates) - set(self.layout.data)
            if unknown:
                raise KeyError(f"unknown data variable(s) {sorted(unknown)}; the model has "
                               f"{sorted(self.layout.data)}")
            values = {**self.shared_data, **updates}
            buf = self.layout.pack(self.dim_lengths, values)
            return dataclasses.replace(self, shared_data=values, user_data=buf)

    return FlatDataModel


def _wrapper_sources(jits: dict, cache_key: str | None):
    """The two callbacks' Python functions (registered under ``cache_key`` when given)."""
    import numba
    from numba import types
    from pytensor.link.numba.cache import compile_numba_function_src

    dptr = types.CPointer(types.double)
    sigs = {"logp": types.int64(types.uint64, dptr, dptr, dptr, dptr),
            "expand": types.int64(types.uint64, types.uint64, dptr, dptr, dptr)}
    return [(compile_numba_function_src(
        _WRAPPERS, name, {"__name__": __name__, "numba": numba, "np": np, **jits},
        cache_key=None if cache_key is None else f"{cache_key}-{name}"), sig)
        for name, sig in sigs.items()]


def _c_wrappers(logp_fn, expand_fn, graph_key: str | None = None):
    """Compile (or load from PyTensor's numba disk cache) the two C callbacks.

    ``logp_fn`` and ``expand_fn`` are PyTensor functions compiled with ``mode="NUMBA"``;
    the callbacks call their jitted graphs. They are cached under ``graph_key`` (see
    :func:`_graph_key`) when given, else under a key made of the two graphs' PyTensor cache
    keys. When neither key exists (not cacheable), or PyTensor's numba cache is off
    (``numba__cache=False``), the callbacks are compiled in memory only.
    """
    import numba
    import pytensor
    from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS

    jits = {"logp_jit": logp_fn.vm.jit_fn, "expand_jit": expand_fn.vm.jit_fn}
    cache_key = None
    if pytensor.config.numba__cache:
        cache_key = graph_key
        keys = [CACHED_SRC_FUNCTIONS.get(j.py_func) for j in jits.values()]
        if cache_key is None and all(k is not None for k in keys):
            cache_key = hashlib.sha256(repr(("harvest.bayes", _WRAPPER_VERSION, *keys))
                                       .encode()).hexdigest()
    return tuple(numba.cfunc(sig, cache=cache_key is not None)(fn)
                 for fn, sig in _wrapper_sources(jits, cache_key))


class _NotCompiled:
    """Stands in for the jitted graphs when the callbacks are only looked up in the cache:
    numba cannot type it, so a cache miss fails to compile instead of compiling."""


def _cached_wrappers(graph_key: str):
    """The two C callbacks from PyTensor's numba disk cache, or None if not both are there.

    Nothing is compiled: on a miss numba tries to type the callbacks, fails on the
    stand-in for the jitted graphs, and the caller compiles them the long way.
    """
    import numba

    stand_in = _NotCompiled()
    out = []
    for fn, sig in _wrapper_sources({"logp_jit": stand_in, "expand_jit": stand_in},
                                    graph_key):
        try:
            out.append(numba.cfunc(sig, cache=True)(fn))
        except numba.core.errors.NumbaError:
            return None
    return tuple(out)


#: PyTensor configuration that can change how a graph is rewritten or compiled (in the key).
_KEY_FLAGS = ("floatX", "cast_policy", "optimizer", "optimizer_excluding",
              "optimizer_including", "optimizer_requiring", "optdb__max_use_ratio",
              "optdb__position_cutoff", "numba__fastmath", "tensor__cmp_sloppy",
              "on_opt_error", "mode", "linker", "check_input", "cycle_detection",
              "scan__allow_output_prealloc")


def _versions() -> tuple:
    """Versions of everything that shapes the machine code of a graph (part of its key)."""
    import sys
    from importlib.metadata import PackageNotFoundError, version

    out = [sys.version, _WRAPPER_VERSION]
    for package in ("pytensor", "pymc", "numba", "llvmlite", "numpy", "nutpie"):
        try:
            out.append((package, version(package)))
        except PackageNotFoundError:
            out.append((package, None))
    return tuple(out)


def _graph_key(inputs: list, outputs: list) -> str | None:
    """A key of the *un-rewritten* graph from ``inputs`` to ``outputs``, or None.

    Why: PyTensor's own cache keys are those of the rewritten graphs, and rewriting the
    log density and its gradient and turning them into numba functions is most of what a
    later process spends compiling (1-2 s) only to find the callbacks in the disk cache.
    The graph before rewriting determines the rewritten one, given the same versions of
    PyTensor, PyMC, numba and the rest (:func:`_versions`) and the same PyTensor settings
    (:data:`_KEY_FLAGS`), which are part of the key too.

    The key covers every node in topological order (its Op, pickled, which holds all its
    parameters; which earlier node or input each input is; its output types) and every
    constant's type and data, but no names, ids or creation traces, so the same model
    built in another process gives the same key. None where the graph holds a root other
    than ``inputs`` and constants (e.g. a random generator: refused later, with its
    message, by the long route) or an Op that does not pickle.
    """
    import pickle

    import pytensor
    from pytensor.graph.basic import Constant

    try:
        from pytensor.graph.traversal import io_toposort
    except ImportError:  # PyTensor before 2.31
        from pytensor.graph.basic import io_toposort

    flags = [(f, str(getattr(pytensor.config, f, None))) for f in _KEY_FLAGS]
    digest = hashlib.sha256()
    digest.update(repr((_versions(), flags)).encode())
    where = {v: ("input", i) for i, v in enumerate(inputs)}
    constants = 0

    def ref(v):
        nonlocal constants
        if v in where:
            return where[v]
        if not isinstance(v, Constant):
            raise LookupError(v)
        data = v.data
        if isinstance(data, np.ndarray):
            body = (data.dtype.str, data.shape, data.tobytes())
        else:
            body = pickle.dumps(data, protocol=4)
        digest.update(repr(("constant", constants, str(v.type), body)).encode())
        where[v] = ("constant", constants)
        constants += 1
        return where[v]

    try:
        for i, node in enumerate(io_toposort(inputs, outputs)):
            args = [ref(v) for v in node.inputs]
            op = type(node.op)
            digest.update(repr((i, op.__module__, op.__qualname__, args,
                                [str(o.type) for o in node.outputs])).encode())
            digest.update(pickle.dumps(node.op, protocol=4))
            for j, out in enumerate(node.outputs):
                where[out] = ("node", i, j)
        digest.update(repr([ref(o) for o in outputs]).encode())
    except Exception:  # noqa: BLE001 - no key: the long route compiles (and checks)
        return None
    return digest.hexdigest()


def compile_model(model):
    """Compile ``model`` (a ``pymc.Model``) for ``nutpie.sample``.

    Parameters
    ----------
    model : pymc.Model
        Every ``pm.Data`` variable can be replaced through ``with_data`` (same shapes).

    Returns
    -------
    nutpie.compile_pymc.CompiledPyMCModel
        With ``with_data(**arrays)`` to sample the same structure with new data.

    Raises
    ------
    ValueError
        If the model holds shared variables other than ``pm.Data`` arrays and dimension
        lengths (e.g. random generators in the log density), which the buffer cannot carry.
    """
    import pytensor
    import pytensor.tensor as pt

    import_nutpie()
    from nutpie.compile_pymc import _prepare_dims_and_coords, _rv_dict_to_flat_array_wrapper
    from pymc.initial_point import make_initial_point_fn
    from pytensor.graph import clone_replace, rewrite_graph

    free = list(model.free_RVs)
    values = [model.rvs_to_values[v] for v in free]
    pymc_init = make_initial_point_fn(model=model, jitter_rvs=set(free),
                                      return_transformed=True)
    point = pymc_init(0)
    shared = list(model.data_vars)
    data_values = {d.name: np.asarray(d.get_value()) for d in shared}
    dim_vars = {name: v for name, v in model.dim_lengths.items()
                if isinstance(v, pytensor.compile.SharedVariable)}
    dim_lengths = {name: int(v.get_value()) for name, v in dim_vars.items()}
    layout = _Layout(dims=tuple(dim_vars),
                     free={v.name: tuple(np.shape(point[v.name])) for v in values},
                     data={k: v.shape for k, v in data_values.items()},
                     dtypes={d.name: d.type.dtype for d in shared})
    packed = layout.pack(dim_lengths, data_values)
    n_dim = sum(prod(s) for s in layout.free.values())

    x = pt.dvector("unconstrained_point")
    buf = pt.dvector("data")
    dims, free_sym, data_sym = _symbolic(layout, buf, x)
    replace = {v: free_sym[v.name].astype(v.dtype) for v in values}
    replace.update({d: data_sym[d.name] for d in shared})
    replace.update({dim_vars[k]: dims[k] for k in dim_vars})

    model_logp = model.logp()
    rest = [v for v in model.unobserved_value_vars if v not in values]
    rest_graph = clone_replace([pt.as_tensor(v) for v in rest], replace)

    with pytensor.config.change_flags(numba__fastmath=False):
        # a later process: the callbacks of this very graph are in the disk cache
        graph_key = None
        if pytensor.config.numba__cache:
            graph_key = _graph_key([x, buf], [*clone_replace([model_logp], replace),
                                              *rest_graph])
        cached = None if graph_key is None else _cached_wrappers(graph_key)
        if cached is not None:
            logp_c, expand_c = cached
            logp_fn = expand_fn = None
        else:
            logp = rewrite_graph(model_logp, include=["canonicalize", "stabilize"])
            grad = pt.concatenate([g.ravel() for g in pt.grad(logp, values)])
            logp, grad = clone_replace([logp, grad], replace)
            expanded = pt.concatenate([x, *[r.ravel().astype("float64") for r in rest_graph]])
            logp_fn = pytensor.function([x, buf], [logp, grad], mode="NUMBA",
                                        trust_input=True, on_unused_input="ignore")
            expand_fn = pytensor.function([x, buf], [expanded], mode="NUMBA",
                                          trust_input=True, on_unused_input="ignore")
            for fn in (logp_fn, expand_fn):
                extra = [i for i in fn.maker.fgraph.inputs if i not in (x, buf)]
                if extra:
                    raise ValueError(f"the model's log density depends on shared variables "
                                     f"{[str(i) for i in extra]} that are neither pm.Data "
                                     "nor dimension lengths; use compiler='nutpie'")
            logp_c, expand_c = _c_wrappers(logp_fn, expand_fn, graph_key)

    shape_fn = pytensor.function([x, buf], [r.shape for r in rest_graph],
                                 mode="FAST_COMPILE", on_unused_input="ignore")
    x0 = np.concatenate([np.ravel(point[v.name]) for v in values])
    rest_shapes = [tuple(int(i) for i in s) for s in shape_fn(x0, packed)]
    n_expanded = n_dim + sum(prod(s) for s in rest_shapes)

    names = [*layout.free, *(v.name for v in rest)]
    shapes = [*layout.free.values(), *rest_shapes]
    starts = np.cumsum([0, *(prod(s) for s in shapes)])
    bounds = zip(starts[:-1], starts[1:], strict=True)
    shape_info = (names, [slice(int(a), int(b)) for a, b in bounds], shapes)
    reparameterized = [model.rvs_to_values[v].name for v in free
                       if model.rvs_to_transforms.get(v) is not None]
    dims_out, coords = _prepare_dims_and_coords(model, shape_info, reparameterized)
    init = _rv_dict_to_flat_array_wrapper(_locked(pymc_init), names=list(layout.free),
                                          shapes=list(layout.free.values()))
    cls = _compiled_class()
    return cls(
        _n_dim=n_dim, dims=dims_out, _coords=coords, _shapes=dict(zip(names, shapes, strict=True)),
        compiled_logp_func=logp_c, compiled_expand_func=expand_c, initial_point_func=init,
        shared_data=data_values, shared_var_keys={}, user_data=packed,
        n_expanded=n_expanded, shape_info=shape_info, logp_func=logp_fn,
        expand_func=expand_fn, reparameterized_names=reparameterized,
        layout=layout, dim_lengths=dim_lengths,
    )
