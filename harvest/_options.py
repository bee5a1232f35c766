"""Validation of option strings, in one place, so every message reads the same.

Examples
--------
>>> check_option("ci", "logit", PROPORTION_CI)
'logit'
"""

from __future__ import annotations

LONELY_PSU = ("fail", "remove", "certainty", "adjust", "average")
PROPORTION_CI = (
    "logit", "xlogit", "korn-graubard", "wald", "likelihood", "asin", "wilson", "jeffreys",
)
NA_POLICY = ("fail", "drop")
REPLICATE_METHODS = ("bootstrap", "jk1", "jkn", "brr", "fay")
COMPARE_MEASURES = ("difference", "ratio", "odds_ratio")
ADJUST = ("holm", "bonferroni", "fdr_bh", None)
#: Replicate-weight methods a user can name for supplied weights (``"other"``: own scale).
SUPPLIED_METHODS = (*REPLICATE_METHODS, "other")
#: What ``harvest estimate --statistic`` can estimate (design methods of these names).
STATISTICS = ("proportion", "mean", "total")


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


def check_probability(name: str, value) -> float:
    """Return ``value`` as a float strictly between 0 and 1, or raise a ValueError naming it.

    Examples
    --------
    >>> check_probability("power", 0.8)
    0.8
    """
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be a number between 0 and 1; got {value!r}.") from None
    if not 0.0 < value < 1.0:
        raise ValueError(f"`{name}` must be strictly between 0 and 1; got {value!r}.")
    return value


def check_level(level) -> float:
    """Return a confidence level strictly between 0 and 1, or raise ValueError."""
    return check_probability("level", level)
