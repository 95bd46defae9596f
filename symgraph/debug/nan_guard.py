"""NaN/Inf guard: run the graph node by node and stop at the first node
whose output holds a NaN or an Inf, naming the user's line that built it."""
import numpy as np

from ..backend.python import PythonLinker, describe_inputs
from ..errors import ExecutionError
from ..graph.sourceinfo import with_source


class NanGuardLinker(PythonLinker):
    """The reference linker with a check after every node."""

    def after_node(self, node, outputs):
        for i, value in enumerate(outputs):
            if value.dtype.kind in "fc" and not np.all(np.isfinite(value)):
                what = "NaN" if np.isnan(value).any() else "Inf"
                raise ExecutionError(with_source(
                    f"NaN guard: output {i} of {node.op} contains {what} (inputs: {node.inputs}, "
                    f"{describe_inputs(outputs)})", node.source))
