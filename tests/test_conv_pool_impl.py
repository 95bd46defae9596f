"""Tests for the NumPy reference conv2d / pool_2d implementations, against
the plain-loop oracles of ``loop_oracles.py`` (independent of the modules
under test).
"""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from loop_oracles import oracle_conv, oracle_pad, oracle_pool  # noqa: E402


def _load(name, relpath):
    spec = importlib.util.spec_from_file_location(name, _ROOT / relpath)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


conv = _load("_conv_impl_under_test", "symgraph/tensor/nnet/conv_impl.py")
pool = _load("_pool_impl_under_test", "symgraph/tensor/signal/pool_impl.py")

SETTINGS = settings(max_examples=30, deadline=None)
BORDER_MODES = ["valid", "full", "half", 1, (2, 0)]
STRIDES = [(1, 1), (2, 1), (2, 3)]
POOL_MODES = ["max", "sum", "average_inc_pad", "average_exc_pad"]

values = st.floats(-4, 4, allow_nan=False, allow_infinity=False, width=64)


# --------------------------------------------------------------------------
# conv_pad / shapes / errors
# --------------------------------------------------------------------------


def test_conv_pad_modes():
    assert conv.conv_pad("valid", (3, 5)) == (0, 0)
    assert conv.conv_pad("full", (3, 5)) == (2, 4)
    assert conv.conv_pad("half", (3, 4)) == (1, 2)
    assert conv.conv_pad("full", (7, 2, 3, 5)) == (2, 4)  # full filter shape
    assert conv.conv_pad(2, (3, 3)) == (2, 2)
    assert conv.conv_pad((1, 0), (3, 3)) == (1, 0)
    assert conv.conv_pad(np.int64(1), (3, 3)) == (1, 1)


@pytest.mark.parametrize("bad", ["same", -1, (1,), (1, 2, 3), (1.5, 2), (1, -1), None, 1.0, True])
def test_conv_pad_rejects(bad):
    with pytest.raises(ValueError):
        conv.conv_pad(bad, (3, 3))


def test_conv_output_shape():
    assert conv.conv2d_output_shape((2, 3, 7, 9), (4, 3, 3, 2), (0, 0), (1, 1)) == (2, 4, 5, 8)
    assert conv.conv2d_output_shape((2, 3, 7, 9), (4, 3, 3, 2), (1, 1), (2, 3)) == (2, 4, 4, 4)
    assert conv.conv2d_output_shape((1, 1, 5, 5), (1, 1, 3, 3), "full", 2) == (1, 1, 4, 4)


def test_conv_errors():
    x = np.zeros((1, 2, 4, 4))
    with pytest.raises(ValueError, match="channel"):
        conv.conv2d_forward(x, np.zeros((1, 3, 2, 2)), "valid", (1, 1))
    with pytest.raises(ValueError, match="larger"):
        conv.conv2d_forward(x, np.zeros((1, 2, 5, 2)), "valid", (1, 1))
    with pytest.raises(ValueError):
        conv.conv2d_forward(x[0], np.zeros((1, 2, 2, 2)), "valid", (1, 1))
    with pytest.raises(ValueError):
        conv.conv2d_forward(x, np.zeros((1, 2, 2, 2)), "valid", (0, 1))
    with pytest.raises(ValueError, match="gradient"):
        conv.conv2d_grad_input(np.zeros((1, 1, 2, 2)), np.zeros((1, 2, 2, 2)), x.shape, "valid", (1, 1))
    with pytest.raises(ValueError, match="gradient"):
        conv.conv2d_grad_weights(x, np.zeros((1, 1, 2, 2)), (1, 2, 2, 2), "valid", (1, 1))
    with pytest.raises(ValueError, match="channel"):
        conv.conv2d_grad_weights(x, np.zeros((1, 1, 3, 3)), (1, 3, 2, 2), "valid", (1, 1))


def test_conv_dtype():
    x = np.ones((1, 1, 3, 3), dtype=np.float32)
    w32 = np.ones((1, 1, 2, 2), dtype=np.float32)
    assert conv.conv2d_forward(x, w32, "valid", (1, 1)).dtype == np.float32
    assert conv.conv2d_forward(x, w32.astype(np.float64), "valid", (1, 1)).dtype == np.float64


# --------------------------------------------------------------------------
# conv forward vs loops
# --------------------------------------------------------------------------


@st.composite
def conv_case(draw, border_mode, stride):
    n, c, k = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    ph, pw = oracle_pad(border_mode, kh, kw)
    assume(h + 2 * ph >= kh and w + 2 * pw >= kw)
    x = draw(hnp.arrays(np.float64, (n, c, h, w), elements=values))
    wt = draw(hnp.arrays(np.float64, (k, c, kh, kw), elements=values))
    return x, wt, (ph, pw)


