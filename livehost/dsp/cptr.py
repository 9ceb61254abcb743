"""Calling C functions through addresses held in arrays, from compiled real-time code.

A C library's functions (libjack's ``jack_port_get_buffer``, a plugin's ``run``) are called from a
numba ``cfunc`` through function pointers that live in a plain int64 array filled at run time, so
the compiled code holds no process-specific address and numba's on-disk cache stays valid. Each
intrinsic below emits an LLVM ``inttoptr`` to the function type and a ``call``: no GIL, no Python.

Addresses and handles are int64 throughout; the C signature of each call is in its docstring.
"""

from __future__ import annotations

from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

_I8P = ir.IntType(8).as_pointer()
_I32 = ir.IntType(32)
_I64 = ir.IntType(64)


def _ptr(b, v):
    return b.inttoptr(v, _I8P)


@intrinsic
def call_p_pu32(typingctx, fn, p, x):
    """``void* fn(void* p, uint32_t x)`` (e.g. ``jack_port_get_buffer(port, nframes)``); the result
    as an int64 address."""
    def cg(ctx, b, sig, args):
        f, pp, xx = args
        fty = ir.FunctionType(_I8P, [_I8P, _I32])
        r = b.call(b.inttoptr(f, fty.as_pointer()), [_ptr(b, pp), b.trunc(xx, _I32)])
        return b.ptrtoint(r, _I64)
    return types.int64(types.int64, types.int64, types.int64), cg


@intrinsic
def call_u32_p(typingctx, fn, p):
    """``uint32_t fn(void* p)`` (e.g. ``jack_midi_get_event_count(buffer)``,
    ``jack_last_frame_time(client)``), zero-extended."""
    def cg(ctx, b, sig, args):
        f, pp = args
        fty = ir.FunctionType(_I32, [_I8P])
        r = b.call(b.inttoptr(f, fty.as_pointer()), [_ptr(b, pp)])
        return b.zext(r, _I64)
    return types.int64(types.int64, types.int64), cg


@intrinsic
def call_void_p(typingctx, fn, p):
    """``void fn(void* p)`` (e.g. ``jack_midi_clear_buffer(buffer)``)."""
    def cg(ctx, b, sig, args):
        f, pp = args
        fty = ir.FunctionType(ir.VoidType(), [_I8P])
        b.call(b.inttoptr(f, fty.as_pointer()), [_ptr(b, pp)])
        return ctx.get_dummy_value()
    return types.void(types.int64, types.int64), cg


@intrinsic
def call_void_pu32(typingctx, fn, p, x):
    """``void fn(void* p, uint32_t x)`` (e.g. an LV2 plugin's ``run(handle, sample_count)``)."""
    def cg(ctx, b, sig, args):
        f, pp, xx = args
        fty = ir.FunctionType(ir.VoidType(), [_I8P, _I32])
        b.call(b.inttoptr(f, fty.as_pointer()), [_ptr(b, pp), b.trunc(xx, _I32)])
        return ctx.get_dummy_value()
    return types.void(types.int64, types.int64, types.int64), cg


@intrinsic
def call_i32_ppu32(typingctx, fn, p, q, x):
    """``int fn(void* p, void* q, uint32_t x)`` (e.g. ``jack_midi_event_get(&event, buffer, i)``),
    sign-extended."""
    def cg(ctx, b, sig, args):
        f, pp, qq, xx = args
        fty = ir.FunctionType(_I32, [_I8P, _I8P, _I32])
        r = b.call(b.inttoptr(f, fty.as_pointer()), [_ptr(b, pp), _ptr(b, qq), b.trunc(xx, _I32)])
        return b.sext(r, _I64)
    return types.int64(types.int64, types.int64, types.int64, types.int64), cg


@intrinsic
def call_i32_pu32pz(typingctx, fn, p, x, q, size):
    """``int fn(void* p, uint32_t x, void* q, size_t size)`` (e.g. ``jack_midi_event_write(buffer,
    frame, data, size)``), sign-extended."""
    def cg(ctx, b, sig, args):
        f, pp, xx, qq, ss = args
        fty = ir.FunctionType(_I32, [_I8P, _I32, _I8P, _I64])
        r = b.call(b.inttoptr(f, fty.as_pointer()), [_ptr(b, pp), b.trunc(xx, _I32), _ptr(b, qq), ss])
        return b.sext(r, _I64)
    return types.int64(types.int64, types.int64, types.int64, types.int64, types.int64), cg


@intrinsic
def call_void_pi32p(typingctx, fn, p, x, q):
    """``void fn(void* p, int32_t x, void* q)`` (e.g. ``jack_port_get_latency_range(port, mode, &range)``)."""
    def cg(ctx, b, sig, args):
        f, pp, xx, qq = args
        fty = ir.FunctionType(ir.VoidType(), [_I8P, _I32, _I8P])
        b.call(b.inttoptr(f, fty.as_pointer()), [_ptr(b, pp), b.trunc(xx, _I32), _ptr(b, qq)])
        return ctx.get_dummy_value()
    return types.void(types.int64, types.int64, types.int64, types.int64), cg


@intrinsic
def peek_u8(typingctx, addr):
    """The byte at address ``addr`` (zero-extended)."""
    def cg(ctx, b, sig, args):
        return b.zext(b.load(_ptr(b, args[0])), _I64)
    return types.int64(types.int64), cg


@intrinsic
def f32_ptr(typingctx, addr):
    """``addr`` as a ``float*`` (view it with ``numba.carray``)."""
    def cg(ctx, b, sig, args):
        return b.inttoptr(args[0], ir.FloatType().as_pointer())
    return types.CPointer(types.float32)(types.int64), cg


@intrinsic
def f64_ptr(typingctx, addr):
    """``addr`` as a ``double*`` (view it with ``numba.carray``)."""
    def cg(ctx, b, sig, args):
        return b.inttoptr(args[0], ir.DoubleType().as_pointer())
    return types.CPointer(types.float64)(types.int64), cg


@intrinsic
def i64_ptr(typingctx, addr):
    """``addr`` as an ``int64_t*`` (view it with ``numba.carray``)."""
    def cg(ctx, b, sig, args):
        return b.inttoptr(args[0], _I64.as_pointer())
    return types.CPointer(types.int64)(types.int64), cg


@intrinsic
def u8_ptr(typingctx, addr):
    """``addr`` as a ``uint8_t*`` (view it with ``numba.carray``)."""
    def cg(ctx, b, sig, args):
        return b.inttoptr(args[0], _I8P)
    return types.CPointer(types.uint8)(types.int64), cg


@intrinsic
def call_i32_pu32p(typingctx, fn, p, x, q):
    """``int fn(void* p, uint32_t x, const void* q)`` (e.g. an LV2 worker's ``work_response(handle,
    size, body)``), sign-extended."""
    def cg(ctx, b, sig, args):
        f, pp, xx, qq = args
        fty = ir.FunctionType(_I32, [_I8P, _I32, _I8P])
        r = b.call(b.inttoptr(f, fty.as_pointer()), [_ptr(b, pp), b.trunc(xx, _I32), _ptr(b, qq)])
        return b.sext(r, _I64)
    return types.int64(types.int64, types.int64, types.int64, types.int64), cg
