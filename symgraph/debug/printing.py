"""debugprint: a graph as an indented tree with op, dtype and shape."""
import sys

from ..graph.basic import Constant, SharedVariable, Variable


def _describe(var, print_type=True):
    shape = ",".join("?" if s is None else str(s) for s in var.type.shape)
    kind = "shared " if isinstance(var, SharedVariable) else "const " if isinstance(var, Constant) else ""
    label = f"{kind}{var!r}" if var.owner is None else str(var.owner.op)
    if var.owner is not None and len(var.owner.outputs) > 1:
        label += f".{var.index}"  # which output of a multi-output node
    name = f" '{var.name}'" if var.name and var.owner is not None else ""
    return f"{label}{name} [id {var.id}]" + (f" <{var.type.dtype}, ({shape})>" if print_type else "")


def debugprint(obj, file=None, print_type=True, depth=-1):
    """Print ``obj`` (a variable, a list of them, or a compiled function,
    whose optimized graph is shown) as an indented tree; nodes already
    printed are referenced by id; ``print_type`` adds each variable's dtype
    and static shape, ``depth`` (>= 0) limits the levels. Returns the text."""
    from ..compile.function import Function
    notes = {}
    if isinstance(obj, Function):  # outputs, then update expressions
        outputs = obj.fgraph.outputs
        notes = {obj.n_outputs + i: f" <- update of {var!r}" for i, var in enumerate(obj.updated)}
    elif isinstance(obj, Variable):
        outputs = [obj]
    else:
        outputs = list(obj)
    lines, seen = [], set()

    def walk(var, indent, level):
        lines.append(f"{'  ' * indent}{'|' if indent else ''}{_describe(var, print_type)}")
        node = var.owner
        if node is None or (depth >= 0 and level >= depth):
            return
        if node in seen:
            lines[-1] += " ..."
            return
        seen.add(node)
        for inp in node.inputs:
            walk(inp, indent + 1, level + 1)

    for i, out in enumerate(outputs):
        start = len(lines)
        walk(out, 0, 0)
        lines[start] += notes.get(i, "")
    text = "\n".join(lines)
    print(text, file=file or sys.stdout)
    return text
