"""Matrix product ``out = a @ b (+ c)`` tiled through shared memory.

``a``, ``b`` and the bias ``c`` are strided views (a transpose is a swap
of strides, a vector a view of stride 0), ``out`` is a contiguous M x N
result. Each block computes a TILE x TILE tile of ``out``, loading
TILE x TILE tiles of ``a`` and ``b`` into shared memory in turn."""
from numba import cuda, float32

T = float32  # element type
TILE = 16


def gemm(a, b, c, out, m, has_c):
    # m: M, N, K, a offset, a strides (2), b offset, b strides (2), c offset, c strides (2)
    M = m[0]
    N = m[1]
    K = m[2]
    ao = m[3]
    a0 = m[4]
    a1 = m[5]
    bo = m[6]
    b0 = m[7]
    b1 = m[8]
    sa = cuda.shared.array((TILE, TILE), T)
    sb = cuda.shared.array((TILE, TILE), T)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    for tile_row in range(cuda.blockIdx.y, (M + TILE - 1) // TILE, cuda.gridDim.y):
        for tile_col in range(cuda.blockIdx.x, (N + TILE - 1) // TILE, cuda.gridDim.x):
            row = tile_row * TILE + ty
            col = tile_col * TILE + tx
            acc = T(0)
            for k0 in range(0, K, TILE):
                k = k0 + tx
                if row < M and k < K:
                    sa[ty, tx] = a[ao + row * a0 + k * a1]
                else:
                    sa[ty, tx] = 0
                k = k0 + ty
                if k < K and col < N:
                    sb[ty, tx] = b[bo + k * b0 + col * b1]
                else:
                    sb[ty, tx] = 0
                cuda.syncthreads()
                for kk in range(TILE):
                    acc += sa[ty, kk] * sb[kk, tx]
                cuda.syncthreads()
            if row < M and col < N:
                if has_c:
                    acc += T(c[m[9] + row * m[10] + col * m[11]])
                out[row * N + col] = acc


def gemm_small(a, b, c, out, m, has_c):
    # the same product for outputs that fit in one tile: a thread per output, no barriers
    M = m[0]
    N = m[1]
    K = m[2]
    for idx in range(cuda.grid(1), M * N, cuda.gridsize(1)):
        row = idx // N
        col = idx % N
        acc = T(0)
        for k in range(K):
            acc += T(a[m[3] + row * m[4] + k * m[5]]) * T(b[m[6] + k * m[7] + col * m[8]])
        if has_c:
            acc += T(c[m[9] + row * m[10] + col * m[11]])
        out[idx] = acc
