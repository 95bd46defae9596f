"""Each rewrite rule: a graph where it must fire (and the structure it must
leave), a graph where it must not, and in both the optimized function gives
the values of the unoptimized one (mode 'python')."""
from collections import Counter

import numpy as np
import pytest

import symgraph as sg
from symgraph import tensor as T
from symgraph.rewrite import PHASES, RULES
from symgraph.rewrite.engine import LOCAL_PHASES

# a rule that fails is skipped with a RewriteWarning: here it is an error
pytestmark = pytest.mark.filterwarnings("error::symgraph.rewrite.engine.RewriteWarning")

N = 4  # inputs are N x N float64 matrices with values in [0.5, 2]


def kinds(fg):
    """How many nodes of each kind: the scalar op's name for Elemwise
    nodes, else the op's class name."""
    return Counter(n.op.scalar_op.name if isinstance(n.op, T.Elemwise) else type(n.op).__name__
                   for n in fg.toposort())


def upto(phase):
    """A python mode that runs the phases up to ``phase`` (no fusion nor
    inplace, so the structure the rules leave can be inspected)."""
    later = [p for p in LOCAL_PHASES[LOCAL_PHASES.index(phase) + 1:]] + ["fusion", "inplace"]
    return sg.Mode("python", excluding=tuple(later))


def has(name, n=None):
    return lambda k: k[name] > 0 if n is None else k[name] == n


def lacks(*names):
    return lambda k: all(k[name] == 0 for name in names)


def both(*checks):
    return lambda k: all(c(k) for c in checks)


x_ = lambda: T.dmatrix("x")  # noqa: E731
sig = T.nnet.sigmoid
sm = T.nnet.softmax

