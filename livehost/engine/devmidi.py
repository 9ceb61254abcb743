"""Device MIDI on real-time threads: the tap to the control side, and livehost's own JACK MIDI client.

Two single-producer rings in the arena header region, both lock-free with acquire/release ordering
(:mod:`livehost.dsp.atomics`):

- **the tap** (``H_MTAP``): every MIDI message a real-time reader received (the JACK driver's
  ``midi_in``, or the MIDI client below), stamped with the engine frame at which it sounds. The
  control side (:class:`livehost.midi.tap.MidiTapReader`) drains it for what does not belong on the
  audio thread: the monitor, CC maps, MIDI learn, program changes, MTS sysex. Entry layout:
  ``layout.MTAP_CAP``.
- **the device ring** (``H_DRING``): channel messages from livehost's JACK MIDI client (used beside
  the PortAudio driver, whose callback cannot read JACK ports), stamped with JACK's frame time. The
  audio callback takes them with :func:`dring_take` at a fixed delay of one JACK period: a message
  at frame ``T`` of JACK's clock sounds at engine frame ``T + shift + period``, whatever the order in
  which JACK runs the two clients in a cycle, so the delay is constant (no jitter) and never early.

The MIDI client's process callback :func:`midi_client_process` is a numba ``cfunc`` calling libjack
through addresses in an int64 table (layout ``MT_*``), like the JACK driver's: no Python, no GIL.
The clock the audio callback reads (``H_DCLOCK_FN`` = ``jack_last_frame_time``, called with the
client's handle) is published last and withdrawn first; the client is closed only after the audio
callback ran a block that no longer reaches it (the ownership rule, :mod:`livehost.engine.protocol`).
"""

from __future__ import annotations

import numpy as np
from numba import carray, cfunc, types

from livehost.dsp.atomics import load_acquire, store_release
from livehost.dsp.cptr import call_i32_ppu32, call_p_pu32, call_u32_p, f64_ptr, i64_ptr, peek_u8
from livehost.dsp.rt import rt_jit
from livehost.engine.layout import (
    DRING_CAP, H_DCLOCK_CLIENT, H_DCLOCK_FN, H_DCLOCK_LAST, H_DCLOCK_PERIOD, H_DCLOCK_SHIFT,
    H_DCLOCK_SUB, H_DEV, H_DRING, H_DRING_DROPPED, H_DRING_LATE, H_DRING_R, H_DRING_W, H_FRAMES, H_LEN,
    H_MTAP, H_MTAP_DROPPED, H_MTAP_R, H_MTAP_W, MAX_DEV_EVENTS, MIDI_W, MTAP_CAP,
)

# the MIDI client's table (int64): addresses and handles, filled by livehost.midi.jackport
MT_ARENA = 0  # address of the arena
MT_GET_BUFFER = 1  # jack_port_get_buffer
MT_COUNT = 2  # jack_midi_get_event_count
MT_GET = 3  # jack_midi_event_get
MT_EVENT = 4  # address of a jack_midi_event_t scratch (3 int64: time, size, data pointer)
MT_PORT = 5  # the MIDI input port
MT_FRAME_TIME = 6  # jack_last_frame_time
MT_CLIENT = 7  # the client handle
MT_SIZE = 8

U32 = 4294967296.0
ACTIVE_SENSING = 0xFE


@rt_jit
def tap_push(a, frame, addr, size):
    """Copy one MIDI message (``size`` bytes at address ``addr``) into the tap, stamped with engine
    ``frame``; False (and counted in ``H_MTAP_DROPPED``) if the tap has no room for all of it."""
    if size < 1:
        return False
    need = 1 if size <= 3 else 1 + (size + 2) // 3
    tap = int(a[H_MTAP])
    w = int(a[H_MTAP_W])
    if w + need - int(load_acquire(a, H_MTAP_R)) > MTAP_CAP:
        a[H_MTAP_DROPPED] += 1.0
        return False
    e = tap + (w % MTAP_CAP) * MIDI_W
    a[e] = frame
    a[e + 1] = peek_u8(addr)
    if size <= 3:
        a[e + 2] = peek_u8(addr + 1) if size > 1 else -1.0
        a[e + 3] = peek_u8(addr + 2) if size > 2 else -1.0
    else:
        a[e + 2] = size
        a[e + 3] = -2.0  # marks a long message's header
        for k in range(need - 1):
            e = tap + ((w + 1 + k) % MTAP_CAP) * MIDI_W
            a[e] = -1.0
            for j in range(3):
                i = 3 * k + j
                a[e + 1 + j] = peek_u8(addr + i) if i < size else -1.0
    store_release(a, H_MTAP_W, w + need)  # the entries before the count
    return True


