"""chorus / flanger / phaser: the measured modulation (echo delay, notch frequency) follows the
declared LFO law at rate_hz; feedback; stereo spread; robustness."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from livehost.dsp.run import new_state, param_vector, run_kernel
from livehost.nodes import load_all

SR = 48000.0
REG = load_all()


def impulse_train(period, count):
    x = np.zeros(period * count)
    x[::period] = 1.0
    return x


def echo_delays(y, period, count):
    """Signed centroid (samples) of each impulse's echo within its period."""
    k = np.arange(period)
    seg = y[:period * count].reshape(count, period)
    return (seg * k).sum(axis=1) / seg.sum(axis=1)


def dominant_hz(series, dt):
    s = series - series.mean()
    spec = np.abs(np.fft.rfft(s * np.hanning(len(s)), 16 * len(s)))
    return np.fft.rfftfreq(16 * len(s), dt)[np.argmax(spec)]


def expected_delay(t0, centre, swing, rate, phase=0.0):
    """Echo delay (samples) of an impulse at t0: solve i - d(i) = t0 with
    d(i) = centre + swing*sin(2*pi*rate*i/SR + phase)."""
    d = centre
    for _ in range(5):
        d = centre + swing * np.sin(2 * np.pi * rate * (t0 + d) / SR + phase)
    return d


def test_chorus_delay_follows_lfo():
    nt, period, count = REG["chorus"], 2400, 80
    rate, dms, depth = 0.5, 15.0, 5.0
    y = run_kernel(nt, impulse_train(period, count), SR, rate_hz=rate, delay_ms=dms, depth_ms=depth,
                   voices="1", spread=0.0)
    d = echo_delays(y[:, 0], period, count)
    t0 = np.arange(count) * period
    exp = expected_delay(t0, dms * SR / 1000, depth * SR / 1000, rate)
    assert np.max(np.abs(d - exp)) < 0.05
    assert dominant_hz(d, period / SR) == pytest.approx(rate, rel=0.03)
    assert d.max() - d.min() == pytest.approx(2 * depth * SR / 1000, rel=0.01)


def test_chorus_voices_and_spread():
    nt = REG["chorus"]
    x = np.zeros(4800)
    x[0] = 1.0
    # 3 voices: three echoes of 1/3 at centre + depth*sin(0, 120, 240 degrees)
    y = run_kernel(nt, x, SR, rate_hz=0.1, delay_ms=10.0, depth_ms=2.0, voices="3", spread=0.0)[:, 0]
    dd = 10.0 * SR / 1000 + 2.0 * SR / 1000 * np.sin(2 * np.pi * np.arange(3) / 3)
    for d in dd:
        w = slice(int(d) - 2, int(d) + 4)
        assert np.sum(y[w]) == pytest.approx(1 / 3, abs=0.01)
    # spread 1: the right channel's LFO is 90 degrees ahead: at t ~ 0 its delay is centre + depth
    y = run_kernel(nt, x, SR, rate_hz=0.1, delay_ms=10.0, depth_ms=2.0, voices="1", spread=1.0)
    assert np.argmax(y[:, 0]) == pytest.approx(480, abs=1)
    assert np.argmax(y[:, 1]) == pytest.approx(576, abs=1)


def test_flanger_notches_move_at_rate():
    nt, period, count = REG["flanger"], 960, 200
    rate, dms, depth = 1.0, 3.0, 0.8
    y = run_kernel(nt, impulse_train(period, count), SR, rate_hz=rate, delay_ms=dms, depth=depth,
                   feedback=0.0, spread=1.0)
    t0 = np.arange(count) * period
    c = dms * SR / 1000
    for ch, ph in ((0, 0.0), (1, np.pi)):
        d = echo_delays(y[:, ch], period, count)
        exp = expected_delay(t0, c, depth * c, rate, ph)
        assert np.max(np.abs(d - exp)) < 0.05
        notch_hz = SR / (2 * d)  # first notch of the comb 0.5*(dry + wet)
        assert dominant_hz(notch_hz, period / SR) == pytest.approx(rate, rel=0.03)
        assert notch_hz.min() == pytest.approx(SR / (2 * c * (1 + depth)), rel=0.01)
        assert notch_hz.max() == pytest.approx(SR / (2 * c * (1 - depth)), rel=0.01)


def test_flanger_feedback_echoes():
    x = np.zeros(2048)
    x[0] = 1.0
    y = run_kernel(REG["flanger"], x, SR, rate_hz=0.1, delay_ms=4.0, depth=0.0, feedback=-0.6)[:, 0]
    d = int(4.0 * SR / 1000)
    for k in range(1, 5):
        assert y[k * d] == pytest.approx((-0.6) ** (k - 1), abs=1e-9)


