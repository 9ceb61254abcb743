"""Patches loaded into a playing session, live: on the null driver and on JACK (PortAudio).

What a performer does most on stage after playing: switch patches (the UI's ``o``, a MIDI program
change). Every shipped patch is loaded into a session playing every other shipped patch (all 42
ordered pairs, one Eulerian tour), with the workers (generator, classifier) running. After each load:
the callback keeps advancing, no NaN reset, no non-finite sample, nothing above the ceiling.
"""

from __future__ import annotations

import glob
import os
import time

import numpy as np
import pytest

from livehost.engine import layout as L
from livehost.errors import LivehostError
from livehost.ml.tap import TapReader
from livehost.session import Session
from tests.conftest import ROOT
from tests.jackutil import need_jack

PATCHES = sorted(glob.glob(os.path.join(ROOT, "patches", "*.toml")))


def euler_tour(n: int) -> list[int]:
    """A walk over 0..n-1 that takes every ordered pair (i, j), i != j, exactly once (Hierholzer)."""
    out_edges = {i: [j for j in range(n) if j != i] for i in range(n)}
    stack, tour = [0], []
    while stack:
        v = stack[-1]
        if out_edges[v]:
            stack.append(out_edges[v].pop())
        else:
            tour.append(stack.pop())
    return tour[::-1]


def test_euler_tour_covers_every_ordered_pair_once():
    t = euler_tour(5)
    pairs = list(zip(t, t[1:]))
    assert len(pairs) == 20 and len(set(pairs)) == 20 and all(a != b for a, b in pairs)


class Watch:
    """Reads the output tap after each load: peak (linear) and that callbacks keep coming."""

    def __init__(self, session: Session):
        self.s = session
        self.taps = [TapReader(session.engine, 1), TapReader(session.engine, 2)]
        self.peak = 0.0

    def after_load(self, label: str) -> None:
        a = self.s.engine.a
        c0 = a[L.H_CALLBACKS]
        end = time.monotonic() + 1.0  # 375 blocks of 128 at 48 kHz: a stalled callback never comes back
        while a[L.H_CALLBACKS] < c0 + 5 and time.monotonic() < end:
            time.sleep(0.005)
        advanced = a[L.H_CALLBACKS] - c0
        assert advanced >= 5, f"{label}: the callback stalled ({advanced:g} blocks in 1 s)"
        st = self.s.engine.stats()
        assert st["nan_resets"] == 0 and st["nonfinite_out"] == 0, f"{label}: {st}"
        for t in self.taps:
            x = t.read()
            if x.size:
                assert np.all(np.isfinite(x)), label
                self.peak = max(self.peak, float(np.max(np.abs(x))))


def play_every_pair(driver: str) -> tuple[Session, Watch, int]:
    tour = euler_tour(len(PATCHES))
    s = Session(PATCHES[tour[0]], driver=driver)
    w = Watch(s)
    loads = 0
    try:
        assert s.driver is not None and s.engine.running
        w.after_load(f"start {PATCHES[tour[0]]}")
        for a, b in zip(tour, tour[1:]):
            s.load(PATCHES[b])
            loads += 1
            w.after_load(f"{os.path.basename(PATCHES[a])} -> {os.path.basename(PATCHES[b])}")
            assert s.path == PATCHES[b]
    except BaseException:
        s.close()
        raise
    return s, w, loads


def check_all_pairs(driver: str, expect_driver: str) -> None:
    s, w, loads = play_every_pair(driver)
    try:
        assert s.engine.driver_name == expect_driver
        assert loads == len(PATCHES) * (len(PATCHES) - 1)
        ceiling = 10 ** (-0.3 / 20)
        assert 0.0 < w.peak <= ceiling + 1e-6, w.peak  # sound got through, never above the ceiling
        assert not s.engine._retired, "memory of old patches was never reclaimed"
    finally:
        s.close()


@pytest.mark.slow
def test_every_patch_loads_into_every_other_live_on_the_null_driver():
    check_all_pairs("null", "null")


@pytest.mark.slow
@pytest.mark.jack
def test_every_patch_loads_into_every_other_live_on_jack():
    need_jack()
    check_all_pairs("portaudio", "portaudio")


def test_load_that_cannot_succeed_leaves_the_old_patch_playing(tmp_path):
    """A missing input file, a missing model, a broken patch: one-line error, the old patch plays on."""
    bad_file = tmp_path / "missing-audio.toml"
    bad_file.write_text('[patch]\nname = "x"\nformat = 1\n\n[input]\nsource = "file"\nfile = "nope.wav"\n')
    bad_model = tmp_path / "missing-model.toml"
    bad_model.write_text('[patch]\nname = "y"\nformat = 1\n\n[models]\ngenerator = "no-such-model.onnx"\n')
    broken = tmp_path / "broken.toml"
    broken.write_text("[patch\nname = 1\n")
    s = Session(os.path.join(ROOT, "patches", "default.toml"), driver="null")
    try:
        before = [it.id for it in s.engine.chain]
        w = Watch(s)
        for bad in (bad_file, bad_model, broken):
            with pytest.raises(LivehostError) as e:
                s.load(str(bad))
            msg = str(e.value)
            assert "\n" not in msg and msg, msg
            assert [it.id for it in s.engine.chain] == before
            assert s.path.endswith("default.toml")
            assert s.engine.master.values["mute"] is False  # faded back in (or never faded)
            w.after_load(f"refused {bad.name}")
        assert "nope.wav" in str(pytest.raises(LivehostError, s.load, str(bad_file)).value)
    finally:
        s.close()


def test_a_patch_too_big_for_the_engine_is_refused_and_the_old_one_plays_on(tmp_path):
    """Engine memory exhausted part-way through a build: rolled back, one line, the old graph intact."""
    from livehost.engine.engine import Engine, EngineError

    eng = Engine(48000, 128, 2, 2, heap_slots=1 << 18)  # 2 MiB: a few small nodes, not a reverb farm
    eng.build("mic", [], [("node", "gain", "g", {"gain_db": -6.0})], {})
    free = eng.arena.free_slots()
    spec = [("node", "reverb", f"r{i}", {}) for i in range(64)]
    with pytest.raises(EngineError, match="not enough engine memory"):
        eng.build("mic", [], spec, {})
    assert [it.id for it in eng.chain] == ["g"] and eng.arena.free_slots() == free
    x = np.full((128, 2), 0.5, np.float32)
    y = np.zeros_like(x)
    for _ in range(4):
        eng.process(x, y)
    assert np.allclose(y[-1], 0.5 * 10 ** (-6 / 20), atol=1e-6)  # the old gain still plays
