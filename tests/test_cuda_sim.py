"""The CUDA backend on numba's CUDA simulator: runs tests/cuda_sim/sim_*.py
(every kernel against mode 'python' on tiny shapes, and the backend's
semantics) with pytest in a child process, because NUMBA_ENABLE_CUDASIM=1
must be set before numba is imported. Skipped when numba-cuda is not
installed (pip install 'symgraph[cuda]')."""
import importlib.util
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

SIM_DIR = Path(__file__).parent / "cuda_sim"
MODULES = sorted(p.name for p in SIM_DIR.glob("sim_*.py"))

pytestmark = pytest.mark.cudasim
if importlib.util.find_spec("numba_cuda") is None:
    pytest.skip("numba-cuda is not installed, so the CUDA simulator tests cannot run "
                "(pip install 'symgraph[cuda]')", allow_module_level=True)


def _summary(report):
    """(tests, failed, skipped, names of the failed tests) from a JUnit XML report."""
    root = ET.parse(report).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    tests = failed = skipped = 0
    names = []
    for suite in suites:
        tests += int(suite.get("tests", 0))
        failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0))
        for tc in suite.iter("testcase"):
            if tc.find("failure") is not None or tc.find("error") is not None:
                names.append(tc.get("name"))
    return tests, failed, skipped, names


@pytest.mark.parametrize("module", MODULES)
def test_simulator(module, tmp_path):
    report = tmp_path / "report.xml"
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    env.setdefault("SYMGRAPH_CACHE_DIR", str(tmp_path / "cache"))
    cmd = [sys.executable, "-m", "pytest", str(SIM_DIR / module), "-q", "-p", "no:cacheprovider",
           f"--junitxml={report}", "-W", "ignore::RuntimeWarning"]
    proc = subprocess.run(cmd, cwd=SIM_DIR.parents[1], env=env, capture_output=True, text=True, timeout=900)
    log = (proc.stdout + proc.stderr)[-6000:]
    assert report.exists(), f"the simulator run of {module} wrote no report:\n{log}"
    tests, failed, skipped, names = _summary(report)
    assert proc.returncode == 0 and failed == 0, f"{failed} simulator test(s) failed in {module}: {names}\n{log}"
    assert tests > 0 and skipped == 0, f"{module}: {tests} tests, {skipped} skipped (none may be):\n{log}"
