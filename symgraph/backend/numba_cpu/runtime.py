"""What generated code calls besides NumPy: the function its checks raise
through, and the library kernels (``njit(cache=True)``: compiled once per
signature and cached with the package, called through their addresses, so
graphs reuse them): the Philox fills, the reductions and GEMM, the fills
and GEMM splitting their work between Numba's threads."""
import numpy as np
from numba import njit, prange, types
from numba.extending import overload, register_jitable
from numba.np.linalg import _BLAS

from ...tensor import philox
from .kernels_nnet import PRANGE_ONLY, split_work

_MASK = 0xFFFFFFFF
FILL_TASK_BLOCKS = 1024  # blocks (or pairs) of draws a thread fills at least


class KernelCheckError(Exception):
    """Raised inside compiled code by a failed run-time check; ``args`` are
    the check's number (the linker's table says which node and what message)
    and the values the message quotes."""


@njit(cache=True)
def check_failed(check, a, b, c, d):
    """Raise the KernelCheckError of check number ``check``, quoting up to
    four values (float64: shapes and indices are exact)."""
    raise KernelCheckError(check, a, b, c, d)


@register_jitable
def _words(key, counter0, b):
    lo = (counter0 & _MASK) + b
    return philox.philox4x32(lo & _MASK, (((counter0 >> 32) & _MASK) + (lo >> 32)) & _MASK, 0, 0,
                             key & _MASK, (key >> 32) & _MASK)


@register_jitable
def _pick(x0, x1, x2, x3, m):
    """Word ``m`` of a block of four."""
    return x0 if m == 0 else x1 if m == 1 else x2 if m == 2 else x3


