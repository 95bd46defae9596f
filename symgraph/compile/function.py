"""``function()``: compile a graph, with shared-variable updates, into a
callable."""
import time
import warnings

import numpy as np

from ..errors import GraphTypeError, InputError
from ..graph.basic import Constant, SharedVariable, Variable
from ..graph.sourceinfo import user_source, with_source
from ..graph.traversal import ancestors, clone_replace, graph_inputs, is_input
from ..rewrite.fgraph import FunctionGraph
from .mode import get_mode

_KEYWORDS = ("outputs", "updates", "givens", "mode", "allow_input_downcast", "on_unused_input", "name",
             "profile", "nan_guard")


def _pairs(arg, what):
    if arg is None:
        return []
    items = list(arg.items()) if isinstance(arg, dict) else list(arg)
    for item in items:
        if not (isinstance(item, (tuple, list)) and len(item) == 2):
            raise TypeError(f"{what} must be a dict or a list of (variable, expression) pairs, got {item!r}")
    return [tuple(item) for item in items]


def _check_updates(updates):
    from ..tensor.basic import as_tensor
    checked, seen = [], set()
    for var, expr in updates:
        if not isinstance(var, SharedVariable):
            raise TypeError(with_source(
                f"updates: {var!r} is not a shared variable; only shared variables can be updated",
                getattr(var, "source", None) or user_source()))
        if var in seen:
            raise ValueError(f"updates: {var!r} is updated twice")
        seen.add(var)
        expr = as_tensor(expr)
        if expr.dtype != var.dtype or expr.ndim != var.ndim:
            raise GraphTypeError(with_source(
                f"updates: the update of {var!r} has type {expr.type} but the shared variable has type "
                f"{var.type}; an update must keep the dtype and rank (cast it, e.g. "
                f"T.cast(expr, '{var.dtype}'), or check which operand upcast it)",
                expr.source or user_source()))
        if not var.type.is_super(expr.type):
            raise GraphTypeError(with_source(
                f"updates: the update of {var!r} has static shape {expr.type.shape}, incompatible with "
                f"{var.type}", expr.source))
        checked.append((var, expr))
    return checked


def _check_givens(givens):
    from ..tensor.basic import as_tensor
    out = {}
    for var, new in givens:
        if not isinstance(var, Variable):
            raise TypeError(f"givens: keys must be symbolic variables, got {var!r}")
        new = as_tensor(new)
        if new.dtype != var.dtype or new.ndim != var.ndim:
            raise GraphTypeError(with_source(
                f"givens: {var!r} of type {var.type} cannot be replaced by {new.type}", user_source()))
        out[var] = new
    return out


def _default_updates(outputs, updates):
    """Add the ``default_update`` of every shared variable the graph reads
    (random states) unless the user updates it."""
    updated = {v for v, _ in updates}
    pending = list(outputs) + [e for _, e in updates]
    added = []
    while pending:
        new = []
        for leaf in graph_inputs(pending):
            if isinstance(leaf, SharedVariable) and leaf.default_update is not None and leaf not in updated:
                updated.add(leaf)
                added.append((leaf, leaf.default_update))
                new.append(leaf.default_update)
        pending = new
    return added


def function(inputs, outputs=None, updates=None, givens=None, mode=None, allow_input_downcast=False,
             on_unused_input="raise", name=None, profile=False, nan_guard=False, **unknown):
    """Compile ``outputs`` as a function of ``inputs``, Theano's way.

    ``updates``: (shared variable, expression) pairs; every expression reads
    the values from before the call, and the new values are stored only when
    the whole call succeeded. ``givens``: {variable: replacement}.
    ``mode``: 'numba' (default), 'python' (the NumPy reference), 'debug',
    'cuda', 'python_unopt', or a Mode. ``allow_input_downcast``: accept
    arguments whose dtype must be narrowed (float64 data for a float32
    input). ``on_unused_input``: 'raise', 'warn' or 'ignore'. ``profile``:
    collect per-node timings (``fn.profile.summary()``). ``nan_guard``: raise
    at the first node that produces a NaN or Inf, naming its line.
    """
    if unknown:
        raise TypeError(f"function() got unexpected keyword(s) {sorted(unknown)}; expected some of "
                        f"{list(_KEYWORDS)}\n  The call was at:\n  {user_source()}")
    if on_unused_input not in ("raise", "warn", "ignore"):
        raise ValueError(f"on_unused_input must be 'raise', 'warn' or 'ignore', got {on_unused_input!r}")
    if isinstance(inputs, Variable) or not isinstance(inputs, (list, tuple)):
        raise TypeError(f"function: inputs must be a list of variables, got {type(inputs).__name__}")
    inputs = list(inputs)
    for i, var in enumerate(inputs):
        if not isinstance(var, Variable) or not is_input(var):
            kind = "a shared variable (those are implicit inputs)" if isinstance(var, SharedVariable) else \
                "a constant" if isinstance(var, Constant) else \
                "a computed variable (use givens= to replace it)" if isinstance(var, Variable) else type(var).__name__
            raise TypeError(f"function: input {i} ({var!r}) is {kind}; inputs must be symbolic inputs such as T.matrix()")
    if len(set(inputs)) != len(inputs):
        raise ValueError("function: the same variable appears twice in inputs")

    single = isinstance(outputs, Variable)
    from ..tensor.basic import as_tensor
    out_list = [] if outputs is None else [outputs] if single else [as_tensor(o) for o in outputs]
    update_pairs = _check_updates(_pairs(updates, "updates"))
    given_map = _check_givens(_pairs(givens, "givens"))
    update_pairs += _default_updates(out_list, update_pairs)

    targets = out_list + [e for _, e in update_pairs]
    targets = clone_replace(targets, given_map) if given_map else targets
    _check_inputs(inputs, targets, on_unused_input)

    shared_vars = [v for v in graph_inputs(targets) if isinstance(v, SharedVariable)]
    for var, _ in update_pairs:
        if var not in shared_vars:
            shared_vars.append(var)
    fgraph = FunctionGraph(inputs + shared_vars, targets)
    return Function(inputs, shared_vars, fgraph, len(out_list), [v for v, _ in update_pairs], single,
                    get_mode(mode), allow_input_downcast, name, profile, nan_guard)


