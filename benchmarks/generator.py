"""Benchmark the shipped generator: real-time factor on one core and phase-reconstruction quality.

    python benchmarks/generator.py [--model models/generator-arp19.onnx] [--seconds 10] [--json]

Speed: the model stepped frame by frame with onnxruntime on one thread (process pinned to one CPU when
possible): ``model_step_us`` (the ONNX call alone), ``rtf_model`` (ONNX + mel inversion + RTPGHI +
overlap-add: seconds of audio per second of CPU), ``rtf_worker`` (that plus the streaming resampler to
48 kHz, what the live worker does).  Target: >= 20x.

Quality: spectral convergence ``20 log10(|| |STFT(y)| - S || / ||S||)`` in dB (lower is better) of the
streaming RTPGHI reconstruction (one frame look-ahead, and causal) against 32-iteration Griffin-Lim
from random phase and against random phase, on the same magnitudes ``S``: (a) the training piece's
STFT (consistent magnitudes), (b) the magnitudes the model generates (mel through the pseudo-inverse:
not a consistent spectrogram).  Target: RTPGHI within 3 dB of (or better than) Griffin-Lim.
``--json`` prints one object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from livehost.ml.generator import rtpghi as R  # noqa: E402
from livehost.ml.generator.worker import FrameGenerator, StreamResampler  # noqa: E402

DEFAULT_MODEL = "models/generator-arp19.onnx"


def speed(model: str, seconds: float) -> dict:
    """Real-time factors and per-step cost on one thread."""
    g = FrameGenerator(model, seed=0, threads=1)
    g.generate(0.5)  # warm-up (numba, onnxruntime)
    steps = int(seconds * g.sr / g.hop)
    x, h, c = g.x, g.h, g.c
    t = time.perf_counter()
    for _ in range(steps):
        _, h, c = g.sess.run(None, {"x": x, "h0": h, "c0": c})
    step_us = (time.perf_counter() - t) / steps * 1e6
    g.reset()
    t = time.perf_counter()
    y = g.generate(seconds)
    t_model = time.perf_counter() - t
    g.reset()
    rs = StreamResampler(g.sr, 48000)
    t = time.perf_counter()
    for _ in range(steps):
        rs.process(g.step())
    t_worker = time.perf_counter() - t
    return {"model_step_us": step_us, "rtf_model": seconds / t_model, "rtf_worker": seconds / t_worker,
            "steps_per_s": g.sr / g.hop, "audio_rms_db": float(20 * np.log10(np.sqrt(np.mean(y ** 2)) + 1e-12))}


def quality(S: np.ndarray, n_fft: int, hop: int) -> dict:
    """Spectral convergence (dB) of each reconstruction of magnitudes ``S`` (frames, bins)."""
    n = (len(S) - 1) * hop
    out = {}
    t = time.perf_counter()
    out["rtpghi"] = R.spectral_convergence_db(S, R.reconstruct(S, n_fft, hop, 1, length=n), n_fft, hop)
    out["rtpghi_s_per_s"] = (time.perf_counter() - t) / (n / 16000)
    out["rtpghi_causal"] = R.spectral_convergence_db(S, R.reconstruct(S, n_fft, hop, 0, length=n), n_fft, hop)
    out["griffin_lim_32"] = R.spectral_convergence_db(S, R.griffin_lim(S, n_fft, hop, 32, length=n), n_fft, hop)
    rnd = np.random.default_rng(0).uniform(-np.pi, np.pi, S.shape)
    out["random_phase"] = R.spectral_convergence_db(S, R.istft(S * np.exp(1j * rnd), n_fft, hop, n), n_fft, hop)
    out["rtpghi_minus_gl_db"] = out["rtpghi"] - out["griffin_lim_32"]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--seconds", type=float, default=10.0, help="audio generated per timing")
    ap.add_argument("--quality-seconds", type=float, default=8.0, help="audio per quality measurement")
    ap.add_argument("--no-pin", action="store_true", help="do not pin the process to one CPU")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    if not a.no_pin and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    res = {"model": a.model, "model_bytes": os.path.getsize(a.model)}
    res.update(speed(a.model, a.seconds))
    from livehost.ml.generator.trainaudio import render

    g = FrameGenerator(a.model, seed=0)
    n_fft, hop = g.setup.n_fft, g.hop
    y = render(a.quality_seconds, g.sr, seed=0)
    res["training_piece"] = quality(np.abs(R.stft(y, n_fft, hop)), n_fft, hop)
    frames = []
    for _ in range(int(a.quality_seconds * g.sr / hop)):
        g.step()
        frames.append(g.setup.magnitude(g.x[0, 0]))
    res["generated"] = quality(np.stack(frames), n_fft, hop)
    if a.json:
        print(json.dumps(res))
        return 0
    print(f"model {a.model} ({res['model_bytes'] / 1e6:.2f} MB), one onnxruntime thread")
    print(f"  ONNX step            {res['model_step_us']:8.1f} us  ({res['steps_per_s']:.1f} steps per audio second)")
    print(f"  real-time factor     {res['rtf_model']:8.1f} x   (model + RTPGHI + overlap-add)")
    print(f"  real-time factor     {res['rtf_worker']:8.1f} x   (+ resampling to 48 kHz: the live worker)")
    print()
    print(f"spectral convergence (dB, lower is better), n_fft {n_fft}, hop {hop}")
    print(f"  {'magnitudes':<16}{'RTPGHI':>9}{'causal':>9}{'GL-32':>9}{'random':>9}{'RTPGHI-GL':>11}")
    for key in ("training_piece", "generated"):
        q = res[key]
        print(f"  {key:<16}{q['rtpghi']:9.2f}{q['rtpghi_causal']:9.2f}{q['griffin_lim_32']:9.2f}"
              f"{q['random_phase']:9.2f}{q['rtpghi_minus_gl_db']:11.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
