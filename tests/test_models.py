"""models.cnn and models.sda: initialisation, graph shapes, the forward pass
and costs against NumPy/SciPy, short training runs on real MNIST, resume."""
import json

import numpy as np
import pytest
from scipy.signal import convolve2d

import symgraph as sg
from symgraph import tensor as T
from models import training
from models.cnn import CNN, CNNConfig, init_weights_bias2, init_weights_bias4, run_cnn
from models.datasets import MNIST, load_mnist, one_hot
from models.sda import SDA, SDAConfig, init_weights, run_sda, sparsity_penalty


def fake_mnist(n_train=300, n_test=120, seed=0):
    """Random images with labels: enough for shapes, resume and plumbing."""
    rng = np.random.default_rng(seed)
    return MNIST(rng.random((n_train, 784), dtype="float32"), rng.integers(0, 10, n_train),
                 rng.random((n_test, 784), dtype="float32"), rng.integers(0, 10, n_test))


# --- Part A -----------------------------------------------------------------

def test_cnn_init_follows_the_report():
    rng = np.random.default_rng(0)
    w, b = init_weights_bias4((15, 1, 9, 9), rng)
    bound = np.sqrt(6 / (81 + 15 * 81))
    assert w.shape == (15, 1, 9, 9) and w.dtype == np.float32 and b.shape == (15,) and not b.any()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    w, b = init_weights_bias4((20, 15, 5, 5), rng)
    assert np.abs(w).max() <= np.sqrt(6 / (15 * 25 + 20 * 25))
    w, b = init_weights_bias2((180, 100), rng)
    bound = np.sqrt(6 / 280)
    assert w.shape == (180, 100) and b.shape == (100,) and not b.any()
    assert bound * 0.95 < np.abs(w).max() <= bound


