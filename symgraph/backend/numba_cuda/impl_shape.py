"""Shapes, views (dimshuffle, reshape, subtensor: no kernel) and copies
(inc_subtensor, alloc, join)."""
import numpy as np

from ...grad import GradientBlock
from ...tensor.basic import SpecifyShape
from ...tensor.elemwise import DimShuffle
from ...tensor.shape import ARange, Alloc, Join, MakeVector, Reshape, Shape
from ...tensor.subtensor import IncSubtensor, Subtensor
from .impl import NodeImpl, assign_spec, check_broadcast, register
from .runtime import DArray, size_of


def _index_view(x, template_, idx):
    """The view of ``x`` that basic indexing ``template_`` with the index
    values ``idx`` selects (numpy's rules), or an IndexError."""
    it = iter(int(v) for v in idx)
    shape, strides, offset = [], [], x.offset
    for d, t in enumerate(template_):
        n, s = x.shape[d], x.strides[d]
        if t == "i":
            i = next(it)
            if not -n <= i < n:
                raise IndexError(f"index {i} is out of bounds for axis {d} with size {n}")
            offset += (i % n) * s
        else:
            parts = [next(it) if has else None for has in t[1:]]
            if parts[2] == 0:
                raise ValueError("slice step cannot be zero")
            start, _, step = slice(*parts).indices(n)
            length = len(range(*slice(*parts).indices(n)))
            offset += start * s if length else 0
            shape.append(length)
            strides.append(s * step)
    rest = len(template_)
    return x.view(tuple(shape) + x.shape[rest:], tuple(strides) + x.strides[rest:], offset)


@register(DimShuffle)
class DimShuffleImpl(NodeImpl):
    """A view: permuted strides, 'x' adds a dimension of stride 0."""

    view = True

    def __call__(self, x):
        for d in self.op.dropped:
            if x.shape[d] != 1:
                raise self.fail(f"cannot drop dimension {d} of length {x.shape[d]} (shape {x.shape})")
        shape = [1 if d == "x" else x.shape[d] for d in self.op.new_order]
        strides = [0 if d == "x" else x.strides[d] for d in self.op.new_order]
        return [x.view(shape, strides, x.offset)]


@register(SpecifyShape, GradientBlock)
class IdentityImpl(NodeImpl):
    """The value itself (SpecifyShape checks the shape first)."""

    view = True

    def __call__(self, x):
        if isinstance(self.op, SpecifyShape) and not self.node.outputs[0].type.accepts_shape(x.shape):
            raise self.fail(f"expected shape {self.op.shape}, got {x.shape}")
        return [x]


@register(Reshape)
class ReshapeImpl(NodeImpl):
    """A view of the contiguous value (copied first when it is not)."""

    view = True
    host_inputs = (1,)

    def __call__(self, x, new_shape):
        shape = [int(n) for n in new_shape]
        if shape.count(-1) == 1:
            rest = size_of([n for n in shape if n != -1])
            shape[shape.index(-1)] = x.size // rest if rest and x.size % rest == 0 else -2
        if any(n < 0 for n in shape) or size_of(shape) != x.size:
            raise self.fail(f"cannot reshape an array of shape {x.shape} to {tuple(int(n) for n in new_shape)}")
        x = self.rt.contiguous(x, (self.key, 0), self.fresh[0])
        return [DArray(x.buf, shape, None, x.offset)]


@register(Subtensor)
class SubtensorImpl(NodeImpl):
    """A view: ints drop a dimension, slices change offset and strides."""

    view = True
    host_inputs = property(lambda self: tuple(range(1, len(self.node.inputs))))

    def __call__(self, x, *idx):
        try:
            return [_index_view(x, self.op.template, idx)]
        except (IndexError, ValueError) as exc:
            raise self.fail(f"{exc} (array shape {x.shape})") from None


@register(IncSubtensor)
class IncSubtensorImpl(NodeImpl):
    """A copy of x, then the region set to (or incremented by) y."""

    host_inputs = property(lambda self: tuple(range(2, len(self.node.inputs))))

    def specs(self):
        x, y = self.node.inputs[:2]
        return [assign_spec(x.dtype, x.dtype), assign_spec(x.dtype, y.dtype)]

    def __call__(self, x, y, *idx):
        out = self.empty(0, x.shape)
        self.rt.assign(out, x)
        try:
            region = _index_view(out, self.op.template, idx)
        except (IndexError, ValueError) as exc:
            raise self.fail(f"{exc} (x shape {x.shape})") from None
        check_broadcast(self, y.shape, region.shape)
        self.rt.assign(region, y, accumulate=not self.op.set_instead_of_inc)
        return [out]


@register(Alloc)
class AllocImpl(NodeImpl):
    """The value broadcast into a new array."""

    host_inputs = property(lambda self: tuple(range(1, len(self.node.inputs))))

    def specs(self):
        return [assign_spec(self.out_dtypes[0], self.node.inputs[0].dtype)]

    def __call__(self, value, *lengths):
        shape = tuple(int(n) for n in lengths)
        check_broadcast(self, value.shape, shape)
        out = self.empty(0, shape)
        self.rt.assign(out, value)
        return [out]


@register(Join)
class JoinImpl(NodeImpl):
    """Each input copied into its slice of a new array."""

    def specs(self):
        return [assign_spec(self.out_dtypes[0], v.dtype) for v in self.node.inputs]

    def __call__(self, *xs):
        axis = self.op.axis
        first = xs[0].shape
        for x in xs:
            if x.ndim != len(first) or any(a != b for d, (a, b) in enumerate(zip(x.shape, first)) if d != axis):
                raise self.fail(f"all the input array dimensions except for the concatenation axis must match "
                                f"exactly, got shapes {[x.shape for x in xs]}")
        shape = list(first)
        shape[axis] = sum(x.shape[axis] for x in xs)
        out = self.empty(0, shape)
        start = 0
        for x in xs:
            region = out.view(x.shape, out.strides, out.offset + start * out.strides[axis])
            self.rt.assign(region, x)
            start += x.shape[axis]
        return [out]


@register(Shape)
class ShapeImpl(NodeImpl):
    """The shape, on the host (a device value's shape is known there)."""

    output_host = (0,)

    def input_form(self, i):
        return "any"

    def __call__(self, x):
        return [np.asarray(x.shape, dtype="int64")]


@register(MakeVector, ARange)
class HostOnlyImpl(NodeImpl):
    """Vectors of scalars (shapes, ranges): built on the host."""

    output_host = (0,)
    host_inputs = property(lambda self: tuple(range(len(self.node.inputs))))

    def __call__(self, *inputs):
        return self.op.perform(self.node, list(inputs))
