"""Swap stress: patches loaded into a playing session as fast as it allows, on JACK, with the UI and
the workers running; against an empty-patch control measured in the same run on the same server.

Reports loads (count, time per load p50/p99/max), xruns of the loading run and of the control, NaN
resets, non-finite samples, the output peak against the ceiling, stalls (a load after which the
callback did not advance within 1 s), RSS growth (read in one state: after every 25th load, which is
always the same reference patch; first sample to last, and the trend), and whether an offline
render made in this process afterwards is bit-identical to a fresh process's.

Needs a JACK server (jackd -R -d dummy -r 48000 -p 128). Prints a table; --json prints one object.

    python benchmarks/swap.py [--seconds 60] [--loads N] [--no-ui] [--seed 0] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import glob
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
RSS_EVERY = 25  # every 25th load is the reference patch, and RSS is read after it: one state, compared


def rss_mb() -> float:
    """This process's resident set (MiB), from /proc/self/status, after a garbage collection and
    glibc's ``malloc_trim`` (freed memory the allocator merely kept is not growth; a leak survives both)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


class Probe:
    """What the audio did: callbacks advancing, output peak (from the output tap)."""

    def __init__(self, session):
        from livehost.ml.tap import TapReader

        self.s = session
        self.taps = [TapReader(session.engine, 1), TapReader(session.engine, 2)]
        self.peak = 0.0
        self.stalls = 0
        self.nonfinite_tap = 0

    def check(self) -> None:
        from livehost.engine import layout as L

        a = self.s.engine.a
        c0 = a[L.H_CALLBACKS]
        end = time.monotonic() + 1.0
        while a[L.H_CALLBACKS] < c0 + 2 and time.monotonic() < end:
            time.sleep(0.002)
        if a[L.H_CALLBACKS] < c0 + 2:
            self.stalls += 1
        for t in self.taps:
            x = t.read()
            if x.size:
                self.nonfinite_tap += int(np.count_nonzero(~np.isfinite(x)))
                self.peak = max(self.peak, float(np.nanmax(np.abs(x))))


async def _with_ui(session, body):
    from livehost.ui.app import LivehostApp

    app = LivehostApp(session, fps=30)
    async with app.run_test(size=(140, 44)) as pilot:
        await body(pilot)


def run_session(patch: str, seconds: float, loads: int | None, patches: list[str], ui: bool, seed: int) -> dict:
    """One session on JACK: plays ``patch``; when ``patches`` is given, loads random ones from it
    back to back until ``seconds`` (or ``loads`` loads) have passed. Returns its figures."""
    from livehost.session import Session

    rng = random.Random(seed)
    s = Session(patch, driver="portaudio")
    probe = Probe(s)
    out: dict = {"loads": 0, "load_s": []}

    def one_load() -> None:
        cur = s.path
        sample = (out["loads"] + 1) % RSS_EVERY == 0
        # memory is compared in one state: every RSS_EVERY-th load is the reference patch (patches[0])
        target = patches[0] if sample else rng.choice([p for p in patches if p != cur])
        t0 = time.perf_counter()
        s.load(target)
        out["load_s"].append(time.perf_counter() - t0)
        out["loads"] += 1
        probe.check()
        if sample:
            out.setdefault("rss_samples_mb", []).append(round(rss_mb(), 1))

    def done(t_start: float) -> bool:
        if loads is not None:
            return out["loads"] >= loads
        return time.monotonic() - t_start >= seconds

    async def body(pilot) -> None:
        t_start = time.monotonic()
        while not done(t_start):
            if patches:
                one_load()
                await pilot.pause(0.005)  # the UI redraws between loads
            else:
                await pilot.pause(0.25)
                probe.check()

    try:
        if ui:
            asyncio.run(_with_ui(s, body))
        else:
            t_start = time.monotonic()
            while not done(t_start):
                if patches:
                    one_load()
                else:
                    time.sleep(0.25)
                    probe.check()
        st = s.engine.stats()
        st.update(s.workers.stats())
    finally:
        s.close()
    out.update({k: st[k] for k in ("callbacks", "xruns", "jack_xruns", "nan_resets", "nonfinite_out")})
    out.update(stalls=probe.stalls, peak=probe.peak, nonfinite_tap=probe.nonfinite_tap)
    return out


