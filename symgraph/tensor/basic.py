"""Making tensors: constructors, constants, casting, and the elementwise
vocabulary with Theano's names and NumPy 2's rule for Python numbers."""
import numbers

import numpy as np

from ..config import config
from ..errors import ExecutionError
from ..graph.basic import Apply, Constant, Op, SharedVariable, Variable
from ..graph.type import TensorType, canonical_dtype
from .elemwise import Elemwise
from .scalar import SCALAR_OPS, Cast


def _python_number(x):
    """Python scalars (bool, int, float, complex) are weakly typed; NumPy scalars are not."""
    return isinstance(x, numbers.Number) and not isinstance(x, np.generic)


def constant(value, name=None, dtype=None):
    """A Constant holding ``value``. Python floats become ``config.floatX``,
    Python ints int64, unless ``dtype`` is given."""
    if dtype is not None:
        arr = np.array(value, dtype=canonical_dtype(dtype))
    elif isinstance(value, np.generic):  # NumPy scalars keep their dtype
        arr = np.asarray(value)
    elif isinstance(value, bool):
        arr = np.array(value)
    elif isinstance(value, float):
        arr = np.array(value, dtype=config.floatX)
    elif isinstance(value, int):
        arr = np.array(value, dtype="int64")
    else:
        arr = np.asarray(value)
        if isinstance(value, (list, tuple)) and arr.dtype == np.float64:
            arr = arr.astype(config.floatX)
    return Constant(TensorType(arr.dtype, arr.shape), arr, name=name)


def as_tensor(x, name=None, ndim=None, dtype=None):
    """``x`` as a symbolic tensor: variables pass through, numbers and arrays
    become constants, lists holding variables are stacked."""
    if isinstance(x, Variable):
        var = x
    elif isinstance(x, (list, tuple)) and any(isinstance(e, Variable) for e in x):
        var = stack_scalars(x)
    else:
        var = constant(x, name=name, dtype=dtype)
    if ndim is not None and var.ndim != ndim:
        from ..errors import GraphTypeError
        from ..graph.sourceinfo import user_source, with_source
        raise GraphTypeError(with_source(f"expected a tensor of rank {ndim}, got {var.type}", user_source()))
    return var


as_tensor_variable = as_tensor


def _tensor_constructor(dtype, ndim, shape=None):
    def make(name=None, dtype=dtype, shape=shape):
        shape = shape if shape is not None else (None,) * ndim
        if len(shape) != ndim:
            raise ValueError(f"shape {shape} does not have rank {ndim}")
        return Variable(TensorType(dtype or config.floatX, shape), name=name)
    return make


def tensor(dtype=None, shape=(), name=None):
    """A symbolic input of any rank: ``tensor('float32', (None, 3))``."""
    return Variable(TensorType(dtype or config.floatX, shape), name=name)


scalar = _tensor_constructor(None, 0)
vector = _tensor_constructor(None, 1)
matrix = _tensor_constructor(None, 2)
tensor3 = _tensor_constructor(None, 3)
tensor4 = _tensor_constructor(None, 4)
tensor5 = _tensor_constructor(None, 5)
row = _tensor_constructor(None, 2, (1, None))
col = _tensor_constructor(None, 2, (None, 1))

_TYPED = {"f": "float32", "d": "float64", "i": "int32", "l": "int64", "b": "int8", "w": "int16",
          "c": "complex64", "z": "complex128"}
_RANKS = {"scalar": 0, "vector": 1, "matrix": 2, "tensor3": 3, "tensor4": 4, "tensor5": 5}
for _p, _dt in _TYPED.items():
    for _kind, _nd in _RANKS.items():
        globals()[_p + _kind] = _tensor_constructor(_dt, _nd)
    globals()[_p + "row"] = _tensor_constructor(_dt, 2, (1, None))
    globals()[_p + "col"] = _tensor_constructor(_dt, 2, (None, 1))
del _p, _dt, _kind, _nd


def elemwise(name, *args):
    """Apply the scalar op ``name`` elementwise. Python numbers are weakly
    typed (NumPy 2): ``0.05 * w`` keeps ``w``'s float32."""
    scalar_op = SCALAR_OPS[name]
    tensors = [a for a in args if not _python_number(a)]
    tensors = [as_tensor(a) for a in tensors]
    numbers_ = [a for a in args if _python_number(a)]
    if tensors:
        dtype = np.result_type(*[np.dtype(t.dtype) for t in tensors], *numbers_)
    else:
        dtype = None
    inputs, it = [], iter(tensors)
    for a in args:
        inputs.append(constant(a, dtype=dtype) if _python_number(a) else next(it))
    return Elemwise(scalar_op)(*inputs)


def _binary(name):
    def f(x, y):
        return elemwise(name, x, y)
    f.__name__ = name
    f.__doc__ = f"Elementwise ``{name}`` with broadcasting."
    return f


def _unary(name):
    def f(x):
        return elemwise(name, x)
    f.__name__ = name
    f.__doc__ = f"Elementwise ``{name}``."
    return f


def add(*xs):
    """Elementwise sum of any number of tensors."""
    return elemwise("add", *xs)


def mul(*xs):
    """Elementwise product of any number of tensors."""
    return elemwise("mul", *xs)


