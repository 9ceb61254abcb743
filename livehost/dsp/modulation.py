"""Modulation effects: chorus, flanger (modulated fractional delays) and phaser (allpass chain).

Shared pieces:

- LFO: a unit phasor ``(c, s)`` rotated by ``2*pi*rate_hz/sr`` each frame (a recurrence, no
  per-sample sin/cos); renormalised once per block.  The LFO value is ``s = sin(phase)``; it starts
  at phase 0, so the left channel of a fresh instance follows ``sin(2*pi*rate_hz*t)``.  Voices
  and the right channel are read with a fixed phase rotation of that phasor.
- Fractional delay: 4-point Catmull-Rom (cubic Hermite) interpolation in power-of-two ring
  buffers; the delay is clamped to >= 2 samples.  Centre delay and depth ramp per sample from
  ``pp`` to ``pc`` (no zipper); the LFO rate takes ``pc`` per block (phase stays continuous).
- Outputs are 100% wet (the delayed / allpassed signal only): the engine's ``wet`` mix (default
  0.5) adds the dry signal, which is what makes the flanger's comb and the phaser's notches.

State layouts (float64 slots): the ``LFO_*`` slots are shared, then ``M_*`` for chorus/flanger and
``P_*`` for the phaser.
"""

from __future__ import annotations

import math

from livehost.dsp.rt import rt_jit


LFO_C = 0  #: LFO phasor cosine (unit, renormalised per block)
LFO_S = 1  #: LFO phasor sine: the LFO value, -1..1
M_W = 2  #: chorus/flanger: ring write index, samples 0..N-1
M_YL = 3  #: chorus/flanger: last left output
M_YR = 4  #: chorus/flanger: last right output
M_ROT = 8  #: chorus/flanger: per-voice phase rotations (cosL, sinL, cosR, sinR) x 4 voices, 16 slots
HEAD = 24  #: chorus/flanger: left ring (N slots, N a power of two), then right ring (N slots)
P_YL = 2  #: phaser: last left output
P_YR = 3  #: phaser: last right output
P_AL = 4  #: phaser: current left allpass coefficient
P_AR = 5  #: phaser: current right allpass coefficient
P_ZL = 6  #: phaser: left allpass memories, MAX_STAGES slots
CHORUS_MAX_MS = 80.0  # centre (<= 40 ms) + depth (<= 20 ms) + margin
FLANGER_MAX_MS = 25.0  # centre (<= 10 ms) * (1 + depth <= 1) + margin
PHASER_STAGES = ("2", "4", "6", "8", "12")
MAX_STAGES = 12
P_ZR = P_ZL + MAX_STAGES  #: phaser: right allpass memories, MAX_STAGES slots
PHASER_STATE = P_ZL + 2 * MAX_STAGES
MIN_DELAY = 2.0  # samples: the cubic interpolator needs one sample after the read point
SUBP = 16  # phaser coefficient update interval (frames)


def _pow2_at_least(k: int) -> int:
    p = 1
    while p < k:
        p *= 2
    return p


def ring_size(max_ms: float, sr: float) -> int:
    """Power-of-two ring length (samples) holding ``max_ms`` milliseconds at ``sr`` Hz plus margin."""
    return _pow2_at_least(int(math.ceil(max_ms * 1e-3 * sr)) + 8)


def chorus_state_size(sr: float, max_block: int) -> int:
    """Float64 slots of a chorus instance at ``sr`` Hz."""
    return HEAD + 2 * ring_size(CHORUS_MAX_MS, sr)


def flanger_state_size(sr: float, max_block: int) -> int:
    """Float64 slots of a flanger instance at ``sr`` Hz."""
    return HEAD + 2 * ring_size(FLANGER_MAX_MS, sr)


@rt_jit
def read_cubic(st, base, mask, w, d):
    """Sample ``d`` frames (>= 2, fractional) behind write index ``w`` of the ring st[base:base+mask+1]."""
    p = w - d
    fp = math.floor(p)
    t = p - fp
    i = int(fp)
    ym = st[base + ((i - 1) & mask)]
    y0 = st[base + (i & mask)]
    y1 = st[base + ((i + 1) & mask)]
    y2 = st[base + ((i + 2) & mask)]
    c1 = 0.5 * (y1 - ym)
    c2 = ym - 2.5 * y0 + 2.0 * y1 - 0.5 * y2
    c3 = 0.5 * (y2 - ym) + 1.5 * (y0 - y1)
    return ((c3 * t + c2) * t + c1) * t + y0


