"""LV2 State: a plugin's own state is restored from the file a patch names (before the node plays) and
written beside the patch when it is saved, through liblilv's state API; bad state files are one-line
errors naming file:line:field."""

from __future__ import annotations

import re

import pytest

from livehost.engine.patching import engine_for, patch_from_engine
from livehost.errors import PatchError
from livehost.lv2 import world
from livehost.lv2.host import Instance, has_state
from livehost.nodes.lv2 import live_instances
from livehost.patch import load, save
from tests.lv2.lv2util import need

SCOPE = "http://lv2plug.in/plugins/eg-scope#Stereo"  # state:interface: samples per pixel, amplitude
SCOPE_MONO = "http://lv2plug.in/plugins/eg-scope#Mono"
AMP = "http://lv2plug.in/plugins/eg-amp"  # no State extension
NS = "http://lv2plug.in/plugins/eg-scope#"


def hand_state(uri, spp, amp):
    """A state written by hand (not by lilv): eg-scope's two properties."""
    return (f"@prefix lv2: <http://lv2plug.in/ns/lv2core#> .\n"
            f"@prefix pset: <http://lv2plug.in/ns/ext/presets#> .\n"
            f"@prefix state: <http://lv2plug.in/ns/ext/state#> .\n"
            f"@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
            f"<urn:by-hand> a pset:Preset ; lv2:appliesTo <{uri}> ;\n"
            f"  state:state [ <{NS}ui-spp> \"{spp}\"^^xsd:int ; <{NS}ui-amp> \"{amp}\"^^xsd:float ] .\n")


def values(text):
    """eg-scope's (samples per pixel, amplitude) in a state's Turtle."""
    spp = re.search(rf"<{re.escape(NS)}ui-spp> \"(-?\d+)\"", text)
    amp = re.search(rf"<{re.escape(NS)}ui-amp> \"([-0-9.eE+]+)\"", text)
    return int(spp.group(1)), float(amp.group(1))


def write_patch(folder, uri, state=None, name="p.toml", node="sc"):
    path = folder / name
    path.write_text(f'[patch]\nname = "p"\n[input]\nsource = "none"\n'
                    f'[[chain]]\ntype = "lv2"\nid = "{node}"\nuri = "{uri}"\n'
                    + (f'state = "{state}"\n' if state else ""))
    return path


def test_an_instance_restores_and_saves_state():
    need(SCOPE, AMP)
    assert has_state(SCOPE) and not has_state(AMP)
    info = world.plugin(SCOPE)
    fresh = Instance(info, 48000.0, 128)
    restored = Instance(info, 48000.0, 128, state=hand_state(SCOPE, 17, 3.5))
    try:
        assert values(fresh.save_state()) == (50, 1.0)  # the plugin's own defaults: a control
        text = restored.save_state()
        assert values(text) == (17, 3.5)
        assert text.startswith("@prefix")  # a file that stands alone
        again = Instance(info, 48000.0, 128, state=text)  # lilv's own text reads back the same
        assert again.save_state() == text
        again.close()
    finally:
        fresh.close()
        restored.close()
    assert Instance(world.plugin(AMP), 48000.0, 128).save_state() is None


@pytest.mark.parametrize("uri", [SCOPE, SCOPE_MONO])
def test_state_is_saved_beside_the_patch_and_back_on_load(tmp_path, uri):
    """A patch naming a hand-written state: the engine's plugin has it; saving the patch elsewhere writes
    ``<patch>.<node>.state.ttl`` beside it (named in the patch); a fresh engine loading that patch has
    the same state (lilv's text equal), while one loading the patch without it has the defaults."""
    need(uri)
    (tmp_path / "hand.ttl").write_text(hand_state(uri, 23, 0.25))
    p = load(write_patch(tmp_path, uri, "hand.ttl"))
    base = live_instances()
    eng = engine_for(p)
    assert live_instances() == base + (2 if uri == SCOPE_MONO else 1)
    live = patch_from_engine(eng, p)
    assert values(live.chain[0].options["state"]) == (23, 0.25)
    out = tmp_path / "saved" / "gig.toml"
    save(live, out)
    saved_text = (out.parent / "gig.sc.state.ttl").read_text()
    assert 'state = "gig.sc.state.ttl"' in out.read_text()
    assert values(saved_text) == (23, 0.25)
    assert sorted(f.name for f in out.parent.iterdir()) == ["gig.sc.state.ttl", "gig.toml"]  # no temp files

    again = load(out)
    fresh = engine_for(again)
    assert patch_from_engine(fresh, again).chain[0].options["state"] == saved_text
    plain = engine_for(load(write_patch(tmp_path, uri, name="plain.toml")))
    assert values(patch_from_engine(plain, again).chain[0].options["state"]) == (50, 1.0)


