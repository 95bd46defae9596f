"""Plain-loop oracles for conv2d and pool_2d, shared by the kernel tests
(test_conv_pool_impl.py) and the op tests (test_conv_pool_ops.py).

They are deliberately naive and independent of the code under test:
explicit zero padding, explicit kernel flipping and Python loops over every
output pixel, with the pooling regions built the way Theano's
``Pool.perform`` builds them. Import with the tests folder on ``sys.path``
(the test files insert it).
"""
import numpy as np


def oracle_pad(border_mode, kh, kw):
    """The (ph, pw) zero padding of a Theano border mode for a kh x kw kernel."""
    if border_mode == "valid":
        return 0, 0
    if border_mode == "full":
        return kh - 1, kw - 1
    if border_mode == "half":
        return kh // 2, kw // 2
    if isinstance(border_mode, int):
        return border_mode, border_mode
    return tuple(border_mode)


def oracle_conv(x, w, pad, stride, flip):
    """conv2d of NCHW ``x`` with filters ``w`` (k, c, kh, kw), zero padding
    ``pad`` = (ph, pw), ``stride`` = (sh, sw); a true convolution if ``flip``."""
    n, c, h, wd = x.shape
    k, _, kh, kw = w.shape
    ph, pw = pad
    sh, sw = stride
    xp = np.zeros((n, c, h + 2 * ph, wd + 2 * pw))
    for b in range(n):
        for ch in range(c):
            for i in range(h):
                for j in range(wd):
                    xp[b, ch, i + ph, j + pw] = x[b, ch, i, j]
    kern = np.zeros(w.shape)
    for f in range(k):
        for ch in range(c):
            for i in range(kh):
                for j in range(kw):
                    kern[f, ch, i, j] = w[f, ch, kh - 1 - i, kw - 1 - j] if flip else w[f, ch, i, j]
    oh = (h + 2 * ph - kh) // sh + 1
    ow = (wd + 2 * pw - kw) // sw + 1
    out = np.zeros((n, k, oh, ow))
    for b in range(n):
        for f in range(k):
            for i in range(oh):
                for j in range(ow):
                    patch = xp[b, :, i * sh : i * sh + kh, j * sw : j * sw + kw]
                    out[b, f, i, j] = np.sum(patch * kern[f])
    return out


def oracle_pool_regions(size, ws, stride, pad, ignore_border, exclude_pad):
    """List of (start, end) regions along one axis of the padded input."""
    full = size + 2 * pad
    starts = []
    j = 0
    while True:
        s = j * stride
        if ignore_border:
            if s + ws > full:
                break
        else:
            # keep a (possibly partial) window while the previous one did not
            # already reach the end of the input
            if s >= full or (j > 0 and (j - 1) * stride + ws >= full):
                break
        starts.append(s)
        j += 1
    regions = []
    for s in starts:
        e = min(s + ws, full)
        if exclude_pad:
            s, e = max(s, pad), min(e, full - pad)
        regions.append((s, e))
    return regions


def oracle_pool(x, ws, ignore_border, stride, pad, mode):
    """pool_2d over the last two axes of ``x`` (``stride`` None: ``ws``);
    ``mode`` is 'max', 'sum', 'average_inc_pad' or 'average_exc_pad'."""
    stride = ws if stride is None else stride
    lead = x.shape[:-2]
    h, w = x.shape[-2:]
    flat = x.reshape((-1, h, w))
    ph, pw = pad
    rows = oracle_pool_regions(h, ws[0], stride[0], ph, ignore_border, mode != "average_inc_pad")
    cols = oracle_pool_regions(w, ws[1], stride[1], pw, ignore_border, mode != "average_inc_pad")
    out = np.zeros((flat.shape[0], len(rows), len(cols)))
    for b in range(flat.shape[0]):
        xp = np.zeros((h + 2 * ph, w + 2 * pw))
        xp[ph : ph + h, pw : pw + w] = flat[b]
        for i, (r0, r1) in enumerate(rows):
            for j, (c0, c1) in enumerate(cols):
                region = xp[r0:r1, c0:c1]
                if mode == "max":
                    out[b, i, j] = region.max()
                elif mode == "sum":
                    out[b, i, j] = region.sum()
                else:
                    out[b, i, j] = region.sum() / region.size
    return out.reshape(lead + out.shape[1:])
