"""Master section kernel: gain, a lookahead peak limiter, a hard ceiling and a mute ramp.

The limiter looks ``L_LOOK`` samples ahead (1.5 ms): the gain it needs for every sample entering the
lookahead window is min-held over the window (a monotonic deque: O(1) per sample), approached with a
fast one-pole (time constant a fifth of the window) and released with ``release_ms``. Whatever
residue remains is clamped at the ceiling, so no sample above the ceiling ever leaves.

While nothing needs limiting (unity gain, no reduction pending in the window, no sample of the block
over the ceiling) a block takes a fast path that is the same delay line without the per-sample
window bookkeeping; it leaves the state exactly as the per-sample path would.
"""

from __future__ import annotations

import math

from livehost.dsp.rt import rt_jit


LOOKAHEAD_S = 0.0015
L_LOOK = 0  #: lookahead L, samples (constant)
L_GMIN = 1  #: smallest gain of the last block, linear (read by the engine's limiter meter)
L_ENV = 2  #: envelope: the gain applied, linear
L_POS = 3  #: delay-line write position, slot 0..L
L_IDX = 4  #: samples seen
L_QH = 5  #: deque head: entries dropped, count
L_QT = 6  #: deque tail: entries pushed, count
HEAD = 8  #: the deque (values, then sample indices) and the two delay lines start here, L + 1 slots each


def limiter_state_size(sr: float, max_block: int) -> int:
    """Float64 slots the master needs at ``sr`` Hz: header + deque (2 rings) + 2 delay lines."""
    r = int(round(LOOKAHEAD_S * sr)) + 1
    return HEAD + 4 * r


def limiter_init(st, sr: float, max_block: int) -> None:
    """Set the lookahead length (samples) and start with unity gain (no fade-in at start)."""
    st[L_LOOK] = float(int(round(LOOKAHEAD_S * sr)))
    st[L_ENV] = 1.0


RELEASE_SNAP = 1e-9
"""A releasing gain within this of unity (1e-9, about 1e-8 dB) is set to exactly 1."""


@rt_jit
def _under(buf, n, g0, g1, inv, c):
    """True if no sample of ``buf[:, :n]`` times the gain ramp g0 -> g1 exceeds the ceiling ``c``."""
    for i in range(n):
        g = g0 + (g1 - g0) * ((i + 1) * inv)
        if abs(buf[0, i] * g) > c or abs(buf[1, i] * g) > c:
            return False
    return True


@rt_jit
def master_kernel(pp, pc, st, buf, n, sr):
    """Master: gain_db (dB), ceiling_db (dBFS), release_ms (ms), mute (0/1) — pp/pc[0..3].

    Leaves the limited signal in ``buf[:, :n]`` and the smallest gain of the block in ``st[L_GMIN]``.
    """
    L = int(st[L_LOOK])
    r = L + 1
    qv = HEAD  # deque of (required gain, sample index), increasing gains from head to tail
    qi = HEAD + r
    dl = HEAD + 2 * r
    dr = HEAD + 3 * r
    env = st[L_ENV]
    pos = int(st[L_POS])
    idx = int(st[L_IDX])
    qh = int(st[L_QH])
    qt = int(st[L_QT])
    g0 = 10.0 ** (pp[0] / 20.0)
    g1 = 10.0 ** (pc[0] / 20.0)
    c = 10.0 ** (pc[1] / 20.0)
    m0 = 1.0 - pp[3]
    m1 = 1.0 - pc[3]
    a_att = 1.0 - math.exp(-5.0 / max(L, 1))
    a_rel = 1.0 - math.exp(-1000.0 / (max(pc[2], 1.0) * sr))
    inv = 1.0 / n if n > 0 else 0.0
    gmin = 1.0
    # ring positions of the deque's head and tail (qh % r, qt % r), kept without integer division
    hi = qh % r
    ti = qt % r
    if env == 1.0 and (qt == qh or st[qv + hi] >= 1.0) and _under(buf, n, g0, g1, inv, c):
        # nothing to limit in the window nor in this block: the limiter is a delay line
        for i in range(n):
            t = (i + 1) * inv
            g = g0 + (g1 - g0) * t
            rd = pos + 1
            if rd >= r:
                rd = 0
            st[dl + pos] = buf[0, i] * g
            st[dr + pos] = buf[1, i] * g
            m = m0 + (m1 - m0) * t
            buf[0, i] = min(c, max(-c, st[dl + rd])) * m
            buf[1, i] = min(c, max(-c, st[dr + rd])) * m
            pos = rd
        if n > 0:  # the deque the per-sample path would leave: one entry, gain 1 at the last sample
            st[qv + hi] = 1.0
            st[qi + hi] = idx + n - 1
            qt = qh + 1
        st[L_GMIN] = 1.0
        st[L_POS] = pos
        st[L_IDX] = idx + n
        st[L_QH] = qh
        st[L_QT] = qt
        return
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
        while qt > qh and st[qi + hi] <= idx - r:
            qh += 1
            hi += 1
            if hi == r:
                hi = 0
        while qt > qh:
            tl = ti - 1 if ti > 0 else r - 1
            if st[qv + tl] < req:
                break
            qt -= 1
            ti = tl
        st[qv + ti] = req
        st[qi + ti] = idx
        qt += 1
        ti += 1
        if ti == r:
            ti = 0
        target = st[qv + hi]
        idx += 1
        if target < env:
            env += (target - env) * a_att
        else:
            env += (target - env) * a_rel
            if target == 1.0 and env > 1.0 - RELEASE_SNAP:
                env = 1.0  # a one-pole never reaches its target in floating point: finish the release
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
    st[L_GMIN] = gmin
    st[L_ENV] = env
    st[L_POS] = pos
    st[L_IDX] = idx
    st[L_QH] = qh
    st[L_QT] = qt
