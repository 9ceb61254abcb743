"""``tools spectrogram`` and ``tools waveform``: the PNGs are read back (matplotlib's reader) and their
pixels checked against the signal drawn: where a sine's frequency sits on the log axis, how far a
known amplitude reaches, which channel is which."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest

from livehost.errors import LivehostError
from livehost.tools.pictures import save_spectrogram, save_waveform
from tests.conftest import ROOT
from tests.pngcheck import lines, load_png, luminance, runs
from tests.tools.util import SR, run_cli, write


def two_tones(f1: float, f2: float, seconds: float = 1.0, amp: float = 0.5) -> np.ndarray:
    """Stereo: a sine of ``f1`` Hz for the first half, ``f2`` Hz for the second (amp linear peak)."""
    n = int(seconds * SR)
    t = np.arange(n) / SR
    x = amp * np.where(t < seconds / 2, np.sin(2 * np.pi * f1 * t), np.sin(2 * np.pi * f2 * t))
    return np.stack([x, x], axis=1)


def plot_box(img: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) pixel rows/columns of a spectrogram's plot area: the largest block
    of non-white pixels (the mesh fills it; the colour bar is the narrower block to its right)."""
    ink = np.any(img < 250, axis=2)
    rows = runs(ink.mean(axis=1) > 0.5)
    cols = runs(ink.mean(axis=0) > 0.5)
    top, bottom = max(rows, key=lambda r: r[1] - r[0])
    left, right = max(cols, key=lambda c: c[1] - c[0])
    return int(top), int(bottom), int(left), int(right)


def brightest_row(img: np.ndarray, box, x_from: float, x_to: float) -> float:
    """Row (pixels from the top of the picture) of the brightest band between fractions ``x_from`` and
    ``x_to`` of the plot's width: luminance averaged over those columns, spines excluded."""
    top, bottom, left, right = box
    a, b = left + int(x_from * (right - left)), left + int(x_to * (right - left))
    lum = luminance(img[top + 3:bottom - 2, a:b]).mean(axis=1)
    return top + 3 + float(np.argmax(lum))


def row_of(f_hz: float, box, fmin: float = 20.0, fmax: float = SR / 2) -> float:
    """Where ``f_hz`` sits on a log frequency axis running from ``fmin`` (bottom) to ``fmax`` (top)."""
    top, bottom, _, _ = box
    return bottom - (bottom - top) * math.log(f_hz / fmin) / math.log(fmax / fmin)


def test_spectrogram_through_the_cli_puts_each_sine_at_its_frequency(tmp_path):
    """As a user runs it: ``python -m livehost tools spectrogram take.wav -o s.png``."""
    src = write(tmp_path / "take.wav", two_tones(440.0, 3000.0))
    out = tmp_path / "s.png"
    r = subprocess.run([sys.executable, "-m", "livehost", "tools", "spectrogram", src, "-o", str(out),
                        "--title", ""], capture_output=True, text=True, timeout=300, cwd=ROOT,
                       env=dict(os.environ, PYTHONPATH=ROOT))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"wrote {out} (1200x600)"
    img = load_png(out)
    assert img.shape == (600, 1200, 3)
    box = plot_box(img)
    top, bottom, left, right = box
    assert 0.7 * 600 < bottom - top < 0.9 * 600 and 0.7 * 1200 < right - left < 0.9 * 1200
    # the first half of the time axis is brightest at 440 Hz, the second at 3 kHz (the axis: 48 px
    # an octave here, so 3 px is about 1/16 octave)
    assert brightest_row(img, box, 0.1, 0.4) == pytest.approx(row_of(440.0, box), abs=3)
    assert brightest_row(img, box, 0.6, 0.9) == pytest.approx(row_of(3000.0, box), abs=3)
    # away from the tone the picture is dark: magma's low end, 100 dB below the sine
    lum = luminance(img[top + 3:bottom - 2, left + 3:right - 2])
    assert np.median(lum) < 40 and lum.max() > 200


def test_spectrogram_size_range_and_fmin(tmp_path):
    src = write(tmp_path / "tone.wav", two_tones(1000.0, 1000.0, seconds=0.5))
    out = tmp_path / "small.png"
    d = save_spectrogram(src, str(out), width=500, height=300, fmin=100.0, range_db=60.0, title="")
    assert d == {"file": str(out), "width": 500, "height": 300}
    img = load_png(out)
    assert img.shape == (300, 500, 3)
    box = plot_box(img)  # the axis now runs from 100 Hz
    assert brightest_row(img, box, 0.2, 0.8) == pytest.approx(row_of(1000.0, box, fmin=100.0), abs=3)
    assert abs(brightest_row(img, box, 0.2, 0.8) - row_of(1000.0, box)) > 20  # not where a 20 Hz axis has it


