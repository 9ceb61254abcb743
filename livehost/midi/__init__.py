"""MIDI: live input (python-rtmidi), CC -> parameter maps and MIDI learn, MTS retuning, MIDI files.

- :class:`MidiInput` / :class:`MidiRouter` / :class:`MidiMonitor`: ports, message handling, UI state.
- :func:`parse_midi_section` / :class:`MidiConfig` / :class:`MidiMap` / :class:`MidiLearn`: the patch's
  ``[midi]`` section and learn.
- :func:`events_from_midi_file`, :func:`render_midi`: offline rendering from a ``.mid`` file.
"""

from livehost.midi.input import MidiInput, MidiMonitor, MidiRouter, match_port
from livehost.midi.mapping import (MidiConfig, MidiConfigError, MidiLearn, MidiMap, curve_value, map_value,
                                   parse_midi_section)
from livehost.midi.midifile import events_from_midi_file
from livehost.midi.render import render_midi

__all__ = ["MidiInput", "MidiMonitor", "MidiRouter", "match_port", "MidiConfig", "MidiConfigError",
           "MidiLearn", "MidiMap", "curve_value", "map_value", "parse_midi_section", "events_from_midi_file",
           "render_midi"]
