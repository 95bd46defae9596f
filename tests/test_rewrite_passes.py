"""The whole-graph passes (elemwise fusion, inplace, dead code) and the
debug helpers that show what the optimizer did."""
import networkx as nx
import numpy as np
import pytest

import symgraph as sg
from symgraph import tensor as T
from symgraph.debug import pydotprint, rewrite_counts, rewrite_stats, to_dot
from symgraph.graph.basic import Apply
from symgraph.tensor.scalar import SCALAR_OPS, Composite

# a rule that fails is skipped with a RewriteWarning: here it is an error
pytestmark = pytest.mark.filterwarnings("error::symgraph.rewrite.engine.RewriteWarning")

RNG = np.random.default_rng(0)
A, B = RNG.uniform(0.5, 2, (3, 3)), RNG.uniform(0.5, 2, (3, 3))
NO_INPLACE = sg.Mode("python", excluding=("inplace",))
NO_FUSION = sg.Mode("python", excluding=("fusion",))


def composites(fn):
    return [n for n in fn.fgraph.toposort() if isinstance(n.op, T.Elemwise) and isinstance(n.op.scalar_op, Composite)]


def same(fn, inputs, outputs, *values):
    ref = sg.function(inputs, outputs, mode="python_unopt", on_unused_input="ignore")(*values)
    got = fn(*values)
    for g, r in zip(got if isinstance(got, list) else [got], ref if isinstance(ref, list) else [ref]):
        np.testing.assert_allclose(g, r, rtol=1e-12)


# ------------------------------------------------------------------ fusion
def test_fusion_makes_one_loop_of_a_chain():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    out = T.tanh(T.exp(x) * y + 1)
    fn = sg.function([x, y], out, mode=NO_INPLACE)
    (node,) = fn.fgraph.toposort()
    assert [op.name for op, _, _ in node.op.scalar_op.nodes] == ["exp", "mul", "add", "tanh"]
    same(fn, [x, y], out, A, B)


def test_fusion_gives_several_outputs_when_values_are_read_outside():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    a = T.exp(x)
    outs = [a * 2, a + y, a.sum()]
    fn = sg.function([x, y], outs, mode=NO_INPLACE)
    (node,) = composites(fn)
    assert len(node.outputs) == 3  # a (read by the sum), a * 2, a + y
    same(fn, [x, y], outs, A, B)


def test_fusion_keeps_broadcast_shapes_apart():
    x = T.dmatrix("x")
    v = T.exp(x.sum(axis=1))  # a vector: another loop than the matrix ops
    out = T.sin(x) * v.dimshuffle(0, "x") + T.cos(v).dimshuffle(0, "x")
    fn = sg.function([x], out, mode=NO_INPLACE)
    shapes = {n.outputs[0].broadcastable for n in fn.fgraph.toposort() if isinstance(n.op, T.Elemwise)}
    assert shapes == {(False,), (False, False)}
    assert len(composites(fn)) == 2
    same(fn, [x], out, A)


def test_fusion_never_makes_a_cycle():
    x, w = T.dmatrix("x"), T.dmatrix("w")
    a = T.exp(x)
    out = (a + T.dot(a, w)) * 2  # a -> dot -> add: a and add cannot share a loop
    fn = sg.function([x, w], out, mode=NO_INPLACE)
    assert nx.is_directed_acyclic_graph(fn.fgraph.graph)
    for node in composites(fn):
        assert not ({"exp", "add"} <= {op.name for op, _, _ in node.op.scalar_op.nodes})
    same(fn, [x, w], out, A, B)


def test_fusion_can_be_turned_off():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    fn = sg.function([x, y], T.exp(x) * y + 1, mode=NO_FUSION)
    assert not composites(fn)


# ------------------------------------------------------------------ inplace
def _inplace(fn):
    return {n.op.scalar_op.name: n.op.inplace for n in fn.fgraph.toposort()
            if isinstance(n.op, T.Elemwise) and n.op.inplace}


def test_inplace_takes_a_buffer_nobody_reads_later():
    x = T.dmatrix("x")
    a = T.exp(x)
    out = a + a.sum()  # the sum reads a before the add, which may overwrite it
    fn = sg.function([x], out, mode=NO_FUSION)
    assert _inplace(fn) == {"add": ((0, 0),)}
    same(fn, [x], out, A)


