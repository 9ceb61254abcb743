"""Measurements the tools print and their tests check: levels (dBFS), SNR (dB), frequency (Hz).

Levels are relative to digital full scale (a sample of +-1.0 is 0 dBFS): the peak is the largest
absolute sample, the RMS the root mean square over every sample of every channel.
"""

from __future__ import annotations

import math

import numpy as np

from livehost.tools.common import db


def peak_dbfs(x: np.ndarray) -> float:
    """Largest absolute sample of ``x`` (any shape, full scale +-1) in dBFS."""
    x = np.asarray(x, np.float64)
    return db(float(np.max(np.abs(x)))) if x.size else db(0.0)


def rms_dbfs(x: np.ndarray) -> float:
    """RMS of every sample of ``x`` (full scale +-1) in dBFS (a full-scale sine reads -3.01 dBFS)."""
    x = np.asarray(x, np.float64)
    return db(math.sqrt(float(np.mean(x * x)))) if x.size else db(0.0)


def snr_db(clean: np.ndarray, processed: np.ndarray) -> float:
    """Signal-to-noise ratio in dB of ``processed`` against ``clean``: noise = processed - clean."""
    c = np.asarray(clean, np.float64)
    e = np.asarray(processed, np.float64) - c
    pe = float(np.sum(e * e))
    ps = float(np.sum(c * c))
    if pe == 0.0:
        return math.inf
    return 10.0 * math.log10(ps / pe) if ps > 0 else -math.inf


def peak_hz(x: np.ndarray, sr: float, fmin: float = 20.0, fmax: float | None = None) -> float:
    """Frequency in Hz of the strongest spectral peak of mono ``x`` between ``fmin`` and ``fmax`` Hz.

    Blackman-Harris window, zero padding to >= 2**21 points, then a parabola through the log
    magnitudes of the three top bins: a steady sine of a second or more reads within ~0.005 Hz.
    """
    x = np.asarray(x, np.float64)
    if x.ndim > 1:
        x = x.mean(axis=1)
    n = len(x)
    if n < 16:
        raise ValueError("need at least 16 samples to measure a frequency")
    k = np.arange(n)
    w = (0.35875 - 0.48829 * np.cos(2 * np.pi * k / n) + 0.14128 * np.cos(4 * np.pi * k / n)
         - 0.01168 * np.cos(6 * np.pi * k / n))
    nfft = 1 << max(21, int(math.ceil(math.log2(4 * n))))
    mag = np.abs(np.fft.rfft((x - x.mean()) * w, nfft))
    f = np.arange(len(mag)) * sr / nfft
    fmax = sr / 2 if fmax is None else fmax
    mag[(f < fmin) | (f > fmax)] = 0.0
    i = int(np.argmax(mag))
    if 0 < i < len(mag) - 1:
        a, b, c = np.log(mag[i - 1:i + 2] + 1e-300)
        den = a - 2 * b + c
        d = 0.5 * (a - c) / den if den != 0 else 0.0
    else:
        d = 0.0
    return (i + d) * sr / nfft


def cents(f: float, ref: float) -> float:
    """Interval from ``ref`` Hz to ``f`` Hz in cents (1200 per octave)."""
    return 1200.0 * math.log2(f / ref)
