"""Stabilize: formulas that overflow or divide by an underflowed number
become ones that stay finite (log of softmax, cross-entropies, log of
sigmoid, and the divisions that gradients of logs leave behind)."""
import numpy as np

from ...tensor import basic as tb
from ...tensor.nnet.basic import LogSoftmax, Softmax
from ...tensor.nnet.fused import CrossentropySoftmax
from ...tensor.reduce import Reduce
from ..engine import rule
from ..patterns import elem, fit, is_const, is_float, made_by


def _last_axis(op, ndim):
    return op.axis % ndim == ndim - 1


def log_softmax_input(var):
    """x when ``var`` is log(softmax(x)) or log_softmax(x) over the last axis."""
    node = made_by(var, LogSoftmax)
    if node is None:
        log = elem(var, "log")
        node = made_by(log.inputs[0], Softmax) if log else None
    if node is None or not _last_axis(node.op, var.ndim):
        return None
    return node.inputs[0]


def log_sigmoid_input(var):
    """x when ``var`` is log(sigmoid(x)) or its stable form -softplus(-x)."""
    log = elem(var, "log")
    if log is not None:
        sig = elem(log.inputs[0], "sigmoid")
        return sig.inputs[0] if sig else None
    neg = elem(var, "neg")
    softplus = elem(neg.inputs[0], "softplus") if neg else None
    inner = elem(softplus.inputs[0], "neg") if softplus else None
    return inner.inputs[0] if inner else None


def log1m_sigmoid_input(var):
    """x when ``var`` is log(1 - sigmoid(x)) or its stable form -softplus(x)."""
    log = elem(var, "log")
    if log is not None:
        sub = elem(log.inputs[0], "sub")
        sig = elem(sub.inputs[1], "sigmoid") if sub and is_const(sub.inputs[0], 1) else None
        return sig.inputs[0] if sig else None
    neg = elem(var, "neg")
    softplus = elem(neg.inputs[0], "softplus") if neg else None
    return softplus.inputs[0] if softplus else None


@rule("stabilize", "log")
def log_softmax(fg, node):
    """log(softmax(x)) -> log_softmax(x)"""
    sm = made_by(node.inputs[0], Softmax)
    return fit(LogSoftmax(sm.op.axis)(sm.inputs[0]), node) if sm else None


@rule("stabilize", Reduce)
def crossentropy_softmax(fg, node):
    """sum(y * log(softmax(x)), axis=-1) -> -CrossentropySoftmax(x, y)
    (matched at the sum, so that every reader of it, gradients included,
    reads the fused op)"""
    op = node.op
    if op.kind != "sum" or op.dtype or op.axes != (node.inputs[0].ndim - 1,):
        return None
    prod = elem(node.inputs[0], "mul")
    if prod is None or len(prod.inputs) != 2:
        return None
    for y, log_sm in (prod.inputs, prod.inputs[::-1]):
        x = log_softmax_input(log_sm)
        if x is not None and is_float(y):
            return fit(tb.neg(CrossentropySoftmax()(x, y)), node)
    return None


@rule("stabilize", "log")
def log_sigmoid(fg, node):
    """log(sigmoid(x)) -> -softplus(-x)"""
    sig = elem(node.inputs[0], "sigmoid")
    return fit(tb.neg(tb.softplus(tb.neg(sig.inputs[0]))), node) if sig else None


@rule("stabilize", "log")
def log1m_sigmoid(fg, node):
    """log(1 - sigmoid(x)) -> -softplus(x)"""
    x = log1m_sigmoid_input(node.outputs[0])
    return fit(tb.neg(tb.softplus(x)), node) if x is not None else None


@rule("stabilize", "log")
def log1p(fg, node):
    """log(1 + x) -> log1p(x);  log(1 + exp(x)) -> softplus(x)"""
    add = elem(node.inputs[0], "add")
    if add is None or len(add.inputs) != 2:
        return None
    for one, x in (add.inputs, add.inputs[::-1]):
        if is_const(one, 1) and all(s == 1 for s in one.type.shape):
            exp = elem(x, "exp")
            return fit(tb.softplus(exp.inputs[0]) if exp else tb.log1p(x), node)
    return None


@rule("stabilize", "log1p")
def log1p_exp(fg, node):
    """log1p(exp(x)) -> softplus(x)"""
    exp = elem(node.inputs[0], "exp")
    return fit(tb.softplus(exp.inputs[0]), node) if exp else None


def _one_plus_exp(var):
    """x when ``var`` is 1 + exp(x)."""
    add = elem(var, "add")
    if add is None or len(add.inputs) != 2:
        return None
    for one, e in (add.inputs, add.inputs[::-1]):
        exp = elem(e, "exp")
        if exp is not None and is_const(one, 1) and all(s == 1 for s in one.type.shape):
            return exp.inputs[0]
    return None


