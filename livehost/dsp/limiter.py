"""Master section kernel: gain, a lookahead peak limiter, a hard ceiling and a mute ramp.

The limiter looks ``st[0]`` samples ahead (1.5 ms): the gain it needs for every sample entering the
lookahead window is min-held over the window (a monotonic deque: O(1) per sample), approached with a
fast one-pole (time constant a fifth of the window) and released with ``release_ms``. Whatever
residue remains is clamped at the ceiling, so no sample above the ceiling ever leaves.
"""

from __future__ import annotations

import math

from numba import njit

LOOKAHEAD_S = 0.0015
# st[0] lookahead L (constant) | st[1] block min gain | st[2] envelope | st[3] delay-line position |
# st[4] samples seen | st[5] deque head | st[6] deque tail; then the deque (values, sample indices)
# and the two delay lines, r = L + 1 slots each
HEAD = 8


def limiter_state_size(sr: float, max_block: int) -> int:
    """Float64 slots the master needs at ``sr`` Hz: header + deque (2 rings) + 2 delay lines."""
    r = int(round(LOOKAHEAD_S * sr)) + 1
    return HEAD + 4 * r


def limiter_init(st, sr: float, max_block: int) -> None:
    """Set the lookahead length (samples) and start with unity gain (no fade-in at start)."""
    st[0] = float(int(round(LOOKAHEAD_S * sr)))
    st[2] = 1.0


@njit(cache=True, nogil=True)
def master_kernel(pp, pc, st, buf, n, sr):
    """Master: gain_db (dB), ceiling_db (dBFS), release_ms (ms), mute (0/1) — pp/pc[0..3].

    Leaves the limited signal in ``buf[:, :n]`` and the smallest gain of the block in ``st[1]``.
    """
    L = int(st[0])
    r = L + 1
    qv = HEAD  # deque of (required gain, sample index), increasing gains from head to tail
    qi = HEAD + r
    dl = HEAD + 2 * r
    dr = HEAD + 3 * r
    env = st[2]
    pos = int(st[3])
    idx = int(st[4])
    qh = int(st[5])
    qt = int(st[6])
    g0 = 10.0 ** (pp[0] / 20.0)
    g1 = 10.0 ** (pc[0] / 20.0)
    c = 10.0 ** (pc[1] / 20.0)
    m0 = 1.0 - pp[3]
    m1 = 1.0 - pc[3]
    a_att = 1.0 - math.exp(-5.0 / max(L, 1))
    a_rel = 1.0 - math.exp(-1000.0 / (max(pc[2], 1.0) * sr))
    inv = 1.0 / n if n > 0 else 0.0
    gmin = 1.0
    for i in range(n):
        t = (i + 1) * inv
        g = g0 + (g1 - g0) * t
        xl = buf[0, i] * g
        xr = buf[1, i] * g
        pk = max(abs(xl), abs(xr))
        req = 1.0
        if pk > c:
            req = c / pk
        # window minimum of the last r required gains (monotonic deque, ring of r slots): drop what left
        # the window first, so the push never overwrites a live slot
        while qt > qh and st[qi + qh % r] <= idx - r:
            qh += 1
        while qt > qh and st[qv + (qt - 1) % r] >= req:
            qt -= 1
        st[qv + qt % r] = req
        st[qi + qt % r] = idx
        qt += 1
        target = st[qv + qh % r]
        idx += 1
        if target < env:
            env += (target - env) * a_att
        else:
            env += (target - env) * a_rel
        # the delay line: read the sample that entered L samples ago (pos is the oldest after write)
        rd = pos + 1
        if rd >= r:
            rd = 0
        st[dl + pos] = xl
        st[dr + pos] = xr
        yl = st[dl + rd] * env
        yr = st[dr + rd] * env
        if env < gmin:
            gmin = env
        if yl > c:
            yl = c
        elif yl < -c:
            yl = -c
        if yr > c:
            yr = c
        elif yr < -c:
            yr = -c
        m = m0 + (m1 - m0) * t
        buf[0, i] = yl * m
        buf[1, i] = yr * m
        pos = rd
    st[1] = gmin
    st[2] = env
    st[3] = pos
    st[4] = idx
    st[5] = qh
    st[6] = qt
