"""Tuning library: pitch names, intervals, interval systems (EDOs, Bohlen-Pierce, just, nested),
Scala ``.scl``/``.kbm`` files, MIDI Tuning Standard sysex and the :class:`Tuning` the synth reads.

Units throughout: frequencies in Hz, intervals in cents (1200 per octave) or frequency ratios,
keys as MIDI note numbers 0..127 (69 = A4).
"""

from livehost.tuning.errors import TuningError
from livehost.tuning.intervals import (INTERVALS, Interval, cents_to_ratio, interval, parse_ratio,
                                       ratio_to_cents)
from livehost.tuning.keymap import key_degree, keyboard_table
from livehost.tuning.mts import (SingleNoteTuning, decode_single_note_tuning, encode_single_note_tuning,
                                 hz_to_mts, mts_to_hz, parse_single_note_tuning)
from livehost.tuning.names import (format_cents, hz_to_name, hz_to_note, name_to_hz, name_to_note,
                                   note_to_hz, note_to_name)
from livehost.tuning.scala import (KeyboardMap, ScalaPitch, ScalaScale, format_kbm, format_scl,
                                   parse_kbm, parse_scl, read_kbm, read_scl)
from livehost.tuning.systems import (JUST_12, QUARTER_TONE, SEMITONE, EqualDivision, NestedSystem,
                                     PeriodicScale, StepSystem, as_system, bohlen_pierce, edo,
                                     equal_division, just_system, make_system, system_from_name)
from livehost.tuning.tuning import Tuning, tuning_from_spec

__all__ = [
    "TuningError", "INTERVALS", "Interval", "cents_to_ratio", "interval", "parse_ratio", "ratio_to_cents",
    "key_degree", "keyboard_table", "SingleNoteTuning", "decode_single_note_tuning",
    "encode_single_note_tuning", "hz_to_mts", "mts_to_hz", "parse_single_note_tuning", "format_cents",
    "hz_to_name", "hz_to_note", "name_to_hz", "name_to_note", "note_to_hz", "note_to_name",
    "KeyboardMap", "ScalaPitch", "ScalaScale", "format_kbm", "format_scl", "parse_kbm", "parse_scl",
    "read_kbm", "read_scl", "JUST_12", "QUARTER_TONE", "SEMITONE", "EqualDivision", "NestedSystem",
    "PeriodicScale", "StepSystem", "as_system", "bohlen_pierce", "edo", "equal_division", "just_system",
    "make_system", "system_from_name", "Tuning", "tuning_from_spec",
]
