"""The library kernels that Numba's threads share (numba_cpu: GEMM by
blocks, convolutions by runs of samples, pooling by maps, Philox fills by
blocks of words): right against NumPy and the reference backend, and,
GEMM excepted, the same numbers, bit for bit, for every thread count."""
import numpy as np
import pytest

import symgraph as sg
from symgraph import tensor as T
from symgraph.backend.numba_cpu import kernels_nnet as nnet
from symgraph.backend.numba_cpu import runtime as rt
from symgraph.tensor.nnet import conv_impl
from symgraph.tensor.signal import pool_impl
from symgraph.testing import assert_same_values

THREADS = (1, 2, 3, 8)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("trans_a,trans_b", [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("m,n", [(200, 90), (90, 200), (3, 5)])
def test_gemm_by_blocks_matches_numpy(dtype, trans_a, trans_b, m, n):
    rng = np.random.default_rng(m + n)
    k = 150
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
    bias = rng.standard_normal((m, n)).astype(dtype)
    want = (a.T if trans_a else a) @ (b.T if trans_b else b) + bias
    outs = []
    for threads in THREADS:
        c = bias.copy()
        rt.gemm_parallel(a, trans_a, b, trans_b, c, 1.0, threads)
        np.testing.assert_allclose(c, want, rtol=1e-4 if dtype == "float32" else 1e-10, atol=1e-3)
        outs.append(c)
    for c in outs[1:]:  # blocks follow the thread count: BLAS may round their edges differently
        np.testing.assert_allclose(c, outs[0], rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-5)


@pytest.mark.parametrize("pad,stride", [((0, 0), (1, 1)), ((1, 2), (2, 1))])
@pytest.mark.parametrize("channels,kernel", [(1, 5), (4, 3)])
def test_convolutions_give_the_same_numbers_on_any_thread_count(pad, stride, channels, kernel):
    rng = np.random.default_rng(channels)
    x = rng.standard_normal((7, channels, 11, 10)).astype("float32")
    w = rng.standard_normal((5, channels, kernel, kernel)).astype("float32")
    want = conv_impl.conv2d_forward(x, w, pad, stride)
    gy = rng.standard_normal(want.shape).astype("float32")
    args = (*pad, *stride, True)
    outs = []
    for threads in THREADS:
        y = nnet.conv2d_forward(x, w, *args, threads)
        gx = nnet.conv2d_grad_input(gy, w, 11, 10, *args, threads)
        gw = nnet.conv2d_grad_weights(x, gy, kernel, kernel, *args, threads)
        np.testing.assert_allclose(y, want, rtol=1e-4, atol=1e-4)
        outs.append((y, gx, gw))
    for y, gx, gw in outs[1:]:  # the same numbers on any thread count
        np.testing.assert_array_equal(y, outs[0][0])
        np.testing.assert_array_equal(gx, outs[0][1])
        np.testing.assert_array_equal(gw, outs[0][2])


def test_philox_fills_do_not_depend_on_the_thread_count():
    key, counter = 12345, 678
    one, p = np.array([0.0]), np.array([0.3])
    results = []
    for threads in THREADS:
        u = np.empty(50_001, "float32")
        z = np.empty(20_001, "float64")
        mask = np.empty(60_003, "float32")
        counts = np.empty(10_001, "int64")
        blocks = (rt.uniform_fill(key, counter, one, np.array([2.0]), u, threads),
                  rt.normal_fill(key, counter, one, np.array([1.0]), z, threads),
                  rt.binomial_fill(key, counter, 1, p, mask, threads),
                  rt.binomial_fill(key, counter, 3, p, counts, threads))
        results.append((blocks, u, z, mask, counts))
    for blocks, *arrays in results[1:]:
        assert blocks == results[0][0]
        for got, want in zip(arrays, results[0][1:]):
            np.testing.assert_array_equal(got, want)


def test_large_draws_give_the_reference_numbers():
    outs = []
    for backend in ("python", "numba"):
        srng = T.RandomStreams(99)
        fn = sg.function([], [srng.binomial((300, 200), n=1, p=0.9, dtype="float32"),
                              srng.uniform((40_001,)), srng.normal((30_000,))], mode=backend)
        outs.append(fn() + fn())
    for e, g in zip(*outs):
        assert_same_values(e, g)


@pytest.mark.parametrize("mode", ["max", "average_exc_pad"])
@pytest.mark.parametrize("ws,stride,pad", [((2, 2), (2, 2), (0, 0)), ((3, 2), (1, 2), (1, 0))])
def test_pooling_gives_the_same_numbers_on_any_thread_count(mode, ws, stride, pad):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 5, 9, 8)).astype("float32")
    want = pool_impl.pool2d_forward(x, ws, True, stride, pad, mode)
    gy = rng.standard_normal(want.shape).astype("float32")
    want_gx = pool_impl.pool2d_grad(x, want, gy, ws, True, stride, pad, mode)
    args = (*ws, *stride, *pad, True, nnet.pool_mode_code(mode))
    serial = nnet.pool2d_forward(x, *args, 1), nnet.pool2d_grad(x, want, gy, *args, 1)
    np.testing.assert_allclose(serial[0], want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(serial[1], want_gx, rtol=1e-5, atol=1e-6)
    for threads in THREADS[1:]:  # maps are split, never summed: identical numbers
        np.testing.assert_array_equal(nnet.pool2d_forward(x, *args, threads), serial[0])
        np.testing.assert_array_equal(nnet.pool2d_grad(x, want, gy, *args, threads), serial[1])


def _run_in_fork(fn, args, queue):
    queue.put(fn(*args))


def test_a_forked_process_runs_compiled_functions_on_one_thread():
    """Numba's GNU OpenMP pool cannot run in a forked process: there the
    linker passes one thread, and no kernel starts the pool."""
    import multiprocessing
    x = T.tensor4("x")
    w = sg.shared(np.random.default_rng(0).standard_normal((4, 2, 3, 3)).astype("float32"))
    y = T.signal.pool.pool_2d(T.nnet.conv2d(x, w), (2, 2), ignore_border=True)
    fn = sg.function([x], [y, sg.grad(y.sum(), w)])
    xv = np.random.default_rng(1).standard_normal((64, 2, 12, 12)).astype("float32")
    expected = fn(xv)  # the parent has used the thread pool
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_run_in_fork, args=(fn, (xv,), queue))
    child.start()
    got = queue.get(timeout=120)
    child.join(60)
    assert child.exitcode == 0
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-5)
