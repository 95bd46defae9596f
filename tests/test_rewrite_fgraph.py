"""FunctionGraph: the networkx mirror, replacement (type checks, cycles,
pruning, merging) and the clone that leaves the user's graph alone."""
import networkx as nx
import numpy as np
import pytest

import symgraph as sg
from symgraph import tensor as T
from symgraph.errors import GraphTypeError
from symgraph.graph.basic import Apply
from symgraph.rewrite import FunctionGraph

# a rule that fails is skipped with a RewriteWarning: here it is an error
pytestmark = pytest.mark.filterwarnings("error::symgraph.rewrite.engine.RewriteWarning")


def elem_nodes(fg, name):
    return [n for n in fg.toposort() if isinstance(n.op, T.Elemwise) and n.op.scalar_op.name == name]


def test_networkx_mirror_has_one_edge_per_input_slot():
    x = T.dmatrix("x")
    fg = FunctionGraph([x], [x * x + T.exp(x)])
    mul = next(n for n in fg.toposort() if n.op.scalar_op.name == "mul")
    assert sorted(k for _, n, k in fg.graph.out_edges(x, keys=True) if n is mul) == [0, 1]
    assert sorted(slot for node, slot in fg.clients(x) if node is mul) == [0, 1]
    assert list(fg.graph.successors(mul)) == mul.outputs
    assert nx.is_directed_acyclic_graph(fg.graph)
    order = fg.toposort()
    apply_nodes = [n for n in nx.topological_sort(fg.graph) if isinstance(n, Apply)]
    assert set(order) == set(apply_nodes)
    position = {n: i for i, n in enumerate(order)}
    assert all(position[v.owner] < position[n] for n in order for v in n.inputs if v.owner is not None)


def test_replace_checks_types():
    x, y = T.dmatrix("x"), T.fmatrix("y")
    r = T.drow("r")
    out = T.exp(x)
    fg = FunctionGraph([x, y, r], [out * 2])
    (exp_out,) = [n.outputs[0] for n in elem_nodes(fg, "exp")]
    with pytest.raises(GraphTypeError, match="cannot replace"):
        fg.replace(exp_out, T.exp(y), reason="test")
    fg.replace(exp_out, T.exp(r) * 1.0, reason="test")  # broadcastable where it was not: allowed
    fg2 = FunctionGraph([x, r], [T.exp(r) * x])
    (exp_r,) = [n.outputs[0] for n in elem_nodes(fg2, "exp")]
    with pytest.raises(GraphTypeError):
        fg2.replace(exp_r, T.exp(x), reason="test")  # readers rely on exp(r) stretching


def test_replace_refuses_cycles_and_foreign_inputs():
    x = T.dmatrix("x")
    fg = FunctionGraph([x], [T.exp(x) + 1])
    exp_node, add_node = fg.toposort()[0], fg.toposort()[-1]
    with pytest.raises(ValueError, match="cycle"):
        fg.replace(exp_node.outputs[0], add_node.outputs[0] * 2, reason="test")
    with pytest.raises(ValueError, match="input that this graph does not have"):
        fg.replace(exp_node.outputs[0], T.exp(T.dmatrix("other")), reason="test")
    assert nx.is_directed_acyclic_graph(fg.graph)


def test_replace_prunes_what_nobody_reads():
    x = T.dmatrix("x")
    fg = FunctionGraph([x], [T.exp(T.sin(x)) * x])
    (sin_node,), (exp_node,) = elem_nodes(fg, "sin"), elem_nodes(fg, "exp")
    fg.replace(exp_node.outputs[0], T.cos(x), reason="test")
    assert sin_node not in fg and exp_node not in fg and exp_node.outputs[0] not in fg
    assert [n.op.scalar_op.name for n in fg.toposort()] == ["cos", "mul"]
    assert all(n in fg.toposort() for n in fg.graph if isinstance(n, Apply))


def test_merging_identical_nodes_as_they_appear():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    fg = FunctionGraph([x, y], [T.exp(x) + T.exp(x), T.sin(x) * T.sin(y)])
    assert fg.merge_all() == 1
    names = [n.op.scalar_op.name for n in fg.toposort()]
    assert names.count("exp") == 1
    sin_y = next(n for n in fg.toposort() if n.op.scalar_op.name == "sin" and n.inputs[0] is y)
    fg.replace(sin_y.outputs[0], T.sin(x), reason="test")
    assert [n.op.scalar_op.name for n in fg.toposort()].count("sin") == 1  # sin(x) reused
    before = len(fg.toposort())
    exp_out = next(n for n in fg.toposort() if n.op.scalar_op.name == "exp").outputs[0]
    assert fg.replace(exp_out, T.exp(x), reason="test") is False  # the same node again: nothing to do
    assert len(fg.toposort()) == before


def test_optimizing_leaves_the_users_graph_alone():
    x = T.dmatrix("x")
    out = T.log(T.nnet.softmax(x)) * 1
    node = out.owner
    fn = sg.function([x], out, mode="python")
    assert out.owner is node and node.op.scalar_op.name == "mul"
    assert node.inputs[0].owner.op.scalar_op.name == "log"
    assert any(type(n.op).__name__ == "LogSoftmax" for n in fn.fgraph.toposort())
    v = np.random.default_rng(0).standard_normal((2, 3))
    np.testing.assert_allclose(fn(v), sg.function([x], out, mode="python_unopt")(v))


def test_dead_code_sweep_keeps_exactly_what_the_outputs_need():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    a = T.exp(x)
    fg = FunctionGraph([x, y], [a * 2])
    junk = T.sin(fg.inputs[0])  # added to the graph but read by nothing
    fg._import(junk, None)
    sin_node = junk.owner
    assert fg.remove_unreachable() == 1
    assert sin_node not in fg and junk not in fg and y in fg
    assert {n for n in fg.graph if isinstance(n, Apply)} == set(fg.toposort())
    assert all(out in fg for n in fg.toposort() for out in n.outputs)
