"""Waveshaping distortion, 4x oversampled (two polyphase half-band stages: 2x of 2x).

Signal path per channel: drive (dB) -> up 2x (63-tap half-band) -> up 2x (27-tap half-band)
-> shaper at 4*sr -> down 2x -> down 2x -> DC blocker (10 Hz) -> tone low-pass (cookbook
biquad, Q 0.7071) -> output gain (dB).

Half-band filters: Kaiser-windowed sinc (every other tap zero, centre 0.5), designed at
:func:`distortion_init` time into the constant part of the state.  Stage 1 (at 2*sr): pass
0..20 kHz (48 kHz base) within +-0.001 dB, stop above 28 kHz at -80 dB; stage 2 (at 4*sr): pass
0..28 kHz, stop above 68 kHz at -77 dB.  Polyphase: the zero taps are never multiplied, the
centre tap is a plain delay, symmetric pairs are summed before the multiply.

Latency: ``2*K1 + K2`` = 39 base-rate samples (reported by the node).

State layout (float64 slots; ``mb`` = max_block)::

    [0:K1]            stage-1 half-band pair taps g_j (constants; a copy for inspection: the
    [K1:K1+K2]        stage-2 pair taps   resamplers have the same taps compiled in)
    [K1+K2]           max_block (constant)
    --- reset_from ---
    [R+0:R+4]         tone biquad memories (L z1, z2, R z1, z2)
    [R+4:R+9]         tone coefficients; [R+9] the tone_hz they were made for
    [R+10:R+14]       DC blocker x1, y1 (L, R)
    then per channel (L, R) four linear history+block buffers:
      A: up-1 input       (2*K1 - 1) + mb
      B: up-2 input       (2*K2 - 1) + 2*mb
      C: down-2 input     (4*K2 - 1) + 4*mb   (the shaper writes here)
      D: down-1 input     (4*K1 - 1) + 2*mb
    then a 4*mb scratch for the per-sample drive ramp.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from livehost.dsp.biquad import biquad_coefs, biquad_run

SHAPES = ("tanh", "hard", "soft", "fold", "asym")
K1 = 16  # stage-1 half-band: 4*K1-1 = 63 taps
K2 = 7  # stage-2 half-band: 27 taps
BETA1 = 8.0
BETA2 = 8.0
RESET_FROM = K1 + K2 + 1  # taps, then max_block (constants)
HEAD = 14
ASYM_BIAS = 0.3
TANH_CLIP = 4.97


def halfband_pairs(K: int, beta: float) -> np.ndarray:
    """The K distinct non-zero off-centre taps g_1..g_K of a 4K-1 tap Kaiser half-band.

    The full filter is ``h[c] = 0.5``, ``h[c +- (2j-1)] = g_j``, other taps 0; normalised so the
    DC gain is exactly 1 (``sum(g) == 0.25``).  beta: Kaiser window shape parameter.
    """
    k = np.arange(-(2 * K - 1), 2 * K)
    h = 0.5 * np.sinc(k / 2.0) * np.kaiser(len(k), beta)
    g = h[2 * K::2].copy()  # offsets +1, +3, ... +(2K-1)
    return g * (0.25 / g.sum())


def halfband_full(K: int, beta: float) -> np.ndarray:
    """The full 4K-1 tap half-band impulse response (for tests and plots)."""
    g = halfband_pairs(K, beta)
    h = np.zeros(4 * K - 1)
    c = 2 * K - 1
    h[c] = 0.5
    h[c + 1::2] = g
    h[c - 1::-2] = g
    return h


def _layout(max_block: int):
    la = 2 * K1 - 1 + max_block
    lb = 2 * K2 - 1 + 2 * max_block
    lc = 4 * K2 - 1 + 4 * max_block
    ld = 4 * K1 - 1 + 2 * max_block
    return la, lb, lc, ld


def distortion_state_size(sr: float, max_block: int) -> int:
    """Float64 slots for one distortion instance (see module docstring)."""
    la, lb, lc, ld = _layout(max_block)
    return RESET_FROM + HEAD + 2 * (la + lb + lc + ld) + 4 * max_block


def distortion_init(st, sr: float, max_block: int) -> None:
    """Write the half-band taps (constants) into ``st``; sr in Hz, max_block in frames."""
    st[0:K1] = halfband_pairs(K1, BETA1)
    st[K1:K1 + K2] = halfband_pairs(K2, BETA2)
    st[K1 + K2] = float(max_block)


def distortion_latency(values: dict, sr: float) -> int:
    """Samples of delay the oversampling filters add (independent of parameters)."""
    return 2 * K1 + K2


@njit(cache=True, nogil=True)
def fast_tanh(x):
    """tanh(x) by a clamped [7/6] continued-fraction rational; |error| < 1e-4 for all x."""
    if x > TANH_CLIP:
        x = TANH_CLIP
    elif x < -TANH_CLIP:
        x = -TANH_CLIP
    x2 = x * x
    return x * (135135.0 + x2 * (17325.0 + x2 * (378.0 + x2))) / (
        135135.0 + x2 * (62370.0 + x2 * (3150.0 + 28.0 * x2)))


@njit(cache=True, nogil=True)
def shape_sample(shape, x):
    """The static waveshaper ``shape`` (index into :data:`SHAPES`) applied to one sample.

    tanh: fast_tanh(x); hard: clip to +-1; soft: cubic 1.5*(x - x^3/3) for |x| < 1, else +-1;
    fold: triangle wavefolder (identity on [-1, 1], folding back beyond); asym: tanh with a
    0.3 bias (even harmonics; the DC it makes is removed after decimation).
    """
    if shape == 0:
        return fast_tanh(x)
    elif shape == 1:
        return min(1.0, max(-1.0, x))
    elif shape == 2:
        if x >= 1.0:
            return 1.0
        if x <= -1.0:
            return -1.0
        return 1.5 * x - 0.5 * x * x * x
    elif shape == 3:
        t = (x + 1.0) * 0.25
        t -= math.floor(t)
        return 1.0 - 4.0 * abs(t - 0.5)
    return fast_tanh(x + ASYM_BIAS) - fast_tanh(ASYM_BIAS)


@njit(cache=True, nogil=True)
def _shape_block(C, c0, m, shape, D, d0):
    """Shape ``m`` samples of C from index c0 with per-sample drive D[d0:d0+m] (in place)."""
    if shape == 0:
        for i in range(m):
            C[c0 + i] = fast_tanh(C[c0 + i] * D[d0 + i])
    elif shape == 1:
        for i in range(m):
            C[c0 + i] = min(1.0, max(-1.0, C[c0 + i] * D[d0 + i]))
    else:
        for i in range(m):
            C[c0 + i] = shape_sample(shape, C[c0 + i] * D[d0 + i])


def _make_resamplers(K, g):
    """Jitted (up2, down2) for a half-band with K pair taps ``g`` baked in as constants
    (compile-time trip counts: the tap loops unroll and reassociate)."""
    G = np.ascontiguousarray(g, np.float64)
    G2 = 2.0 * G

    @njit(cache=True, nogil=True, fastmath=True)
    def up2(src, s0, H, n, dst, d0):
        """Polyphase 2x interpolation: src[s0:s0+H+n] (H = 2K-1 history) -> dst[d0:d0+2n].

        Even outputs: the input delayed K samples (centre tap); odd outputs: the half-sample
        interpolation from K symmetric pairs (gain 2 for the zero stuffing)."""
        for i in range(n):
            c = s0 + H + i - K
            acc = 0.0
            for j in range(K):
                acc += G2[j] * (src[c + j + 1] + src[c - j])
            dst[d0 + 2 * i] = src[c]
            dst[d0 + 2 * i + 1] = acc

    @njit(cache=True, nogil=True, fastmath=True)
    def down2(src, s0, H, n, dst, d0):
        """Polyphase 2x decimation: src[s0:s0+H+2n] (H = 4K-1 history) -> dst[d0:d0+n]."""
        for i in range(n):
            c = s0 + H + 2 * i - 2 * K
            acc = 0.5 * src[c]
            for j in range(K):
                acc += G[j] * (src[c + 2 * j + 1] + src[c - 2 * j - 1])
            dst[d0 + i] = acc

    return up2, down2


_up2_1, _down2_1 = _make_resamplers(K1, halfband_pairs(K1, BETA1))
_up2_2, _down2_2 = _make_resamplers(K2, halfband_pairs(K2, BETA2))


@njit(cache=True, nogil=True)
def _keep_tail(a, a0, H, n):
    """Move the last H samples of a[a0:a0+H+n] to its front (the next block's history)."""
    for k in range(H):
        a[a0 + k] = a[a0 + n + k]


@njit(cache=True, nogil=True)
def distortion_kernel(pp, pc, st, buf, n, sr):
    """The ``distortion`` node: drive_db (dB), shape (index), tone_hz (Hz), output_db (dB).

    Drive and output gain ramp linearly (in amplitude) across the block; the tone filter uses
    ``pc`` (its coefficients are cached until tone_hz changes).
    """
    if n <= 0:
        return
    mb = int(st[K1 + K2])
    la = 2 * K1 - 1 + mb
    lb = 2 * K2 - 1 + 2 * mb
    lc = 4 * K2 - 1 + 4 * mb
    ld = 4 * K1 - 1 + 2 * mb
    R = RESET_FROM
    base = R + HEAD
    scratch = base + 2 * (la + lb + lc + ld)
    shape = int(pc[1] + 0.5)
    # per-sample drive at 4x, linear ramp in amplitude
    d0 = 10.0 ** (pp[0] / 20.0)
    d1 = 10.0 ** (pc[0] / 20.0)
    m4 = 4 * n
    if d0 == d1:
        for i in range(m4):
            st[scratch + i] = d1
    else:
        inv = 1.0 / m4
        for i in range(m4):
            st[scratch + i] = d0 + (d1 - d0) * ((i + 1) * inv)
    r_dc = math.exp(-2.0 * math.pi * 10.0 / sr)
    for ch in range(2):
        A = base + ch * (la + lb + lc + ld)
        B = A + la
        C = B + lb
        D = C + lc
        HA = 2 * K1 - 1
        HB = 2 * K2 - 1
        HC = 4 * K2 - 1
        HD = 4 * K1 - 1
        for i in range(n):
            st[A + HA + i] = buf[ch, i]
        _up2_1(st, A, HA, n, st, B + HB)
        _up2_2(st, B, HB, 2 * n, st, C + HC)
        _shape_block(st, C + HC, m4, shape, st, scratch)
        _down2_2(st, C, HC, 2 * n, st, D + HD)
        _down2_1(st, D, HD, n, buf[ch], 0)
        _keep_tail(st, A, HA, n)
        _keep_tail(st, B, HB, 2 * n)
        _keep_tail(st, C, HC, 4 * n)
        _keep_tail(st, D, HD, 2 * n)
        # DC blocker
        x1 = st[R + 10 + 2 * ch]
        y1 = st[R + 11 + 2 * ch]
        for i in range(n):
            x = buf[ch, i]
            y1 = x - x1 + r_dc * y1
            x1 = x
            buf[ch, i] = y1
        st[R + 10 + 2 * ch] = x1
        st[R + 11 + 2 * ch] = y1
    if st[R + 9] != pc[2]:
        b0, b1, b2, a1, a2 = biquad_coefs(0.0, pc[2], 0.7071067811865476, 0.0, sr)
        st[R + 4] = b0
        st[R + 5] = b1
        st[R + 6] = b2
        st[R + 7] = a1
        st[R + 8] = a2
        st[R + 9] = pc[2]
    biquad_run(buf, st, R, 0, n, st[R + 4], st[R + 5], st[R + 6], st[R + 7], st[R + 8])
    o0 = 10.0 ** (pp[3] / 20.0)
    o1 = 10.0 ** (pc[3] / 20.0)
    if o0 == o1:
        for i in range(n):
            buf[0, i] *= o1
            buf[1, i] *= o1
    else:
        inv = 1.0 / n
        for i in range(n):
            o = o0 + (o1 - o0) * ((i + 1) * inv)
            buf[0, i] *= o
            buf[1, i] *= o
