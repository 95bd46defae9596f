"""Convolution, pooling and softmax nodes: the driver checks the shapes
(so that errors name the node) and calls the njit kernels of
``kernels_nnet`` (im2col + BLAS GEMM convolutions, direct pooling loops)."""
from ...tensor.nnet.basic import LogSoftmax, Softmax
from ...tensor.nnet.conv import Conv2d, Conv2dGradInput, Conv2dGradWeights
from ...tensor.nnet.fused import CrossentropySoftmax
from ...tensor.signal.pool import Pool2d, Pool2dGrad
from .codegen import dtype_expr
from .kernels_nnet import pool_mode_code
from .registry import register_kernel


def _padding(gen, op, kh, kw):
    """Emit the padding (it depends on the filter size for 'full' and
    'half'); returns the two names."""
    ph, pw = gen.tmp("ph"), gen.tmp("pw")
    if op.border_mode == "full":
        gen.line(f"{ph}, {pw} = {kh} - 1, {kw} - 1")
    elif op.border_mode == "half":
        gen.line(f"{ph}, {pw} = {kh} // 2, {kw} // 2")
    else:
        pad = (0, 0) if op.border_mode == "valid" else op.border_mode
        gen.line(f"{ph}, {pw} = {pad[0]}, {pad[1]}")
    return ph, pw


def _conv_geometry(gen, op, h, w, kh, kw):
    """Emit padding and output size with the check that the filters fit;
    returns (ph, pw, oh, ow) names."""
    ph, pw = _padding(gen, op, kh, kw)
    oh, ow = gen.tmp("oh"), gen.tmp("ow")
    sh, sw = op.stride
    gen.line(f"{oh} = ({h} + 2 * {ph} - {kh}) // {sh} + 1")
    gen.line(f"{ow} = ({w} + 2 * {pw} - {kw}) // {sw} + 1")
    gen.check(f"{oh} <= 0 or {ow} <= 0",
              "filters of size ({0}, {1}) are larger than the padded input ({2}, {3})",
              kh, kw, f"{h} + 2 * {ph}", f"{w} + 2 * {pw}")
    return ph, pw, oh, ow


def _arrays(gen, *inputs):
    """Kernel arguments: inputs as C-contiguous arrays."""
    return [(gen.c_array(i), gen.ins[i].dtype, gen.ins[i].ndim) for i in inputs]


def _ints(*exprs):
    return [(e, "int64") for e in exprs]


def _same(gen, a, b, what):
    gen.check(f"{a} != {b}", what + ": {0} != {1}", a, b)


def _result(gen, call, node):
    out = gen.outs[0]
    gen.line(f"{out} = {call}")
    # the kernels return NumPy's promoted dtype; the node's may differ
    gen.line(f"{out} = {out}.astype({dtype_expr(node.outputs[0].dtype)})" if _promoted(node) != node.outputs[0].dtype
             else "")


def _promoted(node):
    import numpy as np
    return np.result_type(*[v.dtype for v in node.inputs[:2]]).name


def _same_spatial(gen, gy, oh, ow):
    """Check at run time that the output gradient ``gy`` is ``oh`` x ``ow``."""
    _same(gen, f"{gy.name}.shape[2]", oh, "the output gradient's height differs from the convolution's")
    _same(gen, f"{gy.name}.shape[3]", ow, "the output gradient's width differs from the convolution's")


@register_kernel(Conv2d)
def emit_conv2d(op, node, gen):
    x, w = gen.ins
    _same(gen, f"{x.name}.shape[1]", f"{w.name}.shape[1]", "the input's channels differ from the filters'")
    kh, kw = f"{w.name}.shape[2]", f"{w.name}.shape[3]"
    ph, pw, _, _ = _conv_geometry(gen, op, f"{x.name}.shape[2]", f"{x.name}.shape[3]", kh, kw)
    sh, sw = op.stride
    _result(gen, gen.kernel_call("nnet.conv2d_forward", *_arrays(gen, 0, 1), *_ints(ph, pw, sh, sw),
                                 (op.flip, "bool"), gen.threads), node)


