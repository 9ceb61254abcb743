"""A real PortAudio stream on the JACK dummy server, through the compiled cfunc callback."""

import json
import os
import subprocess
import sys
import threading
import time
import types

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import ROOT, sine
from tests.jackutil import XRUN_MARGIN, Control, controlled_takes, measure_take, need_jack, take_ok, takes_summary

pytestmark = pytest.mark.jack

SECONDS = 5.0  #: seconds of each real-time take's patch (its control: as long again, in two halves)


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


def _busy(stop: threading.Event) -> None:
    """Pure-Python work that holds the GIL until ``stop`` is set."""
    d = {}
    while not stop.is_set():
        for i in range(1000):
            d[i] = [i] * 3


def test_busy_python_thread_xruns_within_empty_patch_control(tmp_path):
    """The callback never takes the GIL: with a pure-Python busy thread beside it, the default patch
    sees no more flagged callbacks than the empty patch alone."""
    from livehost.engine.drivers.portaudio import PortAudioDriver
    from livehost.engine.patching import engine_for
    from livehost.patch import load

    def measure():
        eng = engine_for(load(os.path.join(ROOT, "patches", "default.toml")))
        drv = PortAudioDriver(eng)
        stop = threading.Event()
        t = threading.Thread(target=_busy, args=(stop,))
        drv.start()
        t.start()
        time.sleep(SECONDS)
        stop.set()
        t.join()
        drv.stop()
        return eng.stats()

    take, takes = controlled_takes(measure, SECONDS)
    assert take_ok(take), takes_summary(takes)
    assert take["patch"]["callbacks"] > 0.9 * SECONDS * 48000 / 128


def test_gil_bound_python_callback_fails_the_control_judgement():
    """The negative of the test above: a callback written in Python (sounddevice), with the same busy
    thread beside it, waits for the GIL and is flagged far beyond the empty-patch control."""
    import sounddevice as sd

    from livehost.engine import layout as L
    from livehost.engine.drivers.portaudio import JackXrunCounter

    def measure():
        counts = {"xruns": 0, "callbacks": 0}

        def callback(indata, outdata, frames, t, status):
            counts["callbacks"] += 1
            if status:
                counts["xruns"] += 1
            outdata[:] = 0.5 * indata[:, :outdata.shape[1]]

        arena = types.SimpleNamespace(a=np.zeros(L.H_SIZE))  # JACK's own xruns, counted GIL-free
        jack = JackXrunCounter(arena)
        stop = threading.Event()
        t = threading.Thread(target=_busy, args=(stop,))
        try:
            with sd.Stream(samplerate=48000, blocksize=128, channels=2, dtype="float32", latency="low",
                           callback=callback):
                t.start()
                time.sleep(SECONDS)
                stop.set()
                t.join()
        finally:
            stop.set()
            jack.close()
        return dict(counts, jack_xruns=int(arena.a[L.H_JACK_XRUNS]))

    take = measure_take(measure, SECONDS, Control())
    summary = takes_summary([take])
    print(summary)  # shown with pytest -rP
    assert not take_ok(take), summary
    # not a near miss: over 20 times the margin beyond the control, a quarter of the callbacks
    assert take["patch_xruns"] > take["control_xruns"] + 20 * XRUN_MARGIN, summary
    assert take["patch_xruns"] > 0.25 * take["patch"]["callbacks"], summary


def test_run_command_under_gil_stress_xruns_within_empty_patch_control(tmp_path):
    """``livehost run --stress-gil`` (a busy Python thread in the host) on JACK: its stats JSON, and no
    more flagged callbacks than the empty patch alone."""
    out = tmp_path / "s.json"
    seconds = 2 * SECONDS

    def measure():
        r = subprocess.run([sys.executable, "-m", "livehost", "run", os.path.join(ROOT, "patches", "default.toml"),
                            "--driver", "portaudio", "--duration", str(seconds), "--stress-gil", "--stats-json",
                            str(out), "--quiet"], capture_output=True, text=True, timeout=180)
        assert r.returncode == 0, r.stderr[-2000:]
        return json.loads(out.read_text())

    take, takes = controlled_takes(measure, seconds)
    assert take_ok(take), takes_summary(takes)
    s = take["patch"]
    for key in ("callbacks", "xruns", "dsp_load_p50", "dsp_load_p99", "dsp_load_max", "nan_resets",
                "samplerate", "blocksize", "driver"):
        assert key in s
    assert s["driver"] == "portaudio" and s["samplerate"] == 48000 and s["blocksize"] == 128
    assert s["callbacks"] > 0.95 * seconds * 48000 / 128
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
