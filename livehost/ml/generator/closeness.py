"""How close a generator's audio is to its training audio: a log-mel spectral distance in dB.

The generator free-runs, so its audio is not aligned in time with any recording; the measure compares
sets of frames instead.  Each signal becomes log-mel frames in dB (:func:`analysis_setup`: a Hann STFT
of 1024 samples at 16 kHz, hop 256, 80 Slaney mel bands, the shipped generator's own features, whatever
the model's; power in dB, floored :data:`FLOOR_DB` below the loudest held-out band so that near-silent
bands do not dominate).  The
distance between two frames is the RMS over mel bands of their dB difference.  Between a signal's
frames ``G`` and the held-out frames ``H`` (:func:`distances`):

- ``to_held_out_db``: mean over ``G`` of the distance to the nearest frame of ``H`` ("does every
  generated frame sound like some held-out frame?");
- ``from_held_out_db``: mean over ``H`` of the distance to the nearest frame of ``G`` ("is every
  held-out frame covered by something generated?": a generator stuck on one phrase, silence, or
  noise fail this one);
- ``db``: the mean of the two (a symmetric Chamfer distance), the headline figure.

The trainer writes the figures into the model card (``closeness``); for a model trained before that,
the same measurement is added to its card by::

    python -m livehost.ml.generator.closeness --model models/generator-NAME.onnx --audio TRAINING_AUDIO --write-card

The reference is the *held-out* part of the training audio (the frames the trainer validates on, never
trained on).  Two baselines put the number on a scale:

- ``noise``: Gaussian noise with the training part's long-term power spectrum (its phase-randomised
  surrogate, :func:`shaped_noise`: what a model that learned only that spectrum would give): a
  generator should be clearly closer;
- ``training``: an excerpt of the training part itself, of the generated length (the recording the
  model learned from: about the best to expect).

Measured on the shipped ``models/generator-arp19.onnx`` (20 s, seeds 0-2): generated 7.0-7.5 dB
(``from_held_out_db`` 7.3-8.0), noise 15.4-15.6 (22.2-22.5), training excerpt 6.6 (4.5).  For scale on
the same held-out audio: a 0.5 s training loop repeated scores 7.0 but 10.7 from the held-out frames,
a 196 Hz sine 21.1, near-silence 25.1.  The headline alone does not tell a loop from a generator; the
coverage direction does.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

from livehost.errors import LivehostError
from livehost.ml.card import write_card
from livehost.ml.generator import rtpghi
from livehost.ml.generator.model import FeatureSetup
from livehost.ml.generator.trainaudio import load_audio
from livehost.ml.generator.worker import FrameGenerator, card_path, load_card

#: Floor of the log-mel frames, dB below the loudest mel band of the held-out frames.
FLOOR_DB = 80.0
#: Seconds of generated audio the trainer measures (the card's ``closeness``).
CARD_SECONDS = 20.0
#: Seconds at the start of a generated clip left out (the reconstruction's start-up silence).
SKIP_S = 0.5
#: Largest difference between the card's normalisation and that of audio offered as the model's
#: training audio (feature units; float32 rounding is ~1e-6).
MEAN_TOL = 1e-3
_TINY = 1e-20


def log_mel_db(y: np.ndarray, setup: FeatureSetup) -> np.ndarray:
    """Log-mel power frames of mono audio ``y`` at ``setup.sr`` Hz: ``(frames, n_mels)`` in dB
    (``10 log10`` of the mel-weighted STFT power; not floored).  Spectral setups only."""
    if setup.kind != "spectral" or not setup.n_mels:
        raise ValueError("log_mel_db needs a spectral setup with mel bands")
    S = np.abs(rtpghi.stft(np.asarray(y, np.float64), setup.n_fft, setup.hop)) ** 2
    return 10.0 * np.log10(S @ setup.mel().T + _TINY)


def nearest_db(A: np.ndarray, B: np.ndarray) -> float:
    """Mean over the rows of ``A`` of the distance (dB, RMS over bands) to the nearest row of ``B``."""
    A, B = np.asarray(A, np.float64), np.asarray(B, np.float64)
    d2 = (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2.0 * A @ B.T
    return float(np.mean(np.sqrt(np.maximum(d2.min(axis=1), 0.0) / A.shape[1])))


def shaped_noise(ref: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """``n`` samples of Gaussian noise with the long-term power spectrum of ``ref`` (mono, linear
    amplitude): ``ref``'s Fourier magnitudes with uniformly random phases (a phase-randomised
    surrogate: stationary, its periodogram exactly ``ref``'s), the middle ``n`` samples of it (repeated
    circularly when ``ref`` is shorter)."""
    ref = np.asarray(ref, np.float64)
    X = np.abs(np.fft.rfft(ref))
    ph = np.random.default_rng(seed).uniform(-np.pi, np.pi, len(X))
    ph[0] = 0.0
    if len(ref) % 2 == 0:
        ph[-1] = 0.0  # the Nyquist bin of an even length is real
    s = np.fft.irfft(X * np.exp(1j * ph), len(ref))
    if n > len(s):
        return np.resize(s, n)
    start = (len(s) - n) // 2
    return s[start:start + n]


def analysis_setup(sr: int) -> FeatureSetup:
    """The STFT and mel bands of the measure at ``sr`` Hz: 80 Slaney mel bands from 0 Hz to ``sr / 2``
    over a Hann STFT of 1024 samples at 16 kHz (scaled with the rate to a power of two), hop a quarter
    of it: the shipped generator's own features, whatever the model's."""
    n_fft = int(2 ** round(np.log2(1024 * sr / 16000)))
    return FeatureSetup(kind="spectral", sr=int(sr), hop=n_fft // 4, n_fft=n_fft, n_mels=80, fmin=0.0,
                        fmax=sr / 2.0)


def held_out_split(y: np.ndarray, hop: int, val_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """(training part, held-out part) of training audio ``y`` as the trainer splits its frames: the
    last ``val_frames`` frames (frame ``k`` centred on sample ``k * hop``) are held out."""
    n_frames = 1 + len(y) // hop
    cut = (n_frames - int(val_frames)) * hop
    if not 0 < cut < len(y):
        raise ValueError(f"{val_frames} held-out frames do not fit {len(y)} samples at hop {hop}")
    return y[:cut], y[cut:]


def distances(G: np.ndarray, H: np.ndarray) -> dict:
    """``db`` (the symmetric mean of the two directions), ``to_held_out_db`` (``G`` to ``H``) and
    ``from_held_out_db`` (``H`` to ``G``: how well ``G`` covers the held-out frames) of two frame sets."""
    to, frm = nearest_db(G, H), nearest_db(H, G)
    return {"db": round(0.5 * (to + frm), 3), "to_held_out_db": round(to, 3), "from_held_out_db": round(frm, 3)}


def closeness(generated: np.ndarray, train_part: np.ndarray, held_out: np.ndarray, setup: FeatureSetup,
              seed: int = 0) -> dict:
    """Log-mel distances (dB, :func:`distances`) to the held-out audio of ``generated``, of shaped
    noise (``noise``) and of a training-part excerpt of the same length (``training``); all mono at
    ``setup.sr`` Hz.  ``noise_margin_db = noise.db - generated.db`` (positive: closer than noise);
    lengths in seconds."""
    n = len(generated)
    if n < 4 * setup.n_fft or len(held_out) < 4 * setup.n_fft:
        raise ValueError("closeness needs at least four STFT windows of generated and held-out audio")
    H = log_mel_db(held_out, setup)
    floor = H.max() - FLOOR_DB

    def frames(x):
        return np.maximum(log_mel_db(x, setup), floor)[2:-2]  # the zero-padded edge frames left out

    H = np.maximum(H, floor)[2:-2]
    start = max(0, (len(train_part) - n) // 2)  # from the middle of the training part
    out = {
        "generated": distances(frames(generated), H),
        "noise": distances(frames(shaped_noise(train_part, n, seed)), H),
        "training": distances(frames(train_part[start:start + n]), H),
    }
    out["noise_margin_db"] = round(out["noise"]["db"] - out["generated"]["db"], 3)
    out.update(generated_s=round(n / setup.sr, 3), held_out_s=round(len(held_out) / setup.sr, 3),
               floor_db=FLOOR_DB)
    return out


def measure_model(model_path, train_audio: np.ndarray, val_frames: int, seconds: float = CARD_SECONDS,
                  seed: int = 0) -> dict:
    """:func:`closeness` (with :func:`analysis_setup`) of ``seconds`` generated by a model (seed
    ``seed``, the card's default temperature, the first :data:`SKIP_S` left out) against its training
    audio ``train_audio`` (mono, model rate) split as the trainer split it (its last ``val_frames``
    model frames held out); adds the seed."""
    g = FrameGenerator(model_path, seed=seed)
    y = g.generate(seconds + SKIP_S)[int(SKIP_S * g.sr):]
    train_part, held_out = held_out_split(train_audio, g.hop, val_frames)
    return dict(closeness(y, train_part, held_out, analysis_setup(g.sr), seed=seed), seed=seed)


def measure_trained(model_path: str | os.PathLike, audio: str | os.PathLike,
                    seconds: float = CARD_SECONDS) -> tuple[dict, dict]:
    """``(card, closeness)`` of a trained model measured as the trainer measures it
    (:func:`measure_model` with the card's held-out frames and seed) against its training audio
    ``audio`` (a file or folder).  That it is the training audio is checked on its content (a
    regenerated WAV does not keep its file hash): its training frames' features must give the card's
    normalisation (their mean for a spectral model, their standard deviation for a waveform one)."""
    card = load_card(model_path)
    val = int(card["training_data"]["val_frames"])
    y, _ = load_audio(audio, int(card["sample_rate"]))
    setup = FeatureSetup.from_dict(card["features"])
    frames = setup.analyze(y)[:-val]
    if setup.kind == "spectral":  # as the trainer normalises (float32 frames, float32 mean)
        got, want = frames.mean(axis=0), np.asarray(card["normalization"]["mean"])
    else:
        got, want = np.array([max(1e-4, float(frames.std()))]), np.asarray(card["normalization"]["std"][:1])
    off = float(np.max(np.abs(got - want))) if len(frames) else np.inf
    if not off < MEAN_TOL:
        raise LivehostError(f"{audio}: not the training audio of {model_path} (its training frames' "
                            f"features are {off:.3g} from the normalization in {card_path(model_path)})")
    res = measure_model(model_path, y, val, seconds, seed=int(card.get("seed", 0)))
    return card, res


def add_to_card(model_path: str | os.PathLike, audio: str | os.PathLike, seconds: float = CARD_SECONDS) -> dict:
    """:func:`measure_trained`, written into the card's ``closeness`` (atomically); returns it."""
    card, res = measure_trained(model_path, audio, seconds)
    card["closeness"] = res
    write_card(card_path(model_path), card, indent=1)
    return res


def main(argv=None) -> int:
    """Command line: print a model's closeness to its training audio (JSON); ``--write-card`` stores it."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="generator model (.onnx with its .card.json)")
    ap.add_argument("--audio", required=True, help="its training audio (the file or folder it was trained on)")
    ap.add_argument("--seconds", type=float, default=CARD_SECONDS, help="seconds generated")
    ap.add_argument("--write-card", action="store_true", help="write the result into the model card")
    a = ap.parse_args(argv)
    try:
        res = (add_to_card(a.model, a.audio, a.seconds) if a.write_card
               else measure_trained(a.model, a.audio, a.seconds)[1])
    except LivehostError as e:
        print(f"livehost: {e}", file=sys.stderr)
        return 2
    print(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
