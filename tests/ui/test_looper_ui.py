"""The looper from the UI: ``l`` saves the selected looper's loop, as it plays, to a WAV in recordings/."""

import os
import shutil

import numpy as np
import pytest
import soundfile as sf

from livehost.dsp.looper import looper_played, looper_status
from livehost.engine.drivers.offline import render
from livehost.session import Session
from livehost.ui.app import LivehostApp
from tests.conftest import ROOT

SIZE = (140, 44)
BLK = 128


@pytest.fixture
def session(tmp_path, monkeypatch):
    monkeypatch.setenv("LIVEHOST_STATE", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "patches").mkdir()
    shutil.copy(f"{ROOT}/patches/looper.toml", tmp_path / "patches" / "looper.toml")
    s = Session(str(tmp_path / "patches" / "looper.toml"), driver="none", start_models=False)
    yield s
    s.close()


def state(session, node_id):
    it = session.engine.item(node_id)
    return session.engine.a[it.sbase:it.sbase + it.ssize]


def play(session, frames, inp, presses):
    """Render ``frames`` (whole blocks) of input ``inp``, loop1's pedal down in the blocks in ``presses``."""
    def on_block(b):
        session.engine.set_param("loop1", "pedal", b in presses)
    return render(session.engine, frames, inp, on_block=on_block)


async def test_l_saves_the_selected_loopers_loop_as_it_plays(session, tmp_path):
    """A take (blocks 10..410: 51200 samples) and an overdub on it, driven through the engine's pedal;
    ``l`` on loop1 writes a float32 WAV that is one pass of the loop exactly as the engine then plays it
    (to float32 precision), and equal to the loop held in the node's state; ``l`` on a row that is no
    looper, or on an empty looper, writes nothing and says why."""
    r = np.random.default_rng(40)
    n_in = 1000 * BLK
    inp = (0.2 * r.uniform(-1, 1, (n_in, 2))).astype(np.float32)
    play(session, n_in, inp, {10, 410, 600, 800})  # record, close, overdub (confirmed), punch out
    st = looper_status(state(session, "loop1"))
    assert st["mode"] == "play" and st["length"] == 400 * BLK and st["undo"] == "undo"
    app = LivehostApp(session)
    said = []
    notify = app.notify
    app.notify = lambda message, **kw: (said.append(str(message)), notify(message, **kw))[1]
    async with app.run_test(size=SIZE) as pilot:
        app.rack.select_id("loop1")
        app._sync_inspector()
        await pilot.pause()
        await pilot.press("l")
        await pilot.pause()
        files = sorted(os.listdir(tmp_path / "recordings"))
        assert len(files) == 1 and files[0].startswith("looper-loop-loop1-") and files[0].endswith(".wav")
        held = looper_played(state(session, "loop1"))
        app.rack.select_id("loop2")  # empty: nothing to save
        app._sync_inspector()
        await pilot.pause()
        await pilot.press("l")
        await pilot.pause()
        app.rack.select_id("loops")  # the layer: no looper
        app._sync_inspector()
        await pilot.pause()
        await pilot.press("l")
        await pilot.pause()
        assert said[0].startswith("saved the loop to ") and said[0].endswith(files[0]), said
        assert "loop2 holds no loop yet" in said[1] and "select a looper" in said[2], said
        assert os.listdir(tmp_path / "recordings") == files  # (no temp file left either)
    info = sf.info(str(tmp_path / "recordings" / files[0]))
    assert info.samplerate == 48000 and info.subtype == "FLOAT" and info.channels == 2
    wav, _ = sf.read(str(tmp_path / "recordings" / files[0]), dtype="float32", always_2d=True)
    assert wav.shape == (400 * BLK, 2)
    np.testing.assert_array_equal(wav, held)
    # one pass as the engine plays it, from the loop's start (silent input: only the loop is heard)
    eng = session.engine
    pos = looper_status(state(session, "loop1"))["position"]
    lat = eng.latency_samples()
    render(eng, (400 * BLK - pos) % (400 * BLK))
    y = render(eng, 400 * BLK + lat)[lat:]
    np.testing.assert_allclose(wav, y, rtol=0, atol=1e-7)
    assert np.abs(wav).max() > 0.1
    # the overdub is in it: it is not the first take alone
    assert np.abs(wav[200 * BLK:250 * BLK] - inp[210 * BLK:260 * BLK]).max() > 0.05


def rack_row(app, node_id):
    return next(line for line in str(app.rack.render()).splitlines() if f"{node_id} (looper)" in line)


async def test_the_rack_shows_what_each_looper_is_doing(session):
    """Each looper's row says its state and where it is, from the node's own state: empty, recording
    (with the length a quantised take will close itself at), playing, overdubbing, stopped."""
    r = np.random.default_rng(41)
    inp = (0.1 * r.uniform(-1, 1, (1000 * BLK, 2))).astype(np.float32)
    session.engine.set_param("loop2", "quantise", "bar")  # 4 beats of 500 ms (120 bpm): 2.0 s a bar
    app = LivehostApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "loop empty" in rack_row(app, "loop1") and "loop empty" in rack_row(app, "loop2")
        play(session, 300 * BLK, inp, {10})  # press: record, 290 blocks of it
        assert "● rec 0.8s" in rack_row(app, "loop1")  # 290 * 128 / 48000 = 0.77 s
        play(session, 100 * BLK, inp, {10})  # press: the loop closes at 300 blocks (0.80 s), plays on
        assert "▶ 0.2/0.8s" in rack_row(app, "loop1")  # 90 blocks into the loop
        play(session, 400 * BLK, inp, {100})  # press: overdub (confirmed after DOUBLE_S)
        assert "● dub " in rack_row(app, "loop1") and "/0.8s" in rack_row(app, "loop1")
        play(session, 400 * BLK, inp, set(range(20, 260)))  # press (back to play), held 0.64 s: stop
        assert "■ stop 0.8s" in rack_row(app, "loop1")

        def press2(frames, presses):
            def on_block(b):
                session.engine.set_param("loop2", "pedal", b in presses)
            return render(session.engine, frames, inp[:frames], on_block=on_block)

        press2(160 * BLK, {0, 150})  # record, then a press at 0.4 s: recording on to the bar line
        assert "● rec 0.4/2.0s" in rack_row(app, "loop2"), rack_row(app, "loop2")
