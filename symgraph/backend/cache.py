"""The disk cache of generated modules.

A generated module is written to ``<cache dir>/<prefix>_<hash>.py``, the
hash being SHA-256 of its text, and imported from there, so that Numba's
``cache=True`` can save the compiled code next to it (in ``__pycache__``)
and a later process that generates the same text loads the machine code
instead of compiling. The text holds a fingerprint of everything the
compiled code depends on (the runtime modules it imports, NumPy, Numba and
Python versions), so a change of those changes the name.

The cache folder is ``$SYMGRAPH_CACHE_DIR`` if set, else
``$XDG_CACHE_HOME/symgraph`` (``~/.cache/symgraph``). Safe with concurrent
processes: a source file appears atomically (written aside, then
hard-linked into place) and is never rewritten while it is valid; Numba
writes its own files atomically. A source whose content does not match its
name (truncated, edited) is replaced; Numba cache files that fail to load
are deleted and the module compiled again.
"""
import glob
import hashlib
import importlib.util
import os
import platform
import sys
import tempfile

ENV_VAR = "SYMGRAPH_CACHE_DIR"


def cache_dir():
    """The folder of generated modules (created on first use)."""
    root = os.environ.get(ENV_VAR)
    if not root:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        root = os.path.join(base, "symgraph")
    return os.path.join(root, "numba_cpu")


def text_hash(text):
    return hashlib.sha256(text.encode()).hexdigest()[:32]


_FINGERPRINTS = {}


def fingerprint(paths):
    """A line naming the versions and a hash of the files ``paths``."""
    key = tuple(paths)
    if key not in _FINGERPRINTS:
        import numba
        import numpy
        digest = hashlib.sha256()
        for path in paths:
            with open(path, "rb") as f:
                digest.update(f.read())
        _FINGERPRINTS[key] = (f"runtime {digest.hexdigest()[:16]}, numba {numba.__version__}, "
                              f"numpy {numpy.__version__}, python {platform.python_version()}")
    return _FINGERPRINTS[key]


class LoadInfo:
    """How ``load`` got a module: ``path``, ``wrote_source`` (this process
    wrote the source file), ``retried`` (a corrupt Numba cache was
    deleted)."""

    def __init__(self, path):
        self.path, self.wrote_source, self.retried = path, False, False


def load(text, prefix="sg"):
    """Import the module of source ``text`` from the cache folder (writing
    it first if needed). Returns (module, LoadInfo). The same text loaded
    twice in a process gives the same module object."""
    name = f"{prefix}_{text_hash(text)}"
    folder = cache_dir()
    path = os.path.join(folder, name + ".py")
    info = LoadInfo(path)
    if name in sys.modules:
        return sys.modules[name], info
    os.makedirs(folder, exist_ok=True)
    info.wrote_source = _ensure_source(path, text)
    try:
        return _import(name, path), info
    except Exception:
        if not _numba_files(folder, name):
            raise
    # the compiled code on disk failed to load: drop it and compile again
    for stale in _numba_files(folder, name):
        _remove(stale)
    info.retried = True
    info.wrote_source |= _ensure_source(path, text)
    return _import(name, path), info


def _numba_files(folder, name):
    return glob.glob(os.path.join(folder, "__pycache__", f"{name}.*"))


def _remove(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def _ensure_source(path, text):
    """Make ``path`` hold ``text``; returns True if it had to be written."""
    data = text.encode()
    for _ in range(3):
        try:
            with open(path, "rb") as f:
                if f.read() == data:
                    return False
            _remove(path)  # truncated or altered: its name no longer matches
        except FileNotFoundError:
            pass
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, path)  # atomic, and never replaces a file another process wrote
            except FileExistsError:
                continue  # another process was first: check what it wrote
            except OSError:
                os.replace(tmp, path)  # no hard links on this file system
            return True
        finally:
            _remove(tmp)
    raise OSError(f"symgraph cache: could not write {path}")


def _import(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # Numba's cache needs to find the module by name
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
