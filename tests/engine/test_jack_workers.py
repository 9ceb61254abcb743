"""The real command on JACK with its side threads running: classifier, generator, MIDI input.

Each runs ``livehost run`` in a subprocess on the JACK dummy server (real-time, 128 frames) and reads
``--stats-json``: while the workers do their job the audio sees no more flagged callbacks than an empty
patch alone on the same server (``tests/jackutil.py``).
"""

import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import ROOT
from tests.jackutil import controlled_takes, need_jack, take_ok, takes_summary
from tests.synth.util import fit_freq

pytestmark = pytest.mark.jack


@pytest.fixture(autouse=True)
def _jack():
    need_jack()


def _run(tmp_path, patch, seconds, *extra):
    out = tmp_path / "s.json"
    r = subprocess.run([sys.executable, "-m", "livehost", "run", os.path.join(ROOT, "patches", patch),
                        "--driver", "portaudio", "--duration", str(seconds), "--stats-json", str(out), "--quiet",
                        *extra], capture_output=True, text=True, timeout=180, cwd=ROOT,
                       env={**os.environ, "LIVEHOST_STATE": str(tmp_path)})
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(out.read_text())


def test_classifier_worker_on_jack_classifies_with_xruns_within_empty_patch_control(tmp_path):
    from livehost.ml.classifier import GenreModel, default_model_path
    from livehost.ml.features import resample_to

    # compile the feature code into the numba cache first: a cold compile inside the run would take
    # longer than the ~5 s the engine's analysis tap holds, and the first window would be lost
    GenreModel(default_model_path()).predict_audio(resample_to(np.zeros(48000 * 6), 48000, 22050))
    take, takes = controlled_takes(lambda: _run(tmp_path, "genre-monitor.toml", 10, "--input",
                                                "patches/audio/demo.flac", "--loop"), 10, busy=True)
    assert take_ok(take), takes_summary(takes)
    s = take["patch"]
    assert s["worker_problems"] == []
    assert s["classifications"] >= 1, s["classifier"]
    assert len(s["classifier"]["top3"]) == 3 and s["classifier"]["error"] is None


def test_generator_on_jack_no_underruns_xruns_within_empty_patch_control(tmp_path):
    """The generator's worker keeps its ring fed for 8 s on JACK with a busy Python thread beside it.
    The worker is an ordinary thread: on a host whose cores are all taken by other work it can be starved
    for a moment, so a take with an underrun is run again (at most three)."""
    for _ in range(3):
        take, takes = controlled_takes(lambda: _run(tmp_path, "generator-arp19.toml", 8, "--input", "none",
                                                    "--output", str(tmp_path / "gen.wav")), 8, busy=True)
        if take["patch"]["generator_underruns"] == 0:
            break
    assert take_ok(take), takes_summary(takes)
    s = take["patch"]
    assert s["worker_problems"] == []
    assert s["generator_underruns"] == 0 and s["generator_underrun_frames"] == 0, s
    y, sr = sf.read(tmp_path / "gen.wav", always_2d=True)
    assert np.isfinite(y).all() and np.sqrt(np.mean(y[sr:] ** 2)) > 1e-3  # it played, after its warm-up


def test_run_command_plays_the_synth_from_a_virtual_jack_midi_port(tmp_path):
    """``livehost run --midi-virtual NAME``: a second client sends notes, the recording has them."""
    import rtmidi

    stats = {}

    def host():
        stats.update(_run(tmp_path, "synth-31edo.toml", 4, "--midi-virtual", "lh-run-in", "--midi-api", "jack",
                          "--output", str(tmp_path / "synth.wav")))

    t = threading.Thread(target=host)
    t.start()
    out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="lh-run-sender")
    try:
        end = time.monotonic() + 60
        while time.monotonic() < end and not any("lh-run-in" in p for p in out.get_ports()):
            time.sleep(0.05)
        ports = out.get_ports()
        hit = [i for i, p in enumerate(ports) if "lh-run-in" in p]
        assert hit, ports
        out.open_port(hit[0])
        time.sleep(0.3)
        out.send_message([0x90, 80, 100])  # 31-EDO: 440 * 2**(11/31) Hz
        time.sleep(1.0)
        out.send_message([0x80, 80, 0])
    finally:
        t.join()
        out.delete()
    assert stats["midi_events"] >= 2 and stats["worker_problems"] == []
    y, sr = sf.read(tmp_path / "synth.wav", always_2d=True)
    loud = np.nonzero(np.abs(y[:, 0]) > 0.01)[0]
    assert loud.size, "the note never sounded"
    seg = y[loud[0] + sr // 10:loud[0] + sr // 10 + sr // 2, 0]
    want = 440.0 * 2 ** (11 / 31)
    assert 1200 * abs(np.log2(fit_freq(seg, sr, want) / want)) < 0.5
