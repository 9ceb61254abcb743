"""Reading pictures as grey levels: PNG and JPEG with Pillow when it is installed, else PNG only with the
small reader here (zlib + the five PNG row filters; 1/2/4/8/16-bit grey, grey+alpha, RGB, RGBA and
palette images, not interlaced).

:func:`read_gray` returns brightness as float64 ``(rows, columns)`` in 0..1 (0 black, 1 white), rows top
to bottom; colour is weighted ``0.299 R + 0.587 G + 0.114 B`` and alpha composited over black.
"""

from __future__ import annotations

import os
import struct
import zlib

import numpy as np

from livehost.errors import LivehostError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class ImageError(LivehostError):
    """A picture that cannot be read: names the file."""


def read_gray(path: str, use_pillow: bool = True) -> np.ndarray:
    """Brightness of the picture at ``path`` as float64 (rows, cols) in 0..1. Raises ImageError."""
    if not os.path.isfile(path):
        raise ImageError(f"{path}: cannot read image: no such file")
    if use_pillow:
        try:
            from PIL import Image
        except ImportError:
            Image = None
        if Image is not None:
            try:
                with Image.open(path) as im:
                    im.load()
                    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                        rgba = np.asarray(im.convert("RGBA"), np.float64) / 255.0
                        return _gray(rgba[..., :3]) * rgba[..., 3]
                    if im.mode in ("I;16", "I;16B", "I", "F"):
                        a = np.asarray(im, np.float64)
                        return a / (65535.0 if im.mode.startswith("I") else max(1.0, a.max()))
                    return np.asarray(im.convert("L"), np.float64) / 255.0
            except (OSError, ValueError, SyntaxError) as e:
                raise ImageError(f"{path}: cannot read image: {str(e).splitlines()[0] if str(e) else e}") from None
    with open(path, "rb") as f:
        data = f.read()
    if not data.startswith(PNG_SIGNATURE):
        raise ImageError(f"{path}: cannot read image: not a PNG file (install Pillow to read JPEG)")
    try:
        return decode_png(data)
    except (ValueError, zlib.error, struct.error, IndexError) as e:
        raise ImageError(f"{path}: cannot read image: {e}") from None


def _gray(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def decode_png(data: bytes) -> np.ndarray:
    """Decode PNG bytes to brightness float64 (rows, cols) in 0..1. Raises ValueError for what it cannot read."""
    if not data.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG file")
    pos = 8
    idat = []
    palette = None
    trns = None
    hdr = None
    while pos + 8 <= len(data):
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if len(body) != length:
            raise ValueError("truncated chunk")
        pos += 12 + length
        if ctype == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif ctype == b"PLTE":
            palette = np.frombuffer(body, np.uint8).reshape(-1, 3).astype(np.float64) / 255.0
        elif ctype == b"tRNS":
            trns = body
        elif ctype == b"IDAT":
            idat.append(body)
        elif ctype == b"IEND":
            break
    if hdr is None or not idat:
        raise ValueError("no image header or no image data")
    w, h, depth, ctype, _comp, _filt, interlace = hdr
    if interlace:
        raise ValueError("interlaced PNG is not supported without Pillow")
    if ctype not in _CHANNELS or depth not in (1, 2, 4, 8, 16):
        raise ValueError(f"unsupported PNG colour type {ctype} / bit depth {depth}")
    ch = _CHANNELS[ctype]
    bits_px = ch * depth
    stride = (w * bits_px + 7) // 8
    bpp = max(1, bits_px // 8)
    raw = zlib.decompress(b"".join(idat))
    if len(raw) < h * (stride + 1):
        raise ValueError("image data is shorter than the header says")
    rows = np.zeros((h, stride), np.uint8)
    prev = np.zeros(stride, np.int32)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = np.frombuffer(raw, np.uint8, stride, y * (stride + 1) + 1).astype(np.int32)
        cur = _unfilter(f, line, prev, bpp)
        rows[y] = cur
        prev = cur
    if depth == 16:
        vals = rows.view(">u2").reshape(h, -1)[:, :w * ch].astype(np.float64) / 65535.0
    elif depth == 8:
        vals = rows[:, :w * ch].astype(np.float64)
        vals = vals if ctype == 3 else vals / 255.0
    else:
        bits = np.unpackbits(rows, axis=1)[:, :w * ch * depth].reshape(h, w * ch, depth)
        ints = (bits * (1 << np.arange(depth - 1, -1, -1))).sum(axis=2).astype(np.float64)
        vals = ints if ctype == 3 else ints / ((1 << depth) - 1)
    px = vals.reshape(h, w, ch)
    if ctype == 3:
        if palette is None:
            raise ValueError("palette image without a palette")
        idx = px[..., 0].astype(int)
        rgb = palette[np.clip(idx, 0, len(palette) - 1)]
        alpha = np.ones(len(palette))
        if trns:
            t = np.frombuffer(trns, np.uint8).astype(np.float64) / 255.0
            alpha[:len(t)] = t[:len(palette)]
        return _gray(rgb) * alpha[np.clip(idx, 0, len(palette) - 1)]
    if ctype == 0:
        return px[..., 0]
    if ctype == 4:
        return px[..., 0] * px[..., 1]
    if ctype == 2:
        return _gray(px)
    return _gray(px[..., :3]) * px[..., 3]


def _unfilter(f: int, line: np.ndarray, prev: np.ndarray, bpp: int) -> np.ndarray:
    if f == 0:
        return line
    if f == 2:
        return (line + prev) & 0xFF
    out = np.zeros_like(line)
    n = len(line)
    if f == 1:  # Sub: a running sum along each byte lane
        for j in range(min(bpp, n)):
            out[j::bpp] = np.cumsum(line[j::bpp]) & 0xFF
        return out
    if f == 3:
        for i in range(n):
            a = out[i - bpp] if i >= bpp else 0
            out[i] = (line[i] + ((a + prev[i]) >> 1)) & 0xFF
        return out
    if f == 4:
        for i in range(n):
            a = int(out[i - bpp]) if i >= bpp else 0
            b = int(prev[i])
            c = int(prev[i - bpp]) if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            out[i] = (line[i] + pred) & 0xFF
        return out
    raise ValueError(f"unknown PNG row filter {f}")
