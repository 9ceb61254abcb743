"""One take of the UI real-time check, in a process of its own (as ``livehost ui`` runs): the UI redraws
at 30 Hz on JACK for SECONDS while some editing happens; prints the engine's stats as JSON.

    python -m tests.ui.realtime_ui_child PATCH SECONDS
"""

import asyncio
import json
import sys


async def measure(patch: str, seconds: float) -> dict:
    from livehost.session import Session
    from livehost.ui.app import LivehostApp

    s = Session(patch, driver="portaudio")
    try:
        app = LivehostApp(s, fps=30)
        async with app.run_test(size=(140, 44)) as pilot:
            await pilot.pause(seconds)
            for _ in range(5):  # and some editing while it plays
                await pilot.press("down", "+", "b")
                await pilot.pause(0.2)
        return s.engine.stats()
    finally:
        s.close()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(measure(sys.argv[1], float(sys.argv[2])))))
