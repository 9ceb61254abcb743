"""A real PortAudio stream on the JACK dummy server, through the compiled cfunc callback."""

import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import ROOT, sine
from tests.jackutil import clean_take, need_jack, realtime_ok, takes_summary

pytestmark = pytest.mark.jack


@pytest.fixture(autouse=True)
def _jack():
    need_jack()


def _wav(path, x, sr=48000):
    sf.write(path, x, sr, subtype="FLOAT")
    return str(path)


def test_live_stream_equals_offline_render(tmp_path):
    from livehost.engine.drivers.offline import render
    from livehost.engine.drivers.portaudio import PortAudioDriver
    from livehost.engine.drivers.recorder import Recorder
    from livehost.engine.patching import engine_for
    from livehost.patch import load

    rng = np.random.default_rng(5)
    x = (sine(330, 2.0, amp=0.3) + rng.normal(0, 0.05, (96000, 2))).astype(np.float32)
    src = _wav(tmp_path / "in.wav", x)
    patch = load(os.path.join(ROOT, "patches", "default.toml"))

    live = engine_for(patch, input_override=src, loop=False)
    drv = PortAudioDriver(live, use_input=False)
    rec = Recorder(live, str(tmp_path / "live.wav"), channels=live.out_ch)
    rec.start()
    drv.start()
    while live.stats()["frames"] < len(x) + 48000:
        time.sleep(0.05)
    drv.stop()
    rec.stop()
    got, _ = sf.read(tmp_path / "live.wav", dtype="float32", always_2d=True)

    off = engine_for(patch, input_override=src, loop=False, in_ch=0)
    ref = render(off, len(got))
    assert live.stats()["callbacks"] > 100
    assert np.abs(ref).max() > 0.1
    assert np.array_equal(got, ref)


def test_busy_python_thread_causes_no_xruns(tmp_path):
    """The callback never takes the GIL: a pure-Python busy thread beside it changes nothing."""
    from livehost.engine.drivers.portaudio import PortAudioDriver
    from livehost.engine.patching import engine_for
    from livehost.patch import load

    def measure():
        eng = engine_for(load(os.path.join(ROOT, "patches", "default.toml")))
        drv = PortAudioDriver(eng)
        stop = threading.Event()

        def busy():
            d = {}
            while not stop.is_set():
                for i in range(1000):
                    d[i] = [i] * 3

        t = threading.Thread(target=busy)
        drv.start()
        t.start()
        time.sleep(5)
        stop.set()
        t.join()
        drv.stop()
        return eng.stats()

    s, takes = clean_take(measure)
    assert s["callbacks"] > 0.9 * 5 * 48000 / 128
    assert realtime_ok(s), takes_summary(takes)


def test_run_command_under_gil_stress_reports_no_xruns(tmp_path):
    out = tmp_path / "s.json"

    def measure():
        r = subprocess.run([sys.executable, "-m", "livehost", "run", os.path.join(ROOT, "patches", "default.toml"),
                            "--driver", "portaudio", "--duration", "20", "--stress-gil", "--stats-json", str(out),
                            "--quiet"], capture_output=True, text=True, timeout=180)
        assert r.returncode == 0, r.stderr[-2000:]
        return json.loads(out.read_text())

    s, takes = clean_take(measure)
    for key in ("callbacks", "xruns", "dsp_load_p50", "dsp_load_p99", "dsp_load_max", "nan_resets",
                "samplerate", "blocksize", "driver"):
        assert key in s
    assert s["driver"] == "portaudio" and s["samplerate"] == 48000 and s["blocksize"] == 128
    assert s["callbacks"] > 0.95 * 20 * 48000 / 128
    assert realtime_ok(s), takes_summary(takes)
    assert s["dsp_load_p99"] < 0.10, s
    assert s["startup_to_first_audio_s"] > 0  # measured; its targets live in benchmarks/realtime.py


def test_unsupported_rate_is_explained():
    from livehost.engine.drivers.portaudio import PortAudioDriver
    from livehost.engine.engine import Engine
    from livehost.errors import AudioError

    eng = Engine(44100, 128, 2, 2, heap_slots=1 << 16)
    drv = PortAudioDriver(eng)
    with pytest.raises(AudioError, match="sample rate 44100"):
        drv.start()
    assert not eng.running
