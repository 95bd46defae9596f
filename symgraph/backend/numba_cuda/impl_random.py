"""Random draws in philox's layout, the same numbers as every backend."""
import numpy as np

from ...tensor import philox
from ...tensor.random import RandomDraw
from .impl import NodeImpl, register
from .runtime import KernelSpec, numba_type, signature, size_of, template


@register(RandomDraw)
class RandomDrawImpl(NodeImpl):
    """Draws in philox's layout; the state stays on the host, where the
    next counter is known without reading anything back."""

    output_host = (0,)

    def __init__(self, node, host_vars):
        super().__init__(node, host_vars)
        self.host_inputs = (0, 1, 2) if node.op.kind == "binomial" else (0, 1)

    def specs(self):
        _, _, a, b = self.node.inputs
        out = self.out_dtypes[1]
        params = [a, b] if self.op.kind != "binomial" else [b]
        args = [numba_type(out)] + [numba_type(p.dtype) for p in params] + ["int64[::1]", "int64", "int64", "int64"]
        args += ["int64"] if self.op.kind == "binomial" else []
        return [KernelSpec(template("random", out), self.op.kind, signature(*args))]

    def __call__(self, state, size, a, b):
        key, counter = int(state[0]), int(state[1])
        size = tuple(int(n) for n in size)
        count = size_of(size)
        out = self.empty(1, size)
        trials = 1
        if self.op.kind == "binomial":
            a = np.asarray(a)
            trials = int(a.reshape(-1)[0]) if count and a.size else 1
            if count and np.any(np.broadcast_to(a, size) != trials):
                raise self.fail(f"n must be one integer for every draw, got {np.unique(a)[:5]}")
            a = b
        for name, p in (("first parameter", a), ("second parameter", b)):
            if p.ndim > len(size) or any(n not in (1, s) for n, s in zip(p.shape[::-1], size[::-1])):
                raise self.fail(f"{name} of shape {p.shape} does not broadcast to the size {size}")
        meta = self.rt.meta(len(size), *size, a.offset, *a.broadcast_strides(size), b.offset,
                            *b.broadcast_strides(size))
        params = [a.buf, b.buf] if self.op.kind != "binomial" else [b.buf]
        args = [out.buf, *params, meta, count, philox.as_int64(key), philox.as_int64(counter)]
        if self.op.kind == "binomial":
            args.append(trials)
        work = (count + 1) // 2 if self.op.kind == "normal" else count
        self.rt.launch(self.kernels[0], work, *args)
        words = philox.words_needed(self.op.kind, count, trials)
        new_state = np.array([key, (counter + philox.blocks_needed(words)) % (1 << 64)], dtype="uint64")
        return [new_state, out]

    def input_form(self, i):
        if self.op.kind == "binomial" and i == 2:
            return "host"
        return super().input_form(i)
