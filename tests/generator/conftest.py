"""Fixtures of the generator tests: a tiny model trained in seconds on a synthetic signal."""

from __future__ import annotations

import numpy as np
import pytest

from livehost import audiofile


def synthetic(seconds: float = 8.0, sr: int = 16000) -> np.ndarray:
    """A short arpeggio (mono float64) from the project's own training-audio renderer."""
    from livehost.ml.generator.trainaudio import render

    return render(seconds, sr, seed=1)


def _train(tmp_path_factory, kind: str, **kw):
    pytest.importorskip("torch")
    from livehost.ml.generator.train import train

    d = tmp_path_factory.mktemp(f"gen-{kind}")
    wav = d / "train.wav"
    audiofile.write(wav, synthetic()[:, None].astype(np.float32), 16000)
    out = d / f"generator-tiny-{kind}.onnx"
    opts = dict(kind=kind, stages=2, epochs=4, seed=0, hidden=32, layers=1, seq=32, batch=8, clip_s=1.0,
                quiet=True, command="test")
    opts.update(kw)
    card = train(str(wav), str(out), **opts)
    return out, card


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """(path, card) of a tiny spectral model (1 x 32 LSTM, 4 epochs on 8 s of arpeggio)."""
    return _train(tmp_path_factory, "spectral", n_mels=40)


@pytest.fixture(scope="session")
def tiny_waveform_model(tmp_path_factory):
    """(path, card) of a tiny waveform model."""
    return _train(tmp_path_factory, "waveform")
