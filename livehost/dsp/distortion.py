"""Waveshaping distortion, 4x oversampled (two polyphase IIR half-band stages: 2x of 2x).

Signal path per channel: up 2x (stage 1) -> up 2x (stage 2) -> drive (dB) -> shaper at 4*sr
-> down 2x (stage 2) -> down 2x (stage 1) -> DC blocker (10 Hz) -> tone low-pass (cookbook
biquad, Q 0.7071) -> output gain (dB).

Half-band filters: polyphase two-path allpass ("elliptic half-band", Valenzuela & Constantinides;
coefficients from the closed-form design in :func:`halfband_allpass_coefs`, computed at import into
module constants that the kernel compiles in).  ``H(z) = (A0(z^2) + z^-1 A1(z^2)) / 2`` with
``A0``/``A1`` cascades of first-order allpasses ``(a + z^-2) / (1 + a z^-2)`` (even-indexed
coefficients in ``A0``, odd ones in ``A1``).  Each branch runs at the low rate, so one coefficient
costs one multiply per low-rate sample:

- stage 1 (at 2*sr, 5 coefficients): pass 0..20 kHz (48 kHz base), stop above 28 kHz at -80 dB;
- stage 2 (at 4*sr, 3 coefficients): pass 0..28 kHz, stop above 68 kHz at -77 dB
  (what folds below 20 kHz in the 4x -> 2x decimation, 76..96 kHz, is down by more than 100 dB).

Passband ripple is below 1e-6 dB (an elliptic half-band's passband ripple is the square of its
stopband ripple).  The phase is not linear: the group delay of the whole up/down chain is 2.98
base-rate samples at low frequencies (:data:`GROUP_DELAY`; it rises towards 20 kHz); the node reports
:data:`LATENCY` = 3 samples, its rounded value (the impulse response peaks one sample later).

The kernel runs three passes over the block, both channels in each: (1) upsample to 4x into a
scratch buffer (filter memories in registers), (2) drive + shaper over the scratch (a plain loop
that vectorises), (3) downsample, DC blocker, tone filter and output gain fused into one loop.
When both channels would compute the same samples (equal input rows and equal memories: a mono
source, the usual microphone) only the left one runs and is copied: the same output, half the work.

State slots (float64): the constants ``X_C1``, ``X_C2``, ``X_MB``; from ``RESET_FROM`` (R) the
``X_*`` slots at ``R + X_...``, the half-band filter memories at ``R + _FILT`` (``_PER_CH`` per
channel, L then R, sections at ``X_UP1`` .. ``X_DN1``), the cached gains at ``R + _CACHE`` (``X_DRIVE``
.. ``X_POLE``); then from ``R + HEAD`` the 4x scratch: 4 * max_block (L) + 4 * max_block (R).
"""

from __future__ import annotations

import math

import numpy as np

from livehost.dsp.biquad import biquad_coefs
from livehost.dsp.rt import rt_jit

SHAPES = ("tanh", "hard", "soft", "fold", "asym")
ASYM_BIAS = 0.3
TANH_CLIP = 4.97

