"""Snapshots of the main screens (no audio running, so every meter and number is deterministic)."""

import shutil

import pytest

from livehost.session import Session
from livehost.ui.app import LivehostApp
from tests.conftest import ROOT


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("LIVEHOST_STATE", str(tmp_path / "state"))
    (tmp_path / "patches").mkdir()
    shutil.copy(f"{ROOT}/patches/seed-chain.toml", tmp_path / "patches" / "seed-chain.toml")
    (tmp_path / "patches" / "audio").mkdir()
    shutil.copy(f"{ROOT}/patches/audio/demo.flac", tmp_path / "patches" / "audio" / "demo.flac")
    s = Session(str(tmp_path / "patches" / "seed-chain.toml"), driver="none")
    yield LivehostApp(s)
    s.close()


def test_main_screen(snap_compare, app):
    assert snap_compare(app, terminal_size=(140, 44), press=["down", "down"])


def test_inspector_focused_on_a_layer(snap_compare, app):
    async def go(pilot):
        app.rack.select_id("layered_reverse")
        app._sync_inspector()
        await pilot.press("tab", "down")

    assert snap_compare(app, terminal_size=(140, 44), run_before=go)


def test_help_screen(snap_compare, app):
    assert snap_compare(app, terminal_size=(140, 44), press=["question_mark"])


def test_add_node_screen(snap_compare, app):
    async def go(pilot):
        await pilot.press("a")
        await pilot.pause()  # the dialog and its search box are up before anything is typed
        pilot.app.screen.query_one("#search").cursor_blink = False  # a blinking cursor is not a snapshot
        await pilot.press("d", "e")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(140, 44), run_before=go)
