"""Test helpers: the real recordings the feature tests use, and librosa's own 57 GTZAN features.

The recordings ship inside PyPI packages (no network at test time):
music21's ``audioSearch/test_audio.wav`` (20 s, 44.1 kHz, a melody played on a real instrument) and
pygame's ``examples/data/house_lo.ogg`` (7 s, 11.025 kHz, a house drum-and-bass loop).  They are
located with ``importlib.util.find_spec`` so neither package is imported.
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np

RECORDINGS = {
    "music21_test_audio": ("music21", ("audioSearch", "test_audio.wav")),
    "pygame_house_lo": ("pygame", ("examples", "data", "house_lo.ogg")),
}


def recording_path(name: str) -> str | None:
    """Path of a packaged recording, or None when its package is not installed."""
    package, parts = RECORDINGS[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(list(spec.submodule_search_locations)[0], *parts)
    return path if os.path.exists(path) else None


def librosa_gtzan_features(y: np.ndarray, sr: int = 22050) -> dict[str, float]:
    """The 57 GTZAN columns exactly as the table's recipe computes them with librosa defaults."""
    import librosa

    mats = {
        "chroma_stft": librosa.feature.chroma_stft(y=y, sr=sr),
        "rms": librosa.feature.rms(y=y),
        "spectral_centroid": librosa.feature.spectral_centroid(y=y, sr=sr),
        "spectral_bandwidth": librosa.feature.spectral_bandwidth(y=y, sr=sr),
        "rolloff": librosa.feature.spectral_rolloff(y=y, sr=sr),
        "zero_crossing_rate": librosa.feature.zero_crossing_rate(y),
    }
    mats["harmony"], mats["perceptr"] = librosa.effects.hpss(y)
    bpm, _ = librosa.beat.beat_track(y=y, sr=sr)
    mf = librosa.feature.mfcc(y=y, sr=sr)
    out: dict[str, float] = {}
    for name, x in mats.items():
        out[f"{name}_mean"] = float(np.mean(x))
        out[f"{name}_var"] = float(np.var(x))
    out["tempo"] = float(np.atleast_1d(bpm)[0])
    for i in range(20):
        out[f"mfcc{i + 1}_mean"] = float(np.mean(mf[i]))
        out[f"mfcc{i + 1}_var"] = float(np.var(mf[i]))
    return out
