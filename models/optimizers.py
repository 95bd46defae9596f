"""Gradient-descent updates as symbolic graphs, in the forms of the report.

Each function takes a scalar ``cost`` and a list of shared ``params`` and
returns the list of ``(shared variable, new value)`` pairs to pass to
``symgraph.function(..., updates=...)``, so they compose with any graph.
Optimizer state (velocities, running averages, step counters) lives in new
shared variables that are among the updated variables; their names are the
parameter's name (or ``param<i>``) plus a suffix such as ``.velocity``.
``decay`` is the report's weight decay: it adds ``decay * p`` to the gradient.
"""
from __future__ import annotations

import numpy as np

import symgraph as sg
from symgraph import tensor as T


def _check(lr, decay):
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr}")
    if not decay >= 0:
        raise ValueError(f"decay must be >= 0, got {decay}")


def _grads(cost, params):
    params = list(params)
    if not params:
        raise ValueError("params is empty: give the shared variables to train")
    return params, T.grad(cost, params)


def _state(p, i, suffix, value=0.0):
    """A shared variable shaped like ``p``, filled with ``value``."""
    base = p.name or f"param{i}"
    return sg.shared(np.full_like(p.get_value(borrow=True), value), name=f"{base}.{suffix}")


def sgd(cost, params, lr=0.05, decay=0.0):
    """Plain gradient descent: ``p <- p - lr * (g + decay * p)``."""
    _check(lr, decay)
    params, grads = _grads(cost, params)
    return [(p, p - lr * (g + decay * p)) for p, g in zip(params, grads)]


def momentum(cost, params, lr=0.05, decay=0.0, momentum=0.1):
    """Momentum, as the report's ``sgd_momentum``:
    ``v <- momentum * v - lr * (g + decay * p)``, ``p <- p + v`` (new ``v``)."""
    _check(lr, decay)
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    params, grads = _grads(cost, params)
    updates = []
    for i, (p, g) in enumerate(zip(params, grads)):
        v = _state(p, i, "velocity")
        v_new = momentum * v - lr * (g + decay * p)
        updates += [(p, p + v_new), (v, v_new)]
    return updates


def rmsprop(cost, params, lr=0.001, decay=0.0, rho=0.9, epsilon=1e-6):
    """RMSProp, as the report's ``RMSprop``: ``r <- rho * r + (1 - rho) * g**2``,
    ``p <- p - lr * (g / sqrt(r + epsilon) + decay * p)`` (new ``r``)."""
    _check(lr, decay)
    if not 0 <= rho < 1:
        raise ValueError(f"rho must be in [0, 1), got {rho}")
    params, grads = _grads(cost, params)
    updates = []
    for i, (p, g) in enumerate(zip(params, grads)):
        acc = _state(p, i, "accumulator")
        acc_new = rho * acc + (1 - rho) * g ** 2
        updates += [(acc, acc_new), (p, p - lr * (g / T.sqrt(acc_new + epsilon) + decay * p))]
    return updates


def adam(cost, params, lr=0.001, decay=0.0, beta1=0.9, beta2=0.999, epsilon=1e-8):
    """Adam (Kingma and Ba, 2015) with bias correction; ``g`` includes
    ``decay * p``. ``m <- b1 m + (1-b1) g``, ``s <- b2 s + (1-b2) g**2``,
    ``p <- p - lr * sqrt(1-b2**t)/(1-b1**t) * m / (sqrt(s) + epsilon)``."""
    _check(lr, decay)
    params, grads = _grads(cost, params)
    t = sg.shared(np.float64(0), name="adam.t")  # float64 counter; the scale is cast per parameter
    t_new = t + 1
    scale = lr * T.sqrt(1 - beta2 ** t_new) / (1 - beta1 ** t_new)
    updates = [(t, t_new)]
    for i, (p, g) in enumerate(zip(params, grads)):
        g = g + decay * p
        m, s = _state(p, i, "adam_m"), _state(p, i, "adam_s")
        m_new = beta1 * m + (1 - beta1) * g
        s_new = beta2 * s + (1 - beta2) * g ** 2
        step = T.cast(scale, p.dtype) * m_new / (T.sqrt(s_new) + epsilon)
        updates += [(m, m_new), (s, s_new), (p, p - step)]
    return updates


OPTIMIZERS = {"sgd": sgd, "momentum": momentum, "rmsprop": rmsprop, "adam": adam}


def get(name):
    """The optimizer function called ``name`` (one of :data:`OPTIMIZERS`)."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[name]
