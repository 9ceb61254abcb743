"""pitch_shift kernel against ground truth: sine frequency (long FFT), pitch track of a real / synthetic
recording (autocorrelation), reported latency (impulse position), boundedness (hypothesis)."""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from scipy.signal import lfilter

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
    """Random parameters and modes changing every block (ramped pp -> pc), random-ish input: finite,
    |y| <= 4 max|x|."""
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
        cur = param_vector(NT, {"semitones": float(rng.uniform(-24, 24)), "cents": float(rng.uniform(-100, 100)),
                                "mode": MODE_NAMES[int(rng.integers(0, 2))]})
        buf[:, :m] = x[:, s:s + m]
        NT.kernel(prev, cur, st, buf, m, sr)
        assert np.all(np.isfinite(buf[:, :m]))
        peak = max(peak, np.abs(buf[:, :m]).max())
        prev = cur
    assert peak <= 4 * 0.5


# ---- ratio 1 is an exact delay; the live mode -------------------------------------------------------

MODE_NAMES = ("quality", "live")


def glottal_vowel(f0, seconds, sr, formants=((730.0, 90.0), (1090.0, 110.0), (2440.0, 170.0))):
    """A held synthetic /a/ (peak 0.5): Rosenberg glottal pulses at ``f0`` Hz (open phase 40 %, closing
    16 % of the period), differentiated (the radiated excitation), through two-pole formant resonators
    (centre Hz, bandwidth Hz)."""
    n = int(seconds * sr)
    ph = (f0 * np.arange(n) / sr) % 1.0
    op, cl = 0.4, 0.16
    g = np.where(ph < op, 0.5 * (1 - np.cos(np.pi * ph / op)),
                 np.where(ph < op + cl, np.cos(0.5 * np.pi * (ph - op) / cl), 0.0))
    y = np.diff(g, prepend=0.0)
    for fc, bw in formants:
        r = np.exp(-np.pi * bw / sr)
        y = lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * fc / sr), r * r], y)
    return 0.5 * y / np.abs(y).max()


def log_sweep(f0, f1, seconds, sr, amp=0.5):
    """A sine gliding exponentially from ``f0`` to ``f1`` Hz over ``seconds``; peak ``amp``."""
    t = np.arange(int(seconds * sr)) / sr
    f = f0 * (f1 / f0) ** (t / seconds)
    return amp * np.sin(2 * np.pi * np.cumsum(f) / sr)


def _render(eng, x, on_block=None):
    from livehost.engine.drivers.offline import render
    xs = np.ascontiguousarray(np.stack([x, x], 1) if x.ndim == 1 else x, np.float32)
    return render(eng, len(xs), xs, on_block=on_block).astype(np.float64)


def _graph_latency(eng, mode, sr=48000.0):
    """The engine's latency for a chain holding only this pitch_shift: the node's plus the master's."""
    lat = eng.latency_samples()
    assert lat - NT.latency({"mode": mode}, sr) == eng.master.type.latency(eng.master.values, sr)
    return lat


@pytest.mark.parametrize("mode", MODE_NAMES)
@pytest.mark.parametrize("semis,cents", [(0.0, 0.0), (1.0, -100.0)])
def test_ratio_one_is_the_input_delayed_by_the_declared_latency(make_engine, mode, semis, cents):
    """White noise through an Engine at 0 st (or +1 st -100 ct): output = input delayed by the node's
    declared latency (plus the master's lookahead), to 1e-5."""
    x = np.random.default_rng(7).uniform(-0.5, 0.5, (48000, 2))
    eng = make_engine([("node", "pitch_shift", "p", {"semitones": semis, "cents": cents, "mode": mode})])
    y = _render(eng, x)
    lat = _graph_latency(eng, mode)
    assert np.abs(y[:lat]).max() < 1e-5
    assert np.abs(y[lat:] - x[:-lat]).max() < 1e-5
    assert eng.stats()["nan_resets"] == 0


@pytest.mark.parametrize("mode", MODE_NAMES)
@pytest.mark.parametrize("sr", [44100.0, 96000.0])
def test_ratio_one_exact_at_other_rates(mode, sr):
    x = np.random.default_rng(3).standard_normal((int(sr * 0.3), 2)) * 0.2
    y = run_kernel(NT, x, sr, block=256, semitones=0, mode=mode)
    lat = NT.latency({"mode": mode}, sr)
    assert np.abs(y[lat:] - x[:-lat]).max() < 1e-12
    assert np.abs(y[:lat]).max() == 0.0


