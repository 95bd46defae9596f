"""Reductions (sum, prod, max, min, all, any), mean, and argmax/argmin."""
import builtins

import numpy as np

from ..graph.basic import Apply, Op
from ..graph.type import TensorType
from .basic import as_tensor, cast, eq, mul, switch, true_div
from .elemwise import is_float

_NUMPY = {"sum": np.sum, "prod": np.prod, "max": np.max, "min": np.min, "all": np.all, "any": np.any}


def normalize_axes(axis, ndim, op_name="reduction"):
    """``axis`` (None, int or sequence, negatives allowed) as a sorted tuple."""
    if axis is None:
        return tuple(range(ndim))
    axes = [axis] if isinstance(axis, (int, np.integer)) else list(axis)
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < ndim:
            raise ValueError(f"{op_name}: axis {a} is out of range for a tensor of rank {ndim}")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{op_name}: repeated axis in {axis}")
    return tuple(sorted(out))


def _accumulator_dtype(kind, dtype):
    k = np.dtype(dtype).kind
    if kind in ("all", "any"):
        return "bool"
    if kind in ("sum", "prod") and k in "bi":
        return "int64"
    if kind in ("sum", "prod") and k == "u":
        return "uint64"
    return dtype


class Reduce(Op):
    """``kind`` ('sum', 'prod', 'max', 'min', 'all', 'any') over ``axes``."""

    __props__ = ("kind", "axes", "dtype")

    def __init__(self, kind, axes, dtype=None):
        self.kind, self.axes, self.dtype = kind, tuple(axes), dtype

    def __str__(self):
        return f"{self.kind.capitalize()}{{axes={list(self.axes)}}}"

    def make_node(self, x):
        x = as_tensor(x)
        if builtins.any(a >= x.ndim for a in self.axes):
            raise self.type_error(f"axes {self.axes} out of range for {x.type}")
        if self.kind in ("max", "min") and builtins.any(x.type.shape[a] == 0 for a in self.axes):
            raise self.type_error(f"{self.kind} of an empty dimension")
        dtype = self.dtype or _accumulator_dtype(self.kind, x.dtype)
        shape = tuple(s for d, s in enumerate(x.type.shape) if d not in self.axes)
        return Apply(self, [x], [TensorType(dtype, shape)])

    def perform(self, node, inputs):
        (x,) = inputs
        out = _NUMPY[self.kind](x, axis=self.axes)
        return [np.asarray(out, dtype=node.outputs[0].dtype)]

    def pullback(self, node, inputs, outputs, output_grads):
        (x,), (out,), (gz,) = inputs, outputs, output_grads
        if not is_float(x):
            return [None]
        pattern = []
        kept = iter(range(out.ndim))
        for d in range(x.ndim):
            pattern.append("x" if d in self.axes else next(kept))
        gz_b = gz.dimshuffle(pattern)
        if self.kind == "sum":
            from .basic import second
            return [cast(second(x, gz_b), x.dtype)]
        if self.kind in ("max", "min"):
            return [cast(switch(eq(x, out.dimshuffle(pattern)), gz_b, 0), x.dtype)]
        if self.kind == "prod":
            # d prod / d x_i is the product of the others: prod / x_i where x_i != 0; at a
            # zero, the product of the non-zeros if it is its group's only zero, else 0
            zero = eq(x, 0)
            safe = switch(zero, 1, x)
            nonzero_prod = Reduce("prod", self.axes)(safe).dimshuffle(pattern)
            single_zero = eq(Reduce("sum", self.axes)(zero).dimshuffle(pattern), 1)
            others = switch(zero, switch(single_zero, nonzero_prod, 0), out.dimshuffle(pattern) / safe)
            return [cast(gz_b * others, x.dtype)]
        return [None]

    def infer_shape(self, node, input_shapes):
        return [tuple(s for d, s in enumerate(input_shapes[0]) if d not in self.axes)]


def _reduce(kind, x, axis, keepdims, dtype=None):
    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim, kind)
    out = Reduce(kind, axes, dtype)(x) if axes or dtype or _accumulator_dtype(kind, x.dtype) != x.dtype else x
    return _keepdims(out, x.ndim, axes) if keepdims else out


def _keepdims(out, ndim, axes):
    kept = iter(range(out.ndim))
    return out.dimshuffle(["x" if d in axes else next(kept) for d in range(ndim)])


def sum(x, axis=None, keepdims=False, dtype=None):
    """Sum over ``axis`` (all axes by default); ints accumulate in int64."""
    return _reduce("sum", x, axis, keepdims, dtype)


def prod(x, axis=None, keepdims=False):
    """Product over ``axis``."""
    return _reduce("prod", x, axis, keepdims)


def max(x, axis=None, keepdims=False):
    """Maximum over ``axis``; its gradient goes to every maximal element."""
    return _reduce("max", x, axis, keepdims)


def min(x, axis=None, keepdims=False):
    """Minimum over ``axis``."""
    return _reduce("min", x, axis, keepdims)


def all(x, axis=None, keepdims=False):
    return _reduce("all", x, axis, keepdims)


def any(x, axis=None, keepdims=False):
    return _reduce("any", x, axis, keepdims)


def mean(x, axis=None, keepdims=False):
    """Mean over ``axis``; float inputs keep their dtype."""
    from .shape import shape
    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim, "mean")
    total = sum(x, axes, keepdims)
    lengths = [x.type.shape[a] for a in axes]
    if builtins.all(n is not None for n in lengths):
        count = int(np.prod(lengths))
    else:
        sizes = shape(x)
        count = mul(*[sizes[a] for a in axes])
    if is_float(total):
        return total / cast(count, total.dtype)
    return true_div(total, count)


def var(x, axis=None, keepdims=False):
    """Variance over ``axis`` (the biased estimator, like NumPy's default)."""
    x = as_tensor(x)
    centered = x - mean(x, axis, keepdims=True)
    return mean(centered * centered, axis, keepdims)


def std(x, axis=None, keepdims=False):
    from .basic import sqrt
    return sqrt(var(x, axis, keepdims))


class Argmax(Op):
    """Index of the maximum (``kind='max'``) or minimum over ``axes``
    (flattened together when several); int64, no gradient."""

    __props__ = ("axes", "kind")

    def __init__(self, axes, kind="max"):
        self.axes, self.kind = tuple(axes), kind

    def make_node(self, x):
        x = as_tensor(x)
        shape = tuple(s for d, s in enumerate(x.type.shape) if d not in self.axes)
        return Apply(self, [x], [TensorType("int64", shape)])

    def perform(self, node, inputs):
        (x,) = inputs
        kept = [d for d in range(x.ndim) if d not in self.axes]
        moved = np.transpose(x, kept + list(self.axes))
        flat = moved.reshape(moved.shape[: len(kept)] + (-1,))
        fn = np.argmax if self.kind == "max" else np.argmin
        return [np.asarray(fn(flat, axis=-1), dtype="int64")]

    def pullback(self, node, inputs, outputs, output_grads):
        return [None]


def argmax(x, axis=None, keepdims=False):
    """Index of the maximum along ``axis``."""
    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim, "argmax")
    out = Argmax(axes)(x)
    return _keepdims(out, x.ndim, axes) if keepdims else out


def argmin(x, axis=None, keepdims=False):
    """Index of the minimum along ``axis``."""
    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim, "argmin")
    out = Argmax(axes, "min")(x)
    return _keepdims(out, x.ndim, axes) if keepdims else out
