"""distortion node: anti-aliasing (oversampled vs naive waveshaping), half-band specs, latency,
small-signal transparency, robustness."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from scipy import signal

from livehost.dsp.distortion import BETA1, BETA2, K1, K2, SHAPES, fast_tanh, halfband_full, shape_sample
from livehost.dsp.run import new_state, param_vector, run_kernel
from livehost.nodes import load_all

SR = 48000.0
NT = load_all()["distortion"]
F0 = 5000.0
N = 48000  # 1 s: every harmonic and alias of 5 kHz falls on an exact 1 Hz bin
SKIP = 4800


def alias_db(y):
    """Power of everything that is not a harmonic of F0 below 20 kHz, relative to the fundamental."""
    spec = np.abs(np.fft.rfft(y[SKIP:SKIP + N])) ** 2
    f = np.fft.rfftfreq(N, 1 / SR)
    harm = np.round(f) % F0 == 0
    fund = spec[int(F0)]
    return 10 * np.log10(spec[(f > 0) & (f < 20000) & ~harm].sum() / fund)


def naive(x, shape, drive_db):
    k = SHAPES.index(shape)
    g = 10 ** (drive_db / 20)
    return np.array([shape_sample(k, v * g) for v in x])


@pytest.mark.parametrize("shape,drive,min_gain,max_alias", [
    ("tanh", 24.0, 40.0, -60.0),
    ("asym", 24.0, 40.0, -60.0),
    ("soft", 24.0, 30.0, -50.0),
    ("hard", 12.0, 20.0, -50.0),
])
def test_aliasing_far_below_naive(shape, drive, min_gain, max_alias):
    x = 0.5 * np.sin(2 * np.pi * F0 * np.arange(N + SKIP) / SR)
    y = run_kernel(NT, x, SR, drive_db=drive, shape=shape, tone_hz=20000.0, output_db=0.0)[:, 0]
    over, raw = alias_db(y), alias_db(naive(x, shape, drive))
    print(f"{shape} drive {drive:g} dB: aliasing {over:.1f} dB (4x) vs {raw:.1f} dB (no oversampling)")
    assert over < max_alias
    assert over < raw - min_gain


def test_halfband_designs():
    for K, beta, fp, fs, atten in ((K1, BETA1, 20 / 96, 28 / 96, 79.0), (K2, BETA2, 28 / 192, 68 / 192, 76.0)):
        h = halfband_full(K, beta)
        assert np.sum(h) == pytest.approx(1.0, abs=1e-12)
        assert h[2 * K - 1] == 0.5 and np.all(h[2 * K + 1::2] == 0)
        w, H = signal.freqz(h, worN=16384, fs=1.0)
        mag = 20 * np.log10(np.abs(H) + 1e-300)
        assert np.max(np.abs(mag[w <= fp])) < 0.002
        assert np.max(mag[w >= fs]) < -atten


def test_fast_tanh_accuracy():
    xs = np.linspace(-20, 20, 40001)
    err = np.max(np.abs(np.array([fast_tanh(v) for v in xs]) - np.tanh(xs)))
    assert err < 1e-4


def test_latency_and_small_signal_transparency():
    imp = np.zeros(512)
    imp[0] = 1e-4
    y = run_kernel(NT, imp, SR, drive_db=0.0, shape="tanh", tone_hz=20000.0, output_db=0.0)[:, 0]
    assert int(np.argmax(np.abs(y))) == NT.latency({}, SR)
    # small 1 kHz sine: unity gain through the oversampling chain (tone filter at 20 kHz: ~0 dB)
    x = 1e-3 * np.sin(2 * np.pi * 1000.0 * np.arange(9600) / SR)
    y = run_kernel(NT, x, SR, drive_db=0.0, shape="soft", tone_hz=20000.0, output_db=0.0)[:, 0]
    gain = np.sqrt(np.mean(y[4800:] ** 2) / np.mean(x[4800:] ** 2))
    # soft (cubic) has slope 1.5 at 0
    assert 20 * np.log10(gain) == pytest.approx(20 * np.log10(1.5), abs=0.02)


def test_output_gain_and_tone():
    x = 0.01 * np.sin(2 * np.pi * 500.0 * np.arange(9600) / SR)
    a = run_kernel(NT, x, SR, drive_db=0.0, shape="tanh", tone_hz=20000.0, output_db=0.0)[4800:, 0]
    b = run_kernel(NT, x, SR, drive_db=0.0, shape="tanh", tone_hz=20000.0, output_db=-12.0)[4800:, 0]
    assert 20 * np.log10(np.std(b) / np.std(a)) == pytest.approx(-12.0, abs=1e-6)
    x = 0.01 * np.sin(2 * np.pi * 4000.0 * np.arange(9600) / SR)
    c = run_kernel(NT, x, SR, drive_db=0.0, shape="tanh", tone_hz=4000.0, output_db=0.0)[4800:, 0]
    assert 20 * np.log10(np.std(c) / np.std(x[4800:])) == pytest.approx(-3.01, abs=0.05)


def _strategy():
    d = {}
    for p in NT.params:
        d[p.name] = hs.sampled_from(p.choices) if p.kind == "choice" else hs.floats(p.lo, p.hi)
    return hs.fixed_dictionaries(d)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(v0=_strategy(), v1=_strategy(), scale=hs.floats(0.0, 4.0))
def test_bounded_for_any_parameters(v0, v1, scale):
    x = np.random.default_rng(5).uniform(-1, 1, 2048) * scale
    st = new_state(NT, SR, 128)
    buf = np.zeros((2, 128))
    p0, p1 = param_vector(NT, v0), param_vector(NT, v1)
    for b in range(16):
        buf[:] = x[b * 128:(b + 1) * 128]
        NT.kernel(p0 if b < 8 else p1, p1 if b >= 7 else p0, st, buf, 128, SR)
        assert np.all(np.isfinite(buf))
        assert np.max(np.abs(buf)) < 20.0