def test_live_latency_is_at_most_12_ms_and_the_grain_centre():
    """Declared live latency <= 12 ms at 48 kHz; at 0 st an impulse comes out exactly that late; shifted,
    the energy-weighted delay of a few hundred impulses at random times (the grains sweep the delay
    around their centre) equals it within 0.5 ms."""
    sr = 48000.0
    lat = NT.latency({"mode": "live"}, sr)
    assert lat <= 0.012 * sr
    assert NT.latency({"mode": 1.0}, sr) == lat and NT.latency({}, sr) == n_fft_for(sr)
    x = np.zeros(4000)
    x[1234] = 1.0
    y = run_kernel(NT, x, sr, block=128, semitones=0, mode="live")[:, 0]
    assert int(np.argmax(np.abs(y))) == 1234 + lat and np.abs(y).max() == 1.0
    rng = np.random.default_rng(11)
    gap = 2 * lat + 300
    pos = np.cumsum(rng.integers(gap, gap + 700, 400)) + 1000
    x = np.zeros(pos[-1] + 2 * gap)
    x[pos] = 1.0
    for st in (-12, -5, 3, 7, 12):
        y = run_kernel(NT, x, sr, block=128, semitones=st, mode="live")[:, 0]
        k = np.arange(gap)
        e = np.stack([y[p:p + gap] ** 2 for p in pos])
        delay = float((e * k).sum() / e.sum())
        assert abs(delay - lat) <= 0.0005 * sr, (st, delay, lat)
        # every impulse that comes out at all comes out within the grain's delay window (< 2 x latency)
        assert np.all(e[:, 2 * lat:].sum(axis=1) <= 1e-6 * e.sum(axis=1) + 1e-12)


def _live_cents(x, sr, st, skip_s=0.05):
    """Pitch error (cents) per voiced frame of the live mode's output against ``st`` semitones above
    the input's own autocorrelation pitch (frames in the first ``skip_s`` seconds, the onset, left out)."""
    y = run_kernel(NT, x, sr, block=128, semitones=st, mode="live")[:, 0]
    lat = NT.latency({"mode": "live"}, sr)
    fi, ci = pitch_track(x, sr)
    fo, co = pitch_track(y[lat:], sr, fmax=2000.0)
    m = min(len(fi), len(fo))
    ok = (ci[:m] > 0.9) & (co[:m] > 0.8)
    ok[: int(np.ceil(skip_s * sr / 512))] = False
    assert ok.sum() >= 50, "too few voiced frames to compare"
    return 1200 * np.log2(fo[:m][ok] / fi[:m][ok]) - 100 * st


@pytest.mark.parametrize("f0", [150.0, 220.0])
@pytest.mark.parametrize("st", [-12, -5, 3, 7, 12])
def test_live_pitch_within_5_cents_on_a_held_vowel(f0, st):
    sr = 48000.0
    d = _live_cents(glottal_vowel(f0, 2.0, sr), sr, st)
    assert np.abs(d).max() <= 5.0, (np.median(d), np.abs(d).max())


@pytest.mark.parametrize("f0,f1", [(200.0, 400.0), (400.0, 200.0)])
@pytest.mark.parametrize("st", [-12, -5, 3, 7, 12])
def test_live_pitch_within_5_cents_on_a_sweep(f0, f1, st):
    """A quarter-octave-per-second glide: each frame's pitch is the input's, ``st`` semitones up."""
    sr = 48000.0
    d = _live_cents(log_sweep(f0, f1, 4.0, sr), sr, st)
    assert np.abs(d).max() <= 5.0, (np.median(d), np.abs(d).max())


SINE_HZ, SINE_AMP = 220.0, 0.4


def _step_bound(f_max, y):
    """Largest sample-to-sample step of a signal whose components lie at or below ``f_max`` Hz with peak
    ``max|y|`` (Bernstein: |y'| <= 2 pi f_max max|y|), at 48 kHz, plus 5 %."""
    return 1.05 * 2 * np.pi * f_max / 48000.0 * np.abs(y).max()


def _render_with(make_engine, values, events, x):
    eng = make_engine([("node", "pitch_shift", "p", values)])
    by_block = {}
    for k, name, v in events:
        by_block.setdefault(k, []).append((name, v))

    def on_block(k):
        for name, v in by_block.get(k, ()):
            eng.set_param("p", name, v)

    return eng, _render(eng, x, on_block)[:, 0]


