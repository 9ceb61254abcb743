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

State slots (float64): the ``R_*`` constants below (per-line groups: combs L 0..7, R 8..15;
allpasses L 0..3, R 4..7), the scratch rows, then the lines.
"""

from __future__ import annotations

import math

from livehost.dsp.rt import rt_jit


COMBS = (1201, 1283, 1361, 1439, 1511, 1597, 1657, 1733)
ALLPASSES = (601, 487, 379, 251)
SPREAD = 29
AP_GAIN = 0.5
MAX_PREDELAY_MS = 250.0
R_COMB_OFF = 0  #: comb line offsets in ``st``, 16 slots (constant)
R_COMB_MAX = 16  #: comb maximum lengths, samples, 16 slots (constant)
R_AP_OFF = 32  #: allpass line offsets in ``st``, 8 slots (constant)
R_AP_MAX = 40  #: allpass maximum lengths, samples, 8 slots (constant)
R_PRE_OFF = 48  #: predelay ring offset in ``st`` (constant)
R_PRE_SIZE = 49  #: predelay ring size, samples, a power of two (constant)
R_MAXB = 50  #: max_block, frames (constant)
RESET_FROM = 51  #: the NaN guard zeroes the slots from here on (the constants above stay)
D = 51  #: the dynamic slots start here
R_SIZE = D  #: the size (0..1) the lengths were computed for
R_DECAY = D + 1  #: the decay_s (s) the gains were computed for
R_CLEN = D + 4  #: comb lengths, samples, 16 slots
R_CG = D + 20  #: comb feedback gains, 16 slots
R_CIN = D + 36  #: comb input gains, 16 slots
R_APLEN = D + 52  #: allpass lengths, samples, 8 slots
R_CIDX = D + 60  #: comb read/write indices, samples, 16 slots
R_CLP = D + 76  #: comb low-pass memories, 16 slots
R_APIDX = D + 92  #: allpass indices, samples, 8 slots
R_PW = D + 100  #: predelay ring write index, samples
SCR = D + 104  #: scratch rows (input, left sum, right sum: max_block slots each), then the lines


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
        st[R_COMB_OFF + k] = off
        st[R_COMB_MAX + k] = comb[k]
        off += comb[k]
    for k in range(8):
        st[R_AP_OFF + k] = off
        st[R_AP_MAX + k] = ap[k]
        off += ap[k]
    st[R_PRE_OFF] = off
    st[R_PRE_SIZE] = pre
    st[R_MAXB] = max_block


@rt_jit
def _update(st, size, decay_s, sr):
    """Recompute line lengths (samples) from size (0..1) and comb gains from decay_s (s, RT60)."""
    scale = 0.3 + 0.7 * min(max(size, 0.0), 1.0)
    rt = max(decay_s, 0.01)
    for k in range(16):
        L = max(4, min(int(st[R_COMB_MAX + k]), int(round(st[R_COMB_MAX + k] * scale))))
        st[R_CLEN + k] = L
        g = 10.0 ** (-3.0 * L / (rt * sr))
        st[R_CG + k] = g
        st[R_CIN + k] = math.sqrt((1.0 - g * g) / 8.0)
        idx = int(st[R_CIDX + k])
        if idx >= L:
            st[R_CIDX + k] = float(idx % L)
    for k in range(8):
        L = max(4, min(int(st[R_AP_MAX + k]), int(round(st[R_AP_MAX + k] * scale))))
        st[R_APLEN + k] = L
        idx = int(st[R_APIDX + k])
        if idx >= L:
            st[R_APIDX + k] = float(idx % L)
    st[R_SIZE] = size
    st[R_DECAY] = decay_s


@rt_jit
def _comb4(st, k, x0, acc, n, damp):
    """Run combs k..k+3 (one channel's four) together over the block: input st[x0:x0+n], adds their
    outputs to st[acc:acc+n] in comb order (the same sums, rounding included, as one comb at a time).

    Four independent feedback recurrences interleave, so their latencies overlap; the block is cut
    into segments in which no line wraps, so the inner loop has no index arithmetic beyond ``+ j``.
    """
    o0 = int(st[R_COMB_OFF + k])
    o1 = int(st[R_COMB_OFF + 1 + k])
    o2 = int(st[R_COMB_OFF + 2 + k])
    o3 = int(st[R_COMB_OFF + 3 + k])
    L0 = int(st[R_CLEN + k])
    L1 = int(st[R_CLEN + 1 + k])
    L2 = int(st[R_CLEN + 2 + k])
    L3 = int(st[R_CLEN + 3 + k])
    g0 = st[R_CG + k]
    g1 = st[R_CG + 1 + k]
    g2 = st[R_CG + 2 + k]
    g3 = st[R_CG + 3 + k]
    h0 = st[R_CIN + k]
    h1 = st[R_CIN + 1 + k]
    h2 = st[R_CIN + 2 + k]
    h3 = st[R_CIN + 3 + k]
    i0 = int(st[R_CIDX + k])
    i1 = int(st[R_CIDX + 1 + k])
    i2 = int(st[R_CIDX + 2 + k])
    i3 = int(st[R_CIDX + 3 + k])
    f0 = st[R_CLP + k]
    f1 = st[R_CLP + 1 + k]
    f2 = st[R_CLP + 2 + k]
    f3 = st[R_CLP + 3 + k]
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
    st[R_CIDX + k] = i0
    st[R_CIDX + 1 + k] = i1
    st[R_CIDX + 2 + k] = i2
    st[R_CIDX + 3 + k] = i3
    st[R_CLP + k] = f0
    st[R_CLP + 1 + k] = f1
    st[R_CLP + 2 + k] = f2
    st[R_CLP + 3 + k] = f3


@rt_jit
def _allpass(st, k, acc, n):
    """Run Schroeder allpass k in place over st[acc:acc+n]."""
    off = int(st[R_AP_OFF + k])
    L = int(st[R_APLEN + k])
    idx = int(st[R_APIDX + k])
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
    st[R_APIDX + k] = idx


@rt_jit
def reverb_kernel(pp, pc, st, buf, n, sr):
    """The ``reverb`` node: size (0..1), damping (0..1), decay_s (s, RT60), predelay_ms (ms),
    width (0..1) in pp/pc[0..4]; ``pc`` used once per block (lengths/gains cached)."""
    if n <= 0:
        return
    if st[R_SIZE] != pc[0] or st[R_DECAY] != pc[2]:
        _update(st, pc[0], pc[2], sr)
    damp = min(max(pc[1], 0.0), 1.0) * 0.7
    mb = int(st[R_MAXB])
    X = SCR
    AL = SCR + mb
    AR = SCR + 2 * mb
    # predelay ring (mono input)
    poff = int(st[R_PRE_OFF])
    pmask = int(st[R_PRE_SIZE]) - 1
    pw = int(st[R_PW])
    pd = int(round(min(max(pc[3], 0.0), MAX_PREDELAY_MS) * 1e-3 * sr))
    for i in range(n):
        st[poff + ((pw + i) & pmask)] = 0.5 * (buf[0, i] + buf[1, i])
    for i in range(n):
        st[X + i] = st[poff + ((pw + i - pd) & pmask)]
        st[AL + i] = 0.0
        st[AR + i] = 0.0
    st[R_PW] = float((pw + n) & pmask)
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
