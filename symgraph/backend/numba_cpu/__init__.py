"""The Numba CPU backend (mode 'numba', the default).

Each compiled function gets one generated Python module holding one
``@njit`` function for its whole optimized graph, with elementwise loops
written out inline; the module is cached on disk by the hash of its text
(``symgraph.backend.cache``). Kernels are registered per op class with
``register_kernel``; see docs/numba.md for how to add one.

Threads: the library kernels (GEMM, convolutions, pooling, random draws)
split their work between Numba's threads and call single-threaded BLAS,
so this module asks for OPENBLAS_NUM_THREADS=1 unless it is set (it takes
effect when SciPy's BLAS, the one Numba calls, has not been loaded yet).
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before .runtime loads SciPy's BLAS

from .linker import KernelCompileError, NumbaLinker  # noqa: E402
from .registry import NoKernelError, register_kernel  # noqa: E402

__all__ = ["NumbaLinker", "register_kernel", "NoKernelError", "KernelCompileError"]
