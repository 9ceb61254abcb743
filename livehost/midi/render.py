"""Offline rendering of a patch played by a MIDI file (``livehost render PATCH --midi FILE.mid``)."""

from __future__ import annotations

import os

import numpy as np

from livehost import audiofile
from livehost.engine import layout as L
from livehost.engine.drivers.offline import render
from livehost.engine.patching import engine_for
from livehost.midi.midifile import events_from_midi_file
from livehost.patch import load

SILENCE_DB = -90.0
"""The render stops when the output has stayed below this level (dBFS) ..."""
SILENCE_S = 0.1
"""... for this long (s) after the last MIDI event."""


def render_midi(patch_path: str | os.PathLike, midi_path: str | os.PathLike, out_path: str | os.PathLike,
                release_tail_s: float = 10.0, chunk_s: float = 0.5) -> dict:
    """Render ``patch_path`` played by ``midi_path`` into ``out_path`` (.wav/.flac/.ogg).

    Events are queued block by block (sample-accurate through ``engine.send_midi(..., frame=f)``).  After
    the last event the render goes on until the output has been below -90 dBFS for 100 ms, at most
    ``release_tail_s`` seconds.  The master's lookahead delay is removed, so frame 0 of the file is
    time 0 of the MIDI file.  Returns ``{"frames", "seconds", "events", "peak_db", "samplerate"}``.
    """
    patch = load(os.fspath(patch_path))
    eng = engine_for(patch, in_ch=0)
    sr = eng.sr
    events, end = events_from_midi_file(midi_path, sr)
    block = eng.max_block
    lat = eng.latency_samples()
    pos = [0]  # next event to queue

    def on_block(_k: int) -> None:
        now = int(eng.a[L.H_FRAMES])  # frames rendered so far
        horizon = now + 2 * block
        while pos[0] < len(events) and events[pos[0]][0] < horizon:
            f, st, d1, d2 = events[pos[0]]
            if not eng.send_midi(st, d1, d2, frame=max(f, now)):
                break  # ring full: the rest waits for the next block
            pos[0] += 1

    chunk = max(block, int(chunk_s * sr) // block * block)
    quiet_needed = int(SILENCE_S * sr)
    limit = end + lat + int(release_tail_s * sr)
    thresh = 10 ** (SILENCE_DB / 20)
    parts = []
    done = 0
    quiet = 0
    while True:
        y = render(eng, chunk, on_block=on_block)
        parts.append(y)
        done += len(y)
        loud = np.flatnonzero(np.abs(y).max(axis=1) >= thresh)
        quiet = quiet + len(y) if loud.size == 0 else len(y) - 1 - int(loud[-1])
        if pos[0] >= len(events) and done >= end + lat and quiet >= quiet_needed:
            break
        if done >= limit:
            break
    y = np.concatenate(parts)[lat:]
    cut = len(y) - max(0, quiet - quiet_needed)  # keep SILENCE_S of silence at the end
    y = y[:max(cut, end)]
    audiofile.write(out_path, y, sr)
    peak = float(np.abs(y).max()) if y.size else 0.0
    return {"frames": len(y), "seconds": len(y) / sr, "events": len(events),
            "peak_db": 20 * np.log10(peak) if peak > 0 else -240.0, "samplerate": sr}
