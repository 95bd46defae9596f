"""Shape operations: shape, reshape, flatten, dimshuffle, alloc, arange,
concatenate, stack."""
import numpy as np

from ..config import config
from ..errors import ExecutionError
from ..graph.basic import Apply, Constant, Op
from ..graph.type import TensorType, canonical_dtype
from .basic import as_tensor, cast, constant, get_scalar_constant_value
from .elemwise import DimShuffle, sum_to


class Shape(Op):
    """The shape of a tensor, as an int64 vector."""

    def make_node(self, x):
        x = as_tensor(x)
        return Apply(self, [x], [TensorType("int64", (x.ndim,))])

    def perform(self, node, inputs):
        return [np.asarray(inputs[0].shape, dtype="int64")]

    def pullback(self, node, inputs, outputs, output_grads):
        return [None]


def shape(x):
    """``x.shape`` as a symbolic int64 vector (Theano's ``T.shape``)."""
    return Shape()(x)


def shape_of(x):
    """The shape of ``x`` as a list: an int where the length is static,
    else a symbolic scalar."""
    x = as_tensor(x)
    sym = None
    out = []
    for d, s in enumerate(x.type.shape):
        if s is None:
            sym = shape(x) if sym is None else sym
            out.append(sym[d])
        else:
            out.append(s)
    return out


class MakeVector(Op):
    """A vector from scalars."""

    __props__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = canonical_dtype(dtype)

    def make_node(self, *scalars):
        scalars = [as_tensor(s) for s in scalars]
        for i, s in enumerate(scalars):
            if s.ndim != 0:
                raise self.type_error(f"element {i} is not a scalar: {s.type}")
        return Apply(self, scalars, [TensorType(self.dtype, (len(scalars),))])

    def perform(self, node, inputs):
        return [np.array([x.item() for x in inputs], dtype=self.dtype)]

    def pullback(self, node, inputs, outputs, output_grads):
        (gz,) = output_grads
        return [gz[i] if np.dtype(x.dtype).kind == "f" else None for i, x in enumerate(inputs)]


def make_vector(values, dtype=None):
    """A vector from a list of numbers and symbolic scalars."""
    values = list(values)
    tensors = [as_tensor(v) for v in values if not isinstance(v, (int, float, np.number))]
    dtype = dtype or (np.result_type(*[t.dtype for t in tensors], *[v for v in values if isinstance(v, (int, float))]).name
                      if tensors else np.asarray(values).dtype.name)
    return MakeVector(dtype)(*[as_tensor(v) if not isinstance(v, (int, float, np.number)) else constant(v, dtype=dtype)
                               for v in values])


def _static_lengths(shape_var, ndim):
    """The static lengths a shape vector is known to hold (None where not)."""
    if isinstance(shape_var, Constant):
        return [int(v) for v in shape_var.data]
    if shape_var.owner is not None and isinstance(shape_var.owner.op, MakeVector):
        return [get_scalar_constant_value(v) for v in shape_var.owner.inputs]
    return [None] * ndim


class Reshape(Op):
    """``x`` with a new shape (an int vector of length ``ndim``, one entry
    may be -1)."""

    __props__ = ("ndim",)

    def __init__(self, ndim):
        self.ndim = ndim

    def make_node(self, x, new_shape):
        x, new_shape = as_tensor(x), as_tensor(new_shape)
        if new_shape.ndim != 1 or np.dtype(new_shape.dtype).kind not in "iu":
            raise self.type_error(f"the shape must be an int vector, got {new_shape.type}")
        if new_shape.type.shape[0] not in (None, self.ndim):
            raise self.type_error(f"shape of length {new_shape.type.shape[0]} for a rank-{self.ndim} result")
        lengths = _static_lengths(new_shape, self.ndim)
        if lengths.count(-1) > 1:
            raise self.type_error("at most one length may be -1")
        size = np.prod(x.type.shape) if None not in x.type.shape else None
        if -1 in lengths and size is not None and None not in lengths:
            rest = int(np.prod([n for n in lengths if n != -1]))
            lengths[lengths.index(-1)] = size // rest if rest else 0
        lengths = [None if n == -1 else n for n in lengths]
        if size is not None and None not in lengths and np.prod(lengths) != size:
            raise self.type_error(f"cannot reshape {x.type} to {tuple(lengths)}")
        return Apply(self, [x, new_shape], [TensorType(x.dtype, lengths)])

    def perform(self, node, inputs):
        x, new_shape = inputs
        try:
            return [np.reshape(x, tuple(int(n) for n in new_shape))]
        except ValueError as exc:
            raise ExecutionError(f"{self}: cannot reshape an array of shape {x.shape} to {tuple(new_shape)}") from exc

    def pullback(self, node, inputs, outputs, output_grads):
        x = inputs[0]
        return [reshape(output_grads[0], shape_of(x), ndim=x.ndim), None]  # static lengths kept