N1 = 5  # stage-1 allpass coefficients (2x <-> 1x)
N2 = 3  # stage-2 allpass coefficients (4x <-> 2x)
TBW1 = 8.0 / 96.0  # stage-1 transition band 20..28 kHz at 96 kHz (fraction of its rate)
TBW2 = 40.0 / 192.0  # stage-2 transition band 28..68 kHz at 192 kHz
X_C1 = 0  #: stage-1 allpass coefficients, N1 slots (constant; a copy for inspection: compiled in)
X_C2 = N1  #: stage-2 allpass coefficients, N2 slots (constant; a copy for inspection)
X_MB = N1 + N2  #: max_block, frames (constant)
NCONST = N1 + N2 + 1
RESET_FROM = NCONST  #: the NaN guard zeroes the slots from here on (the constants above stay)
X_ZL1 = 0  #: from RESET_FROM: tone biquad memory z1, left
X_ZL2 = 1  #: tone biquad memory z2, left
X_ZR1 = 2  #: tone biquad memory z1, right
X_ZR2 = 3  #: tone biquad memory z2, right
X_B0 = 4  #: tone coefficient b0 (dimensionless, a0 = 1)
X_B1 = 5  #: tone coefficient b1
X_B2 = 6  #: tone coefficient b2
X_A1 = 7  #: tone coefficient a1
X_A2 = 8  #: tone coefficient a2
X_TONE = 9  #: the tone_hz (Hz) the coefficients were made for
X_DCXL = 10  #: DC blocker x1, left
X_DCYL = 11  #: DC blocker y1, left
X_DCXR = 12  #: DC blocker x1, right
X_DCYR = 13  #: DC blocker y1, right
_FILT = 14  #: from RESET_FROM: half-band filter memories, _PER_CH per channel (L then R)
_PER_CH = 22
X_UP1 = 0  #: within a channel's filter memories: up-1 (2x interpolator), 6 slots
X_UP2 = 6  #: up-2 (4x interpolator), 4 slots
X_DN2 = 10  #: down-2 (4x decimator), 5 slots
X_DN1 = 15  #: down-1 (2x decimator), 7 slots
_CACHE = _FILT + 2 * _PER_CH  #: from RESET_FROM: cached gains (58)
X_DRIVE = 0  #: within the cache: drive, dB key then amplitude (2 slots)
X_OUT = 2  #: output gain, dB key then amplitude (2 slots)
X_SR = 4  #: the sample rate (Hz) the DC pole was made for
X_POLE = 5  #: DC blocker pole
HEAD = 64  #: from RESET_FROM: the 4x scratch
_FM = {"contract"}  # fused multiply-add only: no reassociation, NaN/Inf semantics kept


def halfband_allpass_coefs(n_coefs: int, transition: float) -> np.ndarray:
    """Coefficients ``a_0 < a_1 < ...`` of a two-path allpass (elliptic) half-band low-pass.

    transition: width of the transition band as a fraction of the filter's sample rate, centred
    on a quarter of it (pass edge ``1/4 - transition/2``, stop edge ``1/4 + transition/2``).
    Closed-form design (elliptic modulus from the transition width, then the allpass poles from
    the theta-function series), as in Valenzuela & Constantinides (1983) / L. de Soras' HIIR.
    """
    k = math.tan((1.0 - 2.0 * transition) * math.pi / 4.0) ** 2
    kk = (1.0 - k * k) ** 0.25
    e = 0.5 * (1.0 - kk) / (1.0 + kk)
    e4 = e ** 4
    q = e * (1.0 + e4 * (2.0 + e4 * (15.0 + 150.0 * e4)))
    order = 2 * n_coefs + 1
    out = np.empty(n_coefs)
    for idx in range(n_coefs):
        c = idx + 1
        num, i, sgn = 0.0, 0, 1.0
        while True:
            t = q ** (i * (i + 1)) * math.sin((2 * i + 1) * c * math.pi / order) * sgn
            num += t
            sgn, i = -sgn, i + 1
            if abs(t) < 1e-100:
                break
        num *= q ** 0.25
        den, i, sgn = 0.5, 1, -1.0
        while True:
            t = q ** (i * i) * math.cos(2 * i * c * math.pi / order) * sgn
            den += t
            sgn, i = -sgn, i + 1
            if abs(t) < 1e-100:
                break
        ww = (num / den) ** 2
        x = math.sqrt((1.0 - ww * k) * (1.0 - ww / k)) / (1.0 + ww)
        out[idx] = (1.0 - x) / (1.0 + x)
    return out


def halfband_response(coefs, f) -> np.ndarray:
    """Complex response of the half-band ``(A0(z^2) + z^-1 A1(z^2)) / 2`` at ``f`` (cycles per
    sample of the filter's own rate, 0..0.5)."""
    z1 = np.exp(-2j * np.pi * np.asarray(f, np.float64))
    z2 = z1 * z1
    a0 = np.ones_like(z1)
    a1 = np.ones_like(z1)
    for i, a in enumerate(coefs):
        s = (a + z2) / (1.0 + a * z2)
        if i % 2 == 0:
            a0 = a0 * s
        else:
            a1 = a1 * s
    return 0.5 * (a0 + z1 * a1)


