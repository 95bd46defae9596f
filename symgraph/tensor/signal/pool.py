"""Theano's ``signal.pool.pool_2d`` and its gradient, as ops."""
import numpy as np

from ...errors import ExecutionError
from ...graph.basic import Apply, Op
from ...graph.type import TensorType
from ..basic import as_tensor, cast
from . import pool_impl


def _pair(v, name):
    pair = (v, v) if isinstance(v, (int, np.integer)) else tuple(v)
    if len(pair) != 2:
        raise ValueError(f"pool_2d: {name} must be an int or a pair, got {v!r}")
    return tuple(int(p) for p in pair)


class _PoolBase(Op):
    __props__ = ("ws", "ignore_border", "stride", "pad", "mode")

    def __init__(self, ws, ignore_border=True, stride=None, pad=(0, 0), mode="max"):
        self.ws = _pair(ws, "ws")
        self.stride = _pair(stride, "stride") if stride is not None else self.ws
        self.pad = _pair(pad, "pad")
        self.ignore_border = bool(ignore_border)
        self.mode = "average_inc_pad" if mode == "average" else mode
        if self.mode not in ("max", "sum", "average_inc_pad", "average_exc_pad"):
            raise ValueError(f"pool_2d: unknown mode {mode!r}; use 'max', 'sum', 'average_inc_pad' or 'average_exc_pad'")
        if self.pad != (0, 0) and not self.ignore_border:
            raise ValueError("pool_2d: padding requires ignore_border=True")

    def params(self):
        return dict(ws=self.ws, ignore_border=self.ignore_border, stride=self.stride, pad=self.pad, mode=self.mode)

    def _run(self, fn, *args):
        try:
            return fn(*args, **self.params())
        except ValueError as exc:
            raise ExecutionError(f"{self}: {exc}") from exc


class Pool2d(_PoolBase):
    """Pooling over the last two dimensions."""

    def make_node(self, x):
        x = as_tensor(x)
        if x.ndim < 2:
            raise self.type_error(f"expects a tensor of rank >= 2, got {x.type}")
        static_hw = x.type.shape[-2:]
        # an unknown length stands in as the window size (always valid), then is dropped
        try:
            out_hw = pool_impl.pool_output_shape([self.ws[i] if n is None else n for i, n in enumerate(static_hw)],
                                                 self.ws, self.ignore_border, self.stride, self.pad)
        except ValueError as exc:
            raise self.type_error(str(exc)) from None
        out_hw = [None if n is None else o for n, o in zip(static_hw, out_hw)]
        dtype = x.dtype if self.mode in ("max", "sum") or np.dtype(x.dtype).kind == "f" else "float64"
        return Apply(self, [x], [TensorType(dtype, x.type.shape[:-2] + tuple(out_hw))])

    def perform(self, node, inputs):
        return [np.asarray(self._run(pool_impl.pool2d_forward, inputs[0]), dtype=node.outputs[0].dtype)]

    def pullback(self, node, inputs, outputs, output_grads):
        (x,), (y,), (gy,) = inputs, outputs, output_grads
        if np.dtype(x.dtype).kind != "f":
            return [None]
        return [cast(Pool2dGrad(**self.params())(x, y, gy), x.dtype)]


class Pool2dGrad(_PoolBase):
    """The gradient of Pool2d: inputs x, the pooled y and its gradient."""

    def make_node(self, x, y, gy):
        x, y, gy = as_tensor(x), as_tensor(y), as_tensor(gy)
        return Apply(self, [x, y, gy], [TensorType(np.result_type(x.dtype, gy.dtype).name, x.type.shape)])

    def perform(self, node, inputs):
        x, y, gy = inputs
        return [np.asarray(self._run(pool_impl.pool2d_grad, x, y, gy), dtype=node.outputs[0].dtype)]

    def pullback(self, node, inputs, outputs, output_grads):
        raise NotImplementedError(
            f"{self}: second derivatives through pooling are not implemented"
        )


def pool_2d(input, ws=None, ignore_border=None, stride=None, pad=(0, 0), mode="max", ds=None, st=None,
            padding=None):
    """Theano's ``pool_2d``: pool the last two dimensions of ``input`` with
    window ``ws``, ``stride`` (default ``ws``) and zero ``pad``. ``mode`` is
    'max', 'sum', 'average_inc_pad' (or 'average') or 'average_exc_pad'.
    ``ds``/``st``/``padding`` are Theano's old names."""
    ws = ws if ws is not None else ds
    if ws is None:
        raise TypeError("pool_2d: give the window size ws")
    stride = stride if stride is not None else st
    pad = padding if padding is not None else pad
    if ignore_border is None:
        ignore_border = True
    return Pool2d(ws, ignore_border, stride, pad, mode)(input)


pool2d = pool_2d
