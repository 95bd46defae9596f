"""Elemwise fusion: each maximal connected group of elementwise nodes of one
broadcast shape becomes a single Elemwise of a ``Composite`` scalar graph,
which a backend runs as one loop. A group must be *convex* (no path leaves
it and comes back), or fusing it would create a cycle; convexity is checked
with ancestor/descendant bitsets (Python ints, one bit per node).

Groups are found in one sweep over the graph. Fusing a group adds paths
(everything above it now reaches everything below), which the bitsets do
not show; a new cycle through fused groups needs one of them above the new
group and one below, and only then are the bitsets recomputed."""
from ...tensor.elemwise import Elemwise
from ...tensor.scalar import Composite
from ..engine import graph_pass


def fusable(node):
    op = node.op
    return (isinstance(op, Elemwise) and not op.inplace and len(node.outputs) == 1
            and not isinstance(op.scalar_op, Composite)
            and not (len(node.inputs) == 1 and op.scalar_op.name in ("add", "mul")))  # returns its input


def bitsets(nodes):
    """Per node (of a topological order): its bit, and the bits of its
    ancestors and of its descendants."""
    bit = {n: 1 << i for i, n in enumerate(nodes)}
    anc, desc, readers = {}, {}, {n: [] for n in nodes}
    for n in nodes:
        a = 0
        for producer in {v.owner for v in n.inputs if v.owner in bit}:
            a |= anc[producer] | bit[producer]
            readers[producer].append(n)
        anc[n] = a
    for n in reversed(nodes):
        d = 0
        for r in readers[n]:
            d |= desc[r] | bit[r]
        desc[n] = d
    return bit, anc, desc


def _neighbours(fg, node):
    near = {v.owner for v in node.inputs if v.owner is not None}
    near.update(fg.client_nodes(node.outputs[0]))
    return near


def grow_cluster(fg, seed, bit, anc, desc, order, taken=()):
    """The largest convex group around ``seed`` that it can reach through
    fusable nodes of its broadcast shape (greedy, in topological order so
    that compiling twice gives the same groups; a node refused for
    convexity is tried again after the group grows). Returns the members
    and the bits of the group, its ancestors and its descendants."""
    pattern = seed.outputs[0].broadcastable
    members, inside, ancestors, descendants = {seed}, bit[seed], anc[seed], desc[seed]
    pending = _neighbours(fg, seed)
    grown = True
    while grown:
        grown = False
        for n in sorted(pending, key=lambda n: order.get(n, -1)):
            if (n in members or n in taken or n not in bit or not fusable(n)
                    or n.outputs[0].broadcastable != pattern):
                pending.discard(n)
                continue
            s, a, d = inside | bit[n], ancestors | anc[n], descendants | desc[n]
            if a & d & ~s:  # some outside node lies on a path between members
                continue
            members.add(n)
            inside, ancestors, descendants = s, a, d
            pending.discard(n)
            pending |= _neighbours(fg, n)
            grown = True
    return members, inside, ancestors, descendants


def fuse(fg, members, order):
    """Replace ``members`` by one Elemwise{Composite}; its outputs are the
    members' outputs read outside the group."""
    members = sorted(members, key=order.__getitem__)
    produced = {m.outputs[0]: k for k, m in enumerate(members)}
    external = {}
    for m in members:
        for v in m.inputs:
            if v not in produced:
                external.setdefault(v, len(external))
    nin = len(external)
    nodes = [(m.op.scalar_op, tuple(nin + produced[v] if v in produced else external[v] for v in m.inputs),
              m.outputs[0].dtype) for m in members]
    inside = set(members)
    outs = [m.outputs[0] for m in members
            if fg.is_output(m.outputs[0]) or any(c not in inside for c in fg.client_nodes(m.outputs[0]))]
    composite = Composite(nin, nodes, [nin + produced[o] for o in outs])
    new = Elemwise(composite)(*external)
    new = new if isinstance(new, list) else [new]
    fg.replace_all(list(zip(outs, new)), reason="elemwise_fusion")


@graph_pass("fusion")
def elemwise_fusion(fg, enabled):
    """Fuse every group of two or more nodes."""
    single = set()
    while True:
        nodes = fg.toposort()
        order = {n: i for i, n in enumerate(nodes)}
        bit, anc, desc = bitsets(nodes)
        groups, taken, fused_bits, stale = [], set(), 0, False
        for seed in reversed(nodes):
            if seed in taken or seed in single or not fusable(seed):
                continue
            members, inside, ancestors, descendants = grow_cluster(fg, seed, bit, anc, desc, order, taken)
            if len(members) < 2:
                single.add(seed)
                continue
            if ancestors & fused_bits and descendants & fused_bits:
                stale = True  # may close a cycle through fused groups: fuse those, look again
                break
            groups.append(members)
            taken.update(members)
            fused_bits |= inside
        for members in groups:
            fuse(fg, members, order)
            fg.stats["elemwise_fusion"] += 1
        if not stale:
            return