def halfband_group_delay(coefs) -> float:
    """Group delay at DC (samples of the filter's own rate) of :func:`halfband_response`."""
    a = np.asarray(coefs, np.float64)
    d0 = np.sum(2.0 * (1.0 - a[0::2]) / (1.0 + a[0::2]))
    d1 = 1.0 + np.sum(2.0 * (1.0 - a[1::2]) / (1.0 + a[1::2]))
    return 0.5 * (d0 + d1)


C1 = halfband_allpass_coefs(N1, TBW1)
C2 = halfband_allpass_coefs(N2, TBW2)
# compile-time constants for the kernel
_a10, _a11, _a12, _a13, _a14 = (float(v) for v in C1)
_a20, _a21, _a22 = (float(v) for v in C2)

GROUP_DELAY = (halfband_group_delay(C1) - 0.5) + (halfband_group_delay(C2) - 0.5) / 2.0
"""Low-frequency group delay (base-rate samples) of up 2x -> up 2x -> down 2x -> down 2x: each
interpolator delays by its half-band's delay, each decimator by one high-rate sample less (it keeps
the outputs at the odd high-rate instants: path 0 takes the later sample of each pair)."""
LATENCY = int(round(GROUP_DELAY))


def distortion_state_size(sr: float, max_block: int) -> int:
    """Float64 slots for one distortion instance (see module docstring)."""
    return RESET_FROM + HEAD + 8 * int(max_block)


def distortion_init(st, sr: float, max_block: int) -> None:
    """Write the half-band coefficients (a copy, for inspection) and max_block into ``st``."""
    st[X_C1:X_C1 + N1] = C1
    st[X_C2:X_C2 + N2] = C2
    st[X_MB] = float(max_block)


def distortion_latency(values: dict, sr: float) -> int:
    """Samples of delay the oversampling filters add (independent of parameters)."""
    return LATENCY


@rt_jit
def fast_tanh(x):
    """tanh(x) by a clamped [7/6] continued-fraction rational; |error| < 1e-4 for all x."""
    if x > TANH_CLIP:
        x = TANH_CLIP
    elif x < -TANH_CLIP:
        x = -TANH_CLIP
    x2 = x * x
    return x * (135135.0 + x2 * (17325.0 + x2 * (378.0 + x2))) / (
        135135.0 + x2 * (62370.0 + x2 * (3150.0 + 28.0 * x2)))


@rt_jit
def shape_sample(shape, x):
    """The static waveshaper ``shape`` (index into :data:`SHAPES`) applied to one sample.

    tanh: fast_tanh(x); hard: clip to +-1; soft: cubic 1.5*(x - x^3/3) for |x| < 1, else +-1;
    fold: triangle wavefolder (identity on [-1, 1], folding back beyond); asym: tanh with a
    0.3 bias (even harmonics; the DC it makes is removed after decimation).
    """
    if shape == 0:
        return fast_tanh(x)
    elif shape == 1:
        return min(1.0, max(-1.0, x))
    elif shape == 2:
        if x >= 1.0:
            return 1.0
        if x <= -1.0:
            return -1.0
        return 1.5 * x - 0.5 * x * x * x
    elif shape == 3:
        t = (x + 1.0) * 0.25
        t -= math.floor(t)
        return 1.0 - 4.0 * abs(t - 0.5)
    return fast_tanh(x + ASYM_BIAS) - fast_tanh(ASYM_BIAS)


