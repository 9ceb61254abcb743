"""Training audio: a piece the project can regenerate, and reading a performer's files for training.

:func:`render` is a minimalist arpeggio piece in 19-tone equal temperament.

Rendered by numpy additive synthesis (no synth node, no samples): four chords of 19-EDO (steps of
1200/19 cents above 196 Hz) are arpeggiated in repeating eight-note cells, Reich-style; every four bars
one note of the cell shifts, so the piece changes slowly.  Each note is a few harmonic partials
(amplitude ~ 1/k, slightly brighter on accented notes) under an exponential decay with a 3 ms attack.

    python -m livehost.ml.generator.trainaudio --out data/arp19.wav --seconds 60 [--sr 16000] [--seed 0]

The output is deterministic for a given seed; a mono float32 WAV at ``--sr`` Hz, peak about 0.5.

:func:`load_audio` reads a file or a folder of files as the trainer (and the closeness measure of a
trained model, :mod:`.closeness`) take them: mono, at the model rate, with each file's sha256.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from livehost import audiofile
from livehost.errors import LivehostError
from livehost.ml.card import sha256_file

AUDIO_EXT = (".wav", ".flac", ".ogg")  #: training audio files a folder is searched for

EDO = 19  #: steps per octave of the tuning
BASE_HZ = 196.0  #: frequency of step 0 (Hz)
#: Chords in 19-EDO steps above BASE_HZ (a neutral-ish progression: 19-EDO thirds are 5 and 6 steps).
CHORDS = ((0, 6, 11, 19, 25), (3, 8, 14, 22, 27), (-2, 5, 11, 17, 24), (1, 6, 12, 20, 26))
BPM = 132.0  #: tempo, quarter notes per minute (notes are eighths)


def step_hz(step: float) -> float:
    """Frequency (Hz) of a 19-EDO step above :data:`BASE_HZ`."""
    return BASE_HZ * 2.0 ** (step / EDO)


def render(seconds: float = 60.0, sr: int = 16000, seed: int = 0) -> np.ndarray:
    """The piece as mono float64 samples (linear amplitude, peak about 0.5), ``seconds`` long."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    y = np.zeros(n + sr)
    note_s = 60.0 / BPM / 2.0
    cell = [0, 2, 1, 3, 4, 3, 1, 2]
    t_note = np.arange(int(1.2 * sr)) / sr
    k = 0
    t = 0.0
    while t < seconds:
        bar = k // 8
        chord = CHORDS[(bar // 2) % len(CHORDS)]
        pattern = list(cell)
        shift = (bar // 4) % 8
        pattern[shift] = (pattern[shift] + 1 + (bar // 32)) % len(chord)
        step = chord[pattern[k % 8]]
        accent = 1.0 if k % 8 == 0 else (0.8 if k % 4 == 0 else 0.6)
        f0 = step_hz(step) * (1.0 + 0.0005 * rng.standard_normal())
        dur = note_s * (2.5 if k % 8 == 0 else 1.6)
        env = np.exp(-t_note / (0.35 * dur)) * np.minimum(1.0, t_note / 0.003)
        note = np.zeros_like(t_note)
        for p in range(1, 7):
            fp = f0 * p
            if fp > 0.45 * sr:
                break
            amp = (1.0 / p) * (1.0 + 0.4 * (accent - 0.6) * (p - 1))
            penv = env ** (1.0 + 0.35 * (p - 1))
            note += amp * penv * np.sin(2 * np.pi * fp * t_note + rng.uniform(0, 2 * np.pi))
        i0 = int(round(t * sr))
        seg = note[:max(0, min(len(note), len(y) - i0))]
        y[i0:i0 + len(seg)] += accent * seg
        t += note_s
        k += 1
    y = y[:n]
    # a low drone on the chord root, slowly breathing
    tt = np.arange(n) / sr
    y += 0.12 * np.sin(2 * np.pi * step_hz(-19) * tt) * (0.6 + 0.4 * np.sin(2 * np.pi * tt / 7.5))
    return 0.5 * y / max(1e-9, np.max(np.abs(y)))


def load_audio(src: str | os.PathLike, sr: int) -> tuple[np.ndarray, list[dict]]:
    """Mono float64 audio at ``sr`` Hz from a file or every audio file of a folder (sorted, joined);
    returns ``(samples, [{path, sha256, seconds}, ...])`` (seconds at ``sr``)."""
    p = Path(src)
    if p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.suffix.lower() in AUDIO_EXT)
        if not files:
            raise LivehostError(f"{p}: no audio files (.wav, .flac, .ogg) in this folder")
    elif p.is_file():
        files = [p]
    else:
        raise LivehostError(f"{p}: training audio not found")
    parts, info = [], []
    for f in files:
        x, _ = audiofile.read(f, sr=sr, stereo=False)
        y = x.mean(axis=1)
        parts.append(y)
        info.append({"path": str(f), "sha256": sha256_file(f), "seconds": round(len(y) / sr, 3)})
    return np.concatenate(parts), info


def main(argv=None) -> int:
    """Command line: write the piece to ``--out``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="output audio file (.wav/.flac)")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--sr", type=int, default=16000, help="sample rate (Hz)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    y = render(a.seconds, a.sr, a.seed)
    audiofile.write(a.out, y[:, None].astype(np.float32), a.sr)
    print(f"wrote {a.out}: {a.seconds:g} s at {a.sr} Hz (19-EDO arpeggios)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
