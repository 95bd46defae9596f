"""What the generated driver calls: device tensors (``DArray``), kernel
loading and launching, buffers reused between calls, and host transfers.

Kernels take flat 1-D device buffers; where a tensor sits in its buffer
(shape, strides in elements, offset) travels in a small int64 *meta* array
that is uploaded once per distinct layout and then reused, so a launch
passes few arguments.
"""
import functools
import hashlib
import importlib.util
import math
import os
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import SymgraphError

MAX_THREADS = 256     # threads per block of 1-D launches (a multiple of 32, <= 1024)
MAX_BLOCKS = 65535    # blocks of a 1-D launch; kernels loop over the rest (grid-stride)
NUMBA_CUDA_VERSION = "0.30.4"


class CudaUnavailableError(SymgraphError, RuntimeError):
    """mode='cuda' was asked for where it cannot run."""


def simulator_enabled():
    """True when numba runs CUDA kernels in its simulator
    (``NUMBA_ENABLE_CUDASIM=1`` was set before numba was imported)."""
    from numba.core import config
    return bool(config.ENABLE_CUDASIM)


def load_cuda():
    """``numba.cuda`` (from numba-cuda), or a CudaUnavailableError that says
    why mode='cuda' cannot run here."""
    if importlib.util.find_spec("numba_cuda") is None:
        raise CudaUnavailableError(
            f"mode='cuda' needs numba-cuda, which is not installed: pip install 'symgraph[cuda]' "
            f"(numba-cuda=={NUMBA_CUDA_VERSION})")
    from numba import cuda
    # small launches are normal here (tiny graphs, one block per row...)
    warnings.filterwarnings("ignore", message=r"Grid size \d+ will likely result in GPU under-utilization")
    if not simulator_enabled() and not cuda.is_available():
        raise CudaUnavailableError(
            "mode='cuda': no CUDA device was found (numba.cuda.is_available() is False: no NVIDIA GPU or "
            "driver on this machine). Use mode='numba' or mode='python' here, or set NUMBA_ENABLE_CUDASIM=1 "
            "before numba is imported to run the kernels in numba's CUDA simulator (slow; for tests).")
    return cuda


@functools.lru_cache(maxsize=4096)
def c_strides(shape):
    """Strides, in elements, of a C-contiguous array of ``shape`` (a tuple)."""
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def size_of(shape):
    return math.prod(shape)


class DArray:
    """A tensor on the device: ``shape`` and ``strides`` (in elements) from
    ``offset`` in the flat device buffer ``buf``. Views (transposes,
    slices, broadcasts) share the buffer. Shapes are tuples of ints."""

    __slots__ = ("buf", "shape", "strides", "offset", "size", "_contiguous")

    def __init__(self, buf, shape, strides=None, offset=0):
        self.buf, self.shape, self.offset = buf, tuple(shape), offset
        self.size = math.prod(self.shape)
        if strides is None:
            self.strides, self._contiguous = c_strides(self.shape), True
        else:
            self.strides, self._contiguous = tuple(strides), None

    dtype = property(lambda self: np.dtype(self.buf.dtype))
    ndim = property(lambda self: len(self.shape))

    def is_contiguous(self):
        if self._contiguous is None:
            self._contiguous = all(n <= 1 or s == c for n, s, c in
                                   zip(self.shape, self.strides, c_strides(self.shape)))
        return self._contiguous

    def is_whole(self):
        """A contiguous view of all of its buffer (offset 0)."""
        return self.offset == 0 and self.size == self.buf.size and self.is_contiguous()

    def flat(self):
        """The elements of a contiguous DArray as a 1-D device array."""
        if self.offset == 0 and self.size == self.buf.size:
            return self.buf
        return self.buf[self.offset:self.offset + self.size]

    def view(self, shape, strides, offset):
        return DArray(self.buf, shape, strides, offset)

    def broadcast_strides(self, shape):
        """Strides that read this tensor broadcast to ``shape`` (aligned on
        the right, 0 where a length-1 dimension stretches)."""
        lead = len(shape) - len(self.shape)
        return (0,) * lead + tuple(0 if n == 1 else s for n, s in zip(self.shape, self.strides))

    def __repr__(self):
        return f"DArray({self.dtype}, shape={self.shape}, strides={self.strides}, offset={self.offset})"


# ----------------------------------------------------------------- kernel sources

