"""Allocation-free iterative radix-2 complex FFT for numba kernels.

The twiddle factors and the bit-reversal permutation live in a caller-provided float64 vector (a
node's state) so that the transform itself never allocates:

    layout at ``off`` for size ``N`` (a power of two): cos[N/2], sin[N/2], bitrev[N]  (2*N slots)

``fft_init`` fills that table off the audio thread; ``fft_inplace`` transforms ``re``/``im`` in place.
"""

from __future__ import annotations

import math

import numpy as np

from livehost.dsp.rt import rt_jit


def fft_table_size(n_fft: int) -> int:
    """Float64 slots the twiddle/bit-reversal table of an ``n_fft``-point FFT needs (2 * n_fft)."""
    return 2 * int(n_fft)


def fft_init(st: np.ndarray, off: int, n_fft: int) -> None:
    """Fill the table of an ``n_fft``-point FFT (power of two) into ``st[off:off + 2*n_fft]``."""
    n = int(n_fft)
    if n < 2 or n & (n - 1):
        raise ValueError(f"n_fft must be a power of two, got {n}")
    k = np.arange(n // 2)
    st[off:off + n // 2] = np.cos(2.0 * np.pi * k / n)
    st[off + n // 2:off + n] = np.sin(2.0 * np.pi * k / n)
    bits = n.bit_length() - 1
    rev = np.zeros(n, np.int64)
    for i in range(n):
        r = 0
        v = i
        for _ in range(bits):
            r = (r << 1) | (v & 1)
            v >>= 1
        rev[i] = r
    st[off + n:off + 2 * n] = rev


@rt_jit
def fft_inplace(re, im, tab, off, n, inverse):
    """In-place complex FFT of ``re + j*im`` (first ``n`` entries, ``n`` a power of two).

    tab/off: the table written by :func:`fft_init`. inverse: False for the forward transform
    ``X[k] = sum x[t] e^{-j 2 pi k t / n}``; True for the inverse *including* the 1/n scale.
    """
    # bit-reversal permutation
    for i in range(n):
        j = int(tab[off + n + i])
        if j > i:
            t = re[i]
            re[i] = re[j]
            re[j] = t
            t = im[i]
            im[i] = im[j]
            im[j] = t
    sgn = 1.0 if inverse else -1.0
    half = n // 2
    size = 2
    if n >= 4:
        # the first two stages fused: a radix-4 butterfly on each group of four (twiddles 1 and
        # -j forward / +j inverse, exact), which is where the radix-2 loops have the most overhead
        for g in range(0, n, 4):
            s0r = re[g] + re[g + 1]
            s0i = im[g] + im[g + 1]
            d0r = re[g] - re[g + 1]
            d0i = im[g] - im[g + 1]
            s1r = re[g + 2] + re[g + 3]
            s1i = im[g + 2] + im[g + 3]
            d1r = re[g + 2] - re[g + 3]
            d1i = im[g + 2] - im[g + 3]
            tr = -sgn * d1i
            ti = sgn * d1r
            re[g] = s0r + s1r
            im[g] = s0i + s1i
            re[g + 2] = s0r - s1r
            im[g + 2] = s0i - s1i
            re[g + 1] = d0r + tr
            im[g + 1] = d0i + ti
            re[g + 3] = d0r - tr
            im[g + 3] = d0i - ti
        size = 8
    while size <= n:
        h = size // 2
        step = n // size
        for start in range(0, n, size):
            k = 0
            for m in range(h):
                wr = tab[off + k]
                wi = sgn * tab[off + half + k]
                a = start + m
                b = a + h
                xr = re[b] * wr - im[b] * wi
                xi = re[b] * wi + im[b] * wr
                re[b] = re[a] - xr
                im[b] = im[a] - xi
                re[a] += xr
                im[a] += xi
                k += step
        size *= 2
    if inverse:
        s = 1.0 / n
        for i in range(n):
            re[i] *= s
            im[i] *= s


@rt_jit
def princarg(x):
    """Wrap a phase (radians) into [-pi, pi)."""
    return x - 2.0 * math.pi * math.floor((x + math.pi) / (2.0 * math.pi))