@pytest.mark.parametrize("flip", [True, False])
@pytest.mark.parametrize("stride", STRIDES)
@pytest.mark.parametrize("border_mode", BORDER_MODES, ids=str)
@SETTINGS
@given(data=st.data())
def test_conv_forward_matches_loops(border_mode, stride, flip, data):
    x, w, pad = data.draw(conv_case(border_mode, stride))
    got = conv.conv2d_forward(x, w, border_mode, stride, flip=flip)
    want = oracle_conv(x, w, pad, stride, flip)
    assert got.shape == want.shape == conv.conv2d_output_shape(x.shape, w.shape, border_mode, stride)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    # the explicit (ph, pw) tuple gives the same result as the border mode
    np.testing.assert_array_equal(conv.conv2d_forward(x, w, pad, stride, flip=flip), got)


def test_conv_flip_is_correlation_with_flipped_kernel():
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(2, 3, 6, 5)), rng.normal(size=(2, 3, 3, 2))
    np.testing.assert_allclose(
        conv.conv2d_forward(x, w, "half", (2, 1), flip=True),
        conv.conv2d_forward(x, w[:, :, ::-1, ::-1], "half", (2, 1), flip=False),
        rtol=1e-12,
    )


# --------------------------------------------------------------------------
# conv gradients
# --------------------------------------------------------------------------


@pytest.mark.parametrize("flip", [True, False])
@pytest.mark.parametrize("border_mode", BORDER_MODES, ids=str)
@SETTINGS
@given(data=st.data())
def test_conv_grads_are_adjoint(border_mode, flip, data):
    stride = data.draw(st.sampled_from(STRIDES + [(3, 2)]))
    x, w, _ = data.draw(conv_case(border_mode, stride))
    seed = data.draw(st.integers(0, 2**32 - 1))
    y = conv.conv2d_forward(x, w, border_mode, stride, flip=flip)
    gy = np.random.default_rng(seed).normal(size=y.shape)
    gx = conv.conv2d_grad_input(gy, w, x.shape, border_mode, stride, flip=flip)
    gw = conv.conv2d_grad_weights(x, gy, w.shape, border_mode, stride, flip=flip)
    assert gx.shape == x.shape and gw.shape == w.shape
    lhs = np.vdot(y, gy)
    scale = 1 + np.abs(y).sum() * np.abs(gy).max()
    assert abs(lhs - np.vdot(x, gx)) <= 1e-10 * scale
    assert abs(lhs - np.vdot(w, gw)) <= 1e-10 * scale


@pytest.mark.parametrize("flip", [True, False])
def test_conv_grads_finite_differences(flip):
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(1, 2, 5, 4)), rng.normal(size=(2, 2, 2, 3))
    pad, stride = (1, 2), (2, 3)
    gy = rng.normal(size=conv.conv2d_output_shape(x.shape, w.shape, pad, stride))

    def loss(xx, ww):
        return np.sum(oracle_conv(xx, ww, pad, stride, flip) * gy)

    def numeric(arr, f, eps=1e-6):
        g = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            old = arr[idx]
            arr[idx] = old + eps
            up = f()
            arr[idx] = old - eps
            down = f()
            arr[idx] = old
            g[idx] = (up - down) / (2 * eps)
        return g

    gx = conv.conv2d_grad_input(gy, w, x.shape, pad, stride, flip=flip)
    gw = conv.conv2d_grad_weights(x, gy, w.shape, pad, stride, flip=flip)
    np.testing.assert_allclose(gx, numeric(x, lambda: loss(x, w)), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gw, numeric(w, lambda: loss(x, w)), rtol=1e-6, atol=1e-8)


def test_conv_grad_input_uncovered_rows_are_zero():
    # 5x5 input, 2x2 kernel, stride 2, 'valid': windows start at rows/cols 0 and 2,
    # so the last row and column are never read and must get zero gradient.
    x = np.ones((1, 1, 5, 5))
    w = np.ones((1, 1, 2, 2))
    gy = np.ones(conv.conv2d_output_shape(x.shape, w.shape, "valid", (2, 2)))
    gx = conv.conv2d_grad_input(gy, w, x.shape, "valid", (2, 2))
    assert np.all(gx[0, 0, 4, :] == 0) and np.all(gx[0, 0, :, 4] == 0)
    assert np.all(gx[0, 0, :4, :4] == 1)


# --------------------------------------------------------------------------
# pool shapes / errors
# --------------------------------------------------------------------------


