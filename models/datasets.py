"""MNIST from the four standard IDX files (plain or gzip'd).

Where the files are looked for, first match wins: the ``path`` argument of
:func:`load_mnist`, the folder named by the environment variable
``SYMGRAPH_MNIST``, or the user cache ``$XDG_CACHE_HOME/symgraph/mnist``
(``~/.cache/symgraph/mnist``). Only the cache is downloaded into by default.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ENV_VAR = "SYMGRAPH_MNIST"
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
# sha256 of the decompressed files.
SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
FILES = tuple(SHA256)
_COUNTS = {"train": 60000, "t10k": 10000}
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_HINT = (f"To fix: pass load_mnist(path=...) a folder holding the four IDX files, "
         f"or set {ENV_VAR} to such a folder")
_cache: dict[tuple, "MNIST"] = {}


class MNISTNotFoundError(FileNotFoundError):
    """The MNIST files are not where they were looked for and could not be downloaded."""


class MNISTCorruptError(ValueError):
    """An MNIST/IDX file is malformed, truncated or fails its checksum."""


@dataclass(frozen=True, eq=False)
class MNIST:
    """The MNIST set: images as float32 (N, 784) in [0, 1], labels as int64 (N,).

    The arrays are read-only because they are shared by the in-process cache;
    copy them before modifying in place.
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def _read_bytes(filename) -> bytes:
    """Return the contents of ``filename``, gunzipped if it starts with 1f 8b."""
    data = Path(filename).read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise MNISTCorruptError(f"{filename}: bad gzip data ({e})") from None
    return data