@pytest.mark.parametrize("build", [
    lambda x, s: [x + 1],                       # a function input
    lambda x, s: [s * 2],                       # a shared value
    lambda x, s: [T.exp(x) + T.exp(x).T],       # read through a view (a transpose) by the same node
    lambda x, s: [T.exp(x), T.exp(x) + 1],      # an output of the function
    lambda x, s: [T.exp(x) + 1, T.exp(x) * 2],  # read by another node that may run later
], ids=["input", "shared", "view", "output", "later-reader"])
def test_inplace_leaves_buffers_that_are_still_needed(build):
    x = T.dmatrix("x")
    s = sg.shared(B.copy(), "s")
    outs = build(x, s)
    fn = sg.function([x], outs, mode=NO_FUSION, on_unused_input="ignore")
    assert not _inplace(fn)
    same(fn, [x], outs, A)
    np.testing.assert_array_equal(s.get_value(), B)


def test_inplace_update_leaves_the_shared_value_to_the_function():
    s = sg.shared(B.copy(), "s")
    x = T.dmatrix("x")
    fn = sg.function([x], T.sum(s), updates=[(s, T.exp(s * 2) - x)], mode="python")
    held = s.get_value(borrow=True)
    fn(A)
    np.testing.assert_array_equal(held, B)  # the old value was not overwritten
    np.testing.assert_allclose(s.get_value(), np.exp(B * 2) - A)


def test_python_perform_writes_into_the_input_buffer():
    op = T.Elemwise(SCALAR_OPS["add"], inplace=((0, 1),))
    x, y = T.dmatrix("x"), T.dmatrix("y")
    node = op.make_node(x, y)
    a, b = A.copy(), B.copy()
    (out,) = op.perform(node, [a, b])
    assert out is b
    np.testing.assert_allclose(b, A + B)
    np.testing.assert_array_equal(a, A)
    assert op != T.Elemwise(SCALAR_OPS["add"]) and "[out0->in1]" in str(op)


# ---------------------------------------------------------------- dead code
def test_no_dead_node_is_left_in_the_graph():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    cost = -T.mean(T.sum(y * T.log(T.nnet.softmax(x)), axis=1))
    fn = sg.function([x, y], [cost, sg.grad(cost, x)], mode="python")
    live = set(fn.fgraph.toposort())
    assert {n for n in fn.fgraph.graph if isinstance(n, Apply)} == live
    assert not any(type(n.op).__name__ in ("Softmax", "LogSoftmax") and not fn.fgraph.client_nodes(n.outputs[0])
                   for n in live)


# ------------------------------------------------------------ debug helpers
@pytest.fixture
def fused_fn():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    return sg.function([x, y], T.exp(x) * y + 1 * x, mode="python")


def test_rewrite_stats_shows_phases_and_rules(fused_fn, capsys):
    text = rewrite_stats(fused_fn)
    assert "fusion" in text and "mul_by_one" in text and text in capsys.readouterr().out
    counts = rewrite_counts(fused_fn)
    assert counts["mul_by_one"] == 1 and counts["elemwise_fusion"] == 1
    z = T.dmatrix("z")
    unopt = sg.function([z], z * 1, mode="python_unopt")
    assert "no phase ran" in rewrite_stats(unopt, file=open("/dev/null", "w"))


def test_debugprint_shows_the_optimized_graph(fused_fn):
    text = sg.debugprint(fused_fn, file=open("/dev/null", "w"))
    assert "composite{exp,mul,add}" in text


def test_drawing_to_dot_and_png(fused_fn, tmp_path):
    dot = to_dot(fused_fn)
    assert dot.startswith("digraph") and "Fused" in dot and "exp, mul, add" in dot
    x, y = T.dmatrix("x"), T.dmatrix("y")
    user = to_dot(T.exp(x) * y + 1)
    assert "Fused" not in user and user.count("Elemwise") == 3
    path = pydotprint(fused_fn, tmp_path / "graph.dot")
    assert open(path).read() == dot
    png = pydotprint(fused_fn, tmp_path / "graph.png")
    with open(png, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
