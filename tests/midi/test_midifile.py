"""MIDI files: frame stamps with tempo changes; render_midi end to end."""

import os

import mido
import numpy as np
import pytest
import soundfile as sf

from livehost.errors import LivehostError
from livehost.midi import events_from_midi_file, render_midi
from tests.conftest import ROOT
from tests.synth.util import fit_freq

SR = 48000


def write_mid(path, notes, tpb=480, tempos=((0, 500000),)):
    """notes: (start_tick, length_ticks, note, vel, channel); tempos: (tick, us per beat) in track 0."""
    mid = mido.MidiFile(ticks_per_beat=tpb, type=1)
    t0 = mido.MidiTrack()
    last = 0
    for tick, tempo in tempos:
        t0.append(mido.MetaMessage("set_tempo", tempo=tempo, time=tick - last))
        last = tick
    mid.tracks.append(t0)
    tr = mido.MidiTrack()
    evs = []
    for start, length, note, vel, ch in notes:
        evs.append((start, mido.Message("note_on", note=note, velocity=vel, channel=ch)))
        evs.append((start + length, mido.Message("note_off", note=note, velocity=0, channel=ch)))
    evs.sort(key=lambda e: e[0])
    last = 0
    for tick, msg in evs:
        tr.append(msg.copy(time=tick - last))
        last = tick
    mid.tracks.append(tr)
    mid.save(str(path))
    return str(path)


def test_frames_follow_tempo_changes(tmp_path):
    # 120 bpm for the first beat (0.5 s), then 60 bpm (1 s per beat)
    p = write_mid(tmp_path / "t.mid", [(0, 240, 60, 100, 0), (480, 480, 62, 90, 3), (960, 480, 64, 80, 0)],
                  tempos=((0, 500000), (480, 1000000)))
    ev, end = events_from_midi_file(p, SR)
    assert ev == [(0, 0x90, 60, 100), (12000, 0x80, 60, 0), (24000, 0x93, 62, 90), (72000, 0x83, 62, 0),
                  (72000, 0x90, 64, 80), (120000, 0x80, 64, 0)]
    assert end == 120000


def test_bad_file_is_a_livehost_error(tmp_path):
    p = tmp_path / "bad.mid"
    p.write_bytes(b"RIFF not midi")
    with pytest.raises(LivehostError, match="bad.mid"):
        events_from_midi_file(p, SR)
    with pytest.raises(LivehostError):
        events_from_midi_file(tmp_path / "missing.mid", SR)


def test_render_midi_plays_the_31edo_patch(tmp_path):
    notes = [(0, 480, 69, 100, 0), (960, 480, 75, 100, 0)]  # 0.5 s each at 120 bpm, 1 s apart
    mid = write_mid(tmp_path / "song.mid", notes)
    out = tmp_path / "out.wav"
    info = render_midi(os.path.join(ROOT, "patches", "synth-31edo.toml"), mid, out)
    y, sr = sf.read(out, always_2d=True)
    assert sr == SR and info["frames"] == len(y)
    # aligned to MIDI time: the first note starts at frame 0, the second at 1 s
    assert np.abs(y[:5, 0]).max() < 0.02 and np.abs(y[200:400, 0]).max() > 0.05
    assert fit_freq(y[4800:22000, 0]) == pytest.approx(440.0, rel=1e-6)
    assert np.abs(y[47900:48000, 0]).max() < 1e-4 < np.abs(y[48100:48300, 0]).max()
    assert fit_freq(y[48000 + 4800:70000, 0]) == pytest.approx(440 * 2 ** (6 / 31), rel=1e-6)
    # it ran until the release (400 ms) decayed, then kept 100 ms of silence, and not much more
    last_loud = np.flatnonzero(np.abs(y[:, 0]) > 10 ** (-90 / 20))[-1]
    assert 72000 + 0.3 * SR < last_loud < 72000 + 0.6 * SR
    assert len(y) - last_loud == pytest.approx(0.1 * SR, abs=200)
