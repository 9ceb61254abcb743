"""Pitch shifter: phase vocoder with identity phase locking and peak-region shifting.

Method (after Laroche & Dolson's peak-based phase vocoder, written for this project): every hop
``H = N/4`` the last ``N`` input samples are windowed (Hann) and transformed (both channels in one
complex FFT, ``L + jR``). Per channel, spectral peaks (a bin larger than its two neighbours on each
side) split the spectrum into regions of influence (boundaries at the lowest bin between two peaks).
For each peak ``p`` the true frequency ``w`` follows from the phase advance since the previous frame;
the whole region is moved by the integer number of bins ``s = round(alpha w N / 2pi) - p`` and rotated
by one phase so that the peak's synthesis phase advances by exactly ``alpha * w * H`` per hop
(identity phase locking: the bins around a peak keep their phase relation to it). The frames are
inverse transformed, Hann windowed again and overlap-added (gain 2/3 for Hann^2 at 75 % overlap).
Duration is unchanged; ``alpha = 2 ** ((semitones + cents / 100) / 12)``.

Frame size ``N``: 1024 below 32 kHz, 2048 up to 50 kHz, 4096 above (about 43 ms). Latency = ``N``
samples exactly (a frame is complete once its last sample has arrived plus one hop of overlap-add).

Parameters: ``0 semitones`` ``1 cents`` (both read once per hop). State: a constant region (FFT table,
window; sized for N = 4096 whatever ``sr``) then the working buffers (see ``_layout``).
"""

from __future__ import annotations

import math

import numpy as np

from livehost.dsp.fft import fft_init, fft_inplace, princarg
from livehost.dsp.rt import rt_jit

NMAX = 4096
_HDR = 8
_FFT_OFF = _HDR
_WIN_OFF = _HDR + 2 * NMAX
RESET_FROM = _WIN_OFF + NMAX


def n_fft_for(sr: float) -> int:
    """FFT size (samples) used at sample rate ``sr`` (Hz): about 43 ms, a power of two."""
    if sr < 32000.0:
        return 1024
    if sr <= 50000.0:
        return 2048
    return 4096


