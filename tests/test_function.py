"""function(): Theano's semantics of outputs, updates, givens, inputs and
shared variables, checked on the reference backend (mode='python')."""
import inspect
import io
import os
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import symgraph as sg
from symgraph import tensor as T
from symgraph.errors import ExecutionError, GraphTypeError, InputError

MODE = "python"


def fn(*args, **kwargs):
    kwargs.setdefault("mode", MODE)
    return sg.function(*args, **kwargs)


def f32(*values):
    return np.array(values, dtype="float32")


# --- outputs -------------------------------------------------------------

def test_single_output_is_an_array_and_a_list_gives_a_list():
    x = T.vector("x")
    single = fn([x], x * 2)
    listed = fn([x], [x * 2])
    two = fn([x], [x * 2, x + 1])
    data = f32(1, 2, 3)
    assert isinstance(single(data), np.ndarray)
    np.testing.assert_array_equal(single(data), data * 2)
    out = listed(data)
    assert isinstance(out, list) and len(out) == 1
    np.testing.assert_array_equal(out[0], data * 2)
    a, b = two(data)
    np.testing.assert_array_equal(a, data * 2)
    np.testing.assert_array_equal(b, data + 1)


def test_outputs_none_runs_the_updates_and_returns_an_empty_list():
    s = sg.shared(np.float32(1.0), name="s")
    x = T.scalar("x")
    step = fn([x], updates=[(s, s + x)])
    assert step(np.float32(2.5)) == []
    assert s.get_value() == np.float32(3.5)


def test_output_dtype_and_values_match_numpy():
    x, y = T.matrix("x"), T.matrix("y")
    f = fn([x, y], T.dot(x, y) + T.exp(x).sum())
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 3)).astype("float32")
    b = rng.standard_normal((3, 3)).astype("float32")
    out = f(a, b)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, a @ b + np.exp(a).sum(), rtol=1e-5)


# --- updates -------------------------------------------------------------

def test_swap_reads_the_values_from_before_the_call():
    a = sg.shared(f32(1, 2), name="a")
    b = sg.shared(f32(3, 4), name="b")
    swap = fn([], [], updates=[(a, b), (b, a)])
    swap()
    np.testing.assert_array_equal(a.get_value(), f32(3, 4))
    np.testing.assert_array_equal(b.get_value(), f32(1, 2))
    swap()
    np.testing.assert_array_equal(a.get_value(), f32(1, 2))
    np.testing.assert_array_equal(b.get_value(), f32(3, 4))


def test_counter_counts_calls_and_outputs_see_the_old_value():
    count = sg.shared(np.int64(0), name="count")
    tick = fn([], count, updates=[(count, count + 1)])
    seen = [int(tick()) for _ in range(5)]
    assert seen == [0, 1, 2, 3, 4]
    assert count.get_value() == 5


def test_update_depending_on_another_updated_variable_uses_its_old_value():
    a = sg.shared(np.float64(1.0), name="a")
    b = sg.shared(np.float64(10.0), name="b")
    step = fn([], [], updates=[(a, a + 1), (b, b + a * 2)])
    step()
    assert a.get_value() == 2.0 and b.get_value() == 12.0  # b used a == 1
    step()
    assert a.get_value() == 3.0 and b.get_value() == 16.0  # b used a == 2


@pytest.mark.parametrize("container", ["list", "tuple_pairs", "dict", "ordereddict"])
def test_updates_as_pairs_dict_or_ordereddict(container):
    a = sg.shared(np.float64(1.0), name="a")
    b = sg.shared(np.float64(5.0), name="b")
    x = T.dscalar("x")
    pairs = [(a, a + x), (b, b * x)]
    updates = {"list": [list(p) for p in pairs], "tuple_pairs": tuple(pairs), "dict": dict(pairs),
               "ordereddict": OrderedDict(pairs)}[container]
    fn([x], [], updates=updates)(3.0)
    assert a.get_value() == 4.0 and b.get_value() == 15.0


