"""Live reverse: the last ``window_ms`` of the input played backwards by two overlapping grains.

Two grains run half a window apart. A grain started at time ``s`` outputs, ``a`` samples later, the
input sample from ``a`` samples *before* ``s`` (read position ``2 s - now``: backwards at unit speed,
so pitch is kept and a rising chirp comes out falling). Each grain is weighted by ``sin^2(pi phase)``;
the two weights sum to exactly 1, so the joins are raised-cosine crossfades without clicks. Every output
sample is between 0 and 2 windows old; the grain centre (full weight) is one window old, which is the
reported latency.

Parameters: ``0 window_ms``. State slots (float64): the ``V_*`` constants below, then the rings.
"""

from __future__ import annotations

import math

from livehost.dsp.rt import rt_jit


MIN_WINDOW_MS = 50.0
MAX_WINDOW_MS = 2000.0
V_LEN = 0  #: ring length per channel, samples (constant)
RESET_FROM = 4  #: the NaN guard zeroes the slots from here on (the constant above stays)
V_CNT = 4  #: sample counter, samples
V_PH = 5  #: phase of grain A, 0..1 (grain B is A + 0.5)
V_SA = 6  #: start of grain A, sample counter value
V_SB = 7  #: start of grain B, sample counter value
_HDR = 8  #: left ring (ring length slots), then right ring


def _ring_len(sr: float, max_block: int) -> int:
    return int(math.ceil(2.0 * MAX_WINDOW_MS * 1e-3 * sr)) + int(max_block) + 16


def reverse_state_size(sr: float, max_block: int) -> int:
    """Float64 slots of state at ``sr`` Hz: two rings of two maximum windows."""
    return _HDR + 2 * _ring_len(sr, max_block)


def reverse_init(st, sr: float, max_block: int) -> None:
    """Store the ring length (samples) for ``sr`` Hz."""
    st[V_LEN] = _ring_len(sr, max_block)


def reverse_latency(values: dict, sr: float) -> int:
    """Delay (samples) of the grain centre: one window, ``window_ms * sr / 1000``."""
    ms = float(values.get("window_ms", 300.0))
    return int(round(min(max(ms, MIN_WINDOW_MS), MAX_WINDOW_MS) * 1e-3 * sr))


@rt_jit
def reverse_process(pp, pc, st, buf, n, sr):
    """Reverse ``buf[:, :n]`` in place (window ``window_ms`` in ms, pp/pc[0], ramped over the block)."""
    L = int(st[V_LEN])
    if L < 16 or n <= 0:
        return
    offl = _HDR
    offr = _HDR + L
    cnt = st[V_CNT]
    ph = st[V_PH]
    sa = st[V_SA]
    sb = st[V_SB]
    if not (ph >= 0.0 and ph < 1.0):
        ph = 0.0
    w0 = min(max(pp[0], MIN_WINDOW_MS), MAX_WINDOW_MS) * 1e-3 * sr
    w1 = min(max(pc[0], MIN_WINDOW_MS), MAX_WINDOW_MS) * 1e-3 * sr
    inv = 1.0 / n
    maxage = 0.5 * (L - 8)
    for i in range(n):
        wi = int(cnt) % L
        st[offl + wi] = buf[0, i]
        st[offr + wi] = buf[1, i]
        # grain B's phase is A's + 0.5
        phb = ph + 0.5
        if phb >= 1.0:
            phb -= 1.0
        ga = math.sin(math.pi * ph)
        ga *= ga
        gb = 1.0 - ga
        agea = cnt - sa
        ageb = cnt - sb
        if agea > maxage:
            agea = maxage
        if ageb > maxage:
            ageb = maxage
        ia = int(cnt - 2.0 * agea) % L
        ib = int(cnt - 2.0 * ageb) % L
        buf[0, i] = ga * st[offl + ia] + gb * st[offl + ib]
        buf[1, i] = ga * st[offr + ia] + gb * st[offr + ib]
        # advance
        w = w0 + (w1 - w0) * (i + 1) * inv
        cnt += 1.0
        ph += 1.0 / w
        if ph >= 1.0:
            ph -= 1.0
            if ph >= 1.0:
                ph = 0.0
            sa = cnt
        nb = ph + 0.5
        if nb >= 1.0:
            nb -= 1.0
        if nb < phb:  # grain B wrapped
            sb = cnt
    st[V_CNT] = cnt
    st[V_PH] = ph
    st[V_SA] = sa
    st[V_SB] = sb
