"""All Numba-backend benchmarks in one command:

    python benchmarks/run_numba.py [--steps 60] [--threads 1,2,2blas]

Runs bench_cnn_step.py and bench_da_step.py (each in its own processes)
and prints one JSON object {benchmark name: report}. Times are wall clock
on a shared 2-core machine: noisy; each report records the load average
before and after, and process CPU times besides wall times."""
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    results = {}
    for script in ("bench_cnn_step.py", "bench_da_step.py"):
        out = subprocess.run([sys.executable, str(HERE / script), *sys.argv[1:]], capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"{script} failed:\n{out.stderr[-3000:]}")
        report = json.loads(out.stdout.strip().splitlines()[-1])
        results[report["benchmark"]] = report
    print(json.dumps(results, indent=1))
