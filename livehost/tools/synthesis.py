"""``livehost tools tone|scale|chords|system``: tones, scales and chords in any tuning, and frequency tables.

Sound comes from the engine's ``synth`` node when it is registered (``livehost.nodes.load_all()``): its
kernel runs offline, driven by note-on/off events at exact sample offsets, each note's key retuned to the
wanted frequency in Hz (keys are used round-robin, so any number of notes and any microtonal pitch
work).  Its saw, square and triangle are band-limited (mip-mapped additive tables).  When there is no
synth node, :func:`additive` renders the same notes as sums of harmonics below 0.45 x the sample rate
(band-limited by construction):

- sine: harmonic 1 only;  saw: ``(2/pi) sum (-1)^(k+1) sin(k w t) / k``;
- square: ``(4/pi) sum_{k odd} sin(k w t) / k``;  triangle: ``(8/pi^2) sum_{k odd} (-1)^((k-1)/2) sin(k w t) / k^2``.

Every note has a 5 ms attack and a 30 ms release that ends at the note's end (linear in the additive
renderer, the synth's own envelope otherwise); the whole output is then scaled so that its peak is
``--level-db`` dBFS (default -6).

Frequencies always come from :mod:`livehost.tuning`, laid out as the synth plays a tuning without a
``.kbm``: step 0 (the 1/1) = C4 = 261.6256 Hz on MIDI note 60 (Scala's default mapping).  A pitch
given by name (``--from A4``, ``--key D4``, ``--base C-1``) is the tuning's nearest pitch
(:func:`livehost.tools.harmony.tuning_pitch`), so ``scale --system 31edo --from A4 --to A5`` plays
31-EDO's A (437.5 Hz) up to its octave, the same frequencies the synth's ``31edo`` plays on MIDI notes
83..114.  A pitch given in Hz is used as given (the system transposed to start there), and so is every
pitch when the system is a bare step ratio (``--step 3/2``).  ``scale`` lists the steps of
``--system``, ``chords`` the chord pitches of :mod:`livehost.tools.harmony`, ``system`` a table of
``--size`` steps from ``--base`` (``--base C-1 --step semitone --size 128``: 8.18, 8.66, 9.18 ... Hz,
index = MIDI note).
"""

from __future__ import annotations

import argparse
import math
import re

import numpy as np

from livehost.errors import LivehostError
from livehost.tools.common import Progress, check_output, db, print_json, write_audio
from livehost.tools.harmony import tuning_pitch
from livehost.tuning import as_system, format_cents, hz_to_name, make_system, name_to_hz, parse_ratio, steps_hz

WAVES = ("sine", "saw", "square", "triangle")
ATTACK_S = 0.005
"""Attack of every note, seconds."""
RELEASE_S = 0.03
"""Release of every note (ends at the note's end), seconds."""
FHI = 0.45
"""Highest harmonic, as a fraction of the sample rate."""


# ---- rendering notes ----------------------------------------------------------------------------------
def synth_available() -> bool:
    """True when the engine has a ``synth`` node type registered."""
    from livehost.nodes import load_all

    return "synth" in load_all()


def render_notes(notes: list[tuple[float, float, float]], sr: int = 48000, wave: str = "sine",
                 level_db: float = -6.0, method: str = "auto", label: str = "synth") -> tuple[np.ndarray, str]:
    """Render notes ``(start_s, duration_s, hz)`` to float64 ``(frames, 2)`` at ``sr`` Hz.

    wave: sine, saw, square or triangle; level_db: peak of the result in dBFS; method: ``"synth"`` (the
    synth node), ``"additive"`` or ``"auto"`` (the synth when registered). Returns (audio, method used).
    """
    if wave not in WAVES:
        raise LivehostError(f"--wave {wave!r} is not one of {', '.join(WAVES)}")
    for _, dur, hz in notes:
        if not (hz > 0 and math.isfinite(hz)):
            raise LivehostError(f"frequency {hz!r} Hz must be a positive number")
        if hz >= sr / 2:
            raise LivehostError(f"frequency {hz:g} Hz is at or above half the sample rate ({sr / 2:g} Hz)")
        if not dur > 0:
            raise LivehostError(f"note length {dur!r} s must be positive")
    if method == "auto":
        method = "synth" if synth_available() else "additive"
    end = max((s + d for s, d, _ in notes), default=0.0)
    frames = int(round(end * sr))
    if method == "synth":
        y = _synth(notes, sr, wave, frames, label)
    elif method == "additive":
        y = additive(notes, sr, wave, frames, label)
    else:
        raise LivehostError(f"unknown synthesis method {method!r}")
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak > 0:
        y = y * (10.0 ** (level_db / 20.0) / peak)
    return np.stack([y, y], axis=1), method


