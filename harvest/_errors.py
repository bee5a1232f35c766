"""Every error and warning class of the package, in one place.

Examples
--------
>>> import harvest as hv
>>> issubclass(hv.DataError, ValueError)
True
"""

from __future__ import annotations

import numpy as np


class DataError(ValueError):
    """Input data break a rule: a missing column, a bad value, an empty domain.

    The message names the column, the offending rows (0-based positions in the
    caller's frame, at most 10 listed) and the value(s) found.

    Parameters
    ----------
    message : str
        What is wrong and what was expected.
    problems : pandas.DataFrame, optional
        One row per problem with columns ``row``, ``column``, ``value`` and
        ``problem``, when the error collects several problems (validation).
    """

    def __init__(self, message: str, problems=None):
        super().__init__(message)
        self.problems = problems


class RngError(TypeError, ValueError):
    """An ``rng`` argument that is neither a seed nor a numpy Generator.

    Both a TypeError (the wrong kind of object) and a ValueError (a bad argument
    value): the per-module checks it replaced raised one or the other.
    """


class HarvestWarning(UserWarning):
    """Base class of the package's warnings."""


class LonelyPSUWarning(HarvestWarning):
    """A stratum holds a single PSU and a lonely-PSU policy was applied.

    Given by an estimate whose domain has rows in such a stratum (naming the strata and
    what the policy did), and when ``lonely_psu="average"`` leaves a domain no stratum
    to average over (its ``se`` is NaN, as in R ``survey``).
    """


class EmptyDomainWarning(HarvestWarning):
    """A ``by`` domain has rows, but every one has weight 0: it is left out of the table.

    As R ``svyby``, which lists only the levels of rows with a positive sampling
    weight; the warning names the domains and their rows. Rows left out by
    ``design.subset`` do not count (a subpopulation is meant to leave them out).
    """


class SamplingWarning(HarvestWarning):
    """A Bayesian fit did not pass its diagnostics (divergences, R-hat, ESS)."""


class CompilerFallbackWarning(HarvestWarning):
    """Informational: the installed nutpie/PyTensor lack what harvest's fast compiler needs.

    The Bayesian fit then compiles with ``nutpie.compile_pymc_model``: the same model and
    posterior, slower to compile. Given once per process.
    """


class DisclosureWarning(HarvestWarning):
    """A published table holds cells below the disclosure threshold."""


def describe_rows(positions, limit: int = 10) -> str:
    """Format row positions for an error message: ``rows 3, 8, 12 (and 4 more)``.

    Examples
    --------
    >>> describe_rows([3, 8, 12])
    'rows 3, 8, 12'
    >>> describe_rows(range(15), limit=3)
    'rows 0, 1, 2 (and 12 more)'
    """
    positions = list(positions)
    shown = ", ".join(str(int(p)) for p in positions[:limit])
    more = len(positions) - limit
    word = "row" if len(positions) == 1 else "rows"
    return f"{word} {shown}" + (f" (and {more} more)" if more > 0 else "")


def check_table(table, columns, what: str, needed: str) -> None:
    """``what`` must be a DataFrame with ``columns``: the check of tables passed to helpers.

    The tables and figures take result tables (``design.proportion``, ``design.compare``):
    a TypeError for anything that is not a DataFrame, a DataError naming the missing
    columns, then ``needed`` (what they are needed for, with its leading separator).

    Examples
    --------
    >>> import pandas as pd
    >>> check_table(pd.DataFrame({"estimate": [0.1]}), ["estimate"], "table", " for the plot")
    """
    import pandas as pd

    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"`{what}` must be a pandas DataFrame; got {type(table).__name__}.")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError(f"`{what}` lacks the column(s) {', '.join(map(repr, missing))}"
                        f"{needed}.")


def check_columns(data, columns, argument: str) -> None:
    """DataError naming the ``columns`` that ``data`` lacks, and the columns it has.

    The column-presence check of the designs and estimators: design columns, estimator
    variables, ``by``, replicate weights, comparison groupings.

    Examples
    --------
    >>> import pandas as pd
    >>> check_columns(pd.DataFrame({"a": [1]}), ["a"], "by")
    """
    missing = [c for c in columns if c not in data.columns]
    if missing:
        shown = ", ".join(repr(c) for c in list(data.columns)[:20])
        names = ", ".join(repr(c) for c in missing)
        what = f"column {names} is" if len(missing) == 1 else f"columns {names} are"
        raise DataError(f"`{argument}`: {what} not in the data; columns are {shown}.")


def check_frame(df, argument: str = "data") -> None:
    """DataError for a frame whose columns cannot be told apart: a column MultiIndex,
    or a column name that appears more than once (naming it).

    Examples
    --------
    >>> import pandas as pd
    >>> check_frame(pd.DataFrame({"a": [1]}))
    >>> try:
    ...     check_frame(pd.DataFrame([[1, 2]], columns=["w", "w"]))
    ... except DataError as err:
    ...     print(err)
    `data`: the column 'w' appears 2 times; rename the copies so that each column has one name.
    """
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        return
    if isinstance(df.columns, pd.MultiIndex):
        raise DataError(
            f"`{argument}` has a column MultiIndex ({df.columns.nlevels} levels, e.g. "
            f"{df.columns[0]!r}); flatten it to one name per column first, e.g. "
            "df.columns = ['_'.join(map(str, c)) for c in df.columns].")
    if df.columns.has_duplicates:
        counts = df.columns.value_counts()
        name = counts.index[counts.to_numpy() > 1][0]
        raise DataError(
            f"`{argument}`: the column {name!r} appears {int(counts[name])} times; rename the "
            "copies so that each column has one name.")


def plain_value(value):
    """A numpy scalar (or a tuple of them) as the Python value, for messages.

    Examples
    --------
    >>> plain_value(np.int64(2024)), plain_value((np.float64(0.5), "Ahal"))
    (2024, (0.5, 'Ahal'))
    """
    if isinstance(value, tuple):
        return tuple(plain_value(v) for v in value)
    return value.item() if isinstance(value, np.generic) else value


class CalibrationWarning(HarvestWarning):
    """A weighting step that needs attention: calibrated weights at or below zero
    (``method="linear"``, as R warns) or raking that stopped before converging."""
