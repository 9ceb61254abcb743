"""libjack through ctypes: the few functions livehost calls, and its GIL-free notification callbacks.

Only the control side calls these Python wrappers (opening clients, registering and connecting
ports). On JACK's own threads only compiled code runs: the process callback
(:func:`livehost.engine.process_src.jack_process`), and the xrun, shutdown and latency callbacks below
(numba ``cfunc`` functions; the first two write into the engine's arena, ``arg`` being its address;
the latency callback reads and sets port latencies through addresses in the driver's ``LT_*`` table).
"""

from __future__ import annotations

import ctypes
import ctypes.util

import numpy as np
from numba import carray, cfunc, njit, types

from livehost.dsp.atomics import store_release
from livehost.dsp.cptr import call_u32_p, call_void_pi32p, i64_ptr, peek_u8
from livehost.engine import layout as L
from livehost.errors import AudioError

NO_START_SERVER = 0x01  # JackNoStartServer: never start a server as a side effect
PORT_IS_INPUT = 0x1
PORT_IS_OUTPUT = 0x2
PORT_IS_PHYSICAL = 0x4
AUDIO_TYPE = b"32 bit float mono audio"
MIDI_TYPE = b"8 bit raw midi"
CAPTURE_LATENCY = 0  # JackCaptureLatency
PLAYBACK_LATENCY = 1  # JackPlaybackLatency


class LatencyRange(ctypes.Structure):
    """``jack_latency_range_t``: min and max latency, frames."""

    _fields_ = [("min", ctypes.c_uint32), ("max", ctypes.c_uint32)]


_SIGNATURES = {
    # name: (restype, argtypes)
    "jack_client_open": (ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]),
    "jack_client_close": (ctypes.c_int, [ctypes.c_void_p]),
    "jack_get_client_name": (ctypes.c_char_p, [ctypes.c_void_p]),
    "jack_get_sample_rate": (ctypes.c_uint32, [ctypes.c_void_p]),
    "jack_get_buffer_size": (ctypes.c_uint32, [ctypes.c_void_p]),
    "jack_port_register": (ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                                             ctypes.c_ulong]),
    "jack_port_name": (ctypes.c_char_p, [ctypes.c_void_p]),
    "jack_port_by_name": (ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_char_p]),
    "jack_set_process_callback": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]),
    "jack_set_xrun_callback": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]),
    "jack_on_info_shutdown": (None, [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]),
    "jack_activate": (ctypes.c_int, [ctypes.c_void_p]),
    "jack_deactivate": (ctypes.c_int, [ctypes.c_void_p]),
    "jack_connect": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]),
    "jack_disconnect": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]),
    "jack_get_ports": (ctypes.POINTER(ctypes.c_char_p), [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                                                         ctypes.c_ulong]),
    "jack_port_get_all_connections": (ctypes.POINTER(ctypes.c_char_p), [ctypes.c_void_p, ctypes.c_void_p]),
    "jack_free": (None, [ctypes.c_void_p]),
    "jack_port_get_latency_range": (None, [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(LatencyRange)]),
    "jack_port_set_latency_range": (None, [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(LatencyRange)]),
    "jack_set_latency_callback": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]),
    "jack_recompute_total_latencies": (ctypes.c_int, [ctypes.c_void_p]),
    "jack_port_connected": (ctypes.c_int, [ctypes.c_void_p]),
    "jack_set_error_function": (None, [ctypes.c_void_p]),
    "jack_set_info_function": (None, [ctypes.c_void_p]),
    "jack_last_frame_time": (ctypes.c_uint32, [ctypes.c_void_p]),
    # called from compiled code through their addresses (signatures in livehost.dsp.cptr)
    "jack_port_get_buffer": (ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_uint32]),
    "jack_midi_get_event_count": (ctypes.c_uint32, [ctypes.c_void_p]),
    "jack_midi_event_get": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint32]),
    "jack_midi_clear_buffer": (None, [ctypes.c_void_p]),
    "jack_midi_event_write": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_size_t]),
}

_LIB = None


@cfunc(types.void(types.voidptr), cache=True, nopython=True)
def _quiet(msg):
    """libjack's error/info printer replaced by nothing: livehost says what went wrong itself."""
    return


