"""Benchmark of the Numba nnet kernels on the report CNN's batch-128 shapes.

    python benchmarks/bench_nnet_kernels.py [--runs 30] [--threads 1,2] [--dtype float32]

Runs itself once per BLAS thread count (OPENBLAS_NUM_THREADS is read when
the BLAS loads, so each count needs its own process) and prints one JSON
object: per kernel the median time of ``--runs`` calls after warm-up, for
the Numba kernel and the NumPy reference (conv_impl / pool_impl), and the
ratios reference / kernel (``speedup`` wall clock, ``speedup_cpu`` CPU time;
with 2 BLAS threads the reference's CPU time counts both threads).  ``step`` times the conv and pool work of one CNN
training step back to back (layer 1 needs no input gradient).  Times are
wall clock (``ms``) and process CPU time (``cpu_ms``, less disturbed when
other processes share the cores); both are noisy on a shared machine.
``direct`` is a plain-loop convolution, kept here only to show why the
kernels use im2col + GEMM.
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

_ROOT = Path(__file__).resolve().parents[1]
LAYERS = {  # (x shape, w shape) of the report's two conv layers, 2x2 max pooling after each
    "conv1": ((128, 1, 28, 28), (15, 1, 9, 9)),
    "conv2": ((128, 15, 10, 10), (20, 15, 5, 5)),
}


def load_kernels():
    try:
        from symgraph.backend.numba_cpu import kernels_nnet
        return kernels_nnet
    except ImportError:  # the package __init__ is not written yet
        path = _ROOT / "symgraph" / "backend" / "numba_cpu" / "kernels_nnet.py"
        spec = importlib.util.spec_from_file_location("_kernels_nnet_bench", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        return module


def make_direct():
    import numba

    @numba.njit(cache=True)
    def conv2d_forward_direct(x, w, flip):
        """Valid, stride-1 convolution by plain loops (rows vectorised)."""
        n_, c_, h, wd = x.shape
        k_, _, kh, kw = w.shape
        oh, ow = h - kh + 1, wd - kw + 1
        wk = w[:, :, ::-1, ::-1].copy() if flip else w.copy()
        out = np.zeros((n_, k_, oh, ow), x.dtype)
        for n in range(n_):
            for k in range(k_):
                for c in range(c_):
                    for a in range(kh):
                        for b in range(kw):
                            wv = wk[k, c, a, b]
                            for i in range(oh):
                                orow, xrow = out[n, k, i], x[n, c, i + a, b:b + ow]
                                for j in range(ow):
                                    orow[j] += wv * xrow[j]
        return out

    return conv2d_forward_direct


def timed(fn, runs, warmup=3):
    """Median (and min) wall and CPU milliseconds of ``runs`` calls."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    ms = lambda v: round(float(v) * 1e3, 4)  # noqa: E731
    return {"ms": ms(np.median(wall)), "min_ms": ms(np.min(wall)), "cpu_ms": ms(np.median(cpu))}


def measure(runs, dtype):
    """Time every kernel and its reference in this process."""
    from symgraph.tensor.nnet import conv_impl
    from symgraph.tensor.signal import pool_impl

    K = load_kernels()
    direct = make_direct()
    rng = np.random.default_rng(0)
    cases, step = {}, []
    for name, (xs, ws) in LAYERS.items():
        x = rng.standard_normal(xs).astype(dtype)
        w = (rng.standard_normal(ws) * 0.1).astype(dtype)
        y = K.conv2d_forward(x, w, 0, 0, 1, 1, True)
        gy = rng.standard_normal(y.shape).astype(dtype)
        h, wd, kh, kw = xs[2], xs[3], ws[2], ws[3]
        p = K.pool2d_forward(y, 2, 2, 2, 2, 0, 0, True, K.POOL_MAX)
        gp = rng.standard_normal(p.shape).astype(dtype)
        pool = (2, 2), True, (2, 2), (0, 0), "max"
        kern = {
            "forward": lambda x=x, w=w: K.conv2d_forward(x, w, 0, 0, 1, 1, True),
            "grad_input": lambda gy=gy, w=w, h=h, wd=wd: K.conv2d_grad_input(gy, w, h, wd, 0, 0, 1, 1, True),
            "grad_weights": lambda x=x, gy=gy, kh=kh, kw=kw: K.conv2d_grad_weights(x, gy, kh, kw, 0, 0, 1, 1, True),
            "pool_forward": lambda y=y: K.pool2d_forward(y, 2, 2, 2, 2, 0, 0, True, K.POOL_MAX),
            "pool_grad": lambda y=y, p=p, gp=gp: K.pool2d_grad(y, p, gp, 2, 2, 2, 2, 0, 0, True, K.POOL_MAX),
        }
        ref = {
            "forward": lambda x=x, w=w: conv_impl.conv2d_forward(x, w, (0, 0), (1, 1), True),
            "grad_input": lambda gy=gy, w=w, xs=xs: conv_impl.conv2d_grad_input(gy, w, xs, (0, 0), (1, 1), True),
            "grad_weights": lambda x=x, gy=gy, ws=ws: conv_impl.conv2d_grad_weights(x, gy, ws, (0, 0), (1, 1), True),
            "pool_forward": lambda y=y: pool_impl.pool2d_forward(y, *pool),
            "pool_grad": lambda y=y, p=p, gp=gp: pool_impl.pool2d_grad(y, p, gp, *pool),
        }
        for op in kern:
            np.testing.assert_allclose(kern[op](), ref[op](), rtol=2e-3, atol=2e-3)  # sanity
            k, r = timed(kern[op], runs), timed(ref[op], runs)
            cases[f"{name}.{op}"] = {"kernel": k, "reference": r, "speedup": round(r["ms"] / k["ms"], 2),
                                     "speedup_cpu": round(r["cpu_ms"] / k["cpu_ms"], 2)}
        np.testing.assert_allclose(direct(x, w, True), kern["forward"](), rtol=2e-3, atol=2e-3)
        cases[f"{name}.forward"]["direct_loops"] = timed(lambda x=x, w=w: direct(x, w, True), runs)
        step += [kern["forward"], kern["pool_forward"], kern["pool_grad"], kern["grad_weights"]]
        if name != "conv1":
            step.append(kern["grad_input"])
    return cases, timed(lambda: [f() for f in step], runs)


def child(args):
    import numba

    cases, step = measure(args.runs, np.dtype(args.dtype))
    print(json.dumps({
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
        "NUMBA_NUM_THREADS": numba.config.NUMBA_NUM_THREADS,
        "step_conv_pool": step,
        "kernels": cases,
    }))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--threads", default="1,2", help="BLAS thread counts to run, comma-separated")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.runs < 20:
        parser.error("--runs must be at least 20")
    if args.child:
        return child(args)
    report = {"dtype": args.dtype, "runs": args.runs, "cpus": os.cpu_count(),
              "load_average": os.getloadavg(), "by_blas_threads": {}}
    for t in args.threads.split(","):
        env = dict(os.environ, OPENBLAS_NUM_THREADS=t.strip())
        out = subprocess.run([sys.executable, __file__, "--child", "--runs", str(args.runs), "--dtype", args.dtype],
                             env=env, capture_output=True, text=True, check=True)
        report["by_blas_threads"][t.strip()] = json.loads(out.stdout.strip().splitlines()[-1])
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