@rt_jit(fastmath=_FM)
def _shape_block(S, m, shape, d0, d1):
    """Drive (linear ramp d0 -> d1 over the m samples, reaching d1 at the last) and shape
    S[:m] in place.  Branch-free inner loops over a view (no index wrap-around) so they vectorise."""
    inv = 1.0 / m
    dd = d1 - d0
    if shape == 0:
        for i in range(m):
            x = S[i] * (d0 + dd * ((i + 1) * inv))
            x = min(TANH_CLIP, max(-TANH_CLIP, x))
            x2 = x * x
            S[i] = x * (135135.0 + x2 * (17325.0 + x2 * (378.0 + x2))) / (
                135135.0 + x2 * (62370.0 + x2 * (3150.0 + 28.0 * x2)))
    elif shape == 1:
        for i in range(m):
            S[i] = min(1.0, max(-1.0, S[i] * (d0 + dd * ((i + 1) * inv))))
    elif shape == 2:
        for i in range(m):
            x = min(1.0, max(-1.0, S[i] * (d0 + dd * ((i + 1) * inv))))
            S[i] = 1.5 * x - 0.5 * x * x * x
    elif shape == 3:
        for i in range(m):
            t = (S[i] * (d0 + dd * ((i + 1) * inv)) + 1.0) * 0.25
            t -= math.floor(t)
            S[i] = 1.0 - 4.0 * abs(t - 0.5)
    else:
        c = fast_tanh(ASYM_BIAS)
        for i in range(m):
            x = S[i] * (d0 + dd * ((i + 1) * inv)) + ASYM_BIAS
            x = min(TANH_CLIP, max(-TANH_CLIP, x))
            x2 = x * x
            S[i] = x * (135135.0 + x2 * (17325.0 + x2 * (378.0 + x2))) / (
                135135.0 + x2 * (62370.0 + x2 * (3150.0 + 28.0 * x2))) - c


@rt_jit(inline="always", fastmath=_FM)
def _up1(x, s):
    """Stage-1 2x interpolation of one sample: (even output, odd output, new memories)."""
    xi, e0, e1, e2, o0, o1 = s
    t0 = _a10 * (x - e0) + xi
    t1 = _a12 * (t0 - e1) + e0
    t2 = _a14 * (t1 - e2) + e1
    u0 = _a11 * (x - o0) + xi
    u1 = _a13 * (u0 - o1) + o0
    return t2, u1, (x, t0, t1, t2, u0, u1)


@rt_jit(inline="always", fastmath=_FM)
def _up2(x, s):
    """Stage-2 2x interpolation of one sample."""
    xi, e0, e1, o0 = s
    t0 = _a20 * (x - e0) + xi
    t1 = _a22 * (t0 - e1) + e0
    u0 = _a21 * (x - o0) + xi
    return t1, u0, (x, t0, t1, u0)


@rt_jit(inline="always", fastmath=_FM)
def _down2(a, b, s):
    """Stage-2 2x decimation of the pair (a earlier, b later): (2 x output, new memories); the
    half-band's 1/2 is left to the caller (folded into the output gain)."""
    bm, e0, e1, am, o0 = s
    t0 = _a20 * (b - e0) + bm
    t1 = _a22 * (t0 - e1) + e0
    u0 = _a21 * (a - o0) + am
    return t1 + u0, (b, t0, t1, a, u0)


@rt_jit(inline="always", fastmath=_FM)
def _down1(a, b, s):
    """Stage-1 2x decimation of the pair (a earlier, b later): (2 x output, new memories)."""
    bm, e0, e1, e2, am, o0, o1 = s
    t0 = _a10 * (b - e0) + bm
    t1 = _a12 * (t0 - e1) + e0
    t2 = _a14 * (t1 - e2) + e1
    u0 = _a11 * (a - o0) + am
    u1 = _a13 * (u0 - o1) + o0
    return t2 + u1, (b, t0, t1, t2, a, u0, u1)


