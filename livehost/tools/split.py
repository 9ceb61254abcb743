"""``livehost tools split FILE --seconds 30 [--out DIR]``: cut a file into equal parts.

Parts are ``--seconds`` long (the last one holds the remainder) and are named predictably after the
input: ``song.wav`` -> ``song.part001.wav``, ``song.part002.wav`` ... (three digits, more if there are
over 999 parts), in ``--out`` (default: the input's folder). Samples are copied exactly: each part keeps
the input's format, subtype and channel count.
"""

from __future__ import annotations

import argparse
import math
import os

import soundfile as sf

from livehost.errors import LivehostError
from livehost.tools.common import Progress, print_json, read_audio, write_audio


def part_names(path: str, count: int, out_dir: str | None = None) -> list[str]:
    """The file names of ``count`` parts of ``path`` (``name.part001.ext`` ...) in ``out_dir``."""
    folder = out_dir if out_dir is not None else (os.path.dirname(path) or ".")
    stem, ext = os.path.splitext(os.path.basename(path))
    digits = max(3, len(str(count)))
    return [os.path.join(folder, f"{stem}.part{k + 1:0{digits}d}{ext}") for k in range(count)]


def split_file(path: str, seconds: float, out_dir: str | None = None) -> list[dict]:
    """Split ``path`` into parts of ``seconds`` s; returns ``[{"file", "start_s", "duration_s", "frames"}]``.

    Raises LivehostError (naming the file) for unreadable input, a bad length or an unwritable folder.
    """
    if not (seconds > 0 and math.isfinite(seconds)):
        raise LivehostError(f"--seconds {seconds!r} must be a positive number of seconds")
    x, sr = read_audio(path, stereo=False)
    meta = sf.info(path)
    per = max(1, int(round(seconds * sr)))
    count = int(math.ceil(len(x) / per))
    if out_dir is not None:
        try:
            os.makedirs(out_dir, exist_ok=True)
        except OSError as e:
            raise LivehostError(f"{out_dir}: cannot create the folder: {e.strerror or e}") from None
    names = part_names(path, count, out_dir)
    subtype = meta.subtype if sf.check_format(meta.format, meta.subtype) else None
    out = []
    with Progress(f"split {os.path.basename(path)}", count) as bar:
        for k, name in enumerate(names):
            seg = x[k * per:(k + 1) * per]
            write_audio(name, seg, sr, subtype=subtype)
            out.append({"file": name, "start_s": k * per / sr, "duration_s": len(seg) / sr, "frames": len(seg)})
            bar.update(k + 1)
    return out


def add_parser(sub) -> None:
    """Register ``split`` on the ``tools`` subparsers."""
    p = sub.add_parser("split", help="cut a file into equal parts (name.part001.wav ...)",
                       description=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", help="audio file (.wav, .flac, .ogg)")
    p.add_argument("--seconds", type=float, default=30.0, help="length of each part in seconds (default 30)")
    p.add_argument("--out", default=None, metavar="DIR", help="folder for the parts (default: beside FILE)")
    p.add_argument("--json", action="store_true", help="print the parts as JSON")
    p.set_defaults(func=cmd_split)


def cmd_split(args: argparse.Namespace) -> int:
    """``tools split``: write the parts and list them."""
    parts = split_file(args.file, args.seconds, args.out)
    if args.json:
        print_json(parts)
        return 0
    for p in parts:
        print(f"{p['file']}  {p['start_s']:.3f} s + {p['duration_s']:.3f} s")
    print(f"{len(parts)} parts")
    return 0
