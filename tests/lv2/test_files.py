"""Files an LV2 plugin loads (``patch:writable`` properties of range ``atom:Path``: eg-sampler's sample):
named in the patch by the property's label, relative to the patch's folder, loaded before the first
block (so an offline render is deterministic), changed while playing through the kernel's mailbox
(``patch:Set`` in the plugin's patch input, the file read by the plugin's worker off the audio thread),
and saved back relative to the patch."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from livehost.dsp.lv2_worker import R_R, R_W
from livehost.engine.drivers.offline import render
from livehost.errors import LivehostError
from livehost.lv2 import world
from livehost.nodes.lv2 import instances, load_file
from livehost.patch import load, loads, save
from tests.lv2.lv2util import need, notes_file, render_cli, wait_for
from tests.lv2.test_worker import SAMPLER

SR = 48000


def tone(path, hz, seconds=0.2):
    x = (0.5 * np.sin(2 * np.pi * hz * np.arange(int(SR * seconds)) / SR)).astype(np.float32)
    sf.write(path, x, SR, subtype="FLOAT")


def peak_hz(seg) -> float:
    spec = np.abs(np.fft.rfft(seg * np.hanning(len(seg))))
    return float(np.fft.rfftfreq(len(seg), 1 / SR)[np.argmax(spec)])


def sampler_patch(folder, sample: str | None, name="s.toml") -> str:
    p = folder / name
    p.write_text(f'[patch]\nname = "s"\n[input]\nsource = "none"\n'
                 f'[[chain]]\ntype = "lv2"\nid = "smp"\nuri = "{SAMPLER}"\n'
                 + (f'sample = "{sample}"\n' if sample else ""))
    return str(p)


def test_the_sampler_declares_its_sample_as_a_file():
    need(SAMPLER)
    info = world.plugin(SAMPLER)
    assert [(f.key, f.uri) for f in info.files] == [("sample", SAMPLER + "#sample")]
    assert info.patch_in == 0  # its control port takes patch messages (and MIDI)
    assert world.plugin("http://lv2plug.in/plugins/eg-amp").files == []


def test_a_sample_named_in_the_patch_plays_at_the_notes_from_the_first_one(tmp_path):
    """``sample = "tones/a.wav"`` beside the patch: ``livehost render --midi`` plays a 1 kHz tone at
    every note, the first included (the file was loaded before the first block), where the same patch
    without it plays the plugin's default click."""
    need(SAMPLER)
    (tmp_path / "tones").mkdir()
    tone(tmp_path / "tones" / "a.wav", 1000.0)
    notes = [0.25, 0.75]
    notes_file(tmp_path / "n.mid", notes)

    def play(patch):
        y, _ = render_cli(patch, tmp_path / "out.wav", "--midi", tmp_path / "n.mid")
        at = [int(t * SR) for t in notes]
        return [(peak_hz(y[a + 500:a + 5300, 0]), np.abs(y[a:a + 5300, 0]).max()) for a in at]

    with_tone = play(sampler_patch(tmp_path, "tones/a.wav"))
    for hz, peak in with_tone:
        assert hz == pytest.approx(1000.0, abs=10.0) and peak > 0.2, with_tone
    plain = play(sampler_patch(tmp_path, None, "plain.toml"))
    assert all(abs(hz - 1000.0) > 10.0 for hz, _ in plain), plain  # the click: the test tells them apart


def test_a_missing_file_is_one_line_naming_file_line_and_field(tmp_path):
    need(SAMPLER)
    p = sampler_patch(tmp_path, "nope.wav")
    with pytest.raises(LivehostError) as e:
        load(p)
    msg = str(e.value)
    assert msg == f"{p}:9: smp.sample = 'nope.wav': no such file", msg
    with pytest.raises(LivehostError) as e:
        loads(f'[[chain]]\ntype = "lv2"\nid = "smp"\nuri = "{SAMPLER}"\nsample = 3\n', "x.toml")
    assert str(e.value) == "x.toml:5: smp.sample = 3 must be a string", str(e.value)


