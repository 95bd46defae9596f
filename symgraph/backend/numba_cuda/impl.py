"""How each op runs on the device, by single dispatch on the op class.

A ``NodeImpl`` says which inputs it needs on the host (shapes, indices,
the random state), lists the kernels it launches (``specs``, compiled when
the function is compiled, and compiled to PTX by the PTX check), and is
called with its input values (``DArray`` on the device, NumPy on the host)
to return its outputs. Views (dimshuffle, reshape, subtensor) launch
nothing: they make a new ``DArray`` over the same buffer.
"""
from ...errors import ExecutionError, SymgraphError
from ...graph.sourceinfo import with_source
from .runtime import KernelSpec, numba_type, signature, template

IMPLS = {}


class NoKernelError(SymgraphError, NotImplementedError):
    """An op of the graph has no CUDA kernel."""


def register(*op_classes):
    """Class decorator: the NodeImpl of nodes whose op is one of ``op_classes``."""
    def deco(cls):
        for op_class in op_classes:
            IMPLS[op_class] = cls
        return cls
    return deco


def impl_for(node, host_vars):
    """The NodeImpl of ``node``; ``host_vars``: the variables whose values
    are NumPy arrays on the host."""
    _register_builtin()
    for cls in type(node.op).__mro__:
        if cls in IMPLS:
            return IMPLS[cls](node, host_vars)
    raise NoKernelError(with_source(
        f"mode='cuda': no CUDA kernel for {node.op} (op class {type(node.op).__module__}."
        f"{type(node.op).__qualname__}); use mode='numba' or mode='python' for this graph", node.source))


def pow2_block(n, most, per_thread=8):
    """Threads of a block that reduces ``n`` items: a power of 2, enough for
    about ``per_thread`` items each, at most ``most`` (tiny reductions get
    tiny blocks: legal on a GPU, and the simulator runs one Python thread
    per GPU thread)."""
    block = 1
    while block * per_thread < n and block < most:
        block *= 2
    return block


class NodeImpl:
    """The device implementation of one node (see the module docstring)."""

    host_inputs = ()  # indices of inputs needed as NumPy values
    output_host = ()  # indices of outputs returned as NumPy values
    view = False  # True: the output may be a view of input 0's buffer

    def __init__(self, node, host_vars):
        self.node, self.op = node, node.op
        self.out_dtypes = [o.dtype for o in node.outputs]

    def input_form(self, i):
        """'host', 'device', or 'any' (either works)."""
        return "host" if i in self.host_inputs else "device"

    def specs(self):
        """The kernels this node launches."""
        return []

    def setup(self, rt, key, fresh):
        """Bind to the runtime; ``fresh[k]``: output k leaves the call (or
        is written later), so its buffer must not be reused."""
        self.rt, self.key, self.fresh = rt, key, fresh
        self.keys = [(key, k) for k in range(len(fresh))]
        self.kernels = [rt.kernel(spec) for spec in self.specs()]
        self.cache = {}  # per-node results that depend only on input shapes

    def empty(self, k, shape):
        return self.rt.empty(self.keys[k], shape, self.out_dtypes[k], self.fresh[k])

    def cached(self, key, compute):
        """``compute()``, remembered for ``key`` (a few hundred keys at most)."""
        value = self.cache.get(key)
        if value is None:
            if len(self.cache) > 256:
                self.cache.clear()
            value = self.cache[key] = compute()
        return value

    def scratch(self, name, value):
        """``value`` made contiguous in a buffer reused between calls."""
        return self.rt.contiguous(value, (self.key, name), False)

    def fail(self, message):
        return ExecutionError(f"{self.op}: {message}")


def static_size_one(var):
    return all(n == 1 for n in var.type.shape)


def check_broadcast(impl, src, dst):
    if len(src) > len(dst) or any(a not in (1, b) for a, b in zip(src[::-1], dst[::-1])):
        raise impl.fail(f"could not broadcast a value of shape {src} into shape {dst}")


def assign_spec(dst_dtype, src_dtype):
    """The strided copy kernel for these dtypes (runtime.Runtime.assign)."""
    sig = signature(numba_type(dst_dtype), numba_type(src_dtype), "int64[::1]", "int64", "int64")
    return KernelSpec(template("copy"), "assign", sig)


def host_ops():
    """Ops whose nodes may run on the host (NumPy ``perform``) when all
    their inputs are there and their outputs are small: shape arithmetic."""
    from ...grad import GradientBlock
    from ...tensor.basic import SpecifyShape
    from ...tensor.elemwise import DimShuffle, Elemwise
    from ...tensor.reduce import Argmax, Reduce
    from ...tensor.shape import ARange, Alloc, Join, MakeVector, Reshape, Shape
    from ...tensor.subtensor import Subtensor
    return (Elemwise, DimShuffle, Subtensor, SpecifyShape, GradientBlock, Reshape, Reduce, Argmax, MakeVector, ARange,
            Shape, Alloc, Join)


def _register_builtin():
    from . import impl_elemwise, impl_nnet, impl_random, impl_shape  # noqa: F401  (they register themselves)
