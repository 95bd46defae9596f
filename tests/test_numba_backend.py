"""The Numba CPU backend against the NumPy reference (mode 'python'): every
op and Composite on hypothesis-chosen shapes, dtypes and values; run-time
checks and compile-time errors that name the node and the user's line;
shared updates; profiling, the NaN guard and debug mode.

Compiling costs about 0.1-0.3 s per loop nest, so each test compiles a few
functions (memoized per dtype or parameter set) and lets hypothesis vary
the run-time shapes and values."""
import functools
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symgraph as sg
from symgraph import tensor as T
from symgraph.backend.numba_cpu import KernelCompileError, NoKernelError, register_kernel
from symgraph.compile.mode import Mode
from symgraph.errors import ExecutionError
from symgraph.graph.basic import Apply, Op
from symgraph.graph.sourceinfo import user_source
from symgraph.tensor.elemwise import Elemwise
from symgraph.tensor.scalar import SCALAR_OPS, Cast, Composite
from symgraph.tensor.signal import pool
from symgraph.testing import assert_same_values, compare_backends, random_graphs

NUMBA, PYTHON = Mode("numba", optimize=False), Mode("python", optimize=False)
FLOATS = ("float32", "float64")


def pair(inputs, outputs, optimize=False, **kw):
    """The same graph compiled by both backends."""
    kw.setdefault("on_unused_input", "ignore")
    if optimize:
        return sg.function(inputs, outputs, mode="python", **kw), sg.function(inputs, outputs, mode="numba", **kw)
    return sg.function(inputs, outputs, mode=PYTHON, **kw), sg.function(inputs, outputs, mode=NUMBA, **kw)