sub, true_div, int_div, mod, pow = map(_binary, ["sub", "true_div", "int_div", "mod", "pow"])
maximum, minimum = _binary("maximum"), _binary("minimum")
eq, neq, lt, le, gt, ge = map(_binary, ["eq", "neq", "lt", "le", "gt", "ge"])
and_, or_, xor = _binary("and_"), _binary("or_"), _binary("xor")
(neg, abs, sgn, floor, round, exp, log, log1p, expm1, sqrt, sqr, tanh, sin, cos, sigmoid, softplus,
 invert, isnan, isinf) = map(_unary, ["neg", "abs", "sgn", "floor", "round", "exp", "log", "log1p", "expm1",
                                       "sqrt", "sqr", "tanh", "sin", "cos", "sigmoid", "softplus", "invert",
                                       "isnan", "isinf"])
div = true_div
bitwise_and, bitwise_or = and_, or_


def clip(x, lo, hi):
    """``x`` limited to [lo, hi] elementwise."""
    return elemwise("clip", x, lo, hi)


def switch(cond, a, b):
    """``a`` where ``cond`` is true, else ``b`` (elementwise, broadcasting)."""
    return elemwise("switch", cond, a, b)


where = switch


def second(a, b):
    """``b`` broadcast to the shape of ``a`` (Theano's ``fill``)."""
    return elemwise("second", a, b)


fill = second


def cast(x, dtype):
    """``x`` converted to ``dtype`` (no-op when it already has it)."""
    x = as_tensor(x)
    dtype = canonical_dtype(dtype)
    if x.dtype == dtype:
        return x
    return Elemwise(Cast(dtype))(x)


def zeros_like(x, dtype=None):
    """Zeros of ``x``'s shape (and dtype unless given)."""
    x = as_tensor(x)
    return second(x, constant(0, dtype=dtype or x.dtype))


def ones_like(x, dtype=None):
    """Ones of ``x``'s shape (and dtype unless given)."""
    x = as_tensor(x)
    return second(x, constant(1, dtype=dtype or x.dtype))


def shared(value, name=None, borrow=False):
    """A shared variable holding ``value`` (an array or number). Its type has
    the value's dtype and rank, with no static lengths, as in Theano."""
    arr = np.asarray(value)
    if isinstance(value, float) and not isinstance(value, np.generic):  # np.float64 keeps its dtype
        arr = arr.astype(config.floatX)
    return SharedVariable(TensorType(arr.dtype, (None,) * arr.ndim), arr, name=name, borrow=borrow)


def get_scalar_constant_value(var):
    """The int/float value of ``var`` if it is known when the graph is built
    (a constant, a static length read through ``shape``, a cast or an
    element of a stacked vector), else ``None``."""
    from .shape import MakeVector, Shape
    from .subtensor import Subtensor
    if isinstance(var, Constant) and var.data.ndim == 0:
        return var.data.item()
    node = var.owner
    if node is None:
        return None
    if isinstance(node.op, Elemwise) and isinstance(node.op.scalar_op, Cast):
        return get_scalar_constant_value(node.inputs[0])
    if isinstance(node.op, Subtensor) and node.op.template == ("i",):
        source, index = node.inputs
        i = get_scalar_constant_value(index)
        if i is None:
            return None
        if source.owner is not None and isinstance(source.owner.op, Shape):
            return source.owner.inputs[0].type.shape[i]
        if source.owner is not None and isinstance(source.owner.op, MakeVector):
            return get_scalar_constant_value(source.owner.inputs[i])
        if isinstance(source, Constant):
            return source.data[i].item()
    return None


class SpecifyShape(Op):
    """Identity that checks, at run time, the lengths given as ints in
    ``shape`` (None: any) and makes them static."""

    __props__ = ("shape",)

    def __init__(self, shape):
        self.shape = tuple(None if s is None else int(s) for s in shape)

    def make_node(self, x):
        x = as_tensor(x)
        if x.ndim != len(self.shape):
            raise self.type_error(f"shape {self.shape} does not have the rank of {x.type}")
        shape = []
        for d, (s, known) in enumerate(zip(self.shape, x.type.shape)):
            if s is not None and known is not None and s != known:
                raise self.type_error(f"dimension {d} has static length {known}, not {s}")
            shape.append(known if s is None else s)
        return Apply(self, [x], [TensorType(x.dtype, shape)])

    def perform(self, node, inputs):
        (x,) = inputs
        if not node.outputs[0].type.accepts_shape(x.shape):
            raise ExecutionError(f"{self}: expected shape {self.shape}, got {x.shape}")
        return [x]

    def pullback(self, node, inputs, outputs, output_grads):
        return [output_grads[0]]

    def infer_shape(self, node, input_shapes):
        return [tuple(s if s is not None else i for s, i in zip(self.shape, input_shapes[0]))]


def specify_shape(x, shape):
    """``x`` with the given static shape, checked when the function runs."""
    return SpecifyShape(shape)(x)


def addbroadcast(x, *axes):
    """``x`` with dimensions ``axes`` marked broadcastable (length 1)."""
    x = as_tensor(x)
    shape = list(x.type.shape)
    for a in axes:
        shape[a] = 1
    return specify_shape(x, shape)


def patternbroadcast(x, broadcastable):
    """``x`` with the dimensions flagged True marked broadcastable."""
    return addbroadcast(x, *[i for i, b in enumerate(broadcastable) if b])


def stack_scalars(values, dtype=None):
    from .shape import make_vector
    return make_vector(values, dtype=dtype)
