"""Reverse-mode symbolic differentiation over the graph.

Each op's ``pullback`` maps the gradients of its outputs to the gradients of
its inputs; ``grad`` walks the graph backwards from the cost, summing the
contributions of every path. Gradients are graphs too, so they can be
differentiated again.
"""
import warnings

import numpy as np

from .errors import DisconnectedInputError, GradientError
from .graph.basic import Apply, Op, Variable
from .graph.sourceinfo import user_source, with_source
from .graph.traversal import toposort


def _is_float(var):
    return np.dtype(var.dtype).kind == "f"


def _connected_vars(nodes, wrt, blockers):
    """Variables that depend on some ``wrt`` through differentiable paths."""
    connected = set(wrt)
    for node in nodes:
        if getattr(node.op, "blocks_gradient", False):
            continue
        if any(i in connected for i in node.inputs):
            connected.update(o for o in node.outputs if o not in blockers)
    return connected


def _vars_reaching(nodes, seeds):
    """Variables from which some seed can be reached through differentiable
    paths."""
    reaching = set(seeds)
    for node in reversed(nodes):
        if not getattr(node.op, "blocks_gradient", False) and any(o in reaching for o in node.outputs):
            reaching.update(node.inputs)
    return reaching


def grad(cost, wrt, consider_constant=None, disconnected_inputs="raise", known_grads=None,
         return_disconnected="zero"):
    """Symbolic gradient of the scalar ``cost`` with respect to ``wrt`` (a
    variable or a list).

    ``consider_constant``: variables treated as constants (no gradient flows
    through them). ``known_grads``: {variable: gradient} seeds added to (or
    used instead of, with ``cost=None``) the cost's. ``disconnected_inputs``:
    'raise', 'warn' or 'ignore' when a ``wrt`` does not influence the cost;
    its gradient is then zeros (``return_disconnected='zero'``) or None.
    Gradients have the dtype of their ``wrt``; integer inputs get zeros.
    """
    from .tensor.basic import as_tensor, cast, ones_like, specify_shape, zeros_like
    if disconnected_inputs not in ("raise", "warn", "ignore"):
        raise ValueError(f"disconnected_inputs must be 'raise', 'warn' or 'ignore', got {disconnected_inputs!r}")
    single = not isinstance(wrt, (list, tuple))
    wrt_list = [wrt] if single else list(wrt)
    for w in wrt_list:
        if not isinstance(w, Variable):
            raise TypeError(f"grad: wrt must be symbolic variables, got {type(w).__name__}")
    seeds = {}
    if cost is not None:
        cost = as_tensor(cost)
        if cost.ndim != 0:
            raise GradientError(with_source(
                f"grad: the cost must be a scalar, got {cost.type}; take a sum or mean first",
                cost.source or user_source()))
        if not _is_float(cost):
            raise GradientError(with_source(f"grad: the cost must be a float, got {cost.type}", cost.source))
        seeds[cost] = ones_like(cost)
    elif not known_grads:
        raise ValueError("grad: give a cost or known_grads")
    for var, g in (known_grads or {}).items():
        g = as_tensor(g)
        if g.ndim != var.ndim:
            raise GradientError(f"known_grads: gradient of rank {g.ndim} for {var} of rank {var.ndim}")
        seeds[var] = seeds[var] + g if var in seeds else g

    blockers = set(consider_constant or ())
    nodes = toposort(list(seeds), blockers=blockers)
    connected = _connected_vars(nodes, wrt_list, blockers)
    grads = {v: g for v, g in seeds.items() if v in connected}
    for node in reversed(nodes):
        out_grads = [grads.get(o) for o in node.outputs]
        if all(g is None for g in out_grads) or not any(i in connected for i in node.inputs):
            continue
        if getattr(node.op, "blocks_gradient", False):
            continue
        out_grads = [zeros_like(o) if g is None else g for o, g in zip(node.outputs, out_grads)]
        in_grads = _pullback(node, out_grads)
        for inp, g in zip(node.inputs, in_grads):
            if g is None or inp not in connected or not _is_float(inp):
                continue
            grads[inp] = grads[inp] + g if inp in grads else g

    results = []
    reaching = _vars_reaching(nodes, seeds)
    for w in wrt_list:
        g = grads.get(w)
        if g is None:
            if w not in reaching:
                _disconnected(w, disconnected_inputs)
                if return_disconnected == "None":
                    results.append(None)
                    continue
            g = zeros_like(w, dtype=None if _is_float(w) else "floatX")
        elif g.dtype != w.dtype and _is_float(w):
            g = cast(g, w.dtype)
        if any(s is not None and n is None for s, n in zip(w.type.shape, g.type.shape)):
            g = specify_shape(g, w.type.shape)  # the wrt's static lengths (jacobian/hessian need them)
        results.append(g)
    return results[0] if single else results