def test_saved_patches_name_the_file_relative_to_their_folder(tmp_path):
    need(SAMPLER)
    tone(tmp_path / "a.wav", 500.0)
    p = load(sampler_patch(tmp_path, "a.wav"))
    (spec,) = p.chain
    assert spec.options["sample"] == str((tmp_path / "a.wav").resolve())
    (tmp_path / "sub").mkdir()
    save(p, tmp_path / "again.toml")
    assert 'sample = "a.wav"' in (tmp_path / "again.toml").read_text()
    save(p, tmp_path / "sub" / "far.toml")  # the file is not inside that folder: absolute
    assert f'sample = "{(tmp_path / "a.wav").resolve()}"' in (tmp_path / "sub" / "far.toml").read_text()
    assert load(tmp_path / "sub" / "far.toml").chain[0].options["sample"] == spec.options["sample"]


def test_a_file_loaded_while_playing_goes_through_the_mailbox_and_the_worker(make_engine, tmp_path):
    """``load_file`` on a live node: the message waits in the mailbox until the kernel's next block
    puts it in the plugin's patch input; the plugin schedules the read, the service thread reads the
    file, the kernel hands it over; the next note plays the new file. A key the plugin does not have
    is one line naming its files."""
    need(SAMPLER)
    tone(tmp_path / "a.wav", 1000.0)
    tone(tmp_path / "b.wav", 2000.0)
    eng = make_engine([("node", "lv2", "smp", {}, {"uri": SAMPLER, "sample": str(tmp_path / "a.wav")})])
    st = eng.a[eng.item("smp").sbase:]
    (inst,) = instances(st)

    def play():
        assert eng.send_midi(0x90, 60, 100, frame=64) and eng.send_midi(0x80, 60, 0, frame=6000)
        y = render(eng, 9600, inp=np.zeros((9600, 2), np.float32))
        return peak_hz(y[1000:5800, 0].astype(np.float64))

    assert play() == pytest.approx(1000.0, abs=10.0)
    load_file(st, "sample", str(tmp_path / "b.wav"))
    assert inst.pending()  # nothing ran since: the message is still in the mailbox
    render(eng, 128, inp=np.zeros((128, 2), np.float32))
    assert not inst.pending()
    answers = inst.worker.responses
    wait_for(lambda: answers[R_W] > answers[R_R])  # work() read the file on the service thread
    assert play() == pytest.approx(2000.0, abs=10.0)
    with pytest.raises(world.Lv2Error, match="its files: sample"):
        load_file(st, "impulse", str(tmp_path / "b.wav"))


