"""FunctionGraph: the private copy of a graph that rewrites and backends
work on, from fixed inputs (explicit inputs and shared variables) to
outputs."""
from ..graph.basic import Apply
from ..graph.traversal import graph_inputs, toposort


def _copy_node(node, inputs):
    new = Apply.__new__(Apply)
    new.op, new.inputs, new.source = node.op, list(inputs), node.source
    new.outputs = []
    for out in node.outputs:
        copy = type(out).__new__(type(out))
        copy.__dict__.update(out.__dict__)
        copy.owner = new
        new.outputs.append(copy)
    return new


class FunctionGraph:
    """A copy of the graph from ``inputs`` to ``outputs``: the Apply nodes
    are cloned so that rewrites can change them freely; leaves (inputs,
    constants, shared variables) are kept as they are."""

    def __init__(self, inputs, outputs, clone=True):
        self.inputs = list(inputs)
        if clone:
            memo = {}
            for node in toposort(outputs):
                new = _copy_node(node, [memo.get(v, v) for v in node.inputs])
                memo.update(zip(node.outputs, new.outputs))
            outputs = [memo.get(o, o) for o in outputs]
        self.outputs = list(outputs)

    def toposort(self):
        """The Apply nodes in an order where each follows its inputs' nodes."""
        return toposort(self.outputs)

    def leaves(self):
        """Every leaf the outputs depend on (inputs, constants, shared)."""
        return graph_inputs(self.outputs)

    def __repr__(self):
        return f"FunctionGraph({len(self.toposort())} nodes, {len(self.outputs)} outputs)"
