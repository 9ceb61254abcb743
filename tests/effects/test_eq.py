"""eq node: the cascade's response vs freqz of the three cookbook sections; band gains; robustness."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from scipy import signal

from livehost.dsp.biquad import biquad_coefficients
from livehost.dsp.eq import SHELF_Q
from livehost.dsp.run import new_state, param_vector, run_kernel
from livehost.nodes import load_all

SR = 48000.0
NT = load_all()["eq"]


def _db(h):
    return 20 * np.log10(np.abs(h))


def reference(v, freqs, sr):
    """Product of the three sections' freqz responses at freqs (Hz)."""
    h = np.ones(len(freqs), complex)
    for mode, f, q, g in (("lowshelf", v["low_hz"], SHELF_Q, v["low_db"]),
                          ("peak", v["mid_hz"], v["mid_q"], v["mid_db"]),
                          ("highshelf", v["high_hz"], SHELF_Q, v["high_db"])):
        b, a = biquad_coefficients(mode, f, q, g, sr)
        h *= signal.freqz(b, a, worN=freqs, fs=sr)[1]
    return h


SETTINGS = [
    dict(low_hz=80.0, low_db=6.0, mid_hz=1000.0, mid_q=0.7071, mid_db=-9.0, high_hz=8000.0, high_db=3.0),
    dict(low_hz=300.0, low_db=-24.0, mid_hz=2500.0, mid_q=8.0, mid_db=24.0, high_hz=12000.0, high_db=-12.0),
    dict(low_hz=20.0, low_db=12.0, mid_hz=150.0, mid_q=0.1, mid_db=-6.0, high_hz=1000.0, high_db=18.0),
]


@pytest.mark.parametrize("sr", [44100.0, 48000.0])
@pytest.mark.parametrize("v", SETTINGS)
def test_kernel_matches_freqz(v, sr):
    n = 1 << 16
    imp = np.zeros(n)
    imp[0] = 1.0
    y = run_kernel(NT, imp, sr, **v)
    freqs = np.fft.rfftfreq(n, 1 / sr)
    err = np.max(np.abs(_db(np.fft.rfft(y[:, 0])) - _db(reference(v, freqs, sr))))
    print(f"eq {v} @ {sr:g}: max |kernel - freqz| = {err:.2e} dB")
    assert err < 0.01


def test_band_gains_at_their_frequencies():
    """Each band alone: the mid peak reaches mid_db at mid_hz, the shelves reach their gain far from
    the corner and half of it (in dB) at the corner."""
    n = 1 << 16
    imp = np.zeros(n)
    imp[0] = 1.0
    flat = dict(low_db=0.0, mid_db=0.0, high_db=0.0)
    freqs = np.fft.rfftfreq(n, 1 / SR)

    def resp(**v):
        y = run_kernel(NT, imp, SR, **{**flat, **v})
        return _db(np.fft.rfft(y[:, 0]))

    h = resp(mid_hz=1500.0, mid_db=-10.0, mid_q=2.0)
    k = np.argmin(np.abs(freqs - 1500.0))
    assert h[k] == pytest.approx(-10.0, abs=0.01)
    assert np.min(h) == pytest.approx(-10.0, abs=0.01)
    h = resp(low_hz=187.5, low_db=9.0)  # 187.5 Hz is an exact FFT bin
    assert h[1] == pytest.approx(9.0, abs=0.02)
    assert h[np.argmin(np.abs(freqs - 187.5))] == pytest.approx(4.5, abs=0.01)
    h = resp(high_hz=3000.0, high_db=-15.0)
    assert h[-1] == pytest.approx(-15.0, abs=0.01)
    assert h[np.argmin(np.abs(freqs - 3000.0))] == pytest.approx(-7.5, abs=0.01)


def _strategy():
    return hs.fixed_dictionaries({p.name: hs.floats(p.lo, p.hi) for p in NT.params})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(v0=_strategy(), v1=_strategy(), seed=hs.integers(0, 2**16))
def test_bounded_for_any_parameters(v0, v1, seed):
    x = np.random.default_rng(seed).uniform(-1, 1, 4096)
    p0, p1 = param_vector(NT, v0), param_vector(NT, v1)
    st = new_state(NT, SR, 128)
    buf = np.zeros((2, 128))
    peak = 0.0
    for b in range(64):  # ramp over 16 blocks, then hold, then silence
        t = min(1.0, (b + 1) / 16)
        pa, pb = p0 + (p1 - p0) * min(1.0, b / 16), p0 + (p1 - p0) * t
        buf[:] = x[(b % 32) * 128:(b % 32 + 1) * 128] if b < 32 else 0.0
        NT.kernel(pa, pb, st, buf, 128, SR)
        assert np.all(np.isfinite(buf))
        peak = max(peak, np.max(np.abs(buf)))
    assert peak < 1e3