@rt_jit(fastmath=_FM)
def _upsample(buf, n, st, F, G, SL, SR):
    """Stage 1 then stage 2 interpolation of buf[:, :n] into SL[:4n] / SR[:4n]; filter memories
    (up-1 at st[F:F+6] / st[G:G+6], up-2 at the next 4) are held in registers over the block."""
    ul1 = (st[F + X_UP1], st[F + X_UP1 + 1], st[F + X_UP1 + 2], st[F + X_UP1 + 3], st[F + X_UP1 + 4],
           st[F + X_UP1 + 5])
    ul2 = (st[F + X_UP2], st[F + X_UP2 + 1], st[F + X_UP2 + 2], st[F + X_UP2 + 3])
    ur1 = (st[G + X_UP1], st[G + X_UP1 + 1], st[G + X_UP1 + 2], st[G + X_UP1 + 3], st[G + X_UP1 + 4],
           st[G + X_UP1 + 5])
    ur2 = (st[G + X_UP2], st[G + X_UP2 + 1], st[G + X_UP2 + 2], st[G + X_UP2 + 3])
    for i in range(n):
        a, b, ul1 = _up1(buf[0, i], ul1)
        c, d, ur1 = _up1(buf[1, i], ur1)
        v0, v1, ul2 = _up2(a, ul2)
        w0, w1, ur2 = _up2(c, ur2)
        v2, v3, ul2 = _up2(b, ul2)
        w2, w3, ur2 = _up2(d, ur2)
        SL[4 * i] = v0
        SL[4 * i + 1] = v1
        SL[4 * i + 2] = v2
        SL[4 * i + 3] = v3
        SR[4 * i] = w0
        SR[4 * i + 1] = w1
        SR[4 * i + 2] = w2
        SR[4 * i + 3] = w3
    for k in range(6):
        st[F + X_UP1 + k] = ul1[k]
        st[G + X_UP1 + k] = ur1[k]
    for k in range(4):
        st[F + X_UP2 + k] = ul2[k]
        st[G + X_UP2 + k] = ur2[k]


@rt_jit(fastmath=_FM)
def _downsample(buf, n, st, R, F, G, SL, SR, r_dc, b0, b1, b2, a1, a2, o0, do):
    """Stage 2 then stage 1 decimation of SL/SR[:4n] into buf[:, :n], then the DC blocker, the tone
    biquad and the output gain ramp ``o0 + do * (i + 1)``, fused; memories in registers."""
    dl2 = (st[F + X_DN2], st[F + X_DN2 + 1], st[F + X_DN2 + 2], st[F + X_DN2 + 3], st[F + X_DN2 + 4])
    dl1 = (st[F + X_DN1], st[F + X_DN1 + 1], st[F + X_DN1 + 2], st[F + X_DN1 + 3], st[F + X_DN1 + 4],
           st[F + X_DN1 + 5], st[F + X_DN1 + 6])
    dr2 = (st[G + X_DN2], st[G + X_DN2 + 1], st[G + X_DN2 + 2], st[G + X_DN2 + 3], st[G + X_DN2 + 4])
    dr1 = (st[G + X_DN1], st[G + X_DN1 + 1], st[G + X_DN1 + 2], st[G + X_DN1 + 3], st[G + X_DN1 + 4],
           st[G + X_DN1 + 5], st[G + X_DN1 + 6])
    xl1 = st[R + X_DCXL]
    yl1 = st[R + X_DCYL]
    xr1 = st[R + X_DCXR]
    yr1 = st[R + X_DCYR]
    zl1 = st[R + X_ZL1]
    zl2 = st[R + X_ZL2]
    zr1 = st[R + X_ZR1]
    zr2 = st[R + X_ZR2]
    for i in range(n):
        j = 4 * i
        p, dl2 = _down2(SL[j], SL[j + 1], dl2)
        q, dl2 = _down2(SL[j + 2], SL[j + 3], dl2)
        r, dr2 = _down2(SR[j], SR[j + 1], dr2)
        s, dr2 = _down2(SR[j + 2], SR[j + 3], dr2)
        xl, dl1 = _down1(p, q, dl1)
        xr, dr1 = _down1(r, s, dr1)
        # DC blocker
        yl1 = xl - xl1 + r_dc * yl1
        xl1 = xl
        yr1 = xr - xr1 + r_dc * yr1
        xr1 = xr
        # tone (TDF-II biquad)
        yl = b0 * yl1 + zl1
        yr = b0 * yr1 + zr1
        zl1 = b1 * yl1 - a1 * yl + zl2
        zr1 = b1 * yr1 - a1 * yr + zr2
        zl2 = b2 * yl1 - a2 * yl
        zr2 = b2 * yr1 - a2 * yr
        g = o0 + do * (i + 1)
        buf[0, i] = yl * g
        buf[1, i] = yr * g
    for k in range(5):
        st[F + X_DN2 + k] = dl2[k]
        st[G + X_DN2 + k] = dr2[k]
    for k in range(7):
        st[F + X_DN1 + k] = dl1[k]
        st[G + X_DN1 + k] = dr1[k]
    st[R + X_DCXL] = xl1
    st[R + X_DCYL] = yl1
    st[R + X_DCXR] = xr1
    st[R + X_DCYR] = yr1
    st[R + X_ZL1] = zl1
    st[R + X_ZL2] = zl2
    st[R + X_ZR1] = zr1
    st[R + X_ZR2] = zr2


