"""What the patch-based genre models take: MFCC or log-mel patches of a 22050 Hz clip.

Shared by training (:mod:`livehost.ml.train_classifier`) and the live classifier
(:mod:`livehost.ml.classifier`), so both cut a clip the same way.
"""

from __future__ import annotations

import numpy as np

from livehost.ml.features import SR, melspectrogram, mfcc, power_to_db

PATCH_FRAMES = 128  #: frames per lstm/cnn patch (128 x 512 / 22050 Hz = 2.97 s)
N_MELS = 64  #: mel bands of the cnn's log-mel patches
N_MFCC = 20  #: MFCC coefficients per frame of the lstm's sequences


def mfcc_frames(y22050: np.ndarray) -> np.ndarray:
    """Per-frame MFCCs ``(frames, 20)`` of a 22050 Hz clip (librosa defaults, n_fft 2048, hop 512)."""
    return mfcc(y22050, SR, n_mfcc=N_MFCC).T


def logmel_frames(y22050: np.ndarray) -> np.ndarray:
    """Per-frame log-mel power ``(frames, 64)`` in dB (ref 1.0, top_db 80) of a 22050 Hz clip."""
    return power_to_db(melspectrogram(y22050, SR, n_mels=N_MELS)).T


def patches(frames: np.ndarray, length: int = PATCH_FRAMES) -> np.ndarray:
    """Non-overlapping patches ``(n, length, dims)`` of a ``(frames, dims)`` matrix (a trailing partial
    patch is dropped); a clip shorter than one patch becomes one patch, edge-padded (last frame repeated)."""
    n = frames.shape[0] // length
    if n == 0:
        pad = np.repeat(frames[-1:], length - frames.shape[0], axis=0) if frames.shape[0] else \
            np.zeros((length, frames.shape[1]))
        return np.concatenate([frames, pad])[None]
    return frames[: n * length].reshape(n, length, frames.shape[1])


def patch_inputs(y22050: np.ndarray, arch: str) -> np.ndarray:
    """Model inputs for one clip: lstm ``(n, 128, 20)`` MFCC patches; cnn ``(n, 64, 128)`` log-mel patches."""
    if arch == "lstm":
        return patches(mfcc_frames(y22050))
    return patches(logmel_frames(y22050)).transpose(0, 2, 1)
