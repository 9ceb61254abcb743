"""Control without glitches: smoothed parameters, and graph edits crossfaded at block boundaries."""

import numpy as np

from livehost.engine.drivers.offline import render
from tests.conftest import sine


def max_click(y, x_ref_amp, f, sr=48000, skip=200):
    """Largest second difference of ``y`` relative to that of a clean sine of the same amplitude/frequency.

    The first ``skip`` samples (the sine's own onset) are left out.
    """
    d2 = np.abs(np.diff(y[skip:, 0].astype(np.float64), 2)).max()
    clean = x_ref_amp * (2 * np.pi * f / sr) ** 2
    return d2 / clean


def test_click_metric_catches_a_hard_cut():
    x = sine(220, 0.1)[:, :1].astype(np.float64)
    assert max_click(x, 0.5, 220) < 1.01
    y = x.copy()
    y[2400:] *= 0.5
    assert max_click(y, 0.5, 220) > 10


def test_1000_parameter_changes_step_no_more_than_the_smoothing_allows(make_engine):
    eng = make_engine([("node", "gain", "g", {})])
    rng = np.random.default_rng(3)
    targets = rng.uniform(-60, 24, 1000)
    x = np.full((1100 * 128, 2), 0.01, np.float32)  # DC: every output change is the gain moving

    def change(k):
        if k < 1000:
            eng.set_param("g", "gain_db", float(targets[k]))

    y = render(eng, len(x), x, on_block=change)
    z = y[72:, 0].astype(np.float64)
    # one-pole of 20 ms advanced per 128-frame block moves at most (range * a) dB per block; the gain
    # kernel ramps linearly in amplitude inside the block, whose largest step is the first/last one:
    a = 1 - np.exp(-128 / (0.020 * 48000))
    r = 10 ** ((24 - -60) * a / 20)
    max_db_per_sample = 20 * np.log10(1 + (r - 1) / 128)
    ratio = z[1:] / z[:-1]
    worst = np.abs(20 * np.log10(ratio)).max()
    assert worst <= max_db_per_sample * 1.0001
    # and the parameters really moved, and settled on the last value once the changes stopped
    assert 20 * np.log10(z.max() / z.min()) > 10
    assert 20 * np.log10(z[-1] / 0.01) == __import__("pytest").approx(targets[-1], abs=1e-4)
    # an unsmoothed gain would have stepped by far more than the bound
    assert np.abs(np.diff(targets)).max() > 100 * max_db_per_sample


def test_adding_removing_moving_and_bypassing_nodes_mid_stream_never_clicks(make_engine):
    eng = make_engine([("node", "gain", "g1", {"gain_db": 0.0})])
    f = 220.0
    x = sine(f, 3.0, amp=0.5)
    log = []

    def edit(k):
        if k == 50:
            log.append(eng.add_node("gain", {"gain_db": -12.0}, index=0, node_id="quiet"))
        elif k == 150:
            eng.add_node("gain", {"gain_db": 6.0}, node_id="loud")
        elif k == 250:
            eng.move_node("loud", 0)
        elif k == 350:
            eng.set_bypass("g1", True)
        elif k == 450:
            eng.remove_node("quiet")
        elif k == 600:
            eng.add_layer(2, node_id="lay")
        elif k == 700:
            eng.remove_node("lay")
        elif k == 800:
            eng.remove_node("loud")

    y = render(eng, len(x), x, on_block=edit)
    assert log == ["quiet"]
    assert [it.id for it in eng.chain] == ["g1"]
    assert max_click(y, 0.5 * 10 ** (6 / 20), f) < 3.0
    # the edits took effect: -12 dB after block 50's fade, then +6 dB - 12 dB
    seg = y[100 * 128:140 * 128, 0]
    assert 20 * np.log10(np.abs(seg).max() / 0.5) == __import__("pytest").approx(-12.0, abs=0.1)
    seg = y[200 * 128:240 * 128, 0]
    assert 20 * np.log10(np.abs(seg).max() / 0.5) == __import__("pytest").approx(-6.0, abs=0.1)


def test_removed_nodes_give_their_memory_back(make_engine):
    eng = make_engine([])
    free0 = eng.arena.free_slots()
    for i in range(30):
        eng.add_node("gain", node_id=f"n{i}")
    render(eng, 128 * 4)
    for i in range(30):
        eng.remove_node(f"n{i}")
    render(eng, 128 * 40)
    assert eng.chain == []
    assert eng.arena.free_slots() == free0
