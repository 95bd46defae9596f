"""models.optimizers: the symbolic updates against the report's formulas,
iterated in NumPy on a quadratic whose gradient is known in closed form."""
import numpy as np
import pytest

import symgraph as sg
from symgraph import tensor as T
from models import optimizers

A = np.array([[0.5, 2.0, 1.0], [3.0, 0.25, 1.5]])  # curvature of the quadratic
C = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])  # its minimum
P0 = np.array([[0.3, 0.1, -0.7], [2.0, -1.0, 0.4]])
STEPS = 6


def quadratic_setup(dtype="float64"):
    """cost = 0.5 * sum(A * (p - C)**2); its gradient is A * (p - C)."""
    p = sg.shared(P0.astype(dtype), name="p")
    cost = 0.5 * T.sum(T.constant(A.astype(dtype)) * (p - T.constant(C.astype(dtype))) ** 2)
    return p, cost


def grad(p):
    return A * (p - C)


def run_symbolic(opt, **kw):
    p, cost = quadratic_setup()
    updates = opt(cost, [p], **kw)
    step = sg.function([], cost, updates=updates, mode="python")
    trajectory = []
    for _ in range(STEPS):
        step()
        trajectory.append(p.get_value())
    state = {v.name: v.get_value() for v, _ in updates if v is not p}
    return np.array(trajectory), state


def oracle_sgd(lr, decay):
    p, out = P0.copy(), []
    for _ in range(STEPS):
        p = p - lr * (grad(p) + decay * p)
        out.append(p)
    return np.array(out), {}


def oracle_momentum(lr, decay, momentum):
    p, v, out = P0.copy(), np.zeros_like(P0), []
    for _ in range(STEPS):
        v = momentum * v - lr * (grad(p) + decay * p)
        p = p + v
        out.append(p)
    return np.array(out), {"p.velocity": v}


def oracle_rmsprop(lr, decay, rho, epsilon):
    p, r, out = P0.copy(), np.zeros_like(P0), []
    for _ in range(STEPS):
        g = grad(p)
        r = rho * r + (1 - rho) * g ** 2
        p = p - lr * (g / np.sqrt(r + epsilon) + decay * p)
        out.append(p)
    return np.array(out), {"p.accumulator": r}


def oracle_adam(lr, decay, beta1, beta2, epsilon):
    p, m, s, out = P0.copy(), np.zeros_like(P0), np.zeros_like(P0), []
    for t in range(1, STEPS + 1):
        g = grad(p) + decay * p
        m = beta1 * m + (1 - beta1) * g
        s = beta2 * s + (1 - beta2) * g ** 2
        m_hat, s_hat = m / (1 - beta1 ** t), s / (1 - beta2 ** t)
        # the paper's "efficient" form: epsilon is added before the bias correction of s
        p = p - lr * m_hat / (np.sqrt(s_hat) + epsilon / np.sqrt(1 - beta2 ** t))
        out.append(p)
    return np.array(out), {"p.adam_m": m, "p.adam_s": s, "adam.t": np.float64(STEPS)}


CASES = [
    (optimizers.sgd, oracle_sgd, dict(lr=0.05, decay=1e-4)),
    (optimizers.sgd, oracle_sgd, dict(lr=0.3, decay=0.0)),
    (optimizers.momentum, oracle_momentum, dict(lr=0.05, decay=1e-4, momentum=0.1)),
    (optimizers.momentum, oracle_momentum, dict(lr=0.1, decay=0.0, momentum=0.9)),
    (optimizers.rmsprop, oracle_rmsprop, dict(lr=0.001, decay=1e-4, rho=0.9, epsilon=1e-6)),
    (optimizers.rmsprop, oracle_rmsprop, dict(lr=0.1, decay=0.01, rho=0.5, epsilon=1e-3)),
    (optimizers.adam, oracle_adam, dict(lr=0.01, decay=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8)),
]


