"""The session tempo: a bpm value, where it came from, and tap tempo.

Tap tempo averages the intervals between the last :data:`TAP_HISTORY` taps; a tap more than
:data:`TAP_RESET_S` seconds after the previous one starts a new count (it sets nothing by itself).
Pure Python, thread-safe (the OSC thread, the MIDI thread and the UI may all tap); the audio thread
never reads it.
"""

from __future__ import annotations

import threading
import time

BPM_MIN, BPM_MAX = 20.0, 400.0
"""The tempo range (beats per minute), the same as the delay node's ``bpm`` parameter."""
DEFAULT_BPM = 120.0
TAP_RESET_S = 2.0
"""Seconds without a tap after which the next tap starts a new count."""
TAP_HISTORY = 8
"""Taps averaged (their 7 intervals): enough to steady a human tap, few enough to follow a change."""


def clamp_bpm(bpm: float) -> float:
    """``bpm`` (beats per minute) clamped to :data:`BPM_MIN` .. :data:`BPM_MAX`."""
    return min(BPM_MAX, max(BPM_MIN, float(bpm)))


class Tempo:
    """The session tempo in bpm and its source (``"default"``, ``"patch"``, ``"tap"``, ``"osc"``, ...).

    ``changes`` counts every change, so a reader can tell that the tempo moved without comparing
    floats.
    """

    def __init__(self, bpm: float = DEFAULT_BPM, source: str = "default"):
        self._lock = threading.Lock()
        self.bpm = clamp_bpm(bpm)
        self.source = source
        self.changes = 0
        self._taps: list[float] = []

    def set(self, bpm: float, source: str) -> float:
        """Set the tempo (bpm, clamped to the range) from ``source``; returns the tempo set."""
        with self._lock:
            self.bpm = clamp_bpm(bpm)
            self.source = source
            self.changes += 1
            return self.bpm

    def tap(self, now: float | None = None) -> float | None:
        """One tap at ``now`` (seconds, :func:`time.monotonic` when None). Returns the new tempo in
        bpm (60 / the mean interval of the last taps, clamped), or None for the first tap of a count."""
        t = time.monotonic() if now is None else float(now)
        with self._lock:
            if self._taps and not 0.0 < t - self._taps[-1] <= TAP_RESET_S:
                self._taps = []
            self._taps.append(t)
            del self._taps[:-TAP_HISTORY]
            if len(self._taps) < 2:
                return None
            mean = (self._taps[-1] - self._taps[0]) / (len(self._taps) - 1)
            self.bpm = clamp_bpm(60.0 / mean)
            self.source = "tap"
            self.changes += 1
            return self.bpm

    def describe(self) -> str:
        """``"120 bpm"``, ``"96.5 bpm patch"``, ``"119.8 bpm tap"``: the tempo (4 significant digits)
        and, unless it is the default, where it came from; short, for a status line."""
        src = "" if self.source == "default" else f" {self.source}"
        return f"{self.bpm:.4g} bpm{src}"
