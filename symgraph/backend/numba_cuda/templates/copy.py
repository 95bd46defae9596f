"""Strided copies: the view ``dst`` gets ``src`` broadcast to its shape
(or ``+=`` it). Used for contiguous copies, Alloc, Join, IncSubtensor."""
from numba import cuda, float32

T = float32  # element type


def assign(dst, src, m, total, accumulate):
    # m: ndim, shape..., dst offset, dst strides..., src offset, src strides...
    nd = m[0]
    for i in range(cuda.grid(1), total, cuda.gridsize(1)):
        r = i
        di = m[1 + nd]
        si = m[2 + 2 * nd]
        for d in range(nd - 1, -1, -1):
            n = m[1 + d]
            c = r % n
            r = r // n
            di += c * m[2 + nd + d]
            si += c * m[3 + 2 * nd + d]
        if accumulate:
            dst[di] = dst[di] + src[si]
        else:
            dst[di] = src[si]
