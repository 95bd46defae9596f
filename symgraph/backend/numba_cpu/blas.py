"""Matrix products (Dot, and the optimizer's Gemm with transpose flags and
a bias): the library kernel ``rt.gemm_parallel`` for float32/float64
matrices (BLAS, the one SciPy ships, on one block of the output per
thread), ``np.dot`` inside the driver for vectors and mixed dtypes,
written-out loops for other dtypes."""
import numpy as np

from ...tensor.blas import Dot
from ...tensor.blas_ops import Gemm
from .codegen import dtype_expr
from .registry import register_kernel
from .scalar import convert

BLAS_DTYPES = ("float32", "float64")


def operand(gen, i, dtype):
    """Input ``i`` as an array that ``np.dot`` takes without a copy warning:
    of ``dtype``, C or F contiguous."""
    info = gen.ins[i]
    expr = info.name
    if info.dtype != dtype:
        return f"{expr}.astype({dtype_expr(dtype)})"
    if info.layout not in ("C", "F"):
        return f"np.ascontiguousarray({expr})"
    return expr


def check_aligned(gen, a, b, a_dim, b_dim, what="shapes are not aligned"):
    gen.check(f"{a.name}.shape[{a_dim}] != {b.name}.shape[{b_dim}]",
              f"{what}: dimension {a_dim} of the first operand has length {{0}}, dimension {b_dim} of the "
              f"second has length {{1}}", f"{a.name}.shape[{a_dim}]", f"{b.name}.shape[{b_dim}]")


@register_kernel(Dot)
def emit_dot(op, node, gen):
    (a, b), out = gen.ins, gen.outs[0]
    dtype = node.outputs[0].dtype
    check_aligned(gen, a, b, a.ndim - 1, 0)
    if dtype in BLAS_DTYPES and a.ndim == 2 and b.ndim == 2 and a.dtype == b.dtype:
        emit_blas_gemm(gen, node, False, False, False)
        return
    if dtype in BLAS_DTYPES:
        product = f"np.dot({operand(gen, 0, dtype)}, {operand(gen, 1, dtype)})"
        if a.ndim == 1 and b.ndim == 1:
            gen.line(f"{out} = np.empty((), {dtype_expr(dtype)})")
            gen.line(f"{out}[()] = {product}")
        else:
            gen.line(f"{out} = {product}")
        return
    _dot_loops(gen, a, b, out, dtype)


def _dot_loops(gen, a, b, out, dtype):
    rows = f"{a.name}.shape[0]" if a.ndim == 2 else "1"
    cols = f"{b.name}.shape[1]" if b.ndim == 2 else "1"
    inner = f"{b.name}.shape[0]"
    acc = gen.tmp("acc")
    gen.line(f"{acc} = np.zeros(({rows}, {cols}), {dtype_expr(dtype)})")
    with gen.block(f"for i in range({rows}):"):
        with gen.block(f"for k in range({inner}):"):
            gen.line(f"aik = {convert(a.name + ('[i, k]' if a.ndim == 2 else '[k]'), a.dtype, dtype)}")
            with gen.block(f"for j in range({cols}):"):
                bkj = convert(b.name + ("[k, j]" if b.ndim == 2 else "[k]"), b.dtype, dtype)
                step = f"aik and {bkj}" if dtype == "bool" else f"aik * {bkj}"
                gen.line(f"{acc}[i, j] = {acc}[i, j] {'or' if dtype == 'bool' else '+'} {step}")
    shape = {(1, 1): "()", (1, 2): f"({cols},)", (2, 1): f"({rows},)", (2, 2): f"({rows}, {cols})"}[(a.ndim, b.ndim)]
    gen.line(f"{out} = {acc}.reshape({shape})")


def gemm_operand(gen, i, trans):
    """Input ``i`` as a C-contiguous matrix and its transpose flag: an F
    view (a transposed matrix) is passed as its C-contiguous transpose."""
    info = gen.ins[i]
    if info.layout == "F":
        return f"{info.name}.T", not trans
    if info.layout == "C":
        return info.name, trans
    return f"np.ascontiguousarray({info.name})", trans


