"""Reductions: Reduce through the library kernels of ``runtime`` (float16/32
sums and products accumulate in float64), Argmax as loops written out."""
import numpy as np

from ...tensor.reduce import Argmax, Reduce
from .codegen import dtype_expr
from .registry import register_kernel
from .scalar import convert, literal


def _identity(kind, dtype):
    if kind in ("sum", "any"):
        return literal(0, dtype)
    if kind in ("prod", "all"):
        return literal(1, dtype)
    if dtype == "bool":
        return literal(kind == "min", dtype)
    if np.dtype(dtype).kind == "f":
        return literal(-np.inf if kind == "max" else np.inf, dtype)
    info = np.iinfo(dtype)
    return literal(info.min if kind == "max" else info.max, dtype)


def _combine(kind, acc, value):
    if kind == "sum":
        return f"{acc} + {value}"
    if kind == "prod":
        return f"{acc} * {value}"
    if kind == "all":
        return f"{acc} and {value}"
    if kind == "any":
        return f"{acc} or {value}"
    compare = ">" if kind == "max" else "<"
    return f"{value} if ({value} {compare} {acc} or {value} != {value}) else {acc}"  # NaN propagates


def _accumulator(kind, out_dtype):
    if kind in ("sum", "prod") and out_dtype in ("float16", "float32"):
        return "float64"
    return out_dtype


def _groups(n, axes):
    """The input's dimensions as runs of consecutive dimensions placed in
    (A, K1, B, K2, C), reduced over A, B and C: a trailing reduced run goes
    to C (the innermost loop accumulates in a register), the other runs
    right-aligned into (A, K1, B, K2) so that a trailing kept run is the
    innermost loop over the accumulator. None when there are more runs."""
    runs = []
    for d in range(n):
        if runs and runs[-1][0] == (d in axes):
            runs[-1][1].append(d)
        else:
            runs.append((d in axes, [d]))
    last = runs.pop()[1] if runs and runs[-1][0] else []
    if len(runs) > 4:
        return None
    return [[]] * (4 - len(runs)) + [dims for _, dims in runs] + [last]


@register_kernel(Reduce)
def emit_reduce(op, node, gen):
    """A call of the library kernel ``rt.<kind>5`` on a 5-d view of the
    input (compiled once per dtype, cached), or loops written out for
    patterns with more than two kept runs of dimensions."""
    (x,), out = gen.ins, gen.outs[0]
    n, axes, kind = x.ndim, set(op.axes), op.kind
    out_dtype = node.outputs[0].dtype
    groups = _groups(n, axes)
    if not axes:
        gen.line(f"{out} = ({x.name} != 0)" if out_dtype == "bool" else
                 f"{out} = {x.name}.astype({dtype_expr(out_dtype)})")
        return
    if groups is None:
        return _emit_reduce_loops(op, node, gen)
    acc_dtype = _accumulator(kind, out_dtype)
    lengths = [f"{x.name}.shape[{d}]" for d in range(n)]
    if kind in ("max", "min"):
        gen.check(" * ".join(lengths[d] for d in sorted(axes)) + " == 0",
                  f"{kind} of an empty dimension (zero-size reduction has no identity)")
    sizes = [" * ".join(lengths[d] for d in dims) if dims else "1" for dims in groups]
    acc = gen.tmp("acc")
    gen.line(f"{acc} = np.full(({sizes[1]}, {sizes[3]}), {_identity(kind, acc_dtype)}, {dtype_expr(acc_dtype)})")
    view = f"{gen.c_array(0)}.reshape(({', '.join(sizes)}))"
    gen.line(gen.kernel_call(f"rt.{kind}5", (view, x.dtype, 5), (acc, acc_dtype, 2)))
    kept = "(" + "".join(f"{lengths[d]}, " for d in range(n) if d not in axes) + ")"
    gen.line(f"{out} = {acc}.reshape({kept})")
    if acc_dtype != out_dtype:
        gen.line(f"{out} = {out}.astype({dtype_expr(out_dtype)})")


