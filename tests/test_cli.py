"""The livehost command as a user runs it: check, render, run with the null driver, clear errors."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import ROOT, sine

DEFAULT = os.path.join(ROOT, "patches", "default.toml")
GAIN = os.path.join(ROOT, "patches", "gain-only.toml")


def lh(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "livehost", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def errors(r) -> str:
    """stderr without the compile progress lines (printed when the engine's cache is cold or slow)."""
    return "".join(line for line in r.stderr.splitlines(keepends=True)
                   if not line.startswith(("livehost: compiling the audio engine", "livehost: audio engine compiled")))


def test_check_ok_and_error_exit_codes(tmp_path):
    r = lh("check", DEFAULT)
    assert r.returncode == 0 and r.stdout.startswith("ok: ")
    bad = tmp_path / "bad.toml"
    bad.write_text('[[chain]]\ntype = "delay"\nid = "d"\nfeedback = 1.7\n')
    r = lh("check", str(bad))
    assert r.returncode == 1
    assert r.stderr.strip() == f"livehost: error: {bad}:4: d.feedback = 1.7 is outside 0..0.99"
    assert "Traceback" not in r.stderr


def test_render_writes_the_input_length_plus_tail(tmp_path):
    x = sine(440, 1.0, amp=0.3)
    src = tmp_path / "in.wav"
    sf.write(src, x, 48000, subtype="FLOAT")
    out = tmp_path / "out.wav"
    js = tmp_path / "s.json"
    r = lh("render", GAIN, "--input", str(src), "--output", str(out), "--tail", "0.5", "--stats-json", str(js))
    assert r.returncode == 0, r.stderr
    y, sr = sf.read(out, always_2d=True)
    assert sr == 48000 and len(y) == 48000 + 24000
    np.testing.assert_allclose(y[72:48000, 0], x[:48000 - 72, 0] * 10 ** (-6 / 20), atol=1e-6)
    s = json.loads(js.read_text())
    assert s["driver"] == "offline" and s["nan_resets"] == 0


def test_run_with_the_null_driver_records_in_real_time(tmp_path):
    x = sine(220, 2.0, amp=0.3)
    src = tmp_path / "in.wav"
    sf.write(src, x, 48000, subtype="FLOAT")
    out = tmp_path / "null.wav"
    js = tmp_path / "s.json"
    r = lh("run", GAIN, "--driver", "null", "--input", str(src), "--duration", "1.5", "--output", str(out),
           "--stats-json", str(js))
    assert r.returncode == 0, r.stderr
    s = json.loads(js.read_text())
    assert s["driver"] == "null"
    assert 1.3 < s["duration_s"] < 2.0  # paced by the clock, not as fast as possible
    y, _ = sf.read(out, always_2d=True)
    assert abs(len(y) - s["frames"]) <= 128
    assert np.abs(y).max() > 0.1


def test_python_dash_m_and_help():
    r = lh("--help")
    assert r.returncode == 0 and "render" in r.stdout and "devices" in r.stdout


def test_missing_patch_and_bad_input_file_are_one_line_errors(tmp_path):
    r = lh("check", str(tmp_path / "nope.toml"))
    assert r.returncode == 1 and errors(r).count("\n") == 1 and "nope.toml: cannot be read" in r.stderr
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio at all")
    r = lh("render", GAIN, "--input", str(junk), "--output", str(tmp_path / "o.wav"))
    assert r.returncode == 1 and errors(r).count("\n") == 1 and f"{junk}: cannot read audio" in r.stderr


def test_portaudio_missing_says_how_to_install(monkeypatch):
    import builtins

    from livehost.engine.drivers import portaudio
    from livehost.errors import AudioError

    real = builtins.__import__

    def fake(name, *a, **k):
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return real(name, *a, **k)

    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(AudioError, match="apt-get install libportaudio2"):
        portaudio.load_portaudio()


def test_no_device_says_use_the_null_driver(monkeypatch):
    from livehost.engine.drivers import portaudio
    from livehost.errors import AudioError

    monkeypatch.setattr(portaudio, "list_devices", lambda: [])
    with pytest.raises(AudioError, match="--driver null"):
        portaudio.find_device(None, "output")


def test_devices_lists_something_or_says_why():
    r = lh("devices", "--json")
    assert r.returncode == 0
    d = json.loads(r.stdout)
    assert "audio" in d and "midi_inputs" in d
