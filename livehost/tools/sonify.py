"""``livehost tools sonify-image IMAGE OUT.wav``: a picture becomes a sound whose spectrogram shows it.

Mapping
    - Rows are frequencies: the top row sounds at ``--fmax`` Hz, the bottom row at ``--fmin`` Hz, the
      rows between log-spaced (equal musical intervals), so a log-frequency spectrogram shows the
      picture undistorted.  Pictures taller than ``--rows`` (default 256) are first reduced by averaging
      bands of rows (a thin line never disappears).
    - Columns are time: the picture spans ``--seconds``; column ``c`` is centred at ``(c + 0.5) / C`` of it,
      and amplitudes are interpolated linearly between column centres.
    - Brightness (0..1, see :mod:`livehost.tools.images`) is linear amplitude (``--invert`` for dark
      drawings on white).
    - Each row is one sinusoid of constant frequency with a continuous phase for the whole duration
      (a random but fixed start phase, so the rows do not all peak together): the sum is scaled to a
      peak of ``--level-db`` dBFS (default -1) with 5 ms fades at both ends.
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from livehost.errors import LivehostError
from livehost.tools.common import Progress, check_output, write_audio
from livehost.tools.images import read_gray

FADE_S = 0.005
"""Fade in/out at the ends of the sound, seconds."""


def reduce_rows(img: np.ndarray, rows: int) -> np.ndarray:
    """Average bands of rows of ``img`` (rows, cols) down to ``rows`` rows (unchanged if already fewer)."""
    r = img.shape[0]
    if r <= rows:
        return img
    edges = np.linspace(0.0, r, rows + 1)
    cum = np.vstack([np.zeros((1, img.shape[1])), np.cumsum(img, axis=0)])

    def at(pos):
        i = np.clip(np.floor(pos).astype(int), 0, r - 1)
        frac = (pos - i)[:, None]
        return cum[i] + frac * (cum[i + 1] - cum[i])

    return (at(edges[1:]) - at(edges[:-1])) / np.diff(edges)[:, None]


def row_frequencies(rows: int, fmin: float, fmax: float) -> np.ndarray:
    """Frequency in Hz of each row, top (``fmax``) to bottom (``fmin``), log-spaced."""
    if rows == 1:
        return np.array([math.sqrt(fmin * fmax)])
    return fmax * (fmin / fmax) ** (np.arange(rows) / (rows - 1))


def sonify(img: np.ndarray, sr: int = 48000, seconds: float = 5.0, fmin: float = 100.0, fmax: float = 8000.0,
           max_rows: int = 256, level_db: float = -1.0, seed: int = 1) -> np.ndarray:
    """Sound of the brightness picture ``img`` ((rows, cols) in 0..1): mono float64, ``seconds`` s at ``sr`` Hz.

    fmin/fmax: frequencies (Hz) of the bottom/top rows; max_rows: rows kept; level_db: peak (dBFS).
    """
    img = np.clip(np.nan_to_num(np.asarray(img, np.float64)), 0.0, 1.0)
    if img.ndim != 2 or img.size == 0:
        raise LivehostError("the picture has no pixels")
    if not (0 < fmin < fmax < sr / 2):
        raise LivehostError(f"need 0 < --fmin ({fmin:g}) < --fmax ({fmax:g}) < half the sample rate ({sr / 2:g} Hz)")
    if not seconds > 0:
        raise LivehostError(f"--seconds {seconds!r} must be positive")
    img = reduce_rows(img, max_rows)
    rows, cols = img.shape
    freqs = row_frequencies(rows, fmin, fmax)
    phases = np.random.default_rng(seed).uniform(0, 2 * np.pi, rows)
    live = np.nonzero(img.max(axis=1) > 0)[0]
    n = int(round(seconds * sr))
    y = np.zeros(n)
    centres = (np.arange(cols) + 0.5) / cols * seconds
    chunk = 8192
    with Progress("sonify", n) as bar:
        for s in range(0, n, chunk):
            m = min(chunk, n - s)
            t = (s + np.arange(m)) / sr
            # amplitude of each live row at these times: linear between column centres
            pos = np.interp(t, centres, np.arange(cols, dtype=np.float64))
            c0 = np.floor(pos).astype(int)
            c1 = np.minimum(c0 + 1, cols - 1)
            fr = pos - c0
            amp = img[live][:, c0] * (1 - fr) + img[live][:, c1] * fr
            ph = 2 * np.pi * freqs[live][:, None] * t[None, :] + phases[live][:, None]
            y[s:s + m] = np.einsum("ij,ij->j", amp, np.sin(ph))
            bar.update(s + m)
    nf = min(n // 2, int(round(FADE_S * sr)))
    if nf > 0:
        ramp = np.arange(nf) / nf
        y[:nf] *= ramp
        y[n - nf:] *= ramp[::-1]
    peak = float(np.max(np.abs(y)))
    if peak > 0:
        y *= 10 ** (level_db / 20.0) / peak
    return y


def add_parser(sub) -> None:
    """Register ``sonify-image`` on the ``tools`` subparsers."""
    p = sub.add_parser("sonify-image", help="turn a picture into a sound whose spectrogram shows it",
                       formatter_class=argparse.RawDescriptionHelpFormatter, description=__doc__)
    p.add_argument("image", metavar="IMAGE", help="PNG (or JPEG with Pillow)")
    p.add_argument("output", metavar="OUT", help="output audio file (.wav, .flac, .ogg)")
    p.add_argument("--seconds", type=float, default=5.0, help="duration in seconds (default 5)")
    p.add_argument("--fmin", type=float, default=100.0, help="frequency of the bottom row in Hz (default 100)")
    p.add_argument("--fmax", type=float, default=8000.0, help="frequency of the top row in Hz (default 8000)")
    p.add_argument("--rows", type=int, default=256, help="at most this many rows (sinusoids; default 256)")
    p.add_argument("--invert", action="store_true", help="dark is loud (drawings on white paper)")
    p.add_argument("--samplerate", type=int, default=48000, help="sample rate in Hz (default 48000)")
    p.add_argument("--level-db", type=float, default=-1.0, help="peak level in dBFS (default -1)")
    p.set_defaults(func=cmd_sonify)


def cmd_sonify(args) -> int:
    """``tools sonify-image IMAGE OUT``."""
    check_output(args.output)
    if args.rows < 1:
        raise LivehostError(f"--rows {args.rows} must be at least 1")
    img = read_gray(args.image)
    if args.invert:
        img = 1.0 - img
    y = sonify(img, args.samplerate, args.seconds, args.fmin, args.fmax, args.rows, args.level_db)
    write_audio(args.output, np.stack([y, y], axis=1), args.samplerate)
    print(f"wrote {args.output}: {img.shape[1]} columns x {min(img.shape[0], args.rows)} rows, "
          f"{args.fmin:g}..{args.fmax:g} Hz, {args.seconds:g} s")
    return 0
