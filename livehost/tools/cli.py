"""``livehost tools ...``: the offline tools (see :mod:`livehost.tools`).

Wire-up: ``add_parser(subparsers)`` registers ``tools`` with its sub-subcommands; each parsed namespace
carries ``func`` (a handler taking the namespace and returning an exit code).  Failures are
:class:`~livehost.errors.LivehostError` s, which ``livehost``'s ``main`` prints as one line (exit 1).
"""

from __future__ import annotations

import argparse

TOOL_MODULES = ("info", "split", "effects", "synthesis", "bitdepth", "pictures", "sonify")
"""Modules of :mod:`livehost.tools` that contribute sub-subcommands, in help order."""

EPILOG = """examples:
  livehost tools info take.wav
  livehost tools split take.wav --seconds 30 --out parts/
  livehost tools reverse take.wav rev.wav
  livehost tools stretch take.wav slow.wav --factor 2
  livehost tools pitch take.wav up.wav --semitones 7        (or --hz 100)
  livehost tools delay take.wav echo.wav --ms 1000 --feedback 0.5 --repeats 3
  livehost tools chain take.wav out.wav "reverse | delay ms=1000 repeats=3 fade=0.5 | layer(reverse, delay ms=250)"
  livehost tools tone --hz 440 --wave saw --seconds 1 a440.wav
  livehost tools scale --system 24edo --from A4 --to A5 scale.wav
  livehost tools chords "I ii V6 I" --key C4 --system 12edo chords.wav
  livehost tools system --base C-1 --step semitone --size 128
  livehost tools bitdepth take.wav crushed.wav --bits 8
  livehost tools spectrogram take.wav -o spec.png
  livehost tools waveform take.wav -o wave.png
  livehost tools sonify-image picture.png picture.wav
"""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``tools`` (and its sub-subcommands) on ``livehost``'s subparsers; returns its parser."""
    tools = subparsers.add_parser("tools", help="offline tools: info, split, effects, tones, chords, pictures",
                                  description="Offline tools built on the engine's nodes and tuning code.",
                                  epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = tools.add_subparsers(dest="tools_command", metavar="TOOL")
    sub.required = True
    for name in TOOL_MODULES:
        mod = __import__(f"livehost.tools.{name}", fromlist=["add_parser"])
        mod.add_parser(sub)
    return tools


def main(argv: list[str] | None = None) -> int:
    """Run ``livehost tools`` alone (``python -m livehost.tools.cli ...``); returns the exit code."""
    import sys

    from livehost.errors import LivehostError

    ap = argparse.ArgumentParser(prog="livehost")
    add_parser(ap.add_subparsers(dest="command"))
    args = ap.parse_args(["tools", *(sys.argv[1:] if argv is None else argv)])
    try:
        return int(args.func(args) or 0)
    except LivehostError as e:
        print(f"livehost: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
