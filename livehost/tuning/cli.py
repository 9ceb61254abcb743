"""``livehost tuning show SPEC [--kbm FILE | --middle-note N --ref-note N --ref-hz HZ] [--notes 0-127]
[--json]``: print a tuning's key table and the keyboard mapping in force (Scala's default without a
``.kbm``: 1/1 on MIDI note 60 at 261.6256 Hz).

Wire-up: ``add_parser(subparsers)`` registers the ``tuning`` subcommand; the parsed namespace carries
``func`` (a handler taking the namespace and returning a process exit code).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from livehost.errors import LivehostError
from livehost.tuning.keymap import map_info
from livehost.tuning.names import format_cents, hz_to_name
from livehost.tuning.tuning import tuning_from_spec


def parse_notes(text: str) -> list[int]:
    """``"0-127"``, ``"60"``, ``"48-60,72"`` -> sorted unique MIDI note numbers (0..127).

    Raises ``argparse.ArgumentTypeError`` for anything else (argparse turns it into a usage error).
    """
    notes: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        lo, sep, hi = part.partition("-")
        try:
            a = int(lo)
            b = int(hi) if sep else a
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a note range (expected e.g. 0-127, 60, 48-60,72)") from None
        if not (0 <= a <= 127 and 0 <= b <= 127) or a > b:
            raise argparse.ArgumentTypeError(f"note range {part!r} must lie within 0-127, low to high")
        notes.update(range(a, b + 1))
    return sorted(notes)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``tuning`` (with ``show``) on an argparse subparsers object; returns its parser."""
    tuning = subparsers.add_parser("tuning", help="inspect tunings (EDOs, Bohlen-Pierce, Scala files)")
    sub = tuning.add_subparsers(dest="tuning_command", metavar="{show}")
    sub.required = True
    show = sub.add_parser("show", help="print the frequency (Hz) of each MIDI key")
    show.add_argument("spec", metavar="SPEC",
                      help="a .scl file or a system name: 12edo, 19edo, 24edo, 31edo, <N>edo, 13ed3, bp, ji12")
    show.add_argument("--kbm", metavar="FILE", help="a Scala .kbm keyboard map")
    show.add_argument("--notes", type=parse_notes, default=list(range(128)), metavar="RANGE",
                      help="MIDI notes to show, e.g. 0-127 (default), 60-72, 48-60,72")
    show.add_argument("--middle-note", type=int, metavar="N",
                      help="MIDI note of the scale's 1/1 when no .kbm is given (default 60)")
    show.add_argument("--ref-note", type=int, metavar="N",
                      help="MIDI note whose frequency --ref-hz fixes (default: the middle note)")
    show.add_argument("--ref-hz", type=float, metavar="HZ",
                      help="frequency in Hz of --ref-note (default: its standard pitch, 60 = 261.6256 Hz, "
                           "69 = 440 Hz)")
    show.add_argument("--json", action="store_true",
                      help='print {"tuning", "description", "mapping": {...}, "notes": [{"note": n, "hz": f}, '
                           '...]} (hz null = unmapped)')
    show.set_defaults(func=run_show)
    return tuning


def run_show(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Handler of ``tuning show``: print the table (plain or JSON); 0 on success, 1 on a tuning
    error (printed as one line on stderr)."""
    out = out or sys.stdout
    err = err or sys.stderr
    notes = args.notes if args.notes is not None else list(range(128))
    middle, ref, ref_hz = (getattr(args, k, None) for k in ("middle_note", "ref_note", "ref_hz"))
    try:
        for flag, n in (("--middle-note", middle), ("--ref-note", ref)):
            if n is not None and not 0 <= n <= 127:
                raise LivehostError(f"{flag} {n} is not a MIDI note number 0..127")
        if args.kbm is not None and (middle, ref, ref_hz) != (None, None, None):
            raise LivehostError("--kbm sets the middle note and the reference itself: "
                                "drop --middle-note/--ref-note/--ref-hz")
        tuning = tuning_from_spec(args.spec, args.kbm, ref, ref_hz, middle)
    except LivehostError as exc:
        print(f"error: {exc}", file=err)
        return 1
    rows = [(n, tuning.hz(n)) for n in notes]
    if args.json:
        json.dump({"tuning": tuning.name, "description": tuning.description,
                   "mapping": map_info(tuning.mapping), "notes": [{"note": n, "hz": hz} for n, hz in rows]}, out)
        out.write("\n")
        return 0
    out.write(f"# {tuning.name}: {tuning.description}\n")
    out.write(f"# mapping: {tuning.mapping_text()}\n")
    out.write(f"{'note':>4}  {'nearest':<7} {'cents':>7}  {'Hz':>12}\n")
    for n, hz in rows:
        if hz is None:
            out.write(f"{n:>4}  {'-':<7} {'':>7}  {'unmapped':>12}\n")
        else:
            name, cents = hz_to_name(hz)
            out.write(f"{n:>4}  {name:<7} {format_cents(cents):>7}  {hz:>12.4f}\n")
    return 0
