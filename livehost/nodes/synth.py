"""The ``synth`` source: polyphonic microtonal synth played by MIDI (see :mod:`livehost.dsp.synth`).

Its payload is the tuning's 128-key frequency table (Hz, NaN = unmapped key), appended by the engine
after the declared state; the control side retunes keys live through ``engine.payload(id)``.
"""

from livehost.dsp.synth import (FILTERS, MAX_PARTIALS, MAXV, PARAM_NAMES, RESET_FROM, WAVES, synth_init,
                                synth_process, synth_state_size)
from livehost.nodes.declare import NodeType, Param, register

_PARAMS = (
    Param("wave", choices=WAVES, default="saw",
          doc="oscillator: sine, band-limited saw/square/triangle, partials (overtone series), noise"),
    Param("voices", "", 1.0, float(MAXV), 32.0, 0.0, doc="polyphony (voices beyond it are faded out)"),
    Param("partials", "", 1.0, float(MAX_PARTIALS), 8.0, 0.0,
          doc="wave=partials: number of harmonics of the note's frequency"),
    Param("rolloff_db", "dB/oct", 0.0, 24.0, 6.0, 0.0,
          doc="wave=partials: amplitude fall per octave of partial number (6.02 = 1/k)"),
    Param("attack_ms", "ms", 0.0, 10000.0, 5.0, 0.0, doc="amplitude attack (linear rise)"),
    Param("decay_ms", "ms", 0.0, 10000.0, 200.0, 0.0, doc="amplitude decay to the sustain level"),
    Param("sustain", "", 0.0, 1.0, 0.7, 20.0, doc="amplitude sustain level (linear, 1 = full)"),
    Param("release_ms", "ms", 0.0, 20000.0, 300.0, 0.0, doc="amplitude release to silence after note-off"),
    Param("vel_sens", "", 0.0, 1.0, 0.7, 20.0, doc="velocity sensitivity (0: every note at full level)"),
    Param("filter", choices=FILTERS, default="lowpass", doc="per-voice state-variable filter mode"),
    Param("cutoff_hz", "Hz", 20.0, 20000.0, 12000.0, 20.0, doc="filter cutoff before modulation"),
    Param("resonance", "", 0.0, 1.0, 0.1, 20.0, doc="filter resonance (0: Q 0.5, 1: Q 25)"),
    Param("key_track", "", 0.0, 1.0, 0.0, 20.0, doc="cutoff follows the note (1: one octave per octave)"),
    Param("fenv_oct", "oct", -8.0, 8.0, 0.0, 20.0, doc="filter envelope amount, octaves of cutoff"),
    Param("fattack_ms", "ms", 0.0, 10000.0, 5.0, 0.0, doc="filter envelope attack"),
    Param("fdecay_ms", "ms", 0.0, 10000.0, 300.0, 0.0, doc="filter envelope decay"),
    Param("fsustain", "", 0.0, 1.0, 0.0, 20.0, doc="filter envelope sustain level"),
    Param("frelease_ms", "ms", 0.0, 20000.0, 300.0, 0.0, doc="filter envelope release"),
    Param("glide_ms", "ms", 0.0, 5000.0, 0.0, 0.0, doc="portamento time constant from the previous note"),
    Param("bend_range", "st", 0.0, 48.0, 2.0, 0.0,
          doc="pitch bend range, 12-EDO semitones as a frequency ratio on the tuned pitch"),
    Param("mpe", "", default=False, doc="MPE: channel 1 master, other channels per-note bend/pressure/CC74"),
    Param("mpe_bend_range", "st", 0.0, 96.0, 48.0, 0.0, doc="pitch bend range of MPE member channels"),
    Param("vib_rate_hz", "Hz", 0.1, 20.0, 5.5, 20.0, sync="rate",
          doc="vibrato rate, or a note division (one cycle each) following the session tempo"),
    Param("vib_depth_cents", "cents", 0.0, 200.0, 50.0, 20.0, doc="vibrato depth at full mod wheel (CC1)"),
    Param("pressure_amp_db", "dB", 0.0, 24.0, 6.0, 20.0, doc="level boost at full (channel/poly) pressure"),
    Param("pressure_cutoff_oct", "oct", 0.0, 8.0, 0.0, 20.0, doc="cutoff rise at full pressure"),
    Param("timbre_oct", "oct", 0.0, 8.0, 2.0, 20.0, doc="cutoff range of CC74 (MPE timbre) around 64"),
    Param("output_db", "dB", -60.0, 12.0, -12.0, 20.0, doc="output level"),
)

assert tuple(p.name for p in _PARAMS) == PARAM_NAMES

SYNTH = register(
    NodeType(
        name="synth",
        params=_PARAMS,
        kernel=synth_process,
        state_size=synth_state_size,
        init=synth_init,
        reset_from=RESET_FROM,
        source=True,
        midi=True,
        doc="Polyphonic microtonal synth played by MIDI (tuning table payload, MPE, sustain, glide).",
        category="source",
    )
)