@register_kernel(Conv2dGradInput)
def emit_conv2d_grad_input(op, node, gen):
    gy, w, xshape = gen.ins
    xh, xw = gen.tmp("xh"), gen.tmp("xw")
    gen.line(f"{xh}, {xw} = {xshape.name}[2], {xshape.name}[3]")
    _same(gen, f"{gy.name}.shape[1]", f"{w.name}.shape[0]", "the output gradient's channels differ from the filters'")
    _same(gen, f"{xshape.name}[0]", f"{gy.name}.shape[0]", "the input's batch size differs from the gradient's")
    _same(gen, f"{xshape.name}[1]", f"{w.name}.shape[1]", "the input's channels differ from the filters'")
    kh, kw = f"{w.name}.shape[2]", f"{w.name}.shape[3]"
    ph, pw, oh, ow = _conv_geometry(gen, op, xh, xw, kh, kw)
    _same_spatial(gen, gy, oh, ow)
    sh, sw = op.stride
    _result(gen, gen.kernel_call("nnet.conv2d_grad_input", *_arrays(gen, 0, 1), *_ints(xh, xw, ph, pw, sh, sw),
                                 (op.flip, "bool"), gen.threads), node)


@register_kernel(Conv2dGradWeights)
def emit_conv2d_grad_weights(op, node, gen):
    x, gy, wshape = gen.ins
    kh, kw = gen.tmp("kh"), gen.tmp("kw")
    gen.line(f"{kh}, {kw} = {wshape.name}[2], {wshape.name}[3]")
    _same(gen, f"{x.name}.shape[0]", f"{gy.name}.shape[0]", "the input's batch size differs from the gradient's")
    _same(gen, f"{wshape.name}[0]", f"{gy.name}.shape[1]", "the filters' count differs from the gradient's channels")
    _same(gen, f"{wshape.name}[1]", f"{x.name}.shape[1]", "the filters' channels differ from the input's")
    ph, pw, oh, ow = _conv_geometry(gen, op, f"{x.name}.shape[2]", f"{x.name}.shape[3]", kh, kw)
    _same_spatial(gen, gy, oh, ow)
    sh, sw = op.stride
    _result(gen, gen.kernel_call("nnet.conv2d_grad_weights", *_arrays(gen, 0, 1), *_ints(kh, kw, ph, pw, sh, sw),
                                 (op.flip, "bool"), gen.threads), node)


def _pool_out_length(op, size, d):
    ws, st, pad = op.ws[d], op.stride[d], op.pad[d]
    if op.ignore_border:
        return f"({size} + {2 * pad} - {ws}) // {st} + 1"
    if st >= ws:
        return f"({size} - 1) // {st} + 1"
    return f"max(0, ({size} - 1 - {ws} + {st}) // {st}) + 1"


def _pool_geometry(gen, op, x):
    """Emit the checks of a pooling node on ``x``; returns (lead, h, w, oh,
    ow) names, ``lead`` being the product of the leading dimensions."""
    if op.pad[0] >= op.ws[0] or op.pad[1] >= op.ws[1]:
        gen.check("True", f"padding {op.pad} must be smaller than the window {op.ws}")
    n = x.ndim
    lead, h, w, oh, ow = (gen.tmp(p) for p in ("lead", "h", "w", "oh", "ow"))
    gen.line(f"{lead} = {' * '.join(f'{x.name}.shape[{d}]' for d in range(n - 2)) or '1'}")
    gen.line(f"{h}, {w} = {x.name}.shape[{n - 2}], {x.name}.shape[{n - 1}]")
    gen.check(f"{h} < 1 or {w} < 1", "pooled dimensions must be non-empty, got ({0}, {1})", h, w)
    gen.line(f"{oh} = {_pool_out_length(op, h, 0)}")
    gen.line(f"{ow} = {_pool_out_length(op, w, 1)}")
    gen.check(f"{oh} <= 0 or {ow} <= 0", f"window {op.ws} larger than the padded input ({{0}}, {{1}})",
              f"{h} + {2 * op.pad[0]}", f"{w} + {2 * op.pad[1]}")
    return lead, h, w, oh, ow