def load():
    """libjack (loaded once, signatures declared, its own stderr messages silenced); AudioError saying
    how to install it if missing."""
    global _LIB
    if _LIB is not None:
        return _LIB
    name = ctypes.util.find_library("jack") or "libjack.so.0"
    try:
        lib = ctypes.CDLL(name)
    except OSError as e:
        raise AudioError(f"JACK library not found ({e}): install it with 'apt-get install libjack-jackd2-0'") from None
    for fn, (res, args) in _SIGNATURES.items():
        f = getattr(lib, fn)
        f.restype = res
        f.argtypes = args
    lib.jack_set_error_function(_quiet.address)
    lib.jack_set_info_function(_quiet.address)
    _LIB = lib
    return lib


def address(lib, name: str) -> int:
    """The address of libjack function ``name`` (for the compiled callback's table)."""
    return ctypes.cast(getattr(lib, name), ctypes.c_void_p).value


def open_client(name: str) -> int | None:
    """A new client called ``name`` (JACK may add a suffix if it is taken) on the running server
    (``$JACK_DEFAULT_SERVER`` or the default one), never starting a server; None if none runs."""
    lib = load()
    status = ctypes.c_int(0)
    c = lib.jack_client_open(name.encode(), NO_START_SERVER, ctypes.byref(status))
    return c or None


def server_running() -> bool:
    """True if a JACK server is running (a client can connect to it); never starts one."""
    try:
        c = open_client("livehost-probe")
    except AudioError:
        return False
    if c is None:
        return False
    load().jack_client_close(c)
    return True


def port_list(lib, client: int, type_name: bytes, flags: int, pattern: bytes | None = None) -> list[str]:
    """Full names of the ports of ``type_name`` with ``flags`` (PORT_IS_*), matching regex ``pattern``."""
    arr = lib.jack_get_ports(client, pattern, type_name, flags)
    return _strings(lib, arr)


def connections(lib, client: int, port: int) -> list[str]:
    """Full names of the ports ``port`` is connected to."""
    return _strings(lib, lib.jack_port_get_all_connections(client, port))


def _strings(lib, arr) -> list[str]:
    if not arr:
        return []
    out = []
    i = 0
    while arr[i]:
        out.append(arr[i].decode(errors="replace"))
        i += 1
    lib.jack_free(ctypes.cast(arr, ctypes.c_void_p))
    return out


# ---- callbacks on JACK's threads (compiled, no GIL) -----------------------------------------------
_XRUN_SIG = types.int32(types.voidptr)


@cfunc(_XRUN_SIG, cache=True, nopython=True, error_model="numpy")
def count_xrun(arg):
    """JACK's xrun callback: counts into ``H_JACK_XRUNS`` of the arena at ``arg``; 0 = ok."""
    a = carray(arg, (L.H_SIZE,), dtype=np.float64)
    a[L.H_JACK_XRUNS] += 1.0
    return 0


_SHUTDOWN_SIG = types.void(types.int32, types.int64, types.voidptr)  # the reason's char* as an address


@cfunc(_SHUTDOWN_SIG, cache=True, nopython=True, error_model="numpy")
def on_shutdown(code, reason, arg):
    """JACK's info-shutdown callback: copies the reason (bytes, 0-terminated) and the status code into
    the arena at ``arg`` and then sets ``H_SERVER_DOWN`` (the driver's watchdog polls it)."""
    hdr = carray(arg, (L.H_SIZE,), dtype=np.float64)
    a = carray(arg, (int(hdr[L.H_LEN]),), dtype=np.float64)
    m = int(a[L.H_SERVER_MSG])
    k = 0
    if reason != 0:
        while k < L.SERVER_MSG_CAP - 1:
            c = peek_u8(reason + k)
            if c == 0:
                break
            a[m + k] = c
            k += 1
    a[m + k] = 0.0
    a[L.H_SERVER_CODE] = code
    store_release(a, L.H_SERVER_DOWN, 1.0)  # the reason and code before the flag


def shutdown_reason(a: np.ndarray) -> str:
    """The reason :func:`on_shutdown` stored in arena ``a`` (text; empty if none)."""
    m = int(a[L.H_SERVER_MSG])
    raw = a[m:m + L.SERVER_MSG_CAP].astype(np.int64)
    end = int(np.argmax(raw == 0)) if (raw == 0).any() else raw.size
    return bytes(raw[:end].astype(np.uint8)).decode(errors="replace").strip()


