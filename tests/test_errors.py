"""Bad input gets an error that says what was expected and points at the
user's line: the line of this file that built the node (or compiled the
function). Each test records that line with ``here()`` on the very line
that builds the node."""
import inspect

import numpy as np
import pytest

import symgraph as sg
from symgraph import tensor as T
from symgraph.errors import ExecutionError, GradientError, GraphTypeError, InputError
from symgraph.tensor.nnet import conv2d

MODE = "python"


def here():
    """The line number of the caller."""
    return inspect.currentframe().f_back.f_lineno


def assert_points_at(message, line):
    """``message`` quotes this file and ``line``."""
    assert f'File "{__file__}", line {line}' in message, message


def f32(shape):
    return np.zeros(shape, dtype="float32")


# --- arguments of a compiled function -----------------------------------

def test_wrong_rank_argument():
    x = T.vector("x")
    line = here(); f = sg.function([x], x * 2, mode=MODE)  # noqa: E702
    with pytest.raises(InputError) as info:
        f(f32((2, 2)))
    message = str(info.value)
    assert "argument 0 (x)" in message and "expected an array of rank 1" in message
    assert "got rank 2 with shape (2, 2)" in message
    assert_points_at(message, line)


def test_wrong_dtype_argument():
    x = T.vector("x")
    line = here(); f = sg.function([x], x * 2, mode=MODE)  # noqa: E702
    with pytest.raises(InputError) as info:
        f(np.zeros(2, dtype="float64"))
    message = str(info.value)
    assert "expected dtype float32, got float64" in message and "allow_input_downcast=True" in message
    assert_points_at(message, line)
    with pytest.raises(InputError, match="expected dtype float32, got complex128"):
        f(np.zeros(2, dtype="complex128"))


def test_wrong_static_shape_argument():
    x = T.tensor("float32", (None, 3), name="x")
    line = here(); f = sg.function([x], x.sum(), mode=MODE)  # noqa: E702
    with pytest.raises(InputError) as info:
        f(f32((5, 4)))
    message = str(info.value)
    assert "expected shape (None, 3)" in message and "got (5, 4)" in message
    assert_points_at(message, line)
    assert f(np.ones((5, 3), dtype="float32")) == 15


def test_wrong_number_of_arguments():
    x, y = T.scalar("x"), T.scalar("y")
    line = here(); f = sg.function([x, y], x + y, mode=MODE, name="adder")  # noqa: E702
    with pytest.raises(InputError) as info:
        f(1.0)
    assert "'adder' takes 2 argument(s), missing y" in str(info.value)
    assert_points_at(str(info.value), line)
    with pytest.raises(InputError) as info:
        f(1.0, 2.0, 3.0)
    assert "takes 2 argument(s) (x, y), got 3" in str(info.value)
    assert_points_at(str(info.value), line)


def test_unknown_keyword_to_function():
    x = T.vector("x")
    with pytest.raises(TypeError) as info:
        line = here(); sg.function([x], x, mode=MODE, update=[])  # noqa: E702
    message = str(info.value)
    assert "unexpected keyword(s) ['update']" in message and "'updates'" in message
    assert_points_at(message, line)


# --- graph construction ---------------------------------------------------

def test_wrong_rank_argument_to_an_op():
    with pytest.raises(GraphTypeError) as info:
        line = here(); conv2d(T.matrix("img"), T.tensor4("w"))  # noqa: E702
    message = str(info.value)
    assert "Conv2d" in message and "4-d" in message and "(?, ?)" in message
    assert_points_at(message, line)


def test_wrong_dtype_argument_to_an_op():
    with pytest.raises(GraphTypeError) as info:
        line = here(); conv2d(T.itensor4("img"), T.tensor4("w"))  # noqa: E702
    message = str(info.value)
    assert "Conv2d" in message and "float" in message and "int32" in message
    assert_points_at(message, line)


def test_wrong_static_shape_in_an_elementwise_op():
    a = T.tensor("float32", (3,), name="a")
    b = T.tensor("float32", (4,), name="b")
    with pytest.raises(GraphTypeError) as info:
        line = here(); a + b  # noqa: E702
    message = str(info.value)
    assert "add" in message and "lengths [3, 4]" in message
    assert_points_at(message, line)


def test_dot_of_a_3d_tensor_with_mismatched_inner_dimension():
    a = T.tensor("float32", (2, 3, 4), name="a")
    b = T.tensor("float32", (5, 6), name="b")
    with pytest.raises(GraphTypeError) as info:
        line = here(); T.dot(a, b)  # noqa: E702
    message = str(info.value)
    assert "Dot" in message and "inner dimensions differ" in message and "4 != 5" in message
    assert_points_at(message, line)