def test_pool_output_shape():
    assert pool.pool_output_shape((5, 5), (2, 2), True) == (2, 2)
    assert pool.pool_output_shape((5, 5), (2, 2), False) == (3, 3)
    assert pool.pool_output_shape((3, 2, 5, 6), (3, 2), False, (1, 3)) == (3, 2, 3, 2)
    assert pool.pool_output_shape((4, 4), (2, 2), True, (1, 1), (1, 1)) == (5, 5)
    assert pool.pool_output_shape((2, 2), (3, 3), False) == (1, 1)
    assert pool.pool_output_shape((10, 10), (4, 4), False, (3, 3)) == (3, 3)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(ws=(2, 2), ignore_border=False, pad=(1, 0)),  # padding needs ignore_border
        dict(ws=(5, 2), ignore_border=True),  # window larger than input
        dict(ws=(2, 2), ignore_border=True, pad=(2, 0)),  # pad >= window
        dict(ws=(0, 2), ignore_border=True),
        dict(ws=(2, 2), ignore_border=True, stride=(0, 1)),
        dict(ws=(2, 2), ignore_border=True, pad=(-1, 0)),
        dict(ws=(2, 2, 2), ignore_border=True),
    ],
)
def test_pool_errors(kwargs):
    with pytest.raises(ValueError):
        pool.pool_output_shape((3, 4, 4), **kwargs)
    with pytest.raises(ValueError):
        pool.pool2d_forward(np.zeros((3, 4, 4)), **kwargs)


def test_pool_other_errors():
    with pytest.raises(ValueError, match="mode"):
        pool.pool2d_forward(np.zeros((4, 4)), (2, 2), mode="median")
    with pytest.raises(ValueError, match="2 dimensions"):
        pool.pool2d_forward(np.zeros(4), (2, 2))
    with pytest.raises(ValueError, match="gradient"):
        pool.pool2d_grad(np.zeros((4, 4)), None, np.zeros((3, 3)), (2, 2), True, None, (0, 0), "sum")


def test_pool_leading_dims_and_alias():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 1, 3, 5, 7))
    for mode in POOL_MODES:
        got = pool.pool2d_forward(x, (2, 3), ignore_border=False, mode=mode)
        np.testing.assert_allclose(got, oracle_pool(x, (2, 3), False, None, (0, 0), mode), rtol=1e-12)
    x2 = rng.normal(size=(5, 7))
    np.testing.assert_array_equal(
        pool.pool2d_forward(x2, (2, 2), True, (1, 2), (1, 1), mode="average"),
        pool.pool2d_forward(x2, (2, 2), True, (1, 2), (1, 1), mode="average_inc_pad"),
    )


def test_pool_max_padding_never_wins():
    x = -np.arange(1.0, 10.0).reshape(3, 3)
    got = pool.pool2d_forward(x, (2, 2), True, (2, 2), (1, 1), "max")
    np.testing.assert_array_equal(got, [[-1.0, -2.0], [-4.0, -5.0]])


def test_pool_average_divisors():
    x = np.ones((3, 3))
    # inc_pad: padded cells count as zeros in a full window
    np.testing.assert_allclose(
        pool.pool2d_forward(x, (2, 2), True, (2, 2), (1, 1), "average_inc_pad"), [[0.25, 0.5], [0.5, 1.0]]
    )
    np.testing.assert_allclose(pool.pool2d_forward(x, (2, 2), True, (2, 2), (1, 1), "average_exc_pad"), np.ones((2, 2)))
    # partial border window (ignore_border=False): divide by the cells inside
    np.testing.assert_allclose(pool.pool2d_forward(x, (2, 2), False, mode="average_inc_pad"), np.ones((2, 2)))
    np.testing.assert_allclose(pool.pool2d_forward(x, (2, 2), False, mode="sum"), [[4, 2], [2, 1]])


# --------------------------------------------------------------------------
# pool forward vs loops
# --------------------------------------------------------------------------


@st.composite
def pool_case(draw, ignore_border, stride_kind):
    lead = tuple(draw(st.lists(st.integers(1, 2), max_size=2)))
    h, w = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    lo = 2 if stride_kind == "smaller" else 1
    ws = (draw(st.integers(lo, 4)), draw(st.integers(lo, 4)))
    if stride_kind == "smaller":
        stride = (draw(st.integers(1, ws[0] - 1)), draw(st.integers(1, ws[1] - 1)))
    elif stride_kind == "equal":
        stride = draw(st.sampled_from([None, ws]))
    else:
        stride = (ws[0] + draw(st.integers(1, 2)), ws[1] + draw(st.integers(1, 2)))
    pad = (0, 0)
    if ignore_border:
        pad = (draw(st.integers(0, ws[0] - 1)), draw(st.integers(0, ws[1] - 1)))
        assume(h + 2 * pad[0] >= ws[0] and w + 2 * pad[1] >= ws[1])
    x = draw(hnp.arrays(np.float64, lead + (h, w), elements=values))
    return x, ws, stride, pad


