"""Walking and copying graphs: ancestors, topological order, clone, replace."""
from .basic import Constant, SharedVariable, Variable


def ancestors(outputs, blockers=()):
    """Every variable that ``outputs`` depend on (themselves included),
    stopping at ``blockers``."""
    blockers = set(blockers)
    seen, stack, order = set(), list(outputs), []
    while stack:
        var = stack.pop()
        if var in seen:
            continue
        seen.add(var)
        order.append(var)
        if var.owner is not None and var not in blockers:
            stack.extend(var.owner.inputs)
    return order


def graph_inputs(outputs, blockers=()):
    """The variables without owner (inputs, constants, shared) that
    ``outputs`` depend on."""
    return [v for v in ancestors(outputs, blockers) if v.owner is None or v in blockers]


def toposort(outputs, blockers=()):
    """The Apply nodes computing ``outputs``, each after its inputs' nodes."""
    blockers = set(blockers)
    order, done = [], set()
    for out in outputs:
        stack = [(out, False)]
        while stack:
            var, expanded = stack.pop()
            node = var.owner
            if node is None or var in blockers or node in done:
                continue
            if expanded:
                done.add(node)
                order.append(node)
                continue
            stack.append((var, True))
            stack.extend((inp, False) for inp in reversed(node.inputs))
    return order


def clone_replace(outputs, replace=None):
    """Copies of ``outputs`` in which each key of ``replace`` is swapped for
    its value. The original graph is untouched; shared variables and
    constants are kept, not copied."""
    memo = dict(replace or {})
    for node in toposort(outputs, blockers=memo):
        new_inputs = [memo.get(v, v) for v in node.inputs]
        if new_inputs == node.inputs:
            continue
        new_node = node.clone_with_new_inputs(new_inputs)
        for old, new in zip(node.outputs, new_node.outputs):
            memo[old] = new
    return [memo.get(o, o) for o in outputs]


def is_input(var):
    """True for a variable the caller must supply (not constant nor shared)."""
    return var.owner is None and not isinstance(var, (Constant, SharedVariable))


__all__ = ["ancestors", "graph_inputs", "toposort", "clone_replace", "is_input", "Variable"]
