"""pitch_shift kernel against ground truth: sine frequency (long FFT), pitch track of a real / synthetic
recording (autocorrelation), reported latency (impulse position), boundedness (hypothesis)."""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from livehost.dsp.pitch_shift import n_fft_for
from livehost.dsp.run import new_state, param_vector, run_kernel
from livehost.nodes import load_all

NT = load_all()["pitch_shift"]


def peak_hz(y, sr):
    """Frequency (Hz) of the strongest component: Hann, 8x zero padding, parabolic on log magnitude."""
    pad = 8 * len(y)
    mag = np.abs(np.fft.rfft(y * np.hanning(len(y)), pad))
    i = int(np.argmax(mag))
    a, b, c = np.log(mag[i - 1:i + 2])
    return (i + 0.5 * (a - c) / (a - 2 * b + c)) * sr / pad


def pitch_track(x, sr, frame=2048, hop=512, fmin=70.0, fmax=1000.0):
    """Autocorrelation pitch (Hz) per frame and its clarity (normalised autocorrelation peak, 0..1)."""
    lo, hi = int(sr / fmax), int(sr / fmin)
    f0, cl = [], []
    nfft = 1 << int(np.ceil(np.log2(2 * frame + hi + 2)))
    for s in range(0, len(x) - frame - hi - 2, hop):
        a = x[s:s + frame + hi + 2]
        seg = a[:frame]
        e0 = np.dot(seg, seg) + 1e-12
        xc = np.fft.irfft(np.fft.rfft(a, nfft) * np.conj(np.fft.rfft(seg, nfft)), nfft)
        c2 = np.concatenate([[0.0], np.cumsum(a * a)])
        ks = np.arange(lo - 1, hi + 2)
        r = xc[ks] / np.sqrt(e0 * (c2[ks + frame] - c2[ks] + 1e-12))
        k = int(np.argmax(r[1:-1])) + 1
        # first peak within 90 % of the best avoids octave errors
        for j in range(1, len(r) - 1):
            if r[j] >= 0.9 * r[k] and r[j] >= r[j - 1] and r[j] >= r[j + 1]:
                k = j
                break
        y0, y1, y2 = r[k - 1], r[k], r[k + 1]
        d = 0.5 * (y0 - y2) / (y0 - 2 * y1 + y2) if (y0 - 2 * y1 + y2) != 0 else 0.0
        f0.append(sr / (lo - 1 + k + d))
        cl.append(y1)
    return np.array(f0), np.array(cl)


@pytest.mark.parametrize("sr,f,st,ct", [(48000.0, 440.0, 7, 0), (48000.0, 220.0, -12, 0), (44100.0, 1000.0, 5, 30),
                                        (96000.0, 330.0, 7, 0), (48000.0, 440.0, -24, 0)])
def test_sine_shift_within_one_cent(sr, f, st, ct):
    t = np.arange(int(sr * 1.5)) / sr
    x = 0.5 * np.sin(2 * np.pi * f * t)
    y = run_kernel(NT, x, sr, block=256, semitones=st, cents=ct)
    lat = NT.latency({}, sr)
    target = f * 2 ** ((st + ct / 100) / 12)
    for ch in range(2):
        got = peak_hz(y[lat + 2048:, ch], sr)
        assert abs(1200 * np.log2(got / target)) < 1.0, (got, target)
    # level kept (within 2.5 dB)
    rms = np.sqrt(np.mean(y[lat + 2048:, 0] ** 2))
    assert 0.75 < rms / (0.5 / np.sqrt(2)) < 1.33


def _vibrato_tone(sr, dur=2.0, f0=196.0):
    t = np.arange(int(sr * dur)) / sr
    inst = f0 * (1 + 0.02 * np.sin(2 * np.pi * 5.0 * t))
    ph = 2 * np.pi * np.cumsum(inst) / sr
    return sum((0.6 / k) * np.sin(k * ph) for k in range(1, 8))


