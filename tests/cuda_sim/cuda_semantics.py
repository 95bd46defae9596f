"""mode='cuda' behaviour beyond single kernels: shared values on the
device, device outputs, reused buffers, errors, and random graphs against
mode 'python'. Imported by sim_semantics.py (CUDA simulator, tiny shapes)
and by tests/test_cuda_gpu.py (a real GPU)."""
import numpy as np
import pytest

from hypothesis import given, settings
from hypothesis import strategies as st

import symgraph as sg
from symgraph import tensor as T
from symgraph.backend.numba_cuda import DArray, NoKernelError, device_outputs
from symgraph.errors import ExecutionError
from symgraph.graph.basic import Apply, Op
from symgraph.testing import arrays, assert_same_values, broadcastable_shapes, random_graphs


def _sgd_step(mode, w, b):
    x = T.matrix("x")
    cost = T.mean((T.dot(x, w) + b) ** 2)
    gw, gb = T.grad(cost, [w, b])
    return sg.function([x], cost, updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)], mode=mode)


def test_shared_values_stay_on_the_device_and_come_back_on_get_value():
    r = np.random.default_rng(0)
    x = r.uniform(-1, 1, (3, 4)).astype("float32")
    w0, b0 = r.uniform(-1, 1, (4, 2)).astype("float32"), np.zeros(2, "float32")
    results = {}
    for mode in ("python", "cuda"):
        w, b = sg.shared(w0.copy(), name="w"), sg.shared(b0.copy(), name="b")
        step = _sgd_step(mode, w, b)
        costs = [step(x) for _ in range(2)]
        if mode == "cuda":
            assert isinstance(w.device_value, DArray)  # the new value is on the device ...
            assert w._fetch is not None  # ... and the host copy is stale until asked for
        results[mode] = (costs, w.get_value(), b.get_value())
        if mode == "cuda":
            assert w._fetch is None
    for got, expected in zip(results["cuda"], results["python"]):
        for g, e in zip(np.atleast_1d(got), np.atleast_1d(expected)):
            assert_same_values(e, g, "sgd step")


def test_set_value_between_calls_and_functions_of_both_modes_share_variables():
    r = np.random.default_rng(1)
    x = r.uniform(-1, 1, (3, 4)).astype("float32")
    w1 = r.uniform(-1, 1, (4, 2)).astype("float32")
    trace = {}
    for mode in ("python", "cuda"):
        w, b = sg.shared(np.zeros((4, 2), "float32"), name="w"), sg.shared(np.ones(2, "float32"), name="b")
        step, ref_step = _sgd_step(mode, w, b), _sgd_step("python", w, b)
        values = [step(x)]
        w.set_value(w1)  # uploaded again by the next cuda call
        values += [step(x), ref_step(x), step(x)]  # a python function reads and writes the same variables
        trace[mode] = values + [w.get_value(), b.get_value()]
    for got, expected in zip(trace["cuda"], trace["python"]):
        assert_same_values(expected, got, "mixed calls")


def test_a_failed_call_changes_no_shared_value():
    w = sg.shared(np.ones((2, 3), "float32"), name="w")
    x = T.matrix("x")
    fn = sg.function([x], [], updates=[(w, w + T.dot(x, w.T).sum())], mode="cuda")
    fn(np.ones((4, 3), "float32"))
    before = w.get_value()
    with pytest.raises(ExecutionError, match="not aligned"):
        fn(np.ones((4, 5), "float32"))
    np.testing.assert_array_equal(w.get_value(), before)