def check_pair(fns, *values, names=None, rtol=None, atol=None):
    """Call both functions; their outputs must agree (``assert_same_values``;
    float64 results computed from float32 values need float32's ``rtol``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = fns[0](*values)
    got = fns[1](*values)
    expected, got = (expected, got) if isinstance(expected, list) else ([expected], [got])
    for i, (e, g) in enumerate(zip(expected, got)):
        assert_same_values(e, g, f"output {i} ({names[i] if names else ''})", rtol, atol)
    return got


def values_of(draw, shape, dtype, special=True):
    """An array of ``dtype``: small ints, booleans, or floats in [-3, 3]
    with some NaN, infinities and zeros when ``special``."""
    size = int(np.prod(shape))
    if dtype == "bool":
        data = draw(st.lists(st.booleans(), min_size=size, max_size=size))
    elif np.dtype(dtype).kind in "iu":
        data = draw(st.lists(st.integers(-4, 4), min_size=size, max_size=size))
    else:
        element = st.floats(-3, 3, width=32)
        if special:
            element = st.one_of(element, st.sampled_from([0.0, -0.0, np.nan, np.inf, -np.inf, 0.5]))
        data = draw(st.lists(element, min_size=size, max_size=size))
    return np.array(data, dtype=dtype).reshape(shape)


# ------------------------------------------------------------- scalar ops

NOT_FOR = {  # (scalar op, input kind) pairs NumPy rejects or leaves undefined
    "bool": {"sub", "neg", "abs", "sgn", "pow", "int_div", "mod", "true_div", "sqr", "clip"},
    "int": {"pow"},  # negative integer powers raise in NumPy: tested apart
    "float": {"and_", "or_", "xor", "invert"},
}


def _kind(dtype):
    return "bool" if dtype == "bool" else "int" if np.dtype(dtype).kind in "iu" else "float"


@functools.lru_cache(maxsize=None)
def scalar_op_functions(dtype):
    """Every scalar op applicable to ``dtype`` on x (m, n), a row y (1, n)
    and z (m, n): unary on x, binary on (x, y), ternary on (x, y, z)."""
    x, y, z = T.matrix("x", dtype=dtype), T.row("y", dtype=dtype), T.matrix("z", dtype=dtype)
    names, outs = [], []
    for name, op in sorted(SCALAR_OPS.items()):
        if name in NOT_FOR[_kind(dtype)]:
            continue
        if name == "switch":
            args = [x, y, z]
        elif op.nin == 1:
            args = [x]
        elif op.nin == 3:
            args = [x, y, z]
        else:
            args = [x, y]
        names.append(name)
        outs.append(T.elemwise(name, *args))
    names.append("add3")
    outs.append(T.add(x, y, z))
    return names, pair([x, y, z], outs)


@settings(max_examples=15)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int8", "bool"])
@given(data=st.data())
def test_every_scalar_op_matches_python(dtype, data):
    names, fns = scalar_op_functions(dtype)
    m, n = data.draw(st.integers(0, 4)), data.draw(st.integers(0, 5))
    x, y, z = (values_of(data.draw, s, dtype) for s in ((m, n), (1, n), (m, n)))
    check_pair(fns, x, y, z, names=names)


@functools.lru_cache(maxsize=None)
def cast_functions(src):
    x = T.vector("x", dtype=src)
    targets = ["float32", "float64", "int64", "int32", "int8", "uint8", "bool"]
    return targets, pair([x], [T.cast(x, d) for d in targets])


@settings(max_examples=10)
@pytest.mark.parametrize("src", ["float32", "float64", "int64", "bool"])
@given(data=st.data())
def test_casts_match_python(src, data):
    targets, fns = cast_functions(src)
    if _kind(src) == "float":  # in range of every target (NaN and overflow are undefined in C)
        x = np.array(data.draw(st.lists(st.floats(-100, 100, width=32), max_size=8)), dtype=src)
    else:
        x = values_of(data.draw, (data.draw(st.integers(0, 8)),), src)
    check_pair(fns, x, names=targets)


@functools.lru_cache(maxsize=None)
def int_pow_functions():
    x, y = T.lvector("x"), T.lvector("y")
    return pair([x, y], [x ** y, T.pow(x, 2), T.cast(x, "float32") ** y])


@given(x=st.lists(st.integers(-5, 5), min_size=1, max_size=6), e=st.integers(0, 9))
def test_integer_power(x, e):
    xs = np.array(x, dtype="int64")
    check_pair(int_pow_functions(), xs, np.full(len(x), e, dtype="int64"))


# ------------------------------------------------------------- composites

@settings(max_examples=12)
@given(graph=random_graphs(), data=st.data())
def test_random_fused_graphs(graph, data):
    inputs = [T.tensor("float64", (None,) * len(s)) for s in graph.input_shapes]
    values = [values_of(data.draw, s, "float64", special=False) for s in graph.input_shapes]
    compare_backends(inputs, graph.build(*inputs), values, modes=("numba",))


def _composite(nin, nodes, outputs):
    return Composite(nin, [(SCALAR_OPS[op] if isinstance(op, str) else op, args, dtype)
                           for op, args, dtype in nodes], outputs)


@functools.lru_cache(maxsize=None)
def composite_functions():
    """Hand-made Composites: several outputs, mixed dtypes, a cast, a bool
    output, a broadcast input, and the optimizer's inplace form."""
    a, b, c = T.matrix("a"), T.row("b"), T.lmatrix("c")
    comp = _composite(3, [("mul", (0, 1), "float32"), ("exp", (3,), "float32"), ("add", (4, 2), "float64"),
                          (Cast("float32"), (5,), "float32"), ("gt", (6, 0), "bool"),
                          ("switch", (7, 0, 1), "float32")], (5, 7, 8, 3))
    outs = Elemwise(comp)(a, b, c)
    fresh = a * 2  # a buffer of the graph that nothing reads later: inplace may take it
    inplace = Elemwise(_composite(2, [("sub", (0, 1), "float32"), ("tanh", (2,), "float32")], (3,)),
                       inplace=((0, 0),))(fresh, b)
    return pair([a, b, c], list(outs) + [inplace])


@given(data=st.data())
def test_handmade_composites(data):
    m, n = data.draw(st.integers(0, 4)), data.draw(st.integers(0, 4))
    a, b = values_of(data.draw, (m, n), "float32"), values_of(data.draw, (1, n), "float32")
    c = values_of(data.draw, (m, n), "int64")
    check_pair(composite_functions(), a, b, c, rtol=1e-4, atol=1e-4)  # float64 from float32 exp


