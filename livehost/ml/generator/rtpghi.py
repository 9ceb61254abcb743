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

Refinement (:class:`RTISILA`), written from the method of Zhu, Beauregard & Wyse ("Real-time signal
estimation from modified short-time Fourier transform magnitude spectra", 2007): the last
``rtisi_lookahead + 1`` frames stay uncommitted; each new frame enters with its RTPGHI phase, then
``rtisi_iters`` passes replace the phase of every uncommitted frame by that of the STFT of the current
partial reconstruction (committed plus uncommitted frames, overlap-added and divided by the summed
squared windows of the frames present; all uncommitted frames of a pass see the same reconstruction),
keeping the target magnitude; the oldest frame is then committed and its first hop of samples
emitted.  The signal before the first frame's centre is taken as silence, as :func:`stft` pads it.
This costs ``rtisi_lookahead`` frames of latency, about 2 * iters * (rtisi_lookahead + 1) + 1 FFTs
of ``n_fft`` per frame, and brings inconsistent magnitudes (the generator's mel pseudo-inverse) to
within about 1.3 dB of 32 iterations of plain Griffin-Lim (``librosa.griffinlim`` with momentum 0, the
non-streaming reference of the tests and ``benchmarks/generator.py``), which RTPGHI alone misses by
about 6 dB (spectral convergence, 2 s of the training piece).

Also here: a batch STFT / inverse STFT in the same convention (their magnitudes are librosa's with
``center=True, pad_mode="constant"``), a streaming overlap-add synthesiser and the
spectral-convergence measure.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.fft
from numba import njit

#: Gaussian width of a Hann window of L samples: lam = GAMMA_HANN * L**2 (samples^2).
GAMMA_HANN = 0.25645
#: Default relative tolerance below which a coefficient's phase is random (not integrated).
DEFAULT_TOL = 1e-5
#: Default RTISI-LA refinement of the streaming reconstruction: passes per new frame, and frames of
#: look-ahead (uncommitted frames besides the oldest).  Chosen from benchmarks/generator.py.
DEFAULT_RTISI_ITERS = 1
DEFAULT_RTISI_LOOKAHEAD = 2
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


@njit(cache=True, nogil=True)
def _pghi_frame(mag, s, s_next, centred, s_prev, tg_prev, ph_prev, tcoef, tlin, fcoef, rnd, logtol, hv, hi,
                done, fg, tg, ph, C):
    """One RTPGHI frame: phase gradients of the log-magnitude ``s`` (``s_next``: the next frame's, used
    when ``centred``; a previous frame below -1e29 means none), heap integration from the previous
    frame, phases wrapped to [-pi, pi) into ``tg`` (rad per hop), ``ph`` (rad) and ``C = mag e^{i ph}``.
    ``fg`` is scratch (rad per bin)."""
    B = s.shape[0]
    _time_grad(s, tcoef, tlin, tg)
    for m in range(B):
        back = s[m] if s_prev[m] < -1e29 else s_prev[m]
        if centred:
            fg[m] = fcoef * (0.5 * (s_next[m] - back))
        else:
            fg[m] = fcoef * (s[m] - back)
    heap_integrate(s_prev, s, tg_prev, tg, fg, ph_prev, ph, rnd, logtol, hv, hi, done)
    for m in range(B):
        p = np.mod(ph[m] + math.pi, 2 * math.pi) - math.pi
        ph[m] = p
        C[m] = complex(mag[m] * math.cos(p), mag[m] * math.sin(p))


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
        self._fg = np.zeros(B)
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
        ph = np.empty(B)
        C = np.empty(B, np.complex128)
        rnd = self.rng.uniform(-math.pi, math.pi, B)
        centred = s_next is not None and self.lookahead == 1
        _pghi_frame(mag, s, s_next if centred else s, centred, self._s_prev, self._tg_prev, self._ph_prev,
                    self._tcoef, self._tlin, self._fcoef, rnd, self.logtol, self._hv, self._hi, self._done,
                    self._fg, tg, ph, C)
        self._s_prev, self._tg_prev, self._ph_prev = s, tg, ph
        return C

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


# --------------------------------------------------------------------------------------------------
# RTISI-LA refinement (numba kernels around scipy's FFT)
# --------------------------------------------------------------------------------------------------
#
# Inside the refinement, frames are kept unrotated: a frame's time segment of n_fft samples starts at
# its first sample (frame centre - n_fft/2).  Rotating by n_fft/2 multiplies bin m by (-1)^m, which
# cancels between analysis and synthesis, so the centre-phase convention of :func:`stft` is only
# applied when a frame enters.


@njit(cache=True, nogil=True)
def _rtisi_frames(num_c, den_c, Y, nf, w, hop, x, d, F):
    """Windowed frames of the current partial reconstruction.

    num_c, den_c: committed sums of ``w * y`` and of ``w**2`` over the buffer region (samples; the
    region starts at the first sample of the oldest uncommitted frame); Y: time frames (rows of n_fft
    samples, frame start at index 0), the first ``nf`` used, frame ``j`` starting at region sample
    ``j * hop``; w: analysis/synthesis window; x, d: scratch (region length); F: output, ``w`` times
    the reconstruction ``(num_c + sum w*y) / (den_c + sum w**2)`` over each frame's segment (rows ``:nf``).
    """
    L = w.shape[0]
    n = L + (nf - 1) * hop
    for t in range(n):
        x[t] = num_c[t]
        d[t] = den_c[t]
    for j in range(nf):
        o = j * hop
        for k in range(L):
            x[o + k] += w[k] * Y[j, k]
            d[o + k] += w[k] * w[k]
    for t in range(n):
        x[t] = x[t] / d[t] if d[t] > 1e-12 else 0.0
    for j in range(nf):
        o = j * hop
        for k in range(L):
            F[j, k] = w[k] * x[o + k]


@njit(cache=True, nogil=True)
def _rtisi_project(X, S, C, nf):
    """Target magnitude ``S`` with the phase of ``X``, into ``C`` (rows ``:nf``); a coefficient whose
    analysis is (numerically) zero keeps its previous phase."""
    B = S.shape[1]
    for j in range(nf):
        for m in range(B):
            z = X[j, m]
            p = z.real * z.real + z.imag * z.imag
            if p > 1e-60:
                g = S[j, m] / math.sqrt(p)
                C[j, m] = complex(z.real * g, z.imag * g)


@njit(cache=True, nogil=True)
def _rtisi_enter(C, sign, S, Cb, j):
    """Frame ``C`` (bins,), centre-phase convention, into row ``j`` of the buffer spectra ``Cb`` in the
    frame-start convention (bin m times ``sign[m] = (-1)^m``), its magnitude into ``S[j]``."""
    for m in range(C.shape[0]):
        z = C[m] * sign[m]
        Cb[j, m] = z
        S[j, m] = math.sqrt(z.real * z.real + z.imag * z.imag)


@njit(cache=True, nogil=True)
def _rtisi_commit(num_c, den_c, S, C, Y, nf, w, hop, floor, out):
    """Commit the oldest buffered frame: add ``w * Y[0]`` and ``w**2`` to the committed sums (region
    sample 0 on), write the first ``hop`` region samples, ``num_c / max(den_c, floor)``, to ``out``,
    and shift the region by ``hop`` samples and the buffered frames (rows of S, C, Y, ``nf`` in use)
    by one."""
    L = w.shape[0]
    for k in range(L):
        num_c[k] += w[k] * Y[0, k]
        den_c[k] += w[k] * w[k]
    for k in range(hop):
        out[k] = num_c[k] / max(den_c[k], floor)
    n = num_c.shape[0]
    for k in range(n - hop):
        num_c[k] = num_c[k + hop]
        den_c[k] = den_c[k + hop]
    for k in range(n - hop, n):
        num_c[k] = 0.0
        den_c[k] = 0.0
    for j in range(nf - 1):
        S[j, :] = S[j + 1, :]
        C[j, :] = C[j + 1, :]
        Y[j, :] = Y[j + 1, :]


#: The emitted samples are divided by the summed squared windows of the committed frames, but by no
#: less than this fraction of its steady-state value (the stream's first and last samples fade).
_OUT_FLOOR = 0.5


class RTISILA:
    """Streaming RTISI-LA: complex frames with an initial phase in, ``hop`` samples out per frame.

    n_fft, hop: STFT size and hop (samples, the convention of :func:`stft`); iters: refinement passes
    over the uncommitted frames each time a frame arrives (0 = the initial phases are kept, as
    :class:`OverlapAdd` would); lookahead: frames kept uncommitted besides the one being committed.

    Each :meth:`push` returns ``hop`` samples (zeros for the first ``lookahead`` pushes); output
    sample ``j`` corresponds to signal time ``j - latency`` with ``latency = n_fft // 2 + lookahead *
    hop`` samples.  The first frame is centred on signal time 0 and the signal is taken to be silent
    before it (as :func:`stft` pads with zeros), so the first ``n_fft // 2`` output samples are zeros.
    Inside the passes the reconstruction is divided by the summed squared windows of the frames
    present (a consistent spectrogram with its own phases is a fixed point); the emitted samples are
    divided by that of the committed frames, but by no less than half its steady-state value (the end
    of a stream, :meth:`flush`, fades rather than being amplified).
    """

    def __init__(self, n_fft: int, hop: int, iters: int = DEFAULT_RTISI_ITERS,
                 lookahead: int = DEFAULT_RTISI_LOOKAHEAD):
        _check(n_fft, hop)
        if iters < 0 or lookahead < 0:
            raise ValueError("iters and lookahead must be >= 0")
        self.n_fft, self.hop = int(n_fft), int(hop)
        self.iters, self.lookahead = int(iters), int(lookahead)
        self.latency = self.n_fft // 2 + self.lookahead * self.hop  #: samples
        self.bins = n_fft // 2 + 1
        self.win = hann(n_fft)
        w2 = self.win ** 2
        self._steady = float(sum(w2[k * hop:(k + 1) * hop] for k in range(n_fft // hop)).mean())
        self._floor = _OUT_FLOOR * self._steady
        self._sign = np.where(np.arange(self.bins) % 2 == 0, 1.0, -1.0)  # centre <-> start rotation
        cap = self.lookahead + 1
        self._region = n_fft + self.lookahead * hop
        self._S = np.zeros((cap, self.bins))
        self._C = np.zeros((cap, self.bins), np.complex128)
        self._Y = np.zeros((cap, n_fft))
        self._F = np.zeros((cap, n_fft))
        self._x = np.zeros(self._region)
        self._d = np.zeros(self._region)
        self.reset()

    def reset(self) -> None:
        """Forget all frames; the next one starts a new stream."""
        self._num = np.zeros(self._region)
        self._den = np.zeros(self._region)
        self._den[:self.n_fft // 2] = 1e300  # signal time < 0 is silence (as stft's zero padding)
        self._nf = 0

    def _refine(self) -> None:
        nf = self._nf
        for _ in range(self.iters):
            _rtisi_frames(self._num, self._den, self._Y, nf, self.win, self.hop, self._x, self._d, self._F)
            X = scipy.fft.rfft(self._F[:nf], axis=-1)
            _rtisi_project(X, self._S, self._C, nf)
            self._Y[:nf] = scipy.fft.irfft(self._C[:nf], self.n_fft, axis=-1)

    def _commit(self) -> np.ndarray:
        out = np.empty(self.hop)
        _rtisi_commit(self._num, self._den, self._S, self._C, self._Y, self._nf, self.win, self.hop,
                      self._floor, out)
        self._nf -= 1
        return out

    def push(self, C: np.ndarray) -> np.ndarray:
        """Add one complex frame (bins,), phases relative to the frame centre as in :func:`stft`, its
        magnitude the target; returns the next ``hop`` samples."""
        j = self._nf
        _rtisi_enter(np.asarray(C, np.complex128), self._sign, self._S, self._C, j)
        self._Y[j] = scipy.fft.irfft(self._C[j], self.n_fft)
        self._nf = j + 1
        self._refine()
        if self._nf > self.lookahead:
            return self._commit()
        return np.zeros(self.hop)

    def flush(self) -> np.ndarray:
        """End of stream: refine and commit the frames still buffered, then return everything left
        (``nf * hop + n_fft - hop`` samples for ``nf`` buffered frames); the state is reset."""
        out = []
        while self._nf:
            self._refine()
            out.append(self._commit())
        n = self.n_fft - self.hop
        out.append(self._num[:n] / np.maximum(self._den[:n], self._floor))
        self.reset()
        return np.concatenate(out)


class StreamingReconstructor:
    """Magnitude frames in, audio out: :class:`RTPGHI`, refined by :class:`RTISILA` (or, with
    ``rtisi_iters=0``, RTPGHI alone followed by :class:`OverlapAdd`).

    n_fft, hop (samples); lookahead: RTPGHI's frame of look-ahead (1) or causal (0); tol, seed: as
    :class:`RTPGHI`; rtisi_iters: RTISI-LA passes per frame (0 = no refinement); rtisi_lookahead:
    RTISI-LA look-ahead (frames; unused when ``rtisi_iters=0``).

    Each :meth:`push` returns ``hop`` samples (zeros while the look-ahead fills).  ``latency``: delay
    of the output against the signal time of :func:`istft`, ``n_fft // 2 + (lookahead +
    rtisi_lookahead) * hop`` samples (``rtisi_lookahead`` counted only when refining): output sample
    ``j`` is signal time ``j - latency``, so frame ``n`` (centred on ``n * hop``) is heard centred on
    output sample ``n * hop + latency``.
    """

    def __init__(self, n_fft: int, hop: int, lookahead: int = 1, tol: float = DEFAULT_TOL, seed: int = 0,
                 rtisi_iters: int = DEFAULT_RTISI_ITERS, rtisi_lookahead: int = DEFAULT_RTISI_LOOKAHEAD):
        self.pghi = RTPGHI(n_fft, hop, lookahead, tol, seed)
        self.hop = int(hop)
        if rtisi_iters > 0:
            self.ola = RTISILA(n_fft, hop, rtisi_iters, rtisi_lookahead)
            self.latency = self.pghi.lookahead * self.hop + self.ola.latency
        else:
            self.ola = OverlapAdd(n_fft, hop)
            self.latency = self.pghi.lookahead * self.hop + n_fft // 2
        self.rtisi_iters = int(rtisi_iters)
        self.rtisi_lookahead = int(rtisi_lookahead) if rtisi_iters > 0 else 0

    def reset(self) -> None:
        """Forget the phase history and the overlap buffer."""
        self.pghi.reset()
        self.ola.reset()

    def push(self, mag: np.ndarray) -> np.ndarray:
        """One magnitude frame (bins, linear) in, ``hop`` samples out."""
        C = self.pghi.push(mag)
        if C is None:
            return np.zeros(self.hop)
        return self.ola.push(C)

    def flush(self) -> np.ndarray:
        """End of stream: the samples still held (the look-ahead frames and the overlap tail); the
        state is reset."""
        out = []
        C = self.pghi.flush()
        if C is not None:
            out.append(self.ola.push(C))
        out.append(self.ola.flush())
        self.reset()
        return np.concatenate(out)


def reconstruct(S: np.ndarray, n_fft: int, hop: int, lookahead: int = 1, tol: float = DEFAULT_TOL,
                seed: int = 0, length: int | None = None, rtisi_iters: int = DEFAULT_RTISI_ITERS,
                rtisi_lookahead: int = DEFAULT_RTISI_LOOKAHEAD) -> np.ndarray:
    """Run the streaming reconstruction (:class:`StreamingReconstructor`, same keywords) over all
    frames of ``S`` (frames, bins) and return the signal aligned like :func:`istft` (the streaming
    latency removed), ``length`` samples long (default ``(frames - 1) * hop``)."""
    rec = StreamingReconstructor(n_fft, hop, lookahead, tol, seed, rtisi_iters, rtisi_lookahead)
    out = [rec.push(f) for f in S]
    out.append(rec.flush())
    y = np.concatenate(out)[rec.latency:]
    length = (S.shape[0] - 1) * hop if length is None else length
    return y[:length] if len(y) >= length else np.pad(y, (0, length - len(y)))