def _check_inputs(inputs, targets, on_unused_input):
    needed = graph_inputs(targets)
    given = set(inputs)
    for var in needed:
        if is_input(var) and var not in given:
            users = [v for v in ancestors(targets) if v.owner is not None and var in v.owner.inputs]
            where = users[0].owner.source if users else var.source
            raise InputError(with_source(
                f"function: the outputs need the input {var!r} ({var.type}), which is not in the inputs list; "
                f"add it to inputs or replace it with givens", where))
    unused = [v for v in inputs if v not in set(ancestors(targets))]
    if unused and on_unused_input != "ignore":
        message = (f"function: input(s) {unused} are not used to compute the outputs; pass "
                   f"on_unused_input='ignore' (or 'warn') if this is intended")
        if on_unused_input == "raise":
            raise ValueError(message)
        warnings.warn(message, stacklevel=3)


class Function:
    """A compiled function: call it with one value per input (positionally,
    or by input name)."""

    def __init__(self, inputs, shared_vars, fgraph, n_outputs, updated, single, mode, allow_input_downcast,
                 name, profile, nan_guard):
        from ..debug.profiling import Profiler
        from ..rewrite import optimize
        self.inputs, self.shared_vars, self.mode, self.name = inputs, shared_vars, mode, name
        self.allow_input_downcast = allow_input_downcast
        self.n_outputs, self.updated, self.single = n_outputs, updated, single
        self.profile = Profiler(name) if profile else None
        self.unoptimized_fgraph = fgraph
        if nan_guard:  # no fusion: the guard names the very node (and line) that made the NaN
            mode = mode.excluding_("fusion")
        # rewrites change the graph in place: optimize a copy, keep the user's
        self.fgraph = optimize(FunctionGraph(fgraph.inputs, fgraph.outputs), mode) if mode.optimize else fgraph
        self.linker = _make_linker(self.fgraph, mode, self.profile, nan_guard)
        self._fresh = getattr(self.linker, "fresh_outputs", frozenset())
        self._names = {v.name: i for i, v in enumerate(inputs) if v.name}
        self.source = user_source()  # the user's function() call, quoted by argument errors

    def _arguments(self, args, kwargs):
        if len(args) > len(self.inputs):
            raise InputError(f"{self._label()} takes {len(self.inputs)} argument(s) "
                             f"({', '.join(map(repr, self.inputs))}), got {len(args)}")
        values = list(args) + [None] * (len(self.inputs) - len(args))
        filled = [True] * len(args) + [False] * (len(self.inputs) - len(args))
        for key, value in kwargs.items():
            if key not in self._names:
                raise InputError(f"{self._label()} has no input named {key!r}; inputs: {list(self._names)}")
            i = self._names[key]
            if filled[i]:
                raise InputError(f"{self._label()}: input {key!r} given twice")
            values[i], filled[i] = value, True
        if not all(filled):
            missing = [repr(v) for v, f in zip(self.inputs, filled) if not f]
            raise InputError(f"{self._label()} takes {len(self.inputs)} argument(s), missing {', '.join(missing)}")
        return [var.type.filter(value, self.allow_input_downcast, what=f"{self._label()}, argument {i} ({var!r})")
                for i, (var, value) in enumerate(zip(self.inputs, values))]

    def _label(self):
        return f"function {self.name!r}" if self.name else "function"

    def __call__(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            values = self._arguments(args, kwargs)
        except InputError as exc:
            if self.source is None:
                raise
            raise InputError(f"{exc}\n  The function was compiled at:\n  {self.source}") from None
        values += [self.linker.read_shared(v) for v in self.shared_vars]
        results = self.linker(values)
        outputs, new_values = results[: self.n_outputs], results[self.n_outputs:]
        held, fresh = values, self._fresh  # fresh: positions the linker made in buffers of their own
        new_values = [v if self.n_outputs + i in fresh else _unaliased(v, held + new_values[:i])
                      for i, v in enumerate(new_values)]
        outputs = [o if i in fresh else _unaliased(o, held + new_values + outputs[:i]) for i, o in enumerate(outputs)]
        outputs = [self.linker.to_host(o) for o in outputs]
        for var, value in zip(self.updated, new_values):  # nothing is stored before every value exists
            self.linker.write_shared(var, value)
        if self.profile is not None:
            self.profile.add_call(time.perf_counter() - start)
        if self.single:
            return outputs[0]
        return outputs

    def __repr__(self):
        return f"<symgraph.Function {self.name or ''} inputs={self.inputs} mode={self.mode.linker}>"


def _unaliased(value, held):
    if any(value is h or np.may_share_memory(value, h) for h in held if isinstance(h, np.ndarray)):
        return value.copy()
    return value


def _make_linker(fgraph, mode, profiler, nan_guard):
    from ..backend import get_linker
    linker_cls = get_linker(mode.linker)
    if nan_guard and getattr(linker_cls, "handles_nan_guard", False):
        return linker_cls(fgraph, profiler=profiler, nan_guard=True)
    if nan_guard:
        from ..debug.nan_guard import NanGuardLinker
        return NanGuardLinker(fgraph, profiler)
    return linker_cls(fgraph, profiler=profiler)
