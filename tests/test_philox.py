"""Tests for symgraph.tensor.philox (Philox4x32-10 streams and draws)."""

import math

import numba
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from symgraph.tensor import philox as ph
from symgraph.tensor.philox import (
    as_int64,
    bernoulli_scalar,
    binomial,
    binomial_loop,
    binomial_scalar,
    blocks_needed,
    normal,
    normal_loop,
    normal_scalar,
    philox4x32,
    philox_uint32_loop,
    philox_uint32_np,
    philox_word,
    uniform,
    uniform01,
    uniform01_scalar,
    uniform_loop,
    uniform_scalar,
    words_needed,
)

M32 = 0xFFFFFFFF
M64 = 0xFFFFFFFFFFFFFFFF

# Random123 known-answer tests for philox4x32_R10 (kat_vectors).
KAT = [
    ((0, 0, 0, 0), (0, 0),
     (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((M32, M32, M32, M32), (M32, M32),
     (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]

# njit-compiled twins (compiled lazily on first call, once per module).
philox4x32_jit = numba.njit(philox4x32)
philox_word_jit = numba.njit(philox_word)
philox_uint32_loop_jit = numba.njit(philox_uint32_loop)
uniform_loop_jit = numba.njit(uniform_loop)
normal_loop_jit = numba.njit(normal_loop)
binomial_loop_jit = numba.njit(binomial_loop)
uniform01_scalar_jit = numba.njit(uniform01_scalar)

SETTINGS = settings(max_examples=30, deadline=None)

keys = st.one_of(
    st.integers(0, M64),
    st.sampled_from([0, 1, M32, M32 + 1, M64, 1 << 63, (1 << 63) - 1]),
)
# Block counters, biased towards the 2**32 carry and the 2**64 wrap.
counters = st.one_of(
    st.integers(0, M64),
    st.integers(0, 40).map(lambda d: (1 << 32) - 20 + d),
    st.integers(0, 40).map(lambda d: (5 << 32) - 20 + d),
    st.integers(0, 40).map(lambda d: (M64 - 20 + d) & M64),
    st.integers(0, 1000),
)
sizes = st.integers(0, 41)


def ref_word(key, counter0, i):
    """The documented layout, written out with Python ints."""
    b = (counter0 + i // 4) & M64
    return philox4x32(b & M32, b >> 32, 0, 0, key & M32, (key >> 32) & M32)[i % 4]


# ---------------------------------------------------------------------------
# Known answers
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("ctr,key,expected", KAT)
def test_kat_python(ctr, key, expected):
    assert philox4x32(*ctr, *key) == expected


@pytest.mark.parametrize("ctr,key,expected", KAT)
def test_kat_njit(ctr, key, expected):
    assert tuple(int(x) for x in philox4x32_jit(*ctr, *key)) == expected


def test_kat_via_stream():
    # ctr = (c0, c1, 0, 0) is reachable through the stream layout.
    key = 0
    words = philox_uint32_np(key, 0, 4)
    assert [int(w) for w in words] == list(KAT[0][2])


def test_philox4x32_masks_inputs_and_returns_python_ints():
    assert philox4x32(*(x + (7 << 32) for x in KAT[2][0]),
                      *(x | (1 << 40) for x in KAT[2][1])) == KAT[2][2]
    assert all(type(x) is int for x in philox4x32(1, 2, 3, 4, 5, 6))


# ---------------------------------------------------------------------------
# Raw words: numpy vs scalar loop vs njit vs per-thread word
# ---------------------------------------------------------------------------

@SETTINGS
@given(key=keys, counter0=counters, n=sizes)
def test_uint32_backends_agree(key, counter0, n):
    ref = np.array([ref_word(key, counter0, i) for i in range(n)], dtype=np.uint32)
    w = philox_uint32_np(key, counter0, n)
    assert w.dtype == np.uint32 and w.shape == (n,)
    np.testing.assert_array_equal(w, ref)

    out = np.zeros(n, dtype=np.uint32)
    philox_uint32_loop(key, counter0, n, out)
    np.testing.assert_array_equal(out, ref)

    out_jit = np.zeros(n, dtype=np.uint32)
    philox_uint32_loop_jit(as_int64(key), as_int64(counter0), n, out_jit)
    np.testing.assert_array_equal(out_jit, ref)

    assert [philox_word(key, counter0, i) for i in range(n)] == list(ref)
    assert [int(philox_word_jit(as_int64(key), as_int64(counter0), i))
            for i in range(n)] == list(ref)


def test_counter_carry_into_high_word():
    key = 0x0123456789ABCDEF
    w = philox_uint32_np(key, (1 << 32) - 1, 8)
    k0, k1 = key & M32, key >> 32
    assert tuple(int(x) for x in w[:4]) == philox4x32(M32, 0, 0, 0, k0, k1)
    assert tuple(int(x) for x in w[4:]) == philox4x32(0, 1, 0, 0, k0, k1)


def test_counter_wraps_at_2_64():
    key = 42
    w = philox_uint32_np(key, M64, 8)
    np.testing.assert_array_equal(w[4:], philox_uint32_np(key, 0, 4))
    out = np.zeros(8, dtype=np.uint32)
    philox_uint32_loop_jit(as_int64(key), as_int64(M64), 8, out)
    np.testing.assert_array_equal(out, w)


def test_njit_loop_accepts_uint64_arguments():
    # Numba types Python ints >= 2**63 as uint64; the loop must still work
    # when compiled for uint64 (a fresh dispatcher: one already compiled for
    # int64 would try to convert the argument and overflow -- hence as_int64).
    loop_u64 = numba.njit(philox_uint32_loop)
    out = np.zeros(9, dtype=np.uint32)
    loop_u64(np.uint64(M64), np.uint64(M64 - 1), 9, out)
    np.testing.assert_array_equal(out, philox_uint32_np(M64, M64 - 1, 9))
    assert "uint64" in str(loop_u64.signatures[0])


def test_loop_leaves_rest_of_out_untouched():
    out = np.full(10, 7, dtype=np.uint32)
    philox_uint32_loop_jit(3, 5, 6, out)
    np.testing.assert_array_equal(out[:6], philox_uint32_np(3, 5, 6))
    np.testing.assert_array_equal(out[6:], 7)


def test_as_int64():
    assert as_int64(M64) == -1
    assert as_int64(1 << 63) == -(1 << 63)
    assert as_int64(5) == 5
    assert as_int64(np.uint64(M64)) == -1


# ---------------------------------------------------------------------------
# Draws: numpy vs scalar twins vs njit loops
# ---------------------------------------------------------------------------

def test_uniform01_open_interval_and_exact():
    w = np.array([0, 1, M32 - 1, M32], dtype=np.uint32)
    u = uniform01(w)
    assert u.dtype == np.float64
    assert u[0] == 2.0 ** -33 and u[-1] == 1.0 - 2.0 ** -33
    assert np.all((u > 0) & (u < 1))
    for word, val in zip(w, u):
        assert uniform01_scalar(int(word)) == val
        assert uniform01_scalar_jit(int(word)) == val


@SETTINGS
@given(key=keys, counter0=counters, n=sizes,
       low=st.floats(-1e3, 1e3), width=st.floats(1e-3, 1e3),
       dtype=st.sampled_from(["float64", "float32"]))
def test_uniform_backends_agree(key, counter0, n, low, width, dtype):
    high = low + width
    vals, nc = uniform(key, counter0, n, low, high, dtype)
    assert vals.dtype == np.dtype(dtype) and vals.shape == (n,)
    assert nc == counter0 + blocks_needed(n)
    words = philox_uint32_np(key, counter0, n)
    scal = np.array([uniform_scalar(int(x), low, high) for x in words],
                    dtype=np.float64).astype(dtype)
    np.testing.assert_array_equal(vals, scal)
    out = np.empty(n, dtype=dtype)
    uniform_loop(key, counter0, n, low, high, out)
    np.testing.assert_array_equal(out, vals)
    out_jit = np.empty(n, dtype=dtype)
    uniform_loop_jit(as_int64(key), as_int64(counter0), n, low, high, out_jit)
    np.testing.assert_array_equal(out_jit, vals)
    if dtype == "float64":
        slack = 1e-12 * (abs(low) + abs(high))
        assert np.all(vals >= low - slack) and np.all(vals <= high + slack)


@SETTINGS
@given(key=keys, counter0=counters, n=sizes,
       avg=st.floats(-10, 10), std=st.floats(0.01, 10),
       dtype=st.sampled_from(["float64", "float32"]))
def test_normal_backends_agree(key, counter0, n, avg, std, dtype):
    vals, nc = normal(key, counter0, n, avg, std, dtype)
    assert vals.dtype == np.dtype(dtype) and vals.shape == (n,)
    nwords = 2 * ((n + 1) // 2)
    assert nc == counter0 + blocks_needed(nwords)
    words = philox_uint32_np(key, counter0, nwords)
    pairs = [normal_scalar(int(words[2 * j]), int(words[2 * j + 1]), avg, std)
             for j in range(nwords // 2)]
    scal = np.array([z for pair in pairs for z in pair], dtype=np.float64)[:n]

    out = np.empty(n, dtype=np.float64)
    normal_loop(key, counter0, n, avg, std, out)
    np.testing.assert_array_equal(out, scal)  # same Python code path
    out_jit = np.empty(n, dtype=np.float64)
    normal_loop_jit(as_int64(key), as_int64(counter0), n, avg, std, out_jit)
    # log/cos/sin: libm vs Numba vs NumPy's SIMD loops may differ by an ulp.
    tol = dict(rtol=1e-13, atol=1e-13 * (abs(avg) + std))
    np.testing.assert_allclose(out_jit, scal, **tol)
    np.testing.assert_allclose(normal(key, counter0, n, avg, std)[0], scal, **tol)
    if dtype == "float64":
        np.testing.assert_allclose(vals, scal, **tol)
    else:
        np.testing.assert_allclose(vals, scal.astype(np.float32), rtol=1e-6,
                                   atol=1e-6 * (abs(avg) + std))


@SETTINGS
@given(key=keys, counter0=counters, n=st.integers(0, 20),
       trials=st.integers(0, 9), data=st.data())
def test_binomial_backends_agree(key, counter0, n, trials, data):
    per_element = data.draw(st.booleans())
    if per_element:
        p = np.array(data.draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)),
                     dtype=np.float64)
    else:
        p = data.draw(st.floats(0, 1))
    vals, nc = binomial(key, counter0, n, trials, p)
    assert vals.dtype == np.int64 and vals.shape == (n,)
    assert nc == counter0 + blocks_needed(n * trials)
    assert np.all((vals >= 0) & (vals <= trials))
    pb = np.broadcast_to(np.asarray(p, dtype=np.float64), (n,))

    words = philox_uint32_np(key, counter0, n * trials)
    manual = [sum(bernoulli_scalar(int(words[j * trials + t]), pb[j])
                  for t in range(trials)) for j in range(n)]
    np.testing.assert_array_equal(vals, manual)
    scal = [binomial_scalar(key, counter0, j, trials, pb[j]) for j in range(n)]
    np.testing.assert_array_equal(vals, scal)

    out = np.full(n, -1, dtype=np.int64)
    binomial_loop(key, counter0, n, trials, np.ascontiguousarray(pb), out)
    np.testing.assert_array_equal(out, vals)
    out_jit = np.full(n, -1, dtype=np.int64)
    binomial_loop_jit(as_int64(key), as_int64(counter0), n, trials,
                      np.ascontiguousarray(pb), out_jit)
    np.testing.assert_array_equal(out_jit, vals)


def test_binomial_extreme_p_and_dtype():
    p = np.array([0.0, 1.0, 0.0, 1.0, 1.0])
    vals, _ = binomial(7, 11, 5, 6, p, dtype="int8")
    assert vals.dtype == np.int8
    np.testing.assert_array_equal(vals, [0, 6, 0, 6, 6])
    # trials == 1 gives Bernoulli 0/1 draws
    b, _ = binomial(7, 11, 1000, 1, 0.3)
    assert set(np.unique(b)) <= {0, 1}


def test_binomial_p_wrong_length_raises():
    with pytest.raises(ValueError):
        binomial(1, 2, 5, 3, np.array([0.1, 0.2]))


# ---------------------------------------------------------------------------
# Bookkeeping
# ---------------------------------------------------------------------------

def test_words_and_blocks_needed():
    assert [blocks_needed(w) for w in range(10)] == [0, 1, 1, 1, 1, 2, 2, 2, 2, 3]
    assert words_needed("uniform", 7) == 7
    assert words_needed("uint32", 7) == 7
    assert words_needed("normal", 7) == 8
    assert words_needed("normal", 8) == 8
    assert words_needed("normal", 0) == 0
    assert words_needed("binomial", 7, trials=3) == 21
    assert words_needed("binomial", 7) == 7
    with pytest.raises(ValueError):
        words_needed("poisson", 3)
    with pytest.raises(ValueError):
        blocks_needed(-1)


def test_empty_draws():
    for fn in (uniform, normal):
        v, c = fn(1, 5, 0)
        assert v.shape == (0,) and c == 5
    v, c = binomial(1, 5, 0, 4, 0.5)
    assert v.shape == (0,) and c == 5
    v, c = binomial(1, 5, 3, 0, 0.5)
    np.testing.assert_array_equal(v, [0, 0, 0])
    assert c == 5


# ---------------------------------------------------------------------------
# Statistics (1e5 draws, 5 sigma)
# ---------------------------------------------------------------------------

N = 100_000


def test_uniform_statistics():
    u, _ = uniform(2024, 0, N)
    assert abs(u.mean() - 0.5) < 5 * math.sqrt(1 / 12 / N)
    # Var of the sample variance of U(0,1) ~ (mu4 - sigma^4) / N = 1 / (180 N)
    assert abs(u.var() - 1 / 12) < 5 * math.sqrt(1 / 180 / N)
    assert u.min() > 0 and u.max() < 1
    # words are uniform over 32 bits: each byte of the words is uniform too
    w = philox_uint32_np(2024, 0, N)
    counts = np.bincount((w >> 24).astype(np.int64), minlength=256)
    expected = N / 256
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 255 + 5 * math.sqrt(2 * 255)
    # scaled
    v, _ = uniform(2024, 0, N, -3.0, 5.0)
    assert abs(v.mean() - 1.0) < 5 * 8 * math.sqrt(1 / 12 / N)


def test_normal_statistics():
    z, _ = normal(99, 12345, N)
    assert abs(z.mean()) < 5 / math.sqrt(N)
    assert abs(z.var() - 1) < 5 * math.sqrt(2 / N)
    # the sine and cosine halves are each standard normal
    for half in (z[0::2], z[1::2]):
        assert abs(half.mean()) < 5 / math.sqrt(half.size)
        assert abs(half.var() - 1) < 5 * math.sqrt(2 / half.size)
    assert abs(np.corrcoef(z[0::2], z[1::2])[0, 1]) < 5 / math.sqrt(N / 2)
    x, _ = normal(99, 12345, N, avg=3.0, std=2.0)
    assert abs(x.mean() - 3.0) < 5 * 2 / math.sqrt(N)
    assert abs(x.std() - 2.0) < 5 * 2 * math.sqrt(1 / (2 * N))


@pytest.mark.parametrize("trials,p", [(1, 0.3), (10, 0.5), (7, 0.05)])
def test_binomial_statistics(trials, p):
    b, _ = binomial(5, 77, N, trials, p)
    mean, var = trials * p, trials * p * (1 - p)
    assert abs(b.mean() - mean) < 5 * math.sqrt(var / N)
    assert abs(b.var() - var) < 0.05 * var + 5 * math.sqrt(2 * var * var / N)


# ---------------------------------------------------------------------------
# Reproducibility and stream continuation
# ---------------------------------------------------------------------------

@SETTINGS
@given(key=keys, counter0=counters)
def test_reproducible_and_distinct(key, counter0):
    a, ca = uniform(key, counter0, 16)
    b, cb = uniform(key, counter0, 16)
    np.testing.assert_array_equal(a, b)
    assert ca == cb
    # a different block counter, or a different key, gives different numbers
    c, _ = uniform(key, (counter0 + 4) & M64, 16)
    assert not np.array_equal(a, c)
    d, _ = uniform(key ^ 1, counter0, 16)
    assert not np.array_equal(a, d)
    n1, _ = normal(key, counter0, 16)
    n2, _ = normal(key, (counter0 + 1) & M64, 16)
    assert not np.array_equal(n1, n2)


@SETTINGS
@given(key=keys, counter0=counters, n=sizes, m=sizes)
def test_continuation(key, counter0, n, m):
    """Draw n values, then m values from the returned counter.

    Let K = 4 * blocks_needed(words_needed(kind, n)) be the number of words
    the first draw advanced over (its words rounded up to whole blocks).
    Then the second draw equals values K .. K+m-1 of a single draw of K + m
    values from the original counter (uniform: one word per value; normal:
    K is even, so the Box-Muller pairs line up).  The first draw is always a
    prefix of any longer draw.  Hence, when K == n (n % 4 == 0 for both
    uniform and normal), the two draws concatenated equal one draw of n + m.
    """
    for fn, kind in ((uniform, "uniform"), (normal, "normal")):
        first, c1 = fn(key, counter0, n)
        second, c2 = fn(key, c1, m)
        K = 4 * blocks_needed(words_needed(kind, n))
        assert c1 == counter0 + K // 4
        whole, cw = fn(key, counter0, K + m)
        np.testing.assert_array_equal(first, whole[:n])
        np.testing.assert_array_equal(second, whole[K:])
        assert c2 == counter0 + blocks_needed(words_needed(kind, K + m))
        if n % 4 == 0:
            np.testing.assert_array_equal(np.concatenate([first, second]),
                                          fn(key, counter0, n + m)[0])
    # binomial: aligned when n * trials is a multiple of 4 (whole blocks).
    trials = 4
    first, c1 = binomial(key, counter0, n, trials, 0.4)
    second, _ = binomial(key, c1, m, trials, 0.4)
    whole, _ = binomial(key, counter0, n + m, trials, 0.4)
    np.testing.assert_array_equal(np.concatenate([first, second]), whole)


def test_public_api_listed():
    for name in ph.__all__:
        assert hasattr(ph, name), name
