"""Live pitch shifter: a low-latency time-domain (two-tap delay-line) shifter for voice.

Method (written for this project, after the classic rotating-tap harmoniser): the input runs through a
delay line and the output reads it with a tap whose delay ``d`` changes by ``1 - alpha`` samples every
sample, so the tap plays the signal back at rate ``alpha`` and every component comes out ``alpha`` times
its frequency (``alpha = 2 ** (semitones / 12)``).  The delay is kept in a window around its centre
``C``: before the tap runs out of it, a second tap is started ``L`` samples away (older when the delay
falls, ``alpha > 1``; newer when it grows) and the output crossfades to it (smoothstep, ``X`` samples).

- **Pitch-synchronous grains** (the correlation search is the pitch tracker): ``L`` is a lag between
  ``Lhi / 2`` and ``Lhi`` where the normalised cross-correlation of two ``W``-sample spans of the
  input (L + R) ``L`` apart peaks -- the shortest one whose peak comes within ``NEAR_BEST`` of the best
  (parabolic interpolation gives a fractional lag).  The spans sit where the two taps will read at the
  middle of that crossfade, as far as the input has arrived (see :func:`live_search`).  On voiced input
  ``L`` is a whole number of pitch periods, so both taps read the same point of the waveform and the
  splice keeps the phase: the output stays periodic at ``alpha`` times the input's pitch.  The search
  range always holds a multiple of any period up to ``Lhi`` (about 16 ms: pitches down to about 60 Hz
  at 48 kHz).  Below ``MIN_NCC`` (noise, silence, clicks) ``L`` is the middle of the range.
- **Centred grains**: a crossfade is placed where the old tap is at ``C -+ L/2`` and the new one at
  ``C +- L/2`` (its middle), so every grain's delay sweeps symmetrically around ``C``: the delay
  averages ``C``, the latency the node declares.
- ``X`` is ``XFADE_MS`` unless the taps would move more than ``C / 4`` during it (large shifts);
  ``Lhi = 2 (C - MARGIN - o)`` with ``o`` the taps' movement over half a crossfade, so no tap ever
  reads a sample that has not arrived (delay >= ``MARGIN``).
- At ``alpha = 1`` the tap waits at ``d = C`` (``run`` False in :func:`live_block`) and the output is the
  ring read ``C`` samples back: an exact delay of ``C`` samples; leaving or entering ratio 1 crossfades
  between that and the taps (the caller's shift fade).

Latency ``C = LIVE_LATENCY_MS`` (10 ms).  No anti-alias filter before a read faster than the input
(upward shifts): content above ``sr / (2 alpha)`` folds (little of a voice lives there).

State (``live_state_size``): a small header (write position, tap delays, crossfade, pending jump), then
three rings of ``live_ring_len(sr)`` samples (L, R, L + R) and four scratch arrays of the same length
for the correlation search.  The node's constants (``C``, ``W``, ring length, ``X``) are kept by the
caller.  Cost: two cubic reads per frame (one outside crossfades) plus a search per splice (a coarse
pass at half rate over every other lag, about 30k multiply-adds at 48 kHz).
"""

from __future__ import annotations

import math

from livehost.dsp._ring import cubic, ring_taps
from livehost.dsp.rt import rt_jit

LIVE_LATENCY_MS = 10.0
"""Delay (ms) of the grain centre: the live mode's declared latency."""
XFADE_MS = 4.0
"""Crossfade between the two taps (ms), shorter for large shifts (see the module docstring)."""
SEARCH_MS = 5.0
"""Span (ms) of the recent input correlated against itself to choose the jump."""
MARGIN = 3.0
"""Smallest tap delay (samples): the cubic read needs the sample after the one it reads."""
MIN_NCC = 0.5
"""Below this best correlation the input counts as aperiodic and the jump is the middle of its range."""
NEAR_BEST = 0.02
"""A correlation peak within this of the best counts as a match (the shortest such lag is taken)."""

# header slots, relative to the live region's base
_LW = 0      # ring write position (next slot)
_DA = 1      # delay of the playing tap (samples)
_DB = 2      # delay of the incoming tap during a crossfade
_XPOS = 3    # crossfade position (samples)
_XLEN = 4    # crossfade length (samples)
_XON = 5     # 1 while crossfading
_LP = 6      # pending jump (samples, 0 = none)
_LDIR = 7    # direction of the delay when the pending jump was chosen (+1 grows, -1 falls)
_LAST = 8    # last jump chosen (samples; for tests and diagnostics)
_NSPL = 9    # splices so far (diagnostics)
_HDR = 16


