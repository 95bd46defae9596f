"""Mode 'debug': the reference backend and the Numba backend side by side.

Each node runs twice on the same input values, once by its NumPy
``perform`` and once by its compiled Numba kernel (the per-node program);
the first node whose outputs differ (beyond ``testing.BACKEND_TOLERANCE``)
raises an ExecutionError naming the node and the user's line. The run goes
on with the reference values, and at the end the whole-graph driver runs
too and its outputs are compared with the reference's. Slow: for finding
which kernel is wrong, not for training."""
import numpy as np

from ..errors import ExecutionError
from ..graph.basic import Constant
from ..graph.sourceinfo import with_source
from . import register_linker
from .numba_cpu.linker import NumbaLinker, _guard, contiguous
from .numba_cpu.runtime import KernelCheckError
from .python import node_failure


@register_linker("debug")
class DebugLinker(NumbaLinker):
    """Runs every node with NumPy and with Numba and compares them."""

    handles_nan_guard = True

    def __init__(self, fgraph, profiler=None, nan_guard=False):
        super().__init__(fgraph, profiler=profiler, nan_guard=nan_guard, per_node=True)
        self.whole = NumbaLinker(fgraph)

    def __call__(self, input_values):
        from ..testing import BackendMismatchError, assert_same_values
        storage = dict(zip(self.fgraph.inputs, input_values))
        for node, (fn, params) in zip(self.nodes, self.node_fns):
            values = [v.data if isinstance(v, Constant) else storage[v] for v in node.inputs]
            try:
                expected = node.op.perform(node, [np.array(v) for v in values])  # perform may write in place
            except ExecutionError:
                raise
            except Exception as exc:  # noqa: BLE001
                raise node_failure(node, exc, values) from exc
            try:
                got = fn(*[contiguous(np.array(storage[v]) if v in storage else np.array(v.data)) for v in params])
            except KernelCheckError as exc:
                raise self._check_error(exc) from None
            for i, (e, g) in enumerate(zip(expected, got)):
                try:
                    assert_same_values(np.asarray(e, dtype=node.outputs[i].dtype), g, f"output {i}")
                except BackendMismatchError as exc:
                    raise ExecutionError(with_source(
                        f"debug mode: {node.op} gives different values with numba and python: {exc}",
                        node.source)) from None
            expected = [np.asarray(e, dtype=v.dtype) for e, v in zip(expected, node.outputs)]
            storage.update(zip(node.outputs, expected))
            if self.nan_guard:
                _guard(node, expected)
        outputs = [np.array(o.data) if isinstance(o, Constant) else storage[o] for o in self.fgraph.outputs]
        for i, (e, g) in enumerate(zip(outputs, self.whole(input_values))):
            try:
                assert_same_values(e, g, f"output {i} of the whole-graph driver")
            except BackendMismatchError as exc:
                out = self.fgraph.outputs[i]
                raise ExecutionError(with_source(
                    f"debug mode: every node agrees, but the compiled driver's {exc}",
                    out.owner.source if out.owner is not None else None)) from None
        return outputs
