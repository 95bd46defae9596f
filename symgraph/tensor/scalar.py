"""Scalar operations: what an Elemwise node computes at each element.

Each ScalarOp has a NumPy implementation (the oracle), a dtype rule, and its
gradient written with tensor operations, next to each other. Backends map a
ScalarOp's ``name`` to their own code; the op itself knows no backend.
"""
import numpy as np

from ..graph.type import canonical_dtype


def upcast(*dtypes):
    return np.result_type(*dtypes).name


def float_of(dtype):
    """Theano's rule for ops that need a float: small ints to float32,
    large ones to float64, floats unchanged."""
    if np.dtype(dtype).kind == "f":
        return np.dtype(dtype).name
    if np.dtype(dtype).itemsize <= 2:
        return "float32"
    return "float64"


class ScalarOp:
    """An elementwise operation on scalars.

    ``impl`` takes and returns NumPy arrays; ``grad(inputs, output, gz)``
    returns one tensor expression (or None for zero) per input; ``dtype_rule``
    is 'upcast', 'float', 'bool', 'bitwise' (ints/bools only), 'switch' or 'second'.
    """

    def __init__(self, name, nin, impl, grad, dtype_rule="upcast", commutative=False):
        self.name, self.nin, self.impl, self.grad = name, nin, impl, grad
        self.dtype_rule, self.commutative = dtype_rule, commutative

    nout = 1

    def output_dtypes(self, dtypes):
        """One dtype per output (ScalarOps have one; Composites may have more)."""
        return [self.output_dtype(dtypes)]

    def output_dtype(self, dtypes):
        rule = self.dtype_rule
        if rule == "upcast":
            return upcast(*dtypes)
        if rule == "float":
            return float_of(upcast(*dtypes))
        if rule == "bool":
            return "bool"
        if rule == "switch":
            return upcast(*dtypes[1:])
        if rule == "second":
            return dtypes[1]
        if rule == "bitwise":
            if any(np.dtype(d).kind not in "biu" for d in dtypes):
                raise TypeError(f"{self.name} is bitwise: it takes int or bool inputs, got {list(dtypes)}")
            return upcast(*dtypes)
        raise ValueError(rule)

    def input_check(self, nin):
        return self.nin is None or nin == self.nin

    def compute(self, inputs, out_dtype):
        """``impl`` on NumPy ``inputs``; ops of the 'float' rule first convert
        non-float inputs to ``out_dtype`` (NumPy would compute int8 in float16)."""
        if self.dtype_rule == "float":
            inputs = [x if x.dtype.kind == "f" else x.astype(out_dtype) for x in inputs]
        return self.impl(*inputs)

    def _key(self):
        return (self.name,)

    def __eq__(self, other):
        return isinstance(other, ScalarOp) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return self.name


class Cast(ScalarOp):
    """Conversion to ``dtype``."""

    def __init__(self, dtype):
        dtype = canonical_dtype(dtype)
        super().__init__(f"cast_{dtype}", 1, lambda x: x.astype(dtype), _grad_cast)
        self.dtype = dtype

    def output_dtype(self, dtypes):
        return self.dtype


def _T():
    from .. import tensor
    return tensor


def _grad_cast(inputs, out, gz):
    (x,) = inputs
    return [_T().cast(gz, x.dtype) if np.dtype(x.dtype).kind == "f" else None]


def _grad_mul(inputs, out, gz):
    T = _T()
    grads = []
    for i in range(len(inputs)):
        others = inputs[:i] + inputs[i + 1:]
        grads.append(T.mul(gz, *others) if others else gz)
    return grads


def _grad_pow(inputs, out, gz):
    T = _T()
    x, y = inputs
    return [gz * y * T.pow(x, y - 1), gz * T.log(x) * out]


def _zero_grads(inputs, out, gz):
    return [None] * len(inputs)


def _grad_maximum(inputs, out, gz):
    T = _T()
    x, y = inputs
    return [T.switch(T.ge(x, y), gz, 0), T.switch(T.lt(x, y), gz, 0)]


def _grad_minimum(inputs, out, gz):
    T = _T()
    x, y = inputs
    return [T.switch(T.le(x, y), gz, 0), T.switch(T.gt(x, y), gz, 0)]


def _grad_clip(inputs, out, gz):
    T = _T()
    x, lo, hi = inputs
    inside = T.and_(T.ge(x, lo), T.le(x, hi))
    return [T.switch(inside, gz, 0), T.switch(T.lt(x, lo), gz, 0), T.switch(T.gt(x, hi), gz, 0)]


def _grad_switch(inputs, out, gz):
    T = _T()
    c, a, b = inputs
    return [None, T.switch(c, gz, 0), T.switch(c, 0, gz)]


def _sigmoid(x):
    # exp of a non-positive number only: no overflow warning for large |x|
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype)


def _softplus(x):
    return np.logaddexp(np.zeros((), x.dtype), x)


def _int_div(x, y):
    return np.floor_divide(x, y)


