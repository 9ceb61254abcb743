"""RBJ Audio-EQ-Cookbook biquads (transposed direct form II, float64) and the ``filter`` kernel.

Coefficients follow R. Bristow-Johnson's *Audio EQ Cookbook*: ``w0 = 2*pi*f0/sr``,
``alpha = sin(w0)/(2*Q)``, ``A = 10**(gain_db/40)``; every set is normalised so ``a0 == 1``.
The same function, :func:`biquad_coefs`, serves the kernels (numba) and the tests (through
:func:`biquad_coefficients`, which returns numpy ``(b, a)`` like ``scipy.signal``).

The ``filter`` node's state slots (float64) are the ``F_*`` constants below.
"""

from __future__ import annotations

import math

import numpy as np

from livehost.dsp.rt import rt_jit

MODES = ("lowpass", "highpass", "bandpass", "notch", "peak", "lowshelf", "highshelf")
SUB = 16  # frames between coefficient recomputations while a parameter moves

F_Z = 0  #: TDF-II memories z1, z2 left then z1, z2 right, 4 slots (see :func:`biquad_run`)
F_B0 = 4  #: cached coefficient b0 (dimensionless, normalised to a0 = 1)
F_B1 = 5  #: cached coefficient b1
F_B2 = 6  #: cached coefficient b2
F_A1 = 7  #: cached coefficient a1
F_A2 = 8  #: cached coefficient a2
F_MODE = 9  #: mode index the cached coefficients were computed for
F_FREQ = 10  #: freq_hz they were computed for, Hz
F_Q = 11  #: q they were computed for
F_GAIN = 12  #: gain_db they were computed for, dB
FILTER_STATE = 13  #: slots of a ``filter`` instance


@rt_jit
def biquad_coefs(mode, freq_hz, q, gain_db, sr):
    """Cookbook biquad for ``mode`` (index into :data:`MODES`), normalised to ``a0 = 1``.

    freq_hz: centre/corner frequency (Hz, clamped to 1 Hz .. 0.49*sr); q: quality factor (> 0);
    gain_db: gain (dB) of peak/shelf modes (ignored by the others); sr: sample rate (Hz).
    Returns the 5-tuple ``(b0, b1, b2, a1, a2)``.
    """
    f = min(max(freq_hz, 1.0), 0.49 * sr)
    qq = max(q, 1e-3)
    w0 = 2.0 * math.pi * f / sr
    cw = math.cos(w0)
    sw = math.sin(w0)
    alpha = sw / (2.0 * qq)
    m = int(mode + 0.5)
    if m == 0:  # lowpass
        b0 = 0.5 * (1.0 - cw)
        b1 = 1.0 - cw
        b2 = b0
        a0 = 1.0 + alpha
        a1 = -2.0 * cw
        a2 = 1.0 - alpha
    elif m == 1:  # highpass
        b0 = 0.5 * (1.0 + cw)
        b1 = -(1.0 + cw)
        b2 = b0
        a0 = 1.0 + alpha
        a1 = -2.0 * cw
        a2 = 1.0 - alpha
    elif m == 2:  # bandpass, constant 0 dB peak gain
        b0 = alpha
        b1 = 0.0
        b2 = -alpha
        a0 = 1.0 + alpha
        a1 = -2.0 * cw
        a2 = 1.0 - alpha
    elif m == 3:  # notch
        b0 = 1.0
        b1 = -2.0 * cw
        b2 = 1.0
        a0 = 1.0 + alpha
        a1 = -2.0 * cw
        a2 = 1.0 - alpha
    elif m == 4:  # peaking EQ
        A = 10.0 ** (gain_db / 40.0)
        b0 = 1.0 + alpha * A
        b1 = -2.0 * cw
        b2 = 1.0 - alpha * A
        a0 = 1.0 + alpha / A
        a1 = -2.0 * cw
        a2 = 1.0 - alpha / A
    elif m == 5:  # low shelf
        A = 10.0 ** (gain_db / 40.0)
        s = 2.0 * math.sqrt(A) * alpha
        b0 = A * ((A + 1.0) - (A - 1.0) * cw + s)
        b1 = 2.0 * A * ((A - 1.0) - (A + 1.0) * cw)
        b2 = A * ((A + 1.0) - (A - 1.0) * cw - s)
        a0 = (A + 1.0) + (A - 1.0) * cw + s
        a1 = -2.0 * ((A - 1.0) + (A + 1.0) * cw)
        a2 = (A + 1.0) + (A - 1.0) * cw - s
    else:  # high shelf
        A = 10.0 ** (gain_db / 40.0)
        s = 2.0 * math.sqrt(A) * alpha
        b0 = A * ((A + 1.0) + (A - 1.0) * cw + s)
        b1 = -2.0 * A * ((A - 1.0) + (A + 1.0) * cw)
        b2 = A * ((A + 1.0) + (A - 1.0) * cw - s)
        a0 = (A + 1.0) - (A - 1.0) * cw + s
        a1 = 2.0 * ((A - 1.0) - (A + 1.0) * cw)
        a2 = (A + 1.0) - (A - 1.0) * cw - s
    inv = 1.0 / a0
    return b0 * inv, b1 * inv, b2 * inv, a1 * inv, a2 * inv