def _parse_idx(data: bytes, filename, expected_magic: int | None = None) -> np.ndarray:
    if len(data) < 4 or len(data) < 4 + 4 * data[3]:
        raise MNISTCorruptError(f"{filename}: truncated IDX header ({len(data)} bytes)")
    magic, code, ndim, header = int.from_bytes(data[:4], "big"), data[2], data[3], 4 + 4 * data[3]
    if expected_magic is not None and magic != expected_magic:
        raise MNISTCorruptError(f"{filename}: bad IDX magic {magic}, expected {expected_magic}")
    if data[:2] != b"\0\0" or code not in _IDX_DTYPES or ndim == 0:
        raise MNISTCorruptError(f"{filename}: not an IDX file (magic {magic:#010x})")
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", ndim, 4))
    dtype = np.dtype(_IDX_DTYPES[code])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "has trailing bytes"
        raise MNISTCorruptError(f"{filename}: {what}: {len(data)} bytes, "
                                f"expected {expected} for shape {shape}")
    return np.frombuffer(data, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(filename, expected_magic: int | None = None) -> np.ndarray:
    """Read an IDX file (gzip'd or not, detected by its magic bytes) into an array.

    The header is checked strictly: two zero bytes, a known type code, and a
    data size matching the dimensions exactly. ``expected_magic`` (e.g. 2051
    for ubyte 3-d images, 2049 for ubyte 1-d labels) is checked if given.
    Raises :class:`MNISTCorruptError` naming the file on any problem.
    """
    return _parse_idx(_read_bytes(filename), filename, expected_magic)


def _check_sha256(data: bytes, name: str, filename) -> None:
    actual = hashlib.sha256(data).hexdigest()
    if actual != SHA256[name]:
        raise MNISTCorruptError(f"{filename}: sha256 mismatch (of the decompressed bytes): "
                                f"expected {SHA256[name]}, got {actual}")


def cache_dir() -> Path:
    """The default download folder: ``$XDG_CACHE_HOME/symgraph/mnist`` or ``~/.cache/...``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "symgraph" / "mnist"


def _fetch(url: str, dest: Path) -> None:
    """Download ``url`` to the file ``dest`` (module-level so tests can replace it)."""
    with urllib.request.urlopen(url, timeout=60) as r, open(dest, "wb") as f:
        shutil.copyfileobj(r, f)


def _download(name: str, folder: Path) -> None:
    """Fetch ``name``.gz from the first mirror that gives verified data; atomic rename."""
    folder.mkdir(parents=True, exist_ok=True)
    errors = []
    for mirror in MIRRORS:
        url = mirror + name + ".gz"
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=name, suffix=".part")
        os.close(fd)
        try:
            _fetch(url, Path(tmp))
            _check_sha256(_read_bytes(tmp), name, url)
            os.replace(tmp, folder / (name + ".gz"))
            return
        except Exception as e:  # network error or bad data: try the next mirror
            errors.append(f"  {url}: {e}")
        finally:
            Path(tmp).unlink(missing_ok=True)
    raise MNISTNotFoundError(f"could not download {name} into {folder}; tried:\n"
                             + "\n".join(errors) + "\n" + _HINT)


def _find(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / (name + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def load_mnist(path=None, download: bool | None = None, verify: bool = True) -> MNIST:
    """Load MNIST as an :class:`MNIST` (float32 images in [0, 1], int64 labels).

    ``path``: folder with the four IDX files (each plain or ``.gz``); default
    ``$SYMGRAPH_MNIST``, else :func:`cache_dir`. ``download``: fetch missing
    files from a public mirror into that folder (downloads are always checked
    against the known sha256); default True only for the cache. ``verify``:
    check the sha256 of the decompressed files and the 60000/10000 counts.
    Parsed sets are cached in-process per (folder, verify, file stamps).
    Raises :class:`MNISTNotFoundError` or :class:`MNISTCorruptError`.
    """
    if path is not None:
        folder, source = Path(path), "the path argument"
    elif os.environ.get(ENV_VAR):
        folder, source = Path(os.environ[ENV_VAR]), f"${ENV_VAR}"
    else:
        folder, source = cache_dir(), "the default cache"
        download = True if download is None else download
    folder = folder.expanduser().resolve()
    missing = [n for n in FILES if _find(folder, n) is None]
    if missing and download:
        for name in missing:
            _download(name, folder)
    elif missing:
        raise MNISTNotFoundError(
            f"MNIST files not found in {folder} (from {source}); missing: "
            f"{', '.join(missing)} (plain or .gz). {_HINT}, or allow download "
            f"with load_mnist(download=True) (downloads into that folder).")
    paths = [_find(folder, n) for n in FILES]
    key = (str(folder), verify, tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size)
                                      for p in paths))
    if key not in _cache:
        _cache[key] = _load(dict(zip(FILES, paths)), verify)
    return _cache[key]


def _load(paths: dict[str, Path], verify: bool) -> MNIST:
    out = []
    for split in ("train", "t10k"):
        pair = []
        for kind, magic in (("images-idx3", 2051), ("labels-idx1", 2049)):
            name = f"{split}-{kind}-ubyte"
            p, data = paths[name], _read_bytes(paths[name])
            if verify:
                _check_sha256(data, name, p)
            arr = _parse_idx(data, p, magic)
            if magic == 2051 and arr.shape[1:] != (28, 28):
                raise MNISTCorruptError(f"{p}: images are {arr.shape[1:]}, expected (28, 28)")
            if verify and len(arr) != _COUNTS[split]:
                raise MNISTCorruptError(f"{p}: {len(arr)} items, expected {_COUNTS[split]}")
            pair.append(arr)
        images, labels = pair
        if len(images) != len(labels):
            raise MNISTCorruptError(f"{split}: {len(images)} images but {len(labels)} labels "
                                    f"in {paths[name].parent}")
        images = images.reshape(len(images), 784).astype(np.float32) / np.float32(255)
        out += [images, labels.astype(np.int64)]
    for arr in out:
        arr.flags.writeable = False  # shared by the in-process cache
    return MNIST(*out)


def one_hot(labels, n_classes: int = 10, dtype="float32") -> np.ndarray:
    """Return the (N, n_classes) one-hot matrix of integer ``labels`` (shape (N,)).

    Raises ValueError if a label is outside ``[0, n_classes)``.
    """
    labels = np.asarray(labels)
    labels = labels.astype(np.int64) if labels.size == 0 else labels
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be a 1-d integer array, got {labels.dtype} {labels.shape}")
    bad = (labels < 0) | (labels >= n_classes)
    if bad.any():
        raise ValueError(f"label {labels[bad][0]} out of range [0, {n_classes})")
    out = np.zeros((len(labels), n_classes), dtype=dtype)
    out[np.arange(len(labels)), labels] = 1
    return out


def shuffle(x, y, rng: np.random.Generator):
    """Return ``(x[p], y[p])`` for one random permutation ``p`` drawn from ``rng``."""
    if len(x) != len(y):
        raise ValueError(f"x and y differ in length: {len(x)} != {len(y)}")
    p = rng.permutation(len(x))
    return x[p], y[p]