def test_device_outputs_and_fresh_output_buffers():
    x = T.matrix("x")
    h = T.dot(x, x.T)
    fn = device_outputs(sg.function([x], [T.exp(h * 0.5) + h, (x * 2).sum(axis=0)], mode="cuda"))
    assert any(getattr(n.op, "inplace", ()) for n in fn.fgraph.toposort())  # an output written in place
    a = np.arange(6, dtype="float32").reshape(2, 3) / 10
    first = fn(a)
    second = fn(a * 2)
    assert all(hasattr(o, "copy_to_host") for o in first)
    expected = [np.exp(a @ a.T * 0.5) + a @ a.T, (a * 2).sum(axis=0)]
    for got, e in zip(first, expected):  # the second call did not write into the first call's outputs
        np.testing.assert_allclose(got.copy_to_host(), e, rtol=1e-5)
    np.testing.assert_allclose(second[1].copy_to_host(), 2 * expected[1], rtol=1e-5)
    device_outputs(fn, False)
    assert isinstance(fn(a)[0], np.ndarray)


def test_each_input_is_copied_in_once_per_call():
    x = T.matrix("x")
    fn = sg.function([x], [T.exp(x), x.sum(axis=0), T.dot(x, x.T)], mode="cuda")
    assert fn.linker.source.count("upload(i0") == 1
    np.testing.assert_allclose(fn(np.eye(2, dtype="float32"))[2], np.eye(2), rtol=1e-6)


def test_run_time_errors_name_the_users_line():
    x, y = T.matrix("x"), T.matrix("y")
    fn = sg.function([x, y], x + y, mode="cuda")
    with pytest.raises(ExecutionError, match="cuda_semantics.py") as info:
        fn(np.ones((2, 3), "float32"), np.ones((1, 3), "float32"))
    assert "broadcastable" in str(info.value)
    fn = sg.function([x], T.reshape(x, (5, -1)), mode="cuda")
    with pytest.raises(ExecutionError, match="cannot reshape"):
        fn(np.ones((2, 3), "float32"))
    i = T.lscalar("i")
    fn = sg.function([x, i], x[i], mode="cuda")
    with pytest.raises(ExecutionError, match="out of bounds"):
        fn(np.ones((2, 3), "float32"), 5)


class _NoKernel(Op):
    def make_node(self, x):
        return Apply(self, [x], [x.type])

    def perform(self, node, inputs):
        return [inputs[0] * 2]


def test_an_op_without_a_kernel_fails_at_compile_time():
    x = T.matrix("x")
    with pytest.raises(NoKernelError, match="_NoKernel"):
        sg.function([x], _NoKernel()(x) + 1, mode="cuda")


@settings(max_examples=8, deadline=None)
@given(random_graphs(max_inputs=2, max_steps=5, max_dims=3, max_side=3), st.integers(0, 2 ** 16))
def test_random_graphs_match_python(graph, seed):
    r = np.random.default_rng(seed)
    inputs = [T.tensor("float64", (None,) * len(s), name=f"x{i}") for i, s in enumerate(graph.input_shapes)]
    out = graph.build(*inputs)
    values = [r.uniform(-2, 2, s) for s in graph.input_shapes]
    expected = sg.function(inputs, out, mode="python", on_unused_input="ignore")(*values)
    got = sg.function(inputs, out, mode="cuda", on_unused_input="ignore")(*values)
    assert_same_values(expected, got, repr(graph))


@settings(max_examples=8, deadline=None)
@given(broadcastable_shapes(max_dims=3, max_side=3).flatmap(
    lambda shapes: st.tuples(st.just(shapes), arrays(shapes[0], "float32"), arrays(shapes[1], "float32"))))
def test_broadcasting_matches_python(data):
    (sa, sb), a, b = data
    x = T.tensor("float32", tuple(1 if n == 1 else None for n in sa), name="a")
    y = T.tensor("float32", tuple(1 if n == 1 else None for n in sb), name="b")
    outs = [x * y - x, T.maximum(x, y) / (1 + y * y)]
    expected = sg.function([x, y], outs, mode="python")(a, b)
    got = sg.function([x, y], outs, mode="cuda")(a, b)
    for g, e in zip(got, expected):
        assert_same_values(e, g, f"shapes {sa} {sb}")
