"""MIDI into the JACK driver's own port reaches the control side too (through the tap): the monitor,
CC maps and a patch that names another MIDI port."""

import time

import pytest

from tests.engine.test_jack_driver import SHARP_SYNTH, _connections
from tests.jackclient import TestJackClient
from tests.jackutil import need_jack

pytestmark = pytest.mark.jack

MAPPED = SHARP_SYNTH + """
[midi]
port = "lhroute-a"

[[midi.map]]
cc = 7
target = "synth.output_db"
min = -40.0
max = 0.0
"""


@pytest.fixture(autouse=True)
def _jack():
    need_jack()


def _wait(cond, what, timeout=10.0):
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, what
        time.sleep(0.02)


def test_jack_driver_midi_reaches_maps_and_monitor_and_a_new_patch_port(tmp_path):
    from livehost.session import Session

    a = tmp_path / "a.toml"
    a.write_text(MAPPED)
    b = tmp_path / "b.toml"
    b.write_text(MAPPED.replace("lhroute-a", "lhroute-b"))
    s = Session(str(a), driver="jack", jack_client="lh-route", jack_connect=False, start_models=False)
    # sent 1.7 s after the start: the driver has connected by then (it looks every 0.5 s)
    keys_a = TestJackClient("lhroute-a", schedule=[(800, 5, (0xB0, 7, 0)), (810, 9, (0x90, 69, 100))])
    keys_b = TestJackClient("lhroute-b", schedule=[(10 ** 9, 0, (0x80, 60, 0))])  # a port, nothing sent
    try:
        keys_a.start()
        keys_b.start()
        midi_in = s.driver.port_name("midi_in")
        _wait(lambda: midi_in in _connections(f"{keys_a.name}:midi_out"), "midi_in never followed lhroute-a")
        _wait(lambda: s.engine.get_param("synth", "output_db") == -40.0, "the CC map was not applied")
        _wait(lambda: any(e["kind"] == "note_on" for e in s.monitor.events()), "the monitor missed the note")
        note = next(e for e in s.monitor.events() if e["kind"] == "note_on")
        assert (note["channel"], note["a"], note["b"]) == (0, 69, 100) and note["frame"] > 0
        s.load(str(b))  # its [midi] port names another keyboard: midi_in follows it
        _wait(lambda: midi_in in _connections(f"{keys_b.name}:midi_out"), "midi_in did not follow lhroute-b")
        assert midi_in not in _connections(f"{keys_a.name}:midi_out")
    finally:
        keys_a.close()
        keys_b.close()
        s.close()
