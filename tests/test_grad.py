"""symgraph.grad (T.grad) and friends: sums over broadcast dimensions and
over several paths, integer inputs, consider_constant, known_grads,
disconnected inputs, disconnected_grad / zero_grad, jacobian and hessian
against closed forms, higher derivatives, errors and dtypes; and the
gradients of the course report's two models (the full CNN of Part A and
the sparse denoising autoencoder of Part B Q3) against finite differences."""
import warnings

import numpy as np
import pytest

import symgraph as sg
from symgraph import tensor as T
from symgraph.errors import DisconnectedInputError, GradientError
from symgraph.tensor.signal import pool
from symgraph.testing import verify_grad


def run(inputs, outputs, *values):
    return sg.function(inputs, outputs, mode="python", on_unused_input="ignore")(*values)


# ---------------------------------------------------------------- sums


def test_gradient_summed_over_broadcast_dims():
    b, M = T.drow("b"), T.dmatrix("M")
    s = T.dscalar("s")
    v = T.dvector("v")
    m = np.arange(6.0).reshape(2, 3)
    cost = ((M + b) * M).sum() + (s * M).sum() + (v * M).sum()
    gb, gs, gv = run([M, b, s, v], sg.grad(cost, [b, s, v]), m, np.zeros((1, 3)), 0.0, np.zeros(3))
    np.testing.assert_allclose(gb, m.sum(axis=0, keepdims=True))
    assert gb.shape == (1, 3)
    np.testing.assert_allclose(gs, m.sum())
    np.testing.assert_allclose(gv, m.sum(axis=0))


def test_gradient_summed_over_paths():
    x = T.dvector("x")
    y = x * 3
    cost = (x * x).sum() + T.sin(x).sum() + (y * x).sum() + y.sum()
    v = np.array([0.5, -1.0, 2.0])
    # d/dx: 2x + cos x + 6x + 3
    np.testing.assert_allclose(run([x], sg.grad(cost, x), v), 2 * v + np.cos(v) + 6 * v + 3, rtol=1e-12)
    # the same variable twice in one node
    np.testing.assert_allclose(run([x], sg.grad(T.mul(x, x, x).sum(), x), v), 3 * v ** 2, rtol=1e-12)


def test_grad_with_respect_to_intermediate_and_shared():
    x = T.dvector()
    w = sg.shared(np.array([1.0, 2.0, 3.0]), name="w")
    y = x * w
    cost = (y ** 2).sum()
    gy, gw = sg.grad(cost, [y, w])
    v = np.array([1.0, -1.0, 0.5])
    got_y, got_w = run([x], [gy, gw], v)
    np.testing.assert_allclose(got_y, 2 * v * w.get_value())
    np.testing.assert_allclose(got_w, 2 * v * w.get_value() * v)


# ---------------------------------------------------------------- dtypes, integers, static shapes


def test_gradient_dtype_equals_wrt_dtype():
    x32, y64 = T.fvector("x32"), T.dvector("y64")
    cost = (T.cast(x32, "float64") * y64).sum() + (x32 * 0.5).sum()
    g32, g64 = sg.grad(cost, [x32, y64])
    assert g32.dtype == "float32" and g64.dtype == "float64"
    a, b = np.array([1.0, 2.0], "float32"), np.array([3.0, 4.0])
    r32, r64 = run([x32, y64], [g32, g64], a, b)
    assert r32.dtype == np.float32
    np.testing.assert_allclose(r32, b + 0.5)
    np.testing.assert_allclose(r64, a)
    # a float32 model keeps float32 gradients through float64-free ops
    W = T.fmatrix()
    assert sg.grad(T.nnet.softmax(T.dot(T.fmatrix(), W)).sum(), W).dtype == "float32"


def test_integer_inputs_get_zeros():
    x, i = T.dvector("x"), T.lvector("i")
    cost = (x * i).sum() + i.sum()
    gx, gi = sg.grad(cost, [x, i])
    rx, ri = run([x, i], [gx, gi], np.array([1.0, 2.0]), np.array([3, 4]))
    np.testing.assert_array_equal(rx, [3.0, 4.0])
    np.testing.assert_array_equal(ri, [0, 0])
    assert ri.shape == (2,)


def test_gradient_keeps_static_shape_of_wrt():
    x = T.tensor("float64", (3,))
    A = T.dmatrix()
    g = sg.grad(T.dot(A, x).sum(), x)
    assert g.type.shape == (3,)
    np.testing.assert_allclose(run([x, A], g, np.ones(3), np.arange(6.0).reshape(2, 3)), [3.0, 5.0, 7.0])


