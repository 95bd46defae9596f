"""Global settings, Theano-style: ``symgraph.config.floatX`` and friends."""
import os


class _Config:
    """Mutable settings. ``floatX`` is the dtype of Python floats turned into
    tensors and of ``T.matrix()`` and friends (float32 by default, as in Theano
    with ``floatX=float32``); ``mode`` is the default compilation mode."""

    def __init__(self):
        self.floatX = os.environ.get("SYMGRAPH_FLOATX", "float32")
        self.mode = os.environ.get("SYMGRAPH_MODE", "numba")
        self.compute_test_value = "off"


config = _Config()
