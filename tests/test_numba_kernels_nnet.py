"""The Numba nnet kernels (conv2d and its gradients, pool_2d and its
gradient, softmax) against the NumPy references ``conv_impl`` and
``pool_impl``, SciPy's softmax, and the adjoint identity of convolution.

Numba compiles each kernel once per argument-type signature, so the tests
keep to few signatures: float64 and float32 C-contiguous, float64
non-contiguous, and one mixed-dtype case.
"""
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.special
from hypothesis import assume, given
from hypothesis import strategies as st

from symgraph.tensor.nnet import conv_impl
from symgraph.tensor.signal import pool_impl

_PATH = Path(__file__).resolve().parents[1] / "symgraph" / "backend" / "numba_cpu" / "kernels_nnet.py"


def _load_kernels():
    """The module under test; by file path while the package has no __init__."""
    try:
        from symgraph.backend.numba_cpu import kernels_nnet
        return kernels_nnet
    except ImportError:
        spec = importlib.util.spec_from_file_location("_kernels_nnet_under_test", _PATH)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # numba's cache needs to find it again
        spec.loader.exec_module(module)
        return module


K = _load_kernels()
MODES = ["max", "sum", "average_inc_pad", "average_exc_pad"]
TOL = {np.float64: 1e-10, np.float32: 1e-4}


def assert_close(actual, expected, dtype):
    """Same shape and dtype, values within the dtype's tolerance (relative,
    with an absolute floor scaled by the values' size for cancellations)."""
    assert actual.shape == expected.shape
    assert actual.dtype == expected.dtype
    tol = TOL[dtype]
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol * scale)


def noncontiguous(a):
    """A strided view with the values of ``a``: every other element of a
    buffer twice as wide in the last axis (numba types it layout 'A')."""
    buf = np.full(a.shape[:-1] + (2 * a.shape[-1],), np.nan, dtype=a.dtype)
    buf[..., ::2] = a
    return buf[..., ::2]


@st.composite
def conv_cases(draw):
    n, c, k = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    ph, pw = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h = draw(st.integers(max(1, kh - 2 * ph), max(1, kh - 2 * ph) + 6))
    w = draw(st.integers(max(1, kw - 2 * pw), max(1, kw - 2 * pw) + 6))
    return dict(n=n, c=c, k=k, h=h, w=w, kh=kh, kw=kw, pad=(ph, pw), stride=(sh, sw),
                flip=draw(st.booleans()), seed=draw(st.integers(0, 2**31)))


def _conv_arrays(case, dtype):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["c"], case["h"], case["w"])).astype(dtype)
    w = rng.standard_normal((case["k"], case["c"], case["kh"], case["kw"])).astype(dtype)
    yshape = conv_impl.conv2d_output_shape(x.shape, w.shape, case["pad"], case["stride"])
    gy = rng.standard_normal(yshape).astype(dtype)
    return x, w, gy


def _check_conv(case, dtype, layout):
    x, w, gy = _conv_arrays(case, dtype)
    (ph, pw), (sh, sw), flip = case["pad"], case["stride"], case["flip"]
    y_ref = conv_impl.conv2d_forward(x, w, case["pad"], case["stride"], flip)
    gx_ref = conv_impl.conv2d_grad_input(gy, w, x.shape, case["pad"], case["stride"], flip)
    gw_ref = conv_impl.conv2d_grad_weights(x, gy, w.shape, case["pad"], case["stride"], flip)
    xa, wa, gya = (x, w, gy) if layout == "C" else (noncontiguous(x), noncontiguous(w), noncontiguous(gy))
    assert_close(K.conv2d_forward(xa, wa, ph, pw, sh, sw, flip), y_ref, dtype)
    assert_close(K.conv2d_grad_input(gya, wa, x.shape[2], x.shape[3], ph, pw, sh, sw, flip), gx_ref, dtype)
    assert_close(K.conv2d_grad_weights(xa, gya, w.shape[2], w.shape[3], ph, pw, sh, sw, flip), gw_ref, dtype)


@given(conv_cases())
def test_conv_float64_matches_reference(case):
    _check_conv(case, np.float64, "C")


@given(conv_cases())
def test_conv_float32_matches_reference(case):
    _check_conv(case, np.float32, "C")


@given(conv_cases())
def test_conv_noncontiguous_inputs(case):
    _check_conv(case, np.float64, "strided")