def live_latency(sr: float) -> int:
    """Latency (samples) of the live mode at ``sr`` Hz: the grain centre ``C``, ``LIVE_LATENCY_MS``."""
    return int(round(LIVE_LATENCY_MS * 1e-3 * float(sr)))


def live_window(sr: float) -> int:
    """Samples ``W`` correlated to choose a jump (``SEARCH_MS`` at ``sr`` Hz)."""
    return max(16, int(round(SEARCH_MS * 1e-3 * float(sr))))


def live_xfade(sr: float) -> int:
    """Longest tap crossfade (samples) at ``sr`` Hz (``XFADE_MS``)."""
    return max(8, int(round(XFADE_MS * 1e-3 * float(sr))))


def live_ring_len(sr: float) -> int:
    """Ring length (samples, a power of two) at ``sr`` Hz: the correlation spans (``C + Lhi / 2 + W / 2``
    <= ``2C + W``) and the largest tap delay (< ``2C``), plus margins."""
    need = live_window(sr) + 2 * live_latency(sr) + 16
    n = 64
    while n < need:
        n *= 2
    return n


@rt_jit
def live_region_len(rlen):
    """Float64 slots of the live shifter's region for rings of ``rlen`` samples: header, rings L, R,
    L + R, the correlation span, its running sum of squares, the decimated span with its sum of squares,
    and the coarse correlation per lag."""
    return _HDR + 7 * rlen


def live_state_size(sr: float) -> int:
    """Float64 slots of the live shifter's region at ``sr`` Hz."""
    return live_region_len(live_ring_len(sr))


@rt_jit
def live_reset(st, o, c):
    """Put the playing tap at delay ``c`` (samples), no crossfade, nothing pending (the write position
    and the rings are kept)."""
    st[o + _DA] = c
    st[o + _DB] = c
    st[o + _XPOS] = 0.0
    st[o + _XLEN] = 0.0
    st[o + _XON] = 0.0
    st[o + _LP] = 0.0
    st[o + _LDIR] = 0.0


@rt_jit
def live_geometry(alpha, c, xmax):
    """(crossfade length X, tap movement over half a crossfade o, largest jump Lhi), all in samples, for
    ratio ``alpha`` and centre delay ``c`` (samples), longest crossfade ``xmax`` (samples)."""
    r = abs(1.0 - alpha)
    x = xmax
    if r * x > 0.5 * c:
        x = 0.5 * c / r
    if x < 4.0:
        x = 4.0
    ov = 0.5 * r * x
    lhi = 2.0 * (c - MARGIN - ov)
    if lhi < 8.0:
        lhi = 8.0
    return x, ov, lhi


@rt_jit
def _span_end(lag, c, u, ov, xf, rate, w):
    """Delay (samples, >= 0) of the newest sample of the newer correlated span for a jump of ``lag``
    samples (see :func:`live_search`)."""
    ahead = (0.5 * lag - ov - u) / rate + 0.5 * xf
    if ahead < 0.0:
        ahead = 0.0
    e = int(c - ahead - 0.5 * lag - 0.5 * w)
    return e if e > 0 else 0


@rt_jit(fastmath={"reassoc", "contract"})
def _ncc_at(st, x0, q0, a0, b0, w):
    """Normalised cross-correlation of ``st[x0+a0 : x0+a0+w]`` and ``st[x0+b0 : x0+b0+w]`` using the
    running sum of squares at ``q0`` (``st[q0 + k]`` = energy of the first ``k`` samples); 0 if silent.
    Reassociated sum (vectorised); no other fast-math assumption."""
    ea = st[q0 + a0 + w] - st[q0 + a0]
    eb = st[q0 + b0 + w] - st[q0 + b0]
    den = ea * eb
    if not (den > 1e-24):
        return 0.0
    s = 0.0
    for j in range(w):
        s += st[x0 + a0 + j] * st[x0 + b0 + j]
    return s / math.sqrt(den)


