"""BLAS-shaped products that the specialize phase puts in place of ``Dot``
nodes: a transposed operand becomes a flag, an added bias joins the call."""
import numpy as np

from ..errors import ExecutionError
from ..graph.basic import Apply, Op
from ..graph.type import TensorType
from .basic import as_tensor, cast
from .elemwise import broadcast_static_shapes, sum_to


class Gemm(Op):
    """``op(a) @ op(b)``, plus ``c`` broadcast over the product when
    ``bias``; ``op`` transposes a matrix whose ``trans_`` flag is set.

    Inputs: matrices ``a``, ``b`` and (with ``bias``) a matrix ``c`` that
    broadcasts to the product's shape (a ``(1, n)`` row of biases, say).
    """

    __props__ = ("trans_a", "trans_b", "bias")

    def __init__(self, trans_a=False, trans_b=False, bias=False):
        self.trans_a, self.trans_b, self.bias = bool(trans_a), bool(trans_b), bool(bias)

    def __str__(self):
        a, b = "aT" if self.trans_a else "a", "bT" if self.trans_b else "b"
        return f"Gemm{{{a}.{b}{'+c' if self.bias else ''}}}"

    def make_node(self, a, b, *c):
        a, b = as_tensor(a), as_tensor(b)
        c = [as_tensor(v) for v in c]
        if len(c) != int(self.bias):
            raise self.type_error(f"expects {2 + int(self.bias)} inputs, got {2 + len(c)}")
        if a.ndim != 2 or b.ndim != 2 or any(v.ndim != 2 for v in c):
            raise self.type_error(f"expects matrices, got {[v.type for v in (a, b, *c)]}")
        sa = a.type.shape[::-1] if self.trans_a else a.type.shape
        sb = b.type.shape[::-1] if self.trans_b else b.type.shape
        if sa[1] is not None and sb[0] is not None and sa[1] != sb[0]:
            raise self.type_error(f"inner dimensions differ: {sa} . {sb}")
        shape = (sa[0], sb[1])
        if c:
            shape = broadcast_static_shapes(self, [shape, c[0].type.shape])
        dtype = np.result_type(*[v.dtype for v in (a, b, *c)]).name
        return Apply(self, [a, b, *c], [TensorType(dtype, shape)])

    def perform(self, node, inputs):
        a, b, *c = inputs
        a = a.T if self.trans_a else a
        b = b.T if self.trans_b else b
        if a.shape[1] != b.shape[0]:
            raise ExecutionError(f"{self}: shapes {a.shape} and {b.shape} are not aligned")
        out = np.dot(a, b)
        if c:
            out = out + c[0]
        return [np.asarray(out, dtype=node.outputs[0].dtype)]

    def pullback(self, node, inputs, outputs, output_grads):
        from .blas import dot
        a, b, *c = inputs
        (g,) = output_grads
        opa = a.T if self.trans_a else a
        opb = b.T if self.trans_b else b
        g_opa, g_opb = dot(g, opb.T), dot(opa.T, g)
        grads = [g_opa.T if self.trans_a else g_opa, g_opb.T if self.trans_b else g_opb]
        grads = [cast(gr, x.dtype) if gr.dtype != x.dtype else gr for gr, x in zip(grads, (a, b))]
        return grads + [sum_to(g, c[0])] if c else grads

    def infer_shape(self, node, input_shapes):
        sa, sb = input_shapes[0], input_shapes[1]
        rows = sa[1] if self.trans_a else sa[0]
        cols = sb[0] if self.trans_b else sb[1]
        if self.bias:
            sc, bc = input_shapes[2], node.inputs[2].broadcastable
            rows, cols = (rows if bc[0] else sc[0]), (cols if bc[1] else sc[1])
        return [(rows, cols)]


def gemm(a, b, c=None, trans_a=False, trans_b=False):
    """``op(a) @ op(b) (+ c)`` as one node."""
    args = (a, b) if c is None else (a, b, c)
    return Gemm(trans_a, trans_b, c is not None)(*args)


__all__ = ["Gemm", "gemm"]
