"""A float32 WAV file that stays valid while it is written: its header sizes are rewritten about every second.

A recording killed mid-take (``kill -9``, a crash, the power cable on stage) still opens as a WAV holding
everything up to the last header update; the samples after it are in the file too, past the declared data
size.  The audio is written straight to the file descriptor (no user-space buffer to lose), the header
fields patched in place with ``pwrite``.  Only the recorder's writer thread calls this, never the audio
callback.

Layout (58 bytes of header): ``RIFF`` size ``WAVE``, ``fmt `` (18 bytes: IEEE float, channels, rate,
32 bits, cbSize 0), ``fact`` (frames), ``data`` size.  A WAV's sizes are 32-bit: a take stops at 4 GiB
(3 h 6 min of stereo at 48 kHz), with :class:`WavFull`.
"""

from __future__ import annotations

import os
import struct
import time

import numpy as np

from livehost.errors import LivehostError

HEADER_BYTES = 58
_RIFF_SIZE_AT, _FACT_FRAMES_AT, _DATA_SIZE_AT = 4, 46, 54
MAX_DATA_BYTES = 0xFFFFFFFF - HEADER_BYTES + 8  # the RIFF size (file - 8 bytes) must fit in 32 bits


class WavFull(LivehostError):
    """The take reached the 4 GiB a WAV file can declare."""


def wav_header(channels: int, samplerate: int, frames: int) -> bytes:
    """The 58-byte header of a 32-bit float WAV of ``frames`` frames of ``channels`` at ``samplerate`` Hz."""
    block = 4 * channels
    data = frames * block
    return (b"RIFF" + struct.pack("<I", HEADER_BYTES - 8 + data) + b"WAVE"
            + b"fmt " + struct.pack("<IHHIIHHH", 18, 3, channels, samplerate, samplerate * block, block, 32, 0)
            + b"fact" + struct.pack("<II", 4, frames)
            + b"data" + struct.pack("<I", data))


class WavStream:
    """Write float32 frames to a WAV at ``path`` (created or truncated); the header's sizes are brought up
    to date at least every ``header_every_s`` seconds (wall clock) of writing, and by :meth:`close`.

    ``frames``: frames written; ``declared``: frames the header declares now (what a reader sees if the
    process dies now).
    """

    def __init__(self, path: str | os.PathLike, samplerate: int, channels: int, header_every_s: float = 1.0):
        self.path = str(path)
        self.samplerate = int(samplerate)
        self.channels = int(channels)
        self.header_every_s = float(header_every_s)
        self.frames = 0
        self.declared = 0
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        except OSError as e:
            raise LivehostError(f"{self.path}: cannot write: {e.strerror}") from None
        self._write_all(wav_header(self.channels, self.samplerate, 0))
        self._last = time.monotonic()

    def _write_all(self, data) -> None:
        view = memoryview(data).cast("B")
        while view:
            n = os.write(self._fd, view)
            view = view[n:]

    def write(self, block: np.ndarray) -> None:
        """Append ``block``: ``(frames, channels)`` samples (float32, -1..1 full scale); rewrites the
        header sizes when ``header_every_s`` has passed since the last time."""
        block = np.ascontiguousarray(block, dtype="<f4")
        if block.ndim != 2 or block.shape[1] != self.channels:
            raise ValueError(f"{self.path}: expected (frames, {self.channels}) samples, got {block.shape}")
        if (self.frames + block.shape[0]) * 4 * self.channels > MAX_DATA_BYTES:
            self.update_header()
            raise WavFull(f"{self.path}: a WAV file holds at most 4 GiB; the take stopped at "
                          f"{self.frames / self.samplerate:.0f} s")
        self._write_all(block)
        self.frames += block.shape[0]
        if time.monotonic() - self._last >= self.header_every_s:
            self.update_header()

    def update_header(self) -> None:
        """Declare every frame written so far in the header (RIFF size, fact frames, data size)."""
        data = self.frames * 4 * self.channels
        os.pwrite(self._fd, struct.pack("<I", HEADER_BYTES - 8 + data), _RIFF_SIZE_AT)
        os.pwrite(self._fd, struct.pack("<I", self.frames), _FACT_FRAMES_AT)
        os.pwrite(self._fd, struct.pack("<I", data), _DATA_SIZE_AT)
        self.declared = self.frames
        self._last = time.monotonic()

    def close(self) -> None:
        """Bring the header up to date and close the file (idempotent)."""
        if self._fd < 0:
            return
        try:
            self.update_header()
        finally:
            os.close(self._fd)
            self._fd = -1