def test_inplace_is_ignored_where_a_later_node_reads_the_buffer():
    x = T.matrix("x")
    y = x + 1
    z = Elemwise(SCALAR_OPS["exp"], inplace=((0, 0),))(y)  # would destroy y, which is read below
    fn = sg.function([x], z + y.sum(), mode=NUMBA)
    xv = np.arange(6, dtype="float32").reshape(2, 3) / 10
    assert np.allclose(fn(xv), np.exp(xv + 1) + (xv + 1).sum())


# --------------------------------------------------------------- reductions

@functools.lru_cache(maxsize=None)
def reduce_functions(dtype):
    x = T.tensor3("x", dtype=dtype)
    kinds = ["sum", "prod", "all", "any"] + (["max", "min"] if dtype != "bool" else [])
    names, outs = [], []
    for kind in kinds:
        for axis in (None, 0, 1, 2, (0, 2), (1, 2), (0, 1)):
            names.append(f"{kind} {axis}")
            outs.append(getattr(T, kind)(x, axis=axis))
    for axis, kind in ((None, "max"), (0, "min"), (2, "max"), ((0, 1), "min")):  # loops written out
        names.append(f"arg{kind} {axis}")
        outs.append(getattr(T, f"arg{kind}")(x, axis=axis))
    names += ["mean 1 keepdims", "var 0"]
    outs += [T.mean(x, axis=1, keepdims=True), T.var(T.cast(x, "float64"), axis=0)]
    five = x.dimshuffle(0, "x", 1, "x", 2) + x.dimshuffle("x", 0, "x", 1, 2)  # rank 5: loops written out
    for kind in kinds[:1] + kinds[-1:]:
        names.append(f"{kind} (1, 3) of rank 5")
        outs.append(getattr(T, kind)(five, axis=(1, 3)))
    return names, pair([x], outs)


@settings(max_examples=15)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
@given(data=st.data())
def test_reductions_match_python(dtype, data):
    names, fns = reduce_functions(dtype)
    shape = tuple(data.draw(st.integers(1, 4)) for _ in range(3))
    check_pair(fns, values_of(data.draw, shape, dtype, special=dtype == "float64"), names=names)


def test_max_of_empty_dimension_raises_naming_the_line():
    x = T.matrix("x")
    m = T.max(x, axis=0)
    fn = sg.function([x], m, mode=NUMBA)
    with pytest.raises(ExecutionError, match=r"(?s)max of an empty dimension.*test_numba_backend.py"):
        fn(np.zeros((0, 3), "float32"))
    assert fn(np.zeros((2, 0), "float32")).shape == (0,)


# ----------------------------------------------------------------- products

@functools.lru_cache(maxsize=None)
def dot_functions(dtype):
    a, b, v, w = T.matrix("a", dtype=dtype), T.matrix("b", dtype=dtype), T.vector("v", dtype=dtype), \
        T.vector("w", dtype=dtype)
    outs = [T.dot(a, b), T.dot(a, v), T.dot(v, b), T.dot(v, v), T.dot(a.T, a), T.dot(a, b) + w]
    return pair([a, b, v, w], outs, optimize=True)  # the optimizer makes Gemm nodes with flags and bias


@settings(max_examples=15)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@given(data=st.data())
def test_dot_and_gemm_match_python(dtype, data):
    m, k, n = (data.draw(st.integers(0, 5)) for _ in range(3))
    vals = [values_of(data.draw, s, dtype, special=False) for s in ((m, k), (k, n), (k,), (n,))]
    check_pair(dot_functions(dtype), *vals)


def test_dot_shape_mismatch_names_the_line():
    a, b = T.matrix("a"), T.matrix("b")
    fn = sg.function([a, b], T.dot(a, b), mode="numba")
    with pytest.raises(ExecutionError, match=r"(?s)not aligned.*length 3.*length 4.*test_numba_backend.py"):
        fn(np.ones((2, 3), "float32"), np.ones((4, 2), "float32"))


