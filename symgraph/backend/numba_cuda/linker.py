"""The CUDA linker: decides where each value lives, compiles the kernels,
and writes the host-side driver, a Python function that launches them in
order (``CudaLinker.source`` shows it).

Placement: tensors live on the device; shapes, indices, the random state
and the small scalars computed from them live on the host, where they are
needed to size and launch kernels (reading them back from the device would
stall every call). A node runs on the host only when it is shape
arithmetic (``ops.host_ops``) on host values with a small result.
"""
import functools

import numpy as np

from ...errors import ExecutionError
from ...graph.basic import Constant, SharedVariable
from ...graph.sourceinfo import with_source
from . import impl as ops
from .runtime import DArray, Runtime, load_cuda


def _small(var):
    """A value cheap to keep on the host: a scalar, a single element, or
    an int vector (a shape)."""
    shape = var.type.shape
    return var.ndim == 0 or all(n == 1 for n in shape) or (var.ndim == 1 and np.dtype(var.dtype).kind in "iu")


class HostImpl(ops.NodeImpl):
    """A node of shape arithmetic run with its op's NumPy ``perform``."""

    def input_form(self, i):
        return "host"

    def __call__(self, *inputs):
        return self.op.perform(self.node, list(inputs))


class Plan:
    """Where every value of ``fgraph`` lives and how every node runs; needs
    no device (the PTX check uses ``specs`` without one)."""

    def __init__(self, fgraph):
        self.fgraph = fgraph
        self.nodes = fgraph.toposort()
        readers = {}
        for node in self.nodes:
            for i, var in enumerate(node.inputs):
                readers.setdefault(var, []).append((node, i))
        self.host = set()
        for var in fgraph.inputs:
            uses = readers.get(var, [])
            if _small(var) and var.type.shape.count(None) == 0 or uses and all(
                    ops.impl_for(node, set()).input_form(i) == "host" for node, i in uses):
                self.host.add(var)
        host_ops = ops.host_ops()
        self.impls = []
        for node in self.nodes:
            on_host = isinstance(node.op, host_ops) and all(
                isinstance(v, Constant) or v in self.host for v in node.inputs) and all(_small(o) for o in node.outputs)
            impl = HostImpl(node, self.host) if on_host else ops.impl_for(node, self.host)
            outs_host = range(len(node.outputs)) if on_host else impl.output_host
            self.host.update(node.outputs[k] for k in outs_host)
            self.impls.append(impl)
        self.escaping = self._escaping()

    def _escaping(self):
        """Variables whose buffers leave the call (outputs, updates, and what
        they are views of or were written into): never reused buffers."""
        out = {v for v in self.fgraph.outputs if not isinstance(v, Constant)}
        for node, impl in zip(reversed(self.nodes), reversed(self.impls)):
            if isinstance(impl, HostImpl):
                continue
            if impl.view and node.outputs[0] in out:
                out.add(node.inputs[0])
            for o, i in getattr(node.op, "inplace", ()):
                if node.outputs[o] in out:
                    out.add(node.inputs[i])
        return out

    def specs(self):
        """Every kernel the function may launch (duplicates removed)."""
        found = {}
        for impl in self.impls:
            for spec in impl.specs():
                found.setdefault(spec, None)
        dtypes = {v.dtype for node in self.nodes for v in node.outputs if v not in self.host}
        for dtype in sorted(dtypes):
            found.setdefault(ops.assign_spec(dtype, dtype), None)
        return list(found)


