"""What a live driver keeps while its audio server is away and when it comes back.

Both live drivers (JACK, PortAudio) say the same things the same way: ``audio server stopped: ...``,
``audio server back: ...``; they count losses and returns (and how long each return took), and let
the null driver run the engine meanwhile, so the session goes on (meters, MIDI, UI) in silence.
"""

from __future__ import annotations

import collections
import time
from typing import Callable

from livehost.engine import layout as L
from livehost.engine.drivers.null import NullDriver
from livehost.errors import AudioError


class ServerWatch:
    """Mixin of the live drivers: messages, loss/return counts, the null driver standing in.

    Call :meth:`_init_watch` from the driver's constructor."""

    def _init_watch(self, engine, on_message: Callable[[str], None] | None) -> None:
        self.engine = engine
        self.on_message = on_message
        self._msgs: collections.deque[str] = collections.deque(maxlen=100)
        self._null: NullDriver | None = None
        self.lost = 0  # times the server went away
        self.reconnects = 0  # times the driver came back
        self.lost_at: float | None = None  # time.monotonic() when the loss was noticed
        self.back_s: list[float] = []  # seconds from noticing a loss to running again

    def _say(self, text: str) -> None:
        self._msgs.append(text)
        if self.on_message is not None:
            self.on_message(text)

    def messages(self) -> list[str]:
        """Messages since the last call (the server stopped, came back, ...), oldest first."""
        out = []
        while self._msgs:
            out.append(self._msgs.popleft())
        return out

    def _noted_loss(self, reason: str, reconnect: bool) -> None:
        """Count a loss noticed now, release every voice (the notes' MIDI source may have gone with the
        server: none may hang) and say so."""
        self.lost_at = time.monotonic()
        self.lost += 1
        self.engine.panic()
        self._say(f"audio server stopped: {reason}" +
                  ("; running on the null driver, reconnecting when it is back" if reconnect else ""))

    def _wait_callbacks_stopped(self, timeout: float = 1.0) -> None:
        """Wait (at most ``timeout`` s) until the engine's callback count stops moving: a dead server's
        last cycle has finished, nothing of the old stream runs beside what comes next."""
        a = self.engine.a
        seen = a[L.H_CALLBACKS]
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            time.sleep(0.02)
            if a[L.H_CALLBACKS] == seen:
                break
            seen = a[L.H_CALLBACKS]

    def _stand_in(self) -> None:
        """Run the engine on the null driver until :meth:`_hand_back`."""
        self._null = NullDriver(self.engine)
        self._null.start()

    def _stand_down(self) -> None:
        """Stop the null driver (its clock thread has finished its last block when this returns)."""
        if self._null is not None:
            self._null.stop()
            self._null = None

    def _hand_back(self, start: Callable[[], None]) -> float | None:
        """Stop the stand-in and ``start()`` the real driver again: the seconds since the loss, counted as
        a return; if ``start`` raises AudioError, say why, stand in again and return None."""
        self._stand_down()
        try:
            start()
        except AudioError as e:
            self._say(str(e))
            self._stand_in()
            return None
        self.reconnects += 1
        took = time.monotonic() - (self.lost_at or time.monotonic())
        self.back_s.append(took)
        return took

    def watch_stats(self) -> dict:
        """Server losses, returns and how long each return took (s)."""
        return {"server_lost": self.lost, "reconnects": self.reconnects,
                "reconnect_s": [round(x, 3) for x in self.back_s]}
