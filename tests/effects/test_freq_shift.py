"""freq_shift kernel against ground truth: the shifted line lands at f + shift, the image (f - shift) and
the original are at least 40 dB down; bounded for any parameters (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from livehost.dsp.run import new_state, param_vector, run_kernel
from livehost.nodes import load_all

NT = load_all()["freq_shift"]


def spectrum_db(y, sr):
    """Blackman-windowed magnitude spectrum (dB re its maximum) and its frequency axis (Hz)."""
    mag = np.abs(np.fft.rfft(y * np.blackman(len(y))))
    return 20 * np.log10(mag / mag.max() + 1e-300), np.fft.rfftfreq(len(y), 1 / sr)


def level_near(db, f, hz, width=4.0):
    """Highest level (dB) within +-width Hz of ``hz``."""
    sel = np.abs(f - hz) <= width
    return db[sel].max()


@pytest.mark.parametrize("sr,f0,shift", [(48000.0, 440.0, 100.0), (44100.0, 440.0, 100.0), (96000.0, 440.0, 100.0),
                                         (48000.0, 1000.0, -300.0), (48000.0, 3000.0, 1500.0)])
def test_single_sideband_shift(sr, f0, shift):
    t = np.arange(int(sr * 1.5)) / sr
    x = 0.5 * np.sin(2 * np.pi * f0 * t)
    y = run_kernel(NT, x, sr, block=128, shift_hz=shift)
    seg = y[int(0.5 * sr):, 0]  # 1 s: 1 Hz bins
    db, f = spectrum_db(seg, sr)
    assert abs(f[np.argmax(db)] - (f0 + shift)) <= 1.0
    image = level_near(db, f, f0 - shift)
    orig = level_near(db, f, f0)
    assert image < -40.0, image
    assert orig < -40.0, orig
    # unit gain: an allpass network times a unit oscillator
    assert np.isclose(np.sqrt(2 * np.mean(seg ** 2)), 0.5, rtol=0.02)
    np.testing.assert_allclose(y[:, 0], y[:, 1])


def test_zero_shift_is_allpass():
    sr = 48000.0
    rng = np.random.default_rng(1)
    x = rng.standard_normal(int(sr))
    y = run_kernel(NT, x, sr, shift_hz=0.0)[:, 0]
    X, Y = np.abs(np.fft.rfft(x)), np.abs(np.fft.rfft(y))
    assert np.isclose(np.sum(Y ** 2) / np.sum(X ** 2), 1.0, rtol=0.01)


@settings(max_examples=15, deadline=None)
@given(seed=hs.integers(0, 2**31 - 1), block=hs.sampled_from([16, 128, 1024]),
       sr=hs.sampled_from([44100.0, 48000.0, 96000.0]))
def test_bounded_for_any_parameters(seed, block, sr):
    """Random shift changing every block: finite, |y| <= 3 max|x| (the allpass pair's peak gain on
    random input stays under ~2)."""
    rng = np.random.default_rng(seed)
    n = int(0.3 * sr)
    x = rng.uniform(-1, 1, (2, n))
    st = new_state(NT, sr, block)
    buf = np.zeros((2, block))
    prev = param_vector(NT, {"shift_hz": float(rng.uniform(-2000, 2000))})
    peak = 0.0
    for s in range(0, n, block):
        m = min(block, n - s)
        cur = param_vector(NT, {"shift_hz": float(rng.uniform(-2000, 2000))})
        buf[:, :m] = x[:, s:s + m]
        NT.kernel(prev, cur, st, buf, m, sr)
        assert np.all(np.isfinite(buf[:, :m]))
        peak = max(peak, np.abs(buf[:, :m]).max())
        prev = cur
    assert peak <= 3.0
