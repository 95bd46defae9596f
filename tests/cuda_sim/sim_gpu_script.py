"""benchmarks/gpu_steps.py, the GPU benchmark, runs end to end on the
simulator with its tiny models (its times mean nothing there): the script
the GPU check runs is not broken. Run through tests/test_cuda_sim.py."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":
    pytest.skip("runs under NUMBA_ENABLE_CUDASIM=1 only (tests/test_cuda_sim.py starts it)", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[2]


def test_gpu_benchmark_script_runs_on_the_simulator(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_steps.py"), "--tiny", "--steps", "2",
                           "--models", "da", "--json", str(out)], capture_output=True, text=True, timeout=600,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    r = json.loads(out.read_text())["da"]
    assert r["compile_cold_s"] > 0 and r["compile_cached_s"] > 0 and r["median_step_ms"] > 0, r
    assert r["device"] == "CUDA simulator" and r["kernels"] > 5 and r["profile_top_ms_per_call"], r


def test_gpu_benchmark_cnn_compiles():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import gpu_steps

    import symgraph as sg
    inputs, cost, updates, values = gpu_steps.build("cnn", tiny=True)
    train = sg.function(inputs, cost, updates=updates, mode="cuda")
    assert len(train.linker.plan.specs()) > 10