# ------------------------------------------------------------ conv and pool

def conv_graph(border_mode, stride, flip):
    x, w, r = T.tensor4("x"), T.tensor4("w"), T.tensor4("r")
    y = T.nnet.conv2d(x, w, border_mode=border_mode, subsample=stride, filter_flip=flip)
    gx, gw = sg.grad(T.sum(y * r), [x, w])
    return [x, w, r], [y, gx, gw]


@functools.lru_cache(maxsize=None)
def conv_functions(border_mode, stride, flip):
    return pair(*conv_graph(border_mode, stride, flip))


@settings(max_examples=8)
@pytest.mark.parametrize("border_mode,stride,flip", [
    ("valid", (1, 1), True), ("full", (1, 1), True), ("half", (2, 1), False), ((1, 2), (2, 3), True)])
@given(data=st.data())
def test_conv2d_and_its_gradients(border_mode, stride, flip, data):
    n, c, k = (data.draw(st.integers(1, 3)) for _ in range(3))
    kh, kw = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    h, w = data.draw(st.integers(kh, 6)), data.draw(st.integers(kw, 6))
    x = values_of(data.draw, (n, c, h, w), "float32", special=False)
    f = values_of(data.draw, (k, c, kh, kw), "float32", special=False)
    yshape = sg.function([], T.nnet.conv2d(x, f, border_mode=border_mode, subsample=stride,
                                           filter_flip=flip).shape, mode="python")()
    r = values_of(data.draw, tuple(yshape), "float32", special=False)
    check_pair(conv_functions(border_mode, stride, flip), x, f, r)


@functools.lru_cache(maxsize=None)
def pool_functions(ws, ignore_border, stride, pad, mode, ndim):
    x = T.tensor(shape=(None,) * ndim, name="x")
    y = pool.pool_2d(x, ws, ignore_border=ignore_border, stride=stride, pad=pad, mode=mode)
    return pair([x], [y, sg.grad(T.sum(y * T.cos(y)), x)])


@settings(max_examples=8)
@pytest.mark.parametrize("ws,ignore_border,stride,pad,mode,ndim", [
    ((2, 2), True, None, (0, 0), "max", 4), ((3, 2), False, (2, 1), (0, 0), "max", 3),
    ((2, 3), True, (1, 2), (1, 1), "sum", 4), ((3, 3), False, (2, 2), (0, 0), "average_inc_pad", 4),
    ((3, 2), True, (2, 2), (2, 1), "average_exc_pad", 2)])
@given(data=st.data())
def test_pool2d_and_its_gradient(ws, ignore_border, stride, pad, mode, ndim, data):
    lead = tuple(data.draw(st.integers(1, 3)) for _ in range(ndim - 2))
    h, w = data.draw(st.integers(ws[0], 7)), data.draw(st.integers(ws[1], 7))
    x = values_of(data.draw, lead + (h, w), "float32", special=False)
    if mode == "max":  # distinct values: ties would make the gradient depend on rounding
        x = (np.argsort(np.argsort(x.ravel())).reshape(x.shape) / 7).astype("float32")
    check_pair(pool_functions(ws, ignore_border, stride, pad, mode, ndim), x)


# ---------------------------------------------------- softmax, cross-entropy

@functools.lru_cache(maxsize=None)
def softmax_functions():
    x, y, t = T.matrix("x"), T.matrix("y"), T.tensor3("t")
    labels = T.lvector("labels")
    sm = T.nnet.softmax(x)
    outs = [sm, T.nnet.log_softmax(x), T.nnet.softmax(t, axis=1), T.nnet.log_softmax(t[0, 0]),
            T.nnet.categorical_crossentropy(sm, y),  # the fused CrossentropySoftmax
            T.nnet.categorical_crossentropy(sm, labels),
            T.nnet.binary_crossentropy(T.nnet.sigmoid(x), T.nnet.sigmoid(y)),
            sg.grad(T.mean(T.nnet.categorical_crossentropy(sm, y)), x)]
    return pair([x, y, t, labels], outs, optimize=True)


