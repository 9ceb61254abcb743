"""Latency compensation: dry paths delayed by a node's latency, layer branches aligned, latency changes
crossfaded, and the latency the engine reports.

Oracle: a node set so that its wet path is an exact delay (a compressor that cannot compress: ratio 1,
threshold 0 dBFS, lookahead L) mixed at wet 0.5 with a compensated dry path is the input delayed by
exactly L (plus the master's lookahead); uncompensated it is a comb.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from livehost.dsp.compdelay import FADE_S
from livehost.engine.drivers.offline import render
from livehost.engine.engine import Engine

SR = 48000
EXACT = {"ratio": 1.0, "threshold_db": 0.0, "makeup_db": 0.0}  # a compressor that only delays


def noise(seconds=1.0, amp=0.05, seed=1):
    rng = np.random.default_rng(seed)
    return (amp * rng.standard_normal((int(seconds * SR), 2))).astype(np.float32)


def engine(chain):
    eng = Engine(SR, 128, 2, 2, heap_slots=1 << 22)
    eng.build("mic", [], chain, {})
    return eng


def delayed(x, d):
    y = np.zeros_like(x)
    y[d:] = x[:len(x) - d]
    return y


@pytest.mark.parametrize("lookahead_ms", [10.0, 2.5])
def test_wet_half_of_an_exact_delay_node_is_the_input_delayed(lookahead_ms):
    x = noise()
    eng = engine([("node", "compressor", "c", {**EXACT, "lookahead_ms": lookahead_ms, "wet": 0.5})])
    L = eng.latency_samples()
    assert L == round(lookahead_ms * 48) + eng.master.type.latency({}, SR)
    y = render(eng, len(x), x)
    assert np.max(np.abs(y - delayed(x, L))) < 1e-5


@pytest.mark.parametrize("mode", ["quality", "live"])
def test_wet_half_of_a_pitch_shifter_at_0_st_is_the_input_delayed(mode):
    """pitch_shift at 0 st is an exact delay of its latency (both modes): mixed at wet 0.5 with the
    compensated dry path it is the input delayed, not a comb."""
    x = noise()
    eng = engine([("node", "pitch_shift", "p", {"mode": mode, "semitones": 0.0, "wet": 0.5})])
    L = eng.latency_samples()
    nt = eng.node_type("pitch_shift")
    assert L == nt.latency({"mode": mode}, SR) + eng.master.type.latency({}, SR)
    y = render(eng, len(x), x)
    assert np.max(np.abs(y - delayed(x, L))) < 1e-5


def test_switching_pitch_mode_moves_the_compensation_with_it():
    """quality (2048 samples) -> live (480): the dry path follows, and settles exact again."""
    x = noise(1.5)
    eng = engine([("node", "pitch_shift", "p", {"semitones": 0.0, "wet": 0.5})])
    m = eng.master.type.latency({}, SR)
    a = render(eng, SR // 2, x[:SR // 2])
    eng.set_param("p", "mode", "live")
    b = render(eng, SR, x[SR // 2:])
    assert eng.latency_samples() == m + 480
    y = np.concatenate([a, b])
    tail = slice(SR // 2 + 12000, None)
    assert np.max(np.abs(y[tail] - delayed(x, m + 480)[tail])) < 1e-5
    assert eng.stats()["nan_resets"] == 0


def test_wet_half_transfer_is_flat_from_50_hz_to_15_khz():
    x = noise(4.0)
    eng = engine([("node", "compressor", "c", {**EXACT, "lookahead_ms": 10.0, "wet": 0.5})])
    y = render(eng, len(x), x).astype(np.float64)
    ref = delayed(x, eng.latency_samples()).astype(np.float64)  # the transfer against the input, aligned
    f, pxy = signal.csd(ref[:, 0], y[:, 0], SR, nperseg=8192)
    _, pxx = signal.welch(ref[:, 0], SR, nperseg=8192)
    mag = 20 * np.log10(np.abs(pxy / pxx))
    band = (f >= 50) & (f <= 15000)
    assert np.max(np.abs(mag[band])) < 0.1, (mag[band].min(), mag[band].max())


def test_uncompensated_mix_would_comb():
    """The same mix with the dry path not delayed (what the oracle above rules out) is a comb: the
    measurement can tell the difference."""
    x = noise(4.0)
    L = 480
    comb = 0.5 * x + 0.5 * delayed(x, L)
    f, pxy = signal.csd(x[:, 0], comb[:, 0], SR, nperseg=8192)
    _, pxx = signal.welch(x[:, 0], SR, nperseg=8192)
    mag = 20 * np.log10(np.abs(pxy / pxx) + 1e-12)
    assert mag[(f >= 50) & (f <= 15000)].min() < -20


def test_layer_of_dry_and_an_exact_delay_node_is_twice_the_input_delayed():
    x = noise()
    eng = engine([("layer", "lay", {}, [(0.0, []), (0.0, [("node", "compressor", "c", {**EXACT, "lookahead_ms": 10.0})])])])
    L = eng.latency_samples()
    assert L == 480 + eng.master.type.latency({}, SR)
    y = render(eng, len(x), x)
    assert np.max(np.abs(y - 2 * delayed(x, L))) < 1e-5


def test_branches_of_different_latency_are_aligned_to_the_slowest():
    x = noise()
    slow = ("node", "compressor", "slow", {**EXACT, "lookahead_ms": 10.0})
    fast = ("node", "compressor", "fast", {**EXACT, "lookahead_ms": 2.5})
    eng = engine([("layer", "lay", {"wet": 0.5}, [(0.0, [slow]), (-6.0, [fast])])])
    L = eng.latency_samples()
    assert L == 480 + eng.master.type.latency({}, SR)
    row = [r for r in eng.latency_table() if r["id"] == "lay"][0]
    assert row["latency_samples"] == 480 and row["branch_compensation_samples"] == [0, 360]
    y = render(eng, len(x), x)
    want = delayed(x, L) * (0.5 + 0.5 * (1 + 10 ** (-6 / 20)))  # dry half + both branches, aligned
    assert np.max(np.abs(y - want)) < 1e-5


def step_bound(x, fade_samples):
    """The largest sample-to-sample step a crossfade between two taps of ``x`` can make: the signal's
    own largest step plus the whole swing (2 x peak) spread over the fade."""
    return np.max(np.abs(np.diff(x[:, 0]))) + 2 * np.max(np.abs(x)) / fade_samples


def test_bypass_toggled_mid_signal_changes_the_latency_with_a_crossfade():
    t = np.arange(2 * SR) / SR
    s = (0.2 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)
    x = np.stack([s, s], axis=1)
    eng = engine([("node", "compressor", "c", {**EXACT, "lookahead_ms": 10.0, "wet": 0.5})])
    half = SR // 2
    y1 = render(eng, half, x[:half])
    eng.set_bypass("c", True)  # wet ramps out, then the dry path's 480-sample delay fades to none
    y2 = render(eng, half, x[half:2 * half])
    eng.set_bypass("c", False)
    y3 = render(eng, SR, x[2 * half:])
    y = np.concatenate([y1, y2, y3])
    bound = step_bound(x, FADE_S * SR)
    assert np.max(np.abs(np.diff(y[:, 0]))) <= bound * 1.01
    m = eng.master.type.latency({}, SR)
    # settled: bypassed = the input delayed by the master alone; back on = by master + 480
    assert np.max(np.abs(y[half + 6000:2 * half] - delayed(x, m)[half + 6000:2 * half])) < 1e-5
    assert np.max(np.abs(y[-6000:] - delayed(x, m + 480)[-6000:])) < 1e-5
    # and a jump between the taps without the crossfade would break the bound
    jump = np.concatenate([delayed(x, m + 480)[:half], delayed(x, m)[half:]])
    assert np.max(np.abs(np.diff(jump[:, 0]))) > bound * 1.01


def test_latency_that_moves_with_a_parameter_is_recompensated():
    x = noise(1.5)
    eng = engine([("node", "compressor", "c", {**EXACT, "lookahead_ms": 10.0, "wet": 0.5})])
    m = eng.master.type.latency({}, SR)
    a = render(eng, SR // 2, x[:SR // 2])
    eng.set_param("c", "lookahead_ms", 5.0)
    b = render(eng, SR, x[SR // 2:])
    assert eng.latency_samples() == m + 240
    y = np.concatenate([a, b])
    tail = slice(SR // 2 + 6000, None)  # after the parameter and the tap crossfade settled
    assert np.max(np.abs(y[tail] - delayed(x, m + 240)[tail])) < 1e-5
    assert np.all(np.isfinite(y)) and eng.stats()["nan_resets"] == 0


def test_reverse_is_not_compensated_its_delay_is_the_effect():
    eng = engine([("node", "reverse", "r", {"window_ms": 250.0, "wet": 0.5})])
    assert eng.latency_samples() == eng.master.type.latency({}, SR)
    row = [r for r in eng.latency_table() if r["id"] == "r"][0]
    assert row["latency_samples"] == 0 and row["effect_delay_samples"] == 12000


def test_stats_report_graph_and_round_trip():
    eng = engine([("node", "compressor", "c", {**EXACT, "lookahead_ms": 10.0})])
    eng.device_latency = (0.004, 0.006)  # what a driver reports for its device
    st = eng.stats()
    g = 480 + eng.master.type.latency({}, SR)
    assert st["graph_latency_samples"] == g
    assert st["roundtrip_samples"] == 192 + g + 288
    assert st["roundtrip_ms"] == pytest.approx(1000 * (192 + g + 288) / SR)


def test_only_latency_and_bypass_changes_rewrite_the_compensation(monkeypatch):
    """set_param rewrites the compensation delays' targets (a walk of the whole graph) only when the
    node's latency or a bypass changes, not for every parameter."""
    slow = ("node", "compressor", "slow", {**EXACT, "lookahead_ms": 10.0})
    eng = engine([("layer", "lay", {"wet": 0.5}, [(0.0, [slow]), (-6.0, [("node", "gain", "g", {})])])])
    calls = []
    real = eng._write_latency
    monkeypatch.setattr(eng, "_write_latency", lambda: (calls.append(1), real())[1])
    for node, name, value in [("slow", "threshold_db", -3.0), ("slow", "wet", 0.8), ("g", "gain_db", -3.0),
                              ("lay", "wet", 0.7), ("lay", "branch1.gain_db", -12.0), ("master", "gain_db", -1.0),
                              ("slow", "lookahead_ms", 10.0)]:  # the same lookahead: no move
        eng.set_param(node, name, value)
    assert calls == []
    eng.set_param("slow", "lookahead_ms", 5.0)
    assert len(calls) == 1
    eng.set_bypass("g", True)
    assert len(calls) == 2


