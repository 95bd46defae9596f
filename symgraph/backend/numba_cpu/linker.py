"""The 'numba' linker: generate the module of a FunctionGraph, load it
through the disk cache (compiling with Numba when it is not there), call
it, and turn failures into errors that name the node and the user's line.

Two programs can be made from one graph. The *driver* (the default) is one
njit function for the whole graph. The *per-node* program has one njit
function per node, called in turn from Python: it serves profiling (time
per node), the NaN guard (checks after each node) and debug mode, and it
locates the node whose code does not compile when the driver does not.
"""
import os
import re
import time
import warnings

import numpy as np

from ...errors import ExecutionError, SymgraphError
from ...graph.basic import Constant
from ...graph.sourceinfo import with_source
from .. import cache, register_linker
from .calls import kernel_addresses, set_threads
from .codegen import ModuleSource
from .runtime import KernelCheckError

_HERE = os.path.dirname(os.path.abspath(__file__))
_RUNTIME_FILES = [os.path.join(_HERE, f) for f in ("kernels_nnet.py", "runtime.py", "calls.py", "pipeline.py")] + [
    os.path.join(os.path.dirname(os.path.dirname(_HERE)), "tensor", "philox.py")]


class KernelCompileError(SymgraphError, TypeError):
    """Numba could not compile the code of a node."""


def contiguous(value):
    """``value`` as an aligned, writable C-contiguous array (no copy when it
    is one): what the compiled signatures take."""
    flags = value.flags
    if flags.c_contiguous and flags.writeable and flags.aligned:
        return value
    return np.array(value, order="C")


def _numba_errors():
    from numba.core import errors
    return (errors.NumbaError,)


