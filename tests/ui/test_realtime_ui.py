"""Real time with the UI in the same process as the engine: meters redrawn at 30 Hz on JACK, no xruns.

The take runs in a fresh process (``tests/ui/realtime_ui_child.py``), as the real ``livehost ui`` does,
so what several hundred earlier tests left in the pytest process is not part of the measurement.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.jackutil import clean_take, need_jack, realtime_ok, takes_summary

pytestmark = pytest.mark.jack

SECONDS = float(os.environ.get("LIVEHOST_UI_RT_SECONDS", "30"))


def test_ui_at_30_hz_causes_no_xruns(tmp_path):
    need_jack()
    shutil.copy(f"{ROOT}/patches/default.toml", tmp_path / "d.toml")

    def measure():
        r = subprocess.run([sys.executable, "-m", "tests.ui.realtime_ui_child", str(tmp_path / "d.toml"),
                            str(SECONDS)], capture_output=True, text=True, timeout=SECONDS + 120, cwd=ROOT,
                           env={**os.environ, "LIVEHOST_STATE": str(tmp_path)})
        assert r.returncode == 0, r.stderr[-2000:]
        return json.loads(r.stdout.strip().splitlines()[-1])

    stats, takes = clean_take(measure)
    assert stats["driver"] == "portaudio"
    assert stats["callbacks"] > 0.9 * SECONDS * 48000 / 128
    assert realtime_ok(stats), takes_summary(takes)
    assert stats["dsp_load_p99"] < 0.10, stats