def numpy_cnn(x, p):
    """The report's model in NumPy/SciPy: true convolution, ReLU, 2x2 max pool."""
    def conv_relu(x, w, b):
        out = np.array([[sum(convolve2d(img[c], w[o, c], mode="valid") for c in range(len(img)))
                         for o in range(len(w))] for img in x])
        return np.maximum(out + b[None, :, None, None], 0)

    def pool(y):
        n, c, h, w = y.shape
        return y[:, :, :h // 2 * 2, :w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))

    y1 = conv_relu(x, p["w1"], p["b1"])
    o1 = pool(y1)
    y2 = conv_relu(o1, p["w2"], p["b2"])
    o2 = pool(y2)
    h = np.maximum(o2.reshape(len(x), -1) @ p["w3"] + p["b3"], 0)
    z = h @ p["w4"] + p["b4"]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return y1, o1, y2, o2, e / e.sum(axis=1, keepdims=True)


def test_cnn_graph_shapes_and_forward_pass():
    net = CNN(np.random.default_rng(1))
    for p in net.params:  # nonzero biases so that they are checked too
        if p.name.startswith("b"):
            p.set_value(np.linspace(-0.1, 0.1, len(p.get_value())).astype("float32"))
    fn = sg.function([net.X, net.Y], [net.y1, net.o1, net.y2, net.o2, net.p_y, net.cost], mode="python")
    x = np.random.default_rng(2).random((3, 1, 28, 28), dtype="float32")
    y = one_hot([3, 0, 9])
    *maps, cost = fn(x, y)
    assert [m.shape for m in maps] == [(3, 15, 20, 20), (3, 15, 10, 10), (3, 20, 6, 6), (3, 20, 3, 3), (3, 10)]
    want = numpy_cnn(x.astype("float64"), {p.name: p.get_value().astype("float64") for p in net.params})
    for got, expected in zip(maps, want):
        np.testing.assert_allclose(got, expected, rtol=2e-4, atol=1e-5)
    np.testing.assert_allclose(cost, -np.mean(np.log(want[-1][[0, 1, 2], [3, 0, 9]])), rtol=1e-5)


def test_cnn_short_training_on_real_mnist(mnist_dir, tmp_path):
    data = load_mnist(mnist_dir)
    cfg = CNNConfig(optimizer="rmsprop", epochs=3, n_train=700, n_test=300)
    result = run_cnn(cfg, data, tmp_path, mode="python", progress=False)
    cost, acc = result["history"]["train_cost"], result["history"]["test_accuracy"]
    assert len(cost) == 3 and cost[-1] < cost[0] - 0.3
    assert acc[-1] > 0.4  # chance is 0.1; about 0.6 here
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["complete"] and metrics["final_test_accuracy"] == acc[-1]
    for f in result["figures"]:
        assert (tmp_path / f).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(result["figures"]) == 3


def interrupt_after(n):
    calls = []

    def hook(*args):
        calls.append(args)
        if len(calls) == n:
            raise KeyboardInterrupt

    return hook


def test_cnn_resume_equals_uninterrupted(tmp_path):
    data = fake_mnist()
    cfg = CNNConfig(optimizer="momentum", epochs=3, n_train=40, n_test=30, batch_size=16, seed=5)
    run = dict(mode="python", progress=False, figures=False)
    whole = run_cnn(cfg, data, tmp_path / "a", **run)
    with pytest.raises(KeyboardInterrupt):
        run_cnn(cfg, data, tmp_path / "b", on_epoch=interrupt_after(1), **run)
    assert (tmp_path / "b" / "checkpoint.npz").exists() and not (tmp_path / "b" / "metrics.json").exists()
    resumed = run_cnn(cfg, data, tmp_path / "b", resume=True, **run)
    assert resumed["history"]["train_cost"] == whole["history"]["train_cost"]
    assert resumed["history"]["test_accuracy"] == whole["history"]["test_accuracy"]
    a, b = np.load(tmp_path / "a" / "params.npz"), np.load(tmp_path / "b" / "params.npz")
    assert sorted(a.files) == sorted(b.files) and "w1.velocity" in a.files
    for k in a.files:
        np.testing.assert_array_equal(a[k], b[k])
    # Another seed gives another run; other settings refuse to resume.
    other = run_cnn(CNNConfig(optimizer="momentum", epochs=1, n_train=40, n_test=30, batch_size=16, seed=6),
                    data, tmp_path / "c", **run)
    assert other["history"]["train_cost"][0] != whole["history"]["train_cost"][0]
    with pytest.raises(training.UsageError, match="settings differ.*n_test"):
        run_cnn(CNNConfig(optimizer="momentum", epochs=3, n_train=40, n_test=20, batch_size=16, seed=5), data,
                tmp_path / "b", resume=True, **run)


def test_cnn_bad_settings(tmp_path):
    data = fake_mnist()
    with pytest.raises(training.UsageError, match="unknown optimizer 'adagrad'"):
        run_cnn(CNNConfig(optimizer="adagrad"), data, tmp_path)
    with pytest.raises(training.UsageError, match="training subset size must be in"):
        run_cnn(CNNConfig(n_train=128), data, tmp_path)
    with pytest.raises(training.UsageError, match="epochs must be a positive integer"):
        run_cnn(CNNConfig(epochs=-1), data, tmp_path)
    with pytest.raises(training.UsageError, match="mode 'nope'"):
        run_cnn(CNNConfig(n_train=200, n_test=10), data, tmp_path, mode="nope")


# --- Part B -----------------------------------------------------------------

def test_sda_init_and_shapes():
    net = SDA(np.random.default_rng(0), seed=0)
    assert [w.get_value().shape for w in net.W] == [(784, 900), (900, 625), (625, 400)]
    assert [b.get_value().shape for b in net.b_prime] == [(784,), (900,), (625,)]
    assert net.W_out.get_value().shape == (400, 10)
    bound = 4 * np.sqrt(6 / (784 + 900))
    w1 = net.W[0].get_value()
    assert bound * 0.99 < np.abs(w1).max() <= bound
    assert not any(b.get_value().any() for b in net.b + net.b_prime + [net.b_out])
    x = T.matrix("x")
    fn = sg.function([x], net.hidden(x) + [net.reconstruct(x)], mode="python")
    outs = fn(np.random.default_rng(1).random((5, 784), dtype="float32"))
    assert [o.shape for o in outs] == [(5, 900), (5, 625), (5, 400), (5, 784)]
    assert all(((o > 0) & (o < 1)).all() for o in outs)
    assert init_weights(3, 4, np.random.default_rng(0)).shape == (3, 4)


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def test_sda_pretrain_cost_matches_the_report_formula():
    """With corruption 0 the cost is deterministic: compare with the report's
    cross-entropy and sparsity penalty, computed in NumPy."""
    rng = np.random.default_rng(3)
    net = SDA(rng, seed=0, n_in=16, hidden=(9, 4))
    for var in net.b + net.b_prime:
        var.set_value(rng.normal(0, 0.5, var.get_value().shape).astype("float32"))
    x = T.matrix("x")
    xv = rng.random((6, 9), dtype="float32")
    beta, rho = 0.5, 0.05
    got, got_sparse = sg.function([x], [net.pretrain_cost(x, 1, 0.0), net.pretrain_cost(x, 1, 0.0, beta, rho)],
                                  mode="python")(xv)
    W, b, bp = (v.get_value().astype("float64") for v in (net.W[1], net.b[1], net.b_prime[1]))
    xd = xv.astype("float64")
    y = sigmoid(xd @ W + b)
    z = sigmoid(y @ W.T + bp)
    xent = -np.mean(np.sum(xd * np.log(z) + (1 - xd) * np.log(1 - z), axis=1))
    rho_hat = y.mean(axis=0)
    kl = np.sum(rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat)))
    np.testing.assert_allclose(got, xent, rtol=1e-5)
    np.testing.assert_allclose(got_sparse, xent + beta * kl, rtol=1e-4)  # the report's 1e-6 is tiny here
    penalty = sg.function([x], sparsity_penalty(x, 9, beta, rho), mode="python")(xv)
    rho_hat = xd.mean(axis=0)
    report = (beta * 9 * (rho * np.log(rho) + (1 - rho) * np.log(1 - rho))
              - beta * rho * np.sum(np.log(rho_hat + 1e-6)) - beta * (1 - rho) * np.sum(np.log(1 - rho_hat + 1e-6)))
    np.testing.assert_allclose(penalty, report, rtol=1e-5)


