"""Pure NumPy reference implementation of Theano's ``conv2d`` and its gradients.

Layout is NCHW: the input ``x`` has shape ``(n, c, h, w)`` and the filters
``w`` have shape ``(k, c, kh, kw)``; the output has shape ``(n, k, oh, ow)``.

With ``flip=True`` (Theano's default) the operation is a true convolution: the
kernel is flipped in both spatial dimensions, i.e. the result equals the
cross-correlation with ``w[:, :, ::-1, ::-1]``.  With ``flip=False`` it is a
plain cross-correlation::

    y[n, k, i, j] = sum_{c, a, b} xp[n, c, i*sh + a, j*sw + b] * wk[k, c, a, b]

where ``xp`` is ``x`` zero-padded by ``(ph, pw)`` on each side and ``wk`` is the
(possibly flipped) kernel.

The forward pass uses im2col (a strided ``sliding_window_view``) followed by a
single ``tensordot``.  The gradients are the exact adjoints of that linear map;
they loop over the ``kh * kw`` kernel offsets only, never over pixels.

``pad`` arguments accept either a ``(ph, pw)`` tuple or anything ``conv_pad``
understands (``'valid'``, ``'full'``, ``'half'``, an int); ``stride`` accepts a
``(sh, sw)`` tuple or a single positive int.
"""

from numbers import Integral

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "conv_pad",
    "conv2d_output_shape",
    "conv2d_forward",
    "conv2d_grad_input",
    "conv2d_grad_weights",
]


def _is_int(v):
    return isinstance(v, Integral) and not isinstance(v, bool)


