"""Reductions (sum, prod, max, min, mean, var, std, all, any, argmax,
argmin) and shape ops (shape, reshape, flatten, dimshuffle, transpose,
squeeze, alloc, zeros/ones(_like), arange, concatenate, stack): values
against NumPy, static shape inference, gradients against finite
differences."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import symgraph as sg
from symgraph import tensor as T
from symgraph.errors import ExecutionError, GraphTypeError
from symgraph.testing import arrays, shapes, verify_grad


def sym(shape, dtype="float64", name=None):
    """A symbolic input for arrays of ``shape`` (static 1 where the length is 1)."""
    return T.tensor(dtype, tuple(1 if n == 1 else None for n in shape), name=name)


def run(inputs, outputs, *values):
    return sg.function(inputs, outputs, mode="python")(*values)


@st.composite
def axis_args(draw, ndim):
    """None, an int (maybe negative) or a tuple of distinct axes."""
    if ndim == 0:
        return draw(st.sampled_from([None, ()]))
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    axes = draw(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim))
    return tuple(a - ndim if draw(st.booleans()) else a for a in axes)


def np_axis(axis):
    return tuple(axis) if isinstance(axis, tuple) else axis


# ---------------------------------------------------------------- reductions

REDUCTIONS = {
    "sum": np.sum, "prod": np.prod, "max": np.max, "min": np.min, "mean": np.mean, "var": np.var,
    "std": np.std, "all": np.all, "any": np.any,
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@given(data=st.data())
def test_reduction_forward(name, data):
    dtype = data.draw(st.sampled_from(["bool"] if name in ("all", "any") else ["float64", "float32", "int32", "int8"]))
    # prod: at most 81 entries in [-2, 2], so float32 products stay finite
    shape = data.draw(shapes(max_dims=4, max_side=3 if name == "prod" else 4))
    bound = 2 if name == "prod" else 3
    x = data.draw(arrays(shape, dtype, -bound, bound))
    axis = data.draw(axis_args(len(shape)))
    keepdims = data.draw(st.booleans())
    xs = sym(shape, dtype)
    out = getattr(T, name)(xs, axis=axis, keepdims=keepdims)
    want = REDUCTIONS[name](x, axis=np_axis(axis), keepdims=keepdims)
    got = run([xs], out, x)
    assert got.shape == np.shape(want)
    assert out.ndim == np.ndim(want)
    if name in ("mean", "var", "std") and dtype.startswith("int"):
        assert got.dtype == np.float64
    elif name in ("sum", "prod") and dtype.startswith("int"):
        assert got.dtype == np.int64  # ints accumulate in int64
    else:
        assert got.dtype == np.dtype(dtype)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@given(data=st.data())
def test_argmax_argmin(name, data):
    shape = data.draw(shapes(min_dims=1, max_dims=3, max_side=4))
    x = data.draw(arrays(shape, "float64", -3, 3))
    axis = data.draw(axis_args(len(shape)))
    keepdims = data.draw(st.booleans())
    xs = sym(shape)
    out = getattr(T, name)(xs, axis=axis, keepdims=keepdims)
    assert out.dtype == "int64"
    got = run([xs], out, x)
    axes = tuple(range(x.ndim)) if axis is None else tuple(sorted(a % x.ndim for a in np.atleast_1d(axis)))
    # oracle: move the reduced axes last (in their order in x), flatten them, take NumPy's arg-reduction
    kept = [d for d in range(x.ndim) if d not in axes]
    moved = np.transpose(x, kept + list(axes)).reshape([x.shape[d] for d in kept] + [-1])
    want = getattr(np, name)(moved, axis=-1)
    if keepdims:
        want = np.expand_dims(want, axes)
    np.testing.assert_array_equal(got, want)


def test_argmax_methods_and_ties():
    x = T.dmatrix()
    v = np.array([[1.0, 5.0, 5.0], [7.0, 0.0, 7.0]])
    a, b, c = run([x], [x.argmax(axis=1), x.argmin(axis=0), T.argmax(x)], v)
    np.testing.assert_array_equal(a, [1, 0])  # first maximum, as NumPy
    np.testing.assert_array_equal(b, [0, 1, 0])
    assert c == 3
    # argmax has no gradient, and does not block the other paths
    g = sg.grad(x.argmax(axis=1).sum() * 1.0 + (x * x).sum(), x)
    np.testing.assert_array_equal(run([x], g, v), 2 * v)


def test_reduction_static_shapes_and_errors():
    x = T.tensor("float64", (2, None, 4))
    assert T.sum(x, axis=1).type.shape == (2, 4)
    assert T.max(x, axis=(0, 2), keepdims=True).type.shape == (1, None, 1)
    assert T.mean(x, axis=-1).type.shape == (2, None)
    assert T.argmax(x, axis=0).type.shape == (None, 4)
    assert T.sum(x).ndim == 0
    with pytest.raises(ValueError, match="out of range"):
        T.sum(x, axis=3)
    with pytest.raises(ValueError, match="repeated"):
        T.sum(x, axis=(0, -3))


def test_sum_dtype_argument_and_methods():
    x = T.bvector()
    assert T.sum(x, dtype="int8").dtype == "int8"
    m = T.fmatrix()
    v = np.arange(6, dtype="float32").reshape(2, 3)
    outs = run([m], [m.sum(), m.mean(axis=0), m.max(axis=1), m.min(), m.prod(axis=1, keepdims=True)], v)
    for got, want in zip(outs, [v.sum(), v.mean(0), v.max(1), v.min(), v.prod(1, keepdims=True)]):
        np.testing.assert_allclose(got, want, rtol=1e-6)
        assert got.dtype == np.float32


@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "max", "min", "prod"])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)], ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_grad(name, axis, keepdims):
    rng = np.random.default_rng(11)
    if name in ("max", "min"):  # distinct values: no ties
        x = (rng.permutation(24).reshape(2, 3, 4) - 12) * 0.25
    elif name == "prod":
        x = rng.uniform(0.5, 1.5, size=(2, 3, 4)) * rng.choice([-1, 1], size=(2, 3, 4))
    else:
        x = rng.normal(size=(2, 3, 4))
    verify_grad(lambda a: getattr(T, name)(a, axis=axis, keepdims=keepdims), [x])


def test_max_grad_with_ties_goes_to_every_maximum():
    x = T.dmatrix()
    v = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    np.testing.assert_array_equal(run([x], sg.grad(x.max(axis=1).sum(), x), v), [[0, 1, 1], [1, 1, 1]])
    np.testing.assert_array_equal(run([x], sg.grad(x.min(), x), v), [[1, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(run([x], sg.grad(x.max(), x), v), [[0, 1, 1], [0, 0, 0]])


def test_prod_grad_with_zeros():
    x = T.dmatrix()
    v = np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 2.0], [1.0, 2.0, 4.0]])
    got = run([x], sg.grad(T.prod(x, axis=1).sum(), x), v)
    # d prod / d x_i = product of the other entries of the row
    want = np.array([[np.prod(np.delete(row, i)) for i in range(3)] for row in v])
    np.testing.assert_array_equal(got, want)
    verify_grad(lambda a: T.prod(a, axis=0), [v])


def test_mean_of_symbolic_length_and_int_grad():
    x = T.dvector()
    v = np.array([1.0, 2.0, 6.0])
    np.testing.assert_allclose(run([x], sg.grad(x.mean(), x), v), np.full(3, 1 / 3))
    i = T.ivector()
    np.testing.assert_allclose(run([i], T.mean(i), np.array([1, 2], "int32")), 1.5)


# ---------------------------------------------------------------- shape, reshape, flatten


def test_shape():
    x = T.tensor("float32", (None, 3, None))
    s = x.shape
    assert s.dtype == "int64" and s.type.shape == (3,)
    v = np.zeros((2, 3, 5), dtype="float32")
    np.testing.assert_array_equal(run([x], s, v), [2, 3, 5])
    np.testing.assert_array_equal(run([x], [s[0], s[-1], T.shape(x)[1:]], v)[2], [3, 5])
    assert T.get_scalar_constant_value(s[1]) == 3  # static length read through shape
    assert T.get_scalar_constant_value(s[0]) is None
    assert run([x], x.size, v) == 30


@given(data=st.data())
def test_reshape_forward_and_grad(data):
    shape = data.draw(shapes(min_dims=1, max_dims=4, max_side=4))
    size = int(np.prod(shape))
    # a new shape of the same size: split the size into factors, maybe one -1
    factors = []
    rest = size
    for _ in range(data.draw(st.integers(1, 3))):
        divisors = [d for d in range(1, rest + 1) if rest % d == 0]
        d = data.draw(st.sampled_from(divisors))
        factors.append(d)
        rest //= d
    factors.append(rest)
    spec = list(factors)
    if data.draw(st.booleans()):
        spec[data.draw(st.integers(0, len(spec) - 1))] = -1
    x = data.draw(arrays(shape, "float64"))
    xs = sym(shape)
    out = xs.reshape(tuple(spec))
    np.testing.assert_array_equal(run([xs], out, x), x.reshape(spec))
    static = T.tensor("float64", shape).reshape(tuple(spec))
    assert static.type.shape == x.reshape(spec).shape  # all lengths static
    verify_grad(lambda a: a.reshape(tuple(spec)), [x])


def test_reshape_symbolic_shapes():
    x = T.dmatrix()
    v = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(run([x], x.reshape((x.shape[1], -1)), v), v.reshape(4, 3))
    np.testing.assert_array_equal(run([x], x.reshape((2, x.shape[0] * 2)), v), v.reshape(2, 6))
    n = T.lscalar()
    np.testing.assert_array_equal(run([x, n], T.reshape(x, (n, -1)), v, 6), v.reshape(6, 2))
    shp = T.lvector()
    out = T.reshape(x, shp, ndim=3)
    assert out.ndim == 3
    np.testing.assert_array_equal(run([x, shp], out, v, np.array([2, 3, 2])), v.reshape(2, 3, 2))
    with pytest.raises(TypeError, match="ndim"):
        T.reshape(x, shp)
    verify_grad(lambda a: a.reshape((a.shape[1], -1)) * 2, [v])
    assert x.reshape((3, -1)).type.shape == (3, None)


def test_reshape_errors():
    x = T.dmatrix()
    fn = sg.function([x], x.reshape((5, -1)), mode="python")
    with pytest.raises(ExecutionError, match="reshape"):
        fn(np.zeros((2, 3)))
    with pytest.raises(GraphTypeError, match="cannot reshape"):
        T.tensor("float64", (2, 3)).reshape((4, 2))
    with pytest.raises(GraphTypeError, match="-1"):
        x.reshape((-1, -1))


@pytest.mark.parametrize("ndim", [1, 2, 3, 4])
def test_flatten(ndim):
    v = np.arange(120.0).reshape(2, 3, 4, 5)
    x = T.dtensor4()
    want = v.reshape(v.shape[: ndim - 1] + (-1,))
    np.testing.assert_array_equal(run([x], T.flatten(x, ndim), v), want)
    np.testing.assert_array_equal(run([x], T.flatten(x, outdim=ndim), v), want)
    np.testing.assert_array_equal(run([x], x.flatten(ndim), v), want)
    # static shapes: fully static input, and static trailing lengths behind an unknown batch
    assert T.flatten(T.tensor("float64", v.shape), ndim).type.shape == want.shape
    partly = T.flatten(T.tensor("float64", (None, 3, 4, 5)), ndim).type.shape
    assert partly == (None,) + want.shape[1:]
    verify_grad(lambda a: T.flatten(a, ndim), [v[:, :2, :2, :3]])


def test_flatten_errors():
    with pytest.raises(ValueError, match="ndim"):
        T.flatten(T.dmatrix(), 3)
    with pytest.raises(ValueError, match="ndim"):
        T.flatten(T.dmatrix(), 0)


# ---------------------------------------------------------------- dimshuffle, transpose, squeeze


def test_dimshuffle():
    x = T.tensor("float64", (None, 1, None))
    v = np.arange(6.0).reshape(2, 1, 3)
    cases = {(2, 0, 1): np.transpose(v, (2, 0, 1)), ("x", 0, 1, 2): v[None], (0, 2): v[:, 0, :],
             (2, "x", 0): np.transpose(v[:, 0, :])[:, None, :], (0, "x", 2, 1): np.transpose(v, (0, 2, 1))[:, None]}
    for pattern, want in cases.items():
        out = x.dimshuffle(*pattern)
        assert out.broadcastable == tuple(p == "x" or p == 1 for p in pattern)
        np.testing.assert_array_equal(run([x], out, v), want)
        np.testing.assert_array_equal(run([x], x.dimshuffle(pattern), v), want)  # tuple form
        verify_grad(lambda a, p=pattern: T.patternbroadcast(a, (False, True, False)).dimshuffle(p), [v])


def test_dimshuffle_drop_non_broadcastable_raises():
    x = T.dmatrix()
    with pytest.raises(GraphTypeError, match="cannot drop dimension 1") as info:
        x.dimshuffle(0)
    assert "test_reduce_shape.py" in str(info.value)
    with pytest.raises(ValueError, match="invalid dimshuffle"):
        x.dimshuffle(0, 0)
    with pytest.raises(ValueError, match="invalid dimshuffle"):
        x.dimshuffle(0, 2)


def test_transpose():
    x = T.dtensor3()
    v = np.arange(24.0).reshape(2, 3, 4)
    outs = run([x], [x.T, x.transpose(1, 0, 2), x.transpose((2, 0, 1)), T.transpose(x, (-1, 0, 1))], v)
    for got, want in zip(outs, [v.T, v.transpose(1, 0, 2), v.transpose(2, 0, 1), v.transpose(2, 0, 1)]):
        np.testing.assert_array_equal(got, want)
    assert T.tensor("float64", (2, None, 4)).T.type.shape == (4, None, 2)
    verify_grad(lambda a: a.T * np.arange(24.0).reshape(4, 3, 2), [v])
    verify_grad(lambda a: a.transpose(1, 0, 2), [v])


def test_squeeze():
    x = T.tensor("float64", (1, None, 1, 3))
    out = x.squeeze()
    assert out.type.shape == (None, 3)
    v = np.arange(6.0).reshape(1, 2, 1, 3)
    np.testing.assert_array_equal(run([x], T.squeeze(x), v), np.squeeze(v))
    verify_grad(lambda a: T.squeeze(T.patternbroadcast(a, (True, False, True, False))), [v])


# ---------------------------------------------------------------- alloc, zeros, ones, arange


def test_alloc():
    v, n = T.dvector(), T.lscalar()
    out = T.alloc(v, n, 3)
    assert out.type.shape == (None, 3)
    np.testing.assert_array_equal(run([v, n], out, np.arange(3.0), 2), np.tile(np.arange(3.0), (2, 1)))
    s = T.dscalar()
    np.testing.assert_array_equal(run([s], T.alloc(s, 2, 2), 1.5), np.full((2, 2), 1.5))
    assert T.alloc(s, 2, 4).type.shape == (2, 4)
    # gradient: summed over the copies
    verify_grad(lambda a: T.alloc(a, 4, 3) * np.arange(12.0).reshape(4, 3), [np.arange(3.0)])
    verify_grad(lambda a: T.alloc(T.patternbroadcast(a, (True, False)), 2, 5, 3), [np.ones((1, 3))])
    np.testing.assert_array_equal(run([s], sg.grad(T.alloc(s, 2, 3).sum(), s), 0.0), 6.0)
    # a length-1 value dimension stretches only when its type marks it broadcastable
    fn = sg.function([v], T.alloc(v, 2, 3), mode="python")
    with pytest.raises(ExecutionError, match="broadcastable"):
        fn(np.ones(1))


def test_zeros_ones_and_likes():
    n = T.lscalar()
    z, o = T.zeros((2, n)), T.ones(3, dtype="int32")
    assert z.dtype == sg.config.floatX and z.type.shape == (2, None)
    assert o.dtype == "int32" and o.type.shape == (3,)
    gz, go = run([n], [z, o], 4)
    np.testing.assert_array_equal(gz, np.zeros((2, 4)))
    np.testing.assert_array_equal(go, np.ones(3))
    x = T.fmatrix()
    v = np.arange(6, dtype="float32").reshape(2, 3)
    zl, ol, oi = run([x], [T.zeros_like(x), T.ones_like(x), T.ones_like(x, dtype="int64")], v)
    np.testing.assert_array_equal(zl, np.zeros_like(v))
    np.testing.assert_array_equal(ol, np.ones_like(v))
    assert zl.dtype == np.float32 and oi.dtype == np.int64
    assert T.zeros_like(T.tensor("float64", (2, 1))).type.shape == (2, 1)
    # zeros_like / ones_like carry no gradient to x
    np.testing.assert_array_equal(run([x], sg.grad((T.ones_like(x) * 2).sum() + x.sum(), x), v), np.ones((2, 3)))


def test_arange():
    assert T.arange(5).type.shape == (5,) and T.arange(5).dtype == "int64"
    np.testing.assert_array_equal(run([], T.arange(2, 11, 3)), np.arange(2, 11, 3))
    f = T.arange(0.0, 1.0, 0.25)
    assert f.dtype == sg.config.floatX
    np.testing.assert_allclose(run([], f), np.arange(0.0, 1.0, 0.25))
    n = T.lscalar()
    assert T.arange(n).type.shape == (None,)
    np.testing.assert_array_equal(run([n], T.arange(1, n, 2), 8), np.arange(1, 8, 2))
    np.testing.assert_array_equal(run([n], T.arange(n, 0, -1), 3), [3, 2, 1])
    np.testing.assert_array_equal(run([n], T.arange(n, dtype="int32"), 0), np.arange(0))


# ---------------------------------------------------------------- concatenate, stack


@given(data=st.data())
def test_concatenate_forward_and_grad(data):
    base = data.draw(shapes(min_dims=1, max_dims=3, max_side=3))
    axis = data.draw(st.integers(-len(base), len(base) - 1))
    k = data.draw(st.integers(1, 3))
    lengths = [data.draw(st.integers(1, 3)) for _ in range(k)]
    shapes_ = [tuple(n if d != axis % len(base) else m for d, n in enumerate(base)) for m in lengths]
    vals = [data.draw(arrays(s)) for s in shapes_]
    ins = [T.tensor("float64", (None,) * len(base)) for _ in vals]
    out = T.concatenate(ins, axis=axis)
    np.testing.assert_array_equal(run(ins, out, *vals), np.concatenate(vals, axis=axis))
    assert T.concatenate([T.tensor("float64", s) for s in shapes_], axis=axis).type.shape == \
        np.concatenate(vals, axis=axis).shape
    verify_grad(lambda *xs: T.concatenate(list(xs), axis=axis), vals)


def test_concatenate_dtype_and_errors():
    out = T.concatenate([T.ivector(), T.fvector()])
    assert out.dtype == "float64"
    x, y = T.dmatrix(), T.dmatrix()
    fn = sg.function([x, y], T.concatenate([x, y], axis=1), mode="python")
    with pytest.raises(ExecutionError):
        fn(np.zeros((2, 2)), np.zeros((3, 2)))
    with pytest.raises(GraphTypeError):
        T.concatenate([x, T.dvector()])
    with pytest.raises(GraphTypeError, match="differ"):
        T.concatenate([T.tensor("float64", (2, 3)), T.tensor("float64", (2, 4))], axis=0)
    # int pieces get no gradient; the float piece gets its slice
    i, f = T.lvector(), T.dvector()
    g = sg.grad((T.concatenate([i, f]) * T.constant(np.array([1.0, 2.0, 3.0]))).sum(), f)
    np.testing.assert_array_equal(run([i, f], g, np.array([5]), np.array([0.0, 0.0])), [2.0, 3.0])


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_stack(axis):
    a, b, c = T.dmatrix(), T.dmatrix(), T.dmatrix()
    vals = [np.arange(6.0).reshape(2, 3) * k for k in (1, 2, 3)]
    out = T.stack([a, b, c], axis=axis)
    assert out.ndim == 3
    np.testing.assert_array_equal(run([a, b, c], out, *vals), np.stack(vals, axis=axis))
    assert T.stack([T.tensor("float64", (2, 3))] * 3, axis=axis).type.shape == np.stack(vals, axis=axis).shape
    verify_grad(lambda *xs: T.stack(list(xs), axis=axis), vals)


def test_stack_scalars_and_as_tensor_list():
    x, y = T.dscalar(), T.dscalar()
    np.testing.assert_array_equal(run([x, y], T.stack([x, y, x]), 1.0, 2.0), [1.0, 2.0, 1.0])
    np.testing.assert_array_equal(run([x, y], T.as_tensor([x, 3.0, y]), 1.0, 2.0), [1.0, 3.0, 2.0])
    verify_grad(lambda p, q: T.stack([p, q * p, q]), [np.array(1.5), np.array(-0.5)])
    verify_grad(lambda p, q: T.as_tensor([p, q * p]), [np.array(1.5), np.array(-0.5)])
