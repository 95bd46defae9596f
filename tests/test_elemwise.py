"""Elementwise ops (symgraph.tensor.scalar.SCALAR_OPS through the
``symgraph.tensor`` vocabulary): values and dtypes against NumPy over
hypothesis shapes, broadcasting pairs and dtypes; gradients against finite
differences (``verify_grad``); NumPy 2 weak typing of Python numbers; Theano's
broadcasting rule (only static length-1 dimensions stretch)."""
import zlib

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import symgraph as sg
from symgraph import tensor as T
from symgraph.errors import ExecutionError, GraphTypeError
from symgraph.tensor.scalar import SCALAR_OPS
from symgraph.testing import arrays, broadcastable_shapes, shapes, verify_grad


def sym(shape, dtype="float64", name=None):
    """A symbolic input for arrays of ``shape``: broadcastable (static 1)
    where the length is 1, unknown elsewhere."""
    return T.tensor(dtype, tuple(1 if n == 1 else None for n in shape), name=name)


def run(inputs, outputs, *values):
    return sg.function(inputs, outputs, mode="python")(*values)


def bc(x, shape):
    """``x`` (from verify_grad, no static lengths) marked broadcastable where
    ``shape`` has length 1."""
    return T.patternbroadcast(x, [n == 1 for n in shape])


