"""Constant folding: nodes whose inputs are all constants, and lengths
that the static types already know."""
import numpy as np

from ...graph.basic import Constant
from ...tensor.basic import get_scalar_constant_value
from ...tensor.random import RandomDraw
from ...tensor.shape import Shape
from ...tensor.subtensor import Subtensor
from ..engine import rule

# Folding must not turn a small graph into a large constant (zeros((n, m))
# stays an Alloc); an output may be as large as the inputs, or this size.
MAX_GROWTH = 4096
NOT_FOLDED = (RandomDraw,)


@rule("constant_folding")
def constant_fold(fg, node):
    """op(constants...) -> constant (computed with the op's perform)"""
    if not all(isinstance(v, Constant) for v in node.inputs) or isinstance(node.op, NOT_FOLDED):
        return None
    try:
        values = node.op.perform(node, [v.data for v in node.inputs])
    except Exception:  # noqa: BLE001  (left to fail, with its message, when the function runs)
        return None
    limit = max(MAX_GROWTH, sum(v.data.size for v in node.inputs))
    if any(np.size(v) > limit for v in values):
        return None
    return [Constant(out.type, np.array(v, dtype=out.dtype)) for out, v in zip(node.outputs, values)]


@rule("constant_folding", Shape)
def static_shape(fg, node):
    """shape(x) -> constant, when x's type knows every length"""
    x = node.inputs[0]
    if None in x.type.shape:
        return None
    return Constant(node.outputs[0].type, np.array(x.type.shape, dtype="int64"))


@rule("constant_folding", Subtensor)
def static_length(fg, node):
    """shape(x)[i] -> constant, when x's type knows length i"""
    out = node.outputs[0]
    if out.ndim != 0 or np.dtype(out.dtype).kind not in "iu":
        return None
    value = get_scalar_constant_value(out)
    if value is None:
        return None
    return Constant(out.type, np.array(value, dtype=out.dtype))