def emit_blas_gemm(gen, node, trans_a, trans_b, bias):
    """``out = op(a) @ op(b) (+ c)`` by the library kernel
    ``rt.gemm_parallel`` (BLAS GEMM on blocks of the output, one per Numba
    thread): a bias is written into the output first (or
    its buffer is taken when nothing reads it later) and added with beta = 1."""
    a, b = gen.ins[:2]
    out, dtype = gen.outs[0], node.outputs[0].dtype
    rows = f"{a.name}.shape[{1 if trans_a else 0}]"
    cols = f"{b.name}.shape[{0 if trans_b else 1}]"
    beta = "0.0"
    if bias:
        c, cvar = gen.ins[2], node.inputs[2]
        for d, length in enumerate((rows, cols)):
            if not cvar.broadcastable[d]:
                gen.check(f"{c.name}.shape[{d}] != {length}",
                          f"the bias has length {{0}} at dimension {d}, the product {{1}}", f"{c.name}.shape[{d}]",
                          length)
        if not any(cvar.broadcastable) and c.layout == "C" and gen.can_overwrite(2):
            gen.line(f"{out} = {c.name}")  # accumulate into the bias's own buffer
        else:
            gen.line(f"{out} = np.empty(({rows}, {cols}), {dtype_expr(dtype)})")
            gen.assign_loops(out, 2, c.name, cvar)
        beta = "1.0"
    else:
        gen.line(f"{out} = np.empty(({rows}, {cols}), {dtype_expr(dtype)})")
    pa, ta = gemm_operand(gen, 0, trans_a)
    pb, tb = gemm_operand(gen, 1, trans_b)
    gen.line(gen.kernel_call("rt.gemm_parallel", (pa, dtype, 2), (ta, "bool"), (pb, dtype, 2), (tb, "bool"), (out, dtype, 2),
                             (beta, "float64"), gen.threads))


@register_kernel(Gemm)
def emit_gemm(op, node, gen):
    a, b = gen.ins[:2]
    out, dtype = gen.outs[0], node.outputs[0].dtype
    dot_dtype = np.result_type(a.dtype, b.dtype).name
    ra, ka = (1, 0) if op.trans_a else (0, 1)
    kb, cb = (1, 0) if op.trans_b else (0, 1)
    check_aligned(gen, a, b, ka, kb)
    if dtype in BLAS_DTYPES and all(v.dtype == dtype for v in node.inputs):
        emit_blas_gemm(gen, node, op.trans_a, op.trans_b, op.bias)
        return
    if dot_dtype in BLAS_DTYPES:
        opa = operand(gen, 0, dot_dtype) + (".T" if op.trans_a else "")
        opb = operand(gen, 1, dot_dtype) + (".T" if op.trans_b else "")
        gen.line(f"{out} = np.dot({opa}, {opb})")
    else:
        ta, tb = gen.tmp("a"), gen.tmp("b")
        gen.line(f"{ta} = {a.name}.T" if op.trans_a else f"{ta} = {a.name}")
        gen.line(f"{tb} = {b.name}.T" if op.trans_b else f"{tb} = {b.name}")
        _dot_loops(gen, _Alias(ta, a), _Alias(tb, b), out, dot_dtype)
    if dot_dtype != dtype:
        gen.line(f"{out} = {out}.astype({dtype_expr(dtype)})")
    if not op.bias:
        return
    c, cvar = gen.ins[2], node.inputs[2]
    rows, cols = f"{a.name}.shape[{ra}]", f"{b.name}.shape[{cb}]"
    index = []
    for d, length in enumerate((rows, cols)):
        if cvar.broadcastable[d]:
            index.append("0")
            continue
        gen.check(f"{c.name}.shape[{d}] != {length}",
                  f"the bias has length {{0}} at dimension {d}, the product {{1}}", f"{c.name}.shape[{d}]", length)
        index.append("i" if d == 0 else "j")
    with gen.block(f"for i in range({rows}):"):
        with gen.block(f"for j in range({cols}):"):
            gen.line(f"{out}[i, j] += {convert(f'{c.name}[{index[0]}, {index[1]}]', c.dtype, dtype)}")


class _Alias:
    """A VarInfo look-alike for a local array name."""

    def __init__(self, name, like):
        self.name, self.ndim, self.dtype = name, like.ndim, like.dtype
