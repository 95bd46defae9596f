"""The conv2d (T.nnet.conv2d) and pool_2d (T.signal.pool.pool_2d) ops:
forward values and static shapes against the plain-loop oracles of
``loop_oracles.py`` for every border mode, stride, flip, pool mode,
ignore_border and padding; gradients (and the gradients of the gradient
ops) against finite differences."""
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import symgraph as sg
from symgraph import tensor as T
from symgraph.errors import ExecutionError, GradientError, GraphTypeError
from symgraph.tensor.nnet import Conv2dGradInput, Conv2dGradWeights
from symgraph.tensor.signal.pool import pool_2d
from symgraph.testing import arrays, verify_grad

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loop_oracles import oracle_conv, oracle_pad, oracle_pool  # noqa: E402

BORDER_MODES = ["valid", "full", "half", 1, (2, 0), (0, 1)]
STRIDES = [(1, 1), (2, 1), (2, 3)]
POOL_MODES = ["max", "sum", "average_inc_pad", "average_exc_pad"]


def run(inputs, outputs, *values):
    return sg.function(inputs, outputs, mode="python")(*values)


# ---------------------------------------------------------------- conv2d forward


@st.composite
def conv_case(draw, border_mode):
    n, c, k = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    ph, pw = oracle_pad(border_mode, kh, kw)
    assume(h + 2 * ph >= kh and w + 2 * pw >= kw)
    x = draw(arrays((n, c, h, w), "float64", -2, 2))
    wt = draw(arrays((k, c, kh, kw), "float64", -2, 2))
    return x, wt, (ph, pw)


@pytest.mark.parametrize("flip", [True, False])
@pytest.mark.parametrize("border_mode", BORDER_MODES, ids=str)
@given(data=st.data())
def test_conv2d_matches_loops(border_mode, flip, data):
    x, w, pad = data.draw(conv_case(border_mode))
    stride = data.draw(st.sampled_from(STRIDES))
    want = oracle_conv(x, w, pad, stride, flip)
    # unknown static shapes (filters as from a shared variable)
    X, W = T.dtensor4(), T.dtensor4()
    out = T.nnet.conv2d(X, W, border_mode=border_mode, subsample=stride, filter_flip=flip)
    np.testing.assert_allclose(run([X, W], out, x, w), want, rtol=1e-10, atol=1e-10)
    # fully static shapes: the output shape is inferred when the graph is built
    Xs, Ws = T.tensor("float64", x.shape), T.tensor("float64", w.shape)
    out_static = T.nnet.conv2d(Xs, Ws, border_mode=border_mode, subsample=stride, filter_flip=flip)
    assert out_static.type.shape == want.shape


def test_conv2d_shared_filters_full_and_half():
    # shared variables have no static shape: 'full' and 'half' resolve the padding at run time
    rng = np.random.default_rng(0)
    w = rng.normal(size=(2, 3, 3, 2))
    W = sg.shared(w)
    X = T.dtensor4()
    x = rng.normal(size=(2, 3, 5, 4))
    for mode in ("full", "half", "valid"):
        out = T.nnet.conv2d(X, W, border_mode=mode)
        got = run([X], out, x)
        np.testing.assert_allclose(got, oracle_conv(x, w, oracle_pad(mode, 3, 2), (1, 1), True), rtol=1e-10)
        gx, gw = run([X], sg.grad((out ** 2).sum(), [X, W]), x)
        assert gx.shape == x.shape and gw.shape == w.shape


def test_conv2d_input_and_filter_shape_arguments():
    X, W = T.dtensor4(), T.dtensor4()
    out = T.nnet.conv2d(X, W, input_shape=(None, 1, 28, 28), filter_shape=(15, 1, 9, 9))
    assert out.type.shape == (None, 15, 20, 20)
    fn = sg.function([X, W], out, mode="python")
    with pytest.raises(ExecutionError, match="expected shape"):
        fn(np.zeros((1, 1, 27, 28)), np.zeros((15, 1, 9, 9)))
    assert T.nnet.conv2d(X, W, filter_shape=(4, 2, 3, 3), border_mode="half", subsample=2).type.shape[1] == 4


def test_conv2d_errors():
    with pytest.raises(GraphTypeError, match="channels") as info:
        T.nnet.conv2d(T.tensor("float64", (1, 3, 5, 5)), T.tensor("float64", (2, 2, 3, 3)))
    assert "test_conv_pool_ops.py" in str(info.value)
    with pytest.raises(GraphTypeError, match="larger"):
        T.nnet.conv2d(T.tensor("float64", (1, 1, 2, 5)), T.tensor("float64", (1, 1, 3, 3)))
    with pytest.raises(GraphTypeError, match="4-d"):
        T.nnet.conv2d(T.dmatrix(), T.dtensor4())
    with pytest.raises(GraphTypeError, match="float"):
        T.nnet.conv2d(T.ltensor4(), T.dtensor4())
    with pytest.raises(NotImplementedError, match="dilation"):
        T.nnet.conv2d(T.dtensor4(), T.dtensor4(), filter_dilation=(2, 2))
    with pytest.raises(ValueError, match="border_mode"):
        T.nnet.conv2d(T.dtensor4(), T.dtensor4(), border_mode="same")
    X, W = T.dtensor4(), T.dtensor4()
    fn = sg.function([X, W], T.nnet.conv2d(X, W), mode="python")
    with pytest.raises(ExecutionError, match="channel") as info:
        fn(np.zeros((1, 2, 4, 4)), np.zeros((1, 3, 2, 2)))
    assert "test_conv_pool_ops.py" in str(info.value)


