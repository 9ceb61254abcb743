"""Helpers for the tools tests: signals with known answers, files, the CLI, the real recording."""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import soundfile as sf

SR = 48000


def sine(freq: float, seconds: float, sr: int = SR, amp: float = 0.5) -> np.ndarray:
    """Stereo float64 sine (frames, 2): ``freq`` Hz, ``amp`` linear peak."""
    t = np.arange(int(round(seconds * sr))) / sr
    x = amp * np.sin(2 * np.pi * freq * t)
    return np.stack([x, x], axis=1)


def write(path, x, sr: int = SR, subtype: str | None = None) -> str:
    """Write ``x`` with soundfile and return the path as a string."""
    sf.write(str(path), x, sr, subtype=subtype)
    return str(path)


def run_cli(argv: list[str]) -> int:
    """Run ``livehost tools ARGV`` through the tools parser (as ``livehost``'s main would)."""
    from livehost.tools.cli import main

    return main([str(a) for a in argv])


def real_recording() -> str | None:
    """music21's ``audioSearch/test_audio.wav`` or pygame's ``examples/data/house_lo.ogg``, or None."""
    for mod, rel in (("music21", ("audioSearch", "test_audio.wav")), ("pygame", ("examples", "data", "house_lo.ogg"))):
        try:
            spec = importlib.util.find_spec(mod)
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.submodule_search_locations:
            continue
        path = os.path.join(list(spec.submodule_search_locations)[0], *rel)
        if os.path.isfile(path):
            return path
    return None


def steady(y: np.ndarray, sr: int = SR, lo: float = 0.3, hi: float | None = None) -> np.ndarray:
    """Channel 0 of ``y`` between ``lo`` and ``hi`` seconds (skips onsets and tails)."""
    a = int(lo * sr)
    b = len(y) if hi is None else int(hi * sr)
    return np.asarray(y)[a:b, 0]