def cache_dir():
    """Where generated kernel modules (and numba-cuda's cache next to them)
    are written: $SYMGRAPH_CACHE_DIR/cuda, else ~/.cache/symgraph/cuda."""
    root = os.environ.get("SYMGRAPH_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "symgraph")
    path = Path(root) / "cuda"
    path.mkdir(parents=True, exist_ok=True)
    return path


_MODULES = {}


@functools.lru_cache(maxsize=1)
def _fingerprint():
    """A line naming what compiled kernels depend on besides their source:
    the device functions they import, numba-cuda's and numba's versions."""
    from importlib.metadata import version

    from ...tensor import philox
    from ..cache import fingerprint
    return f"# {fingerprint([__file__.replace('runtime.py', 'devmath.py'), philox.__file__])}, " \
           f"numba-cuda {version('numba-cuda')}\n"


def load_module(source):
    """The module of ``source``, written to a file named by its hash (so that
    numba-cuda's ``cache=True`` can cache its kernels; the text starts with
    ``_fingerprint()``, so a new numba-cuda or device function gives a new
    file) and imported once."""
    source = _fingerprint() + source
    digest = hashlib.sha256(source.encode()).hexdigest()[:20]
    name = f"symgraph_cuda_{digest}"
    if name in _MODULES:
        return _MODULES[name]
    path = cache_dir() / f"{name}.py"
    if not path.exists() or path.read_text() != source:
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            f.write(source)
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before exec: numba's cache finds the module again in a new process
    spec.loader.exec_module(module)
    _MODULES[name] = module
    return module


@dataclass(frozen=True)
class KernelSpec:
    """One kernel: the function ``name`` of the module ``source``, compiled
    for ``signature`` (a numba signature string)."""

    source: str
    name: str
    signature: str

    def pyfunc(self):
        return getattr(load_module(self.source), self.name)


TEMPLATE_DIR = Path(__file__).parent / "templates"
_TYPE_LINE = "T = float32  # element type"


def template(name, dtype="float32"):
    """The source of ``templates/<name>.py`` with its element type ``T`` set
    to ``dtype`` (the line ``T = float32  # element type`` is replaced)."""
    text = (TEMPLATE_DIR / f"{name}.py").read_text()
    if _TYPE_LINE not in text:
        raise ValueError(f"template {name} has no line {_TYPE_LINE!r}")
    numba_name = "boolean" if dtype == "bool" else dtype
    if numba_name != "float32":
        text = text.replace("from numba import cuda, float32", f"from numba import cuda, float32, {numba_name}", 1)
    return text.replace(_TYPE_LINE, f"T = {numba_name}  # element type", 1)


def numba_type(dtype, layout="[::1]"):
    """The numba type name of a 1-D C-contiguous array (or, with
    ``layout=''``, a scalar) of ``dtype``."""
    dtype = np.dtype(dtype).name
    if dtype not in SUPPORTED_DTYPES:
        raise NotImplementedError(f"mode='cuda' has no kernels for dtype {dtype}; supported: {SUPPORTED_DTYPES}")
    return ("boolean" if dtype == "bool" else dtype) + layout


SUPPORTED_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                    "float32", "float64")


def signature(*arg_types):
    return f"void({', '.join(arg_types)})"


# ----------------------------------------------------------------- runtime

class Kernel:
    """A compiled kernel. On a GPU it is launched through numba-cuda's
    compiled overload (``_Kernel.launch``), which skips the dispatcher's
    type matching: the argument types are fixed by the signature anyway.
    ``FAST_LAUNCH`` (checked once on a probe kernel, see ``Runtime``) says
    whether that works; otherwise, and in the simulator, through the
    dispatcher (``kernel[grid, block](*args)``)."""

    __slots__ = ("dispatcher", "overload")

    def __init__(self, dispatcher, simulator):
        self.dispatcher = dispatcher
        self.overload = None
        if not simulator and FAST_LAUNCH.get("ok"):
            self.overload = next(iter(dispatcher.overloads.values()))

    def launch(self, grid, block, args):
        if self.overload is not None:
            self.overload.launch(args, grid, block, FAST_LAUNCH["stream"], 0)
        else:
            self.dispatcher[grid, block](*args)


FAST_LAUNCH = {}

_PROBE = """from numba import cuda


def probe(out, n):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        out[i] = 3 * i + 1
"""


def _check_fast_launch(cuda):
    """Launch a probe kernel through the compiled overload and read it
    back: fast launches are used only if this gives the right numbers."""
    try:
        from numba.cuda.cudadrv import driver
        FAST_LAUNCH.update(ok=True, stream=driver._to_core_stream(0))
        kern = Kernel(cuda.jit("void(int64[::1], int64)")(load_module(_PROBE).probe), False)
        out = cuda.device_array(100, np.int64)
        kern.launch((1, 1, 1), (64, 1, 1), (out, 100))
        FAST_LAUNCH["ok"] = bool(np.array_equal(out.copy_to_host(), 3 * np.arange(100) + 1))
    except Exception as exc:  # a numba-cuda whose internals differ: use the public API
        FAST_LAUNCH.update(ok=False, error=f"{type(exc).__name__}: {exc}")


_COMPILED = {}