def conv_pad(border_mode, kshape):
    """Return the ``(ph, pw)`` zero padding for a Theano ``border_mode``.

    ``kshape`` is the filter shape; only its last two entries ``(kh, kw)`` are
    used, so both ``(kh, kw)`` and a full ``(k, c, kh, kw)`` shape work.

    * ``'valid'`` -> ``(0, 0)``
    * ``'full'``  -> ``(kh - 1, kw - 1)``
    * ``'half'``  -> ``(kh // 2, kw // 2)``
    * ``p`` (int) -> ``(p, p)``
    * ``(ph, pw)`` -> as is

    Padding values must be non-negative integers; anything else raises
    ``ValueError``.
    """
    if isinstance(border_mode, str):
        kshape = tuple(kshape)
        if len(kshape) < 2:
            raise ValueError(f"conv_pad: kshape must have at least 2 entries (kh, kw), got {kshape!r}")
        kh, kw = int(kshape[-2]), int(kshape[-1])
        if border_mode == "valid":
            return (0, 0)
        if border_mode == "full":
            return (kh - 1, kw - 1)
        if border_mode == "half":
            return (kh // 2, kw // 2)
        raise ValueError(
            f"conv_pad: unknown border_mode {border_mode!r}; expected 'valid', 'full', "
            "'half', a non-negative int or a tuple of two non-negative ints"
        )
    if _is_int(border_mode):
        if border_mode < 0:
            raise ValueError(f"conv_pad: padding must be non-negative, got {border_mode}")
        return (int(border_mode), int(border_mode))
    if isinstance(border_mode, (tuple, list)) and len(border_mode) == 2 and all(_is_int(p) for p in border_mode):
        ph, pw = int(border_mode[0]), int(border_mode[1])
        if ph < 0 or pw < 0:
            raise ValueError(f"conv_pad: padding must be non-negative, got {tuple(border_mode)}")
        return (ph, pw)
    raise ValueError(
        f"conv_pad: invalid border_mode {border_mode!r}; expected 'valid', 'full', "
        "'half', a non-negative int or a tuple of two non-negative ints"
    )


def _stride(stride):
    """Normalise ``stride`` to a tuple of two positive ints."""
    if _is_int(stride):
        stride = (stride, stride)
    if not (isinstance(stride, (tuple, list)) and len(stride) == 2 and all(_is_int(s) for s in stride)):
        raise ValueError(f"conv2d: stride must be an int or a tuple of two ints, got {stride!r}")
    sh, sw = int(stride[0]), int(stride[1])
    if sh < 1 or sw < 1:
        raise ValueError(f"conv2d: stride must be positive, got {(sh, sw)}")
    return sh, sw


def conv2d_output_shape(xshape, wshape, pad, stride):
    """Output shape ``(n, k, oh, ow)`` of ``conv2d`` on ``xshape`` with filters ``wshape``.

    ``oh = (h + 2*ph - kh) // sh + 1`` (and likewise for ``ow``).  Raises
    ``ValueError`` if the shapes are not 4-d, the channel counts differ, or the
    output would be empty (filter larger than the padded input).
    """
    xshape, wshape = tuple(int(s) for s in xshape), tuple(int(s) for s in wshape)
    if len(xshape) != 4:
        raise ValueError(f"conv2d: input must be 4-d (n, c, h, w), got shape {xshape}")
    if len(wshape) != 4:
        raise ValueError(f"conv2d: filters must be 4-d (k, c, kh, kw), got shape {wshape}")
    n, c, h, w = xshape
    k, wc, kh, kw = wshape
    if c != wc:
        raise ValueError(
            f"conv2d: channel mismatch: input {xshape} has {c} channels, filters {wshape} have {wc}"
        )
    if kh < 1 or kw < 1:
        raise ValueError(f"conv2d: filter spatial size must be positive, got {(kh, kw)}")
    ph, pw = conv_pad(pad, wshape)
    sh, sw = _stride(stride)
    oh = (h + 2 * ph - kh) // sh + 1
    ow = (w + 2 * pw - kw) // sw + 1
    if oh <= 0 or ow <= 0:
        raise ValueError(
            f"conv2d: filter {(kh, kw)} larger than padded input {(h + 2 * ph, w + 2 * pw)} "
            f"(input {(h, w)}, pad {(ph, pw)}): output size would be {(oh, ow)}"
        )
    return (n, k, oh, ow)


def _kernel(w, flip):
    """The kernel actually correlated with the input."""
    return w[:, :, ::-1, ::-1] if flip else w


def _columns(x, kh, kw, pad, stride, oh, ow):
    """im2col view of ``x``: shape ``(n, c, oh, ow, kh, kw)``."""
    ph, pw = pad
    sh, sw = stride
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    cols = sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
    return cols[:, :, :oh, :ow]


def conv2d_forward(x, w, pad, stride, flip=True):
    """Theano ``conv2d`` of ``x`` (n, c, h, w) with filters ``w`` (k, c, kh, kw).

    Returns an array of shape ``conv2d_output_shape(x.shape, w.shape, pad,
    stride)`` and dtype ``np.result_type(x, w)``.
    """
    x, w = np.asarray(x), np.asarray(w)
    _, _, oh, ow = conv2d_output_shape(x.shape, w.shape, pad, stride)
    pad, stride = conv_pad(pad, w.shape), _stride(stride)
    kh, kw = w.shape[2:]
    cols = _columns(x, kh, kw, pad, stride, oh, ow)
    y = np.tensordot(cols, _kernel(w, flip), axes=([1, 4, 5], [1, 2, 3]))  # (n, oh, ow, k)
    return np.ascontiguousarray(y.transpose(0, 3, 1, 2)).astype(np.result_type(x, w), copy=False)


def _check_gy(gy, yshape):
    if tuple(gy.shape) != tuple(yshape):
        raise ValueError(f"conv2d: output gradient has shape {tuple(gy.shape)}, expected {tuple(yshape)}")


def conv2d_grad_input(gy, w, xshape, pad, stride, flip=True):
    """Gradient of ``conv2d_forward`` with respect to its input.

    ``gy`` is the gradient of the output (shape ``(n, k, oh, ow)``); returns
    ``gx`` of shape ``xshape``, the exact adjoint of the forward map applied to
    ``gy`` (input pixels that no window touches get zero).
    """
    gy, w = np.asarray(gy), np.asarray(w)
    xshape = tuple(int(s) for s in xshape)
    yshape = conv2d_output_shape(xshape, w.shape, pad, stride)
    _check_gy(gy, yshape)
    (ph, pw), (sh, sw) = conv_pad(pad, w.shape), _stride(stride)
    n, c, h, wd = xshape
    _, _, kh, kw = w.shape
    _, _, oh, ow = yshape
    dtype = np.result_type(gy, w)
    # cols[n, oh, ow, c, a, b]: gradient of each im2col entry.
    cols = np.tensordot(gy, _kernel(w, flip), axes=([1], [0]))
    gxp = np.zeros((n, c, h + 2 * ph, wd + 2 * pw), dtype=dtype)
    for a in range(kh):
        for b in range(kw):
            # For a fixed offset the touched positions are distinct: plain +=.
            gxp[:, :, a : a + sh * (oh - 1) + 1 : sh, b : b + sw * (ow - 1) + 1 : sw] += (
                cols[..., a, b].transpose(0, 3, 1, 2)
            )
    return np.ascontiguousarray(gxp[:, :, ph : ph + h, pw : pw + wd])


def conv2d_grad_weights(x, gy, wshape, pad, stride, flip=True):
    """Gradient of ``conv2d_forward`` with respect to its filters.

    ``gy`` is the gradient of the output (shape ``(n, k, oh, ow)``); returns
    ``gw`` of shape ``wshape``.
    """
    x, gy = np.asarray(x), np.asarray(gy)
    wshape = tuple(int(s) for s in wshape)
    yshape = conv2d_output_shape(x.shape, wshape, pad, stride)
    _check_gy(gy, yshape)
    pad, stride = conv_pad(pad, wshape), _stride(stride)
    _, _, kh, kw = wshape
    _, _, oh, ow = yshape
    cols = _columns(x, kh, kw, pad, stride, oh, ow)
    gk = np.tensordot(gy, cols, axes=([0, 2, 3], [0, 2, 3]))  # (k, c, kh, kw)
    return np.ascontiguousarray(_kernel(gk, flip)).astype(np.result_type(x, gy), copy=False)
