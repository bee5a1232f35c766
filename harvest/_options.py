"""Validation of option strings, in one place, so every message reads the same.

Examples
--------
>>> check_option("ci", "logit", PROPORTION_CI)
'logit'
"""

from __future__ import annotations

import numpy as np

from harvest._errors import RngError

LONELY_PSU = ("fail", "remove", "certainty", "adjust", "average")
PROPORTION_CI = (
    "logit", "xlogit", "korn-graubard", "wald", "likelihood", "asin", "wilson", "jeffreys",
)
NA_POLICY = ("fail", "drop")
#: The estimator kinds of ``_estimate_vcov``, ``compare``, ``replicate_estimates``.
KINDS = ("proportion", "mean", "total", "ratio")
REPLICATE_METHODS = ("bootstrap", "jk1", "jkn", "brr", "fay")
COMPARE_MEASURES = ("difference", "ratio", "odds_ratio")
ADJUST = ("holm", "bonferroni", "fdr_bh", None)
#: PPS-without-replacement variances of ``SurveyDesign(pps=...)`` (None: with replacement).
PPS = ("brewer", "overton", "ht", None)
#: Randomized-response models (harvest.sensitive).
RR_MODELS = ("forced", "warner", "unrelated", "crosswise")
#: Replicate-weight methods a user can name for supplied weights (``"other"``: own scale).
SUPPLIED_METHODS = (*REPLICATE_METHODS, "other")
#: Calibration functions (R ``calfun``): ``design.calibrate(method=...)``, ``--calibrate-method``.
CALIBRATION_METHODS = ("linear", "raking", "logit")
#: Families of ``design.glm`` (R ``svyglm``).
GLM_FAMILIES = ("gaussian", "binomial", "quasibinomial", "poisson", "quasipoisson")
#: The tests of ``design.chisq`` (R ``svychisq(statistic=)``; harvest.association).
CHISQ_STATISTICS = ("F", "Chisq", "Wald", "adjWald", "lincom", "saddlepoint")
#: What ``harvest estimate --statistic`` can estimate (design methods of these names).
STATISTICS = ("proportion", "mean", "total", "quantile")
#: ``design.quantile(interval=)`` on a Taylor design and on a replicate design (R
#: ``svyquantile`` ``interval.type``), and its quantile rules (``qrule``).
QUANTILE_INTERVALS = ("mean", "beta", "xlogit", "asin", "score")
QUANTILE_REPLICATE_INTERVALS = ("mean", "quantile")
QRULES = ("math", "school", "shahvaish", "hf1", "hf2", "hf3", "hf4", "hf5", "hf6", "hf7",
          "hf8", "hf9")


def as_list(columns) -> list:
    """Column argument(s) as a list: ``None`` -> ``[]``, one name -> ``[name]``.

    Examples
    --------
    >>> as_list("region"), as_list(("region", "year")), as_list(None)
    (['region'], ['region', 'year'], [])
    """
    if columns is None:
        return []
    if isinstance(columns, str) or not isinstance(columns, list | tuple):
        return [columns]
    return list(columns)


def check_option(name: str, value, allowed) -> object:
    """Return ``value`` if it is one of ``allowed``, else raise a ValueError naming it.

    Parameters
    ----------
    name : str
        The argument's name, shown in backticks in the message.
    value : object
        What the caller passed.
    allowed : sequence
        The accepted values, compared exactly.
    """
    if value not in allowed:
        shown = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"`{name}` must be one of {shown}; got {value!r}.")
    return value


def check_probability(name: str, value, *, array: bool = False,
                      rule: str = "strictly between 0 and 1"):
    """Return ``value`` as a float strictly between 0 and 1, or raise a ValueError naming it.

    The one check of a probability (levels, power, alpha, planned proportions).

    Parameters
    ----------
    name : str
        The argument's name, shown in backticks in the message.
    value : float or array_like
    array : bool, default False
        Accept an array and return a float array (every element checked; the message
        names the first bad one and its position). Otherwise a number, returned as float.
    rule : str
        How the message states the rule.

    Examples
    --------
    >>> check_probability("power", 0.8)
    0.8
    >>> check_probability("p", [0.2, 0.5], array=True).tolist()
    [0.2, 0.5]
    """
    try:
        arr = np.asarray(value, dtype=float) if array else np.asarray(float(value))
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be a number between 0 and 1; got {value!r}.") from None
    bad = ~((arr > 0.0) & (arr < 1.0))
    if bad.any():
        if arr.ndim == 0:
            got = repr(arr.item())
        else:
            pos = int(np.flatnonzero(bad.ravel())[0])
            got = f"{arr.ravel()[pos].item()!r} at position {pos}"
        raise ValueError(f"`{name}` must be {rule}; got {got}.")
    return arr if array else float(arr)


def check_level(level) -> float:
    """Return a confidence level strictly between 0 and 1, or raise ValueError."""
    return check_probability("level", level)


def as_generator(rng) -> np.random.Generator:
    """The random source of an ``rng`` keyword: ``numpy.random.default_rng(rng)``.

    A Generator comes back unchanged (numpy's own rule); a seed (int, sequence of ints,
    SeedSequence) or None makes a new one. Anything else raises
    ``harvest._errors.RngError`` (a TypeError and a ValueError) naming ``rng``.

    Examples
    --------
    >>> g = np.random.default_rng(1)
    >>> as_generator(g) is g, as_generator(1).integers(10) == g.integers(10)
    (True, np.True_)
    """
    try:
        return np.random.default_rng(rng)
    except (TypeError, ValueError):
        raise RngError(f"`rng` must be a seed (int), None or a numpy.random.Generator; "
                       f"got {rng!r}.") from None
