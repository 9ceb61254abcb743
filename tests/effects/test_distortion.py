"""distortion node: anti-aliasing (oversampled vs naive waveshaping), half-band specs (design and
the kernel's polyphase allpass implementation), latency, small-signal transparency, robustness."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from scipy import signal

from livehost.dsp import distortion as dist
from livehost.dsp.biquad import biquad_coefs
from livehost.dsp.distortion import C1, C2, GROUP_DELAY, SHAPES, fast_tanh, halfband_response, shape_sample
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
    """Same specs as the former FIR half-bands: stage 1 (at 2*sr) flat to 20/96 within 0.002 dB and
    -79 dB above 28/96; stage 2 (at 4*sr) flat to 28/192, -76 dB above 68/192."""
    for C, fp, fs, atten in ((C1, 20 / 96, 28 / 96, 79.0), (C2, 28 / 192, 68 / 192, 76.0)):
        assert np.all((C > 0) & (C < 1)) and np.all(np.diff(C) > 0)
        f = np.linspace(0, 0.5, 16385)
        H = halfband_response(C, f)
        assert abs(H[0]) == pytest.approx(1.0, abs=1e-12)
        mag = 20 * np.log10(np.abs(H) + 1e-300)
        assert np.max(np.abs(mag[f <= fp])) < 0.002
        assert np.max(mag[f >= fs]) < -atten


def _impulse_through(stage, which, L=256):
    """Impulse response (at the high rate) of the kernel's up2 / down2 implementation of a stage."""
    up, down, nst_up, nst_down = {1: (dist._up1, dist._down1, 6, 7), 2: (dist._up2, dist._down2, 4, 5)}[stage]
    if which == "up":
        s = (0.0,) * nst_up
        h = []
        for i in range(L):
            a, b, s = up(1.0 if i == 0 else 0.0, s)
            h += [a, b]
        return np.array(h) / 2.0  # the interpolator has gain 2 (zero stuffing)
    h = np.zeros(2 * L)
    for k in range(2):  # impulse at an even / odd high-rate position: the two polyphase components
        s = (0.0,) * nst_down
        x = np.zeros(2 * L + 2)
        x[1 + k] = 1.0
        for i in range(L):
            y, s = down(x[2 * i], x[2 * i + 1], s)
            if 2 * i - k >= 0:
                h[2 * i - k] = 0.5 * y  # the kernel applies the decimators' 1/2 after them
    return h


@pytest.mark.parametrize("stage,which", [(1, "up"), (1, "down"), (2, "up"), (2, "down")])
def test_kernel_halfbands_match_design(stage, which):
    h = _impulse_through(stage, which)
    assert np.max(np.abs(h[-16:])) < 1e-9  # decayed
    f = np.linspace(0, 0.5, 2049)
    got = np.abs(np.fft.rfft(h, 4096))
    want = np.abs(halfband_response(C1 if stage == 1 else C2, f))
    np.testing.assert_allclose(got, want, atol=1e-9)


def test_fast_tanh_accuracy():
    xs = np.linspace(-20, 20, 40001)
    err = np.max(np.abs(np.array([fast_tanh(v) for v in xs]) - np.tanh(xs)))
    assert err < 1e-4


def test_latency_and_small_signal_transparency():
    imp = np.zeros(512)
    imp[0] = 1e-4
    y = run_kernel(NT, imp, SR, drive_db=0.0, shape="tanh", tone_hz=20000.0, output_db=0.0)[:, 0]
    # IIR half-bands: the reported latency is the rounded low-frequency group delay; the (not
    # symmetric) impulse response peaks at most one sample after it
    lat = NT.latency({}, SR)
    assert lat == round(GROUP_DELAY)
    assert 0 <= int(np.argmax(np.abs(y))) - lat <= 1
    # measured: phase delay at 500 Hz, less the DC blocker's and the tone filter's (computed)
    f = 500.0
    t = np.arange(9600)
    x = 1e-3 * np.sin(2 * np.pi * f * t / SR)
    y = run_kernel(NT, x, SR, drive_db=0.0, shape="hard", tone_hz=20000.0, output_db=0.0)[:, 0]
    ref = np.exp(-2j * np.pi * f * t[4800:] / SR)
    ph = np.angle(np.sum(y[4800:] * ref) / np.sum(x[4800:] * ref))
    b0, b1, b2, a1, a2 = biquad_coefs(0.0, 20000.0, 0.7071067811865476, 0.0, SR)
    r = np.exp(-2 * np.pi * 10.0 / SR)
    _, h = signal.freqz([b0, b1, b2], [1.0, a1, a2], worN=[f], fs=SR)
    _, hdc = signal.freqz([1.0, -1.0], [1.0, -r], worN=[f], fs=SR)
    ph -= np.angle(h[0] * hdc[0])
    delay = -ph / (2 * np.pi * f) * SR
    print(f"latency {lat}, half-band chain delay at {f:g} Hz {delay:.3f} (design {GROUP_DELAY:.3f})")
    assert abs(delay - GROUP_DELAY) < 0.01
    assert abs(delay - lat) < 0.5
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


@pytest.mark.parametrize("shape", ["tanh", "fold", "asym"])
def test_mono_shortcut_is_the_same_as_both_channels(shape):
    """A mono source runs one channel and copies it: the left output never depends on that, and a
    channel that parts from the other later carries on from exactly the memories it would have had."""
    rng = np.random.default_rng(7)
    x = rng.uniform(-0.5, 0.5, 20000)
    x2 = x.copy()
    x2[5003:] = rng.uniform(-0.5, 0.5, 20000 - 5003)  # the right channel parts mid-block
    vals = {"shape": shape, "drive_db": 30.0, "tone_hz": 5000.0}
    mono = run_kernel(NT, np.stack([x, x], 1), SR, block=128, **vals)
    parted = run_kernel(NT, np.stack([x, x2], 1), SR, block=128, **vals)
    swapped = run_kernel(NT, np.stack([x2, x], 1), SR, block=128, **vals)
    np.testing.assert_array_equal(mono[:, 0], mono[:, 1])
    np.testing.assert_array_equal(parted[:, 0], mono[:, 0])
    np.testing.assert_array_equal(parted[:, 1], swapped[:, 0])
    assert np.max(np.abs(parted[6000:, 1] - parted[6000:, 0])) > 0.1
