"""The generator's features (numpy, used live) and its frame LSTM (torch, training side only).

Two kinds of model, both "one frame in, the next frame out", run one step per frame:

- ``spectral``: frames are log-magnitude spectra: ``log(M + log_eps)`` where ``M`` is the Slaney mel
  filterbank (``n_mels`` bands) applied to the linear STFT magnitude (Hann window of ``n_fft``
  samples, hop ``hop`` samples, phases relative to the frame centre), or the STFT magnitude itself when
  ``n_mels`` is 0.  Audio is rebuilt live from predicted magnitudes by :mod:`.rtpghi`.
- ``waveform``: frames are ``hop`` consecutive samples (linear amplitude); the prediction is audio.

The torch module takes and returns *raw* feature frames; its standardisation (per-dimension mean and
std of the training features) lives inside it as buffers, so the exported ONNX graph is self-contained.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np

from livehost.ml.generator import rtpghi

KINDS = ("spectral", "waveform")


@dataclass
class FeatureSetup:
    """How audio becomes model frames and back.

    kind: ``"spectral"`` or ``"waveform"``; sr: model sample rate (Hz); hop: samples per model step;
    n_fft: STFT size (samples, spectral only; window = n_fft, n_fft/hop >= 4); n_mels: mel bands (0 =
    linear STFT bins); fmin, fmax: mel range (Hz); log_eps: floor added before the log (linear
    magnitude, STFT units).
    """

    kind: str = "spectral"
    sr: int = 16000
    hop: int = 256
    n_fft: int = 1024
    n_mels: int = 80
    fmin: float = 0.0
    fmax: float = 8000.0
    log_eps: float = 1e-3

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        if self.kind == "spectral":
            rtpghi._check(self.n_fft, self.hop)

    def to_dict(self) -> dict:
        """JSON-ready description (for the model card)."""
        d = asdict(self)
        if self.kind == "waveform":
            for k in ("n_fft", "n_mels", "fmin", "fmax", "log_eps"):
                d.pop(k)
            d["frame"] = self.hop
        else:
            d["window"] = "hann"
            d["features"] = "log-mel magnitude" if self.n_mels else "log STFT magnitude"
            d["phase"] = "rtpghi"
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "FeatureSetup":
        """Inverse of :meth:`to_dict`."""
        keys = ("kind", "sr", "hop", "n_fft", "n_mels", "fmin", "fmax", "log_eps")
        return cls(**{k: d[k] for k in keys if k in d})

    @property
    def bins(self) -> int:
        """STFT bins (n_fft // 2 + 1)."""
        return self.n_fft // 2 + 1

    @property
    def dim(self) -> int:
        """Values per model frame."""
        if self.kind == "waveform":
            return self.hop
        return self.n_mels or self.bins

    def mel(self) -> np.ndarray:
        """The mel filterbank ``(n_mels, bins)`` (Slaney, area-normalised)."""
        return _mel(self.sr, self.n_fft, self.n_mels, self.fmin, self.fmax)

    def mel_inverse(self) -> np.ndarray:
        """Pseudo-inverse of the mel filterbank ``(bins, n_mels)`` (mel magnitudes -> STFT magnitudes)."""
        return _mel_pinv(self.sr, self.n_fft, self.n_mels, self.fmin, self.fmax)

    def analyze(self, y: np.ndarray) -> np.ndarray:
        """Model frames of a mono signal at :attr:`sr`: float32 ``(frames, dim)``."""
        y = np.asarray(y, np.float64)
        if self.kind == "waveform":
            n = len(y) // self.hop
            return y[:n * self.hop].reshape(n, self.hop).astype(np.float32)
        S = np.abs(rtpghi.stft(y, self.n_fft, self.hop))
        if self.n_mels:
            S = S @ self.mel().T
        return np.log(S + self.log_eps).astype(np.float32)

    def magnitude(self, frame: np.ndarray) -> np.ndarray:
        """Linear STFT magnitude (bins,) of one spectral model frame (mel frames through the
        non-negative-clipped pseudo-inverse)."""
        m = np.maximum(np.exp(np.asarray(frame, np.float64)) - self.log_eps, 0.0)
        if self.n_mels:
            m = np.maximum(self.mel_inverse() @ m, 0.0)
        return m

    def synthesize(self, frames: np.ndarray, seed: int = 0) -> np.ndarray:
        """Audio (float64, model rate) of a sequence of frames, through the streaming path."""
        frames = np.asarray(frames)
        if self.kind == "waveform":
            return frames.astype(np.float64).ravel()
        S = np.stack([self.magnitude(f) for f in frames]) if len(frames) else np.zeros((0, self.bins))
        return rtpghi.reconstruct(S, self.n_fft, self.hop, seed=seed, length=len(frames) * self.hop)


@lru_cache(maxsize=8)
def _mel(sr, n_fft, n_mels, fmin, fmax) -> np.ndarray:
    from livehost.ml.features import mel_filterbank

    fb = mel_filterbank(sr, n_fft, n_mels, fmin, fmax)
    fb.setflags(write=False)
    return fb


@lru_cache(maxsize=8)
def _mel_pinv(sr, n_fft, n_mels, fmin, fmax) -> np.ndarray:
    p = np.linalg.pinv(_mel(sr, n_fft, n_mels, fmin, fmax))
    p.setflags(write=False)
    return p


# --------------------------------------------------------------------------------------------------
# torch
# --------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _classes():
    import torch
    from torch import nn

    class FrameLSTM(nn.Module):
        """Stacked LSTM predicting the next raw feature frame; ``forward(x, h0, c0) -> (y, h, c)``.

        x: (batch, steps, dim) raw frames; h0, c0: (layers, batch, hidden); y like x.
        """

        def __init__(self, dim: int, hidden: int, layers: int, mean, std):
            super().__init__()
            self.dim, self.hidden, self.layers = int(dim), int(hidden), int(layers)
            self.register_buffer("mean", torch.as_tensor(np.asarray(mean, np.float32)).reshape(dim))
            self.register_buffer("std", torch.as_tensor(np.asarray(std, np.float32)).reshape(dim))
            self.lstm = nn.LSTM(dim, hidden, layers, batch_first=True)
            self.out = nn.Linear(hidden, dim)

        def forward_norm(self, z, h0, c0):
            """Standardised frames in, standardised prediction out."""
            y, (h, c) = self.lstm(z, (h0, c0))
            return self.out(y), h, c

        def forward(self, x, h0, c0):
            z = (x - self.mean) / self.std
            y, h, c = self.forward_norm(z, h0, c0)
            return y * self.std + self.mean, h, c

        def zero_state(self, batch: int = 1):
            """Zero (h, c) for ``batch`` sequences."""
            z = torch.zeros(self.layers, batch, self.hidden)
            return z, z.clone()

    return {"FrameLSTM": FrameLSTM}


def make_net(dim: int, hidden: int, layers: int, mean, std):
    """A :class:`FrameLSTM` (torch module; needs the ``train`` extra)."""
    return _classes()["FrameLSTM"](dim, hidden, layers, mean, std)


def n_params(net) -> int:
    """Trainable parameters of a torch module."""
    return int(sum(p.numel() for p in net.parameters()))
