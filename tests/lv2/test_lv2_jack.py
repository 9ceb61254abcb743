"""Four LV2 plugins in the chain on JACK at 128 frames, beside a busy Python thread: no more flagged
callbacks than the empty-patch control (the project's real-time judgement, ``tests/jackutil.py``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from livehost.lv2 import world
from tests.conftest import ROOT
from tests.jackutil import controlled_takes, need_jack, take_ok, takes_summary

pytestmark = pytest.mark.jack

SECONDS = 10.0
PLUGINS = [
    ("amp", "http://lv2plug.in/plugins/eg-amp", {"gain": -3.0}),
    ("hp", "http://plugin.org.uk/swh-plugins/butthigh_iir", {"cutoff": 120.0}),
    ("dl", "http://drobilla.net/plugins/mda/Delay", {"fx_mix": 0.3}),
    ("lim", "http://plugin.org.uk/swh-plugins/fastLookaheadLimiter", {"limit": -3.0}),  # latency port
]


def test_four_lv2_plugins_under_gil_stress_xrun_within_empty_patch_control(tmp_path):
    need_jack()
    try:
        have = world.plugins()
    except world.Lv2Error as e:
        pytest.skip(str(e))
    if any(uri not in have for _, uri, _ in PLUGINS):
        pytest.skip("the LV2 plugins of this test are not installed")
    rng = np.random.default_rng(2)
    sf.write(tmp_path / "in.wav", (rng.standard_normal((48000, 2)) * 0.1).astype(np.float32), 48000,
             subtype="FLOAT")
    text = '[patch]\nblocksize = 128\n[input]\nsource = "mic"\n'
    for nid, uri, vals in PLUGINS:
        text += f'[[chain]]\ntype = "lv2"\nid = "{nid}"\nuri = "{uri}"\n' + "".join(
            f"{k} = {v!r}\n" for k, v in vals.items())
    patch = tmp_path / "four.toml"
    patch.write_text(text)
    out = tmp_path / "s.json"

    def measure():
        r = subprocess.run([sys.executable, "-m", "livehost", "run", str(patch), "--driver", "portaudio",
                            "--input", str(tmp_path / "in.wav"), "--loop", "--duration", str(SECONDS),
                            "--stress-gil", "--stats-json", str(out), "--quiet"], capture_output=True, text=True,
                           timeout=180, cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT})
        assert r.returncode == 0, r.stderr[-2000:]
        return json.loads(out.read_text())

    take, takes = controlled_takes(measure, SECONDS)
    assert take_ok(take), takes_summary(takes)
    s = take["patch"]
    assert s["callbacks"] > 0.95 * SECONDS * 48000 / 128
    assert s["nan_resets"] == 0
