"""Per-block cost of the livehost effect kernels against pedalboard (128 frames, mono, 48 kHz).

livehost kernels always process the stereo block (2 x 128, the mono signal on both rows);
pedalboard gets the mono block (1 x 128, float32) through ``board(x, sr, reset=False)``.

Each livehost measurement calls one numba function per block from Python (the chain's kernels
called in sequence inside it over preallocated parameter/state vectors), so the Python -> numba
dispatch is counted once per block, as pedalboard's Python -> C++ call is.  The "in-loop" column is
the same work with the block loop inside numba (pure DSP cost).  livehost and pedalboard are timed
in turns (600 blocks each, 25 rounds, the best round kept for each), so a slow spell of a shared
machine falls on both alike.

Pitch shift: the same per-block cost for ``pitch_shift`` (+7 semitones) in both its modes (``quality``,
the phase vocoder, and ``live``, the 10 ms time-domain shifter) against pedalboard's Rubber Band
``PitchShift(7)``, and the pitch accuracy of all three: sines (220, 440, 1000 Hz) shifted by +7, -12,
+5 semitones, the output's strongest component measured by a long, 8x zero-padded FFT (parabolic
peak), error in cents against ``f * 2**(st/12)``.  livehost is measured as it runs live (128-frame
blocks); pedalboard is measured both streamed in 128-frame blocks (``reset=False``, what a live host
would do: in pedalboard 0.9.x this gives silence, its issue #415) and in one call over the whole
signal (its best case, not real time).  Latency, measured the same way for all: impulses at random
times through the +7 st shifter, the energy-weighted mean delay of what comes out (ms; a shifter's
grains or frames smear an impulse, this is their centre); the streamed pedalboard output is placed
in time as a live host would play it (each call's frames end at that call's input time, the frames it
withholds are silence before them), so its latency includes what it holds back.

Usage: ``python benchmarks/effects.py [--json] [--blocks N] [--repeats R]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from numba import njit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from livehost.dsp.run import new_state, param_vector, run_kernel  # noqa: E402
from livehost.nodes import load_all  # noqa: E402

SR = 48000.0
BLOCK = 128


def build(chain, reg):
    """A jitted ``run(P, S, buf, x, pos, n, sr)`` calling the chain's kernels in sequence.

    chain: list of (node type name, parameter values).  Returns (run, loop, P, S) where loop(P, S,
    buf, x, nblocks, sr) runs nblocks blocks inside numba.
    """
    ps, ss, lines = [], [], []
    glb = {}
    p0 = s0 = 0
    for i, (name, values) in enumerate(chain):
        nt = reg[name]
        pv = param_vector(nt, values)
        st = new_state(nt, SR, BLOCK)
        ps.append(pv)
        ss.append(st)
        glb[f"k{i}"] = nt.kernel
        lines.append(f"    k{i}(P[{p0}:{p0 + len(pv)}], P[{p0}:{p0 + len(pv)}], "
                     f"S[{s0}:{s0 + len(st)}], buf, n, sr)")
        p0 += len(pv)
        s0 += len(st)
    body = "\n".join(lines) if lines else "    pass"
    src = ("def run(P, S, buf, x, pos, n, sr):\n"
           "    for i in range(n):\n"
           "        buf[0, i] = x[pos + i]\n"
           "        buf[1, i] = x[pos + i]\n"
           f"{body}\n")
    exec(src, glb)
    run = njit(nogil=True)(glb["run"])
    glb2 = {"step": run}
    exec("def loop(P, S, buf, x, nblocks, sr):\n"
         "    m = len(x) // buf.shape[1]\n"
         "    for b in range(nblocks):\n"
         "        step(P, S, buf, x, (b % m) * buf.shape[1], buf.shape[1], sr)\n", glb2)
    loop = njit(nogil=True)(glb2["loop"])
    P = np.concatenate(ps) if ps else np.zeros(1)
    S = np.concatenate(ss) if ss else np.zeros(1)
    return run, loop, P, S


def _livehost_timers(chain, reg, x):
    """(one-call-per-block timer, in-loop timer) for the chain: each ``timer(blocks) -> seconds``."""
    run, loop, P, S = build(chain, reg)
    buf = np.zeros((2, BLOCK))
    m = len(x) // BLOCK
    run(P, S, buf, x, 0, BLOCK, SR)
    loop(P, S, buf, x, 2, SR)

    def per_call(blocks):
        t = time.perf_counter()
        for b in range(blocks):
            run(P, S, buf, x, (b % m) * BLOCK, BLOCK, SR)
        dt = time.perf_counter() - t
        assert np.all(np.isfinite(buf))
        return dt

    def in_loop(blocks):
        t = time.perf_counter()
        loop(P, S, buf, x, blocks, SR)
        return time.perf_counter() - t

    return per_call, in_loop


def _pedalboard_timer(plugins, x):
    """``timer(blocks) -> seconds`` of pedalboard.Pedalboard(plugins) on mono float32 128-frame blocks."""
    import pedalboard

    board = pedalboard.Pedalboard(plugins)
    xs = x.astype(np.float32)
    views = [xs[None, b * BLOCK:(b + 1) * BLOCK] for b in range(len(xs) // BLOCK)]
    m = len(views)
    board(views[0], SR, reset=False)

    def timer(blocks):
        t = time.perf_counter()
        for b in range(blocks):
            board(views[b % m], SR, reset=False)
        return time.perf_counter() - t

    return timer


def measure(timers, blocks, repeats):
    """Best microseconds per block of each timer, the timers taking turns ``repeats`` times, so that a
    slow spell of a shared machine falls on all of them alike."""
    best = [float("inf")] * len(timers)
    for _ in range(repeats):
        for k, timer in enumerate(timers):
            best[k] = min(best[k], timer(blocks) / blocks)
    return [b * 1e6 for b in best]


def time_case(chain, reg, x, plugins, blocks, repeats):
    """(livehost us/block one call per block, livehost in-loop us/block, pedalboard us/block or None)."""
    per_call, in_loop = _livehost_timers(chain, reg, x)
    timers = [per_call, in_loop] + ([_pedalboard_timer(plugins, x)] if plugins is not None else [])
    got = measure(timers, blocks, repeats)
    return got[0], got[1], (got[2] if plugins is not None else None)


def cases(reg):
    """(label, livehost chain, pedalboard plugin factory or None)."""
    import pedalboard as pb

    has_delay = "delay" in reg
    chain = [("gain", {"gain_db": 1.0}),
             ("distortion", {"drive_db": 25.0, "shape": "tanh", "output_db": 0.0}),
             ("filter", {"mode": "lowpass", "freq_hz": 5000.0}),
             ("chorus", {"rate_hz": 1.0, "delay_ms": 7.0, "depth_ms": 1.75, "voices": "1"})]
    if has_delay:
        chain.append(("delay", {"time_ms": 500.0, "feedback": 0.0}))
    chain.append(("reverb", {}))
    pb_chain = lambda: [pb.Gain(1.0), pb.Distortion(25.0), pb.LowpassFilter(5000.0),  # noqa: E731
                        pb.Chorus(rate_hz=1.0, centre_delay_ms=7.0), pb.Delay(0.5, 0.0, 0.5), pb.Reverb()]
    single = [
        ("gain", [("gain", {"gain_db": 1.0})], lambda: [pb.Gain(1.0)]),
        ("distortion", [chain[1]], lambda: [pb.Distortion(25.0)]),
        ("filter (lowpass)", [chain[2]], lambda: [pb.LowpassFilter(5000.0)]),
        ("eq (3 bands)", [("eq", {"low_db": 3.0, "mid_db": -4.0, "high_db": 2.0})],
         lambda: [pb.LowShelfFilter(120.0, 3.0), pb.PeakFilter(1000.0, -4.0), pb.HighShelfFilter(8000.0, 2.0)]),
        ("bitcrush", [("bitcrush", {"bits": 8.0, "downsample": 1.0})], lambda: [pb.Bitcrush(8.0)]),
        ("chorus", [chain[3]], lambda: [pb.Chorus(rate_hz=1.0, centre_delay_ms=7.0)]),
        ("flanger", [("flanger", {})], None),
        ("phaser", [("phaser", {"rate_hz": 1.0, "centre_hz": 1300.0})], lambda: [pb.Phaser()]),
        ("reverb", [("reverb", {})], lambda: [pb.Reverb()]),
        ("compressor", [("compressor", {"threshold_db": -20.0, "ratio": 4.0})],
         lambda: [pb.Compressor(-20.0, 4.0)]),
    ]
    if "pitch_shift" in reg:
        single.append(("pitch_shift +7 st", [("pitch_shift", {"semitones": 7.0})], lambda: [pb.PitchShift(7.0)]))
        if any(p.name == "mode" for p in reg["pitch_shift"].params):
            single.append(("pitch live +7 st", [("pitch_shift", {"semitones": 7.0, "mode": "live"})],
                           lambda: [pb.PitchShift(7.0)]))
    if has_delay:
        single.append(("delay", [("delay", {"time_ms": 500.0, "feedback": 0.0})],
                       lambda: [pb.Delay(0.5, 0.0, 0.5)]))
    return single, chain, pb_chain, has_delay


PITCH_CASES = ((440.0, 7.0), (220.0, -12.0), (1000.0, 5.0))


def peak_hz(y, sr=SR):
    """Frequency (Hz) of the strongest component of ``y``: Hann, 8x zero padding, parabolic peak."""
    pad = 8 * len(y)
    mag = np.abs(np.fft.rfft(y * np.hanning(len(y)), pad)) + 1e-300
    i = int(np.argmax(mag[1:-1])) + 1
    a, b, c = np.log(mag[i - 1:i + 2])
    den = a - 2 * b + c
    return (i + (0.5 * (a - c) / den if den != 0 else 0.0)) * sr / pad


def _has_live(nt):
    return any(p.name == "mode" for p in nt.params)


def _pb_streamed(plugin, x):
    """pedalboard ``plugin`` over mono ``x`` in 128-frame calls (``reset=False``), placed in time as a
    live host plays it: each call's frames end at that call's input time (withheld frames = silence
    before them). Returns (output as long as ``x``, frames withheld in all)."""
    import pedalboard as pb

    board = pb.Pedalboard([plugin])
    xs = x.astype(np.float32)[None]
    outs = [board(xs[:, i:i + BLOCK], SR, reset=False)[0] for i in range(0, xs.shape[1], BLOCK)]
    y = np.concatenate(outs).astype(np.float64)
    held = len(x) - len(y)
    return np.concatenate([np.zeros(max(0, held)), y])[:len(x)], held


def impulse_delay(process, n_imp=200, gap=12000, pre=4000, seed=5):
    """Energy-weighted mean delay (ms) of impulses at random times through ``process`` (mono signal ->
    mono signal of the same length, in real time): over each impulse's window ``[-pre, gap - pre)``
    samples around it. None if nothing comes out."""
    rng = np.random.default_rng(seed)
    pos = pre + np.arange(n_imp) * gap + rng.integers(0, gap // 4, n_imp)
    x = np.zeros(int(pos[-1] + 2 * gap))
    x[pos] = 1.0
    y = process(x)
    k = np.arange(-pre, gap - pre)
    e = np.stack([y[p - pre:p - pre + gap] ** 2 for p in pos])
    tot = e.sum()
    if not tot > 1e-12:
        return None
    return float((e * k).sum() / tot) * 1000.0 / SR


def pitch_latency(reg, st=7.0):
    """Declared and measured latency (ms) of the +``st`` shifters: livehost quality / live (declared: the
    node's ``latency``), pedalboard streamed (its withheld frames as the declared part) and one call."""
    import pedalboard as pb

    nt = reg["pitch_shift"]
    modes = ("quality", "live") if _has_live(nt) else ("quality",)
    out = {}
    for mode in modes:
        extra = {"mode": mode} if _has_live(nt) else {}
        out[f"livehost_{mode}"] = {
            "declared_ms": nt.latency(extra, SR) * 1000.0 / SR,
            "measured_ms": impulse_delay(lambda x: run_kernel(nt, x, SR, block=BLOCK, semitones=st, **extra)[:, 0])}
    held = []

    def streamed(x):
        y, h = _pb_streamed(pb.PitchShift(st), x)
        held.append(h)
        return y

    m = impulse_delay(streamed)
    out["pedalboard_streamed"] = {"declared_ms": held[0] * 1000.0 / SR, "measured_ms": m}
    out["pedalboard_one_call"] = {
        "declared_ms": None,
        "measured_ms": impulse_delay(lambda x: pb.Pedalboard([pb.PitchShift(st)])(
            x.astype(np.float32)[None], SR)[0].astype(np.float64))}
    return out


def pitch_accuracy(reg):
    """Cents error of the shifted sines, livehost quality and live (128-frame blocks) and pedalboard
    (streamed / one call).

    Returns {"livehost": [...], "livehost_live": [...], "pedalboard_streamed": [...],
    "pedalboard_one_call": [...]} with one entry per :data:`PITCH_CASES` (None where the output is
    silent), plus the cases.
    """
    import pedalboard as pb

    nt = reg["pitch_shift"]
    lat = nt.latency({}, SR)
    live = _has_live(nt)
    out = {"cases": [{"freq_hz": f, "semitones": st} for f, st in PITCH_CASES],
           "livehost": [], "livehost_live": [], "pedalboard_streamed": [], "pedalboard_one_call": []}
    for f, st in PITCH_CASES:
        t = np.arange(int(SR * 3.0)) / SR
        x = 0.5 * np.sin(2 * np.pi * f * t)
        target = f * 2 ** (st / 12)
        y = run_kernel(nt, x, SR, block=BLOCK, semitones=st)[lat + 4096:, 0]
        out["livehost"].append(float(1200 * np.log2(peak_hz(y) / target)))
        if live:
            yl = run_kernel(nt, x, SR, block=BLOCK, semitones=st, mode="live")[4096:, 0]
            out["livehost_live"].append(float(1200 * np.log2(peak_hz(yl) / target)))
        else:
            out["livehost_live"].append(None)
        xs = x.astype(np.float32)[None]
        board = pb.Pedalboard([pb.PitchShift(st)])
        ys = np.concatenate([board(xs[:, i:i + BLOCK], SR, reset=False)
                             for i in range(0, xs.shape[1] - BLOCK + 1, BLOCK)], axis=1)[0]
        tail = ys[len(ys) // 3:].astype(np.float64)
        out["pedalboard_streamed"].append(
            float(1200 * np.log2(peak_hz(tail) / target)) if np.sqrt(np.mean(tail ** 2)) > 1e-4 else None)
        y1 = pb.Pedalboard([pb.PitchShift(st)])(xs, SR)[0].astype(np.float64)[int(0.5 * SR):-int(0.5 * SR)]
        out["pedalboard_one_call"].append(float(1200 * np.log2(peak_hz(y1) / target)))
    return out


def _max_abs(v):
    v = [abs(e) for e in v if e is not None]
    return max(v) if v else None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    ap.add_argument("--blocks", type=int, default=600, help="blocks per timing run")
    ap.add_argument("--repeats", type=int, default=25, help="timing runs, taking turns (best is kept)")
    a = ap.parse_args(argv)
    reg = load_all()
    x = np.random.default_rng(0).uniform(-0.5, 0.5, BLOCK * 375)  # 1 s of noise
    single, chain, pb_chain, has_delay = cases(reg)
    notes = []
    if not has_delay:
        notes.append("no 'delay' node yet (livehost/nodes/delay.py): chain runs without it; "
                     "pedalboard's chain keeps its Delay")
    rows = {}
    for label, ch, pbf in single:
        lh, lh_loop, pbt = time_case(ch, reg, x, pbf() if pbf else None, a.blocks, a.repeats)
        rows[label] = {"livehost_us_per_block": lh, "livehost_in_loop_us_per_block": lh_loop,
                       "pedalboard_us_per_block": pbt, "ratio": (lh / pbt) if pbt else None}
    lh, lh_loop, pbt = time_case(chain, reg, x, pb_chain(), a.blocks, a.repeats)
    empty, _, _ = time_case([], reg, x, None, a.blocks, a.repeats)
    acc = pitch_accuracy(reg) if "pitch_shift" in reg else None
    plat = pitch_latency(reg) if "pitch_shift" in reg else None
    ps = rows.get("pitch_shift +7 st", {})
    pl = rows.get("pitch live +7 st", {})
    out = {
        "block": BLOCK, "sr": SR, "channels_livehost": 2, "channels_pedalboard": 1,
        "chain": [name for name, _ in chain],
        "chain_us_per_block": lh, "chain_in_loop_us_per_block": lh_loop,
        "pedalboard_chain_us_per_block": pbt, "chain_ratio": lh / pbt,
        "call_overhead_us_per_block": empty, "effects": rows, "notes": notes,
        "pitch_shift_us_per_block": ps.get("livehost_us_per_block"),
        "pedalboard_pitch_shift_us_per_block": ps.get("pedalboard_us_per_block"),
        "pitch_shift_ratio": ps.get("ratio"),
        "pitch_live_us_per_block": pl.get("livehost_us_per_block"),
        "pitch_live_ratio": pl.get("ratio"),
        "pitch_cents_error": acc,
        "pitch_max_abs_cents": None if acc is None else {
            k: _max_abs(acc[k]) for k in ("livehost", "livehost_live", "pedalboard_streamed", "pedalboard_one_call")},
        "pitch_latency_ms": plat,
    }
    if a.json:
        print(json.dumps(out))
        return out
    for n in notes:
        print("note:", n)
    print(f"{'effect':<18}{'livehost us':>13}{'(in-loop)':>11}{'pedalboard us':>15}{'ratio':>8}")
    for label, r in list(rows.items()) + [("CHAIN " + "+".join(out["chain"]),
                                           {"livehost_us_per_block": lh, "livehost_in_loop_us_per_block": lh_loop,
                                            "pedalboard_us_per_block": pbt, "ratio": lh / pbt})]:
        p = r["pedalboard_us_per_block"]
        ps = f"{p:.2f}" if p else "-"
        rs = f"{r['ratio']:.2f}" if r["ratio"] else "-"
        print(f"{label:<18}{r['livehost_us_per_block']:>13.2f}{r['livehost_in_loop_us_per_block']:>11.2f}"
              f"{ps:>15}{rs:>8}")
    print(f"(livehost: stereo 2x{BLOCK} block per call, empty-call overhead {empty:.2f} us; "
          f"pedalboard: mono 1x{BLOCK} float32)")
    if acc is not None:
        keys = ("livehost", "livehost_live", "pedalboard_streamed", "pedalboard_one_call")
        print()
        print("pitch accuracy (cents error of the strongest component; '-' = silent output)")
        print(f"{'sine':<20}{'lh quality':>12}{'lh live':>10}{'pb streamed':>13}{'pb one call':>13}")
        for k, case in enumerate(acc["cases"]):
            row = [acc[key][k] for key in keys]
            cells = "".join(f"{(f'{v:+.3f}' if v is not None else '-'):>{w}}" for v, w in zip(row, (12, 10, 13, 13)))
            print(f"{case['freq_hz']:.0f} Hz {case['semitones']:+.0f} st{'':<8}{cells}")
    if plat is not None:
        rq, rl = rows.get("pitch_shift +7 st", {}), rows.get("pitch live +7 st", {})
        us = {"livehost_quality": rq.get("livehost_us_per_block"), "livehost_live": rl.get("livehost_us_per_block"),
              "pedalboard_streamed": rq.get("pedalboard_us_per_block"), "pedalboard_one_call": None}
        print()
        print("pitch shift +7 st: latency (impulses; declared = the node's latency, for pedalboard streamed the")
        print("frames it withholds), worst sine error, cost per 128-frame block ('-' = silent / not applicable)")
        print(f"{'':<22}{'declared ms':>12}{'measured ms':>13}{'max |cents|':>13}{'us/block':>10}")
        accs = {"livehost_quality": "livehost", "livehost_live": "livehost_live",
                "pedalboard_streamed": "pedalboard_streamed", "pedalboard_one_call": "pedalboard_one_call"}
        for name, r in plat.items():
            c = _max_abs(acc[accs[name]]) if acc is not None else None
            cells = [r["declared_ms"], r["measured_ms"], c, us.get(name)]
            print(f"{name:<22}" + "".join(f"{(f'{v:.2f}' if v is not None else '-'):>{w}}"
                                          for v, w in zip(cells, (12, 13, 13, 10))))
    return out


if __name__ == "__main__":
    main()