def test_spectrogram_long_file_is_pooled_to_the_width(tmp_path):
    """More STFT frames than 2 per pixel column: they are max-pooled, the tone stays where it is."""
    src = write(tmp_path / "long.wav", two_tones(500.0, 500.0, seconds=60.0, amp=0.3), subtype="PCM_16")
    out = tmp_path / "long.png"
    save_spectrogram(src, str(out), width=300, height=200, title="")
    img = load_png(out)
    assert img.shape == (200, 300, 3)
    box = plot_box(img)
    assert brightest_row(img, box, 0.05, 0.95) == pytest.approx(row_of(500.0, box), abs=2)


# ---- waveform ------------------------------------------------------------------------------------


def waveform_axes(img: np.ndarray) -> list[tuple[int, int, int, int]]:
    """(top, bottom, left, right) of each channel's axes, top to bottom, from the black frame lines."""
    dark = np.all(img < 60, axis=2)
    hs = lines(dark, axis=1, frac=0.5)
    vs = lines(dark, axis=0, frac=0.3)
    assert len(hs) % 2 == 0 and len(vs) == 2, (hs, vs)
    return [(hs[i], hs[i + 1], vs[0], vs[1]) for i in range(0, len(hs), 2)]


def reach(img: np.ndarray, ax, x_from: float, x_to: float) -> tuple[float, float]:
    """(highest, lowest) amplitude drawn in blue between fractions of an axes' width, read from the
    pixels on the axes' -1.05..1.05 scale (0 = no blue pixel off the zero line)."""
    top, bottom, left, right = ax
    a, b = left + int(x_from * (right - left)), left + int(x_to * (right - left))
    rgb = img[top + 2:bottom - 1, a:b].astype(int)
    blue = (rgb[..., 2] > 120) & (rgb[..., 2] - rgb[..., 0] > 60)
    ys = np.nonzero(blue.any(axis=1))[0] + top + 2
    if not len(ys):
        return 0.0, 0.0
    centre, half = (top + bottom) / 2, (bottom - top) / 2
    return (centre - ys.min()) / half * 1.05, (centre - ys.max()) / half * 1.05


def test_waveform_through_the_cli_draws_the_signal_where_it_is(tmp_path):
    """Silence then a 0.5-peak sine: nothing drawn off the zero line in the first half, +-0.5 after."""
    t = np.arange(SR) / SR
    x = np.where(t < 0.5, 0.0, 0.5 * np.sin(2 * np.pi * 50.0 * t))[:, None]
    src = write(tmp_path / "mono.wav", x, subtype="FLOAT")
    out = tmp_path / "w.png"
    r = subprocess.run([sys.executable, "-m", "livehost", "tools", "waveform", src, "-o", str(out)],
                       capture_output=True, text=True, timeout=300, cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"wrote {out} (1200x400)"
    img = load_png(out)
    assert img.shape == (400, 1200, 3)
    (ax,) = waveform_axes(img)  # one channel, one axes
    hi, lo = reach(img, ax, 0.05, 0.45)
    assert abs(hi) < 0.03 and abs(lo) < 0.03  # only the zero line
    hi, lo = reach(img, ax, 0.55, 0.95)
    assert hi == pytest.approx(0.5, abs=0.03) and lo == pytest.approx(-0.5, abs=0.03)


def test_waveform_stereo_left_on_top(tmp_path):
    t = np.arange(SR // 2) / SR
    x = np.stack([0.8 * np.sin(2 * np.pi * 40.0 * t), 0.25 * np.sin(2 * np.pi * 40.0 * t)], axis=1)
    out = tmp_path / "st.png"
    rc = run_cli(["waveform", write(tmp_path / "st.wav", x, subtype="FLOAT"), "-o", out, "--width", "800",
                 "--height", "500"])
    assert rc == 0
    img = load_png(out)
    assert img.shape == (500, 800, 3)
    left, right = waveform_axes(img)
    assert left[0] < right[0]
    assert reach(img, left, 0.1, 0.9) == pytest.approx((0.8, -0.8), abs=0.04)
    assert reach(img, right, 0.1, 0.9) == pytest.approx((0.25, -0.25), abs=0.04)


def test_waveform_direct_size(tmp_path):
    out = tmp_path / "tiny.png"
    assert save_waveform(write(tmp_path / "a.wav", two_tones(100.0, 100.0, 0.2)), str(out), 120, 80)["width"] == 120
    assert load_png(out).shape == (80, 120, 3)


def test_picture_errors(tmp_path):
    src = write(tmp_path / "a.wav", two_tones(100.0, 100.0, 0.1))
    with pytest.raises(LivehostError, match="must be a .png file"):
        save_spectrogram(src, str(tmp_path / "a.jpg"))
    with pytest.raises(LivehostError, match="size 20x600 must be 50..10000"):
        save_waveform(src, str(tmp_path / "a.png"), width=20, height=600)
    with pytest.raises(LivehostError, match="cannot write the picture"):
        save_waveform(src, str(tmp_path / "no" / "such" / "dir.png"))
    with pytest.raises(LivehostError, match="no such file"):
        save_spectrogram(str(tmp_path / "missing.wav"), str(tmp_path / "m.png"))
