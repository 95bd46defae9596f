"""RandomStreams: shapes, dtypes, parameters, state handling, statistics,
and the values against symgraph.tensor.philox's streams (mode='python')."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import symgraph as sg
from symgraph import tensor as T
from symgraph.errors import ExecutionError
from symgraph.tensor import philox
from symgraph.tensor.shared_randomstreams import RandomStreams

MODE = "python"


def fn(inputs, outputs, **kwargs):
    return sg.function(inputs, outputs, mode=MODE, **kwargs)


def key_counter(state_var):
    key, counter = state_var.get_value()
    return int(key), int(counter)


# --- shapes and dtypes ---------------------------------------------------

def test_shapes_and_default_dtypes():
    rng = RandomStreams(1)
    u, n, b = rng.uniform((2, 3)), rng.normal((4,)), rng.binomial((5, 1, 2))
    assert u.type.shape == (2, 3) and n.type.shape == (4,) and b.type.shape == (5, 1, 2)
    assert u.dtype == sg.config.floatX == "float32" and n.dtype == "float32" and b.dtype == "int64"
    uv, nv, bv = fn([], [u, n, b])()
    assert uv.shape == (2, 3) and uv.dtype == np.float32
    assert nv.shape == (4,) and nv.dtype == np.float32
    assert bv.shape == (5, 1, 2) and bv.dtype == np.int64
    assert ((0 <= uv) & (uv <= 1)).all() and set(np.unique(bv)) <= {0, 1}


def test_explicit_dtypes():
    rng = RandomStreams(2)
    u = rng.uniform((3,), dtype="float64")
    n = rng.normal((3,), dtype="float64")
    b = rng.binomial((3,), dtype="float32")
    assert (u.dtype, n.dtype, b.dtype) == ("float64", "float64", "float32")
    values = fn([], [u, n, b])()
    assert [v.dtype for v in values] == [np.float64, np.float64, np.float32]


def test_symbolic_size_from_an_input_shape():
    rng = RandomStreams(3)
    x = T.matrix("x")
    mask = rng.binomial(size=x.shape, n=1, p=0.5, dtype="float32")
    assert mask.ndim == 2 and mask.dtype == "float32"
    f = fn([x], mask * x)
    for shape in [(2, 5), (7, 1), (3, 4)]:
        out = f(np.ones(shape, dtype="float32"))
        assert out.shape == shape and set(np.unique(out)) <= {0.0, 1.0}


def test_size_mixing_symbolic_and_static_lengths():
    rng = RandomStreams(3)
    x = T.matrix("x")
    n = rng.normal(size=(x.shape[0], 3))
    assert n.type.shape == (None, 3)
    assert fn([x], n)(np.zeros((5, 7), dtype="float32")).shape == (5, 3)


def test_size_from_parameters_when_no_size_is_given():
    rng = RandomStreams(4)
    low = T.vector("low")
    u = rng.uniform(low=low, high=low + 1)
    lows = np.array([0, 10, 100, 1000], dtype="float32")
    out = fn([low], u)(lows)
    assert out.shape == (4,)
    assert ((lows <= out) & (out <= lows + 1)).all()


def test_tensor_parameters_broadcast_over_the_size():
    rng = RandomStreams(5)
    p = T.vector("p")
    avg = T.vector("avg")
    b = rng.binomial(size=(20000, 3), p=p)
    n = rng.normal(size=(20000, 3), avg=avg, std=0.01)
    probs = np.array([0.0, 1.0, 0.25], dtype="float32")
    means = np.array([-5, 0, 7], dtype="float32")
    bv, nv = fn([p, avg], [b, n])(probs, means)
    assert (bv[:, 0] == 0).all() and (bv[:, 1] == 1).all()
    assert abs(bv[:, 2].mean() - 0.25) < 5 * np.sqrt(0.25 * 0.75 / 20000)
    np.testing.assert_allclose(nv.mean(axis=0), means, atol=1e-3)


def test_binomial_with_n_trials():
    rng = RandomStreams(6)
    b = rng.binomial((50000,), n=4, p=0.5)
    v = fn([], b)()
    assert v.min() >= 0 and v.max() == 4
    assert abs(v.mean() - 2) < 5 * np.sqrt(1 / 50000)


def test_binomial_with_varying_n_is_refused():
    rng = RandomStreams(7)
    b = rng.binomial((3,), n=T.constant(np.array([1, 2, 3])), p=0.5)
    with pytest.raises(ExecutionError, match="n must be one integer"):
        fn([], b)()


# --- state ---------------------------------------------------------------

def test_the_state_advances_each_call():
    rng = RandomStreams(8)
    u = rng.uniform((10,))
    f = fn([], u)
    first, second = f(), f()
    assert not np.array_equal(first, second)
    assert key_counter(rng.states[0])[1] > 0


def test_every_function_reading_a_stream_advances_the_same_state():
    rng = RandomStreams(9)
    u = rng.uniform((6,))
    f1, f2 = fn([], u), fn([], u * 1)
    a = f1()
    b = f2()
    rng.seed(9)
    a2, b2 = f1(), f1()
    np.testing.assert_array_equal(a, a2)
    np.testing.assert_array_equal(b, b2)  # f2 continued the stream that f1 started


def test_one_draw_used_twice_in_a_call_is_the_same_sample():
    rng = RandomStreams(10)
    u = rng.uniform((5,))
    a, b = fn([], [u, u + 0])()
    np.testing.assert_array_equal(a, b)


def test_two_draws_of_one_streams_object_differ():
    rng = RandomStreams(11)
    a, b = fn([], [rng.uniform((8,)), rng.uniform((8,))])()
    assert not np.array_equal(a, b)


def test_same_seed_same_sequence_in_a_fresh_randomstreams():
    def draws(seed):
        rng = RandomStreams(seed)
        f = fn([], [rng.uniform((3, 2)), rng.normal((5,)), rng.binomial((4,), n=3, p=0.3)])
        return [f() for _ in range(3)]
    run1, run2, other = draws(123), draws(123), draws(124)
    for call1, call2, call3 in zip(run1, run2, other):
        for a, b, c in zip(call1, call2, call3):
            np.testing.assert_array_equal(a, b)
        assert not np.array_equal(call1[0], call3[0])


_SCRIPT = textwrap.dedent("""
    import numpy as np, symgraph as sg
    from symgraph.tensor.shared_randomstreams import RandomStreams
    rng = RandomStreams(2024)
    f = sg.function([], [rng.uniform((4,)), rng.normal((3,)), rng.binomial((5,), p=0.7)], mode="python")
    values = [v for _ in range(2) for v in f()]
    print(";".join(v.astype("float64").tobytes().hex() for v in values))
