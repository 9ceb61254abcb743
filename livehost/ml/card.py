"""Model cards (``<model>.card.json`` beside ``<model>.onnx``) and the confusion-matrix PNG.

A card says what a classifier expects and how good it is: its labels, its input (kind, feature names
in order, sample rate, window, STFT sizes), its cross-validated accuracy (mean, std, per fold,
confusion matrix), the data it was trained on (sha256), the command, seed and torch version that
reproduce it.  :func:`load_card` validates the fields the runtime relies on.

The PNG is drawn with numpy and written by a minimal PNG encoder (zlib), with a built-in 3x5 pixel
font, so no plotting library is needed.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from livehost.errors import LivehostError

def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes (the training-data hash a model card records)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


CARD_FORMAT = "livehost-genre-card/1"
#: Input kinds a card may declare: the 57 clip features, MFCC patches (lstm), log-mel patches (cnn).
INPUT_KINDS = ("gtzan57", "mfcc_patch", "logmel_patch")
REQUIRED = ("format", "arch", "labels", "input", "sample_rate", "window_s", "n_fft", "hop_length",
            "cv_accuracy_mean", "cv_accuracy_std")


def card_path(model_path: str | os.PathLike) -> Path:
    """The card beside a model: ``models/genre_mlp.onnx`` -> ``models/genre_mlp.card.json``."""
    p = Path(model_path)
    return p.with_name(p.stem + ".card.json")


def png_path(model_path: str | os.PathLike) -> Path:
    """The confusion PNG beside a model: ``models/genre_mlp.onnx`` -> ``models/genre_mlp.confusion.png``."""
    p = Path(model_path)
    return p.with_name(p.stem + ".confusion.png")


def write_card(path: str | os.PathLike, card: dict, indent: int = 2) -> Path:
    """Write ``card`` as JSON indented by ``indent`` spaces (atomically: temporary file, then rename);
    returns the path."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(card, indent=indent) + "\n")
    os.replace(tmp, path)
    return path


def load_card(path: str | os.PathLike) -> dict:
    """Read and validate a card; :class:`LivehostError` naming the file when it is missing, not JSON,
    or lacks a field the runtime needs (labels: unique non-empty strings; a ``gtzan57`` input must list
    exactly :data:`~livehost.ml.features.FEATURE_NAMES` in order)."""
    from livehost.ml.features import FEATURE_NAMES

    path = Path(path)
    if not path.is_file():
        raise LivehostError(f"{path}: model card not found (expected beside the model)")
    try:
        card = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise LivehostError(f"{path}: model card is not valid JSON ({' '.join(str(exc).split())})") from None
    if not isinstance(card, dict):
        raise LivehostError(f"{path}: model card is not a JSON object")
    missing = [k for k in REQUIRED if k not in card]
    if missing:
        raise LivehostError(f"{path}: model card lacks {', '.join(missing)}")
    if card["format"] != CARD_FORMAT:
        raise LivehostError(f"{path}: unknown card format {card['format']!r} (expected {CARD_FORMAT})")
    labels = card["labels"]
    if (not isinstance(labels, list) or len(labels) < 2 or not all(isinstance(s, str) and s for s in labels)
            or len(set(labels)) != len(labels)):
        raise LivehostError(f"{path}: labels must be two or more distinct non-empty strings")
    inp = card["input"]
    if not isinstance(inp, dict) or inp.get("kind") not in INPUT_KINDS:
        raise LivehostError(f"{path}: input.kind must be one of {', '.join(INPUT_KINDS)}")
    if inp["kind"] == "gtzan57" and card.get("feature_names") != list(FEATURE_NAMES):
        raise LivehostError(f"{path}: feature_names are not livehost's 57 GTZAN features in order")
    if card["sample_rate"] != 22050:
        raise LivehostError(f"{path}: sample_rate {card['sample_rate']} is not 22050 Hz")
    return card


# --------------------------------------------------------------------------------------------------
# PNG
# --------------------------------------------------------------------------------------------------


