"""The report's CNN train graph (conv 15@9x9, pool, conv 20@5x5, pool, fc
100, softmax 10, SGD with weight decay): node counts before and after each
phase (printed; run with -s to see them), fusion reduces them, and one
training step gives the unoptimized graph's numbers."""
import numpy as np
import pytest

import symgraph as sg
from symgraph import tensor as T
from symgraph.debug import rewrite_stats
from symgraph.tensor.nnet import conv2d
from symgraph.tensor.signal import pool

# a rule that fails is skipped with a RewriteWarning: here it is an error
pytestmark = pytest.mark.filterwarnings("error::symgraph.rewrite.engine.RewriteWarning")


def _init(rng, shape):
    fan_in, fan_out = np.prod(shape[1:]), shape[0] * np.prod(shape[2:])
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, shape).astype("float32")


def build_cnn(seed=0):
    """The report's model and its train step, as in its listing."""
    rng = np.random.default_rng(seed)
    X, Y = T.tensor4("X"), T.matrix("Y")
    w1, w2 = sg.shared(_init(rng, (15, 1, 9, 9)), "w1"), sg.shared(_init(rng, (20, 15, 5, 5)), "w2")
    w3, w4 = sg.shared(_init(rng, (180, 100)), "w3"), sg.shared(_init(rng, (100, 10)), "w4")
    b1, b2, b3, b4 = (sg.shared(np.zeros(n, "float32"), f"b{i + 1}") for i, n in enumerate((15, 20, 100, 10)))
    y1 = T.nnet.relu(conv2d(X, w1) + b1.dimshuffle("x", 0, "x", "x"))
    o1 = pool.pool_2d(y1, (2, 2), ignore_border=True)
    y2 = T.nnet.relu(conv2d(o1, w2) + b2.dimshuffle("x", 0, "x", "x"))
    o2 = pool.pool_2d(y2, (2, 2), ignore_border=True)
    y3 = T.nnet.relu(T.dot(T.flatten(o2, outdim=2), w3) + b3)
    p = T.nnet.softmax(T.dot(y3, w4) + b4)
    cost = T.mean(T.nnet.categorical_crossentropy(p, Y))
    params = [w1, b1, w2, b2, w3, b3, w4, b4]
    grads = T.grad(cost, params)
    updates = [(q, q - 0.05 * (g + 1e-4 * q)) for q, g in zip(params, grads)]
    return [X, Y], cost, updates, params


@pytest.fixture(scope="module")
def train():
    inputs, cost, updates, params = build_cnn()
    return sg.function(inputs, cost, updates=updates, mode="python"), params


def test_phase_counts_and_fusion_reduces_them(train):
    fn, _ = train
    log = {rec["phase"]: rec for rec in fn.fgraph.phase_log}
    print()
    rewrite_stats(fn)
    assert log["fusion"]["nodes_after"] < log["fusion"]["nodes_before"]
    assert fn.fgraph.phase_log[-1]["nodes_after"] < fn.fgraph.phase_log[0]["nodes_before"] / 2
    ops = [n.op for n in fn.fgraph.toposort()]
    fused = [op for op in ops if isinstance(op, T.Elemwise) and type(op.scalar_op).__name__ == "Composite"]
    assert len(fused) >= 8  # relu of each layer, their gradients, the updates
    assert sum(type(op).__name__ == "Gemm" for op in ops) >= 4
    assert sum(type(op).__name__ == "CrossentropySoftmax" for op in ops) == 1
    assert sum(isinstance(op, T.Elemwise) and bool(op.inplace) for op in ops) >= 8
    # what is left unfused is elementwise work between non-elementwise ops
    assert sum(isinstance(op, T.Elemwise) and type(op.scalar_op).__name__ != "Composite" for op in ops) <= 4


def test_training_step_matches_the_unoptimized_graph(train):
    fn, params = train
    inputs, cost, updates, _ = build_cnn()
    reference = sg.function(inputs, cost, updates=updates, mode="python_unopt")
    rng = np.random.default_rng(1)
    x = rng.random((4, 1, 28, 28)).astype("float32")
    y = np.eye(10, dtype="float32")[rng.integers(0, 10, 4)]
    ref_params = [v for v, _ in updates]
    for q, r in zip(params, ref_params):
        r.set_value(q.get_value())
    for _ in range(2):
        np.testing.assert_allclose(fn(x, y), reference(x, y), rtol=1e-5)
        for q, r in zip(params, ref_params):
            np.testing.assert_allclose(q.get_value(), r.get_value(), rtol=1e-4, atol=1e-6)


def test_compiling_twice_gives_the_same_graph(train):
    """Backends cache compiled code by the graph's text: the optimizer must
    be deterministic."""
    fn, _ = train
    inputs, cost, updates, _ = build_cnn(seed=3)
    again = sg.function(inputs, cost, updates=updates, mode="python")
    assert [n.op for n in again.fgraph.toposort()] == [n.op for n in fn.fgraph.toposort()]