# ---------------------------------------------------------------- consider_constant, known_grads


def test_consider_constant():
    x = T.dvector()
    y = x * 2
    cost = (y * x).sum()
    v = np.array([1.0, -2.0])
    np.testing.assert_allclose(run([x], sg.grad(cost, x), v), 4 * v)
    np.testing.assert_allclose(run([x], sg.grad(cost, x, consider_constant=[y]), v), 2 * v)
    # only the path through y is blocked: x still reaches the cost directly
    np.testing.assert_allclose(run([x], sg.grad(cost + x.sum(), x, consider_constant=[y]), v), 2 * v + 1)
    # a wrt reached only through constants is disconnected
    with pytest.raises(DisconnectedInputError):
        sg.grad(y.sum(), x, consider_constant=[y])


def test_known_grads():
    x = T.dvector()
    y = x * 3
    g = T.dvector()
    v, gv = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    # without a cost: backpropagate the given gradient of y
    np.testing.assert_allclose(run([x, g], sg.grad(None, x, known_grads={y: g}), v, gv), 3 * gv)
    # with a cost: the contributions add up
    cost = (x ** 2).sum()
    np.testing.assert_allclose(run([x, g], sg.grad(cost, x, known_grads={y: g}), v, gv), 2 * v + 3 * gv)
    # a known gradient of the wrt itself is returned as is
    np.testing.assert_allclose(run([x, g], sg.grad(None, x, known_grads={x: g}), v, gv), gv)
    with pytest.raises(ValueError, match="known_grads"):
        sg.grad(None, x)
    with pytest.raises(GradientError, match="rank"):
        sg.grad(None, x, known_grads={y: T.dmatrix()})


# ---------------------------------------------------------------- disconnected inputs


def test_disconnected_inputs_raise_warn_ignore():
    x, unused = T.dvector("x"), T.dmatrix("unused_weights")
    cost = (x ** 2).sum()
    with pytest.raises(DisconnectedInputError, match="unused_weights") as info:
        sg.grad(cost, [x, unused])
    assert "test_grad.py" in str(info.value)  # where the variable was made
    with pytest.warns(UserWarning, match="unused_weights"):
        gx, gu = sg.grad(cost, [x, unused], disconnected_inputs="warn")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gx, gu = sg.grad(cost, [x, unused], disconnected_inputs="ignore")
    rx, ru = run([x, unused], [gx, gu], np.array([1.0, 2.0]), np.ones((2, 2)))
    np.testing.assert_array_equal(rx, [2.0, 4.0])
    np.testing.assert_array_equal(ru, np.zeros((2, 2)))
    gx, gu = sg.grad(cost, [x, unused], disconnected_inputs="ignore", return_disconnected="None")
    assert gu is None
    np.testing.assert_array_equal(run([x], gx, np.array([3.0])), [6.0])
    with pytest.raises(ValueError, match="disconnected_inputs"):
        sg.grad(cost, x, disconnected_inputs="silent")


def test_disconnected_grad_and_zero_grad():
    x = T.dvector("x")
    v = np.array([1.0, -3.0])
    # disconnected_grad: value unchanged, no gradient through it
    y = T.disconnected_grad(x ** 2)
    np.testing.assert_array_equal(run([x], y, v), v ** 2)
    np.testing.assert_allclose(run([x], sg.grad((y * x).sum(), x), v), v ** 2)
    with pytest.raises(DisconnectedInputError):
        sg.grad(T.disconnected_grad(x).sum(), x)
    # zero_grad: still connected, but the gradient through it is zero
    z = T.zero_grad(x ** 2)
    np.testing.assert_array_equal(run([x], z, v), v ** 2)
    np.testing.assert_array_equal(run([x], sg.grad(z.sum(), x), v), [0.0, 0.0])
    np.testing.assert_allclose(run([x], sg.grad((z * x).sum(), x), v), v ** 2)


# ---------------------------------------------------------------- errors


def test_non_scalar_cost_raises_naming_the_line():
    x = T.dmatrix()
    y = x * 2
    with pytest.raises(GradientError, match="scalar") as info:
        sg.grad(y, x)
    assert "test_grad.py" in str(info.value) and "y = x * 2" in str(info.value)
    with pytest.raises(GradientError, match="float"):
        sg.grad(T.lvector().sum(), T.lvector())
    with pytest.raises(TypeError, match="symbolic"):
        sg.grad(x.sum(), np.ones(3))


# ---------------------------------------------------------------- higher derivatives


