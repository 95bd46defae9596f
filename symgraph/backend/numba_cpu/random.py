"""Random draws: the Philox streams of ``symgraph.tensor.philox``, filled
by the loops of ``runtime`` (the same numbers as the reference)."""
from ...tensor.random import RandomDraw
from .codegen import dtype_expr
from .registry import register_kernel

_FILL = {"uniform": "rt.uniform_fill", "normal": "rt.normal_fill", "binomial": "rt.binomial_fill"}


def _param(gen, i, shape, lengths):
    """Input ``i`` as a flat float64 array: one element when it is known to
    have one, else broadcast to the draw's shape (checked)."""
    info, var = gen.ins[i], gen.node.inputs[i]
    if all(s == 1 for s in var.type.shape):
        return f"np.full(1, {gen.scalar(i)}, np.float64)"
    n = len(lengths)
    for d in range(info.ndim):
        got, target = f"{info.name}.shape[{d}]", lengths[n - info.ndim + d]
        gen.check(f"{got} != 1 and {got} != {target}",
                  f"parameter {i - 1} of length {{0}} at dimension {d} does not broadcast to the size {{1}}",
                  got, target)
    return f"rt.flat_param({info.name}, {shape})"


@register_kernel(RandomDraw)
def emit_random_draw(op, node, gen):
    state, size = gen.ins[0], gen.ins[1]
    new_state, out = gen.outs
    gen.check(f"{size.name}.shape[0] != {op.ndim}", f"size has {{0}} entries for draws of rank {op.ndim}",
              f"{size.name}.shape[0]")
    lengths = [gen.tmp("n") for _ in range(op.ndim)]
    for k, name in enumerate(lengths):
        gen.line(f"{name} = np.int64({size.name}[{k}])")
        gen.check(f"{name} < 0", f"negative length {{0}} in size at dimension {k}", name)
    shape = "(" + "".join(f"{n}, " for n in lengths) + ")"
    a, b = _param(gen, 2, shape, lengths), _param(gen, 3, shape, lengths)
    gen.line(f"{out} = np.empty({shape}, {dtype_expr(op.dtype)})")
    flat, blocks = gen.tmp("flat"), gen.tmp("blocks")
    gen.line(f"{flat} = {out}.reshape(({out}.size,))")
    key, counter = f"{state.name}[0]", f"{state.name}[1]"
    if op.kind == "binomial":
        lo = gen.tmp("trials")
        gen.line(f"{lo} = {a}")
        with gen.block(f"for j in range(1, {lo}.size):"):  # one trial count for all: Philox's layout
            gen.check(f"{lo}[j] != {lo}[0]", "n must be one integer for every draw, got {0} and {1}",
                      f"{lo}[0]", f"{lo}[j]")
        trials = f"(np.int64({lo}[0]) if {flat}.size else 1)"
        first = (trials, "int64")
    else:
        first = (a, "float64", 1)
    gen.line(f"{blocks} = " + gen.kernel_call(_FILL[op.kind], (key, "int64"), (counter, "int64"), first,
                                              (b, "float64", 1), (flat, op.dtype, 1), gen.threads))
    gen.line(f"{new_state} = np.empty(2, np.uint64)")
    gen.line(f"{new_state}[0] = {state.name}[0]")
    gen.line(f"{new_state}[1] = {state.name}[1] + np.uint64({blocks})")