def test_conv2d_dtypes():
    X, W = T.ftensor4(), T.ftensor4()
    out = T.nnet.conv2d(X, W)
    assert out.dtype == "float32"
    assert T.nnet.conv2d(X, T.dtensor4()).dtype == "float64"
    x = np.ones((1, 1, 3, 3), "float32")
    assert run([X, W], out, x, x[:, :, :2, :2]).dtype == np.float32
    assert sg.grad(out.sum(), W).dtype == "float32"


# ---------------------------------------------------------------- conv2d gradients


@pytest.mark.parametrize("flip", [True, False])
@pytest.mark.parametrize("border_mode", BORDER_MODES, ids=str)
@pytest.mark.parametrize("stride", [(1, 1), (2, 3)], ids=str)
def test_conv2d_grad(border_mode, flip, stride):
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(2, 2, 5, 4)), rng.normal(size=(3, 2, 3, 2))
    verify_grad(lambda a, b: T.nnet.conv2d(a, b, border_mode=border_mode, subsample=stride, filter_flip=flip), [x, w])


@pytest.mark.parametrize("border_mode", ["valid", "full", "half", (1, 2)], ids=str)
@pytest.mark.parametrize("flip", [True, False])
def test_conv2d_gradient_ops_grads(border_mode, flip):
    # second derivatives go through the pullbacks of the two gradient ops
    rng = np.random.default_rng(2)
    stride = (2, 1)
    x, w = rng.normal(size=(2, 2, 5, 4)), rng.normal(size=(3, 2, 3, 2))
    y_shape = oracle_conv(x, w, oracle_pad(border_mode, 3, 2), stride, flip).shape
    gy = rng.normal(size=y_shape)
    xshape, wshape = T.constant(np.array(x.shape)), T.constant(np.array(w.shape))
    grad_input = Conv2dGradInput(border_mode, stride, flip)
    grad_weights = Conv2dGradWeights(border_mode, stride, flip)
    verify_grad(lambda g, b: grad_input(g, b, xshape), [gy, w])
    verify_grad(lambda a, g: grad_weights(a, g, wshape), [x, gy])
    verify_grad(lambda a, b: sg.grad((T.nnet.conv2d(a, b, border_mode=border_mode, subsample=stride,
                                                      filter_flip=flip) ** 2).sum(), b), [x, w])


# ---------------------------------------------------------------- pool_2d forward


@st.composite
def pool_case(draw, ignore_border):
    lead = tuple(draw(st.lists(st.integers(1, 2), min_size=0, max_size=2)))
    h, w = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    ws = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = draw(st.sampled_from([None, (1, 1), (2, 1), (1, 3), (3, 2)]))
    pad = (0, 0)
    if ignore_border:
        pad = (draw(st.integers(0, ws[0] - 1)), draw(st.integers(0, ws[1] - 1)))
        assume(h + 2 * pad[0] >= ws[0] and w + 2 * pad[1] >= ws[1])
    x = draw(arrays(lead + (h, w), "float64", -3, 3))
    return x, ws, stride, pad


@pytest.mark.parametrize("ignore_border", [True, False])
@pytest.mark.parametrize("mode", POOL_MODES)
@given(data=st.data())
def test_pool_2d_matches_loops(mode, ignore_border, data):
    x, ws, stride, pad = data.draw(pool_case(ignore_border))
    want = oracle_pool(x, ws, ignore_border, stride, pad, mode)
    X = T.tensor("float64", (None,) * x.ndim)
    out = pool_2d(X, ws, ignore_border=ignore_border, stride=stride, pad=pad, mode=mode)
    np.testing.assert_allclose(run([X], out, x), want, rtol=1e-12, atol=1e-12)
    static = pool_2d(T.tensor("float64", x.shape), ws, ignore_border=ignore_border, stride=stride, pad=pad, mode=mode)
    assert static.type.shape == want.shape


def test_pool_2d_old_names_and_average_alias():
    X = T.dtensor4()
    x = np.random.default_rng(3).normal(size=(1, 2, 5, 6))
    a, b, c = run([X], [T.signal.pool.pool_2d(X, ds=(2, 3), st=(1, 2), ignore_border=True),
                        pool_2d(X, (2, 2), mode="average", padding=(1, 1)),
                        pool_2d(X, (2, 2))], x)
    np.testing.assert_allclose(a, oracle_pool(x, (2, 3), True, (1, 2), (0, 0), "max"), rtol=1e-12)
    np.testing.assert_allclose(b, oracle_pool(x, (2, 2), True, None, (1, 1), "average_inc_pad"), rtol=1e-12)
    # ignore_border defaults to True
    np.testing.assert_allclose(c, oracle_pool(x, (2, 2), True, None, (0, 0), "max"), rtol=1e-12)


