"""JACK clients for the tests: one sends MIDI messages at chosen frame offsets of chosen cycles and/or
an audio impulse, and/or records an audio input port, stamped with JACK's frame time; another delays
audio by a fixed number of frames and says so in JACK's latency API (as JACK's example
``jack_latent_client`` does).

Its process callback is a numba ``cfunc`` (no GIL) calling libjack through addresses in an int64
table, like livehost's own driver, so what it sends and records is exactly on JACK's sample clock:
a message sent at offset ``o`` of the cycle starting at frame time ``T`` is at frame ``T + o``, and
the recording's sample ``i`` is at frame ``start + i``, for every client of that cycle alike.
"""

from __future__ import annotations

import numpy as np
from numba import carray, cfunc, types

from livehost.dsp.cptr import (
    call_i32_ppu32, call_i32_pu32pz, call_p_pu32, call_u32_p, call_void_p, call_void_pi32p, f32_ptr, i64_ptr,
    peek_u8,
)
from livehost.engine.drivers import libjack as J

T_GET_BUFFER, T_CLEAR, T_WRITE, T_FRAME_TIME, T_CLIENT = 0, 1, 2, 3, 4
T_MIDI_OUT, T_AUDIO_IN = 5, 6
T_SCHED, T_NSCHED, T_NEXT, T_CYCLE, T_SENT, T_BYTES = 7, 8, 9, 10, 11, 12
T_REC, T_REC_CAP, T_REC_START, T_REC_FRAMES = 13, 14, 15, 16
T_MIDI_IN, T_COUNT, T_GET, T_EVENT, T_MLOG, T_MLOG_CAP, T_MLOG_N = 17, 18, 19, 20, 21, 22, 23
T_AUDIO_OUT, T_PULSES, T_NPULSES, T_PNEXT, T_PSENT = 24, 25, 26, 27, 28
T_SIZE = 29
PULSE = 0.5  # an impulse's one sample


@cfunc(types.int32(types.uint32, types.voidptr), cache=True, nopython=True, error_model="numpy")
def tester_process(nframes, arg):
    """Send the scheduled messages due in this cycle at their offsets; record the audio input."""
    t = carray(arg, (T_SIZE,), dtype=np.int64)
    n = np.int64(nframes)
    now = call_u32_p(t[T_FRAME_TIME], t[T_CLIENT])
    c = t[T_CYCLE]
    if t[T_MIDI_OUT] != 0:
        buf = call_p_pu32(t[T_GET_BUFFER], t[T_MIDI_OUT], n)
        call_void_p(t[T_CLEAR], buf)
        ns = t[T_NSCHED]
        sched = carray(i64_ptr(t[T_SCHED]), (max(ns, np.int64(1)), 4), dtype=np.int64)
        sent = carray(i64_ptr(t[T_SENT]), (max(ns, np.int64(1)),), dtype=np.int64)
        while t[T_NEXT] < ns and sched[t[T_NEXT], 0] <= c:
            k = t[T_NEXT]
            off = sched[k, 1]
            if call_i32_pu32pz(t[T_WRITE], buf, off, t[T_BYTES] + sched[k, 2], sched[k, 3]) == 0:
                sent[k] = now + off
            t[T_NEXT] = k + 1
    if t[T_MIDI_IN] != 0:
        mbuf = call_p_pu32(t[T_GET_BUFFER], t[T_MIDI_IN], n)
        cap = t[T_MLOG_CAP]
        log = carray(i64_ptr(t[T_MLOG]), (max(cap, np.int64(1)), 2), dtype=np.int64)
        ev = carray(i64_ptr(t[T_EVENT]), (3,), dtype=np.int64)
        for i in range(call_u32_p(t[T_COUNT], mbuf)):
            if call_i32_ppu32(t[T_GET], t[T_EVENT], mbuf, i) == 0 and t[T_MLOG_N] < cap:
                log[t[T_MLOG_N], 0] = now + (ev[0] & 0xFFFFFFFF)
                log[t[T_MLOG_N], 1] = peek_u8(ev[2])
                t[T_MLOG_N] += 1
    if t[T_AUDIO_OUT] != 0:
        out = carray(f32_ptr(call_p_pu32(t[T_GET_BUFFER], t[T_AUDIO_OUT], n)), (n,), dtype=np.float32)
        for i in range(n):
            out[i] = np.float32(0.0)
        npl = t[T_NPULSES]
        pulses = carray(i64_ptr(t[T_PULSES]), (max(npl, np.int64(1)), 2), dtype=np.int64)
        psent = carray(i64_ptr(t[T_PSENT]), (max(npl, np.int64(1)),), dtype=np.int64)
        while t[T_PNEXT] < npl and pulses[t[T_PNEXT], 0] <= c:
            k = t[T_PNEXT]
            if pulses[k, 0] == c:
                out[pulses[k, 1]] = np.float32(PULSE)
                psent[k] = now + pulses[k, 1]
            t[T_PNEXT] = k + 1
    if t[T_AUDIO_IN] != 0:
        src = carray(f32_ptr(call_p_pu32(t[T_GET_BUFFER], t[T_AUDIO_IN], n)), (n,), dtype=np.float32)
        if t[T_REC_START] < 0:
            t[T_REC_START] = now
        pos = (now - t[T_REC_START]) & 0xFFFFFFFF
        cap = t[T_REC_CAP]
        rec = carray(f32_ptr(t[T_REC]), (max(cap, np.int64(1)),), dtype=np.float32)
        for i in range(n):
            if pos + i < cap:
                rec[pos + i] = src[i]
        t[T_REC_FRAMES] = pos + n
    t[T_CYCLE] = c + 1
    return 0


