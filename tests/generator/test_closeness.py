"""The generator's closeness to its training audio: the log-mel distance against librosa / scipy, its
baselines, and the shipped model measured (and its card checked) against the training piece."""

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import welch
from scipy.spatial.distance import cdist

from livehost import audiofile
from livehost.errors import LivehostError
from livehost.ml.generator import closeness as C
from livehost.ml.generator.model import FeatureSetup
from livehost.ml.generator.trainaudio import render
from livehost.ml.generator.worker import card_path

SR = 16000
ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "models" / "generator-arp19.onnx"


def test_log_mel_db_equals_librosa_melspectrogram():
    librosa = pytest.importorskip("librosa")
    fs = FeatureSetup()
    x = render(2.0, SR, seed=3)
    ref = librosa.feature.melspectrogram(y=x, sr=SR, n_fft=1024, hop_length=256, window="hann", center=True,
                                         pad_mode="constant", power=2.0, n_mels=80, fmin=0.0, fmax=8000.0,
                                         htk=False, norm="slaney").T
    got = C.log_mel_db(x, fs)
    assert got.shape == ref.shape
    ref_db = 10 * np.log10(ref + 1e-20)
    loud = ref_db > ref_db.max() - 100
    assert np.max(np.abs(got - ref_db)[loud]) < 1e-3


def test_nearest_distance_equals_scipy_cdist():
    rng = np.random.default_rng(0)
    A, B = rng.normal(-30, 20, (70, 80)), rng.normal(-30, 20, (40, 80))
    assert C.nearest_db(A, B) == pytest.approx(np.mean(cdist(A, B).min(axis=1)) / np.sqrt(80), rel=1e-9)
    assert C.nearest_db(B, A) == pytest.approx(np.mean(cdist(B, A).min(axis=1)) / np.sqrt(80), rel=1e-9)


def test_a_level_offset_of_3_db_is_a_distance_of_3_db():
    H = np.random.default_rng(1).normal(-30, 20, (50, 80))  # frames ~280 dB apart: the nearest is its twin
    d = C.distances(H + 3.0, H)
    assert d == {"db": 3.0, "to_held_out_db": 3.0, "from_held_out_db": 3.0}
    assert C.distances(H, H)["db"] == 0.0


def test_shaped_noise_has_the_reference_average_spectrum():
    """Welch power spectral densities (scipy, an independent estimator) of the noise and of the
    reference, summed in the 80 mel bands, agree wherever the reference has energy: within 1.5 dB in
    every band (the lowest hold two or three bins: measured 0.5-0.9 dB, seeds 0-2), 0.3 dB on average."""
    fs = FeatureSetup()
    ref = render(20.0, SR, seed=2)
    noise = C.shaped_noise(ref, 15 * SR, seed=4)
    _, p_ref = welch(ref, SR, nperseg=1024)
    _, p_noise = welch(noise, SR, nperseg=1024)
    mel = fs.mel()
    b_ref, b_noise = 10 * np.log10(mel @ p_ref), 10 * np.log10(mel @ p_noise)
    loud = b_ref > b_ref.max() - 60
    assert loud.sum() > 40
    assert np.max(np.abs(b_noise - b_ref)[loud]) < 1.5
    assert np.mean(np.abs(b_noise - b_ref)[loud]) < 0.3
    assert not np.allclose(noise[:SR], ref[:SR], atol=0.05)  # noise, not a copy


def test_held_out_split_is_the_trainers_frame_split():
    """The held-out audio's frames are the trainer's validation frames (``frames[-val:]``); the first
    two differ only where their windows reach back before the cut (zero-padded here)."""
    fs = FeatureSetup()
    y = render(10.0, SR, seed=0)
    frames = fs.analyze(y)
    val = len(frames) // 10
    train_part, held = C.held_out_split(y, fs.hop, val)
    assert len(train_part) + len(held) == len(y) and len(train_part) == (len(frames) - val) * fs.hop
    got = fs.analyze(held)
    assert len(got) == val
    assert np.allclose(got[2:], frames[-val + 2:], atol=1e-4)
    with pytest.raises(ValueError, match="held-out frames"):
        C.held_out_split(y, fs.hop, len(frames) + 5)


