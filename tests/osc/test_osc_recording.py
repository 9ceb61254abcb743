"""The issue's OSC test as a performer would do it: ``livehost run ... --output rec.wav --osc`` in its own
process, a python-osc client on 127.0.0.1 sets ``/livehost/master/gain_db -20`` mid-run, and the
recording's level drops by 20 dB."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time

import numpy as np
import soundfile as sf
from pythonosc.udp_client import SimpleUDPClient

from tests.conftest import ROOT, sine

SR = 48000
AMP = 0.25  # linear peak: RMS -15.05 dBFS, far below the limiter's -0.3 dBFS ceiling
WIN = 480  # 10 ms windows: ten whole cycles of 1 kHz, so a window's RMS is the sine's exactly


def window_db(x: np.ndarray) -> np.ndarray:
    """RMS (dBFS) of consecutive ``WIN``-sample windows of a mono signal."""
    n = x.size // WIN
    w = x[:n * WIN].reshape(n, WIN).astype(np.float64)
    return 10 * np.log10(np.maximum(np.mean(w * w, axis=1), 1e-30))


def test_master_gain_over_osc_drops_the_recording_by_20_db(tmp_path):
    tone = tmp_path / "tone.wav"
    sf.write(tone, sine(1000.0, 1.0, amp=AMP), SR)  # looped: 1000 whole cycles, no seam
    patch = tmp_path / "plain.toml"
    patch.write_text('[patch]\nname = "plain"\n[input]\nsource = "mic"\n')
    rec = tmp_path / "rec.wav"
    proc = subprocess.Popen(
        [sys.executable, "-m", "livehost", "run", str(patch), "--driver", "null", "--input", str(tone),
         "--loop", "--output", str(rec), "--osc", "0", "--duration", "2.5"],
        cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(ln) for ln in proc.stderr], daemon=True)
    reader.start()
    port, playing, seen = None, False, []
    end = time.monotonic() + 300  # a cold compile cache takes a minute or two
    while not playing and time.monotonic() < end:
        try:
            ln = lines.get(timeout=1.0)
        except queue.Empty:
            assert proc.poll() is None, "".join(seen)
            continue
        seen.append(ln)
        if "OSC on udp 127.0.0.1:" in ln:
            port = int(ln.rsplit(":", 1)[1])
        playing = "on null" in ln
    assert port and playing, "".join(seen)
    time.sleep(1.0)
    SimpleUDPClient("127.0.0.1", port).send_message("/livehost/master/gain_db", -20.0)
    assert proc.wait(timeout=30) == 0, "".join(seen)
    reader.join(timeout=5)

    y, sr = sf.read(rec, dtype="float32")
    assert sr == SR and y.shape[1] == 2
    db = window_db(y[:, 0])
    assert db.size > 200  # 2.5 s recorded
    start = int(np.argmax(db > -40))  # the first block of sound (the file starts playing)
    loud = db[start + 5:start + 55]  # 0.5 s after the start, well before the message (sent ~1 s in)
    quiet = db[-55:-5]  # the last 0.5 s, well after it
    before, after = float(np.median(loud)), float(np.median(quiet))
    assert abs(before - 20 * np.log10(AMP / np.sqrt(2))) < 0.2, before  # the tone, untouched
    assert np.ptp(loud) < 0.1 and np.ptp(quiet) < 0.1, (np.ptp(loud), np.ptp(quiet))  # steady levels
    print(f"OSC gain -20 dB: before {before:.3f} dBFS, after {after:.3f} dBFS, drop {before - after:.3f} dB")
    assert abs((before - after) - 20.0) <= 0.5, (before, after)
    # the change happened once, mid-run: every window is at one level or between them
    step = np.flatnonzero(db[start:] < before - 10)
    assert step.size and 0.5 < (start + step[0]) * WIN / SR < 2.3
