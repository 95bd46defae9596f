"""GPU benchmark: one training step of the report's CNN and of its first
denoising autoencoder in mode='cuda'.

    python benchmarks/gpu_steps.py [--steps 50] [--models cnn,da] [--json out.json] [--tiny]

For each model it starts two worker processes on one fresh kernel cache:
the first compiles every kernel (``compile_cold_s``), the second loads
them from numba-cuda's disk cache (``compile_cached_s``); both then time
``--steps`` training steps after a warm-up and report the median (each
step returns the cost to the host, so it waits for the GPU). The batch is
copied in every step, as in training. Prints one JSON object and a table
with the targets of issue 6 (H100: CNN step <= 1.5 ms, dA step <= 1 ms).
Needs a CUDA GPU and numba-cuda; installs nothing. ``--tiny`` runs
tiny versions of the models, to try the script on the CUDA simulator
(NUMBA_ENABLE_CUDASIM=1); its times mean nothing.

Models (random data, no MNIST needed): ``cnn`` is models.cnn.CNN (15@9x9,
pool, 20@5x5, pool, 100, softmax 10) trained by SGD with weight decay on
batches of 128 images of 28x28; ``da`` is layer 1 of models.sda.SDA (784 -
900, tied weights, binomial corruption 0.1, cross-entropy) trained by SGD
on batches of 128.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = {"cnn": 1.5, "da": 1.0}


def build(model, tiny=False):
    """(function inputs, cost, updates, batch values) of one training step."""
    import numpy as np

    from symgraph import tensor as T
    sys.path.insert(0, str(ROOT))
    from models import optimizers
    rng = np.random.default_rng(0)
    if model == "cnn":
        from models.cnn import CNN
        net = CNN(rng, filters=(2, 3), kernels=(3, 2), fc=4, classes=3, image=8) if tiny else CNN(rng)
        batch, image, classes = (2, 8, 3) if tiny else (128, 28, 10)
        updates = optimizers.sgd(net.cost, net.params, lr=0.05, decay=1e-4)
        x = rng.uniform(0, 1, size=(batch, 1, image, image)).astype("float32")
        y = np.eye(classes, dtype="float32")[rng.integers(0, classes, size=batch)]
        return [net.X, net.Y], net.cost, updates, [x, y]
    from models.sda import SDA
    n_in, hidden, batch = (12, 7, 3) if tiny else (784, 900, 128)
    net = SDA(rng, seed=1, n_in=n_in, hidden=(hidden,))
    x = T.matrix("x")
    cost = net.pretrain_cost(x, 0, 0.1)
    updates = optimizers.sgd(cost, [net.W[0], net.b[0], net.b_prime[0]], lr=0.1)
    return [x], cost, updates, [rng.uniform(0, 1, size=(batch, n_in)).astype("float32")]


def worker(model, steps, tiny):
    """Compile and time one model in this process; print a JSON line."""
    import numpy as np

    import symgraph as sg
    from symgraph.backend.numba_cuda import runtime
    inputs, cost, updates, values = build(model, tiny)
    t0 = time.perf_counter()
    train = sg.function(inputs, cost, updates=updates, mode="cuda")
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    first = float(train(*values))
    first_call_s = time.perf_counter() - t0
    warmup = 1 if tiny else 5
    for _ in range(warmup):
        train(*values)
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        train(*values)
        times.append(time.perf_counter() - t0)
    profiled = sg.function(inputs, cost, updates=updates, mode="cuda", profile=True)
    for _ in range(warmup):
        profiled(*values)
    top = sorted(profiled.profile.node_time.items(), key=lambda kv: -kv[1])[:8]
    name = getattr(runtime.load_cuda().get_current_device(), "name", "CUDA simulator")
    print(json.dumps({
        "model": model, "compile_s": compile_s, "first_call_s": first_call_s, "first_cost": first,
        "median_step_ms": 1e3 * statistics.median(times), "p10_ms": 1e3 * float(np.percentile(times, 10)),
        "p90_ms": 1e3 * float(np.percentile(times, 90)), "steps": steps, "nodes": len(train.fgraph.toposort()),
        "kernels": len(train.linker.plan.specs()), "fast_launch": bool(runtime.FAST_LAUNCH.get("ok")),
        "device": name.decode() if isinstance(name, bytes) else str(name),
        "profile_top_ms_per_call": [[str(node.op), 1e3 * t / warmup] for node, t in top]}))


def run_worker(model, steps, cache, tiny):
    env = dict(os.environ, SYMGRAPH_CACHE_DIR=cache)
    cmd = [sys.executable, __file__, "--worker", model, "--steps", str(steps)] + (["--tiny"] if tiny else [])
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode or not lines:
        return {"model": model, "error": (proc.stdout + proc.stderr)[-3000:]}
    return json.loads(lines[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--models", default="cnn,da")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--tiny", action="store_true", help="tiny models (for the simulator)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.steps, args.tiny)
    results = {}
    for model in args.models.split(","):
        with tempfile.TemporaryDirectory() as cache:
            cold = run_worker(model, args.steps, cache, args.tiny)
            cached = run_worker(model, args.steps, cache, args.tiny)
        result = dict(cached)
        result["compile_cold_s"] = cold.get("compile_s")
        result["compile_cached_s"] = cached.get("compile_s")
        result["median_step_ms_cold_process"] = cold.get("median_step_ms")
        result["target_ms"] = TARGET_MS[model]
        if "error" in cold or "error" in cached:
            result["error"] = cold.get("error") or cached.get("error")
        else:
            result["meets_target"] = result["median_step_ms"] <= TARGET_MS[model]
        results[model] = result
    print(json.dumps(results, indent=1))
    print(f"\n{'model':6} {'median ms':>10} {'target':>7} {'cold s':>8} {'cached s':>9}  device")
    for model, r in results.items():
        if "error" in r:
            print(f"{model:6} FAILED: {r['error'].splitlines()[-1] if r['error'] else '?'}")
            continue
        print(f"{model:6} {r['median_step_ms']:10.3f} {r['target_ms']:7.2f} {r['compile_cold_s']:8.2f} "
              f"{r['compile_cached_s']:9.2f}  {r['device']}{'' if r['meets_target'] else '  (over target)'}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0 if all("error" not in r for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
