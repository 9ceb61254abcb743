"""reverse / stretch / pitch / delay / chain: measured on signals with known answers."""

import numpy as np
import pytest
import soundfile as sf

from livehost.errors import LivehostError
from livehost.tools.effects import delay_audio, pitch_audio, render_patch, reverse_audio, stretch_audio, tail_seconds
from livehost.tools.measure import cents, peak_hz
from tests.tools.util import SR, run_cli, sine, steady, write


def test_pitch_semitones_moves_peak_700_cents():
    y = pitch_audio(sine(440.0, 2.0), SR, semitones=7)
    assert len(y) >= 2 * SR
    assert cents(peak_hz(steady(y, hi=1.7), SR), 440.0) == pytest.approx(700.0, abs=1.0)


def test_pitch_fractional_semitones_use_cents():
    y = pitch_audio(sine(440.0, 2.0), SR, semitones=-3.5)
    assert cents(peak_hz(steady(y, hi=1.7), SR), 440.0) == pytest.approx(-350.0, abs=1.0)


def test_pitch_hz_is_a_frequency_shift():
    y = pitch_audio(sine(440.0, 2.0), SR, hz=100.0)
    assert peak_hz(steady(y, hi=1.7), SR) == pytest.approx(540.0, abs=0.05)
    # a frequency shift is not a transposition: 880 Hz -> 980 Hz, not 1080
    y2 = pitch_audio(sine(880.0, 2.0), SR, hz=100.0)
    assert peak_hz(steady(y2, hi=1.7), SR) == pytest.approx(980.0, abs=0.05)


def test_pitch_errors():
    with pytest.raises(LivehostError, match="exactly one"):
        pitch_audio(sine(440.0, 0.1), SR)
    with pytest.raises(LivehostError, match="outside -24..24"):
        pitch_audio(sine(440.0, 0.1), SR, semitones=30)


