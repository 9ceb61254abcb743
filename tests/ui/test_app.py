"""The UI driven like a user (Textual Pilot): every action changes the engine as intended."""

import os
import shutil

import numpy as np
import pytest

from livehost.engine import layout as L
from livehost.engine.drivers.offline import render
from livehost.engine.graph import Layer
from livehost.session import Session
from livehost.ui.app import LivehostApp
from livehost.ui.screens import ConfirmScreen, HelpScreen
from tests.conftest import ROOT

SIZE = (140, 44)


@pytest.fixture
def session(tmp_path, monkeypatch):
    monkeypatch.setenv("LIVEHOST_STATE", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "patches").mkdir()
    shutil.copy(f"{ROOT}/patches/default.toml", tmp_path / "patches" / "default.toml")
    shutil.copy(f"{ROOT}/patches/gain-only.toml", tmp_path / "patches" / "gain-only.toml")
    s = Session(str(tmp_path / "patches" / "default.toml"), driver="none")
    yield s
    s.close()


def ids(session):
    return [it.id for it in session.engine.chain]


async def select(pilot, app, node_id):
    app.rack.select_id(node_id)
    app._sync_inspector()
    await pilot.pause()


async def select_param(pilot, app, name):
    names = [n for n, _ in app.inspector.params()]
    app.inspector.selected = names.index(name)
    await pilot.pause()


async def test_add_a_node_from_the_searchable_list(session):
    app = LivehostApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, app, "highpass")
        await pilot.press("a")
        await pilot.press(*"bitcr")
        await pilot.press("enter")
        await pilot.pause()
        assert ids(session) == ["input_gain", "highpass", "bitcrush1", "slap", "room"]
        assert session.engine.item("bitcrush1").type.name == "bitcrush"
        assert app.rack.current()[2].id == "bitcrush1"
        assert session.dirty


async def test_add_an_lv2_plugin_from_the_installed_list(session):
    """``a``, ``lv2``: a second searchable list of the installed plugins; the one chosen is added with its
    URI (its control ports become parameters), and undo/redo take it out and back with the same URI."""
    from livehost.lv2.world import Lv2Error, plugins

    amp = "http://lv2plug.in/plugins/eg-amp"
    try:
        if amp not in plugins():
            pytest.skip("lv2-examples not installed")
    except Lv2Error as e:
        pytest.skip(str(e))
    app = LivehostApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, app, "highpass")
        await pilot.press("a", *"lv2", "enter")
        await pilot.pause()
        await pilot.press(*"eg-amp", "enter")
        await pilot.pause()
        assert ids(session) == ["input_gain", "highpass", "lv21", "slap", "room"]
        node = session.engine.item("lv21")
        assert node.options["uri"] == amp and "gain" in [p.name for p in node.type.params]
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert "lv21" not in ids(session)
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert session.engine.item("lv21").options["uri"] == amp


async def test_add_a_layer(session):
    app = LivehostApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, app, "room")
        await pilot.press("a", *"layer", "enter")
        await pilot.pause()
        assert isinstance(session.engine.chain[-1], Layer)


async def test_remove_reorder_and_bypass(session):
    app = LivehostApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, app, "slap")
        await pilot.press("delete")
        await pilot.pause()
        assert ids(session) == ["input_gain", "highpass", "room"]
        await select(pilot, app, "highpass")
        await pilot.press("shift+down")
        await pilot.pause()
        assert ids(session) == ["input_gain", "room", "highpass"]
        await pilot.press("shift+up", "shift+up")
        await pilot.pause()
        assert ids(session) == ["highpass", "input_gain", "room"]
        await pilot.press("b")
        await pilot.pause()
        hp = session.engine.item("highpass")
        assert hp.values["bypass"] is True
        assert session.engine.a[hp.pbase + 1] == 1.0  # the engine's bypass target


