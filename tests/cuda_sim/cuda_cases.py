"""Graphs that exercise every CUDA kernel, at two sizes: ``big=False`` is
tiny, for the CUDA simulator (which runs each GPU thread as a Python
thread); ``big=True`` is for a real GPU. The simulator tests, the PTX check
and the GPU tests all run these cases, comparing mode 'cuda' with the
reference backend (mode 'python').

A case is a function ``build(big)`` returning a ``Case``.
"""
from dataclasses import dataclass, field

import numpy as np

from symgraph import tensor as T
from symgraph.tensor.blas_ops import gemm
from symgraph.tensor.elemwise import Elemwise
from symgraph.tensor.nnet.fused import crossentropy_softmax
from symgraph.tensor.scalar import SCALAR_OPS, Composite
from symgraph.tensor.signal import pool

CASES = {}


@dataclass
class Case:
    """``function(inputs, outputs, updates)`` called ``calls`` times with
    ``values``; ``tol``: (rtol, atol) for ``symgraph.testing.compare_backends``
    (None: its defaults per dtype)."""

    inputs: list
    outputs: list
    values: list
    updates: list = field(default_factory=list)
    calls: int = 1
    tol: tuple = None


def case(name):
    def deco(fn):
        if name in CASES:
            raise ValueError(f"duplicate case {name}")
        CASES[name] = fn
        return fn
    return deco


def rng():
    return np.random.default_rng(1234)


def data(shape, dtype="float32", low=-2.0, high=2.0, r=None):
    r = r or rng()
    if np.dtype(dtype).kind == "b":
        return r.random(shape) < 0.5
    if np.dtype(dtype).kind in "iu":
        return r.integers(int(low), int(high) + 1, size=shape).astype(dtype)
    return r.uniform(low, high, size=shape).astype(dtype)


def side(big, tiny, large):
    return large if big else tiny


# ----------------------------------------------------------------- elementwise

POSITIVE = {"log", "sqrt", "pow", "log1p"}
UNARY_FLOAT = ["neg", "abs", "sgn", "floor", "round", "exp", "log", "log1p", "expm1", "sqrt", "sqr", "tanh", "sin",
               "cos", "sigmoid", "softplus", "isnan", "isinf"]
BINARY_FLOAT = ["add", "mul", "sub", "true_div", "int_div", "mod", "pow", "maximum", "minimum", "eq", "neq", "lt",
                "le", "gt", "ge", "second"]


def _elemwise_case(name, dtype, nin):
    def build(big):
        shape = side(big, (2, 3), (67, 131))
        low = 0.1 if name in POSITIVE else -3.0
        r = rng()
        xs = [T.tensor(dtype, (None, None), name=f"x{i}") for i in range(nin)]
        values = [data(shape, dtype, low, 3.0, r) for _ in range(nin)]
        if name in ("int_div", "mod", "true_div"):
            values[1][values[1] == 0] = 1  # NumPy and CUDA differ on x / 0 for ints
        if name == "round":
            values[0][0, :2] = np.array([0.5, 1.5], dtype)  # halves round to even
        return Case(xs, [T.elemwise(name, *xs)], values)
    return build


for _name in UNARY_FLOAT:
    case(f"elemwise_{_name}_float32")(_elemwise_case(_name, "float32", 1))
for _name in BINARY_FLOAT:
    case(f"elemwise_{_name}_float32")(_elemwise_case(_name, "float32", 2))
for _name in ("add", "sub", "mul", "int_div", "mod", "maximum", "abs", "neg", "sqr", "lt"):
    case(f"elemwise_{_name}_int32")(_elemwise_case(_name, "int32", SCALAR_OPS[_name].nin or 2))
for _name in ("exp", "true_div", "tanh", "softplus", "sigmoid", "pow"):
    case(f"elemwise_{_name}_float64")(_elemwise_case(_name, "float64", SCALAR_OPS[_name].nin or 2))
for _name in ("and_", "or_", "xor", "invert", "eq"):
    case(f"elemwise_{_name}_bool")(_elemwise_case(_name, "bool", SCALAR_OPS[_name].nin or 2))


