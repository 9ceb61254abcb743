"""Small numba helpers shared by the time-domain effects: ring-buffer reads inside a state vector."""

from __future__ import annotations

import math

from livehost.dsp.rt import rt_jit


@rt_jit(inline="always")
def ring_taps(pos, length):
    """Indices (i-1, i, i+1, i+2, each wrapped into ``0..length-1``) and fraction of the real ring
    position ``pos`` (samples, any value) for a 4-point cubic read; one computation can serve several
    rings of the same length (the channels of a stereo line)."""
    fl = math.floor(pos)
    f = pos - fl
    i = int(fl)
    if i < 0 or i >= length:  # the modulo (an integer division) only when it is needed
        i %= length
        if i < 0:
            i += length
    im1 = i - 1 if i > 0 else length - 1
    i1 = i + 1 if i + 1 < length else 0
    i2 = i1 + 1 if i1 + 1 < length else 0
    return im1, i, i1, i2, f


@rt_jit
def ring_read(st, off, length, pos):
    """4-point cubic (Catmull-Rom/Hermite) read of the ring ``st[off:off+length]`` at absolute position
    ``pos`` (samples, any real value; wrapped modulo ``length``)."""
    j0, j1, j2, j3, f = ring_taps(pos, length)
    return cubic(st[off + j0], st[off + j1], st[off + j2], st[off + j3], f)


@rt_jit
def ring_at(st, off, length, idx):
    """Sample of the ring ``st[off:off+length]`` at integer absolute index ``idx`` (wrapped)."""
    i = idx
    if i < 0 or i >= length:
        i %= length
        if i < 0:
            i += length
    return st[off + i]


@rt_jit
def cubic(y0, y1, y2, y3, f):
    """The 4-point cubic (Catmull-Rom/Hermite) of :func:`ring_read` between y1 (f = 0) and y2 (f = 1)."""
    c1 = 0.5 * (y2 - y0)
    c2 = y0 - 2.5 * y1 + 2.0 * y2 - 0.5 * y3
    c3 = 0.5 * (y3 - y0) + 1.5 * (y1 - y2)
    return ((c3 * f + c2) * f + c1) * f + y1


@rt_jit
def cubic_weights(f):
    """The weights (w0, w1, w2, w3) that make :func:`cubic` ``w0*y0 + w1*y1 + w2*y2 + w3*y3`` at
    fraction ``f`` (0..1): for a read at a fixed fraction, computed once instead of per sample."""
    f2 = f * f
    f3 = f2 * f
    return (-0.5 * f + f2 - 0.5 * f3, 1.0 - 2.5 * f2 + 1.5 * f3, 0.5 * f + 2.0 * f2 - 1.5 * f3,
            -0.5 * f2 + 0.5 * f3)


@rt_jit
def clampf(x, lo, hi):
    """``x`` limited to ``[lo, hi]``; NaN maps to ``lo``."""
    if x >= lo:
        return x if x <= hi else hi
    return lo
