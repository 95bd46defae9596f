"""The report's figures, drawn headless (matplotlib's ``Figure`` with the
Agg canvas; pyplot is never imported). Each function writes one PNG and
returns its path."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator


def _save(fig: Figure, path) -> Path:
    FigureCanvasAgg(fig)
    path = Path(path)
    fig.savefig(path, dpi=100)
    return path


def montage(images, ncols=None, pad=1, normalize=True) -> np.ndarray:
    """Tile ``images`` (n, h, w) into one 2-d array, ``ncols`` per row (default
    about sqrt(n)), with ``pad`` pixels of separation (NaN, drawn blank).
    ``normalize`` scales each image to [0, 1] on its own (a constant image
    becomes 0)."""
    images = np.asarray(images, dtype="float64")
    n, h, w = images.shape
    ncols = ncols or int(np.ceil(np.sqrt(n)))
    nrows = int(np.ceil(n / ncols))
    if normalize:
        lo = images.min(axis=(1, 2), keepdims=True)
        span = images.max(axis=(1, 2), keepdims=True) - lo
        images = np.where(span > 0, (images - lo) / np.where(span > 0, span, 1), 0.0)
    out = np.full((nrows * (h + pad) - pad, ncols * (w + pad) - pad), np.nan)
    for i, img in enumerate(images):
        r, c = divmod(i, ncols)
        out[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = img
    return out


def square(vectors) -> np.ndarray:
    """Rows of length k*k as (n, k, k) images; raises ValueError otherwise."""
    vectors = np.asarray(vectors)
    side = int(round(np.sqrt(vectors.shape[1])))
    if side * side != vectors.shape[1]:
        raise ValueError(f"rows of length {vectors.shape[1]} are not square images")
    return vectors.reshape(len(vectors), side, side)


def _epochs_axis(ax, xlabel="epochs"):
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(xlabel)
    ax.grid(alpha=0.3)


def _image(ax, img, title=None):
    ax.imshow(img, cmap="gray", interpolation="nearest", vmin=0, vmax=1)  # montages are in [0, 1]
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)


def curve(path, values, title, xlabel="epochs", ylabel="cost"):
    """One curve, its minimum annotated (the report's learning curves)."""
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    epochs = np.arange(1, len(values) + 1)
    ax.plot(epochs, values, marker="." if len(values) < 30 else None)
    if len(values):
        i = int(np.argmin(values))
        ax.annotate(f"min {values[i]:.4g} (epoch {i + 1})", (epochs[i], values[i]),
                    xytext=(0.5, 0.9), textcoords="axes fraction", arrowprops=dict(arrowstyle="->"))
    ax.set(ylabel=ylabel, title=title)
    _epochs_axis(ax, xlabel)
    return _save(fig, path)


def accuracy_and_cost(path, accuracy, cost, title, cost_label="training cost"):
    """Test accuracy and training cost per epoch, side by side."""
    fig = Figure(figsize=(11, 4), layout="constrained")
    fig.suptitle(title)
    epochs = np.arange(1, len(cost) + 1)
    for ax, values, label in zip(fig.subplots(1, 2), (accuracy, cost), ("test accuracy", cost_label)):
        ax.plot(epochs, values, marker="." if len(values) < 30 else None)
        ax.set(ylabel=label, title=label)
        _epochs_axis(ax)
    return _save(fig, path)


def comparison(path, series: dict, ylabel, title, log=False):
    """Several per-epoch curves (name -> values) on one axis."""
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.add_subplot()
    for name, values in series.items():
        ax.plot(np.arange(1, len(values) + 1), values, label=name)
    if log:
        ax.set_yscale("log")
    ax.set(ylabel=ylabel, title=title)
    _epochs_axis(ax)
    ax.legend()
    return _save(fig, path)


def feature_maps(path, pattern, layers: dict, title):
    """A test pattern (h, w) and, per layer name, its maps (channels, h, w)
    tiled in a grid, each map scaled to its own range (all-zero maps black)."""
    fig = Figure(figsize=(3 * (len(layers) + 1), 3.6), layout="constrained")
    fig.suptitle(title)
    axes = fig.subplots(1, len(layers) + 1)
    _image(axes[0], pattern, "input")
    for ax, (name, maps) in zip(axes[1:], layers.items()):
        _image(ax, montage(maps, ncols=5), f"{name}: {len(maps)} maps")
    return _save(fig, path)


def image_grid(path, images, title, ncols=10, normalize=True):
    """Images (n, h, w) in a grid (100 of them make the report's 10x10)."""
    fig = Figure(figsize=(6, 6.4), layout="constrained")
    _image(fig.add_subplot(), montage(images, ncols=ncols, normalize=normalize), title)
    return _save(fig, path)


def originals_and_reconstructions(path, originals, reconstructions, title, ncols=10):
    """Two grids side by side: (a) originals, (b) their reconstructions (n, h, w)."""
    fig = Figure(figsize=(12, 6.4), layout="constrained")
    fig.suptitle(title)
    a, b = fig.subplots(1, 2)
    _image(a, montage(originals, ncols, normalize=False), "(a) original")
    _image(b, montage(reconstructions, ncols, normalize=False), "(b) reconstructed")
    return _save(fig, path)
