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

Processing is block-wise: each comb runs over the whole block (its index and memory in registers)
and accumulates into a scratch row, which keeps the per-sample cost at a few operations per line.

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

from numba import njit

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


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
def _comb(st, k, x0, acc, n, damp):
    """Run comb k over the block: input st[x0:x0+n], adds its output to st[acc:acc+n]."""
    off = int(st[k])
    L = int(st[D + 4 + k])
    g = st[D + 20 + k]
    gin = st[D + 36 + k]
    idx = int(st[D + 60 + k])
    fs = st[D + 76 + k]
    a = 1.0 - damp
    i = 0
    while i < n:
        m = min(n - i, L - idx)
        p = off + idx
        for j in range(m):
            y = st[p + j]
            fs = y * a + fs * damp
            st[p + j] = st[x0 + i + j] * gin + g * fs
            st[acc + i + j] += y
        i += m
        idx += m
        if idx >= L:
            idx = 0
    st[D + 60 + k] = idx
    st[D + 76 + k] = fs


@njit(cache=True, nogil=True)
def _comb_pair(st, k, x0, accl, accr, n, damp):
    """Run left comb k and right comb k+8 together (two independent recurrences interleave)."""
    ol = int(st[k])
    orr = int(st[k + 8])
    Ll = int(st[D + 4 + k])
    Lr = int(st[D + 12 + k])
    gl = st[D + 20 + k]
    gr = st[D + 28 + k]
    gil = st[D + 36 + k]
    gir = st[D + 44 + k]
    il = int(st[D + 60 + k])
    ir = int(st[D + 68 + k])
    fl = st[D + 76 + k]
    fr = st[D + 84 + k]
    a = 1.0 - damp
    i = 0
    while i < n:
        m = min(n - i, Ll - il, Lr - ir)
        pl = ol + il
        pr = orr + ir
        for j in range(m):
            x = st[x0 + i + j]
            yl = st[pl + j]
            yr = st[pr + j]
            fl = yl * a + fl * damp
            fr = yr * a + fr * damp
            st[pl + j] = x * gil + gl * fl
            st[pr + j] = x * gir + gr * fr
            st[accl + i + j] += yl
            st[accr + i + j] += yr
        i += m
        il += m
        ir += m
        if il >= Ll:
            il = 0
        if ir >= Lr:
            ir = 0
    st[D + 60 + k] = il
    st[D + 68 + k] = ir
    st[D + 76 + k] = fl
    st[D + 84 + k] = fr


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
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
    for k in range(8):
        _comb_pair(st, k, X, AL, AR, n, damp)
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
