"""The control side of the device MIDI tap: messages real-time readers already gave the audio thread.

The JACK driver's callback and livehost's JACK MIDI client (:mod:`livehost.engine.devmidi`) play
notes, bends and controllers themselves, at their frame; they also copy every message into the tap.
:class:`MidiTapReader` drains it on an ordinary Python thread and hands each message to a handler (a
:class:`~livehost.midi.input.MidiRouter` with ``delivered=True``) for what does not belong on a
real-time thread: the monitor, CC maps, MIDI learn, program changes, MTS sysex.
"""

from __future__ import annotations

import threading
from typing import Callable

import numpy as np

from livehost.dsp.atomics import acquire, release
from livehost.engine import layout as L

LONG = -2.0  # third slot of a long message's header entry (see livehost.engine.layout.MTAP_CAP)


def read_tap(a: np.ndarray) -> list[tuple[int, list[int]]]:
    """Drain the tap of arena ``a``: ``(engine frame, message bytes)`` pairs, oldest first.

    Single consumer: call it from one thread at a time."""
    tap = int(a[L.H_MTAP])
    r = int(a[L.H_MTAP_R])
    w = int(acquire(a, L.H_MTAP_W))
    cap = L.MTAP_CAP
    ring = a[tap:tap + cap * L.MIDI_W].reshape(cap, L.MIDI_W)
    s, e = r % cap, r % cap + (w - r)
    rows = (ring[s:e] if e <= cap else np.concatenate((ring[s:], ring[:e - cap]))).tolist()  # one copy
    out: list[tuple[int, list[int]]] = []
    i = 0
    while i < len(rows):
        frame, b0, b1, b2 = rows[i]
        i += 1
        if frame < 0:
            continue  # a continuation entry without its header (cannot happen; skipped)
        if b2 == LONG:
            size = int(b1)
            data: list[int] = []
            while len(data) < size and i < len(rows):
                data.extend(int(v) for v in rows[i][1:] if v >= 0)
                i += 1
            out.append((int(frame), data[:size]))
        elif b1 < 0:
            out.append((int(frame), [int(b0)]))
        elif b2 < 0:
            out.append((int(frame), [int(b0), int(b1)]))
        else:
            out.append((int(frame), [int(b0), int(b1), int(b2)]))
    r = w
    release(a, L.H_MTAP_R, r)  # the entries read are free for the writer again
    return out


class MidiTapReader:
    """A thread handing the tap's messages to ``handle(message bytes, engine frame)`` every ``poll_s`` s.

    engine: the engine whose arena holds the tap. Messages already in the tap when it starts are
    skipped (they belonged to an earlier reader)."""

    def __init__(self, engine, handle: Callable[[list[int], int], None], poll_s: float = 0.004):
        self.engine = engine
        self.handle = handle
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "MidiTapReader":
        """Start reading; returns self."""
        read_tap(self.engine.a)
        self._thread = threading.Thread(target=self._run, name="livehost-midi-tap", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.poll_s):
            self.poll()

    def poll(self) -> int:
        """Hand over what the tap holds now; returns how many messages."""
        msgs = read_tap(self.engine.a)
        for frame, msg in msgs:
            self.handle(msg, frame)
        return len(msgs)

    def stop(self) -> None:
        """Stop the thread (what is left in the tap is handed over first)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
            self.poll()

    @property
    def dropped(self) -> int:
        """Messages the full tap refused (the reader fell behind)."""
        return int(self.engine.a[L.H_MTAP_DROPPED])
