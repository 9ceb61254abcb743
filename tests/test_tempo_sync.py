"""Synced parameters (issue #16): note divisions against their musical lengths, patches that keep them
as written and reject bad ones on their line, a session that re-sets them when the tempo changes, and
a delay rendered through the engine whose echo spacing follows a tempo change."""

from __future__ import annotations

import numpy as np
import pytest

from livehost.dsp.division import division_beats, synced_value
from livehost.errors import PatchError
from livehost.nodes import load_all
from livehost.patch import load, loads


@pytest.mark.parametrize("text,beats", [
    ("1/4", 1.0), ("1/1", 4.0), ("1/2", 2.0), ("1/8", 0.5), ("1/16", 0.25), ("3/4", 3.0),
    ("1/8.", 0.75), ("1/8d", 0.75), ("1/4.", 1.5), ("1/4t", 2.0 / 3.0), ("1/8t", 1.0 / 3.0),
])
def test_division_lengths_in_quarter_note_beats(text, beats):
    """A whole note is 4 beats; dotted x 3/2, triplet x 2/3 (three in the time of two)."""
    assert division_beats(text) == pytest.approx(beats, rel=1e-12)


@pytest.mark.parametrize("text", ["1/3", "1/0", "0/4", "1/4x", "quarter", "", "1/256", "1/4..", 4])
def test_not_divisions(text):
    assert division_beats(text) is None


def test_time_and_rate_at_a_tempo():
    """At 120 bpm a beat is 500 ms: 1/4 = 500 ms, 1/8. = 375 ms, 1/4t = 333.3 ms; an LFO at 1/2 makes
    one cycle per half note (1 s) = 1 Hz, at 1/16 8 Hz; values clamp to the parameter's range."""
    assert synced_value("time", "1/4", 120, 1, 4000) == pytest.approx(500.0)
    assert synced_value("time", "1/8.", 120, 1, 4000) == pytest.approx(375.0)
    assert synced_value("time", "1/4t", 120, 1, 4000) == pytest.approx(1000.0 / 3.0)
    assert synced_value("time", "1/4", 100, 1, 4000) == pytest.approx(600.0)
    assert synced_value("rate", "1/2", 120, 0.05, 10) == pytest.approx(1.0)
    assert synced_value("rate", "1/16", 120, 0.05, 10) == pytest.approx(8.0)
    assert synced_value("time", "2/1", 30, 1, 4000) == 4000.0  # 16 s, clamped
    assert synced_value("rate", "1/32", 400, 0.05, 10) == 10.0  # 53 Hz, clamped


def test_declarations_say_which_parameters_follow_the_tempo():
    """Delay time and the LFO rates are synced, as time and rate; the engine-only check still refuses
    a division for them (only patches and the session take one), and a non-synced one never does."""
    reg = load_all()
    assert reg["delay"].param("time_ms").sync == "time"
    for t in ("chorus", "phaser", "flanger"):
        assert reg[t].param("rate_hz").sync == "rate"
    assert reg["synth"].param("vib_rate_hz").sync == "rate"
    assert reg["chorus"].param("delay_ms").sync == ""
    q = reg["delay"].param("time_ms")
    assert q.check("1/8.", division_ok=True) is None
    assert q.check("1/8.") is not None
    assert reg["reverb"].params[0].check("1/4", division_ok=True) is not None


PATCH = """[patch]
name = "sync"

[input]
source = "mic"

[tempo]
bpm = 100

[[chain]]
type = "delay"
id = "echo"
time_ms = "1/8."
feedback = 0.0

[[chain]]
type = "chorus"
id = "ch"
rate_hz = "1/4t"
"""


def test_patch_takes_divisions_at_its_tempo_and_saves_them_as_written(tmp_path):
    p = loads(PATCH, "sync.toml")
    chain = {c[2]: c[3] for c in p.engine_chain()}
    assert chain["echo"]["time_ms"] == pytest.approx(450.0)  # 0.75 beat at 100 bpm
    assert chain["ch"]["rate_hz"] == pytest.approx(100 / 60 / (2 / 3))  # 2.5 Hz
    assert p.engine_chain(150.0)[0][3]["time_ms"] == pytest.approx(300.0)
    from livehost.patch import save

    save(p, tmp_path / "out.toml")
    text = (tmp_path / "out.toml").read_text()
    assert 'time_ms = "1/8."' in text and 'rate_hz = "1/4t"' in text


