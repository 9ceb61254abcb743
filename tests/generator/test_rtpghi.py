"""RTPGHI phase reconstruction, streaming overlap-add and the streaming resampler."""

import numpy as np
import pytest

from livehost.ml.generator import rtpghi as R
from livehost.ml.generator.worker import StreamResampler

SR = 16000


def known_signal(seconds=2.0):
    t = np.arange(int(seconds * SR)) / SR
    x = 0.3 * np.sin(2 * np.pi * (300 * t + 150 * t ** 2)) + 0.2 * np.sin(2 * np.pi * 660 * t) * (t % 0.5 < 0.25)
    return x + 0.005 * np.random.default_rng(0).standard_normal(len(t))


@pytest.mark.parametrize("n_fft,hop", [(1024, 256), (512, 128)])
def test_stft_istft_perfect_reconstruction(n_fft, hop):
    x = known_signal(1.0)
    y = R.istft(R.stft(x, n_fft, hop), n_fft, hop, len(x))
    assert np.max(np.abs(y - x)) < 1e-10


def test_streaming_overlap_add_equals_batch_istft():
    x = known_signal(1.0)
    C = R.stft(x, 1024, 256)
    ola = R.OverlapAdd(1024, 256)
    y = np.concatenate([ola.push(f) for f in C] + [ola.flush()])[512:512 + len(x)]
    # the batch istft divides by the exact window sum; in the interior they agree
    ref = R.istft(C, 1024, 256, len(x))
    assert np.max(np.abs(y[1024:-1024] - ref[1024:-1024])) < 1e-10


@pytest.mark.parametrize("lookahead", [1, 0])
def test_rtpghi_far_better_than_random_phase(lookahead):
    x = known_signal()
    S = np.abs(R.stft(x, 1024, 256))
    y = R.reconstruct(S, 1024, 256, lookahead=lookahead, length=len(x))
    sc = R.spectral_convergence_db(S, y, 1024, 256)
    rnd = np.random.default_rng(1).uniform(-np.pi, np.pi, S.shape)
    sc_rand = R.spectral_convergence_db(S, R.istft(S * np.exp(1j * rnd), 1024, 256, len(x)), 1024, 256)
    assert np.all(np.isfinite(y))
    assert sc < -20.0
    assert sc < sc_rand - 15.0


def test_rtpghi_matches_or_beats_griffin_lim_32():
    x = known_signal()
    S = np.abs(R.stft(x, 1024, 256))
    sc = R.spectral_convergence_db(S, R.reconstruct(S, 1024, 256, length=len(x)), 1024, 256)
    sc_gl = R.spectral_convergence_db(S, R.griffin_lim(S, 1024, 256, 32, length=len(x)), 1024, 256)
    assert sc < sc_gl + 3.0


def test_rtpghi_frame_by_frame_equals_whole():
    x = known_signal(1.0)
    S = np.abs(R.stft(x, 512, 128))
    rec = R.StreamingReconstructor(512, 128, seed=3)
    y = np.concatenate([rec.push(f) for f in S])
    ref = R.reconstruct(S, 512, 128, seed=3, length=len(S) * 128 + 512)
    # streaming output j is signal time j - n_fft/2 - hop (one frame of look-ahead)
    y = y[256 + 128:]
    assert np.max(np.abs(y - ref[:len(y)])) < 1e-9


@pytest.mark.parametrize("sr_in,sr_out", [(16000, 48000), (16000, 44100), (48000, 16000)])
def test_stream_resampler_streaming_equals_batch_and_is_accurate(sr_in, sr_out):
    x = np.sin(2 * np.pi * 440 * np.arange(sr_in) / sr_in)
    rs = StreamResampler(sr_in, sr_out)
    y = np.concatenate([rs.process(x[i:i + 173]) for i in range(0, len(x), 173)])
    full = StreamResampler(sr_in, sr_out).process(x)
    assert len(y) == len(full) and np.array_equal(y, full)
    ref = np.sin(2 * np.pi * 440 * np.arange(len(y)) / sr_out)
    m = slice(200, len(y) - 200)
    assert np.max(np.abs(y[m] - ref[m])) < 1e-3
