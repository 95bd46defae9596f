"""Matrix products: dot (vectors and matrices), tensordot-style dot for
higher ranks, outer."""
import numpy as np

from ..errors import ExecutionError
from ..graph.basic import Apply, Op
from ..graph.type import TensorType
from .basic import as_tensor, cast, mul
from .elemwise import sum_to


class Dot(Op):
    """``np.dot`` of two tensors of rank 1 or 2."""

    def make_node(self, a, b):
        a, b = as_tensor(a), as_tensor(b)
        if a.ndim not in (1, 2) or b.ndim not in (1, 2):
            raise self.type_error(f"expects vectors or matrices, got {a.type} and {b.type}")
        ka, kb = a.type.shape[-1], b.type.shape[0]
        if ka is not None and kb is not None and ka != kb:
            raise self.type_error(f"inner dimensions differ: {a.type} . {b.type} ({ka} != {kb})")
        shape = a.type.shape[:-1] + b.type.shape[1:]
        return Apply(self, [a, b], [TensorType(np.result_type(a.dtype, b.dtype).name, shape)])

    def perform(self, node, inputs):
        a, b = inputs
        if a.shape[-1] != b.shape[0]:
            raise ExecutionError(f"Dot: shapes {a.shape} and {b.shape} are not aligned")
        return [np.asarray(np.dot(a, b), dtype=node.outputs[0].dtype)]

    def pullback(self, node, inputs, outputs, output_grads):
        a, b = inputs
        (gz,) = output_grads
        if a.ndim == 1 and b.ndim == 1:
            ga, gb = gz * b, gz * a
        elif a.ndim == 1:
            ga, gb = dot(b, gz), outer(a, gz)
        elif b.ndim == 1:
            ga, gb = outer(gz, b), dot(a.T, gz)
        else:
            ga, gb = dot(gz, b.T), dot(a.T, gz)
        return [_grad_for(ga, a), _grad_for(gb, b)]


def _grad_for(g, x):
    if np.dtype(x.dtype).kind != "f":
        return None
    return cast(g, x.dtype) if g.dtype != x.dtype else g


def dot(a, b):
    """Theano's ``dot``: matrix/vector products; scalars multiply; for rank > 2
    the last axis of ``a`` is contracted with the first of ``b`` (``b`` of
    rank <= 2)."""
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        return mul(a, b)
    if a.ndim <= 2 and b.ndim <= 2:
        return Dot()(a, b)
    if b.ndim <= 2:
        from .shape import reshape, shape_of
        lead = shape_of(a)[:-1]
        flat = reshape(a, [-1, shape_of(a)[-1]])
        out = Dot()(flat, b)
        return reshape(out, lead + shape_of(b)[1:])
    raise TypeError(f"dot of ranks {a.ndim} and {b.ndim} is not supported; reshape to matrices")


def outer(x, y):
    """The outer product of two vectors."""
    x, y = as_tensor(x), as_tensor(y)
    return x.dimshuffle(0, "x") * y.dimshuffle("x", 0)


__all__ = ["Dot", "dot", "outer", "sum_to"]
