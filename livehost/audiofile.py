"""Reading and writing audio files (WAV, FLAC, OGG via soundfile), with errors that name the file."""

from __future__ import annotations

import os
from math import gcd

import numpy as np
import soundfile as sf

from livehost.atomic import replace_atomic
from livehost.errors import LivehostError

FORMATS = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG"}


def read(path: str | os.PathLike, sr: float | None = None, stereo: bool = True) -> tuple[np.ndarray, int]:
    """Read an audio file as float64 ``(frames, 2)`` (or its own channel count if not ``stereo``).

    sr: resample to this rate in Hz (polyphase) when the file's rate differs; returns (audio, rate).
    """
    path = str(path)
    try:
        x, fsr = sf.read(path, dtype="float64", always_2d=True)
    except (RuntimeError, sf.LibsndfileError, OSError, ValueError) as e:
        raise LivehostError(f"{path}: cannot read audio: {_reason(e)}") from None
    if x.shape[0] == 0:
        raise LivehostError(f"{path}: the file holds no audio")
    if stereo:
        x = np.repeat(x, 2, axis=1) if x.shape[1] == 1 else x[:, :2]
    if sr is not None and int(sr) != int(fsr):
        from scipy.signal import resample_poly  # heavy (1.3-1.7 s): only when a file needs resampling

        g = gcd(int(sr), int(fsr))
        x = resample_poly(x, int(sr) // g, int(fsr) // g, axis=0)
        fsr = int(sr)
    x = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
    return np.ascontiguousarray(x), int(fsr)


def write(path: str | os.PathLike, x: np.ndarray, sr: float, subtype: str | None = None,
          atomic: bool = False) -> None:
    """Write ``x`` (frames, channels) at ``sr`` Hz; the format follows the extension (.wav/.flac/.ogg).

    WAV is written as 32-bit float unless ``subtype`` says otherwise, so renders are exact.
    atomic: write a temp file beside it and rename it over ``path`` (never a half-written file).
    """
    path = str(path)
    ext = os.path.splitext(path)[1].lower()
    fmt = FORMATS.get(ext)
    if fmt is None:
        raise LivehostError(f"{path}: unknown audio format '{ext}' (use .wav, .flac or .ogg)")
    if subtype is None:
        subtype = {"WAV": "FLOAT", "FLAC": "PCM_24", "OGG": "VORBIS"}[fmt]
    try:
        if atomic:
            replace_atomic(path, lambda tmp: sf.write(str(tmp), x, int(sr), format=fmt, subtype=subtype))
        else:
            sf.write(path, x, int(sr), format=fmt, subtype=subtype)
    except (RuntimeError, sf.LibsndfileError, OSError, ValueError) as e:
        raise LivehostError(f"{path}: cannot write audio: {_reason(e)}") from None


def _reason(e: Exception) -> str:
    s = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return s.replace("Error opening ", "").strip()


AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".aif", ".aiff", ".mp3")  #: what :func:`find` lists


def find(folders: list, depth: int = 3, limit: int = 500) -> list[str]:
    """Audio files (by suffix, :data:`AUDIO_SUFFIXES`) in ``folders`` and their subfolders down to
    ``depth`` levels (hidden folders such as ``.venv`` and ``.git``, ``__pycache__`` and
    ``node_modules`` skipped; links to folders not followed): absolute paths, each once, sorted within
    each folder, at most ``limit``."""
    out: list[str] = []
    seen: set[str] = set()

    def walk(d: str, level: int) -> None:
        try:
            entries = sorted(os.scandir(d), key=lambda e: e.name)
        except OSError:
            return
        for e in entries:
            if len(out) >= limit or e.name.startswith(".") or e.name in ("node_modules", "__pycache__"):
                continue
            if e.is_file() and e.name.lower().endswith(AUDIO_SUFFIXES):
                p = os.path.realpath(e.path)
                if p not in seen:
                    seen.add(p)
                    out.append(p)
            elif e.is_dir(follow_symlinks=False) and level < depth:
                walk(e.path, level + 1)

    for f in folders:
        walk(os.path.realpath(f), 0)
    return out