def test_latency_moved_inside_a_layer_branch_realigns_the_branches():
    """A branch node's lookahead changed live (10 ms -> 2.5 ms): the other branch is re-aligned to it
    and the dry path follows; settled, the mix is the input delayed by the new latency, exactly."""
    x = noise(1.5)
    slow = ("node", "compressor", "slow", {**EXACT, "lookahead_ms": 10.0})
    fast = ("node", "compressor", "fast", {**EXACT, "lookahead_ms": 2.5})
    eng = engine([("layer", "lay", {"wet": 0.5}, [(0.0, [slow]), (-6.0, [fast])])])
    m = eng.master.type.latency({}, SR)
    a = render(eng, SR // 2, x[:SR // 2])
    eng.set_param("slow", "lookahead_ms", 2.5)
    b = render(eng, SR, x[SR // 2:])
    row = [r for r in eng.latency_table() if r["id"] == "lay"][0]
    assert row["latency_samples"] == 120 and row["branch_compensation_samples"] == [0, 0]
    y = np.concatenate([a, b])
    want = delayed(x, m + 120) * (0.5 + 0.5 * (1 + 10 ** (-6 / 20)))
    tail = slice(SR // 2 + 12000, None)  # after the taps' crossfades settled
    assert np.max(np.abs(y[tail] - want[tail])) < 1e-5
