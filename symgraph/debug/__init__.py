"""Debugging aids: debugprint, profiling, the NaN guard."""
from .printing import debugprint
from .profiling import Profiler
