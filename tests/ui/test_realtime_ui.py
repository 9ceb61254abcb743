"""Real time with the UI in the same process as the engine: meters redrawn at 30 Hz on JACK, and no more
flagged callbacks than an empty patch alone on the same server (``tests/jackutil.py``).

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
from tests.jackutil import controlled_takes, need_jack, take_ok, takes_summary
from tests.ui.realtime_ui_child import EDITS, ROUND_S

pytestmark = pytest.mark.jack

#: seconds the UI redraws before the edits; the take is these and the edits (~20 s more), its control
#: as long again
SECONDS = float(os.environ.get("LIVEHOST_UI_RT_SECONDS", "5"))


def test_ui_at_30_hz_xruns_within_empty_patch_control(tmp_path):
    need_jack()
    shutil.copy(f"{ROOT}/patches/default.toml", tmp_path / "d.toml")

    def measure():
        r = subprocess.run([sys.executable, "-m", "tests.ui.realtime_ui_child", str(tmp_path / "d.toml"),
                            str(SECONDS)], capture_output=True, text=True, timeout=SECONDS + 120, cwd=ROOT,
                           env={**os.environ, "LIVEHOST_STATE": str(tmp_path)})
        assert r.returncode == 0, r.stderr[-2000:]
        return json.loads(r.stdout.strip().splitlines()[-1])

    take, takes = controlled_takes(measure, SECONDS + EDITS * ROUND_S)  # the length expected
    assert take_ok(take), takes_summary(takes)
    stats = take["patch"]
    assert stats["driver"] == "portaudio"
    # the window judged (the UI up, SECONDS, the edits) is as long as its control
    control_callbacks = sum(c["callbacks"] for c in take["controls"])
    assert stats["window_s"] > SECONDS and stats["callbacks"] > 0.9 * stats["window_s"] * 48000 / 128
    assert abs(stats["callbacks"] - control_callbacks) < 0.1 * stats["callbacks"], takes_summary(takes)
    assert stats["dsp_load_p99"] < 0.10, stats