# (rule, fires, build(x, y) -> output, check(node kinds of the optimized graph))
CASES = [
    ("constant_fold", True, lambda x, y: x + T.constant(2.0, dtype="float64") * 3.0, lacks("mul")),
    ("constant_fold", False, lambda x, y: x * y, has("mul", 1)),
    ("static_shape", True, lambda x, y: T.specify_shape(x, (N, N)).shape * 1.0, lacks("Shape")),
    ("static_shape", False, lambda x, y: x.shape * 1.0, has("Shape", 1)),
    ("static_length", True, lambda x, y: x * T.specify_shape(x, (None, N)).shape[1], lacks("Subtensor", "Shape")),
    ("static_length", False, lambda x, y: x * x.shape[1], has("Subtensor", 1)),
    ("mul_by_one", True, lambda x, y: x * 1 + T.mul(y), both(lacks("mul"), has("add", 1))),
    ("mul_by_one", False, lambda x, y: x * 2, has("mul", 1)),
    ("add_zero", True, lambda x, y: (0 + x) * T.add(y), both(lacks("add"), has("mul", 1))),
    ("add_zero", False, lambda x, y: x + 1, has("add", 1)),
    ("sub_zero", True, lambda x, y: (x - 0) * (0 - y), both(lacks("sub"), has("neg", 1))),
    ("sub_zero", False, lambda x, y: x - 1, has("sub", 1)),
    ("sub_self", True, lambda x, y: T.exp(x) - T.exp(x), lacks("sub", "exp")),
    ("sub_self", False, lambda x, y: x - y, has("sub", 1)),
    ("double_neg", True, lambda x, y: -(-x) * y, lacks("neg")),
    ("double_neg", False, lambda x, y: -x * y, has("neg", 1)),
    ("neg_of_sub", True, lambda x, y: -(x - y), both(lacks("neg"), has("sub", 1))),
    ("neg_of_sub", False, lambda x, y: -(x + y), has("neg", 1)),
    ("neg_into_sub", True, lambda x, y: x + (-y), both(lacks("neg", "add"), has("sub", 1))),
    ("neg_into_sub", False, lambda x, y: x + y, both(lacks("sub"), has("add", 1))),
    ("sub_neg", True, lambda x, y: x - (-y), both(lacks("neg", "sub"), has("add", 1))),
    ("sub_neg", False, lambda x, y: x - y, has("sub", 1)),
    ("neg_out_of_mul", True, lambda x, y: T.exp((-x) * y), has("neg", 1)),
    ("neg_out_of_mul", False, lambda x, y: T.exp(x * y), lacks("neg")),
    ("div_by_constant", True, lambda x, y: x / 4.0, both(lacks("true_div"), has("mul", 1))),
    ("div_by_constant", False, lambda x, y: x / y + x / 1e-310, has("true_div", 2)),
    ("flatten_mul_add", True, lambda x, y: (x * y) * T.exp(x) + (x + y), both(has("mul", 1), has("add", 1))),
    ("flatten_mul_add", False, lambda x, y: (x * y) * T.exp(x * y), has("mul", 2)),
    ("combine_constants", True, lambda x, y: (2.0 * x) * 3.0, has("mul", 1)),
    ("combine_constants", False, lambda x, y: 2.0 * x, has("mul", 1)),
    ("dimshuffle_of_dimshuffle", True, lambda x, y: x.T.T + y, lacks("DimShuffle")),
    ("dimshuffle_of_dimshuffle", False, lambda x, y: x.T + y, has("DimShuffle", 1)),
    ("reshape_of_reshape", True, lambda x, y: x.reshape((N * N,)).reshape((2, N * N // 2)), has("Reshape", 1)),
    ("reshape_of_reshape", False, lambda x, y: x.reshape((2, N * N // 2)), has("Reshape", 1)),
    ("sum_of_sum", True, lambda x, y: x.sum(axis=0).sum(axis=0), has("Reduce", 1)),
    ("sum_of_sum", False, lambda x, y: x.max(axis=0).sum(axis=0), has("Reduce", 2)),
    ("fill_useless", True, lambda x, y: T.second(x, y), lacks("second")),
    ("fill_useless", False, lambda x, y: T.second(x, y.sum()), has("second", 1)),
    ("fill_shape_source", True, lambda x, y: T.second(T.exp(x), y.sum()), both(lacks("exp"), has("second", 1))),
    ("fill_shape_source", False, lambda x, y: T.second(x, y.sum()), has("second", 1)),
    ("remove_gradient_block", True, lambda x, y: sg.disconnected_grad(x) * y, lacks("GradientBlock")),
    ("remove_gradient_block", False, lambda x, y: x * y, lacks("GradientBlock")),
    ("specify_shape_known", True, lambda x, y: T.specify_shape(T.specify_shape(x, (N, N)), (N, N)),
     has("SpecifyShape", 1)),
    ("specify_shape_known", False, lambda x, y: T.specify_shape(x, (N, N)), has("SpecifyShape", 1)),
    ("shape_of_result", True, lambda x, y: y * T.exp(x).shape[0], lacks("exp")),
    ("shape_of_result", False, lambda x, y: y * T.argmax(x, axis=1).shape[0], has("Argmax", 1)),
    # stabilize
    ("log_softmax", True, lambda x, y: T.log(sm(x)), both(has("LogSoftmax", 1), lacks("log", "Softmax"))),
    ("log_softmax", False, lambda x, y: T.log(x), lacks("LogSoftmax")),
    ("crossentropy_softmax", True, lambda x, y: -T.sum(y * T.log(sm(x)), axis=1),
     both(has("CrossentropySoftmax", 1), lacks("log", "Softmax", "LogSoftmax"))),
    ("crossentropy_softmax", False, lambda x, y: -T.sum(y * T.log(sm(x)), axis=0), lacks("CrossentropySoftmax")),
    ("log_sigmoid", True, lambda x, y: T.log(sig(x)), both(has("softplus", 1), lacks("log", "sigmoid"))),
    ("log_sigmoid", False, lambda x, y: T.log(T.tanh(x)), has("log", 1)),
    ("log1m_sigmoid", True, lambda x, y: T.log(1 - sig(x)), both(has("softplus", 1), lacks("log", "sigmoid"))),
    ("log1m_sigmoid", False, lambda x, y: T.log(2 - sig(x)), has("log", 1)),
    ("log1p", True, lambda x, y: T.log(1 + x) + T.log(T.exp(y) + 1),
     both(has("log1p", 1), has("softplus", 1), lacks("log", "exp"))),
    ("log1p", False, lambda x, y: T.log(2 + x), has("log", 1)),
    ("log1p_exp", True, lambda x, y: T.log1p(T.exp(x)), both(has("softplus", 1), lacks("log1p"))),
    ("log1p_exp", False, lambda x, y: T.log1p(T.sin(x)), has("log1p", 1)),
    ("exp_over_one_plus_exp", True, lambda x, y: T.exp(x) / (1 + T.exp(x)) + (y / (T.exp(x) + 1)) * T.exp(x),
     both(has("sigmoid", 1), lacks("true_div", "exp"))),
    ("exp_over_one_plus_exp", False, lambda x, y: T.exp(y) / (1 + T.exp(x)), has("true_div", 1)),
    ("exp_of_log", True, lambda x, y: T.exp(T.log(T.sqrt(x))), both(has("sqrt", 1), lacks("exp", "log"))),
    ("exp_of_log", False, lambda x, y: T.exp(T.log(x)), has("exp", 1)),
    ("log_of_exp", True, lambda x, y: T.log(T.exp(x)) * y, lacks("exp", "log")),
    ("log_of_exp", False, lambda x, y: T.log(T.exp(x) * y), has("exp", 1)),
    ("sigmoid_crossentropy", True, lambda x, y: y * T.log(sig(x)) + (1 - y) * T.log(1 - sig(x)),
     both(has("softplus", 1), lacks("log", "sigmoid"))),
    ("sigmoid_crossentropy", False, lambda x, y: y * T.log(sig(x)) + (1 - y) * T.log(1 - sig(y)),
     has("softplus", 2)),
    ("cancel_division", True, lambda x, y: (x / T.exp(y)) * T.exp(y) + (x / y - x) * y,
     lacks("true_div", "exp")),
    ("cancel_division", False, lambda x, y: (x / T.exp(y)) * y, has("true_div", 1)),
    ("sqrt_of_square", True, lambda x, y: T.sqrt(x * x) + T.sqrt(y ** 2), both(has("abs", 2), lacks("sqrt"))),
    ("sqrt_of_square", False, lambda x, y: T.sqrt(x * y), has("sqrt", 1)),
    # specialize
    ("pow_two", True, lambda x, y: x ** 2, both(lacks("pow"), has("mul", 1))),
    ("pow_two", False, lambda x, y: x ** 3, has("pow", 1)),
    ("dot_transpose", True, lambda x, y: T.dot(x.T, y) * T.dot(x, y.T), both(has("Gemm", 2), lacks("Dot"))),
    ("dot_transpose", False, lambda x, y: T.dot(x, y), both(has("Dot", 1), lacks("Gemm"))),
    ("dot_bias", True, lambda x, y: T.dot(x, y) + y.sum(axis=0), both(has("Gemm", 1), lacks("Dot", "add"))),
    ("dot_bias", False, lambda x, y: (T.dot(x, y) + y) * T.dot(x, y), both(has("Dot", 1), lacks("Gemm"))),
]


def _values(n_inputs, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(0.5, 2.0, (N, N)) for _ in range(n_inputs)]


def test_every_rule_has_cases():
    covered = {(name, fires) for name, fires, _, _ in CASES}
    missing = [(n, f) for n in RULES for f in (True, False) if (n, f) not in covered]
    assert not missing


@pytest.mark.parametrize("name, fires, build, check", CASES,
                         ids=[f"{c[0]}-{'fires' if c[1] else 'not'}" for c in CASES])
def test_rule(name, fires, build, check):
    x, y = T.dmatrix("x"), T.dmatrix("y")
    out = build(x, y)
    f = sg.function([x, y], out, mode=upto(RULES[name].phase), on_unused_input="ignore")
    assert (f.fgraph.stats[name] > 0) == fires, dict(f.fgraph.stats)
    assert check(kinds(f.fgraph)), (kinds(f.fgraph), sg.debugprint(f, file=open("/dev/null", "w")))
    reference = sg.function([x, y], out, mode="python_unopt", on_unused_input="ignore")
    values = _values(2)
    np.testing.assert_allclose(f(*values), reference(*values), rtol=1e-12, atol=1e-12)


def test_rules_keep_values_of_broadcasting_and_ints():
    """Rules that drop an operand must keep the result's shape and dtype."""
    v, m, i = T.dvector("v"), T.dmatrix("m"), T.ivector("i")
    outs = [v * T.ones_like(m), m * T.constant(np.ones((1, 1))), i * 1.0, (v / m) * m, i - i, T.second(m, v)]
    f = sg.function([v, m, i], outs, mode="python")
    ref = sg.function([v, m, i], outs, mode="python_unopt")
    args = [np.arange(3.0), np.ones((2, 3)) * 2, np.arange(3, dtype="int32")]
    for got, want in zip(f(*args), ref(*args)):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want)


def test_merge_common_subexpressions_and_constants():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    out = T.exp(x) * 2.0 + T.exp(x) * 2.0 + T.exp(y)
    f = sg.function([x, y], out, mode=sg.Mode("python", excluding=("fusion",)))
    assert kinds(f.fgraph)["exp"] == 2 and f.fgraph.stats["merge"] > 0
    g = sg.function([x, y], T.exp(x) + T.exp(y), mode=sg.Mode("python", excluding=("fusion",)))
    assert kinds(g.fgraph)["exp"] == 2 and g.fgraph.stats["merge"] == 0
    values = _values(2)
    np.testing.assert_allclose(f(*values), 4 * np.exp(values[0]) + np.exp(values[1]))


def test_excluding_a_rule_or_a_phase():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    out = T.log(sm(x)) * 1
    f = sg.function([x], out, mode=sg.Mode("python", excluding=("log_softmax",)))
    assert f.fgraph.stats["log_softmax"] == 0 and f.fgraph.stats["mul_by_one"] == 1
    f = sg.function([x], out, mode=sg.Mode("python", excluding=("stabilize",)))
    assert kinds(f.fgraph)["Softmax"] == 1
    f = sg.function([x], out, mode=sg.Mode("python", excluding="canonicalize"))
    assert f.fgraph.stats["mul_by_one"] == 0 and f.fgraph.stats["log_softmax"] == 1
    with pytest.raises(ValueError, match="unknown rewrite name"):
        sg.function([x], out, mode=sg.Mode("python", excluding=("no_such_rule",)))


def test_every_mode_but_the_unoptimized_one_runs_every_phase():
    from symgraph.compile.mode import PREDEFINED
    for name, mode in PREDEFINED.items():
        assert mode.optimize == (name not in ("python_unopt", "FAST_COMPILE")), name
    x = T.dmatrix("x")
    f = sg.function([x], T.exp(x) * 2 + 1, mode="python")
    assert [r["phase"] for r in f.fgraph.phase_log] == list(PHASES)
    assert sg.function([x], T.exp(x), mode="python_unopt").fgraph.phase_log == []


def test_rule_tables_are_documented():
    from pathlib import Path
    docs = (Path(__file__).resolve().parents[1] / "docs" / "rewrite.md").read_text()
    for r in RULES.values():
        assert "->" in r.doc, r.name
        assert f"`{r.name}`" in docs, f"docs/rewrite.md does not list the rule {r.name}"
    for phase in PHASES:
        assert f"`{phase}`" in docs


def test_rules_that_undo_each_other_stop_with_a_warning():
    from symgraph.rewrite import FunctionGraph
    from symgraph.rewrite.engine import Rule, run_rules
    from symgraph.rewrite.patterns import is_const
    double = Rule("double", "canonicalize", ("add",),
                  lambda fg, node: node.inputs[0] * 2 if node.inputs[0] is node.inputs[1] else None)
    halve = Rule("halve", "canonicalize", ("mul",),
                 lambda fg, node: node.inputs[0] + node.inputs[0] if is_const(node.inputs[1], 2) else None)
    x = T.dmatrix("x")
    fg = FunctionGraph([x], [T.exp(x + x)])
    with pytest.warns(UserWarning, match="fixed point"):
        run_rules(fg, [double, halve])
    assert fg.stats["double"] > 10 and fg.stats["halve"] > 10


def test_a_failing_rule_is_skipped_with_a_warning():
    from symgraph.rewrite import FunctionGraph
    from symgraph.rewrite.engine import RewriteWarning, Rule, run_rules
    x = T.dmatrix("x")
    broken = Rule("broken", "canonicalize", ("exp",), lambda fg, node: T.exp(T.fmatrix("f")))  # foreign input
    wrong_type = Rule("wrong_type", "canonicalize", ("exp",), lambda fg, node: T.cast(node.inputs[0], "float32"))
    fg = FunctionGraph([x], [T.exp(x) * 2])
    with pytest.warns(RewriteWarning) as record:
        run_rules(fg, [broken, wrong_type])
    assert len(record) == 2 and "broken" in str(record[0].message) and "wrong_type" in str(record[1].message)
    assert fg.stats["failed:broken"] == 1 and fg.stats["failed:wrong_type"] == 1
    assert kinds(fg)["exp"] == 1
