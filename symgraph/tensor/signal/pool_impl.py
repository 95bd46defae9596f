"""Pure NumPy reference implementation of Theano's ``pool_2d`` and its gradient.

Pooling runs over the last two axes of an input of shape ``(..., h, w)``; any
leading axes are carried along.  Window ``ws = (wsh, wsw)``, ``stride``
(defaults to ``ws``) and zero padding ``pad = (ph, pw)`` follow Theano:

* output size (``pool_output_shape``), with ``ignore_border=True``:
  ``(h + 2*ph - wsh) // sh + 1``; with ``ignore_border=False`` (no padding
  allowed) the last window may be partial and is kept:
  ``(h - 1) // sh + 1`` if ``sh >= wsh`` else
  ``max(0, (h - 1 - wsh + sh) // sh) + 1``.
* output pixel ``(i, j)`` pools the region of the padded input starting at
  ``(i*sh, j*sw)`` of size ``ws``, cut at the border of the padded input.
* modes: ``'max'`` (padding never wins), ``'sum'`` (padding counts as zero),
  ``'average_inc_pad'`` (alias ``'average'``; divides by the number of region
  cells inside the padded input, i.e. the full window size except for a
  partial border window), ``'average_exc_pad'`` (divides by the number of
  non-padding cells in the region).

Theano requires ``pad < ws`` so that every window holds at least one real
input cell; this is enforced here too.

The implementation lays the input on a canvas (padding plus room for partial
border windows), takes a strided ``sliding_window_view`` and reduces it; the
gradient loops over the ``wsh * wsw`` window offsets only, never over pixels.
"""

from numbers import Integral

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["pool_output_shape", "pool2d_forward", "pool2d_grad"]

_MODES = ("max", "sum", "average_inc_pad", "average_exc_pad")


def _pair(value, name):
    """Normalise an int or a pair of ints to a tuple of two ints."""
    if isinstance(value, Integral) and not isinstance(value, bool):
        value = (value, value)
    if not (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, Integral) and not isinstance(v, bool) for v in value)
    ):
        raise ValueError(f"pool_2d: {name} must be an int or a tuple of two ints, got {value!r}")
    return int(value[0]), int(value[1])


def _mode(mode):
    if mode == "average":
        return "average_inc_pad"
    if mode not in _MODES:
        raise ValueError(f"pool_2d: unknown mode {mode!r}; expected one of {_MODES + ('average',)}")
    return mode


def _params(shape, ws, ignore_border, stride, pad):
    """Validate and normalise the pooling parameters."""
    shape = tuple(int(s) for s in shape)
    if len(shape) < 2:
        raise ValueError(f"pool_2d: input must have at least 2 dimensions, got shape {shape}")
    ws = _pair(ws, "ws")
    stride = ws if stride is None else _pair(stride, "stride")
    pad = _pair(pad, "pad")
    if min(ws) < 1:
        raise ValueError(f"pool_2d: window size must be positive, got {ws}")
    if min(stride) < 1:
        raise ValueError(f"pool_2d: stride must be positive, got {stride}")
    if min(pad) < 0:
        raise ValueError(f"pool_2d: padding must be non-negative, got {pad}")
    if not ignore_border and pad != (0, 0):
        raise ValueError(f"pool_2d: padding {pad} requires ignore_border=True")
    if pad[0] >= ws[0] or pad[1] >= ws[1]:
        raise ValueError(f"pool_2d: padding {pad} must be smaller than the window {ws}")
    if min(shape[-2:]) < 1:
        raise ValueError(f"pool_2d: pooled dimensions must be non-empty, got shape {shape}")
    return shape, ws, stride, pad


