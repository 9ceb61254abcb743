"""JACK for the tests: is a server up (tests that need one skip without it, unless CI demands it with
LIVEHOST_REQUIRE_JACK=1), and real-time takes judged against an empty-patch control.

Real-time judgement.  On a shared 2-core VM the JACK dummy server flags callbacks whatever runs on it:
its own timer wakes late (``JackTimedDriver::Process XRun``) or a client is started late (``client =
... was not finished, state = Triggered``) whenever the host is busy, for every client alike.  So a take
is not held to zero, nor to a fixed share of callbacks, but to a *control* measured in the same take on
the same server for the same time: an empty patch (the master pass alone) in this process, with
nothing else running.  A take is::

    control for seconds / 2,  the patch for seconds,  control for seconds / 2

(interleaved so that a noisy spell of the host falls on both; a patch whose length is only known
afterwards, the UI's, gets the rest of its length in the second control half), and passes when the
patch's flagged callbacks exceed the two control halves' together by at most :data:`XRUN_MARGIN`.  A
test takes at most :data:`XRUN_ATTEMPTS` takes and passes on the first that passes; its message (also
printed: ``pytest -rP``) lists every take.  The sum of the halves is an unbiased estimate of the noise
over the patch's length; its price is that a burst which hits a control half only widens that take's
bound (seen once: 37 flagged in one 5 s half, while the patch between had 2).
"""

import os
import shutil
import subprocess
import threading
import time
from typing import Callable

import numpy as np
import pytest

from livehost.engine.drivers.portaudio import PortAudioDriver
from livehost.engine.patching import engine_for
from livehost.patch import loads


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


XRUN_ATTEMPTS = 3
"""Takes (control, patch, control) a real-time test runs at most; it passes on the first that passes."""

XRUN_MARGIN = 5
"""Flagged callbacks a patch may see beyond its take's empty-patch control (both over the same time).

Why 5: the control's own noise.  Measured on this 2-core VM while other engineers' test runs kept its
load average at 5-6: 120 back-to-back 2.5 s runs of the empty patch on ``jackd -R -d dummy -r 48000
-p 128`` saw 0-5 flagged callbacks each (53 in all, 35 runs with any: ~0.18 per second, in clusters).
Cutting that series into takes (an empty "patch" between two empty controls, each half as long) gives
the difference the judgement sees when nothing is wrong: at 5 s per take at most 5 (99th percentile 4),
at 10 s at most 6 (1 % of takes above 5), at 20-25 s at most 7 (3-4 % above 5).  So a sound patch fails
a take by noise about once in a hundred at the tests' 5-10 s, a few times in a hundred at the UI's
~26 s, and a test only if its three takes all do.  In the tests' own takes (three to five runs of
each) the patch exceeded its control by at most 5 (the UI: 7 against 2), mostly not at all.
What the bound must catch is far above it: a callback that takes the GIL beside a busy Python thread
had 522-768 of its 870-1 278 callbacks flagged in four 5 s takes (the callbacks themselves starved to
half or two thirds of the rate; JACK counted 883-911 xruns; its controls 0;
``test_gil_bound_python_callback_fails_the_control_judgement``,
``../shared/research/realtime.md``: ~94 %), and one that took it once in a hundred blocks would have
~19 in 5 s.  The exact counts on a quiet host are ``benchmarks/realtime.py``'s job."""

EMPTY_PATCH = """\
[patch]
name = "Empty (real-time control)"
format = 1
samplerate = 48000
blocksize = 128

[input]
source = "mic"
"""


class Control:
    """The empty patch on JACK in this process, through the same driver as ``livehost run``: compiled
    once, then :meth:`measure` any number of times."""

    def __init__(self):
        self.patch = loads(EMPTY_PATCH, "empty.toml")
        engine_for(self.patch)  # compile (cached) before any take is timed

    def measure(self, seconds: float, busy: bool = False) -> dict:
        """Engine stats of ``seconds`` of the empty patch on the default PortAudio device; ``busy``: with
        a thread beside it doing what a model worker does to the machine (numeric work in native code,
        the GIL released, one core), so that a worker test's control carries the same CPU load and the
        judgement is about the audio path, not about a 2-core VM slowing every client when loaded."""
        eng = engine_for(self.patch)
        drv = PortAudioDriver(eng)
        stop = threading.Event()
        worker = threading.Thread(target=busy_native, args=(stop,), daemon=True) if busy else None
        if worker:
            worker.start()
        drv.start()
        try:
            time.sleep(seconds)
        finally:
            drv.stop()
            stop.set()
            if worker:
                worker.join()
        return eng.stats()


