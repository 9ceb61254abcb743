"""The real command under tmux: start `livehost --driver null`, send keys, read the pane, quit."""

import os
import shutil
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed (.ci/setup installs it)")


def pane(name):
    return subprocess.run(["tmux", "capture-pane", "-t", name, "-p"], capture_output=True, text=True).stdout


def wait_for(name, text, timeout=120):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = pane(name)
        if text in got:
            return got
        time.sleep(0.3)
    raise AssertionError(f"'{text}' never appeared; pane:\n{pane(name)}")


def test_livehost_ui_under_tmux(tmp_path):
    name = f"lhsmoke{os.getpid()}"
    env = {**os.environ, "LIVEHOST_STATE": str(tmp_path), "JACK_NO_START_SERVER": "1", "TERM": "xterm-256color"}
    shutil.copy(f"{ROOT}/patches/default.toml", tmp_path / "mine.toml")
    cmd = (f"cd {ROOT} && {sys.executable} -m livehost ui {tmp_path / 'mine.toml'} --driver null "
           f"--input patches/audio/demo.flac")
    subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "140", "-y", "44", cmd], check=True, env=env)
    try:
        screen = wait_for(name, "master")
        assert "input_gain (gain)" in screen and "null" in screen
        assert "[B]" not in screen
        # the cursor starts on the input row: three rows down is the delay, whose name heads the inspector
        subprocess.run(["tmux", "send-keys", "-t", name, "Down", "Down", "Down"], check=True)
        screen = wait_for(name, "Echo delay")
        subprocess.run(["tmux", "send-keys", "-t", name, "b"], check=True)
        screen = wait_for(name, "[B] slap (delay)")
        assert "[B] highpass" not in screen
        assert "mine.toml *" in screen  # unsaved marker
        subprocess.run(["tmux", "send-keys", "-t", name, "q"], check=True)
        wait_for(name, "Quit anyway?")
        subprocess.run(["tmux", "send-keys", "-t", name, "y"], check=True)
        end = time.monotonic() + 20
        while time.monotonic() < end:
            alive = subprocess.run(["tmux", "has-session", "-t", name], capture_output=True).returncode == 0
            if not alive:
                break
            time.sleep(0.3)
        assert not alive, pane(name)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
