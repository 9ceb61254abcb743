"""Safety: NaN, Inf, +12 dBFS squares and runaway feedback never reach the device above the ceiling."""

import numpy as np
import pytest

from livehost.engine.drivers.offline import render
from tests.conftest import sine

CEIL = 10 ** (-0.3 / 20)


def square(level_dbfs, seconds=0.5, f=110, sr=48000):
    t = np.arange(int(seconds * sr)) / sr
    x = (10 ** (level_dbfs / 20) * np.sign(np.sin(2 * np.pi * f * t))).astype(np.float32)
    return np.stack([x, x], 1)


def assert_safe(y, ceiling=CEIL):
    assert np.all(np.isfinite(y))
    assert np.abs(y).max() <= np.float32(ceiling)


def test_plus_12_dbfs_square_is_held_under_the_ceiling(make_engine):
    eng = make_engine([("node", "gain", "g", {"gain_db": 24.0})])
    y = render(eng, 24000, square(12.0))
    assert_safe(y)
    assert eng.stats()["limiter_gain_reduction_db"] > 30


def test_custom_ceiling(make_engine):
    eng = make_engine([], master={"ceiling_db": -6.0})
    y = render(eng, 24000, square(12.0))
    assert_safe(y, 10 ** (-6 / 20))


def test_nan_and_inf_input_never_reach_the_output(make_engine):
    eng = make_engine([("node", "gain", "g", {})])
    x = sine(440, 0.2)
    x[100:110] = np.nan
    x[500, 0] = np.inf
    x[900, 1] = -np.inf
    y = render(eng, len(x), x)
    assert_safe(y)


@pytest.mark.parametrize("mode", ["nan", "inf"])
def test_guard_resets_a_misbehaving_node_and_counts_it(make_engine, mode):
    eng = make_engine([("node", "fault", "f", {"mode": mode}), ("node", "gain", "g", {})])
    x = sine(440, 0.1)
    y = render(eng, len(x), x)
    assert_safe(y)
    blocks = -(-len(x) // 128)
    assert eng.stats()["nan_resets"] == blocks
    # the guard substitutes the node's input: the output is the dry signal
    np.testing.assert_allclose(y[72:], x[:-72], atol=1e-7)
    eng.set_param("f", "mode", "ok")
    y2 = render(eng, len(x), x)
    assert eng.stats()["nan_resets"] == blocks
    assert np.abs(y2).max() > 0.4


def test_runaway_feedback_is_contained(make_engine):
    eng = make_engine([("node", "fault", "f", {"mode": "runaway"})])
    y = render(eng, 48000, sine(220, 1.0, amp=0.3))
    assert_safe(y)
    assert eng.stats()["nan_resets"] >= 1  # past +80 dBFS the node counts as runaway and is reset


def test_limiter_is_transparent_below_the_ceiling(make_engine):
    eng = make_engine([])
    x = sine(1000, 0.2, amp=0.7)
    y = render(eng, len(x), x)
    np.testing.assert_allclose(y[72:], x[:-72], atol=1e-7)
    assert eng.stats()["limiter_gain_reduction_db"] == 0.0


def test_limiter_reduces_a_loud_sine_to_the_ceiling_without_clipping_much(make_engine):
    eng = make_engine([("node", "gain", "g", {"gain_db": 12.0})])
    x = sine(1000, 0.5, amp=0.5)
    y = render(eng, len(x), x)
    steady = y[12000:, 0]
    assert steady.max() <= CEIL
    assert steady.max() > CEIL * 0.97  # it limits to the ceiling, not far below
    # the limiter's envelope, not the clamp, does the work: the output is a scaled sine, not a clipped one
    ref = x[12000 - 72:len(x) - 72, 0].astype(np.float64)
    g = np.dot(steady, ref) / np.dot(ref, ref)
    assert np.abs(steady - g * ref).max() < 0.005 * CEIL