def biquad_coefficients(mode, freq_hz: float, q: float, gain_db: float, sr: float):
    """Cookbook coefficients as numpy ``(b, a)`` (``a[0] == 1``), for ``scipy.signal.freqz`` & co.

    mode: a name from :data:`MODES` or its index; freq_hz: Hz; q: quality factor;
    gain_db: dB (peak/shelves); sr: sample rate in Hz.
    """
    m = MODES.index(mode) if isinstance(mode, str) else int(mode)
    b0, b1, b2, a1, a2 = biquad_coefs(float(m), float(freq_hz), float(q), float(gain_db), float(sr))
    return np.array([b0, b1, b2]), np.array([1.0, a1, a2])


@rt_jit
def biquad_run(buf, st, z, i0, i1, b0, b1, b2, a1, a2):
    """Filter ``buf[:, i0:i1]`` in place (both channels) with one TDF-II biquad.

    st[z:z+4] holds (z1, z2) of the left then the right channel; coefficients as from
    :func:`biquad_coefs` (dimensionless).
    """
    zl1 = st[z]
    zl2 = st[z + 1]
    zr1 = st[z + 2]
    zr2 = st[z + 3]
    for i in range(i0, i1):
        xl = buf[0, i]
        xr = buf[1, i]
        yl = b0 * xl + zl1
        yr = b0 * xr + zr1
        zl1 = b1 * xl - a1 * yl + zl2
        zr1 = b1 * xr - a1 * yr + zr2
        zl2 = b2 * xl - a2 * yl
        zr2 = b2 * xr - a2 * yr
        buf[0, i] = yl
        buf[1, i] = yr
    st[z] = zl1
    st[z + 1] = zl2
    st[z + 2] = zr1
    st[z + 3] = zr2


@rt_jit
def lerp_freq(f0, f1, t):
    """Frequency (Hz) a fraction ``t`` (0..1) of the way from f0 to f1 on a log axis."""
    if f0 <= 0.0 or f1 <= 0.0:
        return f0 + (f1 - f0) * t
    return f0 * (f1 / f0) ** t


@rt_jit
def filter_kernel(pp, pc, st, buf, n, sr):
    """The ``filter`` node: mode (choice index), freq_hz (Hz), q, gain_db (dB) in pp/pc[0..3].

    Constant parameters: coefficients are computed once and cached in ``st``.  Moving
    parameters: coefficients are recomputed every :data:`SUB` frames from values interpolated
    between ``pp`` and ``pc`` (frequency on a log axis), so sweeps do not zipper.
    """
    if n <= 0:
        return
    mode = pc[0]
    if pp[1] == pc[1] and pp[2] == pc[2] and pp[3] == pc[3]:
        if not (st[F_MODE] == mode and st[F_FREQ] == pc[1] and st[F_Q] == pc[2] and st[F_GAIN] == pc[3]):
            b0, b1, b2, a1, a2 = biquad_coefs(mode, pc[1], pc[2], pc[3], sr)
            st[F_B0] = b0
            st[F_B1] = b1
            st[F_B2] = b2
            st[F_A1] = a1
            st[F_A2] = a2
            st[F_MODE] = mode
            st[F_FREQ] = pc[1]
            st[F_Q] = pc[2]
            st[F_GAIN] = pc[3]
        biquad_run(buf, st, F_Z, 0, n, st[F_B0], st[F_B1], st[F_B2], st[F_A1], st[F_A2])
        return
    inv = 1.0 / n if n > 0 else 0.0
    i0 = 0
    b0 = b1 = b2 = a1 = a2 = 0.0
    while i0 < n:
        i1 = min(i0 + SUB, n)
        t = i1 * inv
        f = lerp_freq(pp[1], pc[1], t)
        q = pp[2] + (pc[2] - pp[2]) * t
        g = pp[3] + (pc[3] - pp[3]) * t
        b0, b1, b2, a1, a2 = biquad_coefs(mode, f, q, g, sr)
        biquad_run(buf, st, F_Z, i0, i1, b0, b1, b2, a1, a2)
        i0 = i1
    st[F_B0] = b0
    st[F_B1] = b1
    st[F_B2] = b2
    st[F_A1] = a1
    st[F_A2] = a2
    st[F_MODE] = mode
    st[F_FREQ] = pc[1]
    st[F_Q] = pc[2]
    st[F_GAIN] = pc[3]