def _make_table():
    T = _T
    ops = [
        ScalarOp("add", None, lambda *xs: _reduce(np.add, xs), lambda i, o, g: [g] * len(i), commutative=True),
        ScalarOp("mul", None, lambda *xs: _reduce(np.multiply, xs), _grad_mul, commutative=True),
        ScalarOp("sub", 2, np.subtract, lambda i, o, g: [g, -g]),
        ScalarOp("true_div", 2, np.true_divide, lambda i, o, g: [g / i[1], -g * i[0] / (i[1] * i[1])], "float"),
        ScalarOp("int_div", 2, _int_div, _zero_grads),
        ScalarOp("mod", 2, np.mod, lambda i, o, g: [g, -g * T().int_div(i[0], i[1])]),
        ScalarOp("pow", 2, np.power, _grad_pow),
        ScalarOp("neg", 1, np.negative, lambda i, o, g: [-g]),
        ScalarOp("abs", 1, np.abs, lambda i, o, g: [g * T().sgn(i[0])]),
        ScalarOp("sgn", 1, np.sign, _zero_grads),
        ScalarOp("floor", 1, np.floor, _zero_grads, "float"),
        ScalarOp("round", 1, np.round, _zero_grads, "float"),
        ScalarOp("exp", 1, np.exp, lambda i, o, g: [g * o], "float"),
        ScalarOp("log", 1, np.log, lambda i, o, g: [g / i[0]], "float"),
        ScalarOp("log1p", 1, np.log1p, lambda i, o, g: [g / (1 + i[0])], "float"),
        ScalarOp("expm1", 1, np.expm1, lambda i, o, g: [g * (o + 1)], "float"),
        ScalarOp("sqrt", 1, np.sqrt, lambda i, o, g: [g * 0.5 / o], "float"),
        ScalarOp("sqr", 1, np.square, lambda i, o, g: [g * 2 * i[0]]),
        ScalarOp("tanh", 1, np.tanh, lambda i, o, g: [g * (1 - o * o)], "float"),
        ScalarOp("sin", 1, np.sin, lambda i, o, g: [g * T().cos(i[0])], "float"),
        ScalarOp("cos", 1, np.cos, lambda i, o, g: [-g * T().sin(i[0])], "float"),
        ScalarOp("sigmoid", 1, _sigmoid, lambda i, o, g: [g * o * (1 - o)], "float"),
        ScalarOp("softplus", 1, _softplus, lambda i, o, g: [g * T().sigmoid(i[0])], "float"),
        ScalarOp("maximum", 2, np.maximum, _grad_maximum, commutative=True),
        ScalarOp("minimum", 2, np.minimum, _grad_minimum, commutative=True),
        ScalarOp("clip", 3, np.clip, _grad_clip),
        ScalarOp("switch", 3, lambda c, a, b: np.where(c, a, b), _grad_switch, "switch"),
        ScalarOp("second", 2, lambda a, b: np.broadcast_to(b, np.broadcast_shapes(a.shape, b.shape)).copy(),
                 lambda i, o, g: [None, g], "second"),
        ScalarOp("eq", 2, np.equal, _zero_grads, "bool", commutative=True),
        ScalarOp("neq", 2, np.not_equal, _zero_grads, "bool", commutative=True),
        ScalarOp("lt", 2, np.less, _zero_grads, "bool"),
        ScalarOp("le", 2, np.less_equal, _zero_grads, "bool"),
        ScalarOp("gt", 2, np.greater, _zero_grads, "bool"),
        ScalarOp("ge", 2, np.greater_equal, _zero_grads, "bool"),
        # bitwise on ints, logical on bools (NumPy's & | ^ ~, Theano's and_ or_ xor invert)
        ScalarOp("and_", 2, np.bitwise_and, _zero_grads, "bitwise", commutative=True),
        ScalarOp("or_", 2, np.bitwise_or, _zero_grads, "bitwise", commutative=True),
        ScalarOp("xor", 2, np.bitwise_xor, _zero_grads, "bitwise", commutative=True),
        ScalarOp("invert", 1, np.invert, _zero_grads, "bitwise"),
        ScalarOp("isnan", 1, np.isnan, _zero_grads, "bool"),
        ScalarOp("isinf", 1, np.isinf, _zero_grads, "bool"),
    ]
    return {op.name: op for op in ops}


def _reduce(fn, xs):
    out = xs[0]
    for x in xs[1:]:
        out = fn(out, x)
    return out


SCALAR_OPS = _make_table()


class Composite(ScalarOp):
    """A fused scalar graph, computed in one loop by backends.

    ``nodes`` is a tuple of ``(scalar_op, args, dtype)`` in topological
    order, where each arg indexes the values so far: ``0 .. nin-1`` are the
    inputs, ``nin + k`` the result of node ``k``. ``outputs`` indexes the
    values returned. Built by the elemwise-fusion rewrite after
    differentiation, so it has no gradient.
    """

    def __init__(self, nin, nodes, outputs):
        self.nodes, self.outputs, self.nout = tuple(nodes), tuple(outputs), len(outputs)
        names = ",".join(op.name for op, _, _ in self.nodes)
        super().__init__(f"composite{{{names}}}", nin, self._impl, self._no_grad, "composite")

    def _key(self):
        return ("composite", self.nin, self.nodes, self.outputs)

    def value_dtypes(self, input_dtypes):
        return list(input_dtypes) + [dtype for _, _, dtype in self.nodes]

    def output_dtypes(self, input_dtypes):
        dtypes = self.value_dtypes(input_dtypes)
        return [dtypes[i] for i in self.outputs]

    def _impl(self, *inputs):
        values = list(inputs)
        for op, args, dtype in self.nodes:
            values.append(np.asarray(op.compute([np.asarray(values[a]) for a in args], dtype), dtype=dtype))
        results = [values[i] for i in self.outputs]
        return results if self.nout > 1 else results[0]

    def _no_grad(self, inputs, out, gz):
        raise NotImplementedError("a fused Composite has no gradient; differentiate before fusing")