def busy_native(stop: threading.Event) -> None:
    """FFTs of a 65 536-sample signal until ``stop``: native numeric work like a model worker's."""
    x = np.random.default_rng(0).standard_normal(1 << 16)
    while not stop.is_set():
        np.fft.rfft(x)


def measure_take(measure: Callable[[], dict], seconds: float, control: Control, busy: bool = False) -> dict:
    """One take: the control for ``seconds / 2``, ``measure() -> stats`` (the patch, for ``seconds``, or
    for the ``window_s`` its stats report when its length is only known afterwards: then ``seconds`` is
    the expected length), the control for the rest of the patch's length.  Returns ``{"patch": stats,
    "controls": [stats, stats], "patch_xruns": int, "control_xruns": int}`` (flagged callbacks)."""
    before = control.measure(seconds / 2, busy)
    patch = measure()
    after = control.measure(max(1.0, float(patch.get("window_s", seconds)) - seconds / 2), busy)
    return {"patch": patch, "controls": [before, after], "patch_xruns": int(patch["xruns"]),
            "control_xruns": int(before["xruns"]) + int(after["xruns"])}


XRUN_SHARE = 0.02
"""...or, where more, 2 % of the patch's callbacks beyond the control: on a noisy spell of this VM the
patch's count grows with its own callback time (a longer callback is more often caught by the host's
steal), not only with the server's noise.  Measured 2026-12-02, host idle but for the test, ~1.5 %
steal: the default patch on the *previous* main (2f8c426) saw 27-55 flagged callbacks in 2 211-2 243
(6 s, 1.2-2.5 %), this main 31-50 in 2 212-2 227; the generator and genre patches 39-97 in ~3 000-3 700
against empty controls of 6-21.  A callback that takes the GIL is flagged in 60-94 % of its callbacks:
far beyond either bound."""


def take_ok(take: dict) -> bool:
    """The patch saw at most :data:`XRUN_MARGIN` flagged callbacks more than its control, or at most
    :data:`XRUN_SHARE` of its callbacks more, whichever allows more."""
    allowed = max(XRUN_MARGIN, int(XRUN_SHARE * int(take["patch"].get("callbacks", 0))))
    return take["patch_xruns"] <= take["control_xruns"] + allowed


def controlled_takes(measure: Callable[[], dict], seconds: float,
                     attempts: int = XRUN_ATTEMPTS, busy: bool = False) -> tuple[dict, list[dict]]:
    """Takes (:func:`measure_take`) until one passes :func:`take_ok`, at most ``attempts``; returns
    ``(the last take, all takes)``: assert ``take_ok`` on the first with :func:`takes_summary` as the
    message (also printed).  The empty patch is compiled before the first take."""
    control = Control()
    takes = []
    for _ in range(attempts):
        takes.append(measure_take(measure, seconds, control, busy))
        if take_ok(takes[-1]):
            break
    print(takes_summary(takes))  # shown with pytest -rP (or -s), passed or not
    return takes[-1], takes


def takes_summary(takes: list[dict]) -> str:
    """Every take's counts, for assertion messages: flagged callbacks (PortAudio status; JACK's own xrun
    count beside it), callbacks and DSP load p99 / max of the patch, and of the two control halves."""
    def one(s):
        load = (f", load p99 {s['dsp_load_p99']:.4f} max {s['dsp_load_max']:.4f}" if "dsp_load_p99" in s else "")
        return f"{s.get('xruns')} flagged (jack {s.get('jack_xruns')}) in {s.get('callbacks')} callbacks{load}"

    lines = [f"judgement: patch flagged <= control flagged + max({XRUN_MARGIN}, {XRUN_SHARE:.0%} of the patch's callbacks)"]
    for i, t in enumerate(takes, 1):
        verdict = "pass" if take_ok(t) else "FAIL"
        lines.append(f"take {i} ({verdict}): patch {t['patch_xruns']} vs control {t['control_xruns']}; "
                     f"patch {one(t['patch'])}; control {one(t['controls'][0])} + {one(t['controls'][1])}")
    return "\n".join(lines)