""")


def test_same_seed_same_sequence_in_a_fresh_process():
    done = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=120, check=True)
    theirs = done.stdout.strip().split(";")
    rng = RandomStreams(2024)
    f = fn([], [rng.uniform((4,)), rng.normal((3,)), rng.binomial((5,), p=0.7)])
    ours = [v.astype("float64").tobytes().hex() for _ in range(2) for v in f()]
    assert theirs == ours


def test_seed_resets_every_stream():
    rng = RandomStreams(12)
    f = fn([], [rng.uniform((4,)), rng.normal((4,))])
    first = f()
    f()
    rng.seed(12)
    again = f()
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    rng.seed(13)
    assert not np.array_equal(f()[0], first[0])


def test_draws_made_after_seed_follow_the_new_seed():
    a, b = RandomStreams(1), RandomStreams(2)
    b.seed(1)
    np.testing.assert_array_equal(fn([], a.uniform((6,)))(), fn([], b.uniform((6,)))())


def test_an_explicit_update_of_the_state_overrides_the_default():
    rng = RandomStreams(14)
    u = rng.uniform((3,))
    state = rng.states[0]
    frozen = fn([], u, updates=[(state, state)])
    np.testing.assert_array_equal(frozen(), frozen())


# --- statistics (1e5 draws, 5 sigma) -------------------------------------

N = 100_000


def _check_moments(values, mean, var, mu4):
    """Sample mean and variance within 5 standard errors; ``mu4`` is the
    fourth central moment (the variance of the sample variance is
    (mu4 - var**2) / N)."""
    values = values.astype("float64").ravel()
    assert abs(values.mean() - mean) < 5 * np.sqrt(var / N), values.mean()
    assert abs(values.var() - var) < 5 * np.sqrt((mu4 - var ** 2) / N), values.var()


def test_statistics():
    rng = RandomStreams(15)
    u = rng.uniform((N,), low=-1.0, high=3.0, dtype="float64")
    g = rng.normal((200, 500), avg=2.0, std=3.0, dtype="float64")
    b = rng.binomial((N,), n=5, p=0.3)
    uv, gv, bv = fn([], [u, g, b])()
    w = 4.0  # uniform on [-1, 3): var w^2/12, mu4 w^4/80
    _check_moments(uv, 1.0, w ** 2 / 12, w ** 4 / 80)
    _check_moments(gv, 2.0, 9.0, 3 * 81.0)
    n, p = 5, 0.3
    q = n * p * (1 - p)
    _check_moments(bv, n * p, q, q * (1 + 3 * (n - 2) * p * (1 - p)))
    assert abs(np.corrcoef(uv[:-1], uv[1:])[0, 1]) < 5 / np.sqrt(N)  # neighbours uncorrelated


# --- the values are philox's streams ---------------------------------------

def test_values_equal_philox_streams():
    rng = RandomStreams(16)
    x = T.matrix("x")
    p = T.vector("p")
    u = rng.uniform((3, 5), low=-2.0, high=2.0)
    n = rng.normal((7,), avg=1.0, std=0.5, dtype="float64")
    b = rng.binomial(size=x.shape, n=3, p=p)
    f = fn([x, p], [u, n, b])
    probs = np.array([0.1, 0.5, 0.9, 0.2], dtype="float32")
    xs = np.zeros((6, 4), dtype="float32")
    for _ in range(2):  # the first call, then the continued stream
        (ku, cu), (kn, cn), (kb, cb) = (key_counter(s) for s in rng.states)
        uv, nv, bv = f(xs, probs)
        want_u, next_u = philox.uniform(ku, cu, 15, np.float32(-2.0), np.float32(2.0), "float32")
        want_n, next_n = philox.normal(kn, cn, 7, np.float32(1.0), np.float32(0.5), "float64")
        want_b, next_b = philox.binomial(kb, cb, 24, 3, np.tile(probs, 6), "int64")
        np.testing.assert_array_equal(uv, want_u.reshape(3, 5))
        np.testing.assert_array_equal(nv, want_n)
        np.testing.assert_array_equal(bv, want_b.reshape(6, 4))
        assert [key_counter(s) for s in rng.states] == [(ku, next_u), (kn, next_n), (kb, next_b)]
    assert len({key_counter(s)[0] for s in rng.states}) == 3  # each draw its own key