@rt_jit
def _lfo_start(st, rate_hz, sr):
    """Load and renormalise the LFO phasor from st[LFO_C], st[LFO_S]; return (c, s, cos w, sin w)."""
    c = st[LFO_C]
    s = st[LFO_S]
    m = c * c + s * s
    if not (m > 0.25):  # fresh or reset state (also catches NaN)
        c = 1.0
        s = 0.0
    else:
        k = 1.0 / math.sqrt(m)
        c *= k
        s *= k
    w = 2.0 * math.pi * rate_hz / sr
    return c, s, math.cos(w), math.sin(w)


@rt_jit
def _moddelay(pp, pc, st, buf, n, sr, voices, rate, d0, d1, dp0, dp1, fb, rspread):
    """Shared chorus/flanger loop.

    voices: 1..4 equally phase-spaced LFO voices; rate: LFO Hz; d0/d1: centre delay (samples) at
    block start/end; dp0/dp1: modulation depth (samples, peak) at block start/end; fb: feedback
    gain; rspread: right-channel LFO phase offset (radians).
    """
    N = (len(st) - HEAD) // 2
    mask = N - 1
    bl = HEAD
    br = HEAD + N
    c, s, cw, sw = _lfo_start(st, rate, sr)
    for v in range(voices):
        ph = 2.0 * math.pi * v / voices
        st[M_ROT + 4 * v] = math.cos(ph)
        st[M_ROT + 1 + 4 * v] = math.sin(ph)
        st[M_ROT + 2 + 4 * v] = math.cos(ph + rspread)
        st[M_ROT + 3 + 4 * v] = math.sin(ph + rspread)
    w = int(st[M_W]) & mask
    ml = st[M_YL]
    mr = st[M_YR]
    inv = 1.0 / n if n > 0 else 0.0
    gv = 1.0 / voices
    r1c = st[M_ROT + 2]
    r1s = st[M_ROT + 3]
    for i in range(n):
        t = (i + 1) * inv
        dc = d0 + (d1 - d0) * t
        dd = dp0 + (dp1 - dp0) * t
        if voices == 1:  # rotation (1, 0) on the left: the same sums, without the state loads
            sr_ = s * r1c + c * r1s
            al = read_cubic(st, bl, mask, w, max(MIN_DELAY, dc + dd * s))
            ar = read_cubic(st, br, mask, w, max(MIN_DELAY, dc + dd * sr_))
        else:
            al = 0.0
            ar = 0.0
            for v in range(voices):
                k = M_ROT + 4 * v
                sl = s * st[k] + c * st[k + 1]
                sr_ = s * st[k + 2] + c * st[k + 3]
                dl = max(MIN_DELAY, dc + dd * sl)
                dr = max(MIN_DELAY, dc + dd * sr_)
                al += read_cubic(st, bl, mask, w, dl)
                ar += read_cubic(st, br, mask, w, dr)
        ml = al * gv
        mr = ar * gv
        # written after the reads (delay >= 2 never reads this slot with a non-zero weight), so
        # the feedback loop is exactly the modulated delay long
        st[bl + w] = buf[0, i] + fb * ml
        st[br + w] = buf[1, i] + fb * mr
        buf[0, i] = ml
        buf[1, i] = mr
        cn = c * cw - s * sw
        s = s * cw + c * sw
        c = cn
        w = (w + 1) & mask
    st[LFO_C] = c
    st[LFO_S] = s
    st[M_W] = float(w)
    st[M_YL] = ml
    st[M_YR] = mr


@rt_jit
def chorus_kernel(pp, pc, st, buf, n, sr):
    """The ``chorus`` node: rate_hz (Hz), delay_ms (ms), depth_ms (ms), voices (index: 1..4 voices),
    spread (0..1 -> right LFO offset 0..90 degrees) in pp/pc[0..4]."""
    ms = sr * 1e-3
    voices = int(pc[3] + 0.5) + 1
    _moddelay(pp, pc, st, buf, n, sr, voices, pc[0], pp[1] * ms, pc[1] * ms, pp[2] * ms, pc[2] * ms,
              0.0, pc[4] * 0.5 * math.pi)