@case("elemwise_ternary")
def _(big):
    shape = side(big, (2, 3), (67, 131))
    x, lo, hi = T.matrix("x"), T.matrix("lo"), T.matrix("hi")
    c = T.matrix("c", dtype="bool")
    r = rng()
    return Case([x, lo, hi, c], [T.clip(x, lo, hi), T.switch(c, x, hi), T.add(x, lo, hi), T.mul(x, lo, hi)],
                [data(shape, r=r), data(shape, low=-2, high=-1, r=r), data(shape, low=1, high=2, r=r),
                 data(shape, "bool", r=r)])


@case("elemwise_nan_inf")
def _(big):
    x, y = T.vector("x"), T.vector("y")
    vx = np.array([np.nan, 1.0, -np.inf, 2.0, np.nan, 0.0], "float32")
    vy = np.array([1.0, np.nan, 3.0, np.inf, np.nan, -0.0], "float32")
    outs = [T.maximum(x, y), T.minimum(x, y), T.clip(x, -1.0, 1.0), T.isnan(x), T.isinf(y), T.sgn(x),
            T.max(x), T.argmax(x), T.argmin(y)]
    return Case([x, y], outs, [vx, vy])


@case("elemwise_int_wrap")
def _(big):
    a, b = T.vector("a", dtype="int8"), T.vector("b", dtype="uint8")
    va = np.array([100, -100, 127, -128, 5], "int8")
    vb = np.array([200, 100, 255, 0, 7], "uint8")
    return Case([a, b], [a + a, a * a, b + b, b - b - 1, a // 3, a % 7, -a], [va, vb])


@case("elemwise_casts_and_upcasts")
def _(big):
    f, d = T.vector("f"), T.dvector("d")
    i, k = T.ivector("i"), T.lvector("k")
    bvec = T.vector("b", dtype="bool")
    r = rng()
    n = side(big, 5, 1000)
    outs = [T.cast(f, "int32"), T.cast(d, "float32"), T.cast(f, "bool"), T.cast(bvec, "float32"),
            T.cast(k, "float64"), T.cast(f * 100, "uint8"), f + k, i / k, f * d, i + 0.5, f * 2, bvec + bvec]
    return Case([f, d, i, k, bvec], outs, [data(n, "float32", -3, 3, r), data(n, "float64", -3, 3, r),
                                           data(n, "int32", -9, 9, r), data(n, "int64", 1, 9, r),
                                           data(n, "bool", r=r)])


@case("elemwise_broadcast")
def _(big):
    a, b, c = side(big, (2, 3, 4), (33, 65, 17))
    x = T.tensor3("x")
    row, col = T.row("row"), T.col("col")
    mid = T.tensor("float32", (None, 1, None), name="mid")
    s = T.scalar("s")
    r = rng()
    outs = [x * mid + s, row + col, row * col * s, T.exp(mid) + x, x + 1.5]
    return Case([x, row, col, mid, s], outs,
                [data((a, b, c), r=r), data((1, b), r=r), data((a, 1), r=r), data((a, 1, c), r=r),
                 np.float32(0.75)])


@case("elemwise_fused_cluster")
def _(big):
    x, y = T.matrix("x"), T.matrix("y")
    shape = side(big, (3, 4), (130, 257))
    z = T.tanh(x * y + 1) - T.exp(-x) / 2
    w = T.sigmoid(z) * y + T.sqr(x)
    return Case([x, y], [z, w], [data(shape), data(shape, r=np.random.default_rng(7))])


def _composite_node(x, y):
    add, mul, exp, neg = (SCALAR_OPS[n] for n in ("add", "mul", "exp", "neg"))
    inner = Composite(2, [(mul, (0, 1), "float32"), (exp, (2,), "float32")], [3])
    # values: 0 x, 1 y, 2 x+y, 3 inner(x+y, y), 4 -x ; outputs: 3 and 4 (two outputs, a nested composite)
    comp = Composite(2, [(add, (0, 1), "float32"), (inner, (2, 1), "float32"), (neg, (0,), "float32")], [3, 4])
    return Elemwise(comp)(x, y)


@case("elemwise_composite_multi_output")
def _(big):
    x, y = T.matrix("x"), T.matrix("y")
    shape = side(big, (2, 3), (77, 129))
    return Case([x, y], _composite_node(x, y), [data(shape, low=-1, high=1), data(shape, low=-1, high=1)])


@case("elemwise_inplace_after_product")
def _(big):
    x, w = T.matrix("x"), T.matrix("w")
    n, k, m = side(big, (2, 3, 4), (64, 100, 90))
    h = T.dot(x, w)
    out = T.exp(h * 0.5) + h  # fused, and may write into the product's buffer
    return Case([x, w], [out.sum(axis=1)], [data((n, k), low=-1, high=1), data((k, m), low=-1, high=1)])


@case("elemwise_strided_inputs")
def _(big):
    x, y = T.matrix("x"), T.matrix("y")
    n, m = side(big, (3, 4), (70, 90))
    return Case([x, y], [x.T * y + x.T, T.exp(x[::2, 1:]) - 1, x[1:, ::-1] * 2],
                [data((n, m)), data((m, n))])


@case("elemwise_scalar_inputs")
def _(big):
    x = T.matrix("x")
    lr = T.scalar("lr")
    k = T.iscalar("k")
    shape = side(big, (3, 4), (100, 100))
    return Case([x, lr, k], [x * lr + k, x / x.shape[0], T.cast(k, "float32") * x],
                [data(shape), np.float32(0.1), np.int32(3)])


# ----------------------------------------------------------------- reductions

@case("reduce_float32")
def _(big):
    x = T.tensor3("x")
    shape = side(big, (2, 3, 4), (33, 65, 17))
    outs = []
    for kind in ("sum", "prod", "max", "min"):
        for axis in (0, 1, 2, (0, 2), None):
            outs.append(getattr(T, kind)(x, axis=axis))
    outs += [T.mean(x, axis=1), T.var(x, axis=0), T.std(x), T.sum(x, axis=1, keepdims=True), x.T.sum(axis=0),
             x[:, ::2].max(axis=2)]
    return Case([x], outs, [data(shape, low=0.5, high=1.5)], tol=(1e-4, 1e-5))


@case("reduce_int_bool")
def _(big):
    x = T.tensor("int8", (None, None), name="x")
    b = T.tensor("bool", (None, None), name="b")
    shape = side(big, (3, 4), (100, 61))
    outs = [T.sum(x, axis=0), T.sum(x), T.max(x, axis=1), T.min(x), T.prod(x, axis=1), T.all(b, axis=1),
            T.any(b, axis=0), T.all(b), T.any(b), T.sum(b, axis=1), T.sum(x, dtype="float64", axis=1)]
    return Case([x, b], outs, [data(shape, "int8", -3, 3), data(shape, "bool")])


@case("argmax_ties")
def _(big):
    x = T.matrix("x")
    i = T.imatrix("i")
    shape = side(big, (3, 5), (70, 300))
    vi = data(shape, "int32", 0, 2)
    return Case([x, i], [T.argmax(x, axis=1), T.argmin(x, axis=0), T.argmax(i, axis=1), T.argmin(i, axis=0),
                         T.argmax(x), T.argmax(x.T, axis=1)], [data(shape), vi])


@case("reduce_empty")
def _(big):
    x = T.matrix("x")
    return Case([x], [T.sum(x, axis=0), T.prod(x, axis=0), T.sum(x, axis=1), T.any(x, axis=0)],
                [np.zeros((0, 3), "float32")])


# ----------------------------------------------------------------- products

@case("dot_all_ranks")
def _(big):
    m, k, n = side(big, (3, 20, 5), (130, 300, 70))
    a, b = T.matrix("a"), T.matrix("b")
    u, v = T.vector("u"), T.vector("v")
    r = rng()
    return Case([a, b, u, v], [T.dot(a, b), T.dot(u, b), T.dot(a, v), T.dot(u, v), T.dot(a.T, a), T.dot(b, b.T)],
                [data((m, k), r=r), data((k, n), r=r), data(k, r=r), data(k, r=r)], tol=(1e-4, 1e-4))


@case("gemm_flags_bias")
def _(big):
    m, k, n = side(big, (3, 4, 5), (129, 65, 33))
    a, at, b, bt = T.matrix("a"), T.matrix("at"), T.matrix("b"), T.matrix("bt")
    c, row = T.matrix("c"), T.row("row")
    r = rng()
    outs = [gemm(a, b), gemm(at, b, trans_a=True), gemm(a, bt, trans_b=True), gemm(at, bt, c, True, True),
            gemm(a, b, row), T.dot(a, b) + row]
    return Case([a, at, b, bt, c, row], outs,
                [data((m, k), r=r), data((k, m), r=r), data((k, n), r=r), data((n, k), r=r), data((m, n), r=r),
                 data((1, n), r=r)], tol=(1e-4, 1e-4))


@case("gemm_tiled")
def _(big):
    """Products with more outputs than one tile: the shared-memory kernel
    (at the simulator's size too)."""
    m, k, n = side(big, (17, 20, 16), (300, 257, 129))
    a, b, at, c = T.matrix("a"), T.matrix("b"), T.matrix("at"), T.row("c")
    r = rng()
    return Case([a, b, at, c], [T.dot(a, b), gemm(at[:3], b[:3], c, trans_a=True)],
                [data((m, k), r=r), data((k, n), r=r), data((k, m), r=r), data((1, n), r=r)],
                tol=(1e-4, 1e-4))


@case("dot_float64_int64")
def _(big):
    m, k, n = side(big, (2, 3, 4), (40, 50, 60))
    a, b = T.dmatrix("a"), T.dmatrix("b")
    i, j = T.lmatrix("i"), T.lmatrix("j")
    f = T.matrix("f")
    r = rng()
    return Case([a, b, i, j, f], [T.dot(a, b), T.dot(i, j), T.dot(f, b)],
                [data((m, k), "float64", r=r), data((k, n), "float64", r=r), data((m, k), "int64", -5, 5, r),
                 data((k, n), "int64", -5, 5, r), data((m, k), r=r)])


# ----------------------------------------------------------------- nnet

@case("softmax_family")
def _(big):
    x, y = T.matrix("x"), T.matrix("y")
    x3 = T.tensor3("x3")
    n, m = side(big, (2, 5), (128, 10))
    r = rng()
    onehot = np.eye(m, dtype="float32")[r.integers(0, m, size=n)]
    outs = [T.nnet.softmax(x), T.nnet.log_softmax(x), T.nnet.softmax(x3, axis=0), T.nnet.log_softmax(x3, axis=1),
            crossentropy_softmax(x, y), T.nnet.categorical_crossentropy(T.nnet.softmax(x), y),
            crossentropy_softmax(x, T.addbroadcast(y[:1], 0))]
    return Case([x, y, x3], outs, [data((n, m), low=-5, high=5, r=r), onehot, data((3, n, m), r=r)])


@case("softmax_xent_grad")
def _(big):
    x, y = T.matrix("x"), T.matrix("y")
    n, m = side(big, (2, 4), (128, 10))
    r = rng()
    cost = T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(x), y))
    return Case([x, y], [cost, T.grad(cost, x), T.grad(T.sum(T.nnet.softmax(x) ** 2), x)],
                [data((n, m), r=r), np.eye(m, dtype="float32")[r.integers(0, m, size=n)]])


