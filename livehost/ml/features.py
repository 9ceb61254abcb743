"""Audio features with librosa 0.11's default definitions (22050 Hz, n_fft 2048, hop 512), in numpy/numba.

The 57 columns of the GTZAN ``features_30_sec.csv`` table (see :data:`FEATURE_NAMES`) are computed by
:func:`gtzan_features` exactly as that table was made: mean and variance over the whole matrix librosa
returns for chroma_stft, rms, spectral_centroid, spectral_bandwidth, spectral_rolloff,
zero_crossing_rate, of the time-domain harmonic/percussive signals of ``librosa.effects.hpss``, the tempo
of ``librosa.beat.beat_track`` and the 20 MFCCs.  librosa itself is not imported here; it is only the
reference the tests compare against.

Conventions (as librosa's): ``y`` is a mono float signal in linear amplitude (full scale 1.0), ``sr`` its
sampling rate in Hz, spectrogram matrices are shaped ``(n_bins, n_frames)``, frames are centred
(frame ``t`` covers samples ``t*hop - n_fft/2 .. t*hop + n_fft/2``, zero padding at the ends), and the
window is the periodic Hann window.  Everything is computed in float64.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import scipy.fft
import scipy.signal
from numba import njit

from livehost.ml.resample import resample_to

__all__ = [
    "SR",
    "N_FFT",
    "HOP",
    "FEATURE_NAMES",
    "resample_to",
    "stft",
    "istft",
    "fft_frequencies",
    "mel_filterbank",
    "chroma_filterbank",
    "power_to_db",
    "melspectrogram",
    "mfcc",
    "estimate_tuning",
    "chroma_stft",
    "spectral_centroid",
    "spectral_bandwidth",
    "spectral_rolloff",
    "zero_crossing_rate",
    "rms",
    "median_filter",
    "hpss",
    "onset_strength",
    "tempo",
    "clip_features",
    "gtzan_features",
]

SR = 22050  #: feature sampling rate (Hz)
N_FFT = 2048  #: FFT size / analysis frame (samples)
HOP = 512  #: hop between frames (samples)
CLIP_S = 30.0  #: length of the analysed clip (s)

_STATS = [
    "chroma_stft",
    "rms",
    "spectral_centroid",
    "spectral_bandwidth",
    "rolloff",
    "zero_crossing_rate",
    "harmony",
    "perceptr",
]
#: The 57 GTZAN feature columns, in the order of ``features_30_sec.csv``.
FEATURE_NAMES: tuple[str, ...] = tuple(
    [f"{s}_{m}" for s in _STATS for m in ("mean", "var")]
    + ["tempo"]
    + [f"mfcc{i}_{m}" for i in range(1, 21) for m in ("mean", "var")]
)

_TINY = np.finfo(np.float64).tiny


# --------------------------------------------------------------------------------------------------
# numba kernels
# --------------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _median_rows(x, w, out):
    """Running median of odd width ``w`` along axis 1 of ``x`` (rows), scipy.ndimage 'reflect' edges.

    Tracks the current median ``m`` with ``lt`` = #(window < m) and ``le`` = #(window <= m); ``m`` is
    the median while ``lt <= w // 2 < le``.  A step updates both counts in O(1); only when the median
    moves is the window scanned for the next value below (or above) ``m``.  The result is an exact
    order statistic, identical to ``scipy.ndimage.median_filter(x, size=(1, w), mode='reflect')``.
    """
    n_rows, n = x.shape
    h = w // 2
    ext = np.empty(n + 2 * h)
    buf = np.empty(w)
    period = 2 * n
    for r in range(n_rows):
        if n > h:  # one mirror image at each end: (c b a | a b c ... x y z | z y x)
            for k in range(h):
                ext[k] = x[r, h - 1 - k]
                ext[n + h + k] = x[r, n - 1 - k]
            for k in range(n):
                ext[h + k] = x[r, k]
        else:  # short rows: the mirrored extension repeats with period 2n
            for k in range(n + 2 * h):
                j = (k - h) % period
                if j >= n:
                    j = period - 1 - j
                ext[k] = x[r, j]
        for k in range(w):
            buf[k] = ext[k]
        buf.sort()
        m = buf[h]
        lt = 0
        le = 0
        for k in range(w):
            lt += buf[k] < m
            le += buf[k] <= m
        out[r, 0] = m
        for i in range(1, n):
            old = ext[i - 1]
            new = ext[i - 1 + w]
            if old < m:
                lt -= 1
                le -= 1
            elif old == m:
                le -= 1
            if new < m:
                lt += 1
                le += 1
            elif new == m:
                le += 1
            if lt > h:  # the median moved down to the largest value below m
                best = -np.inf
                for k in range(i, i + w):
                    e = ext[k]
                    if e < m and e > best:
                        best = e
                cnt = 0
                for k in range(i, i + w):
                    cnt += ext[k] == best
                le = lt
                lt -= cnt
                m = best
            elif le <= h:  # ... or up to the smallest value above m
                best = np.inf
                for k in range(i, i + w):
                    e = ext[k]
                    if e > m and e < best:
                        best = e
                cnt = 0
                for k in range(i, i + w):
                    cnt += ext[k] == best
                lt = le
                le += cnt
                m = best
            out[r, i] = m


@njit(cache=True, nogil=True)
def _hpss_split(D, S, H, P, Dh, Dp):
    """Soft masks (power 2, margin 1, zeros split evenly) applied to the STFT ``D``.

    ``S = |D|``, ``H``/``P`` the time/frequency median-filtered magnitudes; all ``(frames, bins)``.
    Writes the harmonic and percussive STFTs ``(S * mask) * phase`` into ``Dh`` and ``Dp``.
    """
    n_t, n_f = D.shape
    for t in range(n_t):
        for f in range(n_f):
            h = H[t, f]
            p = P[t, f]
            z = h if h > p else p
            s = S[t, f]
            d = D[t, f]
            if s == 0.0:
                ph = 1.0 + 0.0j
            else:
                ph = complex(d.real / s, d.imag / s)
            if z < 2.2250738585072014e-308:
                mh = 0.5
                mp = 0.5
            else:
                a = (h / z) ** 2
                b = (p / z) ** 2
                mh = a / (a + b)
                mp = b / (b + a)
            Dh[t, f] = (s * mh) * ph
            Dp[t, f] = (s * mp) * ph


@njit(cache=True, nogil=True)
def _overlap_add(frames, hop, out):
    """Add row ``t`` of ``frames`` (n_frames, n_fft) into ``out`` starting at sample ``t * hop``."""
    n_frames, n_fft = frames.shape
    for t in range(n_frames):
        s = t * hop
        for k in range(n_fft):
            out[s + k] += frames[t, k]


@njit(cache=True, nogil=True)
def _spectral_shape(S, freq, roll_percent, centroid, bandwidth, rolloff):
    """Per frame of the magnitude spectrogram ``S`` (frames, bins): centroid, bandwidth (p=2), rolloff."""
    n_t, n_f = S.shape
    for t in range(n_t):
        total = 0.0
        for f in range(n_f):
            total += S[t, f]
        norm = total if total >= 2.2250738585072014e-308 else 1.0
        c = 0.0
        for f in range(n_f):
            c += freq[f] * (S[t, f] / norm)
        bw = 0.0
        for f in range(n_f):
            dv = freq[f] - c
            bw += (S[t, f] / norm) * (dv * dv)
        centroid[t] = c
        bandwidth[t] = math.sqrt(bw)
        # rolloff: lowest bin whose running energy sum reaches roll_percent of the frame total
        csum = 0.0
        for f in range(n_f):
            csum += S[t, f]
        thr = roll_percent * csum
        csum = 0.0
        rolloff[t] = freq[n_f - 1]
        for f in range(n_f):
            csum += S[t, f]
            if not (csum < thr):
                rolloff[t] = freq[f]
                break


@njit(cache=True, nogil=True)
def _pip_candidates(S, freq_mask, sr, n_fft, threshold):
    """Peaks of piptrack on ``S`` (frames, bins): interpolated frequency (Hz) and magnitude of each.

    A bin is a peak when, after zeroing bins below ``threshold * max`` of its frame, it is a strict
    local maximum on the left and non-strict on the right (the last bin: strict on the left only),
    and its frequency lies in ``freq_mask``.  Frequency and magnitude come from parabolic
    interpolation over the (unthresholded) neighbouring bins.
    """
    n_t, n_f = S.shape
    pitches = np.empty(n_t * n_f)
    mags = np.empty(n_t * n_f)
    k = 0
    for t in range(n_t):
        mx = S[t, 0]
        for f in range(1, n_f):
            if S[t, f] > mx:
                mx = S[t, f]
        ref = threshold * mx
        for f in range(1, n_f):
            if not freq_mask[f]:
                continue
            v = S[t, f] if S[t, f] > ref else 0.0
            vp = S[t, f - 1] if S[t, f - 1] > ref else 0.0
            if f == n_f - 1:
                peak = v > vp
            else:
                vn = S[t, f + 1] if S[t, f + 1] > ref else 0.0
                peak = (v > vp) and (v >= vn)
            if not peak:
                continue
            if f == n_f - 1:
                shift = 0.0
                avg = S[t, f] - S[t, f - 1]
            else:
                a = S[t, f + 1] + S[t, f - 1] - 2 * S[t, f]
                b = (S[t, f + 1] - S[t, f - 1]) / 2
                shift = 0.0 if abs(b) >= abs(a) else -b / a
                avg = (S[t, f + 1] - S[t, f - 1]) / 2.0
            pitch = (f + shift) * sr / n_fft
            if pitch > 0:
                pitches[k] = pitch
                mags[k] = S[t, f] + 0.5 * avg * shift
                k += 1
    return pitches[:k], mags[:k]


@njit(cache=True, nogil=True)
def _frame_mean_square(y, frame_length, hop, out):
    """Mean of ``y**2`` over each frame ``y[t*hop : t*hop + frame_length]``."""
    for t in range(out.shape[0]):
        s = t * hop
        acc = 0.0
        for k in range(frame_length):
            v = y[s + k]
            acc += v * v
        out[t] = acc / frame_length


@njit(cache=True, nogil=True)
def _frame_crossings(y, frame_length, hop, threshold, out):
    """Sign changes between consecutive samples inside each frame, |y| <= threshold counting as +0."""
    n = y.shape[0]
    neg = np.empty(n, dtype=np.bool_)
    for i in range(n):
        v = y[i]
        neg[i] = v < -threshold  # |v| <= threshold is +0, whose sign bit is clear
    # cumulative count of changes c[i] = neg[i] != neg[i-1] for i >= 1
    cum = np.zeros(n, dtype=np.int64)
    for i in range(1, n):
        cum[i] = cum[i - 1] + (1 if neg[i] != neg[i - 1] else 0)
    for t in range(out.shape[0]):
        s = t * hop
        out[t] = (cum[s + frame_length - 1] - cum[s]) / frame_length


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------


def _as_signal(y) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1:
        raise ValueError(f"expected a mono signal (1-D array), got shape {y.shape}")
    if y.shape[0] == 0:
        raise ValueError("empty signal")
    if not np.all(np.isfinite(y)):
        raise ValueError("signal contains NaN or infinite samples")
    return y


@lru_cache(maxsize=8)
def _hann(n: int) -> np.ndarray:
    """Periodic Hann window of ``n`` samples (scipy's, as librosa uses)."""
    w = scipy.signal.get_window("hann", n, fftbins=True)
    w.setflags(write=False)
    return w


def _n_frames(n: int, frame_length: int, hop_length: int) -> int:
    return 1 + (n + 2 * (frame_length // 2) - frame_length) // hop_length


def _stft_tf(y: np.ndarray, n_fft: int, hop_length: int, center: bool) -> np.ndarray:
    """STFT as ``(n_frames, 1 + n_fft // 2)`` complex128 (time-major, the layout the kernels use)."""
    if center:
        y = np.pad(y, n_fft // 2, mode="constant")
    if y.shape[0] < n_fft:
        raise ValueError(f"signal of {y.shape[0]} samples is shorter than n_fft={n_fft}")
    frames = np.lib.stride_tricks.sliding_window_view(y, n_fft)[::hop_length]
    return scipy.fft.rfft(frames * _hann(n_fft), axis=-1)


@lru_cache(maxsize=8)
def _window_sumsquare(n_frames: int, n_fft: int, hop_length: int) -> np.ndarray:
    """Overlap-added squared Hann window of ``n_frames`` frames (the istft normaliser)."""
    wss = np.zeros(n_fft + hop_length * (n_frames - 1))
    _overlap_add(np.broadcast_to(_hann(n_fft) ** 2, (n_frames, n_fft)), hop_length, wss)
    wss.setflags(write=False)
    return wss


def _istft_tf(D: np.ndarray, n_fft: int, hop_length: int, length: int | None,
              center: bool = True) -> np.ndarray:
    """Inverse of :func:`_stft_tf` (windowed overlap-add, divided by the summed squared window)."""
    frames = scipy.fft.irfft(D, n=n_fft, axis=-1)
    frames *= _hann(n_fft)
    n_frames = D.shape[0]
    total = n_fft + hop_length * (n_frames - 1)
    y = np.zeros(total)
    _overlap_add(frames, hop_length, y)
    wss = _window_sumsquare(n_frames, n_fft, hop_length)
    nz = wss > _TINY
    y[nz] /= wss[nz]
    start = n_fft // 2 if center else 0
    y = y[start:]
    if length is None:
        return y[: total - 2 * start] if center else y
    if y.shape[0] >= length:
        return y[:length].copy()
    return np.pad(y, (0, length - y.shape[0]))


def fft_frequencies(sr: float = SR, n_fft: int = N_FFT) -> np.ndarray:
    """Centre frequency (Hz) of each of the ``1 + n_fft // 2`` STFT bins."""
    return np.fft.rfftfreq(n=n_fft, d=1.0 / sr)


def _hz_to_mel(f):
    """Slaney mel scale: linear below 1 kHz (3 mels per 200 Hz), logarithmic above."""
    f = np.asarray(f, dtype=np.float64)
    f_sp = 200.0 / 3
    min_log_mel = 1000.0 / f_sp
    logstep = np.log(6.4) / 27.0
    mels = f / f_sp
    hi = f >= 1000.0
    return np.where(hi, min_log_mel + np.log(np.where(hi, f, 1000.0) / 1000.0) / logstep, mels)


def _mel_to_hz(m):
    m = np.asarray(m, dtype=np.float64)
    f_sp = 200.0 / 3
    min_log_mel = 1000.0 / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, 1000.0 * np.exp(logstep * (m - min_log_mel)), f_sp * m)


@lru_cache(maxsize=8)
def _mel_fb(sr: float, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    fft_freqs = fft_frequencies(sr, n_fft)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2))
    fdiff = np.diff(edges)
    ramps = edges[:, None] - fft_freqs[None, :]
    rising = -ramps[:-2] / fdiff[:-1, None]
    falling = ramps[2:] / fdiff[1:, None]
    w = np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)
    # slaney area normalisation; the bank is held in float32 like librosa's, used in float64
    w = (w * (2.0 / (edges[2:] - edges[:-2]))[:, None]).astype(np.float32).astype(np.float64)
    w.setflags(write=False)
    return w


def mel_filterbank(sr: float = SR, n_fft: int = N_FFT, n_mels: int = 128, fmin: float = 0.0,
                   fmax: float | None = None) -> np.ndarray:
    """Slaney-style mel filterbank (``htk=False``, ``norm='slaney'``), shape ``(n_mels, 1 + n_fft // 2)``.

    Triangular filters with edges equally spaced on the Slaney mel scale from ``fmin`` to ``fmax`` Hz
    (default ``sr / 2``), each scaled to unit area per Hz (weight ``2 / (f_right - f_left)`` at the apex).
    Weights are rounded to float32 like librosa's (``filters.mel(dtype=float32)``) and returned as float64.
    """
    fmax = float(sr) / 2 if fmax is None else float(fmax)
    return _mel_fb(float(sr), int(n_fft), int(n_mels), float(fmin), fmax).copy()


@lru_cache(maxsize=64)
def _chroma_fb(sr: float, n_fft: int, n_chroma: int, tuning: float, ctroct: float, octwidth: float,
               base_c: bool) -> np.ndarray:
    freqs = np.linspace(0, sr, n_fft, endpoint=False)[1:]
    a440 = 440.0 * 2.0 ** (tuning / n_chroma)
    frqbins = n_chroma * np.log2(freqs / (float(a440) / 16))
    frqbins = np.concatenate(([frqbins[0] - 1.5 * n_chroma], frqbins))
    widths = np.concatenate((np.maximum(frqbins[1:] - frqbins[:-1], 1.0), [1]))
    d = frqbins[None, :] - np.arange(n_chroma, dtype=np.float64)[:, None]
    half = np.round(float(n_chroma) / 2)
    d = np.remainder(d + half + 10 * n_chroma, n_chroma) - half
    w = np.exp(-0.5 * (2 * d / widths[None, :]) ** 2)
    norms = np.sum(np.abs(w) ** 2, axis=0, keepdims=True) ** (1.0 / 2)
    norms[norms < _TINY] = 1.0
    w = w / norms
    w *= np.exp(-0.5 * ((frqbins / n_chroma - ctroct) / octwidth) ** 2)[None, :]
    if base_c:
        w = np.roll(w, -3 * (n_chroma // 12), axis=0)
    w = np.ascontiguousarray(w[:, : int(1 + n_fft / 2)], dtype=np.float32).astype(np.float64)
    w.setflags(write=False)
    return w


def chroma_filterbank(sr: float = SR, n_fft: int = N_FFT, n_chroma: int = 12, tuning: float = 0.0,
                      ctroct: float = 5.0, octwidth: float = 2.0, base_c: bool = True) -> np.ndarray:
    """Chroma filterbank (librosa ``filters.chroma`` defaults), shape ``(n_chroma, 1 + n_fft // 2)``.

    Each FFT bin spreads over the pitch classes with a Gaussian of one bin-width (in chroma bins),
    columns are L2-normalised, then weighted by a Gaussian over octaves centred at octave ``ctroct``
    (C5 ~ 523 Hz) with ``octwidth`` octaves standard deviation.  ``tuning`` is the deviation from
    A440 in fractions of a chroma bin; row 0 is C when ``base_c``.  Float32-rounded like librosa's.
    """
    return _chroma_fb(float(sr), int(n_fft), int(n_chroma), float(tuning), float(ctroct),
                      float(octwidth), bool(base_c)).copy()


def _normalize_max(X: np.ndarray, axis: int) -> np.ndarray:
    """Divide by the max |value| along ``axis`` (left as is where that max is below float64 tiny)."""
    length = np.max(np.abs(X), axis=axis, keepdims=True)
    length[length < _TINY] = 1.0
    return X / length


# --------------------------------------------------------------------------------------------------
# public features
# --------------------------------------------------------------------------------------------------


def stft(y, *, n_fft: int = N_FFT, hop_length: int = HOP, center: bool = True) -> np.ndarray:
    """Short-time Fourier transform (periodic Hann window, zero padding of ``n_fft // 2`` when centred).

    Parameters
    ----------
    y : array, shape (n,)
        Mono signal, linear amplitude.
    n_fft, hop_length : int
        Frame length and hop, in samples.

    Returns
    -------
    np.ndarray complex128, shape (1 + n_fft // 2, 1 + n // hop_length)
        Complex spectrum (linear amplitude units, unnormalised FFT) per bin (rows) and frame (columns).
    """
    return _stft_tf(_as_signal(y), n_fft, hop_length, center).T


def istft(D, *, hop_length: int = HOP, length: int | None = None, center: bool = True) -> np.ndarray:
    """Inverse of :func:`stft` by weighted overlap-add; ``D`` shaped ``(1 + n_fft // 2, n_frames)``.

    Returns the time signal (float64, linear amplitude), cut or zero-padded to ``length`` samples.
    """
    D = np.asarray(D)
    n_fft = 2 * (D.shape[0] - 1)
    return _istft_tf(np.ascontiguousarray(D.T), n_fft, hop_length, length, center)


def power_to_db(S, *, ref: float = 1.0, amin: float = 1e-10, top_db: float | None = 80.0) -> np.ndarray:
    """Power to decibels: ``10 log10(max(amin, S) / max(amin, ref))``, floored at ``max - top_db`` dB.

    The floor is taken over the whole array (as librosa's).  Input in power units, output in dB.
    """
    S = np.asarray(S, dtype=np.float64)
    out = 10.0 * np.log10(np.maximum(amin, S))
    out -= 10.0 * np.log10(np.maximum(amin, abs(ref)))
    if top_db is not None:
        if top_db < 0:
            raise ValueError("top_db must be non-negative")
        out = np.maximum(out, out.max() - top_db)
    return out


def _power_tf(y, S, n_fft, hop_length):
    """Power spectrogram (frames, bins) from a signal, or from a given (bins, frames) power ``S``."""
    if S is not None:
        return np.ascontiguousarray(np.asarray(S, dtype=np.float64).T)
    return np.abs(_stft_tf(_as_signal(y), n_fft, hop_length, True)) ** 2


def melspectrogram(y=None, sr: float = SR, *, S=None, n_fft: int = N_FFT, hop_length: int = HOP,
                   n_mels: int = 128, fmin: float = 0.0, fmax: float | None = None) -> np.ndarray:
    """Mel power spectrogram, shape ``(n_mels, n_frames)``: :func:`mel_filterbank` times ``|stft|**2``.

    ``y`` is a signal at ``sr`` Hz, or ``S`` a power spectrogram ``(1 + n_fft // 2, n_frames)``.
    Output in power units (squared linear amplitude, unnormalised FFT).
    """
    P = _power_tf(y, S, n_fft, hop_length)
    fb = mel_filterbank(sr, 2 * (P.shape[1] - 1), n_mels, fmin, fmax)
    return fb @ P.T


def _dct_ortho(X: np.ndarray, n: int, axis: int) -> np.ndarray:
    dct = scipy.fft.dct(X, type=2, norm="ortho", axis=axis)
    return np.take(dct, np.arange(n), axis=axis)


def mfcc(y=None, sr: float = SR, *, S=None, n_mfcc: int = 20, n_fft: int = N_FFT, hop_length: int = HOP,
         n_mels: int = 128) -> np.ndarray:
    """Mel-frequency cepstral coefficients, shape ``(n_mfcc, n_frames)``.

    Orthonormal DCT-II over mel bands of ``power_to_db(melspectrogram)`` (dB, ref 1, amin 1e-10,
    top_db 80); ``S`` may give that log-mel spectrogram (dB) directly.  Output in dB-scaled units.
    """
    if S is None:
        S = power_to_db(melspectrogram(y, sr, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels))
    return _dct_ortho(np.asarray(S, dtype=np.float64), n_mfcc, axis=0)


def _pitch_tuning(freqs: np.ndarray, resolution: float = 0.01, bins_per_octave: int = 12) -> float:
    freqs = freqs[freqs > 0]
    if freqs.size == 0:
        return 0.0
    residual = np.mod(bins_per_octave * np.log2(freqs / (440.0 / 16)), 1.0)
    residual[residual >= 0.5] -= 1.0
    edges = np.linspace(-0.5, 0.5, int(np.ceil(1.0 / resolution)) + 1)
    counts, edges = np.histogram(residual, edges)
    return float(edges[np.argmax(counts)])


def _tuning_tf(P: np.ndarray, sr: float, n_fft: int, bins_per_octave: int = 12, fmin: float = 150.0,
               fmax: float = 4000.0, threshold: float = 0.1, resolution: float = 0.01) -> float:
    freqs = fft_frequencies(sr, n_fft)
    fmax = min(fmax, float(sr) / 2)
    mask = (max(fmin, 0.0) <= freqs) & (freqs < fmax)
    pitches, mags = _pip_candidates(P, mask, float(sr), n_fft, threshold)
    if pitches.size == 0:
        return 0.0
    keep = mags >= np.median(mags)
    return _pitch_tuning(pitches[keep], resolution, bins_per_octave)


def estimate_tuning(y=None, sr: float = SR, *, S=None, n_fft: int = N_FFT, hop_length: int = HOP,
                    bins_per_octave: int = 12, resolution: float = 0.01) -> float:
    """Tuning offset from A440, in fractions of a bin (``-0.5 .. 0.5``, step ``resolution``).

    As librosa's: spectral peaks (piptrack: bins above 10 % of the frame maximum that are local maxima,
    150-4000 Hz, parabolically interpolated) whose magnitude reaches the median peak magnitude are
    histogrammed by their deviation from the equal-tempered grid; the fullest bin wins.  ``S`` is a
    spectrogram ``(bins, frames)`` (chroma_stft passes the power spectrogram), else ``|stft(y)|``.
    """
    if S is None:
        P = np.abs(_stft_tf(_as_signal(y), n_fft, hop_length, True))
    else:
        P = np.ascontiguousarray(np.abs(np.asarray(S, dtype=np.float64)).T)
    return _tuning_tf(P, sr, 2 * (P.shape[1] - 1), bins_per_octave, resolution=resolution)


def chroma_stft(y=None, sr: float = SR, *, S=None, n_fft: int = N_FFT, hop_length: int = HOP,
                tuning: float | None = None, n_chroma: int = 12) -> np.ndarray:
    """Chromagram from the power spectrogram, shape ``(n_chroma, n_frames)``, each frame max-normalised.

    ``tuning`` (fraction of a bin) is estimated from the power spectrogram with :func:`estimate_tuning`
    when not given, as librosa does.  Values are unitless in ``[0, 1]``.
    """
    P = _power_tf(y, S, n_fft, hop_length)
    n_fft = 2 * (P.shape[1] - 1)
    if tuning is None:
        tuning = _tuning_tf(P, sr, n_fft, bins_per_octave=n_chroma)
    fb = chroma_filterbank(sr, n_fft, n_chroma=n_chroma, tuning=tuning)
    return _normalize_max(fb @ P.T, axis=0)


def _mag_tf(y, S, n_fft, hop_length):
    if S is not None:
        return np.ascontiguousarray(np.asarray(S, dtype=np.float64).T)
    return np.abs(_stft_tf(_as_signal(y), n_fft, hop_length, True))


def _shape_tf(M: np.ndarray, sr: float, roll_percent: float = 0.85):
    n = M.shape[0]
    c, b, r = np.empty(n), np.empty(n), np.empty(n)
    _spectral_shape(M, fft_frequencies(sr, 2 * (M.shape[1] - 1)), roll_percent, c, b, r)
    return c, b, r


def spectral_centroid(y=None, sr: float = SR, *, S=None, n_fft: int = N_FFT,
                      hop_length: int = HOP) -> np.ndarray:
    """Spectral centroid (Hz) per frame, shape ``(1, n_frames)``: magnitude-weighted mean bin frequency.

    ``S`` may give the magnitude spectrogram ``(bins, frames)``; silent frames give 0 Hz.
    """
    return _shape_tf(_mag_tf(y, S, n_fft, hop_length), sr)[0][None, :]


def spectral_bandwidth(y=None, sr: float = SR, *, S=None, n_fft: int = N_FFT,
                       hop_length: int = HOP) -> np.ndarray:
    """Spectral bandwidth (Hz) per frame, shape ``(1, n_frames)``: magnitude-weighted standard deviation
    of bin frequency around the centroid (librosa's p=2, normalised)."""
    return _shape_tf(_mag_tf(y, S, n_fft, hop_length), sr)[1][None, :]


def spectral_rolloff(y=None, sr: float = SR, *, S=None, n_fft: int = N_FFT, hop_length: int = HOP,
                     roll_percent: float = 0.85) -> np.ndarray:
    """Roll-off frequency (Hz) per frame, shape ``(1, n_frames)``: centre frequency of the lowest bin at
    which the cumulative magnitude reaches ``roll_percent`` of the frame's total."""
    if not 0.0 < roll_percent < 1.0:
        raise ValueError("roll_percent must lie in (0, 1)")
    return _shape_tf(_mag_tf(y, S, n_fft, hop_length), sr, roll_percent)[2][None, :]


def zero_crossing_rate(y, *, frame_length: int = N_FFT, hop_length: int = HOP, center: bool = True,
                       threshold: float = 1e-10) -> np.ndarray:
    """Zero-crossing rate per frame, shape ``(1, n_frames)``: sign changes per sample (0..1).

    Frames are padded by repeating the edge samples when centred; ``|y| <= threshold`` counts as +0;
    the count of changes between the frame's consecutive samples is divided by ``frame_length``.
    """
    y = _as_signal(y)
    if center:
        y = np.pad(y, frame_length // 2, mode="edge")
    if y.shape[0] < frame_length:
        raise ValueError(f"signal of {y.shape[0]} samples is shorter than frame_length={frame_length}")
    out = np.empty(1 + (y.shape[0] - frame_length) // hop_length)
    _frame_crossings(y, frame_length, hop_length, threshold, out)
    return out[None, :]


def rms(y, *, frame_length: int = N_FFT, hop_length: int = HOP, center: bool = True) -> np.ndarray:
    """Root-mean-square amplitude per frame (linear amplitude), shape ``(1, n_frames)``; zero-padded
    by ``frame_length // 2`` at both ends when centred, no window."""
    y = _as_signal(y)
    if center:
        y = np.pad(y, frame_length // 2, mode="constant")
    if y.shape[0] < frame_length:
        raise ValueError(f"signal of {y.shape[0]} samples is shorter than frame_length={frame_length}")
    out = np.empty(1 + (y.shape[0] - frame_length) // hop_length)
    _frame_mean_square(y, frame_length, hop_length, out)
    return np.sqrt(out)[None, :]


def median_filter(x, size: int, axis: int = -1) -> np.ndarray:
    """Median over a window of odd ``size`` along ``axis`` of a 2-D array, edges mirrored
    (``scipy.ndimage.median_filter(..., mode='reflect')`` along one axis), same units as ``x``."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError("median_filter takes a 2-D array")
    if size < 1 or size % 2 == 0:
        raise ValueError("size must be a positive odd integer")
    xr = np.ascontiguousarray(np.moveaxis(x, axis, -1))
    out = np.empty_like(xr)
    _median_rows(xr, int(size), out)
    return np.moveaxis(out, -1, axis)


def _hpss_tf(D: np.ndarray, S: np.ndarray, kernel_size: int = 31):
    """Harmonic and percussive STFTs (frames, bins) of ``D`` with magnitude ``S = |D|``."""
    H = np.empty_like(S)
    _median_rows(np.ascontiguousarray(S.T), kernel_size, H.T)  # along time
    P = np.empty_like(S)
    _median_rows(S, kernel_size, P)  # along frequency
    Dh = np.empty_like(D)
    Dp = np.empty_like(D)
    _hpss_split(D, S, H, P, Dh, Dp)
    return Dh, Dp


def hpss(y, *, kernel_size: int = 31, n_fft: int = N_FFT, hop_length: int = HOP):
    """Harmonic/percussive separation of a signal, as ``librosa.effects.hpss`` with its defaults.

    Median filters of ``kernel_size`` bins (along time for harmonic, along frequency for percussive)
    on ``|stft|``, soft masks with power 2 and margin 1, then the inverse STFT of each masked
    spectrogram cut to ``len(y)``.  Returns ``(y_harmonic, y_percussive)`` in the signal's units.
    """
    y = _as_signal(y)
    D = _stft_tf(y, n_fft, hop_length, True)
    Dh, Dp = _hpss_tf(D, np.abs(D), kernel_size)
    return (_istft_tf(Dh, n_fft, hop_length, y.shape[0]), _istft_tf(Dp, n_fft, hop_length, y.shape[0]))


def _onset_from_logmel(L: np.ndarray, n_fft: int, hop_length: int, aggregate: str = "mean",
                       lag: int = 1, detrend: bool = False, center: bool = True) -> np.ndarray:
    """Onset strength from a log-mel spectrogram in (frames, bands) layout."""
    n = L.shape[0]
    flux = np.maximum(0.0, L[lag:] - L[:-lag])
    if aggregate == "median":
        env = np.median(flux, axis=1)
    elif aggregate == "mean":
        env = np.mean(flux, axis=1)
    else:
        raise ValueError("aggregate must be 'mean' or 'median'")
    pad = lag + (n_fft // (2 * hop_length) if center else 0)
    env = np.pad(env, (pad, 0))
    if detrend:
        env = scipy.signal.lfilter([1.0, -1.0], [1.0, -0.99], env)
    if center:
        env = env[:n]
    return env


def onset_strength(y=None, sr: float = SR, *, S=None, n_fft: int = N_FFT, hop_length: int = HOP,
                   lag: int = 1, aggregate: str = "mean", detrend: bool = False,
                   center: bool = True) -> np.ndarray:
    """Spectral-flux onset strength (dB per frame), shape ``(n_frames,)``.

    Positive first difference (``lag`` frames) of the log-mel spectrogram (``power_to_db`` of the
    128-band mel power spectrogram, or ``S`` in dB, shaped ``(bands, frames)``), aggregated over bands
    by ``'mean'`` (librosa.onset.onset_strength's default) or ``'median'`` (what beat_track uses),
    shifted right by ``lag + n_fft // (2 hop)`` frames when centred, optionally DC-blocked (detrend).
    """
    if S is None:
        S = power_to_db(melspectrogram(y, sr, n_fft=n_fft, hop_length=hop_length))
    L = np.ascontiguousarray(np.asarray(S, dtype=np.float64).T)
    return _onset_from_logmel(L, n_fft, hop_length, aggregate, lag, detrend, center)


def tempo(y=None, sr: float = SR, *, onset_envelope=None, hop_length: int = HOP, start_bpm: float = 120.0,
          std_bpm: float = 1.0, ac_size: float = 8.0, max_tempo: float | None = 320.0) -> float:
    """Global tempo estimate in beats per minute, as ``librosa.beat.beat_track(y=y, sr=sr)[0]``.

    The onset envelope (default: :func:`onset_strength` with median aggregation, beat_track's choice)
    is autocorrelated in Hann-windowed frames of ``ac_size`` seconds (a tempogram, each frame
    max-normalised), averaged over time, weighted by a log-normal prior centred on ``start_bpm`` with
    ``std_bpm`` octaves deviation, and the best lag below ``max_tempo`` BPM is returned.  An envelope
    without any onset gives 0.0 (as beat_track).  Tempi are quantised to ``60 sr / (hop * lag)``.
    """
    if onset_envelope is None:
        onset_envelope = onset_strength(y, sr, hop_length=hop_length, aggregate="median")
    env = np.asarray(onset_envelope, dtype=np.float64)
    if not env.any():
        return 0.0
    return _tempo_from_env(env, sr, hop_length, start_bpm, std_bpm, ac_size, max_tempo)


def _tempo_from_env(env, sr, hop_length, start_bpm=120.0, std_bpm=1.0, ac_size=8.0, max_tempo=320.0) -> float:
    if start_bpm <= 0:
        raise ValueError("start_bpm must be strictly positive")
    win = int(ac_size * sr) // hop_length
    n = env.shape[0]
    padded = np.pad(env, (win // 2, win // 2), mode="linear_ramp", end_values=(0, 0))
    frames = np.lib.stride_tricks.sliding_window_view(padded, win)[:n] * _hann(win)
    n_pad = scipy.fft.next_fast_len(2 * win - 1, real=True)
    spec = scipy.fft.rfft(frames, n=n_pad, axis=-1)
    ac = scipy.fft.irfft(spec.real ** 2 + spec.imag ** 2, n=n_pad, axis=-1)[:, :win]
    tg = np.mean(_normalize_max(ac, axis=1), axis=0)
    bpms = np.empty(win)
    bpms[0] = np.inf
    bpms[1:] = 60.0 * sr / (hop_length * np.arange(1.0, win))
    with np.errstate(divide="ignore"):
        logprior = -0.5 * ((np.log2(bpms) - np.log2(start_bpm)) / std_bpm) ** 2
    if max_tempo is not None:
        logprior[: int(np.argmax(bpms < max_tempo))] = -np.inf
    return float(bpms[np.argmax(np.log1p(1e6 * tg) + logprior)])


# --------------------------------------------------------------------------------------------------
# the GTZAN feature vector
# --------------------------------------------------------------------------------------------------


def _to_mono(y) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 1:
        return y
    if y.ndim == 2:
        # soundfile's (samples, channels); a (channels, samples) array has fewer rows than columns
        return y.mean(axis=1) if y.shape[0] >= y.shape[1] else y.mean(axis=0)
    raise ValueError(f"expected a 1-D or 2-D signal, got shape {y.shape}")


def clip_features(y) -> dict[str, float]:
    """The 57 GTZAN features of a mono 22050 Hz signal taken as a whole (no resampling, no cut).

    See :func:`gtzan_features` for the definitions; returns ``{name: value}`` in :data:`FEATURE_NAMES`
    order.  Units: Hz for centroid/bandwidth/rolloff (variances in Hz^2), linear amplitude for rms,
    harmony and perceptr, crossings per sample for zcr, BPM for tempo, dB-cepstral units for MFCCs.
    """
    y = _as_signal(y)
    sr = SR
    D = _stft_tf(y, N_FFT, HOP, True)  # (frames, bins)
    M = np.abs(D)
    P = M ** 2

    tuning = _tuning_tf(P, sr, N_FFT)
    chroma = _normalize_max(P @ _chroma_fb(float(sr), N_FFT, 12, tuning, 5.0, 2.0, True).T, axis=1)

    logmel = power_to_db(P @ _mel_fb(float(sr), N_FFT, 128, 0.0, sr / 2.0).T)  # (frames, 128)
    mf = _dct_ortho(logmel, 20, axis=1)

    cen, bw, roll = _shape_tf(M, sr)
    r = rms(y)
    z = zero_crossing_rate(y)

    Dh, Dp = _hpss_tf(D, M)
    yh = _istft_tf(Dh, N_FFT, HOP, y.shape[0])
    yp = _istft_tf(Dp, N_FFT, HOP, y.shape[0])

    env = _onset_from_logmel(logmel, N_FFT, HOP, aggregate="median")
    bpm = _tempo_from_env(env, sr, HOP) if env.any() else 0.0

    out: dict[str, float] = {}
    for name, x in (("chroma_stft", chroma), ("rms", r), ("spectral_centroid", cen),
                    ("spectral_bandwidth", bw), ("rolloff", roll), ("zero_crossing_rate", z),
                    ("harmony", yh), ("perceptr", yp)):
        out[f"{name}_mean"] = float(np.mean(x))
        out[f"{name}_var"] = float(np.var(x))
    out["tempo"] = bpm
    for i in range(20):
        out[f"mfcc{i + 1}_mean"] = float(np.mean(mf[:, i]))
        out[f"mfcc{i + 1}_var"] = float(np.var(mf[:, i]))
    return out


def gtzan_features(y, sr: float) -> dict[str, float]:
    """The 57 feature columns of GTZAN's ``features_30_sec.csv`` for a clip, as ``{name: value}``.

    Parameters
    ----------
    y : array, shape (n,) or (n, channels)
        Audio in linear amplitude (full scale 1.0); multichannel input is averaged to mono
        (a 2-D array with more columns than rows is read as (channels, n)).
    sr : float
        Sampling rate of ``y`` in Hz; the clip is resampled to 22050 Hz (:func:`resample_to`).

    Returns
    -------
    dict[str, float]
        Keys :data:`FEATURE_NAMES` in order.  Over the first 30 s of the clip (all of it if shorter):
        ``np.mean``/``np.var`` of chroma_stft (all 12 x frames values), rms, spectral centroid,
        bandwidth and 85 % rolloff (Hz), zero-crossing rate, the harmonic and percussive signals of
        HPSS (``harmony``/``perceptr``, per sample), ``tempo`` (BPM, as beat_track) and MFCC 1-20.

    Examples
    --------
    >>> f = gtzan_features(np.random.default_rng(0).standard_normal(44100), 44100)
    >>> list(f)[:2]
    ['chroma_stft_mean', 'chroma_stft_var']
    """
    y = _to_mono(y)
    if sr != SR:
        keep = int(math.ceil((CLIP_S + 0.01) * sr))  # 10 ms beyond the cut keeps the filter tail honest
        y = resample_to(y[:keep], sr, SR)
    return clip_features(y[: int(CLIP_S * SR)])
