"""Drains the engine's record ring to an audio file on a writer thread (never on the audio thread)."""

from __future__ import annotations

import threading

import numpy as np
import soundfile as sf

from livehost.dsp.atomics import acquire, release
from livehost.engine import layout as L
from livehost.engine.engine import Engine


class Recorder:
    """Record the engine's output (float32-exact, as sent to the device) to ``path`` while it runs."""

    def __init__(self, engine: Engine, path: str, channels: int = 2, poll_s: float = 0.02):
        self.engine = engine
        self.path = str(path)
        self.channels = channels
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.frames = 0

    def start(self) -> None:
        """Open the file and start recording at the next block."""
        a = self.engine.a
        release(a, L.H_REC_R, acquire(a, L.H_REC_W))
        self._file = sf.SoundFile(self.path, "w", int(self.engine.sr), self.channels, subtype="FLOAT")
        a[L.H_REC_ON] = 1.0
        self._thread = threading.Thread(target=self._run, name="livehost-recorder", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        a = self.engine.a
        w = int(acquire(a, L.H_REC_W))  # the callback wrote the frames before the count
        r = int(a[L.H_REC_R])
        if w <= r:
            return
        cap = int(a[L.H_REC_CAP])
        base = int(a[L.H_REC])
        idx = np.arange(r, w) % cap
        block = np.stack([a[base + idx], a[base + cap + idx]], axis=1).astype(np.float32)
        if self.channels == 1:
            block = (0.5 * (block[:, 0] + block[:, 1]))[:, None]
        self._file.write(block)
        self.frames += w - r
        release(a, L.H_REC_R, w)  # copied: the callback may overwrite them

    def _run(self) -> None:
        while not self._stop.wait(self.poll_s):
            self._drain()

    def stop(self) -> None:
        """Stop recording, write what is left and close the file."""
        self.engine.a[L.H_REC_ON] = 0.0
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._drain()
        self._file.close()
