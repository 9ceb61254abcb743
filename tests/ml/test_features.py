"""livehost.ml.features against librosa 0.11 (the test-time reference) and against known answers.

Tolerances, with ``ref`` librosa's value on the same float64 22050 Hz signal:

* GTZAN columns: ``|ours - ref| <= rtol * |ref| + rtol * sqrt(column's var)`` (the second term only for
  ``*_mean`` columns, whose value may sit near 0, e.g. harmony/perceptr/MFCC means), with
  ``rtol = 1e-6`` for every column except: rms 1e-5 (librosa squares and averages in float32),
  zero_crossing_rate 1e-12 (integer crossing counts, exact), tempo exact (a discrete lag choice),
  rolloff 1e-3 (a frame whose cumulative magnitude sits within rounding of the 85 % threshold may move
  by one 10.8 Hz bin under another FFT build; here every frame matches exactly).
  In practice the differences are 0 or ~1e-16 for everything but rms (~1e-7).
* Per-matrix checks: ``atol = 1e-9 * max|ref|`` (filterbanks: bit-identical).
* librosa on float32 input (how the GTZAN table was made): rtol 1e-4 on every column, tempo exact.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os

import numpy as np
import pytest
import scipy.ndimage

from livehost.errors import LivehostError
from livehost.ml import features as F
from livehost.ml import features_cli
from tests.ml.librosa_reference import librosa_gtzan_features, recording_path
from tests.shared_data import GTZAN_CSV

librosa = pytest.importorskip("librosa")
sf = pytest.importorskip("soundfile")

SR = 22050
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

RTOL = {"rms": 1e-5, "zero_crossing_rate": 1e-12, "rolloff": 1e-3}
DEFAULT_RTOL = 1e-6


def _rtol(name: str) -> float:
    base = name.rsplit("_", 1)[0]
    return RTOL.get(base, DEFAULT_RTOL)


def assert_columns_close(ours: dict, ref: dict, rtol_for=_rtol):
    assert list(ours) == list(F.FEATURE_NAMES)
    bad = []
    for name in F.FEATURE_NAMES:
        a, b = ours[name], ref[name]
        if name == "tempo":
            if a != b:
                bad.append(f"tempo {a} != {b}")
            continue
        rtol = rtol_for(name)
        tol = rtol * abs(b)
        if name.endswith("_mean"):
            tol += rtol * np.sqrt(ref[name[: -len("mean")] + "var"])
        if not abs(a - b) <= tol:
            bad.append(f"{name}: {a!r} vs librosa {b!r} (|diff| {abs(a - b):.3g} > {tol:.3g})")
    assert not bad, "\n".join(bad)


def _load(name: str) -> np.ndarray:
    path = recording_path(name)
    if path is None:
        pytest.skip(f"recording {name} needs its PyPI package installed (see tests/ml/librosa_reference.py)")
    data, sr = sf.read(path, dtype="float64", always_2d=True)
    return F.resample_to(data.mean(axis=1), sr, SR)


@pytest.fixture(scope="module", params=["music21_test_audio", "pygame_house_lo"])
def recording(request):
    """(name, 22050 Hz float64 signal, librosa's 57 columns of it)."""
    y = _load(request.param)
    return request.param, y, librosa_gtzan_features(y, SR)


@pytest.fixture(scope="module")
def house():
    return _load("pygame_house_lo")


def _close(ours, ref, rel=1e-9):
    ref = np.asarray(ref)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=rel * float(np.max(np.abs(ref))))


# ---------------------------------------------------------------- the 57 columns on real recordings


def test_feature_names_are_the_csv_columns():
    if os.path.exists(GTZAN_CSV):
        with open(GTZAN_CSV, newline="") as fh:
            header = next(csv.reader(fh))
        assert list(F.FEATURE_NAMES) == [c for c in header if c not in ("filename", "length", "label")]
    assert len(F.FEATURE_NAMES) == 57 and len(set(F.FEATURE_NAMES)) == 57


def test_all_columns_match_librosa_on_real_recordings(recording):
    name, y, ref = recording
    ours = F.gtzan_features(y, SR)  # 22050 Hz in: no resampling, the clip is < 30 s: no cut
    assert_columns_close(ours, ref)


