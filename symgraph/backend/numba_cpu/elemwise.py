"""Elementwise loops (Elemwise with a ScalarOp or a fused Composite) and
DimShuffle views.

An Elemwise node becomes one loop nest over the output shape, written out
in the driver: each input is read at the output index with the dimensions
it broadcasts (static length 1) pinned to 0, a transposing DimShuffle is
read through its source array with the indices permuted, scalar constants
are literals. When every array operand is C-contiguous, the dimensions that
all operands treat alike merge (one flat loop when they all have the
output's shape, (N, C, H*W) for a (1, C, 1, 1) bias added to NCHW)."""
from ...tensor.elemwise import DimShuffle, Elemwise
from .codegen import dtype_expr
from .registry import register_kernel
from .scalar import ScalarWriter


class _Operand:
    """How the loop reads one input: ``literal``, or ``array`` indexed by
    ``index`` (per array dimension: a loop number, or None for 0);
    ``lengths`` maps output dimensions to run-time length expressions;
    ``plain``: a C-contiguous array of the output's rank (its dimensions
    can be merged)."""

    def __init__(self, literal=None, array=None, index=(), lengths=None, plain=False):
        self.literal, self.array, self.index = literal, array, list(index)
        self.lengths, self.plain = lengths or {}, plain

    def depth(self):
        """How many loops (outermost first) the read depends on."""
        used = [d for d in self.index if d is not None]
        return max(used) + 1 if used else 0


def _operand(var, info, out_bcast):
    if info.literal is not None:
        return _Operand(literal=info.literal)
    n = len(out_bcast)
    if info.remap is not None:
        source, dims = info.remap
        lengths = {d: f"{source}.shape[{k}]" for k, d in enumerate(dims) if d is not None}
        kept = [d for d in dims if d is not None]
        if kept == sorted(kept):  # no transposition: a reshaped view of the C source
            shape = "".join(f"{lengths[d]}, " if d in lengths else "1, " for d in range(n))
            index = [None if var.broadcastable[d] else d for d in range(n)]
            return _Operand(array=f"{source}.reshape(({shape}))", index=index, lengths=lengths, plain=True)
        index = [None if d is None or var.broadcastable[d] else d for d in dims]
        return _Operand(array=source, index=index, lengths=lengths)
    index = [None if var.broadcastable[d] else d for d in range(n)]
    return _Operand(array=info.name, index=index, lengths={d: f"{info.name}.shape[{d}]" for d in range(n)},
                    plain=info.layout == "C")


def _merged_dims(node, operands):
    """Runs of output dimensions that every operand treats alike (all
    broadcast or none), dimensions where the output has length 1 left out;
    None when some operand is not plain or nothing would merge."""
    n = node.outputs[0].ndim
    arrays = [j for j, o in enumerate(operands) if o.literal is None]
    if not all(operands[j].plain for j in arrays):
        return None
    runs = []
    for d in range(n):
        if node.outputs[0].broadcastable[d]:
            continue
        pattern = tuple(node.inputs[j].broadcastable[d] for j in arrays)
        if runs and runs[-1][0] == pattern:
            runs[-1][1].append(d)
        else:
            runs.append((pattern, [d]))
    if not runs or len(runs) == n:
        return None
    return [dims for _, dims in runs]


def _broadcast_message(node, j, d, first):
    var = node.inputs[j]

    def message(length, expected):
        if length == 1 or expected == 1:
            culprit = j if length == 1 else first
            return (f"input {culprit} has length 1 at dimension {d} at run time but its type "
                    f"{node.inputs[culprit].type} does not mark that dimension broadcastable, while input "
                    f"{first if culprit == j else j} has length {expected if culprit == j else length} there. "
                    f"Mark it with T.addbroadcast(x, {d}) or x.dimshuffle(...) with 'x'.")
        return (f"input shapes differ at dimension {d}: input {first} has length {expected}, input {j} "
                f"({var.type}) has length {length}")
    return message


def output_shape(node, gen, operands):
    """Emit the run-time output lengths and their checks (Theano's rule:
    every operand not broadcasting a dimension has the same length there);
    returns the length expressions."""
    lengths = []
    for d in range(node.outputs[0].ndim):
        providers = [(j, op.lengths[d]) for j, op in enumerate(operands)
                     if op.literal is None and not node.inputs[j].broadcastable[d]]
        if not providers:
            lengths.append("1")
            continue
        name = gen.tmp("n")
        first, expr = providers[0]
        gen.line(f"{name} = {expr}")
        for j, other in providers[1:]:
            gen.check(f"{other} != {name}", _broadcast_message(node, j, d, first), other, name)
        lengths.append(name)
    return lengths


