"""debugprint: a graph as an indented tree with op, dtype and shape."""
import sys

from ..graph.basic import Constant, SharedVariable, Variable


def _describe(var):
    shape = ",".join("?" if s is None else str(s) for s in var.type.shape)
    kind = "shared " if isinstance(var, SharedVariable) else "const " if isinstance(var, Constant) else ""
    label = f"{kind}{var!r}" if var.owner is None else str(var.owner.op)
    name = f" '{var.name}'" if var.name and var.owner is not None else ""
    return f"{label}{name} [id {var.id}] <{var.type.dtype}, ({shape})>"


def debugprint(obj, file=None, print_type=True, depth=-1):
    """Print ``obj`` (a variable, a list of them, or a compiled function,
    whose optimized graph is shown) as an indented tree; nodes already
    printed are referenced by id. Returns the text."""
    from ..compile.function import Function
    if isinstance(obj, Function):
        outputs = obj.fgraph.outputs
    elif isinstance(obj, Variable):
        outputs = [obj]
    else:
        outputs = list(obj)
    lines, seen = [], set()

    def walk(var, indent, level):
        lines.append(f"{'  ' * indent}{'|' if indent else ''}{_describe(var)}")
        node = var.owner
        if node is None or (depth >= 0 and level >= depth):
            return
        if node in seen:
            lines[-1] += " ..."
            return
        seen.add(node)
        for inp in node.inputs:
            walk(inp, indent + 1, level + 1)

    for out in outputs:
        walk(out, 0, 0)
    text = "\n".join(lines)
    print(text, file=file or sys.stdout)
    return text