def test_a_session_save_writes_the_state(tmp_path):
    from livehost.session import Session

    need(SCOPE)
    (tmp_path / "hand.ttl").write_text(hand_state(SCOPE, 9, 2.0))
    s = Session(str(write_patch(tmp_path, SCOPE, "hand.ttl")), driver="none", start_models=False)
    try:
        saved = s.save(str(tmp_path / "b.toml"))
    finally:
        s.close()
    assert values((tmp_path / "b.sc.state.ttl").read_text()) == (9, 2.0)
    assert load(saved).chain[0].options["state"] == (tmp_path / "b.sc.state.ttl").read_text()


def test_undo_of_a_removal_brings_the_state_back(tmp_path):
    """The session keeps a node's state in memory: removing the node and undoing brings a new instance
    with the same state (no file read)."""
    from livehost.session import Session

    need(SCOPE)
    (tmp_path / "hand.ttl").write_text(hand_state(SCOPE, 31, 0.5))
    s = Session(str(write_patch(tmp_path, SCOPE, "hand.ttl")), driver="none", start_models=False)
    try:
        (tmp_path / "hand.ttl").unlink()
        s.remove(s.engine.item("sc"))
        assert "sc" not in [n.id for n in s.current_patch().chain]
        s.undo()
        assert values(s.current_patch().chain[0].options["state"]) == (31, 0.5)
    finally:
        s.close()


def test_bad_state_files_are_one_line_errors(tmp_path):
    need(SCOPE, SCOPE_MONO)
    path = write_patch(tmp_path, SCOPE, "missing.ttl")
    with pytest.raises(PatchError) as e:
        load(path)
    assert str(e.value) == f"{path}:9: sc.state = 'missing.ttl': cannot be read (No such file or directory)"
    (tmp_path / "other.ttl").write_text(hand_state(SCOPE_MONO, 1, 1.0))
    (tmp_path / "junk.ttl").write_text("this is not turtle <<<")
    (tmp_path / "nopreset.ttl").write_text(hand_state(SCOPE, 1, 1.0).replace("a pset:Preset ;", ""))
    for name, why in [("other.ttl", f"is the state of '{SCOPE_MONO}', not of '{SCOPE}'"),
                      ("junk.ttl", "is not an LV2 state (no subject is a pset:Preset)"),
                      ("nopreset.ttl", "is not an LV2 state (no subject is a pset:Preset)")]:
        path = write_patch(tmp_path, SCOPE, name)
        with pytest.raises(PatchError) as e:
            load(path)
        assert str(e.value) == f"{path}:9: sc.state = '{name}': {why}"


def test_a_sampler_state_changes_the_sound_and_survives_save_and_load(tmp_path):
    """eg-sampler's state names its sample: a patch whose state file names a 1 kHz tone plays the tone
    on a note (where the plugin's default state plays a click); saved and loaded into a fresh engine,
    it renders the same samples."""
    import numpy as np
    import soundfile as sf

    from livehost.engine.drivers.offline import render

    sampler = "http://lv2plug.in/plugins/eg-sampler"
    need(sampler)
    sr = 48000
    tone = (0.5 * np.sin(2 * np.pi * 1000.0 * np.arange(sr // 5) / sr)).astype(np.float32)
    sf.write(tmp_path / "tone.wav", tone, sr, subtype="FLOAT")
    (tmp_path / "smp.ttl").write_text(
        "@prefix lv2: <http://lv2plug.in/ns/lv2core#> .\n@prefix pset: <http://lv2plug.in/ns/ext/presets#> .\n"
        "@prefix state: <http://lv2plug.in/ns/ext/state#> .\n"
        f"<urn:x> a pset:Preset ; lv2:appliesTo <{sampler}> ;\n"
        f"  state:state [ <{sampler}#sample> <{(tmp_path / 'tone.wav').as_uri()}> ] .\n")

    def play(patch):
        eng = engine_for(patch)
        assert eng.send_midi(0x90, 60, 100, frame=64) and eng.send_midi(0x80, 60, 0, frame=6000)
        y = render(eng, 9600, inp=np.zeros((9600, 2), np.float32))
        seg = y[1000:5800, 0].astype(np.float64)
        spec = np.abs(np.fft.rfft(seg * np.hanning(len(seg))))
        return y, np.fft.rfftfreq(len(seg), 1 / sr)[np.argmax(spec)], eng

    y0, f0, _ = play(load(write_patch(tmp_path, sampler, name="plain.toml", node="smp")))
    y1, f1, eng = play(load(write_patch(tmp_path, sampler, "smp.ttl", node="smp")))
    assert abs(f0 - 1000.0) > 10.0 and f1 == pytest.approx(1000.0, abs=10.0)
    out = tmp_path / "keep" / "song.toml"
    save(patch_from_engine(eng, load(tmp_path / "p.toml")), out)
    assert (tmp_path / "tone.wav").as_uri() in (out.parent / "song.smp.state.ttl").read_text()
    y2, f2, _ = play(load(out))
    np.testing.assert_array_equal(y2, y1)
