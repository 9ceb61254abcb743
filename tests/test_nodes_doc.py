"""The node reference: ``livehost nodes`` reads the declarations, and docs/nodes.md is its current output."""

import json
import subprocess
import sys
from pathlib import Path

from livehost.cli import main
from tests.conftest import ROOT

DOC = Path(ROOT) / "docs" / "nodes.md"


def lh(*args):
    """``python -m livehost ARGS`` in a fresh process (so only the built-in nodes are registered)."""
    return subprocess.run([sys.executable, "-m", "livehost", *args], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)


def test_docs_nodes_md_is_what_the_generator_writes_now():
    r = lh("nodes", "--markdown")
    assert r.returncode == 0, r.stderr
    assert DOC.read_text() == r.stdout, (
        "docs/nodes.md is out of date with livehost/nodes/: regenerate it with\n"
        "    python -m livehost nodes --markdown > docs/nodes.md")


def test_json_lists_every_declared_parameter_with_its_numbers(capsys):
    from livehost.dsp.delay import DIVISIONS, MAX_TIME_MS
    from livehost.dsp.limiter import LOOKAHEAD_S

    assert main(["nodes", "--json"]) == 0
    nodes = {n["name"]: n for n in json.loads(capsys.readouterr().out)}
    assert {"delay", "reverb", "synth", "master", "file", "generator"} <= set(nodes)
    delay = {p["name"]: p for p in nodes["delay"]["params"]}
    assert list(delay)[:2] == ["wet", "bypass"] and delay["wet"]["default"] == 0.35
    assert delay["time_ms"] == {"name": "time_ms", "kind": "float", "unit": "ms", "lo": 1.0, "hi": MAX_TIME_MS,
                                "default": 375.0, "smoothing_ms": 100.0, "choices": None, "sync": "time",
                                "follow": None, "doc": "echo time (glides without clicks), or a note division following the "
                                       "session tempo"}
    assert delay["feedback"]["sync"] is None
    looper = {p["name"]: p for p in nodes["looper"]["params"]}
    assert looper["beat_ms"]["sync"] == "time" and looper["beat_ms"]["follow"] == "1/4"
    assert delay["division"]["choices"] == list(DIVISIONS) and delay["division"]["lo"] is None
    assert nodes["synth"]["midi"] and nodes["synth"]["source"] and not nodes["delay"]["midi"]
    master = nodes["master"]
    assert "wet" not in {p["name"] for p in master["params"]}  # the master is never mixed or bypassed
    assert master["latency"]["samples"] == round(LOOKAHEAD_S * 48000) and master["latency"]["depends_on"] == []
    assert nodes["delay"]["latency"] is None


def test_latency_that_depends_on_a_parameter_says_which():
    from livehost.nodes import load_all
    from livehost.nodes.reference import latency_info

    comp = latency_info(load_all()["compressor"])  # lookahead_ms defaults to 0: no delay, but it can add some
    assert comp["samples"] == 0 and comp["depends_on"] == ["lookahead_ms"]
    rev = latency_info(load_all()["reverse"])
    assert rev["samples"] == round(300.0 * 48000 / 1000) and rev["depends_on"] == ["window_ms"]
    assert comp["compensated"] and not rev["compensated"]  # a reversed grain's delay is the effect
    ps = latency_info(load_all()["pitch_shift"])
    assert ps["depends_on"] == ["mode"]  # quality (an FFT frame) or live (10 ms)


def test_one_type_as_text_and_an_unknown_type_is_a_one_line_error(capsys):
    assert main(["nodes", "filter"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("filter  (effect, filter; MIDI: no; latency: none)")
    row = next(line.split() for line in out.splitlines() if line.strip().startswith("freq_hz"))
    assert row[:5] == ["freq_hz", "Hz", "20..20000", "1000", "20"]
    assert "reverb" not in out
    assert main(["nodes", "dely"]) == 1
    r = capsys.readouterr()
    assert r.out == "" and r.err == "livehost: error: unknown node type 'dely' (did you mean 'delay'?)\n"