CONV_SETTINGS = [("valid", (1, 1), True), ("full", (1, 1), True), ("half", (1, 1), False), ((1, 2), (2, 1), True),
                 ("valid", (2, 2), False)]


@case("conv2d_forward_and_grads")
def _(big):
    x, w = T.tensor4("x"), T.tensor4("w")
    xs, ws = side(big, ((2, 2, 6, 5), (3, 2, 3, 2)), ((16, 3, 28, 27), (8, 3, 5, 4)))
    outs = []
    for border, stride, flip in CONV_SETTINGS:
        y = T.nnet.conv2d(x, w, border_mode=border, subsample=stride, filter_flip=flip)
        proj = T.cos(y)  # a non-uniform output gradient
        outs += [y] + T.grad(T.sum(proj), [x, w])
    return Case([x, w], outs, [data(xs, low=-1, high=1), data(ws, low=-1, high=1, r=np.random.default_rng(5))],
                tol=(1e-4, 1e-4))


POOL_SETTINGS = [((2, 2), True, None, (0, 0)), ((2, 2), False, None, (0, 0)), ((3, 2), True, (1, 1), (0, 0)),
                 ((3, 3), True, (2, 2), (1, 1)), ((2, 3), False, (1, 2), (0, 0))]


@case("pool_forward_and_grads")
def _(big):
    x = T.tensor4("x")
    shape = side(big, (1, 2, 5, 5), (32, 15, 20, 20))
    outs = []
    for ws, ignore_border, stride, pad in POOL_SETTINGS:
        for mode in ("max", "sum", "average_inc_pad", "average_exc_pad"):
            y = pool.pool_2d(x, ws, ignore_border=ignore_border, stride=stride, pad=pad, mode=mode)
            outs += [y, T.grad(T.sum(T.sin(y)), x)]
    values = data(shape)
    values[..., 0, 0] = values[..., 0, 1]  # ties in a max window
    return Case([x], outs, [values])


