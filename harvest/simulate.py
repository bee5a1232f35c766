"""Synthetic monitoring missions with known truth.

A finite population is built once (:func:`population`): regions (the strata),
districts (the first-stage clusters) with district random effects, farms with their
pickers, institutions with their employees. A two-stage sample like the ILO mission
is then drawn from it (:func:`sample`), with refusals and interference: districts by
simple random sampling without replacement within each region, then farm and
institution visits by simple random sampling within each sampled district, then
pickers within each completed farm and employees within each completed institution.

:func:`mission` does both for one mission; :func:`missions` draws many samples from one
population in a single vectorised pass (the repeated-sampling frame for coverage and
bias simulations: the truth is fixed, only the sample varies).

Weights are the inverse inclusion probabilities given the units that responded:
``N_h / n'_h * M_d / r_d`` for a farm (``n'_h`` sampled districts with at least one
completed visit, ``r_d`` completed visits out of ``M_d`` farms), times ``P_f / k_f`` for a
picker (``k_f`` of the ``P_f`` pickers interviewed). Refusals are missing completely at
random by default (``refusal_bias=0``), so design-based estimates are unbiased for
:attr:`Mission.truth` (up to the ratio-estimator bias of a mean, O(1/n)).

Examples
--------
>>> import harvest as hv
>>> m = hv.simulate.mission(year=2024, rng=3)
>>> len(m.farms), m.farms["district"].nunique()
(472, 61)
>>> m.truth.query("instrument == 'farm' and indicator == 'child_labour' and region == 'All'")[
...     "value"].round(2).item()
0.23
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit, ndtr

from harvest._options import as_generator
from harvest.indicators import add_indicators
from harvest.instruments import TURKMENISTAN

__all__ = ["Scenario", "Population", "Mission", "Missions", "scenario", "population",
           "sample", "mission", "missions"]

_CONSEQ = TURKMENISTAN.consequences          # 7 codes, "none" last
_MENACE_BITS = sum(1 << i for i in range(5))  # wage_deduction .. reprimand
_NONE_BIT = 1 << 6
_ANY_BITS = (1 << 6) - 1                     # every code but "none"
_CONSEQ_TEXT = np.array(
    [" ".join(c for i, c in enumerate(_CONSEQ) if m >> i & 1) for m in range(128)], dtype=object
)


@dataclass(frozen=True)
class Scenario:
    """Every setting of a synthetic mission; ``scenario(year)`` gives the defaults.

    District counts are per region (tuples aligned with ``regions``); visits, refusals
    and interviews are totals per mission, spread as evenly as possible over the
    sampled districts (visits) or completed visits (interviews), the remainder going to
    units drawn at random; exactly ``farm_refusals`` visits are refused, drawn at
    random (with ``refusal_bias``, farms with child labour are more likely drawn).
    Prevalences are the population targets (the realised finite-population values
    differ by sampling noise of the population, a few tenths of a point).
    ``sigma_district`` is the standard deviation of the district random effects on
    the logit scale (the source of design effects of about 1.5 to 3);
    ``size_effect`` ties answers to the size of the unit (farms per district, pickers
    per farm, staff per institution), so that unweighted estimates are biased and the
    weights matter; ``refusal_bias`` shifts the logit of refusal for farms with child
    labour (0: refusals completely at random, estimates unbiased; > 0: farms with child
    labour refuse more, estimates biased downwards, for sensitivity studies).

    Nonresponse that depends on a known covariate (for weighting studies, off by
    default): ``refusal_size`` is the log of how much more likely a *large* institution
    (``n_staff >= large_institution``, a size the registry knows) is to refuse than a
    small one (0: at random). Quotas and mobilisation grow with the size of the
    institution, so the refusals bias the estimates; a nonresponse adjustment within
    size classes removes the bias. ``keep_refusals=True`` keeps the refused and dropped
    institution visits in ``institutions`` (answers missing; ``sector`` and ``n_staff``
    known), with the columns ``responded`` (0/1) and ``size_class`` (``"small"``,
    ``"large"``) and the *base* weights ``N_h/n_h * M_d/m_d`` (``m_d`` attempted visits),
    ready for ``design.adjust_nonresponse("responded", by="size_class")``. Employees are
    interviewed in completed institutions as always; with ``keep_refusals`` their
    weights are the base weights too (``w_base * S_j/k_j``), and ``employees`` gains
    one row per institution not completed, standing for its ``n_staff`` employees
    (answers missing, ``responded`` 0, the visit's ``visit_status``), so the same
    adjustment works on the employee table. ``Mission.margins`` gives the population
    counts to calibrate to.
    """

    year: int = 2024
    regions: tuple = TURKMENISTAN.regions
    districts: tuple = (80, 20, 90, 120, 100)         # N_h, districts in the population
    sampled_districts: tuple = (12, 5, 14, 15, 15)    # n_h (61 in all)
    region_child: tuple = (-0.2, -0.6, 0.3, 0.4, 0.0)  # logit region effects
    region_mobilisation: tuple = (0.2, -0.4, 0.2, 0.1, 0.0)
    observation_groups: int = 15
    farms_per_district: tuple = (30, 80)              # uniform integer range
    pickers_per_farm: float = 24.0
    institutions_per_district: tuple = (8, 16)
    staff_per_institution: float = 35.0
    farm_visits: int = 502                            # attempted, in all districts
    farm_refusals: int = 27
    farm_dropped: int = 3                             # dropped for interference
    pickers_interviewed: int = 1762                   # over the completed farms
    institution_visits: int = 397
    institution_refusals: int = 17
    institution_dropped: int = 1
    employees_interviewed: int = 2047
    interference: float = 0.23
    refusal_bias: float = 0.0
    sigma_district: float = 0.9                       # mobilisation effects
    sigma_child: float = 1.2                          # child-labour effects
    size_effect: float = 0.6                          # logit effect of 1 sd of log size
    sigma_institution: float = 0.5
    child_labour: float = 0.23
    reports_given_child: float = 0.74
    observed_given_child: float = 0.55
    civil_servants_on_farm: float = 0.20
    quota_pressure: float = 0.35
    received_quota: float = 0.60
    told_to_participate: float = 0.55
    picked_given_told: float = 0.45
    paid_given_told: float = 0.55
    amount_paid_median: float = 400.0
    any_consequence: float = 0.31
    paid_above_1: float = 0.71
    written_contract: float = 0.216
    picker_consequence: float = 0.12
    picker_alongside_children: float = 0.11
    employee_alongside_children: float = 0.14
    refusal_size: float = 0.0                         # log relative refusal, large inst.
    large_institution: int = 35                       # staff from which one is "large"
    keep_refusals: bool = False                       # institutions: every attempted visit

    def replace(self, **changes) -> Scenario:
        """A copy with some settings changed."""
        return replace(self, **changes)


def scenario(year: int = 2024) -> Scenario:
    """Default settings for ``year`` (2024: the reported mission; 2023: 7 groups, fewer sites).

    Examples
    --------
    >>> scenario(2023).observation_groups
    7
    """
    base = Scenario(year=int(year))
    if int(year) == 2023:
        return base.replace(
            sampled_districts=(6, 3, 7, 8, 8), observation_groups=7, farm_visits=240,
            farm_refusals=16, farm_dropped=2, pickers_interviewed=780, institution_visits=172,
            institution_refusals=10, institution_dropped=1, employees_interviewed=805,
            interference=0.30,
            child_labour=0.30, civil_servants_on_farm=0.27, any_consequence=0.38,
            received_quota=0.70, told_to_participate=0.65, paid_above_1=0.12,
            written_contract=0.15, picker_consequence=0.16, picker_alongside_children=0.15,
            employee_alongside_children=0.18, quota_pressure=0.42,
        )
    return base


# the functions whose keywords ``scenario`` and ``population`` shadow these names use these
_default_scenario = scenario


@dataclass
class Population:
    """A finite population (numpy arrays, codes as small integers) and its true values."""

    scenario: Scenario
    district_region: np.ndarray
    farms: dict
    pickers: dict
    institutions: dict
    employees: dict
    truth: pd.DataFrame = field(repr=False)


@dataclass
class Mission:
    """One synthetic mission: the sample tables, the attempted visits and the truth.

    Attributes
    ----------
    year : int
    farms, pickers, employees, institutions : pandas.DataFrame
        The completed interviews, with the instrument columns, the derived indicators
        and the design columns ``stratum`` (``"2024-Ahal"``), ``district``, ``weight`` and
        ``n_districts`` (N_h, for the finite population correction).
    visits : pandas.DataFrame
        Every attempted farm and institution visit with ``visit_status`` and
        ``interference`` (for refusal and interference rates).
    truth : pandas.DataFrame
        True population values: ``year``, ``instrument``, ``region`` (``"All"`` for the
        whole country), ``indicator``, ``value`` (population mean or share), ``total``
        and ``N`` (population units).
    population : Population
    """

    year: int
    farms: pd.DataFrame
    pickers: pd.DataFrame
    employees: pd.DataFrame
    institutions: pd.DataFrame
    visits: pd.DataFrame
    truth: pd.DataFrame
    population: Population = field(repr=False)

    def table(self, instrument: str) -> pd.DataFrame:
        """The sample table of an instrument (``"farm"`` -> ``farms`` ...)."""
        return getattr(self, _TABLES[instrument])

    def margins(self, instrument: str = "farm") -> pd.DataFrame:
        """Population counts to calibrate to, as a tidy margins table.

        The registry's figures for the simulated population: units per region, per
        ``sector`` (institutions, employees), per ``size_class`` (institutions) and the
        total of the size column (``n_pickers`` of farms, ``n_staff`` of institutions).

        Parameters
        ----------
        instrument : {"farm", "institution", "employee"}

        Returns
        -------
        pandas.DataFrame
            Columns ``column``, ``level`` (empty for the total of a numeric column) and
            ``total``: the file format of ``harvest estimate --calibrate`` and of
            :func:`harvest.weighting_spec.margins_from_table`.

        Examples
        --------
        >>> m = mission(2024, rng=3)
        >>> t = m.margins("farm")
        >>> t["column"].unique().tolist()
        ['region', 'n_pickers']
        >>> farms = int(m.truth.query("instrument == 'farm' and region == 'All'")["N"].iloc[0])
        >>> int(t.loc[t["column"] == "region", "total"].sum()) == farms
        True
        """
        return _margins(self.population, instrument)


@dataclass
class Missions(Mission):
    """Many samples from one population, stacked; the column ``sim`` numbers the samples.

    Use ``strata=["sim", "stratum"]`` and ``by="sim"`` (plus any other ``by``) to get
    every sample's design-based estimate in one call: strata of different samples
    never share PSUs, so each sample's variance uses only its own PSUs.
    """

    n: int = 1


_STATUS = np.array(["completed", "refused", "dropped_interference"], dtype=object)
_TABLES = {"farm": "farms", "picker": "pickers", "employee": "employees",
           "institution": "institutions"}


# ------------------------------------------------------------------------ helpers


def _calibrate(target: float, eta: np.ndarray, counts=None) -> np.ndarray:
    """Probabilities expit(b + eta) with b chosen so their (count-weighted) mean is target."""
    eta = np.asarray(eta, float)
    c = np.ones_like(eta) if counts is None else np.asarray(counts, float)
    # the mean depends only on the distinct values of eta: solve on those
    vals, inv = np.unique(eta, return_inverse=True)
    cw = np.bincount(inv.ravel(), c, len(vals))

    def gap(b):
        return np.dot(cw, expit(b + vals)) / cw.sum() - target

    b = brentq(gap, -30.0, 30.0)
    return expit(b + eta)


def _expand(starts: np.ndarray, counts: np.ndarray):
    """For groups with given starts and counts: (group of each item, item index)."""
    counts = np.asarray(counts, np.int64)
    group = np.repeat(np.arange(len(counts)), counts)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return group, np.asarray(starts, np.int64)[group] + within


def _rank_within(groups: np.ndarray, rng: np.random.Generator, keys=None) -> np.ndarray:
    """Rank (0, 1, ...) of each item within its group, by ``keys`` or at random.

    Random ranks give simple random sampling without replacement by taking
    ``rank < k``; one float sort of ``group + U(0, 1)`` orders the items by group and
    at random within each group.
    """
    groups = np.asarray(groups, np.int64)
    if len(groups) == 0:
        return np.zeros(0, np.int64)
    if keys is None:
        order = np.argsort(groups + rng.random(len(groups)))
    else:
        order = np.lexsort((keys, groups))
    g = groups[order]
    start = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1]
    counts = np.diff(np.r_[start, len(g)])
    rank = np.empty(len(g), np.int64)
    rank[order] = np.arange(len(g)) - np.repeat(start, counts)
    return rank


def _z(x: np.ndarray) -> np.ndarray:
    """Standardised values (0 when constant)."""
    sd = x.std()
    return (x - x.mean()) / sd if sd > 0 else np.zeros_like(x, dtype=float)


def _interview(total: int, sim: np.ndarray, n: int, rng, starts, sizes):
    """Second stage: allocate ``total`` interviews over the visited sites (at most
    ``sizes`` each) and draw that many people at random within every site at once.

    Returns the per-site sample sizes ``k``, and for each person drawn the position of
    their site and their index in the population table."""
    k = _allocate(total, sim, n, rng, cap=sizes)
    pos, idx = _expand(starts, sizes)
    keep = _rank_within(pos, rng) < k[pos]
    return k, pos[keep], idx[keep]


def _allocate(total: int, sim: np.ndarray, n: int, rng, cap=None) -> np.ndarray:
    """Spread ``total`` per mission over the units of each mission as evenly as possible.

    Each unit gets ``total // m`` (``m`` units in its mission) and ``total % m`` units
    drawn at random get one more; ``cap`` bounds each unit's share.
    """
    m = np.bincount(sim, minlength=n)
    base = total // np.maximum(m, 1)
    extra = total - base * m
    k = base[sim] + (_rank_within(sim, rng) < extra[sim])
    return k if cap is None else np.minimum(k, cap)


def _consequence_masks(anyc: np.ndarray, rng) -> np.ndarray:
    """Bit masks of consequences: 'none' where anyc is 0, else 1-5 codes weighted."""
    yes = np.flatnonzero(anyc == 1)
    n = len(yes)
    w = np.log(np.array([0.40, 0.25, 0.10, 0.15, 0.30, 0.08]))
    keys = w[None, :] + rng.gumbel(size=(n, 6))
    ranks = np.argsort(np.argsort(-keys, axis=1), axis=1)
    k = 1 + rng.binomial(4, 0.15, size=n)
    chosen = ranks < k[:, None]
    masks = np.full(len(anyc), _NONE_BIT, np.int64)
    masks[yes] = chosen.astype(np.int64) @ (1 << np.arange(6))
    return masks


def _cat(p, n, rng) -> np.ndarray:
    """Categorical draws with probabilities p (rows may differ: p of shape (n, k))."""
    p = np.broadcast_to(np.asarray(p, float), (n, np.shape(p)[-1]))
    cum = np.cumsum(p, axis=1)
    cum = cum / cum[:, -1:]
    return (rng.random(n)[:, None] > cum).sum(axis=1)


# --------------------------------------------------------------------- population


def population(year: int = 2024, rng=None, scenario: Scenario | None = None,
               **settings) -> Population:
    """Build a finite population for one harvest year.

    Parameters
    ----------
    year : int
        Harvest year; picks the default :func:`scenario`.
    rng : int or numpy.random.Generator, optional
        Seed or generator.
    scenario : Scenario, optional
        Full settings (``year`` is then taken from it). ``scenario_``, the former name,
        still works with a DeprecationWarning.
    **settings
        Changes to the scenario, e.g. ``child_labour=0.3``.

    Returns
    -------
    Population
        Arrays of the population units and ``truth``.

    Examples
    --------
    >>> pop = population(2024, rng=1)
    >>> int(pop.farms["n_pickers"].sum()) == len(pop.pickers["farm"])
    True
    """
    scenario = _renamed(settings, "scenario_", "scenario", scenario)
    sc = _settings(year, scenario, settings)
    rng = as_generator(rng)
    H = len(sc.regions)
    N_h = np.asarray(sc.districts, np.int64)
    if not (len(N_h) == len(sc.sampled_districts) == len(sc.region_child)
            == len(sc.region_mobilisation) == H):
        raise ValueError("`districts`, `sampled_districts` and the region effects must have "
                         "one entry per region.")
    n_h = np.asarray(sc.sampled_districts, np.int64)
    if np.any(n_h < 1) or np.any(n_h > N_h):
        raise ValueError("`sampled_districts` must be between 1 and `districts` per region.")
    d_region = np.repeat(np.arange(H), N_h)
    D = len(d_region)

    def effects(sd):
        u = rng.normal(0.0, sd, D)
        # centre within region so the realised truth stays near the targets
        mean = np.bincount(d_region, u, H) / N_h
        return u - mean[d_region]

    u_child, u_mob = effects(sc.sigma_child), effects(sc.sigma_district)
    u_rate = effects(0.1)
    r_child = np.asarray(sc.region_child)[d_region] + u_child
    r_mob = np.asarray(sc.region_mobilisation)[d_region] + u_mob

    # farms
    M = rng.integers(sc.farms_per_district[0], sc.farms_per_district[1] + 1, D)
    f_d = np.repeat(np.arange(D), M)
    F = len(f_d)
    # bigger districts: more child labour and mobilisation (so weights matter)
    r_child = r_child + sc.size_effect * _z(np.log(M))
    r_mob = r_mob + 0.5 * sc.size_effect * _z(np.log(M))
    p_child = _calibrate(sc.child_labour, r_child, M)[f_d]
    child = rng.random(F) < p_child
    # evidence among farms with child labour: reported only / observed only / both
    both = sc.reports_given_child + sc.observed_given_child - 1.0
    ev = _cat([sc.reports_given_child - both, sc.observed_given_child - both, both], F, rng)
    reports = child & (ev != 1)
    observed = child & (ev != 0)
    n_pickers = 5 + rng.negative_binomial(3, 3 / (3 + sc.pickers_per_farm - 5), F)
    n_children = np.where(observed, np.minimum(n_pickers, 1 + rng.poisson(2.0, F)), 0)
    p_cs = _calibrate(sc.civil_servants_on_farm, r_mob, M)[f_d]
    civil = rng.random(F) < p_cs
    quota = rng.random(F) < _calibrate(sc.quota_pressure, r_mob, M)[f_d]
    farms = {"district": f_d, "n_pickers": n_pickers, "n_children": n_children,
             "farmer_reports_minors": reports.astype(np.int64),
             "civil_servants_on_farm": civil.astype(np.int64),
             "quota_pressure": quota.astype(np.int64),
             "child_labour": child.astype(np.int64),
             "children_observed": observed.astype(np.int64),
             "start": np.r_[0, np.cumsum(M)[:-1]], "M": M}

    # pickers
    p_f = np.repeat(np.arange(F), n_pickers)
    P = len(p_f)
    p_d = f_d[p_f]
    state_share = np.where(civil[p_f], 0.40, 0.03)
    employer = _cat(np.stack([1 - state_share - 0.10, state_share, np.full(P, 0.05),
                              np.full(P, 0.05)], axis=1), P, rng)
    state = employer == 1
    unpaid = state & (rng.random(P) < 0.6)
    z = rng.normal(size=P)
    paid_w = (~unpaid).astype(float)
    sd_rate = 0.4

    # pickers on bigger farms are paid more
    lp = u_rate[p_d] + 0.25 * sc.size_effect * _z(np.log(n_pickers))[p_f]
    lp_vals, lp_inv = np.unique(lp, return_inverse=True)
    paid_by_lp = np.bincount(lp_inv.ravel(), paid_w, len(lp_vals))

    def share_above(mu):
        return np.dot(paid_by_lp, ndtr((mu + lp_vals) / sd_rate)) / P - sc.paid_above_1

    mu = brentq(share_above, -10, 10)
    rate = np.where(unpaid, 0.0, np.round(np.exp(mu + lp + sd_rate * z), 2))
    contract = rng.random(P) < _calibrate(sc.written_contract, 2 * u_rate[p_d])
    p_cons = _calibrate(sc.picker_consequence, 0.6 * r_mob[p_d] + 2.5 * state
                        - sc.size_effect * _z(np.log(n_pickers))[p_f])
    anyc = (rng.random(P) < p_cons).astype(np.int64)
    cmask = _consequence_masks(anyc, rng)
    p_no = np.where(state, 0.6, 0.02)
    p_dk = np.where(state, 0.1, 0.03)
    voluntary = _cat(np.stack([1 - p_no - p_dk, p_no, p_dk], axis=1), P, rng)
    cl = child[p_f]
    ratio = 8.0
    p0 = sc.picker_alongside_children / (1 + (ratio - 1) * cl.mean())
    alongside = rng.random(P) < np.where(cl, min(1.0, ratio * p0), p0)
    sex = (rng.random(P) < 0.45).astype(np.int64)
    age = _cat([0.02, 0.30, 0.38, 0.30], P, rng)
    rec_p = np.where(state[:, None], [0.0, 0.0, 0.3, 0.7, 0.0], [0.4, 0.5, 0.02, 0.03, 0.05])
    recruited = _cat(rec_p, P, rng)
    pickers = {"farm": p_f, "district": p_d, "sex": sex, "age_group": age,
               "employer_type": employer, "rate_per_kg": rate,
               "written_contract": contract.astype(np.int64),
               "recruited": recruited, "voluntary": voluntary, "cmask": cmask,
               "worked_alongside_children": alongside.astype(np.int64),
               "start": np.r_[0, np.cumsum(n_pickers)[:-1]]}

    # institutions
    K = rng.integers(sc.institutions_per_district[0], sc.institutions_per_district[1] + 1, D)
    i_d = np.repeat(np.arange(D), K)
    n_inst = len(i_d)
    sector = _cat([0.45, 0.25, 0.15, 0.15], n_inst, rng)
    n_staff = 5 + rng.poisson(sc.staff_per_institution - 5, n_inst)
    eta = (r_mob[i_d] + rng.normal(0, sc.sigma_institution, n_inst)
           + sc.size_effect * _z(np.log(n_staff)))
    quota_i = rng.random(n_inst) < _calibrate(sc.received_quota, eta, n_staff)
    sent = np.where(quota_i, rng.binomial(n_staff, 0.3), 0)
    institutions = {"district": i_d, "sector": sector, "n_staff": n_staff,
                    "received_quota": quota_i.astype(np.int64), "n_staff_sent": sent,
                    "start": np.r_[0, np.cumsum(K)[:-1]], "M": K}

    # employees
    e_i = np.repeat(np.arange(n_inst), n_staff)
    E = len(e_i)
    eta_e = 0.7 * eta[e_i] + 1.2 * quota_i[e_i]
    told = rng.random(E) < _calibrate(sc.told_to_participate, eta_e)
    picked = rng.random(E) < np.where(told, sc.picked_given_told, 0.03)
    paid = rng.random(E) < np.where(told, sc.paid_given_told, 0.02)
    amount = np.where(paid, np.round(sc.amount_paid_median * np.exp(0.5 * rng.normal(size=E))),
                      0.0)
    p_c = _calibrate(sc.any_consequence, 0.4 * eta[e_i] + 1.0 * told)
    anyc_e = (rng.random(E) < p_c).astype(np.int64)
    cmask_e = _consequence_masks(anyc_e, rng)
    took_part = picked | paid
    p_no_e = np.where(took_part, expit(-1.0 + 2.0 * anyc_e), 0.0)
    p_dk_e = np.where(took_part, 0.05, 0.0)
    vol_e = _cat(np.stack([1 - p_no_e - p_dk_e, p_no_e, p_dk_e], axis=1), E, rng)
    p_al = min(1.0, sc.employee_alongside_children / max(picked.mean(), 1e-9))
    along_e = picked & (rng.random(E) < p_al)
    employees = {"institution": e_i, "district": i_d[e_i], "sector": sector[e_i],
                 "picked": picked.astype(np.int64), "paid_replacement": paid.astype(np.int64),
                 "amount_paid": amount, "told_to_participate": told.astype(np.int64),
                 "voluntary": vol_e, "cmask": cmask_e,
                 "worked_alongside_children": along_e.astype(np.int64),
                 "start": np.r_[0, np.cumsum(n_staff)[:-1]]}

    pop = Population(sc, d_region, farms, pickers, institutions, employees, truth=None)
    pop.truth = _truth(pop)
    return pop


def _unit_indicators(pop: Population) -> dict:
    """Per-unit values of every indicator whose population value is reported."""
    f, p, i, e = pop.farms, pop.pickers, pop.institutions, pop.employees
    p_any = (p["cmask"] & _ANY_BITS) > 0
    e_any = (e["cmask"] & _ANY_BITS) > 0
    p_inv, e_inv = p["voluntary"] == 1, e["voluntary"] == 1
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(i["n_staff"] > 0, i["n_staff_sent"] / np.maximum(i["n_staff"], 1),
                         np.nan)
    pk, pd_ = e["picked"] == 1, e["paid_replacement"] == 1
    return {
        "farm": (f["district"], {
            "child_labour": f["child_labour"], "children_observed": f["children_observed"],
            "farmer_reports_minors": f["farmer_reports_minors"],
            "civil_servants_on_farm": f["civil_servants_on_farm"],
            "quota_pressure": f["quota_pressure"], "n_pickers": f["n_pickers"],
            "n_children": f["n_children"]}),
        "picker": (p["district"], {
            "any_consequence": p_any, "n_consequences": _popcount(p["cmask"] & _ANY_BITS),
            "paid_above_1": p["rate_per_kg"] > 1, "written_contract": p["written_contract"],
            "no_written_contract": 1 - p["written_contract"], "involuntary": p_inv,
            "forced_labour": p_inv & ((p["cmask"] & _MENACE_BITS) > 0),
            "worked_alongside_children": p["worked_alongside_children"],
            "rate_per_kg": p["rate_per_kg"]}),
        "employee": (e["district"], {
            "picked": pk, "paid_replacement": pd_, "picked_or_paid": pk | pd_,
            "picked_only": pk & ~pd_, "paid_only": ~pk & pd_, "picked_and_paid": pk & pd_,
            "told_to_participate": e["told_to_participate"], "amount_paid": e["amount_paid"],
            "any_consequence": e_any, "n_consequences": _popcount(e["cmask"] & _ANY_BITS),
            "involuntary": e_inv, "forced_labour": e_inv & ((e["cmask"] & _MENACE_BITS) > 0),
            "worked_alongside_children": e["worked_alongside_children"]}),
        "institution": (i["district"], {
            "received_quota": i["received_quota"], "n_staff": i["n_staff"],
            "n_staff_sent": i["n_staff_sent"], "share_staff_sent": share}),
    }


def _popcount(x: np.ndarray) -> np.ndarray:
    return np.unpackbits(np.asarray(x, ">u8").view(np.uint8).reshape(-1, 8), axis=1).sum(1)


def _truth(pop: Population) -> pd.DataFrame:
    sc = pop.scenario
    H = len(sc.regions)
    parts = []
    for instrument, (district, values) in _unit_indicators(pop).items():
        region = pop.district_region[district]
        names = list(values)
        X = np.column_stack([np.asarray(values[k], float) for k in names])
        ok = ~np.isnan(X)
        Xz = np.where(ok, X, 0.0)
        # region totals and counts in one pass: (H, k)
        k = X.shape[1]
        cell = (region[:, None] * k + np.arange(k)).ravel()
        tot = np.bincount(cell, Xz.ravel(), H * k).reshape(H, k)
        cnt = np.bincount(cell, ok.ravel(), H * k).reshape(H, k)
        tot = np.vstack([tot, tot.sum(0)])
        cnt = np.vstack([cnt, cnt.sum(0)])
        regions = [*sc.regions, "All"]
        parts.append(pd.DataFrame({
            "year": sc.year, "instrument": instrument,
            "region": np.repeat(regions, len(names)),
            "indicator": np.tile(names, H + 1),
            "value": (tot / cnt).ravel(), "total": tot.ravel(),
            "N": cnt.ravel().astype(np.int64)}))
    out = pd.concat(parts, ignore_index=True)
    return out.astype({"instrument": "str", "region": "str", "indicator": "str"})


# ------------------------------------------------------------------------ samples


def _stage(units: dict, sel_sim, sel_d, n, visits: int, refusals: int, dropped: int,
           interference: float, rng, refusal_weight=None):
    """Visits within the selected districts: attempted units and their outcomes.

    Exactly ``refusals`` visits per mission are refused and ``dropped`` dropped for
    interference, drawn at random (by weight ``refusal_weight(unit)`` when given:
    exponential races, i.e. successive sampling proportional to the weight).
    """
    attempts = _allocate(visits, sel_sim, n, rng, cap=units["M"][sel_d])
    pair, idx = _expand(units["start"][sel_d], units["M"][sel_d])
    keep = _rank_within(pair, rng) < attempts[pair]
    pair, idx = pair[keep], idx[keep]
    sim = sel_sim[pair]
    weight = 1.0 if refusal_weight is None else refusal_weight(idx)
    rank = _rank_within(sim, rng, keys=rng.exponential(size=len(idx)) / weight)
    status = np.where(rank < refusals, 1, np.where(rank < refusals + dropped, 2, 0))
    # interference among completed visits so that its share among visits not refused
    # (dropped ones count as interference) is about `interference`
    seen = max(len(idx) / n - refusals, 1)
    p_int = float(np.clip((interference * seen - dropped) / max(seen - dropped, 1), 0, 1))
    inter = np.where(status == 2, 1, (rng.random(len(idx)) < p_int).astype(np.int64))
    return pair, idx, status, inter


def _weights_stage1(sc, sel_sim, sel_d, d_region, pair, status, n):
    """N_h / n'_h for each pair, n'_h counting sampled districts with a completed visit."""
    H = len(sc.regions)
    r = np.bincount(pair[status == 0], minlength=len(sel_d))
    responding = r > 0
    cell = sel_sim * H + d_region[sel_d]
    n_resp = np.bincount(cell[responding], minlength=n * H)
    N_h = np.asarray(sc.districts, float)[d_region[sel_d]]
    with np.errstate(divide="ignore"):
        return N_h / n_resp[cell], r


def sample(pop: Population, rng=None, n: int = 1, *, batch: int = 100) -> dict:
    """Draw ``n`` independent two-stage samples from ``pop``, vectorised over samples.

    Parameters
    ----------
    pop : Population
    rng : int or numpy.random.Generator, optional
    n : int
        Number of samples.
    batch : int
        Samples drawn per vectorised pass; bounds the memory of the intermediate
        arrays (a peak of about 140 MB per 100 samples of the 2024 mission).

    Returns
    -------
    dict
        Stacked DataFrames ``farms``, ``pickers``, ``employees``, ``institutions`` and
        ``visits``, each with a ``sim`` column ``0..n-1``.
    """
    rng = as_generator(rng)
    n = int(n)
    if n < 1:
        raise ValueError(f"`n` must be a positive number of missions; got {n}.")
    if int(batch) < 1:
        raise ValueError(f"`batch` must be a positive number of samples; got {batch}.")
    parts = []
    for start in range(0, n, int(batch)):  # a loop over batches of samples
        size = min(int(batch), n - start)
        part = _sample(pop, rng, size)
        if start:
            for df in part.values():
                df["sim"] += start
        parts.append(part)
    if len(parts) == 1:
        return parts[0]
    return {k: pd.concat([p[k] for p in parts], ignore_index=True) for k in parts[0]}


def _sample(pop: Population, rng: np.random.Generator, n: int) -> dict:
    """One vectorised pass drawing ``n`` samples (see :func:`sample`)."""
    sc = pop.scenario
    H = len(sc.regions)
    d_region = pop.district_region
    D = len(d_region)
    n_h = np.asarray(sc.sampled_districts)
    # stage 1: SRSWOR of n_h districts in each region, per mission
    groups = (np.arange(n)[:, None] * H + d_region[None, :]).ravel()
    rank = _rank_within(groups, rng).reshape(n, D)
    sel_sim, sel_d = np.nonzero(rank < n_h[d_region][None, :])
    n_pairs = len(sel_d)
    obs_group = rng.integers(1, sc.observation_groups + 1, n_pairs)

    farm_child = pop.farms["child_labour"]

    def farm_refusal(idx):
        return np.exp(sc.refusal_bias * farm_child[idx])

    large = pop.institutions["n_staff"] >= sc.large_institution

    def institution_refusal(idx):
        return np.exp(sc.refusal_size * large[idx])

    out = {}
    visits = []
    for kind, units, n_visits, n_ref, n_drop, ref_w in (
        ("farm", pop.farms, sc.farm_visits, sc.farm_refusals, sc.farm_dropped, farm_refusal),
        ("institution", pop.institutions, sc.institution_visits, sc.institution_refusals,
         sc.institution_dropped, institution_refusal if sc.refusal_size else None),
    ):
        pair, idx, status, inter = _stage(units, sel_sim, sel_d, n, n_visits, n_ref, n_drop,
                                          sc.interference, rng, ref_w)
        w1, r = _weights_stage1(sc, sel_sim, sel_d, d_region, pair, status, n)
        rnd = rng.integers(1, 5, len(idx))
        w = w1[pair] * units["M"][sel_d[pair]] / np.maximum(r[pair], 1)
        frame = _design_frame(sc, sel_sim[pair], sel_d[pair], d_region, w)
        ids = _ids(sc.year, "F" if kind == "farm" else "I", idx)
        frame.insert(3, f"{kind}_id", ids)
        visits.append(pd.DataFrame({
            "sim": sel_sim[pair], "year": sc.year, "instrument": kind,
            "region": frame["region"], "district": frame["district"], "unit_id": ids,
            "round": rnd, "obs_group": obs_group[pair],
            "visit_status": _STATUS[status],
            "interference": np.where(status == 1, np.nan, inter)}))
        done = status == 0
        if kind == "institution" and sc.keep_refusals:
            attempted = np.bincount(pair, minlength=len(sel_d))
            n_sel = np.bincount(sel_sim * H + d_region[sel_d], minlength=n * H)
            base = (np.asarray(sc.districts, float)[d_region[sel_d]]
                    / n_sel[sel_sim * H + d_region[sel_d]] * units["M"][sel_d]
                    / np.maximum(attempted, 1))[pair]
            every = (frame.assign(weight=base), idx, rnd, obs_group[pair], status, inter)
        out[kind] = (frame[done].reset_index(drop=True), idx[done], rnd[done],
                     obs_group[pair][done], inter[done], w[done])

    # farms table
    fr, f_idx, rnd, grp, inter, w_f = out["farm"]
    F = pop.farms
    farms = fr.copy()
    farms.insert(4, "round", rnd)
    farms.insert(5, "obs_group", grp)
    farms.insert(6, "visit_status", "completed")
    farms.insert(7, "interference", inter)
    for c in ("n_pickers", "n_children", "farmer_reports_minors", "civil_servants_on_farm",
              "quota_pressure"):
        farms[c] = F[c][f_idx]
    farms = _finish(farms, "farm")

    # pickers within completed farms
    P_f = F["n_pickers"][f_idx]
    k, fpos, p_idx = _interview(sc.pickers_interviewed, fr["sim"].to_numpy(), n, rng,
                                pop.pickers["start"][f_idx], P_f)
    pk = pop.pickers
    pickers = _design_frame(sc, fr["sim"].to_numpy()[fpos], None, d_region,
                            w_f[fpos] * P_f[fpos] / k[fpos], base=fr.iloc[fpos])
    codes = TURKMENISTAN
    pickers.insert(3, "picker_id", _ids(sc.year, "P", p_idx))
    pickers.insert(4, "farm_id", fr["farm_id"].to_numpy()[fpos])
    pickers.insert(5, "round", rnd[fpos])
    cols = {
        "sex": np.asarray(codes.sex, object)[pk["sex"][p_idx]],
        "age_group": np.asarray(codes.age_groups, object)[pk["age_group"][p_idx]],
        "employer_type": np.asarray(codes.employer_types, object)[pk["employer_type"][p_idx]],
        "rate_per_kg": pk["rate_per_kg"][p_idx],
        "written_contract": pk["written_contract"][p_idx],
        "recruited": np.asarray(codes.recruitment, object)[pk["recruited"][p_idx]],
        "voluntary": np.asarray(codes.voluntary, object)[pk["voluntary"][p_idx]],
        "consequences": _CONSEQ_TEXT[pk["cmask"][p_idx]],
        "worked_alongside_children": pk["worked_alongside_children"][p_idx],
    }
    for c, v in cols.items():
        pickers[c] = v
    pickers = _finish(pickers, "picker")

    # institutions
    ir, i_idx, rnd_i, grp_i, inter_i, w_i = out["institution"]
    inst = ir.copy()
    inst.insert(4, "round", rnd_i)
    inst.insert(5, "obs_group", grp_i)
    inst.insert(6, "visit_status", "completed")
    inst.insert(7, "interference", inter_i)
    I_ = pop.institutions
    inst["sector"] = np.asarray(codes.sectors, object)[I_["sector"][i_idx]]
    for c in ("received_quota", "n_staff", "n_staff_sent"):
        inst[c] = I_[c][i_idx]
    inst = _finish(inst, "institution")
    if sc.keep_refusals:
        inst = _every_institution_visit(every, I_, sc)

    # employees within completed institutions
    S = I_["n_staff"][i_idx]
    k, ipos, e_idx = _interview(sc.employees_interviewed, ir["sim"].to_numpy(), n, rng,
                                pop.employees["start"][i_idx], S)
    E = pop.employees
    emp = _design_frame(sc, ir["sim"].to_numpy()[ipos], None, d_region,
                        w_i[ipos] * S[ipos] / k[ipos], base=ir.iloc[ipos])
    emp.insert(3, "employee_id", _ids(sc.year, "E", e_idx))
    emp.insert(4, "institution_id", ir["institution_id"].to_numpy()[ipos])
    cols = {
        "sector": np.asarray(codes.sectors, object)[E["sector"][e_idx]],
        "picked": E["picked"][e_idx], "paid_replacement": E["paid_replacement"][e_idx],
        "amount_paid": E["amount_paid"][e_idx],
        "told_to_participate": E["told_to_participate"][e_idx],
        "voluntary": np.asarray(codes.voluntary, object)[E["voluntary"][e_idx]],
        "consequences": _CONSEQ_TEXT[E["cmask"][e_idx]],
        "worked_alongside_children": E["worked_alongside_children"][e_idx],
    }
    for c, v in cols.items():
        emp[c] = v
    emp = _finish(emp, "employee")
    if sc.keep_refusals:
        emp = _employees_with_refusals(emp, every, I_, ipos, S[ipos] / k[ipos], sc)
    vis = pd.concat(visits, ignore_index=True)
    vis = vis.astype({c: "str" for c in ("instrument", "region", "district", "unit_id",
                                         "visit_status")})
    return {"farms": farms, "pickers": pickers, "employees": emp, "institutions": inst,
            "visits": vis}


def _every_institution_visit(every, I_, sc) -> pd.DataFrame:
    """The institutions table with every attempted visit (``keep_refusals=True``)."""
    frame, idx, rnd, grp, status, inter = every
    done = status == 0
    inst = frame.reset_index(drop=True)
    inst.insert(4, "round", rnd)
    inst.insert(5, "obs_group", grp)
    inst.insert(6, "visit_status", _STATUS[status])
    inst.insert(7, "interference", np.where(status == 1, np.nan, inter))
    inst["sector"] = np.asarray(TURKMENISTAN.sectors, object)[I_["sector"][idx]]
    inst["n_staff"] = I_["n_staff"][idx]
    for c in ("received_quota", "n_staff_sent"):
        inst[c] = np.where(done, I_[c][idx], np.nan)
    inst = _finish(inst, "institution")
    inst["responded"] = done.astype(np.int64)
    inst["size_class"] = np.where(I_["n_staff"][idx] >= sc.large_institution, "large",
                                  "small").astype(object)
    return inst.astype({"size_class": "str"})


def _employees_with_refusals(emp, every, I_, pos, staff_per_interview,
                             sc) -> pd.DataFrame:
    """Employees on base weights, plus one row per institution not visited to the end
    (``keep_refusals=True``): it stands for all its staff (weight ``w_base * n_staff``),
    answers missing, ``responded`` 0."""
    frame, idx, _, _, status, _ = every
    done = status == 0
    base = frame["weight"].to_numpy()
    # row j of emp is an employee of the pos[j]-th completed visit
    emp = emp.assign(weight=base[done][pos] * staff_per_interview, responded=1)
    gone = ~done
    ids = frame["institution_id"].to_numpy()[gone]
    missing = frame.loc[gone, ["sim", "year", "region", "district", "stratum",
                               "n_districts"]].reset_index(drop=True)
    missing["employee_id"] = np.char.add(ids.astype(str), "-staff").astype(object)
    missing["institution_id"] = ids
    missing["sector"] = np.asarray(TURKMENISTAN.sectors, object)[I_["sector"][idx[gone]]]
    missing["weight"] = base[gone] * I_["n_staff"][idx[gone]]
    missing["responded"] = 0
    missing["visit_status"] = _STATUS[status[gone]]
    emp = emp.assign(visit_status="completed")
    out = pd.concat([emp, missing], ignore_index=True)[list(emp.columns)]
    n_staff = np.r_[I_["n_staff"][idx[done]][pos], I_["n_staff"][idx[gone]]]
    out["size_class"] = np.where(n_staff >= sc.large_institution, "large", "small")
    return out.astype({c: "str" for c in ("employee_id", "institution_id", "sector",
                                          "size_class", "region", "district", "stratum")})


def _margins(pop: Population, instrument: str) -> pd.DataFrame:
    """Population counts by region (and sector, size class) and the size total."""
    if instrument not in ("farm", "institution", "employee"):
        raise ValueError("`instrument` must be one of 'farm', 'institution', 'employee'; "
                         f"got {instrument!r}.")
    sc = pop.scenario
    regions = np.asarray(sc.regions, dtype=object)
    units = {"farm": pop.farms, "institution": pop.institutions,
             "employee": pop.employees}[instrument]
    region = regions[pop.district_region[units["district"]]]
    parts = [("region", pd.Series(region).value_counts().reindex(regions, fill_value=0))]
    if instrument in ("institution", "employee"):
        sector = np.asarray(TURKMENISTAN.sectors, object)[units["sector"]]
        parts.append(("sector", pd.Series(sector).value_counts().reindex(
            TURKMENISTAN.sectors, fill_value=0)))
    if instrument == "institution":
        large = units["n_staff"] >= sc.large_institution
        parts.append(("size_class", pd.Series(np.where(large, "large", "small")).value_counts(
        ).reindex(["small", "large"], fill_value=0)))
    rows = [pd.DataFrame({"column": name, "level": counts.index.astype(str),
                          "total": counts.to_numpy(dtype=float)}) for name, counts in parts]
    size = {"farm": "n_pickers", "institution": "n_staff"}.get(instrument)
    if size is not None:
        rows.append(pd.DataFrame({"column": [size], "level": [""],
                                  "total": [float(units[size].sum())]}))
    return pd.concat(rows, ignore_index=True)


def _ids(year, prefix, idx) -> np.ndarray:
    yy = f"{int(year) % 100:02d}"
    return np.char.add(f"{prefix}{yy}-", np.char.zfill(np.asarray(idx).astype(str), 6)).astype(
        object)


def _design_frame(sc, sim, dist, d_region, weight, base=None) -> pd.DataFrame:
    """sim, year, region, district (+ later id) and the design columns."""
    if base is not None:
        out = base[["sim", "year", "region", "district", "stratum", "n_districts"]].reset_index(
            drop=True)
        out["weight"] = weight
        return out[["sim", "year", "region", "district", "stratum", "weight", "n_districts"]]
    regions = np.asarray(sc.regions, dtype=object)
    h = d_region[dist]
    within = dist - np.r_[0, np.cumsum(sc.districts)[:-1]][h] + 1
    district = np.char.add(np.char.add(regions[h].astype(str), "-"),
                           np.char.zfill(within.astype(str), 2)).astype(object)
    return pd.DataFrame({
        "sim": sim, "year": sc.year, "region": regions[h], "district": district,
        "stratum": np.char.add(f"{sc.year}-", regions[h].astype(str)).astype(object),
        "weight": weight, "n_districts": np.asarray(sc.districts, np.int64)[h],
    })


_DESIGN = ["stratum", "weight", "n_districts"]


def _finish(df: pd.DataFrame, instrument: str) -> pd.DataFrame:
    from harvest.instruments import INSTRUMENTS

    order = ["sim"] + [c.name for c in INSTRUMENTS[instrument] if c.name in df.columns]
    df = df[order + _DESIGN].copy()
    for c in df.columns:
        if df[c].dtype == object:
            df[c] = df[c].astype("str")
    return add_indicators(df, instrument)


_new_population = population


def _settings(year, given, settings) -> Scenario:
    sc = given if given is not None else _default_scenario(year)
    return sc.replace(**settings) if settings else sc


def _renamed(settings: dict, old: str, new: str, value):
    """The value of keyword ``new``, or of its deprecated name ``old`` (taken out of
    ``settings``, with a DeprecationWarning)."""
    if old not in settings:
        return value
    if value is not None:
        raise TypeError(f"give `{new}` or its deprecated name `{old}`, not both.")
    warnings.warn(f"the keyword `{old}` is deprecated; use `{new}`.", DeprecationWarning,
                  stacklevel=3)
    return settings.pop(old)


def mission(year: int = 2024, rng=None, *, scenario: Scenario | None = None,
            population: Population | None = None, **settings) -> Mission:
    """Simulate one mission: a new finite population and one two-stage sample from it.

    Parameters
    ----------
    year : int
        2024 (default: 15 observation groups, about 472 farms, 1,762 pickers, 379
        institutions and 2,047 employees in 61 districts) or 2023 (7 groups, 32
        districts, about half the sites); other years use the 2024 settings.
    rng : int or numpy.random.Generator, optional
        Seed or generator; the only source of randomness.
    scenario : Scenario, optional
        Full settings instead of the year's defaults.
    population : Population, optional
        Sample from this population instead of building a new one. (The former names
        ``scenario_`` and ``population_`` still work, with a DeprecationWarning.)
    **settings
        Changes to the scenario, e.g. ``child_labour=0.3, refusal_bias=1.0``.

    Returns
    -------
    Mission
        ``farms``, ``pickers``, ``employees``, ``institutions`` (completed interviews with
        derived indicators and design columns ``stratum``, ``district``, ``weight``,
        ``n_districts``), ``visits`` and ``truth``.

    Notes
    -----
    Weights are ``w = N_h/n'_h * M_d/r_d`` (farms, institutions) and
    ``w * P_f/k_f`` (pickers, employees), the inverse inclusion probabilities given
    the responding units. Use ``SurveyDesign(m.farms, weights="weight",
    strata="stratum", psu="district", fpc="n_districts")``.

    Examples
    --------
    >>> m = mission(2024, rng=3)
    >>> sorted(m.farms.columns[:5])
    ['district', 'farm_id', 'region', 'round', 'year']
    """
    scenario = _renamed(settings, "scenario_", "scenario", scenario)
    population = _renamed(settings, "population_", "population", population)
    rng = as_generator(rng)
    pop = population if population is not None else _new_population(
        year, rng, _settings(year, scenario, settings))
    tables = sample(pop, rng, n=1)
    tables = {k: v.drop(columns="sim") for k, v in tables.items()}
    return Mission(year=pop.scenario.year, truth=pop.truth, population=pop, **tables)


def missions(n: int = 200, year: int = 2024, rng=None, *, scenario: Scenario | None = None,
             population: Population | None = None, batch: int = 100,
             **settings) -> Missions:
    """Draw ``n`` missions from one finite population in a single vectorised pass.

    The population (and so ``truth``) is fixed; the ``n`` samples are independent.
    This is the repeated-sampling frame in which a design-based estimator is unbiased
    and an interval has its coverage.

    Parameters
    ----------
    n : int
        Number of missions.
    year, rng, scenario, population, **settings
        As in :func:`mission`.

    Returns
    -------
    Missions
        Stacked tables with a ``sim`` column (``0..n-1``).

    Examples
    --------
    >>> ms = missions(n=5, year=2024, rng=1)
    >>> ms.farms.groupby("sim").size().tolist()
    [472, 472, 472, 472, 472]

    Every mission's estimate in one call (strata never shared across missions)::

        design = hv.SurveyDesign(ms.farms, weights="weight", strata=["sim", "stratum"],
                                 psu="district", fpc="n_districts")
        est = design.proportion("child_labour", by="sim")
    """
    scenario = _renamed(settings, "scenario_", "scenario", scenario)
    population = _renamed(settings, "population_", "population", population)
    rng = as_generator(rng)
    pop = population if population is not None else _new_population(
        year, rng, _settings(year, scenario, settings))
    tables = sample(pop, rng, n=n, batch=batch)
    return Missions(year=pop.scenario.year, truth=pop.truth, population=pop, n=int(n), **tables)


# -- indirect questions (issue #17): harvest._simulate_sensitive ------------------------
from harvest._simulate_sensitive import sensitive_questions  # noqa: E402

__all__ += ["sensitive_questions"]