@pytest.fixture(scope="module")
def piece():
    """(training part, held-out part) of 40 s of the training piece, split 90 / 10 as the trainer does."""
    y = render(40.0, SR, seed=0)
    return C.held_out_split(y, 256, (1 + len(y) // 256) // 10)


def test_the_measure_ranks_what_sounds_like_the_training_audio(piece):
    """The recording itself (another stretch of it, or another take of the piece) is far closer than
    noise of its average spectrum; a pure tone and near-silence are farther than that noise; a 0.5 s
    loop of the piece covers the held-out frames badly."""
    fs = FeatureSetup()
    train_part, held = piece
    n = 12 * SR
    res = C.closeness(train_part[4 * SR:4 * SR + n], train_part, held, fs)
    noise, training = res["noise"], res["training"]
    assert res["generated"]["db"] < noise["db"] - 5.0
    assert training["db"] < noise["db"] - 5.0
    other_take = C.closeness(render(12.0, SR, seed=7), train_part, held, fs)["generated"]
    assert other_take["db"] < noise["db"] - 5.0
    tone = C.closeness(0.3 * np.sin(2 * np.pi * 196 * np.arange(n) / SR), train_part, held, fs)["generated"]
    quiet = C.closeness(1e-6 * np.random.default_rng(0).standard_normal(n), train_part, held, fs)["generated"]
    assert tone["db"] > noise["db"] + 2.0 and quiet["db"] > noise["db"] + 2.0
    loop = C.closeness(np.tile(train_part[SR:SR + SR // 2], 24), train_part, held, fs)["generated"]
    assert loop["from_held_out_db"] > training["from_held_out_db"] + 3.0


def _training_audio(tmp_path) -> Path:
    """The shipped model's training audio, regenerated as its card says (``trainaudio --seconds 60 --sr
    16000 --seed 0``).  Not checked by the card's sha256: libsndfile stamps the time into a float WAV's
    PEAK chunk, so no regenerated file has it; :func:`C.measure_trained` checks the content instead."""
    wav = tmp_path / "arp19.wav"
    audiofile.write(wav, render(60.0, SR, seed=0)[:, None].astype(np.float32), SR)
    return wav


def test_shipped_generator_is_far_closer_to_its_training_audio_than_noise(tmp_path):
    """models/generator-arp19.onnx against the held-out end of data/arp19.wav (regenerated, checked on
    its content).  Measured (seed 0, 20 s): generated 7.15 dB, noise 15.64 dB, a training excerpt 6.58 dB;
    from the held-out frames 7.47 / 22.49 / 4.46 dB (seeds 1-2: generated 6.98-7.52, noise 15.43-15.59).
    The card holds the same figures, written by ``python -m livehost.ml.generator.closeness --write-card``
    through the function the trainer calls."""
    card, res = C.measure_trained(SHIPPED, _training_audio(tmp_path))
    gen, noise, training = res["generated"], res["noise"], res["training"]
    assert gen["db"] < noise["db"] - 5.0, res
    assert gen["from_held_out_db"] < noise["from_held_out_db"] - 10.0, res
    assert gen["db"] < training["db"] + 2.0, res  # near the recording it learned from
    assert res["held_out_s"] == pytest.approx(375 * 256 / SR, abs=0.02) and res["generated_s"] == C.CARD_SECONDS
    stored = card["closeness"]
    for key in ("generated", "noise", "training"):
        for k, v in res[key].items():
            assert stored[key][k] == pytest.approx(v, abs=0.05), (key, k)


def test_add_to_card_refuses_other_audio(tmp_path, tiny_model):
    path, _ = tiny_model
    other = tmp_path / "other.wav"
    audiofile.write(other, render(8.0, SR, seed=9)[:, None].astype(np.float32), SR)
    with pytest.raises(LivehostError, match="other.wav: not the training audio"):
        C.add_to_card(path, other)


def test_trainer_writes_closeness_into_the_card(tiny_model):
    """The tiny model (4 epochs) is not asked to be good, only measured: every figure present and
    finite, and the card on disk holds what the trainer returned."""
    path, card = tiny_model
    res = card["closeness"]
    for key in ("generated", "noise", "training"):
        assert set(res[key]) == {"db", "to_held_out_db", "from_held_out_db"}
        assert all(np.isfinite(v) and v >= 0 for v in res[key].values())
    assert res["noise_margin_db"] == pytest.approx(res["noise"]["db"] - res["generated"]["db"], abs=2e-3)
    assert res["generated_s"] == C.CARD_SECONDS and res["seed"] == 0
    assert json.loads(card_path(path).read_text())["closeness"] == res


@pytest.mark.parametrize("fixture", ["tiny_model", "tiny_waveform_model"])
def test_add_to_card_repeats_the_trainers_figures(fixture, request):
    """Measuring a trained model afterwards (its training audio found on its content, spectral or
    waveform) gives exactly what the trainer wrote into its card."""
    path, card = request.getfixturevalue(fixture)
    assert C.add_to_card(path, card["training_data"]["files"][0]["path"]) == card["closeness"]
    assert json.loads(card_path(path).read_text())["closeness"] == card["closeness"]
