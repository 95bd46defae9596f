"""Numba nopython kernels for the heavy neural-network ops.

``@numba.njit(cache=True)`` functions that generated njit code (the
numba_cpu backend) calls through their addresses; they also work from
Python.  Semantics
match the NumPy references ``symgraph.tensor.nnet.conv_impl`` and
``symgraph.tensor.signal.pool_impl`` exactly (Theano's rules).

Convolution (NCHW; filters ``(K, C, kh, kw)``; ``flip=True`` is a true
convolution, i.e. correlation with ``w[:, :, ::-1, ::-1]``)::

    conv2d_forward(x, w, ph, pw, sh, sw, flip[, threads])              -> y  (N, K, oh, ow)
    conv2d_grad_input(gy, w, xh, xw, ph, pw, sh, sw, flip[, threads])   -> gx (N, C, xh, xw)
    conv2d_grad_weights(x, gy, kh, kw, ph, pw, sh, sw, flip[, threads]) -> gw (K, C, kh, kw)

with ``oh = (h + 2*ph - kh) // sh + 1`` (likewise ``ow``).  The two gradients
are the exact adjoints of the forward map.  Each is im2col per sample plus
one BLAS GEMM (``np.dot`` inside njit), which keeps the column buffer in
cache.  Mixed float32/float64 operands give the promoted dtype, as NumPy.

Pooling over the last two axes of a 4-d ``x`` (N, C, H, W)::

    pool2d_forward(x, wsh, wsw, sh, sw, ph, pw, ignore_border, mode_code[, threads]) -> y
    pool2d_grad(x, y, gy, wsh, wsw, sh, sw, ph, pw, ignore_border, mode_code[, threads]) -> gx

``mode_code``: ``POOL_MAX`` 0, ``POOL_SUM`` 1, ``POOL_AVERAGE_INC_PAD`` 2,
``POOL_AVERAGE_EXC_PAD`` 3 (``pool_mode_code(name)`` maps Theano's names).
``y`` has ``x``'s dtype (the average modes need a float ``x``); ``gx`` has
the promoted dtype of ``x`` and ``gy``.

Rows of a 2-d ``x``: ``softmax_lastaxis(x)``, ``log_softmax_lastaxis(x)``.

Invalid shapes or parameters raise ``ValueError`` (the kernels never read
out of bounds); the backend is expected to give the user-facing error first.
Any layout is accepted (strided views are read in place or copied once).

Threads: the convolutions and pooling take a last argument ``threads``
(default 1) and split the batch (or the N*C maps) into that many runs,
one per Numba thread (``prange``), each with its own buffers and
single-threaded BLAS; the split never changes the numbers (the filter
gradient sums ``GRAD_WEIGHTS_RUNS`` partial products, whatever the thread
count). Thread counts are
passed in because ``numba.get_num_threads()`` in a jitted function
disables its cache. No ``fastmath``: the hot loops are copies, GEMMs and
elementwise selects, and ``nnan`` would break max pooling's NaN
propagation.
"""
import numba
import numpy as np
from numba import prange
from numba.extending import overload

__all__ = [
    "POOL_MAX", "POOL_SUM", "POOL_AVERAGE_INC_PAD", "POOL_AVERAGE_EXC_PAD", "pool_mode_code",
    "conv2d_forward", "conv2d_grad_input", "conv2d_grad_weights",
    "pool2d_forward", "pool2d_grad", "softmax_lastaxis", "log_softmax_lastaxis",
]

POOL_MAX, POOL_SUM, POOL_AVERAGE_INC_PAD, POOL_AVERAGE_EXC_PAD = 0, 1, 2, 3
# Numba's parallel option: only the explicit prange loops run on threads
# (not the allocations and array expressions, which it would parallelize too)
GRAD_WEIGHTS_RUNS = 8  # partial sums of the filter gradient (runs of samples)
PRANGE_ONLY = {"prange": True, "comprehension": False, "setitem": False, "reduction": False, "numpy": False,
               "stencil": False, "fusion": False, "inplace_binop": False}
_POOL_CODES = {"max": POOL_MAX, "sum": POOL_SUM, "average": POOL_AVERAGE_INC_PAD,
               "average_inc_pad": POOL_AVERAGE_INC_PAD, "average_exc_pad": POOL_AVERAGE_EXC_PAD}


