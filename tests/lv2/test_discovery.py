"""LV2 discovery through liblilv agrees with lilv's own tools: ``lv2ls`` (the URIs) and ``lv2info``
(each control port's symbol, minimum, maximum, default)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from livehost.lv2 import world

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AMP = "http://lv2plug.in/plugins/eg-amp"

pytestmark = pytest.mark.skipif(shutil.which("lv2ls") is None or shutil.which("lv2info") is None,
                                reason="lilv-utils (lv2ls, lv2info) not installed")


def lv2info_controls(uri: str) -> dict:
    """symbol -> (min, max, default) of each control port, parsed from ``lv2info URI``."""
    text = subprocess.run(["lv2info", uri], capture_output=True, text=True, check=True).stdout
    out = {}
    for block in re.split(r"\n\s*Port \d+:\n", text)[1:]:
        if "ControlPort" not in block:
            continue
        field = lambda name: re.search(rf"^\s*{name}:\s+(\S+)", block, re.M)  # noqa: E731
        num = lambda name: float(field(name).group(1)) if field(name) else None  # noqa: E731
        out[field("Symbol").group(1)] = (num("Minimum"), num("Maximum"), num("Default"))
    return out


def test_plugins_json_lists_what_lv2ls_lists():
    ls = subprocess.run(["lv2ls"], capture_output=True, text=True, check=True).stdout.split()
    r = subprocess.run([sys.executable, "-m", "livehost", "plugins", "--json"], capture_output=True, text=True,
                       cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT})
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert len(ls) > 10 and sorted(p["uri"] for p in got) == sorted(ls)
    amp = next(p for p in got if p["uri"] == AMP)
    assert amp["name"] == "Simple Amplifier" and amp["runnable"]
    assert [c["symbol"] for c in amp["controls"]] == ["gain"] and amp["controls"][0]["unit"] == "dB"


@pytest.mark.parametrize("uri", [AMP, "http://drobilla.net/plugins/mda/Delay",
                                 "http://plugin.org.uk/swh-plugins/fastLookaheadLimiter"])
def test_control_ports_agree_with_lv2info(uri):
    if uri not in world.plugins():
        pytest.skip(f"{uri} not installed")
    want = lv2info_controls(uri)
    got = {c.symbol: (c.min, c.max, c.default) for c in world.plugin(uri).controls}
    assert set(got) == set(want) and want
    for sym, (lo, hi, d) in want.items():  # lv2info prints 6 decimals
        for a, b in zip(got[sym], (lo, hi, d)):
            assert (a is None) == (b is None), (sym, got[sym], want[sym])
            if a is not None:
                assert abs(a - b) <= 5e-7, (sym, got[sym], want[sym])


def test_eg_amp_matches_lv2info_exactly():
    assert lv2info_controls(AMP) == {"gain": (-90.0, 24.0, 0.0)}
    c = world.plugin(AMP).controls[0]
    assert (c.symbol, c.min, c.max, c.default, c.output) == ("gain", -90.0, 24.0, 0.0, False)


def test_unrunnable_plugins_say_why():
    ps = world.plugins()
    fifths = ps.get("http://lv2plug.in/plugins/eg-fifths")
    if fifths is None:
        pytest.skip("eg-fifths not installed")
    assert not fifths.runnable and fifths.why_not == "has no audio output"  # a MIDI effect
    assert fifths.midi_in and fifths.midi_out
    sampler = ps.get("http://lv2plug.in/plugins/eg-sampler")
    if sampler is not None:  # it needs worker:schedule and state:loadDefaultState, both provided now
        assert "http://lv2plug.in/ns/ext/worker#schedule" in sampler.required_features
        assert sampler.runnable and sampler.why_not == ""


def test_search_and_unknown_uri():
    assert AMP in [p.uri for p in world.search("simple amplifier")]
    assert all("amplifier" in (p.uri + p.name + p.plugin_class).lower() for p in world.search("AMPLIFIER"))
    with pytest.raises(world.Lv2Error, match="no LV2 plugin 'http://lv2plug.in/plugins/eg-ampp' is installed "
                                             r"\(did you mean 'http://lv2plug.in/plugins/eg-amp'\?\)"):
        world.plugin("http://lv2plug.in/plugins/eg-ampp")


def test_the_options_livehost_provides_read_back():
    """The ``options`` feature an instance is made with: block lengths (frames), atom buffer size
    (bytes), sample rate (Hz), each keyed and typed by URIDs that unmap to their URIs."""
    import ctypes

    from livehost.lv2 import host

    f = host._Features(44100.0, 256, 8192)
    got = {}
    for o in f._opts:
        if o.key == 0:
            break
        key = ctypes.string_at(host._unmap(None, o.key)).decode()
        typ = ctypes.string_at(host._unmap(None, o.type)).decode()
        c = ctypes.c_float if typ.endswith("#Float") else ctypes.c_int32
        got[key.rsplit("#", 1)[1]] = (typ.rsplit("#", 1)[1], c.from_address(o.value).value)
    assert got == {"minBlockLength": ("Int", 1), "maxBlockLength": ("Int", 256), "nominalBlockLength": ("Int", 256),
                   "sequenceSize": ("Int", 8192), "sampleRate": ("Float", 44100.0)}
    uris = [ctypes.string_at(f.array[k].contents.URI).decode() for k in range(5)]
    assert set(uris) <= world.PROVIDED and not f.array[5] and world.LOAD_DEFAULT_STATE in uris
    sched = ctypes.c_int64(0)
    g = host._Features(44100.0, 256, 8192, schedule=ctypes.addressof(sched))  # a plugin with a worker
    assert ctypes.string_at(g.array[5].contents.URI).decode() == world.WORKER_SCHEDULE and not g.array[6]
    assert g.array[5].contents.data == ctypes.addressof(sched)


FAKE_MANIFEST = """@prefix lv2: <http://lv2plug.in/ns/lv2core#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<urn:livehost:test:needs-more> a lv2:Plugin ; lv2:binary <needs.so> ; rdfs:seeAlso <needs.ttl> .
"""
FAKE_PLUGIN = """@prefix lv2: <http://lv2plug.in/ns/lv2core#> .
@prefix doap: <http://usefulinc.com/ns/doap#> .
<urn:livehost:test:needs-more> a lv2:Plugin ; doap:name "Needs more" ;
  lv2:requiredFeature <http://lv2plug.in/ns/ext/urid#map>, <http://example.org/ns#madeUp> ;
  lv2:port [ a lv2:AudioPort, lv2:InputPort ; lv2:index 0 ; lv2:symbol "in" ; lv2:name "In" ] ,
           [ a lv2:AudioPort, lv2:OutputPort ; lv2:index 1 ; lv2:symbol "out" ; lv2:name "Out" ] .
