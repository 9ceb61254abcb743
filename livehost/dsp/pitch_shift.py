"""Pitch shifter, two modes: ``quality`` (phase vocoder) and ``live`` (10 ms time-domain shifter).

``quality`` -- phase vocoder with identity phase locking and peak-region shifting (after Laroche &
Dolson's peak-based phase vocoder, written for this project): every hop ``H = N/4`` the last ``N`` input
samples are windowed (Hann) and transformed (both channels in one complex FFT, ``L + jR``). Per
channel, spectral peaks (a bin larger than its two neighbours on each side) split the spectrum into
regions of influence (boundaries at the lowest bin between two peaks). For each peak ``p`` the true
frequency ``w`` follows from the phase advance since the previous frame; the whole region is moved by
the integer number of bins ``s = round(alpha w N / 2pi) - p`` and rotated by one phase so that the
peak's synthesis phase advances by exactly ``alpha * w * H`` per hop (identity phase locking: the bins
around a peak keep their phase relation to it). The frames are inverse transformed, Hann windowed
again and overlap-added (gain 2/3 for Hann^2 at 75 % overlap). Duration is unchanged;
``alpha = 2 ** ((semitones + cents / 100) / 12)``. Frame size ``N``: 1024 below 32 kHz, 2048 up to
50 kHz, 4096 above (about 43 ms). Latency = ``N`` samples exactly (a frame is complete once its last
sample has arrived plus one hop of overlap-add).

``live`` -- :mod:`livehost.dsp.pitch_live`: a two-tap delay-line shifter with pitch-synchronous
(correlation-chosen) grains centred on ``C`` = 10 ms, its latency.

Ratio 1 (``|semitones + cents/100| <= RATIO1_TOL``): both modes output their input delayed by exactly
their latency (the vocoder's input ring read just before it is overwritten; the live ring read ``C``
back). Moving into or out of ratio 1 crossfades (smoothstep, ``SHIFT_FADE_MS``) between that exact
delay and the shifter; the vocoder keeps analysing at ratio 1 so it is ready.  Both input rings are
written whatever the mode. Changing ``mode`` crossfades (``MODE_FADE_MS``) from the old mode's output
to the new one's; a vocoder that was idle first runs ``N + H`` samples (its overlap-add and phase
history refilled) while the old mode keeps playing.

Parameters: ``0 semitones`` ``1 cents`` (read once per block; the live mode ramps the ratio across the
block) ``2 mode`` (index into ``MODES``). State: a constant region (``N``, the live constants, FFT
table, window; sized for N = 4096 whatever ``sr``), then the vocoder's working buffers (see
``_frame``), the mode header (``_M_*``), the live region, and a scratch of ``2 x max_block``.
"""

from __future__ import annotations

import math

import numpy as np

from livehost.dsp.fft import fft_init, fft_inplace, princarg
from livehost.dsp.pitch_live import (live_block, live_feed, live_latency, live_region_len, live_reset,
                                     live_ring_len, live_state_size, live_window, live_xfade)
from livehost.dsp.rt import rt_jit

NMAX = 4096
_HDR = 8
_FFT_OFF = _HDR
_WIN_OFF = _HDR + 2 * NMAX
RESET_FROM = _WIN_OFF + NMAX
MODES = ("quality", "live")
"""Choices of the ``mode`` parameter (index 0 = quality, the default)."""
RATIO1_TOL = 1e-6
"""|semitones + cents / 100| at or below which the ratio counts as 1 (semitones)."""
SHIFT_FADE_MS = 10.0
"""Crossfade (ms) between the exact delay (ratio 1) and the shifter."""
MODE_FADE_MS = 20.0
"""Crossfade (ms) between the two modes' outputs when ``mode`` changes."""

# constant header slots (below RESET_FROM: a NaN reset keeps them)
_K_N = 0          # vocoder frame N
_K_C = 1          # live latency C (samples)
_K_W = 2          # live correlation span W
_K_RLEN = 3       # live ring length
_K_XMAX = 4       # live longest crossfade
_K_MB = 5         # max_block (scratch length)

# mode header slots, relative to _mode_off(N); all zero = fresh (adopt the target mode at once)
_M_CUR = 0        # mode whose output is faded in: 1 quality, 2 live, 0 fresh
_M_PREV = 1       # mode being faded out (0 none)
_M_GM = 2         # mode crossfade position 0..1
_M_WARM = 3       # samples the vocoder still needs before the fade to it starts
_M_GS = 4         # shift fade 0 (exact delay) .. 1 (shifted)
_M_VON = 5        # 1 while the vocoder's working state is live
_M_LON = 6        # 1 while the live taps' state is live
_M_HDR = 8


def n_fft_for(sr: float) -> int:
    """FFT size (samples) used at sample rate ``sr`` (Hz): about 43 ms, a power of two."""
    if sr < 32000.0:
        return 1024
    if sr <= 50000.0:
        return 2048
    return 4096


