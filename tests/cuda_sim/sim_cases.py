"""Every case of cuda_cases.py in mode 'cuda' against mode 'python', on the
CUDA simulator. Run through tests/test_cuda_sim.py, which starts pytest on
this folder with NUMBA_ENABLE_CUDASIM=1 (it must be set before numba is
imported, hence the separate process)."""
import os

import pytest

if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":
    pytest.skip("runs under NUMBA_ENABLE_CUDASIM=1 only (tests/test_cuda_sim.py starts it)", allow_module_level=True)

import cuda_cases  # noqa: E402


@pytest.mark.parametrize("name", sorted(cuda_cases.CASES))
def test_case_matches_python(name):
    cuda_cases.check(cuda_cases.CASES[name](big=False))


def test_every_scalar_op_has_a_case():
    from symgraph.tensor.scalar import SCALAR_OPS
    ternary_and_logic = {"clip", "switch", "and_", "or_", "xor", "invert"}
    covered = set(cuda_cases.UNARY_FLOAT) | set(cuda_cases.BINARY_FLOAT) | ternary_and_logic
    assert sorted(set(SCALAR_OPS) - covered) == []
