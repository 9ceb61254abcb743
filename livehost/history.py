"""Undo/redo history of a session's edits: a bounded list of steps, each a pair of actions.

A step is what one edit did, kept as two callables: ``undo`` puts back what was there before, ``redo``
does the edit again. The session builds them (so each goes back through the same crossfaded or smoothed
path as the edit); this module only keeps them in order, merges a run of small changes of one thing (a
knob turned) into one step, and forgets the oldest beyond ``limit``.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Callable, Hashable


@dataclass
class Step:
    """One undoable edit: ``label`` says what (shown to the user); ``key`` names what it changed, for
    merging (None: never merged); ``t``: when it was last extended (seconds, :func:`time.monotonic`);
    ``merge_s``: this step's own merging window in seconds (None: the history's; a count of tap-tempo
    taps, seconds apart, is one step)."""

    label: str
    undo: Callable[[], None]
    redo: Callable[[], None]
    key: Hashable | None = None
    t: float = 0.0
    merge_s: float | None = None


class History:
    """Undo and redo stacks of :class:`Step` (``limit`` levels; a new edit clears the redo stack).

    merge_s: a step with the same ``key`` as the last one, recorded within this many seconds of it,
    extends it instead (its ``undo`` stays the first one's, its ``redo`` becomes the new one's)."""

    def __init__(self, limit: int = 100, merge_s: float = 0.5):
        self.limit = int(limit)
        self.merge_s = float(merge_s)
        self._undo: deque[Step] = deque(maxlen=self.limit)
        self._redo: list[Step] = []

    def record(self, step: Step, now: float | None = None) -> None:
        """Add ``step`` (``now``: seconds on :func:`time.monotonic`'s clock, default now)."""
        now = time.monotonic() if now is None else float(now)
        last = self._undo[-1] if self._undo else None
        self._redo.clear()
        window = self.merge_s if step.merge_s is None else step.merge_s
        if (last is not None and step.key is not None and last.key == step.key
                and now - last.t <= window):
            last.redo = step.redo
            last.t = now
            return
        step.t = now
        self._undo.append(step)

    def undo(self) -> Step | None:
        """Undo the last step (it moves to the redo stack); the step, or None when there is none.
        An action that raises leaves the step dropped (the state it expected is gone)."""
        if not self._undo:
            return None
        step = self._undo.pop()
        step.undo()
        self._redo.append(step)
        return step

    def redo(self) -> Step | None:
        """Redo the last undone step; the step, or None when there is none."""
        if not self._redo:
            return None
        step = self._redo.pop()
        step.redo()
        step.t = 0.0  # a redone step is never extended by the next edit
        self._undo.append(step)
        return step

    def clear(self) -> None:
        """Forget every step."""
        self._undo.clear()
        self._redo.clear()

    @property
    def can_undo(self) -> int:
        """How many steps can be undone."""
        return len(self._undo)

    @property
    def can_redo(self) -> int:
        """How many steps can be redone."""
        return len(self._redo)
