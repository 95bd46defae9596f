"""Library kernels called through their addresses (numba_cpu/calls.py):
the same results as a direct call, errors raised inside a kernel reach the
caller, and a call whose argument types differ from the listed ones is
refused at compile time instead of calling code of another signature."""
import numpy as np
import pytest
from numba import njit, types
from numba.core.errors import TypingError

import symgraph as sg
from symgraph import tensor as T
from symgraph.backend.numba_cpu import kernels_nnet as nnet
from symgraph.backend.numba_cpu.calls import call_kernel, kernel_addresses, signature_key
from symgraph.compile.mode import Mode

F4 = types.Array(types.float32, 4, "C")
POOL = (F4, types.int64, types.int64, types.int64, types.int64, types.int64, types.int64, types.boolean, types.int64,
        types.int64)
KEY = signature_key(POOL)


@njit
def _pool_through_address(addresses, x):
    return call_kernel(addresses[0], nnet.pool2d_forward, KEY, (x, 2, 2, 2, 2, 0, 0, True, 0, 2))


def test_call_through_address_matches_direct_call_and_propagates_errors():
    addresses = kernel_addresses([(nnet.pool2d_forward, POOL)])
    x = np.random.default_rng(0).random((2, 3, 6, 6), dtype="float32")
    np.testing.assert_array_equal(_pool_through_address(addresses, x), nnet.pool2d_forward(x, 2, 2, 2, 2, 0, 0, True, 0, 2))
    with pytest.raises(ValueError, match="window larger than the padded input"):
        _pool_through_address(addresses, np.ones((1, 1, 1, 1), "float32"))


def test_call_with_other_argument_types_is_refused():
    addresses = kernel_addresses([(nnet.pool2d_forward, POOL)])
    with pytest.raises(TypingError, match="not the types its address was listed with"):
        _pool_through_address(addresses, np.ones((1, 1, 4, 4), "float64"))


def test_generated_driver_calls_kernels_only_through_addresses():
    x = T.tensor4("x")
    y = T.nnet.softmax(T.signal.pool.pool_2d(x, (2, 2), ignore_border=True).sum(axis=(2, 3)))
    fn = sg.function([x], y, mode=Mode("numba"))
    source = open(fn.linker.source_path).read()
    assert "call_kernel(kernels[" in source
    assert not any(f"nnet.{name}(" in source for name in ("pool2d_forward", "softmax_lastaxis"))
    xv = np.random.default_rng(1).random((2, 3, 4, 4), dtype="float32")
    np.testing.assert_allclose(fn(xv), sg.function([x], y, mode="python")(xv), rtol=1e-6)
