"""Schroeder/Freeverb-style stereo reverb: predelay -> 8 parallel damped combs -> 4 series allpasses
per channel, with a stereo width control.

- Delay lengths (at 48 kHz, size = 1) are primes, scaled by ``sr/48000`` and by the room size
  ``0.3 + 0.7*size``; the right channel's lines are :data:`SPREAD` samples (at 48 kHz) longer.
- Decay: each comb's feedback gain is derived from its own loop length ``L`` (samples) and the
  RT60 target: ``g = 10**(-3*L/(decay_s*sr))``, so every comb falls 60 dB in ``decay_s`` seconds
  (at low frequencies; ``damping`` adds a one-pole low-pass in each loop that shortens the decay
  of high frequencies only).
- Level: each comb's input is scaled by ``sqrt((1 - g**2)/8)`` so the impulse response carries
  about unit energy whatever the decay (long reverbs do not get louder).
- Allpasses are true Schroeder allpasses ``(-g + z^-M)/(1 - g z^-M)``, g = 0.5.
- Output is wet only.  width: 1 = combs of each side to that side, 0 = mono sum.

Processing is block-wise: each channel's combs run four at a time over the whole block (indices and
low-pass memories in registers, four independent recurrences interleaved) and accumulate into a
scratch row; then the allpasses run in series over that row.

State layout (float64 slots)::

    constants:  [0:16] comb buffer offsets (L 0..7, R 8..15), [16:32] comb max lengths,
                [32:40] allpass offsets, [40:48] allpass max lengths, [48] predelay ring offset,
                [49] predelay ring size (power of two), [50] max_block
    dynamic D=51: [D] cached size, [D+1] cached decay_s, [D+4:D+20] comb lengths,
                [D+20:D+36] comb gains, [D+36:D+52] comb input gains, [D+52:D+60] allpass lengths,
                [D+60:D+76] comb indices, [D+76:D+92] comb low-pass memories,
                [D+92:D+100] allpass indices, [D+100] predelay write index,
                [D+104 : +3*max_block] scratch (input, left sum, right sum), then the lines.
"""

from __future__ import annotations

import math

from livehost.dsp.rt import rt_jit


COMBS = (1201, 1283, 1361, 1439, 1511, 1597, 1657, 1733)
ALLPASSES = (601, 487, 379, 251)
SPREAD = 29
AP_GAIN = 0.5
MAX_PREDELAY_MS = 250.0
RESET_FROM = 51
D = 51
SCR = D + 104


def _lengths(sr: float, max_block: int):
    k = sr / 48000.0
    comb = [int(round(c * k)) + 1 for c in COMBS] + [int(round((c + SPREAD) * k)) + 1 for c in COMBS]
    ap = [int(round(a * k)) + 1 for a in ALLPASSES] + [int(round((a + SPREAD) * k)) + 1 for a in ALLPASSES]
    pre = 1
    while pre < int(math.ceil(MAX_PREDELAY_MS * 1e-3 * sr)) + max_block + 1:
        pre *= 2
    return comb, ap, pre


def reverb_state_size(sr: float, max_block: int) -> int:
    """Float64 slots for one reverb instance at ``sr`` Hz and ``max_block`` frames."""
    comb, ap, pre = _lengths(sr, max_block)
    return SCR + 3 * max_block + sum(comb) + sum(ap) + pre


def reverb_init(st, sr: float, max_block: int) -> None:
    """Write the constant layout (line offsets and maximum lengths in samples) into ``st``."""
    comb, ap, pre = _lengths(sr, max_block)
    off = SCR + 3 * max_block
    for k in range(16):
        st[k] = off
        st[16 + k] = comb[k]
        off += comb[k]
    for k in range(8):
        st[32 + k] = off
        st[40 + k] = ap[k]
        off += ap[k]
    st[48] = off
    st[49] = pre
    st[50] = max_block


@rt_jit
def _update(st, size, decay_s, sr):
    """Recompute line lengths (samples) from size (0..1) and comb gains from decay_s (s, RT60)."""
    scale = 0.3 + 0.7 * min(max(size, 0.0), 1.0)
    rt = max(decay_s, 0.01)
    for k in range(16):
        L = max(4, min(int(st[16 + k]), int(round(st[16 + k] * scale))))
        st[D + 4 + k] = L
        g = 10.0 ** (-3.0 * L / (rt * sr))
        st[D + 20 + k] = g
        st[D + 36 + k] = math.sqrt((1.0 - g * g) / 8.0)
        idx = int(st[D + 60 + k])
        if idx >= L:
            st[D + 60 + k] = float(idx % L)
    for k in range(8):
        L = max(4, min(int(st[40 + k]), int(round(st[40 + k] * scale))))
        st[D + 52 + k] = L
        idx = int(st[D + 92 + k])
        if idx >= L:
            st[D + 92 + k] = float(idx % L)
    st[D] = size
    st[D + 1] = decay_s


