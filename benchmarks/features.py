"""Time the 57 GTZAN features of a 30 s clip: livehost.ml.features vs librosa, in the same run.

    python benchmarks/features.py [--json] [--seconds 30] [--repeat 5] [--file AUDIO]

The clip is ``--file`` (first ``--seconds``, resampled to 22050 Hz mono), else music21's packaged
recording looped to length when music21 is installed, else a synthetic mix (notes, noise, drum
clicks).  Both sides get the same 22050 Hz float64 signal, are warmed up once (numba compilation,
librosa's caches) and timed ``--repeat`` times; the best time of each is reported.  ``--json`` prints
one object: ``livehost_s``, ``librosa_s``, ``speedup`` (plus ``seconds``, ``repeat``, ``source``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from livehost.ml.features import SR, clip_features, resample_to  # noqa: E402


def librosa_features(y: np.ndarray, sr: int = SR) -> dict[str, float]:
    """The 57 GTZAN columns computed the table's way with librosa."""
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
    out = {}
    for name, x in mats.items():
        out[f"{name}_mean"] = float(np.mean(x))
        out[f"{name}_var"] = float(np.var(x))
    out["tempo"] = float(np.atleast_1d(bpm)[0])
    for i in range(20):
        out[f"mfcc{i + 1}_mean"] = float(np.mean(mf[i]))
        out[f"mfcc{i + 1}_var"] = float(np.var(mf[i]))
    return out


def _synthetic(n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(n) / SR
    y = 0.02 * rng.standard_normal(n)
    for k, f in enumerate((220.0, 277.18, 329.63, 440.0)):
        y += 0.1 * np.sin(2 * np.pi * f * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 0.25 * (k + 1) * t))
    y[:: int(SR * 0.5)] += 0.8  # 120 BPM clicks
    return y


def load_clip(path: str | None, seconds: float) -> tuple[np.ndarray, str]:
    n = int(seconds * SR)
    if path is None:
        spec = importlib.util.find_spec("music21")
        if spec is not None and spec.submodule_search_locations:
            cand = os.path.join(list(spec.submodule_search_locations)[0], "audioSearch", "test_audio.wav")
            if os.path.exists(cand):
                path = cand
    if path is None:
        return _synthetic(n), "synthetic"
    import soundfile as sf

    data, sr = sf.read(path, dtype="float64", always_2d=True)
    y = resample_to(data.mean(axis=1), sr, SR)
    reps = -(-n // len(y))
    return np.tile(y, reps)[:n], os.path.basename(path)


def best_time(fn, y, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(y)
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--seconds", type=float, default=30.0, help="clip length in seconds (default 30)")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per side; the best counts (default 5)")
    ap.add_argument("--file", default=None, help="audio file to analyse (default: packaged or synthetic)")
    args = ap.parse_args(argv)

    y, source = load_clip(args.file, args.seconds)
    clip_features(y[: SR * 2])  # warm-up: numba compile / cache load
    librosa_features(y[: SR * 2])
    t_ours = best_time(clip_features, y, args.repeat)
    t_ref = best_time(librosa_features, y, args.repeat)
    res = {
        "livehost_s": round(t_ours, 4),
        "librosa_s": round(t_ref, 4),
        "speedup": round(t_ref / t_ours, 2),
        "seconds": args.seconds,
        "repeat": args.repeat,
        "source": source,
    }
    if args.json:
        print(json.dumps(res))
    else:
        print(f"57 GTZAN features of a {args.seconds:g} s clip ({source}), best of {args.repeat}")
        print(f"{'implementation':<16}{'time (s)':>10}")
        print(f"{'livehost':<16}{t_ours:>10.3f}")
        print(f"{'librosa 0.11':<16}{t_ref:>10.3f}")
        print(f"{'speedup':<16}{t_ref / t_ours:>9.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
