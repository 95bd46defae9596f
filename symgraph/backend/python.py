"""The reference backend: runs each op's NumPy ``perform`` in topological
order. Slow, simple, always right: the oracle other backends are tested
against."""
import numpy as np

from ..errors import ExecutionError
from ..graph.basic import Constant
from ..graph.sourceinfo import with_source
from . import register_linker


def describe_inputs(values):
    return ", ".join(f"{getattr(v, 'dtype', type(v).__name__)}{getattr(v, 'shape', '')}" for v in values)


def node_failure(node, exc, values):
    """An ExecutionError naming the node, its inputs and the user's line."""
    message = f"{node.op} failed on inputs ({describe_inputs(values)}): {exc}"
    return ExecutionError(with_source(message, node.source))


@register_linker("python")
class PythonLinker:
    """Interprets a FunctionGraph node by node with NumPy."""

    def __init__(self, fgraph, profiler=None):
        self.fgraph = fgraph
        self.nodes = fgraph.toposort()
        self.profiler = profiler

    def __call__(self, input_values):
        storage = dict(zip(self.fgraph.inputs, input_values))
        for node in self.nodes:
            values = [v.data if isinstance(v, Constant) else storage[v] for v in node.inputs]
            try:
                if self.profiler is not None:
                    with self.profiler.timing(node):
                        results = node.op.perform(node, values)
                else:
                    results = node.op.perform(node, values)
            except ExecutionError as exc:
                if node.source is not None and str(node.source.filename) in str(exc):
                    raise
                raise node_failure(node, exc, values) from exc
            except Exception as exc:
                raise node_failure(node, exc, values) from exc
            for var, value in zip(node.outputs, results):
                storage[var] = _checked(node, var, value)
            self.after_node(node, [storage[v] for v in node.outputs])
        return [o.data if isinstance(o, Constant) else storage[o] for o in self.fgraph.outputs]


    # How a Function reads and stores shared values and returns outputs;
    # a device backend overrides these to keep values on the device.
    @staticmethod
    def read_shared(var):
        return var.get_value(borrow=True)

    @staticmethod
    def write_shared(var, value):
        var.set_value(value, borrow=True)

    @staticmethod
    def to_host(value):
        return value

    def after_node(self, node, outputs):
        """Hook run after each node (the NaN guard checks outputs here)."""


def _checked(node, var, value):
    if not isinstance(value, np.ndarray):
        value = np.asarray(value)
    if value.dtype.name != var.type.dtype or value.ndim != var.type.ndim:
        raise ExecutionError(
            f"internal error: {node.op}.perform returned {value.dtype}{value.shape} for an output of type {var.type}")
    return value
