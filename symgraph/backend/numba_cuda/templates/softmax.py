"""softmax / log_softmax along an axis, and crossentropy of softmax along
the last one. One block per row: its threads stride over the row, thread 0
combines their partial max and sum of exponentials (in float64) and shares
the result through shared memory."""
from numba import cuda, float32, float64

from symgraph.backend.numba_cuda.devmath import INF, exp64, log64

T = float32  # element type
RED = 128  # most threads of a block


@cuda.jit(device=True)
def row_max(part, res, t, nt, mx):
    """The max over the block of each thread's ``mx`` (NaN wins)."""
    part[t] = mx
    if nt > 1:
        cuda.syncthreads()
    if t == 0:
        for u in range(1, nt):
            if part[u] > mx or part[u] != part[u]:
                mx = part[u]
        res[0] = mx
    if nt > 1:
        cuda.syncthreads()
    return res[0]


@cuda.jit(device=True)
def row_sum(part, res, t, nt, total):
    """The sum over the block of each thread's ``total``."""
    part[t] = total
    if nt > 1:
        cuda.syncthreads()
    if t == 0:
        for u in range(1, nt):
            total += part[u]
        res[1] = total
    if nt > 1:
        cuda.syncthreads()
    return res[1]


def softmax(x, out, length, inner, nrows, log):
    # x, out contiguous; row r holds x[(r // inner) * length * inner + r % inner + j * inner]
    part = cuda.shared.array(RED, float64)
    res = cuda.shared.array(2, float64)
    t = cuda.threadIdx.x
    nt = cuda.blockDim.x
    for row in range(cuda.blockIdx.x, nrows, cuda.gridDim.x):
        base = (row // inner) * length * inner + row % inner
        mx = -INF
        for j in range(t, length, nt):
            v = float64(x[base + j * inner])
            if v > mx or v != v:
                mx = v
        mx = row_max(part, res, t, nt, mx)
        total = 0.0
        for j in range(t, length, nt):
            total += exp64(float64(x[base + j * inner]) - mx)
        total = row_sum(part, res, t, nt, total)
        for j in range(t, length, nt):
            d = float64(x[base + j * inner]) - mx
            if log:
                out[base + j * inner] = d - log64(total)
            else:
                out[base + j * inner] = exp64(d) / total


def xent_softmax(x, y, out, m, nrows, length, xlength):
    # out[row] = -sum_l y[row, l] * log_softmax(x[row])[l], x and y broadcast together;
    # m: nd, row shape..., x offset, x row strides..., x last stride, y offset, y row strides..., y last stride
    nd = m[0]
    part = cuda.shared.array(RED, float64)
    res = cuda.shared.array(2, float64)
    t = cuda.threadIdx.x
    nt = cuda.blockDim.x
    for row in range(cuda.blockIdx.x, nrows, cuda.gridDim.x):
        r = row
        xb = m[1 + nd]
        yb = m[3 + 2 * nd]
        for d in range(nd - 1, -1, -1):
            c = r % m[1 + d]
            r = r // m[1 + d]
            xb += c * m[2 + nd + d]
            yb += c * m[4 + 2 * nd + d]
        xs = m[2 + 2 * nd]
        ys = m[4 + 3 * nd]
        mx = -INF
        for j in range(t, xlength, nt):
            v = float64(x[xb + j * xs])
            if v > mx or v != v:
                mx = v
        mx = row_max(part, res, t, nt, mx)
        total = 0.0
        for j in range(t, xlength, nt):
            total += exp64(float64(x[xb + j * xs]) - mx)
        shift = mx + log64(row_sum(part, res, t, nt, total))
        acc = 0.0
        for j in range(t, length, nt):
            xj = j if xlength == length else 0
            acc += float64(y[yb + j * ys]) * (float64(x[xb + xj * xs]) - shift)
        acc = row_sum(part, res, t, nt, acc)
        if t == 0:
            out[row] = -acc
