"""The null driver: a clock thread that runs the compiled block function in real time, no sound card.

It keeps the same pace a device would (one block every blocksize/samplerate seconds), so the whole
app, UI and MIDI included, behaves as it would live; the output goes to a recorder if one is asked for.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from livehost.engine.devmidi import dring_take
from livehost.engine.engine import Engine


class NullDriver:
    """Drive ``engine`` from a clock thread at real-time pace (no device input: silence in)."""

    name = "null"

    def __init__(self, engine: Engine):
        self.engine = engine
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.late_blocks = 0  # blocks the clock thread started after their deadline

    def start(self) -> None:
        """Start the clock thread."""
        self.engine.driver_name = "null"
        self.engine.device_name = "null (no sound card)"
        self.engine.running = True
        self._thread = threading.Thread(target=self._run, name="livehost-null-clock", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        eng = self.engine
        n = eng.max_block
        period = n / eng.sr
        out = np.zeros((n, eng.out_ch), np.float32)
        t_next = time.monotonic()
        while not self._stop.is_set():
            dring_take(eng.a, n)  # livehost's JACK MIDI client, if one runs
            eng.process(None, out, off=0, n=n)
            t_next += period
            delay = t_next - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -period:
                self.late_blocks += 1
                t_next = time.monotonic()

    def stop(self) -> None:
        """Stop the clock thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.engine.running = False
