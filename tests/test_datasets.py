"""Tests for models.datasets (MNIST loading from IDX files)."""
import gzip
import hashlib
import os
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from models import datasets
from models.datasets import (MNISTCorruptError, MNISTNotFoundError, load_mnist,
                             one_hot, read_idx, shuffle)

N_TRAIN, N_TEST = 5, 3
REAL_MNIST_ENV = os.environ.get("SYMGRAPH_MNIST")  # read before isolated_env clears it


def idx_bytes(arr, magic=None):
    arr = np.asarray(arr, dtype=np.uint8)
    magic = 0x0800 + arr.ndim if magic is None else magic
    return struct.pack(">I", magic) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


def tiny_arrays(seed=0):
    rng = np.random.default_rng(seed)
    return {
        "train-images-idx3-ubyte": rng.integers(0, 256, (N_TRAIN, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, N_TRAIN, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (N_TEST, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, N_TEST, dtype=np.uint8),
    }


def write_set(folder, arrays, gz=True):
    folder.mkdir(parents=True, exist_ok=True)
    for name, arr in arrays.items():
        data = idx_bytes(arr)
        if gz:
            (folder / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return folder


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    monkeypatch.delenv("SYMGRAPH_MNIST", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))


@pytest.mark.parametrize("gz", [True, False])
def test_load_tiny(tmp_path, gz):
    arrays = tiny_arrays()
    m = load_mnist(write_set(tmp_path / "d", arrays, gz=gz), verify=False)
    assert m.train_images.shape == (N_TRAIN, 784) and m.test_images.shape == (N_TEST, 784)
    assert m.train_images.dtype == np.float32 and m.train_labels.dtype == np.int64
    np.testing.assert_allclose(
        m.train_images, arrays["train-images-idx3-ubyte"].reshape(N_TRAIN, 784) / 255, rtol=1e-6)
    assert 0 <= m.test_images.min() and m.test_images.max() <= 1
    np.testing.assert_array_equal(m.train_labels, arrays["train-labels-idx1-ubyte"])
    np.testing.assert_array_equal(m.test_labels, arrays["t10k-labels-idx1-ubyte"])
    assert load_mnist(tmp_path / "d", verify=False) is m  # in-process cache


def test_read_idx_detects_gzip_by_magic(tmp_path):
    arr = np.arange(12, dtype=np.uint8).reshape(3, 4)
    f = tmp_path / "no_extension"
    f.write_bytes(gzip.compress(idx_bytes(arr)))
    np.testing.assert_array_equal(read_idx(f), arr)


def corrupt(tmp_path, name, data):
    folder = write_set(tmp_path / "d", tiny_arrays(), gz=False)
    (folder / name).write_bytes(data)
    return folder


@pytest.mark.parametrize("make,msg", [
    (lambda d: idx_bytes(np.zeros((2, 28, 28)), magic=2049), "magic"),
    (lambda d: d[:-10], "truncated"),
    (lambda d: d[:6], "truncated"),
    (lambda d: gzip.compress(d)[:-20], "gzip"),
    (lambda d: b"\x1f\x8b" + b"garbage" * 10, "gzip"),
])
def test_corrupt_files(tmp_path, make, msg):
    name = "train-images-idx3-ubyte"
    folder = corrupt(tmp_path, name, make(idx_bytes(tiny_arrays()[name])))
    with pytest.raises(MNISTCorruptError, match=msg) as e:
        load_mnist(folder, verify=False)
    assert name in str(e.value)


def test_checksum_mismatch(tmp_path):
    folder = write_set(tmp_path / "d", tiny_arrays())
    with pytest.raises(MNISTCorruptError, match="sha256") as e:
        load_mnist(folder)
    assert "train-images-idx3-ubyte" in str(e.value)
    assert datasets.SHA256["train-images-idx3-ubyte"] in str(e.value)


def test_missing_folder(tmp_path):
    folder = tmp_path / "nowhere"
    with pytest.raises(MNISTNotFoundError, match="SYMGRAPH_MNIST") as e:
        load_mnist(folder)
    assert str(folder) in str(e.value)
    assert isinstance(e.value, FileNotFoundError)


def test_env_var(tmp_path, monkeypatch):
    arrays = tiny_arrays(seed=1)
    monkeypatch.setenv("SYMGRAPH_MNIST", str(write_set(tmp_path / "env", arrays)))
    m = load_mnist(verify=False)
    np.testing.assert_array_equal(m.test_labels, arrays["t10k-labels-idx1-ubyte"])
    monkeypatch.setenv("SYMGRAPH_MNIST", str(tmp_path / "empty"))
    with pytest.raises(MNISTNotFoundError, match="empty"):
        load_mnist()  # no download by default when the env var names the folder


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A fake mirror in tmp_path/mirror; SHA256 and counts patched to the tiny files'."""
    arrays = tiny_arrays(seed=2)
    src = write_set(tmp_path / "mirror", arrays)
    monkeypatch.setattr(datasets, "SHA256", {
        n: hashlib.sha256(idx_bytes(a)).hexdigest() for n, a in arrays.items()})
    monkeypatch.setattr(datasets, "_COUNTS", {"train": N_TRAIN, "t10k": N_TEST})
    monkeypatch.setattr(datasets, "MIRRORS", ("https://broken.invalid/", "https://ok.invalid/"))
    calls = []

    def fake_fetch(url, dest):
        calls.append(url)
        if url.startswith("https://broken.invalid/"):
            raise OSError("mirror down")
        shutil.copyfile(src / url.rsplit("/", 1)[1], dest)

    monkeypatch.setattr(datasets, "_fetch", fake_fetch)
    return arrays, calls


def test_download_into_cache(tmp_path, mirror):
    arrays, calls = mirror
    m = load_mnist()
    cache = tmp_path / "xdg" / "symgraph" / "mnist"
    assert sorted(os.listdir(cache)) == sorted(n + ".gz" for n in datasets.FILES)
    assert len(calls) == 8  # every file: broken mirror first, then the good one
    np.testing.assert_array_equal(m.train_labels, arrays["train-labels-idx1-ubyte"])
    calls.clear()
    load_mnist()
    assert calls == []  # already cached


def test_download_rejects_bad_data(tmp_path, mirror, monkeypatch):
    monkeypatch.setitem(datasets.SHA256, "t10k-labels-idx1-ubyte", "0" * 64)
    with pytest.raises(MNISTNotFoundError, match="sha256"):
        load_mnist()
    cache = tmp_path / "xdg" / "symgraph" / "mnist"
    assert "t10k-labels-idx1-ubyte.gz" not in os.listdir(cache)
    assert not any(f.endswith(".part") for f in os.listdir(cache))


def test_no_download_when_disabled(tmp_path, mirror):
    with pytest.raises(MNISTNotFoundError, match="download"):
        load_mnist(download=False)
    assert mirror[1] == []


def test_one_hot():
    np.testing.assert_array_equal(one_hot([2, 0], 3), [[0, 0, 1], [1, 0, 0]])
    assert one_hot(np.array([1]), dtype="float64").dtype == np.float64
    with pytest.raises(ValueError, match="out of range"):
        one_hot([0, 10])
    with pytest.raises(ValueError, match="out of range"):
        one_hot([-1])


def test_shuffle():
    x, y = np.arange(10) * 10, np.arange(10)
    xs, ys = shuffle(x, y, np.random.default_rng(0))
    np.testing.assert_array_equal(xs, ys * 10)
    assert sorted(ys) == list(range(10)) and not np.array_equal(ys, y)


@pytest.fixture
def real_mnist_dir():
    env = REAL_MNIST_ENV
    folder = Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared/data/mnist"
    if not folder.is_dir():
        pytest.skip(f"real MNIST not found at {folder} (set SYMGRAPH_MNIST to the IDX folder)")
    return folder


def test_real_mnist(real_mnist_dir):
    m = load_mnist(real_mnist_dir, verify=True)
    assert m.train_images.shape == (60000, 784) and m.test_images.shape == (10000, 784)
    assert m.train_images.dtype == np.float32 and 0 <= m.train_images.min() <= m.train_images.max() <= 1
    assert np.bincount(m.train_labels).tolist() == [
        5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(m.test_labels).tolist() == [
        980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
