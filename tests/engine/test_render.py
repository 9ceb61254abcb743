"""The compiled graph, rendered offline: exact gains, layers, latency, rates, block sizes, channels."""

import numpy as np
import pytest

from livehost.engine.drivers.offline import render
from tests.conftest import sine


def lookahead(sr):
    return int(round(0.0015 * sr))


def test_gain_is_exact_and_delayed_by_the_reported_latency(make_engine):
    eng = make_engine([("node", "gain", "g", {"gain_db": -6.0})])
    x = np.random.default_rng(1).uniform(-0.5, 0.5, (4800, 2)).astype(np.float32)
    y = render(eng, len(x), x)
    lat = eng.latency_samples()
    assert lat == lookahead(48000) == 72
    g = 10 ** (-6 / 20)
    np.testing.assert_allclose(y[lat:], x[:-lat] * g, atol=1e-7)
    assert np.all(y[:lat] == 0)


def test_layer_mixes_branches_with_their_gains_and_dry_wet(make_engine):
    layer = ("layer", "lay", {"wet": 0.5}, [
        (-6.0, [("node", "gain", "a", {"gain_db": -12.0})]),
        (0.0, [("node", "gain", "b", {"gain_db": 0.0})]),
    ])
    eng = make_engine([layer])
    x = sine(200, 0.2)
    y = render(eng, len(x), x)
    lat = eng.latency_samples()
    branches = 10 ** (-18 / 20) + 1.0
    expect = 0.5 * x + 0.5 * branches * x
    np.testing.assert_allclose(y[lat:], expect[:-lat], atol=2e-7)


@pytest.mark.parametrize("sr", [22050, 44100, 48000, 96000])
@pytest.mark.parametrize("block", [32, 333, 1024])
def test_rates_and_block_sizes(make_engine, sr, block):
    eng = make_engine([("node", "gain", "g", {"gain_db": -3.0})], sr=sr, block=block)
    x = sine(1000, 0.1, sr=sr)
    y = render(eng, len(x), x)
    lat = lookahead(sr)
    np.testing.assert_allclose(y[lat:], x[:-lat] * 10 ** (-3 / 20), atol=1e-7)


def test_mono_in_mono_out(make_engine):
    eng = make_engine([("node", "gain", "g", {"gain_db": 0.0})], in_ch=1, out_ch=1)
    x = sine(300, 0.05, stereo=False)
    y = render(eng, len(x), x)
    assert y.shape == (len(x), 1)
    np.testing.assert_allclose(y[72:, 0], x[:-72, 0], atol=1e-7)


def test_renders_are_deterministic(make_engine):
    chain = [("node", "gain", "g", {"gain_db": 3.0, "pan": 0.3})]
    x = np.random.default_rng(7).normal(0, 0.2, (9000, 2)).astype(np.float32)
    a = render(make_engine(chain), len(x), x)
    b = render(make_engine(chain), len(x), x)
    assert np.array_equal(a, b)


def test_bypass_passes_input_untouched(make_engine):
    eng = make_engine([("node", "gain", "g", {"gain_db": -20.0, "bypass": True})])
    x = sine(440, 0.1)
    y = render(eng, len(x), x)
    np.testing.assert_allclose(y[72:], x[:-72], atol=1e-7)


def test_new_graphs_never_recompile(make_engine):
    eng = make_engine([("node", "gain", "g", {})])
    render(eng, 256)
    before = {k: len(v.signatures) for k, v in vars(eng.audio).items() if hasattr(v, "signatures")}
    eng.build("mic", [], [("node", "gain", f"g{i}", {}) for i in range(20)], {})
    eng.add_node("gain", {"gain_db": -1.0}, index=3)
    render(eng, 256)
    after = {k: len(v.signatures) for k, v in vars(eng.audio).items() if hasattr(v, "signatures")}
    assert before == after


def test_meters_report_peak_and_rms_in_dbfs(make_engine):
    eng = make_engine([("node", "gain", "g", {"gain_db": -6.0})])
    x = sine(750, 0.1, amp=0.5)  # two whole periods per 128-frame block
    render(eng, len(x), x)
    m = eng.meter("g")
    assert m["peak_db"][0] == pytest.approx(20 * np.log10(0.5) - 6.0, abs=0.05)
    assert m["rms_db"][0] == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)) - 6.0, abs=0.1)
    assert eng.meter("input")["peak_db"][0] == pytest.approx(20 * np.log10(0.5), abs=0.05)


def test_analysis_tap_holds_input_and_output(make_engine):
    from livehost.engine import layout as L

    eng = make_engine([("node", "gain", "g", {"gain_db": -6.0})])
    x = sine(500, 0.05)
    y = render(eng, len(x), x)
    a = eng.a
    w = int(a[L.H_TAP_W])
    cap = int(a[L.H_TAP_CAP])
    base = int(a[L.H_TAP])
    assert w == len(x)
    np.testing.assert_allclose(a[base:base + w], x[:, 0], atol=1e-7)
    np.testing.assert_allclose(a[base + cap:base + cap + w], y[:, 0], atol=1e-7)
