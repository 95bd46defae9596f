"""The first denoising-autoencoder layer's training step of the report
(models.sda: 784-900, tied weights, binomial corruption 0.1, SGD lr 0.1),
batch 128 of real MNIST: Numba backend vs mode 'python' vs hand-written
NumPy, and compile times. Prints one JSON object.

    python benchmarks/bench_da_step.py [--steps 60] [--threads 1,2,2blas]
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import step_bench  # noqa: E402

NAME = "da_layer1_train_step"
TARGET_STEP_MS, TARGET_COLD_S, TARGET_CACHED_S = 6.5, 3.0, 0.3
LR, CORRUPTION = 0.1, 0.1


def batch(n):
    x, _, source = step_bench.load_batch(n, flat=True)
    return x, source


def graph(seed):
    """(inputs, cost, updates) of the models package's layer-1 dA step."""
    from models import optimizers
    from models.sda import SDA
    from symgraph import tensor as T
    net = SDA(np.random.default_rng(seed), seed=seed)
    x = T.matrix("x")
    cost = net.pretrain_cost(x, 0, CORRUPTION)
    return [x], cost, optimizers.sgd(cost, [net.W[0], net.b[0], net.b_prime[0]], lr=LR)


def numpy_step(seed):
    """The same step written with NumPy (corruption from NumPy's generator,
    not Philox: the same distribution, other numbers)."""
    from models.sda import SDA
    net = SDA(np.random.default_rng(seed), seed=seed)
    w, b, bp = net.W[0].get_value(), net.b[0].get_value(), net.b_prime[0].get_value()
    rng = np.random.default_rng(seed)

    def sigmoid(a):
        return 1 / (1 + np.exp(-a))

    def step(x):
        tilde = x * (rng.random(x.shape, dtype="float32") < 1 - CORRUPTION)
        h = sigmoid(tilde @ w + b)
        a = h @ w.T + bp
        cost = np.mean(np.sum(np.logaddexp(0, a) - x * a, axis=1))
        ga = (sigmoid(a) - x) / len(x)
        gz = (ga @ w) * h * (1 - h)
        gw = tilde.T @ gz + ga.T @ h
        w[...] -= LR * gw
        b[...] -= LR * gz.sum(0)
        bp[...] -= LR * ga.sum(0)
        return cost
    return step


if __name__ == "__main__":
    step_bench.main(sys.modules[__name__], __file__)
