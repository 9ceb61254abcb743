"""OSC control of a playing session by a real python-osc client over 127.0.0.1.

The session plays a file through the null driver (real time, the compiled callback), its service loop
runs on a thread as ``livehost run``'s does, and the OSC server is the one ``--osc`` starts.
"""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest
import soundfile as sf
from pythonosc.udp_client import SimpleUDPClient

from livehost.nodes import load_all
from livehost.osc.server import OscServer
from livehost.session import Session
from tests.conftest import sine
from tests.osc.oscutil import Listener, replies

PATCH = """[patch]
name = "{name}"
[input]
source = "mic"
[[chain]]
type = "gain"
id = "level"
gain_db = -6.0
"""
TONE_AMP = 0.25  # linear peak of the test tone: RMS = 0.25 / sqrt(2) = -15.05 dBFS


def tone_rms_db(gain_db: float) -> float:
    """The RMS level (dBFS) of the test tone after ``gain_db`` (analytic: a sine's RMS is peak/sqrt 2)."""
    return 20 * np.log10(TONE_AMP / np.sqrt(2)) + gain_db


@pytest.fixture
def live(tmp_path, monkeypatch):
    """(session, osc server, messages the session's service loop said): ``patches/a.toml`` playing a
    looped 1 kHz tone on the null driver; ``patches/b.toml`` beside it."""
    monkeypatch.setenv("LIVEHOST_STATE", str(tmp_path / "state"))
    pdir = tmp_path / "patches"
    pdir.mkdir()
    for name in ("a", "b"):
        (pdir / f"{name}.toml").write_text(PATCH.format(name=name))
    tone = tmp_path / "tone.wav"
    sf.write(tone, sine(1000.0, 1.0, amp=TONE_AMP), 48000)  # 1000 whole cycles: loops seamlessly
    session = Session(str(pdir / "a.toml"), driver="null", input_override=str(tone), loop=True,
                      start_models=False)
    said: list[str] = []
    stop = threading.Event()

    def service_loop():  # what `livehost run` does between blocks
        while not stop.is_set():
            msg = session.service()
            if msg:
                said.append(msg)
            time.sleep(0.005)

    pump = threading.Thread(target=service_loop, daemon=True)
    pump.start()
    osc = OscServer(session, port=0, patch_dir=pdir).start()
    try:
        yield session, osc, said
    finally:
        osc.close()
        stop.set()
        pump.join()
        session.close()


def client(osc) -> SimpleUDPClient:
    return SimpleUDPClient("127.0.0.1", osc.port)


def errors(got) -> list[str]:
    return [args[0] for address, args in got if address == "/livehost/error"]


def test_it_listens_on_loopback_by_default(live):
    _, osc, _ = live
    assert osc.host == "127.0.0.1"
    assert osc.describe() == f"OSC on udp 127.0.0.1:{osc.port}"


def test_patch_load_refuses_paths_and_the_old_patch_plays_on(live, tmp_path):
    session, osc, _ = live
    outside = tmp_path / "outside.toml"  # a valid patch, but not in the patches folder
    outside.write_text(PATCH.format(name="outside"))
    os.symlink(outside, tmp_path / "patches" / "link.toml")
    before = session.path
    c = client(osc)
    for name in ("../../etc/passwd", "/etc/passwd", "..", "../outside", "sub/a", ".a", "link", "nope"):
        c.send_message("/livehost/patch/load", name)
        got = replies(c, timeout=1.0)
        assert len(errors(got)) == 1 and name in errors(got)[0], (name, got)
        assert not any(address == "/livehost/patch/loaded" for address, _ in got)
    time.sleep(0.2)  # a load the service loop would have done by now
    assert session.path == before
    calls = session.engine.stats()["callbacks"]
    time.sleep(0.3)
    assert session.engine.stats()["callbacks"] > calls  # still playing
    rms = session.engine.meter()["rms_db"]
    assert abs(rms[0] - tone_rms_db(-6.0)) < 0.5, rms  # the old patch's sound
    # the control: a name that is in the folder loads
    c.send_message("/livehost/patch/load", "b")
    got = replies(c, timeout=3.0)
    assert ("/livehost/patch/loaded", ["b"]) in got, got
    assert session.path == str(tmp_path / "patches" / "b.toml")
    assert session.patch.name == "b"


