"""A plan checked on realistic synthetic missions (``hv.simulate`` and ``hv.SurveyDesign``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from harvest._options import PROPORTION_CI, as_generator, check_level, check_option
from harvest.plan._checks import check_range
from harvest.plan.power import ALTERNATIVES, _power_kernel
from harvest.plan.simulation import SIMULATE_COLUMNS
from harvest.plan.size import margin_of_error

INSTRUMENT_TABLES = {"farm": "farms", "picker": "pickers", "employee": "employees",
                     "institution": "institutions"}


def _estimates(ms, instrument, indicator, level, ci):
    """Every simulated mission's design-based estimate (one SurveyDesign call) and the truth."""
    from harvest.design import SurveyDesign

    table = getattr(ms, INSTRUMENT_TABLES[instrument])
    if indicator not in table.columns:
        raise ValueError(f"`indicator` {indicator!r} is not a column of the {instrument} table; "
                         f"its columns are {', '.join(map(str, table.columns))}.")
    design = SurveyDesign(table, weights="weight", strata=["sim", "stratum"], psu="district",
                          fpc="n_districts")
    est = design.proportion(indicator, by="sim", ci=ci, level=level)
    truth = ms.truth.loc[(ms.truth["instrument"] == instrument)
                         & (ms.truth["region"] == "All")
                         & (ms.truth["indicator"] == indicator)]
    return est.reset_index(drop=True), float(truth["value"].iloc[0]), float(truth["N"].iloc[0])