@register_kernel(Elemwise)
def emit_elemwise(op, node, gen):
    out_bcast = node.outputs[0].broadcastable
    operands = [_operand(var, info, out_bcast) for var, info in zip(node.inputs, gen.ins)]
    for o in operands:
        if o.array is not None and not o.array.isidentifier():  # a view expression: make it once
            view = gen.tmp("r")
            gen.line(f"{view} = {o.array}")
            o.array = view
    lengths = output_shape(node, gen, operands)
    shape = "(" + "".join(f"{s}, " for s in lengths) + ")"

    # outputs: a new buffer, or an input's (the optimizer's ``inplace`` pairs)
    inplace = dict(getattr(op, "inplace", None) or ())
    arrays = []
    for k, (name, var) in enumerate(zip(gen.outs, node.outputs)):
        j = inplace.get(k)
        if (j is not None and gen.can_overwrite(j) and node.inputs[j].type == var.type
                and node.inputs[j].broadcastable == out_bcast and operands[j].literal is None):
            gen.line(f"{name} = {gen.ins[j].name}")
        else:
            gen.line(f"{name} = np.empty({shape}, {dtype_expr(var.dtype)})")
        arrays.append(name)

    # C-contiguous operands: loop over merged dimensions (one flat loop when
    # every operand has the output's shape), reading through reshaped views
    runs = _merged_dims(node, operands)
    loops = lengths
    if runs is not None:
        loops = []
        for dims in runs:
            loops.append(gen.tmp("m"))
            gen.line(f"{loops[-1]} = {' * '.join(lengths[d] for d in dims)}")
        for o, var in zip(operands, node.inputs):
            if o.literal is None:
                view = gen.tmp("r")
                sizes = ["1" if var.broadcastable[dims[0]] else loops[g] for g, dims in enumerate(runs)]
                gen.line(f"{view} = {o.array}.reshape(({''.join(z + ', ' for z in sizes)}))")
                o.array = view
                o.index = [None if var.broadcastable[dims[0]] else g for g, dims in enumerate(runs)]
        views = []
        for name in arrays:
            views.append(gen.tmp("r"))
            gen.line(f"{views[-1]} = {name}.reshape(({''.join(z + ', ' for z in loops)}))")
        arrays = views
    out_index = "[" + ", ".join(f"i{d}" for d in range(len(loops))) + "]" if loops else "[()]"

    # the loop nest; each read is placed in the outermost loop it depends on
    reads = {}
    for depth in range(len(loops) + 1):
        for j, o in enumerate(operands):
            if o.literal is not None:
                reads[j] = o.literal
            elif o.depth() == depth:
                index = ", ".join("0" if d is None else f"i{d}" for d in o.index) if o.index else "()"
                reads[j] = gen.tmp("x")
                gen.line(f"{reads[j]} = {o.array}[{index}]")
        if depth == len(loops):
            break
        gen.src.line(f"for i{depth} in range({loops[depth]}):")
        gen.src.depth += 1
    writer = ScalarWriter(gen.tmp)
    args = [(reads[j], var.dtype) for j, var in enumerate(node.inputs)]
    results = writer.apply(op.scalar_op, args, [v.dtype for v in node.outputs])
    for line in writer.lines:
        gen.line(line)
    for name, expr in zip(arrays, results):
        gen.line(f"{name}{out_index} = {expr}")
    gen.src.depth -= len(loops)


@register_kernel(DimShuffle)
def emit_dimshuffle(op, node, gen):
    (x,), out = gen.ins, gen.outs[0]
    order, ndim = op.new_order, x.ndim
    kept = [d for d in order if d != "x"]
    shape = "(" + "".join("1, " if d == "x" else f"{x.name}.shape[{d}], " for d in order) + ")"
    remap = None
    if x.layout == "C" and x.remap is None:
        remap = (x.name, [order.index(d) if d in order else None for d in range(ndim)])
    if (remap is not None or x.literal is not None) and gen.only_elemwise_reads(0):
        gen.set_output(0, "A", view_of=0, remap=remap, literal=x.literal)  # no array needed
        return
    if kept == sorted(kept) and x.layout == "C":
        gen.line(f"{out} = {x.name}.reshape({shape})")
        gen.set_output(0, "C", view_of=0, literal=x.literal)
        return
    remaining = [d for d in range(ndim) if d not in op.dropped]
    source = x.name
    if op.dropped:
        source = f"{x.name}[{', '.join('0' if d in op.dropped else ':' for d in range(ndim))}]"
    perm = tuple(remaining.index(d) for d in kept)
    if perm != tuple(range(len(perm))):
        source = f"{source}.transpose({perm!r})" if len(perm) > 2 else f"{source}.T"
    if "x" in order or kept == sorted(kept):
        gen.line(f"{out} = np.ascontiguousarray({source}).reshape({shape})")
        # a copy, but loops read x through ``remap``: x must outlive it
        gen.set_output(0, "C", view_of=0 if remap else None, remap=remap, literal=x.literal)
    else:
        gen.line(f"{out} = {source}")
        layout = "F" if (x.layout == "C" and len(perm) == 2 and not op.dropped) else "A"
        gen.set_output(0, layout, view_of=0, remap=remap, literal=x.literal)