def _as4d(gen, i, lead, h, w, dtype=None):
    """Input ``i`` as a kernel argument: a C-contiguous (lead, 1, h, w)
    array (or itself when 4-d), cast to ``dtype`` if given."""
    info = gen.ins[i]
    dtype = dtype or info.dtype
    expr = gen.c_array(i, dtype)
    if info.ndim != 4:
        expr = f"{expr}.reshape(({lead}, 1, {h}, {w}))"
    return expr, dtype, 4


def _pool_args(gen, op):
    return [*_ints(*op.ws, *op.stride, *op.pad), (op.ignore_border, "bool"), (pool_mode_code(op.mode), "int64"),
            gen.threads]


def _unflatten(gen, info, out, oh, ow):
    if info.ndim != 4:
        shape = "".join(f"{info.name}.shape[{d}], " for d in range(info.ndim - 2))
        gen.line(f"{out} = {out}.reshape(({shape}{oh}, {ow}))")


@register_kernel(Pool2d)
def emit_pool2d(op, node, gen):
    (x,), out = gen.ins, gen.outs[0]
    lead, h, w, oh, ow = _pool_geometry(gen, op, x)
    x4 = _as4d(gen, 0, lead, h, w, node.outputs[0].dtype)
    gen.line(f"{out} = {gen.kernel_call('nnet.pool2d_forward', x4, *_pool_args(gen, op))}")
    _unflatten(gen, x, out, oh, ow)


@register_kernel(Pool2dGrad)
def emit_pool2d_grad(op, node, gen):
    (x, y, gy), out = gen.ins, gen.outs[0]
    lead, h, w, oh, ow = _pool_geometry(gen, op, x)
    for info, what in ((gy, "output gradient"), (y, "pooled output")):
        if op.mode != "max" and info is y:
            continue
        for d, length in ((info.ndim - 2, oh), (info.ndim - 1, ow)):
            _same(gen, f"{info.name}.shape[{d}]", length, f"the {what} has the wrong length at dimension {d}")
        for d in range(info.ndim - 2):
            _same(gen, f"{info.name}.shape[{d}]", f"{x.name}.shape[{d}]",
                  f"the {what} has the wrong length at dimension {d}")
    dtype = node.outputs[0].dtype
    x4 = _as4d(gen, 0, lead, h, w, None if x.dtype == dtype or op.mode == "max" else dtype)
    y4, gy4 = _as4d(gen, 1, lead, oh, ow), _as4d(gen, 2, lead, oh, ow)
    gen.line(f"{out} = {gen.kernel_call('nnet.pool2d_grad', x4, y4, gy4, *_pool_args(gen, op))}")
    _unflatten(gen, x, out, h, w)


def _softmax(kernel):
    def emit(op, node, gen):
        (x,), out = gen.ins, gen.outs[0]
        n, axis = x.ndim, op.axis % x.ndim
        if axis == n - 1:
            rows = gen.c_array(0) + f".reshape(({x.name}.size // {x.name}.shape[{axis}] if {x.name}.shape[{axis}] " \
                f"else 0, {x.name}.shape[{axis}]))"
            gen.line(f"{out} = {gen.kernel_call('nnet.' + kernel, (rows, x.dtype, 2))}")
            gen.line(f"{out} = {out}.reshape({gen.shape_tuple(0)})")
            return
        perm = tuple(d for d in range(n) if d != axis) + (axis,)
        back = tuple(perm.index(d) for d in range(n))
        moved = gen.tmp("m")
        gen.line(f"{moved} = np.ascontiguousarray({x.name}.transpose({perm!r}))")
        rows = f"{moved}.reshape(({moved}.size // {moved}.shape[{n - 1}] if {moved}.shape[{n - 1}] else 0, " \
            f"{moved}.shape[{n - 1}]))"
        gen.line(f"{out} = {gen.kernel_call('nnet.' + kernel, (rows, x.dtype, 2))}")
        gen.line(f"{out} = np.ascontiguousarray({out}.reshape({moved}.shape).transpose({back!r}))")
    return emit


