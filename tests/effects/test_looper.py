"""looper against ground truth: a take played back is the recording repeated, sample for sample, except
the loop-point crossfade, which is the raised-cosine mix of the take's end with the audio just before its
start (computed here from the input); an overdub adds exactly what was played (with its punch-in ramp),
and undo gives back exactly the first take; clear silences; the one-switch gestures (press, hold,
double press) follow the rules at their exact sample counts; two loopers on parallel layer branches,
driven by footswitch CCs through the shipped patch, keep their own loops.

The kernel is driven block by block as the engine drives it (a block sees the previous block's
parameters as ``pp``), so the press times are exact multiples of the block."""

from __future__ import annotations

import numpy as np
import pytest

from livehost.dsp.looper import (C_DOUBLE, C_HOLD, DOUBLE_S, HOLD_S, MAX_S, looper_loop, looper_state_size,
                                 looper_status)
from livehost.dsp.run import new_state, param_vector
from livehost.nodes import load_all

NT = load_all()["looper"]
SR = 48000.0
BLOCK = 120  # 0.35 s and 0.6 s are whole numbers of blocks: 140 and 240
XF_MS = 5.0
XF = int(round(XF_MS * SR / 1000))  # 240 samples


class Pedal:
    """One looper kernel, its parameters changed between blocks as the engine changes them."""

    def __init__(self, block: int = BLOCK, **values):
        self.block = block
        self.st = new_state(NT, SR, block)
        self.pc = param_vector(NT, values)
        self.pp = self.pc.copy()
        self.names = [p.name for p in NT.params]
        self.buf = np.zeros((2, block))

    def set(self, **values):
        for k, v in values.items():
            self.pc[self.names.index(k)] = NT.param(k).to_number(v)

    def run(self, x) -> np.ndarray:
        """Process ``x`` (frames, or (frames, 2); a whole number of blocks); the output (frames, 2)."""
        x = np.asarray(x, np.float64)
        if x.ndim == 1:
            x = np.stack([x, x], axis=1)
        assert len(x) % self.block == 0
        y = np.empty_like(x)
        for s in range(0, len(x), self.block):
            self.buf[:, :] = x[s:s + self.block].T
            NT.kernel(self.pp, self.pc, self.st, self.buf, self.block, SR)
            self.pp = self.pc.copy()
            y[s:s + self.block] = self.buf.T
        return y

    def silence(self, frames: int) -> np.ndarray:
        return self.run(np.zeros(frames))

    def tap(self, x=None) -> np.ndarray:
        """A press of one block (down for the block, up after it); ``x``: that block's input."""
        self.set(pedal=True)
        y = self.run(np.zeros(self.block) if x is None else x)
        self.set(pedal=False)
        return y

    @property
    def status(self) -> dict:
        return looper_status(self.st)


def noise(frames: int, seed: int, amp: float = 0.2) -> np.ndarray:
    """Stereo white noise (frames, 2), float32-representable so the engine's float32 input keeps it."""
    r = np.random.default_rng(seed)
    return (amp * r.uniform(-1, 1, (frames, 2))).astype(np.float32).astype(np.float64)


def expected_loop(take: np.ndarray, pre: np.ndarray, x: int) -> np.ndarray:
    """The loop a take should become: its last ``x`` samples crossfaded (sin^2 / cos^2, summing to 1)
    into the ``x`` samples played just before the take began."""
    loop = take.copy()
    u = 0.5 * np.pi * (np.arange(x) + 0.5) / x
    w = np.sin(u)[:, None] ** 2
    loop[-x:] = (1 - w) * take[-x:] + w * pre[-x:]
    return loop


def record(lp: Pedal, sig: np.ndarray, pre_frames: int, take_frames: int):
    """Play ``pre_frames`` of ``sig``, press, record ``take_frames``, press: the loop plays (silent input
    from then on). Returns the take, the pre-roll played before it, and the output of the closing press's
    block (the loop's first block)."""
    lp.run(sig[:pre_frames])
    lp.tap(sig[pre_frames:pre_frames + lp.block])
    lp.run(sig[pre_frames + lp.block:pre_frames + take_frames])
    assert lp.status["mode"] == "record"
    first = lp.tap()  # the loop closes at this block's first sample
    assert lp.status == {"mode": "play", "length": take_frames, "position": lp.block, "undo": None,
                         "closes_at": None}
    return sig[pre_frames:pre_frames + take_frames], sig[:pre_frames], first