def phaser_notch(fc, stages, k, sr=SR):
    """Frequency (Hz) of notch k of 0.5*(dry + allpass^stages) for break frequency fc (Hz)."""
    return sr / np.pi * np.arctan(np.tan(np.pi * fc / sr) * np.tan(np.pi * (2 * k + 1) / (2 * stages)))


@pytest.mark.parametrize("stages,fc", [(4, 1000.0), (8, 500.0), (2, 3000.0)])
def test_phaser_static_notches(stages, fc):
    n = 1 << 16
    x = np.zeros(n)
    x[0] = 1.0
    y = run_kernel(REG["phaser"], x, SR, rate_hz=1.0, centre_hz=fc, depth_oct=0.0, feedback=0.0,
                   stages=str(stages))[:, 0]
    mix = 0.5 * (x + y)
    mag = 20 * np.log10(np.abs(np.fft.rfft(mix)) + 1e-300)
    f = np.fft.rfftfreq(n, 1 / SR)
    for k in range(stages // 2):
        fn = phaser_notch(fc, stages, k)
        j = np.argmin(np.abs(f - fn))
        lo, hi = max(1, j - 40), j + 40
        jm = lo + np.argmin(mag[lo:hi])
        assert abs(f[jm] - fn) <= f[1]
        assert mag[jm] < -40


def test_phaser_notch_moves_at_rate():
    nt, period, count = REG["phaser"], 4096, 47
    rate, fc, dep = 0.5, 1000.0, 1.0
    y = run_kernel(nt, impulse_train(period, count), SR, rate_hz=rate, centre_hz=fc, depth_oct=dep,
                   feedback=0.0, stages="4")[:, 0]
    nfft = 1 << 16
    f = np.fft.rfftfreq(nfft, 1 / SR)
    meas, exp = [], []
    for i in range(count):
        seg = y[i * period:(i + 1) * period].copy()
        seg[0] += 1.0  # the dry impulse
        mag = np.abs(np.fft.rfft(0.5 * seg, nfft))
        t = (i * period + 200) / SR
        exp.append(fc * 2.0 ** (dep * np.sin(2 * np.pi * rate * t)))
        guess = phaser_notch(exp[-1], 4, 0)  # search +-1 octave (the next notch is 5.8x higher)
        band = (f > guess / 2) & (f < guess * 2)
        fn = f[band][np.argmin(mag[band])]
        # invert the notch law to the break frequency
        meas.append(SR / np.pi * np.arctan(np.tan(np.pi * fn / SR) / np.tan(np.pi / 8)))
    meas, exp = np.array(meas), np.array(exp)
    assert np.max(np.abs(meas / exp - 1)) < 0.02
    assert dominant_hz(np.log2(meas), period / SR) == pytest.approx(rate, rel=0.05)
    assert np.log2(meas.max() / meas.min()) == pytest.approx(2 * dep, abs=0.05)


def _strategy(nt):
    d = {}
    for p in nt.params:
        d[p.name] = hs.sampled_from(p.choices) if p.kind == "choice" else hs.floats(p.lo, p.hi)
    return hs.fixed_dictionaries(d)


def _bounded(nt, v0, v1, scale):
    x = np.random.default_rng(7).uniform(-1, 1, 8192) * scale
    st = new_state(nt, SR, 128)
    buf = np.zeros((2, 128))
    p0, p1 = param_vector(nt, v0), param_vector(nt, v1)
    peak = 0.0
    for b in range(96):
        buf[:] = x[(b % 64) * 128:(b % 64 + 1) * 128]
        if b >= 64:
            buf[:] = 0.0
        t0, t1 = min(1.0, b / 32), min(1.0, (b + 1) / 32)
        nt.kernel(p0 + (p1 - p0) * t0, p0 + (p1 - p0) * t1, st, buf, 128, SR)
        assert np.all(np.isfinite(buf))
        peak = max(peak, np.max(np.abs(buf)))
    assert peak < 50.0 * max(scale, 1e-9) + 1e-12


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=hs.data(), scale=hs.floats(0.0, 4.0), name=hs.sampled_from(["chorus", "flanger", "phaser"]))
def test_bounded_for_any_parameters(data, scale, name):
    nt = REG[name]
    _bounded(nt, data.draw(_strategy(nt)), data.draw(_strategy(nt)), scale)
