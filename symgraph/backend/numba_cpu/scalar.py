"""Scalar code for the ops of ``symgraph.tensor.scalar``: each ScalarOp
name maps to a function that returns a Python expression (Numba-typable)
computing one element, with NumPy's semantics: operands are converted to
the dtype NumPy computes in, the result to the node's dtype."""
import numpy as np

from ...tensor.scalar import Cast, Composite, float_of, upcast

SCALAR_CODE = {}


def np_type(dtype):
    """The generated-code name of ``dtype``'s scalar constructor."""
    return "np.bool_" if dtype == "bool" else f"np.{dtype}"


def convert(expr, src, dst):
    """``expr`` (a scalar of dtype ``src``) as a ``dst`` scalar."""
    if src == dst:
        return expr
    if dst == "bool":
        return f"({expr} != 0)"
    if np.dtype(dst).kind == "u" and np.dtype(src).kind == "f":
        expr = f"np.int64({expr})"  # as NumPy on x86: negative floats wrap like ints
    return f"{np_type(dst)}({expr})"


def literal(value, dtype):
    """A scalar constant of ``dtype`` as generated code (exact for floats)."""
    value = np.asarray(value, dtype=dtype).item()
    if dtype == "bool":
        return "True" if value else "False"
    if np.dtype(dtype).kind == "f":
        if np.isnan(value):
            return f"{np_type(dtype)}(np.nan)"
        if np.isinf(value):
            return f"{np_type(dtype)}({'-' if value < 0 else ''}np.inf)"
        return f"{np_type(dtype)}({float(value)!r})"
    return f"{np_type(dtype)}({int(value)})"


def scalar_op(*names):
    def deco(fn):
        for name in names:
            SCALAR_CODE[name] = fn
        return fn
    return deco


class ScalarWriter:
    """Writes the statements of one element of a (Composite) scalar graph.
    ``tmp`` makes fresh local names; statements go to ``lines``."""

    def __init__(self, tmp):
        self.tmp, self.lines = tmp, []

    def let(self, expr):
        name = self.tmp("t")
        self.lines.append(f"{name} = {expr}")
        return name

    def apply(self, op, args, out_dtypes):
        """Code for ``op`` on ``args`` ((expr, dtype) pairs): one expression
        per output, each already of its dtype in ``out_dtypes``."""
        if isinstance(op, Composite):
            values = list(args)
            for sub, arg_idx, dtype in op.nodes:
                (expr,) = self.apply(sub, [values[a] for a in arg_idx], [dtype])
                values.append((expr, dtype))
            return [convert(values[i][0], values[i][1], dt) for i, dt in zip(op.outputs, out_dtypes)]
        if isinstance(op, Cast):
            (expr, dtype), = args
            return [self.let(convert(expr, dtype, out_dtypes[0]))]
        if op.name not in SCALAR_CODE:
            raise NotImplementedError(f"numba backend: no scalar code for the scalar op {op.name!r}")
        out = out_dtypes[0]
        return [self.let(convert(SCALAR_CODE[op.name](self, args, out), _result_dtype(op, args, out), out))]


def _result_dtype(op, args, out):
    """The dtype of what SCALAR_CODE[op.name] returns."""
    if op.dtype_rule == "bool":
        return "bool"
    return out


def _common(args, dtype=None):
    """Every operand converted to ``dtype`` (default: NumPy's upcast)."""
    dtype = dtype or upcast(*[dt for _, dt in args])
    return [convert(e, dt, dtype) for e, dt in args], dtype


def _truth(expr, dtype):
    return expr if dtype == "bool" else f"({expr} != 0)"


def _nary(symbol, bool_symbol):
    def code(w, args, out):
        xs, dtype = _common(args, out)
        # NumPy adds booleans as logical or and multiplies them as logical and
        return "(" + f" {bool_symbol if dtype == 'bool' else symbol} ".join(xs) + ")"
    return code


scalar_op("add")(_nary("+", "or"))
scalar_op("mul")(_nary("*", "and"))


def _binary(symbol):
    def code(w, args, out):
        (a, b), _ = _common(args, out)
        return f"({a} {symbol} {b})"
    return code


for _name, _sym in (("sub", "-"), ("true_div", "/"), ("int_div", "//"), ("mod", "%"), ("pow", "**")):
    scalar_op(_name)(_binary(_sym))


