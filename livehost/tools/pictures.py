"""``livehost tools spectrogram FILE -o OUT.png`` and ``tools waveform FILE -o OUT.png`` (matplotlib, Agg).

Spectrogram: short-time Fourier transform of the channel mix (Hann window of ``--window`` samples,
default 4096 at 48 kHz scaled with the rate, 75 % overlap), level in dBFS (a full-scale sine reads
about 0 dB), drawn with time (s) across, a logarithmic frequency axis (Hz, ``--fmin`` to half the sample
rate), a colour bar (dBFS, ``--range`` dB down from the loudest cell) and a title (the file name unless
``--title``).  Waveform: per pixel column the minimum and maximum sample of each channel (amplitude,
full scale +-1) against time (s).  Pictures are exactly ``--width`` x ``--height`` pixels.
"""

from __future__ import annotations

import os

import numpy as np

from livehost.errors import LivehostError
from livehost.tools.common import Progress, read_audio

DPI = 100


def _plt():
    try:
        import matplotlib
    except ImportError:
        raise LivehostError("pictures need matplotlib: pip install matplotlib") from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def stft_db(x: np.ndarray, sr: int, window: int | None = None, overlap: float = 0.75) -> tuple:
    """Magnitude spectrogram of mono ``x`` in dBFS: returns (times s (frames,), freqs Hz (bins,),
    level dB (bins, frames)). window: samples (default 4096 at 48 kHz, scaled with ``sr``)."""
    from scipy.signal import stft

    if window is None:
        window = int(2 ** round(np.log2(4096 * sr / 48000)))
    window = int(max(16, min(window, max(16, len(x)))))
    f, t, z = stft(x, fs=sr, window="hann", nperseg=window, noverlap=int(window * overlap), boundary="zeros",
                   padded=True)
    # scipy scales by 1/sum(window): a full-scale sine gives |Z| = 0.5 at its bin -> x2 for dBFS
    mag = 2.0 * np.abs(z)
    return t, f, 20.0 * np.log10(np.maximum(mag, 1e-12))


def save_spectrogram(path: str, out: str, width: int = 1200, height: int = 600, fmin: float = 20.0,
                     window: int | None = None, range_db: float = 100.0, title: str | None = None) -> dict:
    """Draw the spectrogram of audio file ``path`` into PNG ``out`` (``width`` x ``height`` px; fmin in Hz,
    window in samples, range_db: colour range in dB). Returns ``{"file", "width", "height"}``."""
    _check_png(out, width, height)
    plt = _plt()
    x, sr = read_audio(path)
    with Progress("spectrogram", None):
        t, f, level = stft_db(x.mean(axis=1), sr, window)
        fmin = max(float(fmin), f[1] if len(f) > 1 else 1.0)
        keep = f >= fmin * 0.999
        f, level = f[keep], level[keep]
        cols = max(1, width)
        if level.shape[1] > 2 * cols:  # at most ~2 cells per pixel column: max-pool time frames
            k = int(np.ceil(level.shape[1] / cols))
            pad = (-level.shape[1]) % k
            lv = np.pad(level, ((0, 0), (0, pad)), constant_values=-240.0)
            level = lv.reshape(level.shape[0], -1, k).max(axis=2)
            t = np.pad(t, (0, pad), mode="edge").reshape(-1, k).mean(axis=1)
        top = float(level.max())
        fig = plt.figure(figsize=(width / DPI, height / DPI), dpi=DPI)
        ax = fig.add_axes((0.08, 0.11, 0.8, 0.8))
        cax = fig.add_axes((0.9, 0.11, 0.02, 0.8))
        te = _edges(t, 0.0, len(x) / sr)
        fe = _edges(f, fmin, sr / 2.0, log=True)
        mesh = ax.pcolormesh(te, fe, level, shading="flat", cmap="magma", vmin=top - range_db, vmax=top,
                             rasterized=True)
        ax.set_yscale("log")
        ax.set_ylim(fe[0], fe[-1])
        ax.set_xlim(0.0, len(x) / sr)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("frequency (Hz)")
        ax.set_title(title if title is not None else f"Spectrogram: {os.path.basename(path)}")
        cb = fig.colorbar(mesh, cax=cax)
        cb.set_label("level (dBFS)")
        _save(fig, out)
        plt.close(fig)
    return {"file": out, "width": width, "height": height}