def pool_mode_code(mode):
    """The ``mode_code`` of a Theano pooling mode name (``'average'`` is
    ``'average_inc_pad'``)."""
    try:
        return _POOL_CODES[mode]
    except KeyError:
        raise ValueError(f"pool_2d: unknown mode {mode!r}; expected one of {sorted(_POOL_CODES)}") from None


# ---------------------------------------------------------------- helpers

def _as_contig(a, proto):
    """``a`` as a C-contiguous array of ``proto``'s dtype (no copy if it is one)."""


@overload(_as_contig, jit_options={"cache": True})
def _as_contig_impl(a, proto):
    if a.dtype == proto.dtype:
        return lambda a, proto: np.ascontiguousarray(a)
    return lambda a, proto: np.ascontiguousarray(a).astype(proto.dtype)


@numba.njit(cache=True)
def _conv_out_size(h, w, kh, kw, ph, pw, sh, sw):
    if ph < 0 or pw < 0:
        raise ValueError("conv2d kernel: padding must be non-negative")
    if sh < 1 or sw < 1:
        raise ValueError("conv2d kernel: stride must be positive")
    if kh < 1 or kw < 1:
        raise ValueError("conv2d kernel: filter spatial size must be positive")
    oh = (h + 2 * ph - kh) // sh + 1
    ow = (w + 2 * pw - kw) // sw + 1
    if oh <= 0 or ow <= 0:
        raise ValueError("conv2d kernel: filter larger than the padded input")
    return oh, ow


# Each sample is copied into a zero-bordered buffer, unrolled into columns
# ("im2col") and multiplied by the kernel matrix with one small GEMM: this
# OpenBLAS runs GEMMs with M*N*K <= 1e6 through its fast unpacked kernels,
# and the per-sample buffers stay in cache.  Two column layouts:
#   rows    cols[(c, a, b), (i, j)] from a (C, Hp, Wp) buffer: copies of
#           output rows (length ow);
#   patches cols[(i, j), (a, b, c)] from a (Hp, Wp, C) buffer: copies of
#           patch rows (length kw*C).
# The longer copy wins (_use_patches); both give the same numbers.

@numba.njit(cache=True)
def _use_patches(c, kw, ow):
    return c * kw > ow


@numba.njit(cache=True)
def _kernel_column(c, a, b, c_, kh, kw, patches):
    """Column of the kernel matrix holding tap (c, a, b)."""
    return (a * kw + b) * c_ + c if patches else (c * kh + a) * kw + b


@numba.njit(cache=True)
def _kernel_matrix(w, flip, patches, proto):
    """The correlated kernel as a (K, C*kh*kw) matrix of ``proto``'s dtype."""
    k_, c_, kh, kw = w.shape
    m = np.empty((k_, c_ * kh * kw), proto.dtype)
    for k in range(k_):
        for c in range(c_):
            for a in range(kh):
                for b in range(kw):
                    v = w[k, c, kh - 1 - a, kw - 1 - b] if flip else w[k, c, a, b]
                    m[k, _kernel_column(c, a, b, c_, kh, kw, patches)] = v
    return m


@numba.njit(cache=True)
def _kernel_from_matrix(m, c_, kh, kw, flip, patches):
    """Inverse of _kernel_matrix: (K, C*kh*kw) -> (K, C, kh, kw)."""
    k_ = m.shape[0]
    w = np.empty((k_, c_, kh, kw), m.dtype)
    for k in range(k_):
        for c in range(c_):
            for a in range(kh):
                for b in range(kw):
                    v = m[k, _kernel_column(c, a, b, c_, kh, kw, patches)]
                    if flip:
                        w[k, c, kh - 1 - a, kw - 1 - b] = v
                    else:
                        w[k, c, a, b] = v
    return w


@numba.njit(cache=True)
def _sample_buffer(c_, hp, wp, patches, proto):
    if patches:
        return np.zeros((hp, wp, c_), proto.dtype)
    return np.zeros((c_, hp, wp), proto.dtype)


@numba.njit(cache=True)
def _load_sample(x, n, ph, pw, patches, xp):
    """Copy x[n] (C, H, W) into the interior of the zero-bordered buffer xp."""
    _, c_, h, w = x.shape
    if patches:
        for c in range(c_):
            for y in range(h):
                for z in range(w):
                    xp[y + ph, z + pw, c] = x[n, c, y, z]
    else:
        for c in range(c_):
            for y in range(h):
                dst = xp[c, y + ph, pw:pw + w]
                for z in range(w):
                    dst[z] = x[n, c, y, z]


