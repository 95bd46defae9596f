"""Stability: with inputs of magnitude 1e3, softmax/cross-entropy and
sigmoid/log graphs, with gradients built by T.grad before function(), give
finite values and gradients after optimization (checked against closed
forms computed stably in float64), where the naive formula overflows."""
import numpy as np
import pytest
from scipy.special import expit, log_expit, log_softmax, softmax

import symgraph as sg
from symgraph import tensor as T

# a rule that fails is skipped with a RewriteWarning: here it is an error
pytestmark = pytest.mark.filterwarnings("error::symgraph.rewrite.engine.RewriteWarning")

N, K = 6, 5
RNG = np.random.default_rng(0)
X = RNG.standard_normal((N, K)) * 1e3
LABELS = RNG.integers(0, K, N)
ONE_HOT = np.eye(K)[LABELS]
TARGETS = (RNG.random((N, K)) > 0.5).astype("float64")
TOL = {"float64": 1e-9, "float32": 1e-4}


def _softplus(x):
    return np.logaddexp(0, x)


# name: (cost(x, y), target values, closed-form cost, closed-form gradient, naive formula overflows)
CASES = {
    "softmax_xent_by_hand": (lambda x, y: -T.mean(T.sum(y * T.log(T.nnet.softmax(x)), axis=1)), ONE_HOT,
                             lambda x, y: -np.mean(np.sum(y * log_softmax(x, axis=1), axis=1)),
                             lambda x, y: (softmax(x, axis=1) - y) / N, True),
    "categorical_crossentropy": (lambda x, y: T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(x), y)),
                                 ONE_HOT, lambda x, y: -np.mean(np.sum(y * log_softmax(x, axis=1), axis=1)),
                                 lambda x, y: (softmax(x, axis=1) - y) / N, False),
    "log_softmax_weighted": (lambda x, y: T.sum(T.log(T.nnet.softmax(x)) * y), TARGETS,
                             lambda x, y: np.sum(log_softmax(x, axis=1) * y),
                             lambda x, y: y - softmax(x, axis=1) * y.sum(axis=1, keepdims=True), True),
    "log_sigmoid": (lambda x, y: T.sum(T.log(T.nnet.sigmoid(x)) * y), TARGETS,
                    lambda x, y: np.sum(log_expit(x) * y), lambda x, y: y * (1 - expit(x)), True),
    "log_one_minus_sigmoid": (lambda x, y: T.sum(T.log(1 - T.nnet.sigmoid(x)) * y), TARGETS,
                              lambda x, y: np.sum(log_expit(-x) * y), lambda x, y: -y * expit(x), True),
    "report_dA_cost": (lambda x, y: -T.mean(T.sum(y * T.log(T.nnet.sigmoid(x))
                                                  + (1 - y) * T.log(1 - T.nnet.sigmoid(x)), axis=1)), TARGETS,
                       lambda x, y: np.mean(np.sum(_softplus(x) - y * x, axis=1)),
                       lambda x, y: (expit(x) - y) / N, True),
    "binary_crossentropy": (lambda x, y: T.mean(T.nnet.binary_crossentropy(T.nnet.sigmoid(x), y)), TARGETS,
                            lambda x, y: np.mean(_softplus(x) - y * x), lambda x, y: (expit(x) - y) / (N * K),
                            False),
    "log1p_exp": (lambda x, y: T.sum(T.log(1 + T.exp(x)) * y), TARGETS, lambda x, y: np.sum(_softplus(x) * y),
                  lambda x, y: y * expit(x), True),
}


def _compile(name, dtype, mode):
    build = CASES[name][0]
    x, y = T.matrix("x", dtype=dtype), T.matrix("y", dtype=dtype)
    cost = build(x, y)
    return sg.function([x, y], [cost, sg.grad(cost, x)], mode=mode)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_stable_after_optimization(name, dtype):
    _, y, cost_of, grad_of, naive_overflows = CASES[name]
    args = [X.astype(dtype), y.astype(dtype)]
    cost, grad = _compile(name, dtype, "python")(*args)
    assert np.isfinite(cost) and np.all(np.isfinite(grad))
    want_cost, want_grad = cost_of(X, y), grad_of(X, y)
    np.testing.assert_allclose(cost, want_cost, rtol=TOL[dtype])
    np.testing.assert_allclose(grad, want_grad, rtol=TOL[dtype], atol=TOL[dtype] * np.abs(want_grad).max())
    naive_cost, naive_grad = _compile(name, dtype, "python_unopt")(*args)
    assert naive_overflows == (not (np.isfinite(naive_cost) and np.all(np.isfinite(naive_grad))))


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_values_as_the_naive_formula_on_moderate_inputs(name):
    _, y, _, _, _ = CASES[name]
    args = [X / 1e3, y]
    for got, want in zip(_compile(name, "float64", "python")(*args), _compile(name, "float64", "python_unopt")(*args)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_integer_labels_use_the_fused_op():
    x, labels = T.dmatrix("x"), T.lvector("labels")
    cost = T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(x), labels))
    fn = sg.function([x, labels], [cost, sg.grad(cost, x)], mode="python")
    assert any(type(n.op).__name__ == "CrossentropySoftmax" for n in fn.fgraph.toposort())
    cost_value, grad = fn(X, LABELS)
    np.testing.assert_allclose(cost_value, -np.mean(log_softmax(X, axis=1)[np.arange(N), LABELS]), rtol=1e-12)
    np.testing.assert_allclose(grad, (softmax(X, axis=1) - ONE_HOT) / N, atol=1e-15)


def test_fused_crossentropy_gradient_matches_finite_differences():
    from symgraph.tensor.nnet.fused import crossentropy_softmax
    from symgraph.testing import verify_grad
    rng = np.random.default_rng(1)
    y = rng.random((3, 4))
    verify_grad(lambda x, t: crossentropy_softmax(x, t), [rng.standard_normal((3, 4)), y / y.sum(1, keepdims=True)])


def test_fused_crossentropy_broadcasts_its_targets():
    from symgraph.tensor.nnet.fused import crossentropy_softmax
    x, row = T.dmatrix("x"), T.drow("row")
    fused = crossentropy_softmax(x, row)
    naive = -T.sum(row * T.nnet.log_softmax(x), axis=-1)
    outs = [T.sum(fused * [1.0, 2.0, 3.0]), T.sum(naive * [1.0, 2.0, 3.0])]
    grads = sg.grad(outs[0], [x, row]) + sg.grad(outs[1], [x, row])
    values = sg.function([x, row], outs + grads, mode="python_unopt")(RNG.standard_normal((3, 4)), RNG.random((1, 4)))
    for got, want in zip(values[0:1] + values[2:4], values[1:2] + values[4:6]):
        np.testing.assert_allclose(got, want, rtol=1e-12)