def render_sha1(path_out: str, in_process: bool) -> str:
    """sha1 of the samples of ``livehost render patches/default.toml`` over the demo phrase, rendered in
    this process or in a fresh one."""
    args = ["render", os.path.join(ROOT, "patches", "default.toml"), "--input",
            os.path.join(ROOT, "patches", "audio", "demo.flac"), "--output", path_out]
    if in_process:
        from livehost.cli import main as cli_main

        cli_main(args)
    else:
        subprocess.run([sys.executable, "-m", "livehost", *args], check=True, capture_output=True, cwd=ROOT)
    import soundfile as sf

    x, _ = sf.read(path_out, dtype="float32")  # the samples: a float WAV's PEAK chunk holds a time stamp
    return hashlib.sha1(x.tobytes()).hexdigest()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="length of the loading run (and of the control)")
    ap.add_argument("--loads", type=int, default=None, help="stop after this many loads instead")
    ap.add_argument("--no-ui", action="store_true", help="without the Textual UI running")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    os.environ.setdefault("JACK_NO_START_SERVER", "1")
    os.chdir(ROOT)
    from tests.jackutil import jack_running

    if not jack_running():
        raise SystemExit("no JACK server running: jackd -R -d dummy -r 48000 -p 128 &")
    patches = sorted(glob.glob(os.path.join(ROOT, "patches", "*.toml")))
    with tempfile.TemporaryDirectory() as d:
        empty = os.path.join(d, "empty.toml")
        with open(empty, "w") as f:
            f.write('[patch]\nname = "empty"\nformat = 1\n\n[input]\nsource = "none"\n')
        ui = not a.no_ui
        swap = run_session(patches[0], a.seconds, a.loads, patches, ui, a.seed)
        control_s = sum(swap["load_s"]) if a.loads is not None else a.seconds
        # the control: an empty patch, the same UI, as long as the loading run, half before...
        c1 = run_session(empty, control_s / 2, None, [], ui, a.seed)
        c2 = run_session(empty, control_s / 2, None, [], ui, a.seed)  # ...and half after, in turn
        sha_here = render_sha1(os.path.join(d, "here.wav"), True)
        sha_fresh = render_sha1(os.path.join(d, "fresh.wav"), False)
        diff = None
        if sha_here != sha_fresh:  # say where and by how much
            import soundfile as sf

            x, _ = sf.read(os.path.join(d, "here.wav"))
            y, _ = sf.read(os.path.join(d, "fresh.wav"))
            if x.shape != y.shape:
                diff = {"shapes": [list(x.shape), list(y.shape)]}
            else:
                e = np.abs(x - y).max(axis=1)
                diff = {"first_frame": int(np.argmax(e > 0)), "max_abs": float(e.max())}
    ls = np.array(swap["load_s"]) if swap["load_s"] else np.zeros(1)
    rss = swap.get("rss_samples_mb", [])
    control = {k: c1[k] + c2[k] for k in ("callbacks", "xruns", "jack_xruns", "nan_resets", "stalls")}
    res = {
        "ui": ui, "loads": swap["loads"], "seconds": float(sum(swap["load_s"])),
        "load_ms_p50": 1000 * float(np.percentile(ls, 50)), "load_ms_p99": 1000 * float(np.percentile(ls, 99)),
        "load_ms_max": 1000 * float(ls.max()),
        "callbacks": swap["callbacks"], "xruns": swap["xruns"], "jack_xruns": swap["jack_xruns"],
        "control": control,
        "nan_resets": swap["nan_resets"], "nonfinite_out": swap["nonfinite_out"],
        "nonfinite_tap": swap["nonfinite_tap"], "stalls": swap["stalls"],
        "peak_dbfs": 20 * np.log10(max(swap["peak"], 1e-12)),
        "rss_growth_mb": (rss[-1] - rss[0]) if len(rss) > 1 else None,
        "rss_slope_mb_per_1000_loads": (1000 / RSS_EVERY * float(np.polyfit(np.arange(len(rss)), rss, 1)[0])
                                        if len(rss) > 2 else None),
        f"rss_every_{RSS_EVERY}_loads_mb": rss,
        "render_bit_identical": sha_here == sha_fresh, "render_sha1": sha_here, "render_diff": diff,
    }
    if a.json:
        print(json.dumps(res, indent=1))
        return 0
    print(f"swap stress on JACK ({'with' if ui else 'without'} the UI), {len(patches)} shipped patches")
    print(f"{'':24}{'loading run':>14}{'empty control':>16}")
    print(f"{'loads':24}{res['loads']:>14}{0:>16}")
    print(f"{'callbacks':24}{res['callbacks']:>14}{control['callbacks']:>16}")
    print(f"{'xruns (PortAudio)':24}{res['xruns']:>14}{control['xruns']:>16}")
    print(f"{'xruns (JACK)':24}{res['jack_xruns']:>14}{control['jack_xruns']:>16}")
    print(f"{'stalls':24}{res['stalls']:>14}{control['stalls']:>16}")
    print(f"{'NaN resets':24}{res['nan_resets']:>14}{control['nan_resets']:>16}")
    print(f"load time ms p50/p99/max: {res['load_ms_p50']:.0f} / {res['load_ms_p99']:.0f} / {res['load_ms_max']:.0f}")
    print(f"non-finite samples: {res['nonfinite_out']} (guard), {res['nonfinite_tap']} (tap); "
          f"output peak {res['peak_dbfs']:.2f} dBFS")
    g, k = res["rss_growth_mb"], res["rss_slope_mb_per_1000_loads"]
    print(f"RSS (reference patch, every {RSS_EVERY} loads): growth first to last "
          f"{'n/a' if g is None else f'{g:.1f} MiB'}, trend {'n/a' if k is None else f'{k:.1f} MiB'} per 1000 loads; "
          f"{rss} MiB")
    print(f"offline render afterwards bit-identical to a fresh process: {res['render_bit_identical']}"
          + (f" ({diff})" if diff else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
