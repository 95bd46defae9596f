#!/usr/bin/env bash
# The GPU check of the CUDA backend (docs/cuda.md), for a machine with an
# NVIDIA GPU: runs the GPU tests (tests/test_cuda_gpu.py: every kernel at
# full size against mode 'python', the report's CNN and dA steps) and the
# GPU benchmarks (benchmarks/gpu_steps.py), then prints one summary.
# Installs nothing: numba-cuda==0.30.4 must be installed with a CUDA
# compiler (its cu13 extra, or a CUDA toolkit). Usage, from anywhere:
#     bash benchmarks/gpu_check.sh [output folder]
# Results go to the folder (default: a new temporary one): pytest.log,
# junit.xml, bench.json, bench.log, summary.txt. Exit status 0 when every
# test passed and both benchmarks ran (a missed speed target is reported,
# not a failure).
set -uo pipefail
cd "$(dirname "$0")/.."
out="${1:-$(mktemp -d)}"
mkdir -p "$out"
export SYMGRAPH_CACHE_DIR="${SYMGRAPH_CACHE_DIR:-$out/cache}"
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
export PYTHONPATH="$(pwd)${PYTHONPATH:+:$PYTHONPATH}"
unset NUMBA_ENABLE_CUDASIM

echo "== device"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 || echo "nvidia-smi: not found"
python - <<'EOF' 2>&1 | tee "$out/device.txt"
import importlib.metadata as md
try:
    print("numba-cuda", md.version("numba-cuda"))
except md.PackageNotFoundError:
    print("numba-cuda: NOT INSTALLED (pip install 'symgraph[cuda13]')")
    raise SystemExit(0)
from numba import cuda
print("cuda.is_available():", cuda.is_available())
if cuda.is_available():
    dev = cuda.get_current_device()
    print("device:", dev.name, "compute capability", dev.compute_capability)
    from symgraph.backend.numba_cuda import runtime
    runtime.Runtime(runtime.load_cuda())
    print("fast kernel launches:", runtime.FAST_LAUNCH)
EOF

echo "== GPU tests"
timeout 480 python -m pytest tests/test_cuda_gpu.py -q -rs -p no:cacheprovider --junitxml="$out/junit.xml" \
    >"$out/pytest.log" 2>&1
tests_status=$?
tail -25 "$out/pytest.log"

echo "== GPU benchmarks"
timeout 420 python benchmarks/gpu_steps.py --steps 50 --json "$out/bench.json" >"$out/bench.log" 2>&1
bench_status=$?
tail -6 "$out/bench.log"

echo "== summary"
python - "$out" "$tests_status" "$bench_status" <<'EOF' | tee "$out/summary.txt"
import json, sys, xml.etree.ElementTree as ET
from pathlib import Path
out, tests_status, bench_status = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
print("device:", " | ".join((out / "device.txt").read_text().split("\n")).strip(" |"))
try:
    root = ET.parse(out / "junit.xml").getroot()
    s = root if root.tag == "testsuite" else root[0]
    counts = {k: int(s.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
    print(f"GPU tests: {counts['tests']} run, {counts['failures'] + counts['errors']} failed, "
          f"{counts['skipped']} skipped (pytest exit {tests_status})")
    for case in s.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            print("  FAILED", case.get("name"))
except (OSError, ET.ParseError):
    print(f"GPU tests: no report (pytest exit {tests_status}{', timed out' if tests_status == 124 else ''})")
try:
    for model, r in json.loads((out / "bench.json").read_text()).items():
        if "error" in r:
            print(f"{model}: benchmark FAILED: {r['error'].strip().splitlines()[-1]}")
        else:
            verdict = "meets" if r["meets_target"] else "MISSES"
            print(f"{model}: median step {r['median_step_ms']:.3f} ms ({verdict} the {r['target_ms']} ms target), "
                  f"compile cold {r['compile_cold_s']:.1f} s, cached {r['compile_cached_s']:.2f} s, "
                  f"{r['kernels']} kernels, {r['nodes']} nodes, on {r['device']}")
except (OSError, ValueError):
    print(f"benchmarks: no results (exit {bench_status}{', timed out' if bench_status == 124 else ''})")
print("results in", out)
EOF
[ "$tests_status" -eq 0 ] && [ "$bench_status" -eq 0 ]
