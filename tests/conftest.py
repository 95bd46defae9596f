"""Shared fixtures: where real MNIST is, and hypothesis profiles."""
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", deadline=None, max_examples=300)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

_DEFAULT_MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"


@pytest.fixture(scope="session")
def mnist_dir():
    """The folder of the four MNIST IDX files ($SYMGRAPH_MNIST, else
    ../shared/data/mnist); skips the test when it is absent."""
    path = Path(os.environ.get("SYMGRAPH_MNIST", _DEFAULT_MNIST))
    if not (path / "train-images-idx3-ubyte.gz").exists() and not (path / "train-images-idx3-ubyte").exists():
        pytest.skip(f"real MNIST not found at {path} (set SYMGRAPH_MNIST)")
    return path