def test_sda_corruption_is_seeded():
    def costs(seed, corruption=0.5):
        net = SDA(np.random.default_rng(0), seed=seed, n_in=16, hidden=(9,))
        x = T.matrix("x")
        fn = sg.function([x], net.pretrain_cost(x, 0, corruption), mode="python")
        xv = np.random.default_rng(1).random((50, 16), dtype="float32")
        return [float(fn(xv)) for _ in range(3)]

    first = costs(7)
    assert first == costs(7)  # same seed, same draws
    assert first != costs(8) and len(set(first)) == 3  # other seed, and fresh draws each call
    assert len(set(costs(7, corruption=0.0))) == 1


def test_sda_short_training_on_real_mnist(mnist_dir, tmp_path):
    data = load_mnist(mnist_dir)
    cfg = SDAConfig(pretrain_epochs=2, finetune_epochs=3, n_train=800, n_test=300)
    result = run_sda(cfg, data, tmp_path, mode="python", progress=False)
    h = result["history"]
    for costs in h["pretrain_cost"]:
        assert costs[1] < costs[0]
    assert h["finetune_cost"][-1] < h["finetune_cost"][0]
    assert h["finetune_accuracy"][-1] > 0.35  # chance is 0.1; about 0.5 here
    names = {f.split("/")[-1] for f in result["figures"]}
    assert {"learning_curve_layer3.png", "weights_layer2.png", "reconstructions.png",
            "activations_layer1.png", "finetune.png"} <= names and len(names) == 11
    with np.load(tmp_path / "pretrained.npz") as z:
        assert z["images"].shape == (100, 784) and z["weights2"].shape == (100, 900)
        assert z["hidden3"].shape == (100, 400)


def test_sda_resume_equals_uninterrupted(tmp_path):
    """Interrupted inside layer 2, after the last pretraining epoch (before
    the pretrained snapshot) and inside fine-tuning; resumed each time."""
    data = fake_mnist(n_train=100, n_test=100)
    cfg = SDAConfig(sparse=True, pretrain_epochs=2, finetune_epochs=2, n_train=100, n_test=100,
                    batch_size=32, hidden=(100, 64, 36), seed=3)
    run = dict(mode="python", progress=False, figures=False)
    whole = run_sda(cfg, data, tmp_path / "a", **run)
    for stop in (3, 3, 1):  # epochs run before each interruption: L1 x2, L2 x1 | L2, L3 x2 | FT x1
        with pytest.raises(KeyboardInterrupt):
            run_sda(cfg, data, tmp_path / "b", resume=True, on_epoch=interrupt_after(stop), **run)
    resumed = run_sda(cfg, data, tmp_path / "b", resume=True, **run)
    assert resumed["history"]["pretrain_cost"] == whole["history"]["pretrain_cost"]
    assert resumed["history"]["finetune_cost"] == whole["history"]["finetune_cost"]
    assert resumed["history"]["finetune_accuracy"] == whole["history"]["finetune_accuracy"]
    a, b = np.load(tmp_path / "a" / "params.npz"), np.load(tmp_path / "b" / "params.npz")
    assert sorted(a.files) == sorted(b.files)
    assert {"W1", "layer1/W1.velocity", "finetune/W1.velocity", "corruption/rng_state_0"} <= set(a.files)
    for k in a.files:
        np.testing.assert_array_equal(a[k], b[k])
    pa, pb = np.load(tmp_path / "a" / "pretrained.npz"), np.load(tmp_path / "b" / "pretrained.npz")
    np.testing.assert_array_equal(pa["reconstructions"], pb["reconstructions"])