async def test_change_values_with_steps_and_typing(session):
    app = LivehostApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, app, "input_gain")
        await pilot.press("tab")
        await select_param(pilot, app, "gain_db")
        await pilot.press("+")
        assert session.engine.get_param("input_gain", "gain_db") == pytest.approx(0.84)  # 1/100 of 84 dB
        await pilot.press("]")
        assert session.engine.get_param("input_gain", "gain_db") == pytest.approx(8.4)
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press(*"-12.5", "enter")
        await pilot.pause()
        assert session.engine.get_param("input_gain", "gain_db") == -12.5
        node = session.engine.item("input_gain")
        gi = [p.name for p in node.params].index("gain_db")
        assert session.engine.a[node.pbase + gi] == -12.5  # the target the audio smooths towards
        await pilot.press("enter", *"99", "enter")  # out of range: refused
        await pilot.pause()
        assert session.engine.get_param("input_gain", "gain_db") == -12.5


async def test_midi_learn_by_injecting_a_cc(session):
    app = LivehostApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, app, "slap")
        await select_param(pilot, app, "feedback")
        await pilot.press("m")
        assert session.learn_target == "slap.feedback"
        session.cc(0, 21, 64)
        await pilot.pause(0.1)
        assert session.learn_target is None
        assert [(m.cc, m.channel, m.target) for m in session.midi_maps] == [(21, None, "slap.feedback")]
        assert session.dirty and "CC21" in app.inspector.render().plain
        session.cc(0, 21, 127)
        assert session.engine.get_param("slap", "feedback") == pytest.approx(0.99)
        session.cc(0, 21, 0)
        assert session.engine.get_param("slap", "feedback") == 0.0


async def test_save_and_load(session, tmp_path):
    app = LivehostApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, app, "room")
        await pilot.press("b")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not session.dirty
        text = (tmp_path / "patches" / "default.toml").read_text()
        assert "bypass = true" in text
        await pilot.press("w")
        await pilot.pause()
        await pilot.press(*"encore", "enter")
        await pilot.pause()
        assert (tmp_path / "patches" / "encore.toml").exists()
        assert session.path.endswith("encore.toml")
        await pilot.press("o")
        await pilot.pause()
        await pilot.press("down", "down", "enter")  # sorted: default, encore, gain-only
        await pilot.pause()
        assert session.path.endswith("gain-only.toml")
        assert ids(session) == ["level"]


async def test_load_over_unsaved_changes_asks_first(session, tmp_path):
    app = LivehostApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, app, "room")
        await pilot.press("b")
        await pilot.press("o")
        await pilot.pause()
        app.screen.dismiss(str(tmp_path / "patches" / "gain-only.toml"))
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert ids(session) == ["input_gain", "highpass", "slap", "room"]
        await pilot.press("o")
        await pilot.pause()
        app.screen.dismiss(str(tmp_path / "patches" / "gain-only.toml"))
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert ids(session) == ["level"]
        assert not session.dirty


