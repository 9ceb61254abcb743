"""The master limiter's window minimum equals a brute-force minimum over the lookahead window; its
quiet-block fast path is exactly the delay line it stands for."""

import numpy as np

from livehost.dsp.limiter import RELEASE_SNAP
from livehost.dsp.run import new_state, param_vector
from livehost.nodes import load_all


def test_deque_window_min_equals_brute_force():
    m = load_all()["master"]
    sr = 48000.0
    st = new_state(m, sr, 128)
    pv = param_vector(m, {"release_ms": 5.0})
    L = int(st[0])
    rng = np.random.default_rng(4)
    # bursts well above the ceiling with quiet gaps, so the held minimum changes often
    x = rng.normal(0, 0.2, 128 * 200) * np.repeat(rng.choice([0.5, 4.0, 12.0], 200), 128)
    c = 10 ** (-0.3 / 20)
    req = np.minimum(1.0, c / np.maximum(np.abs(x), 1e-30))
    want = np.array([req[max(0, i - L):i + 1].min() for i in range(len(x))])
    # replay the kernel's envelope with the brute-force target
    a_att = 1 - np.exp(-5.0 / L)
    a_rel = 1 - np.exp(-1000.0 / (5.0 * sr))
    env, envs = 1.0, []
    for t in want:
        env += (t - env) * (a_att if t < env else a_rel)
        if t == 1.0 and t >= env > 1.0 - RELEASE_SNAP:
            env = 1.0
        envs.append(env)
    envs = np.array(envs)
    buf = np.zeros((2, 128))
    out = np.empty(len(x))
    for b in range(200):
        buf[0] = buf[1] = x[b * 128:(b + 1) * 128]
        m.kernel(pv, pv, st, buf, 128, sr)
        out[b * 128:(b + 1) * 128] = buf[0]
    delayed = np.concatenate([np.zeros(L), x[:-L]])
    expect = np.clip(delayed * envs, -c, c)
    np.testing.assert_allclose(out, expect, rtol=1e-9, atol=1e-12)
    assert np.abs(out).max() <= c
    assert envs.min() < 0.2  # the bursts were limited


def test_quiet_blocks_are_the_delayed_input_exactly():
    """Below the ceiling the master is gain + an L-sample delay, bit for bit, whatever the block size;
    after a limited burst has been released it is that again."""
    m = load_all()["master"]
    sr = 48000.0
    for block in (32, 128, 1000):
        st = new_state(m, sr, block)
        pv = param_vector(m, {"gain_db": -6.0, "release_ms": 20.0})
        L = int(st[0])
        rng = np.random.default_rng(block)
        x = rng.uniform(-0.9, 0.9, 48000)
        x[20000:20100] *= 8.0  # a burst over the ceiling
        buf = np.zeros((2, block))
        out = np.empty(len(x))
        for s in range(0, len(x), block):
            n = min(block, len(x) - s)
            buf[0, :n] = buf[1, :n] = x[s:s + n]
            m.kernel(pv, pv, st, buf, n, sr)
            out[s:s + n] = buf[0, :n]
        g = 10 ** (-6.0 / 20)
        delayed = np.concatenate([np.zeros(L), x[:-L]]) * g
        np.testing.assert_array_equal(out[:20000], delayed[:20000])
        # released (20 ms time constant, 0.4 s later): exact again
        np.testing.assert_array_equal(out[40000:], delayed[40000:])
        assert np.abs(out).max() <= 10 ** (-0.3 / 20)
        assert np.abs(out[20000:20200]).max() < np.abs(delayed[20000:20200]).max()
