"""Drains the engine's record ring to an audio file on a writer thread (never on the audio thread).

A ``.wav`` is a :class:`~livehost.engine.drivers.wavstream.WavStream`: valid even if the process is
killed mid-take (its header is rewritten about every second); other formats (``.flac``...) go through
soundfile and are complete only once :meth:`Recorder.stop` closes them.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import soundfile as sf

from livehost.dsp.atomics import acquire, release
from livehost.engine import layout as L
from livehost.engine.drivers.wavstream import WavStream
from livehost.engine.engine import Engine
from livehost.errors import LivehostError


class Recorder:
    """Record the engine's output (float32-exact, as sent to the device) to ``path`` while it runs.

    channels: the output's channel count (1: the mono mix; 2: L, R; more: L, R then silent channels, as
    the device gets them).  dry: also record the dry input (the summed sources the graph gets, before
    any node) as two more channels after the output's.  header_every_s: how often (s) a WAV's header is
    brought up to date.  ``frames``: frames written; ``drops``: frames lost because this writer fell
    behind the audio (the ring holds ``REC_CAP`` frames, about 21 s at 48 kHz); ``error``: why the take
    stopped early (a full disk...), else None.
    """

    def __init__(self, engine: Engine, path: str, channels: int = 2, poll_s: float = 0.02, dry: bool = False,
                 header_every_s: float = 1.0):
        self.engine = engine
        self.path = str(path)
        self.out_channels = max(1, int(channels))
        self.dry = bool(dry)
        self.channels = self.out_channels + (2 if self.dry else 0)
        self.poll_s = poll_s
        self.header_every_s = header_every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._file = None
        self.frames = 0
        self.error: str | None = None
        self._drops0 = 0
        self.started_at: float | None = None  # monotonic s

    def start(self) -> None:
        """Open the file and start recording at the next block (LivehostError if it cannot be written)."""
        a = self.engine.a
        release(a, L.H_REC_R, acquire(a, L.H_REC_W))
        sr = int(self.engine.sr)
        if self.path.lower().endswith(".wav"):
            self._file = WavStream(self.path, sr, self.channels, self.header_every_s)
        else:
            try:
                self._file = sf.SoundFile(self.path, "w", sr, self.channels)
            except (sf.LibsndfileError, RuntimeError, OSError, TypeError, ValueError) as e:
                raise LivehostError(f"{self.path}: cannot record: {e}") from None
        self._drops0 = int(a[L.H_REC_DROPS])
        self.started_at = time.monotonic()
        a[L.H_REC_ON] = 2.0 if self.dry else 1.0
        self._thread = threading.Thread(target=self._run, name="livehost-recorder", daemon=True)
        self._thread.start()

    @property
    def drops(self) -> int:
        """Frames lost in this take because the writer fell behind (0 when all is well)."""
        return int(self.engine.a[L.H_REC_DROPS]) - self._drops0

    @property
    def seconds(self) -> float:
        """Length of the audio written so far (s)."""
        return self.frames / self.engine.sr

    @property
    def running(self) -> bool:
        """Whether the take is going on (started, not stopped, no error)."""
        return self._thread is not None and not self._stop.is_set() and self.error is None

    def _drain(self) -> None:
        a = self.engine.a
        w = int(acquire(a, L.H_REC_W))  # the callback wrote the frames before the count
        r = int(a[L.H_REC_R])
        if w <= r:
            return
        cap = int(a[L.H_REC_CAP])
        base = int(a[L.H_REC])
        idx = np.arange(r, w) % cap
        cols = [a[base + idx], a[base + cap + idx]]
        if self.out_channels == 1:
            cols = [0.5 * (cols[0] + cols[1])]
        else:
            cols += [np.zeros(w - r)] * (self.out_channels - 2)
        if self.dry:
            cols += [a[base + 2 * cap + idx], a[base + 3 * cap + idx]]
        block = np.stack(cols, axis=1).astype(np.float32)
        release(a, L.H_REC_R, w)  # copied: the callback may overwrite them
        self._file.write(block)
        self.frames += w - r

    def _run(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                self._drain()
            except (LivehostError, OSError) as e:  # a full disk, a WAV at 4 GiB: stop the take, say why
                self.engine.a[L.H_REC_ON] = 0.0
                self.error = str(e)
                return

    def stop(self) -> None:
        """Stop recording, write what is left and close the file (idempotent)."""
        self.engine.a[L.H_REC_ON] = 0.0
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._file is None:
            return
        try:
            if self.error is None:
                self._drain()
        except (LivehostError, OSError) as e:
            self.error = str(e)
        finally:
            self._file.close()
            self._file = None