@rt_jit(fastmath={"reassoc", "contract"})
def live_search(st, o, rlen, newest, w, llo, lhi, c, u, ov, xf, rate):
    """Jump (samples, fractional) in ``[llo, lhi]`` with the largest normalised cross-correlation of two
    ``w``-sample spans of the L + R ring that lag apart (newest sample at ring index ``newest``); the
    middle of the range when nothing correlates (silence, noise, clicks).

    For each lag the spans sit where the two taps will be at the middle of that jump's crossfade: the
    taps then read ``c -+ lag/2`` behind a present that is ``((lag/2 - ov) - u) / rate + xf/2`` samples
    ahead (``u``: how far the playing tap has gone past ``c`` in its direction of travel, ``rate``:
    ``|1 - alpha|``); spans that would lie in the future are moved back to the newest input.  Coarse
    pass on the signal decimated by two (pair sums: every other lag, half the products), then the
    shortest lag whose correlation peak comes within ``NEAR_BEST`` of the best one (a whole number of
    periods needing the least look-ahead) is refined at full rate (+-2 lags, then a parabola)."""
    mask = rlen - 1
    h = rlen // 2
    rm = o + _HDR + 2 * rlen
    sc = o + _HDR + 3 * rlen    # the mono span, oldest first
    cs = o + _HDR + 4 * rlen    # its running sum of squares (cs[k] = sum of sc[:k]^2)
    sh = o + _HDR + 5 * rlen    # the span decimated by two (pair sums)
    chh = sh + h                # its running sum of squares
    cn = o + _HDR + 6 * rlen    # coarse correlation per lag pair
    mid = 0.5 * (llo + lhi)
    l0 = int(math.ceil(llo))
    l1 = int(math.floor(lhi))
    if l1 < l0 + 6 or not (rate > 0.0):
        return mid
    span = int(c) + l1 // 2 + w // 2 + 4
    span += span & 1
    if span + 2 > rlen:
        return mid
    base = newest - span + 1
    acc = 0.0
    st[cs] = 0.0
    for k in range(span):
        v = st[rm + ((base + k) & mask)]
        st[sc + k] = v
        acc += v * v
        st[cs + k + 1] = acc
    # the decimated span ends at the same (newest) sample: sh[k] = sc[2k] + sc[2k + 1]
    nh = span // 2
    acc = 0.0
    st[chh] = 0.0
    for k in range(nh):
        v = st[sc + 2 * k] + st[sc + 2 * k + 1]
        st[sh + k] = v
        acc += v * v
        st[chh + k + 1] = acc
    wh = w // 2
    k0 = (l0 + 1) // 2
    k1 = l1 // 2
    best = -2.0
    for k in range(k0, k1 + 1):
        lag = 2 * k
        a0 = (span - _span_end(lag, c, u, ov, xf, rate, w) - w) // 2
        cc = 0.0
        b0 = a0 - k
        if b0 >= 0:
            den = (st[chh + a0 + wh] - st[chh + a0]) * (st[chh + b0 + wh] - st[chh + b0])
            if den > 1e-24:
                sd = 0.0
                for j in range(wh):
                    sd += st[sh + a0 + j] * st[sh + b0 + j]
                cc = sd / math.sqrt(den)
        st[cn + k - k0] = cc
        if cc > best:
            best = cc
    if best < MIN_NCC:
        return mid
    # the shortest near-best interior peak, else the best
    kb = -1
    ki = k0
    for k in range(k0, k1 + 1):
        cc = st[cn + k - k0]
        if cc >= best:
            ki = k
        if kb < 0 and k0 < k < k1 and cc >= best - NEAR_BEST and cc >= st[cn + k - k0 - 1] \
                and cc >= st[cn + k - k0 + 1]:
            kb = k
    if kb < 0:
        kb = ki
    # refine at full rate around 2 * kb
    best = -2.0
    bl = 2 * kb
    for lag in range(2 * kb - 2, 2 * kb + 3):
        if lag < l0 or lag > l1:
            continue
        a0 = span - _span_end(lag, c, u, ov, xf, rate, w) - w
        if a0 - lag - 1 < 0:
            continue
        cc = _ncc_at(st, sc, cs, a0, a0 - lag, w)
        if cc > best:
            best = cc
            bl = lag
    if best < MIN_NCC:
        return mid
    a0 = span - _span_end(bl, c, u, ov, xf, rate, w) - w
    if bl <= l0 or bl >= l1 or a0 - bl - 1 < 0:
        return float(bl)
    # parabola through the neighbours (same newer span)
    cm = _ncc_at(st, sc, cs, a0, a0 - bl + 1, w)
    cp = _ncc_at(st, sc, cs, a0, a0 - bl - 1, w)
    den = cm - 2.0 * best + cp
    d = 0.0
    if den < 0.0:
        d = 0.5 * (cm - cp) / den
        if d > 0.5:
            d = 0.5
        elif d < -0.5:
            d = -0.5
    # cm is lag bl - 1, cp lag bl + 1: the vertex is at bl + d
    return bl + d


@rt_jit
def _tap(st, rl, rr, rlen, newest, d):
    """Cubic read of both rings at ``d`` samples (real) behind the sample at index ``newest``."""
    j0, j1, j2, j3, f = ring_taps(newest - d, rlen)
    return (cubic(st[rl + j0], st[rl + j1], st[rl + j2], st[rl + j3], f),
            cubic(st[rr + j0], st[rr + j1], st[rr + j2], st[rr + j3], f))


