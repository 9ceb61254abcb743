"""The ``lv2`` node: parameters declared from the plugin's control ports, eg-amp exact, renders equal to
``lv2apply``'s, latency from the plugin's latency port, one-line errors, instances freed after the
audio thread let go of them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading

import numpy as np
import pytest
import soundfile as sf

from livehost.engine.engine import EngineError
from livehost.errors import PatchError
from livehost.lv2 import world
from livehost.nodes.declare import all_params, resolve
from livehost.nodes.lv2 import LV2_NODE, live_instances
from livehost.patch import dumps, loads
from tests.lv2.lv2util import need

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AMP = "http://lv2plug.in/plugins/eg-amp"
HIGHPASS = "http://plugin.org.uk/swh-plugins/butthigh_iir"  # mono: one instance per channel
DELAY = "http://drobilla.net/plugins/mda/Delay"  # stereo, state across blocks
LIMITER = "http://plugin.org.uk/swh-plugins/fastLookaheadLimiter"  # latency port
COMBO = "http://drobilla.net/plugins/mda/Combo"  # a toggle and an enumeration


def noise(frames, seed=1, amp=0.1):
    """Float32 stereo noise with different channels (peaks well below the master's ceiling)."""
    rng = np.random.default_rng(seed)
    return (np.clip(rng.standard_normal((frames, 2)), -4, 4) * amp).astype(np.float32)


def render_offline(eng, x):
    """The engine's output for input ``x`` and its graph latency (samples)."""
    from livehost.engine.drivers.offline import render

    lat = eng.latency_report()["graph_latency_samples"]
    y = render(eng, len(x) + lat, inp=x)
    return y, lat


def test_parameters_come_from_the_control_ports():
    need(AMP, COMBO)
    amp = resolve(LV2_NODE, {"uri": AMP})
    assert amp.name == "lv2" and amp.kernel is LV2_NODE.kernel
    (g,) = amp.params
    assert (g.name, g.unit, g.lo, g.hi, g.default, g.kind) == ("gain", "dB", -90.0, 24.0, 0.0, "float")
    assert g.smoothing_ms > 0
    combo = {p.name: p for p in resolve(LV2_NODE, {"uri": COMBO}).params}
    assert combo["stereo"].kind == "bool" and combo["stereo"].smoothing_ms == 0
    assert combo["model"].smoothing_ms == 0  # an enumeration steps
    assert [p.name for p in all_params(amp)] == ["wet", "bypass", "gain"]


def test_patch_errors_are_one_line_with_file_line_field():
    need(AMP)
    text = f'[[chain]]\ntype = "lv2"\nid = "amp"\nuri = "{AMP}"\ngain = 30.0\n'
    with pytest.raises(PatchError) as e:
        loads(text, "x.toml")
    assert str(e.value) == "x.toml:5: amp.gain = 30.0 is outside -90..24"
    with pytest.raises(PatchError) as e:
        loads(text.replace("eg-amp", "eg-nope").replace("gain = 30.0", ""), "x.toml")
    assert str(e.value).startswith("x.toml:4: amp.uri = 'http://lv2plug.in/plugins/eg-nope': no LV2 plugin")
    assert "\n" not in str(e.value)
    with pytest.raises(PatchError) as e:
        loads('[[chain]]\ntype = "lv2"\nid = "p"\n', "x.toml")
    assert str(e.value).startswith("x.toml:1: p.uri needs uri = ")
    p = loads(text.replace("30.0", "-6.0"), "x.toml")
    assert p.engine_chain() == [("node", "lv2", "amp", {"gain": -6.0}, {"uri": AMP})]
    again = loads(dumps(p), "y.toml")  # saved with its uri
    assert again.chain == p.chain and f'uri = "{AMP}"' in dumps(p)


def test_eg_amp_at_minus_6_db_is_exact(make_engine):
    need(AMP)
    base = live_instances()
    eng = make_engine([("node", "lv2", "amp", {"gain": -6.0}, {"uri": AMP})])
    assert live_instances() == base + 2  # mono plugin, stereo chain: one per channel
    x = noise(48000)
    y, lat = render_offline(eng, x)
    y = y[lat:]
    want = x.astype(np.float64) * 10.0 ** (-6.0 / 20.0)
    assert np.max(np.abs(y)) > 0.1
    # float32 rounding only: the plugin multiplies float32 samples by powf(10, -0.3f)
    np.testing.assert_allclose(y, want, rtol=2.0 ** -22, atol=0)
    assert not np.allclose(y[:, 0], y[:, 1])  # each channel through its own instance


def lv2apply(uri, src, dst, controls):
    """``lv2apply`` of ``uri`` over file ``src`` into ``dst`` with ``controls`` {symbol: value}."""
    cmd = ["lv2apply", "-i", str(src), "-o", str(dst)]
    for k, v in controls.items():
        cmd += ["-c", k, repr(float(v))]
    subprocess.run(cmd + [uri], check=True, capture_output=True)
    return sf.read(dst, dtype="float32")[0]


@pytest.mark.skipif(shutil.which("lv2apply") is None, reason="lilv-utils (lv2apply) not installed")
def test_render_equals_lv2apply(tmp_path):
    """``livehost render`` of a mono plugin (per channel) then a stereo one equals ``lv2apply`` of the
    same plugins with the same settings, to 1e-6 once the master's lookahead is taken off."""
    need(HIGHPASS, DELAY)
    hp = {"cutoff": 400.0, "resonance": 0.7}
    dl = {"l_delay": 0.13, "r_delay": 0.21, "feedback": 0.6, "fb_tone": 0.3, "fx_mix": 0.5, "output": 0.5}
    x = noise(24000, seed=3)
    sf.write(tmp_path / "in.wav", x, 48000, subtype="FLOAT")
    # lv2apply: the mono plugin on each channel, then the stereo plugin on the pair
    chans = []
    for c in range(2):
        sf.write(tmp_path / f"in{c}.wav", x[:, c], 48000, subtype="FLOAT")
        chans.append(lv2apply(HIGHPASS, tmp_path / f"in{c}.wav", tmp_path / f"hp{c}.wav", hp))
    sf.write(tmp_path / "hp.wav", np.stack(chans, axis=1), 48000, subtype="FLOAT")
    want = lv2apply(DELAY, tmp_path / "hp.wav", tmp_path / "want.wav", dl)
    patch = tmp_path / "p.toml"
    fields = lambda d: "".join(f"{k} = {v!r}\n" for k, v in d.items())  # noqa: E731
    patch.write_text(f'[patch]\nblocksize = 128\n[input]\nsource = "mic"\n'
                     f'[[chain]]\ntype = "lv2"\nid = "hp"\nuri = "{HIGHPASS}"\n{fields(hp)}'
                     f'[[chain]]\ntype = "lv2"\nid = "dl"\nuri = "{DELAY}"\n{fields(dl)}')
    env = {**os.environ, "PYTHONPATH": ROOT}
    r = subprocess.run([sys.executable, "-m", "livehost", "latency", "--json", str(patch)], capture_output=True,
                       text=True, cwd=ROOT, env=env)
    assert r.returncode == 0, r.stderr
    lat = json.loads(r.stdout)["graph_latency_samples"]
    r = subprocess.run([sys.executable, "-m", "livehost", "render", str(patch), "--input", str(tmp_path / "in.wav"),
                        "--output", str(tmp_path / "out.wav"), "--tail", "0.1"], capture_output=True, text=True,
                       cwd=ROOT, env=env)
    assert r.returncode == 0, r.stderr
    got = sf.read(tmp_path / "out.wav", dtype="float32")[0][lat:lat + len(x)]
    assert np.max(np.abs(want)) > 0.05 and np.max(np.abs(want - x)) > 0.05
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


def test_latency_port_feeds_compensation(make_engine):
    """The limiter reports its lookahead on its latency port: the node's latency is that value, and an
    impulse comes out exactly that much later (beyond the master's own lookahead)."""
    need(LIMITER)
    eng = make_engine()
    master_lat = eng.latency_report()["graph_latency_samples"]
    eng = make_engine([("node", "lv2", "lim", {"limit": 0.0}, {"uri": LIMITER})])
    node = eng.item("lim")
    lat = eng.item_latency(node)
    assert lat > 0
    x = np.zeros((4800, 2), np.float32)
    x[1000] = 0.25
    y, total = render_offline(eng, x)
    assert total == master_lat + lat
    assert int(np.argmax(np.abs(y[:, 0]))) == 1000 + total


def test_unknown_uri_leaves_the_old_graph_playing(make_engine):
    need(AMP)
    eng = make_engine([("node", "lv2", "amp", {"gain": -6.0}, {"uri": AMP})])
    before = live_instances()
    with pytest.raises(EngineError) as e:
        eng.build("mic", [], [("node", "lv2", "amp2", {}, {"uri": AMP}),
                              ("node", "lv2", "bad", {}, {"uri": "urn:nope"})], {})
    assert str(e.value) == "bad: no LV2 plugin 'urn:nope' is installed" and "\n" not in str(e.value)
    assert live_instances() == before  # the half-built amp2 was freed
    assert [it.id for it in eng.chain] == ["amp"]
    y, lat = render_offline(eng, noise(4800))
    np.testing.assert_allclose(y[lat:], noise(4800) * 10 ** -0.3, rtol=2.0 ** -22)


def test_instances_are_freed_only_after_the_audio_thread_moved_on(make_engine):
    need(AMP)
    base = live_instances()
    eng = make_engine([("node", "lv2", "amp", {"gain": -6.0}, {"uri": AMP})])
    assert live_instances() == base + 2
    out = np.zeros((128, 2), np.float32)
    stop = threading.Event()
    blocks = []

    def audio():  # a stand-in driver: the callback on another thread
        while not stop.is_set():
            eng.process(None, out, off=0, n=128)
            blocks.append(1)

    eng.running = True
    t = threading.Thread(target=audio)
    t.start()
    try:
        eng.remove_node("amp")
        eng.wait_edits()
        assert live_instances() == base
    finally:
        stop.set()
        t.join()
        eng.running = False
    assert blocks


def test_live_edits_reach_the_plugin_through_the_smoothing_path(make_engine):
    """A gain change while playing glides (the engine's smoothing) and settles on the new value; wet
    mixes the dry signal back like on any node."""
    from livehost.engine.drivers.offline import render

    need(AMP)
    eng = make_engine([("node", "lv2", "amp", {"gain": -6.0}, {"uri": AMP})])
    lat = eng.latency_report()["graph_latency_samples"]
    x = noise(3 * 48000 + lat, seed=7)
    k1, k2 = 375, 750  # blocks of 128 frames: 1 s and 2 s

    def edit(k):
        if k == k1:
            eng.set_param("amp", "gain", -12.0)
        elif k == k2:
            eng.set_param("amp", "wet", 0.5)

    y = render(eng, len(x), inp=x, on_block=edit)[lat:].astype(np.float64)
    x = x[:len(y)].astype(np.float64)
    g6, g12 = 10 ** (-6 / 20), 10 ** (-12 / 20)
    a, b = k1 * 128, k2 * 128
    np.testing.assert_allclose(y[a - 4800:a], x[a - 4800:a] * g6, rtol=2.0 ** -22)
    # the first block after the change is not yet there (smoothed); 0.5 s later it is
    assert np.all(np.abs(y[a:a + 128]) > np.abs(x[a:a + 128]) * g12 * 1.01)
    np.testing.assert_allclose(y[b - 4800:b], x[b - 4800:b] * g12, rtol=2.0 ** -22)
    np.testing.assert_allclose(y[-4800:], x[-4800:] * (0.5 + 0.5 * g12), rtol=1e-6, atol=1e-9)


def test_a_plugin_with_atom_ports_runs(make_engine):
    """eg-scope has an atom input (UI messages: an empty sequence here) and an atom output (its notify
    port, given its capacity back before every run); its audio passes through unchanged."""
    scope = "http://lv2plug.in/plugins/eg-scope#Stereo"
    need(scope)
    info = world.plugin(scope)
    assert info.runnable and info.atom_in and info.atom_out
    eng = make_engine([("node", "lv2", "scope", {}, {"uri": scope})])
    x = noise(48000, seed=9)
    y, lat = render_offline(eng, x)
    np.testing.assert_array_equal(y[lat:], x)


JX10 = "http://drobilla.net/plugins/mda/JX10"


def ttl_preset(path, preset_uri):
    """symbol -> value of a preset, read straight from its Turtle file (not through lilv)."""
    import re

    text = open(path).read()
    body = text[text.index(f"<{preset_uri}>"):]
    body = body[:body.index(" .\n")]
    return {m.group(1): float(m.group(2))
            for m in re.finditer(r'lv2:symbol "(\w+)" ;\s*pset:value (-?[\d.eE+-]+)', body)}


def test_a_preset_sets_the_defaults_and_the_patch_overrides_them(tmp_path):
    need(JX10)
    ttl = "/usr/lib/lv2/mda.lv2/JX10-presets.ttl"
    if not os.path.exists(ttl):
        pytest.skip("mda-lv2's JX10 presets are not where Debian puts them")
    want = ttl_preset(ttl, world.presets(JX10)["Pizzicato"])
    assert len(want) > 10
    text = f'[[chain]]\ntype = "lv2"\nid = "jx"\nuri = "{JX10}"\npreset = "Pizzicato"\nvcf_freq = 0.9\n'
    p = loads(text, "x.toml")
    nt = resolve(LV2_NODE, p.chain[0].options)
    got = {q.name: q.default for q in nt.params}
    for sym, v in want.items():
        assert abs(got[sym] - v) <= 1e-7 * max(1.0, abs(v)), sym
    assert got["vcf_freq"] == pytest.approx(want["vcf_freq"]) and p.chain[0].values == {"vcf_freq": 0.9}
    assert 'preset = "Pizzicato"' in dumps(p)
    with pytest.raises(PatchError) as e:
        loads(text.replace("Pizzicato", "Pizicato"), "x.toml")
    assert str(e.value) == (f"x.toml:5: jx.preset = 'Pizicato': plugin '{JX10}' has no preset 'Pizicato' "
                            "(did you mean 'Pizzicato'?)")


def test_a_generator_plays_over_the_signal(make_engine):
    """swh analogueOsc has no input: its tone at ``freq`` Hz is added to the chain's signal (silence here)
    on both channels, at the node's wet level. Its freq port is lv2:sampleRate: range in Hz at 48 kHz,
    the default as the plugin gives it (440 Hz)."""
    osc = "http://plugin.org.uk/swh-plugins/analogueOsc"
    need(osc)
    freq = {p.name: p for p in resolve(LV2_NODE, {"uri": osc}).params}["freq"]
    assert freq.default == 440.0 and freq.hi == pytest.approx(0.499 * 48000) and freq.unit == "Hz"
    outs = []
    for wet in (1.0, 0.5):
        eng = make_engine([("node", "lv2", "osc", {"freq": 1000.0, "wave": 1.0, "wet": wet}, {"uri": osc})])
        y, lat = render_offline(eng, np.zeros((9600, 2), np.float32))
        outs.append(y[lat + 4800:lat + 9600].astype(np.float64))
    full, half = outs
    spec = np.abs(np.fft.rfft(full * np.hanning(len(full))[:, None], axis=0))
    bins = np.fft.rfftfreq(len(full), 1 / 48000)
    assert list(bins[np.argmax(spec, axis=0)]) == [1000.0, 1000.0]
    assert np.abs(full).max() > 0.1 and np.array_equal(full[:, 0], full[:, 1])
    np.testing.assert_allclose(half, 0.5 * full, rtol=1e-6, atol=1e-9)


def test_a_session_edits_and_saves_an_lv2_node(tmp_path):
    """The UI's session: the node's rows and parameters come from the plugin, an edit is validated
    against the plugin's range, and a save writes the uri and the edited value (read back the same)."""
    from livehost.session import Session

    need(AMP)
    path = tmp_path / "s.toml"
    path.write_text(f'[patch]\nname = "s"\n[input]\nsource = "none"\n'
                    f'[[chain]]\ntype = "lv2"\nid = "amp"\nuri = "{AMP}"\ngain = -6.0\n')
    s = Session(str(path), driver="none", start_models=False)
    try:
        amp = s.engine.item("amp")
        assert [n for n, _ in s.params_of(amp)] == ["wet", "bypass", "gain"]
        s.set_value(amp, "gain", -12.0)
        with pytest.raises(EngineError, match=r"amp.gain = 30.0 is outside -90..24"):
            s.set_value(amp, "gain", 30.0)
        saved = s.save(str(tmp_path / "out.toml"))
    finally:
        s.close()
    p = loads(open(saved).read(), saved)
    assert p.chain[0].options == {"uri": AMP} and p.chain[0].values == {"gain": -12.0}
