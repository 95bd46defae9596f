"""``python -m models``: see :mod:`models.cli`."""
import os

# One BLAS thread unless the user says otherwise: on small CPUs the spinning
# threads of OpenBLAS made the CNN's steps several times slower (measured on
# 2 cores; see docs/models.md). Must be set before NumPy is imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from .cli import main  # noqa: E402

raise SystemExit(main())
