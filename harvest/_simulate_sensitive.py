"""Indirect questions added to a simulated mission (re-exported as
``harvest.simulate.sensitive_questions``); see ``docs/methods/sensitive.md``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from harvest._errors import DataError, check_columns

__all__ = ["sensitive_questions", "CONTROL_ITEM_PROBABILITIES"]

#: Chance that each control item of the list applies (four innocuous items).
CONTROL_ITEM_PROBABILITIES = (0.2, 0.45, 0.6, 0.3)


def sensitive_questions(data: pd.DataFrame, rng=None, *, sensitive: str = "any_consequence",
                        cluster: str = "institution_id", coaching: float = 0.3,
                        coached_denial: float = 0.8, denial: float = 0.2,
                        control=CONTROL_ITEM_PROBABILITIES, p_yes: float = 1 / 6,
                        p_no: float = 1 / 6) -> pd.DataFrame:
    """A copy of ``data`` with a direct question, a list experiment and a
    forced-response question about the 0/1 column ``sensitive`` (taken as the truth).

    Parameters
    ----------
    data : pandas.DataFrame
        Rows of a simulated mission (e.g. ``hv.simulate.mission(...).employees``), whose
        ``sensitive`` column holds the true answer; never modified.
    rng : int or numpy.random.Generator, optional
    sensitive : str
        The true 0/1 attribute.
    cluster : str
        The unit where coaching happens (an institution whose manager tells the staff
        what to say before the interviews).
    coaching : float
        Chance that a cluster is coached.
    coached_denial, denial : float
        Chance that a holder of the attribute denies it when asked directly, in a
        coached cluster and elsewhere. Nobody without the attribute says yes.
    control : sequence of float
        Chance of each control item of the list (``J = len(control)``).
    p_yes, p_no : float
        Forced-response device: a forced yes, a forced no, else the truth.

    Returns
    -------
    pandas.DataFrame
        ``data`` plus ``coached`` (0/1, the cluster was coached), ``direct_answer``
        (0/1), ``long_list`` (0/1, the respondent saw the list with the sensitive item),
        ``list_form`` (``"long"``/``"short"``, the same as text), ``item_count``
        (0..J, J+1 on the long list) and ``rr_answer`` (0/1, forced response). The
        indirect answers are truthful (no design effect, no liars), so their
        design-based estimates are unbiased for the truth of ``sensitive`` while the
        direct answer under-reports.

    Notes
    -----
    Draws, in this order from one Generator: coaching per cluster, denial per row,
    list assignment per row, control items (rows x J), the device per row. The caller's
    mission draws are untouched, so bundled data made from the same seed stay the same.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"institution_id": ["a", "a", "b", "b"],
    ...                    "any_consequence": [1, 0, 1, 1]})
    >>> out = sensitive_questions(df, rng=1)
    >>> bool((out["direct_answer"] <= out["any_consequence"]).all())
    True
    """
    check_columns(data, [sensitive, cluster], "sensitive/cluster")
    z = pd.to_numeric(data[sensitive], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isin(z, (0.0, 1.0))
    if bad.any():
        from harvest._errors import describe_rows

        rows = np.flatnonzero(bad)
        raise DataError(f"Column {sensitive!r} must be 0/1 (the true answer); "
                        f"{describe_rows(rows)} hold {data[sensitive].iloc[rows[0]]!r}.")
    rng = np.random.default_rng(rng)
    n = len(data)
    codes, uniques = pd.factorize(data[cluster])
    coached = (rng.random(len(uniques)) < coaching)[codes]
    deny = rng.random(n) < np.where(coached, coached_denial, denial)
    direct = (z == 1) & ~deny
    long_list = rng.random(n) < 0.5
    control = np.asarray(control, dtype=float)
    controls = (rng.random((n, control.size)) < control[None, :]).sum(axis=1)
    device = rng.random(n)
    rr = np.where(device < p_yes, 1, np.where(device < p_yes + p_no, 0, z))
    return data.assign(
        coached=coached.astype(np.int64),
        direct_answer=direct.astype(np.int64),
        long_list=long_list.astype(np.int64),
        list_form=np.where(long_list, "long", "short"),
        item_count=(controls + long_list * z).astype(np.int64),
        rr_answer=rr.astype(np.int64),
    )
