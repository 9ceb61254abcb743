"""Band-limited oscillator tables for the synth (built off the audio thread).

Saw, square and triangle are read from *mip-mapped additive tables*: level ``j`` holds exactly the
first ``K_j`` harmonics of the waveform (Fourier series, computed with an inverse FFT, so the table
is band-limited by construction).  The synth picks, for a note of frequency ``f0``, the levels whose
highest harmonic stays below ``FHI_FRACTION * sr`` (0.45 sr: 21.6 kHz at 48 kHz) and crossfades two
neighbouring levels so that harmonics fade in and out smoothly while the pitch moves.  No harmonic
above Nyquist is ever produced; what remains is the linear-interpolation error of the table read,
which lands at least ~75 dB below the fundamental (see ``tests/synth``).

Waveforms (phase ``p`` in cycles, all start at value 0 on phase 0 except the square):

- saw: rising ramp, ``(2/pi) sum (-1)^(k+1) sin(2 pi k p) / k`` (zero crossing at p = 0, jump at p = 0.5)
- square: ``(4/pi) sum_{k odd} sin(2 pi k p) / k``
- triangle: ``(8/pi^2) sum_{k odd} (-1)^((k-1)/2) sin(2 pi k p) / k^2``
"""

from __future__ import annotations

import math

import numpy as np

TAB_N = 2048
"""Samples per table period (a power of two)."""
TAB_W = TAB_N + 1
"""Stored samples per table: one guard sample (= sample 0) for linear interpolation."""
LUT_N = 1024
"""Entries of the harmonic-count -> level lookup (``floor(fhi / f0)`` clipped to ``LUT_N - 1``)."""
FHI_FRACTION = 0.45
"""Highest harmonic allowed, as a fraction of the sample rate."""
N_WAVES = 3
"""Table families: 0 saw, 1 square, 2 triangle."""


def harmonic_levels(max_k: int = 512, ratio: float = 1.19) -> np.ndarray:
    """Harmonic counts of the mip levels: 1..8, then growing by ``ratio`` (dimensionless) to ``max_k``."""
    ks = list(range(1, 9))
    while ks[-1] < max_k:
        ks.append(min(max_k, max(ks[-1] + 1, int(ks[-1] * ratio))))
    return np.array(ks, np.int64)


K_LEVELS = harmonic_levels()
N_LEVELS = len(K_LEVELS)


def harmonic_amplitudes(wave: int, k: np.ndarray) -> np.ndarray:
    """Sine amplitudes (linear) of harmonics ``k`` (1-based) of table family ``wave`` (0 saw, 1 square, 2 tri)."""
    k = np.asarray(k, np.float64)
    if wave == 0:
        return (2.0 / math.pi) * np.where(k.astype(np.int64) % 2 == 1, 1.0, -1.0) / k
    odd = k.astype(np.int64) % 2 == 1
    if wave == 1:
        return np.where(odd, (4.0 / math.pi) / k, 0.0)
    sign = np.where(((k.astype(np.int64) - 1) // 2) % 2 == 0, 1.0, -1.0)
    return np.where(odd, (8.0 / math.pi ** 2) * sign / (k * k), 0.0)


def band_limited_table(wave: int, kmax: int, n: int = TAB_N) -> np.ndarray:
    """One period (``n`` samples + 1 guard sample) of family ``wave`` with harmonics 1..``kmax`` only."""
    spec = np.zeros(n // 2 + 1, np.complex128)
    k = np.arange(1, kmax + 1)
    spec[1:kmax + 1] = -0.5j * n * harmonic_amplitudes(wave, k)
    x = np.fft.irfft(spec, n)
    return np.concatenate([x, x[:1]])


def build_tables() -> np.ndarray:
    """All tables, shape ``(N_WAVES, N_LEVELS, TAB_W)`` float64."""
    out = np.empty((N_WAVES, N_LEVELS, TAB_W), np.float64)
    for w in range(N_WAVES):
        for j, k in enumerate(K_LEVELS):
            out[w, j] = band_limited_table(w, int(k))
    return out


def level_lut() -> np.ndarray:
    """``lut[x]`` = index of the largest level with ``K_j <= max(x, 1)``, for x in 0..LUT_N-1."""
    x = np.maximum(np.arange(LUT_N), 1)
    return (np.searchsorted(K_LEVELS, x, side="right") - 1).astype(np.float64)


_CACHE: dict[str, np.ndarray] = {}


def cached_tables() -> np.ndarray:
    """:func:`build_tables`, computed once per process."""
    if "t" not in _CACHE:
        _CACHE["t"] = build_tables()
    return _CACHE["t"]
