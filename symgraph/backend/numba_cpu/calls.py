"""Calls from generated code to the library kernels (``kernels_nnet``, and
the reductions, GEMM and random fills of ``runtime``) through their
machine-code addresses.

A plain call of one njit function from another makes Numba link the
callee's code into the caller and optimize it again: about 0.5 s of
compile time per call of a convolution kernel, paid by every new graph.
``call_kernel(address, kernel, key, args)`` instead calls the kernel's
compiled code at ``address`` (a run-time integer), so the driver's
compile does not grow with the kernels it calls, and the kernels are
compiled once per signature and cached with the package.

The generated module lists the kernels it calls with their argument types
(``KERNELS``); ``kernel_addresses`` compiles (or loads from Numba's cache)
each one and returns their addresses (then the thread count), which the
driver takes as its last argument. ``key`` (a literal number, a checksum of the listed argument
types) lets the typing of each call check that the types Numba sees are
the listed ones, so that an address can never be called with arguments
of another signature.
"""
import os
import zlib

import numba
import numpy as np
from numba import types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.extending import intrinsic


def signature_key(argtypes):
    """The checksum of a tuple of Numba argument types that generated calls
    quote (see the module docstring)."""
    return zlib.crc32(str(tuple(argtypes)).encode())


def kernel_addresses(kernels):
    """The entry addresses of ``kernels`` (pairs of an njit dispatcher and
    a tuple of argument types), compiled or loaded from the cache, and one
    more slot that the caller sets to the thread count parallel kernels
    may use (``set_threads``)."""
    addresses = np.ones(len(kernels) + 1, np.int64)
    for i, (dispatcher, argtypes) in enumerate(kernels):
        dispatcher.compile(argtypes)
        cres = dispatcher.overloads[tuple(argtypes)]
        addresses[i] = cres.library.get_pointer_to_function(cres.fndesc.llvm_func_name)
    return addresses


_PID = os.getpid()


def set_threads(addresses):
    """Store in the last slot of ``addresses`` the thread count parallel
    kernels may use: Numba's current setting, or 1 in a process forked from
    the one that imported this module (GNU OpenMP, Numba's thread pool
    here, cannot run in a forked process; one thread never starts it)."""
    addresses[-1] = numba.get_num_threads() if os.getpid() == _PID else 1
    return addresses


@intrinsic
def call_kernel(typingctx, address, kernel, key, args):
    """``kernel(*args)``, calling the compiled code at ``address`` (an
    int64 from ``kernel_addresses``) instead of linking ``kernel`` in."""
    if not (isinstance(kernel, types.Dispatcher) and isinstance(key, types.IntegerLiteral)
            and isinstance(args, types.BaseTuple)):
        return None
    argtypes = tuple(types.unliteral(t) for t in args)
    if signature_key(argtypes) != key.literal_value:
        raise TypingError(f"call_kernel: {kernel.dispatcher.py_func.__name__} gets arguments {argtypes}, "
                          f"not the types its address was listed with")
    dispatcher = kernel.dispatcher
    dispatcher.compile(argtypes)
    restype = dispatcher.overloads[argtypes].signature.return_type

    def codegen(context, builder, signature, llargs):
        values = [context.cast(builder, v, t, u)
                  for v, t, u in zip(cgutils.unpack_tuple(builder, llargs[3]), args, argtypes)]
        fnty = context.call_conv.get_function_type(restype, argtypes)
        fnptr = builder.inttoptr(llargs[0], fnty.as_pointer())
        status, result = context.call_conv.call_function(builder, fnptr, restype, argtypes, values)
        with cgutils.if_unlikely(builder, status.is_error):
            context.call_conv.return_status_propagate(builder, status)
        return result

    return restype(address, kernel, key, args), codegen
