"""First sound within seconds: ``livehost warm`` fills the caches, and a start that must compile says so."""

import io
import os
import re
import time

from livehost.cli import COMPILE_MSG, CompileNotice, main
from livehost.engine import codegen
from tests.conftest import ROOT

GAIN = os.path.join(ROOT, "patches", "gain-only.toml")


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_expected_compile_shows_at_once_and_says_when_done():
    out = io.StringIO()
    with CompileNotice(True, stream=out) as n:
        time.sleep(0.3)
    lines = out.getvalue().splitlines()
    assert lines[0] == f"livehost: {COMPILE_MSG} ... 0 s"
    assert lines[-1].startswith("livehost: audio engine compiled in 0 s") and n.shown and len(lines) == 2


def test_a_cached_load_is_silent_but_a_slow_one_shows_after_the_grace_time():
    out = io.StringIO()
    with CompileNotice(False, stream=out, grace_s=1.0) as n:
        time.sleep(0.1)
    assert out.getvalue() == "" and not n.shown
    with CompileNotice(False, stream=out, grace_s=0.2) as n:
        time.sleep(0.6)
    assert n.shown and out.getvalue().startswith(f"livehost: {COMPILE_MSG} ... 0 s\n")


def test_on_a_terminal_the_seconds_count_up_in_place():
    out = Tty()
    with CompileNotice(True, stream=out):
        time.sleep(2.3)
    text = out.getvalue()
    assert f"\rlivehost: {COMPILE_MSG} ... 1 s" in text and f"\rlivehost: {COMPILE_MSG} ... 2 s" in text
    assert text.count("\n") == 1 and text.endswith("(cached: later starts take about a second)   \n")
    out = Tty()
    with CompileNotice(True, stream=out, quiet=True):
        pass
    assert out.getvalue() == ""


def test_compile_needed_reads_numbas_index_beside_the_generated_module(make_engine, tmp_path, monkeypatch):
    make_engine()  # compiled (or loaded) into this session's cache
    assert not codegen.compile_needed(("pa_callback", "process_block"))
    monkeypatch.setenv("LIVEHOST_CACHE", str(tmp_path / "fresh"))
    monkeypatch.setattr(codegen, "_GENERATED", None)  # the module path moves with the cache folder
    assert codegen.compile_needed()


def test_run_shows_the_compile_line_when_a_compile_is_needed(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(codegen, "compile_needed", lambda functions=(): True)
    assert main(["run", GAIN, "--driver", "null", "--input", "none", "--duration", "0.1",
                 "--output", str(tmp_path / "o.wav")]) == 0
    err = capsys.readouterr().err
    assert err.startswith(f"livehost: {COMPILE_MSG} ... 0 s\nlivehost: audio engine compiled in ")
    assert main(["run", GAIN, "--driver", "null", "--input", "none", "--duration", "0.1", "--quiet",
                 "--output", str(tmp_path / "o.wav")]) == 0
    assert COMPILE_MSG not in capsys.readouterr().err


def test_the_ui_shows_the_compile_as_its_first_notice(monkeypatch, tmp_path, capsys):
    from livehost.ui.app import LivehostApp

    seen = []
    monkeypatch.setenv("LIVEHOST_STATE", str(tmp_path))
    monkeypatch.setattr(codegen, "compile_needed", lambda functions=(): True)
    monkeypatch.setattr(LivehostApp, "run", lambda self: seen.append(self.session.notice))
    assert main(["ui", GAIN, "--driver", "null", "--input", "none"]) == 0
    assert re.match(r"audio engine compiled in \d+ s \(once: cached for later starts\); null driver", seen[0])
    assert capsys.readouterr().err.startswith(f"livehost: {COMPILE_MSG} ... 0 s\n")


def test_warm_leaves_nothing_to_compile(capsys):
    assert main(["warm"]) == 0
    err = capsys.readouterr().err
    assert f"compiled and cached in {codegen.cache_dir()}" in err.splitlines()[-1]
    assert "genre classifier:" not in err and "generator:" not in err  # both models' kernels were compiled
    assert not codegen.compile_needed(("pa_callback", "process_block", "process_blocks"))
