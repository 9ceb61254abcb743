"""The engine and DSP suites once more with numba's bounds checks on (``NUMBA_BOUNDSCHECK=1``).

The real-time code is compiled without bounds checks (speed; an out-of-range index there would
quietly read or write another node's memory). This test compiles a checked copy of everything, in a
cache of its own, and runs the engine, effect, synth and live-load suites in a child process, so an
out-of-block access fails a test (IndexError) instead of corrupting the arena silently.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pytest

from livehost.dsp.rt import rt_jit
from tests.conftest import ROOT
from tests.warm import boundscheck_env

CHILD = "LIVEHOST_BOUNDSCHECK_CHILD"
SUITES = [
    "tests/engine/test_boundscheck.py",  # its own check that the bounds checks are on
    "tests/engine/test_render.py", "tests/engine/test_safety.py", "tests/engine/test_control.py",
    "tests/engine/test_limiter.py", "tests/engine/test_midi_ring.py", "tests/engine/test_live_load.py",
    "tests/engine/test_live_edit_machine.py", "tests/engine/test_latency_compensation.py", "tests/effects", "tests/synth", "tests/generator/test_node.py",
]


@rt_jit
def _read(a, i):
    return a[i]


def test_bounds_checks_are_on_in_the_checked_run():
    if os.environ.get("NUMBA_BOUNDSCHECK") != "1":
        pytest.skip("runs inside the bounds-checked child (test_engine_and_dsp_suites_pass_bounds_checked)")
    with pytest.raises(IndexError):
        _read(np.zeros(4), 4)


@pytest.mark.slow
def test_engine_and_dsp_suites_pass_bounds_checked():
    if os.environ.get(CHILD):
        pytest.skip("this is the checked run itself")
    # its caches are its own (checked code never mixes with the real-time build); CI's set-up fills
    # them ahead (python -m tests.warm --boundscheck) while it compiles the others
    env = dict(os.environ, **boundscheck_env(), **{CHILD: "1"})
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-m", "not jack",
           "-k", "not test_every_key_is_in_tune", *SUITES]
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=2400)
    tail = "\n".join((r.stdout + r.stderr).splitlines()[-30:])
    assert r.returncode == 0, tail
    passed = re.search(r"(\d+) passed", tail)
    assert passed and int(passed.group(1)) >= 200, tail  # the suites ran, not just collected
