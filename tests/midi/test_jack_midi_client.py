"""livehost's own JACK MIDI client beside the PortAudio driver: no Python on JACK's thread, fixed delay.

A test JACK client (:mod:`tests.jackclient`, compiled, stamping with JACK's frame clock) sends 50
note-ons at random offsets inside its cycles to the MIDI client's port while PortAudio (on the same
JACK server) runs the engine; the engine's own recording gives each note's first sample. Onset
(engine frames) minus send frame (JACK frames) must be one constant: no jitter, whatever the offset.
The control side sees every message through the tap, stamped with the engine frame it sounds at.
"""

import time

import numpy as np
import pytest
import soundfile as sf

from tests.engine.test_jack_driver import SHARP_SYNTH, until_clean
from tests.jackclient import TestJackClient
from tests.jackutil import need_jack

pytestmark = pytest.mark.jack


@pytest.fixture(autouse=True)
def _jack():
    need_jack()


def _onsets(y, thr=1e-4, gap=64):
    """First samples of the sounding stretches of ``y`` (each after at least ``gap`` silent samples)."""
    loud = np.abs(y) > thr
    idx = np.flatnonzero(loud)
    if not idx.size:
        return idx
    keep = np.r_[True, np.diff(idx) > gap]
    return idx[keep]


def _take(tmp_path, seed):
    from livehost.engine import layout as L
    from livehost.engine.drivers.portaudio import PortAudioDriver
    from livehost.engine.drivers.recorder import Recorder
    from livehost.engine.patching import engine_for
    from livehost.midi import MidiInput
    from livehost.patch import load

    p = tmp_path / "sharp.toml"
    p.write_text(SHARP_SYNTH)
    eng = engine_for(load(str(p)))
    rng = np.random.default_rng(seed)
    offsets = rng.integers(0, 128, 50)
    first, step = 200, 4
    sched = []
    for k, off in enumerate(offsets):
        sched.append((first + step * k, int(off), (0x90, 69, 100)))
        sched.append((first + step * k + 2, 0, (0x80, 69, 0)))
    drv = PortAudioDriver(eng, use_input=False)
    rec = Recorder(eng, str(tmp_path / "pa.wav"), channels=eng.out_ch)
    rec.start()
    drv.start()
    midi = MidiInput(eng, api="jack", virtual="lh-pa-in", client_name="lh-pa-midi").open()
    sender = TestJackClient("lh-pa-send", schedule=sched)
    try:
        sender.start()
        sender.connect(f"{sender.name}:midi_out", midi.jack_port)
        end = time.monotonic() + 30
        while not sender.sent_all:
            assert time.monotonic() < end, "JACK cycles did not run"
            time.sleep(0.05)
        time.sleep(0.3)
    finally:
        sender.close()
        midi.close()
        drv.stop()
        rec.stop()
    y, _ = sf.read(tmp_path / "pa.wav", dtype="float32", always_2d=True)
    on = _onsets(y[:, 0])
    sent = sender.sent[0::2]
    stats = eng.stats()
    stats["onsets"] = on
    stats["sent"] = sent
    stats["tap"] = [e for e in midi.monitor.events() if e["kind"] == "note_on"]
    stats["late"] = int(eng.a[L.H_DRING_LATE])
    stats["expect"] = eng.latency_samples() + 1
    return stats


def test_portaudio_driver_plays_jack_midi_notes_at_a_constant_delay(tmp_path):
    """50 note-ons at random offsets: onset - send frame has no jitter, and the tap's stamps are the
    frames the notes sound at (one JACK period after they were sent). A take with a cycle JACK
    flagged is repeated (until_clean); if every take has one, the delay may only step by whole periods."""
    seeds = iter(range(31, 100))
    best, takes = until_clean(lambda: _take(tmp_path, next(seeds)))
    on, sent, tap = best["onsets"], best["sent"], best["tap"]
    summary = [(t["xruns"], t["callbacks"], len(t["onsets"])) for t in takes]
    assert (sent >= 0).all() and len(set(sent % 128)) > 30
    if best["xruns"] == 0:
        assert len(on) == 50 and len(tap) == 50, summary
        delay = on - sent
        assert np.ptp(delay) == 0, (summary, sorted(set(delay.tolist())))
        # the tap says where each note sounds: its first sample is the voice's one-sample start later
        # (plus the master limiter's lookahead)
        assert [on[k] - tap[k]["frame"] for k in range(50)] == [best["expect"]] * 50
        assert best["late"] == 0
    else:
        # a cycle JACK skipped for a late client moves the engine's frame count against JACK's clock by
        # whole periods from there on: the delay may step by multiples of 128 (at most once per xrun)
        # but never varies inside a period
        assert len(on) >= 48, summary
        delay = on[:len(sent)] - sent[:len(on)]
        vals = np.unique(delay)
        assert len(vals) <= 1 + best["xruns"] and all((vals - vals[0]) % 128 == 0), (summary, vals)
    print(f"takes (xruns, callbacks, onsets) {summary}; delay {sorted(set((on[:50] - sent[:len(on)]).tolist()))}")
