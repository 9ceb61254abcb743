"""Tuning library: pitch names, intervals, interval systems (EDOs, Bohlen-Pierce, just, nested),
Scala ``.scl``/``.kbm`` files, MIDI Tuning Standard sysex and the :class:`Tuning` the synth reads.

Units throughout: frequencies in Hz, intervals in cents (1200 per octave) or frequency ratios,
keys as MIDI note numbers 0..127 (69 = A4).  A tuning's 1/1 sits on MIDI note 60 at 261.6256 Hz
unless a keyboard map or a reference moves it (Scala's default mapping).
"""

from livehost.tuning.errors import TuningError
from livehost.tuning.intervals import (INTERVALS, Interval, cents_to_ratio, interval, parse_ratio,
                                       ratio_to_cents)
from livehost.tuning.keymap import describe_map, key_degree, keyboard_table, map_info
from livehost.tuning.mts import (SingleNoteTuning, decode_single_note_tuning, encode_single_note_tuning,
                                 hz_to_mts, mts_to_hz, parse_single_note_tuning)
from livehost.tuning.names import (MIDDLE_C_HZ, MIDDLE_NOTE, format_cents, hz_to_name, hz_to_note,
                                   name_to_hz, name_to_note, note_to_hz, note_to_name)
from livehost.tuning.scala import (KeyboardMap, ScalaPitch, ScalaScale, format_kbm, format_scl,
                                   parse_kbm, parse_scl, read_kbm, read_scl)
from livehost.tuning.systems import (JUST_12, QUARTER_TONE, SEMITONE, EqualDivision, NestedSystem,
                                     PeriodicScale, StepSystem, as_system, bohlen_pierce, edo,
                                     equal_division, hz_to_step, just_system, make_system, step_to_hz,
                                     steps_hz, system_from_name)
from livehost.tuning.tuning import Tuning, tuning_from_keys, tuning_from_spec

__all__ = [
    "TuningError", "INTERVALS", "Interval", "cents_to_ratio", "interval", "parse_ratio", "ratio_to_cents",
    "describe_map", "key_degree", "keyboard_table", "map_info", "MIDDLE_C_HZ", "MIDDLE_NOTE",
    "SingleNoteTuning", "decode_single_note_tuning",
    "encode_single_note_tuning", "hz_to_mts", "mts_to_hz", "parse_single_note_tuning", "format_cents",
    "hz_to_name", "hz_to_note", "name_to_hz", "name_to_note", "note_to_hz", "note_to_name",
    "KeyboardMap", "ScalaPitch", "ScalaScale", "format_kbm", "format_scl", "parse_kbm", "parse_scl",
    "read_kbm", "read_scl", "JUST_12", "QUARTER_TONE", "SEMITONE", "EqualDivision", "NestedSystem",
    "PeriodicScale", "StepSystem", "as_system", "bohlen_pierce", "edo", "equal_division", "just_system",
    "make_system", "system_from_name", "hz_to_step", "step_to_hz", "steps_hz", "Tuning",
    "tuning_from_keys", "tuning_from_spec",
]
