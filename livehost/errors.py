"""The project's own error types: one line, naming the file, line and field where there is one."""

from __future__ import annotations


class LivehostError(Exception):
    """Base class of every error livehost reports to a user as one line (no traceback)."""


class PatchError(LivehostError):
    """A patch file is malformed: ``path:line: field: what is wrong``."""

    def __init__(self, path: str, line: int | None, field: str | None, message: str):
        self.path = str(path)
        self.line = line
        self.field = field
        self.message = message
        where = self.path if line is None else f"{self.path}:{line}"
        text = f"{where}: {field} {message}" if field else f"{where}: {message}"
        super().__init__(text)


class AudioError(LivehostError):
    """The audio device or driver cannot do what was asked (missing library, busy, bad rate...)."""


class MidiError(LivehostError):
    """A MIDI port or client could not be opened (no server, port refused)."""
