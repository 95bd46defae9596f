"""The harness of bench_cnn_step.py and bench_da_step.py: time one training
step compiled by the Numba backend, by the NumPy reference backend (mode
'python') and written by hand in NumPy, and the compile times.

Every measurement runs in a fresh process (BLAS and Numba read their
thread counts when they load; compile times need fresh processes):

- ``steps``: median/min wall and process-CPU time per step over ``--steps``
  steps after ``--warmup`` steps, for the three implementations, in each of
  the thread settings of ``--threads`` (``THREAD_SETTINGS``: ``1`` one
  thread; ``2`` two Numba threads and single-threaded BLAS, symgraph's way;
  ``2blas`` two BLAS threads and one Numba thread, the way a hand-written
  NumPy step uses two cores);
- ``compile``: the time of ``symgraph.function(...)`` for the train step in
  a process with an empty graph cache (``cold``: the njit kernels shipped
  with the package come from Numba's cache if they were ever compiled
  there), with every cache empty (``cold_all``: NUMBA_CACHE_DIR too), and
  from a warm cache (``cached``: includes Numba's one-time start-up in the
  process, about 0.2-0.3 s; ``cached_after_warmup``: after another cached
  function was loaded first; both the median of five processes).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def load_batch(n, flat):
    """The first ``n`` MNIST training images (real data when available)
    and one-hot labels; ``(x, y, source)``."""
    sys.path.insert(0, str(ROOT))
    from models.datasets import load_mnist, one_hot
    try:
        data = load_mnist(os.environ.get("SYMGRAPH_MNIST", ROOT.parent / "shared" / "data" / "mnist"),
                          download=False)
        x, labels, source = np.array(data.train_images[:n]), data.train_labels[:n], "mnist"
    except Exception:  # noqa: BLE001  (no data set here: same shapes, random values)
        rng = np.random.default_rng(0)
        x, labels, source = rng.random((n, 784), dtype="float32"), rng.integers(0, 10, n), "random"
    x = x if flat else x.reshape(n, 1, 28, 28)
    return np.ascontiguousarray(x, dtype="float32"), one_hot(labels).astype("float32"), source


def time_steps(step, warmup, steps):
    for _ in range(warmup):
        step()
    wall, cpu = [], []
    for _ in range(steps):
        t, c = time.perf_counter(), time.process_time()
        step()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    ms = lambda v: round(float(v) * 1e3, 3)  # noqa: E731
    return {"median_ms": ms(np.median(wall)), "min_ms": ms(np.min(wall)), "cpu_median_ms": ms(np.median(cpu)),
            "steps": steps}


def child_steps(bench, args):
    """In a child process: time the three implementations."""
    import symgraph as sg
    batch = bench.batch(args.batch)
    result = {"data": batch[-1]}
    for mode in ("numba", "python"):
        inputs, cost, updates = bench.graph(seed=0)
        fn = sg.function(inputs, cost, updates=updates, mode=mode)
        result[mode] = time_steps(lambda: fn(*batch[:-1]), args.warmup,
                                  args.steps if mode == "numba" else max(10, args.steps // 5))
    step = bench.numpy_step(seed=0)
    result["numpy"] = time_steps(lambda: step(*batch[:-1]), args.warmup, max(10, args.steps // 2))
    for ref in ("python", "numpy"):
        result[f"speedup_vs_{ref}"] = round(result[ref]["median_ms"] / result["numba"]["median_ms"], 2)
    return result


def child_compile(bench, args):
    """In a child process: the time of function() for the train step."""
    import symgraph as sg
    from symgraph import tensor as T
    if args.warm_first:  # load another (cached) function first: Numba's start-up is paid there
        x = T.matrix("warm")
        sg.function([x], T.exp(x).sum(), mode="numba")(np.ones((2, 2), "float32"))
    inputs, cost, updates = bench.graph(seed=0)
    start = time.perf_counter()
    fn = sg.function(inputs, cost, updates=updates, mode="numba")
    seconds = time.perf_counter() - start
    return {"seconds": round(seconds, 3), "cache_hit": fn.linker.cache_hit}


def spawn(script, extra, env):
    out = subprocess.run([sys.executable, script, *extra], env=env, capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(f"{script} {' '.join(extra)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


THREAD_SETTINGS = {"1": (1, 1), "2": (1, 2), "2blas": (2, 1)}  # name: (BLAS threads, Numba threads)


def median_run(run, times=5):
    """``run()`` (a compile-time report) ``times`` times: the median's report
    with every sample's seconds."""
    reports = sorted((run() for _ in range(times)), key=lambda r: r["seconds"])
    return dict(reports[len(reports) // 2], samples=[r["seconds"] for r in reports])


def thread_env(setting, **extra):
    blas, numba_threads = THREAD_SETTINGS[setting]
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(blas), MKL_NUM_THREADS=str(blas),
               NUMBA_NUM_THREADS=str(numba_threads), OMP_NUM_THREADS=str(numba_threads))
    env.update({k: str(v) for k, v in extra.items()})
    return env


def parent(bench, script, args):
    report = {"benchmark": bench.NAME, "batch": args.batch, "load_average_before": os.getloadavg()}
    with tempfile.TemporaryDirectory() as graphs, tempfile.TemporaryDirectory() as numba_all:
        one = thread_env("1", SYMGRAPH_CACHE_DIR=graphs)
        compile_ = {"cold": spawn(script, ["--child", "compile"], one)}
        compile_["cached"] = median_run(lambda: spawn(script, ["--child", "compile"], one))
        compile_["cached_after_warmup"] = median_run(lambda: spawn(script, ["--child", "compile", "--warm-first"], one))
        with tempfile.TemporaryDirectory() as graphs2:
            compile_["cold_all"] = spawn(script, ["--child", "compile"],
                                         thread_env("1", SYMGRAPH_CACHE_DIR=graphs2, NUMBA_CACHE_DIR=numba_all))
        report["compile"] = compile_
        report["threads"] = {}
        for threads in args.threads:
            child = ["--child", "steps", "--batch", str(args.batch), "--steps", str(args.steps),
                     "--warmup", str(args.warmup)]
            report["threads"][threads] = spawn(script, child, thread_env(threads, SYMGRAPH_CACHE_DIR=graphs))
    best = min(report["threads"].values(), key=lambda r: r["numba"]["median_ms"])
    best_numpy = min(r["numpy"]["median_ms"] for r in report["threads"].values())
    report["best"] = {"numba_median_ms": best["numba"]["median_ms"], "numpy_median_ms": best_numpy,
                      "speedup_vs_numpy": round(best_numpy / best["numba"]["median_ms"], 2)}
    report["targets"] = {
        "step_ms": bench.TARGET_STEP_MS, "best_median_step_ms": best["numba"]["median_ms"],
        "step_met": best["numba"]["median_ms"] <= bench.TARGET_STEP_MS,
        "cold_compile_s": bench.TARGET_COLD_S, "cold_compile_met": compile_["cold"]["seconds"] <= bench.TARGET_COLD_S,
        "cached_compile_s": bench.TARGET_CACHED_S,
        "cached_compile_met": compile_["cached"]["seconds"] <= bench.TARGET_CACHED_S}
    report["load_average_after"] = os.getloadavg()
    return report


def main(bench, script):
    parser = argparse.ArgumentParser(description=bench.__doc__)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=60, help="timed steps of the Numba function (>= 50)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--threads", type=lambda s: s.split(","), default=list(THREAD_SETTINGS),
                        help="thread settings, of " + ", ".join(THREAD_SETTINGS))
    parser.add_argument("--child", choices=["steps", "compile"])
    parser.add_argument("--warm-first", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.child == "steps":
        result = child_steps(bench, args)
    elif args.child == "compile":
        result = child_compile(bench, args)
    else:
        result = parent(bench, script, args)
    print(json.dumps(result))