def _out_len(size, ws, stride, pad, ignore_border):
    if ignore_border:
        return (size + 2 * pad - ws) // stride + 1
    if stride >= ws:
        return (size - 1) // stride + 1
    return max(0, (size - 1 - ws + stride) // stride) + 1


def pool_output_shape(shape, ws, ignore_border, stride=None, pad=(0, 0)):
    """Shape of ``pool2d_forward`` on an input of ``shape`` (Theano's rule).

    Raises ``ValueError`` on invalid parameters or if the window is larger
    than the padded input with ``ignore_border=True``.
    """
    shape, ws, stride, pad = _params(shape, ws, ignore_border, stride, pad)
    h, w = shape[-2:]
    oh = _out_len(h, ws[0], stride[0], pad[0], ignore_border)
    ow = _out_len(w, ws[1], stride[1], pad[1], ignore_border)
    if oh <= 0 or ow <= 0:
        raise ValueError(
            f"pool_2d: window {ws} larger than padded input {(h + 2 * pad[0], w + 2 * pad[1])} "
            f"(input {(h, w)}, pad {pad})"
        )
    return shape[:-2] + (oh, ow)


def _geometry(shape, ws, ignore_border, stride, pad):
    """Normalised parameters plus the output shape and the canvas size."""
    out_shape = pool_output_shape(shape, ws, ignore_border, stride, pad)
    shape, ws, stride, pad = _params(shape, ws, ignore_border, stride, pad)
    (h, w), (oh, ow) = shape[-2:], out_shape[-2:]
    # The canvas holds the padded input and every (possibly partial) window.
    canvas = (
        max(h + 2 * pad[0], (oh - 1) * stride[0] + ws[0]),
        max(w + 2 * pad[1], (ow - 1) * stride[1] + ws[1]),
    )
    return shape, ws, stride, pad, out_shape, canvas


def _windows(a, ws, stride, out_hw):
    """Strided window view of ``a`` (..., H, W): shape (..., oh, ow, wsh, wsw)."""
    v = sliding_window_view(a, ws, axis=(-2, -1))[..., :: stride[0], :: stride[1], :, :]
    return v[..., : out_hw[0], : out_hw[1], :, :]


def _region_sizes(mode, shape, ws, stride, pad, out_hw, canvas):
    """Divisor per output pixel, shape (oh, ow), for the average modes."""
    h, w = shape[-2:]
    mask = np.zeros(canvas, dtype=np.int64)
    if mode == "average_inc_pad":
        mask[: h + 2 * pad[0], : w + 2 * pad[1]] = 1
    else:
        mask[pad[0] : pad[0] + h, pad[1] : pad[1] + w] = 1
    return _windows(mask, ws, stride, out_hw).sum(axis=(-2, -1))


def _lowest(dtype):
    if np.issubdtype(dtype, np.floating):
        return -np.inf
    if np.issubdtype(dtype, np.integer):
        return np.iinfo(dtype).min
    return False


def _average_dtype(dtype):
    return dtype if np.issubdtype(dtype, np.inexact) else np.dtype(np.float64)


def pool2d_forward(x, ws, ignore_border=True, stride=None, pad=(0, 0), mode="max"):
    """Theano ``pool_2d`` over the last two axes of ``x``.

    Returns an array of shape ``pool_output_shape(x.shape, ws, ignore_border,
    stride, pad)``; ``'max'`` and ``'sum'`` keep ``x.dtype``, the average modes
    return a floating dtype.
    """
    x = np.asarray(x)
    mode = _mode(mode)
    shape, ws, stride, pad, out_shape, canvas = _geometry(x.shape, ws, ignore_border, stride, pad)
    h, w = shape[-2:]
    out_hw = out_shape[-2:]
    fill = _lowest(x.dtype) if mode == "max" else 0
    xc = np.full(shape[:-2] + canvas, fill, dtype=x.dtype)
    xc[..., pad[0] : pad[0] + h, pad[1] : pad[1] + w] = x
    win = _windows(xc, ws, stride, out_hw)
    if mode == "max":
        return win.max(axis=(-2, -1))
    if mode == "sum":
        return win.sum(axis=(-2, -1), dtype=x.dtype)
    dtype = _average_dtype(x.dtype)
    sizes = _region_sizes(mode, shape, ws, stride, pad, out_hw, canvas)
    return (win.sum(axis=(-2, -1), dtype=dtype) / sizes.astype(dtype)).astype(dtype, copy=False)


def pool2d_grad(x, y, gy, ws, ignore_border=True, stride=None, pad=(0, 0), mode="max"):
    """Gradient of ``pool2d_forward`` with respect to ``x``.

    ``y`` is the forward output (only used by ``'max'``; ``None`` recomputes
    it) and ``gy`` the gradient of the output.  For ``'max'`` every input cell
    of a window that equals the window's maximum receives the window's
    gradient (ties all receive it, as in Theano); for ``'sum'`` and the
    average modes the gradient is spread over the window with the forward
    divisor.  Returns ``gx`` with the shape of ``x``.
    """
    x, gy = np.asarray(x), np.asarray(gy)
    mode = _mode(mode)
    shape, ws, stride, pad, out_shape, canvas = _geometry(x.shape, ws, ignore_border, stride, pad)
    if tuple(gy.shape) != out_shape:
        raise ValueError(f"pool_2d: output gradient has shape {tuple(gy.shape)}, expected {out_shape}")
    h, w = shape[-2:]
    oh, ow = out_hw = out_shape[-2:]
    dtype = np.result_type(x, gy)
    if mode == "max":
        if y is None:
            y = pool2d_forward(x, ws, ignore_border, stride, pad, mode)
        y = np.asarray(y)
        if tuple(y.shape) != out_shape:
            raise ValueError(f"pool_2d: forward output has shape {tuple(y.shape)}, expected {out_shape}")
        xc = np.full(shape[:-2] + canvas, _lowest(x.dtype), dtype=x.dtype)
        xc[..., pad[0] : pad[0] + h, pad[1] : pad[1] + w] = x
        win = _windows(xc, ws, stride, out_hw)
    elif mode != "sum":
        dtype = _average_dtype(dtype)
        sizes = _region_sizes(mode, shape, ws, stride, pad, out_hw, canvas)
        gy = gy.astype(dtype) / sizes.astype(dtype)
    gc = np.zeros(shape[:-2] + canvas, dtype=dtype)
    for a in range(ws[0]):
        for b in range(ws[1]):
            g = np.where(win[..., a, b] == y, gy, 0) if mode == "max" else gy
            # For a fixed offset the touched positions are distinct: plain +=.
            gc[..., a : a + stride[0] * (oh - 1) + 1 : stride[0], b : b + stride[1] * (ow - 1) + 1 : stride[1]] += g
    return np.ascontiguousarray(gc[..., pad[0] : pad[0] + h, pad[1] : pad[1] + w])
