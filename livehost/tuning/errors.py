"""The tuning library's error type: one line, ``path:line: what is wrong``."""

from __future__ import annotations

from livehost.errors import LivehostError


class TuningError(LivehostError):
    """A tuning input is malformed or impossible (a Scala file, a pitch name, a sysex message...).

    ``str(err)`` is one line: ``path:line: message`` when a file and line are known, ``path: message``
    when only a source is known, else just ``message``.  ``path``, ``line`` and ``message`` are kept
    as attributes for callers that want to point at the spot themselves.
    """

    def __init__(self, message: str, path: str | None = None, line: int | None = None):
        self.path = None if path is None else str(path)
        self.line = line
        self.message = " ".join(str(message).split())  # always one line
        if self.path is None:
            text = self.message
        elif line is None:
            text = f"{self.path}: {self.message}"
        else:
            text = f"{self.path}:{line}: {self.message}"
        super().__init__(text)