@case("pool_int_and_3d")
def _(big):
    x = T.tensor3("x", dtype="int32")
    shape = side(big, (2, 4, 5), (10, 40, 50))
    return Case([x], [pool.pool_2d(x, (2, 2), ignore_border=False), pool.pool_2d(x, (2, 2), mode="average_exc_pad"),
                      pool.pool_2d(x, (2, 2), mode="sum")], [data(shape, "int32", -9, 9)])


# ----------------------------------------------------------------- shapes and indexing

@case("shape_views_and_copies")
def _(big):
    x = T.tensor3("x")
    a, b, c = side(big, (2, 3, 4), (20, 30, 40))
    outs = [x.dimshuffle(2, "x", 0, 1), x.T, T.flatten(x, 2), T.reshape(x.T, (c, -1)), T.reshape(x, (a * b, c)),
            x.shape, T.shape(x)[1] * 2, T.specify_shape(x, (a, None, c)) + 1, T.squeeze(x[:, :1, :]),
            T.transpose(x, (1, 0, 2)).sum(axis=0)]
    return Case([x], outs, [data((a, b, c))])


@case("subtensor_family")
def _(big):
    x = T.matrix("x")
    yn, ym = T.vector("yn"), T.vector("ym")
    i = T.lscalar("i")
    n, m = side(big, (4, 5), (60, 70))
    r = rng()
    outs = [x[1], x[:, 1:3], x[::-1], x[1:, ::2], x[-1, -2], x[i], x[i:, :i], x[::-2, 1],
            T.set_subtensor(x[1:3, :2], 7.0), T.inc_subtensor(x[:, 1], yn), T.inc_subtensor(x[1:, ::2], 1.5),
            T.set_subtensor(x[i], ym)]
    return Case([x, yn, ym, i], outs, [data((n, m), r=r), data(n, r=r), data(m, r=r), np.int64(2)])


