"""The allocation-free FFT of the pitch shifter against numpy's, forward and inverse, every size used."""

from __future__ import annotations

import numpy as np
import pytest

from livehost.dsp.fft import fft_init, fft_inplace, fft_table_size


@pytest.mark.parametrize("n", [2, 4, 8, 16, 64, 1024, 2048, 4096])
def test_forward_and_inverse_match_numpy(n):
    tab = np.zeros(fft_table_size(n))
    fft_init(tab, 0, n)
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n) + 1j * rng.standard_normal(n)
    re, im = x.real.copy(), x.imag.copy()
    fft_inplace(re, im, tab, 0, n, False)
    ref = np.fft.fft(x)
    assert np.max(np.abs(re + 1j * im - ref)) < 1e-12 * np.sqrt(n) * np.max(np.abs(ref))
    fft_inplace(re, im, tab, 0, n, True)
    assert np.max(np.abs(re + 1j * im - x)) < 1e-13 * np.sqrt(n) * np.max(np.abs(x))


def test_table_at_an_offset_and_views():
    """The kernel's use: table inside a state vector, transform on views of it."""
    n = 256
    st = np.zeros(10 + fft_table_size(n) + 2 * n)
    fft_init(st, 10, n)
    o = 10 + fft_table_size(n)
    rng = np.random.default_rng(1)
    x = rng.standard_normal(n)
    st[o:o + n] = x
    fft_inplace(st[o:o + n], st[o + n:o + 2 * n], st, 10, n, False)
    np.testing.assert_allclose(st[o:o + n] + 1j * st[o + n:o + 2 * n], np.fft.fft(x), atol=1e-11)
