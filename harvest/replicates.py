"""Replicate-weight factors per PSU: Rao-Wu bootstrap, JK1, JKn, BRR and Fay's BRR.

A replicate design multiplies the sampling weight of every row of PSU ``i`` by a
factor ``F[r, i]`` in replicate ``r``. This module builds those factors for the
``P`` PSUs of a design, in blocks of replicates (``(b, P)`` arrays), so that the
replicate estimates are one matrix product per block, ``F_b @ Y``, and memory is
bounded by ``batch`` whatever the number of replicates. numpy only.

Conventions follow R ``survey::as.svrepdesign`` (``type="subbootstrap"``, ``"JK1"``,
``"JKn"``, ``"BRR"``, ``"Fay"``): the same factors (for the deterministic methods,
the same replicate order and Hadamard matrix), ``scale`` and ``rscales``; see
``docs/methods/replicates.md``.

Examples
--------
>>> import numpy as np
>>> f = make_factors("jkn", psu_stratum=np.array([0, 0, 1, 1, 1]))
>>> f.n_replicates, f.scale, f.rscales.round(3).tolist()
(5, 1.0, [0.5, 0.5, 0.667, 0.667, 0.667])
>>> f.matrix()[0].tolist()
[0.0, 2.0, 1.0, 1.0, 1.0]
>>> boot = make_factors("bootstrap", psu_stratum=np.array([0, 0, 0, 1, 1]),
...                     replicates=4, rng=1)
>>> boot.matrix().sum(axis=1).tolist()   # each stratum's factors sum to n_h
[5.0, 5.0, 5.0, 5.0]
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from harvest._core import group_sum
from harvest._errors import DataError, HarvestWarning, LonelyPSUWarning
from harvest._hadamard import hadamard
from harvest._options import LONELY_PSU, REPLICATE_METHODS, as_generator, check_option

__all__ = ["BLOCK", "ReplicateFactors", "make_factors", "as_seed_sequence", "r_string_order"]

#: Bootstrap replicates are drawn in fixed blocks of this many, block ``k`` from its
#: own generator spawned from one :class:`numpy.random.SeedSequence`; so the factors
#: do not depend on ``batch``.
BLOCK = 128

#: Default upper bound on the entries of one ``(b, P)`` factor block (32 MB of float64).
MAX_BLOCK_ENTRIES = 4_000_000


def as_seed_sequence(rng) -> np.random.SeedSequence:
    """One :class:`numpy.random.SeedSequence` derived from a seed or a Generator.

    A seed (int, sequence of ints or ``None``) and ``numpy.random.default_rng(seed)``
    give the same sequence. A Generator passed twice gives two different sequences
    (its spawn counter advances), as a random source should.

    Examples
    --------
    >>> a = as_seed_sequence(7)
    >>> b = as_seed_sequence(np.random.default_rng(7))
    >>> a.entropy == b.entropy and a.spawn_key == b.spawn_key
    True
    """
    gen = as_generator(rng)
    seq = getattr(gen.bit_generator, "seed_seq", None)
    if isinstance(seq, np.random.SeedSequence):
        return seq.spawn(1)[0]
    return np.random.SeedSequence(gen.integers(0, 2**63, size=4).tolist())


def r_string_order(labels) -> np.ndarray:
    """Positions that sort ``labels`` as R's ``sort(as.character(x))`` does here.

    R (ICU/locale collation) compares case-insensitively first and puts lower case
    first on ties; numbers are compared as strings (``"10" < "2"``). Used only to give
    BRR strata the same Hadamard rows as R.

    Examples
    --------
    >>> r_string_order(["b", "A", "a", "10", "2"]).tolist()
    [3, 4, 2, 1, 0]
    """
    keys = [_r_character(v) for v in labels]
    order = sorted(range(len(keys)), key=lambda i: (keys[i].casefold(), keys[i].swapcase()))
    return np.asarray(order, dtype=np.intp)


def _r_character(value) -> str:
    if isinstance(value, tuple):  # several strata columns: R's interaction labels
        return ".".join(_r_character(v) for v in value)
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class ReplicateFactors:
    """Replicate-weight factors of a design's PSUs and the variance constants.

    Build with :func:`make_factors`. Factors are generated on demand, in blocks.

    Attributes
    ----------
    method : str
        ``"bootstrap"``, ``"jk1"``, ``"jkn"``, ``"brr"`` or ``"fay"``.
    n_replicates : int
        Number of replicates ``R``.
    n_psus : int
        Number of PSUs ``P`` (columns of every block).
    scale : float
        Overall multiplier of the variance (R ``scale``).
    rscales : numpy.ndarray, shape (R,)
        Per-replicate multipliers (R ``rscales``).
    rho : float
        Fay's coefficient (0 for the other methods).
    mse : bool
        Centre the squared deviations on the full-sample estimate (True) or on the
        mean of the replicates (False, R's default).
    constant_psu : numpy.ndarray of bool, shape (P,)
        PSUs whose factor is 1 in every replicate (lonely PSUs set aside, census
        strata); used for the degrees of freedom.

    Notes
    -----
    The replicate covariance of estimates :math:`\\hat\\theta` is, with
    :math:`\\hat\\theta_r` the estimate under replicate weights ``F[r] * w``,

    .. math:: \\hat V = \\mathrm{scale} \\sum_r \\mathrm{rscales}_r
              (\\hat\\theta_r - \\bar\\theta)(\\hat\\theta_r - \\bar\\theta)^\\top

    with :math:`\\bar\\theta` the mean of the replicates with ``rscales > 0`` (or
    :math:`\\hat\\theta` itself when ``mse``), as R ``survey:::svrVar``.
    """

    method: str
    n_replicates: int
    n_psus: int
    scale: float
    rscales: np.ndarray
    rho: float = 0.0
    mse: bool = False
    constant_psu: np.ndarray = field(default=None, repr=False)
    _spec: dict = field(default_factory=dict, repr=False)

    def default_batch(self) -> int:
        """Replicates per block so that a block holds about 4 million factors."""
        b = max(1, MAX_BLOCK_ENTRIES // max(self.n_psus, 1))
        if self.method == "bootstrap":
            b = max(BLOCK, (b // BLOCK) * BLOCK)
        return int(min(b, max(self.n_replicates, 1)))

    def blocks(self, batch: int | None = None):
        """Yield ``(start, F_block)`` with ``F_block`` of shape ``(b, P)``, in order.

        Parameters
        ----------
        batch : int, optional
            Replicates per block (the last one may be shorter); bounds memory at
            ``batch * P`` floats. The factors do not depend on it.
        """
        batch = self.default_batch() if batch is None else _check_batch(batch)
        # the bootstrap's work arrays, shared by every block of this pass
        buffers = (_chunk_buffers(self._spec["slot_n"].size)
                   if self._spec["kind"] == "bootstrap" else None)
        for start in range(0, self.n_replicates, batch):
            stop = min(start + batch, self.n_replicates)
            if buffers is not None:
                yield start, _bootstrap_block(self._spec, start, stop, buffers)
            else:
                yield start, self.block(start, stop)

    def block(self, start: int, stop: int) -> np.ndarray:
        """Factors of replicates ``start .. stop-1`` as a ``(stop - start, P)`` array."""
        if not 0 <= start <= stop <= self.n_replicates:
            raise ValueError(
                f"replicates {start}..{stop} are outside 0..{self.n_replicates}."
            )
        kind = self._spec["kind"]
        if kind == "bootstrap":
            return _bootstrap_block(self._spec, start, stop)
        if kind == "jackknife":
            return _jackknife_block(self._spec, start, stop)
        return _brr_block(self._spec, start, stop, self.rho)

    def matrix(self) -> np.ndarray:
        """All factors, ``(R, P)``; for small designs and tests."""
        return self.block(0, self.n_replicates)

    def rank(self, psu_present=None) -> np.ndarray:
        """Rank of the replicate weights restricted to the PSUs holding each domain.

        Parameters
        ----------
        psu_present : array_like of bool, shape (P, m), optional
            Which PSUs hold rows (with positive weight) of each of ``m`` estimates;
            ``None``: every PSU.

        Returns
        -------
        numpy.ndarray of int, shape (m,)

        Notes
        -----
        The factors of the PSUs of a stratum whose PSUs are all present add up to a
        constant vector (``n_h`` for the bootstrap and the jackknife, 2 for BRR), and
        a PSU that is never resampled has the constant vector itself (a lonely PSU
        under ``"adjust"`` in the jackknife is not constant); otherwise the
        PSUs' factor vectors are in general position. With ``P_d`` PSUs present and
        ``K_d`` such constant sources, the rank is
        ``min(R, P_d - K_d + [K_d > 0])``: R's ``degf`` of the design restricted to
        the domain is this minus 1. Checked against R in the tests.
        """
        spec = self._spec
        psu_stratum = spec["psu_stratum"]
        n_strata = spec["n_strata"]
        if psu_present is None:
            psu_present = np.ones((self.n_psus, 1), dtype=bool)
        present = np.asarray(psu_present, dtype=bool)
        if present.ndim == 1:
            present = present[:, None]
        p_d = present.sum(axis=0)
        varying = ~self.constant_psu
        # strata whose varying PSUs are all present (and have at least one)
        n_var = np.bincount(psu_stratum[varying], minlength=n_strata)
        pres_var = group_sum(psu_stratum[varying], n_strata, present[varying])
        sums_constant = (n_var > 0) & ~spec.get("free_strata", np.zeros(n_strata, bool))
        complete = ((pres_var == n_var[:, None]) & sums_constant[:, None]).sum(axis=0)
        constants = present[~varying].sum(axis=0)
        k_d = complete + constants
        rank = p_d - k_d + (k_d > 0)
        return np.minimum(rank, self.n_replicates).astype(int)


def _check_batch(batch) -> int:
    if isinstance(batch, bool) or not isinstance(batch, int | np.integer) or batch < 1:
        raise ValueError(f"`batch` must be a positive integer number of replicates; "
                         f"got {batch!r}.")
    return int(batch)


def _check_replicates(replicates) -> int:
    if (isinstance(replicates, bool) or not isinstance(replicates, int | np.integer)
            or replicates < 2):
        raise ValueError(f"`replicates` must be an integer of at least 2; got {replicates!r}.")
    return int(replicates)


def _first_order(psu_first_row, n_psus):
    if psu_first_row is None:
        return np.arange(n_psus)
    return np.asarray(psu_first_row)


def make_factors(method: str, psu_stratum, *, replicates: int = 500, rng=None,
                 rho: float | None = None, fraction=None, lonely_psu: str = "fail",
                 has_strata: bool | None = None, psu_first_row=None, stratum_first_row=None,
                 stratum_labels=None) -> ReplicateFactors:
    """Replicate factors for a design given by the stratum of each PSU.

    Parameters
    ----------
    method : {"bootstrap", "jk1", "jkn", "brr", "fay"}
        ``"bootstrap"``: Rao-Wu rescaling bootstrap with ``n_h - 1`` PSUs drawn with
        replacement in each stratum (R ``"subbootstrap"``); ``"jk1"``: delete-one
        jackknife for an unstratified design; ``"jkn"``: stratified delete-one
        jackknife; ``"brr"``: balanced repeated replication (two PSUs per stratum);
        ``"fay"``: Fay's BRR with coefficient ``rho``.
    psu_stratum : array_like of int, shape (P,)
        Stratum code ``0 .. H-1`` of each PSU.
    replicates : int, default 500
        Number of bootstrap replicates (ignored by the other methods, whose number is
        fixed by the design).
    rng : int, numpy.random.Generator or None
        Random source of the bootstrap (keyword only).
    rho : float, optional
        Fay's coefficient in ``[0, 1)``; default 0.3 for ``"fay"``, 0 for ``"brr"``.
    fraction : array_like, shape (H,), optional
        First-stage sampling fractions ``n_h / N_h`` (0 without fpc). Used by the
        jackknives as R does; ignored (with a warning) by BRR, Fay and the bootstrap.
    lonely_psu : {"fail", "remove", "certainty", "adjust", "average"}
        Strata with a single PSU (and ``f_h < 1``), as R ``as.svrepdesign``.
    has_strata : bool, optional
        Whether the design was declared with strata; default ``H > 1``. ``"jk1"``
        needs an unstratified design; ``"jkn"``, ``"brr"`` and ``"fay"`` a stratified one.
    psu_first_row, stratum_first_row : array_like of int, optional
        Row of first appearance of each PSU / stratum in the data: fixes the order of
        jackknife replicates and the PSU order within BRR pairs as in R.
    stratum_labels : sequence, optional
        Label of each stratum code, for messages and for the BRR stratum order (R
        sorts the labels as character strings).

    Returns
    -------
    ReplicateFactors

    Notes
    -----
    Bootstrap, stratum :math:`h` with :math:`n_h` PSUs: draw :math:`n_h - 1` of its
    PSUs with replacement, :math:`r_{hi}` times PSU :math:`i`; the factor is
    :math:`\\frac{n_h}{n_h - 1} r_{hi}`. ``scale = 1/(R-1)``, ``rscales = 1``.

    JKn, replicate deleting PSU :math:`j` of stratum :math:`h`: factor 0 for
    :math:`j`, :math:`n_h/(n_h-1)` for the other PSUs of :math:`h`, 1 elsewhere;
    ``rscales = (1 - f_h)(n_h - 1)/n_h``, ``scale = 1``. JK1 is the same with one
    stratum and ``scale = (1 - f)(n - 1)/n``, ``rscales = 1``.

    BRR / Fay, stratum :math:`k` (in R's order) and replicate :math:`r`: the PSU
    selected by the Hadamard entry ``H[k+1, r]`` gets :math:`2 - \\rho`, the other
    :math:`\\rho`; ``scale = 1/(R(1-\\rho)^2)``.

    Examples
    --------
    >>> f = make_factors("brr", np.array([0, 0, 1, 1]))
    >>> f.n_replicates, f.scale
    (4, 0.25)
    >>> f.matrix().tolist()[:2]
    [[2.0, 0.0, 2.0, 0.0], [0.0, 2.0, 2.0, 0.0]]
    """
    check_option("method", method, REPLICATE_METHODS)
    check_option("lonely_psu", lonely_psu, LONELY_PSU)
    psu_stratum = np.asarray(psu_stratum, dtype=np.intp)
    if psu_stratum.ndim != 1 or psu_stratum.size == 0:
        raise ValueError("`psu_stratum` must be a non-empty 1-d array of stratum codes.")
    n_psus = psu_stratum.size
    n_strata = int(psu_stratum.max()) + 1
    n_psu = np.bincount(psu_stratum, minlength=n_strata)
    if fraction is None:
        fraction = np.zeros(n_strata)
    fraction = np.asarray(fraction, dtype=float)
    if has_strata is None:
        has_strata = n_strata > 1
    labels = list(stratum_labels) if stratum_labels is not None else list(range(n_strata))
    psu_first = _first_order(psu_first_row, n_psus)
    strat_first = (np.asarray(stratum_first_row) if stratum_first_row is not None
                   else np.arange(n_strata))
    common = {"psu_stratum": psu_stratum, "n_strata": n_strata, "n_psu": n_psu}

    if method == "bootstrap":
        if rho is not None and rho != 0:
            raise ValueError("`rho` applies to method='fay' only.")
        return _bootstrap(common, _check_replicates(replicates), rng, fraction, lonely_psu,
                          labels)
    if method == "jk1":
        if has_strata:
            raise ValueError("method='jk1' is for an unstratified design (as R's JK1); "
                             "use 'jkn' for a stratified one.")
        return _jackknife(common, fraction, lonely_psu, labels, psu_first, strat_first,
                          single=True)
    if not has_strata:
        raise ValueError(f"method={method!r} needs a stratified design; use 'jk1' or "
                         "'bootstrap' for an unstratified one (as R).")
    if method == "jkn":
        return _jackknife(common, fraction, lonely_psu, labels, psu_first, strat_first,
                          single=False)
    if method == "brr" and rho not in (None, 0):
        raise ValueError("method='brr' has rho = 0; use method='fay' for Fay's BRR.")
    rho = 0.0 if method == "brr" else (0.3 if rho is None else float(rho))
    if not 0.0 <= rho < 1.0:
        raise ValueError(f"`rho` must be in [0, 1); got {rho!r}.")
    return _brr(common, rho, fraction, labels, psu_first, method)


# -- bootstrap ------------------------------------------------------------------------
def _bootstrap(common, replicates, rng, fraction, lonely, labels) -> ReplicateFactors:
    psu_stratum, n_psu = common["psu_stratum"], common["n_psu"]
    n_strata = common["n_strata"]
    if np.any(fraction > 0):
        warnings.warn(
            "The finite population correction is not used by the Rao-Wu bootstrap "
            "(as R's subbootstrap); replicate variances are with-replacement.",
            HarvestWarning, stacklevel=4)
    single = n_psu == 1
    scale = 1.0 / (replicates - 1)
    if single.any():
        _lonely_message(lonely, single, labels, "bootstrap")
        if lonely == "average":
            scale *= n_strata / (n_strata - single.sum())
    # PSUs sorted by stratum; each stratum h gives n_h - 1 draw slots
    order = np.argsort(psu_stratum, kind="stable")
    start = np.concatenate([[0], np.cumsum(n_psu)[:-1]])
    draws = np.maximum(n_psu - 1, 0)
    slot_stratum = np.repeat(np.arange(n_strata), draws)
    factor = np.where(single, 1.0, n_psu / np.maximum(n_psu - 1, 1))[psu_stratum]
    if np.array_equal(order, np.arange(order.size)):
        order = None  # PSU codes already grouped by stratum
    spec = dict(common, kind="bootstrap", seed=as_seed_sequence(rng), order=order,
                has_single=bool(single.any()),
                slot_start=start[slot_stratum], slot_n=n_psu[slot_stratum],
                psu_factor=factor, single_psu=single[psu_stratum])
    return ReplicateFactors("bootstrap", replicates, psu_stratum.size, scale,
                            np.ones(replicates), constant_psu=single[psu_stratum],
                            _spec=spec)


def _lonely_message(lonely, single, labels, method):
    bad = [labels[h] for h in np.flatnonzero(single)]
    shown = ", ".join(repr(b) for b in bad[:10]) + (" ..." if len(bad) > 10 else "")
    if lonely == "fail":
        raise DataError(
            f"{'Stratum' if len(bad) == 1 else 'Strata'} {shown} "
            f"{'has' if len(bad) == 1 else 'have'} only one PSU; choose lonely_psu='remove', "
            "'certainty' or 'average' (or 'adjust' for the jackknife).")
    if lonely == "adjust" and method == "bootstrap":
        raise ValueError(
            f"lonely_psu='adjust' is not defined for the bootstrap (strata {shown} have "
            "one PSU); choose 'remove', 'certainty' or 'average'.")
    warnings.warn(
        f"{'Stratum' if len(bad) == 1 else 'Strata'} {shown} "
        f"{'has' if len(bad) == 1 else 'have'} only one PSU; the {method} replicates apply "
        f"lonely_psu={lonely!r} to {'it' if len(bad) == 1 else 'them'} (as R survey).",
        LonelyPSUWarning, stacklevel=5)


def _chunk(spec, k: int, out: np.ndarray, lo: int, hi: int, buffers) -> None:
    """Write replicates ``lo .. hi-1`` of the fixed block ``k`` into ``out``.

    The whole block ``k`` (replicates ``k*BLOCK ..``) is always drawn from its own
    generator, so the numbers do not depend on which part of it is asked for.
    ``buffers``: a ``(BLOCK, slots)`` float and a ``(BLOCK, slots)`` intp array to work
    in (reused from one block to the next, so no fresh memory per block).
    """
    seed = spec["seed"]
    child = np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, k),
                                   pool_size=seed.pool_size)
    gen = np.random.Generator(np.random.PCG64(child))
    n_psus = spec["psu_stratum"].size
    u_all, psu_all = buffers
    # uniform position within the stratum: floor(u * n_h) < n_h for u < 1 (exact in
    # float64 for n_h < 2**52); faster than Generator.integers with array bounds
    gen.random(out=u_all)   # the same numbers as gen.random((BLOCK, slots))
    u = u_all[lo:hi]
    u *= spec["slot_n"]
    psu = psu_all[lo:hi]
    np.copyto(psu, u, casting="unsafe")   # truncation, as u.astype(np.intp)
    psu += spec["slot_start"]
    if spec["order"] is not None:
        psu = spec["order"][psu]
    psu += (np.arange(hi - lo) * n_psus)[:, None]
    counts = np.bincount(psu.ravel(), minlength=(hi - lo) * n_psus).reshape(hi - lo, n_psus)
    np.multiply(counts, spec["psu_factor"], out=out)
    if spec["has_single"]:
        out[:, spec["single_psu"]] = 1.0


def _chunk_buffers(slots: int):
    """Work arrays of :func:`_chunk` for one fixed block of draws."""
    return np.empty((BLOCK, slots)), np.empty((BLOCK, slots), dtype=np.intp)


def _bootstrap_block(spec, start, stop, buffers=None) -> np.ndarray:
    n_psus = spec["psu_stratum"].size
    out = np.empty((stop - start, n_psus))
    if buffers is None and stop > start:
        buffers = _chunk_buffers(spec["slot_n"].size)
    for k in range(start // BLOCK, (stop - 1) // BLOCK + 1 if stop > start else 0):
        lo = max(start, k * BLOCK)
        hi = min(stop, (k + 1) * BLOCK)
        _chunk(spec, k, out[lo - start:hi - start], lo - k * BLOCK, hi - k * BLOCK,
               buffers)
    return out


# -- jackknives -----------------------------------------------------------------------
def _jackknife(common, fraction, lonely, labels, psu_first, strat_first, single):
    """JK1 (``single``) or JKn factors, replicate order as R's jk1weights/jknweights."""
    psu_stratum, n_psu, n_strata = common["psu_stratum"], common["n_psu"], common["n_strata"]
    n_psus = psu_stratum.size
    fpc = 1.0 - fraction
    census = fpc < 1e-12  # R drops the replicates of a fully sampled stratum
    lonely_h = (n_psu == 1) & ~census
    if single:
        if census[0]:
            raise ValueError("The design samples every PSU (fpc = 1): the jackknife "
                             "variance is zero and there are no replicates.")
        if n_psu[0] < 2:
            raise ValueError("method='jk1' needs at least two PSUs.")
    elif lonely_h.any():
        _lonely_message(lonely, lonely_h, labels, "jkn")
    deleting = ~(census | lonely_h)[psu_stratum]
    # replicate order: strata by first appearance, PSUs by first appearance
    rank_stratum = np.empty(n_strata, dtype=np.intp)
    rank_stratum[np.argsort(strat_first, kind="stable")] = np.arange(n_strata)
    order = np.lexsort((psu_first, rank_stratum[psu_stratum]))
    deleted = order[deleting[order]]  # PSU deleted by each ordinary replicate
    rep_stratum = psu_stratum[deleted]
    n_h = n_psu[rep_stratum].astype(float)
    if single:
        rscales = np.ones(deleted.size)
        scale = float(fpc[0] * (n_psu[0] - 1) / n_psu[0])
    else:
        rscales = fpc[rep_stratum] * (n_h - 1) / n_h
        scale = 1.0
    adjust_strata = np.flatnonzero(lonely_h) if lonely == "adjust" and not single else \
        np.empty(0, dtype=np.intp)
    rep_kind = np.zeros(deleted.size, dtype=np.int8)  # 0 delete-one, 1 lonely adjust
    if adjust_strata.size:
        # one replicate per lonely stratum, placed where R puts it (stratum order)
        key_ord = np.concatenate([rank_stratum[rep_stratum], rank_stratum[adjust_strata]])
        key_psu = np.concatenate([psu_first[deleted], np.zeros(adjust_strata.size)])
        deleted = np.concatenate([deleted, np.full(adjust_strata.size, -1)])
        rep_stratum = np.concatenate([rep_stratum, adjust_strata])
        nst = float(n_strata)
        rscales = np.concatenate([rscales, np.full(adjust_strata.size, (nst - 1) / nst)])
        rep_kind = np.concatenate([rep_kind, np.ones(adjust_strata.size, dtype=np.int8)])
        pos = np.lexsort((key_psu, key_ord))
        deleted, rep_stratum = deleted[pos], rep_stratum[pos]
        rscales, rep_kind = rscales[pos], rep_kind[pos]
    n_reps = deleted.size
    if n_reps == 0:
        raise ValueError("All strata were exhaustively sampled or set aside: there are "
                         "no jackknife replicates (the variance is zero).")
    if lonely == "average" and not single and n_reps < n_psus:
        scale *= n_psus / n_reps
    free = np.zeros(n_strata, dtype=bool)  # lonely strata under "adjust": no constant sum
    free[adjust_strata] = True
    spec = dict(common, kind="jackknife", deleted=deleted, rep_stratum=rep_stratum,
                rep_kind=rep_kind, free_strata=free,
                inflate=n_psu / np.maximum(n_psu - 1, 1))
    constant = ~deleting
    if adjust_strata.size:
        constant = constant & ~np.isin(psu_stratum, adjust_strata)
    method = "jk1" if single else "jkn"
    return ReplicateFactors(method, n_reps, n_psus, scale, rscales,
                            constant_psu=constant, _spec=spec)


def _jackknife_block(spec, start, stop) -> np.ndarray:
    psu_stratum = spec["psu_stratum"]
    n_strata = spec["n_strata"]
    deleted = spec["deleted"][start:stop]
    rep_stratum = spec["rep_stratum"][start:stop]
    kind = spec["rep_kind"][start:stop]
    same = psu_stratum[None, :] == rep_stratum[:, None]
    inflate = spec["inflate"][psu_stratum]
    out = np.where(same, inflate[None, :], 1.0)
    rows = np.flatnonzero(kind == 0)
    out[rows, deleted[rows]] = 0.0
    adj = np.flatnonzero(kind == 1)
    if adj.size:
        nst = float(n_strata)
        out[adj] = np.where(same[adj], 0.0, nst / (nst - 1))
    return out


# -- BRR and Fay ------------------------------------------------------------------------
def _brr(common, rho, fraction, labels, psu_first, method) -> ReplicateFactors:
    psu_stratum, n_psu, n_strata = common["psu_stratum"], common["n_psu"], common["n_strata"]
    bad = np.flatnonzero(n_psu != 2)
    if bad.size:
        shown = ", ".join(f"{labels[h]!r} ({int(n_psu[h])} PSUs)" for h in bad[:10])
        more = f" and {bad.size - 10} more" if bad.size > 10 else ""
        raise DataError(f"method={method!r} needs exactly two PSUs in every stratum; "
                         f"strata {shown}{more} do not.")
    if np.any(fraction > 0):
        warnings.warn("Finite population correction dropped for BRR/Fay replicates "
                      "(as R's as.svrepdesign).", HarvestWarning, stacklevel=4)
    # stratum k (R's sorted character order) uses Hadamard row k + 1; within a pair,
    # the PSU appearing first in the data is 'first'.
    pair_index = np.empty(n_strata, dtype=np.intp)
    pair_index[r_string_order(labels)] = np.arange(n_strata)
    order = np.lexsort((psu_first, psu_stratum))
    is_first = np.zeros(psu_stratum.size, dtype=bool)
    is_first[order[0::2]] = True
    H = hadamard(n_strata)
    n_reps = H.shape[1]
    spec = dict(common, kind="brr", H=H, pair_index=pair_index, is_first=is_first)
    scale = 1.0 / (n_reps * (1.0 - rho) ** 2)
    return ReplicateFactors(method, n_reps, psu_stratum.size, scale, np.ones(n_reps),
                            rho=rho, constant_psu=np.zeros(psu_stratum.size, dtype=bool),
                            _spec=spec)


def _brr_block(spec, start, stop, rho) -> np.ndarray:
    H = spec["H"]
    bits = H[1 + spec["pair_index"][spec["psu_stratum"]], start:stop].T  # (b, P)
    # bit 0: the first PSU of the pair gets rho, the second 2 - rho; bit 1: reversed
    first = spec["is_first"][None, :]
    high = np.where(first, bits == 1, bits == 0)
    return np.where(high, 2.0 - rho, rho)
