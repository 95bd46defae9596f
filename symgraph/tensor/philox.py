"""Philox4x32-10 counter-based random numbers, identical on every backend.

This module is the single source of truth for the random streams of
``symgraph``.  The NumPy backend uses the vectorized functions, the Numba CPU
backend and (later) numba-cuda kernels use the scalar twins, which are written
in the subset of Python that ``numba.njit`` and ``numba.cuda.jit(device=True)``
accept (integers and floats only, no Python objects).

Generator
---------
Philox4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy
as 1, 2, 3", SC'11; the Random123 library) maps a 128-bit counter
``(c0, c1, c2, c3)`` and a 64-bit key ``(k0, k1)`` (all 32-bit words) to four
32-bit output words.  One round is::

    hi0:lo0 = M0 * c0          (64-bit product, M0 = 0xD2511F53)
    hi1:lo1 = M1 * c2          (64-bit product, M1 = 0xCD9E8D57)
    (c0, c1, c2, c3) = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)

and between rounds the key is bumped by the Weyl constants
``k0 += 0x9E3779B9, k1 += 0xBB67AE85`` (mod 2**32).  Ten rounds are applied.
The results match the Random123 known-answer tests (see tests/test_philox.py).

Stream layout
-------------
A stream is identified by a 64-bit ``key`` and a 64-bit *block counter*
``counter0``.  Counters are in units of 4-word blocks.  Word ``i`` (i = 0, 1,
2, ...) of the stream starting at ``counter0`` is::

    b        = (counter0 + i // 4) mod 2**64          # block index
    x0..x3   = philox4x32(b & 0xFFFFFFFF, b >> 32, 0, 0,
                          key & 0xFFFFFFFF, (key >> 32) & 0xFFFFFFFF)
    word[i]  = x[i % 4]

so a CUDA kernel in which thread ``i`` needs word ``i`` computes block
``i // 4`` and keeps word ``i % 4`` (or, better, each thread computes one block
and writes four consecutive words).  :func:`philox_word` is exactly this
per-thread computation.

Draws
-----
Each draw consumes a known number of words starting at word 0 of the stream
(:func:`words_needed`) and returns ``(values, new_counter0)`` with
``new_counter0 = counter0 + blocks_needed(words)``: the unused tail words of
the last block are discarded, so the next draw starts on a fresh block.

* ``uniform01(word) = (word + 0.5) * 2**-32`` -- a float64 in the open interval
  (0, 1); every operation is exact, so it is bit-identical everywhere.
* ``uniform``: output ``j`` is ``low + (high - low) * uniform01(word[j])``
  computed in float64 and then cast to ``dtype``; consumes ``n`` words.
* ``normal`` (Box-Muller): outputs ``2j`` and ``2j+1`` come from words ``2j``
  and ``2j+1``: ``u1 = uniform01(word[2j])``, ``u2 = uniform01(word[2j+1])``,
  ``r = sqrt(-2 log u1)``, ``t = (2 pi) * u2``;
  ``z[2j] = r cos t``, ``z[2j+1] = r sin t``; output ``avg + std * z``, in
  float64, then cast.  Consumes ``2 * ceil(n / 2)`` words (for odd ``n`` the
  last sine is dropped).
* ``binomial``: output ``j`` counts ``uniform01(word[k]) < p[j]`` over
  ``k = j*trials, ..., j*trials + trials - 1``; consumes ``n * trials`` words.

Reproducibility notes for backend authors: ``uniform01``, ``uniform`` (with
float64 arithmetic, no fused multiply-add) and ``binomial`` are bit-identical
across NumPy, Numba CPU and CUDA.  ``normal`` goes through ``log``, ``sqrt``,
``cos`` and ``sin``; ``sqrt`` is correctly rounded everywhere, but libm,
NumPy's SIMD loops and CUDA's libdevice may differ in the last ulp for the
others, so ``normal`` is reproducible to within a few ulp across backends.
On CUDA, compile with ``fastmath=False`` and beware of FMA contraction of
``low + (high - low) * u`` (``avg + std * z``) if bit-exactness matters.
When ``dtype`` is narrower than float64 the cast may round a value onto the
interval end (e.g. ``uniform01`` close to 1 becomes ``1.0`` in float32).

Scalar functions take and return plain integers; under Numba they are typed
as int64 (the 64-bit products wrap, and every result is masked to 32 bits, so
the bit patterns are the same as with Python's unbounded integers).  ``key``
and ``counter0`` may be passed to the njit-compiled loops either as int64
(two's-complement bit pattern, see :func:`as_int64`) or as uint64.
"""

