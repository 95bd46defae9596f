"""Elementwise nodes (one kernel per node, so one per fused cluster) and
reductions (one block per output element)."""
import numpy as np

from ...graph.basic import Constant
from ...tensor.elemwise import Elemwise, check_runtime_broadcast
from ...tensor.reduce import Argmax, Reduce
from . import codegen
from .impl import NodeImpl, pow2_block, register, static_size_one
from .runtime import DArray, size_of


@register(Elemwise)
class ElemwiseImpl(NodeImpl):
    """One kernel per node; a fused cluster (an Elemwise of a
    Composite) is one node, so one kernel. A host value of one element
    is a kernel argument, a constant of one element is in the source."""

    def __init__(self, node, host_vars):
        super().__init__(node, host_vars)
        self.kinds, self.constants = [], []
        for var in node.inputs:
            if isinstance(var, Constant) and var.data.size == 1:
                self.kinds.append("const")
            elif var in host_vars and static_size_one(var):
                self.kinds.append("scalar")
            else:
                self.kinds.append("array")
            self.constants.append(var.data if isinstance(var, Constant) else None)
        self.ndim = node.outputs[0].ndim
        self.inplace = dict(getattr(node.op, "inplace", ()))

    def input_form(self, i):
        return {"const": "any", "scalar": "host", "array": "device"}[self.kinds[i]]

    def specs(self):
        return [codegen.elemwise_spec(self.op.scalar_op, self.ndim, self.kinds, [v.dtype for v in self.node.inputs],
                                      self.out_dtypes, self.constants)]

    def __call__(self, *inputs):
        arrays = [inputs[i] for i in self.arrays]
        layout = tuple((x.shape, x.strides, x.offset) for x in arrays)
        shape, total, meta = self.cached(layout, lambda: self._layout(inputs, arrays))
        outs = []
        for k, dtype in enumerate(self.out_dtypes):
            i = self.inplace.get(k)
            x = inputs[i] if i is not None else None
            if isinstance(x, DArray) and x.shape == shape and x.is_whole() and x.dtype == dtype:
                outs.append(x)
            else:
                outs.append(self.empty(k, shape))
        scalars = [np.asarray(inputs[i]).reshape(-1)[0] for i in self.scalars]
        self.rt.launch(self.kernels[0], total, *[o.buf for o in outs], *[x.buf for x in arrays], *scalars,
                       meta, total)
        return outs

    def _layout(self, inputs, arrays):
        """Output shape, size and meta array for inputs of these layouts
        (checked once per layout: a new layout, a new check)."""
        ndim = self.ndim
        shapes = [x.shape if kind == "array" else (1,) * ndim for x, kind in zip(inputs, self.kinds)]
        check_runtime_broadcast(self.node, shapes)
        shape = tuple(max((s[d] for s in shapes if s[d] != 1), default=1) for d in range(ndim))
        meta = [*shape]
        for x in arrays:
            meta += [x.offset, *x.broadcast_strides(shape)]
        return shape, size_of(shape), self.rt.meta(*meta)

    def setup(self, rt, key, fresh):
        super().setup(rt, key, fresh)
        self.arrays = [i for i, kind in enumerate(self.kinds) if kind == "array"]
        self.scalars = [i for i, kind in enumerate(self.kinds) if kind == "scalar"]


@register(Reduce, Argmax)
class ReduceImpl(NodeImpl):
    """Reductions and argmax/argmin: one block per output element."""

    def __init__(self, node, host_vars):
        super().__init__(node, host_vars)
        self.arg = isinstance(node.op, Argmax)
        self.axes = tuple(sorted(self.op.axes))

    def specs(self):
        x = self.node.inputs[0]
        return [codegen.reduce_spec(self.op.kind, x.ndim, self.axes, x.dtype, self.out_dtypes[0], self.arg)]

    def __call__(self, x):
        kept = [n for d, n in enumerate(x.shape) if d not in self.axes]
        n_red = size_of([x.shape[d] for d in self.axes])
        out = self.empty(0, kept)
        if n_red == 0 and out.size and (self.arg or self.op.kind in ("max", "min")):
            raise self.fail(f"{'arg' if self.arg else ''}{self.op.kind} of an empty dimension "
                            f"(input shape {x.shape})")
        meta = self.rt.meta(*x.shape, x.offset, *x.strides)
        if out.size:
            self.rt.launch_blocks(self.kernels[0], out.size, pow2_block(n_red, codegen.RED), x.buf, out.buf, meta,
                                  out.size, n_red)
        return [out]
