"""Echo delay kernel: feedback, exact N-repeat and ping-pong modes with a smoothed, slewed delay time.

Parameters (``pp``/``pc`` order, see :mod:`livehost.nodes.delay`)::

    0 time_ms  1 sync  2 bpm  3 division  4 feedback  5 mode  6 repeats  7 fade  8 highcut_hz

The kernel's output is the echoes only (100 % wet). The delay time is read through a 4-point cubic
interpolator at a fractional position; the time itself ramps across the block from ``pp`` to ``pc`` and
then follows a one-pole (30 ms) with a slew limit of ``MAX_RATE`` samples per sample, so a time change
glides like a tape delay (pitch bend) instead of clicking.  Once the time has settled (within
:data:`SNAP` samples of its target) a block runs the steady path: the interpolator's four weights
are computed once per block and the read position walks with the write index.

State slots (float64): the ``D_*`` constants below, then the rings.
"""

from __future__ import annotations

import math


from livehost.dsp._ring import clampf, cubic, cubic_weights, ring_taps
from livehost.dsp.rt import rt_jit

MAX_TIME_MS = 4000.0
"""Longest echo time (ms) in feedback / ping-pong mode."""
REPEAT_SPAN_S = 16.0
"""In ``repeats`` mode the last tap (repeats x time) is at most this many seconds late."""
MAX_RATE = 0.5
"""Fastest delay-time change (samples of delay per sample): a glide bends pitch by at most x0.5..x1.5."""
GLIDE_MS = 30.0
"""Time constant (ms) of the delay-time follower (on top of the engine's parameter smoothing)."""
HIGHCUT_OFF_HZ = 20000.0
"""``highcut_hz`` at (or above) this value disables the feedback-path low-pass."""

DIVISIONS = ("1/1", "1/2", "1/2d", "1/2t", "1/4", "1/4d", "1/4t", "1/8", "1/8d", "1/8t",
             "1/16", "1/16d", "1/16t", "1/32")
"""Tempo-sync note values (``d`` dotted, ``t`` triplet)."""
DIVISION_BEATS = (4.0, 2.0, 3.0, 4.0 / 3.0, 1.0, 1.5, 2.0 / 3.0, 0.5, 0.75, 1.0 / 3.0,
                  0.25, 0.375, 1.0 / 6.0, 0.125)
"""Length of each division in quarter-note beats."""
MODES = ("feedback", "repeats", "pingpong")

D_LEN = 0  #: ring length per channel, samples (constant)
D_MAXD = 1  #: longest feedback / ping-pong delay, samples (constant)
D_SPAN = 2  #: repeat span (last tap of ``repeats`` mode at most this late), samples (constant)
RESET_FROM = 8  #: the NaN guard zeroes the slots from here on (the constants above stay)
D_W = 8  #: write index, 0..ring length - 1
D_TIME = 9  #: current (gliding) delay time, samples
D_INIT = 10  #: 1 once the delay time has been initialised, else 0
D_LPL = 11  #: high-cut low-pass memory, left
D_LPR = 12  #: high-cut low-pass memory, right
_HDR = 16  #: left ring (ring length slots), then right ring (ring length slots)


def delay_state_size(sr: float, max_block: int) -> int:
    """Float64 slots of delay state at sample rate ``sr`` (Hz): two rings of ``REPEAT_SPAN_S`` seconds."""
    return _HDR + 2 * _ring_len(sr)


def _ring_len(sr: float) -> int:
    return int(math.ceil(REPEAT_SPAN_S * sr)) + 16


def delay_init(st, sr: float, max_block: int) -> None:
    """Write the delay constants (ring length, limits in samples at ``sr`` Hz) into ``st``."""
    st[D_LEN] = _ring_len(sr)
    st[D_MAXD] = MAX_TIME_MS * 1e-3 * sr
    st[D_SPAN] = REPEAT_SPAN_S * sr


def sync_time_ms(bpm: float, division: int) -> float:
    """Echo time in ms for a tempo (beats per minute) and a ``DIVISIONS`` index (not clamped)."""
    return 60000.0 / bpm * DIVISION_BEATS[int(division)]


@rt_jit
def _div_beats(i):
    if i <= 0:
        return 4.0
    if i == 1:
        return 2.0
    if i == 2:
        return 3.0
    if i == 3:
        return 4.0 / 3.0
    if i == 4:
        return 1.0
    if i == 5:
        return 1.5
    if i == 6:
        return 2.0 / 3.0
    if i == 7:
        return 0.5
    if i == 8:
        return 0.75
    if i == 9:
        return 1.0 / 3.0
    if i == 10:
        return 0.25
    if i == 11:
        return 0.375
    if i == 12:
        return 1.0 / 6.0
    return 0.125


@rt_jit
def _time_samples(p, sr):
    """Echo time in samples from a parameter vector (sync or free)."""
    if p[1] >= 0.5:
        bpm = clampf(p[2], 20.0, 400.0)
        ms = 60000.0 / bpm * _div_beats(int(p[3] + 0.5))
    else:
        ms = p[0]
    return ms * 1e-3 * sr


SNAP = 1e-6
"""A gliding delay time within this many samples of its target is set to it (the steady fast path)."""


