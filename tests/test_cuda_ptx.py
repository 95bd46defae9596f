"""Every CUDA kernel of every case in tests/cuda_sim/cuda_cases.py compiled
to PTX for a real GPU (sm_90) with numba.cuda.compile_ptx: a real compile
that catches what the simulator lets through (types it cannot unify,
unsupported functions, wrong signatures). Needs no GPU, but needs the CUDA
13 compiler of numba-cuda's ``cu13`` extra (about 1 GB, not installed in
CI): ``pip install 'numba-cuda[cu13]==0.30.4'``; skipped without it.
Run: python -m pytest tests/test_cuda_ptx.py
"""
import importlib.util
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "cuda_sim"))

if importlib.util.find_spec("numba_cuda") is None:
    pytest.skip("numba-cuda is not installed (pip install 'symgraph[cuda]')", allow_module_level=True)
if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
    pytest.skip("the PTX check compiles for a real GPU: run it without NUMBA_ENABLE_CUDASIM", allow_module_level=True)

CC = (9, 0)  # H100


def _nvvm_missing():
    from numba import cuda

    def probe(out):
        out[0] = 1.0
    try:
        cuda.compile_ptx(probe, "void(float32[::1])", cc=CC)
    except Exception as exc:  # no NVVM: numba-cuda's cu13 extra is not installed
        return f"cannot compile PTX here ({type(exc).__name__}: {str(exc).splitlines()[0][:200]}); install " \
               f"'numba-cuda[cu13]==0.30.4' to run this check"
    return None


_reason = _nvvm_missing()
if _reason:
    pytest.skip(_reason, allow_module_level=True)

import cuda_cases  # noqa: E402

import symgraph as sg  # noqa: E402
from symgraph.backend.numba_cuda import kernel_specs  # noqa: E402


@pytest.fixture(autouse=True)
def sm90_current_device(monkeypatch):
    """numba-cuda compiles device functions (called from kernels) for the
    current device's compute capability; without a GPU there is none, so
    pretend it is sm_90, the target of the check."""
    import numba.cuda.dispatcher as dispatcher

    class Device:
        compute_capability = CC

    monkeypatch.setattr(dispatcher, "get_current_device", lambda: Device())


_DONE = set()


@pytest.mark.parametrize("name", sorted(cuda_cases.CASES))
def test_kernels_compile_to_ptx(name):
    from numba import cuda
    case = cuda_cases.CASES[name](big=False)
    fn = sg.function(case.inputs, case.outputs, updates=case.updates, mode="python", on_unused_input="ignore")
    for spec in kernel_specs(fn):  # (none when the optimizer leaves nothing to run)
        if spec in _DONE:
            continue
        ptx, _ = cuda.compile_ptx(spec.pyfunc(), spec.signature, cc=CC)
        assert ".target sm_90" in ptx
        _DONE.add(spec)
