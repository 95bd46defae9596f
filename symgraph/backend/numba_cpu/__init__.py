"""The Numba CPU backend (mode 'numba', the default).

Each compiled function gets one generated Python module holding one
``@njit`` function for its whole optimized graph, with elementwise loops
written out inline; the module is cached on disk by the hash of its text
(``symgraph.backend.cache``). Kernels are registered per op class with
``register_kernel``; see docs/numba.md for how to add one.
"""
from .linker import KernelCompileError, NumbaLinker
from .registry import NoKernelError, register_kernel

__all__ = ["NumbaLinker", "register_kernel", "NoKernelError", "KernelCompileError"]
