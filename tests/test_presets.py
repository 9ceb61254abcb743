"""Node presets: saved atomically, loaded back exactly, checked against the node's declaration."""

import os
import shutil
import sys
from pathlib import Path

import pytest

from livehost.errors import LivehostError, PatchError
from livehost import presets as P
from livehost.nodes import load_all
from livehost.nodes.declare import all_params
from livehost.session import Session
from tests.conftest import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

SHIPPED = sorted((Path(ROOT) / "presets").glob("*/*.toml"))


@pytest.fixture
def session(tmp_path, monkeypatch):
    monkeypatch.setenv("LIVEHOST_STATE", str(tmp_path / "state"))
    (tmp_path / "patches").mkdir()
    shutil.copy(f"{ROOT}/patches/default.toml", tmp_path / "patches" / "default.toml")
    s = Session(str(tmp_path / "patches" / "default.toml"), driver="none")
    yield s
    s.close()


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_shipped_preset_fits_its_node_type(path):
    nt = load_all()[path.parent.name]
    got = P.load_preset(path, nt.name, all_params(nt))
    assert got and got == tomllib.loads(path.read_text())["values"]


def test_the_article_presets_ship():
    names = {f"{p.parent.name}/{p.stem}" for p in SHIPPED}
    assert {"delay/article-1000ms-x0.5-x3", "delay/half-speed-echo", "stretch/half-speed-tape",
            "reverse/layered-250ms"} <= names


def test_save_then_load_gives_the_values_back(session, tmp_path):
    slap = session.engine.item("slap")
    session.set_value(slap, "time_ms", 333.0)
    session.set_value(slap, "mode", "pingpong")
    session.set_value(slap, "sync", True)
    saved = {n: session.value(slap, n) for n, _ in session.params_of(slap) if n != "bypass"}
    path = Path(session.save_preset(slap, "my echo"))
    assert path == (tmp_path / "presets" / "delay" / "my echo.toml").resolve()
    assert os.listdir(path.parent) == ["my echo.toml"]  # no temp file left behind
    assert tomllib.loads(path.read_text()) == {"preset": {"type": "delay"}, "values": saved}
    for n, v in (("time_ms", 1000.0), ("mode", "repeats"), ("sync", False), ("wet", 0.9)):
        session.set_value(slap, n, v)
    session.toggle_bypass(slap)
    listed = session.presets(slap)
    assert [p.name for p in listed if not p.shipped] == ["my echo"]
    assert {p.name for p in listed if p.shipped} >= {"slapback", "article-1000ms-x0.5-x3"}
    session.load_preset(slap, path)
    assert {n: session.value(slap, n) for n in saved} == saved
    assert slap.values["bypass"] is True  # a preset leaves bypass alone


def test_a_preset_sets_what_it_lists_and_defaults_the_rest(session):
    slap = session.engine.item("slap")  # time 120 ms, feedback 0.2, highcut 6000 Hz, wet 0.2 in the patch
    shipped = {p.name: p for p in session.presets(slap)}
    session.load_preset(slap, shipped["article-1000ms-x0.5-x3"].path)
    nt = load_all()["delay"]
    assert session.value(slap, "time_ms") == 1000.0 and session.value(slap, "repeats") == 3
    assert session.value(slap, "mode") == "repeats" and session.value(slap, "wet") == 0.5
    assert session.value(slap, "highcut_hz") == nt.param("highcut_hz").default == 20000.0
    assert session.value(slap, "feedback") == nt.param("feedback").default
    assert session.dirty


def test_a_user_preset_hides_a_shipped_one_of_the_same_name(session):
    slap = session.engine.item("slap")
    session.set_value(slap, "time_ms", 77.0)
    session.save_preset(slap, "slapback")
    mine = [p for p in session.presets(slap) if p.name == "slapback"]
    assert len(mine) == 1 and not mine[0].shipped


def test_bad_presets_are_one_line_errors_naming_file_line_and_field(session, tmp_path):
    slap = session.engine.item("slap")
    bad = tmp_path / "bad.toml"
    bad.write_text('[preset]\ntype = "delay"\n\n[values]\ntime_ms = 100.0\nfeedback = 1.7\n')
    before = session.value(slap, "time_ms")
    with pytest.raises(PatchError) as e:
        session.load_preset(slap, bad)
    assert str(e.value) == f"{bad}:6: values.feedback = 1.7 is outside 0..0.99"
    assert session.value(slap, "time_ms") == before  # all or nothing
    bad.write_text('[preset]\ntype = "delay"\n[values]\ntime_mss = 100.0\n')
    with pytest.raises(PatchError, match=r"bad.toml:4: values.time_mss is not a parameter of delay \(did you mean 'time_ms'\?\)"):
        session.load_preset(slap, bad)
    bad.write_text('[preset]\ntype = "reverb"\n[values]\nsize = 0.5\n')
    with pytest.raises(PatchError, match=r"bad.toml:2: preset.type is 'reverb', not 'delay'"):
        session.load_preset(slap, bad)
    bad.write_text('[preset\n')
    with pytest.raises(PatchError, match="is not valid TOML"):
        session.load_preset(slap, bad)
    for name in ("", "../escape", ".hidden", "a/b"):
        with pytest.raises(LivehostError, match="preset name"):
            session.save_preset(slap, name)
    with pytest.raises(LivehostError, match="presets are for effect and source nodes"):
        session.save_preset(session.engine.master, "x")


def test_an_interrupted_save_leaves_the_old_preset_whole(session, monkeypatch):
    slap = session.engine.item("slap")
    path = Path(session.save_preset(slap, "keep"))
    before = path.read_text()
    session.set_value(slap, "time_ms", 999.0)

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)  # the rename of the atomic write (livehost.atomic)
    with pytest.raises(LivehostError, match="disk full"):
        session.save_preset(slap, "keep")
    assert path.read_text() == before
    assert os.listdir(path.parent) == ["keep.toml"]
