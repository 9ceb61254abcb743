"""Three-band EQ kernel: low shelf, peaking mid, high shelf (cookbook biquads in cascade).

Parameters (pp/pc order): low_hz (Hz), low_db (dB), mid_hz (Hz), mid_q, mid_db (dB),
high_hz (Hz), high_db (dB).  Shelves use Q = 1/sqrt(2) (cookbook shelf slope S = 1).

State slots (float64): the ``E_*`` constants below.
"""

from __future__ import annotations


from livehost.dsp.biquad import SUB, biquad_coefs, biquad_run, lerp_freq
from livehost.dsp.rt import rt_jit

SHELF_Q = 0.7071067811865476
E_ZLO = 0  #: low shelf TDF-II memories (zl1, zl2, zr1, zr2), 4 slots
E_ZMID = 4  #: peaking mid TDF-II memories, 4 slots
E_ZHI = 8  #: high shelf TDF-II memories, 4 slots
E_CLO = 12  #: low shelf cached coefficients (b0, b1, b2, a1, a2), 5 slots, dimensionless
E_CMID = 17  #: peaking mid cached coefficients, 5 slots
E_CHI = 22  #: high shelf cached coefficients, 5 slots
E_PAR = 27  #: the 7 parameter values (pp/pc order: Hz, dB, Hz, Q, dB, Hz, dB) the coefficients are for
EQ_STATE = 34  #: slots of an ``eq`` instance
_LS = 5.0
_PK = 4.0
_HS = 6.0


@rt_jit
def _eq_coefs(st, lo_f, lo_g, mid_f, mid_q, mid_g, hi_f, hi_g, sr):
    """Compute the three sections' coefficients into st[E_CLO:E_CHI + 5] (frequencies Hz, gains dB)."""
    c = biquad_coefs(_LS, lo_f, SHELF_Q, lo_g, sr)
    for k in range(5):
        st[E_CLO + k] = c[k]
    c = biquad_coefs(_PK, mid_f, mid_q, mid_g, sr)
    for k in range(5):
        st[E_CMID + k] = c[k]
    c = biquad_coefs(_HS, hi_f, SHELF_Q, hi_g, sr)
    for k in range(5):
        st[E_CHI + k] = c[k]


@rt_jit
def _eq_run(buf, st, i0, i1):
    """Run the three cached sections over ``buf[:, i0:i1]``."""
    biquad_run(buf, st, E_ZLO, i0, i1, st[E_CLO], st[E_CLO + 1], st[E_CLO + 2], st[E_CLO + 3], st[E_CLO + 4])
    biquad_run(buf, st, E_ZMID, i0, i1, st[E_CMID], st[E_CMID + 1], st[E_CMID + 2], st[E_CMID + 3],
               st[E_CMID + 4])
    biquad_run(buf, st, E_ZHI, i0, i1, st[E_CHI], st[E_CHI + 1], st[E_CHI + 2], st[E_CHI + 3], st[E_CHI + 4])


@rt_jit
def eq_kernel(pp, pc, st, buf, n, sr):
    """The ``eq`` node (see module docstring for parameters); coefficients cached while constant,
    recomputed every SUB frames from interpolated values while any parameter moves."""
    if n <= 0:
        return
    same = True
    for k in range(7):
        if pp[k] != pc[k]:
            same = False
    if same:
        cached = True
        for k in range(7):
            if st[E_PAR + k] != pc[k]:
                cached = False
        if not cached:
            _eq_coefs(st, pc[0], pc[1], pc[2], pc[3], pc[4], pc[5], pc[6], sr)
            for k in range(7):
                st[E_PAR + k] = pc[k]
        _eq_run(buf, st, 0, n)
        return
    inv = 1.0 / n
    i0 = 0
    while i0 < n:
        i1 = min(i0 + SUB, n)
        t = i1 * inv
        _eq_coefs(st, lerp_freq(pp[0], pc[0], t), pp[1] + (pc[1] - pp[1]) * t,
                  lerp_freq(pp[2], pc[2], t), pp[3] + (pc[3] - pp[3]) * t, pp[4] + (pc[4] - pp[4]) * t,
                  lerp_freq(pp[5], pc[5], t), pp[6] + (pc[6] - pp[6]) * t, sr)
        _eq_run(buf, st, i0, i1)
        i0 = i1
    for k in range(7):
        st[E_PAR + k] = pc[k]
