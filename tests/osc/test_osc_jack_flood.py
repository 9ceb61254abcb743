"""A flood of OSC (10 000 messages a second from a real python-osc client) at the synth patch playing on
JACK: no more flagged callbacks than the same take's empty-patch control (``tests/jackutil.py``), and
the final value arrives."""

from __future__ import annotations

import os
import threading
import time

import pytest
from pythonosc.udp_client import SimpleUDPClient

from livehost.osc.server import OscServer
from livehost.session import Session
from tests.conftest import ROOT
from tests.jackutil import controlled_takes, need_jack, take_ok, takes_summary

pytestmark = [pytest.mark.jack, pytest.mark.slow]

SYNTH = os.path.join(ROOT, "patches", "synth-31edo.toml")
RATE = 10000  # messages per second
SECONDS = 10.0


def flood(port: int, seconds: float, stop: threading.Event) -> int:
    """Send ``RATE`` messages a second for ``seconds`` (bursts of 100 every 10 ms): the synth's level
    swept, a note on and off in every burst; the last message sets -9.5 dB. Returns messages sent."""
    c = SimpleUDPClient("127.0.0.1", port)
    sent = 0
    t0 = time.monotonic()
    burst = 0
    while not stop.is_set() and time.monotonic() - t0 < seconds:
        for k in range(98):
            c.send_message("/livehost/synth/output_db", -30.0 + (k % 50) * 0.2)
        c.send_message("/livehost/note", [60 + burst % 12, 90])
        c.send_message("/livehost/note", [60 + burst % 12, 0])
        sent += 100
        burst += 1
        time.sleep(max(0.0, t0 + burst * 100 / RATE - time.monotonic()))
    c.send_message("/livehost/synth/output_db", -9.5)
    return sent + 1


def test_an_osc_flood_on_jack_causes_no_more_xruns_than_the_control(tmp_path, monkeypatch):
    need_jack()
    monkeypatch.setenv("LIVEHOST_STATE", str(tmp_path / "state"))
    finals = []

    def measure() -> dict:
        s = Session(SYNTH, driver="portaudio", start_models=False)
        osc = OscServer(s, port=0).start()
        try:
            n = flood(osc.port, SECONDS, threading.Event())
            end = time.monotonic() + 2.0
            while s.engine.get_param("synth", "output_db") != -9.5 and time.monotonic() < end:
                time.sleep(0.001)
            finals.append((s.engine.get_param("synth", "output_db"), osc.received, n))
            return s.engine.stats()
        finally:
            osc.close()
            s.close()

    take, takes = controlled_takes(measure, SECONDS, busy=True)
    print(f"final value, messages handled, sent: {finals}")
    assert take_ok(take), takes_summary(takes)
    value, received, sent = finals[-1]
    assert value == -9.5
    assert received == sent, (received, sent)
