"""Basic indexing (ints, slices with negative bounds and steps, symbolic
bounds, Ellipsis, None) and set_subtensor / inc_subtensor with
broadcasting values: values and static shapes against NumPy, gradients
against finite differences and closed forms, index errors."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import symgraph as sg
from symgraph import tensor as T
from symgraph.errors import ExecutionError, GraphTypeError
from symgraph.testing import arrays, shapes, verify_grad


def run(inputs, outputs, *values):
    return sg.function(inputs, outputs, mode="python")(*values)


@st.composite
def basic_index(draw, shape, allow_none=True, allow_ellipsis=True):
    """A valid basic index for an array of ``shape``: a tuple of ints (maybe
    negative), slices (any bounds, nonzero steps), maybe None and one Ellipsis."""
    index = []
    for n in shape:
        if draw(st.booleans()):
            index.append(draw(st.integers(-n, n - 1)))
        else:
            bound = st.none() | st.integers(-n - 2, n + 2)
            step = draw(st.sampled_from([None, 1, 2, 3, -1, -2]))
            index.append(slice(draw(bound), draw(bound), step))
    start = draw(st.integers(0, len(shape)))
    stop = draw(st.integers(start, len(shape)))
    if allow_ellipsis and draw(st.booleans()):  # dims start..stop-1 covered by ...
        index[start:stop] = [Ellipsis]
    else:  # trailing dims left out
        index = index[:start]
    if allow_none:
        for _ in range(draw(st.integers(0, 2))):
            index.insert(draw(st.integers(0, len(index))), None)
    return tuple(index)


def symbolic_index(index):
    """``index`` with every int (and slice bound) replaced by a symbolic int
    scalar; returns the symbolic index, its inputs and their values."""
    inputs, values, out = [], [], []

    def sym(v):
        if v is None:
            return None
        s = T.lscalar()
        inputs.append(s)
        values.append(v)
        return s
    for i in index:
        if isinstance(i, slice):
            out.append(slice(sym(i.start), sym(i.stop), sym(i.step)))
        elif isinstance(i, int):
            out.append(sym(i))
        else:
            out.append(i)
    return tuple(out), inputs, values


@given(data=st.data())
def test_subtensor_matches_numpy(data):
    shape = data.draw(shapes(min_dims=1, max_dims=4, max_side=4))
    x = data.draw(arrays(shape))
    index = data.draw(basic_index(shape))
    want = x[index]
    xs = T.tensor("float64", (None,) * len(shape))
    np.testing.assert_array_equal(run([xs], xs[index], x), want)
    # with a fully static input type every length of the result is static
    static = T.tensor("float64", shape)[index]
    assert static.type.shape == want.shape
    # the same index with symbolic ints and bounds
    sym_index, inputs, values = symbolic_index(index)
    out = xs[sym_index]
    assert out.ndim == want.ndim
    np.testing.assert_array_equal(run([xs] + inputs, out, x, *values), want)


@given(data=st.data())
def test_subtensor_grad(data):
    shape = data.draw(shapes(min_dims=1, max_dims=3, max_side=4))
    x = data.draw(arrays(shape))
    index = data.draw(basic_index(shape))
    verify_grad(lambda a: a[index] * 1.5, [x])
    # closed form with symbolic bounds: d sum(x[index] * c) / dx is c placed at index
    c = np.random.default_rng(0).normal(size=x[index].shape)
    sym_index, inputs, values = symbolic_index(index)
    xs = T.tensor("float64", (None,) * x.ndim)
    g = sg.grad((xs[sym_index] * c).sum(), xs)
    want = np.zeros_like(x)
    want[index] += c
    np.testing.assert_allclose(run([xs] + inputs, g, x, *values), want, rtol=0, atol=0)


def test_subtensor_examples():
    x = T.dmatrix()
    v = np.arange(12.0).reshape(3, 4)
    i, j = T.lscalar(), T.iscalar()
    outs = run([x, i, j], [x[1], x[-1, ::-1], x[:, 1:3], x[::2, -1], x[i:, j], x[..., j], x[None, i], x[:i, None, :j]],
               v, 1, 2)
    wants = [v[1], v[-1, ::-1], v[:, 1:3], v[::2, -1], v[1:, 2], v[..., 2], v[None, 1], v[:1, None, :2]]
    for got, want in zip(outs, wants):
        np.testing.assert_array_equal(got, want)


def test_subtensor_static_shapes():
    x = T.tensor("float64", (5, None, 3))
    assert x[1].type.shape == (None, 3)
    assert x[1:4].type.shape == (3, None, 3)
    assert x[::-2, 0, :].type.shape == (3, 3)
    assert x[..., None].type.shape == (5, None, 3, 1)
    assert x[None, :, :, -1].type.shape == (1, 5, None)
    assert x[T.lscalar():].type.shape == (None, None, 3)  # symbolic bound: unknown length


def test_subtensor_errors():
    x = T.tensor("float64", (4, None))
    with pytest.raises(IndexError, match="out of bounds"):
        x[4]
    with pytest.raises(IndexError, match="out of bounds"):
        x[-5]
    with pytest.raises(IndexError, match="too many indices"):
        x[0, 0, 0]
    with pytest.raises(TypeError, match="advanced indexing"):
        x[[0, 1]]
    with pytest.raises(TypeError, match="unsupported index 1.5"):
        x[1.5]
    with pytest.raises(TypeError, match="integer"):
        x[T.dscalar()]
    with pytest.raises(TypeError, match="advanced indexing"):
        x[:, T.lvector()]
    # out of range at run time: an ExecutionError naming this file's line
    i = T.lscalar()
    fn = sg.function([x, i], x[:, i], mode="python")
    np.testing.assert_array_equal(fn(np.ones((4, 2)), -2), np.ones(4))
    with pytest.raises(ExecutionError, match="out of bounds") as info:
        fn(np.ones((4, 2)), 2)
    assert "test_subtensor.py" in str(info.value)


# ---------------------------------------------------------------- set / inc


@st.composite
def set_case(draw):
    shape = draw(shapes(min_dims=1, max_dims=3, max_side=4))
    x = draw(arrays(shape))
    index = draw(basic_index(shape, allow_none=False))
    region = x[index].shape
    # the value: a suffix of the region's shape, some lengths 1 (broadcast)
    cut = draw(st.integers(0, len(region)))
    vshape = tuple(1 if draw(st.booleans()) else n for n in region[cut:])
    y = draw(arrays(vshape))
    return x, index, y


@pytest.mark.parametrize("kind", ["set", "inc"])
@given(case=set_case())
def test_set_inc_subtensor_match_numpy(kind, case):
    x, index, y = case
    xs = T.tensor("float64", (None,) * x.ndim)
    ys = T.tensor("float64", tuple(1 if n == 1 else None for n in y.shape))
    fn = T.set_subtensor if kind == "set" else T.inc_subtensor
    out = fn(xs[index], ys)
    assert out.type == xs.type
    want = x.copy()
    if kind == "set":
        want[index] = y
    else:
        want[index] += y
    got = run([xs, ys], out, x, y)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(x, case[0])  # the input is not modified


@pytest.mark.parametrize("kind", ["set", "inc"])
@given(case=set_case())
def test_set_inc_subtensor_grad(kind, case):
    x, index, y = case
    fn = T.set_subtensor if kind == "set" else T.inc_subtensor
    broadcast = [n == 1 for n in y.shape]
    verify_grad(lambda a, b: fn(a[index], T.patternbroadcast(b, broadcast)) ** 2, [x, y])


def test_set_inc_subtensor_grad_closed_form():
    x, y = T.dmatrix(), T.drow()
    c = np.arange(12.0).reshape(3, 4)
    i = T.lscalar()
    for fn in (T.set_subtensor, T.inc_subtensor):
        cost = (fn(x[i:, 1:3], y) * c).sum()
        gx, gy = run([x, y, i], sg.grad(cost, [x, y]), np.zeros((3, 4)), np.zeros((1, 2)), 1)
        # y is broadcast over rows 1..2 of columns 1..2: its gradient sums them
        np.testing.assert_array_equal(gy, c[1:, 1:3].sum(axis=0, keepdims=True))
        want_gx = c.copy()
        if fn is T.set_subtensor:  # overwritten entries do not reach the cost
            want_gx[1:, 1:3] = 0
        np.testing.assert_array_equal(gx, want_gx)


def test_set_inc_subtensor_scalars_and_dtypes():
    x = T.fvector()
    v = np.arange(4, dtype="float32")
    out = T.set_subtensor(x[1:3], 7.0)
    assert out.dtype == "float32"
    np.testing.assert_array_equal(run([x], out, v), [0, 7, 7, 3])
    np.testing.assert_array_equal(run([x], T.inc_subtensor(x[-1], 10), v), [0, 1, 2, 13])
    n = T.lvector()
    np.testing.assert_array_equal(run([n], T.inc_subtensor(n[::2], 1), np.arange(4)), [1, 1, 3, 3])


def test_set_inc_subtensor_errors():
    x = T.dmatrix()
    with pytest.raises(TypeError, match="x\\[index\\]"):
        T.set_subtensor(x, 1.0)
    with pytest.raises(TypeError, match="x\\[index\\]"):
        T.inc_subtensor(x * 2, 1.0)
    with pytest.raises(GraphTypeError, match="does not fit"):
        T.set_subtensor(x[0], T.dmatrix())
    with pytest.raises(GraphTypeError, match="cannot write"):
        T.set_subtensor(T.lmatrix()[0], T.dvector())
    y = T.dvector()
    fn = sg.function([x, y], T.set_subtensor(x[0, 1:], y), mode="python")
    with pytest.raises(ExecutionError) as info:
        fn(np.zeros((2, 3)), np.ones(3))
    assert "test_subtensor.py" in str(info.value)
    i = T.lscalar()
    fn = sg.function([x, y, i], T.inc_subtensor(x[i], y), mode="python")
    np.testing.assert_array_equal(fn(np.zeros((2, 3)), np.ones(3), -2), [[1, 1, 1], [0, 0, 0]])
    with pytest.raises(ExecutionError, match="out of bounds"):
        fn(np.zeros((2, 3)), np.ones(3), 2)
    with pytest.raises(IndexError, match="out of bounds"):
        T.set_subtensor(T.tensor("float64", (2, 3))[:, 3], 1.0)


def test_value_broadcast_needs_broadcastable_dims():
    # as for elementwise ops: a length-1 value dimension stretches only when its type says so,
    # else its gradient (summed over the region) would have the wrong shape
    x, y = T.dmatrix(), T.dmatrix()
    fn = sg.function([x, y], T.inc_subtensor(x[1:], y), mode="python")
    with pytest.raises(ExecutionError, match="broadcastable") as info:
        fn(np.zeros((3, 4)), np.ones((1, 4)))
    assert "test_subtensor.py" in str(info.value)
    out = T.inc_subtensor(x[1:], T.addbroadcast(y, 0))
    got, gy = run([x, y], [out, sg.grad((out * 2).sum(), y)], np.zeros((3, 4)), np.ones((1, 4)))
    np.testing.assert_array_equal(got, [[0] * 4, [1] * 4, [1] * 4])
    np.testing.assert_array_equal(gy, np.full((1, 4), 4.0))


def test_chained_updates_like_a_training_step():
    # a typical use: write a row, then read it back through another index
    x, y = T.dmatrix(), T.dvector()
    z = T.set_subtensor(x[1], y)
    out = z[1:, ::-1].sum() * z[0, 0]
    v, w = np.arange(6.0).reshape(2, 3) + 1, np.array([10.0, 20.0, 30.0])
    got = run([x, y], out, v, w)
    zz = v.copy()
    zz[1] = w
    assert got == zz[1:, ::-1].sum() * zz[0, 0]
    verify_grad(lambda a, b: T.set_subtensor(a[1], b)[1:, ::-1].sum() * T.set_subtensor(a[1], b)[0, 0], [v, w])