@rule("stabilize", "mul", "true_div")
def exp_over_one_plus_exp(fg, node):
    """exp(x) / (1 + exp(x)) -> sigmoid(x);  (a / (1 + exp(x))) * exp(x) -> a * sigmoid(x)
    (the gradient of log(1 + exp(x)) is the latter)"""
    if node.op.scalar_op.name == "true_div":
        e, d = node.inputs
        x = _one_plus_exp(d)
        exp = elem(e, "exp")
        return fit(tb.sigmoid(x), node) if x is not None and exp is not None and exp.inputs[0] is x else None
    for i, f in enumerate(node.inputs):
        div = elem(f, "true_div")
        x = _one_plus_exp(div.inputs[1]) if div else None
        j = next((k for k, g in enumerate(node.inputs) if x is not None and k != i
                  and elem(g, "exp") and g.owner.inputs[0] is x), None)
        if j is not None:
            rest = [g for k, g in enumerate(node.inputs) if k not in (i, j)]
            return fit(tb.mul(div.inputs[0], tb.sigmoid(x), *rest), node)
    return None


NON_NEGATIVE = ("exp", "sigmoid", "softplus", "sqrt", "abs", "sqr")


def _non_negative(var):
    if elem(var, *NON_NEGATIVE) is not None or made_by(var, Softmax) is not None:
        return True
    data = getattr(var, "data", None)
    return data is not None and bool(np.all(data >= 0))


@rule("stabilize", "exp")
def exp_of_log(fg, node):
    """exp(log(x)) -> x, when x cannot be negative"""
    log = elem(node.inputs[0], "log")
    return fit(log.inputs[0], node) if log and _non_negative(log.inputs[0]) else None


@rule("stabilize", "log")
def log_of_exp(fg, node):
    """log(exp(x)) -> x"""
    exp = elem(node.inputs[0], "exp")
    return fit(exp.inputs[0], node) if exp and is_float(exp.inputs[0]) else None


@rule("stabilize", "sqrt")
def sqrt_of_square(fg, node):
    """sqrt(x * x) -> abs(x) (also for sqr(x) and x ** 2): x * x overflows
    long before x does"""
    inner = elem(node.inputs[0], "mul", "sqr", "pow")
    if inner is None:
        return None
    name, args = inner.op.scalar_op.name, inner.inputs
    square = (name == "sqr" or (name == "mul" and len(args) == 2 and args[0] is args[1])
              or (name == "pow" and is_const(args[1], 2)))
    return fit(tb.abs(args[0]), node) if square else None


def _mul_pair(var):
    node = elem(var, "mul")
    return node.inputs if node is not None and len(node.inputs) == 2 else None


@rule("stabilize", "add")
def sigmoid_crossentropy(fg, node):
    """t * log(sigmoid(a)) + (1 - t) * log(1 - sigmoid(a)) -> t * a - softplus(a)
    (the binary cross-entropy of sigmoid(a), negated, from the logits)"""
    if len(node.inputs) != 2:
        return None
    for first, second in (node.inputs, node.inputs[::-1]):
        p1, p2 = _mul_pair(first), _mul_pair(second)
        if p1 is None or p2 is None:
            continue
        for t, log_sig in (p1, p1[::-1]):
            a = log_sigmoid_input(log_sig)
            if a is None:
                continue
            for one_minus_t, log_1m in (p2, p2[::-1]):
                sub = elem(one_minus_t, "sub")
                if (sub is not None and is_const(sub.inputs[0], 1) and sub.inputs[1] is t
                        and log1m_sigmoid_input(log_1m) is a):
                    return fit(tb.sub(tb.mul(t, a), tb.softplus(a)), node)
    return None


def _signed_terms(var):
    """``var`` as [(sign, term)] when it is a sum, a difference or a
    negation (one level), else [(1, var)]; negations of terms are peeled."""
    node = elem(var, "add", "sub", "neg")
    if node is None:
        terms = [(1, var)]
    elif node.op.scalar_op.name == "add":
        terms = [(1, v) for v in node.inputs]
    elif node.op.scalar_op.name == "sub":
        terms = [(1, node.inputs[0]), (-1, node.inputs[1])]
    else:
        terms = [(-1, node.inputs[0])]
    peeled = []
    for sign, term in terms:
        neg = elem(term, "neg")
        peeled.append((-sign, neg.inputs[0]) if neg else (sign, term))
    return peeled


def _combine(signed):
    (sign, total), rest = signed[0], signed[1:]
    total = total if sign > 0 else tb.neg(total)
    for sign, term in rest:
        total = tb.add(total, term) if sign > 0 else tb.sub(total, term)
    return total


@rule("stabilize", "mul")
def cancel_division(fg, node):
    """(a / b) * b -> a;  (a / b - c) * b -> a - c * b: the divisions that
    gradients of log(p) leave (the pullback of log divides by p, the one of
    p multiplies by p) cancel instead of giving 0/0 when p underflows"""
    factors = node.inputs
    if not is_float(node.outputs[0]):
        return None
    for i, f in enumerate(factors):
        terms = _signed_terms(f)
        divisors = [_divisor_among(term, factors, i) for _, term in terms]
        if all(j is None for j in divisors):
            continue
        new_terms = []
        for (sign, term), j in zip(terms, divisors):
            rest = [g for k, g in enumerate(factors) if k not in (i, j)]
            term = term.owner.inputs[0] if j is not None else term
            new_terms.append((sign, tb.mul(term, *rest) if rest else term))
        return fit(_combine(new_terms), node)
    return None


def _divisor_among(term, factors, skip):
    """The index of the factor (other than ``skip``) that ``term`` divides by."""
    div = elem(term, "true_div")
    if div is None:
        return None
    return next((k for k, g in enumerate(factors) if k != skip and g is div.inputs[1]), None)

