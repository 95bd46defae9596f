"""The rule tables and passes of each phase; importing this package
registers them with the engine."""
from . import canonicalize, folding, fusion, inplace, passes, specialize, stabilize  # noqa: F401
