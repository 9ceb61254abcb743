"""Real time with the UI in the same process: meters redrawn at 30 Hz on JACK, no xruns."""

import os
import shutil

import pytest

from livehost.session import Session
from livehost.ui.app import LivehostApp
from tests.conftest import ROOT
from tests.jackutil import XRUN_ATTEMPTS, need_jack

pytestmark = pytest.mark.jack

SECONDS = float(os.environ.get("LIVEHOST_UI_RT_SECONDS", "30"))


async def test_ui_at_30_hz_causes_no_xruns(tmp_path, monkeypatch):
    need_jack()
    monkeypatch.setenv("LIVEHOST_STATE", str(tmp_path))
    shutil.copy(f"{ROOT}/patches/default.toml", tmp_path / "d.toml")

    async def measure():
        s = Session(str(tmp_path / "d.toml"), driver="portaudio")
        try:
            app = LivehostApp(s, fps=30)
            async with app.run_test(size=(140, 44)) as pilot:
                await pilot.pause(SECONDS)
                for _ in range(5):  # and some editing while it plays
                    await pilot.press("down", "+", "b")
                    await pilot.pause(0.2)
            return s.engine.stats()
        finally:
            s.close()

    takes = []
    for _ in range(XRUN_ATTEMPTS):  # see tests.jackutil.XRUN_ATTEMPTS: the server's own late wake-ups
        takes.append(await measure())
        if takes[-1]["xruns"] == 0:
            break
    stats = takes[-1]
    assert stats["driver"] == "portaudio"
    assert stats["callbacks"] > 0.9 * SECONDS * 48000 / 128
    assert stats["xruns"] == 0, takes