# the latency tables (int64): jack_port_set_latency_range / _get_, the ports, the frames, a range word
LAT_SET, LAT_GET, LAT_IN, LAT_OUT, LAT_FRAMES, LAT_RANGE, LAT_WORD = 0, 1, 2, 3, 4, 5, 6
LAT_SIZE = 7


@cfunc(types.void(types.int32, types.voidptr), cache=True, nopython=True, error_model="numpy")
def terminal_latency(mode, arg):
    """Latency callback of a client whose ports are a sound card's ends: its output is where capture
    starts (capture latency 0), its input where playback ends (playback latency 0); nothing propagates
    through it, as through ``jack_iodelay``, so a loop through it has well-defined latencies."""
    t = carray(arg, (LAT_SIZE,), dtype=np.int64)
    t[LAT_WORD] = 0
    if mode == J.CAPTURE_LATENCY:
        if t[LAT_OUT] != 0:
            call_void_pi32p(t[LAT_SET], t[LAT_OUT], mode, t[LAT_RANGE])
    elif t[LAT_IN] != 0:
        call_void_pi32p(t[LAT_SET], t[LAT_IN], mode, t[LAT_RANGE])


@cfunc(types.void(types.int32, types.voidptr), cache=True, nopython=True, error_model="numpy")
def latent_latency(mode, arg):
    """Latency callback of a client delaying by ``LAT_FRAMES``: capture latency of its output = its
    input's + the delay; playback latency of its input = its output's + the delay."""
    t = carray(arg, (LAT_SIZE,), dtype=np.int64)
    src, dst = (t[LAT_IN], t[LAT_OUT]) if mode == J.CAPTURE_LATENCY else (t[LAT_OUT], t[LAT_IN])
    call_void_pi32p(t[LAT_GET], src, mode, t[LAT_RANGE])
    d = t[LAT_FRAMES]
    w = t[LAT_WORD]
    t[LAT_WORD] = ((w & 0xFFFFFFFF) + d) | ((((w >> 32) & 0xFFFFFFFF) + d) << 32)
    call_void_pi32p(t[LAT_SET], dst, mode, t[LAT_RANGE])


def latency_table(lib, inp: int, out: int, frames: int = 0) -> np.ndarray:
    """A latency callback's table for ports ``inp`` and ``out`` (handles; 0: none) and a delay."""
    t = np.zeros(LAT_SIZE, np.int64)
    t[LAT_SET] = J.address(lib, "jack_port_set_latency_range")
    t[LAT_GET] = J.address(lib, "jack_port_get_latency_range")
    t[LAT_IN], t[LAT_OUT], t[LAT_FRAMES] = inp, out, frames
    t[LAT_RANGE] = t.ctypes.data + 8 * LAT_WORD  # jack_latency_range_t {min, max}: one little-endian word
    return t


