"""Time spent per node and per call of a compiled function."""
import time
from collections import defaultdict
from contextlib import contextmanager


class Profiler:
    """Collects the time of each node (or fused kernel) and of each call."""

    def __init__(self, name=None):
        self.name = name
        self.node_time = defaultdict(float)
        self.node_calls = defaultdict(int)
        self.call_times = []

    @contextmanager
    def timing(self, node):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.node_time[node] += time.perf_counter() - start
            self.node_calls[node] += 1

    def add_call(self, seconds):
        self.call_times.append(seconds)

    def summary(self, file=None, limit=20):
        """Print a table of nodes sorted by total time."""
        total = sum(self.call_times)
        lines = [f"Profile of {self.name or 'function'}: {len(self.call_times)} calls, {total * 1e3:.3f} ms total"]
        lines.append(f"{'time %':>7} {'total ms':>10} {'calls':>6}  node")
        node_total = sum(self.node_time.values()) or 1.0
        for node, t in sorted(self.node_time.items(), key=lambda kv: -kv[1])[:limit]:
            lines.append(f"{100 * t / node_total:7.1f} {t * 1e3:10.3f} {self.node_calls[node]:6d}  {node.op}"
                         f"{'  @ line ' + str(node.source.lineno) if node.source else ''}")
        text = "\n".join(lines)
        print(text, file=file)
        return text
