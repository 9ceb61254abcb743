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
