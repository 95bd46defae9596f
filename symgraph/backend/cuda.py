"""mode='cuda': the numba-cuda backend of ``symgraph/backend/numba_cuda``."""
from . import register_linker
from .numba_cuda.linker import CudaLinker

register_linker("cuda")(CudaLinker)
