"""Basic indexing (ints and slices) and set_subtensor / inc_subtensor."""
import numpy as np

from ..errors import ExecutionError
from ..graph.basic import Apply, Op, Variable
from ..graph.type import TensorType
from .basic import as_tensor, cast, get_scalar_constant_value, zeros_like
from .elemwise import sum_to


def _index_template(x, index):
    """Split a Python index into a hashable template and the scalar inputs.
    The template holds 'i' for an integer and ('s', has_start, has_stop,
    has_step) for a slice."""
    if not isinstance(index, tuple):
        index = (index,)
    if any(i is Ellipsis for i in index):
        at = index.index(Ellipsis)
        fill = x.ndim - (len(index) - 1) + sum(i is None for i in index)
        index = index[:at] + (slice(None),) * fill + index[at + 1:]
    template, inputs, newaxes = [], [], []
    for i in index:
        if i is None:
            newaxes.append(len(template))
            continue
        if isinstance(i, slice):
            parts = (i.start, i.stop, i.step)
            template.append(("s",) + tuple(p is not None for p in parts))
            inputs.extend(_as_index_scalar(p) for p in parts if p is not None)
        elif isinstance(i, (int, np.integer)) or (isinstance(i, Variable) and i.ndim == 0):
            template.append("i")
            inputs.append(_as_index_scalar(i))
        else:
            raise TypeError(
                f"unsupported index {i!r}: only ints, symbolic int scalars, slices, None and ... are "
                f"supported (advanced indexing with arrays is not)"
            )
    if len(template) > x.ndim:
        raise IndexError(f"too many indices ({len(template)}) for a tensor of rank {x.ndim}")
    return tuple(template), inputs, newaxes


def _as_index_scalar(value):
    var = as_tensor(value)
    if var.ndim != 0 or np.dtype(var.dtype).kind not in "iu":
        raise TypeError(f"index {value!r} must be an integer scalar, got {var.type}")
    return cast(var, "int64")


def _python_index(template, values):
    it = iter(values)
    out = []
    for t in template:
        if t == "i":
            out.append(int(next(it)))
        else:
            out.append(slice(*[int(next(it)) if has else None for has in t[1:]]))
    return tuple(out)


def _static_result_shape(template, x, idx_inputs):
    it = iter(idx_inputs)
    shape = []
    for d, t in enumerate(template):
        n = x.type.shape[d]
        if t == "i":
            i = get_scalar_constant_value(next(it))
            if n is not None and i is not None and not -n <= i < n:
                raise IndexError(f"index {i} is out of bounds for dimension {d} of length {n}")
            continue
        parts = [get_scalar_constant_value(next(it)) if has else None for has in t[1:]]
        given = [p for p, has in zip(parts, t[1:]) if has]
        if not any(t[1:]):
            shape.append(n)
        elif n is not None and None not in given:
            shape.append(len(range(*slice(*parts).indices(n))))
        else:
            shape.append(None)
    return tuple(shape) + x.type.shape[len(template):]


class Subtensor(Op):
    """``x[index]`` for basic indices (ints and slices, possibly symbolic)."""

    __props__ = ("template",)

    def __init__(self, template):
        self.template = tuple(template)

    def make_node(self, x, *idx):
        x = as_tensor(x)
        shape = _static_result_shape(self.template, x, idx)
        return Apply(self, [x, *idx], [TensorType(x.dtype, shape)])

    def perform(self, node, inputs):
        x, *idx = inputs
        try:
            return [np.array(x[_python_index(self.template, idx)])]
        except IndexError as exc:
            raise ExecutionError(f"{self}: {exc} (array shape {x.shape})") from exc

    def pullback(self, node, inputs, outputs, output_grads):
        x, *idx = inputs
        if np.dtype(x.dtype).kind != "f":
            return [None] * len(inputs)
        gx = IncSubtensor(self.template, False)(zeros_like(x), output_grads[0], *idx)
        return [gx] + [None] * len(idx)


class IncSubtensor(Op):
    """``x`` with ``x[index]`` replaced by (``set_instead_of_inc``) or
    incremented by ``y``; a new array, ``x`` is not modified."""

    __props__ = ("template", "set_instead_of_inc")

    def __init__(self, template, set_instead_of_inc):
        self.template = tuple(template)
        self.set_instead_of_inc = set_instead_of_inc

    def make_node(self, x, y, *idx):
        x, y = as_tensor(x), as_tensor(y)
        region = _static_result_shape(self.template, x, idx)
        if y.ndim > len(region):
            raise self.type_error(f"value of rank {y.ndim} does not fit x[index] of rank {len(region)}")
        if not np.can_cast(y.dtype, x.dtype, "same_kind"):
            raise self.type_error(f"cannot write {y.dtype} values into a {x.dtype} tensor")
        return Apply(self, [x, y, *idx], [x.type])

    def perform(self, node, inputs):
        x, y, *idx = inputs
        out = x.copy()
        index = _python_index(self.template, idx)
        try:
            check_value_broadcast(self, node.inputs[1], y.shape, np.shape(out[index]))
            if self.set_instead_of_inc:
                out[index] = y
            else:
                out[index] += y
        except (ValueError, IndexError) as exc:
            raise ExecutionError(f"{self}: {exc} (x shape {x.shape}, value shape {y.shape})") from exc
        return [out]

    def pullback(self, node, inputs, outputs, output_grads):
        x, y, *idx = inputs
        (gz,) = output_grads
        gx = IncSubtensor(self.template, True)(gz, zeros_like(y), *idx) if self.set_instead_of_inc else gz
        region = Subtensor(self.template)(gz, *idx)
        gy = sum_to(region, y) if np.dtype(y.dtype).kind == "f" else None
        return [gx, gy] + [None] * len(idx)


def check_value_broadcast(op, var, shape, target_shape):
    """Raise if a value of ``shape`` would stretch, at run time, a length-1
    dimension that ``var``'s type does not mark broadcastable (its gradient
    would not be summed back), as elementwise ops do."""
    for d, (n, m) in enumerate(zip(shape, target_shape[len(target_shape) - len(shape):])):
        if n == 1 and m != 1 and not var.broadcastable[d]:
            raise ExecutionError(
                f"{op}: the value has length 1 at dimension {d} at run time but its type {var.type} does not "
                f"mark that dimension broadcastable, while the target has length {m} there. Mark it with "
                f"T.addbroadcast(value, {d}).")


def subtensor(x, index):
    """``x[index]``; what ``x[...]`` builds."""
    x = as_tensor(x)
    template, inputs, newaxes = _index_template(x, index)
    out = Subtensor(template)(x, *inputs) if template or not newaxes else x  # x[()] too: set_subtensor needs it
    if newaxes:
        order = list(range(out.ndim))
        for offset, pos in enumerate(newaxes):
            kept_before = sum(1 for t in template[:pos] if t != "i")
            order.insert(kept_before + offset, "x")
        out = out.dimshuffle(order)
    return out


def _inc_or_set(target, value, set_instead_of_inc):
    node = target.owner
    if node is None or not isinstance(node.op, Subtensor):
        raise TypeError("set_subtensor/inc_subtensor take x[index] as their first argument")
    x, *idx = node.inputs
    return IncSubtensor(node.op.template, set_instead_of_inc)(x, value, *idx)


def set_subtensor(target, value):
    """``x`` with ``x[index]`` set to ``value``; call as
    ``set_subtensor(x[index], value)``."""
    return _inc_or_set(target, value, True)


def inc_subtensor(target, value):
    """``x`` with ``value`` added to ``x[index]``; call as
    ``inc_subtensor(x[index], value)``."""
    return _inc_or_set(target, value, False)
