"""Elementwise operations with broadcasting, and DimShuffle."""
import numpy as np

from ..errors import ExecutionError
from ..graph.basic import Apply, Op
from ..graph.type import TensorType
from .scalar import ScalarOp


def broadcast_static_shapes(op, shapes):
    """The static output shape of an elementwise op, or a type error naming
    the conflicting dimension."""
    out = []
    for dim, lengths in enumerate(zip(*shapes)):
        known = {s for s in lengths if s is not None and s != 1}
        if len(known) > 1:
            raise op.type_error(
                f"incompatible static shapes {shapes} at dimension {dim}: lengths {sorted(known)}"
            )
        if known:
            out.append(known.pop())
        elif all(s == 1 for s in lengths):
            out.append(1)
        else:
            out.append(None)
    return tuple(out)


class Elemwise(Op):
    """Applies ``scalar_op`` at every element. Inputs of lower rank are
    padded on the left with broadcastable dimensions, as in Theano; a
    dimension broadcasts only where its static length is 1.

    ``inplace``: (output index, input index) pairs; that output is written
    into that input's buffer (set by the inplace rewrite only)."""

    __props__ = ("scalar_op", "inplace")

    def __init__(self, scalar_op: ScalarOp, inplace=()):
        self.scalar_op = scalar_op
        self.inplace = tuple((int(o), int(i)) for o, i in inplace)

    def __str__(self):
        pairs = "".join(f"[out{o}->in{i}]" for o, i in self.inplace)
        return f"Elemwise{{{self.scalar_op.name}}}{pairs}"

    def make_node(self, *inputs):
        from .basic import as_tensor
        inputs = [as_tensor(x) for x in inputs]
        if not self.scalar_op.input_check(len(inputs)):
            raise self.type_error(f"expects {self.scalar_op.nin} inputs, got {len(inputs)}")
        ndim = max(x.ndim for x in inputs)
        inputs = [x if x.ndim == ndim else x.dimshuffle(["x"] * (ndim - x.ndim) + list(range(x.ndim)))
                  for x in inputs]
        shape = broadcast_static_shapes(self, [x.type.shape for x in inputs])
        try:
            dtypes = self.scalar_op.output_dtypes([x.dtype for x in inputs])
        except TypeError as exc:
            raise self.type_error(str(exc)) from None
        return Apply(self, inputs, [TensorType(dtype, shape) for dtype in dtypes])

    def perform(self, node, inputs):
        check_runtime_broadcast(node, [x.shape for x in inputs])
        with np.errstate(all="ignore"):
            out = self.scalar_op.compute(inputs, node.outputs[0].dtype)
        outs = out if self.scalar_op.nout > 1 else [out]
        shape = np.broadcast_shapes(*[x.shape for x in inputs])
        outs = [np.array(np.broadcast_to(np.asarray(o, dtype=v.dtype), shape)) if np.shape(o) != shape
                else np.asarray(o, dtype=v.dtype) for o, v in zip(outs, node.outputs)]
        for o, i in self.inplace:
            np.copyto(inputs[i], outs[o])
            outs[o] = inputs[i]
        return outs

    def pullback(self, node, inputs, outputs, output_grads):
        grads = self.scalar_op.grad(inputs, outputs[0], output_grads[0])
        return [None if g is None or not is_float(x) else sum_to(g, x) for g, x in zip(grads, inputs)]

    def infer_shape(self, node, input_shapes):
        out = []
        for dim in range(node.outputs[0].ndim):
            candidates = [s[dim] for x, s in zip(node.inputs, input_shapes) if not x.broadcastable[dim]]
            out.append(candidates[0] if candidates else 1)
        return [tuple(out)] * len(node.outputs)


def check_runtime_broadcast(node, shapes):
    """Raise if a dimension not marked broadcastable has length 1 at run time
    while the others do not (Theano forbids such implicit broadcasting,
    since its gradient would have the wrong shape)."""
    ndim = len(shapes[0]) if shapes else 0
    for dim in range(ndim):
        lengths = {s[dim] for s in shapes}
        if len(lengths) <= 1:
            continue
        for i, (x, s) in enumerate(zip(node.inputs, shapes)):
            if s[dim] == 1 and not x.broadcastable[dim]:
                raise ExecutionError(
                    f"{node.op}: input {i} has length 1 at dimension {dim} at run time but "
                    f"its type {x.type} does not mark that dimension broadcastable, while "
                    f"other inputs have lengths {sorted(lengths - {1})} there. Mark it with "
                    f"T.addbroadcast(x, {dim}) or x.dimshuffle(...) with 'x'."
                )
        if len(lengths - {1}) > 1:
            raise ExecutionError(f"{node.op}: input shapes {shapes} differ at dimension {dim}")


def is_float(var):
    return np.dtype(var.dtype).kind == "f"


def sum_to(grad, var):
    """``grad`` summed over the dimensions where ``var`` was broadcast, and
    cast to ``var``'s dtype: the gradient with respect to ``var``."""
    from .basic import cast
    from .reduce import sum as tsum
    extra = grad.ndim - var.ndim
    axes = list(range(extra)) + [
        extra + d for d, b in enumerate(var.broadcastable) if b and not grad.broadcastable[extra + d]
    ]
    if axes:
        grad = tsum(grad, axis=axes, keepdims=True)
        if extra:
            grad = grad.dimshuffle(list(range(extra, grad.ndim)))
    return cast(grad, var.dtype) if grad.dtype != var.dtype else grad


class DimShuffle(Op):
    """Reorders dimensions, inserts broadcastable ones ('x') and drops
    broadcastable ones: Theano's ``dimshuffle``."""

    __props__ = ("input_ndim", "new_order")

    def __init__(self, input_ndim, new_order):
        self.input_ndim = input_ndim
        self.new_order = tuple(new_order)
        kept = [d for d in self.new_order if d != "x"]
        if len(set(kept)) != len(kept) or any(not isinstance(d, int) or not 0 <= d < input_ndim for d in kept):
            raise ValueError(f"invalid dimshuffle pattern {new_order} for a tensor of rank {input_ndim}")
        self.dropped = tuple(d for d in range(input_ndim) if d not in kept)

    def __str__(self):
        return f"DimShuffle{{{','.join(map(str, self.new_order))}}}"

    def make_node(self, x):
        from .basic import as_tensor
        x = as_tensor(x)
        if x.ndim != self.input_ndim:
            raise self.type_error(f"expects rank {self.input_ndim}, got {x.type}")
        for d in self.dropped:
            if x.type.shape[d] != 1:
                raise self.type_error(
                    f"cannot drop dimension {d} of {x.type}: only dimensions of static length 1 can be dropped"
                )
        shape = tuple(1 if d == "x" else x.type.shape[d] for d in self.new_order)
        return Apply(self, [x], [TensorType(x.dtype, shape)])

    def perform(self, node, inputs):
        (x,) = inputs
        kept = [d for d in self.new_order if d != "x"]
        y = np.transpose(x, kept + list(self.dropped)).reshape(
            [1 if d == "x" else x.shape[d] for d in self.new_order]
        )
        return [y]

    def pullback(self, node, inputs, outputs, output_grads):
        (gz,) = output_grads
        order = [self.new_order.index(d) if d in self.new_order else "x" for d in range(self.input_ndim)]
        return [gz.dimshuffle(order)]

    def infer_shape(self, node, input_shapes):
        (s,) = input_shapes
        return [tuple(1 if d == "x" else s[d] for d in self.new_order)]