class TestJackClient:
    """A JACK client named ``name`` with a MIDI output ``midi_out`` (sending ``schedule``: a list of
    ``(cycle, offset, (status, d1, d2))``, cycles counted from activation, sorted) and/or an audio
    input ``in`` recording ``record_frames`` frames (a message is as long as its tuple: ``(0xF8,)`` is a
    one-byte MIDI clock) and/or a MIDI input ``midi_in`` logging the frame time and
    status of up to ``midi_log`` messages and/or an audio output ``out`` sending one sample of
    :data:`PULSE` at each ``(cycle, offset)`` of ``pulses`` (sorted; silence otherwise). ``terminal``: its audio ports
    declare themselves the ends of JACK's latency paths (:func:`terminal_latency`), as a sound card's do.
    :meth:`start` activates it, :meth:`close` ends it."""

    __test__ = False  # not a pytest test class

    def __init__(self, name: str, schedule=None, record_frames: int = 0, midi_log: int = 0,
                 pulses=None, terminal: bool = False):
        self.lib = J.load()
        c = J.open_client(name)
        assert c, "no JACK server"
        self.client = c
        self.name = self.lib.jack_get_client_name(c).decode()
        t = self.table = np.zeros(T_SIZE, np.int64)
        t[T_GET_BUFFER] = J.address(self.lib, "jack_port_get_buffer")
        t[T_CLEAR] = J.address(self.lib, "jack_midi_clear_buffer")
        t[T_WRITE] = J.address(self.lib, "jack_midi_event_write")
        t[T_FRAME_TIME] = J.address(self.lib, "jack_last_frame_time")
        t[T_CLIENT] = c
        schedule = list(schedule or [])
        starts = np.cumsum([0] + [len(msg) for _, _, msg in schedule])
        self.sched = np.array([(cy, off, starts[k], len(msg)) for k, (cy, off, msg) in enumerate(schedule)]
                              or [(0, 0, 0, 0)], np.int64)
        self.bytes = np.array([b for _, _, msg in schedule for b in msg] or [0, 0, 0], np.uint8)
        self.sent = np.full(max(1, len(schedule)), -1, np.int64)
        self.rec = np.zeros(max(1, record_frames), np.float32)
        t[T_SCHED] = self.sched.ctypes.data
        t[T_NSCHED] = len(schedule)
        t[T_SENT] = self.sent.ctypes.data
        t[T_BYTES] = self.bytes.ctypes.data
        t[T_REC] = self.rec.ctypes.data
        t[T_REC_CAP] = record_frames
        t[T_REC_START] = -1
        if schedule:
            t[T_MIDI_OUT] = self.lib.jack_port_register(c, b"midi_out", J.MIDI_TYPE, J.PORT_IS_OUTPUT, 0)
        if record_frames:
            t[T_AUDIO_IN] = self.lib.jack_port_register(c, b"in", J.AUDIO_TYPE, J.PORT_IS_INPUT, 0)
        self.event = np.zeros(3, np.int64)
        self.mlog = np.zeros((max(1, midi_log), 2), np.int64)
        if midi_log:
            t[T_MIDI_IN] = self.lib.jack_port_register(c, b"midi_in", J.MIDI_TYPE, J.PORT_IS_INPUT, 0)
            t[T_COUNT] = J.address(self.lib, "jack_midi_get_event_count")
            t[T_GET] = J.address(self.lib, "jack_midi_event_get")
            t[T_EVENT] = self.event.ctypes.data
            t[T_MLOG] = self.mlog.ctypes.data
            t[T_MLOG_CAP] = midi_log
        pulses = list(pulses or [])
        self.pulses = np.array(pulses or [(0, 0)], np.int64)
        self.pulses_sent = np.full(max(1, len(pulses)), -1, np.int64)
        t[T_PULSES] = self.pulses.ctypes.data
        t[T_NPULSES] = len(pulses)
        t[T_PSENT] = self.pulses_sent.ctypes.data
        if pulses:
            t[T_AUDIO_OUT] = self.lib.jack_port_register(c, b"out", J.AUDIO_TYPE, J.PORT_IS_OUTPUT, 0)
        self.lib.jack_set_process_callback(c, tester_process.address, t.ctypes.data)
        if terminal:
            self.lat = latency_table(self.lib, t[T_AUDIO_IN], t[T_AUDIO_OUT])
            self.lib.jack_set_latency_callback(c, terminal_latency.address, self.lat.ctypes.data)

    def start(self) -> None:
        """Activate (cycle 0 is the first cycle after this)."""
        assert self.lib.jack_activate(self.client) == 0

    def connect(self, src: str, dst: str) -> None:
        """Connect two ports by full name."""
        r = self.lib.jack_connect(self.client, src.encode(), dst.encode())
        assert r in (0, 17), f"jack_connect {src} -> {dst}: {r}"

    @property
    def cycles(self) -> int:
        """Process cycles run so far."""
        return int(self.table[T_CYCLE])

    @property
    def sent_all(self) -> bool:
        """True once every scheduled message went out."""
        return int(self.table[T_NEXT]) >= int(self.table[T_NSCHED])

    @property
    def sent_count(self) -> int:
        """How many scheduled messages went out so far (they go in schedule order)."""
        return int(self.table[T_NEXT])

    @property
    def pulsed_all(self) -> bool:
        """True once every scheduled impulse went out."""
        return int(self.table[T_PNEXT]) >= int(self.table[T_NPULSES])

    def port_latency(self, port: str, mode: int) -> tuple[int, int]:
        """JACK's (min, max) latency of one of this client's ports (``in``, ``out``) in ``mode``
        (``J.CAPTURE_LATENCY`` or ``J.PLAYBACK_LATENCY``), frames."""
        return port_latency(self.lib, self.client, f"{self.name}:{port}", mode)

    def midi_received(self) -> np.ndarray:
        """(frame time, status byte) of each MIDI message received so far."""
        return self.mlog[:int(self.table[T_MLOG_N])].copy()

    def recording(self) -> tuple[int, np.ndarray]:
        """(frame time of sample 0, the samples recorded so far)."""
        n = min(int(self.table[T_REC_FRAMES]), self.rec.size)
        return int(self.table[T_REC_START]), self.rec[:n].copy()

    def close(self) -> None:
        """Deactivate and close the client."""
        if self.client:
            self.lib.jack_deactivate(self.client)
            self.lib.jack_client_close(self.client)
            self.client = None