@given(data=st.data())
def test_softmax_and_crossentropies(data):
    m, n = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 5))
    x = values_of(data.draw, (m, n), "float32", special=False) * 10
    y = values_of(data.draw, (m, n), "float32", special=False)
    t = values_of(data.draw, (2, n, 3), "float32", special=False)
    labels = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)), dtype="int64")
    check_pair(softmax_functions(), x, y, t, labels)


# ------------------------------------------------------------ indexing

@functools.lru_cache(maxsize=None)
def subtensor_functions():
    x, v = T.matrix("x"), T.vector("v")
    i, j, k = T.lscalar("i"), T.lscalar("j"), T.lscalar("k")
    outs = [x[i], x[i, j], x[:, j], x[i:j], x[i:j:k], x[::-1, 1:], x[-1], x[1:, ::2][::-1],
            T.set_subtensor(x[i], v), T.inc_subtensor(x[:, j], 2.5), T.inc_subtensor(x[i:j], v),
            T.set_subtensor(x[i, j], 7), T.inc_subtensor(x[i:j:k, 1:], x[0, 1:])]
    return pair([x, v, i, j, k], outs)


@given(data=st.data())
def test_subtensor_and_inc_subtensor(data):
    m, n = data.draw(st.integers(2, 5)), data.draw(st.integers(2, 5))
    x = values_of(data.draw, (m, n), "float32", special=False)
    v = values_of(data.draw, (n,), "float32", special=False)
    i, j = data.draw(st.integers(-m, m - 1)), data.draw(st.integers(-n, n - 1))
    k = data.draw(st.sampled_from([-2, -1, 1, 2, 3]))
    try:  # the reference decides which index sets fit (inc_subtensor of x[i:j] needs j-i rows of n)
        fns = subtensor_functions()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fns[0](x, v, i, j, k)
    except ExecutionError:
        with pytest.raises(ExecutionError):
            subtensor_functions()[1](x, v, i, j, k)
        return
    check_pair(subtensor_functions(), x, v, i, j, k)


def test_index_out_of_bounds_names_the_line():
    x, i = T.matrix("x"), T.lscalar("i")
    fn = sg.function([x, i], x[i], mode=NUMBA)
    with pytest.raises(ExecutionError, match=r"(?s)index 5 is out of bounds for dimension 0 with length 2.*"
                                             r"test_numba_backend.py"):
        fn(np.zeros((2, 2), "float32"), 5)


# ------------------------------------------------------------ shapes

@functools.lru_cache(maxsize=None)
def shape_functions():
    x, y = T.tensor3("x"), T.matrix("y")
    n = T.lscalar("n")
    outs = [T.reshape(x, (-1, x.shape[2])), T.flatten(x), T.flatten(x, 2), x.shape, T.zeros((n, 2)),
            T.ones((2, n), dtype="int64"), T.alloc(y[0], n, y.shape[1]), T.arange(n), T.arange(1, n, 2),
            T.arange(0.5, n, 0.25), T.concatenate([y, y * 2], axis=1), T.stack([y, y + 1], axis=0),
            x.dimshuffle(2, 0, 1), x.dimshuffle(1, "x", 0, 2), x.T + 1,
            T.transpose(x, (0, 2, 1)) * x.dimshuffle(0, 2, 1), T.flatten(x.T), y.T[1:]]
    return pair([x, y, n], outs)


@given(data=st.data())
def test_shape_ops(data):
    a, b, c = (data.draw(st.integers(1, 4)) for _ in range(3))
    x = values_of(data.draw, (a, b, c), "float32", special=False)
    y = values_of(data.draw, (b, c), "float32", special=False)
    check_pair(shape_functions(), x, y, data.draw(st.integers(0, 5)))