def float_of(dtype):
    """Theano's output dtype of an op that needs floats: small ints give
    float32, large ints float64."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return dtype.name
    return "float32" if dtype.itemsize <= 2 else "float64"


def sigmoid_np(x):
    return 1 / (1 + np.exp(-x))


# name -> (NumPy oracle, domain, output dtype rule)
UNARY = {
    "neg": (np.negative, "any", "same"),
    "abs": (np.abs, "any", "same"),
    "sgn": (np.sign, "any", "same"),
    "sqr": (np.square, "any", "same"),
    "floor": (np.floor, "any", "float"),
    "round": (np.round, "any", "float"),  # half to even, as NumPy
    "exp": (np.exp, "any", "float"),
    "log": (np.log, "pos", "float"),
    "log1p": (np.log1p, "pos", "float"),
    "expm1": (np.expm1, "any", "float"),
    "sqrt": (np.sqrt, "pos", "float"),
    "tanh": (np.tanh, "any", "float"),
    "sin": (np.sin, "any", "float"),
    "cos": (np.cos, "any", "float"),
    "sigmoid": (sigmoid_np, "any", "float"),
    "softplus": (lambda x: np.log1p(np.exp(x)), "any", "float"),
    "isnan": (np.isnan, "any", "bool"),
    "isinf": (np.isinf, "any", "bool"),
    "invert": (np.invert, "intbool", "same"),
}
BINARY = {
    "add": (np.add, "any", "upcast"),
    "sub": (np.subtract, "any", "upcast"),
    "mul": (np.multiply, "any", "upcast"),
    "true_div": (np.true_divide, "nonzero_y", "float"),
    "int_div": (np.floor_divide, "nonzero_y", "upcast"),
    "mod": (np.mod, "nonzero_y", "upcast"),
    "pow": (np.power, "pow", "upcast"),
    "maximum": (np.maximum, "any", "upcast"),
    "minimum": (np.minimum, "any", "upcast"),
    "second": (lambda a, b: np.broadcast_to(b, np.broadcast_shapes(a.shape, b.shape)), "any", "second"),
    "eq": (np.equal, "any", "bool"),
    "neq": (np.not_equal, "any", "bool"),
    "lt": (np.less, "any", "bool"),
    "le": (np.less_equal, "any", "bool"),
    "gt": (np.greater, "any", "bool"),
    "ge": (np.greater_equal, "any", "bool"),
    "and_": (np.bitwise_and, "intbool", "upcast"),
    "or_": (np.bitwise_or, "intbool", "upcast"),
    "xor": (np.bitwise_xor, "intbool", "upcast"),
}
TERNARY = {
    "clip": (np.clip, "any", "upcast"),
    "switch": (lambda c, a, b: np.where(c, a, b), "any", "switch"),
}
FLOATS = ["float32", "float64"]
INTS = ["int8", "int32", "int64"]


def expected_dtype(rule, dtypes):
    if rule == "same":
        return dtypes[0]
    if rule == "bool":
        return "bool"
    if rule == "second":
        return dtypes[1]
    if rule == "switch":
        return np.result_type(*dtypes[1:]).name
    if rule == "float":
        return float_of(np.result_type(*dtypes))
    return np.result_type(*dtypes).name


def test_every_scalar_op_is_covered():
    covered = set(UNARY) | set(BINARY) | set(TERNARY)
    assert set(SCALAR_OPS) == covered, f"untested scalar ops: {set(SCALAR_OPS) - covered}"


def tolerance(dtype):
    return dict(rtol=2e-6, atol=1e-6) if dtype in ("float32", "float16") else dict(rtol=1e-12, atol=1e-12)


def check_values(got, want, dtype):
    assert got.dtype == np.dtype(dtype), (got.dtype, dtype)
    assert got.shape == np.shape(want)
    if np.dtype(dtype).kind in "biu":
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, np.asarray(want, dtype="float64"), **tolerance(dtype))


def draw_values(draw, shape, dtype, domain):
    if domain == "intbool" or np.dtype(dtype).kind == "b":
        return draw(arrays(shape, dtype, -8, 8))
    if np.dtype(dtype).kind in "iu":
        low = 1 if domain == "pos" else -5
        return draw(arrays(shape, dtype, low, 5))
    if domain == "pos":
        return draw(arrays(shape, dtype, 0.125, 4.0))  # bounds exact in float32 (testing.arrays needs that)
    return draw(arrays(shape, dtype, -3.0, 3.0))


# ---------------------------------------------------------------- forward


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary_forward(name, data):
    fn, domain, rule = UNARY[name]
    dtypes = ["bool", "int8", "int64"] if domain == "intbool" else FLOATS + INTS
    dtype = data.draw(st.sampled_from(dtypes))
    shape = data.draw(shapes(max_dims=3))
    x = draw_values(data.draw, shape, dtype, domain)
    xs = sym(shape, dtype)
    out = getattr(T, name)(xs)
    out_dtype = expected_dtype(rule, [dtype])
    assert out.dtype == out_dtype
    assert out.broadcastable == xs.broadcastable
    # the oracle computes in the output dtype (Theano's rule: ints become floats first)
    want = fn(x.astype(out_dtype)) if rule == "float" else fn(x)
    check_values(run([xs], out, x), want, out_dtype)


BINARY_DTYPES = [("float64", "float64"), ("float32", "float32"), ("float32", "float64"), ("int32", "float32"),
                 ("int64", "int64"), ("int8", "int32"), ("int8", "int8")]


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary_forward_broadcasting(name, data):
    fn, domain, rule = BINARY[name]
    pairs = [("bool", "bool"), ("int8", "int32"), ("int64", "bool")] if domain == "intbool" else BINARY_DTYPES
    if domain == "pow":  # ints to negative int powers are an error in NumPy: keep pow on floats
        pairs = [p for p in pairs if "float" in p[0]]
    da, db = data.draw(st.sampled_from(pairs))
    sa, sb = data.draw(broadcastable_shapes(max_dims=3))
    a = draw_values(data.draw, sa, da, "pos" if domain == "pow" else domain)
    b = draw_values(data.draw, sb, db, domain)
    if domain in ("nonzero_y", "pow"):
        b = np.where(b == 0, 1, b).astype(db)
    xa, xb = sym(sa, da), sym(sb, db)
    out = getattr(T, name)(xa, xb)
    out_dtype = expected_dtype(rule, [da, db])
    assert out.dtype == out_dtype
    full = np.broadcast_shapes(sa, sb)
    assert out.ndim == len(full)
    assert out.broadcastable == tuple(n == 1 for n in np.broadcast_shapes(
        (1,) * (len(full) - len(sa)) + sa, (1,) * (len(full) - len(sb)) + sb))
    if rule == "float":
        want = fn(a.astype(out_dtype), b.astype(out_dtype))
    else:
        want = fn(a, b)
    check_values(run([xa, xb], out, a, b), want, out_dtype)


@pytest.mark.parametrize("name", sorted(TERNARY))
@given(data=st.data())
def test_ternary_forward(name, data):
    fn, _, rule = TERNARY[name]
    sa, sb = data.draw(broadcastable_shapes(max_dims=3))
    dtype = data.draw(st.sampled_from(["float32", "float64", "int32"]))
    if name == "clip":
        x = draw_values(data.draw, sa, dtype, "any")
        lo = draw_values(data.draw, sb, dtype, "any")
        hi = (lo + np.abs(draw_values(data.draw, sb, dtype, "any"))).astype(dtype)  # lo <= hi
        ins = [sym(sa, dtype), sym(sb, dtype), sym(sb, dtype)]
        values = [x, lo, hi]
        dtypes = [dtype] * 3
    else:
        cond = data.draw(arrays(sa, "bool"))
        a = draw_values(data.draw, sb, dtype, "any")
        b = draw_values(data.draw, sa, "float64", "any")
        ins = [sym(sa, "bool"), sym(sb, dtype), sym(sa, "float64")]
        values = [cond, a, b]
        dtypes = ["bool", dtype, "float64"]
    out = getattr(T, name)(*ins)
    out_dtype = expected_dtype(rule, dtypes)
    assert out.dtype == out_dtype
    check_values(run(ins, out, *values), fn(*values), out_dtype)


@given(data=st.data())
def test_nary_add_mul(data):
    n = data.draw(st.integers(3, 4))
    shape = data.draw(shapes(max_dims=3))
    xs = [sym(shape) for _ in range(n)]
    vals = [data.draw(arrays(shape)) for _ in range(n)]
    add, mul = run(xs, [T.add(*xs), T.mul(*xs)], *vals)
    np.testing.assert_allclose(add, np.sum(vals, axis=0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mul, np.prod(vals, axis=0), rtol=1e-12, atol=1e-12)


def test_operators_match_functions():
    x, y = T.dvector("x"), T.dvector("y")
    a, b = np.array([1.5, -2.0, 3.0]), np.array([0.5, 4.0, -2.5])
    outs = run([x, y], [x + y, x - y, x * y, x / y, x // y, x % y, -x, abs(x), x ** 2, 2 ** x,
                        x < y, x <= y, x > y, x >= y, 1 - x, 3 / y], a, b)
    want = [a + b, a - b, a * b, a / b, a // b, a % b, -a, abs(a), a ** 2, 2 ** a,
            a < b, a <= b, a > b, a >= b, 1 - a, 3 / b]
    for got, w in zip(outs, want):
        np.testing.assert_allclose(got, w, rtol=1e-12)
    i, j = T.lvector(), T.lvector()
    u, v = np.array([5, 12, -3]), np.array([3, 10, 6])
    for got, w in zip(run([i, j], [i & j, i | j, ~i], u, v), [u & v, u | v, ~u]):
        np.testing.assert_array_equal(got, w)


def test_bitwise_ops_reject_floats():
    with pytest.raises(GraphTypeError, match="bitwise") as info:
        T.and_(T.dvector(), T.lvector())
    assert "test_elemwise.py" in str(info.value)
    with pytest.raises(GraphTypeError, match="bitwise"):
        ~T.fmatrix()


# ---------------------------------------------------------------- dtypes


def test_python_numbers_are_weakly_typed():
    w, g = T.fvector("w"), T.fvector("g")
    assert (0.05 * w).dtype == "float32"
    assert (w * 0.05).dtype == "float32"
    assert (w - 0.05 * g).dtype == "float32"
    assert (w / 3).dtype == "float32"
    assert (w ** 2).dtype == "float32"
    assert T.maximum(w, 0).dtype == "float32"
    i8, i32 = T.bvector(), T.ivector()
    assert (i32 * 0.5).dtype == "float64"
    assert (i8 * 0.5).dtype == "float64"
    assert (i8 + 1).dtype == "int8"
    assert (i32 * 2).dtype == "int32"
    assert (T.dvector() * np.float32(2)).dtype == "float64"
    # tensors upcast each other as NumPy arrays do
    assert (w + T.dvector()).dtype == "float64"
    assert (i32 + w).dtype == "float64"
    assert (i8 + w).dtype == "float32"
    # an update keeps the shared variable's float32
    p = sg.shared(np.ones(3, dtype="float32"))
    step = sg.function([g], [], updates=[(p, p - 0.05 * g)], mode="python")
    step(np.ones(3, dtype="float32"))
    np.testing.assert_allclose(p.get_value(), np.full(3, 0.95, dtype="float32"))
    assert p.get_value().dtype == np.float32
    # values: the weak scalar is rounded to float32, as NumPy does
    np.testing.assert_array_equal(run([w], 0.1 * w, np.ones(2, "float32")), np.float32(0.1) * np.ones(2, "float32"))
    np.testing.assert_array_equal(run([i32], i32 * 0.5, np.array([3, -1], "int32")), [1.5, -0.5])


def test_comparisons_give_bool():
    x, y = T.fmatrix(), T.imatrix()
    for out in (x < y, x <= y, T.gt(x, y), T.ge(x, 1), T.eq(x, y), T.neq(y, 2), T.isnan(x), T.isinf(x)):
        assert out.dtype == "bool"
    a = np.array([[1.0, np.nan, -np.inf]], dtype="float32")
    b = np.array([[1, 2, 3]], dtype="int32")
    got = run([x, y], [T.eq(x, y), T.isnan(x), T.isinf(x)], a, b)
    for g, w in zip(got, [a == b, np.isnan(a), np.isinf(a)]):
        assert g.dtype == np.bool_
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("src,dst", [("float64", "float32"), ("float32", "int32"), ("float64", "int8"),
                                     ("int64", "float32"), ("int32", "int64"), ("float64", "bool"),
                                     ("bool", "float64")])
def test_cast(src, dst):
    x = T.tensor(src, (None, None))
    y = T.cast(x, dst)
    assert y.dtype == dst
    v = np.array([[1.7, -2.6, 0.0], [3.2, 100.5, -0.4]]).astype(src)
    got = run([x], y, v)
    assert got.dtype == np.dtype(dst)
    np.testing.assert_array_equal(got, v.astype(dst))
    assert T.cast(x, src) is x
    assert x.astype(dst).dtype == dst


def test_cast_floatx():
    assert T.cast(T.dvector(), "floatX").dtype == sg.config.floatX


def test_int_division_and_mod_follow_python():
    i, j = T.lvector(), T.lvector()
    a, b = np.array([7, -7, 7, -7]), np.array([2, 2, -2, -2])
    q, r, d = run([i, j], [i // j, i % j, i / j], a, b)
    np.testing.assert_array_equal(q, a // b)
    np.testing.assert_array_equal(r, a % b)
    assert d.dtype == np.float64
    np.testing.assert_array_equal(d, a / b)
    assert (T.bvector() / T.bvector()).dtype == "float32"  # Theano: small ints divide in float32


# ---------------------------------------------------------------- broadcasting rule


def test_runtime_broadcast_of_unmarked_dim_raises():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    fn = sg.function([x, y], x + y, mode="python")
    with pytest.raises(ExecutionError, match="broadcastable") as info:
        fn(np.ones((1, 3)), np.ones((2, 3)))
    assert "test_elemwise.py" in str(info.value)  # names the user's line
    # the same values work once the dimension is marked broadcastable
    fn = sg.function([x, y], T.addbroadcast(x, 0) + y, mode="python")
    np.testing.assert_array_equal(fn(np.ones((1, 3)), np.ones((2, 3))), np.full((2, 3), 2.0))
    fn = sg.function([x, y], x + y, mode="python")
    with pytest.raises(ExecutionError):
        fn(np.ones((2, 3)), np.ones((3, 3)))


def test_broadcast_static_shapes():
    a = T.tensor("float64", (1, None, 3))
    b = T.tensor("float64", (4, 1, None))
    out = a * b
    assert out.type.shape == (4, None, 3)
    assert (T.dvector() + T.dmatrix()).type.shape == (None, None)
    assert (T.tensor("float64", (3,)) + T.dmatrix()).type.shape == (None, 3)
    with pytest.raises(GraphTypeError, match="incompatible static shapes") as info:
        T.tensor("float64", (2, 3)) + T.tensor("float64", (4, 3))
    assert "test_elemwise.py" in str(info.value)


def test_broadcasting_value_against_numpy():
    row, col = T.drow(), T.dcol()
    r, c = np.arange(3.0).reshape(1, 3), np.arange(4.0).reshape(4, 1)
    np.testing.assert_array_equal(run([row, col], row * 10 + col, r, c), r * 10 + c)
    v = T.dvector()
    np.testing.assert_array_equal(run([v, col], v - col, np.arange(3.0), c), np.arange(3.0) - c)


# ---------------------------------------------------------------- gradients


def away_from(x, points, margin):
    """``x`` with entries within ``margin`` of any of ``points`` moved away."""
    x = np.array(x, dtype="float64")
    for p in points:
        close = np.abs(x - p) < margin
        x[close] = p + np.where(x[close] >= p, margin, -margin)
    return x


GRAD_DOMAIN = {"log": "pos", "sqrt": "pos", "log1p": "pos", "abs": "kink0", "sgn": "kink0",
               "floor": "kinkint", "round": "kinkhalf"}
NO_GRAD = {"isnan", "isinf", "invert"}


@pytest.mark.parametrize("name", sorted(set(UNARY) - NO_GRAD))
@pytest.mark.parametrize("shape", [(), (4,), (2, 3)])
def test_unary_grad(name, shape):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    x = rng.uniform(-2.5, 2.5, size=shape)
    domain = GRAD_DOMAIN.get(name)
    if domain == "pos":
        x = np.abs(x) + 0.2
    elif domain == "kink0":
        x = away_from(x, [0.0], 0.1)
    elif domain == "kinkint":
        x = away_from(x, np.arange(-3, 4), 0.05)
    elif domain == "kinkhalf":
        x = away_from(x, np.arange(-3, 4) + 0.5, 0.05)
    verify_grad(getattr(T, name), [x])


def test_zero_gradient_ops_give_zeros():
    x = T.dvector()
    for name in ("floor", "round", "sgn"):
        g = run([x], sg.grad(getattr(T, name)(x).sum(), x), np.array([0.3, -1.7]))
        np.testing.assert_array_equal(g, [0.0, 0.0])


BINARY_GRAD = ["add", "sub", "mul", "true_div", "pow", "maximum", "minimum", "mod"]
BROADCAST_PAIRS = [((3,), (3,)), ((2, 3), (2, 3)), ((2, 3), (1, 3)), ((4, 1), (1, 3)), ((2, 3), (3,)),
                   ((), (2, 2)), ((3, 1, 2), (4, 1))]


@pytest.mark.parametrize("name", BINARY_GRAD)
@pytest.mark.parametrize("sa,sb", BROADCAST_PAIRS, ids=str)
def test_binary_grad_broadcasting(name, sa, sb):
    rng = np.random.default_rng(zlib.crc32(repr((name, sa, sb)).encode()))
    a = rng.uniform(-2, 2, size=sa)
    b = rng.uniform(-2, 2, size=sb)
    if name == "pow":
        a = np.abs(a) + 0.3
    elif name == "true_div":
        b = away_from(b, [0.0], 0.3)
    elif name in ("maximum", "minimum"):  # no ties: a on odd, b on even multiples of 0.1
        a = rng.integers(-10, 10, size=sa) * 0.2 + 0.1
        b = rng.integers(-10, 10, size=sb) * 0.2
    elif name == "mod":  # |a| < |b|, a not near 0: a/b stays away from the jumps at integers
        b = rng.choice([-1.0, 1.0], size=sb) * rng.uniform(1.5, 2.5, size=sb)
        a = away_from(rng.uniform(-1.4, 1.4, size=sa), [0.0], 0.1)
    fn = getattr(T, name)
    verify_grad(lambda x, y: fn(bc(x, sa), bc(y, sb)), [a, b])


@given(data=st.data())
def test_maximum_minimum_grad_hypothesis(data):
    sa, sb = data.draw(broadcastable_shapes(max_dims=3, max_side=3))
    a = data.draw(arrays(sa, "float64", -3, 3))
    b = data.draw(arrays(sb, "float64", -3, 3))
    full = np.broadcast_shapes(sa, sb)
    assume(np.all(np.abs(np.broadcast_to(a, full) - np.broadcast_to(b, full)) > 1e-3))
    for fn in (T.maximum, T.minimum):
        verify_grad(lambda x, y: fn(bc(x, sa), bc(y, sb)), [a, b])


def test_nary_mul_grad():
    rng = np.random.default_rng(3)
    vals = [rng.normal(size=(2, 3)), rng.normal(size=(1, 3)), rng.normal(size=(2, 1))]
    verify_grad(lambda a, b, c: T.mul(a, bc(b, (1, 3)), bc(c, (2, 1))), vals)
    verify_grad(lambda a, b, c: T.add(a, bc(b, (1, 3)), bc(c, (2, 1))) ** 2, vals)


def test_clip_grad():
    rng = np.random.default_rng(4)
    x = away_from(rng.uniform(-3, 3, size=(3, 4)), [-1.0, 1.5], 0.05)
    lo, hi = np.full((1, 4), -1.0), np.full((1, 4), 1.5)
    verify_grad(lambda a, l, h: T.clip(a, bc(l, (1, 4)), bc(h, (1, 4))), [x, lo, hi])
    verify_grad(lambda a: T.clip(a, -1.0, 1.5), [x])
    v = T.dvector()
    g = run([v], sg.grad(T.clip(v, -1.0, 1.0).sum(), v), np.array([-2.0, 0.5, 3.0]))
    np.testing.assert_array_equal(g, [0.0, 1.0, 0.0])


def test_switch_grad():
    rng = np.random.default_rng(5)
    cond = rng.uniform(size=(3, 4)) > 0.5
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(1, 4))
    c = T.constant(cond)
    verify_grad(lambda x, y: T.switch(c, x, bc(y, (1, 4))), [a, b])
    x = T.dvector()
    g = run([x], sg.grad(T.switch(x > 0, x ** 2, -x).sum(), x), np.array([-2.0, 3.0]))
    np.testing.assert_array_equal(g, [-1.0, 6.0])


def test_second_and_cast_grad():
    rng = np.random.default_rng(6)
    verify_grad(lambda a, b: T.second(a, bc(b, (1, 3))) * a, [rng.normal(size=(2, 3)), rng.normal(size=(1, 3))])
    # linear map, so a large step is exact up to the float32 rounding
    verify_grad(lambda a: T.cast(a, "float32") * 2, [rng.normal(size=(3,))], eps=0.1, abs_tol=1e-5, rel_tol=1e-5)
    x = T.fvector()
    g = sg.grad(T.cast(x, "float64").sum(), x)
    assert g.dtype == "float32"
    np.testing.assert_array_equal(run([x], g, np.ones(2, "float32")), [1.0, 1.0])


def test_float32_graph_grad():
    rng = np.random.default_rng(7)
    x = T.fmatrix()
    y = T.tanh(x) * 0.5 + T.sigmoid(x) ** 2
    g = sg.grad(y.sum(), x)
    assert g.dtype == "float32"
    v = rng.normal(size=(2, 3)).astype("float32")
    want = 0.5 * (1 - np.tanh(v) ** 2) + 2 * sigmoid_np(v) ** 2 * (1 - sigmoid_np(v))
    np.testing.assert_allclose(run([x], g, v), want, rtol=1e-5)


def test_second_derivative_of_elementwise():
    x = T.dscalar()
    # d2/dx2 of exp(sin x) = exp(sin x) * (cos^2 x - sin x)
    f = T.exp(T.sin(x))
    d2 = sg.grad(sg.grad(f, x), x)
    v = 0.7
    np.testing.assert_allclose(run([x], d2, v), np.exp(np.sin(v)) * (np.cos(v) ** 2 - np.sin(v)), rtol=1e-12)