@pytest.mark.parametrize("c, kw, ow, patches", [(1, 3, 6, False), (4, 3, 2, True)])
def test_conv_both_column_layouts(c, kw, ow, patches):
    """The 'rows' column layout and the 'patches' one both give the reference."""
    assert K._use_patches(c, kw, ow) is patches
    case = dict(n=2, c=c, k=3, h=ow + 2, w=ow + kw - 1 - 2, kh=3, kw=kw, pad=(0, 1), stride=(1, 1),
                flip=True, seed=c)
    x, w, _ = _conv_arrays(case, np.float64)
    assert K.conv2d_forward(x, w, 0, 1, 1, 1, True).shape[3] == ow
    _check_conv(case, np.float64, "C")


@given(conv_cases())
def test_conv_gradients_are_adjoints(case):
    """<conv(x), gy> = <x, grad_input(gy)> = <w, grad_weights(x, gy)>: the
    gradients are the exact transposes of the forward map."""
    x, w, gy = _conv_arrays(case, np.float64)
    (ph, pw), (sh, sw), flip = case["pad"], case["stride"], case["flip"]
    y = K.conv2d_forward(x, w, ph, pw, sh, sw, flip)
    gx = K.conv2d_grad_input(gy, w, x.shape[2], x.shape[3], ph, pw, sh, sw, flip)
    gw = K.conv2d_grad_weights(x, gy, w.shape[2], w.shape[3], ph, pw, sh, sw, flip)
    lhs = np.vdot(y, gy)
    np.testing.assert_allclose(np.vdot(x, gx), lhs, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(np.vdot(w, gw), lhs, rtol=1e-9, atol=1e-9)


def test_conv_mixed_dtypes_promote():
    case = dict(n=2, c=2, k=3, h=6, w=5, kh=3, kw=2, pad=(1, 0), stride=(2, 1), flip=True, seed=7)
    x, w, gy = _conv_arrays(case, np.float64)
    x32 = x.astype(np.float32)
    y = K.conv2d_forward(x32, w, 1, 0, 2, 1, True)
    assert_close(y, conv_impl.conv2d_forward(x32, w, (1, 0), (2, 1)), np.float64)
    gw = K.conv2d_grad_weights(x32, gy, 3, 2, 1, 0, 2, 1, True)
    assert_close(gw, conv_impl.conv2d_grad_weights(x32, gy, w.shape, (1, 0), (2, 1)), np.float64)


def test_conv_rejects_bad_shapes():
    x, w = np.zeros((1, 2, 4, 4)), np.zeros((3, 2, 2, 2))
    with pytest.raises(ValueError, match="channel"):
        K.conv2d_forward(x, np.zeros((3, 1, 2, 2)), 0, 0, 1, 1, True)
    with pytest.raises(ValueError, match="larger"):
        K.conv2d_forward(x, np.zeros((3, 2, 7, 2)), 1, 0, 1, 1, True)
    with pytest.raises(ValueError, match="stride"):
        K.conv2d_forward(x, w, 0, 0, 0, 1, True)
    with pytest.raises(ValueError, match="shape"):
        K.conv2d_grad_input(np.zeros((1, 3, 2, 3)), w, 4, 4, 0, 0, 1, 1, True)
    with pytest.raises(ValueError, match="shape"):
        K.conv2d_grad_weights(x, np.zeros((1, 3, 3, 2)), 2, 2, 0, 0, 1, 1, True)
    with pytest.raises(ValueError, match="batch"):
        K.conv2d_grad_weights(x, np.zeros((2, 3, 3, 3)), 2, 2, 0, 0, 1, 1, True)


@st.composite
def pool_cases(draw):
    wsh, wsw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ignore_border = draw(st.booleans())
    if draw(st.booleans()):
        sh, sw = wsh, wsw
    else:
        sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = (draw(st.integers(0, wsh - 1)), draw(st.integers(0, wsw - 1))) if ignore_border else (0, 0)
    h, w = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    if ignore_border:
        assume(h + 2 * ph >= wsh and w + 2 * pw >= wsw)
    return dict(shape=(draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w), ws=(wsh, wsw),
                stride=(sh, sw), pad=(ph, pw), ignore_border=ignore_border,
                ties=draw(st.booleans()), seed=draw(st.integers(0, 2**31)))


def _check_pool(case, dtype, layout):
    rng = np.random.default_rng(case["seed"])
    if case["ties"]:  # few distinct values: windows with several maxima
        x = rng.integers(-2, 3, case["shape"]).astype(dtype)
    else:
        x = rng.standard_normal(case["shape"]).astype(dtype)
    (wsh, wsw), (sh, sw), (ph, pw), ib = case["ws"], case["stride"], case["pad"], case["ignore_border"]
    for mode in MODES:
        args = (case["ws"], ib, case["stride"], case["pad"], mode)
        y_ref = pool_impl.pool2d_forward(x, *args)
        gy = rng.standard_normal(y_ref.shape).astype(dtype)
        gx_ref = pool_impl.pool2d_grad(x, y_ref, gy, *args)
        code = K.pool_mode_code(mode)
        xa, gya, ya = (x, gy, y_ref) if layout == "C" else (noncontiguous(x), noncontiguous(gy), noncontiguous(y_ref))
        y = K.pool2d_forward(xa, wsh, wsw, sh, sw, ph, pw, ib, code)
        assert_close(y, y_ref, dtype)
        assert_close(K.pool2d_grad(xa, ya, gya, wsh, wsw, sh, sw, ph, pw, ib, code), gx_ref, dtype)


@given(pool_cases())
def test_pool_float64_matches_reference(case):
    _check_pool(case, np.float64, "C")


@given(pool_cases())
def test_pool_float32_matches_reference(case):
    _check_pool(case, np.float32, "C")


@given(pool_cases())
def test_pool_noncontiguous_inputs(case):
    _check_pool(case, np.float64, "strided")


def test_pool_max_ties_and_nan():
    """Every cell equal to the window max gets the gradient; NaN wins the max."""
    x = np.array([[[[1.0, 1.0, 0.0], [0.0, 1.0, np.nan]]]])
    y = K.pool2d_forward(x, 2, 2, 2, 2, 0, 0, False, K.POOL_MAX)
    np.testing.assert_array_equal(y, [[[[1.0, np.nan]]]])
    gx = K.pool2d_grad(x, y, np.array([[[[5.0, 7.0]]]]), 2, 2, 2, 2, 0, 0, False, K.POOL_MAX)
    np.testing.assert_array_equal(gx, [[[[5.0, 5.0, 0.0], [0.0, 5.0, 0.0]]]])
    np.testing.assert_array_equal(y, pool_impl.pool2d_forward(x, (2, 2), False, (2, 2)))


def test_pool_mode_codes_and_errors():
    assert [K.pool_mode_code(m) for m in MODES + ["average"]] == [0, 1, 2, 3, 2]
    with pytest.raises(ValueError, match="unknown mode"):
        K.pool_mode_code("median")
    x = np.zeros((1, 1, 4, 4))
    with pytest.raises(ValueError, match="smaller than the window"):
        K.pool2d_forward(x, 2, 2, 2, 2, 2, 0, True, 0)
    with pytest.raises(ValueError, match="ignore_border"):
        K.pool2d_forward(x, 2, 2, 2, 2, 1, 0, False, 0)
    with pytest.raises(ValueError, match="larger"):
        K.pool2d_forward(x, 5, 2, 1, 1, 0, 0, True, 0)
    with pytest.raises(ValueError, match="mode_code"):
        K.pool2d_forward(x, 2, 2, 2, 2, 0, 0, True, 4)
    with pytest.raises(ValueError, match="gradient shape"):
        K.pool2d_grad(x, np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 3, 2)), 2, 2, 2, 2, 0, 0, True, 0)