@rt_jit
def flanger_kernel(pp, pc, st, buf, n, sr):
    """The ``flanger`` node: rate_hz (Hz), delay_ms (centre, ms), depth (0..1, fraction of the centre
    delay swept either way), feedback (-0.95..0.95), spread (0..1 -> right LFO offset 0..180 degrees)
    in pp/pc[0..4].  Delay: ``delay_ms * (1 + depth * lfo)``, at least 2 samples."""
    ms = sr * 1e-3
    _moddelay(pp, pc, st, buf, n, sr, 1, pc[0], pp[1] * ms, pc[1] * ms, pp[1] * pp[2] * ms,
              pc[1] * pc[2] * ms, pc[3], pc[4] * math.pi)


@rt_jit
def allpass_coef(f_hz, sr):
    """First-order allpass coefficient (bilinear, prewarped) whose phase is -90 degrees at f_hz (Hz)."""
    f = min(max(f_hz, 1.0), 0.45 * sr)
    t = math.tan(math.pi * f / sr)
    return (t - 1.0) / (t + 1.0)


@rt_jit
def phaser_kernel(pp, pc, st, buf, n, sr):
    """The ``phaser`` node: rate_hz (Hz), centre_hz (Hz), depth_oct (octaves, peak sweep either way),
    feedback (-0.95..0.95), stages (index into 2/4/6/8/12), spread (0..1 -> right LFO offset 0..180
    degrees) in pp/pc[0..5].

    Break frequency of every allpass: ``centre_hz * 2**(depth_oct * lfo)``; coefficients are
    recomputed every 16 frames and ramped linearly in between.
    """
    if n <= 0:
        return
    stages = (2, 4, 6, 8, 12)[int(pc[4] + 0.5)]
    c, s, cw, sw = _lfo_start(st, pc[0], sr)
    # rotation by SUBP frames, and the right channel offset
    cwk = math.cos(2.0 * math.pi * pc[0] * SUBP / sr)
    swk = math.sin(2.0 * math.pi * pc[0] * SUBP / sr)
    rs = pc[5] * math.pi
    cr = math.cos(rs)
    sr_off = math.sin(rs)
    fb = pc[3]
    yl = st[P_YL]
    yr = st[P_YR]
    al = st[P_AL]
    ar = st[P_AR]
    if al == 0.0 and ar == 0.0:  # fresh state: start on the current coefficient (no ramp from 0)
        al = allpass_coef(pc[1] * 2.0 ** (pc[2] * s), sr)
        ar = allpass_coef(pc[1] * 2.0 ** (pc[2] * (s * cr + c * sr_off)), sr)
    ZL = P_ZL
    ZR = P_ZR
    inv = 1.0 / n
    i0 = 0
    while i0 < n:
        i1 = min(i0 + SUBP, n)
        m = i1 - i0
        # LFO at the end of this sub-block
        if m == SUBP:
            cn = c * cwk - s * swk
            s = s * cwk + c * swk
            c = cn
        else:
            wk = 2.0 * math.pi * pc[0] * m / sr
            ck = math.cos(wk)
            sk = math.sin(wk)
            cn = c * ck - s * sk
            s = s * ck + c * sk
            c = cn
        t = i1 * inv
        cen = pp[1] + (pc[1] - pp[1]) * t
        dep = pp[2] + (pc[2] - pp[2]) * t
        al1 = allpass_coef(cen * 2.0 ** (dep * s), sr)
        ar1 = allpass_coef(cen * 2.0 ** (dep * (s * cr + c * sr_off)), sr)
        dal = (al1 - al) / m
        dar = (ar1 - ar) / m
        for i in range(i0, i1):
            al += dal
            ar += dar
            xl = buf[0, i] + fb * yl
            xr = buf[1, i] + fb * yr
            for k in range(stages):
                y = al * xl + st[ZL + k]
                st[ZL + k] = xl - al * y
                xl = y
                y = ar * xr + st[ZR + k]
                st[ZR + k] = xr - ar * y
                xr = y
            yl = xl
            yr = xr
            buf[0, i] = yl
            buf[1, i] = yr
        al = al1
        ar = ar1
        i0 = i1
    st[LFO_C] = c
    st[LFO_S] = s
    st[P_YL] = yl
    st[P_YR] = yr
    st[P_AL] = al
    st[P_AR] = ar