def test_article_delay_taps():
    """--ms 1000 --feedback 0.5 --repeats 3: the click and taps at 1000/2000/3000 ms, gains 0.5/0.25/0.125."""
    x = np.zeros((SR // 2, 2))
    x[0] = 0.8
    y = delay_audio(x, SR, ms=1000, feedback=0.5, repeats=3)
    assert len(y) >= int(3.0 * SR)
    env = np.abs(y[:, 0])
    loud = np.nonzero(env > 0.01)[0]
    taps = [int(loud[0])]
    for i in loud[1:]:
        if i - taps[-1] > SR // 10:
            taps.append(int(i))
    assert taps == [0, SR, 2 * SR, 3 * SR]
    gains = [env[max(0, t - 2):t + 3].max() / 0.8 for t in taps]
    assert gains == pytest.approx([1.0, 0.5, 0.25, 0.125], abs=1e-3)
    # exactly 3 repeats: the trailing silence is trimmed, so nothing is left after the third tap
    assert len(y) < 3 * SR + SR // 10
    assert env[3 * SR + 10:].max(initial=0.0) < 1e-4


def test_delay_echoes_only_and_feedback_mode():
    x = np.zeros((SR // 4, 2))
    x[0] = 0.5
    y = delay_audio(x, SR, ms=100, feedback=0.5, echoes_only=True)
    env = np.abs(y[:, 0])
    assert env[:10].max() < 1e-6
    t = int(0.1 * SR)
    for k in range(1, 5):  # feedback mode: echo k at 0.5 * 0.5**(k-1) of the input
        assert env[k * t - 2:k * t + 3].max() == pytest.approx(0.5 * 0.5 ** (k - 1), rel=0.02)


def test_stretch_factor_2_doubles_duration_keeps_pitch():
    x = sine(440.0, 1.5)
    y = stretch_audio(x, SR, 2.0)
    assert len(y) == 2 * len(x)
    assert cents(peak_hz(steady(y, lo=0.3, hi=2.7), SR), 440.0) == pytest.approx(0.0, abs=2.0)


def test_stretch_tape_is_an_octave_down():
    x = sine(440.0, 1.0)
    y = stretch_audio(x, SR, 2.0, tape=True)
    assert len(y) == 2 * len(x)
    assert peak_hz(steady(y, lo=0.2, hi=1.8), SR) == pytest.approx(220.0, abs=0.05)


def test_stretch_range():
    with pytest.raises(LivehostError, match="outside 0.25..4"):
        stretch_audio(sine(440.0, 0.1), SR, 5.0)


def test_reverse_whole_file_and_live_node():
    rng = np.random.default_rng(0)
    x = rng.uniform(-0.5, 0.5, (SR // 2, 2))
    np.testing.assert_array_equal(reverse_audio(x, SR), x[::-1])
    # the live node: a rising chirp comes out falling inside each window
    t = np.arange(SR) / SR
    chirp = 0.5 * np.sin(2 * np.pi * (300 * t + 400 * t * t))
    y = reverse_audio(np.stack([chirp, chirp], 1), SR, window_ms=200)
    assert len(y) >= SR and np.abs(y).max() > 0.1


def test_tail_estimate():
    from livehost.tools.chainspec import parse_chain

    assert tail_seconds(parse_chain("delay ms=1000 repeats=3"), 1.0) == pytest.approx(3.05)
    assert tail_seconds(parse_chain("layer(dry, reverb decay=3 predelay=0)"), 1.0) == pytest.approx(4.0)
    assert tail_seconds(parse_chain("gain | reverse ms=500"), 1.0) == pytest.approx(1.05)


def test_render_equals_the_engine():
    """The chain tool's render is the engine's: same numbers as building the graph by hand."""
    from livehost.engine.drivers.offline import render
    from livehost.tools.chainspec import chain_patch

    x = sine(330.0, 0.5)
    p = chain_patch("delay ms=50 fb=0.3 wet=0.5 | gain db=-3")
    y = render_patch(p, x, SR, tail_s=0.2, compensate=False)
    from livehost.engine.engine import Engine

    eng = Engine(SR, 128, 2, 2)
    eng.build("mic", [], p.engine_chain(), {})
    inp = np.zeros((len(x) + int(0.2 * SR), 2), np.float32)
    inp[:len(x)] = x
    ref = render(eng, len(inp), inp).astype(np.float64)
    n = min(len(y), len(ref))
    np.testing.assert_array_equal(y[:n], ref[:n])


def test_cli_effects(tmp_path):
    a = write(tmp_path / "a.flac", sine(440.0, 1.0), subtype="PCM_24")
    assert run_cli(["pitch", a, tmp_path / "p.wav", "--hz", "100"]) == 0
    y, sr = sf.read(tmp_path / "p.wav")
    assert sr == SR and peak_hz(steady(y, hi=0.8), sr) == pytest.approx(540.0, abs=0.05)
    assert run_cli(["reverse", a, tmp_path / "r.ogg"]) == 0
    assert sf.info(str(tmp_path / "r.ogg")).format == "OGG"
    assert run_cli(["stretch", a, tmp_path / "s.wav", "--factor", "2"]) == 0
    assert sf.info(str(tmp_path / "s.wav")).frames == 2 * SR
    assert run_cli(["delay", a, tmp_path / "d.wav", "--ms", "250", "--feedback", "0.5", "--repeats", "2"]) == 0
    assert sf.info(str(tmp_path / "d.wav")).duration == pytest.approx(1.5, abs=0.06)


def test_cli_chain_string_and_patch(tmp_path, capsys):
    a = write(tmp_path / "a.wav", sine(440.0, 0.5))
    out = tmp_path / "c.wav"
    saved = tmp_path / "c.toml"
    assert run_cli(["chain", a, out, "reverse | delay ms=100 repeats=2 | layer(reverse, delay ms=50)",
                    "--save-patch", saved]) == 0
    assert "chain: reverse | delay time_ms=100 repeats=2 mode=repeats | layer(reverse, delay time_ms=50)" \
        in capsys.readouterr().out
    y1, _ = sf.read(out)
    assert len(y1) >= SR // 2
    assert run_cli(["chain", a, tmp_path / "c2.wav", "--patch", saved]) == 0
    y2, _ = sf.read(tmp_path / "c2.wav")
    np.testing.assert_array_equal(y1, y2)  # the saved patch renders the same, sample for sample


@pytest.mark.parametrize("argv,needle", [
    (["chain", "{a}", "{o}", "dleay ms=3"], "chain: column 1: 'dleay' is not a node type (did you mean 'delay'?)"),
    (["chain", "{a}", "{o}"], "give a chain string or --patch"),
    (["chain", "{a}", "{o}", "--patch", "{d}/nope.toml"], "nope.toml: cannot be read"),
    (["pitch", "{d}/missing.wav", "{o}", "--semitones", "3"], "missing.wav: cannot read audio: no such file"),
    (["pitch", "{bad}", "{o}", "--semitones", "3"], "bad.wav: cannot read audio"),
    (["reverse", "{a}", "{d}/out.mp3"], "out.mp3: unknown audio format '.mp3'"),
    (["delay", "{a}", "{o}", "--ms", "9000"], "--ms = 9000.0 is outside 1..4000"),
    (["stretch", "{a}", "{o}", "--factor", "9"], "--factor 9 is outside 0.25..4"),
])
def test_cli_errors_are_one_line(tmp_path, capsys, argv, needle):
    a = write(tmp_path / "a.wav", sine(440.0, 0.2))
    (tmp_path / "bad.wav").write_bytes(b"RIFF not really a wave file")
    fill = {"a": a, "o": str(tmp_path / "o.wav"), "d": str(tmp_path), "bad": str(tmp_path / "bad.wav")}
    assert run_cli([s.format(**fill) for s in argv]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("livehost: error: ") and needle in err[0]