@pytest.mark.parametrize("mode", MODE_NAMES)
def test_leaving_and_returning_to_ratio_one_crossfades(make_engine, mode):
    """0 st -> +7 st -> 0 st while a sine plays: no step beyond the bound of a 330 Hz signal (a click
    would be one), no NaN reset, and once the ratio is back at 1 the output is the exact delay again."""
    x = log_sweep(SINE_HZ, SINE_HZ, 2.5, 48000.0, SINE_AMP)
    eng, y = _render_with(make_engine, {"semitones": 0.0, "mode": mode},
                          [(100, "semitones", 7.0), (400, "semitones", 0.0)], x)
    assert np.all(np.isfinite(y)) and eng.stats()["nan_resets"] == 0
    assert np.abs(np.diff(y)).max() <= _step_bound(SINE_HZ * 2 ** (7 / 12), y)
    lat = eng.latency_samples()
    t = 96000  # 1.2 s after the return to 0 st: the 50 ms smoothing has snapped, the 10 ms fade is over
    assert np.abs(y[t:] - x[t - lat:len(x) - lat]).max() < 1e-5
    shifted = y[int(0.5 * 48000):int(1.0 * 48000)]
    assert abs(peak_hz(shifted, 48000.0) - SINE_HZ * 2 ** (7 / 12)) < 1.0  # it did shift in between


def test_mode_switch_while_playing_crossfades(make_engine):
    """+7 st on a sine: quality -> live -> quality, then a toggle two blocks apart: output finite, no NaN
    reset, no step beyond a 330 Hz signal's bound -- where cutting from one mode's output to the other
    (they lag each other by the difference of their latencies) would jump by many times that bound."""
    sr = 48000.0
    x = log_sweep(SINE_HZ, SINE_HZ, 3.0, sr, SINE_AMP)
    events = [(100, "mode", "live"), (400, "mode", "quality"), (700, "mode", "live"), (702, "mode", "quality")]
    eng, y = _render_with(make_engine, {"semitones": 7.0, "mode": "quality"}, events, x)
    assert np.all(np.isfinite(y)) and eng.stats()["nan_resets"] == 0
    bound = _step_bound(SINE_HZ * 2 ** (7 / 12), y)
    assert np.abs(np.diff(y)).max() <= bound
    _graph_latency(eng, "quality")  # the latency reported is the mode in force's
    # the two modes' outputs where the switches happen: a cut between them would click
    _, yq = _render_with(make_engine, {"semitones": 7.0, "mode": "quality"}, [], x)
    _, yl = _render_with(make_engine, {"semitones": 7.0, "mode": "live"}, [], x)
    for k in (100, 400):
        s = slice(k * 128, k * 128 + 2048)
        assert np.abs(yq[s] - yl[s]).max() > 10 * bound


def test_mode_switch_at_ratio_one_crossfades_between_exact_delays(make_engine):
    """At 0 st both modes are exact delays (of 2048 and 480 samples): switching crossfades between them
    without a step, and each settles to its exact delay."""
    sr = 48000.0
    x = log_sweep(SINE_HZ, SINE_HZ, 2.0, sr, SINE_AMP)
    eng, y = _render_with(make_engine, {"semitones": 0.0, "mode": "quality"}, [(100, "mode", "live")], x)
    assert np.all(np.isfinite(y)) and eng.stats()["nan_resets"] == 0
    assert np.abs(np.diff(y)).max() <= _step_bound(SINE_HZ, y)
    lat = eng.latency_samples()
    assert lat == _graph_latency(eng, "live")
    t = 100 * 128 + 2048  # the 20 ms mode fade is long over
    assert np.abs(y[t:] - x[t - lat:len(x) - lat]).max() < 1e-5


@pytest.mark.parametrize("st", [-12, 7])
def test_live_recording_pitch_track_shifts(st):
    """A real recording (music21's melody, 44.1 kHz): the voiced frames of the live mode's output are
    ``st`` semitones above the input's, 5 cents at the median and for 80 % of the frames."""
    rec = _music21_recording()
    if rec is None:
        pytest.skip("music21's test_audio.wav is not installed")
    sr, x = rec
    y = run_kernel(NT, x, sr, block=512, semitones=st, mode="live")[:, 0]
    lat = NT.latency({"mode": "live"}, sr)
    fi, ci = pitch_track(x, sr)
    fo, co = pitch_track(y[lat:], sr, fmax=2000.0)
    m = min(len(fi), len(fo))
    ok = (ci[:m] > 0.9) & (co[:m] > 0.8)
    assert ok.sum() >= 100
    d = 1200 * np.log2(fo[:m][ok] / fi[:m][ok]) - 100 * st
    assert abs(np.median(d)) <= 5.0 and np.percentile(np.abs(d), 80) <= 5.0