def _emit_reduce_loops(op, node, gen):
    (x,), out = gen.ins, gen.outs[0]
    n, axes, kind = x.ndim, set(op.axes), op.kind
    out_dtype = node.outputs[0].dtype
    acc_dtype = _accumulator(kind, out_dtype)
    kept = [d for d in range(n) if d not in axes]
    lengths = [gen.tmp("n") for _ in range(n)]
    for d, name in enumerate(lengths):
        gen.line(f"{name} = {x.name}.shape[{d}]")
    if kind in ("max", "min") and axes:
        gen.check(" * ".join(lengths[d] for d in sorted(axes)) + " == 0",
                  f"{kind} of an empty dimension (zero-size reduction has no identity)")
    acc = gen.tmp("acc")
    shape = "(" + "".join(f"{lengths[d]}, " for d in kept) + ")"
    gen.line(f"{acc} = np.full({shape}, {_identity(kind, acc_dtype)}, {dtype_expr(acc_dtype)})")
    # reduced trailing dimensions accumulate in a local variable
    suffix = n
    while suffix > 0 and (suffix - 1) in axes:
        suffix -= 1
    acc_index = "[" + ", ".join(f"i{d}" for d in kept) + "]" if kept else "[()]"
    depth = gen.src.depth
    for d in range(suffix):
        gen.src.line(f"for i{d} in range({lengths[d]}):")
        gen.src.depth += 1
    value = convert(f"{x.name}[{', '.join(f'i{d}' for d in range(n))}]" if n else f"{x.name}[()]", x.dtype, acc_dtype)
    if kind in ("all", "any"):
        value = f"({value})"
    if suffix < n:
        s = gen.tmp("s")
        gen.line(f"{s} = {acc}{acc_index}")
        for d in range(suffix, n):
            gen.src.line(f"for i{d} in range({lengths[d]}):")
            gen.src.depth += 1
        v = gen.tmp("x")
        gen.line(f"{v} = {value}")
        gen.line(f"{s} = {_combine(kind, s, v)}")
        gen.src.depth -= n - suffix
        gen.line(f"{acc}{acc_index} = {s}")
    else:
        v = gen.tmp("x")
        gen.line(f"{v} = {value}")
        gen.line(f"{acc}{acc_index} = {_combine(kind, f'{acc}{acc_index}', v)}")
    gen.src.depth = depth
    if acc_dtype != out_dtype:
        gen.line(f"{out} = {acc}.astype({dtype_expr(out_dtype)})")
    else:
        gen.line(f"{out} = {acc}")


@register_kernel(Argmax)
def emit_argmax(op, node, gen):
    (x,), out = gen.ins, gen.outs[0]
    n, axes = x.ndim, list(op.axes)
    kept = [d for d in range(n) if d not in axes]
    lengths = [gen.tmp("n") for _ in range(n)]
    for d, name in enumerate(lengths):
        gen.line(f"{name} = {x.name}.shape[{d}]")
    if axes:
        gen.check(" * ".join(lengths[d] for d in axes) + " == 0", f"arg{op.kind} of an empty sequence")
    shape = "(" + "".join(f"{lengths[d]}, " for d in kept) + ")"
    gen.line(f"{out} = np.empty({shape}, np.int64)")
    depth = gen.src.depth
    for d in kept:
        gen.src.line(f"for i{d} in range({lengths[d]}):")
        gen.src.depth += 1
    best, pos, count = gen.tmp("best"), gen.tmp("pos"), gen.tmp("k")
    first = ", ".join("0" if d in axes else f"i{d}" for d in range(n)) if n else "()"
    gen.line(f"{best} = {x.name}[{first}]")
    gen.line(f"{pos} = 0")
    gen.line(f"{count} = 0")
    for d in axes:
        gen.src.line(f"for i{d} in range({lengths[d]}):")
        gen.src.depth += 1
    v = gen.tmp("x")
    gen.line(f"{v} = {x.name}[{', '.join(f'i{d}' for d in range(n))}]" if n else f"{v} = {x.name}[()]")
    compare = ">" if op.kind == "max" else "<"
    with gen.block(f"if {v} {compare} {best} or ({v} != {v} and {best} == {best}):"):
        gen.line(f"{best} = {v}")
        gen.line(f"{pos} = {count}")
    gen.line(f"{count} += 1")
    gen.src.depth -= len(axes)
    gen.line(f"{out}[{', '.join(f'i{d}' for d in kept)}] = {pos}" if kept else f"{out}[()] = {pos}")
    gen.src.depth = depth
