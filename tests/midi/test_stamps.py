"""Timestamped MIDI (rtmidi on ALSA) placed at engine frames: spacing kept, one block of delay."""

import numpy as np

from livehost.midi.stamps import StampPlacer

SR, BLOCK = 48000, 128


def test_a_burst_keeps_its_spacing_whenever_python_sees_it():
    """Messages 1 ms apart that Python receives at the block boundaries (all of a block's at once, as
    a late thread does): they sound 1 ms apart, the first one block after its arrival."""
    p = StampPlacer(SR, BLOCK)
    times = np.arange(20) * 0.001  # the ALSA stamps, s
    seen = (np.floor(times * SR / BLOCK) + 1) * BLOCK  # the engine's counter when Python got each
    frames = [p.place(d, int(f)) for d, f in zip(np.diff(times, prepend=0.0), seen)]
    assert frames[0] == seen[0] + BLOCK
    assert np.array_equal(np.diff(frames), np.full(19, 48))  # 1 ms = 48 frames: no jitter
    assert all(seen[k] <= frames[k] <= seen[k] + 2 * BLOCK for k in range(20))
    assert p.restarts == 1


def test_drift_and_pauses_restart_the_stretch_without_going_back():
    p = StampPlacer(SR, BLOCK)
    assert p.place(0.0, 1000) == 1000 + BLOCK
    # the audio clock ran 10 % fast: by 1 s the stamp-based frame would already be past
    f = p.place(1.0, 1000 + int(1.1 * SR))
    assert f == 1000 + int(1.1 * SR) + BLOCK and p.restarts == 2
    # a message stamped 0 after the previous one but seen earlier than the placement stays after it
    assert p.place(0.0, 1000 + int(1.1 * SR) - 50) == f
