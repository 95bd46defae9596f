"""FunctionGraph: the private copy of a graph that rewrites and backends
work on, from fixed inputs (explicit inputs and shared variables) to
outputs.

The copy is mirrored in a networkx ``MultiDiGraph`` (``fg.graph``) whose
nodes are the Apply nodes and the variables: an edge ``var -> node`` per
input slot (its key is the slot), an edge ``node -> var`` per output (key:
the output index). ``replace`` keeps both views in step, checks types, keeps
the graph acyclic, drops nodes nobody reads any more, and (once the merge
phase has run) merges nodes that become identical.
"""
from collections import Counter

import networkx as nx

from ..errors import GraphTypeError
from ..graph.basic import Apply, Constant, Variable
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


def compatible_types(old, new):
    """True when ``new`` may stand for ``old``: same dtype and rank, no
    static length that contradicts ``old``'s, and broadcastable wherever
    ``old`` is (readers rely on those dimensions stretching)."""
    if old.dtype != new.dtype or old.ndim != new.ndim:
        return False
    return all(o == n or o is None or (n is None and o != 1) for o, n in zip(old.shape, new.shape))


class FunctionGraph:
    """A copy of the graph from ``inputs`` to ``outputs``: the Apply nodes
    are cloned so that rewrites can change them freely; leaves (inputs,
    constants, shared variables) are kept as they are.

    ``stats`` counts the rewrites that fired (by rule name) and
    ``phase_log`` records each phase's node counts and time."""

    def __init__(self, inputs, outputs, clone=True):
        self.inputs = list(inputs)
        self._input_set = set(self.inputs)
        if clone:
            memo = {}
            for node in toposort(outputs):
                new = _copy_node(node, [memo.get(v, v) for v in node.inputs])
                memo.update(zip(node.outputs, new.outputs))
            outputs = [memo.get(o, o) for o in outputs]
        self.outputs = list(outputs)
        self._output_count = Counter(self.outputs)
        self.graph = nx.MultiDiGraph()
        self.stats = Counter()
        self.phase_log = []
        self.merging = False
        self._keys, self._node_key, self._constants = {}, {}, {}
        self._order = None
        self._imported = []
        for var in self.inputs:
            self.graph.add_node(var)
        for node in toposort(self.outputs):
            self._add_node(node, strict=False)
        for var in self.outputs:
            self.graph.add_node(var)

    # ------------------------------------------------------------- queries
    def toposort(self):
        """The Apply nodes in an order where each follows its inputs' nodes."""
        if self._order is None:
            self._order = toposort(self.outputs)
        return list(self._order)

    def leaves(self):
        """Every leaf the outputs depend on (inputs, constants, shared)."""
        return graph_inputs(self.outputs)

    def __contains__(self, item):
        return item in self.graph

    def clients(self, var):
        """The (node, input slot) pairs that read ``var``."""
        return [(node, slot) for _, node, slot in self.graph.out_edges(var, keys=True)]

    def client_nodes(self, var):
        """The distinct nodes that read ``var``."""
        return list(self.graph.successors(var))

    def is_output(self, var):
        return self._output_count[var] > 0

    def n_readers(self, var):
        """How many input slots and outputs read ``var``."""
        return self.graph.out_degree(var) + self._output_count[var]

    def __repr__(self):
        return f"FunctionGraph({len(self.toposort())} nodes, {len(self.outputs)} outputs)"

    # ------------------------------------------------------------ changing
    def replace(self, old, new, reason=None):
        """Make every reader of ``old`` read ``new`` (a variable of this graph
        or built on top of it). Returns False when nothing changed."""
        return bool(self.replace_all([(old, new)], reason))

    def replace_all(self, pairs, reason=None):
        """``replace`` for several pairs, all checked before any is made.
        Returns the (old, new) pairs made, ``new`` as merged into the graph."""
        checked = []
        for old, new in pairs:
            if old not in self.graph:
                raise ValueError(f"replace ({reason}): {old!r} is not in this graph")
            source = old.owner.source if old.owner is not None else old.source
            new = self._import(new, source)
            if new is old:
                continue
            if not compatible_types(old.type, new.type):
                raise GraphTypeError(f"rewrite {reason}: cannot replace {old!r} of type {old.type} "
                                     f"by {new!r} of type {new.type}")
            if self._depends_on(new, old):
                raise ValueError(f"rewrite {reason}: replacing {old!r} by {new!r} would create a cycle")
            checked.append((old, new))
        for old, new in checked:
            if old in self.graph:
                self._rewire(old, new)
        return checked

    def set_op(self, node, op):
        """Give ``node`` another op with the same output types (inplace
        variants)."""
        self._forget_key(node)
        node.op = op
        self._remember_key(node)

    def take_imported(self):
        """The nodes added since the last call, in topological order."""
        nodes, self._imported = self._imported, []
        return [n for n in nodes if n in self.graph]

    def merge_all(self):
        """Merge equal constants and identical nodes (same op, same inputs),
        and from now on merge them as soon as they appear. Returns how many
        merges were made."""
        before = self.stats["merge"]
        self.merging = True
        for const in [v for v in self.graph if isinstance(v, Constant)]:
            known = self._constants.setdefault(const.signature(), const)
            if known is not const and const in self.graph and const not in self._input_set:
                self.stats["merge"] += 1
                self._rewire(const, known)
        for node in self.toposort():
            if node in self.graph:
                self._merge_into(node, self._remember_key(node))
        return self.stats["merge"] - before

    def remove_unreachable(self):
        """Drop whatever the outputs do not need (networkx's ancestors of the
        outputs, through a temporary sink); returns how many nodes."""
        sink = object()
        self.graph.add_edges_from((o, sink) for o in self.outputs)
        keep = nx.ancestors(self.graph, sink) | self._input_set
        self.graph.remove_node(sink)
        dead = [n for n in self.graph if n not in keep and not (isinstance(n, Variable) and n.owner in keep)]
        for n in dead:
            if isinstance(n, Apply):
                self._forget_key(n)
        self.graph.remove_nodes_from(dead)
        self._order = None
        return sum(isinstance(n, Apply) for n in dead)

    # ------------------------------------------------------------ internals
    def _add_leaf(self, var, strict=True):
        if var.owner is not None:
            raise ValueError(f"{var!r} is computed by a node that is not in this graph")
        if strict and not isinstance(var, Constant) and var not in self._input_set:
            raise ValueError(f"{var!r} is an input that this graph does not have")
        self.graph.add_node(var)

    def _add_node(self, node, strict=True):
        self.graph.add_node(node)
        for slot, var in enumerate(node.inputs):
            if var not in self.graph:
                self._add_leaf(var, strict)
            self.graph.add_edge(var, node, key=slot)
        for i, out in enumerate(node.outputs):
            self.graph.add_edge(node, out, key=i)
        self._order = None

    def _import(self, var, source):
        """``var`` with the nodes it needs added to the graph (merged with
        existing ones when merging is on)."""
        if var in self.graph:
            return var
        if not isinstance(var, Variable):
            raise TypeError(f"a rewrite returned {var!r}, not a Variable")
        if var.owner is None:
            if isinstance(var, Constant) and self.merging:
                known = self._constants.get(var.signature())
                if known is not None and known in self.graph:
                    return known
                self._constants[var.signature()] = var
            self._add_leaf(var)
            return var
        node = var.owner
        node.inputs = [self._import(v, source) for v in node.inputs]
        if self.merging:
            twin = self._keys.get(self._key(node))
            if twin is not None and twin in self.graph:
                return twin.outputs[var.index]
        node.source = source
        for out in node.outputs:
            out.source = source
        self._add_node(node)
        self._remember_key(node)
        self._imported.append(node)
        return var

    def _depends_on(self, new, old):
        """True when ``old`` is an ancestor of ``new``. The search stops at
        variables near ``old``'s inputs, which cannot depend on ``old``."""
        safe = set()
        if old.owner is not None:
            level = list(old.owner.inputs)
            for _ in range(3):
                safe.update(level)
                level = [i for v in level if v.owner is not None for i in v.owner.inputs]
        stack, seen = [new], set()
        while stack:
            var = stack.pop()
            if var is old:
                return True
            if var in seen or var in safe or var.owner is None:
                continue
            seen.add(var)
            stack.extend(var.owner.inputs)
        return False

    def _rewire(self, old, new):
        readers = self.clients(old)
        for node, slot in readers:
            self.graph.remove_edge(old, node, key=slot)
            self._forget_key(node)
            node.inputs[slot] = new
            self.graph.add_edge(new, node, key=slot)
        if self._output_count[old]:
            self.outputs = [new if o is old else o for o in self.outputs]
            self._output_count[new] += self._output_count.pop(old)
        self._order = None
        self._prune(old)
        twins = []
        for node in dict.fromkeys(n for n, _ in readers):
            if node in self.graph:
                other = self._remember_key(node)
                if other is not None:
                    twins.append((node, other))
        for node, other in twins:
            self._merge_into(node, other)

    def _merge_into(self, node, other):
        if other is None or node not in self.graph or other not in self.graph:
            return
        self.stats["merge"] += 1
        for a, b in zip(node.outputs, other.outputs):
            if a in self.graph and compatible_types(a.type, b.type):
                self._rewire(a, b)

    def _prune(self, var):
        """Remove ``var``'s node and what only it needed, once unread."""
        stack = [var]
        while stack:
            var = stack.pop()
            if var not in self.graph or self.n_readers(var) or var in self._input_set:
                continue
            node = var.owner
            if node is None:
                self.graph.remove_node(var)
                continue
            if node not in self.graph or any(self.n_readers(o) for o in node.outputs):
                continue
            self._forget_key(node)
            inputs = list(node.inputs)
            self.graph.remove_nodes_from([node, *node.outputs])
            stack.extend(inputs)
        self._order = None

    @staticmethod
    def _key(node):
        return (node.op, tuple(node.inputs))

    def _remember_key(self, node):
        """Register ``node``'s key; returns an existing identical node."""
        if not self.merging:
            return None
        key = self._key(node)
        other = self._keys.get(key)
        if other is not None and other is not node and other in self.graph:
            return other
        self._keys[key] = node
        self._node_key[node] = key
        return None

    def _forget_key(self, node):
        key = self._node_key.pop(node, None)
        if key is not None and self._keys.get(key) is node:
            del self._keys[key]