def test_pool_2d_dtypes_and_errors():
    assert pool_2d(T.ftensor4(), (2, 2)).dtype == "float32"
    assert pool_2d(T.ltensor4(), (2, 2), mode="sum").dtype == "int64"
    assert pool_2d(T.ltensor4(), (2, 2), mode="average_exc_pad").dtype == "float64"
    li = T.lmatrix()
    v = np.arange(16).reshape(4, 4)
    np.testing.assert_array_equal(run([li], pool_2d(li, (2, 2)), v), [[5, 7], [13, 15]])
    np.testing.assert_allclose(run([li], pool_2d(li, (2, 2), mode="average_inc_pad"), v), [[2.5, 4.5], [10.5, 12.5]])
    with pytest.raises(ValueError, match="mode"):
        pool_2d(T.dmatrix(), (2, 2), mode="median")
    with pytest.raises(ValueError, match="ignore_border"):
        pool_2d(T.dmatrix(), (2, 2), ignore_border=False, pad=(1, 1))
    with pytest.raises(TypeError, match="ws"):
        pool_2d(T.dmatrix())
    with pytest.raises(GraphTypeError, match="rank"):
        pool_2d(T.dvector(), (2, 2))
    with pytest.raises(GraphTypeError, match="larger") as info:  # known when the graph is built
        pool_2d(T.tensor("float64", (None, 2)), (1, 3))
    assert "test_conv_pool_ops.py" in str(info.value)
    # each pooled dimension is checked against its own window length
    assert pool_2d(T.tensor("float64", (1, 4)), (1, 2)).type.shape == (1, 2)
    assert pool_2d(T.tensor("float64", (None, 4)), (3, 2), ignore_border=False).type.shape == (None, 2)
    X = T.dmatrix()
    fn = sg.function([X], pool_2d(X, (3, 3)), mode="python")
    with pytest.raises(ExecutionError, match="larger") as info:
        fn(np.zeros((2, 5)))
    assert "test_conv_pool_ops.py" in str(info.value)


# ---------------------------------------------------------------- pool_2d gradients


POOL_GRAD_CASES = [((2, 2), True, None, (0, 0)), ((2, 2), False, None, (0, 0)), ((3, 2), True, (1, 1), (1, 1)),
                   ((2, 3), False, (1, 2), (0, 0)), ((2, 2), True, (3, 1), (1, 0))]


@pytest.mark.parametrize("mode", POOL_MODES)
@pytest.mark.parametrize("ws,ignore_border,stride,pad", POOL_GRAD_CASES, ids=str)
def test_pool_2d_grad(mode, ws, ignore_border, stride, pad):
    rng = np.random.default_rng(4)
    shape = (2, 1, 5, 5)
    # distinct values spaced 0.1 apart: the max of each window is unique
    x = (rng.permutation(50).reshape(shape) - 25) * 0.1
    verify_grad(lambda a: pool_2d(a, ws, ignore_border=ignore_border, stride=stride, pad=pad, mode=mode), [x])


def test_pool_2d_max_grad_closed_form_and_no_second_derivative():
    X = T.dmatrix()
    x = np.array([[1.0, 3.0, 0.0, 2.0], [2.0, 0.5, 4.0, 1.0]])
    g = run([X], sg.grad(pool_2d(X, (2, 2)).sum(), X), x)
    np.testing.assert_array_equal(g, [[0, 1, 0, 0], [0, 0, 1, 0]])
    with pytest.raises(GradientError, match="second derivatives through pooling") as info:
        sg.grad(sg.grad(pool_2d(X, (2, 2)).sum(), X).sum(), X)
    assert "test_conv_pool_ops.py" in str(info.value)


def test_lenet_layer_composition_grad():
    # conv -> bias -> relu -> pool, the report's C1/S1 layer at a small size
    rng = np.random.default_rng(5)
    x, w, b = rng.normal(size=(2, 1, 8, 8)), rng.normal(size=(3, 1, 3, 3)), rng.normal(size=(3,))

    def layer(a, f, c):
        return pool_2d(T.nnet.relu(T.nnet.conv2d(a, f) + c.dimshuffle("x", 0, "x", "x")), (2, 2), ignore_border=True)
    X, W, B = T.dtensor4(), T.dtensor4(), T.dvector()
    want = oracle_pool(np.maximum(oracle_conv(x, w, (0, 0), (1, 1), True) + b[None, :, None, None], 0),
                       (2, 2), True, None, (0, 0), "max")
    np.testing.assert_allclose(run([X, W, B], layer(X, W, B), x, w, b), want, rtol=1e-10)
    verify_grad(layer, [x, w, b])
