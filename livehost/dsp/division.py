"""Note divisions: ``"1/4"``, ``"1/8."`` (dotted), ``"1/4t"`` (triplet) as lengths in beats, and a
synced parameter's value at a tempo.

A division is ``N/D`` with N 1..32 and D a power of two 1..128, optionally followed by ``.`` or ``d``
(dotted: x 3/2) or ``t`` (triplet: x 2/3). One beat is a quarter note, so ``"1/4"`` is 1 beat,
``"1/8."`` 0.75, ``"1/4t"`` 2/3 and ``"1/1"`` 4. Pure Python; never on the audio thread.
"""

from __future__ import annotations

import re

SYNC_KINDS = ("time", "rate")
"""What a synced parameter is: ``"time"`` (a duration in ms: one division long) or ``"rate"`` (a
frequency in Hz: one cycle per division)."""
_DIVISION = re.compile(r"^\s*(\d{1,2})\s*/\s*(\d{1,3})\s*([.dt]?)\s*$")
_DENOMINATORS = (1, 2, 4, 8, 16, 32, 64, 128)


def division_beats(text) -> float | None:
    """The length of note division ``text`` in quarter-note beats, or None if it is not a division."""
    if not isinstance(text, str):
        return None
    m = _DIVISION.match(text)
    if not m:
        return None
    num, den, mod = int(m.group(1)), int(m.group(2)), m.group(3)
    if not 1 <= num <= 32 or den not in _DENOMINATORS:
        return None
    beats = 4.0 * num / den
    if mod in (".", "d"):
        beats *= 1.5
    elif mod == "t":
        beats *= 2.0 / 3.0
    return beats


def division_error(text) -> str | None:
    """None if ``text`` is a note division, else a short reason (for a one-line error)."""
    if division_beats(text) is not None:
        return None
    return (f"= {text!r} is not a note division (like \"1/4\", \"1/8.\" dotted, \"1/4t\" triplet; "
            f"denominator 1..128, a power of two)")


def synced_value(kind: str, text: str, bpm: float, lo: float, hi: float) -> float:
    """The value of a ``kind`` (:data:`SYNC_KINDS`) parameter set to division ``text`` at ``bpm``
    beats per minute, clamped to ``lo .. hi``: for ``"time"`` the division's length in ms
    (60000 / bpm x beats), for ``"rate"`` one cycle per division in Hz (bpm / 60 / beats).
    ValueError if ``text`` is not a division or ``kind`` is unknown."""
    beats = division_beats(text)
    if beats is None:
        raise ValueError(f"{text!r} is not a note division")
    if kind == "time":
        v = 60000.0 / float(bpm) * beats
    elif kind == "rate":
        v = float(bpm) / 60.0 / beats
    else:
        raise ValueError(f"unknown sync kind {kind!r}")
    return min(hi, max(lo, v))
