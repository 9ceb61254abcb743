"""What the LV2 tests share: skipping where plugins are missing, waiting on the LV2 service thread, a
MIDI file of notes, and a patch rendered through ``livehost render`` as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import mido
import numpy as np
import pytest
import soundfile as sf

from livehost.lv2 import world
from tests.conftest import ROOT


def need(*uris):
    """Skip unless every plugin in ``uris`` is installed (and liblilv is)."""
    try:
        have = world.plugins()
    except world.Lv2Error as e:
        pytest.skip(str(e))
    missing = [u for u in uris if u not in have]
    if missing:
        pytest.skip(f"LV2 plugins not installed: {missing}")


def wait_for(cond, timeout=10.0):
    """Poll ``cond()`` every 2 ms until true; fail after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.002)


def notes_file(path, times, note=60):
    """A MIDI file with ``note`` struck at each of ``times`` (seconds), held 0.1 s."""
    mid = mido.MidiFile(ticks_per_beat=480, type=0)
    tr = mido.MidiTrack()
    mid.tracks.append(tr)
    tr.append(mido.MetaMessage("set_tempo", tempo=500000, time=0))  # 960 ticks = 1 s
    last = 0
    for t in times:
        on = int(round(t * 960))
        tr.append(mido.Message("note_on", note=note, velocity=100, time=on - last))
        tr.append(mido.Message("note_off", note=note, velocity=0, time=96))
        last = on + 96
    mid.save(path)


def render_cli(patch, out, *args) -> tuple[np.ndarray, int]:
    """``livehost render PATCH ARGS --output OUT`` in a child process: the output (float64, frames x
    channels) and its rate in Hz."""
    r = subprocess.run([sys.executable, "-m", "livehost", "render", str(patch), *map(str, args),
                        "--output", str(out)], capture_output=True, text=True, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": ROOT})
    assert r.returncode == 0, r.stderr
    y, sr = sf.read(out, dtype="float64", always_2d=True)
    return y, sr


def onsets(y, sr, notes, window_s=0.4) -> list[float]:
    """Where each note of ``notes`` (seconds) starts sounding in ``y``: the first sample above 1 % of the
    peak in a window of ``window_s`` from 50 ms before it. Asserts silence before the first note and a
    loud window at each."""
    env = np.abs(y).max(axis=1)
    assert env.max() > 0.05
    thresh = 0.01 * env.max()
    assert not np.any(env[:int((notes[0] - 0.05) * sr)] > thresh)  # silence before the first note
    out = []
    for t0 in notes:
        a = int((t0 - 0.05) * sr)
        w = env[a:a + int(window_s * sr)]
        assert w.max() > 10 * thresh, t0
        out.append((a + int(np.argmax(w > thresh))) / sr)
    return out
