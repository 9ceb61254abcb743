"""The looper's footswitch over real JACK MIDI (issue #17): a compiled JACK client plays footswitch CC
presses (127 down, 0 up, as patches/looper.toml maps CC 80 onto loop1's pedal) into the JACK driver's
``midi_in``; the looper follows the one-button rules: press record, press play, press overdub, press
play, double press undo, hold stop (judged from the looper's state, polled as it plays, and the loop's
length against the frames between the presses that opened and closed the take)."""

from __future__ import annotations

import shutil
import threading
import time

import pytest

from livehost.dsp.looper import looper_status

SR = 48000


def _collapse(seq: list) -> list:
    out = []
    for x in seq:
        if not out or out[-1] != x:
            out.append(x)
    return out


@pytest.mark.jack
def test_a_jack_footswitch_drives_the_looper_by_the_one_button_rules(tmp_path):
    from tests.conftest import ROOT
    from tests.jackclient import TestJackClient
    from tests.jackutil import need_jack

    need_jack()
    from livehost.engine.drivers.libjack import load, open_client
    from livehost.session import Session

    lib = load()
    c = open_client("lh-foot-probe")
    sr, period = lib.jack_get_sample_rate(c), lib.jack_get_buffer_size(c)
    lib.jack_client_close(c)
    # (seconds after the first gesture, CC value): each gesture well apart from the next (> HOLD_S)
    gestures = [
        (0.0, 127), (0.1, 0),  # press: record
        (2.0, 127), (2.1, 0),  # press: play (a 2 s loop)
        (3.2, 127), (3.3, 0),  # press: overdub (confirmed DOUBLE_S later)
        (4.6, 127), (4.7, 0),  # press: play
        (5.8, 127), (5.85, 0), (6.0, 127), (6.05, 0),  # double press (0.2 s apart): undo the overdub
        (7.2, 127), (8.2, 0),  # held 1 s (> HOLD_S): stop
    ]
    first = 300 * period  # frames after activation: time to connect the ports
    frames = [first + int(round(t * sr)) for t, _ in gestures]
    sched = [(fr // period, fr % period, (0xB0, 80, v)) for fr, (_, v) in zip(frames, gestures)]
    p = tmp_path / "looper.toml"
    shutil.copy(f"{ROOT}/patches/looper.toml", p)
    s = Session(str(p), driver="jack", jack_client="lh-foot", jack_connect=False, start_models=False)
    sender = TestJackClient("lh-foot-send", schedule=sched)
    it = s.engine.item("loop1")
    seen = []
    stop = threading.Event()

    def watch():  # the looper's state as it plays, every 2 ms
        while not stop.is_set():
            st = looper_status(s.engine.a[it.sbase:it.sbase + it.ssize])
            seen.append((st["mode"], st["undo"], st["length"]))
            time.sleep(0.002)

    watcher = threading.Thread(target=watch, daemon=True)
    try:
        watcher.start()
        sender.start()
        sender.connect(f"{sender.name}:midi_out", s.driver.port_name("midi_in"))
        end = time.monotonic() + 30
        while sender.sent_count < len(sched):
            assert time.monotonic() < end, f"{sender.sent_count} of {len(sched)} presses went out"
            time.sleep(0.01)
        time.sleep(0.3)  # the stop fade (xfade_ms) and the MIDI tap's drain
        sent = sender.sent.copy()
    finally:
        stop.set()
        watcher.join(2)
        sender.close()
        s.close()
    assert (sent >= 0).all(), sent
    modes = _collapse([m for m, _, _ in seen if m != "armed"])  # (armed: a press from play, not yet single)
    print("modes:", _collapse([m for m, _, _ in seen]), "undo:", _collapse([u for _, u, _ in seen]))
    assert modes == ["empty", "record", "play", "overdub", "play", "stop"], modes
    assert "armed" in [m for m, _, _ in seen]
    assert _collapse([u for _, u, _ in seen]) == [None, "undo", "redo"]  # overdub, then the double press undid it
    mode, undo, length = seen[-1]
    assert (mode, undo) == ("stop", "redo")
    # the loop is as long as the time between the presses that opened and closed it, as JACK stamped
    # them, to within the MIDI tap's drain and a block or two
    want = int(sent[2] - sent[0])
    print(f"loop length {length} frames, presses {want} frames apart")
    assert abs(length - want) <= 0.02 * SR, (length, want)