def test_float32_input_matches_librosa_float32_path(house):
    """The GTZAN table was computed from float32 audio; our float64 path agrees with it closely."""
    y32 = house.astype(np.float32)
    assert_columns_close(F.gtzan_features(y32, SR), librosa_gtzan_features(y32, SR), rtol_for=lambda n: 1e-4)


# ---------------------------------------------------------------- per-function matrices vs librosa


def test_stft_istft(house):
    D = F.stft(house)
    _close(D, librosa.stft(house))
    _close(F.istft(D, length=len(house)), librosa.istft(librosa.stft(house), length=len(house)))
    np.testing.assert_allclose(F.istft(D, length=len(house)), house, atol=1e-12)


def test_mel_and_chroma_filterbanks_are_bit_identical():
    np.testing.assert_array_equal(F.mel_filterbank(), librosa.filters.mel(sr=SR, n_fft=2048))
    np.testing.assert_array_equal(F.mel_filterbank(44100, 1024, n_mels=40),
                                  librosa.filters.mel(sr=44100, n_fft=1024, n_mels=40))
    for tuning in (-0.31, 0.0, 0.17):
        np.testing.assert_array_equal(F.chroma_filterbank(tuning=tuning),
                                      librosa.filters.chroma(sr=SR, n_fft=2048, tuning=tuning))


def test_mel_mfcc_power_to_db(house):
    mel = F.melspectrogram(house, SR)
    _close(mel, librosa.feature.melspectrogram(y=house, sr=SR))
    _close(F.power_to_db(mel), librosa.power_to_db(mel))
    _close(F.mfcc(house, SR), librosa.feature.mfcc(y=house, sr=SR))
    _close(F.mfcc(house, SR, n_mfcc=13), librosa.feature.mfcc(y=house, sr=SR, n_mfcc=13))


def test_chroma_and_tuning(house):
    P = np.abs(librosa.stft(house)) ** 2
    assert F.estimate_tuning(S=P, sr=SR) == librosa.estimate_tuning(S=P, sr=SR)
    assert F.estimate_tuning(house, SR) == librosa.estimate_tuning(y=house, sr=SR)
    _close(F.chroma_stft(house, SR), librosa.feature.chroma_stft(y=house, sr=SR))
    _close(F.chroma_stft(house, SR, tuning=0.2), librosa.feature.chroma_stft(y=house, sr=SR, tuning=0.2))


def test_spectral_shape_rms_zcr(house):
    _close(F.spectral_centroid(house, SR), librosa.feature.spectral_centroid(y=house, sr=SR))
    _close(F.spectral_bandwidth(house, SR), librosa.feature.spectral_bandwidth(y=house, sr=SR))
    for pct in (0.85, 0.5):
        ours = F.spectral_rolloff(house, SR, roll_percent=pct)
        ref = librosa.feature.spectral_rolloff(y=house, sr=SR, roll_percent=pct)
        moved = ours != ref  # a threshold tie may move a frame by one bin; none does here
        assert moved.mean() <= 1e-3 and np.all(np.abs(ours - ref)[moved] <= SR / 2048 * 1.0001)
    np.testing.assert_array_equal(F.zero_crossing_rate(house), librosa.feature.zero_crossing_rate(house))
    np.testing.assert_allclose(F.rms(house), librosa.feature.rms(y=house), rtol=1e-5)


def test_hpss_signals(house):
    yh, yp = F.hpss(house)
    rh, rp = librosa.effects.hpss(house)
    _close(yh, rh)
    _close(yp, rp)


def test_onset_strength_and_tempo(house):
    _close(F.onset_strength(house, SR), librosa.onset.onset_strength(y=house, sr=SR))
    _close(F.onset_strength(house, SR, aggregate="median"),
           librosa.onset.onset_strength(y=house, sr=SR, aggregate=np.median))
    _close(F.onset_strength(house, SR, detrend=True),
           librosa.onset.onset_strength(y=house, sr=SR, detrend=True))
    assert F.tempo(house, SR) == float(librosa.beat.beat_track(y=house, sr=SR)[0][0])
    env = librosa.onset.onset_strength(y=house, sr=SR)
    ref = librosa.feature.tempo(onset_envelope=env, start_bpm=90)
    assert F.tempo(onset_envelope=env, start_bpm=90) == float(ref[0])