@pytest.mark.parametrize("opt, oracle, kw", CASES, ids=lambda v: getattr(v, "__name__", None))
def test_updates_follow_formulas(opt, oracle, kw):
    got, state = run_symbolic(opt, **kw)
    want, want_state = oracle(**kw)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    assert set(state) == set(want_state)
    for name, value in want_state.items():
        np.testing.assert_allclose(state[name], value, rtol=1e-10, atol=1e-12)


def test_optimizers_descend_the_quadratic():
    p, cost = quadratic_setup()
    start = float(sg.function([], cost, mode="python")())
    for opt, kw in [(optimizers.sgd, {}), (optimizers.momentum, {}), (optimizers.rmsprop, dict(lr=0.05)),
                    (optimizers.adam, dict(lr=0.05))]:
        p.set_value(P0)
        step = sg.function([], cost, updates=opt(cost, [p], **kw), mode="python")
        costs = [float(step()) for _ in range(40)]
        assert costs[-1] < 0.5 * start, opt.__name__


def test_several_params_float32_and_composition():
    """Updates of two optimizers on parts of one graph compile together;
    float32 parameters and state stay float32."""
    x = T.matrix("x")
    w = sg.shared(np.full((3, 2), 0.5, "float32"), name="w")
    b = sg.shared(np.zeros(2, "float32"), name="b")
    cost = T.sum((T.dot(x, w) + b) ** 2)
    updates = optimizers.momentum(cost, [w], lr=0.01) + optimizers.rmsprop(cost, [b], lr=0.01)
    w2 = sg.shared(np.ones(2, "float32"), name="w2")
    updates += optimizers.adam(T.sum(w2 ** 2), [w2])
    fn = sg.function([x], cost, updates=updates, mode="python")
    xv = np.arange(6, dtype="float32").reshape(2, 3)
    gw = 2 * xv.T @ (xv @ w.get_value() + b.get_value())
    gb = 2 * (xv @ w.get_value() + b.get_value()).sum(axis=0)
    fn(xv)
    for var, _ in updates:
        assert var.get_value().dtype == (np.float64 if var.name == "adam.t" else np.float32), var.name
    np.testing.assert_allclose(w.get_value(), 0.5 - 0.01 * gw, rtol=1e-5)
    np.testing.assert_allclose(b.get_value(), -0.01 * gb / np.sqrt(0.1 * gb ** 2 + 1e-6), rtol=1e-5)
    assert [v.name for v, _ in updates] == ["w", "w.velocity", "b.accumulator", "b", "adam.t", "w2.adam_m",
                                            "w2.adam_s", "w2"]


def test_unnamed_params_get_indexed_state_names():
    p = sg.shared(np.zeros(2))
    updates = optimizers.momentum(T.sum(p ** 2), [p])
    assert updates[1][0].name == "param0.velocity"


@pytest.mark.parametrize("opt, kw, message", [
    (optimizers.sgd, dict(lr=0.0), "lr must be positive"),
    (optimizers.sgd, dict(decay=-1.0), "decay must be >= 0"),
    (optimizers.momentum, dict(momentum=1.0), "momentum must be in"),
    (optimizers.rmsprop, dict(rho=-0.1), "rho must be in"),
])
def test_bad_hyperparameters(opt, kw, message):
    p = sg.shared(np.zeros(2), name="p")
    with pytest.raises(ValueError, match=message):
        opt(T.sum(p ** 2), [p], **kw)


def test_empty_params_and_unknown_name():
    p = sg.shared(np.zeros(2), name="p")
    with pytest.raises(ValueError, match="params is empty"):
        optimizers.sgd(T.sum(p ** 2), [])
    with pytest.raises(ValueError, match="unknown optimizer 'adagrad'; choose one of sgd, momentum"):
        optimizers.get("adagrad")
    assert optimizers.get("rmsprop") is optimizers.rmsprop
