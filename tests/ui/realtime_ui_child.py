"""One take of the UI real-time check, in a process of its own (as ``livehost ui`` runs): the UI redraws
at 30 Hz on JACK for SECONDS while some editing happens; prints the engine's stats as JSON.

    python -m tests.ui.realtime_ui_child PATCH SECONDS

The audio starts with the session, before the UI is up; ``callbacks``, ``xruns`` and ``jack_xruns``
count only the window from the UI being up to the end of the editing, SECONDS and the time the edits
take (~7 s a round), whose length in seconds of audio is ``window_s`` (a
control as long compares with it); the whole run's are ``run_callbacks``, ``run_xruns`` and
``run_jack_xruns``.
"""

import asyncio
import json
import sys

COUNTS = ("callbacks", "xruns", "jack_xruns")
#: edit rounds (down, +, b) after the SECONDS, EDIT_S apart.  Each round takes ~7 s of redrawing UI:
#: textual's pilot waits up to 1 s per key for the process to go idle, which with the audio running it
#: never does.
EDITS = 3
EDIT_S = 0.2


async def measure(patch: str, seconds: float) -> dict:
    from livehost.session import Session
    from livehost.ui.app import LivehostApp

    s = Session(patch, driver="portaudio")
    try:
        app = LivehostApp(s, fps=30)
        async with app.run_test(size=(140, 44)) as pilot:
            start = s.engine.stats()
            await pilot.pause(seconds)
            for _ in range(EDITS):  # and some editing while it plays
                await pilot.press("down", "+", "b")
                await pilot.pause(EDIT_S)
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