@rt_jit
def live_feed(st, o, rlen, in0, in1, n):
    """Write ``n`` input frames into the rings without producing output (the mode is idle)."""
    mask = rlen - 1
    rl = o + _HDR
    rr = rl + rlen
    rm = rr + rlen
    lw = int(st[o + _LW]) & mask
    for i in range(n):
        xl = in0[i]
        xr = in1[i]
        st[rl + lw] = xl
        st[rr + lw] = xr
        st[rm + lw] = xl + xr
        lw = (lw + 1) & mask
    st[o + _LW] = lw


@rt_jit
def live_block(st, o, c, w, rlen, xmax, in0, in1, out0, out1, n, ap, ac, gs0, gstep, run):
    """Shift ``n`` frames of ``in0``/``in1`` into ``out0``/``out1`` (may be the same arrays).

    c: centre delay (samples, integer, the latency); w: correlation span; rlen: ring length; xmax:
    longest crossfade (samples); ap, ac: frequency ratio at the start / end of the block (ramped);
    gs0, gstep: the shift fade (0 = exact delay of ``c``, 1 = shifted) before the block and its change
    per sample (clamped to 0..1, smoothstep shaped); run: False when the fade stays at 0 all block (the
    taps wait at ``c``)."""
    mask = rlen - 1
    rl = o + _HDR
    rr = rl + rlen
    rm = rr + rlen
    lw = int(st[o + _LW]) & mask
    fc = float(c)
    dmax = float(rlen) - 3.0
    da = st[o + _DA]
    db = st[o + _DB]
    xpos = st[o + _XPOS]
    xlen = st[o + _XLEN]
    xon = st[o + _XON] != 0.0
    lp = st[o + _LP]
    ldir = st[o + _LDIR]
    if not run:
        da = fc
        db = fc
        xon = False
        lp = 0.0
    amid = ac if abs(1.0 - ac) >= abs(1.0 - ap) else ap
    xf, ov, lhi = live_geometry(amid, fc, float(xmax))
    llo = 0.5 * lhi
    gs = gs0
    inv_n = 1.0 / n if n > 0 else 0.0
    for i in range(n):
        xl = in0[i]
        xr = in1[i]
        st[rl + lw] = xl
        st[rr + lw] = xr
        st[rm + lw] = xl + xr
        newest = lw
        lw = (lw + 1) & mask
        j = (newest - c) & mask
        el = st[rl + j]
        er = st[rr + j]
        if not run:
            out0[i] = el
            out1[i] = er
            continue
        gs += gstep
        if gs > 1.0:
            gs = 1.0
        elif gs < 0.0:
            gs = 0.0
        g = gs * gs * (3.0 - 2.0 * gs)
        a = ap + (ac - ap) * (i + 1) * inv_n
        r = 1.0 - a
        if not xon and r != 0.0:
            s = 1.0 if r > 0.0 else -1.0
            if lp > 0.0 and (ldir != s or lp > lhi + 1.0):
                lp = 0.0
            u = s * (da - fc)
            if lp == 0.0 and u >= 0.5 * llo - ov:
                lp = live_search(st, o, rlen, newest, w, llo, lhi, fc, u, ov, xf, abs(r))
                ldir = s
                st[o + _LAST] = lp
            if lp > 0.0 and u >= 0.5 * lp - ov:
                db = da - s * lp
                xon = True
                xpos = 0.0
                xlen = xf
                lp = 0.0
                st[o + _NSPL] += 1.0
            if not xon and (da < MARGIN + ov or da > dmax - ov):  # out of its window (ratio jumped)
                db = fc
                xon = True
                xpos = 0.0
                xlen = xf
                lp = 0.0
        if da < MARGIN:
            da = MARGIN
        elif da > dmax:
            da = dmax
        tl, tr = _tap(st, rl, rr, rlen, newest, da)
        if xon:
            if db < MARGIN:
                db = MARGIN
            elif db > dmax:
                db = dmax
            bl, br = _tap(st, rl, rr, rlen, newest, db)
            q = (xpos + 0.5) / xlen
            if q > 1.0:
                q = 1.0
            q = q * q * (3.0 - 2.0 * q)
            tl += q * (bl - tl)
            tr += q * (br - tr)
            xpos += 1.0
            if xpos >= xlen:
                xon = False
                da = db
        out0[i] = (1.0 - g) * el + g * tl
        out1[i] = (1.0 - g) * er + g * tr
        da += r
        db += r
    st[o + _LW] = lw
    st[o + _DA] = da
    st[o + _DB] = db
    st[o + _XPOS] = xpos
    st[o + _XLEN] = xlen
    st[o + _XON] = 1.0 if xon else 0.0
    st[o + _LP] = lp
    st[o + _LDIR] = ldir
