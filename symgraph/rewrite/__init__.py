"""Graph rewriting: the FunctionGraph that compiled functions optimize."""
from .fgraph import FunctionGraph


def optimize(fgraph, mode):
    """Run the rewrite phases that ``mode`` selects on ``fgraph`` (in place)
    and return it. No phase is registered yet: the graph runs as built."""
    return fgraph
