"""bitcrush node: quantiser SNR against 6.02N + 1.76 dB, mid-tread levels, sample-and-hold rate."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from livehost.dsp.run import new_state, param_vector, run_kernel
from livehost.nodes import load_all

SR = 48000.0
NT = load_all()["bitcrush"]


@pytest.mark.parametrize("bits", [4, 6, 8, 10, 12, 16, 20, 24])
def test_full_scale_sine_snr(bits):
    n = 1 << 16
    x = np.sin(2 * np.pi * 997.0 * np.arange(n) / SR)  # full scale, not locked to the sample rate
    y = run_kernel(NT, x, SR, bits=float(bits), downsample=1.0)[:, 0]
    snr = 10 * np.log10(np.sum(x ** 2) / np.sum((y - x) ** 2))
    expected = 6.02 * bits + 1.76
    print(f"{bits} bits: SNR {snr:.2f} dB, theory {expected:.2f} dB")
    assert abs(snr - expected) < 1.0


def test_mid_tread_levels():
    x = np.linspace(-1.0, 1.0, 20001)
    y = run_kernel(NT, x, SR, bits=3.0, downsample=1.0)[:, 0]
    step = 2.0 ** (1 - 3)
    np.testing.assert_allclose(np.unique(y), np.arange(-4, 5) * step)  # 0 is a level
    assert np.max(np.abs(y - x)) <= step / 2 + 1e-12
    small = run_kernel(NT, np.full(256, 0.4 * step), SR, bits=3.0)[:, 0]
    assert np.all(small == 0.0)


@pytest.mark.parametrize("factor", [1.0, 2.0, 4.0, 2.5, 7.3, 64.0])
def test_sample_and_hold_rate(factor):
    n = 48000
    x = np.random.default_rng(0).uniform(-1, 1, n)
    y = run_kernel(NT, x, SR, bits=24.0, downsample=factor)[:, 0]
    changes = np.count_nonzero(np.diff(y)) + 1
    assert changes == pytest.approx(n / factor, rel=0.01, abs=1)
    # every output value is an input sample taken at the moment of the change (held afterwards)
    starts = np.flatnonzero(np.diff(np.concatenate([[np.nan], y])) != 0)
    np.testing.assert_allclose(y[starts], x[starts], atol=2.0 ** -23)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bits=hs.floats(1.0, 24.0), ds=hs.floats(1.0, 64.0), bits1=hs.floats(1.0, 24.0),
       ds1=hs.floats(1.0, 64.0), scale=hs.floats(0.0, 8.0))
def test_bounded_for_any_parameters(bits, ds, bits1, ds1, scale):
    x = np.random.default_rng(3).uniform(-1, 1, 2048) * scale
    st = new_state(NT, SR, 128)
    buf = np.zeros((2, 128))
    p0 = param_vector(NT, dict(bits=bits, downsample=ds))
    p1 = param_vector(NT, dict(bits=bits1, downsample=ds1))
    for b in range(16):
        buf[:] = x[b * 128:(b + 1) * 128]
        NT.kernel(p0 if b < 8 else p1, p1 if b >= 7 else p0, st, buf, 128, SR)
        assert np.all(np.isfinite(buf))
        assert np.max(np.abs(buf)) <= 1.0