def _disconnected(w, policy):
    message = (f"grad: the cost does not depend on {w!r}; pass disconnected_inputs='ignore' "
               f"(or 'warn') if this is intended")
    if policy == "raise":
        raise DisconnectedInputError(with_source(message, w.source))
    if policy == "warn":
        warnings.warn(message, stacklevel=3)


def _pullback(node, out_grads):
    try:
        in_grads = node.op.pullback(node, node.inputs, node.outputs, out_grads)
    except NotImplementedError as exc:
        raise GradientError(with_source(f"no gradient for {node.op}: {exc}", node.source)) from exc
    if len(in_grads) != len(node.inputs):
        raise GradientError(f"{node.op}.pullback returned {len(in_grads)} gradients for {len(node.inputs)} inputs")
    for inp, g in zip(node.inputs, in_grads):
        if g is not None and g.ndim != inp.ndim:
            raise GradientError(
                f"{node.op}.pullback returned a gradient of rank {g.ndim} for an input of rank {inp.ndim}")
    return in_grads


class GradientBlock(Op):
    """Identity in the forward pass; in the backward pass either stops the
    gradient (``disconnected``) or makes it zero."""

    __props__ = ("disconnected",)

    def __init__(self, disconnected):
        self.disconnected = disconnected

    @property
    def blocks_gradient(self):
        return self.disconnected

    def make_node(self, x):
        from .tensor.basic import as_tensor
        x = as_tensor(x)
        return Apply(self, [x], [x.type])

    def perform(self, node, inputs):
        return [inputs[0]]

    def pullback(self, node, inputs, outputs, output_grads):
        from .tensor.basic import zeros_like
        return [None if self.disconnected else zeros_like(inputs[0])]


def disconnected_grad(x):
    """``x``, but the cost is treated as not depending on it through here."""
    return GradientBlock(True)(x)


def zero_grad(x):
    """``x``, with a zero gradient flowing back through it."""
    return GradientBlock(False)(x)


def _static_length(v, what):
    n = v.type.shape[0] if v.ndim else None
    if v.ndim != 1 or n is None:
        raise GradientError(with_source(
            f"{what}: needs a vector of static length, got {v.type}; give it one with "
            f"T.specify_shape(x, (n,))", user_source()))
    return n


def jacobian(expression, wrt, consider_constant=None, disconnected_inputs="raise"):
    """d expression[i] / d wrt, stacked along a new first axis (``expression``
    a vector of static length)."""
    from .tensor.shape import stack
    single = not isinstance(wrt, (list, tuple))
    wrt_list = [wrt] if single else list(wrt)
    n = _static_length(expression, "jacobian")
    rows = [grad(expression[i], wrt_list, consider_constant, disconnected_inputs) for i in range(n)]
    out = [stack([r[k] for r in rows]) for k in range(len(wrt_list))]
    return out[0] if single else out


def hessian(cost, wrt, consider_constant=None, disconnected_inputs="raise"):
    """The Hessian of the scalar ``cost`` for each vector in ``wrt`` (of
    static length)."""
    single = not isinstance(wrt, (list, tuple))
    wrt_list = [wrt] if single else list(wrt)
    out = [jacobian(grad(cost, w, consider_constant, disconnected_inputs), w, consider_constant, disconnected_inputs)
           for w in wrt_list]
    return out[0] if single else out