@rt_jit
def dring_push(a, stamp, st, d1, d2):
    """Queue one channel message for the audio callback, at JACK frame ``stamp``; False (counted in
    ``H_DRING_DROPPED``) if the ring is full."""
    w = int(a[H_DRING_W])
    if w - int(load_acquire(a, H_DRING_R)) >= DRING_CAP:
        a[H_DRING_DROPPED] += 1.0
        return False
    e = int(a[H_DRING]) + (w % DRING_CAP) * MIDI_W
    a[e] = stamp
    a[e + 1] = st
    a[e + 2] = d1
    a[e + 3] = d2
    store_release(a, H_DRING_W, w + 1)
    return True


@rt_jit
def dring_take(a, n):
    """Audio thread, before a block of ``n`` frames: move the device ring's messages due in this block
    to the block's device events (``H_DEV``) at their offsets. A message stamped at JACK frame ``T``
    sounds one JACK period after ``T``; one that comes later than that is placed at offset 0 and
    counted in ``H_DRING_LATE``. Also publishes the clock shift the MIDI client stamps the tap with."""
    fn = np.int64(load_acquire(a, H_DCLOCK_FN))
    if fn == 0:
        return
    jnow = np.float64(call_u32_p(fn, np.int64(a[H_DCLOCK_CLIENT])))
    if jnow != a[H_DCLOCK_LAST]:
        a[H_DCLOCK_LAST] = jnow
        a[H_DCLOCK_SUB] = 0.0
    jblock = jnow + a[H_DCLOCK_SUB]
    if jblock >= U32:
        jblock -= U32
    a[H_DCLOCK_SUB] += n
    period = a[H_DCLOCK_PERIOD]
    store_release(a, H_DCLOCK_SHIFT, a[H_FRAMES] - jblock + period)
    dev = int(a[H_DEV])
    cnt = int(a[dev])
    ring = int(a[H_DRING])
    w = int(load_acquire(a, H_DRING_W))
    r = int(a[H_DRING_R])
    while r < w and cnt < MAX_DEV_EVENTS:
        e = ring + (r % DRING_CAP) * MIDI_W
        d = a[e] - jblock
        if d > U32 / 2:
            d -= U32
        elif d < -U32 / 2:
            d += U32
        off = d + period
        if off >= n:
            break
        if off < 0.0:
            off = 0.0
            a[H_DRING_LATE] += 1.0
        b = dev + 1 + cnt * MIDI_W
        a[b] = off
        a[b + 1] = a[e + 1]
        a[b + 2] = a[e + 2]
        a[b + 3] = a[e + 3]
        cnt += 1
        r += 1
    a[dev] = cnt
    store_release(a, H_DRING_R, r)  # the slots read are free for the MIDI client again


@cfunc(types.int32(types.uint32, types.voidptr), cache=True, nopython=True, error_model="numpy")
def midi_client_process(nframes, arg):
    """The JACK process callback of livehost's MIDI client: ``arg`` is its int64 table (``MT_*``).
    Every message of the input port goes to the tap; channel messages also go to the device ring,
    stamped with JACK's frame time. 0 = go on."""
    t = carray(arg, (MT_SIZE,), dtype=np.int64)
    hdr = carray(f64_ptr(t[MT_ARENA]), (64,), dtype=np.float64)
    a = carray(f64_ptr(t[MT_ARENA]), (int(hdr[H_LEN]),), dtype=np.float64)
    buf = call_p_pu32(t[MT_GET_BUFFER], t[MT_PORT], np.int64(nframes))
    if buf == 0:
        return 0
    count = call_u32_p(t[MT_COUNT], buf)
    if count == 0:
        return 0
    jnow = np.int64(call_u32_p(t[MT_FRAME_TIME], t[MT_CLIENT]))
    shift = load_acquire(a, H_DCLOCK_SHIFT)
    ev = carray(i64_ptr(t[MT_EVENT]), (3,), dtype=np.int64)
    for i in range(count):
        if call_i32_ppu32(t[MT_GET], t[MT_EVENT], buf, i) != 0:
            continue
        size = ev[1]
        if size < 1:
            continue
        addr = ev[2]
        st = peek_u8(addr)
        if st == ACTIVE_SENSING:
            continue
        stamp = np.float64((jnow + (ev[0] & 0xFFFFFFFF)) & 0xFFFFFFFF)
        tap_push(a, stamp + shift, addr, size)
        if 0x80 <= st < 0xF0 and size <= 3:
            dring_push(a, stamp, st, peek_u8(addr + 1) if size > 1 else 0, peek_u8(addr + 2) if size > 2 else 0)
    return 0


@cfunc(types.void(types.int32, types.int64, types.voidptr), cache=True, nopython=True, error_model="numpy")
def midi_client_shutdown(code, reason, arg):
    """JACK's info-shutdown callback of the MIDI client: withdraws the clock (``arg`` = the arena), so
    the audio callback stops calling into a client the server no longer serves."""
    a = carray(arg, (64,), dtype=np.float64)
    store_release(a, H_DCLOCK_FN, 0.0)
