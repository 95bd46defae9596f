"""Operator overloading and Theano's methods on variables. The vocabulary
lives in ``symgraph.tensor``; this mixin only forwards to it."""


def _T():
    from .. import tensor
    return tensor


class TensorOperators:
    """Python operators and methods (``x + y``, ``x.T``, ``x.sum()``...)."""

    __array_ufunc__ = None  # numpy defers to our operators: ndarray * var -> var

    def __add__(self, other): return _T().add(self, other)
    def __radd__(self, other): return _T().add(other, self)
    def __sub__(self, other): return _T().sub(self, other)
    def __rsub__(self, other): return _T().sub(other, self)
    def __mul__(self, other): return _T().mul(self, other)
    def __rmul__(self, other): return _T().mul(other, self)
    def __truediv__(self, other): return _T().true_div(self, other)
    def __rtruediv__(self, other): return _T().true_div(other, self)
    def __floordiv__(self, other): return _T().int_div(self, other)
    def __rfloordiv__(self, other): return _T().int_div(other, self)
    def __mod__(self, other): return _T().mod(self, other)
    def __rmod__(self, other): return _T().mod(other, self)
    def __pow__(self, other): return _T().pow(self, other)
    def __rpow__(self, other): return _T().pow(other, self)
    def __matmul__(self, other): return _T().dot(self, other)
    def __rmatmul__(self, other): return _T().dot(other, self)
    def __neg__(self): return _T().neg(self)
    def __pos__(self): return self
    def __abs__(self): return _T().abs(self)
    def __invert__(self): return _T().invert(self)
    def __and__(self, other): return _T().and_(self, other)
    def __or__(self, other): return _T().or_(self, other)
    def __xor__(self, other): return _T().xor(self, other)
    def __rand__(self, other): return _T().and_(other, self)
    def __ror__(self, other): return _T().or_(other, self)
    def __rxor__(self, other): return _T().xor(other, self)
    def __lt__(self, other): return _T().lt(self, other)
    def __le__(self, other): return _T().le(self, other)
    def __gt__(self, other): return _T().gt(self, other)
    def __ge__(self, other): return _T().ge(self, other)
    # == and != keep Python identity semantics (variables are dict keys), as
    # in Theano; use T.eq / T.neq for the elementwise comparison.
    __hash__ = object.__hash__

    def __getitem__(self, index): return _T().subtensor(self, index)

    def __iter__(self):
        raise TypeError("symbolic variables are not iterable; index them (x[i]) instead")

    def __bool__(self):
        raise TypeError(
            "a symbolic variable has no truth value; use T.switch for a symbolic "
            "condition, or compare values after compiling"
        )

    def __len__(self):
        raise TypeError("symbolic variables have no len(); use x.shape[0]")

    @property
    def T(self): return _T().transpose(self)
    @property
    def shape(self): return _T().shape(self)
    @property
    def size(self): return _T().prod(self.shape)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _T().transpose(self, axes or None)

    def dimshuffle(self, *pattern):
        if len(pattern) == 1 and isinstance(pattern[0], (tuple, list)):
            pattern = tuple(pattern[0])
        return _T().dimshuffle(self, pattern)

    def reshape(self, shape, ndim=None): return _T().reshape(self, shape, ndim=ndim)
    def flatten(self, ndim=1): return _T().flatten(self, ndim)
    def astype(self, dtype): return _T().cast(self, dtype)
    def sum(self, axis=None, keepdims=False, dtype=None): return _T().sum(self, axis, keepdims, dtype)
    def mean(self, axis=None, keepdims=False): return _T().mean(self, axis, keepdims)
    def max(self, axis=None, keepdims=False): return _T().max(self, axis, keepdims)
    def min(self, axis=None, keepdims=False): return _T().min(self, axis, keepdims)
    def prod(self, axis=None, keepdims=False): return _T().prod(self, axis, keepdims)
    def argmax(self, axis=None, keepdims=False): return _T().argmax(self, axis, keepdims)
    def argmin(self, axis=None, keepdims=False): return _T().argmin(self, axis, keepdims)
    def dot(self, other): return _T().dot(self, other)
    def exp(self): return _T().exp(self)
    def log(self): return _T().log(self)
    def sqrt(self): return _T().sqrt(self)
    def clip(self, lo, hi): return _T().clip(self, lo, hi)
    def squeeze(self): return _T().squeeze(self)
