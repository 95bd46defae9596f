"""Basic indexing: Subtensor (a copy, as the reference) and IncSubtensor
(set or increment a region of a copy of x, or of x itself when nothing
else reads it)."""
from ...tensor.subtensor import IncSubtensor, Subtensor
from .codegen import dtype_expr
from .registry import register_kernel


def _index(gen, template, x, first):
    """Emit the index values' checks; return the index expression and
    whether it selects a single element."""
    parts, k = [], first
    for d, t in enumerate(template):
        length = f"{x.name}.shape[{d}]"
        if t == "i":
            i = gen.tmp("i")
            gen.line(f"{i} = np.int64({gen.scalar(k)})")
            k += 1
            gen.check(f"{i} < -{length} or {i} >= {length}",
                      f"index {{0}} is out of bounds for dimension {d} with length {{1}}", i, length)
            gen.line(f"{i} = {i} + {length} if {i} < 0 else {i}")
            parts.append(i)
            continue
        bounds = []
        for has in t[1:]:
            if has:
                bounds.append(f"np.int64({gen.scalar(k)})")
                k += 1
            else:
                bounds.append("")
        if t[3]:
            step = gen.tmp("step")
            gen.line(f"{step} = {bounds[2]}")
            gen.check(f"{step} == 0", f"slice step cannot be zero (dimension {d})")
            bounds[2] = step
        parts.append(":".join(bounds) if t[3] else ":".join(bounds[:2]))
    scalar = len(template) == x.ndim and all(t == "i" for t in template)
    return ", ".join(parts) if parts else "()", scalar


@register_kernel(Subtensor)
def emit_subtensor(op, node, gen):
    x, out = gen.ins[0], gen.outs[0]
    index, scalar = _index(gen, op.template, x, 1)
    if scalar:
        gen.line(f"{out} = np.empty((), {dtype_expr(x.dtype)})")
        gen.line(f"{out}[()] = {x.name}[{index}]")
        return
    gen.line(f"{out} = np.ascontiguousarray({x.name}[{index}])")
    gen.set_output(0, "C", view_of=0)


@register_kernel(IncSubtensor)
def emit_inc_subtensor(op, node, gen):
    x, y, out = gen.ins[0], gen.ins[1], gen.outs[0]
    gen.line(f"{out} = {x.name}" if gen.can_overwrite(0) else f"{out} = np.copy({x.name})")
    index, scalar = _index(gen, op.template, x, 2)
    value = y.name
    if y.dtype != x.dtype:
        value = gen.tmp("y")
        gen.line(f"{value} = {y.name}.astype({dtype_expr(x.dtype)})")
    operator = "=" if op.set_instead_of_inc else "+="
    if scalar:
        gen.line(f"{out}[{index}] {operator} {value}[()]")
        return
    region = gen.tmp("r")
    gen.line(f"{region} = {out}[{index}]")
    for d in range(y.ndim):
        target = f"{region}.shape[{region}.ndim - {y.ndim - d}]"
        got = f"{y.name}.shape[{d}]"
        gen.check(f"{got} != 1 and {got} != {target}",
                  f"cannot fit a value of length {{0}} at dimension {d} into a region of length {{1}}", got, target)
    gen.assign_loops(region, x.ndim - op.template.count("i"), value, node.inputs[1], operator)
