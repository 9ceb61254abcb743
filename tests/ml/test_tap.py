"""TapReader: exact copies of the engine's analysis tap, wrap-around, lost-frame counting."""

from __future__ import annotations

import numpy as np
import pytest

from livehost.engine import layout as L
from livehost.engine.drivers.offline import render
from livehost.ml.tap import TapReader


@pytest.fixture
def engine(make_engine):
    return make_engine([("node", "gain", "g", {})], sr=48000, block=128)


def stereo_ramp(n, start=0, sr=48000):
    """A distinct value per frame (L != R) so the mid channel and ordering can be checked exactly."""
    i = np.arange(start, start + n)
    left = (np.sin(i * 0.001) * 0.5).astype(np.float32)
    right = (np.cos(i * 0.0007) * 0.25).astype(np.float32)
    return np.stack([left, right], axis=1)


def test_reads_new_input_frames_exactly(engine):
    tap = TapReader(engine, channel=0)
    assert tap.read().size == 0
    x = stereo_ramp(1000)
    render(engine, 1000, x)
    got = tap.read()
    mid = 0.5 * (x[:, 0].astype(np.float64) + x[:, 1].astype(np.float64))
    assert got.dtype == np.float64 and got.shape == (1000,)
    assert np.array_equal(got, mid)
    assert tap.read().size == 0 and tap.lost == 0
    x2 = stereo_ramp(300, 1000)
    render(engine, 300, x2)
    assert np.array_equal(tap.read(), 0.5 * (x2[:, 0].astype(np.float64) + x2[:, 1].astype(np.float64)))


def test_output_channels(engine):
    left, right, out = TapReader(engine, 1), TapReader(engine, 2), TapReader(engine, "output")
    x = stereo_ramp(512)
    y = render(engine, 512, x)
    # the gain node starts at 0 dB; output after the master (float32 at the device, float64 in the tap)
    assert np.allclose(left.read(), y[:, 0], atol=1e-6)
    assert np.allclose(right.read(), y[:, 1], atol=1e-6)
    assert out.read().shape == (512,)
    with pytest.raises(ValueError):
        TapReader(engine, 5)


def test_wraps_around_the_ring(engine):
    cap = int(engine.a[L.H_TAP_CAP])
    tap = TapReader(engine)
    total = 0
    chunks = []
    while total < cap + cap // 2:  # cross the ring's end, reading often enough
        n = cap // 4
        x = stereo_ramp(n, total)
        render(engine, n, x)
        chunks.append(0.5 * (x[:, 0].astype(np.float64) + x[:, 1].astype(np.float64)))
        assert np.array_equal(tap.read(), chunks[-1])
        total += n
    assert tap.lost == 0 and tap.pos == total


def test_counts_lost_frames_on_overflow(engine):
    cap = int(engine.a[L.H_TAP_CAP])
    tap = TapReader(engine)
    n = cap + 50_000  # more than the ring holds, written before the reader looks
    x = stereo_ramp(n)
    render(engine, n, x)
    got = tap.read()
    kept = cap - tap.guard
    assert tap.lost == n - kept
    assert got.shape == (kept,)
    mid = 0.5 * (x[:, 0].astype(np.float64) + x[:, 1].astype(np.float64))
    assert np.array_equal(got, mid[-kept:])  # the newest frames, intact
    render(engine, 100, stereo_ramp(100, n))
    assert tap.read().shape == (100,) and tap.lost == n - kept  # no further loss
