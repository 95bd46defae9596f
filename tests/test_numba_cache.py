"""The disk cache of generated modules (symgraph.backend.cache), across
processes: a second process loads the compiled code instead of compiling;
a truncated source or corrupt Numba cache files are detected and the
module compiled again; two processes compiling the same graph at once both
succeed. Each test uses its own cache folder (SYMGRAPH_CACHE_DIR)."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import symgraph as sg
    from symgraph import tensor as T
    x, b = T.matrix("x"), T.vector("b")
    y = T.nnet.relu(T.dot(x, x.T) + b).sum(axis=1)
    fn = sg.function([x, b], y, mode="numba")
    info = fn.linker.load_info
    xv = np.arange(6, dtype="float32").reshape(2, 3) / 4
    out = fn(xv, np.array([0.5, -3.0], dtype="float32"))
    print(json.dumps({"cache_hit": fn.linker.cache_hit, "wrote_source": info.wrote_source,
                      "retried": info.retried, "path": info.path, "result": out.tolist()}))
""")


def expected_result():
    xv = np.arange(6, dtype="float32").reshape(2, 3) / 4
    return np.maximum(xv @ xv.T + np.array([0.5, -3.0], dtype="float32"), 0).sum(axis=1)


def start(cache):
    env = dict(os.environ, SYMGRAPH_CACHE_DIR=str(cache))
    return subprocess.Popen([sys.executable, "-c", SCRIPT], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(proc):
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    report = json.loads(out.strip().splitlines()[-1])
    assert np.allclose(report["result"], expected_result(), rtol=1e-6)
    return report


def run(cache):
    return finish(start(cache))


def numba_files(path):
    folder = Path(path).parent / "__pycache__"
    return sorted(folder.glob(Path(path).stem + ".*"))


def test_second_process_loads_the_compiled_code(tmp_path):
    first = run(tmp_path)
    assert not first["cache_hit"] and first["wrote_source"]
    assert Path(first["path"]).parent.parent == tmp_path  # under $SYMGRAPH_CACHE_DIR
    assert numba_files(first["path"]), "Numba saved nothing next to the generated source"
    second = run(tmp_path)
    assert second["cache_hit"] and not second["wrote_source"] and not second["retried"]
    assert second["path"] == first["path"]


def test_truncated_source_is_rewritten(tmp_path):
    path = Path(run(tmp_path)["path"])
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    again = run(tmp_path)
    assert again["wrote_source"] and path.read_text() == text
    # Numba keys its files by a hash of the source's content: the restored
    # text finds the compiled code again
    assert again["cache_hit"] and run(tmp_path)["cache_hit"]


def test_corrupt_numba_cache_files_are_recompiled(tmp_path):
    path = run(tmp_path)["path"]
    files = numba_files(path)
    for f in files:  # garble the index and the data
        f.write_bytes(f.read_bytes()[:20] + b"\x00garbage" * 3)
    again = run(tmp_path)
    assert again["retried"] and not again["cache_hit"]
    assert run(tmp_path)["cache_hit"]


def test_two_processes_compiling_at_once_both_succeed(tmp_path):
    procs = [start(tmp_path), start(tmp_path)]
    reports = [finish(p) for p in procs]
    assert reports[0]["path"] == reports[1]["path"]
    assert run(tmp_path)["cache_hit"]
    assert len(list(tmp_path.glob("numba_cpu/*.py"))) == 1
    assert not list(tmp_path.glob("numba_cpu/*.tmp"))  # no leftovers of the atomic write
