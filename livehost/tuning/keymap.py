"""Keyboard mapping arithmetic: which scale degree each MIDI key plays, and at what frequency.

For a map of size ``S > 0`` with formal octave degree ``O`` (``O = 0`` means the scale's own size)::

    q, i = divmod(key - middle_note, S)       # floor division: keys below the middle note work
    degree = mapping[i] + q * O               # None when mapping[i] is 'x'

For a linear map (``S = 0``): ``degree = key - middle_note``.  The scale degree's pitch then follows
the scale's own period (:meth:`StepSystem.cents`), and the whole keyboard is transposed so that the
reference note sounds at the reference frequency.  Keys outside ``first_note .. last_note`` are not
retuned by the map; livehost leaves them unmapped (NaN / None: silent).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from livehost.tuning.errors import TuningError
from livehost.tuning.scala import KeyboardMap
from livehost.tuning.systems import StepSystem


def key_degree(kbm: KeyboardMap, key: int, scale_size: int) -> int | None:
    """Scale degree played by MIDI key ``key`` under ``kbm`` (ignoring the retune range), or None
    for an unmapped key.  ``scale_size`` (notes per period) stands in for a formal octave of 0."""
    offset = int(key) - kbm.middle_note
    if kbm.size == 0:
        return offset
    q, i = divmod(offset, kbm.size)
    entry = kbm.mapping[i]
    if entry is None:
        return None
    return entry + q * (kbm.octave_degree or scale_size)


def keyboard_table(system: StepSystem, kbm: KeyboardMap) -> np.ndarray:
    """Frequencies in Hz of MIDI keys 0..127 playing ``system`` through ``kbm``: float64, shape
    (128,), NaN for unmapped keys and keys outside the retune range.

    Raises :class:`TuningError` when the reference note itself is unmapped (nothing anchors the pitch).
    """
    ref_degree = key_degree(kbm, kbm.reference_note, system.size)
    if ref_degree is None:
        raise TuningError(
            f"reference note {kbm.reference_note} falls on an unmapped ('x') key, so its frequency "
            f"cannot anchor the scale", kbm.path, kbm.reference_line)
    ref_cents = system.cents(ref_degree)
    table = np.full(128, np.nan)
    for key in range(kbm.first_note, kbm.last_note + 1):
        degree = key_degree(kbm, key, system.size)
        if degree is not None:
            table[key] = kbm.reference_hz * 2.0 ** ((system.cents(degree) - ref_cents) / 1200.0)
    return table


def describe_map(kbm: KeyboardMap) -> str:
    """One line saying which keyboard mapping is in force, for people (frequencies in Hz):

    ``default (1/1 = MIDI 60 = 261.6256 Hz)`` (Scala's default, no ``.kbm``), ``linear (1/1 on MIDI 60,
    MIDI 69 = 440 Hz)`` (a reference given without a ``.kbm``) or ``white.kbm (reference note 69 =
    440 Hz, middle note 60, 12 keys per pattern, keys 0-127)``.
    """
    if kbm.path == "<linear>":
        if kbm.is_default:
            return f"default (1/1 = MIDI {kbm.middle_note} = {kbm.reference_hz:.4f} Hz)"
        if kbm.reference_note == kbm.middle_note:
            return f"linear (1/1 = MIDI {kbm.middle_note} = {kbm.reference_hz:.6g} Hz)"
        return f"linear (1/1 on MIDI {kbm.middle_note}, MIDI {kbm.reference_note} = {kbm.reference_hz:.6g} Hz)"
    name = Path(kbm.path).name
    pattern = "linear" if kbm.size == 0 else f"{kbm.size} keys per pattern"
    return (f"{name} (reference note {kbm.reference_note} = {kbm.reference_hz:.6g} Hz, middle note "
            f"{kbm.middle_note}, {pattern}, keys {kbm.first_note}-{kbm.last_note})")


def map_info(kbm: KeyboardMap) -> dict:
    """The mapping in force as plain data (for JSON): ``text`` (:func:`describe_map`), ``kbm`` (the file,
    or None), ``default`` (Scala's default mapping), ``size``, ``first_note``, ``last_note``,
    ``middle_note``, ``reference_note``, ``reference_hz`` (Hz), ``octave_degree`` and ``mapping``
    (scale degrees, None for unmapped keys)."""
    from_file = kbm.path != "<linear>"
    return {"text": describe_map(kbm), "kbm": kbm.path if from_file else None,
            "default": kbm.is_default and not from_file, "size": kbm.size, "first_note": kbm.first_note,
            "last_note": kbm.last_note, "middle_note": kbm.middle_note, "reference_note": kbm.reference_note,
            "reference_hz": kbm.reference_hz, "octave_degree": kbm.octave_degree, "mapping": list(kbm.mapping)}