async def test_quit_asks_when_unsaved(session):
    app = LivehostApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, app, "room")
        await pilot.press("b", "q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert app.is_running
        await pilot.press("q", "y")
        await pilot.pause()
    assert app.return_code == 0


async def test_help_and_panic(session):
    app = LivehostApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("exclamation_mark")
        await pilot.pause()
        assert session.engine.get_param("master", "mute") is True
        assert session.engine.a[L.H_PANIC] == 1.0


async def test_meters_follow_the_audio(session):
    app = LivehostApp(session)
    async with app.run_test(size=SIZE) as pilot:
        import numpy as np

        x = (0.5 * np.sin(2 * np.pi * 750 * np.arange(4800) / 48000)).astype(np.float32)
        render(session.engine, 4800, np.stack([x, x], 1))
        await pilot.pause(0.1)
        assert app._meters.hold["input"] == pytest.approx(20 * np.log10(0.5), abs=0.1)


async def test_generator_and_genre_panels_and_keys(tmp_path, monkeypatch):
    """A patch with both models: the panels show the real workers; f freezes, g primes the generator."""
    monkeypatch.setenv("LIVEHOST_STATE", str(tmp_path / "state"))
    text = open(f"{ROOT}/patches/generator-arp19.toml").read().replace(
        '[models]\ngenerator = "models/generator-arp19.onnx"',
        f'[models]\ngenerator = "{ROOT}/models/generator-arp19.onnx"\nclassifier = "{ROOT}/models/genre_mlp.onnx"')
    (tmp_path / "both.toml").write_text(text)
    s = Session(str(tmp_path / "both.toml"), driver="none", start_models=False)
    try:
        app = LivehostApp(s)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause(0.2)
            side = str(app.query_one("#side").render())
            assert "generator: playing" in side and "underruns 0" in side
            assert "genre: genre_mlp.onnx" in side
            await pilot.press("f")
            await pilot.pause(0.2)
            assert s.engine.get_param("generator", "freeze") is True
            assert "generator: frozen" in str(app.query_one("#side").render())
            render(s.engine, 48000, np.full((48000, 2), 0.1, np.float32))  # 1 s of input in the tap
            await pilot.press("g")
            await pilot.pause(0.1)
            notes = [n.message for n in app._notifications]
            assert any("primed from 1.0 s" in m for m in notes), notes
            s.cc(0, 1, 127)  # the patch maps CC1 to the generator's temperature
            assert s.engine.get_param("generator", "temperature") == pytest.approx(1.0)
    finally:
        s.close()


async def test_brackets_are_shown_as_written_not_eaten_as_markup(tmp_path, monkeypatch):
    """The side panel's hints name patch sections (``[midi] port``); those, a patch file named with
    brackets in the status line and a notification naming ``[models] generator`` appear literally."""
    monkeypatch.setenv("LIVEHOST_STATE", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "patches").mkdir()
    path = tmp_path / "patches" / "live [v2].toml"
    shutil.copy(f"{ROOT}/patches/default.toml", path)
    s = Session(str(path), driver="none")  # no MIDI port, no classifier, no generator
    try:
        app = LivehostApp(s)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await pilot.pause(0.1)
            side = str(app.query_one("#side").render()).splitlines()
            assert side[0].startswith("MIDI: no port (--midi PORT or [midi] port)")
            assert "genre: (no classifier: [models] classifier)" in side
            assert "generator: (none: [models] generator)" in side
            assert str(app.query_one("#status").render()).endswith("| live [v2].toml")
            await pilot.press("f")  # freeze without a generator: a warning naming the patch section
            await pilot.pause(0.2)
            toasts = [str(t.render()) for t in app.screen.query("Toast")]
            assert "no generator in this patch ([models] generator)" in toasts, toasts
    finally:
        s.close()


class _ServerGone:
    """What a driver whose audio server went away reports (the JACK and PortAudio drivers' ``state``
    and ``messages``), without killing a server under the UI."""

    state = "JACK server gone: running on the null driver, reconnecting"

    def __init__(self):
        self._said = ["audio server stopped: JACK server has been closed"]

    def messages(self):
        out, self._said = self._said, []
        return out

    def stop(self):
        pass


async def test_status_line_says_when_the_audio_server_is_gone(session):
    app = LivehostApp(session)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause(0.1)
        assert not str(app.query_one("#status").render()).startswith("!!")
        session.driver = _ServerGone()
        await pilot.pause(0.3)
        assert str(app.query_one("#status").render()).startswith(
            "!! JACK server gone: running on the null driver, reconnecting | ")
        toasts = [str(t.render()) for t in app.screen.query("Toast")]
        assert "audio server stopped: JACK server has been closed" in toasts, toasts
        session.driver = None


async def test_r_records_the_output_and_shift_r_the_dry_input_too(session, tmp_path):
    """r twice: a take of exactly the frames played, equal to what the device got; the status bar shows
    the take while it runs; R adds the dry input (the device input, untouched) on channels 3-4."""
    import numpy as np
    import soundfile as sf

    n = 563 * 128  # 1.5 s at 48 kHz
    t = np.arange(n) / 48000
    inp = np.stack([0.5 * np.sin(2 * np.pi * 750 * t), 0.25 * np.sin(2 * np.pi * 330 * t)], 1).astype(np.float32)
    app = LivehostApp(session)
    takes = []
    async with app.run_test(size=SIZE) as pilot:
        for key in ("r", "R"):
            await pilot.press(key)
            await pilot.pause()
            assert session.recording
            path = session.recorder.path
            assert os.path.dirname(path) == str((tmp_path / "recordings").resolve())
            y = render(session.engine, n, inp)
            await pilot.pause(0.2)  # the writer thread drains the ring every 20 ms
            status = str(app.query_one("#status").render())
            assert status.startswith(f"● REC 0:01 recordings/{os.path.basename(path)} | "), status
            await pilot.press(key)
            await pilot.pause()
            assert not session.recording and session.recorder is None
            assert "REC" not in str(app.query_one("#status").render())
            takes.append((path, y))
    assert takes[0][0] != takes[1][0]
    out, sr = sf.read(takes[0][0], dtype="float32", always_2d=True)
    assert sr == 48000 and out.shape == (n, 2)
    np.testing.assert_array_equal(out, takes[0][1])  # bit-exact: what the device was sent
    both, _ = sf.read(takes[1][0], dtype="float32", always_2d=True)
    assert both.shape == (n, 4)
    np.testing.assert_array_equal(both[:, :2], takes[1][1])
    np.testing.assert_array_equal(both[:, 2:], inp)


async def test_p_saves_a_preset_and_shift_p_loads_one_from_the_list(session, tmp_path):
    app = LivehostApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, app, "slap")
        slap = session.engine.item("slap")
        session.set_value(slap, "time_ms", 250.0)
        await pilot.press("p")
        await pilot.pause()
        await pilot.press(*"mine", "enter")
        await pilot.pause()
        assert (tmp_path / "presets" / "delay" / "mine.toml").is_file()
        session.set_value(slap, "time_ms", 900.0)
        await pilot.press("P")
        await pilot.pause()
        await pilot.press(*"min", "enter")
        await pilot.pause()
        assert session.engine.get_param("slap", "time_ms") == 250.0
        await pilot.press("P")
        await pilot.pause()
        await pilot.press(*"article", "enter")  # a shipped one
        await pilot.pause()
        assert session.engine.get_param("slap", "time_ms") == 1000.0
        assert session.engine.get_param("slap", "mode") == "repeats"
        await select(pilot, app, "master")
        await pilot.press("P")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen) and app.screen is app.screen_stack[0]