def _music21_recording():
    spec = importlib.util.find_spec("music21")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(list(spec.submodule_search_locations)[0], "audioSearch", "test_audio.wav")
    if not os.path.exists(path):
        return None
    from scipy.io import wavfile
    sr, x = wavfile.read(path)
    x = x.astype(np.float64)
    if x.ndim > 1:
        x = x.mean(axis=1)
    return float(sr), x[: int(sr * 6)] / (np.abs(x).max() + 1e-12)


def _track_shift_cents(x, sr, st):
    y = run_kernel(NT, x, sr, block=512, semitones=st)[:, 0]
    lat = NT.latency({}, sr)
    y = y[lat:]
    fi, ci = pitch_track(x, sr)
    fo, co = pitch_track(y, sr, fmax=2000.0)
    m = min(len(fi), len(fo))
    ok = (ci[:m] > 0.9) & (co[:m] > 0.8)
    assert ok.sum() >= 10, "too few voiced frames to compare"
    return 1200 * np.log2(fo[:m][ok] / fi[:m][ok])


@pytest.mark.parametrize("st", [5, -7])
def test_vibrato_tone_pitch_track_shifts(st):
    sr = 48000.0
    d = _track_shift_cents(_vibrato_tone(sr), sr, st)
    assert abs(np.median(d) - 100 * st) < 10.0
    assert np.percentile(np.abs(d - 100 * st), 90) < 30.0


def test_recording_pitch_track_shifts():
    rec = _music21_recording()
    if rec is None:
        pytest.skip("music21's test_audio.wav is not installed")
    sr, x = rec
    d = _track_shift_cents(x, sr, 4)
    assert abs(np.median(d) - 400) < 15.0


@pytest.mark.parametrize("sr", [44100.0, 48000.0, 96000.0])
def test_latency_is_reported_exactly(sr):
    lat = NT.latency({"semitones": 0.0}, sr)
    assert lat == n_fft_for(sr)
    x = np.zeros(lat * 4)
    x[1000] = 1.0
    y = run_kernel(NT, x, sr, block=128, semitones=0)
    assert int(np.argmax(np.abs(y[:, 0]))) == 1000 + lat
    # a shifted tone burst starts (half level) within one hop of the reported latency
    t = np.arange(lat * 6) / sr
    b = np.where(t >= 0.05, 0.5 * np.sin(2 * np.pi * 440 * t), 0.0)
    y = run_kernel(NT, b, sr, block=128, semitones=7)[:, 0]
    env = np.convolve(np.abs(y), np.ones(64) / 64, mode="same")
    onset = int(np.argmax(env > 0.5 * 0.5 * 2 / np.pi))
    assert abs(onset - (int(0.05 * sr) + lat)) <= lat // 4


@settings(max_examples=12, deadline=None)
@given(seed=hs.integers(0, 2**31 - 1), block=hs.sampled_from([32, 128, 1024]),
       sr=hs.sampled_from([44100.0, 48000.0, 96000.0]))
def test_bounded_for_any_parameters(seed, block, sr):
    """Random parameters changing every block (ramped pp -> pc), random-ish input: finite, |y| <= 4 max|x|."""
    rng = np.random.default_rng(seed)
    n = int(0.4 * sr)
    x = rng.standard_normal((2, n)) * np.linspace(0, 1, n) + np.sin(np.arange(n) * 0.05)
    x *= 0.5 / np.abs(x).max()
    st = new_state(NT, sr, block)
    buf = np.zeros((2, block))
    prev = param_vector(NT, {})
    peak = 0.0
    for s in range(0, n, block):
        m = min(block, n - s)
        cur = param_vector(NT, {"semitones": float(rng.uniform(-24, 24)), "cents": float(rng.uniform(-100, 100))})
        buf[:, :m] = x[:, s:s + m]
        NT.kernel(prev, cur, st, buf, m, sr)
        assert np.all(np.isfinite(buf[:, :m]))
        peak = max(peak, np.abs(buf[:, :m]).max())
        prev = cur
    assert peak <= 4 * 0.5
