"""The CUDA backend (mode='cuda') on numba-cuda; see docs/cuda.md.

Shared variables live on the device between calls; each node (an
elementwise fusion cluster is one node) is one kernel or a view; a Python
driver generated per function launches them in order. Importing this
package does not import numba.cuda: that happens when a function is
compiled, which fails with ``CudaUnavailableError`` where no GPU (and no
simulator) is available.
"""
from .impl import NoKernelError, register
from .runtime import CudaUnavailableError, DArray, simulator_enabled

__all__ = ["CudaLinker", "Plan", "CudaUnavailableError", "NoKernelError", "DArray", "register", "device_outputs",
           "simulator_enabled", "kernel_specs"]


def __getattr__(name):
    if name in ("CudaLinker", "Plan"):
        from . import linker
        return getattr(linker, name)
    raise AttributeError(name)


def device_outputs(fn, on=True):
    """Make the compiled cuda function ``fn`` return numba device arrays
    instead of NumPy arrays (``on=False`` turns it back)."""
    from .linker import CudaLinker
    if not isinstance(fn.linker, CudaLinker):
        raise TypeError(f"device_outputs: {fn!r} was not compiled with mode='cuda'")
    fn.linker.device_outputs = bool(on)
    return fn


def kernel_specs(fn_or_fgraph):
    """The kernels (``KernelSpec``: module source, function, signature) that
    a function, or a FunctionGraph, would launch in mode='cuda'; needs no
    device, so ``numba.cuda.compile_ptx`` can check them anywhere."""
    from .linker import Plan
    fgraph = getattr(fn_or_fgraph, "fgraph", fn_or_fgraph)
    return Plan(fgraph).specs()
