"""MidiRouter: messages -> engine (notes, CC maps, learn, MTS retune, programs) without a MIDI port."""

import numpy as np
import pytest

from livehost.engine.drivers.offline import render
from livehost.engine.layout import H_MIDI_W
from livehost.midi import MidiConfig, MidiMap, MidiRouter, match_port, parse_midi_section
from livehost.tuning import encode_single_note_tuning, tuning_from_spec
from tests.synth.util import CLEAN, fit_freq, synth_engine


@pytest.fixture
def eng():
    return synth_engine(CLEAN, tuning_from_spec("31edo", ref_note=69, ref_hz=440.0).table())


def test_notes_reach_the_synth_and_the_monitor(eng):
    r = MidiRouter(eng)
    r.handle([0x90, 69, 100])
    r.handle([0x91, 72, 90])
    assert r.monitor.active_notes() == [(0, 69), (1, 72)]
    r.handle([0x91, 72, 0])  # note-on with velocity 0 is a note-off
    assert r.monitor.active_notes() == [(0, 69)]
    y = render(eng, 9600)[:, 0]
    assert fit_freq(y[2400:]) == pytest.approx(440.0, rel=1e-7)
    kinds = [e["kind"] for e in r.monitor.events()]
    assert kinds == ["note_on", "note_on", "note_off"]


def test_mts_sysex_retunes_a_sounding_note(eng):
    tun = tuning_from_spec("31edo", ref_note=69, ref_hz=440.0)
    r = MidiRouter(eng, tuning=tun)
    r.handle([0x90, 69, 100])
    render(eng, 4800)
    sysex = encode_single_note_tuning([(69, 445.0), (70, 500.0)])
    r.handle(list(sysex))
    assert eng.payload("synth")[69] == pytest.approx(445.0, abs=445 * 2 ** (0.01 / 1200) - 445)
    assert tun.hz(70) == pytest.approx(500.0, rel=1e-5)
    y = render(eng, 9600)[:, 0]
    f = fit_freq(y[512:])
    assert 1200 * np.log2(f / 445.0) == pytest.approx(0.0, abs=0.01)  # MTS resolution is 0.006 cent
    assert r.monitor.events()[-1]["kind"] == "mts"


def test_mts_without_a_tuning_object_uses_the_live_table(eng):
    r = MidiRouter(eng)
    r.handle(list(encode_single_note_tuning([(60, 300.0)])))
    assert eng.payload("synth")[60] == pytest.approx(300.0, rel=1e-5)
    assert eng.payload("synth")[61] == pytest.approx(tuning_from_spec("31edo", ref_note=69, ref_hz=440.0).hz(61))


def test_bad_sysex_and_garbage_do_not_raise(eng):
    r = MidiRouter(eng)
    for msg in ([], [0xF0, 0x7F, 0x00, 0x08, 0x02, 0x00, 0x05, 0xF7], [0xF8], [0x42], [0xF0, 0x43, 0x10, 0xF7],
                [0x90], [0xB0, 7]):
        r.handle(msg)
    assert any(e["kind"] == "error" for e in r.monitor.events())


def test_cc_map_sets_the_parameter_and_is_consumed(eng):
    cfg = parse_midi_section({"map": [{"cc": 74, "target": "synth.cutoff_hz", "min": 200.0, "max": 8000.0,
                                       "curve": "exp"},
                                      {"cc": 20, "channel": 2, "target": "synth.wave"}]})
    r = MidiRouter(eng, cfg)
    r.handle([0xB0, 74, 127])
    assert eng.get_param("synth", "cutoff_hz") == pytest.approx(8000.0)
    r.handle([0xB5, 74, 0])
    assert eng.get_param("synth", "cutoff_hz") == pytest.approx(200.0)
    r.handle([0xB0, 20, 127])  # wrong channel: not mapped, forwarded
    assert eng.get_param("synth", "wave") == "sine"
    r.handle([0xB1, 20, 127])
    assert eng.get_param("synth", "wave") == "noise"
    assert r.monitor.cc_values()[(1, 20)] == 127
    assert eng.a[H_MIDI_W] == 1  # only the unmapped CC reached the engine's ring


def test_learn_through_the_router(eng):
    r = MidiRouter(eng, MidiConfig())
    r.learn.arm("synth.resonance")
    r.handle([0xB3, 21, 127])
    assert r.maps == [MidiMap(21, "synth.resonance")]
    assert eng.get_param("synth", "resonance") == 1.0  # bound and applied
    r.handle([0xB0, 21, 0])
    assert eng.get_param("synth", "resonance") == 0.0
    from livehost.engine.engine import EngineError

    with pytest.raises(EngineError):
        r.learn.arm("nosuchnode.x")


def test_program_change_calls_back(eng):
    got = []
    r = MidiRouter(eng, parse_midi_section({"programs": {"3": "patches/x.toml"}}), on_program=got.append)
    r.handle([0xC0, 3])
    assert got == [3] and r.config.program_path(3) == "patches/x.toml"


def test_a_failing_callback_is_logged_not_raised(eng):
    def boom(n):
        raise RuntimeError("no such patch")

    r = MidiRouter(eng, on_program=boom)
    r.handle([0xC0, 1])
    assert "no such patch" in r.monitor.events()[-1]["text"]


def test_port_matching():
    ports = ["Midi Through:Midi Through Port-0 14:0", "Keystation 49:Keystation MIDI 1 20:0", "a2j:nanoKEY2"]
    assert match_port(ports, "keystation") == 1
    assert match_port(ports, "nano") == 2
    assert match_port(ports, r"^a2j:.*KEY\d") == 2
    assert match_port(ports, "launchpad") is None
    assert match_port(ports, "[") is None  # not a valid regex, no substring: no match, no error
