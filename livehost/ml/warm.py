"""Compile the models' numba kernels ahead (``livehost warm``), so no worker compiles on stage.

The classifier worker computes features (:mod:`livehost.ml.features`, numba) and the generator worker
reconstructs phase (:mod:`livehost.ml.generator.rtpghi`) and resamples (``StreamResampler``) — the
generator even does so before the first audio block, to fill its ring.  Each function here runs that
code once on a little noise with the shipped models, so numba's on-disk cache holds every kernel the
shipped patches need.
"""

from __future__ import annotations

import numpy as np

from livehost.ml.classifier import GenreModel, default_model_path
from livehost.ml.features import SR
from livehost.ml.generator.worker import FrameGenerator, StreamResampler
from livehost.ml.resample import resample_to
from livehost.paths import package_root

GENERATOR_MODEL = "models/generator-arp19.onnx"  #: the shipped generator (relative to the livehost root)


def _noise(seconds: float, sr: float) -> np.ndarray:
    """Quiet white noise (float64, -26 dBFS RMS), ``seconds`` long at ``sr`` Hz."""
    return 0.05 * np.random.default_rng(0).standard_normal(int(seconds * sr))


def warm_classifier(engine_sr: float = 48000.0) -> None:
    """One classification of 3 s of noise, the way the live worker does it (resample, features, model)."""
    model = GenreModel(default_model_path())
    model.predict_audio(resample_to(_noise(3.0, engine_sr), engine_sr, SR))


def warm_generator(engine_sr: float = 48000.0) -> None:
    """Half a second of the shipped generator, resampled to ``engine_sr`` Hz as its worker does."""
    gen = FrameGenerator(package_root() / GENERATOR_MODEL)
    rs = StreamResampler(gen.sr, engine_sr)
    rs.process(gen.generate(0.5))
