"""MIDI reaches MIDI nodes through the lock-free ring, sample-accurately, in order."""

import numpy as np

from livehost.engine.drivers.offline import render
from livehost.engine.engine import Engine


def probe_engine(block=128):
    eng = Engine(48000, block, 0, 2, heap_slots=1 << 18)
    eng.build("none", [("midiprobe", "probe", {}, None, None)], [], {})
    return eng


def test_events_land_on_their_exact_frames():
    eng = probe_engine()
    frames = [0, 1, 127, 128, 300, 1000, 1001, 4095]
    for k, f in enumerate(frames):
        assert eng.send_midi(0x90, 60, 10 + k, frame=f)
    y = render(eng, 4096 + 256)
    lat = eng.latency_samples()
    hits = np.flatnonzero(y[:, 0])
    assert list(hits - lat) == frames
    np.testing.assert_allclose(y[hits, 0], [(10 + k) / 127 for k in range(len(frames))], rtol=1e-6)
    assert np.all(y[hits, 1] == np.float32(60 / 127))


def test_asap_events_play_at_the_start_of_the_next_block():
    eng = probe_engine()
    render(eng, 128 * 3)
    eng.send_midi(0x90, 64, 100)
    y = render(eng, 256)
    assert np.flatnonzero(y[:, 0])[0] == eng.latency_samples()


def test_panic_is_delivered_to_midi_nodes():
    eng = probe_engine()
    render(eng, 128)
    eng.panic()
    y = render(eng, 256)
    assert y[eng.latency_samples(), 0] == -0.5


def test_ring_full_is_reported_not_blocking():
    eng = probe_engine()
    sent = sum(eng.send_midi(0x90, 60, 1, frame=10**9) for _ in range(5000))
    assert sent == 4096
