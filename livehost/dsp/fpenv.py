"""The CPU's floating-point control word, read and set from compiled code: a denormal guard.

A plugin whose filters or reverbs decay towards zero can spend most of its time on denormal numbers
(subnormal floats: 10-100x slower on x86). Around a foreign plugin's ``run`` the LV2 kernel sets
flush-to-zero and denormals-are-zero (:func:`denormals_off`) and puts the caller's control word back
afterwards (:func:`fp_restore`), so nothing else in the process sees the change. On x86-64 this is the
SSE ``MXCSR`` register (``stmxcsr`` / ``ldmxcsr``, bits FTZ 0x8000 and DAZ 0x0040); elsewhere both are
no-ops (the control word reads as 0).
"""

from __future__ import annotations

import platform

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from livehost.dsp.rt import rt_jit

FTZ_DAZ = 0x8040  #: MXCSR bits: flush results to zero (0x8000), read denormal inputs as zero (0x0040)
X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")


def _mxcsr_fn(builder, name):
    fnty = ir.FunctionType(ir.VoidType(), [ir.IntType(8).as_pointer()])
    return cgutils.get_or_insert_function(builder.module, fnty, name)


@intrinsic
def fp_control(typingctx):
    """The floating-point control word (x86-64: MXCSR) as an int64; 0 where there is none."""
    def cg(ctx, b, sig, args):
        if not X86:
            return ir.Constant(ir.IntType(64), 0)
        slot = cgutils.alloca_once(b, ir.IntType(32))
        b.call(_mxcsr_fn(b, "llvm.x86.sse.stmxcsr"), [b.bitcast(slot, ir.IntType(8).as_pointer())])
        return b.zext(b.load(slot), ir.IntType(64))
    return types.int64(), cg


@intrinsic
def fp_restore(typingctx, word):
    """Set the floating-point control word to ``word`` (from :func:`fp_control`); a no-op off x86."""
    def cg(ctx, b, sig, args):
        if X86:
            slot = cgutils.alloca_once(b, ir.IntType(32))
            b.store(b.trunc(args[0], ir.IntType(32)), slot)
            b.call(_mxcsr_fn(b, "llvm.x86.sse.ldmxcsr"), [b.bitcast(slot, ir.IntType(8).as_pointer())])
        return ctx.get_dummy_value()
    return types.void(types.int64), cg


@rt_jit(inline="always")
def denormals_off():
    """Turn on flush-to-zero and denormals-are-zero; returns the control word to restore."""
    old = fp_control()
    fp_restore(old | FTZ_DAZ)
    return old


@rt_jit
def fp_word():
    """The current control word (a probe for tests: Python's own, since it calls this itself)."""
    return fp_control()