@pytest.mark.parametrize("stride_kind", ["smaller", "equal", "larger"])
@pytest.mark.parametrize("ignore_border", [True, False])
@pytest.mark.parametrize("mode", POOL_MODES + ["average"])
@SETTINGS
@given(data=st.data())
def test_pool_forward_matches_loops(mode, ignore_border, stride_kind, data):
    x, ws, stride, pad = data.draw(pool_case(ignore_border, stride_kind))
    got = pool.pool2d_forward(x, ws, ignore_border, stride, pad, mode)
    want = oracle_pool(x, ws, ignore_border, stride, pad, "average_inc_pad" if mode == "average" else mode)
    assert got.shape == want.shape == pool.pool_output_shape(x.shape, ws, ignore_border, stride, pad)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------
# pool gradients
# --------------------------------------------------------------------------


@pytest.mark.parametrize("stride_kind", ["smaller", "equal", "larger"])
@pytest.mark.parametrize("ignore_border", [True, False])
@pytest.mark.parametrize("mode", ["sum", "average_inc_pad", "average_exc_pad"])
@SETTINGS
@given(data=st.data())
def test_pool_grad_adjoint(mode, ignore_border, stride_kind, data):
    x, ws, stride, pad = data.draw(pool_case(ignore_border, stride_kind))
    y = pool.pool2d_forward(x, ws, ignore_border, stride, pad, mode)
    gy = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))).normal(size=y.shape)
    gx = pool.pool2d_grad(x, y, gy, ws, ignore_border, stride, pad, mode)
    assert gx.shape == x.shape
    assert abs(np.vdot(y, gy) - np.vdot(x, gx)) <= 1e-10 * (1 + np.abs(y).sum() * np.abs(gy).max())


@pytest.mark.parametrize("stride_kind", ["smaller", "equal", "larger"])
@pytest.mark.parametrize("ignore_border", [True, False])
@SETTINGS
@given(data=st.data())
def test_pool_max_grad_finite_differences(ignore_border, stride_kind, data):
    x, ws, stride, pad = data.draw(pool_case(ignore_border, stride_kind))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    # distinct values spaced >= 0.1 apart: no ties, max is locally linear
    x = (rng.permutation(x.size).reshape(x.shape) - x.size / 2) * 0.1
    y = pool.pool2d_forward(x, ws, ignore_border, stride, pad, "max")
    gy = rng.normal(size=y.shape)
    gx = pool.pool2d_grad(x, y, gy, ws, ignore_border, stride, pad, "max")
    eps = 1e-3
    num = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        up = np.vdot(oracle_pool(x, ws, ignore_border, stride, pad, "max"), gy)
        x[idx] = old - eps
        down = np.vdot(oracle_pool(x, ws, ignore_border, stride, pad, "max"), gy)
        x[idx] = old
        num[idx] = (up - down) / (2 * eps)
    np.testing.assert_allclose(gx, num, rtol=1e-8, atol=1e-8)
    # y=None recomputes the forward output
    np.testing.assert_array_equal(pool.pool2d_grad(x, None, gy, ws, ignore_border, stride, pad, "max"), gx)


def test_pool_max_grad_ties():
    x = np.array(
        [
            [1.0, 3.0, 0.0, 0.0],
            [3.0, 2.0, 0.0, 0.0],
            [5.0, 5.0, 7.0, 1.0],
            [5.0, 5.0, 2.0, 3.0],
        ]
    )
    gy = np.array([[1.0, 2.0], [3.0, 4.0]])
    y = pool.pool2d_forward(x, (2, 2), True, None, (0, 0), "max")
    np.testing.assert_array_equal(y, [[3.0, 0.0], [5.0, 7.0]])
    gx = pool.pool2d_grad(x, y, gy, (2, 2), True, None, (0, 0), "max")
    want = np.array(
        [
            [0.0, 1.0, 2.0, 2.0],
            [1.0, 0.0, 2.0, 2.0],
            [3.0, 3.0, 4.0, 0.0],
            [3.0, 3.0, 0.0, 0.0],
        ]
    )
    np.testing.assert_array_equal(gx, want)
    # overlapping windows (stride 1): a shared maximum collects from every window
    gx = pool.pool2d_grad(np.ones((3, 3)), None, np.ones((2, 2)), (2, 2), True, (1, 1), (0, 0), "max")
    np.testing.assert_array_equal(gx, [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
