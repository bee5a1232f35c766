"""Hadamard matrices for BRR and Fay replicates, the ones R ``survey::hadamard`` uses.

BRR and Fay replicate weights depend on which Hadamard matrix is used and on which of
its rows each stratum gets; to reproduce R's replicate weights (and so its standard
errors for non-linear statistics to rounding error) :func:`hadamard` picks, for ``n``
strata, the matrix R ``survey`` picks. The matrices are built here from the published
constructions, in this package's own code:

* Sylvester's doubling ``H -> [[H, H], [H, -H]]`` (Sylvester 1867), which gives the
  orders 4 and 16 from order 1 and doubles every other base order;
* Paley's first construction from the quadratic residues of a prime ``p = 3 (mod 4)``,
  order ``p + 1`` (Paley 1933), with the primes found by a sieve;
* orders 28 and 36, which neither reaches from a smaller order, as stored tables (the
  same matrices as R's, checked to be Hadamard by the tests).

A Hadamard matrix is a mathematical object (any two constructions of the same matrix
agree entry for entry); ``tests/test_replicates.py`` compares every order against the
matrices R ``survey`` 4.1 returns (``tests/reference/replicates/hadamard.csv``).
Matrices use 0/1 coding (1 for +1, 0 for -1), as R's.

References
----------
Sylvester, J. J. (1867). Thoughts on inverse orthogonal matrices, simultaneous
sign-successions, and tessellated pavements in two or more colours. *Philosophical
Magazine* 34, 461-475.

Paley, R. E. A. C. (1933). On orthogonal matrices. *Journal of Mathematics and Physics*
12, 311-320.

Hedayat, A. and Wallis, W. D. (1978). Hadamard matrices and their applications.
*The Annals of Statistics* 6(6), 1184-1238.

Examples
--------
>>> H = hadamard(5)
>>> H.shape
(8, 8)
>>> int(((2 * H - 1).T @ (2 * H - 1) == 8 * np.eye(8)).all())
1
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

# Orders 28 and 36 are not reached by doubling nor by the Paley construction below from
# a smaller order, so they are stored: the 0/1 tables of the two matrices that R
# ``survey`` uses at these orders (so that BRR replicate weights match R's), one string
# per row. A Hadamard matrix is a mathematical object; ``tests/test_replicates.py``
# checks that these are Hadamard (orthogonal +-1 columns) and equal R's.
_STORED = {
    28: (
        "1111111111111111111111111111",
        "1001110001110001110001111000",
        "1000001111001101001101111000",
        "1000001110110010111001100110",
        "1001101000001111100011010110",
        "1001010100101100010110101110",
        "1000110011010010001110011110",
        "0101100010101010011111110000",
        "0100010110110101100111010100",
        "0100011011001011110010101100",
        "0101011000010111011101001010",
        "0100101101100100111010011010",
        "0101100101011001101100100110",
        "0010110100011110101011101000",
        "0011011001100110101100110100",
        "0010101100111011010100011100",
        "0011000111010111010010110010",
        "0011001011111000100111001010",
        "0010110011101101011001000110",
        "1110101001010100010111100100",
        "1111000101100011001011001100",
        "1111000010011100111000011100",
        "1110010101001010110101010010",
        "1110011000111001001010110010",
        "1110100010100111100100101010",
        "1101111111111110000000000000",
        "1011111110000001111110000000",
        "0111111110000000000001111110",
    ),
    36: (
        "111111111111111111111111111111111111",
        "010111000111110111001000010101100100",
        "101110001111101110010000101011001000",
        "011100011111011100100001010110010010",
        "111000111110111001000010101100100100",
        "110001111101110010000101011001001010",
        "100011111011100100001010110010010110",
        "000111110111001000010101100100101110",
        "001111101110010000101011001001011100",
        "011111011100100001010110010010111000",
        "111110111001000010101100100101110000",
        "111101110010000101011001001011100010",
        "111011100100001010110010010111000110",
        "110111001000010101100100101110001110",
        "101110010000101011001001011100011110",
        "011100100001010110010010111000111110",
        "111001000010101100100101110001111100",
        "110010000101011001001011100011111010",
        "100100001010110010010111000111110110",
        "001000010101100100101110001111101110",
        "010000101011001001011100011111011100",
        "100001010110010010111000111110111000",
        "000010101100100101110001111101110010",
        "000101011001001011100011111011100100",
        "001010110010010111000111110111001000",
        "010101100100101110001111101110010000",
        "101011001001011100011111011100100000",
        "010110010010111000111110111001000010",
        "101100100101110001111101110010000100",
        "011001001011100011111011100100001010",
        "110010010111000111110111001000010100",
        "100100101110001111101110010000101010",
        "001001011100011111011100100001010110",
        "010010111000111110111001000010101100",
        "100101110001111101110010000101011000",
        "001011100011111011100100001010110010",
    ),
}
_SIZES = np.array([4, 16, 28, 36])

#: Largest prime the Paley construction is tried with (R ``survey`` searches the primes
#: p = 3 (mod 4) up to this bound).
_PRIME_LIMIT = 7919


def _primes_3_mod_4(limit: int) -> np.ndarray:
    """The primes ``p <= limit`` with ``p % 4 == 3`` (sieve of Eratosthenes)."""
    sieve = np.ones(limit + 1, dtype=bool)
    sieve[:2] = False
    for k in range(2, int(limit ** 0.5) + 1):
        if sieve[k]:
            sieve[k * k::k] = False
    primes = np.flatnonzero(sieve)
    return primes[primes % 4 == 3]


_SMALL_PRIMES = _primes_3_mod_4(_PRIME_LIMIT)


def _precooked(size: int) -> np.ndarray:
    """The base matrix of order 4, 16 (Sylvester, from order 1), 28 or 36 (stored)."""
    if size in _STORED:
        return np.array([[int(c) for c in row] for row in _STORED[size]], dtype=np.int8)
    H = np.ones((1, 1), dtype=np.int8)
    while H.shape[0] < size:
        H = _doubler(H)
    return H


def _doubler(H: np.ndarray) -> np.ndarray:
    """Sylvester's doubling in 0/1 coding: ``[[H, H], [H, -H]]`` with -1 written as 0."""
    return np.block([[H, H], [H, 1 - H]])