class CudaLinker:
    """Runs a FunctionGraph with numba-cuda kernels; shared values stay on
    the device between calls (see the module docstring)."""

    def __init__(self, fgraph, profiler=None):
        self.cuda = load_cuda()
        self.fgraph, self.profiler = fgraph, profiler
        self.plan = plan = Plan(fgraph)
        self.rt = Runtime(self.cuda)
        self.device_outputs = False
        for spec in plan.specs():
            self.rt.kernel(spec)
        for k, (node, impl) in enumerate(zip(plan.nodes, plan.impls)):
            impl.setup(self.rt, k, [o in plan.escaping for o in node.outputs])
        self.source, namespace = self._driver()
        exec(compile(self.source, f"<symgraph cuda driver {id(self):x}>", "exec"), namespace)
        self.driver = namespace["driver"]

    # -------------------------------------------------------------- driver
    def _driver(self):
        """The source of ``driver(*inputs)`` and its namespace: one line per
        node, plus the transfers a value needs between host and device."""
        plan, fg = self.plan, self.fgraph
        ns = {"upload": self.rt.upload, "to_host": self.rt.to_host, "fail": self._failure,
              "sync": self.rt.synchronize, "prof": self.profiler}
        names, lines = {}, []

        def name_of(var, form):
            if isinstance(var, Constant):  # in the namespace; uploaded once, here
                form = "device" if form == "device" else "host"
                if (var, form) not in names:
                    names[(var, form)] = key = f"c{len(ns)}"
                    ns[key] = self.rt.upload(var.data) if form == "device" else var.data
                return names[(var, form)]
            home = "host" if var in plan.host else "device"
            if form in ("any", home):
                return names[var]
            if (var, form) not in names:
                names[(var, form)] = f"{form[0]}_{names[var]}"
                lines.append(f"{names[(var, form)]} = {'to_host' if form == 'host' else 'upload'}({names[var]})")
            return names[(var, form)]

        args = [f"i{i}" for i in range(len(fg.inputs))]
        for i, var in enumerate(fg.inputs):
            names[var] = f"i{i}"
            if var not in plan.host and not isinstance(var, SharedVariable):
                names[var] = f"u{i}"
                lines.append(f"u{i} = upload(i{i}, ('input', {i}), {var in plan.escaping})")
        for k, (node, impl) in enumerate(zip(plan.nodes, plan.impls)):
            call_args = [name_of(v, impl.input_form(i)) for i, v in enumerate(node.inputs)]
            outs = [f"v{k}_{j}" for j in range(len(node.outputs))]
            names.update(zip(node.outputs, outs))
            ns[f"n{k}"], ns[f"node{k}"] = impl, node
            call = f"{', '.join(outs)}, = n{k}({', '.join(call_args)})"
            lines.append(f"at = {k}")
            if self.profiler is not None:
                lines += [f"with prof.timing(node{k}):", f"    {call}", "    sync()"]
            else:
                lines.append(f"{call}  # {node.op}" + (f" @ line {node.source.lineno}" if node.source else ""))
        results = [name_of(v, "host" if isinstance(v, Constant) else "any") for v in fg.outputs]
        lines.append(f"return [{', '.join(results)}]")
        source = "\n".join([f"def driver({', '.join(args)}):", "    at = -1", "    try:"]
                           + [f"        {line}" for line in lines]
                           + ["    except Exception as exc:", "        raise fail(at, exc) from exc"]) + "\n"
        return source, ns

    def _failure(self, at, exc):
        if at < 0:
            return exc
        node = self.plan.nodes[at]
        if isinstance(exc, ExecutionError) and node.source is not None and str(node.source.filename) in str(exc):
            return exc
        return ExecutionError(with_source(f"{node.op} failed (mode='cuda'): {exc}", node.source))

    def __call__(self, input_values):
        return self.driver(*input_values)

    # -------------------------------------------------------------- values
    def read_shared(self, var):
        """The shared value where this function wants it: the device copy
        (uploaded once after each set_value), or the host value."""
        if var in self.plan.host:
            return var.get_value(borrow=True)
        value = var.device_value
        if value is None:
            value = var.device_value = self.rt.upload(var.get_value(borrow=True))
        return value

    def write_shared(self, var, value):
        if isinstance(value, DArray):
            var.set_device_value(value, functools.partial(self.rt.to_host, value))
        else:
            var.set_value(value, borrow=True)

    def to_host(self, value):
        if self.device_outputs:
            return self.rt.to_device_array(value)
        return self.rt.to_host(value)
