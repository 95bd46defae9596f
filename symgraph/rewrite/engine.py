"""The one rewrite mechanism: local rules applied to a fixed point, in named
phases, plus whole-graph passes where a local rule cannot see enough.

A *rule* is a function ``fn(fgraph, node)`` that looks at ``node`` and its
inputs and returns a replacement for the node's output (a Variable, or a
list with one Variable or None per output), or None when it does not apply.
It is registered for a phase and for the ops it looks at::

    @rule("canonicalize", "neg")              # Elemwise nodes of scalar op neg
    def double_neg(fg, node):
        "-(-x) -> x"
        inner = elem(node.inputs[0], "neg")
        return inner.inputs[0] if inner else None

Tracks are op classes (``Softmax``) or scalar op names (``"log"``) for
Elemwise nodes; no track means every node.
"""
import time
import warnings
from collections import defaultdict, deque
from dataclasses import dataclass, field

from ..graph.basic import Variable
from ..tensor.elemwise import Elemwise

class RewriteWarning(UserWarning):
    """A rule failed (a bug in the rule): it was skipped, the graph is
    unchanged by it."""


PHASES = ("merge", "constant_folding", "canonicalize", "stabilize", "specialize", "fusion", "inplace",
          "dead_code")
# A local phase also runs the rules of the local phases before it (when
# they are on), so the graph stays folded and canonical as rules fire.
LOCAL_PHASES = ("constant_folding", "canonicalize", "stabilize", "specialize")


@dataclass
class Rule:
    """A named local rewrite of ``phase``, tried on the nodes it tracks."""

    name: str
    phase: str
    tracks: tuple
    fn: object
    default: bool = True
    doc: str = field(default="")


RULES = {}
PASSES = {}


def rule(phase, *tracks, name=None, default=True):
    """Register ``fn(fgraph, node)`` as a local rule of ``phase``."""
    if phase not in LOCAL_PHASES:
        raise ValueError(f"rule phase must be one of {LOCAL_PHASES}, got {phase!r}")

    def deco(fn):
        rule_name = name or fn.__name__
        if rule_name in RULES or rule_name in PHASES:
            raise ValueError(f"a rule named {rule_name!r} already exists")
        RULES[rule_name] = Rule(rule_name, phase, tracks, fn, default, (fn.__doc__ or "").strip())
        return fn
    return deco


def graph_pass(phase):
    """Register ``fn(fgraph, enabled)`` as the whole-graph pass of ``phase``."""
    def deco(fn):
        PASSES[phase] = fn
        return fn
    return deco


def known_names():
    return set(PHASES) | set(RULES)


def enabled_names(including=(), excluding=()):
    """The phases and rules a mode turns on."""
    including, excluding = tuple(including), tuple(excluding)
    unknown = [n for n in including + excluding if n not in known_names()]
    if unknown:
        raise ValueError(f"unknown rewrite name(s) {unknown}; phases are {list(PHASES)}, rules are "
                         f"{sorted(RULES)}")
    names = set(PHASES) | {n for n, r in RULES.items() if r.default} | set(including)
    return names - set(excluding)


def optimize(fgraph, mode):
    """Run the phases that ``mode`` turns on, in order, on ``fgraph`` (in
    place); record node counts and times in ``fgraph.phase_log``."""
    enabled = enabled_names(getattr(mode, "including", ()), getattr(mode, "excluding", ()))
    for phase in PHASES:
        if phase not in enabled:
            continue
        before, start = len(fgraph.toposort()), time.perf_counter()
        fired_before = sum(fgraph.stats.values())
        if phase in LOCAL_PHASES:
            active = [r for r in RULES.values() if r.name in enabled and r.phase in enabled
                      and LOCAL_PHASES.index(r.phase) <= LOCAL_PHASES.index(phase)]
            run_rules(fgraph, active)
        else:
            PASSES[phase](fgraph, enabled)
        fgraph.phase_log.append({"phase": phase, "nodes_before": before, "nodes_after": len(fgraph.toposort()),
                                 "rewrites": sum(fgraph.stats.values()) - fired_before,
                                 "seconds": time.perf_counter() - start})
    return fgraph


def _index(rules):
    by_track = defaultdict(list)
    for r in rules:
        for track in r.tracks or (None,):
            by_track[track].append(r)
    return by_track


def _candidates(by_track, node):
    found = by_track.get(type(node.op), []) + by_track.get(None, [])
    if isinstance(node.op, Elemwise):
        found = by_track.get(node.op.scalar_op.name, []) + found
    return found


def _apply(fgraph, r, node):
    """Try rule ``r`` on ``node``; the replacements made (maybe none)."""
    result = r.fn(fgraph, node)
    if result is None:
        return []
    new = [result] if isinstance(result, Variable) else list(result)
    pairs = [(o, n) for o, n in zip(node.outputs, new) if n is not None and n is not o]
    return fgraph.replace_all(pairs, reason=r.name) if pairs else []


def run_rules(fgraph, rules):
    """Apply ``rules`` until none fires. A worklist of nodes, outputs first
    (so a pattern spanning several nodes is seen before rules on its inner
    nodes rewrite them); a node whose inputs or readers changed is tried
    again, nothing is rescanned."""
    by_track = _index(rules)
    fgraph.take_imported()
    queue = deque(reversed(fgraph.toposort()))
    queued = set(queue)
    budget = 50 * (len(queue) + 20)
    while queue:
        node = queue.popleft()
        queued.discard(node)
        if node not in fgraph:
            continue
        for r in _candidates(by_track, node):
            inputs = list(node.inputs)
            try:
                made = _apply(fgraph, r, node)
            except Exception as exc:  # noqa: BLE001  (a faulty rule must not stop the compilation)
                fgraph.stats[f"failed:{r.name}"] += 1
                warnings.warn(f"rewrite rule {r.name} failed on {node.op} and was skipped: {exc!r}",
                              RewriteWarning, stacklevel=2)
                continue
            if not made:
                continue
            fgraph.stats[r.name] += 1
            budget -= 1
            touched = fgraph.take_imported()
            for _, n in made:
                if n in fgraph:
                    touched.extend(fgraph.client_nodes(n))
            touched.extend(v.owner for v in inputs if v.owner is not None)
            for t in touched:
                if t not in queued and t in fgraph:
                    queue.append(t)
                    queued.add(t)
            break
        if budget <= 0:
            warnings.warn("rewrite: the rules did not reach a fixed point; stopping (a rule may undo another)",
                          RewriteWarning)
            return