async def test_ctrl_z_undoes_and_ctrl_y_redoes_edits(session):
    app = LivehostApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, app, "slap")
        await pilot.press("delete")
        await pilot.pause()
        await select(pilot, app, "input_gain")
        await pilot.press("tab")
        await select_param(pilot, app, "gain_db")
        g0 = session.engine.get_param("input_gain", "gain_db")
        await pilot.press("]")  # (a knob turn merging into one step is tested in tests/test_history.py)
        assert session.engine.get_param("input_gain", "gain_db") != g0
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert session.engine.get_param("input_gain", "gain_db") == g0
        assert ids(session) == ["input_gain", "highpass", "room"]
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert ids(session) == ["input_gain", "highpass", "slap", "room"]  # the removal undone
        await pilot.press("ctrl+z")
        await pilot.pause()  # nothing left: says so, changes nothing
        assert ids(session) == ["input_gain", "highpass", "slap", "room"]
        await pilot.press("ctrl+y", "ctrl+y")
        await pilot.pause()
        assert ids(session) == ["input_gain", "highpass", "room"]
        assert session.engine.get_param("input_gain", "gain_db") == pytest.approx(g0 + 8.4)


async def test_c_flips_between_a_and_b_versions(session):
    app = LivehostApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        await pilot.pause()
        assert session.ab_side == "B" and "| B" in str(app.query_one("#status").render())
        await select(pilot, app, "slap")
        await pilot.press("delete")
        await pilot.pause()
        assert ids(session) == ["input_gain", "highpass", "room"]
        await pilot.press("c")
        await pilot.pause()
        assert session.ab_side == "A" and ids(session) == ["input_gain", "highpass", "slap", "room"]
        await pilot.press("c")
        await pilot.pause()
        assert session.ab_side == "B" and ids(session) == ["input_gain", "highpass", "room"]