@pytest.mark.parametrize("shape", [(7, 1), (5, 9), (3, 15), (4, 16), (6, 31), (3, 40), (40, 300)])
@pytest.mark.parametrize("size", [1, 3, 31])
def test_median_filter_equals_scipy_reflect(shape, size):
    rng = np.random.default_rng(shape[0] * 1000 + shape[1] + size)
    x = rng.integers(0, 6, size=shape).astype(np.float64)  # many ties
    x[0] = rng.standard_normal(shape[1])
    for axis in (0, 1):
        fsize = [1, 1]
        fsize[axis] = size
        ref = _reflect_median(x, size, axis)
        np.testing.assert_array_equal(F.median_filter(x, size, axis=axis), ref)
        # scipy.ndimage's reflect mode is the same definition (checked where it behaves; in long test
        # sessions scipy 1.17 has returned NaN cells here, so the explicit definition is the reference)
        sp = scipy.ndimage.median_filter(x, size=tuple(fsize), mode="reflect")
        ok = np.isfinite(sp)
        np.testing.assert_array_equal(sp[ok], ref[ok])


def _reflect_median(x, size, axis):
    """Median over windows of ``size`` along ``axis`` with scipy's 'reflect' (d c b a | a b c d) padding."""
    half = size // 2
    pad = [(0, 0), (0, 0)]
    pad[axis] = (half, size - 1 - half)
    xp = np.pad(x, pad, mode="symmetric")  # pads wider than the axis reflect again, as scipy does
    win = np.lib.stride_tricks.sliding_window_view(xp, size, axis=axis)
    return np.median(win, axis=-1)


# ---------------------------------------------------------------- synthetic signals, known answers


def _sine(freq, seconds=3.0, amp=0.5, sr=SR):
    return amp * np.sin(2 * np.pi * freq * np.arange(int(seconds * sr)) / sr)


def test_sine_spectral_shape_rms_zcr():
    f = 93 * SR / 2048  # a bin centre, 1001.29 Hz: 93 whole periods per 2048-sample frame
    y = _sine(f)
    inner = slice(4, -4)  # frames that lie wholly inside the signal
    np.testing.assert_allclose(F.spectral_centroid(y)[0, inner], f, rtol=1e-9)
    assert np.all(F.spectral_bandwidth(y)[0, inner] < 10.0)  # Hann main lobe: +-1 bin around f
    # 3 bins carry 1/4, 1/2, 1/4 of the magnitude: 85 % is reached one bin above f
    np.testing.assert_allclose(F.spectral_rolloff(y)[0, inner], f + SR / 2048)
    np.testing.assert_allclose(F.rms(y)[0, inner], 0.5 / np.sqrt(2), rtol=1e-12)
    zc = F.zero_crossing_rate(y)[0, inner] * 2048
    assert np.all(np.abs(zc - 2 * f / SR * 2048) <= 1)  # 2 crossings a period, +-1 at the frame edge


@pytest.mark.parametrize("cents", [0, 25, -30])
def test_detuned_a_gives_tuning_and_chroma_a(cents):
    y = _sine(440.0 * 2 ** (cents / 1200))
    assert F.estimate_tuning(y, SR) == pytest.approx(cents / 100, abs=0.021)
    assert int(np.argmax(F.chroma_stft(y, SR).mean(axis=1))) == 9  # C C# D D# E F F# G G# A


@pytest.mark.parametrize("lag", [22, 28, 40])
def test_click_train_tempo(lag):
    y = np.zeros(SR * 20)
    y[:: lag * 512] = 1.0  # one click every `lag` frames
    assert F.tempo(y, SR) == pytest.approx(60.0 * SR / (512 * lag), rel=1e-12)