@rt_jit
def _comb4(st, k, x0, acc, n, damp):
    """Run combs k..k+3 (one channel's four) together over the block: input st[x0:x0+n], adds their
    outputs to st[acc:acc+n] in comb order (the same sums, rounding included, as one comb at a time).

    Four independent feedback recurrences interleave, so their latencies overlap; the block is cut
    into segments in which no line wraps, so the inner loop has no index arithmetic beyond ``+ j``.
    """
    o0 = int(st[k])
    o1 = int(st[k + 1])
    o2 = int(st[k + 2])
    o3 = int(st[k + 3])
    L0 = int(st[D + 4 + k])
    L1 = int(st[D + 5 + k])
    L2 = int(st[D + 6 + k])
    L3 = int(st[D + 7 + k])
    g0 = st[D + 20 + k]
    g1 = st[D + 21 + k]
    g2 = st[D + 22 + k]
    g3 = st[D + 23 + k]
    h0 = st[D + 36 + k]
    h1 = st[D + 37 + k]
    h2 = st[D + 38 + k]
    h3 = st[D + 39 + k]
    i0 = int(st[D + 60 + k])
    i1 = int(st[D + 61 + k])
    i2 = int(st[D + 62 + k])
    i3 = int(st[D + 63 + k])
    f0 = st[D + 76 + k]
    f1 = st[D + 77 + k]
    f2 = st[D + 78 + k]
    f3 = st[D + 79 + k]
    a = 1.0 - damp
    i = 0
    while i < n:
        m = min(n - i, L0 - i0, L1 - i1, L2 - i2, L3 - i3)
        # views of the segment: indices from 0 up, so no negative-index handling in the loop
        r0 = st[o0 + i0:o0 + i0 + m]
        r1 = st[o1 + i1:o1 + i1 + m]
        r2 = st[o2 + i2:o2 + i2 + m]
        r3 = st[o3 + i3:o3 + i3 + m]
        xs = st[x0 + i:x0 + i + m]
        ac = st[acc + i:acc + i + m]
        for j in range(m):
            x = xs[j]
            y0 = r0[j]
            y1 = r1[j]
            y2 = r2[j]
            y3 = r3[j]
            f0 = y0 * a + f0 * damp
            f1 = y1 * a + f1 * damp
            f2 = y2 * a + f2 * damp
            f3 = y3 * a + f3 * damp
            r0[j] = x * h0 + g0 * f0
            r1[j] = x * h1 + g1 * f1
            r2[j] = x * h2 + g2 * f2
            r3[j] = x * h3 + g3 * f3
            ac[j] = (((ac[j] + y0) + y1) + y2) + y3
        i += m
        i0 += m
        i1 += m
        i2 += m
        i3 += m
        if i0 >= L0:
            i0 = 0
        if i1 >= L1:
            i1 = 0
        if i2 >= L2:
            i2 = 0
        if i3 >= L3:
            i3 = 0
    st[D + 60 + k] = i0
    st[D + 61 + k] = i1
    st[D + 62 + k] = i2
    st[D + 63 + k] = i3
    st[D + 76 + k] = f0
    st[D + 77 + k] = f1
    st[D + 78 + k] = f2
    st[D + 79 + k] = f3


@rt_jit
def _allpass(st, k, acc, n):
    """Run Schroeder allpass k in place over st[acc:acc+n]."""
    off = int(st[32 + k])
    L = int(st[D + 52 + k])
    idx = int(st[D + 92 + k])
    i = 0
    while i < n:
        m = min(n - i, L - idx)
        p = off + idx
        for j in range(m):
            d = st[p + j]
            x = st[acc + i + j]
            y = d - AP_GAIN * x
            st[p + j] = x + AP_GAIN * y
            st[acc + i + j] = y
        i += m
        idx += m
        if idx >= L:
            idx = 0
    st[D + 92 + k] = idx


@rt_jit
def reverb_kernel(pp, pc, st, buf, n, sr):
    """The ``reverb`` node: size (0..1), damping (0..1), decay_s (s, RT60), predelay_ms (ms),
    width (0..1) in pp/pc[0..4]; ``pc`` used once per block (lengths/gains cached)."""
    if n <= 0:
        return
    if st[D] != pc[0] or st[D + 1] != pc[2]:
        _update(st, pc[0], pc[2], sr)
    damp = min(max(pc[1], 0.0), 1.0) * 0.7
    mb = int(st[50])
    X = SCR
    AL = SCR + mb
    AR = SCR + 2 * mb
    # predelay ring (mono input)
    poff = int(st[48])
    pmask = int(st[49]) - 1
    pw = int(st[D + 100])
    pd = int(round(min(max(pc[3], 0.0), MAX_PREDELAY_MS) * 1e-3 * sr))
    for i in range(n):
        st[poff + ((pw + i) & pmask)] = 0.5 * (buf[0, i] + buf[1, i])
    for i in range(n):
        st[X + i] = st[poff + ((pw + i - pd) & pmask)]
        st[AL + i] = 0.0
        st[AR + i] = 0.0
    st[D + 100] = float((pw + n) & pmask)
    _comb4(st, 0, X, AL, n, damp)
    _comb4(st, 4, X, AL, n, damp)
    _comb4(st, 8, X, AR, n, damp)
    _comb4(st, 12, X, AR, n, damp)
    for k in range(4):
        _allpass(st, k, AL, n)
    for k in range(4, 8):
        _allpass(st, k, AR, n)
    w = min(max(pc[4], 0.0), 1.0)
    w1 = 0.5 * (1.0 + w)
    w2 = 0.5 * (1.0 - w)
    for i in range(n):
        yl = st[AL + i]
        yr = st[AR + i]
        buf[0, i] = w1 * yl + w2 * yr
        buf[1, i] = w1 * yr + w2 * yl
