"""``livehost classify FILE``: the genre of a sound file, offline, with the shipped (or a given) model."""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from livehost.errors import LivehostError

SEGMENT_S = 30.0  #: segment length (s), as the training clips
MIN_LAST_S = 10.0  #: a trailing partial segment is classified only if at least this long (s)


def segments(y22050: np.ndarray, every: bool) -> list[tuple[float, float, np.ndarray]]:
    """``(start_s, end_s, samples)`` of the first 30 s, or of every 30 s segment (a last partial one of
    at least :data:`MIN_LAST_S` included) when ``every``."""
    from livehost.ml.features import SR

    n = int(SEGMENT_S * SR)
    if not every:
        return [(0.0, min(len(y22050), n) / SR, y22050[:n])]
    out = []
    for s in range(0, len(y22050), n):
        seg = y22050[s:s + n]
        if s and len(seg) < MIN_LAST_S * SR:
            break
        out.append((s / SR, (s + len(seg)) / SR, seg))
    return out


def run(args: argparse.Namespace) -> int:
    """Handler of ``classify``: top-3 genres with probabilities per segment; exit code 0."""
    from livehost.ml.classifier import GenreModel, default_model_path
    from livehost.ml.features import N_FFT, SR, resample_to
    from livehost.ml.features_cli import read_audio

    model = GenreModel(args.model or default_model_path())
    y, sr = read_audio(args.file)
    if sr != SR:
        y = resample_to(y if args.segments else y[: int(np.ceil((SEGMENT_S + 0.01) * sr))], sr, SR)
    results = []
    for start, end, seg in segments(y, args.segments):
        if len(seg) < N_FFT:
            raise LivehostError(f"{args.file}: too short to classify ({len(seg)} samples at {SR} Hz)")
        try:
            p = model.predict_audio(seg)
        except ValueError as exc:
            raise LivehostError(f"{args.file}: cannot compute features: {exc}") from None
        results.append({"start_s": round(start, 3), "end_s": round(end, 3),
                        "top3": [[g, q] for g, q in model.top(p, 3)],
                        "probabilities": dict(zip(model.labels, map(float, p))),
                        "low_confidence": (end - start) < SEGMENT_S - 1e-6})
    out = getattr(args, "stdout", None) or sys.stdout
    if args.json:
        doc = {"file": args.file, "model": str(model.path), **({"segments": results} if args.segments else results[0])}
        out.write(json.dumps(doc) + "\n")
    else:
        for r in results:
            head = f"{r['start_s']:7.1f}-{r['end_s']:.1f} s  " if args.segments else ""
            tops = "  ".join(f"{g} {100 * q:.1f}%" for g, q in r["top3"])
            note = "  (short: low confidence)" if r["low_confidence"] else ""
            out.write(f"{head}{tops}{note}\n")
    return 0


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``classify`` subcommand on an argparse subparsers object; returns its parser."""
    p = subparsers.add_parser(
        "classify", help="print the top-3 genres of a sound file",
        description=("Classify the genre of FILE's first 30 s (or of every 30 s segment with --segments) "
                     "with a genre model (default: the shipped models/genre_mlp.onnx)."))
    p.add_argument("file", metavar="FILE", help="a WAV, FLAC or OGG file")
    p.add_argument("--model", default=None, help="ONNX model (its .card.json beside it)")
    p.add_argument("--segments", action="store_true", help="classify every 30 s segment, not only the first")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)
    return p
