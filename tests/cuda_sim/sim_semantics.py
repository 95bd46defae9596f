"""cuda_semantics.py's tests on the CUDA simulator. Run through
tests/test_cuda_sim.py (NUMBA_ENABLE_CUDASIM=1, in its own process)."""
import os

import pytest

if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":
    pytest.skip("runs under NUMBA_ENABLE_CUDASIM=1 only (tests/test_cuda_sim.py starts it)", allow_module_level=True)

from cuda_semantics import *  # noqa: E402,F401,F403