def test_update_of_a_non_shared_variable_is_refused():
    x = T.vector("x")
    with pytest.raises(TypeError, match="not a shared variable"):
        fn([x], x, updates=[(x, x + 1)])


def test_a_variable_updated_twice_is_refused():
    a = sg.shared(np.float64(1.0), name="a")
    with pytest.raises(ValueError, match="updated twice"):
        fn([], [], updates=[(a, a + 1), (a, a + 2)])


def test_updates_must_be_pairs():
    a = sg.shared(np.float64(1.0), name="a")
    with pytest.raises(TypeError, match="pairs"):
        fn([], [], updates=[(a, a + 1, 3)])


# --- givens --------------------------------------------------------------

def test_givens_replaces_an_input_by_a_shared_variable():
    data = sg.shared(f32(1, 2, 3), name="data")
    x = T.vector("x")
    f = fn([], (x * 2).sum(), givens=[(x, data)])
    assert f() == np.float32(12)
    data.set_value(f32(10, 20))
    assert f() == np.float32(60)  # reads the shared value at call time


def test_givens_replaces_an_input_by_an_expression_of_other_inputs():
    x, y = T.vector("x"), T.vector("y")
    out = x ** 2
    f = fn([y], out, givens={x: y + 1})
    np.testing.assert_array_equal(f(f32(0, 1, 2)), f32(1, 4, 9))


def test_givens_can_slice_a_shared_dataset_by_a_symbolic_index():
    data = sg.shared(np.arange(12, dtype="float32").reshape(6, 2), name="data")
    i = T.lscalar("i")
    x = T.matrix("x")
    f = fn([i], x.sum(), givens={x: data[i * 2:(i + 1) * 2]})
    assert [float(f(k)) for k in range(3)] == [6.0, 22.0, 38.0]


def test_givens_type_mismatch_is_a_graph_type_error():
    x = T.vector("x")
    m = T.matrix("m")
    d = T.dvector("d")
    with pytest.raises(GraphTypeError, match="cannot be replaced"):
        fn([m], x * 2, givens={x: m})
    with pytest.raises(GraphTypeError, match="float64"):
        fn([d], x * 2, givens={x: d})


# --- arguments -----------------------------------------------------------

def test_float64_data_into_a_float32_input_needs_allow_input_downcast():
    x = T.vector("x")
    strict = fn([x], x * 2)
    loose = fn([x], x * 2, allow_input_downcast=True)
    data = np.array([0.1, 0.2], dtype="float64")
    with pytest.raises(InputError, match="allow_input_downcast"):
        strict(data)
    out = loose(data)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, data.astype("float32") * 2)


def test_python_floats_and_lists_convert_to_the_input_dtype():
    x = T.vector("x")
    s = T.scalar("s")
    f = fn([x, s], x * s)
    out = f([1.5, 2.0], 2.0)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, f32(3, 4))
    i = T.lvector("i")
    assert fn([i], i + 1)([1, 2]).tolist() == [2, 3]


def test_safe_upcast_needs_no_flag_and_int_into_float_is_accepted():
    x = T.dvector("x")
    f = fn([x], x + 0)
    assert f(f32(1.5)).dtype == np.float64
    assert f(np.array([2], dtype="int32")).tolist() == [2.0]


def test_wrong_rank_argument_is_an_input_error():
    x = T.vector("x")
    f = fn([x], x + 1)
    with pytest.raises(InputError, match="rank 1"):
        f(np.zeros((2, 2), dtype="float32"))


def test_keyword_arguments_by_input_name():
    x, y = T.scalar("x"), T.scalar("y")
    f = fn([x, y], x - y)
    assert f(y=np.float32(1), x=np.float32(5)) == 4
    assert f(np.float32(5), y=np.float32(2)) == 3
    with pytest.raises(InputError, match="no input named 'z'"):
        f(x=np.float32(1), z=np.float32(2))
    with pytest.raises(InputError, match="given twice"):
        f(np.float32(1), x=np.float32(2))


