"""``livehost tools reverse|stretch|pitch|delay|chain``: the article's manipulations of a recording.

Every effect here is one of the engine's nodes:

- ``reverse IN OUT``: the whole file backwards (the ``reverse`` node's read-backwards with one window as
  long as the file); ``--window-ms W`` instead renders the live ``reverse`` node (windows of W ms).
- ``stretch IN OUT --factor F``: duration x F with pitch kept, the ``stretch`` node's granular kernel
  offline (:func:`livehost.dsp.stretch.stretch_offline`); ``--tape`` is its tape mode (speed 1/F: pitch
  falls with the speed, F = 2 is an octave down).  Output is exactly ``round(frames * F)`` frames.
- ``pitch IN OUT --semitones N`` (the ``pitch_shift`` node, duration kept) or ``--hz N`` (the
  ``freq_shift`` node: every component moves by N Hz, the article's "pitch shift up 100 Hz").
- ``delay IN OUT --ms 1000 --feedback 0.5 [--repeats 3]``: the ``delay`` node; with ``--repeats`` it runs
  in repeats mode (exactly N echoes, echo k at gain feedback**k), else in feedback mode.  The dry signal
  is kept (a layer with a dry branch) unless ``--echoes-only``.
- ``chain IN OUT "reverse | delay ms=250 | ..."`` (:mod:`livehost.tools.chainspec`) or ``--patch P.toml``.

``pitch``, ``delay``, ``chain`` and ``reverse --window-ms`` build a :class:`~livehost.patch.Patch` and
render it with the engine (:func:`~livehost.engine.patching.engine_for` +
:func:`~livehost.engine.drivers.offline.render`), the file fed in as the device input: the output is
what the live engine plays, master limiter included (ceiling -0.3 dBFS).  The engine's latency (the
master lookahead plus node latencies on the main path) is removed from the start so output time matches
input time, and a tail is rendered after the input (``--tail S``, default: estimated from the chain:
echoes, reverb decay, stretch lag) and trailing digital silence (< -100 dBFS) trimmed, never shorter
than the input.
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from livehost.errors import LivehostError
from livehost.patch import SAMPLERATES, LayerSpec, NodeSpec, Patch, dumps, load, loads
from livehost.tools.chainspec import chain_patch, format_chain
from livehost.tools.common import Progress, check_output, read_audio, write_audio

SILENCE = 1e-5
"""Trailing samples below this (linear, -100 dBFS) are trimmed from rendered tails."""
MAX_TAIL_S = 60.0
"""Longest automatic tail, seconds."""


# ---- rendering a patch -------------------------------------------------------------------------------
def tail_seconds(items: list, input_s: float) -> float:
    """Seconds of output a chain keeps producing after its input ends (an estimate, capped at 60 s).

    Serial nodes add up, parallel branches take the longest. Delay: repeats x time (repeats mode) or
    the time to fall 80 dB (feedback/ping-pong); reverb: 4/3 RT60 + predelay; reverse: two windows;
    stretch: the lag it builds over ``input_s`` s (at most 4 s); others: 0.
    """
    total = 0.0
    for it in items:
        if isinstance(it, LayerSpec):
            total += max((tail_seconds(ch, input_s) for _, ch in it.branches), default=0.0)
            continue
        v = it.values
        if v.get("bypass"):
            continue
        if it.type == "delay":
            t = float(v.get("time_ms", 375.0)) / 1000.0
            if v.get("sync", False):
                t = 4.0  # tempo-synced: the longest division at 60 bpm
            if v.get("mode", "feedback") == "repeats":
                total += t * float(v.get("repeats", 3.0)) + 0.05
            else:
                fb = float(v.get("feedback", 0.4))
                n = 1.0 if fb <= 0 else min(200.0, math.log(1e-4) / math.log(fb))
                total += t * (n + 1.0)
        elif it.type == "reverb":
            total += float(v.get("decay_s", 1.8)) * 4.0 / 3.0 + float(v.get("predelay_ms", 10.0)) / 1000.0
        elif it.type == "reverse":
            total += 2.0 * float(v.get("window_ms", 300.0)) / 1000.0
        elif it.type == "stretch":
            if v.get("mode", "granular") == "tape":
                slow = 1.0 / float(v.get("speed", 0.5))
            else:
                f = float(v.get("factor", 2.0))
                slow = f if f >= 0.125 and not v.get("freeze", False) else 1e9
            total += min(4.0, max(0.0, (slow - 1.0) * input_s)) + 0.1
        else:
            total += 0.05
    return min(MAX_TAIL_S, total)


def engine_rate(sr: int) -> int:
    """The rate (Hz) a file is rendered at: its own when the engine supports it (8000..192000), else 48000."""
    return int(sr) if 8000 <= sr <= 192000 else 48000


def render_patch(patch: Patch, x: np.ndarray, sr: int, tail_s: float | None = None, blocksize: int | None = None,
                 compensate: bool = True, label: str = "render") -> np.ndarray:
    """Render ``x`` (float (frames, 2), at ``sr`` Hz) through ``patch``'s chain with the engine, offline.

    The input is the device input (the patch's ``[input]`` is overridden). tail_s: seconds rendered after
    the input (None: :func:`tail_seconds`); blocksize: frames (default the patch's); compensate: drop the
    engine's latency (samples) from the start. Returns float64 (frames, 2) at ``sr`` Hz, at least as
    long as ``x``, trailing silence trimmed.
    """
    from livehost.engine.drivers.offline import render
    from livehost.engine.patching import engine_for

    x = np.asarray(x, np.float64)
    if x.ndim == 1:
        x = np.stack([x, x], axis=1)
    n = len(x)
    if tail_s is None:
        tail_s = tail_seconds(patch.chain, n / sr)
    if not (tail_s >= 0 and math.isfinite(tail_s)):
        raise LivehostError(f"--tail {tail_s!r} must be a number of seconds >= 0")
    eng = engine_for(patch, sr=sr, blocksize=blocksize, in_ch=2, input_override="mic")
    lat = eng.latency_samples() if compensate else 0
    total = n + lat + int(round(tail_s * sr))
    inp = np.zeros((total, 2), np.float32)
    inp[:n] = x
    block = eng.max_block
    chunk = max(1, int(sr) // block) * block
    out = np.zeros((total, eng.out_ch), np.float32)
    with Progress(label, total) as bar:
        for s in range(0, total, chunk):
            m = min(chunk, total - s)
            out[s:s + m] = render(eng, m, inp[s:s + m])
            bar.update(s + m)
    y = out[lat:].astype(np.float64)
    if y.shape[1] == 1:
        y = np.repeat(y, 2, axis=1)
    loud = np.nonzero(np.max(np.abs(y[n:]), axis=1) > SILENCE)[0] if len(y) > n else np.array([], int)
    end = n + (int(loud[-1]) + 1 if loud.size else 0)
    return y[:end]


def patch_for(items: list, sr: int, blocksize: int = 128, name: str = "tools") -> Patch:
    """A validated patch (device input, default master) holding ``items``; ``sr`` in Hz picks the nearest
    rate the patch format accepts (the engine itself runs at the file's rate)."""
    rate = min(SAMPLERATES, key=lambda r: abs(r - sr))
    p = Patch(name=name, samplerate=rate, blocksize=int(blocksize), input={"source": "mic"}, chain=items)
    return loads(dumps(p), f"<{name}>")


# ---- the effect functions ----------------------------------------------------------------------------
def reverse_audio(x: np.ndarray, sr: int, window_ms: float | None = None) -> np.ndarray:
    """Backwards audio. ``window_ms`` None: the whole signal reversed (frames unchanged); else the live
    ``reverse`` node with windows of ``window_ms`` ms rendered by the engine. ``sr`` in Hz."""
    if window_ms is None:
        return np.ascontiguousarray(np.asarray(x, np.float64)[::-1])
    p = patch_for([NodeSpec("reverse", "reverse", {"window_ms": float(window_ms)})], sr)
    return render_patch(p, x, sr, label="reverse")


def stretch_audio(x: np.ndarray, sr: int, factor: float, tape: bool = False) -> np.ndarray:
    """Duration x ``factor`` (0.25..4): granular with pitch kept, or ``tape`` (speed 1/factor, pitch
    follows). Uses the ``stretch`` node's kernel offline; returns ``round(frames * factor)`` frames."""
    from livehost.dsp.stretch import stretch_offline, tape_offline

    factor = float(factor)
    if not 0.25 <= factor <= 4.0:
        raise LivehostError(f"--factor {factor:g} is outside 0.25..4")
    with Progress("stretch", None):
        return tape_offline(x, sr, 1.0 / factor) if tape else stretch_offline(x, sr, factor)


def pitch_audio(x: np.ndarray, sr: int, semitones: float | None = None, hz: float | None = None,
                tail_s: float | None = None) -> np.ndarray:
    """Transpose by ``semitones`` (``pitch_shift`` node, duration kept) or move every component by ``hz``
    Hz (``freq_shift`` node). ``sr`` in Hz. Rendered by the engine (see the module doc)."""
    if (semitones is None) == (hz is None):
        raise LivehostError("give exactly one of --semitones or --hz")
    if hz is not None:
        item = NodeSpec("freq_shift", "freq_shift", {"shift_hz": float(hz)})
    else:
        st = float(semitones)
        whole = float(math.trunc(st))
        vals = {"semitones": whole}
        if st != whole:
            vals["cents"] = round((st - whole) * 100.0, 6)
        item = NodeSpec("pitch_shift", "pitch_shift", vals)
    try:
        p = patch_for([item], sr)
    except LivehostError as e:
        raise LivehostError(str(e).split(": ", 1)[-1]) from None
    return render_patch(p, x, sr, tail_s=tail_s, label="pitch")


def delay_audio(x: np.ndarray, sr: int, ms: float, feedback: float = 0.5, repeats: int | None = None,
                echoes_only: bool = False, tail_s: float | None = None) -> np.ndarray:
    """Echoes ``ms`` ms apart with the ``delay`` node (``sr`` in Hz). ``repeats``: exactly that many echoes,
    echo k at gain ``feedback**k`` (repeats mode); None: feedback mode. The dry signal is added at full
    level (a layer with a dry branch) unless ``echoes_only``."""
    vals = {"time_ms": float(ms), "wet": 1.0}
    if repeats is not None:
        vals.update(mode="repeats", repeats=float(repeats), fade=float(feedback))
    else:
        vals.update(mode="feedback", feedback=float(feedback))
    node = NodeSpec("delay", "delay", vals)
    items = [node] if echoes_only else [LayerSpec("mix", {}, [(0.0, []), (0.0, [node])])]
    try:
        p = patch_for(items, sr)
    except LivehostError as e:
        raise LivehostError(str(e).split(": ", 1)[-1].replace("delay.", "--").replace("time_ms", "ms")) from None
    return render_patch(p, x, sr, tail_s=tail_s, label="delay")


# ---- commands ------------------------------------------------------------------------------------------
def _io(args) -> tuple[np.ndarray, int]:
    check_output(args.output)
    x, sr = read_audio(args.input)
    rate = engine_rate(sr)
    if rate != sr:
        x, sr = read_audio(args.input, sr=rate)
    return x, sr


def _done(args, y: np.ndarray, sr: int) -> int:
    write_audio(args.output, y, sr)
    print(f"wrote {args.output}: {len(y) / sr:.3f} s at {sr} Hz")
    return 0


def cmd_reverse(args) -> int:
    """``tools reverse IN OUT [--window-ms W]``."""
    x, sr = _io(args)
    return _done(args, reverse_audio(x, sr, args.window_ms), sr)


def cmd_stretch(args) -> int:
    """``tools stretch IN OUT --factor F [--tape]``."""
    x, sr = _io(args)
    return _done(args, stretch_audio(x, sr, args.factor, args.tape), sr)


def cmd_pitch(args) -> int:
    """``tools pitch IN OUT --semitones N | --hz N``."""
    x, sr = _io(args)
    return _done(args, pitch_audio(x, sr, args.semitones, args.hz, args.tail), sr)


def cmd_delay(args) -> int:
    """``tools delay IN OUT --ms T --feedback G [--repeats N]``."""
    x, sr = _io(args)
    return _done(args, delay_audio(x, sr, args.ms, args.feedback, args.repeats, args.echoes_only, args.tail), sr)


def cmd_chain(args) -> int:
    """``tools chain IN OUT "CHAIN" | --patch P.toml``."""
    if (args.chain is None) == (args.patch is None):
        raise LivehostError("give a chain string or --patch PATCH.toml (one of them)")
    check_output(args.output)
    if args.patch is not None:
        patch = load(args.patch)
    else:
        patch = chain_patch(args.chain)
    x, sr = _io(args)
    if args.save_patch:
        from livehost.patch import save

        save(patch, args.save_patch)
    print(f"chain: {format_chain(patch.chain) or '(empty)'}")
    y = render_patch(patch, x, sr, tail_s=args.tail, blocksize=args.blocksize, label="chain")
    return _done(args, y, sr)


def _inout(p) -> None:
    p.add_argument("input", metavar="IN", help="input audio file (.wav, .flac, .ogg)")
    p.add_argument("output", metavar="OUT", help="output audio file (.wav, .flac, .ogg)")


def _tail(p) -> None:
    p.add_argument("--tail", type=float, default=None, metavar="S",
                   help="seconds rendered after the input ends (default: estimated from the effect)")


def add_parser(sub) -> None:
    """Register ``reverse``, ``stretch``, ``pitch``, ``delay`` and ``chain`` on the ``tools`` subparsers."""
    from livehost.tools import chainspec

    raw = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser("reverse", help="play a file backwards", formatter_class=raw,
                       description="Reverse a whole file, or (--window-ms) render the live reverse node.")
    _inout(p)
    p.add_argument("--window-ms", type=float, default=None, metavar="W",
                   help="use the live reverse node with windows of W ms (50..2000) instead")
    p.set_defaults(func=cmd_reverse)

    p = sub.add_parser("stretch", help="change duration, pitch kept (or --tape: varispeed)",
                       description="Stretch a file by --factor (2 = twice as long) with the stretch node's "
                                   "granular kernel (pitch kept), or --tape (speed 1/factor, pitch follows).")
    _inout(p)
    p.add_argument("--factor", type=float, required=True, metavar="F", help="duration factor 0.25..4")
    p.add_argument("--tape", action="store_true", help="tape varispeed: pitch changes with speed")
    p.set_defaults(func=cmd_stretch)

    p = sub.add_parser("pitch", help="transpose (--semitones) or frequency-shift (--hz)",
                       description="--semitones N: the pitch_shift node (duration kept); --hz N: the freq_shift "
                                   "node (every component moves by N Hz: 440 -> 540 with --hz 100).")
    _inout(p)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--semitones", type=float, metavar="N", help="transpose by N semitones (-24..24)")
    g.add_argument("--hz", type=float, metavar="N", help="shift every frequency by N Hz (-2000..2000)")
    _tail(p)
    p.set_defaults(func=cmd_pitch)

    p = sub.add_parser("delay", help="echoes (the delay node; exact repeats with --repeats)",
                       description="Echoes every --ms ms. With --repeats N: exactly N echoes, echo k at gain "
                                   "feedback**k (taps at 1000/2000/3000 ms with 0.5/0.25/0.125 for --ms 1000 "
                                   "--feedback 0.5 --repeats 3); without: decaying feedback echoes.")
    _inout(p)
    p.add_argument("--ms", type=float, required=True, help="time between echoes in ms")
    p.add_argument("--feedback", type=float, default=0.5, help="echo-to-echo gain (0..0.99; default 0.5)")
    p.add_argument("--repeats", type=int, default=None, metavar="N", help="exactly N echoes (1..16)")
    p.add_argument("--echoes-only", action="store_true", help="leave the dry signal out")
    _tail(p)
    p.set_defaults(func=cmd_delay)

    p = sub.add_parser("chain", help="apply a chain written in one line, or a patch",
                       formatter_class=raw,
                       description="Render IN through a chain of engine nodes, exactly as the live engine "
                                   "plays it.\n\n" + chainspec.__doc__.split("\n\n", 1)[1].split(":func:")[0])
    _inout(p)
    p.add_argument("chain", nargs="?", default=None, metavar="CHAIN",
                   help='e.g. "reverse | delay ms=1000 repeats=3 fade=0.5 | layer(reverse, delay ms=250)"')
    p.add_argument("--patch", default=None, metavar="PATCH.toml", help="use this patch's chain and master")
    p.add_argument("--save-patch", default=None, metavar="FILE", help="also save the chain as a patch file")
    p.add_argument("--blocksize", type=int, default=None, help="frames per block (default the patch's, 128)")
    _tail(p)
    p.set_defaults(func=cmd_chain)


__all__ = ["render_patch", "tail_seconds", "reverse_audio", "stretch_audio", "pitch_audio", "delay_audio",
           "patch_for", "engine_rate", "add_parser"]