def pitch_shift_state_size(sr: float, max_block: int) -> int:
    """Float64 slots of state at ``sr`` Hz (independent of the block size)."""
    n = n_fft_for(sr)
    return RESET_FROM + 8 + 6 * n + 2 * (n // 4) + 18 * (n // 2 + 1) + n // 2 + 16


def pitch_shift_init(st, sr: float, max_block: int) -> None:
    """Write N, the FFT table and the Hann window for ``sr`` Hz into the constant region of ``st``."""
    n = n_fft_for(sr)
    st[0] = n
    fft_init(st, _FFT_OFF, n)
    t = np.arange(n)
    st[_WIN_OFF:_WIN_OFF + n] = 0.5 - 0.5 * np.cos(2.0 * np.pi * t / n)


def pitch_shift_latency(values: dict, sr: float) -> int:
    """Latency in samples: one FFT frame, ``n_fft_for(sr)``."""
    return n_fft_for(sr)


@rt_jit
def _frame(st, n, alpha):
    """One analysis/synthesis hop over the last ``n`` input samples (both channels), ``alpha`` the
    frequency ratio.  Only the peaks need phases (atan2); every other bin is moved as a complex
    number, rotated with its peak, and peaks are found on squared magnitudes (no sqrt)."""
    h = n // 4
    nb = n // 2 + 1
    R = RESET_FROM
    o_in = R + 8                 # 2 x n
    o_acc = o_in + 2 * n         # 2 x n
    o_re = o_acc + 2 * n         # n
    o_im = o_re + n              # n
    o_fifo = o_im + n            # 2 x h
    o_prev = o_fifo + 2 * h      # 2 x (re nb, im nb)  analysis spectrum of the previous frame
    o_syn = o_prev + 4 * nb      # 2 x (re nb, im nb)  synthesis spectrum of the previous frame
    o_mag = o_syn + 4 * nb       # 2 x nb  squared magnitudes
    o_x = o_mag + 2 * nb         # 2 x (re nb, im nb)  analysis spectrum of this frame
    o_y = o_x + 4 * nb           # 2 x (re nb, im nb)  synthesis spectrum of this frame
    o_pk = o_y + 4 * nb          # n/2 peak bins
    w = int(st[R + 1])
    # gather the last n samples (oldest first), windowed, packed L + jR
    for t in range(n):
        j = w + t
        if j >= n:
            j -= n
        win = st[_WIN_OFF + t]
        st[o_re + t] = st[o_in + j] * win
        st[o_im + t] = st[o_in + n + j] * win
    fft_inplace(st[o_re:o_re + n], st[o_im:o_im + n], st, _FFT_OFF, n, False)
    twopi = 2.0 * math.pi
    for c in range(2):
        om = o_mag + c * nb
        ox = o_x + c * 2 * nb
        for k in range(nb):
            ar = st[o_re + k]
            ai = st[o_im + k]
            kk = (n - k) % n
            br = st[o_re + kk]
            bi = -st[o_im + kk]
            if c == 0:
                xr = 0.5 * (ar + br)
                xi = 0.5 * (ai + bi)
            else:
                xr = 0.5 * (ai - bi)
                xi = -0.5 * (ar - br)
            st[ox + k] = xr
            st[ox + nb + k] = xi
            st[om + k] = xr * xr + xi * xi
    # per channel: peaks, regions, shifted spectrum
    for c in range(2):
        om = o_mag + c * nb
        ox = o_x + c * 2 * nb
        opv = o_prev + c * 2 * nb
        osy = o_syn + c * 2 * nb
        oyr = o_y + c * 2 * nb
        oyi = oyr + nb
        for k in range(nb):
            st[oyr + k] = 0.0
            st[oyi + k] = 0.0
        mx = 0.0
        for k in range(nb):
            if st[om + k] > mx:
                mx = st[om + k]
        thr = mx * 1e-12  # -120 dB below the frame's largest bin (squared magnitudes)
        if thr < 1e-28:
            thr = 1e-28
        npk = 0
        for k in range(2, nb - 2):
            m = st[om + k]
            if m > thr and m > st[om + k - 1] and m >= st[om + k + 1] and m > st[om + k - 2] \
                    and m >= st[om + k + 2]:
                st[o_pk + npk] = k
                npk += 1
        lo = 0
        for ip in range(npk):
            p = int(st[o_pk + ip])
            if ip + 1 < npk:
                pn = int(st[o_pk + ip + 1])
                hi = p
                mv = st[om + p]
                for k in range(p + 1, pn):
                    if st[om + k] < mv:
                        mv = st[om + k]
                        hi = k
                # region [lo, hi) ; next region starts at hi
            else:
                hi = nb
            php = math.atan2(st[ox + nb + p], st[ox + p])
            dphi = php - math.atan2(st[opv + nb + p], st[opv + p]) - twopi * p * h / n
            wtrue = twopi * p / n + princarg(dphi) / h
            wt = alpha * wtrue
            s = int(math.floor(wt * n / twopi + 0.5)) - p
            q = p + s
            if q >= 0 and q < nb:
                yr = st[osy + q]
                yi = st[osy + nb + q]
                psi = (math.atan2(yi, yr) if (yr != 0.0 or yi != 0.0) else 0.0) + wt * h
                rot = princarg(psi - php)
                cr = math.cos(rot)
                ci = math.sin(rot)
                k0 = max(lo, -s)
                k1 = min(hi, nb - s)
                for k in range(k0, k1):
                    kq = k + s
                    xr = st[ox + k]
                    xi = st[ox + nb + k]
                    st[oyr + kq] += xr * cr - xi * ci
                    st[oyi + kq] += xr * ci + xi * cr
            lo = hi
        # keep this frame's spectra for the next one
        for k in range(2 * nb):
            st[opv + k] = st[ox + k]
            st[osy + k] = st[oyr + k]
    # inverse: Z = YL + j YR (Hermitian extension), real part -> L, imaginary -> R
    oyl = o_y
    oyrr = o_y + 2 * nb
    for k in range(nb):
        lr = st[oyl + k]
        li = st[oyl + nb + k]
        rr = st[oyrr + k]
        ri = st[oyrr + nb + k]
        if k == 0 or k == nb - 1:
            li = 0.0
            ri = 0.0
        st[o_re + k] = lr - ri
        st[o_im + k] = li + rr
        if k > 0 and k < nb - 1:
            st[o_re + n - k] = lr + ri
            st[o_im + n - k] = -li + rr
    fft_inplace(st[o_re:o_re + n], st[o_im:o_im + n], st, _FFT_OFF, n, True)
    g = 2.0 / 3.0
    for c in range(2):
        oa = o_acc + c * n
        src = o_re if c == 0 else o_im
        for t in range(n):
            st[oa + t] += st[src + t] * st[_WIN_OFF + t] * g
        of = o_fifo + c * h
        for t in range(h):
            st[of + t] = st[oa + t]
        for t in range(n - h):
            st[oa + t] = st[oa + t + h]
        for t in range(n - h, n):
            st[oa + t] = 0.0


@rt_jit
def pitch_shift_process(pp, pc, st, buf, n, sr):
    """Shift the pitch of ``buf[:, :n]`` by ``semitones`` (st, pc[0]) + ``cents`` (pc[1]) in place."""
    N = int(st[0])
    if N < 16:
        return
    h = N // 4
    R = RESET_FROM
    o_in = R + 8
    o_fifo = o_in + 6 * N
    alpha = 2.0 ** ((pc[0] + pc[1] / 100.0) / 12.0)
    if not (alpha > 0.0 and alpha < 100.0):
        alpha = 1.0
    w = int(st[R + 1])
    hc = int(st[R + 0])
    if w < 0 or w >= N:
        w = 0
    if hc < 0 or hc >= h:
        hc = 0
    for i in range(n):
        st[o_in + w] = buf[0, i]
        st[o_in + N + w] = buf[1, i]
        w += 1
        if w >= N:
            w = 0
        buf[0, i] = st[o_fifo + hc]
        buf[1, i] = st[o_fifo + h + hc]
        hc += 1
        if hc >= h:
            st[R + 1] = w
            _frame(st, N, alpha)
            hc = 0
    st[R + 0] = hc
    st[R + 1] = w
