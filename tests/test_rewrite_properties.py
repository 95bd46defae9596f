"""Every rewrite keeps a graph's values: random graphs of elementwise,
reduction, shape, dot and softmax/sigmoid ops, optimized (every phase) and
unoptimized, give the same values and the same gradients in mode 'python'."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import symgraph as sg
from symgraph import tensor as T
from symgraph.rewrite import PHASES
from symgraph.testing import TOLERANCE, RandomGraph, arrays, random_graphs

# a rule that fails is skipped with a RewriteWarning: here it is an error
pytestmark = pytest.mark.filterwarnings("error::symgraph.rewrite.engine.RewriteWarning")

OPTIMIZED, REFERENCE = sg.Mode("python"), sg.Mode("python", optimize=False)


def _dot(a, b, shape):
    if a.ndim != 2:
        return a * b
    a, b = a * T.ones(shape, dtype=a.dtype), b * T.ones(shape, dtype=b.dtype)  # values may be (1, n) sums
    return T.dot(a.T, b) + a  # a transposed operand and a bias: Gemm


def _reshape(a, b, shape):
    lengths = [n if n is not None else a.shape[d] for d, n in enumerate(a.type.shape)]
    return a.flatten().reshape(lengths) - b / 3.0


# Steps added to testing.random_graphs: values have the graph's shape or
# length 1 where a reduction kept the dimension; each step broadcasts.
EXTRA = {
    "dot": _dot,
    "reshape": _reshape,
    "log_softmax": lambda a, b, shape: T.log(T.nnet.softmax(a)) * b,
    "log_sigmoid": lambda a, b, shape: T.log(T.nnet.sigmoid(a)) + T.log(1 - T.nnet.sigmoid(b)),
    "canonical": lambda a, b, shape: -(-(a * 1.0)) + (b - b) * 2.0 + a ** 2,
    "fill": lambda a, b, shape: T.second(a, b.sum(axis=0, keepdims=True)) * a,
}


@st.composite
def graphs(draw):
    """(input shapes, steps): a testing.random_graphs recipe with extra
    steps inserted; every step reads earlier values, all of one shape."""
    base = draw(random_graphs(max_inputs=3, max_steps=7, max_dims=3, max_side=4))
    steps = list(base.steps)
    for _ in range(draw(st.integers(0, 3))):
        pos = draw(st.integers(0, len(steps)))
        n_values = len(base.input_shapes) + pos
        args = (draw(st.integers(0, n_values - 1)), draw(st.integers(0, n_values - 1)))
        steps.insert(pos, ("extra", draw(st.sampled_from(sorted(EXTRA))), args))
    return base.input_shapes, steps


def build(input_shapes, steps, inputs):
    """All the values of the graph (inputs first)."""
    values = list(inputs)
    for kind, name, args in steps:
        if kind == "extra":
            values.append(EXTRA[name](values[args[0]], values[args[1]], input_shapes[0]))
        else:
            values.append(RandomGraph(input_shapes, [(kind, name, args)]).build(*values))
    return values


def assert_same(got, want, dtype):
    """Equal within the dtype's tolerance wherever the reference is finite
    (stabilized rewrites may be finite where the naive formula is not)."""
    atol, rtol = TOLERANCE[dtype]
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype
        finite = np.isfinite(w)
        np.testing.assert_allclose(g[finite], w[finite], rtol=rtol, atol=atol)


@st.composite
def cases(draw):
    input_shapes, steps = draw(graphs())
    dtype = draw(st.sampled_from(["float64", "float32"]))
    values = [draw(arrays(shape, dtype)) for shape in input_shapes]
    return input_shapes, steps, dtype, values


@given(cases())
def test_optimized_graph_keeps_values_and_gradients(case):
    input_shapes, steps, dtype, values = case
    inputs = [T.tensor(dtype, (None,) * len(s), name=f"x{i}") for i, s in enumerate(input_shapes)]
    nodes = build(input_shapes, steps, inputs)
    outputs = [nodes[-1], nodes[(len(nodes) + len(inputs)) // 2]]
    projection = np.random.default_rng(0).standard_normal(input_shapes[0]).astype(dtype)
    cost = sum(T.sum(o * projection) for o in outputs if o.dtype == dtype)
    grads = sg.grad(cost, inputs, disconnected_inputs="ignore")
    fn = sg.function(inputs, outputs + grads, mode=OPTIMIZED, on_unused_input="ignore")
    ref = sg.function(inputs, outputs + grads, mode=REFERENCE, on_unused_input="ignore")
    assert_same(fn(*values), ref(*values), dtype)
    assert len(fn.fgraph.toposort()) <= len(ref.fgraph.toposort())


@given(cases())
def test_each_phase_alone_keeps_values(case):
    """Phases also keep values when others are off (each alone after merge)."""
    input_shapes, steps, dtype, values = case
    inputs = [T.tensor(dtype, (None,) * len(s), name=f"x{i}") for i, s in enumerate(input_shapes)]
    out = build(input_shapes, steps, inputs)[-1]
    want = sg.function(inputs, out, mode=REFERENCE, on_unused_input="ignore")(*values)
    for phase in ("constant_folding", "canonicalize", "stabilize", "specialize", "fusion", "inplace"):
        others = [p for p in PHASES if p not in ("merge", phase)]
        fn = sg.function(inputs, out, mode=sg.Mode("python", excluding=tuple(others)), on_unused_input="ignore")
        assert_same([fn(*values)], [want], dtype)


@given(cases())
def test_fusion_and_inplace_keep_the_inputs_intact(case):
    """Inplace nodes never write into an input's buffer."""
    input_shapes, steps, dtype, values = case
    inputs = [T.tensor(dtype, (None,) * len(s), name=f"x{i}") for i, s in enumerate(input_shapes)]
    nodes = build(input_shapes, steps, inputs)
    fn = sg.function(inputs, nodes[len(inputs):], mode=OPTIMIZED, on_unused_input="ignore")
    copies = [v.copy() for v in values]
    results = fn(*values)
    ref = sg.function(inputs, nodes[len(inputs):], mode=REFERENCE, on_unused_input="ignore")(*copies)
    for v, c in zip(values, copies):
        np.testing.assert_array_equal(v, c)
    assert_same(results, ref, dtype)
