"""Activations, softmax and cross-entropies. Each is a graph of existing
ops, so gradients (and gradients of gradients) come for free; the optimizer
rewrites the unstable compositions (log of softmax, log of sigmoid) into
stable ones."""
import numpy as np

from ...graph.basic import Apply, Op
from ..basic import as_tensor, cast, eq, exp, log, maximum, sigmoid, softplus, switch
from ..reduce import max as tmax
from ..reduce import sum as tsum
from ..shape import arange


def relu(x, alpha=0):
    """max(0, x), or ``alpha * x`` for x < 0 (leaky ReLU) when alpha != 0."""
    x = as_tensor(x)
    if alpha == 0:
        return maximum(x, 0)
    return switch(x > 0, x, alpha * x)


class Softmax(Op):
    """Softmax over ``axis`` (the last by default), computed stably."""

    __props__ = ("axis",)

    def __init__(self, axis=-1):
        self.axis = axis

    def make_node(self, x):
        x = as_tensor(x)
        if np.dtype(x.dtype).kind != "f":
            raise self.type_error(f"expects a float tensor, got {x.type}")
        if x.ndim == 0:
            raise self.type_error("softmax of a scalar")
        return Apply(self, [x], [x.type])

    def perform(self, node, inputs):
        (x,) = inputs
        e = np.exp(x - x.max(axis=self.axis, keepdims=True))
        return [(e / e.sum(axis=self.axis, keepdims=True)).astype(x.dtype)]

    def pullback(self, node, inputs, outputs, output_grads):
        (sm,), (gz,) = outputs, output_grads
        return [(gz - tsum(gz * sm, axis=self.axis, keepdims=True)) * sm]


class LogSoftmax(Op):
    """log(softmax(x)) over ``axis``, computed as x - logsumexp(x)."""

    __props__ = ("axis",)

    def __init__(self, axis=-1):
        self.axis = axis

    make_node = Softmax.make_node

    def perform(self, node, inputs):
        (x,) = inputs
        shifted = x - x.max(axis=self.axis, keepdims=True)
        return [(shifted - np.log(np.exp(shifted).sum(axis=self.axis, keepdims=True))).astype(x.dtype)]

    def pullback(self, node, inputs, outputs, output_grads):
        (lsm,), (gz,) = outputs, output_grads
        return [gz - exp(lsm) * tsum(gz, axis=self.axis, keepdims=True)]


def softmax(x, axis=-1):
    """Softmax over ``axis`` (Theano's ``nnet.softmax`` works on rows)."""
    return Softmax(axis)(x)


def log_softmax(x, axis=-1):
    """log(softmax(x)), stable for large inputs."""
    return LogSoftmax(axis)(x)


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) over ``axis``, computed stably."""
    from ...grad import disconnected_grad
    from ..reduce import normalize_axes
    x = as_tensor(x)
    m = disconnected_grad(tmax(x, axis, keepdims=True))
    out = log(tsum(exp(x - m), axis, keepdims=True)) + m
    if keepdims:
        return out
    axes = normalize_axes(axis, x.ndim)
    return out.dimshuffle([d for d in range(x.ndim) if d not in axes])


def one_hot(labels, n_classes, dtype=None):
    """Rows of ``n_classes`` with a 1 at each label (int vector)."""
    labels = as_tensor(labels)
    hot = eq(labels.dimshuffle(0, "x"), arange(n_classes).dimshuffle("x", 0))
    return cast(hot, dtype or "floatX")


def categorical_crossentropy(coding_dist, true_dist):
    """-sum(true * log(coding)) per row. ``true_dist`` is a one-hot (or
    probability) matrix, or an int vector of class labels."""
    coding_dist, true_dist = as_tensor(coding_dist), as_tensor(true_dist)
    if true_dist.ndim == coding_dist.ndim - 1 and np.dtype(true_dist.dtype).kind in "iu":
        from ..shape import shape_of
        true_dist = one_hot(true_dist, shape_of(coding_dist)[-1], coding_dist.dtype)
    elif true_dist.ndim != coding_dist.ndim:
        raise TypeError(
            f"categorical_crossentropy: true_dist must be a matrix like coding_dist ({coding_dist.type}) "
            f"or an int vector of labels, got {true_dist.type}"
        )
    sm = coding_dist.owner
    if (sm is not None and isinstance(sm.op, Softmax) and sm.op.axis % coding_dist.ndim == coding_dist.ndim - 1
            and np.dtype(true_dist.dtype).kind == "f"):
        from .fused import CrossentropySoftmax  # from the logits: stable value, gradient softmax - y
        return CrossentropySoftmax()(sm.inputs[0], true_dist)
    return -tsum(true_dist * log(coding_dist), axis=-1)


def binary_crossentropy(output, target):
    """-(target * log(output) + (1 - target) * log(1 - output))."""
    output, target = as_tensor(output), as_tensor(target)
    sig = output.owner
    if (sig is not None and getattr(sig.op, "scalar_op", None) is not None and sig.op.scalar_op.name == "sigmoid"
            and sig.inputs[0].dtype == output.dtype and np.dtype(target.dtype).kind == "f"):
        return sigmoid_binary_crossentropy(sig.inputs[0], target)  # from the logits: stable value and gradient
    return -(target * log(output) + (1 - target) * log(1 - output))


def sigmoid_binary_crossentropy(logits, target):
    """The binary cross-entropy of sigmoid(logits), from the logits."""
    return softplus(logits) - target * logits


def ultra_fast_sigmoid(x):
    """Theano's approximation, here the exact sigmoid."""
    return sigmoid(x)


__all__ = ["relu", "sigmoid", "softplus", "softmax", "log_softmax", "logsumexp", "one_hot",
           "categorical_crossentropy", "binary_crossentropy", "sigmoid_binary_crossentropy",
           "Softmax", "LogSoftmax"]
