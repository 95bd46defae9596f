"""The report's CNN training step (models.cnn, SGD with weight decay),
batch 128 of real MNIST: Numba backend vs mode 'python' vs hand-written
NumPy, and compile times. Prints one JSON object.

    python benchmarks/bench_cnn_step.py [--steps 60] [--threads 1,2,2blas]
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import step_bench  # noqa: E402

NAME = "cnn_train_step"
TARGET_STEP_MS, TARGET_COLD_S, TARGET_CACHED_S = 8.0, 3.0, 0.3
LR, DECAY = 0.05, 1e-4


def batch(n):
    return step_bench.load_batch(n, flat=False)


def graph(seed):
    """(inputs, cost, updates) of the models package's CNN step."""
    from models import optimizers
    from models.cnn import CNN
    net = CNN(np.random.default_rng(seed))
    return [net.X, net.Y], net.cost, optimizers.sgd(net.cost, net.params, lr=LR, decay=DECAY)


def numpy_step(seed):
    """The same step written with NumPy: the reference convolution of
    symgraph.tensor.nnet.conv_impl (im2col + tensordot), 2x2 max pooling by
    reshaping, dense layers, softmax cross-entropy, backpropagation by hand,
    SGD with weight decay on float32 parameters initialised like the CNN's."""
    from models.cnn import CNN
    from symgraph.tensor.nnet import conv_impl as conv
    net = CNN(np.random.default_rng(seed))
    params = [p.get_value() for p in net.params]

    def pool(y):
        n, c, h, w = y.shape
        blocks = y.reshape(n, c, h // 2, 2, w // 2, 2)
        out = blocks.max(axis=(3, 5))
        mask = blocks == out[:, :, :, None, :, None]
        return out, mask

    def unpool(g, mask):
        n, c, h, _, w, _ = mask.shape
        return (mask * g[:, :, :, None, :, None]).reshape(n, c, 2 * h, 2 * w)

    def step(x, y):
        w1, b1, w2, b2, w3, b3, w4, b4 = params
        a1 = conv.conv2d_forward(x, w1, (0, 0), (1, 1)) + b1[:, None, None]
        r1 = np.maximum(a1, 0)
        o1, m1 = pool(r1)
        a2 = conv.conv2d_forward(o1, w2, (0, 0), (1, 1)) + b2[:, None, None]
        r2 = np.maximum(a2, 0)
        o2, m2 = pool(r2)
        f = o2.reshape(len(x), -1)
        a3 = f @ w3 + b3
        h = np.maximum(a3, 0)
        z = h @ w4 + b4
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        p = e / e.sum(axis=1, keepdims=True)
        cost = -np.mean(np.sum(y * np.log(p), axis=1))
        gz = (p - y) / len(x)
        gw4, gb4 = h.T @ gz, gz.sum(0)
        ga3 = (gz @ w4.T) * (a3 > 0)
        gw3, gb3 = f.T @ ga3, ga3.sum(0)
        ga2 = unpool((ga3 @ w3.T).reshape(o2.shape), m2) * (a2 > 0)
        gw2, gb2 = conv.conv2d_grad_weights(o1, ga2, w2.shape, (0, 0), (1, 1)), ga2.sum((0, 2, 3))
        go1 = conv.conv2d_grad_input(ga2, w2, o1.shape, (0, 0), (1, 1))
        ga1 = unpool(go1, m1) * (a1 > 0)
        gw1, gb1 = conv.conv2d_grad_weights(x, ga1, w1.shape, (0, 0), (1, 1)), ga1.sum((0, 2, 3))
        for p_, g in zip(params, (gw1, gb1, gw2, gb2, gw3, gb3, gw4, gb4)):
            p_ -= (LR * (g + DECAY * p_)).astype(p_.dtype)
        return cost
    return step


if __name__ == "__main__":
    step_bench.main(sys.modules[__name__], __file__)
