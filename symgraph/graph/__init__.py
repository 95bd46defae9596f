"""The graph IR: types, variables, Apply nodes, ops, and graph walks."""
from .basic import Apply, Constant, Op, SharedVariable, Variable
from .sourceinfo import SourceInfo, user_source
from .traversal import ancestors, clone_replace, graph_inputs, is_input, toposort
from .type import TensorType, canonical_dtype