def reshape(x, new_shape, ndim=None):
    """``x`` reshaped to ``new_shape`` (a tuple of ints and symbolic scalars,
    or a symbolic int vector, in which case give ``ndim`` if its length is
    not static)."""
    x = as_tensor(x)
    if isinstance(new_shape, (int, np.integer)):
        new_shape = (new_shape,)
    if isinstance(new_shape, (list, tuple)):
        ndim = len(new_shape)
        new_shape = make_vector(new_shape, dtype="int64")
    new_shape = cast(as_tensor(new_shape), "int64")
    if ndim is None:
        ndim = new_shape.type.shape[0]
        if ndim is None:
            raise TypeError("reshape: the length of the new shape is not static; pass ndim=")
    return Reshape(ndim)(x, new_shape)


def flatten(x, ndim=1, outdim=None):
    """``x`` with its trailing dimensions merged so that ``ndim`` remain
    (Theano's ``flatten``; ``outdim`` is the old name of ``ndim``)."""
    x = as_tensor(x)
    ndim = outdim if outdim is not None else ndim
    if not 1 <= ndim <= max(x.ndim, 1):
        raise ValueError(f"flatten: ndim={ndim} for a tensor of rank {x.ndim}")
    if ndim == x.ndim:
        return x
    lead = shape_of(x)[: ndim - 1]
    tail = x.type.shape[ndim - 1:]
    return reshape(x, lead + [int(np.prod(tail)) if None not in tail else -1])  # static when known


def dimshuffle(x, pattern):
    """Theano's ``dimshuffle``: reorder dimensions, 'x' inserts a
    broadcastable one; broadcastable dimensions may be left out."""
    x = as_tensor(x)
    pattern = tuple(pattern)
    if pattern == tuple(range(x.ndim)):
        return x
    return DimShuffle(x.ndim, pattern)(x)


def transpose(x, axes=None):
    """``x`` with its axes permuted (reversed by default)."""
    x = as_tensor(x)
    axes = tuple(reversed(range(x.ndim))) if axes is None else tuple(a % x.ndim for a in axes)
    return dimshuffle(x, axes)


def squeeze(x):
    """``x`` without its broadcastable (static length 1) dimensions."""
    x = as_tensor(x)
    return dimshuffle(x, [d for d, b in enumerate(x.broadcastable) if not b])


class Alloc(Op):
    """``value`` broadcast to a shape given by scalars (a fresh array)."""

    def make_node(self, value, *lengths):
        value = as_tensor(value)
        lengths = [cast(as_tensor(n), "int64") for n in lengths]
        if len(lengths) < value.ndim:
            raise self.type_error(f"{len(lengths)} lengths for a value of rank {value.ndim}")
        static = [get_scalar_constant_value(n) for n in lengths]
        return Apply(self, [value, *lengths], [TensorType(value.dtype, static)])

    def perform(self, node, inputs):
        from .subtensor import check_value_broadcast
        value, *lengths = inputs
        shape = tuple(int(n) for n in lengths)
        check_value_broadcast(self, node.inputs[0], value.shape, shape)
        return [np.array(np.broadcast_to(value, shape))]

    def pullback(self, node, inputs, outputs, output_grads):
        value = inputs[0]
        grad = sum_to(output_grads[0], value) if np.dtype(value.dtype).kind == "f" else None
        return [grad] + [None] * (len(inputs) - 1)


