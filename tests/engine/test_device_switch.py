"""Choosing the audio devices while a session plays (``Session.set_devices``, the UI's ``d``), on a real
JACK server through PortAudio: the stream moves, the audio carries on, the master comes back unmuted,
and a choice that cannot be opened leaves the old device playing with one line."""

import shutil
import time

import pytest

from livehost.engine.drivers import portaudio as pa
from livehost.engine.drivers.null import NullDriver
from livehost.errors import LivehostError
from livehost.session import Session
from livehost.ui.app import LivehostApp
from tests.conftest import ROOT
from tests.jackutil import need_jack

pytestmark = pytest.mark.jack


@pytest.fixture
def patch(tmp_path, monkeypatch):
    need_jack()
    monkeypatch.setenv("LIVEHOST_STATE", str(tmp_path / "state"))
    shutil.copy(f"{ROOT}/patches/default.toml", tmp_path / "d.toml")
    return str(tmp_path / "d.toml")


def callbacks_after(session, seconds=0.3):
    """Callbacks the engine ran in the next ``seconds``."""
    c0 = session.engine.stats()["callbacks"]
    time.sleep(seconds)
    return session.engine.stats()["callbacks"] - c0


def mute_value(session):
    return session.engine.master.values.get("mute", False)


def test_the_stream_moves_to_the_chosen_device_and_keeps_playing(patch):
    s = Session(patch, driver="portaudio")
    try:
        out = [d for d in s.audio_devices() if d["outputs"] > 0][0]
        old = s.driver
        assert callbacks_after(s) > 50
        now = s.set_devices(out["index"], out["index"])
        assert s.driver is not old and isinstance(s.driver, pa.PortAudioDriver)
        assert s.driver.out_dev == out["index"] and now.startswith(out["name"])
        assert callbacks_after(s) > 50  # 0.3 s at 48 kHz / 128 is 112
        assert mute_value(s) is False and s.engine.stats()["device"] == now
        with pytest.raises(LivehostError, match=r"^no audio device 999; list them with 'livehost devices'$"):
            s.set_devices(999)  # refused before anything stops: the same stream plays on
        assert callbacks_after(s) > 50
    finally:
        s.close()


def test_a_device_that_will_not_open_leaves_the_old_one_playing(patch, monkeypatch):
    s = Session(patch, driver="portaudio")
    try:
        real_open = pa.PortAudioDriver._open
        tries = []

        def refuse_once(self):
            tries.append(self.out_dev)
            if len(tries) == 1:
                raise pa.AudioError("device busy")
            real_open(self)

        monkeypatch.setattr(pa.PortAudioDriver, "_open", refuse_once)
        with pytest.raises(LivehostError) as e:
            s.set_devices(0)
        assert str(e.value).startswith("device busy; still playing on system (JACK")
        assert len(tries) == 2  # the old device opened again
        assert callbacks_after(s) > 50 and mute_value(s) is False
    finally:
        s.close()


def test_a_null_driver_session_moves_to_a_device_plugged_in_later(patch):
    s = Session(patch, driver="null")
    try:
        assert isinstance(s.driver, NullDriver)
        s.set_devices(None)  # the default device
        assert isinstance(s.driver, pa.PortAudioDriver) and s.engine.stats()["driver"] == "portaudio"
        assert callbacks_after(s) > 50
    finally:
        s.close()


async def test_d_chooses_the_output_then_the_input_device(patch):
    s = Session(patch, driver="null")
    app = LivehostApp(s)
    try:
        async with app.run_test(size=(140, 44), notifications=True) as pilot:
            await pilot.press("d")
            await pilot.pause()
            assert app.screen.title_text.startswith("output device")
            await pilot.press("enter")  # the first output: system (JACK), the only one on this server
            await pilot.pause()
            if s.engine.input_mode == "mic":
                assert app.screen.title_text.startswith("input device")
                await pilot.press("enter")
            await pilot.pause(0.3)
            assert isinstance(s.driver, pa.PortAudioDriver) and s.driver.out_name == "system"
            toasts = [str(t.render()) for t in app.screen.query("Toast")]
            assert any(t.startswith("audio on system (JACK") for t in toasts), toasts
            assert "system (JACK" in str(app.query_one("#status").render())
    finally:
        s.close()
