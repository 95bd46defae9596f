"""Small matchers that rules are written with: what op made a variable,
what constant it holds, and how to make a replacement fit the type of the
variable it replaces."""
import numpy as np

from ..graph.basic import Constant
from ..tensor.elemwise import DimShuffle, Elemwise


def elem(var, *names):
    """The Elemwise node that computed ``var`` with one of the scalar ops
    ``names`` (any when none is given), or None."""
    node = var.owner
    if node is None or not isinstance(node.op, Elemwise) or node.op.inplace:
        return None
    if names and node.op.scalar_op.name not in names:
        return None
    return node


def made_by(var, op_class):
    """The node that computed ``var`` if its op is an ``op_class``."""
    node = var.owner
    return node if node is not None and isinstance(node.op, op_class) else None


def const_value(var):
    """The value of a one-element constant (seen through dimshuffles, which
    only add or drop length-1 dimensions there), else None."""
    while var.owner is not None and isinstance(var.owner.op, DimShuffle):
        var = var.owner.inputs[0]
    if isinstance(var, Constant) and var.data.size == 1:
        return var.data.item()
    return None


def is_const(var, value):
    found = const_value(var)
    return found is not None and found == value


def is_float(var):
    return np.dtype(var.dtype).kind == "f"


def broadcast_to_fit(new, inputs, like):
    """``new`` stretched (with ``second``) over the dimensions where the
    node being replaced, of inputs ``inputs`` and output ``like``, is longer
    than ``new`` may be."""
    from ..tensor.basic import second
    if new.ndim < like.ndim:
        new = new.dimshuffle(["x"] * (like.ndim - new.ndim) + list(range(new.ndim)))
    for dim, length in enumerate(like.type.shape):
        if length != 1 and new.type.shape[dim] == 1:
            donor = next((x for x in inputs if x.type.shape[dim] != 1), None)
            if donor is None:
                return None
            new = second(donor, new)
    return new


def fit(new, node, index=0):
    """``new`` made to stand for output ``index`` of ``node``: broadcast to
    its shape and cast to its dtype. None when that is not possible."""
    from ..rewrite.fgraph import compatible_types
    from ..tensor.basic import cast
    like = node.outputs[index]
    if new is None:
        return None
    new = broadcast_to_fit(new, node.inputs, like)
    if new is None:
        return None
    if new.dtype != like.dtype:
        new = cast(new, like.dtype)
    return new if compatible_types(like.type, new.type) else None
