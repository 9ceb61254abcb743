"""The JACK server going away under ``livehost run --driver jack`` and coming back.

Each test starts its own JACK server under a name of its own (``jackd -n ...``; livehost and the
tools find it through ``JACK_DEFAULT_SERVER``), so the shared server other tests use is never
touched; what a test starts it stops by PID.

JACK keeps at most 8 servers in its registry (``/dev/shm/jack-shm-registry``) and a server killed
with SIGKILL leaves its entry (and its shared memory) behind until a server of the same name starts
again. So the names are the same from run to run of one checkout (a stale entry is reclaimed), and a
test that kills its server starts it once more and stops it cleanly before it ends.
"""

import json
import os
import zlib
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.jack, pytest.mark.slow]

STARTUP_S = 600  # a first run compiles the audio path


@pytest.fixture(autouse=True)
def _jackd_binary():
    if not shutil.which("jackd") or not shutil.which("jack_lsp"):
        pytest.skip("jackd / jack_lsp not installed")


class Server:
    """A private dummy JACK server (48 kHz, 128 frames) named for this checkout and ``tag``."""

    def __init__(self, tag: str, log_dir):
        self.name = f"lhtest{zlib.crc32(str(ROOT).encode()):08x}{tag}"
        self.env = dict(os.environ, JACK_DEFAULT_SERVER=self.name, JACK_NO_START_SERVER="1")
        self.log = log_dir / f"jackd-{tag}.log"
        self.proc = None
        self.killed = False

    def start(self) -> float:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(["jackd", "-n", self.name, "-d", "dummy", "-r", "48000", "-p", "128"],
                                         stdout=log, stderr=subprocess.STDOUT)
        end = time.monotonic() + 20
        while "system:playback_1" not in self.lsp():
            if self.proc.poll() is not None or time.monotonic() > end:
                raise AssertionError(f"the private JACK server {self.name} did not start "
                                     f"(status {self.proc.poll()}): {self.log.read_text()[-800:]}")
            time.sleep(0.05)
        return time.monotonic()

    def kill(self) -> float:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.killed = True
        return time.monotonic()

    def lsp(self) -> str:
        r = subprocess.run(["jack_lsp", "-c"], capture_output=True, text=True, timeout=10, env=self.env)
        return r.stdout if r.returncode == 0 else ""

    def stop(self) -> None:
        """Stop the server; one that was killed and is not running is started again and stopped
        cleanly, so it leaves no entry in JACK's registry."""
        if self.killed and (self.proc is None or self.proc.poll() is not None):
            try:
                self.start()
            except AssertionError:
                pass  # the test's own failure says more
        self.killed = False
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class Run:
    """``livehost run`` on the private server, its stderr lines stamped with time.monotonic()."""

    def __init__(self, server: Server, args: list[str]):
        env = dict(server.env, PYTHONPATH=ROOT)
        self.proc = subprocess.Popen([sys.executable, "-m", "livehost", "run", *args], cwd=ROOT, env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines: list[tuple[float, str]] = []
        self._t = threading.Thread(target=self._read, daemon=True)
        self._t.start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append((time.monotonic(), line.strip()))

    def wait_line(self, text: str, timeout: float) -> float:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for t, line in list(self.lines):
                if text in line:
                    return t
            if self.proc.poll() is not None:
                self._t.join(5)
                for t, line in self.lines:
                    if text in line:
                        return t
                raise AssertionError(f"livehost exited ({self.proc.returncode}) without '{text}': {self.lines}")
            time.sleep(0.01)
        raise AssertionError(f"no '{text}' within {timeout} s: {self.lines}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def _ports_back(server: Server) -> bool:
    out = server.lsp()
    return "livehost:out_1\n   system:playback_1" in out and "livehost:out_2\n   system:playback_2" in out


def _came_back(run, rc, stats, t_up, t_back, t_run, t_end, max_s) -> dict:
    """A 20 s run whose server went away once and came back: it ended well and on time (at most
    ``max_s`` s), back within 5 s of the server, the null driver kept the engine going meanwhile
    (about 20 s of frames in all); its stats."""
    assert rc == 0, run.lines
    assert t_back - t_up < 5.0
    assert 19.5 < t_end - t_run < max_s, (t_end - t_run, run.lines)
    s = json.loads(stats.read_text())
    assert s["server_lost"] == 1 and s["reconnects"] == 1, s
    assert 18.0 < s["frames"] / 48000 < 21.0, s["frames"]
    return s


def test_server_killed_and_restarted_with_reconnect(tmp_path):
    """jackd killed 5 s into a 20 s run and started again 3 s later: livehost says so within 1 s,
    carries on, has its ports (and their connections) back within 5 s, ends on time with stats."""
    server = Server("a", tmp_path)
    stats = tmp_path / "s.json"
    server.start()
    run = Run(server, ["patches/default.toml", "--input", "none", "--driver", "jack", "--reconnect",
                       "--duration", "20", "--stats-json", str(stats)])
    try:
        t_run = run.wait_line("on JACK", STARTUP_S)
        assert _ports_back(server)
        time.sleep(max(0.0, t_run + 5 - time.monotonic()))
        t_kill = server.kill()
        t_said = run.wait_line("audio server stopped", 5)
        assert t_said - t_kill < 1.0
        time.sleep(max(0.0, t_run + 8 - time.monotonic()))
        t_up = server.start()
        end = t_up + 5
        while not _ports_back(server):
            assert time.monotonic() < end, f"ports not back 5 s after the server: {server.lsp()}"
            time.sleep(0.05)
        t_back = time.monotonic()
        run.wait_line("audio server back", 5)
        rc = run.proc.wait(30)
        t_end = time.monotonic()
    finally:
        run.stop()
        server.stop()
    s = _came_back(run, rc, stats, t_up, t_back, t_run, t_end, 23.0)
    assert s["driver"] == "jack"
    print(f"said after {t_said - t_kill:.3f} s, ports back {t_back - t_up:.3f} s after the server")


def test_server_killed_without_reconnect_exits_1_with_stats(tmp_path):
    """Without --reconnect the run stops at once with status 1, says why and still writes its stats."""
    server = Server("b", tmp_path)
    stats = tmp_path / "s.json"
    server.start()
    run = Run(server, ["patches/default.toml", "--input", "none", "--driver", "jack", "--duration", "30",
                       "--stats-json", str(stats)])
    try:
        t_run = run.wait_line("on JACK", STARTUP_S)
        time.sleep(max(0.0, t_run + 3 - time.monotonic()))
        t_kill = server.kill()
        t_said = run.wait_line("audio server stopped", 5)
        rc = run.proc.wait(10)
        t_end = time.monotonic()
    finally:
        run.stop()
        server.stop()
    assert rc == 1, run.lines
    assert t_said - t_kill < 1.0
    assert t_end - t_kill < 3.0
    s = json.loads(stats.read_text())
    assert s["server_lost"] == 1 and s["reconnects"] == 0
    assert s["callbacks"] > 500


def _pa_run(server: Server, stats, *extra) -> tuple[Run, float]:
    run = Run(server, ["patches/default.toml", "--input", "none", "--driver", "portaudio", "--duration", "20",
                       "--stats-json", str(stats), *extra])
    return run, run.wait_line("JACK Audio Connection Kit", STARTUP_S)


def test_portaudio_stream_on_a_server_that_stops_is_noticed_and_exits_1_with_stats(tmp_path):
    """``--driver portaudio`` on JACK: the server stopping (SIGTERM, as a user restarting it) is
    noticed within 1 s, said, and the run ends with status 1 and its stats."""
    server = Server("c", tmp_path)
    stats = tmp_path / "s.json"
    server.start()
    run, t_run = _pa_run(server, stats)
    try:
        time.sleep(max(0.0, t_run + 3 - time.monotonic()))
        server.proc.terminate()
        t_stop = time.monotonic()
        t_said = run.wait_line("audio server stopped", 5)
        rc = run.proc.wait(10)
        t_end = time.monotonic()
    finally:
        run.stop()
        server.stop()
    assert rc == 1, run.lines
    assert t_said - t_stop < 1.0, run.lines
    assert t_end - t_stop < 4.0
    s = json.loads(stats.read_text())
    assert s["server_lost"] == 1 and s["reconnects"] == 0 and s["callbacks"] > 500
    print(f"said after {t_said - t_stop:.3f} s: {[line for _, line in run.lines if 'stopped' in line]}")


def test_portaudio_stream_reopens_when_the_server_is_back_with_reconnect(tmp_path):
    """With --reconnect the run carries on (null driver) and reopens the stream once the server is back."""
    server = Server("d", tmp_path)
    stats = tmp_path / "s.json"
    server.start()
    run, t_run = _pa_run(server, stats, "--reconnect")
    try:
        time.sleep(max(0.0, t_run + 3 - time.monotonic()))
        server.proc.terminate()
        server.proc.wait(10)
        run.wait_line("audio server stopped", 5)
        time.sleep(1.0)
        t_up = server.start()
        t_back = run.wait_line("audio server back", 10)
        rc = run.proc.wait(30)
        t_end = time.monotonic()
    finally:
        run.stop()
        server.stop()
    _came_back(run, rc, stats, t_up, t_back, t_run, t_end, 24.0)
