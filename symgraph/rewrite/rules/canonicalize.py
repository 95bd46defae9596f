"""Canonicalize: one spelling for each computation, so that later rules
and merging see through the ways the same thing can be written."""
import numpy as np

from ...grad import GradientBlock
from ...graph.basic import Constant
from ...graph.type import TensorType
from ...tensor import basic as tb
from ...tensor.basic import SpecifyShape, as_tensor, cast, constant
from ...tensor.blas import Dot
from ...tensor.elemwise import DimShuffle, Elemwise
from ...tensor.nnet.basic import LogSoftmax, Softmax
from ...tensor.reduce import Reduce
from ...tensor.shape import MakeVector, Reshape, Shape, _static_lengths, shape
from ...tensor.subtensor import Subtensor
from ..engine import rule
from ..patterns import const_value, elem, fit, is_const, is_float, made_by


def _without(node, drop):
    """The node's op applied to its inputs but those in ``drop`` (indices),
    or the single remaining input."""
    keep = [v for i, v in enumerate(node.inputs) if i not in drop]
    if not keep:
        return None
    return keep[0] if len(keep) == 1 else Elemwise(node.op.scalar_op)(*keep)


def _neutral(node, value):
    return {i for i, v in enumerate(node.inputs) if is_const(v, value) and all(s == 1 for s in v.type.shape)}


@rule("canonicalize", "mul")
def mul_by_one(fg, node):
    """x * 1 -> x;  mul(x) -> x"""
    drop = _neutral(node, 1)
    if len(node.inputs) == 1:
        return fit(node.inputs[0], node)
    return fit(_without(node, drop), node) if drop else None


@rule("canonicalize", "add")
def add_zero(fg, node):
    """x + 0 -> x;  add(x) -> x"""
    drop = _neutral(node, 0)
    if len(node.inputs) == 1:
        return fit(node.inputs[0], node)
    return fit(_without(node, drop), node) if drop else None


@rule("canonicalize", "sub")
def sub_zero(fg, node):
    """x - 0 -> x;  0 - x -> -x"""
    a, b = node.inputs
    if _neutral(node, 0) == {1}:
        return fit(a, node)
    if _neutral(node, 0) == {0}:
        return fit(tb.neg(b), node)
    return None


@rule("canonicalize", "sub")
def sub_self(fg, node):
    """x - x -> zeros like x (x finite)"""
    a, b = node.inputs
    return fit(tb.zeros_like(a), node) if a is b else None


@rule("canonicalize", "neg")
def double_neg(fg, node):
    """-(-x) -> x"""
    inner = elem(node.inputs[0], "neg")
    return fit(inner.inputs[0], node) if inner else None


@rule("canonicalize", "neg")
def neg_of_sub(fg, node):
    """-(a - b) -> b - a"""
    inner = elem(node.inputs[0], "sub")
    return fit(tb.sub(inner.inputs[1], inner.inputs[0]), node) if inner else None


@rule("canonicalize", "add")
def neg_into_sub(fg, node):
    """a + (-b) -> a - b"""
    for i, v in enumerate(node.inputs):
        neg = elem(v, "neg")
        if neg is not None and len(node.inputs) > 1:
            return fit(tb.sub(_without(node, {i}), neg.inputs[0]), node)
    return None


@rule("canonicalize", "sub")
def sub_neg(fg, node):
    """a - (-b) -> a + b"""
    neg = elem(node.inputs[1], "neg")
    return fit(tb.add(node.inputs[0], neg.inputs[0]), node) if neg else None


@rule("canonicalize", "mul")
def neg_out_of_mul(fg, node):
    """(-a) * b -> -(a * b)"""
    for i, v in enumerate(node.inputs):
        neg = elem(v, "neg")
        if neg is not None:
            inputs = list(node.inputs)
            inputs[i] = neg.inputs[0]
            return fit(tb.neg(Elemwise(node.op.scalar_op)(*inputs)), node)
    return None


