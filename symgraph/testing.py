"""Testing helpers for users and for symgraph's own tests: ``verify_grad``
(finite differences along random directions) and hypothesis strategies for
shapes, arrays and small random graphs."""
from dataclasses import dataclass

import numpy as np

TOLERANCE = {"float64": (1e-6, 1e-5), "float32": (3e-3, 3e-2), "float16": (5e-2, 5e-1)}


class GradientCheckError(AssertionError):
    """The symbolic gradient disagrees with finite differences."""


def verify_grad(fun, pt, n_tests=2, rng=None, eps=None, abs_tol=None, rel_tol=None, mode="python", dtype="float64"):
    """Check the symbolic gradient of ``fun`` at the point ``pt``.

    ``fun`` maps symbolic inputs (one per array of ``pt``) to a symbolic
    output; the check projects the output on a random tensor to get a
    scalar cost, then compares, along ``n_tests`` random directions, the
    directional derivative from ``grad`` with a central difference. Inputs
    are cast to ``dtype`` (float64 by default, where differences are
    accurate). Raises GradientCheckError with the numbers when they differ.
    """
    from . import function, grad
    from .tensor.basic import as_tensor, tensor
    from .tensor.reduce import sum as tsum
    rng = rng if rng is not None else np.random.default_rng(0)
    pt = [np.array(p, dtype=dtype) for p in pt]
    atol, rtol = TOLERANCE[dtype]
    atol, rtol = abs_tol or atol, rel_tol or rtol
    eps = eps or (1e-6 if dtype == "float64" else 1e-3)
    inputs = [tensor(dtype, (None,) * p.ndim, name=f"x{i}") for i, p in enumerate(pt)]
    out = as_tensor(fun(*inputs))
    out_value = function(inputs, out, mode=mode, on_unused_input="ignore")(*pt)
    projection = as_tensor(rng.standard_normal(np.shape(out_value)).astype(dtype))
    cost = tsum(out * projection) if out.ndim else out * projection
    cost_fn = function(inputs, cost, mode=mode, on_unused_input="ignore")
    grad_fn = function(inputs, grad(cost, inputs, disconnected_inputs="ignore"), mode=mode, on_unused_input="ignore")
    analytic = grad_fn(*pt)
    for _ in range(n_tests):
        direction = [rng.standard_normal(p.shape).astype(dtype) for p in pt]
        plus = cost_fn(*[p + eps * d for p, d in zip(pt, direction)])
        minus = cost_fn(*[p - eps * d for p, d in zip(pt, direction)])
        numeric = float((plus - minus) / (2 * eps))
        symbolic = float(sum(np.sum(g * d) for g, d in zip(analytic, direction)))
        if not abs(numeric - symbolic) <= atol + rtol * max(abs(numeric), abs(symbolic)):
            raise GradientCheckError(
                f"verify_grad: directional derivative {symbolic!r} from grad, {numeric!r} from finite "
                f"differences (eps={eps}, abs_tol={atol}, rel_tol={rtol}) at input shapes "
                f"{[p.shape for p in pt]}")
    return analytic


# ----------------------------------------------------------------- strategies

def _st():
    from hypothesis import strategies
    return strategies


def shapes(min_dims=0, max_dims=4, min_side=1, max_side=5):
    """Array shapes."""
    st = _st()
    return st.lists(st.integers(min_side, max_side), min_size=min_dims, max_size=max_dims).map(tuple)


def broadcastable_shapes(min_dims=0, max_dims=4, min_side=1, max_side=5):
    """Pairs of shapes that broadcast together, with the smaller rank padded
    on the left and some lengths replaced by 1."""
    st = _st()

    @st.composite
    def pair(draw):
        full = draw(shapes(min_dims, max_dims, min_side, max_side))
        def shrink(shape):
            cut = draw(st.integers(0, len(shape)))
            return tuple(1 if draw(st.booleans()) else n for n in shape[cut:])
        return shrink(full), shrink(full)
    return pair()


def arrays(shape, dtype="float64", low=-3.0, high=3.0):
    """Arrays of ``shape`` with finite values in [low, high]."""
    from hypothesis.extra import numpy as hnp
    st = _st()
    kind = np.dtype(dtype).kind
    if kind == "f":
        elements = st.floats(low, high, allow_nan=False, allow_infinity=False, width=np.dtype(dtype).itemsize * 8)
    elif kind == "b":
        elements = st.booleans()
    else:
        elements = st.integers(int(low), int(high))
    return hnp.arrays(dtype, shape, elements=elements)


UNARY = ("neg", "exp", "tanh", "sigmoid", "sqr", "abs", "softplus", "log1p_abs", "sin")
BINARY = ("add", "sub", "mul", "maximum", "minimum")
REDUCE = ("sum", "mean", "max")


@dataclass
class RandomGraph:
    """A recipe drawn by ``random_graphs``: ``build(*inputs)`` makes the
    graph from symbolic inputs of ``input_shapes``."""

    input_shapes: list
    steps: list

    def build(self, *inputs):
        from . import tensor as T
        values = list(inputs)
        for kind, name, args in self.steps:
            if kind == "unary":
                x = values[args[0]]
                values.append(T.log1p(abs(x)) if name == "log1p_abs" else getattr(T, name)(x))
            elif kind == "binary":
                values.append(getattr(T, name)(values[args[0]], values[args[1]]))
            elif kind == "reduce":
                x = values[args[0]]
                values.append(getattr(T, name)(x, axis=args[1] % x.ndim, keepdims=True) if x.ndim else x)
            elif kind == "transpose":
                values.append(values[args[0]].T)
        return values[-1]

    def __repr__(self):
        return f"RandomGraph(shapes={self.input_shapes}, steps={self.steps})"


