"""Feed-forward compressor (Giannoulis, Massberg & Reiss, JAES 2012 design):

- level: ``x_dB = 20*log10(max(|L|, |R|))`` per frame (stereo-linked peak);
- static curve (gain computer) with a quadratic soft knee of width ``knee_db`` (W)::

      2(x - T) <  -W      y = x
      2|x - T| <=  W      y = x + (1/R - 1) * (x - T + W/2)**2 / (2W)
      2(x - T) >   W      y = T + (x - T)/R

- gain reduction ``c = x - y`` (dB) smoothed by the *smooth decoupled peak detector* in the log
  domain: ``y1 = max(c, aR*y1 + (1-aR)*c)`` then ``yL = aA*yL + (1-aA)*y1``, with
  ``a = exp(-1/(tau*sr))`` (attack_ms / release_ms are time constants: 63 % of a step);
- output ``x(t - lookahead) * 10**((makeup_db - yL)/20)``; the lookahead delay is reported as the
  node's latency.

State slots (float64): the ``K_*`` constants below, then the lookahead rings.
"""

from __future__ import annotations

import math

from livehost.dsp.rt import rt_jit


MAX_LOOKAHEAD_MS = 10.0
K_Y1 = 0  #: peak detector y1: gain reduction before attack smoothing, dB
K_YL = 1  #: smoothed gain reduction yL, dB
K_W = 2  #: lookahead ring write index, 0..ring length - 1
HEAD = 4  #: left lookahead ring, then right (a power of two slots each)
LOG20 = 20.0 / math.log(10.0)  # dB per neper of amplitude
DB2NP = math.log(10.0) / 20.0


def compressor_state_size(sr: float, max_block: int) -> int:
    """Float64 slots of a compressor at ``sr`` Hz (two lookahead rings)."""
    k = 1
    while k < int(math.ceil(MAX_LOOKAHEAD_MS * 1e-3 * sr)) + 2:
        k *= 2
    return HEAD + 2 * k


def compressor_latency(values: dict, sr: float) -> int:
    """Lookahead delay in samples for parameter ``values`` (lookahead_ms) at ``sr`` Hz."""
    return int(round(min(max(float(values.get("lookahead_ms", 0.0)), 0.0), MAX_LOOKAHEAD_MS) * 1e-3 * sr))


@rt_jit
def gain_computer(x_db, threshold_db, ratio, knee_db):
    """Static compression curve: output level (dB) for input level ``x_db`` (dB)."""
    d = x_db - threshold_db
    if 2.0 * d < -knee_db:
        return x_db
    if knee_db > 0.0 and 2.0 * abs(d) <= knee_db:
        e = d + 0.5 * knee_db
        return x_db + (1.0 / ratio - 1.0) * e * e / (2.0 * knee_db)
    return threshold_db + d / ratio


@rt_jit
def compressor_kernel(pp, pc, st, buf, n, sr):
    """The ``compressor`` node: threshold_db (dBFS), ratio, attack_ms (ms), release_ms (ms),
    knee_db (dB), makeup_db (dB), lookahead_ms (ms) in pp/pc[0..6].  Makeup ramps across the
    block; the rest take ``pc``."""
    if n <= 0:
        return
    T = pc[0]
    R = max(pc[1], 1.0)
    W = max(pc[4], 0.0)
    aA = math.exp(-1.0 / (max(pc[2], 1e-3) * 1e-3 * sr))
    aR = math.exp(-1.0 / (max(pc[3], 1e-3) * 1e-3 * sr))
    lin_knee = math.exp((T - 0.5 * W) * DB2NP)  # below this peak level the curve is identity
    N = (len(st) - HEAD) // 2
    mask = N - 1
    bl = HEAD
    br = HEAD + N
    la = int(round(min(max(pc[6], 0.0), MAX_LOOKAHEAD_MS) * 1e-3 * sr))
    w = int(st[K_W]) & mask
    y1 = st[K_Y1]
    yl = st[K_YL]
    m0 = pp[5]
    dm = (pc[5] - pp[5]) / n
    for i in range(n):
        xl = buf[0, i]
        xr = buf[1, i]
        pk = max(abs(xl), abs(xr))
        c = 0.0
        if pk > lin_knee:
            xdb = LOG20 * math.log(pk)
            c = xdb - gain_computer(xdb, T, R, W)
        r = aR * y1 + (1.0 - aR) * c
        y1 = c if c > r else r
        yl = aA * yl + (1.0 - aA) * y1
        g = math.exp((m0 + dm * (i + 1) - yl) * DB2NP)
        st[bl + w] = xl
        st[br + w] = xr
        rd = (w - la) & mask
        buf[0, i] = st[bl + rd] * g
        buf[1, i] = st[br + rd] * g
        w = (w + 1) & mask
    st[K_Y1] = y1
    st[K_YL] = yl
    st[K_W] = float(w)
