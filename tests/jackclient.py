"""A JACK client for the tests: sends MIDI messages at chosen frame offsets of chosen cycles and/or
records an audio input port, stamped with JACK's frame time.

Its process callback is a numba ``cfunc`` (no GIL) calling libjack through addresses in an int64
table, like livehost's own driver, so what it sends and records is exactly on JACK's sample clock:
a message sent at offset ``o`` of the cycle starting at frame time ``T`` is at frame ``T + o``, and
the recording's sample ``i`` is at frame ``start + i``, for every client of that cycle alike.
"""

from __future__ import annotations

import numpy as np
from numba import carray, cfunc, types

from livehost.dsp.cptr import (
    call_i32_ppu32, call_i32_pu32pz, call_p_pu32, call_u32_p, call_void_p, f32_ptr, i64_ptr, peek_u8,
)
from livehost.engine.drivers import libjack as J

T_GET_BUFFER, T_CLEAR, T_WRITE, T_FRAME_TIME, T_CLIENT = 0, 1, 2, 3, 4
T_MIDI_OUT, T_AUDIO_IN = 5, 6
T_SCHED, T_NSCHED, T_NEXT, T_CYCLE, T_SENT, T_BYTES = 7, 8, 9, 10, 11, 12
T_REC, T_REC_CAP, T_REC_START, T_REC_FRAMES = 13, 14, 15, 16
T_MIDI_IN, T_COUNT, T_GET, T_EVENT, T_MLOG, T_MLOG_CAP, T_MLOG_N = 17, 18, 19, 20, 21, 22, 23
T_SIZE = 24


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
        sched = carray(i64_ptr(t[T_SCHED]), (max(ns, np.int64(1)), 2), dtype=np.int64)
        sent = carray(i64_ptr(t[T_SENT]), (max(ns, np.int64(1)),), dtype=np.int64)
        while t[T_NEXT] < ns and sched[t[T_NEXT], 0] <= c:
            k = t[T_NEXT]
            off = sched[k, 1]
            if call_i32_pu32pz(t[T_WRITE], buf, off, t[T_BYTES] + 3 * k, np.int64(3)) == 0:
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


class TestJackClient:
    """A JACK client named ``name`` with a MIDI output ``midi_out`` (sending ``schedule``: a list of
    ``(cycle, offset, (status, d1, d2))``, cycles counted from activation, sorted) and/or an audio
    input ``in`` recording ``record_frames`` frames and/or a MIDI input ``midi_in`` logging the frame time and
    status of up to ``midi_log`` messages. :meth:`start` activates it, :meth:`close` ends it."""

    __test__ = False  # not a pytest test class

    def __init__(self, name: str, schedule=None, record_frames: int = 0, midi_log: int = 0):
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
        self.sched = np.array([(cy, off) for cy, off, _ in schedule] or [(0, 0)], np.int64)
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
        self.lib.jack_set_process_callback(c, tester_process.address, t.ctypes.data)

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
