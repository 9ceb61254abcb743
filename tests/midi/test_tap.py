"""The device MIDI tap: what a real-time reader pushes, the control side reads back whole."""

import numpy as np

from livehost.engine import layout as L
from livehost.engine.devmidi import tap_push
from livehost.engine.engine import Engine
from livehost.midi.tap import read_tap


def _push(eng, frame, msg):
    buf = np.array(msg, np.uint8)
    return tap_push(eng.a, float(frame), buf.ctypes.data, buf.size)


def test_short_and_long_messages_come_back_whole_and_in_order():
    eng = Engine(48000, 128, 0, 2, heap_slots=1 << 16)
    mts = [0xF0, 0x7F, 0x00, 0x08, 0x02, 0x00, 0x01, 69, 69, 0x00, 0x00, 0xF7]  # 12 bytes: 4 entries + head
    sent = [(10, [0x90, 60, 100]), (11, [0xC0, 5]), (12, mts), (13, [0xF8]), (14, [0xF0, 1, 2, 3, 0xF7])]
    for frame, msg in sent:
        assert _push(eng, frame, msg)
    assert read_tap(eng.a) == sent
    assert read_tap(eng.a) == []


def test_a_full_tap_refuses_whole_messages_and_counts_them():
    eng = Engine(48000, 128, 0, 2, heap_slots=1 << 16)
    for k in range(L.MTAP_CAP - 1):
        assert _push(eng, k, [0x90, 60, 1])
    assert not _push(eng, 0, [0xF0] + [1] * 10 + [0xF7])  # needs 5 entries, 1 is free
    assert _push(eng, 0, [0xB0, 7, 0])  # a short one still fits
    assert not _push(eng, 0, [0xB0, 7, 1])
    assert eng.a[L.H_MTAP_DROPPED] == 2
    got = read_tap(eng.a)
    assert len(got) == L.MTAP_CAP and got[-1] == (0, [0xB0, 7, 0])
    assert _push(eng, 5, [0xF0] + [1] * 10 + [0xF7])  # room again, across the ring's end
    assert read_tap(eng.a) == [(5, [0xF0] + [1] * 10 + [0xF7])]
