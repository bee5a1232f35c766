"""harvest: defensible numbers from cotton-harvest field observations.

Design-based estimates (Taylor linearisation and replicate weights) that agree
with R ``survey``, year-over-year comparisons, Bayesian small-area estimates,
the field instruments, synthetic missions with known truth, and reporting.

Heavy dependencies (PyMC, ArviZ, matplotlib, seaborn) are imported only by the
functions that need them, so ``import harvest`` stays fast.

Examples
--------
>>> import harvest as hv
>>> farms = hv.datasets.load("farms")
>>> design = hv.SurveyDesign(farms, weights="weight", strata="stratum",
...                          psu="district", fpc="n_districts")
>>> table = design.proportion("child_labour", by="region")
"""

from importlib import import_module

from harvest._errors import DataError as DataError
from harvest._errors import HarvestWarning as HarvestWarning

__version__ = "0.1.0"

# Public names -> the module that defines them. Loaded on first access so that
# importing the package does not import every submodule.
_LAZY_ATTRS = {
    "SurveyDesign": "harvest.design",
    "ReplicateDesign": "harvest.replicate_design",
    "read": "harvest.io",
    "validate": "harvest.instruments",
    "pool_years": "harvest.prepare",
}
_LAZY_MODULES = {
    "datasets", "simulate", "plot", "plan", "bayes", "report", "indicators",
    "instruments", "io", "intervals", "compare", "replicates", "design", "tables",
    "prepare",
    "regression",
    "sensitive", "forced_labour",
}

__all__ = sorted([*_LAZY_ATTRS, *_LAZY_MODULES, "DataError", "HarvestWarning", "__version__"])


def __getattr__(name):
    if name in _LAZY_ATTRS:
        value = getattr(import_module(_LAZY_ATTRS[name]), name)
    elif name in _LAZY_MODULES:
        value = import_module(f"harvest.{name}")
    else:
        raise AttributeError(f"module 'harvest' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return __all__