@rt_jit
def _dual_mono(buf, n, st, R, F, G):
    """True when both channels would compute the same thing: equal input rows and equal filter, DC
    blocker and tone memories (a mono source through symmetric effects).  Then one channel is run and
    copied, which gives the very same samples as running both."""
    for i in range(n):
        if buf[0, i] != buf[1, i]:
            return False
    for k in range(_PER_CH):
        if st[F + k] != st[G + k]:
            return False
    return st[R + X_ZL1] == st[R + X_ZR1] and st[R + X_ZL2] == st[R + X_ZR2] \
        and st[R + X_DCXL] == st[R + X_DCXR] and st[R + X_DCYL] == st[R + X_DCYR]


@rt_jit(fastmath=_FM)
def _upsample_mono(buf, n, st, F, SL):
    """:func:`_upsample` for the left channel only (see :func:`_dual_mono`)."""
    ul1 = (st[F + X_UP1], st[F + X_UP1 + 1], st[F + X_UP1 + 2], st[F + X_UP1 + 3], st[F + X_UP1 + 4],
           st[F + X_UP1 + 5])
    ul2 = (st[F + X_UP2], st[F + X_UP2 + 1], st[F + X_UP2 + 2], st[F + X_UP2 + 3])
    for i in range(n):
        a, b, ul1 = _up1(buf[0, i], ul1)
        v0, v1, ul2 = _up2(a, ul2)
        v2, v3, ul2 = _up2(b, ul2)
        SL[4 * i] = v0
        SL[4 * i + 1] = v1
        SL[4 * i + 2] = v2
        SL[4 * i + 3] = v3
    for k in range(6):
        st[F + X_UP1 + k] = ul1[k]
    for k in range(4):
        st[F + X_UP2 + k] = ul2[k]


@rt_jit(fastmath=_FM)
def _downsample_mono(buf, n, st, R, F, SL, r_dc, b0, b1, b2, a1, a2, o0, do):
    """:func:`_downsample` for the left channel only, written to both rows (see :func:`_dual_mono`)."""
    dl2 = (st[F + X_DN2], st[F + X_DN2 + 1], st[F + X_DN2 + 2], st[F + X_DN2 + 3], st[F + X_DN2 + 4])
    dl1 = (st[F + X_DN1], st[F + X_DN1 + 1], st[F + X_DN1 + 2], st[F + X_DN1 + 3], st[F + X_DN1 + 4],
           st[F + X_DN1 + 5], st[F + X_DN1 + 6])
    xl1 = st[R + X_DCXL]
    yl1 = st[R + X_DCYL]
    zl1 = st[R + X_ZL1]
    zl2 = st[R + X_ZL2]
    for i in range(n):
        j = 4 * i
        p, dl2 = _down2(SL[j], SL[j + 1], dl2)
        q, dl2 = _down2(SL[j + 2], SL[j + 3], dl2)
        xl, dl1 = _down1(p, q, dl1)
        yl1 = xl - xl1 + r_dc * yl1
        xl1 = xl
        yl = b0 * yl1 + zl1
        zl1 = b1 * yl1 - a1 * yl + zl2
        zl2 = b2 * yl1 - a2 * yl
        g = o0 + do * (i + 1)
        buf[0, i] = yl * g
        buf[1, i] = yl * g
    for k in range(5):
        st[F + X_DN2 + k] = dl2[k]
    for k in range(7):
        st[F + X_DN1 + k] = dl1[k]
    st[R + X_DCXL] = xl1
    st[R + X_DCYL] = yl1
    st[R + X_ZL1] = zl1
    st[R + X_ZL2] = zl2


