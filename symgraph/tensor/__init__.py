"""The user's vocabulary, with Theano's names: ``from symgraph import tensor as T``."""
from ..grad import disconnected_grad, grad, hessian, jacobian, zero_grad
from ..graph.type import TensorType
from . import nnet, signal
from .basic import *  # noqa: F401,F403  (constructors, constants, elementwise ops)
from .basic import (abs, add, addbroadcast, and_, as_tensor, as_tensor_variable, cast, clip, constant, cos, div,
                    elemwise, eq, exp, expm1, fill, floor, ge, get_scalar_constant_value, gt, int_div, invert,
                    isinf, isnan, le, log, log1p, lt, maximum, minimum, mod, mul, neg, neq, ones_like, or_,
                    patternbroadcast, pow, round, second, sgn, shared, sigmoid, sin, softplus, specify_shape,
                    sqr, sqrt, sub, switch, tanh, tensor, true_div, where, xor, zeros_like)
from .blas import dot, outer
from .elemwise import DimShuffle, Elemwise
from .random import RandomStreams
from .reduce import all, any, argmax, argmin, max, mean, min, prod, std, sum, var
from .shape import (alloc, arange, concatenate, dimshuffle, flatten, make_vector, ones, reshape, shape, shape_of,
                    squeeze, stack, transpose, zeros)
from .subtensor import inc_subtensor, set_subtensor, subtensor

