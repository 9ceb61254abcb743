"""Is a JACK server up? Tests that need one skip without it, unless CI demands it (LIVEHOST_REQUIRE_JACK=1)."""

import os
import shutil
import subprocess

import pytest


def jack_running() -> bool:
    if not shutil.which("jack_lsp"):
        return False
    env = dict(os.environ, JACK_NO_START_SERVER="1")
    r = subprocess.run(["jack_lsp"], capture_output=True, text=True, timeout=10, env=env)
    return r.returncode == 0 and "system:playback" in r.stdout


def need_jack():
    """Skip (or fail under CI) when no JACK server is running."""
    if jack_running():
        return
    if os.environ.get("LIVEHOST_REQUIRE_JACK") == "1":
        pytest.fail("JACK is not running but LIVEHOST_REQUIRE_JACK=1 (.ci/run starts it)")
    pytest.skip("no JACK server running (start: jackd -R -d dummy -r 48000 -p 128)")


XRUN_ATTEMPTS = 2
"""Real-time measurements on the JACK dummy server are taken at most this many times.

Why a second take: on these 2-core virtual machines the JACK server itself sometimes wakes late (its
log says ``JackTimedDriver::Process XRun``) while livehost's callback stays far inside its budget
(measured: 1 xrun in 20 s with dsp_load_max 0.10 under a concurrent CPU-bound process; 0 in runs
without one). A callback that took the GIL would fail nearly every block (94% in
``../shared/research/realtime.md``), in every take, so one clean take out of two still proves the
callback is GIL-free, and a real regression still fails."""


def clean_take(measure, attempts: int = XRUN_ATTEMPTS) -> tuple[dict, list[dict]]:
    """Call ``measure() -> stats`` until a take has 0 xruns (at most ``attempts`` times).

    Returns ``(stats of the last take, all takes)``; the caller asserts on the last one and prints all."""
    takes = []
    for _ in range(attempts):
        takes.append(measure())
        if takes[-1]["xruns"] == 0:
            break
    return takes[-1], takes