@rt_jit
def _db_gain(st, k, db):
    """10**(db/20), cached in st[k] (key) / st[k+1] (value)."""
    if st[k] == db and st[k + 1] > 0.0:
        return st[k + 1]
    return 10.0 ** (db / 20.0)


@rt_jit(fastmath=_FM)
def distortion_kernel(pp, pc, st, buf, n, sr):
    """The ``distortion`` node: drive_db (dB), shape (index), tone_hz (Hz), output_db (dB).

    Drive and output gain ramp linearly (in amplitude) across the block; the tone filter uses
    ``pc`` (its coefficients are cached until tone_hz changes).
    """
    if n <= 0:
        return
    mb = int(st[X_MB])
    if n > mb:
        n = mb
    R = RESET_FROM
    F = R + _FILT
    K = R + _CACHE
    sl = R + HEAD
    sr_ = sl + 4 * mb
    m4 = 4 * n
    G = F + _PER_CH
    mono = _dual_mono(buf, n, st, R, F, G)
    # ---- pass 1: upsample both channels (or the one, when they are the same) to 4x into the scratch
    if mono:
        _upsample_mono(buf, n, st, F, st[sl:sl + m4])
    else:
        _upsample(buf, n, st, F, G, st[sl:sl + m4], st[sr_:sr_ + m4])
    # ---- pass 2: drive + shaper at 4x
    shape = int(pc[1] + 0.5)
    d0 = _db_gain(st, K + X_DRIVE, pp[0])
    d1 = _db_gain(st, K + X_DRIVE, pc[0])
    st[K + X_DRIVE] = pc[0]
    st[K + X_DRIVE + 1] = d1
    _shape_block(st[sl:sl + m4], m4, shape, d0, d1)
    if not mono:
        _shape_block(st[sr_:sr_ + m4], m4, shape, d0, d1)
    # ---- pass 3: downsample, DC blocker, tone low-pass, output gain
    if st[K + X_SR] != sr or st[K + X_POLE] <= 0.0:
        st[K + X_SR] = sr
        st[K + X_POLE] = math.exp(-2.0 * math.pi * 10.0 / sr)
    r_dc = st[K + X_POLE]
    if st[R + X_TONE] != pc[2]:
        b0, b1, b2, a1, a2 = biquad_coefs(0.0, pc[2], 0.7071067811865476, 0.0, sr)
        st[R + X_B0] = b0
        st[R + X_B1] = b1
        st[R + X_B2] = b2
        st[R + X_A1] = a1
        st[R + X_A2] = a2
        st[R + X_TONE] = pc[2]
    b0 = st[R + X_B0]
    b1 = st[R + X_B1]
    b2 = st[R + X_B2]
    a1 = st[R + X_A1]
    a2 = st[R + X_A2]
    o0 = _db_gain(st, K + X_OUT, pp[3])
    o1 = _db_gain(st, K + X_OUT, pc[3])
    st[K + X_OUT] = pc[3]
    st[K + X_OUT + 1] = o1
    # the two decimators' 1/2 factors (left out of _down1/_down2) are applied here: all that
    # follows them is linear
    o0 *= 0.25
    do = 0.25 * (o1 - o0 * 4.0) / n
    if mono:
        _downsample_mono(buf, n, st, R, F, st[sl:sl + m4], r_dc, b0, b1, b2, a1, a2, o0, do)
        # the right channel's memories are what running it would have left: the left's
        for k in range(_PER_CH):
            st[G + k] = st[F + k]
        st[R + X_ZR1] = st[R + X_ZL1]
        st[R + X_ZR2] = st[R + X_ZL2]
        st[R + X_DCXR] = st[R + X_DCXL]
        st[R + X_DCYR] = st[R + X_DCYL]
    else:
        _downsample(buf, n, st, R, F, G, st[sl:sl + m4], st[sr_:sr_ + m4], r_dc, b0, b1, b2, a1, a2, o0, do)
