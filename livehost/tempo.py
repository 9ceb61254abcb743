"""The session tempo: a bpm value, where it came from, and tap tempo.

Tap tempo averages the intervals between the last :data:`TAP_HISTORY` taps; a tap more than
:data:`TAP_RESET_S` seconds after the previous one starts a new count (it sets nothing by itself).
Pure Python, thread-safe (the OSC thread, the MIDI thread and the UI may all tap); the audio thread
never reads it. :class:`ClockFollower` follows incoming MIDI clock (24 ppqn) into a tempo.
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


CLOCK, START, CONTINUE, STOP = 0xF8, 0xFA, 0xFB, 0xFC
"""MIDI real-time status bytes: timing clock (24 per quarter note), start, continue, stop."""
PPQN = 24
"""MIDI clocks per quarter note (one beat)."""
CLOCK_WINDOW = PPQN
"""Clock intervals a tempo is measured over: one beat (the interval is the least-squares slope of
the last 25 clock times, so a timing error of e seconds on one clock moves the tempo by at most
e / (one beat) x 0.22: 0.045 % for 1 ms at 120 bpm; a steady new tempo is exact after a beat)."""
CLOCK_MIN_INTERVALS = 6
"""Intervals needed before the first tempo is set (a quarter of a beat)."""
CLOCK_GAP_S = 0.5
"""Seconds without a clock after which the next one starts a new count (ticks at 20 bpm are 0.125 s apart)."""
CLOCK_DEADBAND = 0.002
"""Relative change below which the followed tempo is left alone (0.2 %): a jittery clock does not
re-set synced parameters every tick."""


def _interval(times: list[float]) -> float:
    """The least-squares clock interval (s) of equally spaced ``times`` (seconds, >= 2 of them): the
    slope of time against clock count."""
    n = len(times)
    mid = (n - 1) / 2.0
    mean = sum(times) / n
    num = sum((i - mid) * (t - mean) for i, t in enumerate(times))
    den = sum((i - mid) ** 2 for i in range(n))
    return num / den


class ClockFollower:
    """Follows incoming MIDI clock into a :class:`Tempo` (source ``"clock"``).

    :meth:`feed` takes each clock/start/continue/stop with the time it arrived (seconds on any one
    clock: engine frames / sample rate for sample-accurate stamps, else :func:`time.monotonic`). The
    tempo is 60 / (24 x the clock interval over the last :data:`CLOCK_WINDOW` intervals, a
    least-squares fit), set only when it moved by more than :data:`CLOCK_DEADBAND`. Start and continue begin a new count (the pause before
    them is no interval); stop ends it. ``running``: between a start/continue and a stop.
    Called from one MIDI thread at a time.
    """

    def __init__(self, tempo: Tempo, window: int = CLOCK_WINDOW):
        self.tempo = tempo
        self.window = int(window)
        self.running = False
        self.ticks = 0  # clocks received
        self._times: list[float] = []
        self._base = None

    def feed(self, status: int, t: float, base: str = "") -> float | None:
        """One message ``status`` at ``t`` seconds on time base ``base`` (a change of base starts a new
        count: stamps from two clocks do not mix). Returns the tempo (bpm) when it set one, else None."""
        if base != self._base:
            self._times = []
            self._base = base
        if status in (START, CONTINUE, STOP):
            self.running = status != STOP
            self._times = []
            return None
        if status != CLOCK:
            return None
        self.ticks += 1
        t = float(t)
        if self._times and not 0.0 < t - self._times[-1] <= CLOCK_GAP_S:
            self._times = []
        self._times.append(t)
        del self._times[:-(self.window + 1)]
        n = len(self._times) - 1
        if n < CLOCK_MIN_INTERVALS:
            return None
        bpm = clamp_bpm(60.0 / (PPQN * _interval(self._times)))
        if self.tempo.source == "clock" and abs(bpm - self.tempo.bpm) <= CLOCK_DEADBAND * self.tempo.bpm:
            return None
        return self.tempo.set(round(bpm, 2), "clock")