@case("alloc_join_arange")
def _(big):
    x, y = T.matrix("x"), T.matrix("y")
    n, m = side(big, (2, 3), (50, 60))
    k = T.lscalar("k")
    outs = [T.zeros((x.shape[0], k)), T.ones((k, 2), dtype="int32"), T.alloc(x[0], k, x.shape[1]),
            T.concatenate([x, y], axis=0), T.concatenate([x, y * 2], axis=1), T.stack([x, y], axis=1),
            T.arange(k) * 2, T.arange(0.5, k, 0.5), T.nnet.one_hot(T.arange(k) % 2, 3)]
    return Case([x, y, k], outs, [data((n, m)), data((n, m)), np.int64(side(big, 3, 40))])


# ----------------------------------------------------------------- random

def _random_case(kind, dtype):
    def build(big):
        x = T.matrix("x")
        srng = T.RandomStreams(77)
        n, m = side(big, (3, 5), (129, 300))
        if kind == "uniform":
            outs = [srng.uniform((n, m), dtype=dtype), srng.uniform(x.shape, low=x[0] - 1, high=2.0, dtype=dtype)]
        elif kind == "normal":
            outs = [srng.normal((n, m), dtype=dtype), srng.normal((7,), avg=1.0, std=x[0, :1] ** 2, dtype=dtype)]
        else:
            outs = [srng.binomial((n, m), p=0.3, dtype=dtype), srng.binomial(x.shape, n=3, p=T.sigmoid(x),
                                                                             dtype=dtype)]
        tol = (0, 0) if kind != "normal" else (1e-6, 0) if dtype == "float32" else (1e-12, 0)
        return Case([x], outs, [data((n, m))], calls=2, tol=tol)
    return build


for _kind, _dtype in [("uniform", "float32"), ("uniform", "float64"), ("normal", "float32"), ("normal", "float64"),
                      ("binomial", "int64"), ("binomial", "float32")]:
    case(f"random_{_kind}_{_dtype}")(_random_case(_kind, _dtype))


