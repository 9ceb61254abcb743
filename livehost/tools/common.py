"""Shared pieces of the offline tools: audio in/out, a plain-text progress bar, JSON/figure printing.

Audio is read and written with :mod:`livehost.audiofile` (WAV, FLAC, OGG through soundfile); every
failure is a one-line :class:`~livehost.errors.LivehostError` naming the file.
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
import time
from typing import TextIO

import numpy as np

from livehost import audiofile
from livehost.errors import LivehostError

MIN_DB = -200.0
"""Level reported for digital silence (dBFS), so JSON never holds -inf."""


def db(x: float) -> float:
    """Linear amplitude (or ratio) -> decibels (20 log10), floored at :data:`MIN_DB` dB."""
    x = float(x)
    return MIN_DB if not x > 0 else max(MIN_DB, 20.0 * math.log10(x))


def read_audio(path: str, sr: float | None = None, stereo: bool = True) -> tuple[np.ndarray, int]:
    """Read ``path`` as float64 ``(frames, 2)`` (or its own channels if not ``stereo``) and its rate in Hz.

    sr: resample to this rate (Hz) if given. Raises LivehostError naming the file.
    """
    if not os.path.exists(path):
        raise LivehostError(f"{path}: cannot read audio: no such file")
    if os.path.isdir(path):
        raise LivehostError(f"{path}: cannot read audio: it is a folder")
    return audiofile.read(path, sr=sr, stereo=stereo)


def write_audio(path: str, x: np.ndarray, sr: float, subtype: str | None = None) -> None:
    """Write ``x`` (frames, channels; linear, full scale +-1) at ``sr`` Hz; the extension picks the format.

    NaN/Inf become 0. WAV is 32-bit float unless ``subtype`` says otherwise. Raises LivehostError.
    """
    x = np.nan_to_num(np.asarray(x, np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    if x.ndim == 1:
        x = x[:, None]
    audiofile.write(path, x, sr, subtype=subtype)


def check_output(path: str) -> None:
    """Fail early (LivehostError naming ``path``) when ``path`` is not a .wav/.flac/.ogg name."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in audiofile.FORMATS:
        raise LivehostError(f"{path}: unknown audio format '{ext}' (use .wav, .flac or .ogg)")


def print_json(obj, out: TextIO | None = None) -> None:
    """Print ``obj`` as indented JSON (NaN/inf replaced by null)."""
    print(json.dumps(_clean(obj), indent=2), file=out or sys.stdout)


def _clean(o):
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, dict):
        return {k: _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    if isinstance(o, np.generic):
        return _clean(o.item())
    return o


class Progress:
    """A plain-text progress bar on stderr, shown only when stderr is a terminal or the work lasts > 1 s.

    label: what is being done; total: units of work (frames, rows...; None = unknown, a ticker).
    On a terminal the bar redraws in place (``\\r``); otherwise a line is printed at each quarter
    (and a final one), only once the work has run for more than ``delay_s`` seconds.
    Use as a context manager and call :meth:`update` with the units done so far.
    """

    def __init__(self, label: str, total: float | None = None, stream: TextIO | None = None,
                 delay_s: float = 1.0):
        self.label = label
        self.total = None if not total else float(total)
        self.stream = stream or sys.stderr
        self.delay_s = float(delay_s)
        self.t0 = time.monotonic()
        self.done = 0.0
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.shown = False
        self._last_quarter = -1
        self._last_draw = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker = None

    def __enter__(self) -> "Progress":
        self._ticker = threading.Thread(target=self._tick, daemon=True, name="livehost-progress")
        self._ticker.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=1.0)
        if exc[0] is None:
            self.finish()
        elif self.shown and self.tty:
            self.stream.write("\n")

    def _tick(self) -> None:
        while not self._stop.wait(0.25):
            with self._lock:
                self._draw(force=False)

    def update(self, done: float) -> None:
        """Record that ``done`` units (of ``total``) are finished."""
        with self._lock:
            self.done = float(done)
            self._draw(force=False)

    def _text(self, final: bool = False) -> str:
        el = time.monotonic() - self.t0
        if self.total:
            frac = 1.0 if final else min(1.0, self.done / self.total)
            bar = "#" * int(round(frac * 24))
            return f"{self.label}: [{bar:<24}] {100 * frac:3.0f}%  {el:5.1f} s"
        return f"{self.label}: {'done' if final else 'working'}  {el:5.1f} s"

    def _draw(self, force: bool) -> None:
        el = time.monotonic() - self.t0
        if not (self.tty or el > self.delay_s or force):
            return
        if self.tty:
            if force or time.monotonic() - self._last_draw > 0.1:
                self.stream.write("\r" + self._text(final=force))
                self.stream.flush()
                self._last_draw = time.monotonic()
                self.shown = True
            return
        q = int(4 * self.done / self.total) if self.total else int(el)  # quarters, or whole seconds
        if q != self._last_quarter or force:
            self._last_quarter = q
            self.stream.write(self._text(final=force) + "\n")
            self.stream.flush()
            self.shown = True

    def finish(self) -> None:
        """Draw the completed bar (only if the bar was shown at all) and end its line."""
        with self._lock:
            if self.shown and not (not self.tty and self.total and self._last_quarter >= 4):
                self._draw(force=True)
                if self.tty:
                    self.stream.write("\n")
                    self.stream.flush()
