"""The engine's arena: one preallocated float64 array and a first-fit allocator over its free part.

Only the control side allocates and frees (under the engine's lock); the audio thread never does,
and what it may still read is never freed (the ownership rule, :mod:`livehost.engine.protocol`).
Freshly allocated regions are written (zeroed) here, off the audio thread, so their pages are
resident before the callback first touches them.

The heap is a reservation of address space (an anonymous ``MAP_NORESERVE`` mapping), not of memory:
pages cost nothing until an allocation zeroes them, and large freed regions are handed back to the
kernel (``MADV_DONTNEED``). So the heap can be reserved far larger than any patch needs (a long file
input, two patches side by side during a load) and grows in real memory only as far as it is used,
while its address, the one the callback holds, never changes.
"""

from __future__ import annotations

import mmap
import sys

import numpy as np

from livehost.engine import layout as L


class ArenaFull(MemoryError):
    """The arena has no free region large enough."""


MAP_NORESERVE = getattr(mmap, "MAP_NORESERVE", 0x4000 if sys.platform.startswith("linux") else 0)
PAGE_SLOTS = mmap.PAGESIZE // 8
RETURN_PAGES = 16  # free regions spanning at least this many whole pages go back to the kernel


def _reserve(slots: int, min_slots: int) -> tuple[mmap.mmap | None, np.ndarray]:
    """A zeroed float64 array of ``slots`` (or, where the kernel refuses that much address space,
    the largest power-of-two fraction of it that is at least ``min_slots``) backed by anonymous pages
    mapped on first touch. Returns the mapping (None where mmap is unavailable) and the array."""
    flags = getattr(mmap, "MAP_PRIVATE", 0) | getattr(mmap, "MAP_ANONYMOUS", 0) | MAP_NORESERVE
    n = int(slots)
    while True:
        try:
            m = mmap.mmap(-1, n * 8, flags=flags) if flags else mmap.mmap(-1, n * 8)
            return m, np.frombuffer(m, np.float64, n)
        except (OSError, ValueError, TypeError):
            if n // 2 < min_slots:
                return None, np.zeros(min_slots, np.float64)
            n //= 2


class Arena:
    """A float64 arena: fixed header/program/buffer/ring regions, then a heap for params and state.

    sr: sample rate (Hz); max_block: largest block (frames); heap_slots: float64 slots of heap.
    """

    def __init__(self, sr: float, max_block: int, heap_slots: int):
        self.sr = float(sr)
        self.max_block = int(max_block)
        fixed = [
            ("prog0", L.MAX_OPS * L.ROW_W),
            ("prog1", L.MAX_OPS * L.ROW_W),
            ("buf", L.NBUF * 2 * self.max_block),
            ("meter", L.MAX_SLOTS * L.METER_W),
            ("load", L.LOAD_CAP),
            ("tap", L.TAP_CH * L.TAP_CAP),
            ("rec", 4 * L.REC_CAP),
            ("midi", L.MIDI_W * L.MIDI_CAP),
            ("bev", L.MIDI_HEAD),
            ("dev", L.DEV_HEAD),
            ("srvmsg", L.SERVER_MSG_CAP),
            ("dring", L.MIDI_W * L.DRING_CAP),
            ("mtap", L.MIDI_W * L.MTAP_CAP),
        ]
        off = L.H_SIZE
        self.offsets: dict[str, int] = {}
        for name, size in fixed:
            self.offsets[name] = off
            off += size
        self.heap_start = off
        self._map, self.a = _reserve(off + int(heap_slots), off + min(int(heap_slots), 1 << 20))
        total = self.a.size
        a = self.a
        a[L.H_LEN] = total
        a[L.H_SR] = self.sr
        a[L.H_MAXBLOCK] = self.max_block
        a[L.H_PROG0] = self.offsets["prog0"]
        a[L.H_PROG1] = self.offsets["prog1"]
        a[L.H_BUF] = self.offsets["buf"]
        a[L.H_NBUF] = L.NBUF
        a[L.H_METER] = self.offsets["meter"]
        a[L.H_MAX_SLOTS] = L.MAX_SLOTS
        a[L.H_LOAD] = self.offsets["load"]
        a[L.H_LOAD_CAP] = L.LOAD_CAP
        a[L.H_TAP] = self.offsets["tap"]
        a[L.H_TAP_CAP] = L.TAP_CAP
        a[L.H_REC] = self.offsets["rec"]
        a[L.H_REC_CAP] = L.REC_CAP
        a[L.H_MIDI] = self.offsets["midi"]
        a[L.H_MIDI_CAP] = L.MIDI_CAP
        a[L.H_BEV] = self.offsets["bev"]
        a[L.H_DEV] = self.offsets["dev"]
        a[L.H_SERVER_MSG] = self.offsets["srvmsg"]
        a[L.H_DRING] = self.offsets["dring"]
        a[L.H_MTAP] = self.offsets["mtap"]
        a[L.H_LIM_MIN] = 1.0
        # touch every fixed page now, off the audio thread
        a[L.H_SIZE:self.heap_start] = 0.0
        self._free: list[tuple[int, int]] = [(self.heap_start, total - self.heap_start)]

    def alloc(self, size: int) -> int:
        """Reserve ``size`` slots (zeroed); return the offset. Raises :class:`ArenaFull`."""
        size = max(1, int(size))
        for i, (off, n) in enumerate(self._free):
            if n >= size:
                if n == size:
                    del self._free[i]
                else:
                    self._free[i] = (off + size, n - size)
                self.a[off:off + size] = 0.0
                return off
        raise ArenaFull(f"engine arena full: {size} slots wanted, largest free {self.largest_free()}")

    def free(self, off: int, size: int) -> None:
        """Return a region to the heap (coalescing neighbours); its whole pages go back to the kernel
        when it is large. Only for memory no published program reaches any more."""
        size = max(1, int(size))
        self._give_back(int(off), size)
        self._free.append((int(off), size))
        self._free.sort()
        merged: list[tuple[int, int]] = []
        for o, n in self._free:
            if merged and merged[-1][0] + merged[-1][1] == o:
                merged[-1] = (merged[-1][0], merged[-1][1] + n)
            else:
                merged.append((o, n))
        self._free = merged

    def _give_back(self, off: int, size: int) -> None:
        if self._map is None:
            return
        first = -(-off // PAGE_SLOTS) * PAGE_SLOTS
        last = (off + size) // PAGE_SLOTS * PAGE_SLOTS
        if last - first >= RETURN_PAGES * PAGE_SLOTS:
            self._map.madvise(mmap.MADV_DONTNEED, first * 8, (last - first) * 8)

    def mark(self) -> list[tuple[int, int]]:
        """The allocator's state, for :meth:`rollback` (a build that fails part-way)."""
        return list(self._free)

    def rollback(self, mark: list[tuple[int, int]]) -> None:
        """Undo every allocation made since :meth:`mark` (no region may have been freed since)."""
        self._free = list(mark)

    def largest_free(self) -> int:
        """The largest free region (slots)."""
        return max((n for _, n in self._free), default=0)

    def free_slots(self) -> int:
        """Total free heap slots."""
        return sum(n for _, n in self._free)