# ---- the latency callback (JACK's notification thread, compiled) ----------------------------------
LT_GET = 0  # jack_port_get_latency_range
LT_SET = 1  # jack_port_set_latency_range
LT_GRAPH = 2  # the graph's latency now, samples (the driver keeps it up to date)
LT_RANGE = 3  # address of one int64 word used as a jack_latency_range_t (min: low 32 bits, max: high)
LT_N = 4  # audio ports each way
LT_MIDI_IN = 5  # the MIDI input port handle
LT_MIDI_OUT = 6  # the MIDI output port handle
LT_CONNECTED = 7  # jack_port_connected
LT_PORTS = 8  # L.JT_MAX_PORTS audio input port handles, then as many audio output port handles
LT_SIZE = LT_PORTS + 2 * L.JT_MAX_PORTS
_U32 = 0xFFFFFFFF


@njit(cache=True, nogil=True)
def _get_range(t, port, mode):
    """(min, max) latency of ``port`` in ``mode`` as JACK has it, frames."""
    r = carray(i64_ptr(t[LT_RANGE]), (1,), dtype=np.int64)
    call_void_pi32p(t[LT_GET], port, mode, t[LT_RANGE])
    return r[0] & _U32, (r[0] >> 32) & _U32


@njit(cache=True, nogil=True)
def _set_range(t, port, mode, lo, hi):
    """Declare ``port``'s latency range in ``mode`` as (lo, hi) frames."""
    r = carray(i64_ptr(t[LT_RANGE]), (1,), dtype=np.int64)
    r[0] = (min(lo, _U32) & _U32) | ((min(hi, _U32) & _U32) << 32)
    call_void_pi32p(t[LT_SET], port, mode, t[LT_RANGE])


@njit(cache=True, nogil=True)
def _combine(t, port, mode, lo, hi, add):
    """(lo, hi) widened by ``port``'s range plus ``add`` frames, if the port has a connection (an
    unconnected port's range, 0, is no path: it must not pull the minimum down)."""
    if call_u32_p(t[LT_CONNECTED], port) == 0:
        return lo, hi
    a, b = _get_range(t, port, mode)
    return min(lo, a + add), max(hi, b + add)


@cfunc(types.void(types.int32, types.voidptr), cache=True, nopython=True, error_model="numpy")
def report_latency(mode, arg):
    """JACK's latency callback (``arg``: the driver's ``LT_*`` table): every path from an input to an
    audio output goes through the graph (``LT_GRAPH`` samples), MIDI thru adds nothing.

    Capture mode (JACK has set the inputs' ranges from their connections): each audio output gets the
    connected inputs' combined range (smallest min, largest max; 0 if none is connected) plus the graph
    latency, ``midi_out`` gets ``midi_in``'s. Playback mode (the outputs' ranges set): each audio input
    gets the connected audio outputs' combined range plus the graph latency, ``midi_in`` that combined
    with ``midi_out``'s. So a client downstream of livehost sees livehost's delay in its capture
    latency, one upstream in its playback latency, as JACK's latency API asks of every client that
    delays its signal."""
    t = carray(arg, (LT_SIZE,), dtype=np.int64)
    n = t[LT_N]
    g = t[LT_GRAPH]
    ins, outs = LT_PORTS, LT_PORTS + L.JT_MAX_PORTS
    lo = np.int64(_U32)
    hi = np.int64(0)
    if mode == CAPTURE_LATENCY:
        for k in range(n):
            lo, hi = _combine(t, t[ins + k], mode, lo, hi, 0)
        lo, hi = _combine(t, t[LT_MIDI_IN], mode, lo, hi, 0)
        if lo > hi:  # no input connected: from the graph's own sources
            lo = hi = 0
        for k in range(n):
            _set_range(t, t[outs + k], mode, lo + g, hi + g)
        a, b = _get_range(t, t[LT_MIDI_IN], mode)
        _set_range(t, t[LT_MIDI_OUT], mode, a, b)
    else:
        for k in range(n):
            lo, hi = _combine(t, t[outs + k], mode, lo, hi, g)
        if lo > hi:  # no audio output connected: the graph's own delay
            lo = hi = g
        for k in range(n):
            _set_range(t, t[ins + k], mode, lo, hi)
        mlo, mhi = _combine(t, t[LT_MIDI_OUT], mode, lo, hi, 0)
        _set_range(t, t[LT_MIDI_IN], mode, mlo, mhi)