def harmonics(wave: str, hz: float, sr: float) -> tuple[np.ndarray, np.ndarray]:
    """Harmonic numbers and amplitudes (linear) of ``wave`` at ``hz`` Hz below ``FHI * sr`` Hz."""
    kmax = max(1, int(FHI * sr / hz))
    k = np.arange(1, kmax + 1, dtype=np.float64)
    if wave == "sine":
        return k[:1], np.ones(1)
    if wave == "saw":
        return k, (2.0 / np.pi) * ((-1.0) ** (k + 1)) / k
    k = k[k % 2 == 1]
    if wave == "square":
        return k, (4.0 / np.pi) / k
    return k, (8.0 / np.pi ** 2) * ((-1.0) ** ((k - 1) / 2)) / (k * k)


def additive(notes: list[tuple[float, float, float]], sr: int, wave: str, frames: int,
             label: str = "additive") -> np.ndarray:
    """Mono float64 ``frames`` long: each note ``(start_s, duration_s, hz)`` as a band-limited sum of
    harmonics (see the module doc) with a linear 5 ms attack and 30 ms release; ``sr`` in Hz."""
    y = np.zeros(frames)
    with Progress(label, len(notes)) as bar:
        for j, (start, dur, hz) in enumerate(notes):
            s0 = int(round(start * sr))
            n = min(frames - s0, int(round(dur * sr)))
            if n <= 0:
                continue
            t = np.arange(n) / sr
            ks, amps = harmonics(wave, hz, sr)
            x = np.zeros(n)
            for k, a in zip(ks, amps):
                x += a * np.sin(2.0 * np.pi * k * hz * t)
            na = max(1, min(n // 2, int(round(ATTACK_S * sr))))
            nr = max(1, min(n - na, int(round(RELEASE_S * sr))))
            env = np.ones(n)
            env[:na] = np.arange(na) / na
            env[n - nr:] = np.minimum(env[n - nr:], (nr - 1 - np.arange(nr)) / nr)
            y[s0:s0 + n] += x * env
            bar.update(j + 1)
    return y


def _synth(notes: list[tuple[float, float, float]], sr: int, wave: str, frames: int, label: str) -> np.ndarray:
    """The ``synth`` node's kernel driven offline: note-on/off events at exact offsets, keys retuned."""
    from livehost.dsp.run import param_vector
    from livehost.dsp.synth import PAYLOAD, STATE_SIZE, new_synth_state
    from livehost.engine.layout import MAX_BLOCK_EVENTS
    from livehost.nodes import load_all

    nt = load_all()["synth"]
    values = {"wave": wave, "filter": "off", "attack_ms": ATTACK_S * 1000.0, "decay_ms": 0.0, "sustain": 1.0,
              "release_ms": RELEASE_S * 1000.0, "vel_sens": 0.0, "pressure_amp_db": 0.0, "voices": 128.0,
              "output_db": -12.0, "glide_ms": 0.0}
    pv = param_vector(nt, values)
    block = 256
    st = new_synth_state(float(sr), block, np.full(PAYLOAD, np.nan))
    table = st[STATE_SIZE:]
    events = []  # (frame, order, status, key, vel, hz)
    for i, (start, dur, hz) in enumerate(sorted(notes)):
        key = i % 128
        on = int(round(start * sr))
        off = on + max(1, int(round((dur - RELEASE_S) * sr)))
        events.append((on, 1, 0x90, key, 127, hz))
        events.append((off, 0, 0x80, key, 0, hz))
    events.sort()
    buf = np.zeros((2, block))
    y = np.zeros(frames)
    e = 0
    with Progress(label, frames) as bar:
        for s in range(0, frames, block):
            n = min(block, frames - s)
            cnt = 0
            while e < len(events) and events[e][0] < s + n and cnt < MAX_BLOCK_EVENTS:
                f, _, status, key, vel, hz = events[e]
                if status == 0x90:
                    table[key] = hz
                b = 1 + 4 * cnt
                st[b:b + 4] = (max(0, f - s), status, key, vel)
                cnt += 1
                e += 1
            st[0] = cnt
            nt.kernel(pv, pv, st, buf, n, float(sr))
            st[0] = 0
            y[s:s + n] = buf[0, :n]
            bar.update(s + n)
    return y


# ---- the figures ------------------------------------------------------------------------------------
def parse_step(text: str):
    """A ``--step``/``--system`` value: a system name (``semitone``, ``24edo``, ``bp``) or one step ratio
    (``1.05946``, ``3/2``) -> what :func:`livehost.tuning.as_system` takes."""
    t = text.strip()
    if re.fullmatch(r"\d+(\.\d*)?(/\d+)?|\.\d+", t):
        return float(parse_ratio(t))
    return t


def _hz(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return name_to_hz(text)


def system_table(base: str | float, step: str, size: int) -> list[dict]:
    """``size`` steps of ``step`` (a system name or one step ratio) from ``base`` (a pitch name: the
    tuning's nearest pitch; or Hz, used as given), as rows ``{"index", "hz", "name", "cents"}`` (Hz;
    name/cents: the nearest 12-EDO pitch name and the offset from it in cents, A4 = 440 Hz)."""
    spec = parse_step(step) if isinstance(step, str) else step
    f0, k0 = tuning_pitch(spec, base)
    if k0 is None:
        hz = make_system(f0, spec, size)
    else:
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise LivehostError(f"table size {size!r} must be a whole number >= 0")
        hz = steps_hz(as_system(spec), k0, size)
    rows = []
    for i, f in enumerate(hz):
        name, c = hz_to_name(float(f))
        rows.append({"index": i, "hz": float(f), "name": name, "cents": c})
    return rows


def scale_notes(system: str, lo: str | float, hi: str | float, down: bool = False) -> list[dict]:
    """The steps of ``system`` from ``lo`` up to ``hi``, as rows ``{"step", "hz", "name", "cents"}``
    (``step`` counts from the first note); descending when ``down``.  A pitch name is the tuning's
    nearest pitch (1/1 = C4 = 261.6256 Hz, as the synth plays it); a frequency in Hz is used as given
    (``lo`` in Hz: the system transposed to start there; ``hi`` in Hz: the upper bound)."""
    spec = parse_step(system) if isinstance(system, str) else system
    sysm = as_system(spec)
    f0, k0 = tuning_pitch(spec, lo)
    f1, k1 = tuning_pitch(spec, hi)
    if f1 < f0:
        f0, k0, f1, k1, down = f1, k1, f0, k0, not down
    per_step = abs(sysm.period_cents) / sysm.size
    count = int(math.floor(1200.0 * math.log2(f1 / f0) / max(per_step, 1e-9) * 1.5)) + 2
    if count > 100000:
        raise LivehostError(f"{sysm.name}: too many steps between {lo} and {hi}")
    hz = make_system(f0, sysm, count) if k0 is None else steps_hz(sysm, k0, count)
    hz = hz[hz <= f1 * (1 + 1e-9)]
    rows = []
    for k, f in enumerate(hz):
        name, c = hz_to_name(float(f))
        rows.append({"step": k, "hz": float(f), "name": name, "cents": c})
    return rows[::-1] if down else rows


# ---- commands ----------------------------------------------------------------------------------------
def _fmt_row(r: dict, key: str) -> str:
    return f"{r[key]:4d}  {r['hz']:10.2f} Hz  {r['name']:>5} {format_cents(r['cents'])} ct"


def cmd_tone(args) -> int:
    """``tools tone --hz F --wave W --seconds S OUT``."""
    check_output(args.output)
    hz = _hz(args.hz)
    y, how = render_notes([(0.0, args.seconds, hz)], args.samplerate, args.wave, args.level_db, args.method)
    write_audio(args.output, y, args.samplerate)
    print(f"wrote {args.output}: {hz:g} Hz {args.wave}, {len(y) / args.samplerate:.3f} s ({how})")
    return 0


def cmd_scale(args) -> int:
    """``tools scale --system S --from A --to B [--down] OUT``."""
    check_output(args.output)
    rows = scale_notes(args.system, args.lo, args.hi, args.down)
    d = args.note_seconds
    y, how = render_notes([(i * d, d, r["hz"]) for i, r in enumerate(rows)], args.samplerate, args.wave,
                          args.level_db, args.method)
    write_audio(args.output, y, args.samplerate)
    if args.json:
        print_json({"output": args.output, "system": args.system, "notes": rows})
    else:
        for r in rows:
            print(_fmt_row(r, "step"))
        print(f"wrote {args.output}: {len(rows)} notes, {len(y) / args.samplerate:.3f} s ({how})")
    return 0


def cmd_chords(args) -> int:
    """``tools chords "I ii V6 I" --key C4 --system 12edo OUT``."""
    from livehost.tools.harmony import parse_progression

    check_output(args.output)
    chords = parse_progression(args.progression, parse_step(args.system), args.key)
    d = args.chord_seconds
    notes = [(i * d, d, f) for i, c in enumerate(chords) for f in c.hz]
    y, how = render_notes(notes, args.samplerate, args.wave, args.level_db, args.method)
    write_audio(args.output, y, args.samplerate)
    rows = [{"symbol": c.symbol, "steps": c.steps, "cents": c.cents, "hz": c.hz,
             "names": [f"{n}{format_cents(ct)}" for n, ct in (hz_to_name(f) for f in c.hz)]} for c in chords]
    if args.json:
        print_json({"output": args.output, "system": args.system, "key": args.key, "chords": rows})
    else:
        for r in rows:
            print(f"{r['symbol']:>8}  " + "  ".join(f"{f:8.2f}" for f in r["hz"]) + "  Hz   " + " ".join(r["names"]))
        print(f"wrote {args.output}: {len(chords)} chords, {len(y) / args.samplerate:.3f} s ({how})")
    return 0


def cmd_system(args) -> int:
    """``tools system --base C-1 --step semitone --size 128 [--json]``."""
    if args.size < 0 or args.size > 100000:
        raise LivehostError(f"--size {args.size} must be 0..100000")
    rows = system_table(args.base if not re.fullmatch(r"[\d.]+", args.base) else float(args.base), args.step,
                        args.size)
    if args.json:
        print_json({"base": args.base, "step": args.step, "size": args.size, "table": rows})
        return 0
    for r in rows:
        print(_fmt_row(r, "index"))
    return 0


def _audio_opts(p) -> None:
    p.add_argument("--wave", choices=WAVES, default="sine", help="waveform (band-limited; default sine)")
    p.add_argument("--samplerate", type=int, default=48000, help="sample rate in Hz (default 48000)")
    p.add_argument("--level-db", type=float, default=-6.0, help="peak level in dBFS (default -6)")
    p.add_argument("--method", choices=("auto", "synth", "additive"), default="auto",
                   help="auto: the synth node when available, else additive synthesis")


def add_parser(sub) -> None:
    """Register ``tone``, ``scale``, ``chords`` and ``system`` on the ``tools`` subparsers."""
    from livehost.tools import harmony

    raw = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser("tone", help="a band-limited test tone")
    p.add_argument("output", metavar="OUT", help="output audio file")
    p.add_argument("--hz", default="440", help="frequency in Hz, or a pitch name (A4); default 440")
    p.add_argument("--seconds", type=float, default=1.0, help="duration in seconds (default 1)")
    _audio_opts(p)
    p.set_defaults(func=cmd_tone)

    p = sub.add_parser("scale", help="every step of a system between two pitches")
    p.add_argument("output", metavar="OUT", help="output audio file")
    p.add_argument("--system", default="12edo", help="12edo, 24edo, 31edo, bp, ji12, a step ratio (3/2)...")
    p.add_argument("--from", dest="lo", default="A4", 
                   help="lowest pitch: a name (A4: the tuning's nearest pitch) or Hz (default A4)")
    p.add_argument("--to", dest="hi", default="A5", 
                   help="highest pitch: a name (the tuning's nearest pitch) or Hz (default A5)")
    p.add_argument("--down", action="store_true", help="play from the top down")
    p.add_argument("--note-seconds", type=float, default=0.4, help="length of each note in seconds")
    p.add_argument("--json", action="store_true", help="print the notes as JSON")
    _audio_opts(p)
    p.set_defaults(func=cmd_scale)

    p = sub.add_parser("chords", help="a chord progression (Roman numerals or [steps]) in any EDO",
                       formatter_class=raw, description=harmony.__doc__)
    p.add_argument("progression", help='e.g. "I ii V6 I", "I IV64 V7 I", "[0,8,14] [0,10,18]"')
    p.add_argument("output", metavar="OUT", help="output audio file")
    p.add_argument("--key", default="C4", 
                   help="tonic: a name (the tuning's nearest pitch; C4 = its 1/1) or Hz (default C4)")
    p.add_argument("--system", default="12edo", help="12edo, 19edo, 24edo, 31edo, ji12, bp (explicit chords)...")
    p.add_argument("--chord-seconds", type=float, default=1.0, help="length of each chord in seconds")
    p.add_argument("--json", action="store_true", help="print the chords as JSON")
    _audio_opts(p)
    p.set_defaults(func=cmd_chords)

    p = sub.add_parser("system", help="print a frequency table (make_system)")
    p.add_argument("--base", default="C-1", 
                   help="step 0: a name (the tuning's nearest pitch) or Hz (default C-1 = 8.18 Hz)")
    p.add_argument("--step", default="semitone", help="semitone, quartertone, 31edo, bp, or a ratio (3/2)")
    p.add_argument("--size", type=int, default=128, help="number of steps (default 128)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_system)


__all__ = ["render_notes", "additive", "harmonics", "system_table", "scale_notes", "parse_step", "db",
           "add_parser"]