def simulate_mission(indicator="child_labour", *, instrument="farm", deff=2.0, moe=None,
                     change=None, level=0.95, ci="wald", alternative="two-sided", n_sim=200,
                     year=2024, rng=None, **settings):
    r"""Check a plan's assumptions on synthetic missions drawn with ``hv.simulate``.

    Where :func:`simulate` draws idealised cluster samples very fast, this draws
    whole missions like the ILO's (regions as strata, districts drawn within
    regions, farms within districts, refusals and interference, weights and a
    finite population correction) with :func:`harvest.simulate.missions` and
    estimates every mission at once with :class:`harvest.SurveyDesign`. It tells
    whether the planning design effect holds for that design and what margin,
    coverage and power the mission actually achieves. Slower: about 10 seconds
    for 200 missions.

    Parameters
    ----------
    indicator : str
        A 0/1 indicator of the instrument's table, default ``"child_labour"``.
    instrument : {"farm", "picker", "employee", "institution"}
        The table holding ``indicator``.
    deff : float
        The design effect assumed by the plan (the formulas' column).
    moe : float, optional
        Target margin of error; adds the row ``within_moe``.
    change : dict, optional
        Settings of the second year's missions, e.g. ``{"child_labour": 0.15}``; adds
        the rows ``change`` and ``power`` (Wald t test with the designs' df summed,
        as ``design.compare`` between two independent years).
    level : float
        Confidence level of the intervals and ``1 - alpha`` of the test.
    ci : str
        Interval method of ``design.proportion`` (coverage and margin), default
        ``"wald"``.
    alternative : {"two-sided", "less", "greater"}
        Alternative of the test of change.
    n_sim : int
        Missions per year (default 200).
    year : int
        Scenario year of :func:`harvest.simulate.scenario` (2024: 61 districts,
        about 472 farm visits).
    rng : int, numpy.random.Generator or None
        Seed or generator; the only source of randomness.
    **settings
        Changes to the scenario, e.g. ``sampled_districts=(15, 6, 17, 18, 18)`` or
        ``farm_visits=10`` (visits per district) to try another plan.

    Returns
    -------
    pandas.DataFrame
        Columns as :func:`simulate`. Rows: ``estimate`` (formula: the population's
        true value), ``se_true``, ``se_estimated`` (root mean square), ``deff``
        (variance of the estimates over ``p q / n``; formula ``deff``),
        ``design_deff`` (mean of the designs' own deff; formula ``deff``), ``moe``
        (mean interval half-width; formula ``z * sqrt(deff p q / n)`` with the
        mean ``n`` and the population's size), ``coverage``, ``within_moe``,
        ``change`` and ``power``.

    Examples
    --------
    >>> import harvest as hv
    >>> t = hv.plan.simulate_mission(n_sim=20, rng=1)   # doctest: +SKIP
    """
    gen = as_generator(rng)
    check_option("instrument", instrument, tuple(INSTRUMENT_TABLES))
    check_option("ci", ci, PROPORTION_CI)
    check_option("alternative", alternative, ALTERNATIVES)
    level = check_level(level)
    deff = float(check_range("deff", deff, 0, None, rule="a positive number"))
    n_sim = int(check_range("n_sim", n_sim, 2, None, low_open=False, integer=True,
                            rule="a whole number of missions >= 2"))
    if moe is not None:
        moe = float(check_range("moe", moe, 0, 1, rule="a number between 0 and 1"))
    if change is not None and not isinstance(change, dict):
        raise ValueError("`change` must be a dict of scenario settings for the second year, "
                         f"e.g. {{'child_labour': 0.15}}; got {change!r}.")
    from harvest import simulate as hsim

    ms = hsim.missions(n=n_sim, year=year, rng=gen, **settings)
    est, p, N = _estimates(ms, instrument, indicator, level, ci)
    R = len(est)
    n = float(est["n"].mean())
    plan = margin_of_error(p, n, deff=deff, level=level, N=N).iloc[0]
    se_f, moe_f = float(plan["se"]), float(plan["moe"])
    e, se = est["estimate"].to_numpy(), est["se"].to_numpy()
    half = (est["ci_high"] - est["ci_low"]).to_numpy() / 2.0
    var_srs = p * (1 - p) / n
    centred = e - e.mean()
    var = np.mean(centred ** 2) * R / (R - 1)
    var_mc = np.sqrt(max(np.mean(centred ** 4) - var ** 2, 0.0) / R)
    rms = np.sqrt(np.mean(se ** 2))
    rows = [
        ("estimate", p, e.mean(), e.std(ddof=1) / np.sqrt(R)),
        ("se_true", se_f, np.sqrt(var), var_mc / (2 * np.sqrt(var))),
        ("se_estimated", se_f, rms, (se ** 2).std(ddof=1) / np.sqrt(R) / (2 * rms)),
        ("deff", deff, var / var_srs, var_mc / var_srs),
        ("design_deff", deff, est["deff"].mean(), est["deff"].std(ddof=1) / np.sqrt(R)),
        ("moe", moe_f, half.mean(), half.std(ddof=1) / np.sqrt(R)),
    ]

    def share(name, hits, formula):
        rate = float(np.mean(hits))
        rows.append((name, formula, rate, np.sqrt(max(rate * (1 - rate), 1 / R) / R)))

    share("coverage", (est["ci_low"] <= p) & (p <= est["ci_high"]), level)
    if moe is not None:
        share("within_moe", np.abs(e - p) <= moe, 2 * stats.norm.cdf(moe / se_f) - 1)
    if change is not None:
        ms2 = hsim.missions(n=n_sim, year=year, rng=gen, **{**settings, **change})
        est2, p2, _ = _estimates(ms2, instrument, indicator, level, ci)
        d = est2["estimate"].to_numpy() - e
        s = np.sqrt(est2["se"].to_numpy() ** 2 + se ** 2)
        df = est2["df"].to_numpy() + est["df"].to_numpy()
        a = (1 - level) / (2 if alternative == "two-sided" else 1)
        crit = stats.t.isf(a, df)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = d / s
        reject = {"two-sided": np.abs(t) > crit, "less": t < -crit,
                  "greater": t > crit}[alternative]
        rows.append(("change", p2 - p, d.mean(), d.std(ddof=1) / np.sqrt(R)))
        power, _ = _power_kernel(np.array(p), np.array(p2), np.array(n),
                                 np.array(float(est2["n"].mean())), np.array(deff), level,
                                 alternative, "wald", np.array(float(df.mean())))
        share("power", reject, float(power))
    out = pd.DataFrame(rows, columns=["quantity", "formula", "simulated", "mc_se"])
    out["mc_z"] = (out["simulated"] - out["formula"]) / out["mc_se"]
    out["n_sim"] = R
    return out[SIMULATE_COLUMNS]
