"""Acquire loads and release stores on float64 arena slots, for code on both sides of a ring.

The engine's shared words (a program generation, a ring's write and read counts) are aligned
float64 slots holding integers. A writer fills the data first and then publishes the count with
:func:`store_release`; the reader takes the count with :func:`load_acquire` before it reads the
data. On x86 plain stores are already ordered this way; on ARM64 they are not, and the compiler
may reorder plain accesses on any machine, so every such word goes through these two.

Both are numba intrinsics (an LLVM ``load atomic ... acquire`` / ``store atomic ... release`` of the
slot's 64 bits), callable from compiled kernels; :func:`acquire` and :func:`release` wrap them for
the Python side. The protocol they serve is stated once in :mod:`livehost.engine.protocol`.
"""

from __future__ import annotations

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from livehost.dsp.rt import rt_jit


def _slot_pointer(context, builder, aryty, ary_val, idx_val, idxty):
    ary = context.make_array(aryty)(context, builder, ary_val)
    idx = context.cast(builder, idx_val, idxty, types.intp)
    ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [idx], wraparound=False)
    return builder.bitcast(ptr, ir.IntType(64).as_pointer())


def _is_slot(arr, idx) -> bool:
    return isinstance(arr, types.Array) and arr.dtype == types.float64 and arr.ndim == 1 \
        and isinstance(idx, types.Integer)


@intrinsic
def load_acquire(typingctx, arr, idx):
    """``arr[idx]`` (float64) read with acquire ordering: later reads see what the writer wrote
    before its release store of this slot."""
    if not _is_slot(arr, idx):
        return None

    def codegen(context, builder, sig, args):
        p = _slot_pointer(context, builder, sig.args[0], args[0], args[1], sig.args[1])
        bits = builder.load_atomic(p, "acquire", 8)
        return builder.bitcast(bits, ir.DoubleType())

    return types.float64(arr, idx), codegen


@intrinsic
def store_release(typingctx, arr, idx, value):
    """``arr[idx] = value`` (float64) with release ordering: every earlier write is visible to a
    reader that sees this value through :func:`load_acquire`."""
    if not _is_slot(arr, idx) or not isinstance(value, (types.Float, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        p = _slot_pointer(context, builder, sig.args[0], args[0], args[1], sig.args[1])
        v = context.cast(builder, args[2], sig.args[2], types.float64)
        builder.store_atomic(builder.bitcast(v, ir.IntType(64)), p, "release", 8)
        return context.get_dummy_value()

    return types.void(arr, idx, value), codegen


@rt_jit
def acquire(arr, idx):
    """Python-side :func:`load_acquire` of ``arr[idx]`` (a float64 slot)."""
    return load_acquire(arr, idx)


@rt_jit
def release(arr, idx, value):
    """Python-side :func:`store_release`: ``arr[idx] = value`` after every earlier write."""
    store_release(arr, idx, float(value))