async def test_F_in_the_ui_loads_another_sample_and_ctrl_z_brings_the_first_back(tmp_path, monkeypatch,
                                                                                 tmp_path_factory):
    """The inspector shows the sampler's file; ``F`` lists the audio files beside the patch (search by
    typing) and the plugin plays the chosen one from the next note; ``ctrl+z`` loads the first one
    again; the saved patch names the file the plugin plays; a path typed that is in no list is taken
    too. ``F`` on a node without files says so."""
    from textual.widgets import Input, OptionList

    from livehost.session import Session
    from livehost.ui.app import LivehostApp

    need(SAMPLER)
    monkeypatch.setenv("LIVEHOST_STATE", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)
    tone(tmp_path / "a.wav", 1000.0)
    tone(tmp_path / "b.wav", 2000.0)
    s = Session(sampler_patch(tmp_path, "a.wav"), driver="none", start_models=False)
    eng = s.engine
    (inst,) = instances(eng.a[eng.item("smp").sbase:])

    def play(loaded=True):
        render(eng, 256, inp=np.zeros((256, 2), np.float32))  # the kernel takes the message
        assert not inst.pending()
        answers = inst.worker.responses  # work() read the file and answered (a free has no answer)
        wait_for(lambda: answers[R_W] > answers[R_R] or not loaded)
        render(eng, 256, inp=np.zeros((256, 2), np.float32))  # the kernel hands the sample over
        assert eng.send_midi(0x90, 60, 100, frame=64) and eng.send_midi(0x80, 60, 0, frame=6000)
        y = render(eng, 9600, inp=np.zeros((9600, 2), np.float32))
        return peak_hz(y[1000:5800, 0].astype(np.float64))

    said = []
    try:
        assert play(loaded=False) == pytest.approx(1000.0, abs=10.0)
        app = LivehostApp(s)
        notify = app.notify
        app.notify = lambda message, **kw: (said.append(str(message)), notify(message, **kw))[1]
        async with app.run_test(size=(140, 44)) as pilot:
            app.rack.select_id("smp")
            app._sync_inspector()
            await pilot.pause()
            assert "sample" in str(app.inspector.render()) and "a.wav" in str(app.inspector.render())
            await pilot.press("F")
            await pilot.pause()
            listed = app.screen.query_one(OptionList)
            assert sorted(str(listed.get_option_at_index(k).prompt).strip()
                          for k in range(listed.option_count)) == ["a.wav", "b.wav"]
            for ch in "b.wav":
                await pilot.press(ch)
            await pilot.press("enter")
            await pilot.pause()
            assert any("loading" in m and "b.wav" in m for m in said), said
            assert "b.wav" in str(app.inspector.render())
            assert play() == pytest.approx(2000.0, abs=10.0)
            await pilot.press("ctrl+z")
            await pilot.pause()
            assert play() == pytest.approx(1000.0, abs=10.0)
            await pilot.press("ctrl+y")
            await pilot.pause()
            assert play() == pytest.approx(2000.0, abs=10.0)
            s.save(str(tmp_path / "saved.toml"))
            assert 'sample = "b.wav"' in (tmp_path / "saved.toml").read_text()
            elsewhere = tmp_path_factory.mktemp("elsewhere") / "c.wav"
            tone(elsewhere, 3000.0)
            await pilot.press("F")
            await pilot.pause()
            app.screen.query_one(Input).value = str(elsewhere)  # typed: no listed file matches
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            assert play() == pytest.approx(3000.0, abs=10.0)
            app.rack.select_id("master")
            app._sync_inspector()
            await pilot.press("F")
            await pilot.pause()
            assert any("loads files" in m for m in said), said
    finally:
        s.close()


@pytest.mark.jack
def test_on_jack_a_file_set_while_playing_is_taken_by_the_audio_thread(tmp_path):
    """eg-sampler on the JACK driver: ``load_file`` while JACK's thread runs the kernel; the mailbox is
    emptied by that thread within a few cycles, the plugin's worker reads the file, the JACK thread
    hands it over (the plugin's state then names the new file), no fault, callbacks on time."""
    from livehost.engine.drivers.jack import JackDriver
    from livehost.engine.patching import engine_for
    from tests.jackutil import need_jack

    need_jack()
    need(SAMPLER)
    tone(tmp_path / "a.wav", 1000.0)
    tone(tmp_path / "b.wav", 2000.0)
    eng = engine_for(load(sampler_patch(tmp_path, "a.wav")))
    st = eng.a[eng.item("smp").sbase:]
    (inst,) = instances(st)
    assert "a.wav" in inst.save_state()
    drv = JackDriver(eng, client_name="lh-lv2-files", connect=False)
    try:
        drv.start()
        wait_for(lambda: eng.stats()["callbacks"] > 50)
        answers = inst.worker.responses
        before = answers[R_W]  # the answer to the load at instantiation, handed over then
        load_file(st, "sample", str(tmp_path / "b.wav"))
        wait_for(lambda: not inst.pending(), 2.0)  # taken by JACK's thread
        wait_for(lambda: answers[R_R] > before and answers[R_R] == answers[R_W], 5.0)  # and handed over
        assert "b.wav" in inst.save_state()
        assert eng.stats()["nan_resets"] == 0
    finally:
        drv.stop()
