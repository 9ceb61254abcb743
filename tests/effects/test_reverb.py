"""reverb node: measured RT60 (Schroeder backward integration, T30) against decay_s; predelay and
delay lengths in seconds at any sample rate; width; unit-energy impulse response; robustness."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from livehost.dsp.reverb import COMBS
from livehost.dsp.run import new_state, param_vector, run_kernel
from livehost.nodes import load_all

NT = load_all()["reverb"]


def t30(h, sr):
    """RT60 (s) from the -5..-35 dB part of the Schroeder energy decay curve, extrapolated to 60 dB."""
    e = np.cumsum((h ** 2)[::-1])[::-1]
    edc = 10 * np.log10(e / e[0])
    i5, i35 = np.argmax(edc <= -5), np.argmax(edc <= -35)
    slope = np.polyfit(np.arange(i5, i35) / sr, edc[i5:i35], 1)[0]
    return -60.0 / slope


def impulse_response(sr, seconds, **v):
    x = np.zeros(int(sr * seconds))
    x[0] = 1.0
    return run_kernel(NT, x, sr, **v)


@pytest.mark.parametrize("sr", [44100, 48000])
@pytest.mark.parametrize("decay,damping,size", [
    (0.3, 0.0, 0.2), (1.0, 0.0, 0.8), (2.5, 0.0, 0.5), (6.0, 0.0, 1.0),
    (0.5, 0.3, 0.6), (2.0, 0.7, 0.3), (4.0, 0.5, 0.9),
])
def test_measured_rt60(sr, decay, damping, size):
    h = impulse_response(sr, 1.4 * decay + 0.2, size=size, damping=damping, decay_s=decay,
                         predelay_ms=20.0, width=1.0)
    for ch in range(2):
        rt = t30(h[:, ch], sr)
        print(f"sr {sr} decay {decay} s damping {damping} size {size}: T30 {rt:.3f} s "
              f"({100 * (rt / decay - 1):+.1f} %)")
        assert rt == pytest.approx(decay, rel=0.20)
        if damping == 0.0:  # undamped: every comb decays at exactly the target rate
            assert rt == pytest.approx(decay, rel=0.03)


def test_lengths_and_predelay_scale_with_sample_rate():
    onsets = []
    for sr in (32000, 44100, 48000, 96000):
        h = impulse_response(sr, 0.2, size=1.0, damping=0.0, decay_s=1.0, predelay_ms=30.0)
        first = np.flatnonzero(np.abs(h[:, 0]) > 0)[0] / sr
        onsets.append(first)
        # first arrival: predelay + the shortest comb (+1 sample of loop length)
        assert first == pytest.approx(0.030 + COMBS[0] / 48000, abs=2.5 / sr)
    assert max(onsets) - min(onsets) < 1e-4


def test_width_and_energy():
    sr = 48000
    h = impulse_response(sr, 3.0, size=0.7, damping=0.0, decay_s=1.5, predelay_ms=0.0, width=0.0)
    np.testing.assert_allclose(h[:, 0], h[:, 1], atol=1e-15)
    for decay in (0.5, 2.0):
        h = impulse_response(sr, 2.5 * decay, size=0.7, damping=0.0, decay_s=decay, predelay_ms=0.0,
                             width=1.0)
        assert np.sum(h[:, 0] ** 2) == pytest.approx(1.0, rel=0.05)
        corr = np.corrcoef(h[:, 0], h[:, 1])[0, 1]
        assert abs(corr) < 0.5  # the two sides are decorrelated


def _strategy():
    return hs.fixed_dictionaries({p.name: hs.floats(p.lo, p.hi) for p in NT.params})


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(v0=_strategy(), v1=_strategy(), scale=hs.floats(0.0, 4.0))
def test_bounded_for_any_parameters(v0, v1, scale):
    sr = 48000.0
    x = np.random.default_rng(11).uniform(-1, 1, 8192) * scale
    st = new_state(NT, sr, 128)
    buf = np.zeros((2, 128))
    p0, p1 = param_vector(NT, v0), param_vector(NT, v1)
    peak = 0.0
    for b in range(128):
        buf[:] = x[(b % 64) * 128:(b % 64 + 1) * 128] if b < 64 else 0.0
        pa = p0 if b < 32 else p1
        pb = p1 if b >= 31 else p0
        NT.kernel(pa, pb, st, buf, 128, sr)
        assert np.all(np.isfinite(buf))
        peak = max(peak, np.max(np.abs(buf)))
    assert peak < 30.0 * scale + 1e-12