def save_waveform(path: str, out: str, width: int = 1200, height: int = 400, title: str | None = None) -> dict:
    """Draw the waveform (min/max per pixel column, each channel) of audio file ``path`` into PNG ``out``
    of ``width`` x ``height`` px. Returns ``{"file", "width", "height"}``."""
    _check_png(out, width, height)
    plt = _plt()
    x, sr = read_audio(path, stereo=False)
    chans = x.shape[1]
    fig = plt.figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    n = len(x)
    cols = max(1, min(n, width))
    edges = np.linspace(0, n, cols + 1).astype(int)
    tc = (edges[:-1] + edges[1:]) / 2.0 / sr
    h = 0.78 / chans
    for c in range(chans):
        ax = fig.add_axes((0.08, 0.12 + (chans - 1 - c) * h, 0.88, h * 0.92))
        lo = np.minimum.reduceat(x[:, c], edges[:-1])
        hi = np.maximum.reduceat(x[:, c], edges[:-1])
        ax.fill_between(tc, lo, hi, color="#1f5fa8", linewidth=0.6, edgecolor="#1f5fa8")
        ax.set_xlim(0.0, n / sr)
        ax.set_ylim(-1.05, 1.05)
        ax.axhline(0.0, color="0.6", linewidth=0.5)
        ax.set_ylabel("L" if chans == 2 and c == 0 else "R" if chans == 2 else f"ch {c + 1}")
        if c == 0:
            ax.set_title(title if title is not None else f"Waveform: {os.path.basename(path)}")
        if c < chans - 1:
            ax.set_xticklabels([])
        else:
            ax.set_xlabel("time (s)")
    _save(fig, out)
    plt.close(fig)
    return {"file": out, "width": width, "height": height}


def _edges(centres: np.ndarray, lo: float, hi: float, log: bool = False) -> np.ndarray:
    c = np.asarray(centres, np.float64)
    if len(c) == 1:
        return np.array([lo, hi])
    if log:
        lc = np.log(c)
        mid = np.exp((lc[:-1] + lc[1:]) / 2.0)
        first = max(lo, np.exp(lc[0] - (lc[1] - lc[0]) / 2.0))
    else:
        mid = (c[:-1] + c[1:]) / 2.0
        first = max(lo, c[0] - (c[1] - c[0]) / 2.0)
    last = max(hi, mid[-1] * 1.0001 if log else mid[-1] + 1e-9)
    return np.concatenate([[first], mid, [last]])


def _check_png(out: str, width: int, height: int) -> None:
    if os.path.splitext(out)[1].lower() != ".png":
        raise LivehostError(f"{out}: the picture must be a .png file")
    if not (50 <= width <= 10000 and 50 <= height <= 10000):
        raise LivehostError(f"{out}: size {width}x{height} must be 50..10000 pixels each way")


def _save(fig, out: str) -> None:
    try:
        fig.savefig(out, dpi=DPI, format="png")
    except OSError as e:
        raise LivehostError(f"{out}: cannot write the picture: {e.strerror or e}") from None


def add_parser(sub) -> None:
    """Register ``spectrogram`` and ``waveform`` on the ``tools`` subparsers."""
    p = sub.add_parser("spectrogram", help="spectrogram PNG (log frequency, colour bar, title)", description=__doc__)
    p.add_argument("file", help="audio file")
    p.add_argument("-o", "--output", required=True, metavar="OUT.png", help="picture to write")
    p.add_argument("--width", type=int, default=1200, help="pixels (default 1200)")
    p.add_argument("--height", type=int, default=600, help="pixels (default 600)")
    p.add_argument("--fmin", type=float, default=20.0, help="lowest frequency shown in Hz (default 20)")
    p.add_argument("--window", type=int, default=None, help="FFT window in samples (default 4096 at 48 kHz)")
    p.add_argument("--range", dest="range_db", type=float, default=100.0, help="colour range in dB (default 100)")
    p.add_argument("--title", default=None, help="title (default: the file name)")
    p.set_defaults(func=cmd_spectrogram)

    p = sub.add_parser("waveform", help="waveform PNG", description=__doc__)
    p.add_argument("file", help="audio file")
    p.add_argument("-o", "--output", required=True, metavar="OUT.png", help="picture to write")
    p.add_argument("--width", type=int, default=1200, help="pixels (default 1200)")
    p.add_argument("--height", type=int, default=400, help="pixels (default 400)")
    p.add_argument("--title", default=None, help="title (default: the file name)")
    p.set_defaults(func=cmd_waveform)


def cmd_spectrogram(args) -> int:
    """``tools spectrogram FILE -o OUT.png``."""
    d = save_spectrogram(args.file, args.output, args.width, args.height, args.fmin, args.window, args.range_db,
                         args.title)
    print(f"wrote {d['file']} ({d['width']}x{d['height']})")
    return 0


def cmd_waveform(args) -> int:
    """``tools waveform FILE -o OUT.png``."""
    d = save_waveform(args.file, args.output, args.width, args.height, args.title)
    print(f"wrote {d['file']} ({d['width']}x{d['height']})")
    return 0
