"""The Numba compiler pipeline of generated modules: Numba's nopython
pipeline without the passes that code written by this backend never
needs, since compile time grows with each pass over a large driver.

Dropped: closure inlining and ``make_function`` conversion (generated code
defines no closures), array-expression rewrites (it writes its loops out)
and the ``literal_unroll``/``literally`` machinery. Everything else
(typing, SSA, dead-branch pruning, legalization, lowering) is Numba's own.
"""
from numba.core import untyped_passes, typed_passes
from numba.core.compiler import CompilerBase, DefaultPassBuilder

_DROPPED = (
    untyped_passes.InlineClosureLikes,
    untyped_passes.MakeFunctionToJitFunction,
    untyped_passes.FindLiterallyCalls,
    untyped_passes.LiteralUnroll,
    typed_passes.NopythonRewrites,
)


class GeneratedCodeCompiler(CompilerBase):
    """``njit(pipeline_class=GeneratedCodeCompiler)`` for generated modules."""

    def define_pipelines(self):
        pm = DefaultPassBuilder.define_nopython_pipeline(self.state)
        pm.passes = [entry for entry in pm.passes if entry[0] not in _DROPPED]
        pm._finalized = False
        pm.finalize()
        return [pm]
