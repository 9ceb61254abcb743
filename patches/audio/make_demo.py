"""Regenerate ``demo.flac``: an 8 s plucked-string phrase (Karplus-Strong), numpy only, seeded.

Run: python patches/audio/make_demo.py   (writes patches/audio/demo.flac, 48 kHz stereo, 16-bit)
"""

from pathlib import Path

import numpy as np
import soundfile as sf

SR = 48000


def pluck(f_hz: float, seconds: float, rng, decay: float = 0.996) -> np.ndarray:
    """A Karplus-Strong string at ``f_hz`` Hz lasting ``seconds`` s (peak about 1)."""
    period = int(round(SR / f_hz))
    buf = rng.uniform(-1, 1, period)
    out = np.empty(int(seconds * SR))
    for i in range(len(out)):
        j = i % period
        nxt = buf[(j + 1) % period]
        out[i] = buf[j]
        buf[j] = decay * 0.5 * (buf[j] + nxt)
    return out


def main() -> None:
    rng = np.random.default_rng(2026)
    a4 = 440.0
    # A minor pentatonic phrase: (semitones from A3, start beat, pan)
    notes = [(0, 0, -0.3), (3, 1, 0.2), (7, 2, -0.1), (10, 3, 0.3), (12, 4, 0.0), (10, 5, 0.2), (7, 6, -0.2),
             (5, 7, 0.1), (3, 8, -0.3), (0, 10, 0.0), (7, 10, 0.3), (12, 12, -0.1), (15, 13, 0.2), (12, 14, 0.0)]
    beat = 0.5
    total = int(8.0 * SR)
    y = np.zeros((total, 2))
    for semis, start, pan in notes:
        f = a4 / 2 * 2 ** (semis / 12)
        s = pluck(f, 1.6, rng)
        i0 = int(start * beat * SR)
        n = min(len(s), total - i0)
        gl, gr = np.cos((pan + 1) * np.pi / 4), np.sin((pan + 1) * np.pi / 4)
        y[i0:i0 + n, 0] += s[:n] * gl
        y[i0:i0 + n, 1] += s[:n] * gr
    y *= 0.5 / np.abs(y).max()
    fade = np.linspace(1, 0, SR // 4)
    y[-len(fade):] *= fade[:, None]
    sf.write(Path(__file__).with_name("demo.flac"), y, SR, subtype="PCM_16")


if __name__ == "__main__":
    main()
