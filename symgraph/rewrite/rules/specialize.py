"""Specialize: faster forms of the canonical graph, close to what the
backends run (products as BLAS calls with flags, squares as products)."""
from ...tensor import basic as tb
from ...tensor.blas import Dot
from ...tensor.blas_ops import Gemm
from ...tensor.elemwise import DimShuffle
from ..engine import rule
from ..patterns import fit, is_const, made_by


@rule("specialize", "pow")
def pow_two(fg, node):
    """x ** 2 -> x * x"""
    x, p = node.inputs
    return fit(tb.mul(x, x), node) if is_const(p, 2) else None


def _transposed(var):
    """x when ``var`` is the transpose of the matrix x."""
    ds = made_by(var, DimShuffle)
    return ds.inputs[0] if ds is not None and ds.op.new_order == (1, 0) else None


@rule("specialize", Dot, Gemm)
def dot_transpose(fg, node):
    """dot(a.T, b) -> Gemm{aT.b}(a, b) (and for b.T, and for the operands
    of a Gemm): BLAS reads the transposed operand in place"""
    a, b, *c = node.inputs
    if a.ndim != 2 or b.ndim != 2:
        return None
    ta, tb_ = _transposed(a), _transposed(b)
    if ta is None and tb_ is None:
        return None
    old = node.op if isinstance(node.op, Gemm) else Gemm()
    op = Gemm(old.trans_a != (ta is not None), old.trans_b != (tb_ is not None), old.bias)
    return fit(op(ta if ta is not None else a, tb_ if tb_ is not None else b, *c), node)


@rule("specialize", "add")
def dot_bias(fg, node):
    """dot(a, b) + c -> Gemm{a.b+c}(a, b, c), when the product has no other
    reader"""
    for i, v in enumerate(node.inputs):
        prod = v.owner
        if prod is None or fg.n_readers(v) != 1 or v.ndim != 2:
            continue
        if isinstance(prod.op, Dot) and prod.inputs[0].ndim == 2 and prod.inputs[1].ndim == 2:
            op, args = Gemm(False, False, True), prod.inputs
        elif isinstance(prod.op, Gemm) and not prod.op.bias:
            op, args = Gemm(prod.op.trans_a, prod.op.trans_b, True), prod.inputs
        else:
            continue
        out_dtype = node.outputs[0].dtype
        for j, c in enumerate(node.inputs):
            if j != i and c.dtype == out_dtype:
                rest = [x for k, x in enumerate(node.inputs) if k not in (i, j)]
                fused = op(*args, c)
                return fit(tb.add(fused, *rest) if rest else fused, node)
    return None