def test_reshape_to_wrong_size_names_the_line():
    x = T.matrix("x")
    fn = sg.function([x], T.reshape(x, (3, -1)), mode=NUMBA)
    with pytest.raises(ExecutionError, match=r"(?s)cannot reshape an array of 4 elements.*test_numba_backend.py"):
        fn(np.zeros((2, 2), "float32"))


# ------------------------------------------------------------ random streams

def test_random_draws_give_the_reference_numbers():
    x = T.matrix("x")
    outs = []
    for backend in ("python", "numba"):
        srng = T.RandomStreams(1234)
        draws = [srng.uniform((3, 5), low=-1, high=2), srng.normal((7,), avg=1.0, std=x[0, :1]),
                 srng.binomial(x.shape, n=1, p=0.3, dtype="float32") * x, srng.binomial((4,), n=5, p=x[0, :4]),
                 srng.uniform(x.shape, low=x, high=x + 1, dtype="float64")]
        fn = sg.function([x], draws, mode=backend)
        xv = np.linspace(0.1, 0.9, 12, dtype="float32").reshape(3, 4)
        outs.append([fn(xv), fn(xv)])  # the second call draws new numbers
    for (p1, p2), (n1, n2) in [(outs[0], outs[1])]:
        for e, g in zip(p1 + p2, n1 + n2):
            assert_same_values(e, g)
    assert not np.array_equal(outs[1][0][0], outs[1][1][0])


# ------------------------------------------------------------ shared updates

def test_updates_match_and_failed_call_changes_nothing():
    w = sg.shared(np.ones((2, 3), "float32"), name="w")
    c = sg.shared(np.zeros(3, "float32"), name="c")
    x = T.matrix("x")
    cost = T.sum(T.dot(x, w) ** 2)
    gw = sg.grad(cost, w)
    compare_backends([x], cost, [np.arange(4, dtype="float32").reshape(2, 2)],
                     updates=[(w, w - 0.1 * gw), (c, c + w.sum(axis=0))])
    fn = sg.function([x], cost, updates=[(w, w - 0.1 * gw), (c, c + w.sum(axis=0))], mode="numba")
    before = w.get_value(), c.get_value()
    with pytest.raises(ExecutionError):
        fn(np.ones((2, 5), "float32"))  # x (2, 5) . w (2, 3): fails after nothing was written
    assert np.array_equal(w.get_value(), before[0]) and np.array_equal(c.get_value(), before[1])
    fn(np.ones((2, 2), "float32"))
    assert not np.array_equal(w.get_value(), before[0])


# ------------------------------------------------------------ errors

def test_runtime_broadcast_error_names_node_and_line():
    x, y = T.matrix("x"), T.matrix("y")
    fn = sg.function([x, y], x + y, mode="numba")
    with pytest.raises(ExecutionError, match=r"(?s)Elemwise\{add\}.*input 1 has length 1 at dimension 0.*"
                                             r"broadcastable.*test_numba_backend.py.*fn = sg.function|x \+ y"):
        fn(np.ones((3, 2), "float32"), np.ones((1, 2), "float32"))
    with pytest.raises(ExecutionError, match="differ at dimension 1"):
        fn(np.ones((3, 2), "float32"), np.ones((3, 4), "float32"))


class Twice(Op):
    """A test op: 2 * x (its Numba kernel is registered below, on purpose
    wrong or broken in some subclasses)."""

    def make_node(self, x):
        x = T.as_tensor(x)
        node = Apply(self, [x], [x.type])
        node.source = node.outputs[0].source = user_source(2)  # the line calling the op, not this one
        return node

    def perform(self, node, inputs):
        return [2 * inputs[0]]


class TwiceNoKernel(Twice):
    pass


class TwiceBadTyping(Twice):
    pass


class TwiceWrong(Twice):
    pass


@register_kernel(Twice)
def _twice(op, node, gen):
    gen.line(f"{gen.outs[0]} = {gen.ins[0].name} * 2")


@register_kernel(TwiceBadTyping)
def _twice_bad(op, node, gen):
    gen.line(f"{gen.outs[0]} = {gen.ins[0].name} * 'two'")


