"""compressor node: static curve vs the soft-knee formula (steady sines), attack/release time
constants measured on level steps, lookahead latency, robustness."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from scipy.optimize import brentq

from livehost.dsp.run import new_state, param_vector, run_kernel
from livehost.nodes import load_all

SR = 48000.0
NT = load_all()["compressor"]


def curve(x, t, r, w):
    """Giannoulis/Massberg/Reiss static characteristic (dB in -> dB out), written independently."""
    x = np.asarray(x, float)
    y = np.where(x - t < -w / 2, x, t + (x - t) / r)
    if w > 0:
        k = np.abs(x - t) <= w / 2
        y = np.where(k, x + (1 / r - 1) * (x - t + w / 2) ** 2 / (2 * w), y)
    return y


@pytest.mark.parametrize("t,r,w,makeup", [(-24.0, 4.0, 12.0, 3.0), (-12.0, 20.0, 0.0, 0.0),
                                          (-30.0, 2.0, 24.0, 6.0), (-6.0, 1.0, 6.0, 0.0)])
def test_static_curve(t, r, w, makeup):
    levels = np.arange(-60.0, 0.01, 3.0)
    n, tail = int(0.6 * SR), int(0.1 * SR)
    x0 = np.sin(2 * np.pi * 1000.0 * np.arange(n) / SR)
    errs = []
    for lv in levels:
        a = 10 ** (lv / 20)
        y = run_kernel(NT, a * x0, SR, threshold_db=t, ratio=r, knee_db=w, makeup_db=makeup,
                       attack_ms=5.0, release_ms=300.0, lookahead_ms=0.0)[-tail:, 0]
        out_db = lv + 20 * np.log10(np.sqrt(np.mean(y ** 2)) / np.sqrt(np.mean((a * x0[-tail:]) ** 2)))
        errs.append(out_db - (curve(lv, t, r, w) + makeup))
    errs = np.abs(errs)
    print(f"T {t} R {r} W {w}: max static-curve error {errs.max():.4f} dB")
    assert errs.max() < 0.1


def _gr_db(y, x, makeup):
    return makeup - 20 * np.log10(y / x)


@pytest.mark.parametrize("attack,release", [(1.0, 50.0), (10.0, 200.0), (30.0, 600.0)])
def test_attack_release_times(attack, release):
    lo, hi = 10 ** (-50 / 20), 1.0
    a, b, c = int(0.1 * SR), int(0.1 * SR + 8 * attack * 1e-3 * SR), int(6 * release * 1e-3 * SR)
    x = np.concatenate([np.full(a, lo), np.full(b - a, hi), np.full(c, lo)])
    y = run_kernel(NT, x, SR, threshold_db=-20.0, ratio=10.0, knee_db=0.0, makeup_db=0.0,
                   attack_ms=attack, release_ms=release)[:, 0]
    gr = _gr_db(y, x, 0.0)
    final = 20.0 * (1 - 1 / 10.0)  # 0 dB in, -20 threshold, 10:1 -> 18 dB reduction
    assert gr[a - 1] == pytest.approx(0.0, abs=1e-9)
    rise = gr[a:b]
    assert rise[-1] == pytest.approx(final, rel=1e-3)
    t_att = (np.argmax(rise >= (1 - np.exp(-1)) * final) + 1) / SR * 1e3
    fall = gr[b:]
    g0 = gr[b - 1]
    t_rel = (np.argmax(fall <= np.exp(-1) * g0) + 1) / SR * 1e3
    # release path: the peak detector (tau_R) followed by the attack smoother (tau_A)
    ta, tr = attack, release
    exp_rel = brentq(lambda t: (tr * np.exp(-t / tr) - ta * np.exp(-t / ta)) / (tr - ta) - np.exp(-1),
                     0.0, 10 * (tr + ta))
    print(f"attack {attack} ms -> {t_att:.2f} ms; release {release} ms -> {t_rel:.1f} ms "
          f"(expected {exp_rel:.1f} ms incl. attack smoothing)")
    assert t_att == pytest.approx(attack, rel=0.02, abs=1.5e3 / SR)
    assert t_rel == pytest.approx(exp_rel, rel=0.02, abs=1.5e3 / SR)


def test_lookahead_latency():
    for ms in (0.0, 2.5, 10.0):
        la = NT.latency({"lookahead_ms": ms}, SR)
        assert la == round(ms * SR / 1000)
        x = np.concatenate([np.full(4800, 0.001), np.full(4800, 1.0)])
        y = run_kernel(NT, x, SR, threshold_db=-20.0, ratio=8.0, attack_ms=0.5, lookahead_ms=ms)[:, 0]
        edge = np.argmax(np.abs(y) > 0.01)
        assert edge == 4800 + la
        if la:
            # the gain is already coming down when the delayed step arrives
            assert abs(y[edge]) < 0.9


def _strategy():
    return hs.fixed_dictionaries({p.name: hs.floats(p.lo, p.hi) for p in NT.params})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(v0=_strategy(), v1=_strategy(), scale=hs.floats(0.0, 8.0))
def test_bounded_for_any_parameters(v0, v1, scale):
    x = np.random.default_rng(13).uniform(-1, 1, 4096) * scale
    st = new_state(NT, SR, 128)
    buf = np.zeros((2, 128))
    p0, p1 = param_vector(NT, v0), param_vector(NT, v1)
    gmax = 10 ** (max(v0["makeup_db"], v1["makeup_db"]) / 20)
    for b in range(32):
        buf[:] = x[b * 128:(b + 1) * 128]
        NT.kernel(p0 if b < 16 else p1, p1 if b >= 15 else p0, st, buf, 128, SR)
        assert np.all(np.isfinite(buf))
        assert np.max(np.abs(buf)) <= scale * gmax * (1 + 1e-9) + 1e-300
