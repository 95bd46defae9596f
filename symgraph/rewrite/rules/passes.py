"""The whole-graph passes that bracket the rule phases: merge first, dead
code last."""
from ..engine import graph_pass


@graph_pass("merge")
def merge(fg, enabled):
    """Merge equal constants and nodes with the same op and inputs (common
    subexpressions); the graph keeps merging as later rewrites add nodes."""
    fg.merge_all()


@graph_pass("dead_code")
def dead_code(fg, enabled):
    """Drop every node the outputs do not need. Nodes are dropped as soon
    as a replacement leaves them unread; this sweep catches what is left."""
    removed = fg.remove_unreachable()
    if removed:
        fg.stats["dead_code"] += removed
