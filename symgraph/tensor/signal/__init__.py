"""Signal processing ops: ``signal.pool.pool_2d``."""
from . import pool
