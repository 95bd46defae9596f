"""symgraph: a declarative graph compiler in the Theano style.

Build symbolic tensor expressions with ``symgraph.tensor``, differentiate
them with ``grad``, and compile them, with shared-variable updates, into
functions with ``function``.
"""
from . import tensor
from .compile.function import Function, function
from .compile.mode import Mode
from .config import config
from .debug.printing import debugprint
from .errors import ExecutionError, GradientError, GraphTypeError, InputError, SymgraphError
from .grad import disconnected_grad, grad, hessian, jacobian, zero_grad
from .graph.basic import Constant, SharedVariable, Variable
from .tensor.basic import shared

__version__ = "0.1.0"
__all__ = ["tensor", "function", "Function", "Mode", "config", "debugprint", "grad", "jacobian", "hessian",
           "disconnected_grad", "zero_grad", "shared", "Variable", "Constant", "SharedVariable",
           "SymgraphError", "GraphTypeError", "InputError", "ExecutionError", "GradientError"]