import math

import numpy as np

try:  # pragma: no cover - numba is a hard dependency, but stay importable
    from numba.extending import register_jitable as _jitable
except Exception:  # pragma: no cover
    def _jitable(fn):
        return fn


__all__ = [
    "PHILOX_M0",
    "PHILOX_M1",
    "PHILOX_W0",
    "PHILOX_W1",
    "as_int64",
    "philox4x32",
    "philox_word",
    "philox_uint32_np",
    "philox_uint32_loop",
    "uniform01",
    "uniform01_scalar",
    "uniform",
    "uniform_scalar",
    "uniform_loop",
    "normal",
    "normal_scalar",
    "normal_loop",
    "binomial",
    "bernoulli_scalar",
    "binomial_scalar",
    "binomial_loop",
    "words_needed",
    "blocks_needed",
]

PHILOX_M0 = 0xD2511F53
PHILOX_M1 = 0xCD9E8D57
PHILOX_W0 = 0x9E3779B9
PHILOX_W1 = 0xBB67AE85
PHILOX_ROUNDS = 10

MASK32 = 0xFFFFFFFF
MASK64 = 0xFFFFFFFFFFFFFFFF
TWO_POW_M32 = 2.0 ** -32
TWO_PI = 2.0 * math.pi

# Local names frozen as compile-time constants by numba.
_M0 = PHILOX_M0
_M1 = PHILOX_M1
_W0 = PHILOX_W0
_W1 = PHILOX_W1
_MASK = MASK32
_SCALE = TWO_POW_M32
_TWO_PI = TWO_PI


def as_int64(x):
    """Reinterpret the low 64 bits of the integer ``x`` as a signed int64.

    Use it to pass a 64-bit ``key`` / ``counter0`` to the njit-compiled loops
    (Numba types Python ints >= 2**63 as uint64, which also works, but this
    keeps every argument int64)."""
    x = int(x) & MASK64
    return x - (1 << 64) if x >= (1 << 63) else x


# ---------------------------------------------------------------------------
# The block function
# ---------------------------------------------------------------------------

