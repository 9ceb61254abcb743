"""Device MIDI events (what the JACK callback leaves for a block) merge with the ring's in offset
order; a full ring never loses a note-off; no voice is left hanging after a flood."""

import numpy as np

from livehost.engine import layout as L
from livehost.engine.drivers.offline import render
from livehost.engine.engine import Engine
from tests.engine.test_jack_driver import SHARP_SYNTH


def probe_engine(block=128):
    eng = Engine(48000, block, 0, 2, heap_slots=1 << 18)
    eng.build("none", [("midiprobe", "probe", {}, None, None)], [], {})
    return eng


def _put_device_events(eng, events):
    """What the JACK callback does before process_block: the block's device events, offsets sorted."""
    a = eng.a
    dev = int(a[L.H_DEV])
    a[dev] = len(events)
    for k, ev in enumerate(events):
        a[dev + 1 + 4 * k:dev + 5 + 4 * k] = ev


def test_device_and_ring_events_merge_in_offset_order():
    eng = probe_engine()
    render(eng, 256)
    now = int(eng.a[L.H_FRAMES])
    eng.send_midi(0x90, 70, 30, frame=now + 10)
    eng.send_midi(0x90, 71, 31, frame=now + 50)
    eng.send_midi(0x90, 72, 32, frame=now + 200)  # next block: stays in the ring
    _put_device_events(eng, [(5, 0x90, 60, 20), (50, 0x90, 61, 21), (127, 0x80, 61, 0)])
    out = np.zeros((128, 2), np.float32)
    eng.process(None, out)
    a = eng.a
    bev = int(a[L.H_BEV])
    got = a[bev + 1:bev + 1 + 4 * int(a[bev])].reshape(-1, 4).tolist()
    assert got == [[5, 0x90, 60, 20], [10, 0x90, 70, 30], [50, 0x90, 71, 31], [50, 0x90, 61, 21],
                   [127, 0x80, 61, 0]]
    assert a[int(a[L.H_DEV])] == 0  # taken: the next block does not see them again
    # the ring's event for the next block plays there, alone (the device events were not repeated)
    y = render(eng, 512)
    assert np.flatnonzero(y[:, 0]).tolist() == [200 - 128 + eng.latency_samples()]


def test_device_events_beyond_a_block_are_counted():
    eng = probe_engine()
    _put_device_events(eng, [(k % 128, 0x90, 60, 1) for k in range(L.MAX_BLOCK_EVENTS)])
    eng.send_midi(0x90, 60, 2)  # the ring's event goes first (offset 0): one device event is left out
    eng.process(None, np.zeros((128, 2), np.float32))
    assert eng.a[L.H_DEV_DROPPED] == 1
    assert eng.a[int(eng.a[L.H_BEV])] == L.MAX_BLOCK_EVENTS


def _sharp_engine(tmp_path):
    from livehost.engine.patching import engine_for
    from livehost.patch import load

    p = tmp_path / "sharp.toml"
    p.write_text(SHARP_SYNTH)
    return engine_for(load(str(p)), in_ch=0)


def test_a_note_off_the_full_ring_refuses_still_arrives(tmp_path):
    """Ring filled with controller messages and a note-on; the note-off is owed, not lost: once the
    ring drains the voice stops (and without it, it would still sound)."""
    eng = _sharp_engine(tmp_path)
    for _ in range(L.MIDI_CAP - 1):
        assert eng.send_midi(0xB0, 1, 10)
    assert eng.send_midi(0x90, 69, 100)
    assert not eng.send_midi(0xB0, 1, 11)  # full: an ordinary message is refused
    assert eng.send_midi(0x80, 69, 0)  # a note-off is owed instead
    assert eng.midi_late == 0
    blocks = L.MIDI_CAP // L.MAX_BLOCK_EVENTS + 2
    y = render(eng, 128 * blocks)
    assert np.abs(y).max() > 0.01  # the note sounded
    eng.service()  # pays what is owed now that the ring has room
    assert eng.midi_late == 1
    tail = render(eng, 128 * 8)
    assert np.abs(tail[256:]).max() == 0.0, "the note is hanging"
    assert eng.stats()["midi_note_offs_late"] == 1


def test_the_next_message_pays_the_owed_note_off_first(tmp_path):
    eng = _sharp_engine(tmp_path)
    for _ in range(L.MIDI_CAP - 1):
        eng.send_midi(0xB0, 1, 10)
    eng.send_midi(0x90, 69, 100)
    eng.send_midi(0x80, 69, 0)  # owed
    render(eng, 128 * (L.MIDI_CAP // L.MAX_BLOCK_EVENTS + 2))
    assert eng.send_midi(0x90, 72, 100)  # goes after the owed note-off
    assert eng.midi_late == 1
    y = render(eng, 128 * 4)
    assert np.abs(y).max() > 0.01  # 72 sounds (the owed note-off went before it, not after)