def assert_loop(y: np.ndarray, want: np.ndarray, start: int = 0):
    """``y`` (a run of the loop from position ``start``) equals ``want`` (one pass), sample for sample,
    except in the loop-point crossfade (the last XF samples), where the sin^2 weights may round apart
    from numpy's by an ulp."""
    n = len(want)
    pos = (start + np.arange(len(y))) % n
    body = pos < n - XF
    np.testing.assert_array_equal(y[body], want[pos[body]])
    np.testing.assert_allclose(y[~body], want[pos[~body]], rtol=0, atol=1e-15)


def test_a_two_second_take_plays_back_as_the_recording_repeated():
    lp = Pedal(xfade_ms=XF_MS)
    n = int(2 * SR)
    take, pre, first = record(lp, noise(n + 2400, seed=1), 2400, n)
    y = np.concatenate([first, lp.silence(int(2.5 * n))])  # two and a half passes from position 0
    assert_loop(y, expected_loop(take, pre, XF))
    # outside the crossfade the loop is the recording itself; inside, it is not (so the crossfade is real)
    pos = np.arange(len(y)) % n
    body = pos < n - XF
    np.testing.assert_array_equal(y[body], take[pos[body]])
    assert (~body).sum() == 2 * XF
    assert np.abs(y[~body] - take[pos[~body]]).max() > 0.05


def test_the_loop_point_does_not_click():
    """A sine take of a non-whole number of periods: the raw wrap would jump by most of the peak; the
    crossfaded one steps no more than the sine itself plus the crossfade's own slope."""
    f, amp = 220.0, 0.5
    n = 203 * BLOCK  # 24360 samples = 111.65 periods; longer than DOUBLE_S (else the closing press is a double)
    t = np.arange(n + 2400) / SR
    sig = amp * np.sin(2 * np.pi * f * t)
    lp = Pedal(xfade_ms=XF_MS)
    take, _, first = record(lp, np.stack([sig, sig], 1), 2400, n)
    assert abs(take[-1, 0] - take[0, 0]) > 0.5 * amp  # the raw loop point is a click
    y = np.concatenate([first, lp.silence(3 * n)])[:, 0]
    natural = amp * 2 * np.pi * f / SR
    assert np.abs(np.diff(y)).max() <= natural + 2 * amp * np.pi / (2 * XF) + 1e-12


def overdub_session(block: int = BLOCK):
    """Take 1 (noise), then an overdub of other noise from 0.5 s into the loop, punched out 1 s later."""
    lp = Pedal(block, xfade_ms=XF_MS)
    n = int(2 * SR)
    take, pre, _ = record(lp, noise(n + 2400, seed=2), 2400, n)
    lp.silence(n - BLOCK)  # rest of the first pass: position back at 0
    assert lp.status["position"] == 0
    lp.silence(int(0.5 * SR))
    over = noise(int(1.0 * SR), seed=3)
    start = lp.status["position"]
    lp.tap(over[:BLOCK])
    assert lp.status["mode"] == "armed"
    lp.run(over[BLOCK:])
    assert lp.status["mode"] == "overdub" and lp.status["undo"] == "undo"
    lp.tap()  # punch out: overdub -> play (the write fades out over xfade_ms)
    assert lp.status["mode"] == "play"
    lp.silence(n - lp.status["position"])  # to the loop's start
    return lp, take, pre, over, start


def test_overdub_adds_what_was_played_and_undo_gives_back_the_first_take():
    lp, take, pre, over, start = overdub_session()
    n = len(take)
    base = expected_loop(take, pre, XF)
    y = lp.silence(n)  # one whole pass, from position 0
    ramp = np.minimum(1.0, (np.arange(len(over)) + 1) / XF)[:, None]  # punch-in fade (from the scratch)
    want = base.copy()
    want[start:start + len(over)] += ramp * over
    assert_loop(y[:start], want)  # before the punch-in: the first take
    # the punch-in ramp's gain is summed step by step in the kernel: (j + 1) / XF within rounding
    np.testing.assert_allclose(y[start:start + XF], want[start:start + XF], rtol=0, atol=1e-15)
    # after it: first take + overdub, exactly (the punch-out tail wrote the silent input after it: nothing)
    assert_loop(y[start + XF:], want, start + XF)
    # double press (two one-block taps 10 blocks apart) undoes it
    lp.tap()
    lp.silence(10 * BLOCK)
    lp.tap()
    assert lp.status["undo"] == "redo"
    lp.silence(n - lp.status["position"])
    assert_loop(lp.silence(n), base)  # exactly the first take
    # a second double press redoes it
    lp.tap()
    lp.silence(BLOCK)
    lp.tap()
    assert lp.status["undo"] == "undo"
    lp.silence(n - lp.status["position"])
    np.testing.assert_array_equal(lp.silence(n), y)


