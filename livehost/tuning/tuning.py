"""The :class:`Tuning` object the synth reads: one frequency (Hz) per MIDI key, retunable live.

:func:`tuning_from_spec` builds one from a ``.scl`` path or a system name (``31edo``, ``bp``...),
optionally through a ``.kbm`` keyboard map.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from livehost.tuning.errors import TuningError
from livehost.tuning.keymap import keyboard_table
from livehost.tuning.mts import parse_single_note_tuning
from livehost.tuning.scala import KeyboardMap, read_kbm, read_scl
from livehost.tuning.systems import StepSystem, system_from_name

NUM_KEYS = 128
"""MIDI keys 0..127."""


def _check_key(key: int) -> int:
    if isinstance(key, bool) or not isinstance(key, (int, np.integer)) or not 0 <= key < NUM_KEYS:
        raise TuningError(f"key {key!r} is not a MIDI note number 0..127")
    return int(key)


class Tuning:
    """Frequencies in Hz for MIDI keys 0..127; NaN marks an unmapped key (it should not sound).

    ``name``: short name (``"31edo"``, the ``.scl`` file's stem); ``description``: longer text (the
    ``.scl`` description).  ``version`` goes up by one on every change, so a synth can notice retunes.
    """

    def __init__(self, table: Sequence[float] | np.ndarray, name: str = "tuning", description: str = ""):
        arr = np.array(table, dtype=np.float64).reshape(-1)
        if arr.shape != (NUM_KEYS,):
            raise TuningError(f"tuning {name!r} needs {NUM_KEYS} frequencies, got {arr.size}")
        bad = ~np.isnan(arr) & ~(np.isfinite(arr) & (arr > 0))
        if bad.any():
            key = int(np.flatnonzero(bad)[0])
            raise TuningError(f"tuning {name!r}: key {key} has frequency {arr[key]} Hz (must be > 0 or NaN)")
        self._table = arr
        self.name = name
        self.description = description
        self.version = 0

    def hz(self, note: int) -> float | None:
        """Frequency in Hz of MIDI note ``note`` (0..127), or None if the key is unmapped."""
        value = self._table[_check_key(note)]
        return None if math.isnan(value) else float(value)

    def table(self) -> np.ndarray:
        """A copy of all 128 frequencies in Hz (float64, shape (128,), NaN for unmapped keys)."""
        return self._table.copy()

    def retune(self, key: int, hz: float | None) -> None:
        """Set MIDI key ``key`` to ``hz`` Hz (None unmaps it).  Later notes on that key use it; a
        synth polling :attr:`version` can also glide sounding notes to it."""
        key = _check_key(key)
        if hz is None:
            self._table[key] = np.nan
        else:
            if not (isinstance(hz, (int, float, np.floating)) and math.isfinite(hz) and hz > 0):
                raise TuningError(f"frequency {hz!r} Hz for key {key} is not a positive finite number")
            self._table[key] = float(hz)
        self.version += 1

    def apply_mts(self, data: bytes | bytearray | Sequence[int]) -> list[tuple[int, float]]:
        """Apply an MTS real-time single-note tuning change sysex; returns the (key, Hz) pairs applied."""
        changes = parse_single_note_tuning(data)
        for key, hz in changes:
            self.retune(key, hz)
        return changes

    def mapped_notes(self) -> list[int]:
        """MIDI note numbers that have a frequency (are not unmapped)."""
        return [int(k) for k in np.flatnonzero(~np.isnan(self._table))]

    def copy(self) -> "Tuning":
        """An independent copy (same table, name and description)."""
        return Tuning(self._table, self.name, self.description)

    def __repr__(self) -> str:
        return f"<Tuning {self.name}: {len(self.mapped_notes())} of {NUM_KEYS} keys mapped>"

    @classmethod
    def from_system(cls, system: StepSystem | str, ref_note: int = 69, ref_hz: float = 440.0,
                    kbm: KeyboardMap | None = None, name: str | None = None) -> "Tuning":
        """Play a step system on the keyboard.  Without ``kbm``: one key per step, step 0 on MIDI note
        ``ref_note`` sounding ``ref_hz`` Hz.  With ``kbm``, the map decides keys, degrees and the
        reference (``ref_note``/``ref_hz`` are then ignored)."""
        if isinstance(system, str):
            system = system_from_name(system)
        if kbm is None:
            kbm = KeyboardMap.linear(ref_note, ref_note, ref_hz)
        return cls(keyboard_table(system, kbm), name or system.name)


def tuning_from_spec(spec: str | os.PathLike, kbm: str | os.PathLike | None = None, ref_note: int = 69, ref_hz: float = 440.0) -> Tuning:
    """Build a :class:`Tuning` from ``spec``: a ``.scl`` file path or a system name (``12edo``,
    ``19edo``, ``24edo``, ``31edo``, any ``<N>edo`` (also ``<N>tet``/``<N>et``), ``<N>ed<R>``, ``bp``,
    ``ji12``); a path not ending in ``.scl`` is read as a Scala file when it is no system name.

    Without ``kbm`` the tuning is linear: step/degree 0 on MIDI note ``ref_note`` at ``ref_hz`` Hz,
    one key per step (``31edo`` note n sounds ``440 * 2 ** ((n - 69) / 31)`` Hz).  With ``kbm`` (a
    ``.kbm`` path) the keyboard map decides the mapping and reference.  Raises :class:`TuningError`.
    """
    spec = os.fspath(spec)
    kmap = read_kbm(os.fspath(kbm)) if kbm is not None else None
    system = None
    if not spec.lower().endswith(".scl"):
        try:
            system = system_from_name(spec)
        except TuningError:
            if not os.path.isfile(spec):
                raise TuningError(
                    f"unknown tuning {spec!r}: expected a .scl file or a system name such as "
                    f"12edo, 31edo, 13ed3, bp") from None
    if system is None:
        scale = read_scl(spec)
        system = scale.to_system(Path(spec).stem)
        description = scale.description
    else:
        description = f"{system.size} steps per {system.period_cents:.3f} cents"
    tuning = Tuning.from_system(system, ref_note, ref_hz, kmap)
    tuning.description = description
    return tuning
