"""conv2d with Theano's meaning, and its two gradients as ops."""
import numpy as np

from ...graph.basic import Apply, Op
from ...graph.type import TensorType
from ..basic import as_tensor, cast
from ..shape import shape
from . import conv_impl


def _conv_out_length(n, k, pad, stride):
    if n is None or k is None or pad is None:
        return None
    return (n + 2 * pad - k) // stride + 1


def normalize_border_mode(border_mode):
    """'valid', 'full', 'half', or a pair of ints (zero padding)."""
    if border_mode in ("valid", "full", "half"):
        return border_mode
    pad = conv_impl.conv_pad(border_mode, (1, 1))
    return "valid" if pad == (0, 0) else pad


class _ConvBase(Op):
    """Convolution ops share ``border_mode`` (the padding, resolved against
    the kernel's shape when it runs), ``stride`` and ``flip``."""

    __props__ = ("border_mode", "stride", "flip")

    def __init__(self, border_mode, stride, flip=True):
        self.border_mode = normalize_border_mode(border_mode)
        self.stride, self.flip = tuple(int(s) for s in stride), bool(flip)

    def pad(self, kshape):
        return conv_impl.conv_pad(self.border_mode, kshape)

    def like(self, cls):
        return cls(self.border_mode, self.stride, self.flip)

    def _check4(self, **tensors):
        for name, t in tensors.items():
            if t.ndim != 4:
                raise self.type_error(f"{name} must be a 4-d tensor, got {t.type}")
            if np.dtype(t.dtype).kind != "f":
                raise self.type_error(f"{name} must be a float tensor, got {t.type}")


class Conv2d(_ConvBase):
    """Convolution of NCHW ``x`` with filters (out, in, kh, kw); a true
    convolution (flipped filters) when ``flip``, as Theano's conv2d."""

    def make_node(self, x, w):
        x, w = as_tensor(x), as_tensor(w)
        self._check4(input=x, filters=w)
        cx, cw = x.type.shape[1], w.type.shape[1]
        if cx is not None and cw is not None and cx != cw:
            raise self.type_error(f"input has {cx} channels but the filters expect {cw}")
        kh, kw = w.type.shape[2:]
        (ph, pw) = self.pad((kh, kw)) if None not in (kh, kw) else (None, None)
        oh = _conv_out_length(x.type.shape[2], kh, ph, self.stride[0])
        ow = _conv_out_length(x.type.shape[3], kw, pw, self.stride[1])
        if (oh is not None and oh <= 0) or (ow is not None and ow <= 0):
            raise self.type_error(f"filters {w.type} larger than the padded input {x.type}")
        dtype = np.result_type(x.dtype, w.dtype).name
        return Apply(self, [x, w], [TensorType(dtype, (x.type.shape[0], w.type.shape[0], oh, ow))])

    def perform(self, node, inputs):
        x, w = inputs
        return [conv_impl.conv2d_forward(x, w, self.pad(w.shape), self.stride, self.flip).astype(node.outputs[0].dtype, copy=False)]

    def pullback(self, node, inputs, outputs, output_grads):
        x, w = inputs
        (gy,) = output_grads
        gx = self.like(Conv2dGradInput)(gy, w, shape(x))
        gw = self.like(Conv2dGradWeights)(x, gy, shape(w))
        return [cast(gx, x.dtype), cast(gw, w.dtype)]


class Conv2dGradInput(_ConvBase):
    """The gradient of Conv2d with respect to its input (a transposed
    convolution): inputs gy, w, and the input's shape."""

    def make_node(self, gy, w, xshape):
        gy, w, xshape = as_tensor(gy), as_tensor(w), as_tensor(xshape)
        self._check4(output_grad=gy, filters=w)
        from ..basic import get_scalar_constant_value
        static = [get_scalar_constant_value(xshape[i]) for i in range(4)]
        static[0] = static[0] if static[0] is not None else gy.type.shape[0]
        static[1] = static[1] if static[1] is not None else w.type.shape[1]
        return Apply(self, [gy, w, xshape], [TensorType(np.result_type(gy.dtype, w.dtype).name, static)])

    def perform(self, node, inputs):
        gy, w, xshape = inputs
        gx = conv_impl.conv2d_grad_input(gy, w, tuple(int(n) for n in xshape), self.pad(w.shape), self.stride, self.flip)
        return [gx.astype(node.outputs[0].dtype, copy=False)]

    def pullback(self, node, inputs, outputs, output_grads):
        gy, w, _ = inputs
        (g,) = output_grads  # the map is linear in gy and in w
        d_gy = self.like(Conv2d)(g, w)
        d_w = self.like(Conv2dGradWeights)(g, gy, shape(w))
        return [cast(d_gy, gy.dtype), cast(d_w, w.dtype), None]


class Conv2dGradWeights(_ConvBase):
    """The gradient of Conv2d with respect to its filters: inputs x, gy and
    the filters' shape."""

    def make_node(self, x, gy, wshape):
        x, gy, wshape = as_tensor(x), as_tensor(gy), as_tensor(wshape)
        self._check4(input=x, output_grad=gy)
        from ..basic import get_scalar_constant_value
        static = [get_scalar_constant_value(wshape[i]) for i in range(4)]
        static[0] = static[0] if static[0] is not None else gy.type.shape[1]
        static[1] = static[1] if static[1] is not None else x.type.shape[1]
        return Apply(self, [x, gy, wshape], [TensorType(np.result_type(x.dtype, gy.dtype).name, static)])

    def perform(self, node, inputs):
        x, gy, wshape = inputs
        gw = conv_impl.conv2d_grad_weights(x, gy, tuple(int(n) for n in wshape), self.pad(wshape), self.stride, self.flip)
        return [gw.astype(node.outputs[0].dtype, copy=False)]

    def pullback(self, node, inputs, outputs, output_grads):
        x, gy, _ = inputs
        (g,) = output_grads
        d_x = self.like(Conv2dGradInput)(gy, g, shape(x))
        d_gy = self.like(Conv2d)(x, g)
        return [cast(d_x, x.dtype), cast(d_gy, gy.dtype), None]


def conv2d(input, filters, input_shape=None, filter_shape=None, border_mode="valid",
           subsample=(1, 1), filter_flip=True, filter_dilation=(1, 1)):
    """Theano's ``nnet.conv2d``: NCHW ``input``, filters (out, in, kh, kw).

    ``border_mode`` is 'valid', 'full', 'half', an int or a pair of ints
    (zero padding); ``subsample`` is the stride; ``filter_flip=True`` makes
    it a true convolution. ``input_shape``/``filter_shape`` may give static
    lengths (None where unknown)."""
    from ..basic import specify_shape
    input, filters = as_tensor(input), as_tensor(filters)
    if tuple(filter_dilation) != (1, 1):
        raise NotImplementedError("conv2d: filter_dilation other than (1, 1) is not supported")
    if input_shape is not None:
        input = specify_shape(input, input_shape)
    if filter_shape is not None:
        filters = specify_shape(filters, filter_shape)
    stride = (subsample, subsample) if isinstance(subsample, int) else tuple(subsample)
    return Conv2d(border_mode, stride, filter_flip)(input, filters)
