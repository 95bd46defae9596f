"""Part A of the report: a CNN for MNIST trained with SGD, momentum or RMSProp.

C1 15@9x9 conv + ReLU, S1 2x2 max pool, C2 20@5x5 conv + ReLU, S2 2x2 max
pool, F3 100 ReLU, F4 softmax 10; mean categorical cross-entropy; batches
of 128 from the first 12,000 training images, tested on the first 2,000
test images, 100 epochs.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

import symgraph as sg
from symgraph import tensor as T
from symgraph.tensor.signal import pool

from . import optimizers, plots, training
from .datasets import MNIST, one_hot, shuffle

# The report's settings per question (Q1 SGD, Q2 momentum, Q3 RMSProp).
OPTIMIZER_SETTINGS = {
    "sgd": dict(lr=0.05, decay=1e-4),
    "momentum": dict(lr=0.05, decay=1e-4, momentum=0.1),
    "rmsprop": dict(lr=0.001, decay=1e-4, rho=0.9, epsilon=1e-6),
    "adam": dict(lr=0.001, decay=1e-4),  # not in the report
}
QUESTION = {"sgd": "Part A Q1", "momentum": "Part A Q2", "rmsprop": "Part A Q3", "adam": "Part A (Adam)"}
OUTPUTS = ("checkpoint.npz", "params.npz", "metrics.json", "metrics.csv", "report.md")


@dataclass
class CNNConfig:
    """One Part A experiment; ``lr=None`` etc. take the report's value for
    the optimizer (:data:`OPTIMIZER_SETTINGS`)."""

    optimizer: str = "sgd"
    epochs: int = 100
    n_train: int = 12000
    n_test: int = 2000
    batch_size: int = 128
    seed: int = 0
    lr: float | None = None
    decay: float | None = None

    def optimizer_kwargs(self) -> dict:
        if self.optimizer not in OPTIMIZER_SETTINGS:
            raise training.UsageError(f"unknown optimizer {self.optimizer!r}; choose one of "
                                      f"{', '.join(OPTIMIZER_SETTINGS)}")
        kw = dict(OPTIMIZER_SETTINGS[self.optimizer])
        kw.update({k: v for k, v in (("lr", self.lr), ("decay", self.decay)) if v is not None})
        return kw


def init_weights_bias4(shape, rng, dtype="float32"):
    """Conv filters ``(out, in, kh, kw)`` uniform in +-sqrt(6/(fan_in+fan_out)),
    fan_in = in*kh*kw, fan_out = out*kh*kw; zero biases (the report's code)."""
    fan_in = np.prod(shape[1:])
    fan_out = shape[0] * np.prod(shape[2:])
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    w = rng.uniform(-bound, bound, size=shape).astype(dtype)
    return w, np.zeros((shape[0],), dtype=dtype)


def init_weights_bias2(shape, rng, dtype="float32"):
    """Dense weights ``(n_in, n_out)`` uniform in +-sqrt(6/(n_in+n_out)); zero biases."""
    bound = np.sqrt(6.0 / (shape[0] + shape[1]))
    w = rng.uniform(-bound, bound, size=shape).astype(dtype)
    return w, np.zeros((shape[1],), dtype=dtype)


class CNN:
    """The report's ``model``: symbolic input ``X`` (N, 1, 28, 28), one-hot
    targets ``Y``; ``y1, o1, y2, o2`` (C1, S1, C2, S2 feature maps), ``p_y``
    (class probabilities), ``cost``, ``params`` (w1, b1, ..., w4, b4)."""

    def __init__(self, rng, filters=(15, 20), kernels=(9, 5), fc=100, classes=10, image=28):
        side = ((image - kernels[0] + 1) // 2 - kernels[1] + 1) // 2
        shapes4 = [(filters[0], 1, kernels[0], kernels[0]), (filters[1], filters[0], kernels[1], kernels[1])]
        shapes2 = [(filters[1] * side * side, fc), (fc, classes)]
        values = [init_weights_bias4(s, rng) for s in shapes4] + [init_weights_bias2(s, rng) for s in shapes2]
        self.params = []
        for i, (w, b) in enumerate(values, 1):
            self.params += [sg.shared(w, name=f"w{i}"), sg.shared(b, name=f"b{i}")]
        w1, b1, w2, b2, w3, b3, w4, b4 = self.params

        self.X, self.Y = T.tensor4("X"), T.matrix("Y")
        self.y1 = T.nnet.relu(T.nnet.conv2d(self.X, w1) + b1.dimshuffle("x", 0, "x", "x"))
        self.o1 = pool.pool_2d(self.y1, (2, 2), ignore_border=True)
        self.y2 = T.nnet.relu(T.nnet.conv2d(self.o1, w2) + b2.dimshuffle("x", 0, "x", "x"))
        self.o2 = pool.pool_2d(self.y2, (2, 2), ignore_border=True)
        hidden = T.nnet.relu(T.dot(T.flatten(self.o2, outdim=2), w3) + b3)
        self.p_y = T.nnet.softmax(T.dot(hidden, w4) + b4)
        self.prediction = T.argmax(self.p_y, axis=1)
        self.cost = T.mean(T.nnet.categorical_crossentropy(self.p_y, self.Y))


def _subsets(data: MNIST, cfg: CNNConfig):
    tr_x = data.train_images[:cfg.n_train].reshape(-1, 1, 28, 28)
    te_x = data.test_images[:cfg.n_test].reshape(-1, 1, 28, 28)
    return tr_x, one_hot(data.train_labels[:cfg.n_train]), te_x, data.test_labels[:cfg.n_test]


def run_cnn(cfg: CNNConfig, data: MNIST, outdir, mode=None, resume=False, progress=True,
            verbose=True, on_epoch=None, figures=True) -> dict:
    """Train one Part A experiment, writing into ``outdir``: a checkpoint each
    epoch, then ``params.npz``, ``metrics.json``/``.csv`` and the figures.

    ``resume``: continue from ``outdir``'s checkpoint (same settings; more
    epochs allowed), giving the same numbers as an uninterrupted run.
    ``progress``: tqdm bars; ``verbose``: a line per epoch.
    ``on_epoch(epoch)`` is called after each epoch's checkpoint.
    ``figures=False`` skips drawing. Returns the result dict that
    ``metrics.json`` holds.
    """
    opt_kw = cfg.optimizer_kwargs()
    training.check_positive(epochs=cfg.epochs)
    training.check_sizes(cfg.n_train, cfg.n_test, cfg.batch_size, len(data.train_images),
                         len(data.test_images), "cnn")
    backend = training.check_mode(mode)
    outdir = training.prepare_outdir(outdir)
    start_time = time.perf_counter()

    rng = np.random.default_rng(cfg.seed)
    net = CNN(rng)
    updates = optimizers.get(cfg.optimizer)(net.cost, net.params, **opt_kw)
    train = sg.function([net.X, net.Y], net.cost, updates=updates, mode=mode, name="train")
    predict = sg.function([net.X], net.prediction, mode=mode, name="predict")
    features = sg.function([net.X], [net.y1, net.o1, net.y2, net.o2], mode=mode, name="features")
    variables = training.unique_variables(updates)

    tr_x, tr_y, te_x, te_labels = _subsets(data, cfg)
    order_tr, order_te = np.arange(cfg.n_train), np.arange(cfg.n_test)
    history = {"train_cost": [], "test_accuracy": [], "seconds": []}
    config = asdict(cfg)
    loaded = training.resume_or_start(outdir, variables, config, rng, resume, OUTPUTS,
                                      "epochs", "train_cost", "epochs")
    if loaded:
        meta, arrays = loaded
        history = meta["history"]
        order_tr, order_te = arrays["order_train"], arrays["order_test"]

    batches = training.full_batches(cfg.n_train, cfg.batch_size)
    label = f"cnn-{cfg.optimizer}"
    for epoch in range(len(history["train_cost"]), cfg.epochs):
        t0 = time.perf_counter()
        # The report shuffles the (already shuffled) arrays each epoch.
        order_tr, _ = shuffle(order_tr, order_tr, rng)
        order_te, _ = shuffle(order_te, order_te, rng)
        x, y = tr_x[order_tr], tr_y[order_tr]
        costs = []
        bar = training.batch_bar(batches, f"{label} epoch {epoch + 1}/{cfg.epochs}", progress)
        for start, end in bar:
            costs.append(float(train(x[start:end], y[start:end])))
            bar.set_postfix(cost=f"{np.mean(costs):.4f}", refresh=False)
        pred = training.predict_in_chunks(predict, te_x[order_te])
        history["train_cost"].append(float(np.mean(costs, dtype="float64")))
        history["test_accuracy"].append(float(np.mean(te_labels[order_te] == pred)))
        history["seconds"].append(time.perf_counter() - t0)
        training.note_mode(history, backend)
        training.log(verbose, f"{label} epoch {epoch + 1:3d}: cost {history['train_cost'][-1]:.5f}  test "
                     f"accuracy {history['test_accuracy'][-1]:.4f}  ({history['seconds'][-1]:.1f} s)")
        training.save_checkpoint(outdir, variables, {"config": config, "history": history, "rng":
                                                     training.rng_state(rng)},
                                 {"order_train": order_tr, "order_test": order_te})
        if on_epoch is not None:
            on_epoch(epoch)

    result = {
        "experiment": f"cnn_{cfg.optimizer}", "title": f"{QUESTION[cfg.optimizer]}: CNN, {cfg.optimizer}",
        "kind": "cnn", "config": config, "optimizer_settings": opt_kw,
        "mode": training.modes_used(history, backend),
        "history": history, "final_test_accuracy": history["test_accuracy"][-1],
        "final_train_cost": history["train_cost"][-1],
        "train_seconds": float(np.sum(history["seconds"])),
    }
    training.save_npz(outdir / "params.npz", {k: v.get_value() for k, v in variables.items()})
    maps = features(te_x[:2])  # the first two test patterns (unshuffled)
    result["figures"] = [] if not figures else _figures(outdir, result, te_x[:2], maps)
    result["wall_seconds"] = time.perf_counter() - start_time
    result["complete"] = True
    training.write_csv(outdir / "metrics.csv", ["experiment", "phase", "epoch", "cost", "test_accuracy"],
                       metric_rows(result))
    training.write_json(outdir / "metrics.json", result)
    return result


def metric_rows(result) -> list:
    h = result["history"]
    return [[result["experiment"], "train", i + 1, c, a]
            for i, (c, a) in enumerate(zip(h["train_cost"], h["test_accuracy"]))]


def _figures(outdir: Path, result, patterns, maps) -> list[str]:
    fig_dir = outdir / "figures"
    fig_dir.mkdir(exist_ok=True)
    name = result["title"]
    out = [plots.accuracy_and_cost(fig_dir / "curves.png", result["history"]["test_accuracy"],
                                   result["history"]["train_cost"], name)]
    for i in range(len(patterns)):
        layers = {k: m[i] for k, m in zip(("C1 (conv)", "S1 (pool)", "C2 (conv)", "S2 (pool)"), maps)}
        out.append(plots.feature_maps(fig_dir / f"feature_maps_pattern{i + 1}.png", patterns[i, 0], layers,
                                      f"{name}: test pattern {i + 1}"))
    return [str(Path(p).relative_to(outdir)) for p in out]