def test_missing_and_extra_arguments():
    x, y = T.scalar("x"), T.scalar("y")
    f = fn([x, y], x + y)
    with pytest.raises(InputError, match="missing y"):
        f(np.float32(1))
    with pytest.raises(InputError, match="got 3"):
        f(np.float32(1), np.float32(2), np.float32(3))


@pytest.mark.parametrize("policy", ["raise", "warn", "ignore"])
def test_on_unused_input(policy):
    x, unused = T.vector("x"), T.vector("unused")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if policy == "raise":
            with pytest.raises(ValueError, match="unused"):
                fn([x, unused], x * 2, on_unused_input=policy)
            return
        if policy == "warn":
            with pytest.warns(UserWarning, match="unused"):
                f = fn([x, unused], x * 2, on_unused_input=policy)
        else:
            f = fn([x, unused], x * 2, on_unused_input=policy)
    np.testing.assert_array_equal(f(f32(1, 2), f32(7)), f32(2, 4))


def test_bad_on_unused_input_value():
    x = T.vector("x")
    with pytest.raises(ValueError, match="'raise', 'warn' or 'ignore'"):
        fn([x], x, on_unused_input="maybe")


def test_input_missing_from_the_inputs_list():
    x, y = T.vector("x"), T.vector("y")
    with pytest.raises(InputError, match="need the input y"):
        fn([x], x + y)


def test_duplicate_inputs_are_refused():
    x = T.vector("x")
    with pytest.raises(ValueError, match="twice"):
        fn([x, x], x * 2)


def test_inputs_must_be_symbolic_inputs():
    x = T.vector("x")
    s = sg.shared(f32(1), name="s")
    with pytest.raises(TypeError, match="list of variables"):
        fn(x, x * 2)
    with pytest.raises(TypeError, match="shared variable"):
        fn([s], s * 2)
    with pytest.raises(TypeError, match="computed variable"):
        fn([x * 2], x)


def test_unknown_mode_is_refused():
    x = T.vector("x")
    with pytest.raises(ValueError, match="unknown mode"):
        sg.function([x], x, mode="turbo")


# --- shared variables ----------------------------------------------------

def test_get_value_copies_unless_borrow():
    value = f32(1, 2, 3)
    s = sg.shared(value, name="s")
    value[0] = 100  # shared() copied the array
    assert s.get_value()[0] == 1
    got = s.get_value()
    got[1] = 100
    assert s.get_value()[1] == 2
    borrowed = s.get_value(borrow=True)
    borrowed[1] = 100
    assert s.get_value()[1] == 100


def test_set_value_copies_unless_borrow():
    s = sg.shared(f32(0, 0), name="s")
    new = f32(1, 2)
    s.set_value(new)
    new[0] = 50
    assert s.get_value()[0] == 1
    s.set_value(new, borrow=True)
    new[1] = 60
    assert s.get_value()[1] == 60


def test_shared_borrow_keeps_the_callers_array():
    value = f32(1, 2)
    s = sg.shared(value, name="s", borrow=True)
    value[0] = 9
    assert s.get_value()[0] == 9


def test_set_value_with_wrong_dtype_or_rank_raises():
    s = sg.shared(f32(1, 2), name="weights")
    with pytest.raises(InputError, match="rank 1"):
        s.set_value(np.zeros((2, 2), dtype="float32"))
    with pytest.raises(InputError, match="float32"):
        s.set_value(np.zeros(2, dtype="float64"))
    with pytest.raises(InputError, match="weights"):
        s.set_value(np.zeros(2, dtype="int64") + 2 ** 40)
    np.testing.assert_array_equal(s.get_value(), f32(1, 2))


def test_shared_python_float_is_floatx():
    s = sg.shared(0.5, name="s")
    assert s.dtype == sg.config.floatX and s.ndim == 0


def test_outputs_never_alias_shared_values():
    s = sg.shared(f32(1, 2, 3), name="s")
    f = fn([], s)
    out = f()
    out[0] = 99
    np.testing.assert_array_equal(s.get_value(), f32(1, 2, 3))
    out2 = f()
    assert out2[0] == 1


