"""pool_2d over the last two axes and its gradient, Theano's rules (see
symgraph/tensor/signal/pool_impl.py): window ``ws``, ``stride``, zero
``pad``; mode 0 max, 1 sum, 2 average including padding, 3 average
excluding it. Windows start at ``i * stride`` on the padded canvas."""
from numba import cuda, float32

T = float32  # element type


def pool_forward(x, out, m, total, lowest):
    # m: h, w, oh, ow, wsh, wsw, sh, sw, ph, pw, mode
    h = m[0]
    w = m[1]
    oh = m[2]
    ow = m[3]
    wsh = m[4]
    wsw = m[5]
    sh = m[6]
    sw = m[7]
    ph = m[8]
    pw = m[9]
    mode = m[10]
    for idx in range(cuda.grid(1), total, cuda.gridsize(1)):
        j = idx % ow
        r = idx // ow
        i = r % oh
        base = (r // oh) * h * w
        acc = lowest if mode == 0 else T(0)
        for a in range(wsh):
            y = i * sh + a - ph
            if y >= 0 and y < h:
                for b in range(wsw):
                    xx = j * sw + b - pw
                    if xx >= 0 and xx < w:
                        v = T(x[base + y * w + xx])
                        if mode != 0:
                            acc += v
                        elif v > acc or v != v:
                            acc = v
        if mode >= 2:
            out[idx] = acc / T(window_size(i, j, h, w, wsh, wsw, sh, sw, ph, pw, mode))
        else:
            out[idx] = acc


@cuda.jit(device=True)
def window_size(i, j, h, w, wsh, wsw, sh, sw, ph, pw, mode):
    """Cells of window (i, j) inside the padded input (mode 2) or inside
    the input (mode 3)."""
    if mode == 2:
        rows = min(i * sh + wsh, h + 2 * ph) - i * sh
        cols = min(j * sw + wsw, w + 2 * pw) - j * sw
    else:
        rows = min(i * sh + wsh, ph + h) - max(i * sh, ph)
        cols = min(j * sw + wsw, pw + w) - max(j * sw, pw)
    return rows * cols


def pool_grad(x, y, gy, gx, m, total):
    # m: as pool_forward; gx has x's shape; each input cell gathers from the windows holding it
    h = m[0]
    w = m[1]
    oh = m[2]
    ow = m[3]
    wsh = m[4]
    wsw = m[5]
    sh = m[6]
    sw = m[7]
    ph = m[8]
    pw = m[9]
    mode = m[10]
    for idx in range(cuda.grid(1), total, cuda.gridsize(1)):
        xx = idx % w
        r = idx // w
        yy = r % h
        lead = r // h
        py = yy + ph
        px = xx + pw
        i0 = max((py - wsh + sh) // sh, 0)
        i1 = min(py // sh, oh - 1)
        j0 = max((px - wsw + sw) // sw, 0)
        j1 = min(px // sw, ow - 1)
        acc = T(0)
        for i in range(i0, i1 + 1):
            for j in range(j0, j1 + 1):
                o = (lead * oh + i) * ow + j
                if mode == 0:
                    if x[idx] == y[o]:
                        acc += T(gy[o])
                elif mode == 1:
                    acc += T(gy[o])
                else:
                    acc += T(gy[o]) / T(window_size(i, j, h, w, wsh, wsw, sh, sw, ph, pw, mode))
        gx[idx] = acc
