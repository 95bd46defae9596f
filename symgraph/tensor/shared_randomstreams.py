"""Theano's module name for ``RandomStreams``."""
from .random import RandomStreams

__all__ = ["RandomStreams"]
