"""Recording a take: the null driver's file per run, and a take that survives ``kill -9``."""

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import soundfile as sf

from livehost.paths import recording_path, recordings_dir
from tests.conftest import ROOT, sine

SR = 48000
AMP = 0.3
GAIN_DB = -6.0  # patches/gain-only.toml


def test_recordings_go_beside_the_patches_folder_under_a_new_name(tmp_path):
    (tmp_path / "patches").mkdir()
    patch = tmp_path / "patches" / "my set.toml"
    assert recordings_dir(patch) == tmp_path / "recordings"
    assert recordings_dir(tmp_path / "elsewhere" / "x.toml") == tmp_path / "elsewhere" / "recordings"
    when = time.mktime((2026, 5, 17, 21, 4, 9, 0, 0, -1))
    first = recording_path(patch, when)
    assert first == tmp_path / "recordings" / "my set-20260517-210409.wav"
    first.write_bytes(b"")
    assert recording_path(patch, when).name == "my set-20260517-210409-2.wav"  # never over a take


def _start(args, cwd):
    proc = subprocess.Popen([sys.executable, "-m", "livehost", *args], cwd=cwd, stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(ln) for ln in proc.stderr], daemon=True).start()
    return proc, lines


def _wait_for(proc, lines, pattern, seen, timeout=300.0):  # a cold compile cache takes a minute or two
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            ln = lines.get(timeout=1.0)
        except queue.Empty:
            assert proc.poll() is None, "".join(seen)
            continue
        seen.append(ln)
        m = re.search(pattern, ln)
        if m:
            return m
    raise AssertionError("".join(seen))


def test_a_take_killed_after_3_s_is_a_valid_wav_of_at_least_2_s(tmp_path):
    (tmp_path / "patches").mkdir()
    shutil.copy(os.path.join(ROOT, "patches", "gain-only.toml"), tmp_path / "patches" / "gain-only.toml")
    tone = tmp_path / "tone.wav"
    sf.write(tone, sine(1000.0, 1.0, amp=AMP), SR)  # looped: 1000 whole cycles, no seam
    proc, lines = _start(["run", "patches/gain-only.toml", "--driver", "null", "--input", str(tone), "--loop"],
                         cwd=tmp_path)
    seen: list[str] = []
    try:
        m = _wait_for(proc, lines, r"recording what you would hear to (\S+\.wav)$", seen)
        path = tmp_path / m.group(1)
        assert path.parent.resolve() == (tmp_path / "recordings").resolve() and path.name.startswith("gain-only-")
        _wait_for(proc, lines, r" on null ", seen)  # said once the first block has played
        t_end = time.monotonic() + 3.0
        while time.monotonic() < t_end:
            assert proc.poll() is None, "".join(seen)
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    info = sf.info(str(path))
    print(f"declared {info.frames / SR:.3f} s, on disk {(path.stat().st_size - 58) / 8 / SR:.3f} s")
    assert info.samplerate == SR and info.channels == 2 and info.subtype == "FLOAT"
    assert info.frames >= 2 * SR, info.frames
    y, _ = sf.read(path, always_2d=True)
    tail = y[-SR:, 0]  # the last second the header declares: the tone through -6 dB
    rms_db = 10 * np.log10(np.mean(tail ** 2))
    expect = 20 * np.log10(AMP / np.sqrt(2)) + GAIN_DB
    assert abs(rms_db - expect) < 0.1, (rms_db, expect)


def test_the_null_driver_writes_a_new_file_each_run_and_says_which(tmp_path):
    (tmp_path / "patches").mkdir()
    shutil.copy(os.path.join(ROOT, "patches", "gain-only.toml"), tmp_path / "patches" / "gain-only.toml")
    names = []
    for _ in range(2):
        r = subprocess.run([sys.executable, "-m", "livehost", "run", "patches/gain-only.toml", "--driver", "null",
                            "--input", "none", "--duration", "0.3", "--quiet"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        names.append(re.search(r"recording what you would hear to (\S+\.wav)", r.stderr).group(1))
    assert names[0] != names[1]
    assert sorted(p.name for p in (tmp_path / "recordings").iterdir()) == sorted(os.path.basename(n) for n in names)
    assert not (tmp_path / "livehost-null.wav").exists()
    for n in names:
        assert 0.2 * SR < sf.info(str(tmp_path / n)).frames < 0.6 * SR


def test_a_writer_that_falls_behind_drops_whole_blocks_counts_them_and_the_status_shows_them(tmp_path, monkeypatch):
    from livehost.engine import layout as L
    from livehost.engine.drivers.offline import render
    from livehost.engine.drivers.recorder import Recorder
    from livehost.session import Session
    from livehost.ui.widgets import recording_text

    monkeypatch.setenv("LIVEHOST_STATE", str(tmp_path / "state"))
    (tmp_path / "patches").mkdir()
    shutil.copy(os.path.join(ROOT, "patches", "gain-only.toml"), tmp_path / "patches" / "gain-only.toml")
    s = Session(str(tmp_path / "patches" / "gain-only.toml"), driver="none")
    try:
        stalled = Recorder(s.engine, str(tmp_path / "slow.wav"), poll_s=3600.0)  # never drains while it runs
        stalled.start()
        s.recorder = stalled
        over = 10 * 128
        render(s.engine, L.REC_CAP + over)  # the ring holds REC_CAP frames (a multiple of the block)
        assert stalled.drops == over
        assert recording_text(s).startswith(f"● REC 0:00 {tmp_path.name}/slow.wav DROPPED {over} fr | ")
        rec = s.stop_recording()
        assert rec.frames == L.REC_CAP and sf.info(str(tmp_path / "slow.wav")).frames == L.REC_CAP
    finally:
        s.close()


def test_a_full_disk_stops_the_take_with_the_reason_and_keeps_what_was_written(tmp_path, monkeypatch):
    from livehost.engine.drivers.offline import render
    from livehost.engine.drivers.wavstream import WavStream
    from livehost.session import Session
    from livehost.ui.widgets import recording_text

    monkeypatch.setenv("LIVEHOST_STATE", str(tmp_path / "state"))
    (tmp_path / "patches").mkdir()
    shutil.copy(os.path.join(ROOT, "patches", "gain-only.toml"), tmp_path / "patches" / "gain-only.toml")
    s = Session(str(tmp_path / "patches" / "gain-only.toml"), driver="none")
    real_write = WavStream.write

    def write(self, block):
        if self.frames >= SR:
            raise OSError(28, "No space left on device")
        real_write(self, block)

    monkeypatch.setattr(WavStream, "write", write)
    try:
        path = s.record()
        render(s.engine, SR)
        time.sleep(0.3)  # drained
        assert s.recording
        render(s.engine, SR)
        end = time.monotonic() + 5
        while s.recording and time.monotonic() < end:
            time.sleep(0.02)
        assert not s.recording
        assert recording_text(s) == "REC STOPPED: [Errno 28] No space left on device | "
        rec = s.stop_recording()
        assert rec.error and sf.info(path).frames == SR
        assert s.record() != path  # a new take can start
    finally:
        s.close()
