"""Real-time benchmark: xruns and DSP load on JACK at 64/128/256 frames under GIL load, offline render
speed, and start-up time to first audio (cold and warm numba cache).

Needs a JACK server (jackd -R -d dummy -r 48000 -p 128). Prints a table; --json prints one object.

    python benchmarks/realtime.py [--patch patches/default.toml] [--seconds 20] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_live(patch: str, block: int, seconds: float, env: dict | None = None) -> dict:
    """``livehost run`` on JACK with a busy pure-Python thread beside the audio; its stats JSON."""
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "s.json")
        cmd = [sys.executable, "-m", "livehost", "run", patch, "--driver", "portaudio", "--blocksize", str(block),
               "--duration", str(seconds), "--stress-gil", "--stats-json", out, "--quiet"]
        t0 = time.monotonic()
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
        if r.returncode != 0:
            raise SystemExit(f"run failed at {block} frames: {r.stderr.strip().splitlines()[-1:]}")
        s = json.load(open(out))
        s["wall_s"] = time.monotonic() - t0
        return s


def offline_speed(patch: str, seconds: float = 60.0, repeats: int = 3) -> dict:
    """Render ``seconds`` of stereo 48 kHz noise-and-tones through the patch ``repeats`` times (a fresh
    engine each time, the output array allocated inside the timing); real-time factor of the best run,
    with the median and every run's time beside it."""
    from livehost.engine.drivers.offline import render
    from livehost.engine.patching import engine_for
    from livehost.patch import load

    p = load(patch)
    eng = engine_for(p, in_ch=2)
    n = int(seconds * eng.sr)
    rng = np.random.default_rng(0)
    t = np.arange(n) / eng.sr
    x = (0.2 * np.sin(2 * np.pi * 220 * t)[:, None] + rng.normal(0, 0.05, (n, 2))).astype(np.float32)
    render(eng, eng.max_block * 4, x[:eng.max_block * 4])  # compile/warm
    times = []
    for _ in range(max(1, repeats)):
        eng = engine_for(p, in_ch=2)
        t0 = time.perf_counter()
        render(eng, n, x)
        times.append(time.perf_counter() - t0)
    best = min(times)
    med = float(np.median(times))
    return {"seconds": seconds, "render_s": best, "render_s_runs": times, "realtime_factor": seconds / best,
            "realtime_factor_median": seconds / med}


def startup(patch: str, cache: str | None) -> float:
    """Seconds from process start to the first audio block (null driver), with the given cache dir."""
    env = dict(os.environ)
    if cache:
        env["LIVEHOST_CACHE"] = cache
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "s.json")
        subprocess.run([sys.executable, "-m", "livehost", "run", patch, "--driver", "null", "--duration", "0.2",
                        "--stats-json", out, "--quiet", "--output", os.path.join(d, "o.wav")],
                       check=True, capture_output=True, env=env, cwd=ROOT)
        return json.load(open(out))["startup_to_first_audio_s"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patch", default=os.path.join(ROOT, "patches", "default.toml"))
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--blocks", default="64,128,256")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    res: dict = {"patch": os.path.relpath(args.patch, ROOT), "live": {}}
    for b in [int(v) for v in args.blocks.split(",")]:
        s = run_live(args.patch, b, args.seconds)
        res["live"][b] = {k: s[k] for k in ("callbacks", "xruns", "jack_xruns", "dsp_load_p50", "dsp_load_p99",
                                            "dsp_load_max", "nan_resets")}
    res["offline"] = offline_speed(args.patch)
    with tempfile.TemporaryDirectory() as cold:
        res["startup_cold_s"] = startup(args.patch, cold)
        res["startup_warm_s"] = startup(args.patch, cold)
    if args.json:
        print(json.dumps(res))
        return 0
    print(f"patch {res['patch']}, {args.seconds:g} s per run on JACK with a busy pure-Python thread")
    print(f"{'block':>6} {'callbacks':>10} {'xruns':>6} {'jack':>5} {'load p50':>9} {'load p99':>9} {'load max':>9}")
    for b, s in res["live"].items():
        print(f"{b:>6} {s['callbacks']:>10} {s['xruns']:>6} {s['jack_xruns']:>5} {100 * s['dsp_load_p50']:>8.2f}% "
              f"{100 * s['dsp_load_p99']:>8.2f}% {100 * s['dsp_load_max']:>8.2f}%")
    o = res["offline"]
    print(f"offline: {o['seconds']:g} s stereo 48 kHz in {o['render_s']:.3f} s = {o['realtime_factor']:.0f}x real time "
          f"(best of {len(o['render_s_runs'])}; median {o['realtime_factor_median']:.0f}x)")
    print(f"start-up to first audio: cold cache {res['startup_cold_s']:.1f} s, warm {res['startup_warm_s']:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