def test_dimshuffle_dropping_a_non_broadcastable_dimension():
    m = T.matrix("m")
    with pytest.raises(GraphTypeError) as info:
        line = here(); m.dimshuffle(0)  # noqa: E702
    message = str(info.value)
    assert "DimShuffle" in message and "cannot drop dimension 1" in message
    assert "static length 1" in message
    assert_points_at(message, line)
    assert T.tensor("float32", (None, 1)).dimshuffle(0).ndim == 1  # a length-1 one can go


def test_conv2d_channel_mismatch():
    img = T.tensor("float32", (None, 3, 8, 8), name="img")
    w = T.tensor("float32", (4, 2, 3, 3), name="w")
    with pytest.raises(GraphTypeError) as info:
        line = here(); conv2d(img, w)  # noqa: E702
    message = str(info.value)
    assert "3 channels" in message and "expect 2" in message
    assert_points_at(message, line)


def test_grad_of_a_non_scalar_cost_names_the_cost_line():
    m = T.matrix("m")
    line = here(); cost = (m * 2).sum(axis=0)  # noqa: E702
    with pytest.raises(GradientError) as info:
        sg.grad(cost, m)
    message = str(info.value)
    assert "cost must be a scalar" in message and "sum or mean" in message
    assert_points_at(message, line)


@pytest.mark.parametrize("bad", ["dtype", "rank"])
def test_update_of_another_type_names_the_update_line(bad):
    s = sg.shared(np.zeros(3, dtype="float32"), name="s")
    if bad == "dtype":
        line = here(); new = s * np.ones(3, dtype="float64")  # noqa: E702
    else:
        line = here(); new = s.dimshuffle("x", 0) + 1  # noqa: E702
    with pytest.raises(GraphTypeError) as info:
        sg.function([], [], updates=[(s, new)], mode=MODE)
    message = str(info.value)
    assert "update of s" in message and "TensorType(float32, (?,))" in message
    assert ("float64" if bad == "dtype" else "(1, ?)") in message
    assert_points_at(message, line)


# --- errors while running -------------------------------------------------

def test_runtime_shape_error_in_a_node_names_the_op_and_line():
    a, b = T.matrix("a"), T.matrix("b")
    line = here(); out = T.dot(a, b)  # noqa: E702
    f = sg.function([a, b], out * 2, mode=MODE)
    with pytest.raises(ExecutionError) as info:
        f(f32((2, 3)), f32((4, 5)))
    message = str(info.value)
    assert "Dot" in message and "(2, 3)" in message and "(4, 5)" in message
    assert_points_at(message, line)


def test_runtime_broadcast_error_names_the_line():
    x, y = T.vector("x"), T.vector("y")
    line = here(); out = x + y  # noqa: E702
    f = sg.function([x, y], out, mode=MODE)
    with pytest.raises(ExecutionError) as info:
        f(f32(3), f32(2))
    assert "add" in str(info.value)
    assert_points_at(str(info.value), line)


def test_a_failed_call_leaves_every_shared_variable_unchanged():
    rng = np.random.default_rng(0)
    a = sg.shared(rng.standard_normal(4).astype("float32"), name="a")
    b = sg.shared(rng.standard_normal((2, 2)), name="b")
    c = sg.shared(np.int64(7), name="c")
    d = sg.shared(rng.standard_normal(3).astype("float32"), name="d")
    x, y = T.matrix("x"), T.matrix("y")
    before = {v: v.get_value() for v in (a, b, c, d)}
    new_a, new_b, new_c = a * 2 + 1, b.T, c + 1
    scale = T.cast(new_a.sum() * new_b.sum() * new_c, "float32")
    failing = T.dot(x * scale, y)  # needs every other update value: fails after they exist
    updates = [(a, new_a), (b, new_b), (c, new_c), (d, d + failing.sum())]
    f = sg.function([x, y], a.sum(), updates=updates, mode=MODE)
    with pytest.raises(ExecutionError, match="Dot"):
        f(f32((2, 3)), f32((4, 5)))
    for var, old in before.items():
        now = var.get_value()
        assert now.dtype == old.dtype and now.shape == old.shape and now.tobytes() == old.tobytes(), var
    f(np.ones((2, 3), dtype="float32"), np.ones((3, 5), dtype="float32"))  # a good call updates all
    np.testing.assert_array_equal(a.get_value(), before[a] * 2 + 1)
    np.testing.assert_array_equal(b.get_value(), before[b].T)
    assert c.get_value() == 8
    want_scale = np.float32((before[a] * 2 + 1).sum() * before[b].sum() * 8)
    np.testing.assert_allclose(d.get_value(), before[d] + 30 * want_scale, rtol=1e-5)  # ten entries of 3*scale


def test_a_bad_argument_leaves_shared_variables_unchanged():
    s = sg.shared(np.float32(1), name="s")
    x = T.vector("x")
    f = sg.function([x], x + s, updates=[(s, s + 1)], mode=MODE)
    with pytest.raises(InputError):
        f(np.zeros(2, dtype="float64"))
    assert s.get_value() == 1
