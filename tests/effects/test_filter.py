"""filter node: cookbook coefficients, kernel response vs scipy.signal.freqz, sweeps, robustness."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from scipy import signal

from livehost.dsp.biquad import MODES, biquad_coefficients
from livehost.dsp.run import new_state, param_vector, run_kernel
from livehost.nodes import load_all

SR = 48000.0
NT = load_all()["filter"]


def _db(h):
    return 20 * np.log10(np.abs(h))


def _resp_db(b, a, f, sr=SR):
    return _db(signal.freqz(b, a, worN=np.atleast_1d(np.asarray(f, float)), fs=sr)[1])


def run_ramp(nt, x, sr, v0, v1, block=128):
    """Run nt over mono x: parameters ramp block by block from v0 to v1 over the first half, then
    hold v1 (choices switch at the middle).  Returns (n, 2)."""
    p0, p1 = param_vector(nt, v0), param_vector(nt, v1)
    st = new_state(nt, sr, block)
    buf = np.zeros((2, block))
    y = np.empty((len(x), 2))
    nb = -(-len(x) // block)
    half = max(1, nb // 2)
    prev = p0.copy()
    for b in range(nb):
        t = min(1.0, (b + 1) / half)
        cur = p0 + (p1 - p0) * t
        for i, p in enumerate(nt.params):
            if p.kind != "float":
                cur[i] = p0[i] if t < 0.5 else p1[i]
        s, n = b * block, min(block, len(x) - b * block)
        buf[0, :n] = x[s:s + n]
        buf[1, :n] = -x[s:s + n]
        nt.kernel(prev, cur, st, buf, n, float(sr))
        y[s:s + n] = buf[:, :n].T
        prev = cur
    return y


def param_values(nt):
    """Hypothesis strategy: a dict of in-range values for every parameter of nt."""
    d = {}
    for p in nt.params:
        if p.kind == "choice":
            d[p.name] = hs.sampled_from(p.choices)
        elif p.kind == "bool":
            d[p.name] = hs.booleans()
        else:
            d[p.name] = hs.floats(p.lo, p.hi, allow_nan=False, allow_infinity=False)
    return hs.fixed_dictionaries(d)


# --- the coefficients against the cookbook's defining points -------------------------------

@pytest.mark.parametrize("f0", [50.0, 1000.0, 12000.0])
def test_cookbook_points(f0):
    nyq = SR / 2 * 0.99999
    b, a = biquad_coefficients("lowpass", f0, 0.7071067811865476, 0, SR)
    assert _resp_db(b, a, f0)[0] == pytest.approx(-3.0103, abs=1e-3)
    assert _resp_db(b, a, 1e-3)[0] == pytest.approx(0.0, abs=1e-6)
    b, a = biquad_coefficients("highpass", f0, 0.7071067811865476, 0, SR)
    assert _resp_db(b, a, f0)[0] == pytest.approx(-3.0103, abs=1e-3)
    assert _resp_db(b, a, nyq)[0] == pytest.approx(0.0, abs=1e-4)
    for q in (0.5, 2.0, 10.0):  # resonant lowpass: |H(f0)| = Q
        b, a = biquad_coefficients("lowpass", f0, q, 0, SR)
        assert _resp_db(b, a, f0)[0] == pytest.approx(20 * np.log10(q), abs=1e-3)
        b, a = biquad_coefficients("bandpass", f0, q, 0, SR)
        assert _resp_db(b, a, f0)[0] == pytest.approx(0.0, abs=1e-6)
        b, a = biquad_coefficients("notch", f0, q, 0, SR)
        assert _resp_db(b, a, f0)[0] < -100
        for g in (-18.0, 6.0, 24.0):
            b, a = biquad_coefficients("peak", f0, q, g, SR)
            assert _resp_db(b, a, f0)[0] == pytest.approx(g, abs=1e-6)
            assert _resp_db(b, a, 1e-3)[0] == pytest.approx(0.0, abs=1e-3)
    for g in (-24.0, -6.0, 12.0):
        b, a = biquad_coefficients("lowshelf", f0, 0.7071067811865476, g, SR)
        assert _resp_db(b, a, 1e-3)[0] == pytest.approx(g, abs=1e-4)
        assert _resp_db(b, a, f0)[0] == pytest.approx(g / 2, abs=1e-6)
        assert _resp_db(b, a, nyq)[0] == pytest.approx(0.0, abs=1e-3)
        b, a = biquad_coefficients("highshelf", f0, 0.7071067811865476, g, SR)
        assert _resp_db(b, a, nyq)[0] == pytest.approx(g, abs=1e-3)
        assert _resp_db(b, a, f0)[0] == pytest.approx(g / 2, abs=1e-6)
        assert _resp_db(b, a, 1e-3)[0] == pytest.approx(0.0, abs=1e-4)


def test_explicit_cookbook_lowpass_values():
    # hand-computed: f0 = sr/4 -> w0 = pi/2, cos = 0, sin = 1, alpha = 1/(2Q) with Q = 1
    b, a = biquad_coefficients("lowpass", SR / 4, 1.0, 0.0, SR)
    np.testing.assert_allclose(b, [0.5 / 1.5, 1 / 1.5, 0.5 / 1.5], atol=1e-12)
    np.testing.assert_allclose(a, [1.0, 0.0, 0.5 / 1.5], atol=1e-12)


# --- the kernel's impulse response against freqz of the same coefficients ------------------

COMBOS = [(60.0, 0.5, -12.0), (1000.0, 0.7071, 6.0), (5000.0, 4.0, 12.0), (12000.0, 18.0, -24.0),
          (19000.0, 1.0, 9.0)]


@pytest.mark.parametrize("sr", [44100.0, 48000.0])
@pytest.mark.parametrize("mode", MODES)
def test_kernel_matches_freqz(mode, sr):
    n = 1 << 15
    imp = np.zeros(n)
    imp[0] = 1.0
    worst = 0.0
    for f0, q, g in COMBOS:
        y = run_kernel(NT, imp, sr, mode=mode, freq_hz=f0, q=q, gain_db=g)
        np.testing.assert_array_equal(y[:, 0], y[:, 1])
        hk = np.fft.rfft(y[:, 0])
        b, a = biquad_coefficients(mode, f0, q, g, sr)
        _, hr = signal.freqz(b, a, worN=np.fft.rfftfreq(n, 1 / sr), fs=sr)
        ok = np.abs(hr) > 1e-3  # skip the bottom of notches (-60 dB and below)
        err = np.max(np.abs(_db(hk[ok]) - _db(hr[ok])))
        worst = max(worst, err)
    print(f"{mode} @ {sr:g}: max |kernel - freqz| = {worst:.2e} dB")
    assert worst < 0.01


def test_sweep_tracks_per_sample_reference():
    """A 200 Hz -> 5 kHz sweep (resonant lowpass) with the engine's per-block pp/pc ramps is close to
    a reference that recomputes coefficients every sample (no zipper); a per-block step is not."""
    sr, block, nb = SR, 128, 120
    rng = np.random.default_rng(1)
    x = rng.standard_normal(block * nb) * 0.3
    f = 200.0 * (5000.0 / 200.0) ** (np.arange(nb + 1) / nb)  # block-boundary values
    pv = lambda fr: param_vector(NT, dict(mode="lowpass", freq_hz=fr, q=4.0))  # noqa: E731

    def run(stepped):
        st = new_state(NT, sr, block)
        buf = np.zeros((2, block))
        out = np.empty(len(x))
        for b in range(nb):
            buf[0] = buf[1] = x[b * block:(b + 1) * block]
            p0, p1 = pv(f[b]), pv(f[b + 1])
            NT.kernel(p1 if stepped else p0, p1, st, buf, block, sr)
            out[b * block:(b + 1) * block] = buf[0]
        return out

    # reference: per-sample log-interpolated frequency, direct TDF-II in Python
    ref = np.empty(len(x))
    z1 = z2 = 0.0
    for i in range(len(x)):
        b, k = divmod(i, block)
        fr = f[b] * (f[b + 1] / f[b]) ** ((k + 1) / block)
        (b0, b1, b2), (_, a1, a2) = biquad_coefficients("lowpass", fr, 4.0, 0.0, sr)
        y = b0 * x[i] + z1
        z1 = b1 * x[i] - a1 * y + z2
        z2 = b2 * x[i] - a2 * y
        ref[i] = y
    err = lambda o: 10 * np.log10(np.mean((o - ref) ** 2) / np.mean(ref ** 2))  # noqa: E731
    smooth, stepped = err(run(False)), err(run(True))
    print(f"sweep error vs per-sample reference: {smooth:.1f} dB (per-block steps: {stepped:.1f} dB)")
    assert smooth < -36.0
    assert stepped > smooth + 12.0


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(v0=param_values(NT), v1=param_values(NT), seed=hs.integers(0, 2**16))
def test_bounded_for_any_parameters(v0, v1, seed):
    x = np.random.default_rng(seed).uniform(-1, 1, 4096)
    y = run_ramp(NT, x, SR, v0, v1)
    assert np.all(np.isfinite(y))
    assert np.max(np.abs(y)) < 1e3
    # and it settles: the tail after the input stops decays
    y2 = run_ramp(NT, np.concatenate([x, np.zeros(3 * 48000)]), SR, v0, v1)
    assert np.max(np.abs(y2[-1024:])) < 1e-3 * max(1.0, np.max(np.abs(y2)))