# ----------------------------------------------------------------- the report's networks

def cnn_case(optimizer, big):
    """A train step of the report's CNN (models.cnn.CNN); tiny: 8x8
    images, 2 filters of 3x3 and 3 of 2x2, 4 hidden units, 3 classes, batch 2."""
    from models import optimizers
    from models.cnn import CNN, OPTIMIZER_SETTINGS
    r = np.random.default_rng(0)
    if big:
        net, batch, image, classes = CNN(r), 128, 28, 10
    else:
        net, batch, image, classes = CNN(r, filters=(2, 3), kernels=(3, 2), fc=4, classes=3, image=8), 2, 8, 3
    updates = optimizers.get(optimizer)(net.cost, net.params, **OPTIMIZER_SETTINGS[optimizer])
    x = r.uniform(0, 1, size=(batch, 1, image, image)).astype("float32")
    y = np.eye(classes, dtype="float32")[r.integers(0, classes, size=batch)]
    return Case([net.X, net.Y], [net.cost, net.prediction], [x, y], updates=updates, calls=2,
                tol=(1e-3, 1e-4))


def da_case(sparse, big):
    """A pretraining step of the report's first denoising autoencoder
    (models.sda.SDA, binomial corruption); tiny: 12 inputs, 7 hidden."""
    from models import optimizers
    from models.sda import SDA
    r = np.random.default_rng(0)
    n_in, hidden, batch = (784, 900, 128) if big else (12, 7, 3)
    net = SDA(r, seed=5, n_in=n_in, hidden=(hidden,))
    x = T.matrix("x")
    params = [net.W[0], net.b[0], net.b_prime[0]]
    if sparse:
        cost = net.pretrain_cost(x, 0, 0.1, beta=0.5, rho=0.05)
        updates = optimizers.momentum(cost, params, lr=0.1, momentum=0.1)
    else:
        cost = net.pretrain_cost(x, 0, 0.1)
        updates = optimizers.sgd(cost, params, lr=0.1)
    values = r.uniform(0, 1, size=(batch, n_in)).astype("float32")
    return Case([x], [cost, net.encode(x, 0)], [values], updates=updates, calls=2, tol=(1e-3, 1e-4))


def sda_finetune_case(big):
    """A fine-tuning step of the report's stacked denoising autoencoder (its
    three encoders and the softmax classifier, with the sparsity penalty,
    momentum); tiny: 12-7-5-4-3."""
    from models import optimizers
    from models.sda import SDA
    r = np.random.default_rng(0)
    n_in, hidden, classes, batch = (784, (900, 625, 400), 10, 128) if big else (12, (7, 5, 4), 3, 3)
    net = SDA(r, seed=5, n_in=n_in, hidden=hidden, classes=classes)
    x, d = T.matrix("x"), T.matrix("d")
    cost, p_y = net.classifier(x, d, beta=0.5, rho=0.05)
    params = [p for k in range(len(net.W)) for p in (net.W[k], net.b[k])] + [net.W_out, net.b_out]
    updates = optimizers.momentum(cost, params, lr=0.1, momentum=0.1)
    values = [r.uniform(0, 1, size=(batch, n_in)).astype("float32"),
              np.eye(classes, dtype="float32")[r.integers(0, classes, size=batch)]]
    return Case([x, d], [cost, T.argmax(p_y, axis=1)], values, updates=updates, calls=2, tol=(1e-3, 1e-4))


case("sda_finetune_sparse_momentum")(sda_finetune_case)
for _opt in ("sgd", "momentum", "rmsprop"):
    case(f"cnn_train_{_opt}")(lambda big, _opt=_opt: cnn_case(_opt, big))
case("da_train_sgd")(lambda big: da_case(False, big))
case("da_train_sparse_momentum")(lambda big: da_case(True, big))


def check(case, mode="cuda"):
    """Each call of ``case`` in ``mode`` gives the outputs and shared values
    of mode 'python' (symgraph.testing.compare_backends, from the same
    shared state; the next call continues from the reference's state)."""
    from symgraph.testing import compare_backends
    rtol, atol = case.tol or (None, None)
    for _ in range(case.calls):
        compare_backends(case.inputs, case.outputs, case.values, modes=(mode,), updates=case.updates, rtol=rtol,
                         atol=atol)
