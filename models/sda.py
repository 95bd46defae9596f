"""Part B of the report: a stacked denoising autoencoder 784-900-625-400.

Tied weights, sigmoid units, binomial corruption 0.1, cross-entropy, learning
rate 0.1, batches of 128, 25 epochs of greedy pretraining per layer (layer
k+1 learns from the clean codes of layer k), then fine-tuning of the
five-layer classifier (softmax 400->10, categorical cross-entropy, all
parameters). Q1/Q2 use plain gradient descent; Q3 (``sparse=True``) uses
momentum 0.1 and the sparsity penalty (beta 0.5, rho 0.05) throughout.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

import symgraph as sg
from symgraph import tensor as T
from symgraph.tensor.shared_randomstreams import RandomStreams

from . import optimizers, plots, training
from .datasets import MNIST, one_hot

OUTPUTS = ("checkpoint.npz", "pretrained.npz", "params.npz", "metrics.json", "metrics.csv", "report.md")
N_SAMPLES = 100  # test images shown with their reconstructions and activations


@dataclass
class SDAConfig:
    """One Part B run. ``sparse`` selects Q3: ``momentum`` and ``beta`` left
    at None become 0.1 and 0.5 there, 0 (plain descent, no penalty) else."""

    sparse: bool = False
    hidden: tuple = (900, 625, 400)
    corruption: float = 0.1
    lr: float = 0.1
    batch_size: int = 128
    pretrain_epochs: int = 25
    finetune_epochs: int = 25
    n_train: int = 60000
    n_test: int = 10000
    seed: int = 0
    momentum: float | None = None
    beta: float | None = None
    rho: float = 0.05

    @property
    def gamma(self) -> float:
        return self.momentum if self.momentum is not None else (0.1 if self.sparse else 0.0)

    @property
    def penalty(self) -> float:
        return self.beta if self.beta is not None else (0.5 if self.sparse else 0.0)


def init_weights(n_in, n_out, rng, dtype="float32"):
    """Uniform in +-4*sqrt(6/(n_in+n_out)), the usual init for sigmoid units
    (the report does not show its ``init_weights``)."""
    bound = 4 * np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-bound, bound, size=(n_in, n_out)).astype(dtype)


def sparsity_penalty(y, n_hidden, beta, rho):
    """The report's penalty on the mean activation ``rho_hat`` of the
    ``n_hidden`` units of ``y`` (batch, n_hidden): ``beta`` times the sum of
    KL(rho || rho_hat), written as in the report (with its 1e-6)."""
    rho_hat = T.mean(y, axis=0)
    return (beta * n_hidden * (rho * np.log(rho) + (1 - rho) * np.log(1 - rho))
            - beta * rho * T.sum(T.log(rho_hat + 1e-6))
            - beta * (1 - rho) * T.sum(T.log(1 - rho_hat + 1e-6)))


def reconstruction_cost(x, a):
    """``-mean(sum(x log z + (1-x) log(1-z), axis=1))`` for ``z = sigmoid(a)``,
    computed from the pre-activation ``a`` as ``softplus(a) - x a`` (the same
    function; it cannot overflow to log(0), as Theano's stabilizer ensured)."""
    return T.mean(T.sum(T.nnet.sigmoid_binary_crossentropy(a, x), axis=1))


class SDA:
    """Parameters ``W[k], b[k], b_prime[k]`` per layer (decoder weight
    ``W[k].T``), the classifier ``W_out, b_out``, and the corruption stream
    ``srng`` (seeded). Methods build the graphs of each training phase."""

    def __init__(self, rng, seed, n_in=784, hidden=(900, 625, 400), classes=10):
        sizes = (n_in,) + tuple(hidden)
        self.sizes = sizes
        self.W, self.b, self.b_prime = [], [], []
        for k, (m, n) in enumerate(zip(sizes[:-1], sizes[1:]), 1):
            self.W.append(sg.shared(init_weights(m, n, rng), name=f"W{k}"))
            self.b.append(sg.shared(np.zeros(n, "float32"), name=f"b{k}"))
            self.b_prime.append(sg.shared(np.zeros(m, "float32"), name=f"b{k}_prime"))
        self.W_out = sg.shared(init_weights(sizes[-1], classes, rng), name=f"W{len(sizes)}")
        self.b_out = sg.shared(np.zeros(classes, "float32"), name=f"b{len(sizes)}")
        self.srng = RandomStreams(seed)

    @property
    def params(self):
        return [p for k in range(len(self.W)) for p in (self.W[k], self.b[k], self.b_prime[k])] + \
            [self.W_out, self.b_out]

    def encode(self, x, k):
        """Hidden code of layer ``k`` (0-based) for its input ``x``."""
        return T.nnet.sigmoid(T.dot(x, self.W[k]) + self.b[k])

    def decode(self, y, k):
        """Reconstruction of layer ``k``'s input from its code ``y`` (tied weights)."""
        return T.nnet.sigmoid(T.dot(y, self.W[k].T) + self.b_prime[k])

    def pretrain_cost(self, x, k, corruption, beta=0.0, rho=0.05):
        """Denoising cost of layer ``k`` on input ``x``: corrupt (zero each
        value with probability ``corruption``), encode, decode, cross-entropy
        against the clean ``x``; plus the sparsity penalty if ``beta``."""
        tilde_x = self.srng.binomial(size=x.shape, n=1, p=1 - corruption, dtype=x.dtype) * x
        y = self.encode(tilde_x, k)
        cost = reconstruction_cost(x, T.dot(y, self.W[k].T) + self.b_prime[k])
        if beta:
            cost = cost + sparsity_penalty(y, self.sizes[k + 1], beta, rho)
        return cost

    def hidden(self, x):
        """Clean codes of every layer for input images ``x``."""
        out = []
        for k in range(len(self.W)):
            x = self.encode(x, k)
            out.append(x)
        return out

    def reconstruct(self, x):
        """``x`` through every encoder and back through every decoder."""
        y = self.hidden(x)[-1]
        for k in reversed(range(len(self.W))):
            y = self.decode(y, k)
        return y

    def classifier(self, x, d, beta=0.0, rho=0.05):
        """``(cost, p_y)`` of the five-layer network: categorical
        cross-entropy against one-hot ``d`` (plus the sparsity penalty of
        every hidden layer if ``beta``)."""
        hidden = self.hidden(x)
        p_y = T.nnet.softmax(T.dot(hidden[-1], self.W_out) + self.b_out)
        cost = T.mean(T.nnet.categorical_crossentropy(p_y, d))
        if beta:
            for k, y in enumerate(hidden):
                cost = cost + sparsity_penalty(y, self.sizes[k + 1], beta, rho)
        return cost, p_y


def _updates(cost, params, cfg: SDAConfig):
    if cfg.gamma:
        return optimizers.momentum(cost, params, lr=cfg.lr, momentum=cfg.gamma)
    return optimizers.sgd(cost, params, lr=cfg.lr)


class _Compiled:
    """The compiled functions of every phase and the variables to checkpoint."""

    def __init__(self, net: SDA, cfg: SDAConfig, mode):
        x, d = T.matrix("x"), T.matrix("d")
        beta = cfg.penalty
        self.pretrain, self.encoders, phase_updates = [], [], []
        for k in range(len(net.W)):
            cost = net.pretrain_cost(x, k, cfg.corruption, beta, cfg.rho)
            ups = _updates(cost, [net.W[k], net.b[k], net.b_prime[k]], cfg)
            phase_updates.append(ups)
            self.pretrain.append(sg.function([x], cost, updates=ups, mode=mode, name=f"pretrain{k + 1}"))
            self.encoders.append(sg.function([x], net.encode(x, k), mode=mode, name=f"encode{k + 1}"))
        params = [p for k in range(len(net.W)) for p in (net.W[k], net.b[k])] + [net.W_out, net.b_out]
        cost, p_y = net.classifier(x, d, beta, cfg.rho)
        ups = _updates(cost, params, cfg)
        phase_updates.append(ups)
        self.finetune = sg.function([x, d], cost, updates=ups, mode=mode, name="finetune")
        self.predict = sg.function([x], T.argmax(p_y, axis=1), mode=mode, name="predict")
        self.hidden = sg.function([x], net.hidden(x), mode=mode, name="hidden")
        self.reconstruct = sg.function([x], net.reconstruct(x), mode=mode, name="reconstruct")

        ids = {id(p) for p in net.params}
        self.variables = {p.name: p for p in net.params}
        self.phases = [f"layer{k + 1}" for k in range(len(net.W))] + ["finetune"]
        for phase, ups in zip(self.phases, phase_updates):
            self.variables.update({f"{phase}/{v.name}": v for v, _ in ups if id(v) not in ids})
        self.variables.update({f"corruption/{s.name}": s for s in net.srng.states})


def _codes(encoders, x, upto):
    """Clean codes of layer ``upto - 1`` (the input of layer ``upto``)."""
    for enc in encoders[:upto]:
        x = training.predict_in_chunks(enc, x)
    return x


def run_sda(cfg: SDAConfig, data: MNIST, outdir, mode=None, resume=False, progress=True,
            verbose=True, on_epoch=None, figures=True) -> dict:
    """Pretrain the three layers, fine-tune the classifier, write the
    checkpoint each epoch, then ``params.npz``, ``metrics.json``/``.csv``
    and the figures into ``outdir``. ``resume`` continues from the
    checkpoint with the same settings (more fine-tuning epochs allowed).
    ``progress``: tqdm bars; ``verbose``: a line per epoch.
    ``on_epoch(phase, epoch)`` is called after each checkpoint;
    ``figures=False`` skips drawing. Returns what ``metrics.json`` holds."""
    training.check_positive(pretrain_epochs=cfg.pretrain_epochs, finetune_epochs=cfg.finetune_epochs)
    training.check_sizes(cfg.n_train, cfg.n_test, cfg.batch_size, len(data.train_images),
                         len(data.test_images), "sda")
    if not 0 <= cfg.corruption < 1:
        raise training.UsageError(f"corruption level must be in [0, 1), got {cfg.corruption}")
    backend = training.check_mode(mode)
    outdir = training.prepare_outdir(outdir)
    start_time = time.perf_counter()

    rng = np.random.default_rng(cfg.seed)
    net = SDA(rng, cfg.seed, hidden=tuple(cfg.hidden))
    fns = _Compiled(net, cfg, mode)
    tr_x, tr_d = data.train_images[:cfg.n_train], one_hot(data.train_labels[:cfg.n_train])
    te_x, te_labels = data.test_images[:cfg.n_test], data.test_labels[:cfg.n_test]
    config = json.loads(json.dumps(asdict(cfg)))
    history = {"pretrain_cost": [[] for _ in net.W], "finetune_cost": [], "finetune_accuracy": [],
               "seconds": [[] for _ in fns.phases]}
    loaded = training.resume_or_start(outdir, fns.variables, config, rng, resume, OUTPUTS,
                                      "finetune_epochs", "finetune_cost", "fine-tuning epochs")
    if loaded:
        history = loaded[0]["history"]

    def checkpoint(phase, epoch):
        training.save_checkpoint(outdir, fns.variables, {"config": config, "history": history,
                                                         "rng": training.rng_state(rng)})
        if on_epoch is not None:
            on_epoch(phase, epoch)

    batches = training.full_batches(cfg.n_train, cfg.batch_size)
    for k, train in enumerate(fns.pretrain):
        costs_k = history["pretrain_cost"][k]
        if len(costs_k) == cfg.pretrain_epochs:
            continue
        x = _codes(fns.encoders, tr_x, k)  # the report's loop does not shuffle
        for epoch in range(len(costs_k), cfg.pretrain_epochs):
            t0 = time.perf_counter()
            desc = f"sda layer {k + 1} epoch {epoch + 1}/{cfg.pretrain_epochs}"
            costs = _epoch(lambda s, e: train(x[s:e]), batches, desc, progress)
            costs_k.append(costs)
            history["seconds"][k].append(time.perf_counter() - t0)
            training.note_mode(history, backend)
            training.log(verbose, f"sda layer {k + 1} epoch {epoch + 1:3d}: cost {costs:.4f}  "
                                  f"({history['seconds'][k][-1]:.1f} s)")
            checkpoint(fns.phases[k], epoch)
        del x

    analysis_path = outdir / "pretrained.npz"
    if not analysis_path.is_file():
        if history["finetune_cost"]:
            raise training.UsageError(f"{analysis_path} is missing: the pretrained network's figures "
                                      f"cannot be drawn after fine-tuning began; start over")
        training.save_npz(analysis_path, _analyse(net, fns, te_x, cfg.seed))

    for epoch in range(len(history["finetune_cost"]), cfg.finetune_epochs):
        t0 = time.perf_counter()
        desc = f"sda fine-tune epoch {epoch + 1}/{cfg.finetune_epochs}"
        costs = _epoch(lambda s, e: fns.finetune(tr_x[s:e], tr_d[s:e]), batches, desc, progress)
        accuracy = float(np.mean(training.predict_in_chunks(fns.predict, te_x) == te_labels))
        history["finetune_cost"].append(costs)
        history["finetune_accuracy"].append(accuracy)
        history["seconds"][-1].append(time.perf_counter() - t0)
        training.note_mode(history, backend)
        training.log(verbose, f"sda fine-tune epoch {epoch + 1:3d}: cost {costs:.4f}  test accuracy "
                              f"{accuracy:.4f}  ({history['seconds'][-1][-1]:.1f} s)")
        checkpoint("finetune", epoch)

    with np.load(analysis_path) as z:
        analysis = {k: z[k] for k in z.files}
    sparse = cfg.sparse or cfg.penalty > 0
    result = {
        "experiment": "sda_sparse" if sparse else "sda",
        "title": "Part B Q3: SDA, momentum + sparsity" if sparse else "Part B Q1+Q2: SDA",
        "kind": "sda", "config": config, "momentum": cfg.gamma, "beta": cfg.penalty,
        "mode": training.modes_used(history, backend),
        "history": history,
        "final_pretrain_cost": [c[-1] for c in history["pretrain_cost"]],
        "final_train_cost": history["finetune_cost"][-1],
        "final_test_accuracy": history["finetune_accuracy"][-1],
        "mean_activation": [float(analysis[f"hidden{k + 1}"].mean()) for k in range(len(net.W))],
        "sample_reconstruction_cost": float(analysis["reconstruction_cost"]),
        "train_seconds": float(sum(map(sum, history["seconds"]))),
    }
    training.save_npz(outdir / "params.npz", {k: v.get_value() for k, v in fns.variables.items()})
    result["figures"] = [] if not figures else _figures(outdir, result, analysis, net.sizes)
    result["wall_seconds"] = time.perf_counter() - start_time
    result["complete"] = True
    training.write_csv(outdir / "metrics.csv", ["experiment", "phase", "epoch", "cost", "test_accuracy"],
                       metric_rows(result))
    training.write_json(outdir / "metrics.json", result)
    return result


def _epoch(step, batches, desc, progress) -> float:
    """Run ``step(start, end)`` on every batch; the mean cost (float64)."""
    costs = []
    bar = training.batch_bar(batches, desc, progress)
    for start, end in bar:
        costs.append(float(step(start, end)))
        bar.set_postfix(cost=f"{np.mean(costs):.4f}", refresh=False)
    return float(np.mean(costs, dtype="float64"))


def _analyse(net: SDA, fns: _Compiled, te_x, seed) -> dict:
    """What the report shows of the pretrained stack: 100 random test images,
    their reconstructions and hidden activations, 100 weights per layer."""
    pick = np.random.default_rng((seed, 1)).choice(len(te_x), min(N_SAMPLES, len(te_x)), replace=False)
    x = te_x[pick]
    z = fns.reconstruct(x).astype("float64")
    eps = 1e-12
    xent = -np.mean(np.sum(x * np.log(z + eps) + (1 - x) * np.log(1 - z + eps), axis=1))
    out = {"indices": pick, "images": x, "reconstructions": z, "reconstruction_cost": xent}
    for k, h in enumerate(fns.hidden(x)):
        out[f"hidden{k + 1}"] = h
        out[f"weights{k + 1}"] = net.W[k].get_value()[:, :N_SAMPLES].T  # 100 hidden units' inputs
    return out


def metric_rows(result) -> list:
    h, name = result["history"], result["experiment"]
    rows = [[name, f"pretrain_layer{k + 1}", i + 1, c, ""]
            for k, costs in enumerate(h["pretrain_cost"]) for i, c in enumerate(costs)]
    rows += [[name, "finetune", i + 1, c, a]
             for i, (c, a) in enumerate(zip(h["finetune_cost"], h["finetune_accuracy"]))]
    return rows


def _figures(outdir: Path, result, analysis, sizes) -> list[str]:
    fig_dir = outdir / "figures"
    fig_dir.mkdir(exist_ok=True)
    name, h = result["title"], result["history"]
    out = []
    for k, costs in enumerate(h["pretrain_cost"]):
        out.append(plots.curve(fig_dir / f"learning_curve_layer{k + 1}.png", costs,
                               f"{name}: learning curve of hidden layer {k + 1}", ylabel="cross-entropy"))
    for k in range(len(h["pretrain_cost"])):
        w = plots.square(analysis[f"weights{k + 1}"])
        out.append(plots.image_grid(fig_dir / f"weights_layer{k + 1}.png", w,
                                    f"{name}: weights of hidden layer {k + 1} ({w.shape[1]}x{w.shape[2]})"))
    out.append(plots.originals_and_reconstructions(
        fig_dir / "reconstructions.png", plots.square(analysis["images"]),
        plots.square(analysis["reconstructions"]), f"{name}: test images and reconstructions"))
    for k in range(len(h["pretrain_cost"])):
        a = plots.square(analysis[f"hidden{k + 1}"])
        out.append(plots.image_grid(fig_dir / f"activations_layer{k + 1}.png", a,
                                    f"{name}: activations of hidden layer {k + 1} ({sizes[k + 1]} units)",
                                    normalize=False))
    cost_label = "training cost (with sparsity penalty)" if result["beta"] else "training cost"
    out.append(plots.accuracy_and_cost(fig_dir / "finetune.png", h["finetune_accuracy"], h["finetune_cost"],
                                       f"{name}: fine-tuning", cost_label))
    return [str(Path(p).relative_to(outdir)) for p in out]
