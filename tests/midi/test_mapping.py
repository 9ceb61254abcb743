"""[midi] section validation, CC curves, choice/bool thresholds, MIDI learn."""

import math

import pytest

from livehost.midi.mapping import (MidiConfigError, MidiLearn, MidiMap, curve_value, map_value,
                                   parse_midi_section)
from livehost.nodes.declare import Param

FULL = {
    "port": "Keystation",
    "virtual": "livehost in",
    "api": "jack",
    "map": [
        {"cc": 74, "channel": 2, "target": "synth.cutoff_hz", "min": 200.0, "max": 8000.0, "curve": "exp"},
        {"cc": 7, "target": "synth.output_db"},
    ],
    "programs": {"0": "patches/a.toml", "5": "patches/b.toml"},
}


def test_full_section_parses():
    cfg = parse_midi_section(FULL)
    assert (cfg.port, cfg.virtual, cfg.api) == ("Keystation", "livehost in", "jack")
    m = cfg.maps[0]
    assert (m.cc, m.channel, m.node, m.param, m.lo, m.hi, m.curve) == (74, 1, "synth", "cutoff_hz", 200.0,
                                                                         8000.0, "exp")
    assert cfg.maps[1].channel is None and cfg.maps[1].curve == "linear"
    assert cfg.programs == {0: "patches/a.toml", 5: "patches/b.toml"}
    assert cfg.program_path(5) == "patches/b.toml" and cfg.program_path(6) is None
    assert parse_midi_section({"virtual": True}).virtual == "livehost"
    assert m.to_table() == FULL["map"][0]


@pytest.mark.parametrize("table, path, words", [
    ({"prot": "x"}, ("midi", "prot"), "not a known field"),
    ({"api": "coreaudio"}, ("midi", "api"), "auto, jack, alsa"),
    ({"port": 3}, ("midi", "port"), "port name"),
    ({"virtual": 1}, ("midi", "virtual"), "true/false"),
    ({"map": [{"cc": 128, "target": "a.b"}]}, ("midi", "map", 0, "cc"), "0..127"),
    ({"map": [{"cc": True, "target": "a.b"}]}, ("midi", "map", 0, "cc"), "0..127"),
    ({"map": [{"target": "a.b"}]}, ("midi", "map", 0, "cc"), "missing"),
    ({"map": [{"cc": 1}]}, ("midi", "map", 0, "target"), "missing"),
    ({"map": [{"cc": 1, "target": "nodot"}]}, ("midi", "map", 0, "target"), "node_id.param"),
    ({"map": [{"cc": 1, "target": "a.b", "channel": 0}]}, ("midi", "map", 0, "channel"), "1..16"),
    ({"map": [{"cc": 1, "target": "a.b", "curve": "cubic"}]}, ("midi", "map", 0, "curve"), "linear, exp, log"),
    ({"map": [{"cc": 1, "target": "a.b", "min": "low"}]}, ("midi", "map", 0, "min"), "number"),
    ({"map": [{"cc": 1, "target": "a.b", "mni": 0}]}, ("midi", "map", 0, "mni"), "not a known field"),
    ({"map": [{"cc": 1, "target": "a.b"}, {"cc": 1, "target": "c.d"}]}, ("midi", "map", 1, "cc"), "mapped already"),
    ({"map": 3}, ("midi", "map"), "array of tables"),
    ({"programs": {"200": "x.toml"}}, ("midi", "programs", "200"), "0..127"),
    ({"programs": {"one": "x.toml"}}, ("midi", "programs", "one"), "0..127"),
    ({"programs": {"1": ""}}, ("midi", "programs", "1"), "patch file"),
    ([], ("midi",), "must be a table"),
])
def test_errors_name_the_field(table, path, words):
    with pytest.raises(MidiConfigError) as ei:
        parse_midi_section(table)
    assert ei.value.field_path == path
    assert words in ei.value.message


