"""Latency compensation delay: an integer delay line whose length follows a target, crossfaded.

The engine delays a node's dry path by the node's latency (so a dry/wet mix is not a comb) and a
layer's faster branches to the slowest one. When the wanted delay changes (a parameter that moves the
latency, a bypass, an edit) the output crossfades from the old tap to the new one over
``FADE_S``, so the chain's latency changes without a click. At a steady delay ``d`` the output is
exactly the input ``d`` samples ago (``d = 0``: the input itself).

State layout (float64): the slots below, then two rings of ``cap`` samples (left, right).
"""

from __future__ import annotations

import numpy as np

from livehost.dsp.rt import rt_jit

C_TARGET = 0  #: wanted delay (samples), written by the control side
C_FROM = 1  #: delay the running crossfade leaves (samples)
C_TO = 2  #: delay the running crossfade reaches (samples)
C_POS = 3  #: crossfade position 0..1 (1 = settled on C_TO)
C_W = 4  #: write index into the rings
C_CAP = 5  #: ring length (samples): the largest delay is cap - 1
C_FADE = 6  #: crossfade length (samples)
C_HEAD = 8  #: first ring sample
FADE_S = 0.02  #: 20 ms: long enough to hide a tap change, short enough to follow an edit


def comp_state_size(max_delay: int) -> int:
    """Slots for a compensation delay of up to ``max_delay`` samples."""
    return C_HEAD + 2 * (int(max_delay) + 1)


def comp_init(st: np.ndarray, max_delay: int, delay: int, sr: float) -> None:
    """Set up ``st`` (zeroed) for delays up to ``max_delay`` samples, settled at ``delay`` samples."""
    cap = int(max_delay) + 1
    d = float(min(max(int(delay), 0), cap - 1))
    st[C_TARGET] = d
    st[C_FROM] = d
    st[C_TO] = d
    st[C_POS] = 1.0
    st[C_W] = 0.0
    st[C_CAP] = cap
    st[C_FADE] = max(1.0, round(FADE_S * sr))


@rt_jit
def comp_delay(st, buf, n, target):
    """Delay ``buf[:, :n]`` in place by ``target`` samples (clamped to the ring), crossfading from
    the previous delay over ``C_FADE`` samples when it changes."""
    cap = int(st[C_CAP])
    if cap < 1 or st.shape[0] < C_HEAD + 2 * cap:
        return
    t = float(min(max(int(target), 0), cap - 1))
    if st[C_POS] >= 1.0 and t != st[C_TO]:
        st[C_FROM] = st[C_TO]
        st[C_TO] = t
        st[C_POS] = 0.0
    d0 = int(st[C_FROM])
    d1 = int(st[C_TO])
    pos = st[C_POS]
    step = 1.0 / st[C_FADE]
    w = int(st[C_W])
    left = C_HEAD
    right = C_HEAD + cap
    for i in range(n):
        st[left + w] = buf[0, i]
        st[right + w] = buf[1, i]
        r1 = w - d1
        if r1 < 0:
            r1 += cap
        y0 = st[left + r1]
        y1 = st[right + r1]
        if pos < 1.0:
            r0 = w - d0
            if r0 < 0:
                r0 += cap
            pos += step
            if pos > 1.0:
                pos = 1.0
            y0 = st[left + r0] + pos * (y0 - st[left + r0])
            y1 = st[right + r0] + pos * (y1 - st[right + r0])
        buf[0, i] = y0
        buf[1, i] = y1
        w += 1
        if w == cap:
            w = 0
    st[C_W] = w
    st[C_POS] = pos
