"""TensorType: a dtype and a static shape (``None`` where unknown)."""
import numpy as np

from ..errors import InputError


def canonical_dtype(dtype):
    """The numpy name of ``dtype`` ('float32', 'int64', 'bool', ...)."""
    if dtype == "floatX":
        from ..config import config
        dtype = config.floatX
    return np.dtype(dtype).name


class TensorType:
    """The type of a tensor variable.

    ``shape`` holds an int for each dimension whose length is known when the
    graph is built and ``None`` elsewhere. A dimension of static length 1 is
    *broadcastable*, as in Theano: it stretches to match the other operands
    of an elementwise op (and its gradient is summed back).
    """

    __slots__ = ("dtype", "shape")

    def __init__(self, dtype, shape):
        self.dtype = canonical_dtype(dtype)
        self.shape = tuple(None if s is None else int(s) for s in shape)
        if any(s is not None and s < 0 for s in self.shape):
            raise ValueError(f"negative static length in shape {self.shape}")

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def broadcastable(self):
        return tuple(s == 1 for s in self.shape)

    @property
    def numpy_dtype(self):
        return np.dtype(self.dtype)

    def __eq__(self, other):
        return type(other) is type(self) and other.dtype == self.dtype and other.shape == self.shape

    def __hash__(self):
        return hash((type(self), self.dtype, self.shape))

    def __repr__(self):
        dims = ", ".join("?" if s is None else str(s) for s in self.shape)
        return f"TensorType({self.dtype}, ({dims}{',' if self.ndim == 1 else ''}))"

    def is_super(self, other):
        """True when every value of type ``other`` is also of this type."""
        return (
            self.dtype == other.dtype
            and self.ndim == other.ndim
            and all(s is None or s == o for s, o in zip(self.shape, other.shape))
        )

    def accepts_shape(self, shape):
        return len(shape) == self.ndim and all(
            s is None or s == v for s, v in zip(self.shape, shape)
        )

    def filter(self, value, allow_downcast=False, what="value"):
        """``value`` as an ndarray of this type, or an InputError saying why not.

        Safe casts (int8 into int64, float32 into float64) always pass; casts
        that may lose information only with ``allow_downcast``. Python scalars
        and lists convert to this dtype when their values fit.
        """
        target = self.numpy_dtype
        if isinstance(value, np.ndarray):
            arr = value
        elif isinstance(value, (bool, int, float, complex, list, tuple, np.generic)):
            arr = np.asarray(value)
            if arr.dtype.kind == target.kind or (arr.dtype.kind in "biu" and target.kind in "iuf"):
                converted = arr.astype(target)
                if np.array_equal(converted, arr) or arr.dtype.kind == "f":
                    arr = converted
        else:
            try:
                arr = np.asarray(value)
            except Exception as exc:
                raise InputError(f"{what}: expected an array of {self}, got {type(value).__name__}") from exc
        if arr.ndim != self.ndim:
            raise InputError(
                f"{what}: expected an array of rank {self.ndim} ({self}), "
                f"got rank {arr.ndim} with shape {arr.shape}"
            )
        if arr.dtype != target:
            if np.can_cast(arr.dtype, target, "safe") or allow_downcast:
                arr = arr.astype(target)
            else:
                raise InputError(
                    f"{what}: expected dtype {self.dtype}, got {arr.dtype.name}; casting "
                    f"{arr.dtype.name} to {self.dtype} may lose information. Cast the value "
                    f"(e.g. .astype('{self.dtype}')) or pass allow_input_downcast=True."
                )
        if not self.accepts_shape(arr.shape):
            raise InputError(f"{what}: expected shape {self.shape} (None = any), got {arr.shape}")
        return arr