@rt_jit
def _voc_size(n):
    """Float64 slots of the vocoder's working region for frame size ``n`` (see ``_frame``)."""
    return 8 + 6 * n + 2 * (n // 4) + 18 * (n // 2 + 1) + n // 2 + 16


@rt_jit
def _mode_off(n):
    """Offset of the mode header for frame size ``n`` (the live region follows it)."""
    return RESET_FROM + _voc_size(n)


def pitch_shift_state_size(sr: float, max_block: int) -> int:
    """Float64 slots of state at ``sr`` Hz for blocks of up to ``max_block`` frames: both modes' state
    (they run together while a mode change crossfades) and a ``2 x max_block`` scratch."""
    n = n_fft_for(sr)
    return RESET_FROM + _voc_size(n) + _M_HDR + live_state_size(sr) + 2 * max(1, int(max_block))


def pitch_shift_init(st, sr: float, max_block: int) -> None:
    """Write N, the live mode's constants, the FFT table and the Hann window for ``sr`` Hz and blocks of
    up to ``max_block`` frames into the constant region of ``st``."""
    n = n_fft_for(sr)
    st[_K_N] = n
    st[_K_C] = live_latency(sr)
    st[_K_W] = live_window(sr)
    st[_K_RLEN] = live_ring_len(sr)
    st[_K_XMAX] = live_xfade(sr)
    st[_K_MB] = max(1, int(max_block))
    fft_init(st, _FFT_OFF, n)
    t = np.arange(n)
    st[_WIN_OFF:_WIN_OFF + n] = 0.5 - 0.5 * np.cos(2.0 * np.pi * t / n)


def is_live(mode) -> bool:
    """True if a ``mode`` value (the choice string, or its index as the engine stores it) is ``live``."""
    if isinstance(mode, str):
        return mode == "live"
    return float(mode) >= 0.5


def pitch_shift_latency(values: dict, sr: float) -> int:
    """Latency in samples of the mode in force: ``quality`` one FFT frame (``n_fft_for(sr)``), ``live``
    the grain centre (:func:`livehost.dsp.pitch_live.live_latency`, 10 ms)."""
    if is_live(values.get("mode", MODES[0])):
        return live_latency(sr)
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
def _voc_restart(st, n):
    """Clear the vocoder's overlap-add, output FIFO and phase history (its input ring is kept) so that it
    can resume after being idle."""
    R = RESET_FROM
    st[R + 0] = 0.0
    for k in range(R + 8 + 2 * n, _mode_off(n)):
        st[k] = 0.0


@rt_jit
def _voc_feed(st, n_fft, in0, in1, n):
    """Write ``n`` input frames into the vocoder's input ring without running it (the mode is idle)."""
    R = RESET_FROM
    o_in = R + 8
    w = int(st[R + 1])
    if w < 0 or w >= n_fft:
        w = 0
    for i in range(n):
        st[o_in + w] = in0[i]
        st[o_in + n_fft + w] = in1[i]
        w += 1
        if w >= n_fft:
            w = 0
    st[R + 1] = w


@rt_jit
def _voc_block(st, n_fft, buf, n, alpha, gs0, gstep):
    """The vocoder over ``buf[:, :n]`` in place, crossfaded (shift fade ``gs0`` + ``gstep`` per sample,
    smoothstep shaped) with its exact-delay path (the input ``n_fft`` samples ago)."""
    N = n_fft
    h = N // 4
    R = RESET_FROM
    o_in = R + 8
    o_fifo = o_in + 6 * N
    w = int(st[R + 1])
    hc = int(st[R + 0])
    if w < 0 or w >= N:
        w = 0
    if hc < 0 or hc >= h:
        hc = 0
    gs = gs0
    for i in range(n):
        el = st[o_in + w]
        er = st[o_in + N + w]
        st[o_in + w] = buf[0, i]
        st[o_in + N + w] = buf[1, i]
        w += 1
        if w >= N:
            w = 0
        gs += gstep
        if gs >= 1.0:
            gs = 1.0
            buf[0, i] = st[o_fifo + hc]
            buf[1, i] = st[o_fifo + h + hc]
        elif gs <= 0.0:
            gs = 0.0
            buf[0, i] = el
            buf[1, i] = er
        else:
            g = gs * gs * (3.0 - 2.0 * gs)
            buf[0, i] = (1.0 - g) * el + g * st[o_fifo + hc]
            buf[1, i] = (1.0 - g) * er + g * st[o_fifo + h + hc]
        hc += 1
        if hc >= h:
            st[R + 1] = w
            _frame(st, N, alpha)
            hc = 0
    st[R + 0] = hc
    st[R + 1] = w


@rt_jit
def _ratio(semitones, cents):
    """Frequency ratio of ``semitones`` + ``cents`` / 100 (1 for a non-finite or absurd value)."""
    a = 2.0 ** ((semitones + cents / 100.0) / 12.0)
    if not (a > 0.01 and a < 100.0):
        return 1.0
    return a


@rt_jit
def pitch_shift_process(pp, pc, st, buf, n, sr):
    """Shift the pitch of ``buf[:, :n]`` in place by ``semitones`` (st, pc[0]) + ``cents`` (pc[1]) in
    ``mode`` pc[2] (0 quality, 1 live); an exact delay of the mode's latency at ratio 1."""
    N = int(st[_K_N])
    mb = int(st[_K_MB])
    if N < 16 or mb < 1 or n <= 0 or n > mb:
        return
    h = N // 4
    C = int(st[_K_C])
    W = int(st[_K_W])
    rlen = int(st[_K_RLEN])
    xmax = int(st[_K_XMAX])
    om = _mode_off(N)
    ol = om + _M_HDR
    osc = ol + live_region_len(rlen)  # scratch: 2 x mb
    semis = pc[0] + pc[1] / 100.0
    engaged = not (abs(semis) <= RATIO1_TOL)  # NaN counts as engaged at ratio 1 (see _ratio)
    ac = _ratio(pc[0], pc[1])
    ap = _ratio(pp[0], pp[1])
    tgt = 2 if pc[2] >= 0.5 else 1
    cur = int(st[om + _M_CUR])
    prev = int(st[om + _M_PREV])
    gm = st[om + _M_GM]
    warm = st[om + _M_WARM]
    gs = st[om + _M_GS]
    von = st[om + _M_VON] != 0.0
    lon = st[om + _M_LON] != 0.0
    if not (gm >= 0.0 and gm <= 1.0):
        gm = 1.0
    if not (gs >= 0.0 and gs <= 1.0):
        gs = 0.0
    fresh = cur != 1 and cur != 2
    if fresh:
        cur = tgt
        prev = 0
        gm = 1.0
        warm = 0.0
        gs = 1.0 if engaged else 0.0
    elif tgt != cur:
        if gm < 1.0 and prev == tgt:  # switched back while fading: reverse the fade
            prev = cur
            cur = tgt
            gm = 1.0 - gm
            warm = 0.0
        else:
            prev = cur
            cur = tgt
            gm = 0.0
            warm = 0.0
    if gm >= 1.0:
        prev = 0
    need_voc = cur == 1 or prev == 1
    need_live = cur == 2 or prev == 2
    if need_voc and not von:
        if not fresh:
            _voc_restart(st, N)
            if cur == 1:
                warm = float(N + h)
        von = True
    if not need_voc:
        von = False
    if need_live and not lon:
        live_reset(st, ol, float(C))
        lon = True
    if not need_live:
        lon = False
    fade = SHIFT_FADE_MS * 1e-3 * sr
    gstep = (1.0 / fade if fade > 1.0 else 1.0) * (1.0 if engaged else -1.0)
    run_live = engaged or gs > 0.0
    # the live path reads the input first (into the scratch when the vocoder also needs it)
    s0 = st[osc:osc + mb]
    s1 = st[osc + mb:osc + 2 * mb]
    if need_live:
        if need_voc:
            live_block(st, ol, C, W, rlen, xmax, buf[0], buf[1], s0, s1, n, ap, ac, gs, gstep, run_live)
        else:
            live_block(st, ol, C, W, rlen, xmax, buf[0], buf[1], buf[0], buf[1], n, ap, ac, gs, gstep,
                       run_live)
    else:
        live_feed(st, ol, rlen, buf[0], buf[1], n)
    if need_voc:
        _voc_block(st, N, buf, n, ac, gs, gstep)
    else:
        _voc_feed(st, N, buf[0], buf[1], n)
    if need_voc and need_live:
        # buf holds the quality output, the scratch the live output: crossfade old mode -> new mode
        mfade = MODE_FADE_MS * 1e-3 * sr
        mstep = 1.0 / mfade if mfade > 1.0 else 1.0
        for i in range(n):
            if warm > 0.0:
                warm -= 1.0
            else:
                gm += mstep
                if gm > 1.0:
                    gm = 1.0
            q = gm * gm * (3.0 - 2.0 * gm)
            if cur == 2:
                q = 1.0 - q  # weight of the quality output
            buf[0, i] = q * buf[0, i] + (1.0 - q) * s0[i]
            buf[1, i] = q * buf[1, i] + (1.0 - q) * s1[i]
    gs += n * gstep
    if gs > 1.0:
        gs = 1.0
    elif gs < 0.0:
        gs = 0.0
    st[om + _M_CUR] = cur
    st[om + _M_PREV] = prev if gm < 1.0 else 0
    st[om + _M_GM] = gm
    st[om + _M_WARM] = warm
    st[om + _M_GS] = gs
    st[om + _M_VON] = 1.0 if von else 0.0
    st[om + _M_LON] = 1.0 if lon else 0.0