def test_a_subscriber_follows_changes_from_another_client_and_the_ui(live):
    session, osc, _ = live
    ear = Listener()
    try:
        a, b = client(osc), client(osc)
        a.send_message("/livehost/subscribe", ear.port)
        first = ear.wait_for(lambda addr, args: addr == "/livehost/level/gain_db")
        assert first == ("/livehost/level/gain_db", [-6.0])  # the full state on subscribing
        b.send_message("/livehost/level/gain_db", -12.5)
        got = ear.wait_for(lambda addr, args: addr == "/livehost/level/gain_db")
        assert got == ("/livehost/level/gain_db", [-12.5])
        assert session.engine.get_param("level", "gain_db") == -12.5
        session.set_value(session.engine.item("level"), "pan", 0.5)  # what the UI does
        assert ear.wait_for(lambda addr, args: addr == "/livehost/level/pan") == ("/livehost/level/pan", [0.5])
        b.send_message("/livehost/level/bypass", 1)
        assert ear.wait_for(lambda addr, args: addr == "/livehost/level/bypass") == ("/livehost/level/bypass", [1])
        assert session.engine.get_param("level", "bypass") is True
        b.send_message("/livehost/master/gain_db", -3.0)
        assert ear.wait_for(lambda addr, args: addr == "/livehost/master/gain_db") == \
            ("/livehost/master/gain_db", [-3.0])
        # meters at 20 Hz
        msgs = ear.drain(1.0)
        meters = [args for addr, args in msgs if addr == "/livehost/master/meter"]
        assert 12 <= len(meters) <= 24, len(meters)
        assert all(len(m) == 4 for m in meters)
        a.send_message("/livehost/unsubscribe", ear.port)
        time.sleep(0.2)
        ear.drain(0.1)
        assert ear.drain(0.4) == []
    finally:
        ear.close()


def test_out_of_range_is_clamped_to_the_declaration_and_reported_once(live):
    session, osc, said = live
    hi = next(p.hi for p in load_all()["gain"].params if p.name == "gain_db")
    c = client(osc)
    c.send_message("/livehost/level/gain_db", 1000.0)
    got = replies(c, timeout=1.0)
    assert session.engine.get_param("level", "gain_db") == hi
    assert len(errors(got)) == 1 and "clamped" in errors(got)[0], got
    c.send_message("/livehost/level/gain_db", 2000.0)
    assert errors(replies(c, timeout=0.5)) == []  # once
    time.sleep(0.1)
    assert sum("clamped" in s for s in said) == 1, said
    c.send_message("/livehost/level/gain_db", "loud")
    assert "must be a number" in errors(replies(c, timeout=1.0))[0]
    c.send_message("/livehost/level/gian_db", 1.0)
    assert "did you mean 'gain_db'" in errors(replies(c, timeout=1.0))[0]
    c.send_message("/livehost/nobody/gain_db", 1.0)
    assert "no node 'nobody'" in errors(replies(c, timeout=1.0))[0]
    assert session.engine.get_param("level", "gain_db") == hi


def test_tap_tempo_from_taps_500_ms_apart_is_120_bpm(live):
    session, osc, _ = live
    c = client(osc)
    t0 = time.monotonic() + 0.05
    for k in range(8):
        time.sleep(max(0.0, t0 + 0.5 * k - time.monotonic()))
        c.send_message("/livehost/tap", [])
    time.sleep(0.1)
    assert session.tempo.source == "tap"
    assert abs(session.tempo.bpm - 120.0) <= 0.5, session.tempo.bpm
    c.send_message("/livehost/tempo", 90)
    time.sleep(0.1)
    assert (session.tempo.bpm, session.tempo.source) == (90.0, "osc")
    c.send_message("/livehost/tempo", 1000.0)
    assert "set to 400" in errors(replies(c, timeout=1.0))[0]
    assert session.tempo.bpm == 400.0


def test_note_and_panic_go_the_way_midi_does(live):
    session, osc, _ = live
    c = client(osc)
    c.send_message("/livehost/note", [60, 100])
    time.sleep(0.2)
    assert [n for _, n in session.monitor.active_notes()] == [60]
    c.send_message("/livehost/note", [60, 0])
    c.send_message("/livehost/note", [200, 10])
    assert "0..127" in errors(replies(c, timeout=1.0))[0]
    assert session.monitor.active_notes() == []
    c.send_message("/livehost/panic", [])
    time.sleep(0.2)
    assert session.engine.get_param("master", "mute") is True


def test_a_flood_of_10000_messages_a_second_keeps_the_final_value(live):
    session, osc, _ = live
    c = client(osc)
    rate, n = 10000.0, 20000
    t0 = time.monotonic()
    for k in range(n):  # a fader dragged back and forth at 10 000 messages a second for 2 s
        while time.monotonic() < t0 + k / rate:
            pass
        c.send_message("/livehost/level/gain_db", -30.0 + (k % 100) * 0.1)
    c.send_message("/livehost/level/gain_db", -7.25)
    sent = time.monotonic()
    while session.engine.get_param("level", "gain_db") != -7.25 and time.monotonic() < sent + 2.0:
        time.sleep(0.001)
    assert session.engine.get_param("level", "gain_db") == -7.25
    assert time.monotonic() - sent < 0.5  # the server kept up: the last value is not queued behind the flood
    assert osc.received == n + 1  # every message handled (superseded ones counted too), none dropped
