"""The session tempo: tap tempo (arithmetic on tap times), ``[tempo]`` and ``[osc]`` in a patch (validated,
saved back), and the UI's ``t`` key pressed like a performer would."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from textual import events

from livehost.errors import PatchError
from livehost.patch import loads
from livehost.session import Session
from livehost.tempo import BPM_MAX, TAP_HISTORY, TAP_RESET_S, Tempo
from livehost.ui.app import LivehostApp

PATCH = '[patch]\nname = "t"\n[input]\nsource = "none"\n[[chain]]\ntype = "gain"\nid = "level"\n'


def test_tap_tempo_is_60_over_the_mean_interval_of_the_last_taps():
    t = Tempo()
    assert t.tap(10.0) is None  # one tap is no interval
    assert t.tap(10.5) == pytest.approx(120.0)
    # intervals 0.5, 0.4, 0.6: mean 0.5 s
    t.tap(10.9)
    assert t.tap(11.5) == pytest.approx(120.0)
    assert t.source == "tap"
    # only the last TAP_HISTORY taps count: a slow start is forgotten
    t2 = Tempo()
    times = [0.0, 1.5] + [1.5 + 0.25 * k for k in range(1, TAP_HISTORY)]
    for x in times:
        got = t2.tap(x)
    assert got == pytest.approx(240.0)


def test_a_pause_over_2_s_starts_a_new_count():
    t = Tempo()
    t.tap(0.0)
    t.tap(0.5)
    assert t.bpm == pytest.approx(120.0)
    assert t.tap(0.5 + TAP_RESET_S + 0.01) is None  # a new count: the tempo stays
    assert t.bpm == pytest.approx(120.0)
    assert t.tap(0.5 + TAP_RESET_S + 0.01 + 1.0) == pytest.approx(60.0)


def test_tempo_is_clamped_to_its_range():
    t = Tempo()
    assert t.set(1000, "osc") == BPM_MAX
    t.tap(0.0)
    assert t.tap(0.01) == BPM_MAX  # 6000 bpm taps


def test_tempo_and_osc_sections_are_validated_with_file_line_field():
    p = loads('[patch]\nname = "x"\n[tempo]\nbpm = 96.5\n[osc]\nport = 9000\nhost = "0.0.0.0"\n', "x.toml")
    assert p.extra["tempo"] == {"bpm": 96.5} and p.extra["osc"] == {"port": 9000, "host": "0.0.0.0"}
    cases = [
        ('[tempo]\nbpm = 1000\n', "x.toml:2: tempo.bpm = 1000 is outside 20..400"),
        ('[tempo]\nbmp = 100\n', "x.toml:2: tempo.bmp is not a known field (did you mean 'bpm'?)"),
        ('[tempo]\nbpm = "fast"\n', "x.toml:2: tempo.bpm = 'fast' is outside 20..400"),
        ('\n[osc]\nport = 70000\n', "x.toml:3: osc.port = 70000 must be a UDP port 0..65535"),
        ('[osc]\nhost = ""\n', "x.toml:2: osc.host = '' must be a host name or address"),
    ]
    for text, msg in cases:
        with pytest.raises(PatchError) as e:
            loads(text, "x.toml")
        assert str(e.value) == msg


def test_the_session_tempo_comes_from_the_patch_and_is_saved_back(tmp_path, monkeypatch):
    monkeypatch.setenv("LIVEHOST_STATE", str(tmp_path / "state"))
    path = tmp_path / "p.toml"
    path.write_text(PATCH + "[tempo]\nbpm = 96.0\n")
    s = Session(str(path), driver="none", start_models=False)
    try:
        assert (s.tempo.bpm, s.tempo.source) == (96.0, "patch")
        s.tap(0.0)
        s.tap(0.4)
        assert s.tempo.bpm == pytest.approx(150.0) and s.dirty
        s.save()
        assert loads(path.read_text(), str(path)).extra["tempo"] == {"bpm": 150.0}
    finally:
        s.close()
    plain = tmp_path / "plain.toml"
    plain.write_text(PATCH)
    s = Session(str(plain), driver="none", start_models=False)
    try:
        assert s.tempo.source == "default"
        s.save()
        assert "[tempo]" not in plain.read_text()  # nothing set: nothing written
        s.set_tempo(100.0, "osc")
        s.save()
        assert loads(plain.read_text(), str(plain)).extra["tempo"] == {"bpm": 100.0}
    finally:
        s.close()


async def test_the_t_key_taps_the_tempo_and_the_status_bar_shows_it(tmp_path, monkeypatch):
    """Key presses 500 ms apart arrive as a terminal driver delivers them: a Key event made on an input
    thread and posted to the app (the UI may be busy redrawing when it gets there)."""
    monkeypatch.setenv("LIVEHOST_STATE", str(tmp_path / "state"))
    path = tmp_path / "p.toml"
    path.write_text(PATCH)
    s = Session(str(path), driver="none", start_models=False)
    try:
        app = LivehostApp(s)
        async with app.run_test(size=(160, 44)) as pilot:
            def keyboard():
                t0 = time.monotonic() + 0.05
                for k in range(8):
                    time.sleep(max(0.0, t0 + 0.5 * k - time.monotonic()))
                    app.post_message(events.Key("t", "t"))  # thread-safe, as the driver posts

            typist = threading.Thread(target=keyboard)
            typist.start()
            while typist.is_alive():
                await asyncio.sleep(0.05)
            await pilot.pause()
            await pilot.pause()
            assert s.tempo.source == "tap"
            assert abs(s.tempo.bpm - 120.0) <= 0.5, s.tempo.bpm
            status = str(app.query_one("#status").render())
            assert f"| {s.tempo.bpm:.4g} bpm tap |" in status, status
    finally:
        s.close()
