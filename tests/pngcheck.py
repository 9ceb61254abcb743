"""Reading livehost's pictures back for tests: matplotlib's PNG reader (an independent decoder), and
finding the parts of a picture (a plot's frame, a confusion matrix's grid) from its pixels alone."""

from __future__ import annotations

import numpy as np


def load_png(path) -> np.ndarray:
    """The PNG at ``path`` as an ``(height, width, 3)`` uint8 RGB array (alpha dropped), read by
    ``matplotlib.image.imread``; fails unless the file is a PNG."""
    import matplotlib.image

    with open(path, "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    img = matplotlib.image.imread(str(path))
    if img.dtype != np.uint8:  # imread gives floats 0..1 for 8-bit PNGs
        img = np.round(img * 255.0).astype(np.uint8)
    assert img.ndim == 3 and img.shape[2] in (3, 4), img.shape
    return img[:, :, :3]


def luminance(img: np.ndarray) -> np.ndarray:
    """Rec. 601 luma of an RGB uint8 image, 0..255 as float."""
    return img[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[(first, last)]`` index ranges (inclusive) where the 1-D boolean ``mask`` is True."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    d = np.diff(m.astype(np.int8))
    return list(zip(np.nonzero(d == 1)[0], np.nonzero(d == -1)[0] - 1))


def lines(mask2d: np.ndarray, axis: int, frac: float) -> list[int]:
    """Centres of the straight lines in a boolean image: rows (``axis=1``) or columns (``axis=0``)
    where more than ``frac`` of the pixels are set, adjacent rows/columns merged into one line."""
    share = mask2d.mean(axis=axis)
    return [int(round((a + b) / 2)) for a, b in runs(share > frac)]


def grid_lines(img: np.ndarray, color=(200, 200, 200)) -> tuple[list[int], list[int]]:
    """The rows and the columns of a grid drawn in ``color`` (a confusion matrix's cell borders): each
    line is a row/column holding at least half as many grid pixels as the fullest one (adjacent
    ones merged; the first index of each is returned)."""
    on = np.all(img == np.array(color, np.uint8), axis=2)
    per_row, per_col = on.sum(axis=1), on.sum(axis=0)
    return ([int(a) for a, _ in runs(per_row >= per_row.max() / 2)],
            [int(a) for a, _ in runs(per_col >= per_col.max() / 2)])


def dominant_color(block: np.ndarray) -> tuple[int, int, int]:
    """The most frequent RGB colour in a block of pixels (a cell's fill, ignoring its text)."""
    flat = block.reshape(-1, 3)
    colors, counts = np.unique(flat, axis=0, return_counts=True)
    return tuple(int(v) for v in colors[np.argmax(counts)])


def blues_ends() -> tuple[np.ndarray, np.ndarray]:
    """RGB 0..255 of share 0 (white) and share 1 (dark blue): the two ends of matplotlib's "Blues"."""
    import matplotlib

    cmap = matplotlib.colormaps["Blues"]
    return np.array(cmap(0.0)[:3]) * 255, np.array(cmap(1.0)[:3]) * 255


def check_confusion_picture(path, matrix, labels) -> np.ndarray:
    """Assert that the PNG at ``path`` draws ``matrix`` (rows true, columns predicted): an n x n grid
    whose cell (i, j) is filled with the colour of share ``matrix[i, j] / row sum`` between the
    ends of the Blues scale, each row labelled (ink left of the grid). Returns the image."""
    m = np.asarray(matrix, np.float64)
    n = len(labels)
    img = load_png(path)
    hl, vl = grid_lines(img)
    assert len(hl) == n + 1 and len(vl) == n + 1, (hl, vl)
    assert len(set(np.diff(hl)) | set(np.diff(vl))) == 1  # square cells, evenly spaced
    white, blue = blues_ends()
    share = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    for i in range(n):
        for j in range(n):
            cell = img[hl[i] + 1:hl[i + 1], vl[j] + 1:vl[j + 1]]
            want = white + share[i, j] * (blue - white)
            got = np.array(dominant_color(cell), float)
            assert np.abs(got - want).max() <= 1.5, (i, j, got, want)
        band = img[hl[i] + 1:hl[i + 1], :vl[0] - 2]
        assert (luminance(band) < 100).sum() >= 10, f"row {i} ({labels[i]}) has no label"
    return img
