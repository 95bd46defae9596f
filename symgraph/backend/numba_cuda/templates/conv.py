"""conv2d (NCHW input, filters (k, c, kh, kw)) and its two gradients.

``flip`` makes it a true convolution (filters read reversed), as Theano's
conv2d. The forward pass and the input gradient give each thread one
output element and gather what it needs (no atomics, no races); the
filter gradient gives each block one filter element: its threads sum over
the batch and the pixels, then thread 0 adds up their partial sums."""
from numba import cuda, float32

T = float32  # element type
RED = 128  # threads of a reducing block (a power of 2)


def conv_forward(x, w, out, m, total):
    # m: n, c, h, wd, k, kh, kw, oh, ow, ph, pw, sh, sw, flip
    c = m[1]
    h = m[2]
    wd = m[3]
    k = m[4]
    kh = m[5]
    kw = m[6]
    oh = m[7]
    ow = m[8]
    ph = m[9]
    pw = m[10]
    sh = m[11]
    sw = m[12]
    flip = m[13]
    for idx in range(cuda.grid(1), total, cuda.gridsize(1)):
        j = idx % ow
        r = idx // ow
        i = r % oh
        r = r // oh
        kk = r % k
        nn = r // k
        acc = T(0)
        for cc in range(c):
            xbase = (nn * c + cc) * h
            wbase = (kk * c + cc) * kh
            for a in range(kh):
                y = i * sh + a - ph
                if y >= 0 and y < h:
                    wa = kh - 1 - a if flip else a
                    for b in range(kw):
                        xx = j * sw + b - pw
                        if xx >= 0 and xx < wd:
                            wb = kw - 1 - b if flip else b
                            acc += T(x[(xbase + y) * wd + xx]) * T(w[(wbase + wa) * kw + wb])
        out[idx] = acc


def conv_grad_input(gy, w, gx, m, total):
    # m: as conv_forward; gx has the input's shape (n, c, h, wd)
    c = m[1]
    h = m[2]
    wd = m[3]
    k = m[4]
    kh = m[5]
    kw = m[6]
    oh = m[7]
    ow = m[8]
    ph = m[9]
    pw = m[10]
    sh = m[11]
    sw = m[12]
    flip = m[13]
    for idx in range(cuda.grid(1), total, cuda.gridsize(1)):
        xx = idx % wd
        r = idx // wd
        y = r % h
        r = r // h
        cc = r % c
        nn = r // c
        acc = T(0)
        for kk in range(k):
            for a in range(kh):
                t = y + ph - a
                if t >= 0 and t % sh == 0 and t // sh < oh:
                    i = t // sh
                    wa = kh - 1 - a if flip else a
                    for b in range(kw):
                        u = xx + pw - b
                        if u >= 0 and u % sw == 0 and u // sw < ow:
                            wb = kw - 1 - b if flip else b
                            acc += T(gy[((nn * k + kk) * oh + i) * ow + u // sw]) * \
                                T(w[((kk * c + cc) * kh + wa) * kw + wb])
        gx[idx] = acc


def conv_grad_weights(x, gy, gw, m, nw):
    # m: as conv_forward; gw has the filters' shape (k, c, kh, kw), nw elements
    n = m[0]
    c = m[1]
    h = m[2]
    wd = m[3]
    k = m[4]
    kh = m[5]
    kw = m[6]
    oh = m[7]
    ow = m[8]
    ph = m[9]
    pw = m[10]
    sh = m[11]
    sw = m[12]
    flip = m[13]
    part = cuda.shared.array(RED, T)
    t = cuda.threadIdx.x
    nt = cuda.blockDim.x
    npix = n * oh * ow
    for widx in range(cuda.blockIdx.x, nw, cuda.gridDim.x):
        q = widx % kw
        r = widx // kw
        p = r % kh
        r = r // kh
        cc = r % c
        kk = r // c
        a = kh - 1 - p if flip else p
        b = kw - 1 - q if flip else q
        acc = T(0)
        for e in range(t, npix, nt):
            j = e % ow
            r = e // ow
            i = r % oh
            nn = r // oh
            y = i * sh + a - ph
            xx = j * sw + b - pw
            if y >= 0 and y < h and xx >= 0 and xx < wd:
                acc += T(gy[((nn * k + kk) * oh + i) * ow + j]) * T(x[((nn * c + cc) * h + y) * wd + xx])
        part[t] = acc
        if nt > 1:
            cuda.syncthreads()
        if t == 0:
            for u in range(1, nt):
                acc += part[u]
            gw[widx] = acc
        if nt > 1:
            cuda.syncthreads()