def test_second_and_third_derivative_of_tanh():
    x = T.dscalar()
    t = np.tanh(0.3)
    d1 = sg.grad(T.tanh(x), x)
    d2 = sg.grad(d1, x)
    d3 = sg.grad(d2, x)
    r1, r2, r3 = run([x], [d1, d2, d3], 0.3)
    np.testing.assert_allclose(r1, 1 - t ** 2, rtol=1e-12)
    np.testing.assert_allclose(r2, -2 * t * (1 - t ** 2), rtol=1e-12)
    np.testing.assert_allclose(r3, -2 * (1 - t ** 2) ** 2 + 4 * t ** 2 * (1 - t ** 2), rtol=1e-12)
    # gradients of gradients pass the finite-difference check too
    verify_grad(lambda a: sg.grad(T.tanh(a).sum(), a), [np.array([0.3, -1.2, 2.0])])


def test_jacobian():
    x = T.specify_shape(T.dvector("x"), (3,))
    A = T.dmatrix("A")
    v, a = np.array([0.5, -1.0, 2.0]), np.arange(6.0).reshape(2, 3)
    J = sg.jacobian(x ** 2, x)
    np.testing.assert_allclose(run([x.owner.inputs[0]], J, v), np.diag(2 * v))
    y = T.specify_shape(T.dot(A, x), (2,))
    Jx, JA = sg.jacobian(y, [x, A])
    rx, rA = run([x.owner.inputs[0], A], [Jx, JA], v, a)
    np.testing.assert_allclose(rx, a)
    want_A = np.zeros((2, 2, 3))  # d y_i / d A_jk = [i == j] x_k
    for i in range(2):
        want_A[i, i] = v
    np.testing.assert_allclose(rA, want_A)
    with pytest.raises(GradientError, match="static length"):
        sg.jacobian(T.dvector() * 2, x)


def test_hessian_of_quadratic_form():
    xv = T.dvector("x")
    x = T.specify_shape(xv, (4,))
    A = T.dmatrix("A")
    H = sg.hessian(x.dot(A).dot(x), x)
    a = np.random.default_rng(0).normal(size=(4, 4))
    np.testing.assert_allclose(run([xv, A], H, np.ones(4), a), a + a.T, rtol=1e-12)
    # a list of wrt, and a non-quadratic closed form: H of sum(exp(x)) * y^2 in (x, y)
    y = T.specify_shape(T.dvector("y"), (2,))
    cost = T.exp(x).sum() * (y ** 2).sum()
    Hx, Hy = sg.hessian(cost, [x, y])
    xs, ys = np.array([0.1, -0.2, 0.3, 0.0]), np.array([1.5, -0.5])
    rx, ry = run([xv, y.owner.inputs[0]], [Hx, Hy], xs, ys)
    np.testing.assert_allclose(rx, np.diag(np.exp(xs)) * (ys ** 2).sum(), rtol=1e-12)
    np.testing.assert_allclose(ry, 2 * np.eye(2) * np.exp(xs).sum(), rtol=1e-12)


# ---------------------------------------------------------------- the report's models


def cnn_model(X, w1, b1, w2, b2, w3, b3, w4, b4):
    """The report's Part A model(): C1 15@9x9, S1 2x2, C2 20@5x5, S2 2x2,
    F3 100 relu, F4 softmax 10."""
    pool_dim = (2, 2)
    y1 = T.nnet.relu(T.nnet.conv2d(X, w1) + b1.dimshuffle("x", 0, "x", "x"))
    o1 = pool.pool_2d(y1, pool_dim, ignore_border=True)
    y2 = T.nnet.relu(T.nnet.conv2d(o1, w2) + b2.dimshuffle("x", 0, "x", "x"))
    o2 = pool.pool_2d(y2, pool_dim, ignore_border=True)
    fcinput = T.flatten(o2, outdim=2)
    fcoutput = T.nnet.relu(T.dot(fcinput, w3) + b3)
    pyx = T.nnet.softmax(T.dot(fcoutput, w4) + b4)
    return y1, o1, y2, o2, pyx


def glorot(rng, shape, fan_in, fan_out):
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=shape)


