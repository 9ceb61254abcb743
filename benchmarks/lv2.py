"""Per-plugin cost of an LV2 node in livehost's compiled callback, beside ``lv2bench``'s for the same plugin.

    python benchmarks/lv2.py [--json] [--seconds 10] [--block 128] [--repeat 5] [URI ...]

For each plugin: ``lv2bench -b BLOCK -n FRAMES URI`` (lilv-utils: the plugin's ``run`` alone, one
instance, on lv2bench's own buffers) and livehost's offline render of the same number of frames
with the plugin as the only node, minus the same render with an empty chain (the master pass and the
program). Both are the best of ``--repeat``. The difference per block, divided by the instances livehost
runs (two for a mono plugin on the stereo chain), is livehost's overhead per plugin call: the float64 <->
float32 conversion of the block, the control writes, the call through the function pointer, the
engine's per-node smoothing, dry copy and metering. livehost's input is noise, lv2bench's is its own
(a plugin whose cost depends on the signal, a filter near denormals, can come out cheaper in livehost:
a negative overhead). On a shared machine the numbers move by a microsecond or so between runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from livehost.engine.drivers.offline import render  # noqa: E402
from livehost.engine.engine import Engine  # noqa: E402
from livehost.lv2 import world  # noqa: E402

DEFAULT = ["http://lv2plug.in/plugins/eg-amp", "http://plugin.org.uk/swh-plugins/butthigh_iir",
           "http://drobilla.net/plugins/mda/Delay", "http://plugin.org.uk/swh-plugins/fastLookaheadLimiter"]
SR = 48000


def lv2bench(uri: str, block: int, frames: int, repeat: int) -> float | None:
    """Best seconds ``lv2bench`` reports for ``frames`` frames of ``uri`` in blocks of ``block`` (None if absent)."""
    if not shutil.which("lv2bench"):
        return None
    best = None
    for _ in range(repeat):
        out = subprocess.run(["lv2bench", "-b", str(block), "-n", str(frames), uri], capture_output=True,
                             text=True).stdout.split()
        t = float(out[0]) if out else None
        if t is not None and (best is None or t < best):
            best = t
    return best


def livehost_seconds(chain: list, x: np.ndarray, block: int, repeat: int) -> float:
    """Best seconds of an offline render of ``x`` through ``chain`` at ``block`` frames."""
    eng = Engine(SR, block, 2, 2, heap_slots=1 << 22)
    eng.build("mic", [], chain, {})
    render(eng, SR, inp=x[:SR])  # warm
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        render(eng, len(x), inp=x)
        best = min(best, time.perf_counter() - t)
    return best


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("uris", nargs="*", default=DEFAULT)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--block", type=int, default=128)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    frames = int(args.seconds * SR) // args.block * args.block
    blocks = frames // args.block
    x = (np.random.default_rng(0).standard_normal((frames, 2)) * 0.1).astype(np.float32)
    empty = livehost_seconds([], x, args.block, args.repeat)
    rows = []
    for uri in args.uris:
        info = world.plugin(uri)
        ninst = 2 if (len(info.audio_in), len(info.audio_out)) == (1, 1) else 1
        lh = livehost_seconds([("node", "lv2", "p", {}, {"uri": uri})], x, args.block, args.repeat) - empty
        lb = lv2bench(uri, args.block, frames, args.repeat)
        row = {"uri": uri, "instances": ninst, "livehost_us_per_block": 1e6 * lh / blocks,
               "lv2bench_us_per_block": None if lb is None else 1e6 * lb / blocks}
        if lb is not None:
            row["overhead_us_per_call"] = (row["livehost_us_per_block"] / ninst) - row["lv2bench_us_per_block"]
        rows.append(row)
    result = {"block": args.block, "seconds": args.seconds, "samplerate": SR,
              "empty_chain_us_per_block": 1e6 * empty / blocks, "plugins": rows}
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    print(f"{args.block}-frame blocks at {SR} Hz; empty chain {result['empty_chain_us_per_block']:.2f} us/block")
    print(f"{'plugin':58}{'inst':>5}{'livehost':>11}{'lv2bench':>11}{'overhead/call':>15}  (us per block)")
    for r in rows:
        lb = r["lv2bench_us_per_block"]
        print(f"{r['uri']:58}{r['instances']:>5}{r['livehost_us_per_block']:>11.2f}"
              f"{'-' if lb is None else f'{lb:.2f}':>11}{r.get('overhead_us_per_call', float('nan')):>15.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