@numba.njit(cache=True)
def _store_sample(gxp, ph, pw, patches, gx, n):
    """gx[n] = the interior of the buffer gxp (the adjoint of _load_sample)."""
    _, c_, h, w = gx.shape
    if patches:
        for c in range(c_):
            for y in range(h):
                for z in range(w):
                    gx[n, c, y, z] = gxp[y + ph, z + pw, c]
    else:
        for c in range(c_):
            for y in range(h):
                src = gxp[c, y + ph, pw:pw + w]
                dst = gx[n, c, y]
                for z in range(w):
                    dst[z] = src[z]


@numba.njit(cache=True)
def _im2col(xp, kh, kw, sh, sw, oh, ow, patches, cols):
    """Unroll the buffer xp into cols (see the layouts above)."""
    if patches:
        hp, wp, c_ = xp.shape
        seg = kw * c_
        flat = xp.reshape(hp * wp * c_)
        for i in range(oh):
            for j in range(ow):
                row = cols[i * ow + j]
                for a in range(kh):
                    start = ((i * sh + a) * wp + j * sw) * c_
                    src = flat[start:start + seg]
                    dst = row[a * seg:(a + 1) * seg]
                    for t in range(seg):
                        dst[t] = src[t]
        return
    c_ = xp.shape[0]
    p = oh * ow
    for c in range(c_):
        for a in range(kh):
            for b in range(kw):
                row = cols[(c * kh + a) * kw + b]
                i0 = 0
                if a >= sh:  # row (a, b) is row (a - sh, b) moved one output row up
                    prev = cols[(c * kh + a - sh) * kw + b]
                    src0 = prev[ow:]
                    for t in range(p - ow):
                        row[t] = src0[t]
                    i0 = oh - 1
                for i in range(i0, oh):
                    dst = row[i * ow:(i + 1) * ow]
                    src = xp[c, i * sh + a]
                    if sw == 1:
                        src1 = src[b:b + ow]
                        for j in range(ow):
                            dst[j] = src1[j]
                    else:
                        for j in range(ow):
                            dst[j] = src[j * sw + b]


@numba.njit(cache=True)
def _col2im(cols, kh, kw, sh, sw, oh, ow, patches, gxp):
    """Adjoint of _im2col: gxp += the columns folded back (gxp is zeroed first)."""
    gxp[...] = 0
    if patches:
        hp, wp, c_ = gxp.shape
        seg = kw * c_
        flat = gxp.reshape(hp * wp * c_)
        for i in range(oh):
            for j in range(ow):
                row = cols[i * ow + j]
                for a in range(kh):
                    start = ((i * sh + a) * wp + j * sw) * c_
                    dst = flat[start:start + seg]
                    src = row[a * seg:(a + 1) * seg]
                    for t in range(seg):
                        dst[t] += src[t]
        return
    c_ = gxp.shape[0]
    for c in range(c_):
        for a in range(kh):
            for b in range(kw):
                row = cols[(c * kh + a) * kw + b]
                for i in range(oh):
                    src = row[i * ow:(i + 1) * ow]
                    dst = gxp[c, i * sh + a]
                    if sw == 1:
                        dst1 = dst[b:b + ow]
                        for j in range(ow):
                            dst1[j] += src[j]
                    else:
                        for j in range(ow):
                            dst[j * sw + b] += src[j]


# ------------------------------------------------------------ convolution
# Each kernel splits the batch into ``threads`` runs of samples (Numba's
# prange: one per thread, each with its own buffers and single-threaded
# BLAS calls); ``threads=1`` is the serial loop.

@numba.njit(cache=True)
def _promoted(a, b):
    """An empty array of NumPy's promoted dtype of ``a`` and ``b`` (outside
    the parallel kernels, whose array expressions Numba would run on threads)."""
    return a[:0, :0, :0, :0] * b[:0, :0, :0, :0]


@numba.njit(cache=True)
def _zeros(shape, proto):
    """np.zeros of ``proto``'s dtype, outside the parallel kernels (where
    Numba would fill it on threads)."""
    return np.zeros(shape, proto.dtype)