def test_undo_from_play_drops_the_tentative_press_and_removes_the_last_overdub():
    """Playing, a double press: its first press (play -> overdub) is dropped, its second undoes the
    overdub before it; the loop is then exactly the first take."""
    lp, take, pre, over, start = overdub_session()
    n = len(take)
    lp.silence(BLOCK * 10)
    lp.tap(noise(BLOCK, seed=9))  # played while armed: must not reach the loop
    lp.run(noise(BLOCK * 5, seed=10))
    lp.tap(noise(BLOCK, seed=11))
    assert lp.status["mode"] == "play" and lp.status["undo"] == "redo"
    lp.silence(n - lp.status["position"])
    assert_loop(lp.silence(n), expected_loop(take, pre, XF))


def test_clear_silences_and_a_new_take_can_start():
    lp, take, *_ = overdub_session()
    ref = lp.silence(len(take))  # one pass; back at position 0
    lp.set(clear=True)
    y = lp.silence(BLOCK * 4)
    fade = 1 - (np.arange(XF) + 1) / XF  # the loop fades out over xfade_ms ...
    np.testing.assert_allclose(y[:XF], ref[:XF] * fade[:, None], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(y[XF + 1:], 0.0)  # ... then silence
    assert lp.status == {"mode": "empty", "length": 0, "position": 0, "undo": None, "closes_at": None}
    lp.set(clear=False)
    np.testing.assert_array_equal(lp.silence(int(SR)), 0.0)
    sig = noise(BLOCK * 200, seed=5)
    lp.tap(sig[:BLOCK])
    lp.run(sig[BLOCK:])
    assert lp.status["mode"] == "record"
    lp.tap()
    assert lp.status["length"] == BLOCK * 200 and lp.status["undo"] is None


def test_press_cycle_record_play_overdub_play_and_stop_and_play_again():
    lp = Pedal()
    seen = []
    sig = noise(BLOCK * 400, seed=6)
    lp.tap(sig[:BLOCK])
    seen.append(lp.status["mode"])
    lp.run(sig[BLOCK:BLOCK * 300])
    for _ in range(3):
        lp.tap()
        lp.silence(BLOCK * 150)  # past the double-press window
        seen.append(lp.status["mode"])
    assert seen == ["record", "play", "overdub", "play"]
    assert lp.status["undo"] == "undo"
    # hold: still down 0.6 s (240 blocks) after the press -> stop, after a fade
    lp.set(pedal=True)
    lp.silence(BLOCK * 240)
    assert lp.status["mode"] == "armed"  # down for samples 0..28799 after the press: still a press
    y = lp.silence(BLOCK * 4)  # down at sample 28800: a hold
    lp.set(pedal=False)
    assert lp.status["mode"] == "stop" and lp.status["length"] == BLOCK * 300
    assert np.abs(y[0]).max() > 0
    np.testing.assert_array_equal(y[XF + 1:], 0.0)
    lp.silence(BLOCK * 200)
    assert lp.status["mode"] == "stop"  # the release does nothing
    # press from stop: plays from the loop's start
    lp.tap()
    assert lp.status["mode"] == "play" and lp.status["position"] == BLOCK


def test_hold_starts_the_stop_fade_at_exactly_hold_s():
    """A constant take (0.25 everywhere, pre-roll included, so the crossfade keeps it constant): the
    loop's output is 0.25 until exactly HOLD_S after the press, then falls."""
    lp = Pedal()
    dc = np.full(BLOCK * 200, 0.25)
    lp.run(dc[:BLOCK * 20])
    lp.tap(dc[:BLOCK])
    lp.run(dc[:BLOCK * 199])
    lp.tap()
    lp.silence(BLOCK * 150)  # past the double-press window
    hold = int(lp.st[C_HOLD])
    assert hold == round(HOLD_S * SR)
    lp.set(pedal=True)
    y = lp.silence(hold + 2 * BLOCK)[:, 0]
    np.testing.assert_allclose(y[:hold], 0.25, rtol=0, atol=1e-15)
    assert y[hold] == pytest.approx(0.25 * (1 - 1 / XF), abs=1e-12)
    assert abs(y[hold + XF - 1]) < 1e-12 and np.all(y[hold + XF + 1:] == 0.0)


@pytest.mark.parametrize("gap_blocks, double", [(138, True), (139, False)])
def test_double_press_window_is_double_s_to_the_sample(gap_blocks, double):
    """Second press 139 blocks after the first (16680 < 16800 samples): a double press (undo);
    140 blocks (16800 = DOUBLE_S): a new press (play -> overdub)."""
    lp, *_ = overdub_session()
    assert int(lp.st[C_DOUBLE]) == round(DOUBLE_S * SR) == 140 * BLOCK
    lp.silence(BLOCK * 200)
    lp.tap()  # overdub -> ... from play: armed
    lp.silence(BLOCK * gap_blocks)
    lp.tap()
    if double:
        assert lp.status["mode"] == "play" and lp.status["undo"] == "redo"
    else:
        # the first press was confirmed (an overdub), the second punched it out
        assert lp.status["mode"] == "play" and lp.status["undo"] == "undo"


def test_double_press_and_hold_from_empty_discard_the_take():
    for second in ("double", "hold"):
        lp = Pedal()
        lp.tap(noise(BLOCK, seed=7))
        assert lp.status["mode"] == "record"
        if second == "double":
            lp.silence(BLOCK * 50)
            lp.tap()
        else:
            lp.set(pedal=True)
            lp.silence(BLOCK * 250)
            lp.set(pedal=False)
        assert lp.status["mode"] == "empty"
        np.testing.assert_array_equal(lp.silence(BLOCK * 20), 0.0)


def test_hold_from_play_stops_with_the_loop_unchanged_and_hold_from_stop_clears():
    lp, take, pre, over, start = overdub_session()
    n = len(take)
    ref = lp.silence(n)
    lp.set(pedal=True)
    lp.run(noise(BLOCK * 260, seed=8))  # played while held: the tentative overdub is dropped
    lp.set(pedal=False)
    lp.silence(BLOCK)
    assert lp.status["mode"] == "stop" and lp.status["undo"] == "undo"
    lp.tap()  # play from the start
    y = lp.silence(n - BLOCK)  # positions BLOCK..n-1
    assert_loop(y[XF:], ref, BLOCK + XF)  # after the fade-in: unchanged
    lp.set(pedal=True)
    lp.silence(BLOCK * 260)
    lp.set(pedal=False)
    lp.silence(BLOCK * 5)
    assert lp.status["mode"] == "stop"
    lp.set(pedal=True)  # hold begun while stopped: clear
    lp.silence(BLOCK * 260)
    lp.set(pedal=False)
    assert lp.status["mode"] == "empty"


def test_a_pedal_saved_down_is_not_a_press_and_the_state_holds_max_s():
    lp = Pedal(pedal=True)
    lp.silence(BLOCK * 10)
    assert lp.status["mode"] == "empty"
    assert looper_state_size(SR, BLOCK) > 5 * MAX_S * SR  # base, overdub (stereo) and ids for MAX_S


def test_takes_longer_than_max_s_close_themselves():
    lp = Pedal(block=960)
    lp.tap()
    lp.silence(int(MAX_S * SR) + 960 * 3)
    assert lp.status["mode"] == "play" and lp.status["length"] == int(MAX_S * SR)


def test_loop_views_expose_base_overdub_and_ids():
    lp, take, pre, over, start = overdub_session()
    b, d, t, a = looper_loop(lp.st)
    assert b.shape == (2, len(take)) and set(np.unique(t)) <= {0.0, 1.0}
    played = b.T + (a[t.astype(int)] * (t > 0))[:, None] * d.T
    np.testing.assert_array_equal(played, lp.silence(len(take)))


def test_three_hundred_overdubs_some_undone_or_redone_sum_as_they_should():
    """More overdubs than the ring of heard/undone flags (NID) holds, each adding ``c_k`` times the same
    pattern, on two alternating, overlapping stretches of the loop; some undone, some undone and redone.
    The loop must be the first take plus, per stretch, ``sum(c_k)`` over its overdubs still heard times
    the shape one overdub of gain 1 leaves there (linearity: the overdubs on a stretch all have the same
    punch times, so one measured overdub gives the shape). Each overdub's first write folds the one
    before it into the base where they overlap; the background sweep folds the rest (undone ones as 0);
    the flag slots are reused."""
    from livehost.dsp.looper import NID

    blk = 960
    lp = Pedal(blk)
    n = 25 * blk  # a 0.5 s loop; a cycle is 4 passes, 100 blocks, starting at the loop's start
    take, pre, _ = record(lp, noise(n + 10 * blk, seed=12), 10 * blk, n)
    lp.silence(n - blk)
    out0 = lp.silence(n)
    pattern = noise(n, seed=13)
    rng = np.random.default_rng(14)
    kept = [[], []]
    shapes = []
    prev = out0
    for k in range(NID + 44):
        c = float(rng.uniform(-0.02, 0.02))
        action = ("keep", "undo", "redo")[rng.integers(3)] if k > 1 else "keep"
        down = {0, 18} if k % 2 == 0 else {7, 25}  # punch in and out: blocks 0..18, or 7..25 of the pass
        down |= {50, 52} if action != "keep" else set()  # double press: undo
        down |= {70, 72} if action == "redo" else set()  # another: redo
        for b in range(100):
            lp.set(pedal=b in down)
            lp.run(c * pattern[(b % 25) * blk:(b % 25 + 1) * blk])
        kept[k % 2].append(c if action != "undo" else 0.0)
        assert lp.status["undo"] == ("redo" if action == "undo" else "undo")
        if k < 2:  # the shape one overdub of gain 1 leaves on this stretch
            now = lp.silence(n)
            shapes.append((now - prev) / c)
            prev = now
            lp.silence(3 * n)  # the cycles stay aligned on the loop's start
    want = out0 + sum(kept[0]) * shapes[0] + sum(kept[1]) * shapes[1]
    np.testing.assert_allclose(lp.silence(n), want, rtol=0, atol=1e-12)
    # away from the punch ramps a shape is the pattern itself on its stretch and nothing elsewhere
    np.testing.assert_allclose(shapes[0][XF:18 * blk - XF], pattern[XF:18 * blk - XF], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(shapes[0][18 * blk + XF:n - XF], 0.0)
    np.testing.assert_allclose(shapes[1][7 * blk + XF:n - XF], pattern[7 * blk + XF:n - XF], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(shapes[1][XF:7 * blk], 0.0)


def test_two_loopers_on_parallel_branches_driven_by_footswitch_ccs_through_the_shipped_patch():
    """patches/looper.toml: a dry branch and two loopers (thru off) in a layer, footswitches on CC 80/81,
    clear on CC 82. Through the engine (MIDI router -> set_param -> the audio path), two takes of
    different lengths loop side by side, each the recording repeated; clearing one leaves the other."""
    from pathlib import Path

    from livehost import patch as P
    from livehost.engine.engine import Engine
    from livehost.engine.patching import apply_patch
    from livehost.midi.input import MidiRouter
    from livehost.workers import midi_config
    from tests.conftest import ROOT

    patch = P.load(Path(ROOT) / "patches" / "looper.toml")
    blk = patch.blocksize
    eng = Engine(float(patch.samplerate), blk, 2, 2, heap_slots=1 << 25)
    apply_patch(eng, patch)
    router = MidiRouter(eng, midi_config(patch))

    def state(node_id):
        it = eng.item(node_id)
        return looper_status(eng.a[it.sbase:it.sbase + it.ssize])

    sr = eng.sr
    frames = int(6 * sr) // blk * blk
    x = np.zeros((frames, 2), np.float32)
    x[:int(2.2 * sr)] = noise(int(2.2 * sr), seed=20)
    y = np.zeros_like(x)
    # (block, cc, value): loop1 records blocks 10..260 (0.667 s), loop2 blocks 100..475 (1 s)
    events = {10: (80, 127), 11: (80, 0), 100: (81, 127), 101: (81, 0), 260: (80, 127), 261: (80, 0),
              475: (81, 127), 476: (81, 0)}
    for b in range(frames // blk):
        if b in events:
            router.handle([0xB0, *events[b]])
        eng.process(x, y, off=b * blk, n=blk)
        if b == 300:
            assert state("loop1")["mode"] == "play" and state("loop2")["mode"] == "record"
    assert state("loop1")["length"] == 250 * blk and state("loop2")["length"] == 375 * blk
    lat = eng.latency_samples()
    xs = x.astype(np.float64)
    want = xs.copy()  # the dry branch
    for start, stop in ((10, 260), (100, 475)):
        a, z = start * blk, stop * blk
        loop = expected_loop(xs[a:z], xs[:a], XF)
        t = np.arange(z, frames)
        want[z:] += loop[(t - z) % (z - a)]
    got = y[lat:].astype(np.float64)
    np.testing.assert_allclose(got[int(2.3 * sr):], want[int(2.3 * sr):frames - lat], rtol=0, atol=1e-7)
    # loop1 cleared (CC 82): loop2 alone from then on
    router.handle([0xB0, 82, 127])
    y2 = np.zeros((int(sr) // blk * blk, 2), np.float32)
    for b in range(len(y2) // blk):
        eng.process(None, y2, off=b * blk, n=blk)
    assert state("loop1")["mode"] == "empty" and state("loop2")["mode"] == "play"
    t = np.arange(frames, frames + len(y2)) - lat
    z, n2 = 475 * blk, 375 * blk
    loop2 = expected_loop(xs[100 * blk:z], xs[:100 * blk], XF)
    k = XF + lat + 1  # loop1 fades out over xfade_ms first
    np.testing.assert_allclose(y2[k:], loop2[(t[k:] - z) % n2], rtol=0, atol=1e-7)
    assert np.abs(y2[:k] - loop2[(t[:k] - z) % n2]).max() > 0.01  # (loop1 was there)


def test_a_confirmed_overdub_catches_up_in_bounded_steps():
    """The scratch of a confirmed overdub (DOUBLE_S of input) goes into the loop at REPLAY samples per
    played sample, not in one block: the callback's work per block stays bounded."""
    from livehost.dsp.looper import REPLAY

    lp = Pedal()
    n = int(2 * SR)
    record(lp, noise(n + 2400, seed=15), 2400, n)
    lp.silence(150 * BLOCK)  # past the double-press window of the closing press
    lp.tap(noise(BLOCK, seed=16))
    lp.run(noise(139 * BLOCK, seed=17))
    assert lp.status["mode"] == "armed"
    lp.run(noise(BLOCK, seed=18))  # confirmed at this block's first sample (DOUBLE_S after the press)
    assert lp.status["mode"] == "overdub"
    written = lambda: int((looper_loop(lp.st)[2] == 1.0).sum())  # noqa: E731
    assert written() == REPLAY * BLOCK + BLOCK  # the catch-up's first block, and the live block
    lp.run(noise(BLOCK * 20, seed=19))
    assert written() == 140 * BLOCK + 21 * BLOCK  # the whole scratch, then everything played live


# ---- loop length quantised to bars of the tempo ---------------------------------------------------
BPM = 97.0  # a beat of 618.56... ms: a bar is no whole number of samples, nor of blocks
BEAT_MS = 60000.0 / BPM


def bar_len(bars: float, bpm: float = BPM, beats: int = 4) -> int:
    """Ground truth: ``bars`` bars of ``beats`` beats at ``bpm``, in samples."""
    return int(round(bars * beats * 60.0 / bpm * SR))


def drive(lp: Pedal, sig: np.ndarray, down: set[int]) -> np.ndarray:
    """Play ``sig`` block by block, the pedal down during the blocks numbered in ``down``."""
    out = []
    for b in range(len(sig) // lp.block):
        lp.set(pedal=b in down)
        out.append(lp.run(sig[b * lp.block:(b + 1) * lp.block]))
    return np.concatenate(out)


@pytest.mark.parametrize("press_bars, bars", [(1.8, 2), (2.2, 2), (0.3, 1), (3.45, 3)])
def test_a_quantised_take_is_a_whole_number_of_bars_and_loops_on_the_bar_grid(press_bars, bars):
    """quantise = bar at 97 bpm: the closing press at ``press_bars`` bars makes a loop of exactly
    round(bars x 4 x 60 / bpm x sr) samples: a press before the bar line lets the take record on to it,
    one after closes it there and the loop plays on from where the take had got to. Either way the
    output is the loop (the take's first L samples, end crossfaded into the pre-roll) on the grid that
    starts at the take's first sample, sample for sample (after the late press's fade-in)."""
    lp = Pedal(xfade_ms=XF_MS, thru=False, quantise="bar", beat_ms=BEAT_MS)
    length = bar_len(bars)
    a_blk = 20
    a = a_blk * BLOCK
    press_blk = a_blk + int(round(press_bars * bar_len(1) / BLOCK))
    total = a + 3 * length + bar_len(1)
    total -= total % BLOCK
    sig = noise(total, seed=30)
    y = drive(lp, sig, {a_blk, press_blk})
    st = lp.status
    assert st["length"] == length and st["mode"] == "play"
    loop = expected_loop(sig[a:a + length], sig[:a], XF)
    closed = max(a + length, press_blk * BLOCK)
    np.testing.assert_array_equal(y[:closed], 0.0)  # thru off: silence while recording
    late = press_blk * BLOCK > a + length
    t0 = closed + (XF if late else 0)
    assert_loop(y[t0:], loop, (t0 - a) % length)
    if late:  # the loop comes in at its middle: faded in over xfade_ms, not at once
        ramp = (np.arange(XF) + 1) / XF
        want = loop[(closed - a + np.arange(XF)) % length] * ramp[:, None]
        np.testing.assert_allclose(y[closed:closed + XF], want, rtol=0, atol=1e-15)


def test_quantise_beat_and_beats_per_bar():
    """quantise = beat rounds to whole beats (5 beats here); ``beats`` sets a bar's length for bars."""
    lp = Pedal(thru=False, quantise="beat", beat_ms=BEAT_MS)
    beat = bar_len(0.25)
    sig = noise(40 * beat, seed=31)
    drive(lp, sig[:(12 * beat) // BLOCK * BLOCK], {10, 10 + int(round(4.8 * beat / BLOCK))})
    assert lp.status["length"] == bar_len(5 / 4)
    lp = Pedal(thru=False, bars=2, beats=3, beat_ms=BEAT_MS)
    drive(lp, sig[:(12 * beat) // BLOCK * BLOCK], {10})
    assert lp.status["length"] == bar_len(2, beats=3) and lp.status["mode"] == "play"


def test_fixed_bars_close_the_take_by_themselves_at_the_exact_length():
    """bars = 2 (quantise off): one press starts the take, which closes itself after exactly two bars
    and plays back the recording repeated."""
    lp = Pedal(xfade_ms=XF_MS, thru=False, bars=2, beat_ms=BEAT_MS)
    length = bar_len(2)
    a = 10 * BLOCK
    total = (a + 3 * length) // BLOCK * BLOCK
    sig = noise(total, seed=32)
    y = drive(lp, sig, {10})
    assert lp.status["length"] == length
    assert_loop(y[a + length:], expected_loop(sig[a:a + length], sig[:a], XF))


def test_a_hold_while_a_quantised_take_records_on_keeps_it_and_stops():
    """The closing press is held: the take still closes at its whole bar, then the loop stops; a hold
    from empty still discards the take it started."""
    lp = Pedal(thru=False, quantise="bar", beat_ms=BEAT_MS)
    sig = noise(4 * bar_len(1) // BLOCK * BLOCK, seed=33)
    press = 10 + int(round(1.6 * bar_len(1) / BLOCK))  # rounds up to 2 bars: the take records on
    down = {10} | set(range(press, press + 300))  # held 300 blocks (> HOLD_S) from there
    drive(lp, sig, down)
    assert lp.status["mode"] == "stop" and lp.status["length"] == bar_len(2)
    lp = Pedal(thru=False, bars=1, beat_ms=BEAT_MS)
    drive(lp, sig[:BLOCK * 400], set(range(10, 300)))
    assert lp.status["mode"] == "empty"


def test_takes_longer_than_max_s_are_cut_to_whole_bars_that_fit():
    """At 20 bpm a bar is 12 s: a quantised take that fills the buffer (30 s) closes at two bars (24 s)
    and plays on 6 s into its second pass, still on the grid."""
    lp = Pedal(block=960, thru=False, quantise="bar", beat_ms=3000.0)
    lp.tap()
    lp.silence(int(MAX_S * SR) + 960 * 3)
    st = lp.status
    assert st["mode"] == "play" and st["length"] == bar_len(2, bpm=20)
    assert st["position"] == int(MAX_S * SR) + 960 * 4 - bar_len(2, bpm=20)


def test_an_offline_render_of_a_patch_quantises_to_bars_of_its_tempo():
    """A patch at ``[tempo] bpm = 97`` with a quantised looper and no ``beat_ms``: the loop follows the
    patch's tempo (beat_ms = 60000 / 97) through the engine; pressed at 1.9 bars, the loop is exactly
    round(2 x 4 x 60 / 97 x 48000) samples and the rendered output is it repeated."""
    from livehost import patch as P
    from livehost.engine.engine import Engine
    from livehost.engine.patching import apply_patch

    patch = P.loads("""[patch]
name = "q"
format = 1
samplerate = 48000
blocksize = 128
[tempo]
bpm = 97
[[chain]]
type = "looper"
id = "lp"
thru = false
quantise = "bar"
""", "q.toml")
    blk = patch.blocksize
    eng = Engine(float(patch.samplerate), blk, 2, 2, heap_slots=1 << 25)
    apply_patch(eng, patch)
    assert eng.get_param("lp", "beat_ms") == pytest.approx(BEAT_MS, rel=1e-12)
    length = bar_len(2)
    frames = (20 * blk + 3 * length) // blk * blk
    x = noise(frames, seed=34).astype(np.float32)
    y = np.zeros_like(x)
    p2 = 20 + int(round(1.9 * bar_len(1) / blk))
    pedal = {20: True, 21: False, p2: True, p2 + 1: False}  # set before the block: it acts in that block
    for b in range(frames // blk):
        if b in pedal:
            eng.set_param("lp", "pedal", pedal[b])
        eng.process(x, y, off=b * blk, n=blk)
    it = eng.item("lp")
    assert looper_status(eng.a[it.sbase:it.sbase + it.ssize])["length"] == length == 237526
    lat = eng.latency_samples()
    start = 20 * blk
    xs = x.astype(np.float64)
    got = y[lat:].astype(np.float64)
    loop = expected_loop(xs[start:start + length], xs[:start], XF)
    t = np.arange(start + length, frames - lat)
    np.testing.assert_array_equal(got[:start + length], 0.0)
    np.testing.assert_allclose(got[t], loop[(t - start) % length], rtol=0, atol=1e-7)


def test_a_loopers_beat_follows_the_session_tempo_unless_given_a_number(tmp_path):
    """``beat_ms`` left out of a patch (or of a node added later) follows the session tempo as the note
    division "1/4" does: the patch's tempo at load, then every change; a number given stays put. Saving
    writes neither the followed division nor its number; undo/redo of the add keeps it following."""
    from livehost.patch import load
    from livehost.session import Session

    path = tmp_path / "q.toml"
    path.write_text('[patch]\nname = "q"\nformat = 1\n[tempo]\nbpm = 97\n'
                    '[[chain]]\ntype = "looper"\nid = "lp"\nquantise = "bar"\n'
                    '[[chain]]\ntype = "looper"\nid = "fixed"\nbeat_ms = 450.0\n')
    s = Session(str(path), driver="none", start_models=False)
    try:
        eng = s.engine
        assert eng.get_param("lp", "beat_ms") == pytest.approx(BEAT_MS, rel=1e-12)
        assert s.value(eng.item("lp"), "beat_ms") == "1/4"
        s.set_tempo(150, "ui")
        assert eng.get_param("lp", "beat_ms") == pytest.approx(400.0)
        assert eng.get_param("fixed", "beat_ms") == 450.0
        nid = s.add("looper", after=eng.item("fixed"))
        assert eng.get_param(nid, "beat_ms") == pytest.approx(400.0)
        s.set_tempo(100, "ui")
        assert eng.get_param("lp", "beat_ms") == eng.get_param(nid, "beat_ms") == pytest.approx(600.0)
        s.save()
        text = path.read_text()
        assert text.count("beat_ms") == 1 and "beat_ms = 450.0" in text
        assert load(str(path)).engine_chain()[0][3]["beat_ms"] == pytest.approx(600.0)  # saved at 100 bpm
        assert s.undo() == "tempo 100 bpm"  # (tempo changes are undo steps too)
        assert eng.get_param("lp", "beat_ms") == eng.get_param(nid, "beat_ms") == pytest.approx(400.0)
        s.undo()
        assert nid not in [it.id for it in eng.chain]
        s.redo()
        assert eng.get_param(nid, "beat_ms") == pytest.approx(400.0)
        s.redo()
        assert eng.get_param(nid, "beat_ms") == pytest.approx(600.0)
        s.set_tempo(120, "ui")
        assert eng.get_param(nid, "beat_ms") == pytest.approx(500.0)
    finally:
        s.close()
