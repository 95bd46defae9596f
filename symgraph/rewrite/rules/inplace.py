"""Inplace: an elementwise node writes its output into the buffer of an
input that nobody reads after it, instead of allocating.

A buffer may be taken when it was allocated by a node of this graph (an op
in ``FRESH_OPS``, never a view), is not an output, and every other reader
of it or of a view of it (``VIEW_OPS``) is an ancestor of the node, so it
has run before in any order a backend may pick. Function inputs, constants
and shared values are leaves, never taken: a failed call must leave shared
variables untouched, so even an update does not write into its variable.
"""
from ...grad import GradientBlock
from ...tensor.basic import SpecifyShape
from ...tensor.blas import Dot
from ...tensor.blas_ops import Gemm
from ...tensor.elemwise import DimShuffle, Elemwise
from ...tensor.nnet.basic import LogSoftmax, Softmax
from ...tensor.nnet.conv import Conv2d, Conv2dGradInput, Conv2dGradWeights
from ...tensor.nnet.fused import CrossentropySoftmax
from ...tensor.reduce import Reduce
from ...tensor.shape import Alloc, Join, Reshape
from ...tensor.signal.pool import Pool2d, Pool2dGrad
from ...tensor.subtensor import IncSubtensor, Subtensor
from ..engine import graph_pass
from .fusion import bitsets

# Ops whose outputs may share memory with their inputs.
VIEW_OPS = (DimShuffle, Reshape, Subtensor, SpecifyShape, GradientBlock)
# Ops whose outputs are buffers of their own (backends must keep it so).
FRESH_OPS = (Elemwise, Reduce, Dot, Gemm, Softmax, LogSoftmax, CrossentropySoftmax, Conv2d, Conv2dGradInput,
             Conv2dGradWeights, Pool2d, Pool2dGrad, Alloc, Join, IncSubtensor)


def _fresh(var):
    node = var.owner
    if node is None or not isinstance(node.op, FRESH_OPS):
        return False
    # add(x) and mul(x) of one input return x itself
    return not (isinstance(node.op, Elemwise) and len(node.inputs) == 1 and node.op.scalar_op.name in ("add", "mul"))


def _aliases(fg, var):
    """``var`` and every view of it in the graph."""
    found, stack = [var], [var]
    while stack:
        v = stack.pop()
        for reader in fg.client_nodes(v):
            if isinstance(reader.op, VIEW_OPS):
                found.extend(reader.outputs)
                stack.extend(reader.outputs)
    return found


def can_destroy(fg, var, node, bit, anc):
    """True when ``node`` may overwrite the buffer of its input ``var``."""
    if not _fresh(var) or fg.is_output(var):
        return False
    for alias in _aliases(fg, var):
        if fg.is_output(alias):
            return False
        for reader in fg.client_nodes(alias):
            if reader is node:
                if alias is not var:  # node reads var also through a view: writing would corrupt it
                    return False
            elif not anc[node] & bit.get(reader, 0):
                return False
    return True


@graph_pass("inplace")
def elemwise_inplace(fg, enabled):
    """Mark elementwise nodes that may write into an input's buffer."""
    nodes = fg.toposort()
    bit, anc, _ = bitsets(nodes)
    for node in nodes:
        if not isinstance(node.op, Elemwise) or node.op.inplace:
            continue
        pairs, taken = [], set()
        for o, out in enumerate(node.outputs):
            for i, var in enumerate(node.inputs):
                if (var in taken or var.dtype != out.dtype or var.broadcastable != out.broadcastable
                        or not can_destroy(fg, var, node, bit, anc)):
                    continue
                pairs.append((o, i))
                taken.add(var)
                break
        if pairs:
            fg.set_op(node, Elemwise(node.op.scalar_op, inplace=pairs))
            fg.stats["elemwise_inplace"] += 1
