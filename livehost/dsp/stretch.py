"""Real-time time stretch of a rolling record buffer: WSOLA granular (pitch kept) or tape varispeed.

The input is recorded continuously into a ring (``LIVE_BUFFER_S`` seconds). A play position follows it:

- ``granular`` (WSOLA): every hop ``Ha = G/2`` (grain ``G`` = 50 ms, Hann, 50 % overlap so the windows
  sum to 1) the play position advances by ``Ha / factor`` input samples and one grain is added; its start
  is moved by up to ``+-G/4`` to the offset whose first half best matches (normalised cross-correlation,
  coarse then exact search) the natural continuation of the previous grain, so periodic sounds keep
  their phase and pitch is unchanged. ``factor`` 2 = twice as long. ``factor`` < 0.125 or ``freeze``:
  the position stops and recording pauses, the grains keep re-reading the same spot (the texture
  loops); unfreezing resumes where it stopped.
- ``tape``: one read head moving at ``speed`` input samples per output sample through a 4-point cubic
  interpolator: speed and pitch change together (``speed`` 0.5 = an octave down, half speed).

Live, a slower-than-real-time play position falls behind: once it lags more than ``LIVE_BUFFER_S`` it
jumps to the present; a faster one catches up with the input and then jumps ``JUMP_S`` back. Granular
jumps are crossfaded by the grain windows themselves, tape jumps by a 10 ms equal-power crossfade
between two heads.

Offline (:func:`stretch_offline`, :func:`tape_offline`) the same kernel runs on a state whose ring
holds the whole input (pre-loaded, no jumps), fed zeros, and exactly ``round(len * factor)`` (or
``round(len / speed)``) samples come back, input time ``t`` appearing at output time ``t * factor``.

Parameters: ``0 factor`` ``1 freeze`` ``2 mode`` ``3 speed`` (read once per block / hop).
"""

from __future__ import annotations

import math

import numpy as np

from livehost.dsp._ring import ring_at, ring_read
from livehost.dsp.rt import rt_jit

LIVE_BUFFER_S = 4.0
"""Longest lag (s) of the live play position behind the input before it jumps to the present."""
JUMP_S = 1.0
"""How far back (s) a play position that caught up with the input jumps."""
GRAIN_S = 0.05
"""Grain length (s) of the granular mode."""
XFADE_S = 0.01
"""Tape-mode jump crossfade (s)."""
FREEZE_BELOW = 0.125
"""A ``factor`` below this freezes; between it and 0.25 the factor is taken as 0.25."""
MAX_SR = 192000.0
GMAX = 2 * int(round(GRAIN_S * MAX_SR / 2.0))
MODES = ("granular", "tape")

S_CAP = 0  #: ring capacity per channel, samples (constant)
S_G = 1  #: grain length G, samples (constant)
S_OFFLINE = 2  #: 1 offline (ring pre-loaded, no jumps), 0 live (constant)
S_MAXLAG = 3  #: longest lag behind the input before a jump to the present, samples (constant)
S_JUMP = 4  #: how far back a caught-up play position jumps, samples (constant)
S_XF = 5  #: tape-mode jump crossfade length, samples (constant)
_HDR = 8
_WIN_OFF = _HDR  #: the grain's Hann window, G slots (constant)
RESET_FROM = _HDR + GMAX  #: the NaN guard zeroes the slots from here on (the constants above stay)
S_WC = RESET_FROM  #: frames recorded, samples
S_RP = RESET_FROM + 1  #: granular play position, input samples
S_HC = RESET_FROM + 2  #: granular output position in the current hop, 0..G/2 - 1
S_START = RESET_FROM + 3  #: start of the last grain, input samples
S_TA = RESET_FROM + 4  #: tape read head, input samples
S_TB = RESET_FROM + 5  #: tape head being crossfaded out after a jump, input samples
S_XR = RESET_FROM + 6  #: tape crossfade remaining, samples
S_GRAINED = RESET_FROM + 7  #: 1 once the first grain has been made, else 0
S_TAPED = RESET_FROM + 8  #: 1 once the tape head has been placed, else 0
_DYN = 16  #: after RESET_FROM + _DYN: the rings (L, R), the accumulator (2 G), the output fifo (G)


def grain_len(sr: float) -> int:
    """Grain length in samples at ``sr`` Hz (even)."""
    return 2 * int(round(GRAIN_S * sr / 2.0))


def _sizes(sr: float, capacity: int) -> int:
    g = grain_len(sr)
    return RESET_FROM + _DYN + 2 * capacity + 2 * g + g


def _live_capacity(sr: float, max_block: int) -> int:
    return int(math.ceil(LIVE_BUFFER_S * sr)) + 3 * grain_len(sr) + int(max_block) + 64


def stretch_state_size(sr: float, max_block: int) -> int:
    """Float64 slots of state at ``sr`` Hz: two rings of ``LIVE_BUFFER_S`` s plus grain buffers."""
    return _sizes(sr, _live_capacity(sr, max_block))


