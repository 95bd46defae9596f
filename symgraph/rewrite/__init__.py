"""Graph rewriting: the FunctionGraph that compiled functions optimize, and
the phases that optimize it (see docs/rewrite.md)."""
from .engine import PHASES, RULES, RewriteWarning, graph_pass, optimize, rule, run_rules
from .fgraph import FunctionGraph
from . import rules  # noqa: E402,F401  (registers the rule tables and passes)

__all__ = ["FunctionGraph", "optimize", "rule", "graph_pass", "run_rules", "PHASES", "RULES", "RewriteWarning"]
