"""``livehost features FILE [--json]``: print the 57 GTZAN audio features of a sound file."""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from livehost.errors import LivehostError


def read_audio(path: str) -> tuple[np.ndarray, int]:
    """Read a WAV/FLAC/OGG file with soundfile as mono float64 (linear amplitude) and its rate (Hz).

    Raises :class:`livehost.errors.LivehostError` (one line, naming the file) when it cannot be read.
    """
    import os

    import soundfile as sf

    if not os.path.isfile(path):
        raise LivehostError(f"{path}: cannot read audio: no such file")
    try:
        data, sr = sf.read(path, dtype="float64", always_2d=True)
    except Exception as exc:  # soundfile raises LibsndfileError, RuntimeError, OSError, TypeError...
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise LivehostError(f"{path}: cannot read audio: {reason}") from None
    if data.shape[0] == 0:
        raise LivehostError(f"{path}: cannot read audio: the file holds no samples")
    return data.mean(axis=1), int(sr)


def format_table(features: dict[str, float]) -> str:
    """Features as an aligned two-column table, one ``name  value`` line per feature."""
    width = max(len(k) for k in features)
    return "\n".join(f"{k:<{width}}  {v:>16.8g}" for k, v in features.items())


def run(args: argparse.Namespace) -> int:
    """Handler of ``features``: compute and print; returns the exit code (0)."""
    from livehost.ml.features import gtzan_features

    y, sr = read_audio(args.file)
    try:
        feats = gtzan_features(y, sr)
    except ValueError as exc:  # e.g. NaN samples in a float file, too short to analyse
        raise LivehostError(f"{args.file}: cannot compute features: {exc}") from None
    out = getattr(args, "stdout", None) or sys.stdout
    if args.json:
        out.write(json.dumps(feats) + "\n")
    else:
        out.write(format_table(feats) + "\n")
    return 0


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``features`` subcommand on an ``argparse`` subparsers object; returns its parser."""
    p = subparsers.add_parser(
        "features",
        help="print the 57 GTZAN genre features of a sound file",
        description=(
            "Compute the 57 feature columns of GTZAN's features_30_sec.csv (librosa 0.11 definitions) "
            "over the first 30 s of FILE, resampled to 22050 Hz mono."
        ),
    )
    p.add_argument("file", metavar="FILE", help="a WAV, FLAC or OGG file")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.set_defaults(func=run)
    return p
