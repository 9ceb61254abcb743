"""Benchmark the shipped generator: real-time factor on one core and phase-reconstruction quality.

    python benchmarks/generator.py [--model models/generator-arp19.onnx] [--seconds 10] [--json]

Speed: the model stepped frame by frame with onnxruntime on one thread (process pinned to one CPU when
possible), best of ``--repeat`` timings: ``model_step_us`` (the ONNX call alone), ``rtf_model`` (ONNX +
mel inversion + phase reconstruction + overlap-add: seconds of audio per second of wall time),
``rtf_worker`` (that plus the streaming resampler to 48 kHz, what the live worker does), both with the
reconstruction the live worker uses (RTPGHI refined by RTISI-LA, see ``live_reconstruction``), and
``rtf_model_rtpghi_alone`` / ``rtf_worker_rtpghi_alone`` with RTPGHI alone.  Target: >= 20x.

Quality: spectral convergence ``20 log10(|| |STFT(y)| - S || / ||S||)`` in dB (lower is better) of the
streaming reconstructions against 32 iterations of Griffin-Lim from random phase (not streaming: it
needs the whole spectrogram) and against random phase, on the same magnitudes ``S``.  Griffin-Lim is
librosa's (``librosa.griffinlim``, the same STFT: periodic Hann of n_fft, hop, centred frames with zero
padding), plain (``momentum=0``: ``griffin_lim_32``) and accelerated (librosa's default
``momentum=0.99``: ``fast_griffin_lim_32``).  Magnitudes: (a) the training piece's
STFT (consistent magnitudes), (b) the magnitudes the model generates (mel through the pseudo-inverse:
not a consistent spectrogram).  Rows per magnitude set:

- ``rtpghi``: RTPGHI alone (one frame look-ahead), ``rtpghi_causal``: RTPGHI alone, causal;
- ``rtisi``: RTPGHI refined by RTISI-LA with the live worker's settings (``live_reconstruction``);
- ``rtisi_settings``: the refinement at other passes / look-ahead (``i<iters>_k<lookahead>``), with
  the reconstruction time and the latency;
- ``rtpghi_minus_gl_db``: what the live worker uses (``rtisi``) minus plain Griffin-Lim 32: the
  figure of the target; ``rtpghi_alone_minus_gl_db``: the same for RTPGHI alone.

Target: the live reconstruction within 3 dB of (or better than) Griffin-Lim.  ``--json`` prints one
object.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from livehost.ml.generator import rtpghi as R  # noqa: E402
from livehost.ml.generator.worker import FrameGenerator, GeneratorWorker, StreamResampler  # noqa: E402

DEFAULT_MODEL = "models/generator-arp19.onnx"
#: (iters, look-ahead) of the RTISI-LA refinement measured besides the live setting
SWEEP = [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3), (3, 3)]


def _rtf(model: str, seconds: float, repeat: int, **kw) -> tuple[float, float]:
    """Best real-time factors (model alone, model + resampler to 48 kHz) of ``repeat`` timings."""
    g = FrameGenerator(model, seed=0, threads=1, **kw)
    g.generate(0.5)  # warm-up (numba, onnxruntime)
    steps = int(seconds * g.sr / g.hop)
    t_model = t_worker = float("inf")
    for _ in range(repeat):
        g.reset()
        t = time.perf_counter()
        g.generate(seconds)
        t_model = min(t_model, time.perf_counter() - t)
        g.reset()
        rs = StreamResampler(g.sr, 48000)
        t = time.perf_counter()
        for _ in range(steps):
            rs.process(g.step())
        t_worker = min(t_worker, time.perf_counter() - t)
    return seconds / t_model, seconds / t_worker


def speed(model: str, seconds: float, repeat: int = 3) -> dict:
    """Real-time factors and per-step cost on one thread (live reconstruction and RTPGHI alone)."""
    g = FrameGenerator(model, seed=0, threads=1)
    g.generate(0.5)
    steps = int(seconds * g.sr / g.hop)
    x, h, c = g.x, g.h, g.c
    t = time.perf_counter()
    for _ in range(steps):
        _, h, c = g.sess.run(None, {"x": x, "h0": h, "c0": c})
    step_us = (time.perf_counter() - t) / steps * 1e6
    g.reset()
    y = g.generate(seconds)
    rtf_model, rtf_worker = _rtf(model, seconds, repeat)
    rtf_model0, rtf_worker0 = _rtf(model, seconds, repeat, rtisi_iters=0)
    return {"model_step_us": step_us, "rtf_model": rtf_model, "rtf_worker": rtf_worker,
            "rtf_model_rtpghi_alone": rtf_model0, "rtf_worker_rtpghi_alone": rtf_worker0,
            "steps_per_s": g.sr / g.hop, "audio_rms_db": float(20 * np.log10(np.sqrt(np.mean(y ** 2)) + 1e-12))}


def _sc(S, n_fft, hop, sr, **kw) -> tuple[float, float]:
    """(spectral convergence dB, seconds of reconstruction per second of audio, best of three) of
    :func:`R.reconstruct`."""
    n = (len(S) - 1) * hop
    dt = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        y = R.reconstruct(S, n_fft, hop, length=n, **kw)
        dt = min(dt, time.perf_counter() - t)
    return R.spectral_convergence_db(S, y, n_fft, hop), dt / (n / sr)


def griffin_lim(S: np.ndarray, n_fft: int, hop: int, length: int, n_iter: int = 32, momentum: float = 0.0,
                seed: int = 0) -> np.ndarray:
    """librosa's Griffin-Lim of magnitudes ``S`` (frames, bins) with our STFT settings, from random
    phase: a signal of ``length`` samples."""
    import librosa

    return librosa.griffinlim(S.T, n_iter=n_iter, hop_length=hop, win_length=n_fft, n_fft=n_fft, window="hann",
                              center=True, length=length, pad_mode="constant", momentum=momentum, init="random",
                              random_state=seed)


def quality(S: np.ndarray, n_fft: int, hop: int, sr: int, live: dict) -> dict:
    """Spectral convergence (dB) of each reconstruction of magnitudes ``S`` (frames, bins); ``live``:
    the live worker's ``rtisi_iters`` and ``rtisi_lookahead``."""
    n = (len(S) - 1) * hop
    out = {}
    R.reconstruct(S[:8], n_fft, hop)  # warm-up (numba)
    out["rtpghi"], out["rtpghi_s_per_s"] = _sc(S, n_fft, hop, sr, lookahead=1, rtisi_iters=0)
    out["rtpghi_causal"], _ = _sc(S, n_fft, hop, sr, lookahead=0, rtisi_iters=0)
    out["rtisi"], out["rtisi_s_per_s"] = _sc(S, n_fft, hop, sr, lookahead=1, **live)
    out["rtisi_settings"] = {}
    for it, k in SWEEP:
        sc, sps = _sc(S, n_fft, hop, sr, lookahead=1, rtisi_iters=it, rtisi_lookahead=k)
        lat = R.StreamingReconstructor(n_fft, hop, 1, rtisi_iters=it, rtisi_lookahead=k).latency
        out["rtisi_settings"][f"i{it}_k{k}"] = {"sc_db": sc, "s_per_s": sps, "latency_ms": 1000.0 * lat / sr}
    out["griffin_lim_32"] = R.spectral_convergence_db(S, griffin_lim(S, n_fft, hop, n), n_fft, hop)
    out["fast_griffin_lim_32"] = R.spectral_convergence_db(S, griffin_lim(S, n_fft, hop, n, momentum=0.99),
                                                           n_fft, hop)
    rnd = np.random.default_rng(0).uniform(-np.pi, np.pi, S.shape)
    out["random_phase"] = R.spectral_convergence_db(S, R.istft(S * np.exp(1j * rnd), n_fft, hop, n), n_fft, hop)
    out["rtpghi_minus_gl_db"] = out["rtisi"] - out["griffin_lim_32"]  # the live reconstruction
    out["rtpghi_alone_minus_gl_db"] = out["rtpghi"] - out["griffin_lim_32"]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--seconds", type=float, default=10.0, help="audio generated per timing")
    ap.add_argument("--repeat", type=int, default=3, help="timings per real-time factor (the best is kept)")
    ap.add_argument("--quality-seconds", type=float, default=8.0, help="audio per quality measurement")
    ap.add_argument("--no-pin", action="store_true", help="do not pin the process to one CPU")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    if not a.no_pin and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    res = {"model": a.model, "model_bytes": os.path.getsize(a.model)}
    from livehost.ml.generator.trainaudio import render

    g = FrameGenerator(a.model, seed=0)
    n_fft, hop, sr = g.setup.n_fft, g.hop, g.sr
    live = {"rtisi_iters": g.rtisi_iters, "rtisi_lookahead": g.rtisi_lookahead}
    ring_ms = inspect.signature(GeneratorWorker.__init__).parameters["ahead_ms"].default
    res["live_reconstruction"] = {
        "method": "rtpghi+rtisi-la" if g.rtisi_iters > 0 else "rtpghi", "rtpghi_lookahead": g.recon.pghi.lookahead,
        **live, "latency_samples": g.latency, "latency_ms": 1000.0 * g.latency / sr,
        "worker_ring_ahead_ms": ring_ms}
    res.update(speed(a.model, a.seconds, a.repeat))
    y = render(a.quality_seconds, sr, seed=0)
    res["training_piece"] = quality(np.abs(R.stft(y, n_fft, hop)), n_fft, hop, sr, live)
    frames = []
    for _ in range(int(a.quality_seconds * sr / hop)):
        g.step()
        frames.append(g.setup.magnitude(g.x[0, 0]))
    res["generated"] = quality(np.stack(frames), n_fft, hop, sr, live)
    if a.json:
        print(json.dumps(res))
        return 0
    lr = res["live_reconstruction"]
    live_name = f"RTPGHI + RTISI-LA ({lr['rtisi_iters']} pass, look-ahead {lr['rtisi_lookahead']})"
    print(f"model {a.model} ({res['model_bytes'] / 1e6:.2f} MB), one onnxruntime thread")
    print(f"  live reconstruction  {live_name}: latency {lr['latency_samples']} samples "
          f"({lr['latency_ms']:.0f} ms) + worker ring {lr['worker_ring_ahead_ms']:g} ms ahead")
    print(f"  ONNX step            {res['model_step_us']:8.1f} us  ({res['steps_per_s']:.1f} steps per audio second)")
    print(f"  real-time factor     {res['rtf_model']:8.1f} x   (model + live reconstruction;"
          f" {res['rtf_model_rtpghi_alone']:.1f} x with RTPGHI alone)")
    print(f"  real-time factor     {res['rtf_worker']:8.1f} x   (+ resampling to 48 kHz: the live worker;"
          f" {res['rtf_worker_rtpghi_alone']:.1f} x with RTPGHI alone)")
    print()
    print(f"spectral convergence (dB, lower is better), n_fft {n_fft}, hop {hop}; live = {live_name}")
    print(f"  {'magnitudes':<16}{'RTPGHI':>9}{'causal':>9}{'live':>9}{'GL-32':>9}{'fGL-32':>9}{'random':>9}"
          f"{'live-GL':>9}{'RTPGHI-GL':>11}")
    for key in ("training_piece", "generated"):
        q = res[key]
        print(f"  {key:<16}{q['rtpghi']:9.2f}{q['rtpghi_causal']:9.2f}{q['rtisi']:9.2f}{q['griffin_lim_32']:9.2f}"
              f"{q['fast_griffin_lim_32']:9.2f}{q['random_phase']:9.2f}{q['rtpghi_minus_gl_db']:9.2f}"
              f"{q['rtpghi_alone_minus_gl_db']:11.2f}")
    print()
    print("RTISI-LA settings (RTPGHI look-ahead 1): SC dB and reconstruction time (ms per s of audio)")
    print(f"  {'setting':<22}{'latency':>9}{'training':>10}{'generated':>11}{'time':>8}")
    rows = [("RTPGHI alone", 1000.0 * (n_fft // 2 + hop) / sr, "rtpghi", "rtpghi_s_per_s")]
    for k, v in res["training_piece"]["rtisi_settings"].items():
        it, la = k[1:].split("_k")
        rows.append((f"iters {it}, look-ahead {la}", v["latency_ms"], k, None))
    for name, lat, key, tkey in rows:
        if tkey:
            tr, ge = res["training_piece"][key], res["generated"][key]
            t = res["generated"][tkey]
        else:
            tr = res["training_piece"]["rtisi_settings"][key]["sc_db"]
            ge = res["generated"]["rtisi_settings"][key]["sc_db"]
            t = res["generated"]["rtisi_settings"][key]["s_per_s"]
        print(f"  {name:<22}{lat:7.0f}ms{tr:10.2f}{ge:11.2f}{1000 * t:8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
