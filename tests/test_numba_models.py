"""The report's two training steps (models.cnn, models.sda) compiled by
the Numba backend give the same parameter values as the NumPy reference
(mode 'python') after several steps from the same initial state: the CNN
with SGD and weight decay (Part A Q1), and the first denoising-autoencoder
layer with its binomial corruption, sparsity penalty and momentum (Part B
Q3). The data are random images shaped like MNIST (tests do not need the
data set)."""
import numpy as np
import pytest

import symgraph as sg
from models import optimizers
from models.cnn import CNN
from models.sda import SDA
from symgraph import tensor as T
from symgraph.testing import assert_same_values

STEPS = 4
# float32 training steps: the two backends round differently (BLAS order,
# libm vs NumPy's SIMD exp), and the differences compound over the steps
RTOL, ATOL = 2e-3, 2e-4


def train_both(inputs, cost, updates, batches):
    """Run ``STEPS`` steps of the same train function in each mode from the
    same state; returns {mode: (costs, final values of every updated
    shared variable)}."""
    fns = {mode: sg.function(inputs, cost, updates=updates, mode=mode) for mode in ("python", "numba")}
    variables = [v for v, _ in updates] + [v for v in fns["numba"].shared_vars if v not in dict(updates)]
    start = [v.get_value() for v in variables]
    results = {}
    for mode, fn in fns.items():
        for v, value in zip(variables, start):
            v.set_value(value.copy())
        costs = [float(fn(*batch)) for batch in batches]
        results[mode] = (costs, [v.get_value() for v in variables])
    return variables, results


def check_same(variables, results):
    (pcost, pvals), (ncost, nvals) = results["python"], results["numba"]
    assert np.allclose(pcost, ncost, rtol=RTOL, atol=ATOL), (pcost, ncost)
    assert pcost[-1] < pcost[0]  # it trains
    for var, p, n in zip(variables, pvals, nvals):
        assert_same_values(p, n, f"{var!r} after {STEPS} steps", rtol=RTOL, atol=ATOL)


def test_cnn_sgd_steps_match_the_reference():
    rng = np.random.default_rng(0)
    net = CNN(rng)
    updates = optimizers.sgd(net.cost, net.params, lr=0.05, decay=1e-4)
    data = np.random.default_rng(1)
    batches = [(data.random((32, 1, 28, 28), dtype="float32"),
                np.eye(10, dtype="float32")[data.integers(0, 10, 32)]) for _ in range(STEPS)]
    batches = [((x * y.argmax(1)[:, None, None, None] / 9).astype("float32"), y) for x, y in batches]
    variables, results = train_both([net.X, net.Y], net.cost, updates, batches)
    check_same(variables, results)


@pytest.mark.parametrize("sparse", [False, True])
def test_denoising_autoencoder_steps_match_the_reference(sparse):
    rng = np.random.default_rng(0)
    net = SDA(rng, seed=5, hidden=(900, 625, 400))
    x = T.matrix("x")
    cost = net.pretrain_cost(x, 0, corruption=0.1, beta=0.5 if sparse else 0.0, rho=0.05)
    params = [net.W[0], net.b[0], net.b_prime[0]]
    updates = (optimizers.momentum(cost, params, lr=0.1, momentum=0.1) if sparse
               else optimizers.sgd(cost, params, lr=0.1))
    data = np.random.default_rng(2)
    batches = [((data.random((64, 784)) < 0.3).astype("float32") * data.random((64, 784), dtype="float32"),)
               for _ in range(STEPS)]
    variables, results = train_both([x], cost, updates, batches)
    assert any(v in net.srng.states for v in variables)  # the corruption stream is compared too
    check_same(variables, results)
