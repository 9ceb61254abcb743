"""Helpers for synth tests: an offline engine with one synth, and measurements (frequency, envelope)."""

from __future__ import annotations

import numpy as np
from scipy.signal import hilbert

SR = 48000


def synth_engine(values: dict | None = None, table=None, block: int = 128, sr: int = SR, synth_id: str = "synth"):
    """An offline engine whose only source is a synth with ``values`` and tuning ``table`` (Hz, 128)."""
    from livehost.engine.engine import Engine

    if table is None:
        table = 440.0 * 2.0 ** ((np.arange(128) - 69) / 12.0)
    eng = Engine(sr, block, 0, 2, heap_slots=1 << 20)
    eng.build("none", [("synth", synth_id, dict(values or {}), np.asarray(table, float), None)], [], {})
    return eng


CLEAN = {"wave": "sine", "filter": "off", "attack_ms": 1.0, "decay_ms": 0.0, "sustain": 1.0,
         "release_ms": 1.0, "vel_sens": 0.0, "pressure_amp_db": 0.0, "output_db": -6.0}
"""Synth values for measurement: a plain sine at constant level."""


def fit_freq(y: np.ndarray, sr: float = SR, guess: float | None = None) -> float:
    """Frequency (Hz) of the single sinusoid in ``y``: zero-padded FFT peak, then Gauss-Newton least
    squares on ``a cos(wt) + b sin(wt) + c`` (exact for a clean sine, ~1e-6 cent)."""
    y = np.asarray(y, np.float64)
    n = len(y)
    t = np.arange(n) / sr
    if guess is None:
        nfft = 1 << int(np.ceil(np.log2(n * 8)))
        spec = np.abs(np.fft.rfft(y * np.hanning(n), nfft))
        spec[0] = 0.0
        k = int(np.argmax(spec))
        a, b, c = np.log(spec[k - 1:k + 2] + 1e-30)
        d = 0.5 * (a - c) / (a - 2 * b + c)
        guess = (k + d) * sr / nfft
    w = 2 * np.pi * guess
    for _ in range(8):
        cs, sn = np.cos(w * t), np.sin(w * t)
        coef, *_ = np.linalg.lstsq(np.stack([cs, sn, np.ones(n)], 1), y, rcond=None)
        ca, sb, _c = coef
        r = y - (ca * cs + sb * sn + _c)
        jw = t * (-ca * sn + sb * cs)
        dw = np.dot(jw, r) / np.dot(jw, jw)
        w += dw
        if abs(dw) < 1e-12 * w:
            break
    return w / (2 * np.pi)


def cents(f: float, ref: float) -> float:
    """Interval from ``ref`` to ``f`` in cents."""
    return 1200.0 * np.log2(f / ref)


def envelope(y: np.ndarray) -> np.ndarray:
    """Amplitude envelope (magnitude of the analytic signal) of a mono signal."""
    return np.abs(hilbert(np.asarray(y, np.float64)))


def max_click(y: np.ndarray, bound: float, skip: int = 0) -> float:
    """Largest second difference of ``y`` relative to ``bound`` (the largest second difference the clean
    signal can have, e.g. ``sum(A_i * (2 pi f_i / sr)**2)`` for a sum of sines)."""
    d2 = np.abs(np.diff(np.asarray(y[skip:], np.float64), 2)).max()
    return d2 / bound


def play_sequence(eng, notes, on_frames: int, gap_frames: int, vel: int = 100, start: int = 0):
    """Queue notes one after the other (note-on at ``start + i*(on+gap)``, note-off ``on`` frames later);
    returns the note-on frames."""
    frames = []
    f = start
    for n in notes:
        eng.send_midi(0x90, int(n), vel, frame=f)
        eng.send_midi(0x80, int(n), 0, frame=f + on_frames)
        frames.append(f)
        f += on_frames + gap_frames
    return frames
