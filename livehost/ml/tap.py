"""Reading the engine's analysis tap (a lock-free ring in the float64 arena) from a control thread.

The audio thread writes, every block of ``n`` frames, frame ``f``'s value of channel ``c`` to
``a[H_TAP + c*cap + f % cap]`` and then advances ``a[H_TAP_W]`` (frames written in total).  Channels:
0 = the input (mono mid of the summed sources / device input), 1 = output left, 2 = output right.
A reader only reads: it copies the frames between its position and ``H_TAP_W``.  If it falls more than
``cap`` frames behind, the oldest frames have been overwritten: they are skipped and counted in
:attr:`TapReader.lost`.
"""

from __future__ import annotations

import numpy as np

from livehost.dsp.atomics import acquire, release
from livehost.engine import layout as L

#: Channel names accepted by :class:`TapReader` besides 0, 1, 2.
CHANNELS = {"input": 0, "left": 1, "right": 2, "output": "output"}


class TapReader:
    """Copies new analysis-tap samples out of a running (or offline-rendered) engine.

    Parameters
    ----------
    engine : livehost.engine.engine.Engine
        The engine whose arena holds the tap (only ``engine.a`` and ``engine.max_block`` are used).
    channel : int or str
        0 / ``"input"`` (input mono mid), 1 / ``"left"``, 2 / ``"right"`` (output), or ``"output"``
        (the mean of output left and right).

    Reading starts at the frame the tap had reached when the reader was made.  Attributes: ``pos``
    (absolute frame of the next sample to read), ``lost`` (frames skipped because the ring overflowed
    or was being overwritten while copied), ``sr`` (the engine's sample rate, Hz).
    """

    def __init__(self, engine, channel: int | str = 0):
        ch = CHANNELS.get(channel, channel) if isinstance(channel, str) else int(channel)
        if ch not in (0, 1, 2, "output"):
            raise ValueError(f"tap channel must be 0, 1, 2 or one of {', '.join(CHANNELS)}, got {channel!r}")
        self.channel = ch
        self.a = engine.a
        self.sr = float(engine.sr)
        # frames the writer may touch beyond H_TAP_W while we copy (one block in progress)
        self.guard = int(getattr(engine, "max_block", 4096))
        self.pos = int(acquire(self.a, L.H_TAP_W))
        self.lost = 0

    @property
    def available(self) -> int:
        """Frames written since the last read (may exceed the ring's capacity)."""
        return max(0, int(acquire(self.a, L.H_TAP_W)) - self.pos)

    def _copy(self, c: int, start: int, stop: int, base: int, cap: int) -> np.ndarray:
        ring = self.a[base + c * cap: base + (c + 1) * cap]
        i, j = start % cap, stop % cap
        if stop - start == 0:
            return np.zeros(0)
        if i < j:
            return ring[i:j].copy()
        return np.concatenate([ring[i:], ring[:j]])

    def read(self) -> np.ndarray:
        """New samples since the last read (float64, linear amplitude), oldest first.

        Frames overwritten before (or while) they were copied are dropped and added to :attr:`lost`;
        the returned samples are then the newest contiguous run.
        """
        a = self.a
        base = int(a[L.H_TAP])
        cap = int(a[L.H_TAP_CAP])
        w = int(acquire(a, L.H_TAP_W))  # the frames before it are written
        if w < self.pos:  # the engine was reset: start over from its current position
            self.pos = w
        safe = cap - self.guard  # frames that cannot be overwritten by the block in progress
        if w - self.pos > safe:
            self.lost += (w - safe) - self.pos
            self.pos = w - safe
        start = self.pos
        if self.channel == "output":
            x = 0.5 * (self._copy(1, start, w, base, cap) + self._copy(2, start, w, base, cap))
        else:
            x = self._copy(self.channel, start, w, base, cap)
        # the writer may have moved on while we copied: anything it could have overwritten is lost
        w2 = int(acquire(a, L.H_TAP_W))
        first_ok = w2 + self.guard - cap
        if first_ok > start:
            drop = min(first_ok - start, len(x))
            self.lost += drop
            x = x[drop:]
        self.pos = w
        return x
