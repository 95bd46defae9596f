"""Kernels by single dispatch on the op class: a kernel is a function
``emit(op, node, gen)`` that writes the node's code into the generated
source (see ``codegen.NodeWriter``). Ops never refer to their kernels."""
from ...errors import SymgraphError
from ...graph.sourceinfo import with_source

KERNELS = {}


class NoKernelError(SymgraphError, NotImplementedError):
    """An op of the graph has no Numba kernel."""


def register_kernel(*op_classes):
    """Decorator: ``emit`` writes the code of nodes whose op is an instance
    of one of ``op_classes`` (the most derived registered class wins)."""
    def deco(emit):
        for cls in op_classes:
            KERNELS[cls] = emit
        return emit
    return deco


def kernel_for(node):
    """The kernel of ``node.op``, or a NoKernelError naming the op and the
    user's line."""
    _load_kernels()
    for cls in type(node.op).__mro__:
        if cls in KERNELS:
            return KERNELS[cls]
    raise NoKernelError(with_source(
        f"numba backend: no kernel for {node.op} (op class {type(node.op).__module__}."
        f"{type(node.op).__qualname__}); register one with "
        f"symgraph.backend.numba_cpu.register_kernel({type(node.op).__name__}), or use mode='python'",
        node.source))


def _load_kernels():
    from . import kernels  # noqa: F401  (registers the built-in kernels)
