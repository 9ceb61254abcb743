"""Oscillators: aliasing of the band-limited waves, the overtone series, noise."""

import numpy as np
import pytest

from livehost.engine.drivers.offline import render
from tests.synth.util import CLEAN, SR, synth_engine

N = 1 << 15


def bh4(n):
    """4-term Blackman-Harris window (side lobes below -92 dB)."""
    k = np.arange(n) / n * 2 * np.pi
    return 0.35875 - 0.48829 * np.cos(k) + 0.14128 * np.cos(2 * k) - 0.01168 * np.cos(3 * k)


def aliasing_db(y, f0, sr=SR, guard_hz=30.0):
    """Strongest spectral component that is not a harmonic of ``f0`` (nor DC), in dB re the fundamental."""
    spec = np.abs(np.fft.rfft(y[:N] * bh4(N)))
    freqs = np.fft.rfftfreq(N, 1 / sr)
    harm = np.zeros(len(freqs), bool)
    for k in range(0, int(sr / 2 / f0) + 1):
        harm |= np.abs(freqs - k * f0) < guard_hz
    fund = spec[np.abs(freqs - f0) < guard_hz].max()
    return 20 * np.log10(spec[~harm].max() / fund)


def harmonic_amps(y, f0, ks, sr=SR):
    """Least-squares amplitudes of the components at ``k * f0`` (exact for a steady periodic signal)."""
    y = np.asarray(y[:N], np.float64)
    t = np.arange(len(y)) / sr
    cols = [np.ones_like(t)]
    for k in ks:
        cols += [np.cos(2 * np.pi * k * f0 * t), np.sin(2 * np.pi * k * f0 * t)]
    c, *_ = np.linalg.lstsq(np.stack(cols, 1), y, rcond=None)
    return np.hypot(c[1::2], c[2::2])


def render_note(values, hz, frames=N + 4800):
    table = np.full(128, np.nan)
    table[69] = hz
    eng = synth_engine({**CLEAN, **values}, table)
    eng.send_midi(0x90, 69, 127, frame=0)
    y = render(eng, frames)[:, 0].astype(np.float64)
    return y[4800:]


def test_aliasing_metric_catches_a_naive_saw():
    t = np.arange(N + 10)
    naive = 2 * ((5000.0 * t / SR) % 1.0) - 1
    assert aliasing_db(naive, 5000.0) > -40


@pytest.mark.parametrize("wave", ["saw", "square", "triangle"])
@pytest.mark.parametrize("hz", [5000.0, 1234.5, 7777.0, 11000.0])
def test_band_limited_waves_do_not_alias(wave, hz):
    y = render_note({"wave": wave}, hz)
    a = aliasing_db(y, hz)
    assert a <= -60.0, f"{wave} at {hz} Hz: aliasing {a:.1f} dB"


def test_saw_at_5k_has_its_harmonics():
    """Band-limited, not just filtered: harmonics 2 and 3 of a 5 kHz saw at 1/k; the 4th (20 kHz, near the
    0.45 sr limit) is partly faded in; nothing else."""
    y = render_note({"wave": "saw"}, 5000.0)
    a = harmonic_amps(y, 5000.0, [1, 2, 3, 4])
    np.testing.assert_allclose(a[1:3] / a[0], [1 / 2, 1 / 3], rtol=1e-3)
    assert 0.02 < a[3] / a[0] <= 0.25 + 1e-6
    assert a[0] == pytest.approx(10 ** (-6 / 20) * 2 / np.pi, rel=1e-3)  # output_db -6, full velocity


def test_overtone_series_amplitudes_and_band_limit():
    """partials=8, rolloff 6 dB/oct: partial k at -6 dB * log2(k) and no 9th; at f0 = 5 kHz nothing
    aliases."""
    y = render_note({"wave": "partials", "partials": 8, "rolloff_db": 6.0}, 440.0)
    a = harmonic_amps(y, 440.0, range(1, 11))
    np.testing.assert_allclose(a[:8] / a[0], 10 ** (-6 * np.log2(np.arange(1, 9)) / 20), rtol=1e-4)
    assert a[8:].max() / a[0] < 1e-5
    y = render_note({"wave": "partials", "partials": 32, "rolloff_db": 0.0}, 5000.0)
    assert aliasing_db(y, 5000.0) <= -60.0


def test_rolloff_12db_per_octave():
    y = render_note({"wave": "partials", "partials": 4, "rolloff_db": 12.0}, 440.0)
    a = harmonic_amps(y, 440.0, [1, 2, 3, 4])[[0, 1, 3]]
    np.testing.assert_allclose(20 * np.log10(a / a[0]), [0, -12, -24], atol=0.01)


def test_noise_is_broadband_and_sine_is_pure():
    y = render_note({"wave": "noise"}, 440.0)
    spec = np.abs(np.fft.rfft(y[:N] * bh4(N))) ** 2
    freqs = np.fft.rfftfreq(N, 1 / SR)
    lo = spec[(freqs > 200) & (freqs < 2000)].mean()
    hi = spec[(freqs > 10000) & (freqs < 20000)].mean()
    assert 0.7 < hi / lo < 1.4  # white
    y = render_note({"wave": "sine"}, 1000.0)
    assert aliasing_db(y, 1000.0, guard_hz=30) < -100
    spec = np.abs(np.fft.rfft(y[:N] * bh4(N)))
    freqs = np.fft.rfftfreq(N, 1 / SR)
    h2 = spec[np.abs(freqs - 2000) < 30].max() / spec[np.abs(freqs - 1000) < 30].max()
    assert h2 < 1e-5


def test_lowpass_filter_attenuates_above_cutoff():
    y_open = render_note({"wave": "saw", "filter": "off"}, 220.0)
    y = render_note({"wave": "saw", "filter": "lowpass", "cutoff_hz": 1000.0, "resonance": 0.0}, 220.0)
    freqs = np.fft.rfftfreq(N, 1 / SR)

    def harm(sig, k):
        s = np.abs(np.fft.rfft(sig[:N] * bh4(N)))
        return s[np.abs(freqs - k * 220) < 20].max()

    # 2nd-order low-pass: about -12 dB/oct above the cutoff, flat well below it
    assert abs(20 * np.log10(harm(y, 1) / harm(y_open, 1))) < 0.5
    att = 20 * np.log10(harm(y, 36) / harm(y_open, 36))  # 7920 Hz: three octaves up
    assert -42 < att < -30
