"""dot (every rank combination) and outer; the nnet vocabulary (softmax,
log_softmax, relu, sigmoid, softplus, cross-entropies, logsumexp,
one_hot): values against NumPy closed forms, gradients against finite
differences."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import symgraph as sg
from symgraph import tensor as T
from symgraph.errors import ExecutionError, GraphTypeError
from symgraph.testing import arrays, verify_grad


def run(inputs, outputs, *values):
    return sg.function(inputs, outputs, mode="python")(*values)


def any_tensor(ndim, dtype="float64"):
    return T.tensor(dtype, (None,) * ndim)


# ---------------------------------------------------------------- dot


@st.composite
def dot_operands(draw, ranks):
    ra, rb = ranks
    k = draw(st.integers(1, 4))
    lead = [draw(st.integers(1, 3)) for _ in range(ra - 1)]
    tail = [draw(st.integers(1, 3)) for _ in range(rb - 1)]
    a = draw(arrays(tuple(lead + [k]) if ra else ()))
    b = draw(arrays(tuple([k] + tail) if rb else ()))
    return a, b


RANKS = [(1, 1), (1, 2), (2, 1), (2, 2), (3, 2), (3, 1), (4, 2), (0, 2), (2, 0)]


@pytest.mark.parametrize("ranks", RANKS, ids=str)
@given(data=st.data())
def test_dot_matches_numpy(ranks, data):
    a, b = data.draw(dot_operands(ranks))
    xa, xb = any_tensor(a.ndim), any_tensor(b.ndim)
    out = T.dot(xa, xb)
    want = np.dot(a, b)
    assert out.ndim == want.ndim
    np.testing.assert_allclose(run([xa, xb], out, a, b), want, rtol=1e-12, atol=1e-12)
    if a.ndim and b.ndim:
        np.testing.assert_allclose(run([xa, xb], xa @ xb, a, b), want, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(run([xa, xb], xa.dot(xb), a, b), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("ranks", RANKS, ids=str)
def test_dot_grad(ranks):
    rng = np.random.default_rng(sum(ranks) * 10 + ranks[0])
    ra, rb = ranks
    a = rng.normal(size=(2, 3, 2, 4)[4 - ra:] if ra else ())
    b = rng.normal(size=(4, 3)[: rb] if rb else ())
    if ra == 0:
        b = rng.normal(size=(3, 2))
    verify_grad(T.dot, [a, b])


def test_dot_static_shapes_and_dtypes():
    a, b = T.tensor("float32", (2, 3)), T.tensor("float64", (3, None))
    out = T.dot(a, b)
    assert out.type.shape == (2, None) and out.dtype == "float64"
    assert T.dot(T.tensor("float32", (3,)), T.tensor("float32", (3, 5))).type == T.TensorType("float32", (5,))
    assert T.dot(T.lmatrix(), T.lvector()).dtype == "int64"
    assert T.dot(T.tensor("float64", (2, 5, 3)), T.tensor("float64", (3, 4))).type.shape == (2, 5, 4)
    i, j = T.lmatrix(), T.lmatrix()
    v = np.arange(6).reshape(2, 3)
    np.testing.assert_array_equal(run([i, j], T.dot(i, j), v, v.T), v @ v.T)
    # float32 gradients stay float32
    w = T.fmatrix()
    assert sg.grad(T.dot(T.fvector(), w).sum(), w).dtype == "float32"


def test_dot_errors():
    with pytest.raises(GraphTypeError, match="inner dimensions") as info:
        T.dot(T.tensor("float64", (2, 3)), T.tensor("float64", (4, 2)))
    assert "test_blas_nnet.py" in str(info.value)
    with pytest.raises(TypeError, match="not supported"):
        T.dot(T.dtensor3(), T.dtensor3())
    a, b = T.dmatrix(), T.dmatrix()
    fn = sg.function([a, b], T.dot(a, b), mode="python")
    with pytest.raises(ExecutionError, match="not aligned"):
        fn(np.ones((2, 3)), np.ones((2, 3)))


def test_outer():
    x, y = T.dvector(), T.dvector()
    a, b = np.array([1.0, 2.0, 3.0]), np.array([4.0, -5.0])
    np.testing.assert_array_equal(run([x, y], T.outer(x, y), a, b), np.outer(a, b))
    verify_grad(T.outer, [a, b])


# ---------------------------------------------------------------- softmax family


def softmax_np(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("axis", [-1, 0, 1])
@given(x=arrays((3, 4), "float64", -5, 5))
def test_softmax_and_log_softmax(axis, x):
    xs = T.dmatrix()
    sm, lsm = run([xs], [T.nnet.softmax(xs, axis=axis), T.nnet.log_softmax(xs, axis=axis)], x)
    e = np.exp(x)
    want = e / e.sum(axis=axis, keepdims=True)  # the textbook formula is fine in this range
    np.testing.assert_allclose(sm, want, rtol=1e-12)
    np.testing.assert_allclose(lsm, np.log(want), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("axis", [-1, 0])
def test_softmax_grads(axis):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 5))
    verify_grad(lambda a: T.nnet.softmax(a, axis=axis), [x])
    verify_grad(lambda a: T.nnet.log_softmax(a, axis=axis), [x])
    verify_grad(lambda a: T.nnet.softmax(a), [rng.normal(size=(4,))])
    verify_grad(lambda a: T.nnet.softmax(a, axis=1), [rng.normal(size=(2, 3, 2))])


def test_softmax_is_stable_and_keeps_float32():
    x = T.fmatrix()
    v = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1000.0, -2000.0]], dtype="float32")
    sm, lsm = run([x], [T.nnet.softmax(x), T.nnet.log_softmax(x)], v)
    assert sm.dtype == lsm.dtype == np.float32
    np.testing.assert_allclose(sm, softmax_np(v.astype("float64")), rtol=1e-6)
    w = v.astype("float64")
    shifted = w - w.max(axis=1, keepdims=True)
    np.testing.assert_allclose(lsm, shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True)), rtol=1e-6)
    assert np.all(np.isfinite(lsm[0]))


def test_softmax_rejects_ints_and_scalars():
    with pytest.raises(GraphTypeError, match="float"):
        T.nnet.softmax(T.lmatrix())
    with pytest.raises(GraphTypeError, match="scalar"):
        T.nnet.softmax(T.dscalar())


@pytest.mark.parametrize("axis,keepdims", [(None, False), (0, False), (-1, True), ((0, 2), False), ((1, 2), True)])
def test_logsumexp(axis, keepdims):
    rng = np.random.default_rng(2)
    v = rng.normal(size=(2, 3, 4)) * 3
    x = T.dtensor3()
    out = T.nnet.logsumexp(x, axis=axis, keepdims=keepdims)
    want = np.log(np.exp(v).sum(axis=axis, keepdims=keepdims))
    np.testing.assert_allclose(run([x], out, v), want, rtol=1e-12)
    verify_grad(lambda a: T.nnet.logsumexp(a, axis=axis, keepdims=keepdims), [v])
    # stable: shifting by a large constant shifts the result
    np.testing.assert_allclose(run([x], out, v + 800.0), want + 800.0, rtol=1e-12)


def test_logsumexp_grad_is_softmax():
    x = T.dvector()
    v = np.array([1.0, 2.0, 3.0, 1000.0])
    np.testing.assert_allclose(run([x], sg.grad(T.nnet.logsumexp(x), x), v), softmax_np(v), rtol=1e-12)


# ---------------------------------------------------------------- activations


@given(x=arrays((5,), "float64", -4, 4), alpha=st.sampled_from([0, 0.1, 0.5]))
def test_relu(x, alpha):
    xs = T.dvector()
    np.testing.assert_array_equal(run([xs], T.nnet.relu(xs, alpha), x), np.where(x > 0, x, alpha * x))


@pytest.mark.parametrize("alpha", [0, 0.2])
def test_relu_grad(alpha):
    rng = np.random.default_rng(3)
    x = rng.uniform(-2, 2, size=(3, 4))
    x = np.where(np.abs(x) < 0.1, 0.5, x)  # away from the kink at 0
    verify_grad(lambda a: T.nnet.relu(a, alpha), [x])
    xs = T.dvector()
    g = run([xs], sg.grad(T.nnet.relu(xs, alpha).sum(), xs), np.array([-1.0, 2.0]))
    np.testing.assert_array_equal(g, [alpha, 1.0])


def test_relu_keeps_dtype():
    assert T.nnet.relu(T.fmatrix()).dtype == "float32"
    assert T.nnet.relu(T.fmatrix(), 0.01).dtype == "float32"
    np.testing.assert_array_equal(run([v := T.lvector()], T.nnet.relu(v), np.array([-2, 3])), [0, 3])


def test_sigmoid_softplus_values_and_extremes():
    x = T.dvector()
    v = np.array([-800.0, -30.0, -1.0, 0.0, 2.5, 30.0, 800.0])
    sig, sp, sig2 = run([x], [T.nnet.sigmoid(x), T.nnet.softplus(x), T.sigmoid(x)], v)
    with np.errstate(over="ignore"):
        np.testing.assert_allclose(sig, 1 / (1 + np.exp(-v)), rtol=1e-14)
    np.testing.assert_array_equal(sig, sig2)
    np.testing.assert_allclose(sp, np.logaddexp(0, v), rtol=1e-14)
    assert np.all(np.isfinite(sp)) and sp[-1] == 800.0
    f = T.fvector()
    assert T.nnet.sigmoid(f).dtype == T.nnet.softplus(f).dtype == "float32"
    np.testing.assert_array_equal(run([x], T.nnet.ultra_fast_sigmoid(x), v), sig)


def test_sigmoid_softplus_grads():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 4)) * 3
    verify_grad(T.nnet.sigmoid, [x])
    verify_grad(T.nnet.softplus, [x])
    xs = T.dvector()
    v = np.array([-3.0, 0.0, 2.0])
    s = 1 / (1 + np.exp(-v))
    np.testing.assert_allclose(run([xs], sg.grad(T.nnet.sigmoid(xs).sum(), xs), v), s * (1 - s), rtol=1e-12)
    np.testing.assert_allclose(run([xs], sg.grad(T.nnet.softplus(xs).sum(), xs), v), s, rtol=1e-12)


# ---------------------------------------------------------------- cross-entropies, one_hot


def test_one_hot():
    y = T.lvector()
    labels = np.array([2, 0, 3, 2])
    out = T.nnet.one_hot(y, 4)
    assert out.dtype == sg.config.floatX
    np.testing.assert_array_equal(run([y], out, labels), np.eye(4)[labels])
    n = T.lscalar()
    got = run([y, n], T.nnet.one_hot(y, n, dtype="int8"), labels, 5)
    assert got.dtype == np.int8
    np.testing.assert_array_equal(got, np.eye(5)[labels])


def test_categorical_crossentropy_one_hot_and_labels():
    rng = np.random.default_rng(5)
    logits = rng.normal(size=(4, 3))
    p = softmax_np(logits)
    labels = np.array([2, 0, 1, 2])
    onehot = np.eye(3)[labels]
    want = -np.log(p[np.arange(4), labels])
    P, Y, L = T.dmatrix(), T.dmatrix(), T.lvector()
    ce_m, ce_l = run([P, Y, L], [T.nnet.categorical_crossentropy(P, Y), T.nnet.categorical_crossentropy(P, L)],
                     p, onehot, labels)
    np.testing.assert_allclose(ce_m, want, rtol=1e-12)
    np.testing.assert_allclose(ce_l, want, rtol=1e-12)
    # soft targets: -sum(t log p)
    t = softmax_np(rng.normal(size=(4, 3)))
    np.testing.assert_allclose(run([P, Y], T.nnet.categorical_crossentropy(P, Y), p, t),
                               -(t * np.log(p)).sum(axis=1), rtol=1e-12)
    with pytest.raises(TypeError, match="true_dist"):
        T.nnet.categorical_crossentropy(P, T.dvector())


def test_categorical_crossentropy_grads():
    rng = np.random.default_rng(6)
    logits = rng.normal(size=(4, 3))
    onehot = np.eye(3)[[2, 0, 1, 2]]
    labels = T.constant(np.array([2, 0, 1, 2]))
    verify_grad(lambda z, t: T.nnet.categorical_crossentropy(T.nnet.softmax(z), t), [logits, onehot])
    verify_grad(lambda z: T.nnet.categorical_crossentropy(T.nnet.softmax(z), labels), [logits])
    # closed form: d mean CE / d logits = (softmax - onehot) / n
    Z = T.dmatrix()
    cost = T.nnet.categorical_crossentropy(T.nnet.softmax(Z), labels).mean()
    np.testing.assert_allclose(run([Z], sg.grad(cost, Z), logits), (softmax_np(logits) - onehot) / 4, rtol=1e-10)


def test_binary_crossentropy():
    rng = np.random.default_rng(7)
    p = rng.uniform(0.05, 0.95, size=(3, 4))
    t = rng.uniform(0, 1, size=(3, 4))
    P, Tt = T.dmatrix(), T.dmatrix()
    want = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    np.testing.assert_allclose(run([P, Tt], T.nnet.binary_crossentropy(P, Tt), p, t), want, rtol=1e-12)
    verify_grad(T.nnet.binary_crossentropy, [p, t])
    # from logits: the same values, stable for large logits
    z = rng.normal(size=(3, 4)) * 2
    Z = T.dmatrix()
    s = 1 / (1 + np.exp(-z))
    got = run([Z, Tt], T.nnet.sigmoid_binary_crossentropy(Z, Tt), z, t)
    np.testing.assert_allclose(got, -(t * np.log(s) + (1 - t) * np.log(1 - s)), rtol=1e-10)
    verify_grad(T.nnet.sigmoid_binary_crossentropy, [z, t])
    big = run([Z, Tt], T.nnet.sigmoid_binary_crossentropy(Z, Tt), np.full((1, 2), 500.0), np.zeros((1, 2)))
    np.testing.assert_allclose(big, 500.0)
    # float32 stays float32 (Python numbers are weak)
    assert T.nnet.binary_crossentropy(T.fmatrix(), T.fmatrix()).dtype == "float32"