@numba.njit(cache=True)
def _sum_first(parts):
    """parts[0] + parts[1] + ... (in parts[0])."""
    total = parts[0]
    for t in range(1, parts.shape[0]):
        total += parts[t]
    return total


@numba.njit(cache=True)
def split_work(n, threads):
    """(tasks, samples per task) for ``n`` samples on ``threads`` threads.
    One task runs outside any parallel region: ``threads=1`` never starts
    Numba's thread pool (which a forked process must not use)."""
    tasks = max(1, min(threads, n))
    per_task = (n + tasks - 1) // tasks
    return (n + per_task - 1) // per_task if n else 1, max(per_task, 1)


@numba.njit(cache=True)
def _forward_run(x, wk, ph, pw, kh, kw, sh, sw, oh, ow, patches, out, n0, n1):
    """out[n] for samples n0..n1-1, with buffers of its own."""
    c_, h, wd = x.shape[1], x.shape[2], x.shape[3]
    ckk, p = c_ * kh * kw, oh * ow
    xp = _sample_buffer(c_, h + 2 * ph, wd + 2 * pw, patches, out)
    cols = np.empty((p, ckk) if patches else (ckk, p), out.dtype)
    for n in range(n0, n1):
        _load_sample(x, n, ph, pw, patches, xp)
        _im2col(xp, kh, kw, sh, sw, oh, ow, patches, cols)
        if patches:
            np.dot(wk, cols.T, out[n])
        else:
            np.dot(wk, cols, out[n])


@numba.njit(cache=True, parallel=PRANGE_ONLY)
def conv2d_forward(x, w, ph, pw, sh, sw, flip, threads=1):
    """Theano conv2d of ``x`` (N, C, H, W) with filters ``w`` (K, C, kh, kw),
    zero padding ``(ph, pw)``, stride ``(sh, sw)``, true convolution when
    ``flip``; returns (N, K, oh, ow)."""
    n_, c_, h, wd = x.shape
    k_, c2, kh, kw = w.shape
    if c_ != c2:
        raise ValueError("conv2d_forward: input and filters have different channel counts")
    oh, ow = _conv_out_size(h, wd, kh, kw, ph, pw, sh, sw)
    proto = _promoted(x, w)
    patches = _use_patches(c_, kw, ow)
    wk = _kernel_matrix(w, flip, patches, proto)
    out = np.empty((n_, k_, oh * ow), proto.dtype)
    tasks, per_task = split_work(n_, threads)
    if tasks == 1:  # no parallel region at all (see split_work)
        _forward_run(x, wk, ph, pw, kh, kw, sh, sw, oh, ow, patches, out, 0, n_)
    else:
        for t in prange(tasks):
            _forward_run(x, wk, ph, pw, kh, kw, sh, sw, oh, ow, patches, out, t * per_task,
                         min(n_, (t + 1) * per_task))
    return out.reshape((n_, k_, oh, ow))


@numba.njit(cache=True)
def _grad_weights_run(x, g, ph, pw, kh, kw, sh, sw, oh, ow, patches, acc, n0, n1):
    """acc += the filter gradient (as a kernel matrix) of samples n0..n1-1."""
    c_, h, wd = x.shape[1], x.shape[2], x.shape[3]
    k_, ckk, p = g.shape[1], c_ * kh * kw, oh * ow
    xp = _sample_buffer(c_, h + 2 * ph, wd + 2 * pw, patches, acc)
    cols = np.empty((p, ckk) if patches else (ckk, p), acc.dtype)
    gt = np.empty((p, k_), acc.dtype)
    part = np.empty((k_, ckk), acc.dtype)
    for n in range(n0, n1):
        _load_sample(x, n, ph, pw, patches, xp)
        _im2col(xp, kh, kw, sh, sw, oh, ow, patches, cols)
        if patches:
            np.dot(g[n], cols, part)
        else:
            for k in range(k_):  # gt = g[n].T, (P, K): the fast operand order here
                for q in range(p):
                    gt[q, k] = g[n, k, q]
            np.dot(gt.T, cols.T, part)
        acc += part


