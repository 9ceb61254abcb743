"""reverse kernel against ground truth: a rising chirp comes out falling inside every window, windows
joined without clicks, constant input stays constant (the crossfade weights sum to 1), the reported
latency is the delay of the window centre, and boundedness for any parameters (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from scipy.signal import hilbert

from livehost.dsp.run import new_state, param_vector, run_kernel
from livehost.nodes import load_all

NT = load_all()["reverse"]
SR = 48000.0


def inst_freq(y, sr):
    """Instantaneous frequency (Hz) from the analytic signal's unwrapped phase."""
    ph = np.unwrap(np.angle(hilbert(y)))
    return np.diff(ph) * sr / (2 * np.pi)


def slope_hz_per_s(f, sr, lo, hi):
    i = np.arange(lo, hi)
    return np.polyfit(i / sr, f[lo:hi], 1)[0]


@pytest.mark.parametrize("window_ms", [200.0, 500.0])
def test_rising_chirp_comes_out_falling(window_ms):
    dur, f0, f1 = 4.0, 300.0, 3000.0
    rate = (f1 - f0) / dur
    t = np.arange(int(SR * dur)) / SR
    x = np.sin(2 * np.pi * (f0 * t + 0.5 * rate * t ** 2))
    y = run_kernel(NT, x, SR, block=256, window_ms=window_ms)[:, 0]
    w = int(round(window_ms * SR / 1000))
    fi = inst_freq(x, SR)
    fo = inst_freq(y, SR)
    slopes = []
    # grain A has full weight around phase 0.5 (window centres at w/2 + k w), grain B around k w
    for c in range(2 * w + w // 2, len(y) - w, w // 2):
        lo, hi = c - w // 6, c + w // 6  # the centre third: the other grain's weight is below 1/4
        slopes.append(slope_hz_per_s(fo, SR, lo, hi))
        assert slope_hz_per_s(fi, SR, lo, hi) == pytest.approx(rate, rel=0.02)
    slopes = np.array(slopes)
    assert len(slopes) >= 8
    assert np.all(slopes < 0), slopes
    assert np.all(np.abs(slopes / -rate - 1) < 0.25), slopes
    assert np.median(slopes) == pytest.approx(-rate, rel=0.1)


@pytest.mark.parametrize("f", [220.0, 1000.0, 3000.0])
def test_windows_join_without_clicks(f):
    t = np.arange(int(SR * 2)) / SR
    x = 0.8 * np.sin(2 * np.pi * f * t)
    y = run_kernel(NT, x, SR, block=128, window_ms=150.0)[:, 0]
    natural = 0.8 * 2 * np.sin(np.pi * f / SR)  # steepest step of the input sine
    assert np.abs(np.diff(y[int(0.3 * SR):])).max() < 1.1 * natural + 0.8 * 2 * np.pi / (0.15 * SR)
    assert np.abs(y).max() <= 0.8 + 1e-12


def test_constant_input_stays_constant():
    y = run_kernel(NT, np.full(int(SR), 0.5), SR, window_ms=100.0)[:, 1]
    np.testing.assert_allclose(y[int(0.2 * SR):], 0.5, atol=1e-12)


def test_latency_is_the_window_centre():
    """An impulse comes back (as the two grains see it) at delays in 0..2 windows; the one seen at full
    grain weight is one window late: the reported latency."""
    w = NT.latency({"window_ms": 250.0}, SR)
    assert w == 12000
    x = np.zeros(int(SR * 3))
    hits = []
    for at in range(2 * w, 2 * w + w, 997):
        x[:] = 0
        x[at] = 1.0
        y = run_kernel(NT, x, SR, block=512, window_ms=250.0)[:, 0]
        idx = np.nonzero(np.abs(y) > 1e-12)[0]
        assert 1 <= len(idx) <= 2 and np.all(idx >= at) and np.all(idx - at <= 2 * w)
        assert np.isclose(y[idx].sum(), 1.0) or len(idx) == 2
        k = idx[np.argmax(y[idx])]
        hits.append((k - at, y[k]))
    # the delay of the louder copy is always within half a window of the latency, and the closer the
    # copy is to the latency the louder it is (raised-cosine weight)
    d = np.array([h[0] for h in hits])
    g = np.array([h[1] for h in hits])
    assert np.all(np.abs(d - w) <= w // 2 + 1)
    np.testing.assert_allclose(g, np.sin(np.pi * d / (2 * w)) ** 2, atol=1e-3)  # to a sample


@settings(max_examples=12, deadline=None)
@given(seed=hs.integers(0, 2**31 - 1), block=hs.sampled_from([32, 256, 1024]),
       sr=hs.sampled_from([44100.0, 48000.0, 96000.0]))
def test_bounded_for_any_parameters(seed, block, sr):
    """Random window per block: finite and never above the input's peak (convex crossfade)."""
    rng = np.random.default_rng(seed)
    n = int(0.5 * sr)
    x = rng.uniform(-1, 1, (2, n))
    st = new_state(NT, sr, block)
    buf = np.zeros((2, block))
    prev = param_vector(NT, {"window_ms": float(rng.uniform(50, 2000))})
    for s in range(0, n, block):
        m = min(block, n - s)
        cur = param_vector(NT, {"window_ms": float(rng.uniform(50, 2000))})
        buf[:, :m] = x[:, s:s + m]
        NT.kernel(prev, cur, st, buf, m, sr)
        assert np.all(np.isfinite(buf[:, :m]))
        assert np.abs(buf[:, :m]).max() <= 1.0 + 1e-12
        prev = cur