def _unary_np(fn):
    def code(w, args, out):
        (a,), _ = _common(args, out)
        return f"np.{fn}({a})"
    return code


for _name, _fn in (("floor", "floor"), ("round", "rint"), ("exp", "exp"), ("log", "log"), ("log1p", "log1p"),
                   ("expm1", "expm1"), ("sqrt", "sqrt"), ("tanh", "tanh"), ("sin", "sin"), ("cos", "cos"),
                   ("sgn", "sign")):
    scalar_op(_name)(_unary_np(_fn))


@scalar_op("neg")
def _neg(w, args, out):
    (a,), _ = _common(args, out)
    return f"(-{a})"


@scalar_op("abs")
def _abs(w, args, out):
    (a,), _ = _common(args, out)
    return f"abs({a})"


@scalar_op("sqr")
def _sqr(w, args, out):
    (a,), _ = _common(args, out)
    a = w.let(a)
    return f"({a} * {a})"


@scalar_op("sigmoid")
def _sigmoid(w, args, out):
    # as tensor.scalar._sigmoid: exp of a non-positive number only
    (a,), _ = _common(args, out)
    x = w.let(a)
    one = literal(1, out)
    e = w.let(f"np.exp(-abs({x}))")
    return f"(({one} / ({one} + {e})) if {x} >= 0 else ({e} / ({one} + {e})))"


@scalar_op("softplus")
def _softplus(w, args, out):
    # NumPy's logaddexp(0, x) = max(x, 0) + log1p(exp(-|x|)), without branches
    (a,), _ = _common(args, out)
    x = w.let(a)
    zero = literal(0, out)
    return f"(({x} if ({x} >= {zero} or {x} != {x}) else {zero}) + np.log1p(np.exp(-abs({x}))))"


def _extremum(compare):
    def code(w, args, out):
        (a, b), _ = _common(args, out)
        a, b = w.let(a), w.let(b)
        # NumPy propagates NaN from either side
        return f"({a} if ({a} {compare} {b} or {a} != {a}) else {b})"
    return code


scalar_op("maximum")(_extremum(">="))
scalar_op("minimum")(_extremum("<="))


@scalar_op("clip")
def _clip(w, args, out):
    (x, lo, hi), _ = _common(args, out)
    low = _extremum(">=")(w, [(x, out), (lo, out)], out)
    return _extremum("<=")(w, [(low, out), (hi, out)], out)


@scalar_op("switch")
def _switch(w, args, out):
    (c, cdt), a, b = args
    return f"({convert(a[0], a[1], out)} if {_truth(c, cdt)} else {convert(b[0], b[1], out)})"


@scalar_op("second")
def _second(w, args, out):
    return convert(args[1][0], args[1][1], out)


def _compare(symbol):
    def code(w, args, out):
        (a, b), _ = _common(args)
        return f"({a} {symbol} {b})"
    return code


for _name, _sym in (("eq", "=="), ("neq", "!="), ("lt", "<"), ("le", "<="), ("gt", ">"), ("ge", ">=")):
    scalar_op(_name)(_compare(_sym))


def _bitwise(symbol):
    def code(w, args, out):
        xs, _ = _common(args, out)
        return "(" + f" {symbol} ".join(xs) + ")"
    return code


# bitwise on ints, logical on booleans (NumPy's & | ^ ~)
scalar_op("and_")(_bitwise("&"))
scalar_op("or_")(_bitwise("|"))
scalar_op("xor")(_bitwise("^"))


@scalar_op("invert")
def _invert(w, args, out):
    (a,), _ = _common(args, out)
    return f"(not {a})" if out == "bool" else f"(~{a})"


def _float_test(fn):
    def code(w, args, out):
        (a, dt), = args
        return f"np.{fn}({a})" if np.dtype(dt).kind in "fc" else "False"
    return code


scalar_op("isnan")(_float_test("isnan"))
scalar_op("isinf")(_float_test("isinf"))


def computation_dtype(op, in_dtypes):
    """The dtype NumPy computes ``op`` in (its 'float' ops go to a float)."""
    t = upcast(*in_dtypes)
    return float_of(t) if op.dtype_rule == "float" else t