def port_latency(lib, client: int, port: str, mode: int) -> tuple[int, int]:
    """JACK's (min, max) latency of the port called ``port`` (full name) in ``mode``, frames."""
    p = lib.jack_port_by_name(client, port.encode())
    assert p, f"no JACK port {port}"
    r = J.LatencyRange()
    lib.jack_port_get_latency_range(p, mode, r)
    return int(r.min), int(r.max)


@cfunc(types.int32(types.uint32, types.voidptr), cache=True, nopython=True, error_model="numpy")
def latent_process(nframes, arg):
    """Copy input to output through a delay line of ``LAT_FRAMES`` frames (``arg``: the latent
    table: the latency table, then get_buffer, the line's address and its write index)."""
    t = carray(arg, (LAT_SIZE + 3,), dtype=np.int64)
    n = np.int64(nframes)
    d = t[LAT_FRAMES]
    src = carray(f32_ptr(call_p_pu32(t[LAT_SIZE], t[LAT_IN], n)), (n,), dtype=np.float32)
    dst = carray(f32_ptr(call_p_pu32(t[LAT_SIZE], t[LAT_OUT], n)), (n,), dtype=np.float32)
    line = carray(f32_ptr(t[LAT_SIZE + 1]), (d,), dtype=np.float32)
    k = t[LAT_SIZE + 2]
    for i in range(n):
        x = src[i]
        dst[i] = line[k]
        line[k] = x
        k = (k + 1) % d
    t[LAT_SIZE + 2] = k
    return 0


class LatentClient:
    """A JACK client named ``name`` whose output ``out`` is its input ``in`` delayed by ``frames``
    (>= 1) frames, and which says so in JACK's latency API (:func:`latent_latency`): a stand-in for a
    device's converters and buffers, with a delay that is real. :meth:`start`, :meth:`close`."""

    def __init__(self, name: str, frames: int):
        assert frames >= 1
        self.lib = J.load()
        c = J.open_client(name)
        assert c, "no JACK server"
        self.client = c
        self.name = self.lib.jack_get_client_name(c).decode()
        self.frames = int(frames)
        inp = self.lib.jack_port_register(c, b"in", J.AUDIO_TYPE, J.PORT_IS_INPUT, 0)
        out = self.lib.jack_port_register(c, b"out", J.AUDIO_TYPE, J.PORT_IS_OUTPUT, 0)
        self.line = np.zeros(self.frames, np.float32)
        lat = latency_table(self.lib, inp, out, self.frames)
        self.table = np.zeros(LAT_SIZE + 3, np.int64)
        self.table[:LAT_SIZE] = lat
        self.table[LAT_RANGE] = self.table.ctypes.data + 8 * LAT_WORD
        self.table[LAT_SIZE] = J.address(self.lib, "jack_port_get_buffer")
        self.table[LAT_SIZE + 1] = self.line.ctypes.data
        self.lib.jack_set_process_callback(c, latent_process.address, self.table.ctypes.data)
        self.lib.jack_set_latency_callback(c, latent_latency.address, self.table.ctypes.data)

    def start(self) -> None:
        """Activate."""
        assert self.lib.jack_activate(self.client) == 0

    def close(self) -> None:
        """Deactivate and close the client."""
        if self.client:
            self.lib.jack_deactivate(self.client)
            self.lib.jack_client_close(self.client)
            self.client = None