"""


def test_a_plugin_needing_a_feature_livehost_lacks_is_refused_in_one_line(tmp_path):
    """No installed plugin needs a feature livehost lacks any more (eg-sampler's worker and default
    state are provided), so a bundle described in Turtle only (lilv reads no binary to describe it) on
    ``LV2_PATH`` stands in: ``livehost plugins`` says why it cannot run, a patch naming it fails in one
    line naming file:line:field."""
    bundle = tmp_path / "lv2" / "needs.lv2"
    bundle.mkdir(parents=True)
    (bundle / "manifest.ttl").write_text(FAKE_MANIFEST)
    (bundle / "needs.ttl").write_text(FAKE_PLUGIN)
    env = {**os.environ, "LV2_PATH": str(tmp_path / "lv2"), "PYTHONPATH": ROOT}
    r = subprocess.run([sys.executable, "-m", "livehost", "plugins", "--json"], capture_output=True, text=True,
                       cwd=ROOT, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    (p,) = json.loads(r.stdout)
    assert p["uri"] == "urn:livehost:test:needs-more" and not p["runnable"]
    assert p["why_not"] == "needs host feature http://example.org/ns#madeUp"
    code = ("from livehost.patch import loads\n"
            "from livehost.errors import PatchError\n"
            "try:\n    loads('[[chain]]\\ntype = \"lv2\"\\nid = \"n\"\\nuri = \"urn:livehost:test:needs-more\"\\n', 'x.toml')\n"
            "except PatchError as e:\n    print(e)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert r.stdout.strip() == ("x.toml:4: n.uri = 'urn:livehost:test:needs-more': cannot run in livehost: "
                                "needs host feature http://example.org/ns#madeUp"), r.stdout + r.stderr