def _paley_prime(p: int) -> np.ndarray:
    """Paley's first construction, order ``p + 1``, for a prime ``p`` with ``p % 4 == 3``.

    With the quadratic character ``chi`` of GF(p), the core is ``chi(i + j)`` (the
    back-circulant form of Paley's Jacobsthal matrix ``chi(j - i)``: the same rows in the
    order ``-i``), bordered by a row and a column of ones; in 0/1 coding a quadratic
    residue or 0 is written 0 and a non-residue 1 (on the core; the border is 1).
    """
    k = np.arange(p)
    m = (k[:, None] + k[None, :]) % p
    residues = np.concatenate([[0, 1], (np.arange(2, (p - 1) // 2 + 1) ** 2) % p])
    m = np.where(np.isin(m, residues), 0, 1).astype(np.int8)
    out = np.ones((p + 1, p + 1), dtype=np.int8)
    out[1:, 1:] = m
    return out


def _paley(n: int, nmax: int) -> np.ndarray | None:
    """A Paley matrix (possibly doubled) of order at least ``n + 1`` and at most ``nmax``.

    The choice of order is R ``survey``'s (so the replicate weights agree with R's):
    with ``nceil`` the multiple of 4 above ``n``, first a Paley matrix of order
    ``nceil / 2**k = 4 (mod 8)`` doubled back up to ``nceil``; else the smallest prime
    ``p >= n`` (order ``p + 1``), unless that overshoots ``nceil + 4`` and a try from
    ``nceil + 3`` is still below ``nmax``. None when no such order exists.
    """
    nceil = n + 4 - n % 4                      # the multiple of 4 above n
    if nceil % 8 == 0:
        base = nceil
        while base % 8 == 0:                    # halve down to an order = 4 (mod 8)
            base //= 2
        if base - 1 in _SMALL_PRIMES:
            H = _paley_prime(base - 1)
            while H.shape[0] < nceil:
                H = _doubler(H)
            return H
    larger = _SMALL_PRIMES[_SMALL_PRIMES >= n]
    if larger.size == 0:
        return None
    p = int(larger[0])
    if p + 1 > nceil + 4 and nceil + 4 < nmax:
        return _paley(nceil + 3, 2 * (nceil + 3))
    return None if p > nmax else _paley_prime(p)


@lru_cache(maxsize=64)
def _hadamard_cached(n: int) -> np.ndarray:
    m = n - (n % 4)
    precooked = _SIZES[(m < _SIZES) & (m + 4 >= _SIZES)]
    if precooked.size:
        return _precooked(int(precooked.min()))
    if np.all(m < _SIZES):
        return _precooked(4)
    doublings = np.maximum(0, np.ceil(np.log2((n + 1) / _SIZES)))
    sizes = _SIZES * 2 ** doublings
    best = int(np.argmin(sizes - n))
    H = None
    if sizes[best] - n > 4:
        H = _paley(n, int(sizes[best]))
    if H is None:
        H = _precooked(int(_SIZES[best]))
        for _ in range(int(np.ceil(np.log2(sizes[best] / _SIZES[best])))):
            H = _doubler(H)
    return H


def hadamard(n: int) -> np.ndarray:
    """A 0/1 Hadamard matrix with more than ``n`` rows, the one R ``survey`` uses.

    Parameters
    ----------
    n : int
        Number of strata (half-sample pairs); the matrix has at least ``n + 1``
        rows, and row ``k + 1`` (0-based) drives stratum ``k``.

    Returns
    -------
    numpy.ndarray
        Square int8 matrix of 0/1 whose +-1 version ``2H - 1`` has orthogonal
        columns. Its number of columns is the number of BRR replicates.

    Notes
    -----
    The order is chosen as R ``survey`` 4.1 chooses it: a base matrix of order 4, 16,
    28 or 36 when one lies in ``(m, m + 4]`` with ``m = n - n % 4``; otherwise the
    base order that, doubled (Sylvester, ``[[H, H], [H, 1 - H]]`` in 0/1 coding),
    first exceeds ``n`` with the least excess, or a Paley matrix (Paley 1933) when that
    excess is more than 4. See the module docstring for the constructions and
    references (Hedayat and Wallis 1978 survey them).

    Examples
    --------
    >>> hadamard(3).shape, hadamard(15).shape, hadamard(40).shape
    ((4, 4), (16, 16), (44, 44))
    """
    n = int(n)
    if n < 1:
        raise ValueError(f"`n` must be a positive number of strata; got {n}.")
    return _hadamard_cached(n).copy()