def test_a_bad_division_is_one_line_naming_file_line_and_field(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text(PATCH.replace('"1/4t"', '"1/5"'))
    with pytest.raises(PatchError) as e:
        load(str(f))
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith(f"{f}:19: ch.rate_hz = '1/5' is not a note division"), msg
    f.write_text(PATCH.replace('"1/8."', '"soon"'))
    with pytest.raises(PatchError, match=r"bad.toml:13: echo.time_ms = 'soon' is not a note division"):
        load(str(f))
    f.write_text(PATCH.replace('feedback = 0.0', 'feedback = "1/4"'))  # feedback is not synced
    with pytest.raises(PatchError, match=r":14: echo.feedback = '1/4' must be a number"):
        load(str(f))
    f.write_text(PATCH.replace('bpm = 100', 'source = "tap"'))
    with pytest.raises(PatchError, match=r":8: tempo.source = 'tap' is not one of 'clock'"):
        load(str(f))


def _session(tmp_path, text=PATCH):
    from livehost.session import Session

    f = tmp_path / "sync.toml"
    f.write_text(text)
    return Session(str(f), driver="none", start_models=False)


def test_session_follows_the_tempo_and_saves_the_division(tmp_path):
    s = _session(tmp_path)
    try:
        eng = s.engine
        echo = eng.item("echo")
        assert eng.get_param("echo", "time_ms") == pytest.approx(450.0)
        assert s.value(echo, "time_ms") == "1/8."
        s.set_tempo(120, "osc")
        assert eng.get_param("echo", "time_ms") == pytest.approx(375.0)
        assert eng.get_param("ch", "rate_hz") == pytest.approx(3.0)
        s.set_value(echo, "time_ms", "1/4")  # a new division, as the UI or OSC give it
        assert eng.get_param("echo", "time_ms") == pytest.approx(500.0)
        for t in (0.0, 0.6, 1.2):  # tap tempo at 600 ms = 100 bpm
            s.tap(100.0 + t)
        assert eng.get_param("echo", "time_ms") == pytest.approx(600.0)
        saved = s.save(str(tmp_path / "saved.toml"))
        text = open(saved).read()
        assert 'time_ms = "1/4"' in text and 'rate_hz = "1/4t"' in text
        s.set_value(echo, "time_ms", 250.0)  # a number: no longer synced
        s.set_tempo(60, "ui")
        assert eng.get_param("echo", "time_ms") == 250.0
        assert eng.get_param("ch", "rate_hz") == pytest.approx(1.5)
        with pytest.raises(Exception, match="echo.time_ms = '1/7' is not a note division"):
            s.set_value(echo, "time_ms", "1/7")
        with pytest.raises(Exception, match="must be a number"):
            s.set_value(echo, "feedback", "1/4")
    finally:
        s.close()


def _echo_spacing(y: np.ndarray, at: int, lo: int, hi: int) -> float:
    """The echo's position after an impulse at ``at`` (samples): the centroid of ``|y|`` in
    ``at + lo .. at + hi`` minus ``at``."""
    seg = np.abs(y[at + lo:at + hi])
    return float(np.sum((np.arange(lo, hi)) * seg) / seg.sum())


def test_synced_delay_echo_spacing_follows_a_tempo_change(tmp_path):
    """A delay at ``time_ms = "1/4"`` rendered through the engine block by block: an impulse at 100 bpm
    echoes 600 ms later; the tempo changes to 140 bpm mid-render (the time glides on the engine's
    smoothed path) and an impulse one beat later echoes 428.6 ms later (60000 / 140), within 2 %."""
    text = PATCH.split("[[chain]]\ntype = \"chorus\"")[0]  # the delay alone
    text = text.replace('"1/8."', '"1/4"').replace('feedback = 0.0', 'feedback = 0.0\nmode = "repeats"\n'
                                                  'repeats = 1\nfade = 1.0\nwet = 1.0')
    assert "chorus" not in text
    s = _session(tmp_path, text)
    try:
        eng = s.engine
        sr, bs = int(eng.sr), eng.max_block
        n = int(4.0 * sr) // bs * bs
        x = np.zeros((n, 2), np.float32)
        first, second = int(0.1 * sr), int(1.9 * sr)  # the tempo changes at 1.3 s
        x[first] = x[second] = 0.5
        y = np.zeros((n, 2), np.float32)
        change = int(1.3 * sr) // bs * bs
        for i in range(0, n, bs):
            if i == change:
                s.set_tempo(140.0, "clock")
            eng.process(x[i:i + bs], y[i:i + bs])
        mono = y[:, 0].astype(np.float64)
        lat = eng.latency_samples()  # the master's lookahead delays every output sample alike
        d1 = (_echo_spacing(mono, first, int(0.3 * sr), int(0.9 * sr)) - lat) / sr
        d2 = (_echo_spacing(mono, second, int(0.2 * sr), int(0.7 * sr)) - lat) / sr
        assert d1 == pytest.approx(0.600, rel=0.02)
        assert d2 == pytest.approx(60.0 / 140.0, rel=0.02)
        print(f"echo spacing: {1000 * d1:.2f} ms at 100 bpm, {1000 * d2:.2f} ms at 140 bpm")
    finally:
        s.close()


def test_osc_and_ui_pass_a_division_on_and_refuse_a_bad_one():
    """OSC ``/livehost/echo/time_ms "1/8."`` and the UI's typed ``1/8.`` reach the session as the
    division; a bad one, or a division for a parameter that cannot follow the tempo, is refused."""
    from livehost.osc.server import OscError, coerce
    from livehost.ui.app import _parse_value

    reg = load_all()
    t, fb = reg["delay"].param("time_ms"), reg["delay"].param("feedback")
    assert coerce(t, "1/8.") == ("1/8.", False)
    assert coerce(t, 5000.0) == (4000.0, True)
    with pytest.raises(OscError, match="is not a note division"):
        coerce(t, "1/5")
    with pytest.raises(OscError, match="must be a number"):
        coerce(fb, "1/4")
    assert _parse_value(t, " 1/4t ") == "1/4t"
    assert _parse_value(t, "250 ms") == 250.0
    with pytest.raises(ValueError):
        _parse_value(fb, "1/4")


def test_run_takes_clock_in_and_clock_out(tmp_path, monkeypatch, capsys):
    """``livehost run --clock-in --clock-out`` reaches the session; on the null driver it says that
    clock out needs JACK, and the synced delay plays at the patch's tempo."""
    import livehost.session as session_mod
    from livehost.cli import main

    made = []

    class Spy(session_mod.Session):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            made.append(self)

    monkeypatch.setattr(session_mod, "Session", Spy)
    f = tmp_path / "sync.toml"
    f.write_text(PATCH)
    assert main(["run", str(f), "--driver", "null", "--input", "none", "--clock-in", "--clock-out",
                 "--duration", "0.2", "--quiet", "--output", str(tmp_path / "o.wav")]) == 0
    assert "no MIDI clock out: it needs the JACK driver" in capsys.readouterr().err
    s = made[0]
    assert s.clock_in and s.clock_out
    assert s.engine.get_param("echo", "time_ms") == pytest.approx(450.0)


def test_a_midi_controller_moving_a_synced_parameter_unsyncs_it(tmp_path):
    """A CC map sets the engine directly: the parameter then keeps the controller's value when the
    tempo changes, and the session no longer reports (or saves) the division for it."""
    s = _session(tmp_path, PATCH + '\n[[midi.map]]\ncc = 1\ntarget = "ch.rate_hz"\n')
    try:
        ch = s.engine.item("ch")
        assert s.value(ch, "rate_hz") == "1/4t"
        s.cc(0, 1, 127)  # full scale: the top of the range
        moved = s.engine.get_param("ch", "rate_hz")
        assert moved == pytest.approx(10.0)
        s.set_tempo(90.0, "ui")
        assert s.engine.get_param("ch", "rate_hz") == moved
        assert s.value(ch, "rate_hz") == moved
        assert s.engine.get_param("echo", "time_ms") == pytest.approx(500.0)  # 1/8. at 90 bpm still follows
        assert "ch" not in {k[0] for k in s.synced}
    finally:
        s.close()
