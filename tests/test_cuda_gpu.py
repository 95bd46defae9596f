"""The CUDA backend on a real GPU: every case of tests/cuda_sim/cuda_cases.py
at full size (the report's CNN at batch 128, the 784-900 denoising
autoencoder, ops at sizes that span many blocks) against mode 'python', and
the backend's semantics tests. Skipped unless numba-cuda finds a GPU.
benchmarks/gpu_check.sh runs it with the GPU benchmarks."""
import importlib.util
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "cuda_sim"))


def _no_gpu():
    if importlib.util.find_spec("numba_cuda") is None:
        return "numba-cuda is not installed (pip install 'symgraph[cuda]')"
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        return "NUMBA_ENABLE_CUDASIM=1: these tests are for a real GPU"
    from numba import cuda
    if not cuda.is_available():
        return "no CUDA GPU found (numba.cuda.is_available() is False)"
    return None


_reason = _no_gpu()
if _reason:
    pytest.skip(_reason, allow_module_level=True)

import cuda_cases  # noqa: E402
from cuda_semantics import *  # noqa: E402,F401,F403  (the semantics tests, run on the GPU too)


@pytest.mark.parametrize("name", sorted(cuda_cases.CASES))
def test_case_matches_python_full_size(name):
    cuda_cases.check(cuda_cases.CASES[name](big=True))