def _init(st, sr: float, capacity: int, offline: bool, max_block: int = 1024) -> None:
    g = grain_len(sr)
    st[S_CAP] = capacity
    st[S_G] = g
    st[S_OFFLINE] = 1.0 if offline else 0.0
    st[S_MAXLAG] = LIVE_BUFFER_S * sr
    st[S_JUMP] = JUMP_S * sr
    st[S_XF] = XFADE_S * sr
    t = np.arange(g)
    st[_WIN_OFF:_WIN_OFF + g] = 0.5 - 0.5 * np.cos(2.0 * np.pi * t / g)


def stretch_init(st, sr: float, max_block: int) -> None:
    """Write the constants (ring capacity, grain length, limits in samples at ``sr`` Hz, window)."""
    _init(st, sr, _live_capacity(sr, max_block), False, max_block)


@rt_jit
def _mono(st, o_ring, C, i):
    return ring_at(st, o_ring, C, i) + ring_at(st, o_ring + C, C, i)


@rt_jit
def _grain(st, C, G, rp, have_prev):
    """Add one WSOLA grain centred near input position ``rp`` to the accumulator; returns its start."""
    R = RESET_FROM
    o_ring = R + _DYN
    o_acc = o_ring + 2 * C
    ha = G // 2
    dmax = G // 4
    ts = int(math.floor(rp - ha))
    best = 0
    if have_prev:
        cont = int(st[S_START]) + ha
        # coarse search: every 4th lag, every 4th sample
        bs = -1e300
        for dl in range(-dmax, dmax + 1, 4):
            num = 0.0
            den = 1e-20
            for j in range(0, ha, 4):
                a = _mono(st, o_ring, C, ts + dl + j)
                num += a * _mono(st, o_ring, C, cont + j)
                den += a * a
            sc = num / math.sqrt(den)
            if sc > bs + 1e-12 or (dl == 0 and sc >= bs - 1e-12):
                bs = sc
                best = dl
        # refine: every lag around the coarse best, every sample
        c0 = best
        bs = -1e300
        for dl in range(c0 - 3, c0 + 4):
            if dl < -dmax or dl > dmax:
                continue
            num = 0.0
            den = 1e-20
            for j in range(ha):
                a = _mono(st, o_ring, C, ts + dl + j)
                num += a * _mono(st, o_ring, C, cont + j)
                den += a * a
            sc = num / math.sqrt(den)
            if sc > bs + 1e-12 or (dl == c0 and sc >= bs - 1e-12):
                bs = sc
                best = dl
    start = ts + best
    for j in range(G):
        w = st[_WIN_OFF + j]
        st[o_acc + j] += w * ring_at(st, o_ring, C, start + j)
        st[o_acc + G + j] += w * ring_at(st, o_ring + C, C, start + j)
    return start


