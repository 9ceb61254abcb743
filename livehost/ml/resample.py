"""Polyphase sample-rate conversion (scipy), used to bring live audio to the 22050 Hz feature rate."""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np
from scipy import signal

#: Zero crossings of the sinc kept on each side of the anti-aliasing filter (per output/input rate).
HALF_ZEROS = 16
#: Kaiser window beta of the anti-aliasing filter (about 90 dB stop-band attenuation).
KAISER_BETA = 8.6


@lru_cache(maxsize=16)
def _filter(up: int, down: int) -> np.ndarray:
    """Low-pass FIR (unity DC gain) for an ``up``/``down`` polyphase resampler; scipy scales it by ``up``."""
    m = max(up, down)
    return signal.firwin(2 * HALF_ZEROS * m + 1, 1.0 / m, window=("kaiser", KAISER_BETA))


def resample_to(y: np.ndarray, sr_in: float, sr_out: float = 22050) -> np.ndarray:
    """Resample ``y`` from ``sr_in`` Hz to ``sr_out`` Hz with a polyphase Kaiser-windowed sinc filter.

    Parameters
    ----------
    y : np.ndarray, shape (n,) or (..., n)
        Audio samples (linear amplitude, any float or int dtype); the last axis is time.
    sr_in, sr_out : float
        Input and output sampling rates in Hz (integers or exact-ratio floats such as 44100.0).

    Returns
    -------
    np.ndarray (float64), shape (..., ceil(n * sr_out / sr_in))
        The resampled signal in the same linear amplitude units, aligned at sample 0 (zero delay).
        Returns a float64 copy unchanged when the rates are equal.

    Examples
    --------
    >>> resample_to(np.zeros(48000), 48000).shape
    (22050,)
    """
    y = np.asarray(y, dtype=np.float64)
    if sr_in <= 0 or sr_out <= 0:
        raise ValueError(f"sampling rates must be positive, got {sr_in} Hz -> {sr_out} Hz")
    ratio = Fraction(sr_out).limit_denominator(10**6) / Fraction(sr_in).limit_denominator(10**6)
    up, down = ratio.numerator, ratio.denominator
    if up == down:
        return y.copy()
    if max(up, down) > 10**4:
        raise ValueError(f"rate ratio {sr_out}/{sr_in} reduces to {up}/{down}: too fine for a polyphase filter")
    if y.shape[-1] == 0:
        return np.zeros(y.shape[:-1] + (0,))
    return signal.resample_poly(y, up, down, axis=-1, window=_filter(up, down))
