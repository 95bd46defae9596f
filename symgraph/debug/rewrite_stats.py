"""Which rewrites fired while compiling a function, how many times, and
what each phase did to the node count."""
import sys


def _fgraph(obj):
    from ..compile.function import Function
    from ..rewrite.fgraph import FunctionGraph
    if isinstance(obj, Function):
        return obj.fgraph
    if isinstance(obj, FunctionGraph):
        return obj
    raise TypeError(f"rewrite_stats expects a compiled Function or a FunctionGraph, got {type(obj).__name__}")


def rewrite_counts(obj):
    """{rule or pass name: times it fired} for a compiled function (or a
    FunctionGraph), most frequent first."""
    return dict(_fgraph(obj).stats.most_common())


def rewrite_stats(obj, file=None):
    """Print, for a compiled function (or a FunctionGraph), each phase's
    node count before and after, its rewrites and time, then how many times
    each rule fired. Returns the text."""
    fg = _fgraph(obj)
    lines = [f"{'phase':<18}{'nodes before':>13}{'after':>7}{'rewrites':>10}{'ms':>9}"]
    for rec in fg.phase_log:
        lines.append(f"{rec['phase']:<18}{rec['nodes_before']:>13}{rec['nodes_after']:>7}{rec['rewrites']:>10}"
                     f"{rec['seconds'] * 1e3:>9.2f}")
    if not fg.phase_log:
        lines.append("(no phase ran: the function was compiled without optimization)")
    lines.append("")
    lines.append(f"{'rule':<28}{'fired':>6}")
    lines.extend(f"{name:<28}{count:>6}" for name, count in fg.stats.most_common())
    text = "\n".join(lines)
    print(text, file=file or sys.stdout)
    return text