@rule("canonicalize", "true_div")
def div_by_constant(fg, node):
    """x / c -> x * (1/c) for a float constant c"""
    x, c = node.inputs
    if not isinstance(c, Constant) or not is_float(node.outputs[0]) or x.dtype != node.outputs[0].dtype:
        return None
    data = c.data.astype("float64")
    with np.errstate(all="ignore"):
        inverse = (1 / data).astype(x.dtype)
    if data.size == 0 or not np.all(np.isfinite(data)) or not np.all(np.isfinite(inverse)):
        return None
    return fit(tb.mul(x, Constant(TensorType(x.dtype, c.type.shape), inverse)), node)


def _flatten(fg, node):
    name = node.op.scalar_op.name
    for i, v in enumerate(node.inputs):
        inner = elem(v, name)
        if inner is not None and fg.n_readers(v) == 1 and v.dtype == node.outputs[0].dtype:
            inputs = node.inputs[:i] + inner.inputs + node.inputs[i + 1:]
            return fit(Elemwise(node.op.scalar_op)(*inputs), node)
    return None


@rule("canonicalize", "mul", "add")
def flatten_mul_add(fg, node):
    """(a * b) * c -> mul(a, b, c), the same for +, when (a * b) has no
    other reader"""
    return _flatten(fg, node)


@rule("canonicalize", "mul", "add")
def combine_constants(fg, node):
    """2 * x * 3 -> x * 6 (one-element constants of a sum or product)"""
    consts = [i for i, v in enumerate(node.inputs) if const_value(v) is not None and all(s == 1 for s in v.type.shape)]
    if len(consts) < 2:
        return None
    values = [np.asarray(const_value(node.inputs[i]), dtype=node.outputs[0].dtype) for i in consts]
    total = values[0]
    for v in values[1:]:
        total = total * v if node.op.scalar_op.name == "mul" else total + v
    rest = [v for i, v in enumerate(node.inputs) if i not in consts]
    combined = constant(total.item(), dtype=node.outputs[0].dtype)
    return fit(Elemwise(node.op.scalar_op)(*rest, combined), node)


@rule("canonicalize", DimShuffle)
def dimshuffle_of_dimshuffle(fg, node):
    """x.dimshuffle(p).dimshuffle(q) -> x.dimshuffle(p[q]); identity -> x"""
    x = node.inputs[0]
    order = node.op.new_order
    inner = made_by(x, DimShuffle)
    if inner is not None:
        order = tuple("x" if d == "x" else inner.op.new_order[d] for d in order)
        x = inner.inputs[0]
    if order == tuple(range(x.ndim)):
        return fit(x, node)
    if inner is None:
        return None
    return fit(DimShuffle(x.ndim, order)(x), node)


@rule("canonicalize", Reshape)
def reshape_of_reshape(fg, node):
    """reshape(reshape(x, s1), s2) -> reshape(x, s2); reshape(x, shape(x)) -> x"""
    x, new_shape = node.inputs
    if made_by(new_shape, Shape) is not None and new_shape.owner.inputs[0] is x:
        return fit(x, node)
    lengths = _static_lengths(new_shape, node.op.ndim)
    if None not in x.type.shape and list(x.type.shape) == lengths:
        return fit(x, node)
    inner = made_by(x, Reshape)
    if inner is None:
        return None
    return fit(Reshape(node.op.ndim)(inner.inputs[0], new_shape), node)


@rule("canonicalize", Reduce)
def sum_of_sum(fg, node):
    """sum(sum(x, a), b) -> sum(x, a + b), when the inner sum has no other
    reader"""
    inner = made_by(node.inputs[0], Reduce)
    if (inner is None or node.op.kind != "sum" or inner.op.kind != "sum" or node.op.dtype or inner.op.dtype
            or fg.n_readers(node.inputs[0]) != 1):
        return None
    x = inner.inputs[0]
    kept = [d for d in range(x.ndim) if d not in inner.op.axes]
    axes = sorted(set(inner.op.axes) | {kept[a] for a in node.op.axes})
    return fit(Reduce("sum", axes)(x), node)


@rule("canonicalize", "second")
def fill_useless(fg, node):
    """second(a, b) -> b, when b already has the result's shape"""
    a, b = node.inputs
    if b.broadcastable == node.outputs[0].broadcastable:
        return fit(b, node)
    return None