@register_jitable
def _word(key, counter0, i):
    x0, x1, x2, x3 = _words(key, counter0, i // 4)
    return _pick(x0, x1, x2, x3, i % 4)


@njit(cache=True)
def _uniform_run(key, counter0, low, high, out, b0, b1):
    n = out.size
    for b in range(b0, b1):
        x0, x1, x2, x3 = _words(key, counter0, b)
        for m in range(4):
            j = 4 * b + m
            if j >= n:
                break
            w = _pick(x0, x1, x2, x3, m)
            lo = low[0] if low.size == 1 else low[j]
            hi = high[0] if high.size == 1 else high[j]
            out[j] = lo + (hi - lo) * philox.uniform01_scalar(w)


@njit(cache=True, parallel=PRANGE_ONLY)
def uniform_fill(key, counter0, low, high, out, threads):
    """``out[j] = low[j] + (high[j] - low[j]) * uniform01(word j)`` in
    float64, cast to ``out``'s dtype (``philox.uniform``). ``out`` is flat;
    the parameters are float64 arrays of ``out.size`` elements, or of one
    (the same for all). Blocks of four words are split between ``threads``
    threads (the numbers do not depend on it). Returns the blocks used."""
    blocks = (out.size + 3) // 4
    tasks, per_task = split_work(blocks, min(threads, blocks // FILL_TASK_BLOCKS))
    if tasks == 1:
        _uniform_run(key, counter0, low, high, out, 0, blocks)
    else:
        for t in prange(tasks):
            _uniform_run(key, counter0, low, high, out, t * per_task, min(blocks, (t + 1) * per_task))
    return blocks


@njit(cache=True)
def _normal_run(key, counter0, avg, std, out, j0, j1):
    n = out.size
    for j in range(j0, j1):
        z0, z1 = philox.normal_scalar(_word(key, counter0, 2 * j), _word(key, counter0, 2 * j + 1), 0.0, 1.0)
        for i, z in ((2 * j, z0), (2 * j + 1, z1)):
            if i < n:
                a = avg[0] if avg.size == 1 else avg[i]
                s = std[0] if std.size == 1 else std[i]
                out[i] = a + s * z


@njit(cache=True, parallel=PRANGE_ONLY)
def normal_fill(key, counter0, avg, std, out, threads):
    """Box-Muller draws as ``philox.normal``, pairs split between
    ``threads`` threads; returns the blocks used."""
    pairs = (out.size + 1) // 2
    tasks, per_task = split_work(pairs, min(threads, pairs // FILL_TASK_BLOCKS))
    if tasks == 1:
        _normal_run(key, counter0, avg, std, out, 0, pairs)
    else:
        for t in prange(tasks):
            _normal_run(key, counter0, avg, std, out, t * per_task, min(pairs, (t + 1) * per_task))
    return (2 * pairs + 3) // 4


@njit(cache=True)
def _binomial_run(key, counter0, trials, p, out, b0, b1):
    total = out.size * trials
    for b in range(b0, b1):
        x0, x1, x2, x3 = _words(key, counter0, b)
        for m in range(4):
            w = 4 * b + m
            if w >= total:
                break
            x = _pick(x0, x1, x2, x3, m)
            if philox.uniform01_scalar(x) < (p[0] if p.size == 1 else p[w // trials]):
                out[w // trials] += 1


@njit(cache=True, parallel=PRANGE_ONLY)
def binomial_fill(key, counter0, trials, p, out, threads):
    """Counts of ``uniform01 < p[j]`` over ``trials`` words each, as
    ``philox.binomial``; with one trial per draw (a mask) the blocks are
    split between ``threads`` threads. Returns the blocks used."""
    blocks = (out.size * trials + 3) // 4
    for j in range(out.size):
        out[j] = 0
    tasks, per_task = split_work(blocks, min(threads, blocks // FILL_TASK_BLOCKS) if trials == 1 else 1)
    if tasks == 1:
        _binomial_run(key, counter0, trials, p, out, 0, blocks)
    else:
        for t in prange(tasks):
            _binomial_run(key, counter0, trials, p, out, t * per_task, min(blocks, (t + 1) * per_task))
    return blocks


@register_jitable
def flat_param(value, shape):
    """``value`` broadcast to ``shape``: a flat float64 copy."""
    return np.ascontiguousarray(np.broadcast_to(value.astype(np.float64), shape)).reshape(-1)


# ------------------------------------------------------------ reductions
# Compiled once per dtype pair and cached with this package, so that a new
# graph's reductions cost nothing to compile. ``x`` is a C-contiguous view
# (A, K1, B, K2, C) of the input, reduced over A, B and C into ``acc``
# (K1, K2), which holds the identity (or the values to combine with).

def _reducer(combine, fastmath):
    @njit(cache=True, fastmath=fastmath, error_model="numpy")
    def reduce5(x, acc):
        na, nk1, nb, nk2, nc = x.shape
        for a in range(na):
            for k1 in range(nk1):
                for b in range(nb):
                    if nc == 1:
                        for k2 in range(nk2):
                            acc[k1, k2] = combine(acc[k1, k2], x[a, k1, b, k2, 0])
                    else:
                        for k2 in range(nk2):
                            s = acc[k1, k2]
                            for c in range(nc):
                                s = combine(s, x[a, k1, b, k2, c])
                            acc[k1, k2] = s
    return reduce5


@register_jitable
def _add(s, v):
    return s + v


@register_jitable
def _mul(s, v):
    return s * v


@register_jitable
def _max(s, v):
    return v if (v > s or v != v) else s  # NaN propagates


@register_jitable
def _min(s, v):
    return v if (v < s or v != v) else s


@register_jitable
def _all(s, v):
    return s and v != 0


@register_jitable
def _any(s, v):
    return s or v != 0


# sums and products may reassociate (vectorized, within rounding); max/min must see every NaN
sum5 = _reducer(_add, {"reassoc", "nsz"})
prod5 = _reducer(_mul, {"reassoc", "nsz"})
max5 = _reducer(_max, False)
min5 = _reducer(_min, False)
all5 = _reducer(_all, False)
any5 = _reducer(_any, False)


# ------------------------------------------------------------------ BLAS
# Numba's own entry to the BLAS that SciPy ships (what np.dot uses inside
# njit), called directly for GEMM's transpose flags and beta = 1.
_N, _T = np.int8(ord("n")), np.int8(ord("t"))


def _gemm(dtype, kind):
    xxgemm = _BLAS().numba_xxgemm(dtype)

    @register_jitable
    def gemm(a, trans_a, b, trans_b, c, beta):
        """``c = op(a) @ op(b) + beta * c`` for matrices of one dtype whose
        rows are contiguous (C-contiguous, or row or column blocks of such
        a matrix), ``op`` transposing where the flag is set."""
        m, n = c.shape
        k = a.shape[0] if trans_a else a.shape[1]
        if m == 0 or n == 0:
            return
        if k == 0:  # an empty sum: c = beta * c (c may be uninitialised when beta is 0)
            if beta == 0:
                c.fill(0)
            else:
                c *= beta
            return
        scalars = np.empty(2, c.dtype)
        scalars[0] = 1
        scalars[1] = beta
        # row-major c is column-major c^T = op(b)^T op(a)^T: swap the operands
        status = xxgemm(kind, _T if trans_b else _N, _T if trans_a else _N, n, m, k, scalars.ctypes, b.ctypes,
                        _row_stride(b), a.ctypes, _row_stride(a), scalars[1:].ctypes, c.ctypes, _row_stride(c))
        if status != 0:
            raise RuntimeError("BLAS gemm failed")
    return gemm


@register_jitable
def _row_stride(a):
    """The leading dimension BLAS takes for ``a`` (elements between rows)."""
    return max(a.strides[0] // a.itemsize if a.shape[0] > 1 else a.shape[1], a.shape[1], 1)


sgemm = _gemm(types.float32, np.int8(ord("s")))
dgemm = _gemm(types.float64, np.int8(ord("d")))

PARALLEL_GEMM_FLOPS = 1 << 22  # smaller products are one BLAS call
GEMM_BLOCK = 32  # rows or columns of the output a block has at least


def _gemm_any(a, trans_a, b, trans_b, c, beta):
    """sgemm or dgemm, by ``c``'s dtype (chosen when compiling)."""


@overload(_gemm_any)
def _gemm_any_impl(a, trans_a, b, trans_b, c, beta):
    gemm = sgemm if c.dtype == types.float32 else dgemm

    def impl(a, trans_a, b, trans_b, c, beta):
        gemm(a, trans_a, b, trans_b, c, beta)
    return impl


@register_jitable
def _gemm_block(a, trans_a, b, trans_b, c, beta, by_rows, i0, i1):
    """Rows (or columns) i0..i1-1 of the output."""
    if by_rows:
        _gemm_any(a[:, i0:i1] if trans_a else a[i0:i1], trans_a, b, trans_b, c[i0:i1], beta)
    else:
        _gemm_any(a, trans_a, b[i0:i1] if trans_b else b[:, i0:i1], trans_b, c[:, i0:i1], beta)


@njit(cache=True, parallel=PRANGE_ONLY)
def gemm_parallel(a, trans_a, b, trans_b, c, beta, threads):
    """``c = op(a) @ op(b) + beta * c`` (float32 or float64). A large
    product is cut into one block of rows or of columns (the longer side)
    per thread, each a BLAS call (with single-threaded BLAS,
    OPENBLAS_NUM_THREADS=1, the program has one thread pool). Blocks of
    other sizes may round differently in the last bit (BLAS's edge
    kernels): the numbers depend on the thread count, but not from run to
    run. Fixed blocks (the same on any thread count) made the dA step 9%
    slower on one thread and up to 10% on two."""
    m, n = c.shape
    k = a.shape[0] if trans_a else a.shape[1]
    by_rows = m > n
    side = m if by_rows else n
    blocks = min(threads, side // GEMM_BLOCK) if 2 * m * n * k >= PARALLEL_GEMM_FLOPS else 1
    if blocks <= 1:  # one BLAS call, no parallel region (as kernels_nnet.split_work)
        _gemm_any(a, trans_a, b, trans_b, c, beta)
        return
    step = (side + blocks - 1) // blocks
    for t in prange(blocks):
        _gemm_block(a, trans_a, b, trans_b, c, beta, by_rows, t * step, min(side, (t + 1) * step))