@numba.njit(cache=True, parallel=PRANGE_ONLY)
def conv2d_grad_weights(x, gy, kh, kw, ph, pw, sh, sw, flip, threads=1):
    """Gradient of conv2d_forward with respect to its filters, of spatial
    size ``(kh, kw)``: ``x`` (N, C, H, W), ``gy`` (N, K, oh, ow) -> (K, C, kh, kw)."""
    n_, c_, h, wd = x.shape
    n2, k_, gh, gw = gy.shape
    if n_ != n2:
        raise ValueError("conv2d_grad_weights: input and output gradient have different batch sizes")
    oh, ow = _conv_out_size(h, wd, kh, kw, ph, pw, sh, sw)
    if gh != oh or gw != ow:
        raise ValueError("conv2d_grad_weights: output gradient shape does not match the input shape")
    proto = _promoted(x, gy)
    patches = _use_patches(c_, kw, ow)
    g = _as_contig(gy, proto).reshape((n_, k_, oh * ow))
    # A fixed number of partial sums, whatever the thread count: the same
    # numbers on any number of threads.
    runs, per_run = split_work(n_, GRAD_WEIGHTS_RUNS)
    accs = _zeros((runs, k_, c_ * kh * kw), proto)
    if min(threads, runs) == 1:
        for r in range(runs):
            _grad_weights_run(x, g, ph, pw, kh, kw, sh, sw, oh, ow, patches, accs[r], r * per_run,
                              min(n_, (r + 1) * per_run))
    else:
        for r in prange(runs):
            _grad_weights_run(x, g, ph, pw, kh, kw, sh, sw, oh, ow, patches, accs[r], r * per_run,
                              min(n_, (r + 1) * per_run))
    return _kernel_from_matrix(_sum_first(accs), c_, kh, kw, flip, patches)


@numba.njit(cache=True)
def _grad_input_run(g, wk, ph, pw, kh, kw, sh, sw, oh, ow, patches, gx, n0, n1):
    """gx[n] for samples n0..n1-1, with buffers of its own."""
    c_, xh, xw = gx.shape[1], gx.shape[2], gx.shape[3]
    ckk, p = c_ * kh * kw, oh * ow
    gxp = _sample_buffer(c_, xh + 2 * ph, xw + 2 * pw, patches, gx)
    cols = np.empty((p, ckk) if patches else (ckk, p), gx.dtype)
    for n in range(n0, n1):
        if patches:
            np.dot(g[n].T, wk, cols)
        else:
            np.dot(wk.T, g[n], cols)
        _col2im(cols, kh, kw, sh, sw, oh, ow, patches, gxp)
        _store_sample(gxp, ph, pw, patches, gx, n)


@numba.njit(cache=True, parallel=PRANGE_ONLY)
def conv2d_grad_input(gy, w, xh, xw, ph, pw, sh, sw, flip, threads=1):
    """Gradient of conv2d_forward with respect to its input, of spatial size
    ``(xh, xw)``: ``gy`` (N, K, oh, ow), ``w`` (K, C, kh, kw) -> (N, C, xh, xw)."""
    n_, k_, gh, gw = gy.shape
    k2, c_, kh, kw = w.shape
    if k_ != k2:
        raise ValueError("conv2d_grad_input: output gradient and filters have different channel counts")
    oh, ow = _conv_out_size(xh, xw, kh, kw, ph, pw, sh, sw)
    if gh != oh or gw != ow:
        raise ValueError("conv2d_grad_input: output gradient shape does not match the input shape")
    proto = _promoted(gy, w)
    patches = _use_patches(c_, kw, ow)
    wk = _kernel_matrix(w, flip, patches, proto)
    g = _as_contig(gy, proto).reshape((n_, k_, oh * ow))
    gx = np.empty((n_, c_, xh, xw), proto.dtype)
    tasks, per_task = split_work(n_, threads)
    if tasks == 1:
        _grad_input_run(g, wk, ph, pw, kh, kw, sh, sw, oh, ow, patches, gx, 0, n_)
    else:
        for t in prange(tasks):
            _grad_input_run(g, wk, ph, pw, kh, kw, sh, sw, oh, ow, patches, gx, t * per_task,
                            min(n_, (t + 1) * per_task))
    return gx


# ---------------------------------------------------------------- pooling
# Output pixel (i, j) pools the region of the padded input starting at
# (i*sh, j*sw) of size (wsh, wsw), cut at the padded input's border; its
# real cells are the part inside the unpadded input.

