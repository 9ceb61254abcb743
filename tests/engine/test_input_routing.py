"""Input routing: ``[input] channels`` picks which device input channels feed the graph's left and right
(offline, block by block, with a 4-channel device input; and on JACK with 4 ports each way)."""

import time

import numpy as np
import pytest

from livehost.engine.drivers.offline import render
from livehost.errors import PatchError
from livehost.patch import loads

LAT = 72  # the master limiter's lookahead at 48 kHz (1.5 ms), samples

PATCH = """\
[patch]
name = "routing"
format = 1
samplerate = 48000
blocksize = 128

[input]
source = "mic"
{channels}

[[chain]]
type = "gain"
id = "g"
gain_db = 0.0
"""


def four_channels(frames=4800):
    """A (frames, 4) float32 device input: a different sine (Hz = 200 x channel number) on each channel."""
    t = np.arange(frames) / 48000.0
    return np.stack([0.4 * np.sin(2 * np.pi * 200.0 * (c + 1) * t) for c in range(4)], axis=1).astype(np.float32)


def render_patch(tmp_path, channels_line, x, in_ch=4):
    """Render ``x`` through the routing patch block by block (128 frames), as a live device would."""
    from livehost.engine.patching import engine_for
    from livehost.patch import load

    p = tmp_path / "routing.toml"
    p.write_text(PATCH.format(channels=channels_line))
    eng = engine_for(load(str(p)), in_ch=in_ch, out_ch=2)
    return render(eng, len(x), x, on_block=lambda k: None)


def test_one_channel_feeds_both_sides(tmp_path):
    x = four_channels()
    y = render_patch(tmp_path, "channels = [3]", x)
    np.testing.assert_allclose(y[LAT:, 0], x[:-LAT, 2], atol=1e-7)
    np.testing.assert_allclose(y[LAT:, 1], x[:-LAT, 2], atol=1e-7)


def test_two_channels_in_order_and_swapped(tmp_path):
    x = four_channels()
    y = render_patch(tmp_path, "channels = [2, 4]", x)
    np.testing.assert_allclose(y[LAT:], x[:-LAT, [1, 3]], atol=1e-7)
    y = render_patch(tmp_path, "channels = [2, 1]", x)
    np.testing.assert_allclose(y[LAT:], x[:-LAT, [1, 0]], atol=1e-7)


def test_default_is_channels_1_and_2_and_a_mono_device_feeds_both(tmp_path):
    x = four_channels()
    y = render_patch(tmp_path, "", x)
    np.testing.assert_allclose(y[LAT:], x[:-LAT, [0, 1]], atol=1e-7)
    y = render_patch(tmp_path, "", x[:, :1], in_ch=1)
    np.testing.assert_allclose(y[LAT:], x[:-LAT, [0, 0]], atol=1e-7)


def test_a_channel_the_device_lacks_is_silent(tmp_path):
    x = four_channels()[:, :2]
    y = render_patch(tmp_path, "channels = [2, 3]", x, in_ch=2)
    np.testing.assert_allclose(y[LAT:, 0], x[:-LAT, 1], atol=1e-7)
    assert np.all(y[:, 1] == 0.0)


def test_channels_change_on_the_running_engine(tmp_path):
    """set_input_channels between blocks: the next block takes the new routing."""
    from livehost.engine.patching import engine_for
    from livehost.patch import load

    p = tmp_path / "routing.toml"
    p.write_text(PATCH.format(channels=""))
    eng = engine_for(load(str(p)), in_ch=4, out_ch=2)
    x = four_channels(128 * 40)
    y = render(eng, len(x), x, on_block=lambda k: eng.set_input_channels([4, 3]) if k == 20 else None)
    s = 20 * 128 + LAT
    np.testing.assert_allclose(y[LAT:s], x[:s - LAT, [0, 1]], atol=1e-7)
    np.testing.assert_allclose(y[s:], x[s - LAT:-LAT, [3, 2]], atol=1e-7)


def test_patch_keeps_channels_through_save(tmp_path):
    from livehost.patch import load, save

    p = loads(PATCH.format(channels="channels = [2, 1]"), "r.toml")
    assert p.input["channels"] == [2, 1]
    save(p, str(tmp_path / "s.toml"))
    assert load(str(tmp_path / "s.toml")).input == {"source": "mic", "channels": [2, 1]}


