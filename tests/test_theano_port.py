"""The report's Theano code (tests/theano_port/), ported by changing only its
imports, trains on real MNIST: costs fall and the CNN beats chance by far.
Runs in mode 'python' (the reference backend), set through config.mode so
that the ported code stays verbatim."""
import numpy as np
import pytest

import symgraph
from models.datasets import load_mnist, one_hot
from theano_port import report_cnn, report_sda


@pytest.fixture(autouse=True)
def python_mode(monkeypatch):
    monkeypatch.setattr(symgraph.config, "mode", "python")


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    return load_mnist(mnist_dir)


@pytest.fixture(scope="module")
def cnn_data(mnist):
    """The report's layout: one-hot targets; the first 2560 training and
    500 test images (a subset, to keep the test short)."""
    trX, trY = mnist.train_images[:2560], one_hot(mnist.train_labels[:2560])
    teX, teY = mnist.test_images[:500], one_hot(mnist.test_labels[:500])
    return trX, trY, teX, teY


def _falls(costs, n=20, factor=0.8):
    first, last = np.mean(costs[:n]), np.mean(costs[-n:])
    assert np.all(np.isfinite(costs))
    assert last < factor * first, (first, last)


@pytest.mark.slow
@pytest.mark.parametrize("optimizer, steps, min_accuracy", [("sgd", 150, 0.6), ("momentum", 60, 0.5),
                                                            ("rmsprop", 60, 0.5)])
def test_cnn_trains(cnn_data, optimizer, steps, min_accuracy):
    np.random.seed(1234)
    train, predict, test1, test2 = report_cnn.build(optimizer)
    trX, trY, teX, teY = cnn_data
    costs, accuracy = report_cnn.train_loop(train, predict, trX, trY, teX, teY, max_steps=steps)
    assert len(costs) == steps
    assert costs[0] == pytest.approx(np.log(10), rel=0.15)  # untrained: about uniform over 10 classes
    _falls(costs)
    assert accuracy[-1] > min_accuracy  # chance is 0.1
    if optimizer == "sgd":
        images = teX[:7].reshape(-1, 1, 28, 28)
        y1, o1 = test1(images)
        y2, o2 = test2(images)
        assert [a.shape for a in (y1, o1, y2, o2)] == [(7, 15, 20, 20), (7, 15, 10, 10), (7, 20, 6, 6),
                                                       (7, 20, 3, 3)]
        assert all(a.dtype == np.float32 and (a >= 0).all() for a in (y1, o1, y2, o2))  # ReLU maps
        np.testing.assert_array_equal(o1, y1.reshape(7, 15, 10, 2, 10, 2).max(axis=(3, 5)))  # 2x2 max pool
        np.testing.assert_array_equal(o2, y2.reshape(7, 20, 3, 2, 3, 2).max(axis=(3, 5)))


@pytest.mark.slow
@pytest.mark.parametrize("sparsity", [False, True])
def test_denoising_autoencoder_layer1_trains(mnist, sparsity):
    np.random.seed(99)
    train_da1, encoder1, (W1, b1, b1_prime) = report_sda.build_da1(sparsity=sparsity)
    assert W1.get_value().shape == (784, 900)
    W_before = W1.get_value()
    costs = report_sda.train_steps(train_da1, mnist.train_images[:6400], steps=200)
    _falls(costs, factor=0.6)
    assert not np.array_equal(W1.get_value(), W_before)
    codes = encoder1(mnist.test_images[:10])
    assert codes.shape == (10, 900) and codes.dtype == np.float32
    assert ((codes >= 0) & (codes <= 1)).all()
    if sparsity:  # the penalty pushes the mean activation down towards rho = 0.05
        assert codes.mean() < 0.3