def write_png(path: str | os.PathLike, rgb: np.ndarray) -> Path:
    """Write an 8-bit RGB image ``(height, width, 3)`` (uint8) as a PNG (no filtering, zlib level 9)."""
    rgb = np.ascontiguousarray(rgb, np.uint8)
    h, w, c = rgb.shape
    if c != 3:
        raise ValueError("expected an (h, w, 3) RGB array")
    raw = b"".join(b"\x00" + rgb[i].tobytes() for i in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    Path(path).write_bytes(png)
    return Path(path)


# 3x5 glyphs, rows top to bottom ('#' = ink); letters are drawn as capitals.
_GLYPHS = {
    "a": ".#.|#.#|###|#.#|#.#", "b": "##.|#.#|##.|#.#|##.", "c": ".##|#..|#..|#..|.##",
    "d": "##.|#.#|#.#|#.#|##.", "e": "###|#..|##.|#..|###", "f": "###|#..|##.|#..|#..",
    "g": ".##|#..|#.#|#.#|.##", "h": "#.#|#.#|###|#.#|#.#", "i": "###|.#.|.#.|.#.|###",
    "j": "..#|..#|..#|#.#|.#.", "k": "#.#|#.#|##.|#.#|#.#", "l": "#..|#..|#..|#..|###",
    "m": "#.#|###|###|#.#|#.#", "n": "##.|#.#|#.#|#.#|#.#", "o": ".#.|#.#|#.#|#.#|.#.",
    "p": "##.|#.#|##.|#..|#..", "q": ".#.|#.#|#.#|##.|.##", "r": "##.|#.#|##.|#.#|#.#",
    "s": ".##|#..|.#.|..#|##.", "t": "###|.#.|.#.|.#.|.#.", "u": "#.#|#.#|#.#|#.#|###",
    "v": "#.#|#.#|#.#|#.#|.#.", "w": "#.#|#.#|###|###|#.#", "x": "#.#|#.#|.#.|#.#|#.#",
    "y": "#.#|#.#|.#.|.#.|.#.", "z": "###|..#|.#.|#..|###",
    "0": "###|#.#|#.#|#.#|###", "1": ".#.|##.|.#.|.#.|###", "2": "##.|..#|.#.|#..|###",
    "3": "##.|..#|.#.|..#|##.", "4": "#.#|#.#|###|..#|..#", "5": "###|#..|##.|..#|##.",
    "6": ".##|#..|###|#.#|###", "7": "###|..#|.#.|.#.|.#.", "8": "###|#.#|###|#.#|###",
    "9": "###|#.#|###|..#|##.", ".": "...|...|...|...|.#.", "%": "#..|..#|.#.|#..|..#",
    "-": "...|...|###|...|...", "_": "...|...|...|...|###", " ": "...|...|...|...|...",
    "(": ".#.|#..|#..|#..|.#.", ")": ".#.|..#|..#|..#|.#.", "/": "..#|..#|.#.|#..|#..",
    ":": "...|.#.|...|.#.|...", "+": "...|.#.|###|.#.|...", "=": "...|###|...|###|...",
    "?": "##.|..#|.#.|...|.#.",
}


def _draw_text(img: np.ndarray, x: int, y: int, text: str, scale: int = 2, color=(0, 0, 0)) -> None:
    """Draw ``text`` with its top-left corner at pixel ``(x, y)``; glyphs advance 4*scale pixels."""
    for k, ch in enumerate(text.lower()):
        rows = _GLYPHS.get(ch, _GLYPHS["?"]).split("|")
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                if v == "#":
                    y0 = y + r * scale
                    x0 = x + (4 * k + c) * scale
                    img[max(y0, 0):max(y0 + scale, 0), max(x0, 0):max(x0 + scale, 0)] = color


def text_width(text: str, scale: int = 2) -> int:
    """Pixel width of ``text`` drawn by :func:`_draw_text`."""
    return max(0, 4 * len(text) - 1) * scale


def confusion_png(path: str | os.PathLike, matrix: np.ndarray, labels: list[str], title: str = "") -> Path:
    """Draw a confusion matrix (rows true, columns predicted; counts) as a PNG heat map.

    Each cell is shaded by its row-normalised share (white 0 -> dark blue 1) and shows its count;
    rows are labelled with the class names, columns with their first four letters.
    """
    m = np.asarray(matrix, np.int64)
    n = m.shape[0]
    cell, s = 40, 2
    left = text_width("x" * max(len(s_) for s_ in labels), s) + 16
    top = 64
    W = max(left + n * cell + 12, text_width(title, s) + 16)
    H = top + n * cell + 30
    img = np.full((H, W, 3), 255, np.uint8)
    if title:
        _draw_text(img, 8, 8, title, s)
    _draw_text(img, left, 28, "predicted", s, (90, 90, 90))
    frac = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    lo, hi = np.array([247, 251, 255.0]), np.array([8, 48, 107.0])
    for i in range(n):
        _draw_text(img, left - 8 - text_width(labels[i], s), top + i * cell + cell // 2 - 5, labels[i], s)
        short = labels[i][:4]
        _draw_text(img, left + i * cell + (cell - text_width(short, s)) // 2, top - 14, short, s)
        for j in range(n):
            f = float(frac[i, j])
            col = (lo + f * (hi - lo)).astype(np.uint8)
            y0, x0 = top + i * cell, left + j * cell
            img[y0:y0 + cell, x0:x0 + cell] = col
            img[y0:y0 + cell, x0] = 200
            img[y0, x0:x0 + cell] = 200
            txt = str(int(m[i, j]))
            _draw_text(img, x0 + (cell - text_width(txt, s)) // 2, y0 + cell // 2 - 5, txt, s,
                       (255, 255, 255) if f > 0.5 else (0, 0, 0))
    img[top:top + n * cell, left + n * cell] = 200
    img[top + n * cell, left:left + n * cell + 1] = 200
    _draw_text(img, 8, H - 18, "rows: true genre", s, (90, 90, 90))
    return write_png(path, img)