class Runtime:
    """The device side of one compiled function: compiled kernels, the
    meta arrays, and the buffers of intermediate values, which are reused
    from call to call (values that leave the call are always new)."""

    def __init__(self, cuda):
        self.cuda = cuda
        self.simulator = simulator_enabled()
        if not self.simulator and "ok" not in FAST_LAUNCH:
            _check_fast_launch(cuda)
        self._meta = {}
        self._pool = {}

    # kernels ----------------------------------------------------------
    def kernel(self, spec):
        """The compiled kernel of ``spec`` (compiled once per process)."""
        kern = _COMPILED.get(spec)
        if kern is None:
            disp = self.cuda.jit(spec.signature, cache=not self.simulator)(spec.pyfunc())
            kern = _COMPILED[spec] = Kernel(disp, self.simulator)
        return kern

    def launch(self, kern, n, *args):
        """Run ``kern`` over ``n`` work items with a 1-D grid (its loops
        stride over the rest); no launch when there is no work (a grid of 0
        blocks is an error)."""
        if n > 0:
            block = n if n < 32 else min(MAX_THREADS, 32 * -(-n // 32))
            kern.launch((min(-(-n // block), MAX_BLOCKS), 1, 1), (block, 1, 1), args)

    def launch_blocks(self, kern, n, block, *args):
        """Run ``kern`` with one block (of ``block`` threads) per work item,
        up to MAX_BLOCKS blocks that loop over the rest."""
        if n > 0:
            kern.launch((min(n, MAX_BLOCKS), 1, 1), (block, 1, 1), args)

    def launch_grid(self, kern, grid, block, *args):
        kern.launch(tuple(grid) + (1,) * (3 - len(grid)), tuple(block) + (1,) * (3 - len(block)), args)

    def meta(self, *values):
        """An int64 device array holding ``values`` (cached by value)."""
        arr = self._meta.get(values)
        if arr is not None:
            return arr
        key = tuple(int(v) for v in values)
        arr = self._meta.get(key)
        if arr is None:
            if len(self._meta) > 4096:
                self._meta.clear()
            arr = self._meta[key] = self.cuda.to_device(np.array(key or (0,), dtype=np.int64))
        self._meta[values] = arr
        return arr

    # buffers ------------------------------------------------------------
    def empty(self, key, shape, dtype, fresh):
        """A new C-contiguous DArray; ``key`` names a reusable buffer unless
        ``fresh`` (the value leaves the call or must not be overwritten)."""
        size = math.prod(shape)
        if fresh:
            return DArray(self.cuda.device_array(size, dtype), shape)
        held = self._pool.get(key)
        if held is None or held[1] != size or held[2] != dtype:
            held = self._pool[key] = (self.cuda.device_array(size, dtype), size, dtype)
        return DArray(held[0], shape)

    def upload(self, array, key=None, fresh=True):
        """A host array copied to the device (into a reused buffer unless
        ``fresh``)."""
        array = np.ascontiguousarray(array)
        if fresh or key is None:
            return DArray(self.cuda.to_device(array.reshape(-1)), array.shape)
        out = self.empty(key, array.shape, array.dtype, False)
        if array.size:
            out.buf.copy_to_device(array.reshape(-1))
        return out

    def to_host(self, value):
        """A NumPy copy of a DArray (NumPy values pass through)."""
        if not isinstance(value, DArray):
            return value
        if not value.is_contiguous():
            value = self.contiguous(value, None, True)
        if value.size == 0:
            return np.empty(value.shape, value.dtype)
        return value.flat().copy_to_host().reshape(value.shape)

    def to_device_array(self, value):
        """A numba device array of the value's shape (what users get when
        they ask for device outputs)."""
        if not isinstance(value, DArray):
            return self.cuda.to_device(np.ascontiguousarray(value))
        if not value.is_contiguous():
            value = self.contiguous(value, None, True)
        return value.flat().reshape(value.shape) if value.ndim != 1 else value.flat()

    # copies ---------------------------------------------------------------
    def assign(self, dst, src, accumulate=False):
        """``dst[...] = src`` (or ``+=``) elementwise, for views of any
        strides, ``src`` broadcast to ``dst``'s shape."""
        from .impl import assign_spec
        kern = self.kernel(assign_spec(dst.dtype, src.dtype))
        shape = dst.shape
        meta = self.meta(len(shape), *shape, dst.offset, *dst.strides, src.offset, *src.broadcast_strides(shape))
        self.launch(kern, dst.size, dst.buf, src.buf, meta, dst.size, int(accumulate))

    def contiguous(self, value, key, fresh):
        """``value`` itself when it is contiguous, else a contiguous copy."""
        if value.is_contiguous():
            return value
        out = self.empty(key, value.shape, value.dtype, fresh)
        self.assign(out, value)
        return out

    def synchronize(self):
        self.cuda.synchronize()
