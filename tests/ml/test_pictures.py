"""The classifier's confusion-matrix PNG and the generator's stage spectrogram PNG, read back with
matplotlib's PNG reader: the grid has one cell per class pair shaded by its row share on the white ->
dark blue scale of matplotlib's "Blues" ends; a sine's row in the stage picture sits at its frequency."""

from __future__ import annotations

import numpy as np
import pytest

from livehost.ml.card import confusion_png
from livehost.ml.generator.train import labelled_png, spectrogram_rgb
from tests.pngcheck import check_confusion_picture, grid_lines, load_png, luminance


def test_confusion_png_draws_each_cell_by_its_row_share(tmp_path):
    labels = ["blues", "jazz", "metal"]
    m = [[10, 0, 0], [5, 5, 0], [0, 2, 8]]
    out = confusion_png(tmp_path / "c.png", np.array(m), labels, title="test 3x3")
    assert out == tmp_path / "c.png"
    img = check_confusion_picture(out, m, labels)
    # one more class: one more cell row and column, the same cell size
    labels4 = labels + ["pop"]
    m4 = [[10, 0, 0, 0], [5, 5, 0, 0], [0, 2, 8, 0], [1, 1, 1, 1]]
    img4 = check_confusion_picture(confusion_png(tmp_path / "c4.png", np.array(m4), labels4), m4, labels4)
    cell = np.diff(grid_lines(img)[0])[0]
    assert img4.shape[0] - img.shape[0] == cell and img4.shape[1] - img.shape[1] == cell


def test_confusion_png_empty_row_is_white(tmp_path):
    """A class never seen (row sum 0) draws an all-white row instead of dividing by zero."""
    labels = ["a", "b"]
    m = [[3, 1], [0, 0]]
    check_confusion_picture(confusion_png(tmp_path / "e.png", np.array(m), labels), m, labels)


# ---- the generator's stage picture ----------------------------------------------------------------


def tone(f_hz: float, seconds: float = 1.0, sr: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return 0.5 * np.sin(2 * np.pi * f_hz * t)


def brightest_rows(img: np.ndarray) -> np.ndarray:
    """Per column, the row of the brightest pixel."""
    return np.argmax(luminance(img), axis=0)


def test_stage_picture_stacks_labelled_spectrograms(tmp_path):
    """Two panels (2 kHz and 5 kHz sines at 16 kHz): each under its label, its brightest row where a
    linear 0..8 kHz axis (0 Hz at the bottom) puts the sine."""
    sr, height = 16000, 160
    panels = [("two khz", spectrogram_rgb(tone(2000.0), sr, height)),
              ("five khz", spectrogram_rgb(tone(5000.0, 0.5), sr, height))]
    out = labelled_png(tmp_path / "stages.png", panels)
    img = load_png(out)
    frames = panels[0][1].shape[1]
    assert frames == 1 + 16000 // 256  # one STFT column per hop (256 samples at 16 kHz)
    strip, body = 22, height + 6
    assert img.shape == (2 * (strip + body), frames + 16, 3)
    for k, (label, _) in enumerate(panels):
        y0 = k * (strip + body)
        assert (luminance(img[y0:y0 + strip]) < 100).sum() >= 20 * len(label.replace(" ", ""))  # text
        pic = img[y0 + strip:y0 + strip + height, 8:8 + panels[k][1].shape[1]]
        f = (2000.0, 5000.0)[k]
        want = (height - 1) * (1 - f / (sr / 2))
        rows = brightest_rows(pic)[4:-4]  # the first/last frames see the zero padding
        assert np.median(rows) == pytest.approx(want, abs=1.0), (k, np.median(rows), want)
        assert luminance(pic).max() > 200 and np.median(luminance(pic)) < 60  # bright line, dark rest
    # the shorter panel is padded white on the right
    y0 = strip + body + strip
    assert np.all(img[y0:y0 + height, 8 + panels[1][1].shape[1] + 1:] == 255)