def alloc(value, *lengths):
    """``value`` broadcast to shape ``lengths``."""
    return Alloc()(value, *lengths)


def zeros(shape, dtype=None):
    """Zeros of the given shape (ints or symbolic scalars)."""
    shape = [shape] if not isinstance(shape, (list, tuple)) else shape
    return alloc(constant(0, dtype=dtype or config.floatX), *shape)


def ones(shape, dtype=None):
    """Ones of the given shape."""
    shape = [shape] if not isinstance(shape, (list, tuple)) else shape
    return alloc(constant(1, dtype=dtype or config.floatX), *shape)


class ARange(Op):
    """``np.arange(start, stop, step)`` of ``dtype``."""

    __props__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = canonical_dtype(dtype)

    def make_node(self, start, stop, step):
        inputs = [as_tensor(v) for v in (start, stop, step)]
        values = [get_scalar_constant_value(v) for v in inputs]
        length = len(np.arange(*values)) if None not in values else None
        return Apply(self, inputs, [TensorType(self.dtype, (length,))])

    def perform(self, node, inputs):
        return [np.arange(*[v.item() for v in inputs], dtype=self.dtype)]

    def pullback(self, node, inputs, outputs, output_grads):
        return [None, None, None]


def arange(start, stop=None, step=1, dtype=None):
    """Symbolic ``np.arange``; int64 for int bounds."""
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        vals = [v for v in (start, stop, step)]
        floats = any(isinstance(v, float) or (hasattr(v, "dtype") and np.dtype(v.dtype).kind == "f") for v in vals)
        dtype = config.floatX if floats else "int64"
    return ARange(dtype)(start, stop, step)


class Join(Op):
    """Concatenation along ``axis``."""

    __props__ = ("axis",)

    def __init__(self, axis):
        self.axis = axis

    def make_node(self, *tensors):
        tensors = [as_tensor(t) for t in tensors]
        if not tensors:
            raise self.type_error("nothing to join")
        ndim = tensors[0].ndim
        if any(t.ndim != ndim for t in tensors) or not 0 <= self.axis < ndim:
            raise self.type_error(f"cannot join {[t.type for t in tensors]} along axis {self.axis}")
        dtype = np.result_type(*[t.dtype for t in tensors]).name
        shape = []
        for d in range(ndim):
            lengths = [t.type.shape[d] for t in tensors]
            if d == self.axis:
                shape.append(None if None in lengths else sum(lengths))
            else:
                known = {n for n in lengths if n is not None}
                if len(known) > 1:
                    raise self.type_error(f"lengths {lengths} differ at dimension {d}")
                shape.append(known.pop() if known else None)
        return Apply(self, tensors, [TensorType(dtype, shape)])

    def perform(self, node, inputs):
        try:
            return [np.concatenate(inputs, axis=self.axis).astype(node.outputs[0].dtype, copy=False)]
        except ValueError as exc:
            raise ExecutionError(f"{self}: {exc}") from exc

    def pullback(self, node, inputs, outputs, output_grads):
        (gz,) = output_grads
        grads, start = [], 0
        for t in inputs:
            stop = start + shape_of(t)[self.axis]
            index = [slice(None)] * self.axis + [slice(start, stop)]
            grads.append(cast(gz[tuple(index)], t.dtype) if np.dtype(t.dtype).kind == "f" else None)
            start = stop
        return grads


def concatenate(tensors, axis=0):
    """Tensors joined along ``axis``."""
    tensors = [as_tensor(t) for t in tensors]
    return Join(axis % tensors[0].ndim)(*tensors)


def stack(tensors, axis=0):
    """Tensors of the same shape stacked along a new ``axis``."""
    tensors = [as_tensor(t) for t in tensors]
    ndim = tensors[0].ndim
    axis = axis % (ndim + 1)
    pattern = list(range(axis)) + ["x"] + list(range(axis, ndim))
    return concatenate([dimshuffle(t, pattern) for t in tensors], axis=axis)
