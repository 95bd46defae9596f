"""Products (tiled GEMM), softmax and crossentropy, conv2d and its
gradients, pool_2d and its gradient."""
import numpy as np

from ...tensor.blas import Dot
from ...tensor.blas_ops import Gemm
from ...tensor.elemwise import check_runtime_broadcast
from ...tensor.nnet.basic import LogSoftmax, Softmax
from ...tensor.nnet.conv import Conv2d, Conv2dGradInput, Conv2dGradWeights
from ...tensor.nnet.conv_impl import conv2d_output_shape
from ...tensor.nnet.fused import CrossentropySoftmax
from ...tensor.signal.pool import Pool2d, Pool2dGrad
from ...tensor.signal.pool_impl import pool_output_shape
from .impl import NodeImpl, pow2_block, register
from .runtime import KernelSpec, numba_type, signature, size_of, template


TILE = 16  # templates/gemm.py's tile
SMALL_GEMM = TILE * TILE  # products with at most this many outputs use gemm_small


def _matrix_view(x, as_row):
    """A vector as a 1 x K (``as_row``) or K x 1 matrix view; matrices as they are."""
    if x.ndim == 2:
        return x
    if as_row:
        return x.view((1, x.shape[0]), (0, x.strides[0]), x.offset)
    return x.view((x.shape[0], 1), (x.strides[0], 0), x.offset)


def _transposed(x):
    return x.view(x.shape[::-1], x.strides[::-1], x.offset)


