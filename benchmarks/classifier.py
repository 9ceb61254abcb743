"""Time one live classification step: resample 30 s (engine rate -> 22050 Hz), 57 features, ONNX model.

    python benchmarks/classifier.py [--json] [--sr 48000] [--seconds 30] [--repeat 5] [--model M]

Uses a synthetic mix (chords, noise bursts on a beat, a bass line) as the window.  Each stage is warmed
up once (numba compilation, onnxruntime session) and timed ``--repeat`` times; the best time of each
is reported in ms.  The live worker (:class:`livehost.ml.classifier.ClassifierWorker`) does exactly
these three stages every ``interval_s`` (1.5 s by default), so their sum must stay well below it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from livehost.ml.classifier import GenreModel, default_model_path  # noqa: E402
from livehost.ml.features import SR, clip_features, resample_to  # noqa: E402


def mix(seconds: float, sr: float) -> np.ndarray:
    """Chords + noise bursts on a 2 Hz beat + a 60 Hz bass, mono float64."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * sr)) / sr
    beat = (t * 2.0) % 1.0
    y = sum(0.12 * np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6))
    y = y + 0.4 * np.exp(-beat * 30) * rng.standard_normal(t.size)
    return y + 0.5 * np.exp(-beat * 12) * np.sin(2 * np.pi * 60 * t)


def best(fn, repeat: int) -> tuple[float, object]:
    out = fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return 1000 * min(times), out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sr", type=float, default=48000.0, help="engine sample rate (Hz)")
    ap.add_argument("--seconds", type=float, default=30.0, help="window length (s)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--model", default=str(default_model_path()))
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    raw = mix(a.seconds, a.sr)
    model = GenreModel(a.model)
    t_rs, y = best(lambda: resample_to(raw, a.sr, SR) if a.sr != SR else raw, a.repeat)
    t_ft, f = best(lambda: clip_features(y), a.repeat)
    t_md, p = best(lambda: model.predict(f), max(a.repeat, 50))
    res = {"sr": a.sr, "seconds": a.seconds, "resample_ms": t_rs, "features_ms": t_ft, "model_ms": t_md,
           "total_ms": t_rs + t_ft + t_md, "top3": model.top(p)}
    if a.json:
        print(json.dumps(res))
    else:
        print(f"{a.seconds:g} s window at {a.sr:g} Hz: resample {t_rs:.1f} ms, features {t_ft:.1f} ms, "
              f"model {t_md:.3f} ms, total {res['total_ms']:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
