"""Random draws in philox's stream layout (symgraph/tensor/philox.py), so
that every backend draws the same numbers for the same seed: output j of a
uniform draw uses word j of the stream, normal outputs 2p and 2p+1 use
words 2p and 2p+1 (Box-Muller), binomial output j uses words j*trials ...
Products and sums are rounded one at a time (no fused multiply-add), as in
NumPy. The parameters are strided views broadcast to the output."""
from numba import cuda, float32, float64
from numba.extending import register_jitable

from symgraph.backend.numba_cuda.devmath import add_rn, mul_rn
from symgraph.tensor.philox import binomial_scalar, normal_scalar, philox_word, uniform01_scalar

T = float32  # element type


@register_jitable
def param_index(m, j, which):
    """Where output j reads parameter ``which`` (0 or 1); m: ndim, shape...,
    then offset and strides of each parameter."""
    nd = m[0]
    at = 1 + nd + which * (nd + 1)
    i = m[at]
    for d in range(nd - 1, -1, -1):
        i += (j % m[1 + d]) * m[at + 1 + d]
        j = j // m[1 + d]
    return i


def uniform(out, a, b, m, n, key, counter):
    for j in range(cuda.grid(1), n, cuda.gridsize(1)):
        lo = float64(a[param_index(m, j, 0)])
        hi = float64(b[param_index(m, j, 1)])
        out[j] = add_rn(lo, mul_rn(hi - lo, uniform01_scalar(philox_word(key, counter, j))))


def normal(out, a, b, m, n, key, counter):
    for p in range(cuda.grid(1), (n + 1) // 2, cuda.gridsize(1)):
        j = 2 * p
        z0, z1 = normal_scalar(philox_word(key, counter, j), philox_word(key, counter, j + 1), 0.0, 1.0)
        out[j] = add_rn(float64(a[param_index(m, j, 0)]), mul_rn(float64(b[param_index(m, j, 1)]), z0))
        if j + 1 < n:
            out[j + 1] = add_rn(float64(a[param_index(m, j + 1, 0)]),
                                mul_rn(float64(b[param_index(m, j + 1, 1)]), z1))


def binomial(out, b, m, n, key, counter, trials):
    for j in range(cuda.grid(1), n, cuda.gridsize(1)):
        out[j] = binomial_scalar(key, counter, j, trials, float64(b[param_index(m, j, 1)]))