@pytest.mark.parametrize("line, message", [
    ("channels = [0]", "r.toml:9: input.channels = [0]: 0 is not a device channel number (1..64, 1-based)"),
    ("channels = [1, 65]", "r.toml:9: input.channels = [1, 65]: 65 is not a device channel number (1..64, 1-based)"),
    ("channels = [1, 2, 3]", "r.toml:9: input.channels = [1, 2, 3] must be a list of one or two channel numbers "
                             "([1] mono to both sides, [1, 2] stereo, [2, 1] swapped)"),
    ("channels = []", "r.toml:9: input.channels = [] must be a list of one or two channel numbers "
                      "([1] mono to both sides, [1, 2] stereo, [2, 1] swapped)"),
    ("channels = 1", "r.toml:9: input.channels = 1 must be a list of one or two channel numbers "
                     "([1] mono to both sides, [1, 2] stereo, [2, 1] swapped)"),
    ('channels = ["1"]', "r.toml:9: input.channels = ['1']: '1' is not a device channel number (1..64, 1-based)"),
    ("channels = [true]", "r.toml:9: input.channels = [True]: True is not a device channel number (1..64, 1-based)"),
    ("channels = [1.5]", "r.toml:9: input.channels = [1.5]: 1.5 is not a device channel number (1..64, 1-based)"),
])
def test_bad_channels_are_one_line_errors(line, message):
    with pytest.raises(PatchError) as e:
        loads(PATCH.format(channels=line), "r.toml")
    assert str(e.value) == message
    assert "\n" not in str(e.value)


@pytest.mark.jack
def test_jack_in_3_comes_out_of_out_1_and_out_2(tmp_path):
    """4 ports each way, channels = [3]: impulses sent into in_3 come out of out_1 and out_2 alike,
    the graph's latency later, at full height; out_3 and out_4 stay silent."""
    from tests.jackclient import PULSE, TestJackClient
    from tests.jackutil import need_jack

    need_jack()
    from livehost.engine.drivers.jack import JackDriver
    from livehost.engine.patching import engine_for
    from livehost.patch import load

    p = tmp_path / "routing.toml"
    p.write_text(PATCH.format(channels="channels = [3]"))
    eng = engine_for(load(str(p)))
    drv = JackDriver(eng, client_name="lh-route", channels=4, connect=False)
    assert eng.in_ch == 4 and eng.out_ch == 4
    period = drv.lib.jack_get_buffer_size(drv.client)
    first = 150
    pulses = [(first + 16 * k, 17 * k % period) for k in range(4)]
    frames = (pulses[-1][0] + 20) * period
    send = TestJackClient("lh-route-send", pulses=pulses)
    recs = [TestJackClient(f"lh-route-rec{k}", record_frames=frames + 48000) for k in range(1, 4)]
    try:
        drv.start()
        for c in [*recs, send]:
            c.start()
        send.connect(f"{send.name}:out", drv.port_name("in_3"))
        for k, r in enumerate(recs):
            send.connect(drv.port_name(f"out_{k + 1}"), f"{r.name}:in")
        end = time.monotonic() + 30
        while not send.pulsed_all or min(r.recording()[1].size for r in recs) < frames:
            assert time.monotonic() < end, "JACK cycles did not run"
            time.sleep(0.05)
        takes = [r.recording() for r in recs]
    finally:
        send.close()
        for r in recs:
            r.close()
        drv.stop()
    sent = send.pulses_sent
    assert (sent >= 0).all()
    lat = eng.latency_samples()
    for start, y in takes[:2]:  # out_1, out_2: each impulse, the graph's latency later
        for s in sent:
            i = s - start + lat
            assert y[i] == pytest.approx(PULSE, abs=1e-6)
        assert np.count_nonzero(np.abs(y) > PULSE / 2) == len(sent)
    assert np.all(takes[2][1] == 0.0)  # out_3 silent


def test_session_shows_and_reloads_the_routing(tmp_path):
    """The rack's input row names the channels; loading another patch takes its routing (or the default)."""
    from livehost.engine import layout as L
    from livehost.session import Session

    a, b, c = (tmp_path / f"{n}.toml" for n in "abc")
    a.write_text(PATCH.format(channels="channels = [2, 1]"))
    b.write_text(PATCH.format(channels="channels = [3]"))
    c.write_text(PATCH.format(channels=""))
    s = Session(str(a), driver="none", start_models=False)
    try:
        assert s.rows()[0] == (0, "input", "mic ch 2, 1")
        assert s.engine.a[L.H_IN_SEL] == 2 + L.IN_SEL_BASE * 1
        s.load(str(b))
        assert s.rows()[0] == (0, "input", "mic ch 3")
        assert s.engine.a[L.H_IN_SEL] == 3 + L.IN_SEL_BASE * 3
        s.load(str(c))
        assert s.rows()[0] == (0, "input", "mic")
        assert s.engine.a[L.H_IN_SEL] == 0
    finally:
        s.close()
