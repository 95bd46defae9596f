"""Drawing graphs, like Theano's pydotprint: a compiled function's
optimized graph or the user's graph (variables), as a Graphviz DOT file or
an image. A fused elementwise cluster is one node listing its scalar ops."""
import os
import shutil
import subprocess

import networkx as nx

from ..graph.basic import Constant, SharedVariable, Variable
from ..graph.traversal import toposort

_COLOURS = {"input": "limegreen", "shared": "lightblue", "constant": "lightgrey", "output": "gold",
            "op": "white", "fused": "orange"}


def _outputs(obj):
    from ..compile.function import Function
    from ..rewrite.fgraph import FunctionGraph
    if isinstance(obj, Function):
        return list(obj.fgraph.outputs)
    if isinstance(obj, FunctionGraph):
        return list(obj.outputs)
    if isinstance(obj, Variable):
        return [obj]
    return list(obj)


def _type_text(var):
    return f"{var.dtype} ({', '.join('?' if s is None else str(s) for s in var.type.shape)})"


def _op_label(node):
    scalar = getattr(node.op, "scalar_op", None)
    nodes = getattr(scalar, "nodes", None)
    if nodes is not None:
        inplace = " inplace" if node.op.inplace else ""
        ops = ", ".join(op.name for op, _, _ in nodes)
        return f"Fused{inplace}: {len(nodes)} ops\n{ops}", "fused"
    return str(node.op), "op"


def to_networkx(obj):
    """The graph as a networkx DiGraph: one node per Apply node and per
    leaf or output variable, with ``label`` and ``kind`` attributes; edges
    carry the variable's type as ``label``."""
    outputs = _outputs(obj)
    g = nx.DiGraph()
    names = {}

    def var_node(var):
        if var not in names:
            names[var] = f"v{len(names)}"
            kind = "shared" if isinstance(var, SharedVariable) else "constant" if isinstance(var, Constant) else "input"
            label = repr(var) if var.owner is None else (var.name or "output")
            g.add_node(names[var], label=f"{label}\n{_type_text(var)}", kind=kind)
        return names[var]

    ids = {}
    for node in toposort(outputs):
        ids[node] = f"n{len(ids)}"
        label, kind = _op_label(node)
        g.add_node(ids[node], label=label, kind=kind)
        for var in node.inputs:
            src = ids[var.owner] if var.owner is not None else var_node(var)
            g.add_edge(src, ids[node], label=_type_text(var) if var.owner is not None else "")
    for i, out in enumerate(outputs):
        name = f"out{i}"
        g.add_node(name, label=f"output {i}\n{_type_text(out)}", kind="output")
        g.add_edge(ids[out.owner] if out.owner is not None else var_node(out), name, label="")
    return g


def _quote(text):
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(obj):
    """Graphviz DOT text for a compiled function (its optimized graph), a
    FunctionGraph, or variables (the graph as the user built it)."""
    g = to_networkx(obj)
    lines = ["digraph symgraph {", "  rankdir=TB;", '  node [fontname="Helvetica", fontsize=10];']
    for name, data in g.nodes(data=True):
        shape = "box" if data["kind"] in ("op", "fused") else "ellipse"
        lines.append(f"  {name} [label={_quote(data['label'])}, shape={shape}, style=filled, "
                     f"fillcolor={_COLOURS[data['kind']]}];")
    for a, b, data in g.edges(data=True):
        lines.append(f"  {a} -> {b} [label={_quote(data['label'])}, fontsize=8];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def pydotprint(obj, outfile="symgraph.png", format=None):
    """Draw ``obj`` (a compiled function, a FunctionGraph or variables) to
    ``outfile``: a ``.dot`` file holds Graphviz text; other extensions
    (png, svg, pdf) are rendered with Graphviz's ``dot`` when it is
    installed, else with matplotlib (a layered layout). Returns the path."""
    outfile = os.fspath(outfile)
    format = format or os.path.splitext(outfile)[1].lstrip(".").lower() or "png"
    text = to_dot(obj)
    if format == "dot":
        with open(outfile, "w") as f:
            f.write(text)
        return outfile
    dot = shutil.which("dot")
    if dot is not None:
        subprocess.run([dot, f"-T{format}", "-o", outfile], input=text.encode(), check=True)
        return outfile
    _draw_matplotlib(to_networkx(obj), outfile, format)
    return outfile


def _draw_matplotlib(g, outfile, format):
    from matplotlib.figure import Figure  # no pyplot: the user's backend is left alone
    layers = list(nx.topological_generations(g))
    for layer, names in enumerate(layers):
        for name in names:
            g.nodes[name]["layer"] = layer
    pos = nx.multipartite_layout(g, subset_key="layer", align="horizontal")
    pos = {k: (x, -y) for k, (x, y) in pos.items()}  # inputs at the top
    fig = Figure(figsize=(max(6, 1.6 * max(map(len, layers))), max(4, 1.1 * len(layers))))
    ax = fig.subplots()
    nx.draw_networkx_edges(g, pos, ax=ax, arrows=True, arrowsize=8, edge_color="grey")
    for name, data in g.nodes(data=True):
        shape = "square,pad=0.3" if data["kind"] in ("op", "fused") else "round,pad=0.3"
        ax.text(*pos[name], data["label"], ha="center", va="center", fontsize=7,
                bbox=dict(boxstyle=shape, fc=_COLOURS[data["kind"]], ec="black", lw=0.5))
    ax.set_axis_off()
    fig.savefig(outfile, format=format, bbox_inches="tight", dpi=120)
