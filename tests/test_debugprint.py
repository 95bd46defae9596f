"""debugprint: op names, dtypes and shapes, indentation that follows the
graph, and repeated subgraphs printed once."""
import io
import re

import numpy as np

import symgraph as sg
from symgraph import tensor as T
from symgraph.graph.traversal import toposort
from symgraph.tensor.shared_randomstreams import RandomStreams

LINE = re.compile(r"^(?P<indent>(  )*)\|?(?P<label>.*?) \[id (?P<id>\d+)\] <(?P<dtype>\w+), \((?P<shape>[^)]*)\)>"
                  r"(?P<rest>.*)$")


def parse(text):
    """The printed tree as (depth, label, id, dtype, shape, rest) rows."""
    rows = []
    for line in text.splitlines():
        m = LINE.match(line)
        assert m, f"unexpected line: {line!r}"
        rows.append((len(m["indent"]) // 2, m["label"], int(m["id"]), m["dtype"], m["shape"], m["rest"]))
    return rows


def check_tree(rows, outputs):
    """Each printed variable's children are its owner's inputs, in order, one
    level deeper; a node already expanded is marked '...' and not expanded
    again. ``outputs`` are the roots, in order."""
    by_id = {}
    for var in outputs:
        for node in toposort([var]):
            for v in node.inputs + node.outputs:
                by_id[v.id] = v
        by_id[var.id] = var
    expanded, pos = set(), 0

    def visit(var, depth):
        nonlocal pos
        d, label, vid, dtype, shape, rest = rows[pos]
        pos += 1
        assert (d, vid) == (depth, var.id), (rows[pos - 1], var)
        assert dtype == var.dtype
        assert shape == ",".join("?" if s is None else str(s) for s in var.type.shape)
        if var.owner is None:
            return
        assert str(var.owner.op).split("{")[0] in label
        if var.owner in expanded:
            assert "..." in rest
            return
        assert "..." not in rest
        expanded.add(var.owner)
        for inp in var.owner.inputs:
            visit(inp, depth + 1)

    for out in outputs:
        visit(out, 0)
    assert pos == len(rows)


def show(obj, **kwargs):
    buffer = io.StringIO()
    text = sg.debugprint(obj, file=buffer, **kwargs)
    assert buffer.getvalue() == text + "\n"
    return text


def test_names_dtypes_and_shapes():
    x = T.tensor("float64", (4, None), name="x")
    w = sg.shared(np.ones((3, 2), dtype="float32"), name="w")
    v = T.tensor("float64", (None, 3), name="v")
    out = T.nnet.sigmoid(T.dot(v, w)).sum(axis=1) + x[:, 0]
    text = show(out)
    for word in ("Dot", "sigmoid", "Sum", "Subtensor", "add", "shared w", "float64", "float32"):
        assert word in text, word
    rows = parse(text)
    assert rows[0][3] == "float64" and rows[0][4] == "4"  # the output: float64 of static length 4
    assert any(r[1] == "x" and r[4] == "4,?" for r in rows)
    check_tree(rows, [out])


def test_indentation_follows_the_tree():
    a, b, c = T.scalar("a"), T.scalar("b"), T.scalar("c")
    out = (a + b) * T.exp(c)
    rows = parse(show(out))
    assert [(r[0], r[1]) for r in rows] == [
        (0, "Elemwise{mul}"), (1, "Elemwise{add}"), (2, "a"), (2, "b"), (1, "Elemwise{exp}"), (2, "c")]
    check_tree(rows, [out])


def test_a_repeated_subgraph_is_printed_once():
    x = T.matrix("x")
    w = sg.shared(np.ones((3, 3), dtype="float32"), name="w")
    h = T.tanh(T.dot(x, w))
    out = (h * 2 + h ** 2).sum() + h.mean()
    text = show(out)
    assert text.count("Dot") == 1 and text.count("shared w") == 1
    tanh_lines = [line for line in text.splitlines() if "tanh" in line]
    assert len(tanh_lines) >= 3 and sum(not line.endswith("...") for line in tanh_lines) == 1
    assert len({re.search(r"\[id \d+\]", line)[0] for line in tanh_lines}) == 1  # one variable
    check_tree(parse(text), [out])


def test_a_list_of_variables_shares_the_seen_set():
    x = T.vector("x")
    e = T.exp(x)
    outs = [e.sum(), e.max()]
    text = show(outs)
    assert text.count("Elemwise{exp}") == 2 and text.count("...") == 1
    check_tree(parse(text), outs)


def test_depth_limits_the_tree():
    x = T.vector("x")
    out = T.exp(T.log(T.sqrt(x)))
    rows = parse(show(out, depth=1))
    assert [r[1] for r in rows] == ["Elemwise{exp}", "Elemwise{log}"]


def test_compiled_function_prints_outputs_and_labelled_updates():
    x = T.matrix("x")
    w = sg.shared(np.ones((3, 2), dtype="float32"), name="w")
    count = sg.shared(np.int64(0), name="count")
    rng = RandomStreams(0)
    out = (T.dot(x, w) * rng.uniform((2,))).sum()
    f = sg.function([x], [out, out * 2], updates=[(w, w - 0.1), (count, count + 1)], mode="python")
    text = show(f)
    rows = parse(text)
    roots = [r for r in rows if r[0] == 0]
    assert len(roots) == 5  # two outputs, two updates, the random state's default update
    assert [r[5].strip() for r in roots] == ["", "", "<- update of w", "<- update of count",
                                            "... <- update of rng_state_0"]
    assert text.count("Dot") == 1 and "RandomDraw" in text and "uint64" in text and "int64" in text
    assert re.search(r"RandomDraw\{[^}]*\}\.1 ", text) and re.search(r"RandomDraw\{[^}]*\}\.0 ", text)
    check_tree(rows, f.fgraph.outputs)


def test_print_type_false_leaves_out_dtypes_and_shapes():
    x = T.dvector("x")
    text = show(T.exp(x) + 1, print_type=False)
    assert "float64" not in text and "<" not in text
    assert [line.strip(" |").split(" [id")[0] for line in text.splitlines()] == [
        "Elemwise{add}", "Elemwise{exp}", "x", "DimShuffle{x}", "const 1."]
