"""``livehost tools info FILE [--json]``: sample rate, bit depth (subtype), channels, duration, levels.

Levels: peak and RMS in dBFS over all channels (see :mod:`livehost.tools.measure`), and per channel.
"""

from __future__ import annotations

import argparse

import soundfile as sf

from livehost.errors import LivehostError
from livehost.tools.common import print_json, read_audio
from livehost.tools.measure import peak_dbfs, rms_dbfs

BITS = {"PCM_S8": 8, "PCM_U8": 8, "PCM_16": 16, "PCM_24": 24, "PCM_32": 32, "FLOAT": 32, "DOUBLE": 64,
        "ULAW": 8, "ALAW": 8}
"""Bits per sample of each soundfile subtype (lossy codecs such as VORBIS have none)."""


def file_info(path: str) -> dict:
    """Facts about an audio file: ``samplerate`` (Hz), ``subtype``, ``bits`` (per sample, None for lossy),
    ``format``, ``channels``, ``frames``, ``duration_s`` (s), ``peak_dbfs``/``rms_dbfs`` (dBFS, all
    channels) and ``channel_peak_dbfs``/``channel_rms_dbfs`` (lists). Raises LivehostError naming the file."""
    x, sr = read_audio(path, stereo=False)
    try:
        meta = sf.info(path)
    except Exception as e:  # noqa: BLE001 — read_audio succeeded, so this is unexpected
        raise LivehostError(f"{path}: cannot read audio: {e}") from None
    return {
        "file": path,
        "samplerate": int(sr),
        "format": meta.format,
        "subtype": meta.subtype,
        "bits": BITS.get(meta.subtype),
        "channels": int(x.shape[1]),
        "frames": int(x.shape[0]),
        "duration_s": x.shape[0] / sr,
        "peak_dbfs": peak_dbfs(x),
        "rms_dbfs": rms_dbfs(x),
        "channel_peak_dbfs": [peak_dbfs(x[:, c]) for c in range(x.shape[1])],
        "channel_rms_dbfs": [rms_dbfs(x[:, c]) for c in range(x.shape[1])],
    }


def add_parser(sub) -> None:
    """Register ``info`` on the ``tools`` subparsers."""
    p = sub.add_parser("info", help="sample rate, bit depth, channels, duration, peak and RMS (dBFS)",
                       description="Print sample rate (Hz), bit depth (subtype), channels, duration (s), "
                                   "peak and RMS level (dBFS) of an audio file.")
    p.add_argument("file", help="audio file (.wav, .flac, .ogg)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_info)


def cmd_info(args: argparse.Namespace) -> int:
    """``tools info``: print :func:`file_info` as text or JSON."""
    d = file_info(args.file)
    if args.json:
        print_json(d)
        return 0
    bits = f"{d['bits']}-bit" if d["bits"] else "lossy"
    print(f"{d['file']}")
    print(f"  sample rate  {d['samplerate']} Hz")
    print(f"  bit depth    {bits} ({d['format']} {d['subtype']})")
    print(f"  channels     {d['channels']}")
    print(f"  duration     {d['duration_s']:.3f} s ({d['frames']} frames)")
    print(f"  peak         {d['peak_dbfs']:.2f} dBFS")
    print(f"  RMS          {d['rms_dbfs']:.2f} dBFS")
    return 0