def test_full_cnn_cost_gradient():
    rng = np.random.default_rng(2024)
    x = rng.uniform(0, 1, size=(2, 1, 28, 28))
    y = np.eye(10)[[3, 7]]
    shapes = [(15, 1, 9, 9), (20, 15, 5, 5)]
    w1 = glorot(rng, shapes[0], 81, 15 * 81)
    w2 = glorot(rng, shapes[1], 15 * 25, 20 * 25)
    w3 = glorot(rng, (20 * 3 * 3, 100), 180, 100)
    w4 = glorot(rng, (100, 10), 100, 10)
    # small nonzero biases so that the bias gradients are exercised away from symmetry
    params = [w1, rng.normal(0, 0.1, 15), w2, rng.normal(0, 0.1, 20), w3, rng.normal(0, 0.1, 100),
              w4, rng.normal(0, 0.1, 10)]
    X, Y = T.constant(x), T.constant(y)

    def cost(*p):
        pyx = cnn_model(X, *p)[-1]
        return T.mean(T.nnet.categorical_crossentropy(pyx, Y))
    grads = verify_grad(cost, params, n_tests=3)
    assert [g.shape for g in grads] == [p.shape for p in params]
    assert all(np.abs(g).max() > 0 for g in grads)  # every layer receives a gradient
    # the forward pass has the report's layer shapes
    P = [T.tensor("float64", (None,) * p.ndim) for p in params]
    outs = run(P, list(cnn_model(X, *P)), *params)
    assert [o.shape for o in outs] == [(2, 15, 20, 20), (2, 15, 10, 10), (2, 20, 6, 6), (2, 20, 3, 3), (2, 10)]
    np.testing.assert_allclose(outs[-1].sum(axis=1), 1.0, rtol=1e-12)


def sparse_dae_cost(x, mask, W, b, b_prime, beta=0.5, rho=0.05):
    """Part B Q3's first-layer cost: cross-entropy reconstruction of x from
    the corrupted input, tied weights W.T, plus the sparsity penalty."""
    tilde_x = mask * x
    y1 = T.nnet.sigmoid(T.dot(tilde_x, W) + b)
    z1 = T.nnet.sigmoid(T.dot(y1, W.T) + b_prime)
    return (- T.mean(T.sum(x * T.log(z1) + (1 - x) * T.log(1 - z1), axis=1))
            + beta * T.shape(y1)[1] * (rho * T.log(rho) + (1 - rho) * T.log(1 - rho))
            - beta * rho * T.sum(T.log(T.mean(y1, axis=0) + 1e-6))
            - beta * (1 - rho) * T.sum(T.log(1 - T.mean(y1, axis=0) + 1e-6)))


def sparse_dae_cost_np(x, mask, W, b, b_prime, beta=0.5, rho=0.05):
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    y1 = sig((mask * x) @ W + b)
    z1 = sig(y1 @ W.T + b_prime)
    m = y1.mean(axis=0)
    return (-np.mean(np.sum(x * np.log(z1) + (1 - x) * np.log(1 - z1), axis=1))
            + beta * y1.shape[1] * (rho * np.log(rho) + (1 - rho) * np.log(1 - rho))
            - beta * rho * np.sum(np.log(m + 1e-6)) - beta * (1 - rho) * np.sum(np.log(1 - m + 1e-6)))


def test_sparse_denoising_autoencoder_cost_gradient():
    rng = np.random.default_rng(7)
    n_in, n_hidden = 20, 12
    x = rng.uniform(0, 1, size=(5, n_in))
    mask = (rng.uniform(size=(5, n_in)) > 0.1).astype("float64")  # a fixed corruption draw
    W = glorot(rng, (n_in, n_hidden), n_in, n_hidden)
    b, b_prime = rng.normal(0, 0.1, n_hidden), rng.normal(0, 0.1, n_in)
    Xc, Mc = T.constant(x), T.constant(mask)
    grads = verify_grad(lambda w, c, c2: sparse_dae_cost(Xc, Mc, w, c, c2), [W, b, b_prime], n_tests=3)
    assert all(np.abs(g).max() > 0 for g in grads)
    # the value matches the formula evaluated with NumPy
    Ws, bs, bps = T.dmatrix(), T.dvector(), T.dvector()
    value = run([Ws, bs, bps], sparse_dae_cost(Xc, Mc, Ws, bs, bps), W, b, b_prime)
    np.testing.assert_allclose(value, sparse_dae_cost_np(x, mask, W, b, b_prime), rtol=1e-6)
    # with x and the mask as symbolic inputs the gradients are the same
    Xs, Ms = T.dmatrix(), T.dmatrix()
    g = sg.grad(sparse_dae_cost(Xs, Ms, Ws, bs, bps), [Ws, bs, bps])
    got = run([Xs, Ms, Ws, bs, bps], g, x, mask, W, b, b_prime)
    want = run([Ws, bs, bps], sg.grad(sparse_dae_cost(Xc, Mc, Ws, bs, bps), [Ws, bs, bps]), W, b, b_prime)
    for a, e in zip(got, want):
        np.testing.assert_allclose(a, e, rtol=1e-12)
