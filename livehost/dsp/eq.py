"""Three-band EQ kernel: low shelf, peaking mid, high shelf (cookbook biquads in cascade).

Parameters (pp/pc order): low_hz (Hz), low_db (dB), mid_hz (Hz), mid_q, mid_db (dB),
high_hz (Hz), high_db (dB).  Shelves use Q = 1/sqrt(2) (cookbook shelf slope S = 1).

State layout (float64 slots)::

    st[0:12]   TDF-II memories: 4 per section (zl1, zl2, zr1, zr2), low, mid, high
    st[12:27]  cached coefficients (b0, b1, b2, a1, a2) per section
    st[27:34]  the parameter values those coefficients were computed for
"""

from __future__ import annotations


from livehost.dsp.biquad import SUB, biquad_coefs, biquad_run, lerp_freq
from livehost.dsp.rt import rt_jit

SHELF_Q = 0.7071067811865476
EQ_STATE = 34
_LS = 5.0
_PK = 4.0
_HS = 6.0


@rt_jit
def _eq_coefs(st, lo_f, lo_g, mid_f, mid_q, mid_g, hi_f, hi_g, sr):
    """Compute the three sections' coefficients into st[12:27] (frequencies Hz, gains dB)."""
    c = biquad_coefs(_LS, lo_f, SHELF_Q, lo_g, sr)
    for k in range(5):
        st[12 + k] = c[k]
    c = biquad_coefs(_PK, mid_f, mid_q, mid_g, sr)
    for k in range(5):
        st[17 + k] = c[k]
    c = biquad_coefs(_HS, hi_f, SHELF_Q, hi_g, sr)
    for k in range(5):
        st[22 + k] = c[k]


@rt_jit
def _eq_run(buf, st, i0, i1):
    """Run the three cached sections over ``buf[:, i0:i1]``."""
    biquad_run(buf, st, 0, i0, i1, st[12], st[13], st[14], st[15], st[16])
    biquad_run(buf, st, 4, i0, i1, st[17], st[18], st[19], st[20], st[21])
    biquad_run(buf, st, 8, i0, i1, st[22], st[23], st[24], st[25], st[26])


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
            if st[27 + k] != pc[k]:
                cached = False
        if not cached:
            _eq_coefs(st, pc[0], pc[1], pc[2], pc[3], pc[4], pc[5], pc[6], sr)
            for k in range(7):
                st[27 + k] = pc[k]
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
        st[27 + k] = pc[k]
