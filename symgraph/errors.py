"""Error types. Every message names what was expected, what came, and the
user's source line that built the offending node (see ``graph.sourceinfo``)."""


class SymgraphError(Exception):
    """Base class of every error symgraph raises on purpose."""


class GraphTypeError(SymgraphError, TypeError):
    """A node was built from inputs of the wrong type, rank or shape."""


class InputError(SymgraphError, TypeError):
    """A compiled function was called with a bad argument."""


class ExecutionError(SymgraphError, RuntimeError):
    """A node failed while running; the message names the node and its line."""


class GradientError(SymgraphError, ValueError):
    """A gradient was asked for that cannot be computed."""


class DisconnectedInputError(GradientError):
    """``grad`` was asked for the gradient of an input the cost does not use."""
