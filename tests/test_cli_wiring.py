"""Every room's subcommand is reachable from the one ``livehost`` command, end to end."""

import json
import os

import numpy as np
import pytest
import soundfile as sf

from livehost.cli import main
from tests.conftest import ROOT
from tests.midi.test_midifile import write_mid
from tests.synth.util import fit_freq


def test_every_subcommand_is_registered(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for cmd in ("devices", "run", "render", "ui", "check", "tuning", "features", "classify", "train", "tools",
                "generate"):
        assert f"    {cmd} " in out, cmd
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    assert "classifier" in out and "generator" in out


def test_tools_tone_through_the_main_command(tmp_path):
    out = tmp_path / "a.wav"
    assert main(["tools", "tone", "--hz", "440", "--wave", "sine", "--seconds", "0.5", str(out)]) == 0
    y, sr = sf.read(out, always_2d=True)
    assert len(y) == sr // 2
    assert fit_freq(y[1000:-1000, 0], sr, 440.0) == pytest.approx(440.0, rel=1e-6)


def test_render_midi_through_the_main_command(tmp_path, capsys):
    mid = write_mid(tmp_path / "song.mid", [(0, 480, 80, 100, 0)])  # 0.5 s at 120 bpm
    out = tmp_path / "out.wav"
    stats = tmp_path / "s.json"
    assert main(["render", os.path.join(ROOT, "patches", "synth-31edo.toml"), "--midi", str(mid), "--output",
                 str(out), "--stats-json", str(stats)]) == 0
    y, sr = sf.read(out, always_2d=True)
    assert json.loads(stats.read_text())["events"] == 2
    want = 440.0 * 2 ** (11 / 31)
    assert fit_freq(y[4800:20000, 0], sr, want) == pytest.approx(want, rel=1e-6)
    assert main(["render", os.path.join(ROOT, "patches", "synth-31edo.toml"), "--midi", str(mid), "--input",
                 str(out), "--output", str(out)]) == 1
    assert "give --midi or --input, not both" in capsys.readouterr().err


def test_generate_through_the_main_command(tmp_path):
    out = tmp_path / "g.wav"
    model = os.path.join(ROOT, "models", "generator-arp19.onnx")
    assert main(["generate", "--model", model, "--seconds", "1", "--output", str(out), "--seed", "3"]) == 0
    y, sr = sf.read(out)
    assert len(y) == sr and np.isfinite(y).all() and np.sqrt(np.mean(y ** 2)) > 1e-3


# ---- input routing flags: --input-device / --output-device (PortAudio), --channels (JACK) ---------------
class _Refuse:
    """A stand-in driver class: records the keyword arguments it was made with, then refuses (no device)."""

    seen: dict = {}

    def __init__(self, eng, **kw):
        type(self).seen = kw
        from livehost.errors import AudioError

        raise AudioError("stand-in driver")


def test_routing_flags_parse_for_run_and_ui(capsys):
    from livehost.cli import build_parser

    ap = build_parser()
    for cmd in ("run", "ui"):
        a = ap.parse_args([cmd, "p.toml", "--input-device", "2", "--output-device", "USB", "--channels", "6"])
        assert (a.input_device, a.output_device, a.channels, a.device) == ("2", "USB", 6, None)
        a = ap.parse_args([cmd, "p.toml"])
        assert (a.input_device, a.output_device, a.channels) == (None, None, 2)
        with pytest.raises(SystemExit):
            ap.parse_args([cmd, "p.toml", "--channels", "9"])
        assert "'9' is not a channel count (1..8)" in capsys.readouterr().err


def test_run_gives_the_devices_to_portaudio_and_the_channels_to_jack(monkeypatch, capsys):
    import livehost.engine.drivers.portaudio as pa
    import livehost.session as S

    patch = os.path.join(ROOT, "patches", "gain-only.toml")
    monkeypatch.setattr(pa, "PortAudioDriver", _Refuse)
    assert main(["run", patch, "--driver", "portaudio", "--device", "Card", "--input-device", "2",
                 "--duration", "0.1", "--quiet"]) == 1
    assert (_Refuse.seen["device"], _Refuse.seen["in_device"]) == ("Card", "2")
    assert main(["run", patch, "--driver", "portaudio", "--device", "Card", "--output-device", "USB",
                 "--duration", "0.1", "--quiet"]) == 1
    assert (_Refuse.seen["device"], _Refuse.seen["in_device"]) == ("USB", "Card")
    monkeypatch.setattr(S, "JackDriver", _Refuse)
    assert main(["run", patch, "--driver", "jack", "--channels", "6", "--duration", "0.1", "--quiet"]) == 1
    assert _Refuse.seen["channels"] == 6
    assert "stand-in driver" in capsys.readouterr().err


def test_ui_gives_the_devices_and_channels_to_its_session(monkeypatch):
    import livehost.engine.drivers.portaudio as pa
    import livehost.session as S
    from livehost.errors import AudioError

    patch = os.path.join(ROOT, "patches", "gain-only.toml")
    made = {}

    def session(path, **kw):
        made.update(kw)
        raise AudioError("stand-in session")

    monkeypatch.setattr(S, "Session", session)
    assert main(["ui", patch, "--device", "Card", "--input-device", "2", "--channels", "3"]) == 1
    assert (made["device"], made["in_device"], made["jack_channels"]) == ("Card", "2", 3)
    monkeypatch.undo()
    # and the session hands them on to the drivers
    monkeypatch.setattr(pa, "PortAudioDriver", _Refuse)
    with pytest.raises(AudioError, match="stand-in driver"):
        S.Session(patch, driver="portaudio", device="USB", in_device="2", start_models=False)
    assert (_Refuse.seen["device"], _Refuse.seen["in_device"]) == ("USB", "2")
    monkeypatch.setattr(S, "JackDriver", _Refuse)
    with pytest.raises(AudioError, match="stand-in driver"):
        S.Session(patch, driver="jack", jack_channels=5, start_models=False)
    assert _Refuse.seen["channels"] == 5
