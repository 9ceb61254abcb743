"""The :class:`Tuning` object the synth reads: one frequency (Hz) per MIDI key, retunable live.

:func:`tuning_from_spec` builds one from a ``.scl`` path or a system name (``31edo``, ``bp``...),
optionally through a ``.kbm`` keyboard map; :func:`tuning_from_keys` from a patch's ``[synth]`` keys.

Without a ``.kbm`` every tuning follows Scala's default mapping (also Surge XT's): one key per scale
degree, the scale's 1/1 on MIDI note 60 sounding 261.6256 Hz (C4 at A4 = 440 Hz), so ``12edo`` is
standard tuning (note 69 = 440 Hz) and ``31edo`` note 61 is 261.6256 * 2 ** (1/31) Hz.  A reference
(``ref_note``/``ref_hz``, Scala's reference note and frequency) and ``middle_note`` (the key of 1/1)
move it, as a ``.kbm`` would.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from livehost.tuning.errors import TuningError
from livehost.tuning.keymap import describe_map, keyboard_table
from livehost.tuning.mts import parse_single_note_tuning
from livehost.tuning.scala import KeyboardMap, read_kbm, read_scl
from livehost.tuning.systems import StepSystem, system_from_name

DEFAULT_SPEC = "12edo"
"""The tuning of a ``[synth]`` section that names none."""

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
    ``mapping``: the :class:`KeyboardMap` that laid the scale on the keys (None for a bare table).
    """

    def __init__(self, table: Sequence[float] | np.ndarray, name: str = "tuning", description: str = "",
                 mapping: KeyboardMap | None = None):
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
        self.mapping = mapping
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
        """An independent copy (same table, name, description and mapping)."""
        return Tuning(self._table, self.name, self.description, self.mapping)

    def mapping_text(self) -> str:
        """Which keyboard mapping is in force, one line (see :func:`describe_map`), or ``"table"``."""
        return describe_map(self.mapping) if self.mapping is not None else "table"

    def __repr__(self) -> str:
        return f"<Tuning {self.name}: {len(self.mapped_notes())} of {NUM_KEYS} keys mapped>"

    @classmethod
    def from_system(cls, system: StepSystem | str, ref_note: int | None = None, ref_hz: float | None = None,
                    kbm: KeyboardMap | None = None, name: str | None = None,
                    middle_note: int | None = None) -> "Tuning":
        """Play a step system on the keyboard.

        Without ``kbm``: one key per step, step 0 (1/1) on MIDI note ``middle_note`` (default 60), MIDI
        note ``ref_note`` (default: the middle note) sounding ``ref_hz`` Hz (default: that note's
        standard 12-EDO pitch at A4 = 440 Hz).  With no argument that is Scala's default: 1/1 = MIDI 60
        = 261.6256 Hz.  With ``kbm`` the map decides keys, degrees and the reference; giving
        ``ref_note``, ``ref_hz`` or ``middle_note`` as well is a :class:`TuningError`.
        """
        if isinstance(system, str):
            system = system_from_name(system)
        if kbm is None:
            kbm = KeyboardMap.linear(middle_note, ref_note, ref_hz)
        elif (middle_note, ref_note, ref_hz) != (None, None, None):
            raise TuningError("the .kbm keyboard map sets the middle note and the reference itself: "
                              "give either a .kbm or middle_note/ref_note/ref_hz, not both", kbm.path)
        return cls(keyboard_table(system, kbm), name or system.name, mapping=kbm)


def tuning_from_spec(spec: str | os.PathLike, kbm: str | os.PathLike | None = None, ref_note: int | None = None,
                     ref_hz: float | None = None, middle_note: int | None = None) -> Tuning:
    """Build a :class:`Tuning` from ``spec``: a ``.scl`` file path or a system name (``12edo``,
    ``19edo``, ``24edo``, ``31edo``, any ``<N>edo`` (also ``<N>tet``/``<N>et``), ``<N>ed<R>``, ``bp``,
    ``ji12``); a path not ending in ``.scl`` is read as a Scala file when it is no system name.

    Without ``kbm``: Scala's default mapping, one key per step with 1/1 on MIDI note 60 at
    261.6256 Hz (``31edo`` note n sounds ``261.6256 * 2 ** ((n - 60) / 31)`` Hz; ``12edo`` note 69 is
    440 Hz), moved by ``middle_note``/``ref_note``/``ref_hz`` as :meth:`Tuning.from_system` says
    (``ref_note=69, ref_hz=440`` keeps 1/1 on note 60 and tunes A4 to 440 Hz).  With ``kbm`` (a
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
    tuning = Tuning.from_system(system, ref_note, ref_hz, kmap, middle_note=middle_note)
    tuning.description = description
    return tuning


def _is_system_name(spec: str) -> bool:
    try:
        system_from_name(spec)
    except TuningError:
        return False
    return True


def tuning_from_keys(keys: Mapping[str, object], base_dir: str | os.PathLike | None = None) -> Tuning:
    """The tuning a patch's ``[synth]`` section names: ``tuning`` (a system name or a Scala file;
    default ``12edo``), ``kbm`` (a ``.kbm`` file), ``middle_note``, ``ref_note``, ``ref_hz`` (Hz) as in
    :func:`tuning_from_spec`; absent keys keep Scala's default.  Relative file names are read from
    ``base_dir`` (the patch's folder).  Raises :class:`TuningError`.
    """
    base = Path(base_dir) if base_dir is not None else Path(".")
    spec = str(keys.get("tuning", DEFAULT_SPEC))
    if not _is_system_name(spec) and not os.path.isabs(spec):
        local = base / spec
        if spec.lower().endswith(".scl") or local.is_file():
            spec = str(local)
    kbm = keys.get("kbm")
    if kbm is not None and not os.path.isabs(str(kbm)):
        kbm = str(base / str(kbm))
    ref_hz = keys.get("ref_hz")
    return tuning_from_spec(spec, kbm, keys.get("ref_note"), None if ref_hz is None else float(ref_hz),
                            keys.get("middle_note"))
