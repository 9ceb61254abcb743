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