@given(st.integers(1, 5), st.integers(1, 7), st.sampled_from([np.float64, np.float32]),
       st.floats(0.1, 300.0), st.integers(0, 2**31))
def test_softmax_matches_scipy(rows, cols, dtype, scale, seed):
    """Large ``scale`` makes exp overflow unless the row max is subtracted."""
    x = (np.random.default_rng(seed).standard_normal((rows, cols)) * scale).astype(dtype)
    sm, lsm = K.softmax_lastaxis(x), K.log_softmax_lastaxis(x)
    assert sm.dtype == lsm.dtype == dtype
    np.testing.assert_allclose(sm, scipy.special.softmax(x.astype(np.float64), axis=-1), rtol=TOL[dtype], atol=1e-30)
    ref = scipy.special.log_softmax(x.astype(np.float64), axis=-1)
    np.testing.assert_allclose(lsm, ref, rtol=TOL[dtype], atol=TOL[dtype] * max(1.0, np.abs(ref).max()))


def test_softmax_noncontiguous_and_nan():
    x = np.array([[1.0, 2.0, 3.0], [0.0, np.nan, 1.0]])
    view = noncontiguous(x)
    np.testing.assert_allclose(K.softmax_lastaxis(view)[0], scipy.special.softmax(x[0]), rtol=1e-12)
    assert np.isnan(K.softmax_lastaxis(view)[1]).all()
    assert np.isnan(K.log_softmax_lastaxis(view)[1]).all()
