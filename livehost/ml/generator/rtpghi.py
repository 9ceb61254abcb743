"""Phase reconstruction from STFT magnitudes, frame by frame: real-time phase gradient heap integration.

Written from the method of Průša, Balazs & Søndergaard ("A noniterative method for reconstruction of
phase from STFT magnitude", 2017) and its real-time variant (Průša & Søndergaard, "Real-time spectrogram
inversion using phase gradient heap integration", DAFx 2016).

Conventions (all times in samples, phases in radians):

- STFT with a periodic Hann window of ``L = n_fft`` samples, hop ``a`` samples, ``M = n_fft`` frequency
  channels (``M // 2 + 1`` kept).  Frame ``n`` is centred on sample ``n * a`` and its phase is taken
  relative to the frame centre (the "time-invariant" convention: the windowed segment is rotated so that
  its centre sits at index 0 before the FFT).  Arrays are time-major: ``(frames, bins)``.
- The Hann window is treated as a Gaussian ``exp(-pi t^2 / lam)`` with ``lam = 0.25645 * L^2``
  (samples^2), which is what makes the phase derivatives computable from the log-magnitude ``s``:

  * time direction (phase advance per hop, rad):   ``a * M / lam * ds/dm + 2 pi a m / M``
  * frequency direction (phase step per bin, rad): ``-lam / (a * M) * ds/dn``

  where ``ds/dm`` is the bin-wise and ``ds/dn`` the frame-wise difference of the natural log-magnitude.
  ``ds/dn`` is a centred difference with one frame of look-ahead (``lookahead=1``, the default), or a
  backward difference (``lookahead=0``, fully causal).
- Heap integration: coefficients below ``tol`` times the largest magnitude of the current and previous
  frames get a random phase; the others are reached from the previous frame's coefficients in order of
  decreasing magnitude, spreading in time (trapezoidal rule over the time derivatives) and then across
  frequency (trapezoidal rule over the frequency derivatives).

Also here: a batch STFT / inverse STFT in the same convention, a streaming overlap-add synthesiser,
Griffin-Lim (the non-streaming reference used by the benchmark) and the spectral-convergence measure.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: Gaussian width of a Hann window of L samples: lam = GAMMA_HANN * L**2 (samples^2).
GAMMA_HANN = 0.25645
#: Default relative tolerance below which a coefficient's phase is random (not integrated).
DEFAULT_TOL = 1e-5
_LOG_FLOOR = 1e-12  # added to magnitudes before the log (linear amplitude)


def hann(n: int) -> np.ndarray:
    """Periodic Hann window of ``n`` samples (float64)."""
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)


def _check(n_fft: int, hop: int) -> None:
    if n_fft % 2 or n_fft % hop or n_fft // hop < 4:
        raise ValueError(f"n_fft={n_fft} must be even and a multiple of hop={hop} with n_fft/hop >= 4")


def stft(x: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """STFT of a mono signal ``x`` (linear amplitude): complex ``(1 + len(x) // hop, n_fft // 2 + 1)``.

    Frame ``n`` is centred on sample ``n * hop`` (zero padding of ``n_fft // 2`` samples each side);
    phases are relative to the frame centre.
    """
    _check(n_fft, hop)
    x = np.asarray(x, np.float64)
    pad = n_fft // 2
    xp = np.concatenate([np.zeros(pad), x, np.zeros(pad + hop)])
    nfr = 1 + len(x) // hop
    frames = np.lib.stride_tricks.sliding_window_view(xp, n_fft)[::hop][:nfr] * hann(n_fft)
    return np.fft.rfft(np.fft.ifftshift(frames, axes=-1), axis=-1)


def istft(C: np.ndarray, n_fft: int, hop: int, length: int | None = None) -> np.ndarray:
    """Inverse of :func:`stft`: windowed overlap-add divided by the summed squared window."""
    _check(n_fft, hop)
    frames = np.fft.fftshift(np.fft.irfft(C, n_fft, axis=-1), axes=-1) * hann(n_fft)
    nfr = C.shape[0]
    total = n_fft + hop * (nfr - 1)
    y = np.zeros(total)
    wss = np.zeros(total)
    w2 = hann(n_fft) ** 2
    for n in range(nfr):
        y[n * hop:n * hop + n_fft] += frames[n]
        wss[n * hop:n * hop + n_fft] += w2
    nz = wss > 1e-8
    y[nz] /= wss[nz]
    y = y[n_fft // 2:]
    length = total - n_fft if length is None else length
    return y[:length] if len(y) >= length else np.pad(y, (0, length - len(y)))


def spectral_convergence_db(S: np.ndarray, x: np.ndarray, n_fft: int, hop: int) -> float:
    """Spectral convergence of a signal ``x`` against target magnitudes ``S`` (frames, bins), in dB:
    ``20 log10(|| |STFT(x)| - S ||_F / ||S||_F)`` over the frames both have (lower is better)."""
    X = np.abs(stft(x, n_fft, hop))
    k = min(len(X), len(S))
    num = np.linalg.norm(X[:k] - S[:k])
    den = np.linalg.norm(S[:k]) + 1e-300
    return float(20.0 * np.log10(num / den + 1e-300))


def griffin_lim(S: np.ndarray, n_fft: int, hop: int, n_iter: int = 32, seed: int = 0,
                length: int | None = None, phase0: np.ndarray | None = None) -> np.ndarray:
    """Plain Griffin-Lim (not streaming): ``n_iter`` projections from random phase (or ``phase0``)."""
    rng = np.random.default_rng(seed)
    length = (S.shape[0] - 1) * hop if length is None else length
    ph = rng.uniform(-np.pi, np.pi, S.shape) if phase0 is None else phase0
    C = S * np.exp(1j * ph)
    for _ in range(n_iter):
        x = istft(C, n_fft, hop, length)
        X = stft(x, n_fft, hop)[:S.shape[0]]
        if X.shape[0] < S.shape[0]:
            X = np.pad(X, ((0, S.shape[0] - X.shape[0]), (0, 0)))
        C = S * np.exp(1j * np.angle(X))
    return istft(C, n_fft, hop, length)


# --------------------------------------------------------------------------------------------------
# heap integration of one frame (numba)
# --------------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _push(hv, hi, size, v, i):
    """Push (value v, index i) on the max-heap held in hv/hi[:size]; returns the new size."""
    k = size
    hv[k] = v
    hi[k] = i
    while k > 0:
        p = (k - 1) >> 1
        if hv[p] >= hv[k]:
            break
        hv[p], hv[k] = hv[k], hv[p]
        hi[p], hi[k] = hi[k], hi[p]
        k = p
    return size + 1


@njit(cache=True, nogil=True)
def _pop(hv, hi, size):
    """Remove the largest entry; returns (index, new size)."""
    top = hi[0]
    size -= 1
    hv[0] = hv[size]
    hi[0] = hi[size]
    k = 0
    while True:
        l = 2 * k + 1
        if l >= size:
            break
        c = l
        if l + 1 < size and hv[l + 1] > hv[l]:
            c = l + 1
        if hv[k] >= hv[c]:
            break
        hv[c], hv[k] = hv[k], hv[c]
        hi[c], hi[k] = hi[k], hi[c]
        k = c
    return top, size


@njit(cache=True, nogil=True)
def heap_integrate(sp, sc, tgp, tgc, fgc, php, phc, rnd, logtol, hv, hi, done):
    """Phase of one frame from the previous one (RTPGHI step).

    sp, sc: natural log-magnitudes of the previous and current frame (bins,);
    tgp, tgc: phase advance per hop (rad) of the previous and current frame;
    fgc: phase step per bin (rad) of the current frame; php: the previous frame's phases (rad);
    phc: output, the current frame's phases (rad); rnd: phases used for coefficients below tolerance;
    logtol: log of the relative tolerance; hv, hi, done: scratch (2*bins floats, 2*bins ints, bins).
    """
    B = sc.shape[0]
    mx = -1e300
    for m in range(B):
        if sc[m] > mx:
            mx = sc[m]
        if sp[m] > mx:
            mx = sp[m]
    thr = mx + logtol
    todo = 0
    for m in range(B):
        if sc[m] < thr:
            phc[m] = rnd[m]
            done[m] = 1
        else:
            done[m] = 0
            todo += 1
    size = 0
    for m in range(B):
        if sp[m] >= thr:
            size = _push(hv, hi, size, sp[m], m)
    while todo > 0:
        if size == 0:
            # no path from a known coefficient: start from the largest remaining one, in time
            best = -1
            bv = -1e300
            for m in range(B):
                if done[m] == 0 and sc[m] > bv:
                    bv = sc[m]
                    best = m
            phc[best] = php[best] + 0.5 * (tgp[best] + tgc[best])
            done[best] = 1
            todo -= 1
            size = _push(hv, hi, size, sc[best], B + best)
            continue
        idx, size = _pop(hv, hi, size)
        if idx < B:  # a previous-frame coefficient: integrate in time
            m = idx
            if done[m] == 0:
                phc[m] = php[m] + 0.5 * (tgp[m] + tgc[m])
                done[m] = 1
                todo -= 1
                size = _push(hv, hi, size, sc[m], B + m)
        else:  # a current-frame coefficient: integrate across frequency
            m = idx - B
            if m + 1 < B and done[m + 1] == 0:
                phc[m + 1] = phc[m] + 0.5 * (fgc[m] + fgc[m + 1])
                done[m + 1] = 1
                todo -= 1
                size = _push(hv, hi, size, sc[m + 1], B + m + 1)
            if m - 1 >= 0 and done[m - 1] == 0:
                phc[m - 1] = phc[m] - 0.5 * (fgc[m] + fgc[m - 1])
                done[m - 1] = 1
                todo -= 1
                size = _push(hv, hi, size, sc[m - 1], B + m - 1)


@njit(cache=True, nogil=True)
def _time_grad(s, coef, lin, out):
    """Phase advance per hop (rad): coef * ds/dm + lin * m (centred bin differences)."""
    B = s.shape[0]
    for m in range(B):
        if m == 0:
            d = s[1] - s[0]
        elif m == B - 1:
            d = s[B - 1] - s[B - 2]
        else:
            d = 0.5 * (s[m + 1] - s[m - 1])
        out[m] = coef * d + lin * m


class RTPGHI:
    """Streaming phase reconstruction: push magnitude frames, get complex frames back.

    n_fft, hop: STFT size and hop (samples; Hann window of n_fft, n_fft/hop >= 4);
    lookahead: 1 = centred time difference (one frame of delay), 0 = causal;
    tol: relative magnitude tolerance below which phases are random; seed: for those random phases.
    """

    def __init__(self, n_fft: int, hop: int, lookahead: int = 1, tol: float = DEFAULT_TOL, seed: int = 0):
        _check(n_fft, hop)
        if lookahead not in (0, 1):
            raise ValueError("lookahead must be 0 or 1")
        self.n_fft, self.hop, self.lookahead = int(n_fft), int(hop), int(lookahead)
        self.bins = n_fft // 2 + 1
        lam = GAMMA_HANN * n_fft * n_fft
        self._tcoef = hop * n_fft / lam
        self._tlin = 2.0 * math.pi * hop / n_fft
        self._fcoef = -lam / (hop * n_fft)
        self.logtol = math.log(tol)
        self.rng = np.random.default_rng(seed)
        B = self.bins
        self._hv = np.zeros(2 * B + 2)
        self._hi = np.zeros(2 * B + 2, np.int64)
        self._done = np.zeros(B, np.int64)
        self.reset()

    def reset(self) -> None:
        """Forget all frames (the next frame starts from an empty past)."""
        B = self.bins
        self._s_prev = np.full(B, -1e30)  # log-magnitude of the last frame given a phase
        self._tg_prev = np.zeros(B)
        self._ph_prev = np.zeros(B)
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []  # (magnitude, log-magnitude) waiting

    def _emit(self, mag, s, s_next) -> np.ndarray:
        B = self.bins
        tg = np.empty(B)
        _time_grad(s, self._tcoef, self._tlin, tg)
        if s_next is None or self.lookahead == 0:
            ds = s - np.where(self._s_prev < -1e29, s, self._s_prev)
        else:
            back = np.where(self._s_prev < -1e29, s, self._s_prev)
            ds = 0.5 * (s_next - back)
        fg = self._fcoef * ds
        ph = np.empty(B)
        rnd = self.rng.uniform(-math.pi, math.pi, B)
        heap_integrate(self._s_prev, s, self._tg_prev, tg, fg, self._ph_prev, ph, rnd, self.logtol,
                       self._hv, self._hi, self._done)
        ph = np.mod(ph + math.pi, 2 * math.pi) - math.pi
        self._s_prev, self._tg_prev, self._ph_prev = s, tg, ph
        return mag * np.exp(1j * ph)

    def push(self, mag: np.ndarray) -> np.ndarray | None:
        """Give the next magnitude frame (bins,), linear; returns the complex frame that is now
        complete (the previous one with look-ahead, this one without), or None at the very start."""
        mag = np.maximum(np.asarray(mag, np.float64), 0.0)
        s = np.log(mag + _LOG_FLOOR)
        if self.lookahead == 0:
            return self._emit(mag, s, None)
        self._pending.append((mag, s))
        if len(self._pending) < 2:
            return None
        (m0, s0), (_, s1) = self._pending
        self._pending = self._pending[1:]
        return self._emit(m0, s0, s1)

    def flush(self) -> np.ndarray | None:
        """Complete the frame still waiting for its look-ahead (end of stream)."""
        if not self._pending:
            return None
        m0, s0 = self._pending.pop()
        return self._emit(m0, s0, None)


class OverlapAdd:
    """Streaming inverse STFT: push complex frames (same convention as :func:`stft`), get ``hop``
    new samples each time.  Output sample ``j`` corresponds to signal time ``j - n_fft // 2``."""

    def __init__(self, n_fft: int, hop: int):
        _check(n_fft, hop)
        self.n_fft, self.hop = int(n_fft), int(hop)
        w = hann(n_fft)
        wss = np.zeros(hop)
        for k in range(n_fft // hop):
            wss += (w ** 2)[k * hop:(k + 1) * hop]
        self.win = w / wss.mean()  # synthesis window (the sum of squares is constant for n_fft/hop >= 4)
        self.reset()

    def reset(self) -> None:
        """Clear the overlap buffer."""
        self.buf = np.zeros(self.n_fft)

    def push(self, C: np.ndarray) -> np.ndarray:
        """Add one frame; returns the ``hop`` samples that no later frame will touch."""
        frame = np.fft.fftshift(np.fft.irfft(C, self.n_fft)) * self.win
        self.buf += frame
        out = self.buf[:self.hop].copy()
        self.buf[:-self.hop] = self.buf[self.hop:]
        self.buf[-self.hop:] = 0.0
        return out

    def flush(self) -> np.ndarray:
        """The remaining ``n_fft - hop`` samples of the buffer (end of stream)."""
        out = self.buf[:-self.hop].copy()
        self.reset()
        return out


class StreamingReconstructor:
    """Magnitude frames in, audio out: :class:`RTPGHI` followed by :class:`OverlapAdd`.

    Each :meth:`push` returns ``hop`` samples (zeros for the first frame when ``lookahead=1``).
    Latency: ``n_fft // 2 + lookahead * hop`` samples relative to the frame centres.
    """

    def __init__(self, n_fft: int, hop: int, lookahead: int = 1, tol: float = DEFAULT_TOL, seed: int = 0):
        self.pghi = RTPGHI(n_fft, hop, lookahead, tol, seed)
        self.ola = OverlapAdd(n_fft, hop)
        self.hop = hop

    def reset(self) -> None:
        """Forget the phase history and the overlap buffer."""
        self.pghi.reset()
        self.ola.reset()

    def push(self, mag: np.ndarray) -> np.ndarray:
        """One magnitude frame (bins,) in, ``hop`` samples out."""
        C = self.pghi.push(mag)
        if C is None:
            return np.zeros(self.hop)
        return self.ola.push(C)


def reconstruct(S: np.ndarray, n_fft: int, hop: int, lookahead: int = 1, tol: float = DEFAULT_TOL,
                seed: int = 0, length: int | None = None) -> np.ndarray:
    """Run the streaming reconstruction over all frames of ``S`` (frames, bins) and return the signal
    aligned like :func:`istft` (the streaming delay removed), ``length`` samples long."""
    pg = RTPGHI(n_fft, hop, lookahead, tol, seed)
    ola = OverlapAdd(n_fft, hop)
    out = []
    for f in S:
        C = pg.push(f)
        if C is not None:
            out.append(ola.push(C))
    C = pg.flush()
    if C is not None:
        out.append(ola.push(C))
    out.append(ola.flush())
    y = np.concatenate(out)[n_fft // 2:]
    length = (S.shape[0] - 1) * hop if length is None else length
    return y[:length] if len(y) >= length else np.pad(y, (0, length - len(y)))