def test_targets_are_checked_against_the_patch_nodes():
    from livehost.nodes import load_all

    reg = load_all()
    nodes = {"synth": reg["synth"], "level": reg["gain"]}
    parse_midi_section({"map": [{"cc": 1, "target": "level.gain_db", "min": -20.0, "max": 0.0}]}, nodes)
    with pytest.raises(MidiConfigError, match="no node 'levle'.*did you mean 'level'"):
        parse_midi_section({"map": [{"cc": 1, "target": "levle.gain_db"}]}, nodes)
    with pytest.raises(MidiConfigError, match="no parameter 'cutof_hz'.*cutoff_hz"):
        parse_midi_section({"map": [{"cc": 1, "target": "synth.cutof_hz"}]}, nodes)
    with pytest.raises(MidiConfigError) as ei:
        parse_midi_section({"map": [{"cc": 1, "target": "level.gain_db", "max": 99.0}]}, nodes)
    assert ei.value.field_path == ("midi", "map", 0, "max")


def test_curves():
    assert curve_value(0.0, 200, 8000, "exp") == pytest.approx(200)
    assert curve_value(1.0, 200, 8000, "exp") == pytest.approx(8000)
    assert curve_value(0.5, 200, 8000, "exp") == pytest.approx(math.sqrt(200 * 8000))  # geometric
    assert curve_value(0.5, 0, 10, "linear") == 5
    # log is the inverse shape of exp: exp(log(x)) = x in normalised units
    for x in (0.1, 0.3, 0.7):
        u = (curve_value(x, 0.0, 1.0, "log"))
        assert curve_value(u, 0.0, 1.0, "exp") == pytest.approx(x)
    assert curve_value(0.5, -60, 0, "exp") < -30 < curve_value(0.5, -60, 0, "log")
    assert curve_value(0.5, 8000, 200, "exp") == pytest.approx(math.sqrt(200 * 8000))  # reversed range


def test_map_value_types():
    hz = Param("cutoff_hz", "Hz", 20.0, 20000.0, 1000.0)
    m = MidiMap(74, "s.cutoff_hz", lo=200.0, hi=8000.0, curve="exp")
    assert map_value(m, hz, 0) == pytest.approx(200.0)
    assert map_value(m, hz, 127) == pytest.approx(8000.0)
    assert map_value(MidiMap(74, "s.cutoff_hz"), hz, 127) == 20000.0  # default: the declared range
    assert map_value(MidiMap(74, "s.cutoff_hz", lo=0.0, hi=1e6), hz, 127) == 20000.0  # clamped
    onoff = Param("mpe", default=False)
    assert [map_value(MidiMap(1, "s.mpe"), onoff, v) for v in (0, 63, 64, 127)] == [False, False, True, True]
    wave = Param("wave", choices=("a", "b", "c", "d"), default="a")
    got = [map_value(MidiMap(1, "s.wave"), wave, v) for v in (0, 31, 32, 63, 64, 95, 96, 127)]
    assert got == ["a", "a", "b", "b", "c", "c", "d", "d"]


def test_learn_binds_the_next_cc():
    maps = [MidiMap(20, "a.x")]
    learned = []
    learn = MidiLearn(maps, on_learned=learned.append)
    assert learn.offer(0, 21) is None  # not armed: nothing happens
    learn.arm("synth.cutoff_hz")
    assert learn.armed == "synth.cutoff_hz"
    m = learn.offer(3, 20)  # CC 20 is rebound
    assert m.target == "synth.cutoff_hz" and m.cc == 20 and m.channel is None
    assert maps == [m] and learned == [m]
    assert learn.armed is None and learn.offer(0, 22) is None  # one CC only
    learn.arm("synth.resonance")
    learn.cancel()
    assert learn.offer(0, 23) is None and len(maps) == 1
    with pytest.raises(MidiConfigError):
        learn.arm("not a target")