@rt_jit
def _steady(st, buf, n, L, offl, offr, w, d, mode, fb, a, lpl, lpr):
    """Feedback / ping-pong echoes for a block in which the delay time ``d`` (samples) is constant:
    the cubic's four weights are computed once and the read index walks with the write index.
    Returns (write index, low-pass memories L, R)."""
    fl = math.floor(-d)
    h0, h1, h2, h3 = cubic_weights(-d - fl)
    r = (w + int(fl) - 1) % L  # index of the first of the four taps (y[i - 1])
    if r < 0:
        r += L
    b = 1.0 - a
    for i in range(n):
        r1 = r + 1 if r + 1 < L else 0
        r2 = r1 + 1 if r1 + 1 < L else 0
        r3 = r2 + 1 if r2 + 1 < L else 0
        yl = h0 * st[offl + r] + h1 * st[offl + r1] + h2 * st[offl + r2] + h3 * st[offl + r3]
        yr = h0 * st[offr + r] + h1 * st[offr + r1] + h2 * st[offr + r2] + h3 * st[offr + r3]
        xl = buf[0, i]
        xr = buf[1, i]
        if mode == 2:
            lpl = b * yr + a * lpl
            lpr = b * yl + a * lpr
            st[offl + w] = 0.5 * (xl + xr) + fb * lpl
            st[offr + w] = fb * lpr
        else:
            lpl = b * yl + a * lpl
            lpr = b * yr + a * lpr
            st[offl + w] = xl + fb * lpl
            st[offr + w] = xr + fb * lpr
        buf[0, i] = yl
        buf[1, i] = yr
        r = r1
        w += 1
        if w >= L:
            w = 0
    return w, lpl, lpr


@rt_jit
def delay_process(pp, pc, st, buf, n, sr):
    """Echo delay (see module docstring): in-place, ``buf[:, :n]`` becomes the echoes only."""
    L = int(st[D_LEN])
    if L < 16 or n <= 0:
        return
    maxd = st[D_MAXD]
    span = st[D_SPAN]
    offl = _HDR
    offr = _HDR + L
    mode = int(pc[5] + 0.5)
    reps = int(pc[6] + 0.5)
    if reps < 1:
        reps = 1
    if reps > 16:
        reps = 16
    fb = clampf(pc[4], 0.0, 0.99)
    fade = clampf(pc[7], 0.0, 1.0)
    fc = pc[8]
    if fc >= HIGHCUT_OFF_HZ or fc <= 0.0:
        a = 0.0
    else:
        a = math.exp(-2.0 * math.pi * min(fc, 0.49 * sr) / sr) * min(1.0, (HIGHCUT_OFF_HZ - fc) / 2000.0)
    t0 = _time_samples(pp, sr)
    t1 = _time_samples(pc, sr)
    dmax = maxd
    if mode == 1:
        dmax = span / reps
    dmin = 4.0
    k = 1.0 - math.exp(-1.0 / (GLIDE_MS * 1e-3 * sr))
    w = int(st[D_W])
    if w < 0 or w >= L:
        w = 0
    d = st[D_TIME]
    if st[D_INIT] < 0.5 or not (d >= dmin and d <= maxd + 1.0):
        d = clampf(t1, dmin, dmax)
        st[D_INIT] = 1.0
    lpl = st[D_LPL]
    lpr = st[D_LPR]
    tgt1 = clampf(t1, dmin, dmax)
    if mode != 1 and t0 == t1 and abs(tgt1 - d) < SNAP:
        w, lpl, lpr = _steady(st, buf, n, L, offl, offr, w, tgt1, mode, fb, a, lpl, lpr)
        st[D_W] = w
        st[D_TIME] = tgt1
        st[D_LPL] = lpl
        st[D_LPR] = lpr
        return
    inv = 1.0 / n
    for i in range(n):
        tgt = clampf(t0 + (t1 - t0) * (i + 1) * inv, dmin, dmax)
        step = (tgt - d) * k
        if step > MAX_RATE:
            step = MAX_RATE
        elif step < -MAX_RATE:
            step = -MAX_RATE
        d += step
        xl = buf[0, i]
        xr = buf[1, i]
        if mode == 1:
            st[offl + w] = xl
            st[offr + w] = xr
            g = 1.0
            yl = 0.0
            yr = 0.0
            for r in range(1, reps + 1):
                g *= fade
                j0, j1, j2, j3, f = ring_taps(w - r * d, L)
                yl += g * cubic(st[offl + j0], st[offl + j1], st[offl + j2], st[offl + j3], f)
                yr += g * cubic(st[offr + j0], st[offr + j1], st[offr + j2], st[offr + j3], f)
            lpl = (1.0 - a) * yl + a * lpl
            lpr = (1.0 - a) * yr + a * lpr
            buf[0, i] = lpl
            buf[1, i] = lpr
        else:
            j0, j1, j2, j3, f = ring_taps(w - d, L)
            yl = cubic(st[offl + j0], st[offl + j1], st[offl + j2], st[offl + j3], f)
            yr = cubic(st[offr + j0], st[offr + j1], st[offr + j2], st[offr + j3], f)
            if mode == 2:
                # ping-pong: mono input enters left, every hop crosses to the other side
                lpl = (1.0 - a) * yr + a * lpl  # feeds the left line from the right output
                lpr = (1.0 - a) * yl + a * lpr  # feeds the right line from the left output
                st[offl + w] = 0.5 * (xl + xr) + fb * lpl
                st[offr + w] = fb * lpr
            else:
                lpl = (1.0 - a) * yl + a * lpl
                lpr = (1.0 - a) * yr + a * lpr
                st[offl + w] = xl + fb * lpl
                st[offr + w] = xr + fb * lpr
            buf[0, i] = yl
            buf[1, i] = yr
        w += 1
        if w >= L:
            w = 0
    if abs(tgt1 - d) < SNAP:
        d = tgt1
    st[D_W] = w
    st[D_TIME] = d
    st[D_LPL] = lpl
    st[D_LPR] = lpr
