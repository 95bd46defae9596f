"""Shape operations: Shape, MakeVector, Reshape, Alloc, ARange, Join,
SpecifyShape."""
import numpy as np

from ...tensor.basic import SpecifyShape
from ...tensor.shape import Alloc, ARange, Join, MakeVector, Reshape, Shape
from .codegen import dtype_expr
from .registry import register_kernel
from .scalar import convert


def _tuple(items):
    return "(" + "".join(f"{i}, " for i in items) + ")"


@register_kernel(Shape)
def emit_shape(op, node, gen):
    (x,), out = gen.ins, gen.outs[0]
    gen.line(f"{out} = np.empty({x.ndim}, np.int64)")
    for d in range(x.ndim):
        gen.line(f"{out}[{d}] = {x.name}.shape[{d}]")


@register_kernel(MakeVector)
def emit_make_vector(op, node, gen):
    out = gen.outs[0]
    gen.line(f"{out} = np.empty({len(node.inputs)}, {dtype_expr(op.dtype)})")
    for i, var in enumerate(node.inputs):
        gen.line(f"{out}[{i}] = {convert(gen.scalar(i), var.dtype, op.dtype)}")


@register_kernel(SpecifyShape)
def emit_specify_shape(op, node, gen):
    (x,), out = gen.ins, gen.outs[0]
    for d, length in enumerate(op.shape):
        if length is not None:
            gen.check(f"{x.name}.shape[{d}] != {length}",
                      lambda got, d=d, length=length: f"expected length {length} at dimension {d} (shape "
                                                      f"{op.shape}), got {got}", f"{x.name}.shape[{d}]")
    gen.line(f"{out} = {x.name}")
    gen.set_output(0, x.layout, view_of=0, remap=x.remap, literal=x.literal)


@register_kernel(Reshape)
def emit_reshape(op, node, gen):
    (x, shape), out = gen.ins, gen.outs[0]
    ndim = op.ndim
    gen.check(f"{shape.name}.shape[0] != {ndim}", "the shape has {0} entries, expected " + str(ndim),
              f"{shape.name}.shape[0]")
    lengths = [gen.tmp("s") for _ in range(ndim)]
    known, free = gen.tmp("known"), gen.tmp("free")
    gen.line(f"{known} = 1")
    gen.line(f"{free} = -1")
    for k, name in enumerate(lengths):
        gen.line(f"{name} = np.int64({shape.name}[{k}])")
        with gen.block(f"if {name} == -1:"):
            gen.check(f"{free} >= 0", "at most one length may be -1")
            gen.line(f"{free} = {k}")
        with gen.block("else:"):
            gen.check(f"{name} < 0", "negative length {0} in the new shape", name)
            gen.line(f"{known} *= {name}")
    size = f"{x.name}.size"
    msg = "cannot reshape an array of {0} elements to a shape of {1} elements" + (
        " (with -1 inferred)" if ndim else "")
    with gen.block(f"if {free} >= 0:"):
        gen.check(f"{known} == 0 or {size} % {known} != 0", msg, size, known)
        for k, name in enumerate(lengths):
            with gen.block(f"if {free} == {k}:"):
                gen.line(f"{name} = {size} // {known}")
    with gen.block("else:"):
        gen.check(f"{known} != {size}", "cannot reshape an array of {0} elements to a shape of {1} elements",
                  size, known)
    if x.layout == "C":
        gen.line(f"{out} = {x.name}.reshape({_tuple(lengths)})")
        gen.set_output(0, "C", view_of=0)
    else:
        gen.line(f"{out} = np.ascontiguousarray({x.name}).reshape({_tuple(lengths)})")


@register_kernel(Alloc)
def emit_alloc(op, node, gen):
    value, out = gen.ins[0], gen.outs[0]
    n = len(node.inputs) - 1
    lengths = [gen.tmp("n") for _ in range(n)]
    for k, name in enumerate(lengths):
        gen.line(f"{name} = np.int64({gen.scalar(k + 1)})")
        gen.check(f"{name} < 0", f"negative length {{0}} at dimension {k}", name)
    dtype = dtype_expr(node.outputs[0].dtype)
    if value.literal is not None:
        gen.line(f"{out} = np.full({_tuple(lengths)}, {value.literal}, {dtype})")
        return
    for d in range(value.ndim):
        target = lengths[n - value.ndim + d]
        got = f"{value.name}.shape[{d}]"
        gen.check(f"{got} != 1 and {got} != {target}",
                  f"cannot broadcast a value of length {{0}} at dimension {d} to length {{1}}", got, target)
    gen.line(f"{out} = np.empty({_tuple(lengths)}, {dtype})")
    gen.assign_loops(out, n, value.name, node.inputs[0])


@register_kernel(ARange)
def emit_arange(op, node, gen):
    out, dtype = gen.outs[0], op.dtype
    start, stop, step = (gen.tmp(p) for p in ("start", "stop", "step"))
    for i, name in enumerate((start, stop, step)):
        gen.line(f"{name} = {gen.scalar(i)}")
    gen.check(f"{step} == 0", "the step is zero")
    count = gen.tmp("count")
    if all(np.dtype(v.dtype).kind in "iub" for v in node.inputs):
        gen.line(f"{count} = ({stop} - {start} + {step} - (1 if {step} > 0 else -1)) // {step}")
    else:
        gen.line(f"{count} = np.int64(np.ceil(({stop} - {start}) / {step}))")
    gen.line(f"{count} = max({count}, 0)")
    gen.line(f"{out} = np.empty({count}, {dtype_expr(dtype)})")
    with gen.block(f"for i in range({count}):"):
        gen.line(f"{out}[i] = {start} + i * {step}")


@register_kernel(Join)
def emit_join(op, node, gen):
    out, axis = gen.outs[0], op.axis
    first, ndim = gen.ins[0], node.outputs[0].ndim
    for j, x in enumerate(gen.ins[1:], start=1):
        for d in range(ndim):
            if d != axis:
                gen.check(f"{x.name}.shape[{d}] != {first.name}.shape[{d}]",
                          f"input {j} has length {{0}} at dimension {d}, input 0 has {{1}}",
                          f"{x.name}.shape[{d}]", f"{first.name}.shape[{d}]")
    total = " + ".join(f"{x.name}.shape[{axis}]" for x in gen.ins)
    shape = _tuple(total if d == axis else f"{first.name}.shape[{d}]" for d in range(ndim))
    gen.line(f"{out} = np.empty({shape}, {dtype_expr(node.outputs[0].dtype)})")
    offset = gen.tmp("off")
    gen.line(f"{offset} = 0")
    for x, var in zip(gen.ins, node.inputs):
        length = f"{x.name}.shape[{axis}]"
        index = ", ".join(f"{offset}:{offset} + {length}" if d == axis else ":" for d in range(ndim))
        region = gen.tmp("r")
        gen.line(f"{region} = {out}[{index}]")
        gen.assign_loops(region, ndim, x.name, var)
        gen.line(f"{offset} += {length}")
