"""Debugging aids: debugprint, profiling, the NaN guard, rewrite statistics
and graph drawing."""
from .drawing import pydotprint, to_dot, to_networkx
from .printing import debugprint
from .profiling import Profiler
from .rewrite_stats import rewrite_counts, rewrite_stats
