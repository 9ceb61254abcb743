"""End to end through real JACK MIDI: a second rtmidi client plays the host's synth on the dummy server."""

import os
import time

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import ROOT
from tests.jackutil import need_jack
from tests.synth.util import fit_freq

pytestmark = pytest.mark.jack


@pytest.fixture(autouse=True)
def _jack():
    need_jack()


def _sender(port_name):
    import rtmidi

    out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="lh-test-sender")
    end = time.monotonic() + 5
    while time.monotonic() < end:
        ports = out.get_ports()
        hit = [i for i, p in enumerate(ports) if port_name in p]
        if hit:
            out.open_port(hit[0])
            return out
        time.sleep(0.05)
    raise AssertionError(f"{port_name} never appeared among {out.get_ports()}")


def _notes_take(path, notes):
    """One take: the notes sent from an rtmidi JACK client to livehost's JACK MIDI client, the PortAudio
    driver playing; (engine, note-ons the control side saw, send frames, recording)."""
    from livehost.engine import layout as L
    from livehost.engine.drivers.portaudio import PortAudioDriver
    from livehost.engine.drivers.recorder import Recorder
    from livehost.engine.patching import engine_for
    from livehost.midi import MidiInput
    from livehost.patch import load

    eng = engine_for(load(os.path.join(ROOT, "patches", "synth-31edo.toml")))
    eng.set_param("synth", "release_ms", 20.0)
    drv = PortAudioDriver(eng, use_input=False)
    rec = Recorder(eng, str(path), channels=eng.out_ch)
    rec.start()  # before the stream: recording frame k is engine frame k
    drv.start()
    midi = MidiInput(eng, api="jack", virtual="livehost-test-in", client_name="livehost-test").open()
    out = _sender("livehost-test-in")
    sent = []
    try:
        time.sleep(0.3)  # let the JACK connection settle
        for n in notes:
            sent.append(int(eng.a[L.H_FRAMES]))
            out.send_message([0x90, n, 100])
            time.sleep(0.25)
            out.send_message([0x80, n, 0])
            time.sleep(0.15)
        time.sleep(0.2)
    finally:
        out.close_port()
        out.delete()
        midi.close()
        drv.stop()
        rec.stop()
    y, _ = sf.read(path, dtype="float32", always_2d=True)
    return eng, [e for e in midi.monitor.events() if e["kind"] == "note_on"], sent, y[:, 0]


def test_notes_from_a_jack_midi_client_sound_within_one_block(tmp_path):
    """Four notes from a second JACK client: each seen by the control side and sounding within a block.
    A cycle JACK skips for a late client loses what it carried (JACK's transport, not the host): a take
    that lost a note must show a JACK xrun, and is then played again (at most three takes)."""
    notes = [69, 75, 80, 62]
    for take in range(3):
        eng, got, sent, y = _notes_take(tmp_path / f"live{take}.wav", notes)
        if [e["a"] for e in got] == notes:
            break
        st = eng.stats()
        assert st["jack_xruns"] > 0 or st["xruns"] > 0, ([e["a"] for e in got], st)
    assert [e["a"] for e in got] == notes
    sr = int(eng.sr)
    lat = eng.latency_samples()  # the master limiter's lookahead, reported separately
    block = eng.max_block
    delays, send_delays = [], []
    for e, f_send, n in zip(got, sent, notes):
        nz = np.flatnonzero(y[e["frame"]:])
        onset = e["frame"] + int(nz[0]) - lat
        delays.append(onset - e["frame"])
        send_delays.append(onset - f_send)
        seg = y[onset + lat + 960:onset + lat + 10000]
        f = fit_freq(seg)
        assert abs(1200 * np.log2(f / (440 * 2 ** ((n - 69) / 31)))) < 0.05, (n, f)
    print(f"arrival->sound frames {delays}, send->sound frames {send_delays}, lookahead {lat}, "
          f"stats {eng.stats()}")
    # from the send (stamped with the engine's frame counter) to the first sample of the note: at most
    # one block + 1 ms (JACK MIDI itself delivers at the sender's next cycle; the host adds < 1 block)
    # (the median: on these 2-core VMs a JACK cycle in which the sender's client woke late moves one
    # note by a block; that is JACK's transport, not the host — the host's part is the next assert)
    assert np.median(send_delays) <= block + sr // 1000 and max(send_delays) <= 2 * block + sr // 1000
    # from the arrival at the host: the note starts with the next block
    assert 0 <= min(delays) and max(delays) <= block + sr // 1000


def test_a_port_that_goes_away_is_reconnected():
    import rtmidi

    from livehost.engine.engine import Engine
    from livehost.midi import MidiInput

    eng = Engine(48000, 128, 0, 2, heap_slots=1 << 20)
    eng.build("none", [("synth", "synth", {}, 440.0 * 2 ** ((np.arange(128) - 69) / 12), None)], [], {})

    def source():
        o = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="lh-keyboard")
        o.open_virtual_port("lh-keys-out")
        return o

    def wait(cond, timeout=15.0):
        end = time.monotonic() + timeout
        while not cond():
            assert time.monotonic() < end, "timed out"
            time.sleep(0.02)

    def play_until_heard(src, note, timeout=15.0):
        """Send note-on every 0.25 s until the monitor has it: a message sent in the instant JACK is
        still making the connection is lost (MIDI is not retransmitted), which a busy host makes likely."""
        end = time.monotonic() + timeout
        while (0, note) not in midi.monitor.active_notes():
            assert time.monotonic() < end, f"note {note} never heard"
            src.send_message([0x90, note, 100])
            time.sleep(0.25)

    midi = MidiInput(eng, port="lh-keys", api="jack", client_name="livehost-test2", poll_s=0.1)
    midi.open()  # the port is not there yet: no error, the watchdog waits for it
    try:
        assert midi.connected_port is None
        src = source()
        wait(lambda: midi.connected_port is not None)
        play_until_heard(src, 60)
        src.close_port()
        src.delete()  # the keyboard is unplugged
        wait(lambda: midi.connected_port is None)
        src = source()  # ... and plugged in again
        wait(lambda: midi.connected_port is not None)
        play_until_heard(src, 64)
        assert midi.reconnects == 1
        src.close_port()
        src.delete()
    finally:
        midi.close()
