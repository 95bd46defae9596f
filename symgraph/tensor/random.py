"""Random draws from Philox streams; the state is a shared variable that
each call of a compiled function advances (reproducible from the seed)."""
import numpy as np

from ..config import config
from ..errors import ExecutionError
from ..graph.basic import Apply, Op
from ..graph.type import TensorType, canonical_dtype
from . import philox
from .basic import as_tensor, cast, get_scalar_constant_value, shared
from .shape import make_vector, shape

_PARAMS = {"uniform": ("low", "high"), "normal": ("avg", "std"), "binomial": ("n", "p")}


class RandomDraw(Op):
    """Draws of ``kind`` ('uniform', 'normal', 'binomial') of ``dtype``.

    Inputs: the state (uint64 [key, counter]), the shape (int64 vector) and
    the two parameters (broadcast to the shape). Outputs: the next state and
    the sample. The numbers are ``philox``'s streams, so every backend that
    follows its layout draws the very same values.
    """

    __props__ = ("kind", "dtype", "ndim")

    def __init__(self, kind, dtype, ndim):
        self.kind, self.dtype, self.ndim = kind, canonical_dtype(dtype), ndim

    def make_node(self, state, size, a, b):
        state, size = as_tensor(state), cast(as_tensor(size), "int64")
        a, b = as_tensor(a), as_tensor(b)
        if size.ndim != 1:
            raise self.type_error(f"size must be a vector of lengths, got {size.type}")
        for name, p in zip(_PARAMS[self.kind], (a, b)):
            if p.ndim > self.ndim:
                raise self.type_error(f"parameter {name} of rank {p.ndim} does not fit draws of rank {self.ndim}")
        static = [get_scalar_constant_value(size[i]) for i in range(self.ndim)]
        return Apply(self, [state, size, a, b], [state.type, TensorType(self.dtype, static)])

    def perform(self, node, inputs):
        state, size, a, b = inputs
        key, counter = int(state[0]), int(state[1])
        size = tuple(int(n) for n in size)
        count = int(np.prod(size))
        a, b = (np.broadcast_to(p, size).ravel() for p in (a, b))
        if self.kind == "uniform":
            values, counter = philox.uniform(key, counter, count, a, b, self.dtype)
        elif self.kind == "normal":
            values, counter = philox.normal(key, counter, count, a, b, self.dtype)
        else:
            trials = int(a[0]) if count else 1
            if count and np.any(a != trials):  # one trial count per draw: philox's layout
                raise ExecutionError(f"{self}: n must be one integer for every draw, got {np.unique(a)[:5]}")
            values, counter = philox.binomial(key, counter, count, trials, b, self.dtype)
        new_state = np.array([key, counter % (1 << 64)], dtype="uint64")
        return [new_state, np.asarray(values, dtype=self.dtype).reshape(size)]

    def pullback(self, node, inputs, outputs, output_grads):
        return [None] * len(inputs)


class RandomStreams:
    """Theano's ``RandomStreams(seed)``: each draw gets its own Philox key
    derived from the seed and a shared state that compiled functions advance
    automatically (its ``default_update``)."""

    def __init__(self, seed=12345):
        self.states = []
        self.seed(seed)

    def seed(self, seed):
        """Reset every stream made so far (and those to come) to ``seed``."""
        self.seed_value = int(seed) % (1 << 64)
        for i, state in enumerate(self.states):
            state.set_value(self._initial_state(i))

    def _initial_state(self, index):
        x0, x1, _, _ = philox.philox4x32(index, 0, 0, 0, self.seed_value & 0xFFFFFFFF, self.seed_value >> 32)
        return np.array([x0 | (x1 << 32), 0], dtype="uint64")

    def _draw(self, kind, size, a, b, ndim, dtype):
        if size is None:
            size = shape(as_tensor(b) if kind == "binomial" else as_tensor(a) + as_tensor(b))
        if isinstance(size, (list, tuple)):
            size = make_vector(size, dtype="int64")
        size = as_tensor(size)
        if ndim is None:
            ndim = size.type.shape[0]
            if ndim is None:
                raise TypeError(f"{kind}: the number of dimensions of size is not static; pass ndim=")
        state = shared(self._initial_state(len(self.states)), name=f"rng_state_{len(self.states)}")
        self.states.append(state)
        new_state, sample = RandomDraw(kind, dtype, ndim)(state, size, a, b)
        state.default_update = new_state
        return sample

    def uniform(self, size=None, low=0.0, high=1.0, ndim=None, dtype=None):
        """Uniform draws in [low, high)."""
        return self._draw("uniform", size, low, high, ndim, dtype or config.floatX)

    def normal(self, size=None, avg=0.0, std=1.0, ndim=None, dtype=None):
        """Gaussian draws with mean ``avg`` and standard deviation ``std``."""
        return self._draw("normal", size, avg, std, ndim, dtype or config.floatX)

    def binomial(self, size=None, n=1, p=0.5, ndim=None, dtype="int64"):
        """Binomial draws: successes in ``n`` trials of probability ``p``."""
        return self._draw("binomial", size, n, p, ndim, dtype)
