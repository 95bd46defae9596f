"""Fused neural-network ops that the optimizer (and the vocabulary, where it
can see the pattern) puts in place of unstable compositions."""
import numpy as np

from ...graph.basic import Apply, Op
from ...graph.type import TensorType
from ..basic import as_tensor
from ..elemwise import broadcast_static_shapes, check_runtime_broadcast, sum_to


class CrossentropySoftmax(Op):
    """``-sum(y * log(softmax(x)), axis=-1)``, computed from the logits ``x``
    as ``-sum(y * (x - logsumexp(x)))``: finite for any finite ``x``.

    ``y`` is a matrix of target distributions (one-hot rows or
    probabilities) that broadcasts against ``x``. The gradient with respect
    to ``x`` is ``(softmax(x) * sum(y) - y) * g``, i.e. ``softmax(x) - y``
    for one-hot rows: no division by a probability that may underflow.
    """

    def make_node(self, x, y):
        x, y = as_tensor(x), as_tensor(y)
        if np.dtype(x.dtype).kind != "f" or np.dtype(y.dtype).kind != "f":
            raise self.type_error(f"expects float logits and targets, got {x.type} and {y.type}")
        if x.ndim == 0 or x.ndim != y.ndim:
            raise self.type_error(f"logits and targets must have the same rank (>= 1), got {x.type} and {y.type}")
        shape = broadcast_static_shapes(self, [x.type.shape, y.type.shape])
        return Apply(self, [x, y], [TensorType(np.result_type(x.dtype, y.dtype).name, shape[:-1])])

    def perform(self, node, inputs):
        x, y = inputs
        check_runtime_broadcast(node, [x.shape, y.shape])
        shifted = x - x.max(axis=-1, keepdims=True)
        log_sm = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        return [np.asarray(-(y * log_sm).sum(axis=-1), dtype=node.outputs[0].dtype)]

    def pullback(self, node, inputs, outputs, output_grads):
        from ..reduce import sum as tsum
        from .basic import log_softmax, softmax
        x, y = inputs
        g = output_grads[0].dimshuffle(list(range(x.ndim - 1)) + ["x"])
        gx = (softmax(x) * tsum(y, axis=-1, keepdims=True) - y) * g
        gy = -log_softmax(x) * g
        return [sum_to(gx, x), sum_to(gy, y)]

    def infer_shape(self, node, input_shapes):
        (x, y), (sx, sy) = node.inputs, input_shapes
        return [tuple(a if not bx else b for a, b, bx in zip(sx[:-1], sy[:-1], x.broadcastable[:-1]))]


def crossentropy_softmax(x, y):
    """``-sum(y * log(softmax(x)), axis=-1)`` from the logits ``x``."""
    return CrossentropySoftmax()(x, y)


__all__ = ["CrossentropySoftmax", "crossentropy_softmax"]
