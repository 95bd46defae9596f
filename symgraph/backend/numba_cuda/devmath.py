"""Scalar functions that kernels call by module-level name.

On a GPU they are libdevice's (``expf`` for float32, ``exp`` for float64,
``dmul_rn``/``dadd_rn`` for products and sums that must not be contracted
into a fused multiply-add). In the CUDA simulator, kernels run as Python,
where ``math.log(0.0)`` raises and Python casts are stricter than NumPy's,
so the same names are bound to NumPy functions that follow the reference
backend. The kernel source is the same in both cases.
"""
import numpy as np
from numba.core import config

SIMULATOR = bool(config.ENABLE_CUDASIM)

_UNARY = ("exp", "log", "log1p", "expm1", "sqrt", "tanh", "sin", "cos", "floor", "rint")
_CASTS = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64")

if SIMULATOR:
    def _numpy_cast(dtype):
        def cast(x):
            return np.asarray(x).astype(dtype)[()]
        return cast

    for _name in _UNARY:
        globals()[_name + "32"] = globals()[_name + "64"] = getattr(np, _name)
    for _name in _CASTS:
        globals()["to_" + _name] = _numpy_cast(_name)

    def mul_rn(a, b):
        """a * b in float64, rounded once."""
        return np.float64(a) * np.float64(b)

    def add_rn(a, b):
        """a + b in float64, rounded once."""
        return np.float64(a) + np.float64(b)
else:
    import numba
    from numba.cuda import libdevice as _ld

    for _name in _UNARY:
        globals()[_name + "32"] = getattr(_ld, _name + "f")
        globals()[_name + "64"] = getattr(_ld, _name)
    for _name in _CASTS:
        globals()["to_" + _name] = getattr(numba, "boolean" if _name == "bool" else _name)
    mul_rn, add_rn = _ld.dmul_rn, _ld.dadd_rn

INF = float("inf")