@rt_jit
def stretch_process(pp, pc, st, buf, n, sr):
    """Time-stretch ``buf[:, :n]`` in place (granular ``factor`` / tape ``speed``; see module doc)."""
    C = int(st[S_CAP])
    G = int(st[S_G])
    if C < 64 or G < 8 or n <= 0:
        return
    offline = st[S_OFFLINE] >= 0.5
    maxlag = st[S_MAXLAG]
    jump = st[S_JUMP]
    xf = st[S_XF]
    R = RESET_FROM
    o_ring = R + _DYN
    o_acc = o_ring + 2 * C
    o_fifo = o_acc + 2 * G
    ha = G // 2
    dmax = G // 4
    factor = pc[0]
    frozen = pc[1] >= 0.5 or factor < FREEZE_BELOW
    if factor < 0.25:
        factor = 0.25
    if factor > 4.0:
        factor = 4.0
    tape = pc[2] >= 0.5
    speed = pc[3]
    if not (speed >= 0.25):
        speed = 0.25
    if speed > 4.0:
        speed = 4.0
    if tape:
        frozen = False
    wc = st[S_WC]
    rp = st[S_RP]
    hc = int(st[S_HC])
    if hc < 0 or hc >= ha:
        hc = 0
    ta = st[S_TA]
    tb = st[S_TB]
    xr = st[S_XR]
    minlag_g = ha + dmax + 4.0
    minlag_t = 4.0 * xf + 8.0
    for i in range(n):
        if not frozen:
            wi = int(wc) % C
            st[o_ring + wi] = buf[0, i]
            st[o_ring + C + wi] = buf[1, i]
            wc += 1.0
        if tape:
            if not offline:
                lag = wc - ta
                if st[S_TAPED] < 0.5:  # first use: start just behind the input, no crossfade
                    ta = wc - minlag_t
                    st[S_TAPED] = 1.0
                elif xr <= 0.0 and (lag < minlag_t or lag > maxlag or lag != lag):
                    tb = ta
                    xr = xf
                    if lag > maxlag or lag != lag:
                        ta = wc - minlag_t
                    else:  # caught up: jump back JUMP_S, or as far as has been recorded
                        ta = wc - max(min(jump, maxlag, wc - minlag_t), 2.0 * minlag_t)
            yl = ring_read(st, o_ring, C, ta)
            yr = ring_read(st, o_ring + C, C, ta)
            if xr > 0.0:
                u = xr / xf
                ga = math.sin(0.5 * math.pi * (1.0 - u))
                gb = math.cos(0.5 * math.pi * (1.0 - u))
                yl = ga * yl + gb * ring_read(st, o_ring, C, tb)
                yr = ga * yr + gb * ring_read(st, o_ring + C, C, tb)
                tb += speed
                xr -= 1.0
            ta += speed
            buf[0, i] = yl
            buf[1, i] = yr
        else:
            buf[0, i] = st[o_fifo + hc]
            buf[1, i] = st[o_fifo + ha + hc]
            hc += 1
            if hc >= ha:
                hc = 0
                if not frozen:
                    rp += ha / factor
                if not offline:
                    lag = wc - rp
                    if st[S_GRAINED] < 0.5:  # first grain: start just behind the input
                        rp = wc - minlag_g
                    elif lag < minlag_g or lag != lag:
                        # caught up: jump back JUMP_S, or as far as has been recorded
                        rp = wc - max(min(jump, maxlag, wc - minlag_g), 2.0 * minlag_g)
                    elif lag > maxlag:
                        rp = wc - minlag_g
                st[S_START] = _grain(st, C, G, rp, st[S_GRAINED] >= 0.5)
                st[S_GRAINED] = 1.0
                for j in range(ha):
                    st[o_fifo + j] = st[o_acc + j]
                    st[o_fifo + ha + j] = st[o_acc + G + j]
                for c in range(2):
                    oa = o_acc + c * G
                    for j in range(G - ha):
                        st[oa + j] = st[oa + j + ha]
                    for j in range(G - ha, G):
                        st[oa + j] = 0.0
    st[S_WC] = wc
    st[S_RP] = rp
    st[S_HC] = hc
    st[S_TA] = ta
    st[S_TB] = tb
    st[S_XR] = xr


def _run_offline(x, sr: float, pv: np.ndarray, out_len: int, drop: int, rp0: float, block: int) -> np.ndarray:
    x = np.asarray(x, np.float64)
    if x.ndim == 1:
        x = np.stack([x, x], axis=1)
    n_in = len(x)
    g = grain_len(sr)
    total = drop + out_len
    cap = n_in + total + 4 * g + 64
    st = np.zeros(_sizes(sr, cap), np.float64)
    _init(st, float(sr), cap, True)
    R = RESET_FROM
    o_ring = R + _DYN
    st[o_ring:o_ring + n_in] = x[:, 0]
    st[o_ring + cap:o_ring + cap + n_in] = x[:, 1]
    st[S_WC] = n_in
    st[S_RP] = rp0
    st[S_TA] = 0.0
    buf = np.zeros((2, block), np.float64)
    y = np.empty((total, 2), np.float64)
    for s in range(0, total, block):
        m = min(block, total - s)
        buf[:, :m] = 0.0
        stretch_process(pv, pv, st, buf, m, float(sr))
        y[s:s + m] = buf[:, :m].T
    return y[drop:]


def stretch_offline(x, sr: float, factor: float, block: int = 1024) -> np.ndarray:
    """Time-stretch a whole signal (mono ``(n,)`` or stereo ``(n, 2)``) by ``factor`` (0.25..4; 2 = twice
    as long), pitch kept, with the live granular kernel. ``sr`` in Hz. Returns float64
    ``(round(n * factor), 2)``; input time ``t`` s lands at output time ``t * factor`` s."""
    factor = float(factor)
    if not 0.25 <= factor <= 4.0:
        raise ValueError(f"factor {factor} is outside 0.25..4")
    ha = grain_len(sr) // 2
    out_len = int(round(len(x) * factor))
    pv = np.array([factor, 0.0, 0.0, 1.0])
    # the grain of hop k is centred at output (k - 1) * Ha after dropping 3 * Ha: see module docstring
    return _run_offline(x, sr, pv, out_len, 3 * ha, -2.0 * ha / factor, block)


def tape_offline(x, sr: float, speed: float, block: int = 1024) -> np.ndarray:
    """Varispeed a whole signal (mono or stereo) by ``speed`` (0.25..4; 0.5 = an octave down and twice
    as long) with the live tape kernel. ``sr`` in Hz. Returns float64 ``(round(n / speed), 2)``."""
    speed = float(speed)
    if not 0.25 <= speed <= 4.0:
        raise ValueError(f"speed {speed} is outside 0.25..4")
    out_len = int(round(len(x) / speed))
    pv = np.array([1.0, 0.0, 1.0, speed])
    return _run_offline(x, sr, pv, out_len, 0, 0.0, block)
