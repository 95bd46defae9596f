"""Without a GPU (and without the simulator) mode='cuda' fails when the
function is compiled, saying that no CUDA device was found; without
numba-cuda it says what to install."""
import importlib.util
import os

import numpy as np
import pytest

import symgraph as sg
from symgraph import tensor as T
from symgraph.backend import get_linker
from symgraph.backend.numba_cuda import CudaUnavailableError


def test_the_linker_is_registered_without_importing_numba_cuda():
    assert get_linker("cuda").__name__ == "CudaLinker"


@pytest.mark.skipif(importlib.util.find_spec("numba_cuda") is None, reason="numba-cuda is not installed")
@pytest.mark.skipif(os.environ.get("NUMBA_ENABLE_CUDASIM") == "1", reason="the CUDA simulator is enabled")
def test_no_gpu_fails_at_compile_time_with_a_clear_error():
    from numba import cuda
    if cuda.is_available():
        pytest.skip("a CUDA GPU is present")
    x = T.matrix("x")
    with pytest.raises(CudaUnavailableError, match="no CUDA device was found"):
        sg.function([x], x + 1, mode="cuda")
    assert sg.function([x], x + 1, mode="python")(np.ones((1, 1), "float32"))[0, 0] == 2  # other modes still work


def test_missing_numba_cuda_says_what_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "numba_cuda" else real(name, *a))
    x = T.matrix("x")
    with pytest.raises(CudaUnavailableError, match=r"needs numba-cuda.*pip install"):
        sg.function([x], x + 1, mode="cuda")
