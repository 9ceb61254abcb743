"""Training: a tiny run on a synthetic table, ONNX == torch, folds, card, the CLI, lstm/cnn from audio.

These tests need torch (the training extra); they are skipped where it is absent.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

from livehost.errors import LivehostError
from livehost.ml.features import FEATURE_NAMES
from tests.pngcheck import check_confusion_picture

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from livehost.ml import train_classifier as T  # noqa: E402

SMALL = T.MLPRecipe(hidden=(32, 16), members=3, epochs=40, batch=16, lr=3e-3)


def write_table(path: Path, genres=("blues", "jazz", "metal"), rows=20, seed=0) -> Path:
    """3 genres x 20 rows of separable Gaussian features (positive, mixed scales) with GTZAN columns."""
    rng = np.random.default_rng(seed)
    scale = 10.0 ** (np.arange(len(FEATURE_NAMES)) % 4)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["filename", "length", *FEATURE_NAMES, "label"])
        for g in genres:
            mu = rng.standard_normal(len(FEATURE_NAMES)) * 3
            for i in range(rows):
                x = np.abs(mu + rng.standard_normal(len(FEATURE_NAMES))) * scale
                w.writerow([f"{g}.{i:05d}.wav", 661794, *x, g])
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("train")
    csv_path = write_table(d / "t.csv")
    err = io.StringIO()
    out = d / "m" / "genre.onnx"
    summary = T.run_training(features=str(csv_path), cv=5, seed=0, out=out, command="test", stream=err,
                             recipe=SMALL)
    return summary, out, csv_path, err.getvalue()


def test_stratified_folds_balanced_and_deterministic():
    y = np.repeat(np.arange(10), 100)
    f = T.stratified_folds(y, 5, 0)
    assert np.array_equal(f, T.stratified_folds(y, 5, 0))
    assert not np.array_equal(f, T.stratified_folds(y, 5, 1))
    for c in range(10):
        assert np.bincount(f[y == c], minlength=5).tolist() == [20] * 5
    y2 = np.repeat(np.arange(3), 7)  # uneven: fold sizes differ by at most one
    sizes = np.bincount(T.stratified_folds(y2, 5, 0), minlength=5)
    assert sizes.max() - sizes.min() <= 1


def test_tiny_training_run(trained):
    summary, out, csv_path, err = trained
    assert summary["cv_accuracy_mean"] > 0.9
    assert len(summary["cv_fold_accuracies"]) == 5
    assert out.is_file() and out.with_name("genre.card.json").is_file()
    card = json.loads(out.with_name("genre.card.json").read_text())
    check_confusion_picture(out.with_name("genre.confusion.png"), card["cv"]["confusion"], card["labels"])
    assert "5-fold CV by track" in err and "confusion matrix" in err and "recall" in err
    assert "[" in err and "%" in err  # the progress bar


def test_card_fields(trained):
    summary, out, csv_path, _ = trained
    card = json.loads(out.with_name("genre.card.json").read_text())
    for k in ("labels", "feature_names", "sample_rate", "window_s", "n_fft", "hop_length", "cv_accuracy_mean",
              "cv_accuracy_std", "cv", "data", "command", "seed", "torch_version", "recipe", "tuning"):
        assert k in card, k
    assert card["labels"] == ["blues", "jazz", "metal"]
    assert card["feature_names"] == list(FEATURE_NAMES)
    assert (card["sample_rate"], card["window_s"], card["n_fft"], card["hop_length"]) == (22050, 30.0, 2048, 512)
    assert card["cv"]["fold_accuracies"] == summary["cv_fold_accuracies"]
    assert card["data"]["sha256"] == T.sha256_file(csv_path)
    assert card["torch_version"] == torch.__version__
    assert card["onnx_check_max_abs_diff"] <= 1e-5
    assert np.array(card["cv"]["confusion"]).sum() == 60


def test_onnx_equals_torch_and_loads(trained):
    _, out, csv_path, _ = trained
    data = T.load_feature_table(csv_path)
    model = T.train_mlp(data.X, data.y, 3, SMALL, seed=3)
    path = out.with_name("again.onnx")
    from livehost.ml.onnx_export import check_onnx, export_onnx

    export_onnx(model, data.X[:4], path)
    rng = np.random.default_rng(1)
    X = np.concatenate([data.X, data.X * np.exp(rng.standard_normal(data.X.shape) * 0.3)])
    x32 = X.astype(np.float32)
    with torch.no_grad():
        ref = model(torch.from_numpy(x32)).numpy()
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = sess.run(None, {"features": x32})[0]
    assert got.shape == (len(X), 3)
    assert np.max(np.abs(got - ref)) <= 1e-5
    assert np.allclose(got.sum(axis=1), 1.0, atol=1e-5)
    assert check_onnx(model, path, X[:1]) <= 1e-5  # a batch of one works too (dynamic batch axis)


def test_log_var_preprocessing_is_in_the_graph(tmp_path):
    """log_var on: raw features in, same probabilities from ONNX and torch (no outside scaling)."""
    data = T.load_feature_table(write_table(tmp_path / "t.csv"))
    r = T.MLPRecipe(hidden=(16,), members=2, epochs=5, batch=16, log_var=True, noise=0.1)
    m = T.train_mlp(data.X, data.y, 3, r, seed=0)
    from livehost.ml.onnx_export import check_onnx, export_onnx

    p = export_onnx(m, data.X[:2], tmp_path / "lv.onnx")
    Xz = data.X.copy()
    Xz[:, [i for i, n in enumerate(FEATURE_NAMES) if n.endswith("_var")]] = 0.0  # silence: var 0 stays finite
    assert check_onnx(m, p, np.concatenate([data.X, Xz])) <= 1e-5


def test_training_is_deterministic(tmp_path):
    data = T.load_feature_table(write_table(tmp_path / "t.csv"))
    r = T.MLPRecipe(hidden=(16,), members=2, epochs=5, batch=16)
    a = T.predict_proba(T.train_mlp(data.X, data.y, 3, r, seed=7), data.X)
    b = T.predict_proba(T.train_mlp(data.X, data.y, 3, r, seed=7), data.X)
    assert np.array_equal(a, b)


def test_table_errors(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1,2,x\n")
    with pytest.raises(LivehostError, match="missing column"):
        T.load_feature_table(bad)
    with pytest.raises(LivehostError, match="no such feature table"):
        T.load_feature_table(tmp_path / "nope.csv")
    with pytest.raises(LivehostError, match="--audio"):
        T.run_training(features=str(write_table(tmp_path / "t.csv")), arch="lstm")


def _cli(argv):
    from livehost.ml import train_cli

    ap = argparse.ArgumentParser(prog="livehost")
    train_cli.add_parser(ap.add_subparsers(dest="command"))
    args = ap.parse_args(argv)
    args.stdout = io.StringIO()
    rc = args.func(args)
    return rc, args.stdout.getvalue()


def test_cli_json_no_export(tmp_path):
    csv_path = write_table(tmp_path / "t.csv")
    rc, out = _cli(["train", "classifier", "--features", str(csv_path), "--cv", "3", "--json", "--quiet",
                    "--no-export"])
    assert rc == 0
    doc = json.loads(out)
    assert doc["cv_accuracy_mean"] > 0.9 and 0 <= doc["cv_accuracy_std"] < 0.1
    assert len(doc["cv_fold_accuracies"]) == 3
    assert not (tmp_path / "models").exists()


def test_cli_rejects_lstm_with_csv(tmp_path):
    csv_path = write_table(tmp_path / "t.csv")
    with pytest.raises(LivehostError, match="feature table"):
        _cli(["train", "classifier", "--features", str(csv_path), "--arch", "cnn", "--no-export"])


def _audio_folder(root: Path, n_per=4, seconds=3.5) -> Path:
    """Three synthetic 'genres' (low sine, high sine + noise, clicks), 22050 Hz WAV files."""
    sf = pytest.importorskip("soundfile")
    rng = np.random.default_rng(0)
    sr = 22050
    t = np.arange(int(seconds * sr)) / sr
    for g in ("drone", "hiss", "pulse"):
        (root / g).mkdir(parents=True)
        for i in range(n_per):
            if g == "drone":
                y = 0.3 * np.sin(2 * np.pi * (110 + 10 * i) * t)
            elif g == "hiss":
                y = 0.1 * rng.standard_normal(t.size) + 0.05 * np.sin(2 * np.pi * 3000 * t)
            else:
                y = np.zeros(t.size)
                y[:: sr // (4 + i)] = 0.9
            sf.write(root / g / f"{g}{i}.wav", y, sr)
    return root


@pytest.mark.parametrize("arch", ["lstm", "cnn"])
def test_patch_models_from_audio_end_to_end(tmp_path, arch):
    folder = _audio_folder(tmp_path / "audio")
    out = tmp_path / f"genre_{arch}.onnx"
    s = T.run_training(audio=str(folder), arch=arch, cv=2, out=out, quiet=True,
                       recipe=T.SeqRecipe(epochs=6, batch=8, hidden=16, channels=(4, 8)))
    assert 0.0 <= s["cv_accuracy_mean"] <= 1.0 and s["tracks"] == 12
    assert s["onnx_check_max_abs_diff"] <= 1e-5
    from livehost.ml.classifier import GenreModel

    m = GenreModel(out)
    assert m.kind == ("mfcc_patch" if arch == "lstm" else "logmel_patch")
    import soundfile as sf

    y, _ = sf.read(folder / "drone" / "drone0.wav")
    p = m.predict_audio(y)
    assert p.shape == (3,) and abs(p.sum() - 1) < 1e-9


def test_mlp_from_audio(tmp_path):
    folder = _audio_folder(tmp_path / "audio", n_per=3, seconds=2.5)
    s = T.run_training(audio=str(folder), arch="mlp", cv=3, export=False, quiet=True, recipe=SMALL)
    assert s["tracks"] == 9 and s["cv_accuracy_mean"] > 0.6