@_jitable
def philox4x32(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 of counter ``(c0, c1, c2, c3)`` and key ``(k0, k1)``.

    All arguments are integers; only their low 32 bits are used.  Returns a
    tuple of four integers in ``[0, 2**32)``.  Valid Python, ``numba.njit``
    and ``numba.cuda.jit(device=True)`` code: the 32x32 -> 64-bit products are
    split with ``>> 32`` and ``& 0xFFFFFFFF``, which is exact with Python ints
    and with wrapping int64 arithmetic alike.
    """
    c0 = c0 & _MASK
    c1 = c1 & _MASK
    c2 = c2 & _MASK
    c3 = c3 & _MASK
    k0 = k0 & _MASK
    k1 = k1 & _MASK
    for r in range(10):
        if r > 0:
            k0 = (k0 + _W0) & _MASK
            k1 = (k1 + _W1) & _MASK
        p0 = _M0 * c0
        p1 = _M1 * c2
        hi0 = (p0 >> 32) & _MASK
        lo0 = p0 & _MASK
        hi1 = (p1 >> 32) & _MASK
        lo1 = p1 & _MASK
        n0 = hi1 ^ c1 ^ k0
        n2 = hi0 ^ c3 ^ k1
        c0 = n0
        c1 = lo1
        c2 = n2
        c3 = lo0
    return c0, c1, c2, c3


@_jitable
def philox_word(key, counter0, i):
    """Word ``i`` of the stream ``(key, counter0)`` (scalar, njit/CUDA-able).

    This is what CUDA thread ``i`` computes: block ``counter0 + i // 4``
    (64-bit, low word ``c0``, high word ``c1``, ``c2 = c3 = 0``), word
    ``i % 4`` of its output.  ``i`` must be a non-negative integer.
    """
    k0 = key & _MASK
    k1 = (key >> 32) & _MASK
    lo = (counter0 & _MASK) + i // 4
    c0 = lo & _MASK
    c1 = (((counter0 >> 32) & _MASK) + (lo >> 32)) & _MASK
    x0, x1, x2, x3 = philox4x32(c0, c1, 0, 0, k0, k1)
    j = i % 4
    if j == 0:
        return x0
    elif j == 1:
        return x1
    elif j == 2:
        return x2
    return x3


# ---------------------------------------------------------------------------
# Raw uint32 words
# ---------------------------------------------------------------------------

def _split_key(key):
    key = int(key) & MASK64
    return key & MASK32, key >> 32


def blocks_needed(words):
    """Number of 4-word blocks (counter increments) covering ``words`` words."""
    words = int(words)
    if words < 0:
        raise ValueError("words must be non-negative")
    return (words + 3) // 4


def words_needed(kind, n, trials=1):
    """Number of uint32 words a draw of ``n`` values of ``kind`` consumes.

    ``kind`` is ``"uniform"`` (``n``), ``"normal"`` (``2 * ceil(n / 2)``),
    ``"binomial"`` (``n * trials``) or ``"uint32"``/``"raw"`` (``n``).
    """
    n = int(n)
    if n < 0:
        raise ValueError("n must be non-negative")
    if kind in ("uniform", "uint32", "raw"):
        return n
    if kind == "normal":
        return 2 * ((n + 1) // 2)
    if kind == "binomial":
        trials = int(trials)
        if trials < 0:
            raise ValueError("trials must be non-negative")
        return n * trials
    raise ValueError("unknown random kind %r" % (kind,))


def _philox_blocks_np(c0, c1, k0, k1):
    """Vectorized Philox4x32-10 of uint64 arrays ``c0``, ``c1`` (``c2 = c3 =
    0``) with scalar key words; returns four uint64 arrays of 32-bit values."""
    mask = np.uint64(MASK32)
    s32 = np.uint64(32)
    m0 = np.uint64(PHILOX_M0)
    m1 = np.uint64(PHILOX_M1)
    x0 = c0 & mask
    x1 = c1 & mask
    x2 = np.zeros_like(x0)
    x3 = np.zeros_like(x0)
    k0 = int(k0) & MASK32
    k1 = int(k1) & MASK32
    for r in range(PHILOX_ROUNDS):
        if r > 0:
            k0 = (k0 + PHILOX_W0) & MASK32
            k1 = (k1 + PHILOX_W1) & MASK32
        p0 = x0 * m0  # < 2**64: exact in uint64
        p1 = x2 * m1
        n0 = (p1 >> s32) ^ x1 ^ np.uint64(k0)
        n2 = (p0 >> s32) ^ x3 ^ np.uint64(k1)
        x0, x1, x2, x3 = n0, p1 & mask, n2, p0 & mask
    return x0, x1, x2, x3


def philox_uint32_np(key, counter0, n):
    """The first ``n`` uint32 words of the stream ``(key, counter0)``.

    Word ``i`` is word ``i % 4`` of ``philox4x32(c0, c1, 0, 0, k0, k1)`` with
    ``c0``/``c1`` the low/high 32 bits of ``(counter0 + i // 4) mod 2**64``
    and ``k0``/``k1`` the low/high 32 bits of ``key``.  Vectorized NumPy.
    """
    n = int(n)
    if n < 0:
        raise ValueError("n must be non-negative")
    nblocks = blocks_needed(n)
    k0, k1 = _split_key(key)
    # uint64 array arithmetic wraps modulo 2**64, as the counter should.
    ctr = np.arange(nblocks, dtype=np.uint64) + np.uint64(int(counter0) & MASK64)
    x0, x1, x2, x3 = _philox_blocks_np(ctr & np.uint64(MASK32),
                                       ctr >> np.uint64(32), k0, k1)
    out = np.empty((nblocks, 4), dtype=np.uint32)
    out[:, 0] = x0
    out[:, 1] = x1
    out[:, 2] = x2
    out[:, 3] = x3
    return out.reshape(-1)[:n]


@_jitable
def philox_uint32_loop(key, counter0, n, out):
    """Scalar-loop twin of :func:`philox_uint32_np`: fill ``out[:n]`` with the
    first ``n`` words of the stream ``(key, counter0)``.  njit-compatible;
    ``out`` is any integer array (normally uint32) of length >= ``n``."""
    k0 = key & _MASK
    k1 = (key >> 32) & _MASK
    clo = counter0 & _MASK
    chi = (counter0 >> 32) & _MASK
    nblocks = (n + 3) // 4
    for b in range(nblocks):
        lo = clo + b
        c0 = lo & _MASK
        c1 = (chi + (lo >> 32)) & _MASK
        x0, x1, x2, x3 = philox4x32(c0, c1, 0, 0, k0, k1)
        i = 4 * b
        out[i] = x0
        if i + 1 < n:
            out[i + 1] = x1
        if i + 2 < n:
            out[i + 2] = x2
        if i + 3 < n:
            out[i + 3] = x3


# ---------------------------------------------------------------------------
# Uniform
# ---------------------------------------------------------------------------

def uniform01(words_uint32):
    """``(u + 0.5) * 2**-32`` as float64, in the open interval (0, 1).

    Exact for every uint32 ``u`` (result ranges over ``2**-33 .. 1 - 2**-33``).
    """
    u = np.asarray(words_uint32).astype(np.float64)
    return (u + 0.5) * TWO_POW_M32


@_jitable
def uniform01_scalar(word):
    """Scalar twin of :func:`uniform01` (float64)."""
    return (float(word) + 0.5) * _SCALE


@_jitable
def uniform_scalar(word, low, high):
    """Scalar twin of :func:`uniform`: ``low + (high - low) * uniform01``,
    in float64 (the caller casts to the output dtype)."""
    lo = float(low)
    return lo + (float(high) - lo) * uniform01_scalar(word)


def _params(x, n):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 0:
        return x[()]
    return np.broadcast_to(x, (n,))


def uniform(key, counter0, n, low=0.0, high=1.0, dtype="float64"):
    """``n`` uniform draws on ``[low, high)`` from the stream ``(key, counter0)``.

    Output ``j`` is ``low + (high - low) * uniform01(word[j])`` in float64, cast
    to ``dtype``.  ``low``/``high`` are scalars or arrays broadcastable to
    ``(n,)``.  Consumes ``n`` words; returns ``(values, new_counter0)``.
    """
    n = int(n)
    words = words_needed("uniform", n)
    u = uniform01(philox_uint32_np(key, counter0, words))
    low = _params(low, n)
    high = _params(high, n)
    vals = low + (high - low) * u
    return (np.asarray(vals, dtype=np.float64).astype(dtype, copy=False),
            counter0 + blocks_needed(words))


@_jitable
def uniform_loop(key, counter0, n, low, high, out):
    """njit-compatible twin of :func:`uniform` (scalar ``low``/``high``):
    writes ``out[:n]`` (cast to ``out``'s dtype)."""
    k0 = key & _MASK
    k1 = (key >> 32) & _MASK
    clo = counter0 & _MASK
    chi = (counter0 >> 32) & _MASK
    nblocks = (n + 3) // 4
    for b in range(nblocks):
        lo = clo + b
        x0, x1, x2, x3 = philox4x32(lo & _MASK, (chi + (lo >> 32)) & _MASK,
                                    0, 0, k0, k1)
        i = 4 * b
        out[i] = uniform_scalar(x0, low, high)
        if i + 1 < n:
            out[i + 1] = uniform_scalar(x1, low, high)
        if i + 2 < n:
            out[i + 2] = uniform_scalar(x2, low, high)
        if i + 3 < n:
            out[i + 3] = uniform_scalar(x3, low, high)


# ---------------------------------------------------------------------------
# Normal (Box-Muller)
# ---------------------------------------------------------------------------

@_jitable
def normal_scalar(word_a, word_b, avg, std):
    """Scalar twin of :func:`normal`: the two outputs ``(2j, 2j+1)`` from words
    ``word_a = word[2j]``, ``word_b = word[2j+1]``, in float64::

        r = sqrt(-2 log uniform01(word_a)), t = (2 pi) * uniform01(word_b)
        return avg + std * r cos t, avg + std * r sin t
    """
    u1 = uniform01_scalar(word_a)
    u2 = uniform01_scalar(word_b)
    r = math.sqrt(-2.0 * math.log(u1))
    t = _TWO_PI * u2
    a = float(avg)
    s = float(std)
    return a + s * (r * math.cos(t)), a + s * (r * math.sin(t))


def normal(key, counter0, n, avg=0.0, std=1.0, dtype="float64"):
    """``n`` normal draws (Box-Muller) from the stream ``(key, counter0)``.

    Outputs ``2j``/``2j+1`` use words ``2j``/``2j+1`` (see
    :func:`normal_scalar`).  ``avg``/``std`` are scalars or arrays
    broadcastable to ``(n,)``.  Consumes ``2 * ceil(n / 2)`` words; returns
    ``(values, new_counter0)``.
    """
    n = int(n)
    words = words_needed("normal", n)
    w = philox_uint32_np(key, counter0, words)
    u1 = uniform01(w[0::2])
    u2 = uniform01(w[1::2])
    r = np.sqrt(-2.0 * np.log(u1))
    t = TWO_PI * u2
    z = np.empty(words, dtype=np.float64)
    z[0::2] = r * np.cos(t)
    z[1::2] = r * np.sin(t)
    z = z[:n]
    vals = _params(avg, n) + _params(std, n) * z
    return (np.asarray(vals, dtype=np.float64).astype(dtype, copy=False),
            counter0 + blocks_needed(words))


@_jitable
def normal_loop(key, counter0, n, avg, std, out):
    """njit-compatible twin of :func:`normal` (scalar ``avg``/``std``): writes
    ``out[:n]``."""
    npairs = (n + 1) // 2
    for j in range(npairs):
        i = 2 * j
        z0, z1 = normal_scalar(philox_word(key, counter0, i),
                               philox_word(key, counter0, i + 1), avg, std)
        out[i] = z0
        if i + 1 < n:
            out[i + 1] = z1


# ---------------------------------------------------------------------------
# Binomial
# ---------------------------------------------------------------------------

@_jitable
def bernoulli_scalar(word, p):
    """1 if ``uniform01(word) < p`` else 0 (one trial of :func:`binomial`)."""
    if uniform01_scalar(word) < p:
        return 1
    return 0


@_jitable
def binomial_scalar(key, counter0, j, trials, p):
    """Output ``j`` of :func:`binomial`: the number of
    ``uniform01(word[k]) < p`` for ``k = j*trials .. j*trials + trials - 1``
    (stream words, see :func:`philox_word`)."""
    count = 0
    start = j * trials
    for k in range(start, start + trials):
        count += bernoulli_scalar(philox_word(key, counter0, k), p)
    return count


def binomial(key, counter0, n, trials=1, p=0.5, dtype="int64"):
    """``n`` binomial(``trials``, ``p``) draws from the stream ``(key, counter0)``.

    Output ``j`` counts ``uniform01(word) < p[j]`` over words
    ``j*trials .. j*trials + trials - 1``.  ``p`` is a scalar or an array
    broadcastable to ``(n,)``.  Consumes ``n * trials`` words; returns
    ``(values, new_counter0)``.
    """
    n = int(n)
    trials = int(trials)
    words = words_needed("binomial", n, trials)
    u = uniform01(philox_uint32_np(key, counter0, words)).reshape(n, trials)
    p = np.broadcast_to(np.asarray(p, dtype=np.float64), (n,))
    counts = np.count_nonzero(u < p[:, None], axis=1)
    return counts.astype(dtype), counter0 + blocks_needed(words)


@_jitable
def binomial_loop(key, counter0, n, trials, p, out):
    """njit-compatible twin of :func:`binomial`: ``p`` is a float64 array of
    length ``n`` (broadcast it first); writes ``out[:n]``."""
    k0 = key & _MASK
    k1 = (key >> 32) & _MASK
    clo = counter0 & _MASK
    chi = (counter0 >> 32) & _MASK
    for j in range(n):
        out[j] = 0
    total = n * trials
    nblocks = (total + 3) // 4
    for b in range(nblocks):
        lo = clo + b
        x0, x1, x2, x3 = philox4x32(lo & _MASK, (chi + (lo >> 32)) & _MASK,
                                    0, 0, k0, k1)
        for m in range(4):
            w = 4 * b + m
            if w >= total:
                break
            if m == 0:
                x = x0
            elif m == 1:
                x = x1
            elif m == 2:
                x = x2
            else:
                x = x3
            j = w // trials
            out[j] += bernoulli_scalar(x, p[j])