@register(Dot, Gemm)
class GemmImpl(NodeImpl):
    """Dot and Gemm: the tiled shared-memory kernel; transposes and
    vectors are views, the bias is added in the same kernel."""

    def __init__(self, node, host_vars):
        super().__init__(node, host_vars)
        self.gemm = not isinstance(node.op, Dot)
        self.bias = self.gemm and node.op.bias

    def specs(self):
        types = [v.dtype for v in self.node.inputs[:3]]
        if not self.bias:
            types.append(self.out_dtypes[0])
        arg_types = [numba_type(t) for t in types] + [numba_type(self.out_dtypes[0]), "int64[::1]", "int64"]
        source = template("gemm", self.out_dtypes[0])
        sig = signature(*arg_types)
        return [KernelSpec(source, "gemm", sig), KernelSpec(source, "gemm_small", sig)]

    def __call__(self, a, b, *c):
        if self.gemm:
            a = _transposed(a) if self.op.trans_a else a
            b = _transposed(b) if self.op.trans_b else b
        if a.shape[-1] != b.shape[0]:
            raise self.fail(f"shapes {a.shape} and {b.shape} are not aligned")
        am, bm = _matrix_view(a, True), _matrix_view(b, False)
        (m_, k_), n_ = am.shape, bm.shape[1]
        out_shape = a.shape[:-1] + b.shape[1:] if not self.gemm else (m_, n_)
        if c:
            try:
                out_shape = np.broadcast_shapes(out_shape, c[0].shape)
            except ValueError:
                raise self.fail(f"the bias of shape {c[0].shape} does not broadcast to {out_shape}") from None
            if out_shape != (m_, n_):
                raise self.fail(f"the bias of shape {c[0].shape} would enlarge the product {(m_, n_)}")
        out = self.empty(0, out_shape)
        cc = c[0] if c else out
        cs = cc.broadcast_strides((m_, n_)) if c else (0, 0)
        meta = self.rt.meta(m_, n_, k_, am.offset, *am.strides, bm.offset, *bm.strides, cc.offset, *cs)
        args = (am.buf, bm.buf, cc.buf, out.buf, meta, int(bool(c)))
        if out.size > SMALL_GEMM:
            grid = (min(-(-n_ // TILE), 65535), min(-(-m_ // TILE), 65535))
            self.rt.launch_grid(self.kernels[0], grid, (TILE, TILE), *args)
        else:
            self.rt.launch(self.kernels[1], out.size, *args)
        return [out]


@register(Softmax, LogSoftmax)
class SoftmaxImpl(NodeImpl):
    """One block per row of the softmax axis."""

    def specs(self):
        sig = signature(numba_type(self.node.inputs[0].dtype), numba_type(self.out_dtypes[0]), "int64", "int64",
                        "int64", "int64")
        return [KernelSpec(template("softmax", self.out_dtypes[0]), "softmax", sig)]

    def __call__(self, x):
        x = self.scratch("x", x)
        axis = self.op.axis % x.ndim
        length, inner = x.shape[axis], size_of(x.shape[axis + 1:])
        out = self.empty(0, x.shape)
        nrows = x.size // length if length else 0
        if nrows:
            self.rt.launch_blocks(self.kernels[0], nrows, pow2_block(length, 128), x.flat(), out.buf, length, inner,
                                  nrows, int(isinstance(self.op, LogSoftmax)))
        return [out]


@register(CrossentropySoftmax)
class CrossentropySoftmaxImpl(NodeImpl):
    """-sum(y * log_softmax(x)) along the last axis, one block per row."""

    def specs(self):
        x, y = self.node.inputs
        sig = signature(numba_type(x.dtype), numba_type(y.dtype), numba_type(self.out_dtypes[0]), "int64[::1]",
                        "int64", "int64", "int64")
        return [KernelSpec(template("softmax", self.out_dtypes[0]), "xent_softmax", sig)]

    def __call__(self, x, y):
        check_runtime_broadcast(self.node, [x.shape, y.shape])
        try:
            shape = np.broadcast_shapes(x.shape, y.shape)
        except ValueError:
            raise self.fail(f"logits of shape {x.shape} and targets of shape {y.shape} do not broadcast") from None
        xs, ys = x.broadcast_strides(shape), y.broadcast_strides(shape)
        rows, nd = shape[:-1], len(shape) - 1
        out = self.empty(0, rows)
        meta = self.rt.meta(nd, *rows, x.offset, *xs[:-1], x.strides[-1], y.offset, *ys[:-1], ys[-1])
        if out.size:
            self.rt.launch_blocks(self.kernels[0], out.size, pow2_block(shape[-1], 128), x.buf, y.buf, out.buf,
                                  meta, out.size, shape[-1], x.shape[-1])
        return [out]


class ConvImpl(NodeImpl):
    """conv2d and its gradients (templates/conv.py): contiguous operands;
    the geometry travels in a meta array, computed once per shape."""

    kernel_name = None
    host_inputs = (2,)

    def specs(self):
        types = [v.dtype for v in self.node.inputs[:2]] + [self.out_dtypes[0]]
        sig = signature(*[numba_type(t) for t in types], "int64[::1]", "int64")
        return [KernelSpec(template("conv", self.out_dtypes[0]), self.kernel_name, sig)]

    def geometry(self, xshape, wshape):
        return self.cached((xshape, wshape), lambda: self._geometry(xshape, wshape))

    def _geometry(self, xshape, wshape):
        try:
            n, k, oh, ow = conv2d_output_shape(xshape, wshape, self.op.pad(wshape), self.op.stride)
        except ValueError as exc:
            raise self.fail(str(exc)) from None
        ph, pw = self.op.pad(wshape)
        return self.rt.meta(*xshape, k, *wshape[2:], oh, ow, ph, pw, *self.op.stride, int(self.op.flip)), \
            (n, k, oh, ow)

    def check_gy(self, gy, yshape):
        if gy.shape != yshape:
            raise self.fail(f"output gradient has shape {gy.shape}, expected {yshape}")


@register(Conv2d)
class Conv2dImpl(ConvImpl):
    kernel_name, host_inputs = "conv_forward", ()

    def __call__(self, x, w):
        x, w = self.scratch("x", x), self.scratch("w", w)
        meta, yshape = self.geometry(x.shape, w.shape)
        out = self.empty(0, yshape)
        self.rt.launch(self.kernels[0], out.size, x.flat(), w.flat(), out.buf, meta, out.size)
        return [out]


@register(Conv2dGradInput)
class Conv2dGradInputImpl(ConvImpl):
    kernel_name = "conv_grad_input"

    def __call__(self, gy, w, xshape):
        gy, w = self.scratch("gy", gy), self.scratch("w", w)
        xshape = tuple(int(n) for n in xshape)
        meta, yshape = self.geometry(xshape, w.shape)
        self.check_gy(gy, yshape)
        out = self.empty(0, xshape)
        self.rt.launch(self.kernels[0], out.size, gy.flat(), w.flat(), out.buf, meta, out.size)
        return [out]


@register(Conv2dGradWeights)
class Conv2dGradWeightsImpl(ConvImpl):
    kernel_name = "conv_grad_weights"

    def __call__(self, x, gy, wshape):
        x, gy = self.scratch("x", x), self.scratch("gy", gy)
        wshape = tuple(int(n) for n in wshape)
        meta, yshape = self.geometry(x.shape, wshape)
        self.check_gy(gy, yshape)
        out = self.empty(0, wshape)
        if out.size:
            npix = yshape[0] * yshape[2] * yshape[3]
            self.rt.launch_blocks(self.kernels[0], out.size, pow2_block(npix, 128), x.flat(), gy.flat(), out.buf,
                                  meta, out.size)
        return [out]


POOL_MODES = {"max": 0, "sum": 1, "average_inc_pad": 2, "average_exc_pad": 3}  # templates/pool.py


class PoolImpl(NodeImpl):
    """pool_2d and its gradient (templates/pool.py): a thread per output
    (forward) or per input element (gradient, gathering from its windows)."""

    def geometry(self, xshape):
        return self.cached(xshape, lambda: self._geometry(xshape))

    def _geometry(self, xshape):
        op = self.op
        try:
            out_shape = pool_output_shape(xshape, op.ws, op.ignore_border, op.stride, op.pad)
        except ValueError as exc:
            raise self.fail(str(exc)) from None
        meta = self.rt.meta(*xshape[-2:], *out_shape[-2:], *op.ws, *op.stride, *op.pad, POOL_MODES[op.mode])
        return meta, out_shape


@register(Pool2d)
class Pool2dImpl(PoolImpl):
    """Max padding never wins: windows start from the dtype's lowest value."""

    def specs(self):
        t = self.out_dtypes[0]
        sig = signature(numba_type(self.node.inputs[0].dtype), numba_type(t), "int64[::1]", "int64",
                        numba_type(t, ""))
        return [KernelSpec(template("pool", t), "pool_forward", sig)]

    def __call__(self, x):
        x = self.scratch("x", x)
        meta, out_shape = self.geometry(x.shape)
        out = self.empty(0, out_shape)
        t = np.dtype(self.out_dtypes[0])
        lowest = t.type(-np.inf) if t.kind == "f" else t.type(np.iinfo(t).min) if t.kind in "iu" else t.type(0)
        self.rt.launch(self.kernels[0], out.size, x.flat(), out.buf, meta, out.size, lowest)
        return [out]


@register(Pool2dGrad)
class Pool2dGradImpl(PoolImpl):
    """Max: every input equal to its window's max gets the gradient (ties too)."""

    def specs(self):
        types = [v.dtype for v in self.node.inputs] + [self.out_dtypes[0]]
        sig = signature(*[numba_type(t) for t in types], "int64[::1]", "int64")
        return [KernelSpec(template("pool", self.out_dtypes[0]), "pool_grad", sig)]

    def __call__(self, x, y, gy):
        x, y, gy = self.scratch("x", x), self.scratch("y", y), self.scratch("gy", gy)
        meta, out_shape = self.geometry(x.shape)
        for name, v in (("forward output", y), ("output gradient", gy)):
            if v.shape != out_shape:
                raise self.fail(f"{name} has shape {v.shape}, expected {out_shape}")
        out = self.empty(0, x.shape)
        self.rt.launch(self.kernels[0], out.size, x.flat(), y.flat(), gy.flat(), out.buf, meta, out.size)
        return [out]
