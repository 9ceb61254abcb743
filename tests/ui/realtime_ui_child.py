"""One take of the UI real-time check, in a process of its own (as ``livehost ui`` runs): the UI redraws
at 30 Hz on JACK for SECONDS while some editing happens; prints the engine's stats as JSON.

    python -m tests.ui.realtime_ui_child PATCH SECONDS

The audio starts with the session, before the UI is up; ``callbacks``, ``xruns`` and ``jack_xruns``
count only the window from the UI being up to the end of the editing, SECONDS and the time the edits
take (ROUND_S a round, padded to it), whose length in seconds of audio is ``window_s`` (a
control as long compares with it); the whole run's are ``run_callbacks``, ``run_xruns`` and
``run_jack_xruns``.
"""

import asyncio
import json
import sys

COUNTS = ("callbacks", "xruns", "jack_xruns")
#: edit rounds (down, +, b) after the SECONDS.  A round's keys take 0.1-7 s (textual's pilot waits up
#: to 1 s per key for the process to go idle, which with the audio running it may never do; CI's run
#: took ~0.7 s a round); the round is padded with redrawing to ROUND_S so the window judged has a known
#: length, the one its control is measured for.
EDITS = 3
ROUND_S = 7.0


async def measure(patch: str, seconds: float) -> dict:
    from livehost.session import Session
    from livehost.ui.app import LivehostApp

    s = Session(patch, driver="portaudio")
    try:
        app = LivehostApp(s, fps=30)
        async with app.run_test(size=(140, 44)) as pilot:
            start = s.engine.stats()
            await pilot.pause(seconds)
            clock = asyncio.get_running_loop().time
            for _ in range(EDITS):  # and some editing while it plays
                t0 = clock()
                await pilot.press("down", "+", "b")
                await pilot.pause(max(0.2, ROUND_S - (clock() - t0)))
            end = s.engine.stats()
        out = dict(end)
        for k in COUNTS:
            out["run_" + k] = end[k]
            out[k] = end[k] - start[k]
        out["window_s"] = (end["frames"] - start["frames"]) / end["samplerate"]
        return out
    finally:
        s.close()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(measure(sys.argv[1], float(sys.argv[2])))))
