"""Tap tempo from a MIDI footswitch (``[midi] tap_cc``): the presses' engine frames set the tempo."""

import pytest

from livehost.patch import PatchError
from livehost.session import Session
from tests.conftest import ROOT

PATCH = open(f"{ROOT}/patches/default.toml").read() + '\n[midi]\ntap_cc = 80\n'


def test_footswitch_presses_500_ms_apart_give_120_bpm(tmp_path, monkeypatch):
    monkeypatch.setenv("LIVEHOST_STATE", str(tmp_path / "state"))
    p = tmp_path / "tap.toml"
    p.write_text(PATCH)
    s = Session(str(p), driver="none", start_models=False)
    try:
        router = s.workers.router
        for k in range(8):  # as the JACK driver's tap hands them over: stamped with their frames
            router.handle([0xB0, 80, 127], delivered=True, frame=k * 24000)
            router.handle([0xB0, 80, 0], delivered=True, frame=k * 24000 + 4800)
            router.handle([0xB0, 80, 100], delivered=True, frame=k * 24000 + 4900)  # still down: no tap
        assert s.tempo.bpm == pytest.approx(120.0, abs=0.5)
        assert s.tempo.source == "tap"
        assert s.engine.get_param("slap", "time_ms") == 120.0  # the switch set no parameter
    finally:
        s.close()


def test_a_bad_tap_cc_is_one_line_naming_the_field(tmp_path):
    from livehost.patch import load

    p = tmp_path / "bad.toml"
    p.write_text(PATCH.replace("tap_cc = 80", "tap_cc = 200"))
    with pytest.raises(PatchError) as e:
        load(str(p))
    assert "midi.tap_cc" in str(e.value) and "0..127" in str(e.value) and "\n" not in str(e.value)