def test_hpss_puts_sines_in_harmonic_and_clicks_in_percussive():
    s = _sine(523.25)
    yh, yp = F.hpss(s)
    assert np.sum(yh**2) > 0.99 * np.sum(s**2) and np.sum(yp**2) < 0.01 * np.sum(s**2)
    c = np.zeros(SR * 3)
    c[:: SR // 4] = 1.0
    yh, yp = F.hpss(c)
    assert np.sum(yp**2) > 0.99 * np.sum(c**2) and np.sum(yh**2) < 0.01 * np.sum(c**2)


def test_silence():
    f = F.gtzan_features(np.zeros(SR * 2), SR)
    assert all(np.isfinite(v) for v in f.values())
    assert f["tempo"] == 0.0 and f["rms_mean"] == 0.0 and f["chroma_stft_mean"] == 0.0
    # every mel band at the -100 dB floor: the orthonormal DCT keeps only c0 = -100 sqrt(128)
    assert f["mfcc1_mean"] == pytest.approx(-100 * np.sqrt(128))
    assert f["mfcc2_mean"] == 0.0


def test_resample_to():
    for sr_in in (48000, 44100, 11025, 22050):
        x = _sine(1000.0, seconds=2.0, amp=1.0, sr=sr_in)
        y = F.resample_to(x, sr_in)
        assert len(y) == int(np.ceil(len(x) * SR / sr_in))
        ref = _sine(1000.0, seconds=len(y) / SR, amp=1.0)[: len(y)]
        np.testing.assert_allclose(y[500:-500], ref[500:-500], atol=1e-4)
    assert F.resample_to(np.ones(10), 44100).dtype == np.float64


def test_gtzan_features_resamples_downmixes_and_cuts_30_s():
    rng = np.random.default_rng(1)
    n = int(31 * 44100)
    left = 0.2 * rng.standard_normal(n) + _sine(220.0, 31, 0.3, 44100)
    stereo = np.stack([left, 0.5 * left], axis=1)
    got = F.gtzan_features(stereo, 44100)
    mono22 = F.resample_to(0.75 * left, 44100)[: 30 * SR]
    want = F.clip_features(mono22)
    for k in F.FEATURE_NAMES:
        assert got[k] == pytest.approx(want[k], rel=1e-6, abs=1e-9), k
    assert F.gtzan_features(stereo.T, 44100)["rms_mean"] == pytest.approx(got["rms_mean"], rel=1e-12)


def test_bad_inputs():
    with pytest.raises(ValueError):
        F.gtzan_features(np.zeros(0), SR)
    with pytest.raises(ValueError):
        F.rms(np.array([0.0, np.nan, 1.0]))
    with pytest.raises(ValueError):
        F.spectral_rolloff(np.zeros(4096), roll_percent=1.5)


# ---------------------------------------------------------------- CLI


def _run_cli(argv):
    parser = argparse.ArgumentParser(prog="livehost")
    features_cli.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    args.stdout = io.StringIO()
    return args.func(args), args.stdout.getvalue()


def test_cli_json_and_table(tmp_path):
    path = tmp_path / "tone.flac"
    sf.write(path, np.stack([_sine(440.0, 2.0, sr=44100)] * 2, axis=1), 44100)
    code, out = _run_cli(["features", str(path), "--json"])
    assert code == 0
    feats = json.loads(out)
    assert list(feats) == list(F.FEATURE_NAMES)
    assert feats["spectral_centroid_mean"] == pytest.approx(440, rel=0.2)
    code, out = _run_cli(["features", str(path)])
    lines = out.strip().splitlines()
    assert code == 0 and len(lines) == 57
    assert len({line.index(" ") for line in lines}) > 1 and len({len(line) for line in lines}) == 1  # aligned
    assert lines[0].split()[0] == "chroma_stft_mean"
    assert float(lines[16].split()[1]) == pytest.approx(feats["tempo"])


@pytest.mark.parametrize("content", [None, b"", b"not audio at all\n" * 10])
def test_cli_unreadable_file_is_one_line_livehost_error(tmp_path, content):
    path = tmp_path / "broken.wav"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(LivehostError) as info:
        _run_cli(["features", str(path)])
    msg = str(info.value)
    assert str(path) in msg and "\n" not in msg


def test_benchmark_json_smoke():
    import subprocess
    import sys

    cmd = [sys.executable, os.path.join(ROOT, "benchmarks", "features.py"), "--json", "--seconds", "2",
           "--repeat", "1"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
    res = json.loads(out.stdout)
    assert set(res) >= {"livehost_s", "librosa_s", "speedup"} and res["speedup"] > 0
