"""The graph IR: Variables connected by Apply nodes of Ops."""
import itertools

import numpy as np

from ..errors import GraphTypeError
from .operators import TensorOperators
from .sourceinfo import user_source, with_source
from .type import TensorType

_ids = itertools.count()


class Variable(TensorOperators):
    """A symbolic tensor: an input (no owner), or output ``index`` of the
    Apply node ``owner``. ``source`` is the user's line that created it."""

    def __init__(self, type, owner=None, index=None, name=None):
        self.type = type
        self.owner = owner
        self.index = index
        self.name = name
        self.source = user_source(2)
        self.id = next(_ids)

    dtype = property(lambda self: self.type.dtype)
    ndim = property(lambda self: self.type.ndim)
    broadcastable = property(lambda self: self.type.broadcastable)
    static_shape = property(lambda self: self.type.shape)

    def __repr__(self):
        if self.name:
            return self.name
        if self.owner is not None:
            suffix = f".{self.index}" if len(self.owner.outputs) > 1 else ""
            return f"{self.owner.op}.out{suffix}"
        return f"<{self.type}>"

    def clone(self):
        """A fresh input variable of the same type and name."""
        return type(self)._clone_input(self)

    @classmethod
    def _clone_input(cls, var):
        new = Variable(var.type, name=var.name)
        new.source = var.source
        return new

    def eval(self, inputs_to_values=None, mode="python"):
        """Compile and run this variable (a convenience for interactive use)."""
        from ..compile.function import function
        inputs_to_values = inputs_to_values or {}
        fn = function(list(inputs_to_values), self, mode=mode, on_unused_input="ignore")
        return fn(*inputs_to_values.values())


class Constant(Variable):
    """A variable with a fixed value, folded into the compiled code."""

    def __init__(self, type, data, name=None):
        super().__init__(type, name=name)
        self.data = type.filter(data, allow_downcast=True, what="constant")
        self.data.setflags(write=False)

    def __repr__(self):
        if self.name:
            return self.name
        if self.data.size <= 8:
            return np.array2string(self.data, separator=",").replace("\n", "")
        return f"Constant{{{self.type}}}"

    def signature(self):
        """Key that equal constants share (used by merging)."""
        return (self.type, self.data.tobytes())

    @classmethod
    def _clone_input(cls, var):
        return var


class SharedVariable(Variable):
    """A variable whose value lives between calls of compiled functions.

    Compiled functions read it implicitly and may update it (``updates=``).
    ``default_update``, when set, is the update used when the user gives none
    (random streams advance their state this way).
    """

    def __init__(self, type, value, name=None, borrow=False):
        super().__init__(type, name=name)
        self.default_update = None
        self._value = None
        self.device_value = None  # a device backend's copy of the value (None: none, or stale)
        self._fetch = None  # set while that copy is newer than the host value
        self.set_value(value, borrow=borrow)

    def get_value(self, borrow=False):
        """The current value; a copy unless ``borrow=True``."""
        if self._fetch is not None:  # a device backend holds the newest value: copy it back once
            self._value, self._fetch = self._fetch(), None
        return self._value if borrow else self._value.copy()

    def set_value(self, value, borrow=False):
        """Replace the value; it must fit this variable's dtype and rank."""
        arr = self.type.filter(value, what=f"set_value of shared variable {self.name or ''}".rstrip())
        if not borrow and arr is value:
            arr = arr.copy()
        self._value = arr
        self.device_value = self._fetch = None
        self.on_set_value()

    def set_device_value(self, value, to_host):
        """For device backends: ``value`` (on the device) is now the newest
        value; ``to_host()`` copies it back when the host value is asked for."""
        self.device_value, self._fetch = value, to_host

    def on_set_value(self):
        """Hook for backends that keep a copy of the value elsewhere."""

    @classmethod
    def _clone_input(cls, var):
        return var

    def __repr__(self):
        return self.name or f"shared<{self.type}>"


class Apply:
    """One application of ``op`` to ``inputs``, producing ``outputs``."""

    def __init__(self, op, inputs, output_types):
        for i, inp in enumerate(inputs):
            if not isinstance(inp, Variable):
                raise TypeError(f"{op}: input {i} is not a symbolic Variable: {inp!r}")
        self.op = op
        self.inputs = list(inputs)
        self.source = user_source(2)
        self.outputs = [Variable(t, owner=self, index=i) for i, t in enumerate(output_types)]
        for out in self.outputs:
            out.source = self.source

    def __repr__(self):
        return f"{self.op}({', '.join(map(repr, self.inputs))})"

    def clone_with_new_inputs(self, inputs):
        """A node of the same op on ``inputs``, re-running type inference."""
        node = self.op.make_node(*inputs)
        node.source = self.source
        for out in node.outputs:
            out.source = self.source
        return node


class Op:
    """An operation. Subclasses define, in one place:

    - ``make_node(*inputs)``: type inference and validation, returns an Apply;
    - ``perform(node, inputs)``: the NumPy implementation, returns a list of
      arrays (one per output);
    - ``pullback(node, inputs, outputs, output_grads)``: the symbolic
      gradient, a list with one Variable (or ``None`` when disconnected) per
      input;
    - ``infer_shape(node, input_shapes)`` (optional): output shapes from
      input shapes, each a tuple of ints or symbolic scalars.

    Ops compare and hash by the attributes named in ``__props__``.
    """

    __props__ = ()

    def _props(self):
        return tuple(getattr(self, p) for p in self.__props__)

    def __eq__(self, other):
        return type(self) is type(other) and self._props() == other._props()

    def __hash__(self):
        return hash((type(self), self._props()))

    def __str__(self):
        if not self.__props__:
            return type(self).__name__
        params = ", ".join(f"{p}={getattr(self, p)!r}" for p in self.__props__)
        return f"{type(self).__name__}{{{params}}}"

    __repr__ = __str__

    def make_node(self, *inputs):
        raise NotImplementedError

    def perform(self, node, inputs):
        raise NotImplementedError(f"{self} has no perform")

    def pullback(self, node, inputs, outputs, output_grads):
        raise NotImplementedError(f"{self} has no gradient")

    def __call__(self, *inputs):
        node = self.make_node(*inputs)
        return node.outputs[0] if len(node.outputs) == 1 else node.outputs

    def type_error(self, message):
        """A GraphTypeError about this op, pointing at the user's line."""
        return GraphTypeError(with_source(f"{self}: {message}", user_source(2)))