@rule("canonicalize", "second")
def fill_shape_source(fg, node):
    """second(f(x, y), b) -> second(x, b), when x has f(x, y)'s shape (only
    the shape of second's first input matters)"""
    a, b = node.inputs
    producer = elem(a)
    if producer is None:
        return None
    for x in producer.inputs:
        if x.broadcastable == a.broadcastable:
            return fit(tb.second(x, b), node)
    return None


@rule("canonicalize", GradientBlock)
def remove_gradient_block(fg, node):
    """disconnected_grad(x), zero_grad(x) -> x (they only matter to grad)"""
    return fit(node.inputs[0], node)


@rule("canonicalize", SpecifyShape)
def specify_shape_known(fg, node):
    """specify_shape(x, s) -> x, when x's type already has the shape s"""
    x = node.inputs[0]
    return fit(x, node) if x.type == node.outputs[0].type else None


def _dot_shape(node, shapes):
    (a, b), (sa, sb) = node.inputs, shapes
    return [tuple(sa[:-1]) + tuple(sb[1:])] if a.ndim <= 2 and b.ndim <= 2 else None


def _reshape_shape(node, shapes):
    """The lengths given to reshape, where none can be -1."""
    vector = made_by(node.inputs[1], MakeVector)
    if vector is None:
        return None
    lengths = []
    for v in vector.inputs:
        known = const_value(v)
        from_shape = made_by(v, Subtensor) and made_by(v.owner.inputs[0], Shape)
        lengths.append(known if known is not None and known >= 0 else v if from_shape else None)
    return [tuple(lengths)]


# Ops whose output shape is known here, for ops without an infer_shape.
SHAPE_OF = {Dot: _dot_shape, Reshape: _reshape_shape,
            Softmax: lambda node, shapes: [shapes[0]], LogSoftmax: lambda node, shapes: [shapes[0]]}


class _Lengths:
    """A variable's shape as infer_shape reads it: static lengths as ints,
    the others as shape(x)[d], built only when read."""

    def __init__(self, var):
        self.var, self.vector, self.built = var, None, {}

    def __len__(self):
        return self.var.ndim

    def __iter__(self):
        return (self[d] for d in range(self.var.ndim))

    def __getitem__(self, d):
        if isinstance(d, slice):
            return tuple(self[i] for i in range(*d.indices(self.var.ndim)))
        d = d % self.var.ndim
        if self.var.type.shape[d] is not None:
            return self.var.type.shape[d]
        if d not in self.built:
            self.vector = shape(self.var) if self.vector is None else self.vector
            self.built[d] = self.vector[d]
        return self.built[d]


def _inferred_length(var, dim):
    """The length of ``var`` along ``dim`` as an int or a graph over its
    node's inputs' shapes (the op's infer_shape), else None."""
    if var.type.shape[dim] is not None:
        return var.type.shape[dim]
    node = var.owner
    infer = None if node is None else getattr(node.op, "infer_shape", None) or SHAPE_OF.get(type(node.op))
    if infer is None:
        return None
    try:
        shapes = infer(node, [_Lengths(x) for x in node.inputs])
    except Exception:  # noqa: BLE001  (an op that cannot say: keep shape(x))
        return None
    return shapes[var.index][dim] if shapes is not None else None


@rule("canonicalize", Subtensor)
def shape_of_result(fg, node):
    """shape(f(x))[i] -> shape(x)[j] (or a constant), from f's infer_shape:
    the length no longer waits for f to run"""
    source, *index = node.inputs
    shape_node = made_by(source, Shape)
    if shape_node is None or node.op.template != ("i",) or const_value(index[0]) is None:
        return None
    var = shape_node.inputs[0]
    if var.owner is None or var.ndim == 0:
        return None
    length = _inferred_length(var, int(const_value(index[0])) % var.ndim)
    if length is None:
        return None
    length = as_tensor(length) if hasattr(length, "owner") else constant(int(length), dtype="int64")
    again = made_by(length, Subtensor)
    if length.ndim != 0 or (again is not None and made_by(again.inputs[0], Shape) is not None
                            and again.inputs[0].owner.inputs[0] is var):
        return None
    return fit(cast(length, "int64"), node)