@numba.njit(cache=True)
def _pool_out_len(size, ws, stride, pad, ignore_border):
    if ignore_border:
        return (size + 2 * pad - ws) // stride + 1
    if stride >= ws:
        return (size - 1) // stride + 1
    return max(0, (size - 1 - ws + stride) // stride) + 1


@numba.njit(cache=True)
def _pool_out_size(h, w, wsh, wsw, sh, sw, ph, pw, ignore_border, mode_code):
    """Theano's pooled size (oh, ow), validating the parameters."""
    if mode_code < 0 or mode_code > 3:
        raise ValueError("pool2d kernel: mode_code must be 0 (max), 1 (sum), "
                         "2 (average_inc_pad) or 3 (average_exc_pad)")
    if wsh < 1 or wsw < 1:
        raise ValueError("pool2d kernel: window size must be positive")
    if sh < 1 or sw < 1:
        raise ValueError("pool2d kernel: stride must be positive")
    if ph < 0 or pw < 0:
        raise ValueError("pool2d kernel: padding must be non-negative")
    if not ignore_border and (ph != 0 or pw != 0):
        raise ValueError("pool2d kernel: padding requires ignore_border=True")
    if ph >= wsh or pw >= wsw:
        raise ValueError("pool2d kernel: padding must be smaller than the window")
    if h < 1 or w < 1:
        raise ValueError("pool2d kernel: pooled dimensions must be non-empty")
    oh = _pool_out_len(h, wsh, sh, ph, ignore_border)
    ow = _pool_out_len(w, wsw, sw, pw, ignore_border)
    if oh <= 0 or ow <= 0:
        raise ValueError("pool2d kernel: window larger than the padded input")
    return oh, ow


@numba.njit(cache=True)
def _pool_region(i, size, ws, stride, pad):
    """(first, stop) real input index of window i, and its divisor for
    average_inc_pad (the region's length inside the padded input)."""
    r0 = i * stride
    r1 = min(r0 + ws, size + 2 * pad)
    return max(r0, pad) - pad, min(r1, pad + size) - pad, r1 - r0


@numba.njit(cache=True)
def _pool_regions(n, size, ws, stride, pad):
    """Per window: first and stop real index, and divisors (inc_pad, exc_pad)."""
    r = np.empty((n, 4), np.int64)
    for i in range(n):
        a, b, d = _pool_region(i, size, ws, stride, pad)
        r[i, 0], r[i, 1], r[i, 2], r[i, 3] = a, b, d, b - a
    return r


@numba.njit(cache=True)
def _nanmax(a, b):
    """max(a, b), NaN if either is NaN (as np.max); a select, so loops vectorize."""
    return a if (a > b or a != a) else b


@numba.njit(cache=True)
def _pool_run(x, rows, cols, pairs, mode_code, y, nc0, nc1):
    """Pool the (N, C) maps nc0..nc1-1 (n * C + c) of x into y."""
    c_, w = x.shape[1], x.shape[3]
    oh, ow = y.shape[2], y.shape[3]
    acc = np.empty(w, x.dtype)  # the window rows reduced, for every column
    for nc in range(nc0, nc1):
        n, c = nc // c_, nc % c_
        xc, yc = x[n, c], y[n, c]
        for i in range(oh):
            y0, y1 = rows[i, 0], rows[i, 1]
            first = xc[y0]
            for zz in range(w):
                acc[zz] = first[zz]
            for yy in range(y0 + 1, y1):
                row = xc[yy]
                if mode_code == POOL_MAX:
                    for zz in range(w):
                        acc[zz] = _nanmax(acc[zz], row[zz])
                else:
                    for zz in range(w):
                        acc[zz] += row[zz]
            j0 = 0
            if pairs and mode_code <= POOL_SUM:  # windows (2j, 2j+1): vectorises
                j0 = min(ow, w // 2)
                for j in range(j0):
                    a, b = acc[2 * j], acc[2 * j + 1]
                    yc[i, j] = _nanmax(a, b) if mode_code == POOL_MAX else a + b
            for j in range(j0, ow):
                z0, z1 = cols[j, 0], cols[j, 1]
                if mode_code == POOL_MAX:
                    m = acc[z0]
                    for zz in range(z0 + 1, z1):
                        m = _nanmax(m, acc[zz])
                    yc[i, j] = m
                    continue
                s = acc[z0]
                for zz in range(z0 + 1, z1):
                    s += acc[zz]
                if mode_code == POOL_SUM:
                    yc[i, j] = s
                elif mode_code == POOL_AVERAGE_INC_PAD:
                    yc[i, j] = s / (rows[i, 2] * cols[j, 2])
                else:
                    yc[i, j] = s / (rows[i, 3] * cols[j, 3])


@numba.njit(cache=True, parallel=PRANGE_ONLY)
def pool2d_forward(x, wsh, wsw, sh, sw, ph, pw, ignore_border, mode_code, threads=1):
    """Theano pool_2d over the last two axes of the 4-d ``x`` with window
    ``(wsh, wsw)``, stride ``(sh, sw)``, padding ``(ph, pw)``; returns
    (N, C, oh, ow) of ``x``'s dtype. The (N, C) maps are split between
    ``threads`` threads."""
    n_, c_, h, w = x.shape
    oh, ow = _pool_out_size(h, w, wsh, wsw, sh, sw, ph, pw, ignore_border, mode_code)
    rows = _pool_regions(oh, h, wsh, sh, ph)
    cols = _pool_regions(ow, w, wsw, sw, pw)
    y = np.empty((n_, c_, oh, ow), x.dtype)
    pairs = wsw == 2 and sw == 2 and pw == 0  # the usual 2x2 pooling
    tasks, per_task = split_work(n_ * c_, threads)
    if tasks == 1:
        _pool_run(x, rows, cols, pairs, mode_code, y, 0, n_ * c_)
    else:
        for t in prange(tasks):
            _pool_run(x, rows, cols, pairs, mode_code, y, t * per_task, min(n_ * c_, (t + 1) * per_task))
    return y


@numba.njit(cache=True)
def _window_grad(mode_code, g, i, j, rows, cols):
    """The gradient each cell of window (i, j) receives (max: if it wins)."""
    if mode_code == POOL_AVERAGE_INC_PAD:
        return g / (rows[i, 2] * cols[j, 2])
    if mode_code == POOL_AVERAGE_EXC_PAD:
        return g / (rows[i, 3] * cols[j, 3])
    return g


@numba.njit(cache=True)
def _window_cover(rows, cols, h, w):
    """The window of each column (len(cols): none) and whether a window
    covers each row, for disjoint windows."""
    owner = np.full(w, cols.shape[0], np.int64)
    for j in range(cols.shape[0]):
        owner[cols[j, 0]:cols[j, 1]] = j
    covered = np.zeros(h, np.bool_)
    for i in range(rows.shape[0]):
        covered[rows[i, 0]:rows[i, 1]] = True
    return owner, covered


@numba.njit(cache=True)
def _pool_grad_run(x, y, gy, rows, cols, owner, covered, zp, mode_code, gx, nc0, nc1):
    """gx for the (N, C) maps nc0..nc1-1 when the windows are disjoint."""
    c_, h, w = x.shape[1], x.shape[2], x.shape[3]
    oh, ow = gy.shape[2], gy.shape[3]
    zero = np.zeros(1, gx.dtype)[0]
    gj = np.zeros(ow + 1, gx.dtype)  # per window; slot ow stays 0
    yj = np.zeros(ow + 1, y.dtype)
    ge = np.empty(w, gx.dtype)  # per column
    ye = np.empty(w, y.dtype)
    for nc in range(nc0, nc1):
        n, c = nc // c_, nc % c_
        for yy in range(h):
            if not covered[yy]:
                for zz in range(w):
                    gx[n, c, yy, zz] = zero
        for i in range(oh):
            if mode_code <= POOL_SUM:
                for j in range(ow):
                    gj[j] = gy[n, c, i, j]
            else:
                for j in range(ow):
                    gj[j] = _window_grad(mode_code, gy[n, c, i, j], i, j, rows, cols)
            if mode_code == POOL_MAX:
                for j in range(ow):
                    yj[j] = y[n, c, i, j]
            for j in range(zp // 2):
                ge[2 * j], ge[2 * j + 1] = gj[j], gj[j]
                ye[2 * j], ye[2 * j + 1] = yj[j], yj[j]
            for zz in range(zp, w):
                ge[zz] = gj[owner[zz]]
                ye[zz] = yj[owner[zz]]
            for yy in range(rows[i, 0], rows[i, 1]):
                if mode_code == POOL_MAX:
                    for zz in range(w):
                        gx[n, c, yy, zz] = ge[zz] if x[n, c, yy, zz] == ye[zz] else zero
                else:
                    for zz in range(w):
                        gx[n, c, yy, zz] = ge[zz]


@numba.njit(cache=True, parallel=PRANGE_ONLY)
def pool2d_grad(x, y, gy, wsh, wsw, sh, sw, ph, pw, ignore_border, mode_code, threads=1):
    """Gradient of pool2d_forward with respect to ``x``: ``y`` is the forward
    output (read by max only), ``gy`` its gradient.  Max sends a window's
    gradient to every real cell equal to the window's ``y``. The (N, C)
    maps are split between ``threads`` threads."""
    n_, c_, h, w = x.shape
    oh, ow = _pool_out_size(h, w, wsh, wsw, sh, sw, ph, pw, ignore_border, mode_code)
    if gy.shape != (n_, c_, oh, ow):
        raise ValueError("pool2d_grad: output gradient shape does not match the pooled shape")
    if mode_code == POOL_MAX and y.shape != (n_, c_, oh, ow):
        raise ValueError("pool2d_grad: forward output shape does not match the pooled shape")
    rows = _pool_regions(oh, h, wsh, sh, ph)
    cols = _pool_regions(ow, w, wsw, sw, pw)
    proto = _promoted(x, gy)
    if sh < wsh or sw < wsw:  # overlapping windows: scatter-add window by window
        gx = _zeros((n_, c_, h, w), proto)
        for n in range(n_):
            for c in range(c_):
                xc, gxc = x[n, c], gx[n, c]
                for i in range(oh):
                    for j in range(ow):
                        g = _window_grad(mode_code, gy[n, c, i, j], i, j, rows, cols)
                        m = y[n, c, i, j] if mode_code == POOL_MAX else g
                        for yy in range(rows[i, 0], rows[i, 1]):
                            for zz in range(cols[j, 0], cols[j, 1]):
                                if mode_code != POOL_MAX or xc[yy, zz] == m:
                                    gxc[yy, zz] += g
        return gx
    # Disjoint windows: each cell gets at most one window's gradient.  Per
    # output row, spread the windows' y and gradient along the columns, then
    # fill the window's input rows with a vectorisable loop.
    gx = np.empty((n_, c_, h, w), proto.dtype)
    owner, covered = _window_cover(rows, cols, h, w)
    # The usual 2x2 pooling: window j covers columns 2j and 2j+1.
    zp = 2 * min(ow, w // 2) if (wsw == 2 and sw == 2 and pw == 0) else 0
    tasks, per_task = split_work(n_ * c_, threads)
    if tasks == 1:
        _pool_grad_run(x, y, gy, rows, cols, owner, covered, zp, mode_code, gx, 0, n_ * c_)
    else:
        for t in prange(tasks):
            _pool_grad_run(x, y, gy, rows, cols, owner, covered, zp, mode_code, gx, t * per_task,
                           min(n_ * c_, (t + 1) * per_task))
    return gx


# ---------------------------------------------------------------- softmax

@numba.njit(cache=True)
def _row_max(x, i):
    m = x[i, 0]
    for j in range(1, x.shape[1]):
        v = x[i, j]
        if v > m or v != v:
            m = v
            if v != v:
                break
    return m


@numba.njit(cache=True)
def softmax_lastaxis(x):
    """Softmax of each row of the 2-d ``x`` (the row max is subtracted first)."""
    m_, n_ = x.shape
    out = np.empty((m_, n_), x.dtype)
    if n_ == 0:
        return out
    for i in range(m_):
        mx = _row_max(x, i)
        s = np.zeros(1, x.dtype)[0]
        for j in range(n_):
            e = np.exp(x[i, j] - mx)
            out[i, j] = e
            s += e
        for j in range(n_):
            out[i, j] = out[i, j] / s
    return out


@numba.njit(cache=True)
def log_softmax_lastaxis(x):
    """log(softmax) of each row of the 2-d ``x``, as x - max - log(sum(exp(x - max)))."""
    m_, n_ = x.shape
    out = np.empty((m_, n_), x.dtype)
    if n_ == 0:
        return out
    for i in range(m_):
        mx = _row_max(x, i)
        s = np.zeros(1, x.dtype)[0]
        for j in range(n_):
            s += np.exp(x[i, j] - mx)
        ls = np.log(s)
        for j in range(n_):
            out[i, j] = (x[i, j] - mx) - ls
    return out