@register_kernel(TwiceWrong)
def _twice_wrong(op, node, gen):
    gen.line(f"{gen.outs[0]} = {gen.ins[0].name} * 2 + 1")


def test_op_without_kernel_fails_at_compile_time_naming_op_and_line(monkeypatch):
    from symgraph.backend.numba_cpu.registry import KERNELS, kernel_for
    from symgraph.tensor.reduce import Argmax
    x = T.matrix("x")
    kernel_for(T.argmax(x).owner)  # the built-in kernels are loaded
    monkeypatch.delitem(KERNELS, Argmax)
    y = T.argmax(x, axis=1) + 1
    with pytest.raises(NoKernelError, match=r"(?s)no kernel for Argmax.*test_numba_backend.py.*y = T.argmax"):
        sg.function([x], y, mode="numba")
    z = TwiceNoKernel()(T.vector("v"))  # a subclass uses its parent's kernel
    check_pair(pair(z.owner.inputs, z), np.arange(3, dtype="float32"))


def test_typing_failure_is_reported_with_the_users_line():
    x = T.vector("x")
    y = T.exp(x)
    z = TwiceBadTyping()(y)
    with pytest.raises(KernelCompileError, match=r"(?s)TwiceBadTyping.*does not compile.*test_numba_backend.py.*"
                                                 r"z = TwiceBadTyping"):
        sg.function([x], z + 1, mode="numba")


# ------------------------------------------------------------ profile, NaN guard, debug

def test_profile_times_every_node_and_prints_a_sorted_table(capsys):
    x = T.matrix("x")
    w = sg.shared(np.ones((3, 4), "float32"), name="w")
    out = T.nnet.softmax(T.dot(x, w)).sum()
    fn = sg.function([x], out, mode="numba", profile=True, name="prof")
    xv = np.ones((2, 3), "float32")
    assert np.isclose(fn(xv), 2.0) and np.isclose(fn(xv), 2.0)
    text = fn.profile.summary()
    assert "Profile of prof: 2 calls" in text
    rows = [line for line in text.splitlines()[2:] if line.strip()]
    assert len(rows) == len(fn.fgraph.toposort())
    times = [float(r.split()[1]) for r in rows]
    assert times == sorted(times, reverse=True)
    assert all(fn.profile.node_calls[n] == 2 for n in fn.fgraph.toposort())


def test_nan_guard_names_the_first_node_and_its_line():
    x = T.vector("x")
    y = T.log(x)  # NaN for negative x
    z = T.switch(T.isnan(y), 0.0, y) * 2  # the NaN never reaches the output
    fn = sg.function([x], z, mode="numba", nan_guard=True)
    assert np.allclose(fn(np.array([1.0, 2.0], "float32")), 2 * np.log([1.0, 2.0]))
    with pytest.raises(ExecutionError, match=r"(?s)NaN guard.*log.*contains NaN.*y = T.log\(x\)"):
        fn(np.array([1.0, -1.0], "float32"))
    plain = sg.function([x], z, mode="numba")
    assert np.isfinite(plain(np.array([1.0, -1.0], "float32"))).all()


def test_debug_mode_raises_at_the_first_differing_node():
    x = T.vector("x")
    ok = sg.function([x], Twice()(T.exp(x)).sum(), mode="debug")
    assert np.isclose(ok(np.zeros(3, "float32")), 6.0)
    y = T.exp(x)
    z = TwiceWrong()(y)
    fn = sg.function([x], (z * 3).sum(), mode="debug")
    with pytest.raises(ExecutionError, match=r"(?s)debug mode.*TwiceWrong.*differ.*z = TwiceWrong\(\)\(y\)"):
        fn(np.zeros(3, "float32"))


def test_generated_source_is_readable_python():
    x, b = T.matrix("x"), T.vector("b")
    fn = sg.function([x, b], T.nnet.relu(x + b), mode="numba")
    text = open(fn.linker.source_path).read()
    assert "def driver(" in text and "@njit(SIGNATURE, cache=True" in text
    assert re.search(r"for i0 in range", text)
    compile(text, fn.linker.source_path, "exec")