def _short(exc, lines=12):
    """Numba's message, without its terminal colours, cut to ``lines``."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip().splitlines()
    return "\n".join(text[:lines]) + ("\n..." if len(text) > lines else "")


@register_linker("numba")
class NumbaLinker:
    """Compiles a FunctionGraph with Numba (see the module docstring).

    ``profiler``: time every node (runs the per-node program). ``nan_guard``:
    raise at the first node whose output holds a NaN or an Inf (per-node
    program too). Attributes after construction: ``source_path`` (the
    generated file), ``compile_seconds``, ``cache_hit`` (the compiled code
    came from the disk cache), ``load_info`` (``cache.LoadInfo``)."""

    handles_nan_guard = True

    def __init__(self, fgraph, profiler=None, nan_guard=False, per_node=None):
        start = time.perf_counter()
        self.fgraph, self.profiler, self.nan_guard = fgraph, profiler, nan_guard
        self.code = ModuleSource(fgraph, cache.fingerprint(_RUNTIME_FILES))
        self.nodes = self.code.nodes
        self.const_values = [np.array(c.data) for c in self.code.const_args]
        self.per_node = (profiler is not None or nan_guard) if per_node is None else per_node
        if self.per_node:
            self._build_nodes()
        else:
            self._build_driver()
        self._plan_outputs()
        self.compile_seconds = time.perf_counter() - start

    # ------------------------------------------------------------- building

    def _build_driver(self):
        self.driver, self.load_info = None, None
        self.cache_hit = True
        if not self.code.computed_outputs():
            self.source_path = None
            return
        text = self.code.driver_source()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", _performance_warning())
                module, info = cache.load(text, "sg")
        except _numba_errors() as exc:
            raise self._locate_compile_error(exc) from None
        self.driver, self.source_path, self.load_info = module.driver, info.path, info
        self.kernel_addresses = kernel_addresses(module.KERNELS)
        self.cache_hit = bool(self.driver.stats.cache_hits)

    def _build_nodes(self):
        text = self.code.nodes_source()
        module, info = cache.load(text, "sgn")
        self.source_path, self.load_info = info.path, info
        addresses = kernel_addresses(module.KERNELS)
        self.node_fns, hits = [], []
        for k, node in enumerate(self.nodes):
            fn = getattr(module, f"node_{k}")
            params = self.code.node_params(node)
            self._compile_node(fn, node, params)
            hits.append(bool(fn.stats.cache_hits))
            self.node_fns.append((_with_addresses(fn, addresses), params))
        self.cache_hit = all(hits)

    def _compile_node(self, fn, node, params):
        from numba import from_dtype, types
        sig = tuple(types.Array(from_dtype(np.dtype(v.dtype)), v.ndim, "C") for v in params)
        sig += (types.Array(types.int64, 1, "C"),)  # the kernels' addresses
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", _performance_warning())
                fn.compile(sig)
        except _numba_errors() as exc:
            types_ = ", ".join(str(v.type) for v in node.inputs)
            raise KernelCompileError(with_source(
                f"numba backend: the kernel of {node.op} does not compile for inputs ({types_}):\n"
                f"{_short(exc)}", node.source)) from None

    def _locate_compile_error(self, exc):
        """The driver does not compile: compile node by node to name the
        culprit; failing that, report Numba's message."""
        text = self.code.nodes_source()
        try:
            module, _ = cache.load(text, "sgn")
            for k, node in enumerate(self.nodes):
                self._compile_node(getattr(module, f"node_{k}"), node, self.code.node_params(node))
        except KernelCompileError as located:
            return located
        except Exception:  # noqa: BLE001  (the per-node module itself failed: report the original)
            pass
        return KernelCompileError(f"numba backend: the generated driver does not compile (every node compiles "
                                  f"alone):\n{_short(exc, 30)}")

    def _fresh_outputs(self):
        """Positions of the outputs that hold a buffer of their own (no view
        of an input or of another output): the Function need not check
        them for aliasing."""
        infos = getattr(self.code, "driver_infos", None)
        if infos is None:
            return frozenset()
        outs = self.fgraph.outputs
        bases = [infos[o].base if o.owner is not None else None for o in outs]
        return frozenset(i for i, (o, base) in enumerate(zip(outs, bases))
                         if base is o and outs.count(o) == 1 and bases.count(o) == 1)

    def _plan_outputs(self):
        self.fresh_outputs = self._fresh_outputs()
        computed = self.code.computed_outputs()
        position = {v: i for i, v in enumerate(computed)}
        index = {v: i for i, v in enumerate(self.fgraph.inputs)}
        self.plan = []
        for out in self.fgraph.outputs:
            if out in position:
                self.plan.append((0, position[out]))
            elif out in index:
                self.plan.append((1, index[out]))
            elif isinstance(out, Constant):
                self.plan.append((2, out.data))
            else:
                raise ExecutionError(f"numba backend: output {out!r} is not computed by the graph")

    # -------------------------------------------------------------- running

    def __call__(self, input_values):
        if self.per_node:
            return self._run_nodes(input_values)
        results = ()
        if self.driver is not None:
            args = [contiguous(v) for v in input_values]
            args += self.const_values
            args.append(set_threads(self.kernel_addresses))
            try:
                results = self.driver(*args)
            except KernelCheckError as exc:
                raise self._check_error(exc) from None
            except Exception as exc:  # noqa: BLE001
                raise self._unexpected_error(exc, input_values) from exc
        return [results[i] if kind == 0 else input_values[i] if kind == 1 else np.array(i)
                for kind, i in self.plan]

    def _run_nodes(self, input_values):
        storage = dict(zip(self.fgraph.inputs, input_values))
        for const, value in zip(self.code.const_args, self.const_values):
            storage[const] = value
        profiler = self.profiler
        for node, (fn, params) in zip(self.nodes, self.node_fns):
            args = [contiguous(storage[v]) for v in params]
            try:
                if profiler is not None:
                    with profiler.timing(node):
                        outputs = fn(*args)
                else:
                    outputs = fn(*args)
            except KernelCheckError as exc:
                raise self._check_error(exc) from None
            except Exception as exc:  # noqa: BLE001
                raise ExecutionError(with_source(f"{node.op} failed: {type(exc).__name__}: {exc}",
                                                 node.source)) from exc
            storage.update(zip(node.outputs, outputs))
            if self.nan_guard:
                _guard(node, outputs)
        return [storage[o] if not isinstance(o, Constant) else np.array(o.data) for o in self.fgraph.outputs]

    def _check_error(self, exc):
        check = self.code.checks[exc.args[0]]
        return ExecutionError(with_source(check.format(exc.args[1:]), check.node.source))

    def _unexpected_error(self, exc, input_values):
        """A failure no check foresaw: re-run the reference backend to find
        the node (its error names it); else report Numba's."""
        from ..python import PythonLinker
        try:
            PythonLinker(self.fgraph)(input_values)
        except ExecutionError as located:
            return located
        except Exception:  # noqa: BLE001
            pass
        return ExecutionError(f"numba backend: the compiled function failed ({type(exc).__name__}: {exc}); the "
                              f"reference backend runs these inputs without error. Generated code: "
                              f"{self.source_path}")

    # Shared values live in host memory: the Function reads and writes them.
    @staticmethod
    def read_shared(var):
        return var.get_value(borrow=True)

    @staticmethod
    def write_shared(var, value):
        t = var.type
        if value.dtype == t.numpy_dtype and value.ndim == t.ndim and not any(t.shape):
            var._value = value  # a value the compiled code made for this type: no need to filter it
            var.on_set_value()
        else:
            var.set_value(value, borrow=True)

    @staticmethod
    def to_host(value):
        return value


def _with_addresses(fn, addresses):
    """A per-node function that takes its arguments but the kernels' addresses."""
    def run(*args):
        return fn(*args, set_threads(addresses))
    return run


def _guard(node, outputs):
    for i, value in enumerate(outputs):
        if value.dtype.kind in "fc" and not np.isfinite(value).all():
            what = "NaN" if np.isnan(value).any() else "Inf"
            raise ExecutionError(with_source(
                f"NaN guard: output {i} of {node.op} contains {what} (inputs: {node.inputs})", node.source))


def _performance_warning():
    from numba.core.errors import NumbaPerformanceWarning
    return NumbaPerformanceWarning
