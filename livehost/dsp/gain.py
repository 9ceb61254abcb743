"""Gain and constant-power pan kernel."""

from __future__ import annotations

import math

from livehost.dsp.rt import rt_jit


@rt_jit
def db_to_amp(db):
    """Decibels (dB) to linear amplitude."""
    return 10.0 ** (db / 20.0)


@rt_jit
def gain_pan(pp, pc, st, buf, n, sr):
    """Gain (dB, pp/pc[0]) and pan (-1 left .. +1 right, pp/pc[1]) ramped per sample over the block.

    Pan is constant-power (sin/cos law) normalised so centre is unity on both channels (exactly: a
    centred mono signal stays two equal rows).
    """
    g0 = db_to_amp(pp[0])
    g1 = db_to_amp(pc[0])
    p0 = pp[1]
    p1 = pc[1]
    inv = 1.0 / n if n > 0 else 0.0
    if p0 == p1:  # pan at rest: the pan law once per block
        if p1 == 0.0:  # centre: exactly unity on both (the sin/cos law is 1 ulp off each way)
            gl = 1.0
            gr = 1.0
        else:
            ang = (p1 + 1.0) * 0.25 * math.pi
            gl = math.cos(ang) * math.sqrt(2.0)
            gr = math.sin(ang) * math.sqrt(2.0)
        for i in range(n):
            g = g0 + (g1 - g0) * ((i + 1) * inv)
            buf[0, i] *= g * gl
            buf[1, i] *= g * gr
        return
    for i in range(n):
        t = (i + 1) * inv
        g = g0 + (g1 - g0) * t
        p = p0 + (p1 - p0) * t
        ang = (p + 1.0) * 0.25 * math.pi
        gl = math.cos(ang) * math.sqrt(2.0)
        gr = math.sin(ang) * math.sqrt(2.0)
        buf[0, i] *= g * gl
        buf[1, i] *= g * gr
