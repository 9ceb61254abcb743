"""Bit crusher: sample-and-hold rate reduction followed by a mid-tread quantiser.

Quantiser: step ``q = 2**(1 - bits)`` (full scale +-1 spans 2**bits steps), output
``q * round(x / q)`` clipped to +-1, so 0 is a level (mid-tread) and a full-scale sine quantised
to N bits has SNR ~ 6.02*N + 1.76 dB.  ``bits`` is continuous (fractional bits interpolate
the step size, so sweeps are smooth).

Rate reduction: a phase accumulator advances by 1 per frame and a new input sample is taken
(and held) each time it reaches ``downsample`` (a continuous factor: 1 = off).
"""

from __future__ import annotations

import math

from livehost.dsp.rt import rt_jit


B_PH = 0  #: rate-reduction phase, frames until the next sample is taken
B_HL = 1  #: held left sample
B_HR = 2  #: held right sample
BITCRUSH_STATE = 3  #: slots of a ``bitcrush`` instance


@rt_jit
def quantize(x, step):
    """Mid-tread quantisation of x (full scale +-1) with step ``step``; clipped to +-1."""
    y = step * math.floor(x / step + 0.5)
    if y > 1.0:
        return 1.0
    if y < -1.0:
        return -1.0
    return y


@rt_jit
def bitcrush_kernel(pp, pc, st, buf, n, sr):
    """The ``bitcrush`` node: bits (1..24), downsample (factor 1..64) in pp/pc[0..1] (``pc`` used)."""
    step = 2.0 ** (1.0 - pc[0])
    factor = max(1.0, pc[1])
    if factor <= 1.0:
        for i in range(n):
            buf[0, i] = quantize(buf[0, i], step)
            buf[1, i] = quantize(buf[1, i], step)
        st[B_PH] = 0.0
        return
    ph = st[B_PH]
    hl = st[B_HL]
    hr = st[B_HR]
    for i in range(n):
        if ph <= 0.0:
            hl = quantize(buf[0, i], step)
            hr = quantize(buf[1, i], step)
            ph += factor
        ph -= 1.0
        buf[0, i] = hl
        buf[1, i] = hr
    st[B_PH] = ph
    st[B_HL] = hl
    st[B_HR] = hr
