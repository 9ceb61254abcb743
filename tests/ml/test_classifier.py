"""The shipped genre model, GenreModel, ClassifierWorker on an offline-rendered engine, classify CLI."""

from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
import time

import numpy as np
import pytest

from livehost.engine.drivers.offline import render
from livehost.errors import LivehostError
from livehost.ml.card import card_path, load_card
from livehost.ml.classifier import ClassifierSnapshot, ClassifierWorker, GenreModel, classifier_path, \
    default_model_path
from livehost.ml.features import FEATURE_NAMES
from tests.pngcheck import check_confusion_picture
from tests.shared_data import GTZAN_CSV

MODEL = default_model_path()
GENRES = ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"]

needs_model = pytest.mark.skipif(not MODEL.is_file(), reason="shipped model models/genre_mlp.onnx absent")


def music(seconds: float, sr: int = 48000, seed: int = 0) -> np.ndarray:
    """A few seconds of a drum-and-chords-like stereo signal (float32, (frames, 2))."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    y = sum(0.12 * np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6))
    beat = (t * 2.0) % 1.0
    y = y + 0.4 * np.exp(-beat * 30) * rng.standard_normal(t.size)
    y = y + 0.5 * np.exp(-beat * 12) * np.sin(2 * np.pi * 60 * t)
    return np.stack([y, y * 0.9], axis=1).astype(np.float32)


@pytest.fixture
def engine(make_engine):
    return make_engine([("node", "gain", "g", {})], sr=48000, block=256)


# ---- the shipped model ------------------------------------------------------------------------


@needs_model
def test_shipped_card_is_valid_and_honest():
    card = load_card(card_path(MODEL))
    assert card["labels"] == GENRES
    assert card["feature_names"] == list(FEATURE_NAMES)
    acc = card["cv_accuracy_mean"]
    folds = card["cv"]["fold_accuracies"]
    assert len(folds) == card["cv"]["folds"] == 5
    assert abs(np.mean(folds) - acc) < 1e-12 and abs(np.std(folds) - card["cv_accuracy_std"]) < 1e-12
    assert acc >= 0.77  # the achieved track-level 5-fold CV accuracy (see the card's tuning note)
    assert card["onnx_check_max_abs_diff"] <= 1e-5
    m = np.array(card["cv"]["confusion"])
    assert m.sum() == 1000 and abs(np.trace(m) / 1000 - acc) < 1e-12  # out-of-fold predictions pooled
    if GTZAN_CSV.is_file():
        import hashlib

        assert card["data"]["sha256"] == hashlib.sha256(GTZAN_CSV.read_bytes()).hexdigest()
    check_confusion_picture(MODEL.parent / card["cv"]["confusion_png"], m, card["labels"])  # the card's matrix


@needs_model
@pytest.mark.skipif(not GTZAN_CSV.is_file(), reason="GTZAN feature table absent")
def test_shipped_model_training_accuracy_on_the_table():
    """Training-set accuracy (these rows were all in training): a sanity check, not a generalisation claim."""
    model = GenreModel(MODEL)
    rows = list(csv.DictReader(open(GTZAN_CSV)))
    X = np.array([[float(r[n]) for n in FEATURE_NAMES] for r in rows])
    y = np.array([model.labels.index(r["label"]) for r in rows])
    P = model.predict(X)
    assert P.shape == (1000, 10) and np.allclose(P.sum(axis=1), 1.0)
    assert np.mean(P.argmax(1) == y) > 0.9
    p0 = model.predict(dict(zip(FEATURE_NAMES, X[0])))
    assert p0.shape == (10,) and np.allclose(p0, P[0])
    assert [g for g, _ in model.top(p0)][:1] == [model.labels[int(np.argmax(p0))]]


# ---- errors -----------------------------------------------------------------------------------


@needs_model
def test_missing_and_corrupt_models_raise_one_clear_error(tmp_path):
    with pytest.raises(LivehostError, match="nothere.onnx: genre model not found"):
        GenreModel(tmp_path / "nothere.onnx")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"this is not an onnx file" * 10)
    with pytest.raises(LivehostError, match="bad.card.json: model card not found"):
        GenreModel(bad)
    shutil.copy(card_path(MODEL), card_path(bad))
    with pytest.raises(LivehostError, match=r"bad\.onnx: cannot load the genre model") as ei:
        GenreModel(bad)
    assert "\n" not in str(ei.value)
    card_path(bad).write_text("{ not json")
    with pytest.raises(LivehostError, match="bad.card.json: model card is not valid JSON"):
        GenreModel(bad)
    card = json.loads(card_path(MODEL).read_text())
    card["feature_names"] = card["feature_names"][::-1]
    good = tmp_path / "good.onnx"
    shutil.copy(MODEL, good)
    card_path(good).write_text(json.dumps(card))
    with pytest.raises(LivehostError, match="feature_names"):
        GenreModel(good)


@needs_model
def test_worker_with_corrupt_model_records_error_and_audio_runs(tmp_path, engine):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00garbage")
    shutil.copy(card_path(MODEL), card_path(bad))
    w = ClassifierWorker(engine, bad, warmup_s=1.0).start()
    try:
        x = music(2.0)
        y = render(engine, len(x), x)  # the audio path never touches the model
        assert np.isfinite(y).all() and np.abs(y).max() > 0.1
        deadline = time.monotonic() + 20
        while w.snapshot.error is None and time.monotonic() < deadline:
            time.sleep(0.05)
        snap = w.snapshot
        assert snap.error and "bad.onnx" in snap.error and "\n" not in snap.error
        assert snap.count == 0 and w.alive
    finally:
        w.stop()


# ---- live worker ------------------------------------------------------------------------------


@needs_model
def test_worker_classifies_rendered_audio(engine):
    w = ClassifierWorker(engine, MODEL, interval_s=1.0, window_s=8.0, warmup_s=3.0)
    assert w.snapshot.count == 0 and w.snapshot.probabilities == ()
    x = music(6.0)
    did = []
    for s in range(0, len(x), 24000):  # 0.5 s blocks of audio, polled between them (as the thread would)
        render(engine, min(24000, len(x) - s), x[s:s + 24000])
        did.append(w.poll())
    snap = w.snapshot
    assert isinstance(snap, ClassifierSnapshot)
    assert did.index(True) == 5  # first classification at 3 s (warm-up)
    assert snap.count == sum(did) == 4  # at 3, 4, 5, 6 s (every interval of new audio)
    assert snap.labels == tuple(GENRES)
    assert abs(sum(snap.probabilities) - 1.0) < 1e-9 and min(snap.probabilities) >= 0
    assert len(snap.top3) == 3 and snap.top3[0][1] == max(snap.probabilities)
    assert snap.low_confidence and 0.7 < snap.fill < 0.8 and abs(snap.window_s - 6.0) < 0.01
    assert snap.inference_ms > 0 and snap.error is None and snap.lost_frames == 0
    d = snap.as_dict()
    assert set(d["probabilities"]) == set(GENRES)
    json.dumps(d)

    # the window equals the offline classifier on the same audio
    from livehost.ml.features import gtzan_features

    mid = 0.5 * (x[:, 0].astype(np.float64) + x[:, 1].astype(np.float64))
    ref = GenreModel(MODEL).predict(gtzan_features(mid, 48000))
    assert np.allclose(snap.probabilities, ref, atol=2e-3)


@needs_model
def test_worker_thread_full_window_and_silence(engine):
    w = ClassifierWorker(engine, MODEL, interval_s=1.0, window_s=4.0, warmup_s=2.0, poll_s=0.02)
    with w:
        x = music(5.0, seed=1)
        for s in range(0, len(x), 12000):
            render(engine, min(12000, len(x) - s), x[s:s + 12000])
            time.sleep(0.02)
        deadline = time.monotonic() + 60
        while (w.snapshot.fill < 1.0 or w.snapshot.count < 2) and time.monotonic() < deadline:
            time.sleep(0.05)
        snap = w.snapshot
        assert snap.count >= 2 and snap.fill == 1.0
        assert abs(sum(snap.probabilities) - 1.0) < 1e-9 and snap.error is None
        c = snap.count
        render(engine, 4 * 48000, np.zeros((4 * 48000, 2), np.float32))  # 4 s of silence, read in time
        deadline = time.monotonic() + 60
        while not (w.snapshot.count > c and w.snapshot.silent) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert w.snapshot.silent and w.snapshot.low_confidence
    assert not w.alive


# ---- patch helper and CLI ---------------------------------------------------------------------


def test_classifier_path(tmp_path):
    patch = tmp_path / "p" / "live.toml"
    patch.parent.mkdir()
    assert classifier_path({}, patch) is None
    assert classifier_path(None, patch) is None
    (patch.parent / "mine.onnx").write_bytes(b"x")
    assert classifier_path({"classifier": "mine.onnx"}, patch) == patch.parent / "mine.onnx"
    root_rel = classifier_path({"classifier": "models/genre_mlp.onnx"}, patch)
    assert root_rel == (MODEL if MODEL.is_file() else patch.parent / "models" / "genre_mlp.onnx")
    assert classifier_path({"classifier": str(tmp_path / "abs.onnx")}, patch) == tmp_path / "abs.onnx"
    with pytest.raises(LivehostError, match="classifier"):
        classifier_path({"classifier": 3}, patch)


def _classify(argv):
    from livehost.ml import classify_cli

    ap = argparse.ArgumentParser(prog="livehost")
    classify_cli.add_parser(ap.add_subparsers(dest="command"))
    args = ap.parse_args(argv)
    args.stdout = io.StringIO()
    return args.func(args), args.stdout.getvalue()


@needs_model
def test_classify_cli(tmp_path):
    sf = pytest.importorskip("soundfile")
    wav = tmp_path / "song.wav"
    sf.write(wav, music(12.0, sr=44100), 44100)
    rc, out = _classify(["classify", str(wav), "--json"])
    assert rc == 0
    doc = json.loads(out)
    assert len(doc["top3"]) == 3 and abs(sum(doc["probabilities"].values()) - 1) < 1e-9
    assert doc["top3"][0][0] in GENRES
    rc, out = _classify(["classify", str(wav)])
    assert rc == 0 and out.count("%") == 3
    rc, out = _classify(["classify", str(wav), "--segments", "--json"])
    assert len(json.loads(out)["segments"]) == 1
    with pytest.raises(LivehostError, match="missing.onnx"):
        _classify(["classify", str(wav), "--model", str(tmp_path / "missing.onnx")])


@needs_model
def test_worker_survives_a_failing_step(engine):
    w = ClassifierWorker(engine, MODEL, warmup_s=1.0, poll_s=0.02)

    def boom():
        raise RuntimeError("boom\nsecond line")

    w.classify = boom
    with w:
        render(engine, 2 * 48000, music(2.0))
        deadline = time.monotonic() + 30
        while w.snapshot.error is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert w.snapshot.error == "classification failed: boom second line"
        assert w.alive and w.snapshot.fill > 0
