"""Standard MIDI files -> engine events (frame-stamped), with every tempo change honoured (mido)."""

from __future__ import annotations

import os

from livehost.errors import LivehostError


def events_from_midi_file(path: str | os.PathLike, sr: float) -> tuple[list[tuple[int, int, int, int]], int]:
    """Channel messages of a MIDI file as ``(frame, status, data1, data2)`` in time order, and the end frame.

    sr: sample rate in Hz (frames = round(seconds * sr)).  Times come from mido's merged playback order,
    which applies every ``set_tempo`` (of any track) from where it occurs.  System and meta messages are
    left out (sysex too).  The end frame is the file's length (its last event, end-of-track included).
    Raises :class:`LivehostError` for a file that is missing or not a readable MIDI file.
    """
    import mido

    try:
        mid = mido.MidiFile(os.fspath(path))
    except (OSError, EOFError, ValueError, KeyError, IndexError) as e:
        raise LivehostError(f"{os.fspath(path)}: cannot read MIDI file: {e}") from None
    if mid.type == 2:
        raise LivehostError(f"{os.fspath(path)}: MIDI file type 2 (independent sequences) is not supported")
    out = []
    t = 0.0
    for msg in mid:  # merged tracks; msg.time = seconds since the previous message, tempo applied
        t += msg.time
        if msg.is_meta or msg.type == "sysex":
            continue
        b = msg.bytes()
        if not b or b[0] < 0x80 or b[0] >= 0xF0:
            continue
        out.append((int(round(t * sr)), b[0], b[1] if len(b) > 1 else 0, b[2] if len(b) > 2 else 0))
    return out, int(round(t * sr))
