"""Placing timestamped MIDI (python-rtmidi on ALSA) at engine frames with a fixed one-block delay.

rtmidi stamps each message with the time since the previous one (seconds, from the ALSA sequencer's
clock, taken when the message arrived, not when Python saw it). :class:`StampPlacer` turns those
into engine frames: the first message of a stretch sounds one block after the engine's frame counter
when it arrived, and every later one at the same distance from it as their stamps say. Messages keep
their spacing exactly (no "as soon as possible" jitter of up to a block), at the cost of a fixed
block of delay. If the two clocks drift apart (the placement would fall before the engine's counter,
i.e. too late to play, or more than two blocks ahead of it) the stretch restarts from the next
message, so the delay stays between one and two blocks. Frames never go backwards.
"""

from __future__ import annotations


class StampPlacer:
    """Engine frames for timestamped messages.

    sr: sample rate (Hz); block: the engine's block (frames), the fixed delay."""

    def __init__(self, sr: float, block: int):
        self.sr = float(sr)
        self.block = int(block)
        self._t = 0.0  # the current message's time on rtmidi's clock, s (sum of the deltas)
        self._anchor_t: float | None = None
        self._anchor_f = 0
        self._last = -1
        self.restarts = 0  # stretches restarted (the first message, a pause, clock drift)

    def place(self, delta_s: float, now_frame: int) -> int:
        """The engine frame at which a message sounds: ``delta_s`` = its rtmidi timestamp (seconds since
        the previous message), ``now_frame`` = the engine's frame counter when it was received."""
        self._t += max(0.0, float(delta_s))
        f = None
        if self._anchor_t is not None:
            f = self._anchor_f + int(round((self._t - self._anchor_t) * self.sr))
            if f < now_frame or f > now_frame + 2 * self.block:
                f = None
        if f is None:
            self._anchor_t = self._t
            self._anchor_f = now_frame + self.block
            f = self._anchor_f
            self.restarts += 1
        f = max(f, self._last)
        self._last = f
        return f