def random_graphs(max_inputs=3, max_steps=8, max_dims=3, max_side=4):
    """Small random graphs of elementwise ops, reductions (keepdims) and
    transposes over inputs of one broadcast shape (shapes stay square when
    transposing, so every step is valid)."""
    st = _st()

    @st.composite
    def graph(draw):
        ndim = draw(st.integers(1, max_dims))
        side = draw(st.integers(1, max_side))
        full = (side,) * ndim
        n_inputs = draw(st.integers(1, max_inputs))
        input_shapes = [full] * n_inputs
        steps = []
        n_values = n_inputs
        for _ in range(draw(st.integers(1, max_steps))):
            kind = draw(st.sampled_from(["unary", "binary", "binary", "reduce", "transpose"]))
            a = draw(st.integers(0, n_values - 1))
            if kind == "unary":
                steps.append((kind, draw(st.sampled_from(UNARY)), (a,)))
            elif kind == "binary":
                steps.append((kind, draw(st.sampled_from(BINARY)), (a, draw(st.integers(0, n_values - 1)))))
            elif kind == "reduce":
                steps.append((kind, draw(st.sampled_from(REDUCE)), (a, draw(st.integers(0, ndim - 1)))))
            else:
                steps.append((kind, "T", (a,)))
            n_values += 1
        return RandomGraph(input_shapes, steps)
    return graph()


# ------------------------------------------------------------ backend checks

BACKEND_TOLERANCE = {"float64": (1e-7, 1e-9), "float32": (1e-4, 1e-4), "float16": (1e-2, 1e-2),
                     "complex128": (1e-7, 1e-9), "complex64": (1e-4, 1e-4)}


class BackendMismatchError(AssertionError):
    """Two backends computed different values for the same graph."""


def assert_same_values(expected, actual, what="value", rtol=None, atol=None):
    """Raise BackendMismatchError unless the arrays have the same dtype and
    shape and equal values (within the dtype's BACKEND_TOLERANCE (rtol,
    atol) for floats; NaNs must match NaNs)."""
    expected, actual = np.asarray(expected), np.asarray(actual)
    if expected.dtype != actual.dtype or expected.shape != actual.shape:
        raise BackendMismatchError(f"{what}: expected {expected.dtype}{expected.shape}, got "
                                   f"{actual.dtype}{actual.shape}")
    default_rtol, default_atol = BACKEND_TOLERANCE.get(expected.dtype.name, (0, 0))
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    if expected.dtype.kind in "fc":
        scale = np.max(np.abs(expected[np.isfinite(expected)]), initial=1.0)
        close = np.isclose(actual, expected, rtol=rtol, atol=atol * scale, equal_nan=True)
    else:
        close = actual == expected
    if not np.all(close):
        bad = np.argwhere(~np.asarray(close))[:5]
        detail = ", ".join(f"{tuple(int(i) for i in idx)}: expected {expected[tuple(idx)]!r}, got "
                           f"{actual[tuple(idx)]!r}" for idx in bad)
        raise BackendMismatchError(f"{what}: {np.size(close) - np.count_nonzero(close)} of {np.size(close)} "
                                   f"elements differ (rtol={rtol}, atol={atol} x max|expected|); {detail}")


def compare_backends(inputs, outputs, values, modes=("numba",), reference="python", updates=None, rtol=None,
                     atol=None, **function_kwargs):
    """Compile ``outputs`` (a variable or a list) of ``inputs`` with
    ``updates`` in the ``reference`` mode and in each of ``modes``, call
    each with ``values`` from the same shared state, and raise
    BackendMismatchError unless every output and every updated shared value
    agrees (``assert_same_values``). Shared variables are left as the
    reference call leaves them. Returns the reference outputs (a list).

    Modes may be names or ``symgraph.Mode`` objects; ``function_kwargs``
    go to ``function`` (``on_unused_input``, ``allow_input_downcast``...)."""
    from . import function
    single = not isinstance(outputs, (list, tuple))
    outs = [outputs] if single else list(outputs)
    function_kwargs.setdefault("on_unused_input", "ignore")
    fns = [function(inputs, outs, updates=updates, mode=m, **function_kwargs) for m in (reference, *modes)]
    shared = fns[0].updated
    start = [v.get_value() for v in shared]
    results = []
    for fn in fns:
        for var, value in zip(shared, start):
            var.set_value(value.copy())
        got = fn(*values)
        results.append((got, [v.get_value() for v in shared]))
    expected, expected_shared = results[0]
    for mode, (got, got_shared) in zip(modes, results[1:]):
        for i, (e, a) in enumerate(zip(expected, got)):
            assert_same_values(e, a, f"mode {mode!r} vs {reference!r}, output {i} ({outs[i]!r})", rtol, atol)
        for var, e, a in zip(shared, expected_shared, got_shared):
            assert_same_values(e, a, f"mode {mode!r} vs {reference!r}, shared variable {var!r} after the call",
                               rtol, atol)
    for var, value in zip(shared, expected_shared):
        var.set_value(value)
    return expected
