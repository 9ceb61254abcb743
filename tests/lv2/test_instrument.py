"""LV2 plugins with a MIDI input: the block's events reach them as an atom sequence at their frames."""

from __future__ import annotations

import mido
import numpy as np

from livehost.engine.drivers.offline import render
from tests.lv2.lv2util import need, onsets, render_cli

GATE = "http://lv2plug.in/plugins/eg-midigate"  # audio passes while a note is held
EPIANO = "http://drobilla.net/plugins/mda/EPiano"  # an instrument: MIDI in, stereo out


def gate_render(make_engine, on, off, frames=6000):
    """eg-midigate's output for noise, a note held from frame ``on`` to ``off``; and its input."""
    eng = make_engine([("node", "lv2", "gate", {}, {"uri": GATE})])
    assert eng.item("gate").type.midi
    lat = eng.latency_report()["graph_latency_samples"]
    assert eng.send_midi(0x90, 60, 100, frame=on) and eng.send_midi(0x80, 60, 0, frame=off)
    x = (np.random.default_rng(4).standard_normal((frames + lat, 2)) * 0.1).astype(np.float32)
    y = render(eng, len(x), inp=x)[lat:]
    return y, x[:len(y)]


def test_midi_gate_follows_the_notes_at_their_frames(make_engine):
    """eg-midigate applies each event to the frames from the previous event (or the block's start) to
    the event's own frame (its run() counts the note, then writes that stretch). So a note held across
    blocks opens the gate at the start of its note-on's block and closes it at the start of its
    note-off's; a note on and off inside one block leaves exactly the note-on's offset open: the
    events arrive at their frames, not at the block's start."""
    need(GATE)
    y, x = gate_render(make_engine, 1000 + 37, 3000 + 101)
    a, b = 1024, 3072  # the 128-frame blocks holding the events start here
    assert not np.any(y[:a]) and not np.any(y[b:])
    np.testing.assert_array_equal(y[a:b], x[a:b])
    y, x = gate_render(make_engine, 1037, 1101)
    open_ = np.flatnonzero(np.abs(y).max(axis=1))
    assert list(open_) == list(range(1024, 1037))
    np.testing.assert_array_equal(y[1024:1037], x[1024:1037])


def test_instrument_plays_a_midi_file_with_onsets_where_the_notes_are(tmp_path):
    need(EPIANO)
    notes = [0.5, 1.0, 1.5]  # seconds
    mid = mido.MidiFile(ticks_per_beat=480, type=0)
    tr = mido.MidiTrack()
    mid.tracks.append(tr)
    tr.append(mido.MetaMessage("set_tempo", tempo=500000, time=0))  # 480 ticks = 0.5 s
    t = 480
    for n in (60, 64, 67):
        tr.append(mido.Message("note_on", note=n, velocity=100, time=t))
        tr.append(mido.Message("note_off", note=n, velocity=0, time=240))
        t = 240
    mid.save(tmp_path / "notes.mid")
    patch = tmp_path / "ep.toml"
    patch.write_text(f'[patch]\nname = "ep"\n[input]\nsource = "none"\n'
                     f'[[chain]]\ntype = "lv2"\nid = "ep"\nuri = "{EPIANO}"\n')
    y, sr = render_cli(patch, tmp_path / "out.wav", "--midi", tmp_path / "notes.mid")
    got = onsets(y, sr, notes, window_s=0.5)
    for want, at in zip(notes, got):
        assert abs(at - want) < 0.0005, (notes, got)  # 24 frames: 0.5 s and 1.5 s are mid-block
