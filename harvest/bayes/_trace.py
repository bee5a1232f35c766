"""Sample with nutpie without importing all of ArviZ.

``import nutpie`` runs ``import arviz`` (its ``nutpie.sample`` module converts the trace
with ``arviz.from_dict``), and importing ArviZ imports ``arviz_stats`` (scipy.stats,
scipy.signal, xarray-einstats) and ``arviz_plots`` (matplotlib.pyplot): 2-3 s of every
process that fits a model, for a conversion that needs only ``arviz_base``. Two steps avoid
it:

* :func:`import_nutpie` imports nutpie while ``sys.modules["arviz"]`` holds a stand-in
  (taken out again right after): nutpie's module-level ``arviz`` name is bound to it, and
  ArviZ is imported, the ordinary way, the first time anything reads one of the stand-in's
  attributes (nutpie's own converter, on the fallback route below). Any other
  ``import arviz`` in the process is an ordinary import.
* :func:`sample` asks ``nutpie.sample`` for the raw arrow trace and converts it as
  ``nutpie.sample`` does (same groups, variables, dims, coords and attributes, nutpie's own
  ``_add_arrow_data`` for the arrays) with ``arviz_base.from_dict``, which is the function
  ``arviz.from_dict`` names (ArviZ 1.x).

What :func:`sample` relies on beyond nutpie's public API: ``nutpie.sample._add_arrow_data``,
``nutpie._lib.PyTrace.get_arrow_trace``/``is_arrow``, the ``return_raw_trace`` and
``blocking`` arguments of ``nutpie.sample``, and the settings (``_settings``) of the
background sampler it returns. :func:`missing_internals` checks them once per process;
where one is missing (a release that changed them) :func:`sample` calls ``nutpie.sample``
as it is (ArviZ then loads in full): the same draws, only a slower process.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import sys
import threading
import types

__all__ = ["import_nutpie", "sample", "to_datatree", "missing_internals"]

_LOCK = threading.Lock()

# None until the first fit in this process checks what :func:`sample` needs.
_MISSING: list | None = None

# nutpie's ``_extract``: the sample-stats columns each storage setting (all off by
# default, and harvest sets none) adds to the trace; the converter leaves them out.
_SKIPS = {
    "store_gradient": ["gradient"],
    "store_unconstrained": ["unconstrained_draw"],
    "adapt_options.mass_matrix_options.store_mass_matrix": [
        "mass_matrix_inv", "mass_matrix_eigvals", "mass_matrix_stds"],
    "store_divergences": ["divergence_start", "divergence_end", "divergence_momentum",
                          "divergence_start_gradient"],
    "store_transformed": ["transformed_position", "transformed_gradient",
                          "transformation_mu"],
}


class _OnDemand(types.ModuleType):
    """Stands in for a module: the real one is imported when an attribute is first read."""

    def __init__(self, spec):
        super().__init__(spec.name)
        self.__spec__ = spec

    def __getattr__(self, attr):          # only for attributes the stand-in lacks
        real = self.__dict__.get("_real_module")
        if real is None:
            with _LOCK:
                if sys.modules.get(self.__name__) is self:
                    del sys.modules[self.__name__]
                real = importlib.import_module(self.__name__)
                self.__dict__["_real_module"] = real
        return getattr(real, attr)


def import_nutpie():
    """``nutpie``, imported without importing ArviZ (see the module docstring).

    While nutpie imports, ``sys.modules["arviz"]`` is a stand-in that imports ArviZ (the
    ordinary way) and reads from it the first time one of its attributes is read; it is
    taken out of ``sys.modules`` again right after, so any later ``import arviz`` is an
    ordinary import. Does nothing special when nutpie or ArviZ are imported already.

    Examples
    --------
    >>> nutpie = import_nutpie()
    >>> callable(nutpie.sample)
    True
    """
    if "nutpie.sample" not in sys.modules and "arviz" not in sys.modules:
        spec = importlib.util.find_spec("arviz")
        if spec is not None:
            stand_in = _OnDemand(spec)
            sys.modules["arviz"] = stand_in
            try:
                import nutpie  # noqa: F401 - binds nutpie.sample.arviz to the stand-in
            finally:
                if sys.modules.get("arviz") is stand_in:
                    del sys.modules["arviz"]
    import nutpie

    return nutpie


def missing_internals() -> list[str]:
    """What :func:`sample` needs from nutpie and ArviZ that the installed ones lack.

    Returns
    -------
    list of str
        Empty when the trace can be converted without ArviZ's full import.

    Examples
    --------
    >>> from harvest.bayes._trace import missing_internals
    >>> missing_internals()
    []
    """
    import_nutpie()
    missing = []
    modules = {}
    for name in ("nutpie.sample", "nutpie._lib", "arviz_base"):
        try:
            modules[name] = importlib.import_module(name)
        except ImportError:
            missing.append(f"module {name}")
    if "nutpie.sample" in modules:
        ns = modules["nutpie.sample"]
        if not callable(getattr(ns, "_add_arrow_data", None)):
            missing.append("nutpie.sample._add_arrow_data")
        try:
            params = inspect.signature(ns.sample).parameters
        except (AttributeError, TypeError, ValueError):
            params = {}
        missing += [f"nutpie.sample(..., {p}=)" for p in ("return_raw_trace", "blocking")
                    if p not in params]
    if "nutpie._lib" in modules:
        trace = getattr(modules["nutpie._lib"], "PyTrace", None)
        missing += [f"nutpie._lib.PyTrace.{m}" for m in ("is_arrow", "get_arrow_trace")
                    if not hasattr(trace, m)]
    if "arviz_base" in modules and not callable(getattr(modules["arviz_base"], "from_dict",
                                                        None)):
        missing.append("arviz_base.from_dict")
    return missing


def _usable() -> bool:
    global _MISSING
    if _MISSING is None:
        _MISSING = missing_internals()
    return not _MISSING


def _nested(settings: dict, name: str):
    for part in name.split("."):
        if not isinstance(settings, dict) or part not in settings:
            return False
        settings = settings[part]
    return settings


def to_datatree(trace, compiled, settings: dict | None):
    """The ``xarray.DataTree`` ``nutpie.sample`` makes of a raw arrow ``trace``.

    ``save_warmup=False`` and ``store_unconstrained=False`` (what harvest asks for).
    ``settings`` is the sampler's ``as_dict()``; ``None`` where it is not available (the
    ``inference_library_settings`` attribute is then left out).
    """
    import pandas as pd
    from arviz_base import from_dict
    from nutpie import __version__
    from nutpie.sample import _add_arrow_data

    if not trace.is_arrow():
        raise ValueError("nutpie returned a trace that is not an arrow table")
    if settings is None:
        skip = [n for names in _SKIPS.values() for n in names]
    else:
        skip = [n for key, names in _SKIPS.items()
                if not _nested(settings.get("settings", {}), key) for n in names]
    draw_batches, stat_batches = trace.get_arrow_trace()
    n_chains = len(draw_batches)
    if n_chains != len(stat_batches):
        raise ValueError("nutpie returned draws and statistics of different chains")
    n_tune = [int(s.column("tuning").to_numpy().sum()) for s in stat_batches]
    n_post = max((d.num_rows - t for d, t in zip(draw_batches, n_tune, strict=True)),
                 default=0)
    posterior, stats, dims = {}, {}, {}
    for i, (draw, stat) in enumerate(zip(draw_batches, stat_batches, strict=True)):
        if draw.num_rows != stat.num_rows:
            raise ValueError("nutpie returned draws and statistics of different lengths")
        t = n_tune[i]
        _add_arrow_data(posterior, n_post, draw.slice(t, draw.num_rows - t), i, n_chains,
                        dims, [])
        _add_arrow_data(stats, n_post, stat.slice(t, stat.num_rows - t), i, n_chains,
                        dims, skip)
    for name in getattr(compiled, "reparameterized_names", None) or []:
        posterior.pop(name, None)
    attrs = {"inference_library": "nutpie", "inference_library_version": __version__}
    if settings is not None:
        attrs["inference_library_settings"] = json.dumps(settings)
    return from_dict({"posterior": posterior, "sample_stats": stats,
                      "warmup_posterior": {}, "warmup_sample_stats": {}},
                     dims=dims, save_warmup=False,
                     coords={k: pd.Index(v) for k, v in compiled.coords.items()},
                     attrs={"sample_stats": attrs})


def sample(compiled, **kwargs):
    """``nutpie.sample(compiled, save_warmup=False, **kwargs)``, converted without ArviZ.

    Parameters
    ----------
    compiled : nutpie compiled model
    **kwargs
        ``nutpie.sample`` arguments (``draws``, ``tune``, ``chains``, ``seed``,
        ``progress_bar``, ``target_accept`` ...), not ``save_warmup``,
        ``return_raw_trace``, ``blocking`` or storage options.

    Returns
    -------
    xarray.DataTree
        ``posterior`` and ``sample_stats`` groups, as ``nutpie.sample`` returns them.
    """
    nutpie = import_nutpie()
    if not _usable():
        return nutpie.sample(compiled, save_warmup=False, **kwargs)
    background = nutpie.sample(compiled, save_warmup=False, return_raw_trace=True,
                               blocking=False, **kwargs)
    # what nutpie.sample does with blocking=True
    try:
        trace = background.wait()
    except KeyboardInterrupt:
        trace = background.abort()
    except BaseException:
        background.cancel()
        raise
    settings = getattr(background, "_settings", None)
    try:
        settings = settings.as_dict() if settings is not None else None
    except Exception:  # noqa: BLE001 - only an attribute of the trace depends on it
        settings = None
    return to_datatree(trace, compiled, settings)