def test_outputs_never_alias_inputs():
    x = T.vector("x")
    f = fn([x], x)
    data = f32(1, 2)
    out = f(data)
    out[0] = 50
    assert data[0] == 1


def test_output_that_is_also_an_update_does_not_alias_the_new_shared_value():
    s = sg.shared(f32(1, 2), name="s")
    new = s * 2
    f = fn([], new, updates=[(s, new)])
    out = f()
    np.testing.assert_array_equal(out, f32(2, 4))
    out[0] = -1
    np.testing.assert_array_equal(s.get_value(), f32(2, 4))


def test_the_same_variable_twice_in_outputs_gives_two_arrays():
    x = T.vector("x")
    y = x + 1
    a, b = fn([x], [y, y])(f32(1, 2))
    a[0] = 100
    np.testing.assert_array_equal(b, f32(2, 3))


def test_update_to_an_input_value_does_not_keep_the_callers_array():
    s = sg.shared(f32(0, 0), name="s")
    x = T.vector("x")
    f = fn([x], [], updates=[(s, x)])
    data = f32(3, 4)
    f(data)
    data[0] = 100
    np.testing.assert_array_equal(s.get_value(), f32(3, 4))


def test_default_update_applies_unless_overridden():
    s = sg.shared(np.int64(0), name="s")
    s.default_update = s + 1
    read = fn([], s * 10)
    assert [int(read()) for _ in range(3)] == [0, 10, 20]
    assert s.get_value() == 3
    overridden = fn([], s * 10, updates=[(s, s - 3)])
    assert int(overridden()) == 30
    assert s.get_value() == 0
    unused = fn([], sg.shared(np.int64(7)) + 0)  # s not read: not advanced
    unused()
    assert s.get_value() == 0


# --- profiling, NaN guard, eval -----------------------------------------

def test_profile_summary_names_the_ops():
    x = T.matrix("x")
    w = sg.shared(np.ones((3, 2), dtype="float32"), name="w")
    f = fn([x], T.nnet.softmax(T.dot(x, w)).sum(), profile=True, name="prof")
    for _ in range(3):
        f(np.ones((4, 3), dtype="float32"))
    text = f.profile.summary(file=io.StringIO())
    assert "3 calls" in text
    assert "Dot" in text and "Softmax" in text
    assert "prof" in text


def test_nan_guard_raises_at_the_node_producing_nan_and_names_the_line():
    x = T.vector("x")
    y = T.log(x)  # NaN for negative x
    line = inspect.currentframe().f_lineno - 1
    z = y * 2
    guarded = fn([x], z, nan_guard=True)
    np.testing.assert_allclose(guarded(f32(1, np.e)), f32(0, 2), rtol=1e-6)
    with pytest.raises(ExecutionError) as info:
        guarded(f32(1, -1))
    message = str(info.value)
    assert "NaN" in message and "log" in message.lower()
    assert f"line {line}" in message and os.path.basename(__file__) in message
    assert "T.log(x)" in message
    plain = fn([x], z)
    assert np.isnan(plain(f32(-1))).all()  # without the guard: no error


def test_nan_guard_keeps_shared_values_on_failure():
    s = sg.shared(f32(1, 2), name="s")
    x = T.vector("x")
    f = fn([x], T.sqrt(x), updates=[(s, s + 1)], nan_guard=True)
    with pytest.raises(ExecutionError, match="NaN"):
        f(f32(-1, 1))
    np.testing.assert_array_equal(s.get_value(), f32(1, 2))


def test_eval_with_and_without_inputs():
    x = T.dvector("x")
    np.testing.assert_array_equal((x * 3).eval({x: np.array([1.0, 2.0])}), [3.0, 6.0])
    s = sg.shared(f32(1, 2), name="s")
    np.testing.assert_array_equal((s + 1).eval(), f32(2, 3))
    assert T.constant(2.0).eval() == 2.0
