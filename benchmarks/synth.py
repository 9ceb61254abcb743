"""Synth cost: DSP load of the engine's own callback with N held notes, and the cost per voice.

An offline engine (48 kHz, 128-frame blocks) holds ``--voices`` notes (default 64) of each wave for
``--seconds`` and reports the engine's DSP-load statistics (callback time / block period, measured
inside the compiled callback: ``engine.stats()["dsp_load_p99"]``) and the cost per voice per block in
microseconds ((p50 load - the load with no note) * block period / voices).  Default synth settings:
per-voice low-pass filter on, 5 ms attack, sustain 0.7.  Target: 64 voices under 25 % at p99.

Usage: ``python benchmarks/synth.py [--voices 64] [--seconds 4] [--waves saw,sine,...] [--json]``
(set ``LIVEHOST_DEV_ONLY_NODES=synth`` to compile only the synth while other kernels are being edited).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from livehost.engine import layout as L  # noqa: E402
from livehost.engine.drivers.offline import render  # noqa: E402
from livehost.engine.engine import Engine  # noqa: E402

SR = 48000
BLOCK = 128
TARGET_P99 = 0.25


def measure(wave: str, voices: int, seconds: float, extra: dict | None = None) -> dict:
    """Render ``seconds`` with ``voices`` held notes of ``wave``; DSP-load stats (fractions of the block period)."""
    table = 55.0 * 2 ** (np.arange(128) / 19.0)  # 19-EDO from 55 Hz: notes spread over 6.7 octaves
    eng = Engine(SR, BLOCK, 0, 2, heap_slots=1 << 20)
    values = {"wave": wave, "voices": 128, "output_db": -40.0, **(extra or {})}
    eng.build("none", [("synth", "synth", values, table, None)], [], {})
    render(eng, SR // 4)  # warm up (caches, page faults)
    for k in range(voices):
        eng.send_midi(0x90, 2 + (k * 97) % 126, 100)
    render(eng, BLOCK * 4)
    start = int(eng.a[L.H_LOAD_COUNT])
    render(eng, int(seconds * SR))
    loads = eng.loads()[-(int(eng.a[L.H_LOAD_COUNT]) - start):]
    period_us = 1e6 * BLOCK / SR
    return {"wave": wave, "voices": voices, "p50": float(np.percentile(loads, 50)),
            "p99": float(np.percentile(loads, 99)), "max": float(loads.max()),
            "stats_p99": eng.stats()["dsp_load_p99"], "period_us": period_us}


def main(argv=None) -> int:
    """Run the benchmark; prints a table, or one JSON object with ``--json``. Exit 1 if saw misses the target."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--voices", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--waves", default="saw,square,triangle,sine,partials,noise")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--rt", action="store_true",
                    help="run with SCHED_FIFO priority 10, as the JACK audio thread does (needs permission)")
    args = ap.parse_args(argv)
    rt = False
    if args.rt:
        import os

        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
            rt = True
        except (PermissionError, OSError, AttributeError):
            rt = False
    rows = []
    for wave in args.waves.split(","):
        base = measure(wave, 0, min(1.0, args.seconds))
        r = measure(wave, args.voices, args.seconds)
        r["idle_p50"] = base["p50"]
        r["us_per_voice_block"] = (r["p50"] - base["p50"]) * r["period_us"] / max(1, args.voices)
        r["meets_target"] = r["p99"] < TARGET_P99
        rows.append(r)
    result = {"samplerate": SR, "block": BLOCK, "voices": args.voices, "target_p99": TARGET_P99, "realtime": rt,
              "rows": rows}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"synth, {args.voices} held notes, {SR} Hz, {BLOCK}-frame blocks "
              f"(period {rows[0]['period_us']:.0f} us); load = callback time / period; "
              f"{'SCHED_FIFO' if rt else 'normal priority'}")
        print(f"{'wave':10} {'p50 %':>7} {'p99 %':>7} {'max %':>7} {'us/voice/block':>15} {'target':>7}")
        for r in rows:
            print(f"{r['wave']:10} {100 * r['p50']:7.2f} {100 * r['p99']:7.2f} {100 * r['max']:7.2f} "
                  f"{r['us_per_voice_block']:15.2f} {'ok' if r['meets_target'] else 'MISS':>7}")
    saw = [r for r in rows if r["wave"] == "saw"]
    return 0 if not saw or saw[0]["meets_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