register_kernel(Softmax)(_softmax("softmax_lastaxis"))
register_kernel(LogSoftmax)(_softmax("log_softmax_lastaxis"))


@register_kernel(CrossentropySoftmax)
def emit_crossentropy_softmax(op, node, gen):
    """-sum(y * log_softmax(x), axis=-1), one pass per row for the max, the
    log-sum-exp and the weighted sum (float64 accumulators)."""
    (x, y), out = gen.ins, gen.outs[0]
    xv, yv = node.inputs
    r = xv.ndim
    lengths = []
    for d in range(r - 1):
        providers = [(info, var) for info, var in ((x, xv), (y, yv)) if not var.broadcastable[d]]
        if not providers:
            lengths.append("1")
            continue
        name = gen.tmp("n")
        gen.line(f"{name} = {providers[0][0].name}.shape[{d}]")
        if len(providers) == 2:
            gen.check(f"{y.name}.shape[{d}] != {name}",
                      f"the targets have length {{0}} at dimension {d}, the logits {{1}}", f"{y.name}.shape[{d}]", name)
        lengths.append(name)
    kx, ky = gen.tmp("kx"), gen.tmp("ky")
    gen.line(f"{kx} = {x.name}.shape[{r - 1}]")
    gen.line(f"{ky} = {y.name}.shape[{r - 1}]")
    gen.check(f"{kx} == 0", "softmax over an empty last dimension")
    if not (xv.broadcastable[-1] or yv.broadcastable[-1]):
        gen.check(f"{ky} != {kx}", "the targets have {0} classes, the logits {1}", ky, kx)
    klen = ky if xv.broadcastable[-1] else kx
    gen.line(f"{out} = np.empty(({''.join(n + ', ' for n in lengths)}), {dtype_expr(node.outputs[0].dtype)})")
    depth = gen.src.depth
    for d in range(r - 1):
        gen.src.line(f"for i{d} in range({lengths[d]}):")
        gen.src.depth += 1

    def at(var, k):
        lead = ["0" if var.broadcastable[d] else f"i{d}" for d in range(r - 1)]
        return ", ".join(lead + ["0" if var.broadcastable[-1] else k])

    m, s, lse, tot = gen.tmp("m"), gen.tmp("s"), gen.tmp("lse"), gen.tmp("tot")
    gen.line(f"{m} = {x.name}[{at(xv, '0')}]")
    with gen.block(f"for k in range(1, {kx}):"):
        gen.line(f"v = {x.name}[{at(xv, 'k')}]")
        with gen.block(f"if v > {m} or v != v:"):
            gen.line(f"{m} = v")
    gen.line(f"{s} = 0.0")
    with gen.block(f"for k in range({kx}):"):
        gen.line(f"{s} += np.exp(np.float64({x.name}[{at(xv, 'k')}]) - np.float64({m}))")
    gen.line(f"{lse} = np.log({s})")
    gen.line(f"{tot} = 0.0")
    with gen.block(f"for k in range({klen}):"):
        gen.line(f"{tot} += np.float64({y.name}[{at(yv, 'k')}]) * "
                 f"((np.float64({x.name}[{at(xv, 'k')}]) - np.float64({m})) - {lse})")
    gen.line(f"{out}[{', '.join(f'i{d}' for d in range(r - 1)) or '()'}] = -{tot}")
    gen.src.depth = depth
