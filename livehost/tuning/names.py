"""Scientific pitch names (``A4``, ``Bb3``, ``F#5``, ``C-1``) <-> MIDI note numbers <-> Hz.

Convention: MIDI note 69 is ``A4`` and sounds at the reference frequency (440 Hz unless told
otherwise); MIDI note 60 is ``C4`` (middle C); MIDI note 0 is ``C-1`` (8.1758 Hz at A4 = 440 Hz).
Every mapping here is 12-tone equal temperament: one MIDI note number per semitone (100 cents).
"""

from __future__ import annotations

import math
import re

from livehost.tuning.errors import TuningError

A4_HZ = 440.0
"""Default reference frequency of ``A4`` (MIDI note 69), in Hz."""

A4_NOTE = 69
"""MIDI note number of ``A4``."""

MIDDLE_NOTE = 60
"""MIDI note number of ``C4`` (middle C): where a tuning's 1/1 (degree 0) sits when no keyboard map says
otherwise (Scala's default mapping, also Surge XT's)."""

MIDDLE_C_HZ = A4_HZ * 2.0 ** ((MIDDLE_NOTE - A4_NOTE) / 12.0)
"""261.6255653 Hz: ``C4`` at A4 = 440 Hz, the frequency of a tuning's 1/1 on MIDI note 60 by default."""

_LETTER_SEMITONES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_SHARP_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_FLAT_NAMES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
_ACCIDENTAL = {"#": 1, "\u266f": 1, "b": -1, "\u266d": -1}
_NAME_RE = re.compile(r"^\s*([A-Ga-g])([#b\u266f\u266d]*)(-?\d+)\s*$")


def name_to_note(name: str) -> int:
    """Scientific pitch name -> MIDI note number (an int, may fall outside 0..127).

    Letters ``A``-``G`` (either case), any number of accidentals ``#``/``\u266f`` (+1 semitone) or
    ``b``/``\u266d`` (-1 semitone), then an octave number that may be negative: ``C-1`` -> 0,
    ``A4`` -> 69, ``Bb3`` -> 58, ``Cb4`` -> 59, ``B#3`` -> 60.  Raises :class:`TuningError`.
    """
    m = _NAME_RE.match(name) if isinstance(name, str) else None
    if m is None:
        raise TuningError(
            f"{name!r} is not a scientific pitch name (expected a letter A-G, optional # or b, "
            f"then an octave number, e.g. A4, Bb3, F#5, C-1)")
    letter, accidentals, octave = m.groups()
    shift = sum(_ACCIDENTAL[a] for a in accidentals)
    return (int(octave) + 1) * 12 + _LETTER_SEMITONES[letter.upper()] + shift


def note_to_name(note: int, flats: bool = False) -> str:
    """MIDI note number (int, any sign) -> scientific pitch name, sharps unless ``flats``.

    ``0`` -> ``C-1``, ``69`` -> ``A4``, ``70`` -> ``A#4`` (``Bb4`` with ``flats=True``).
    """
    note = int(note)
    octave, pc = divmod(note, 12)
    return f"{(_FLAT_NAMES if flats else _SHARP_NAMES)[pc]}{octave - 1}"


def note_to_hz(note: float, a4_hz: float = A4_HZ) -> float:
    """MIDI note number (fractional allowed, 12-EDO) -> frequency in Hz, with ``A4`` = ``a4_hz`` Hz."""
    return a4_hz * 2.0 ** ((note - A4_NOTE) / 12.0)


def hz_to_note(hz: float, a4_hz: float = A4_HZ) -> float:
    """Frequency in Hz -> fractional MIDI note number (12-EDO, ``A4`` = ``a4_hz`` Hz).

    Raises :class:`TuningError` for a frequency that is not a positive finite number.
    """
    if not (isinstance(hz, (int, float)) and math.isfinite(hz) and hz > 0):
        raise TuningError(f"frequency {hz!r} Hz is not a positive finite number")
    return A4_NOTE + 12.0 * math.log2(hz / a4_hz)


def name_to_hz(name: str, a4_hz: float = A4_HZ) -> float:
    """Scientific pitch name -> frequency in Hz (12-EDO, ``A4`` = ``a4_hz`` Hz; ``C-1`` = 8.1758 Hz)."""
    return note_to_hz(name_to_note(name), a4_hz)


def hz_to_name(hz: float, a4_hz: float = A4_HZ, flats: bool = False) -> tuple[str, float]:
    """Frequency in Hz -> (nearest 12-EDO pitch name, offset in cents from it).

    The offset is in [-50, +50) cents (a pitch exactly halfway names the upper note, -50 cents):
    ``hz_to_name(445.0)`` -> ``("A4", 19.56...)``.  ``A4`` is
    ``a4_hz`` Hz.  Sharps are used unless ``flats`` is true.
    """
    exact = hz_to_note(hz, a4_hz)
    nearest = math.floor(round(exact, 9) + 0.5)  # rounded first: exact quarter tones always go up
    cents = (exact - nearest) * 100.0
    if abs(cents) < 1e-9:  # float noise around an exact pitch
        cents = 0.0
    return note_to_name(nearest, flats=flats), cents


def format_cents(cents: float, digits: int = 1) -> str:
    """A cents offset as a signed string, e.g. ``+13.7`` or ``-2.0`` (``+0.0`` for zero)."""
    text = f"{cents:+.{digits}f}"
    return "+" + text[1:] if text.startswith("-") and float(text) == 0 else text
