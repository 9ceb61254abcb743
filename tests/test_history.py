"""Undo/redo: the history's own rules, and a random sequence of session edits undone to the start
giving back the original patch and redone to the end giving the final one (hypothesis)."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livehost.engine.graph import Layer, Node
from livehost.engine.patching import patch_from_engine
from livehost.history import History, Step
from livehost.patch import to_dict
from livehost.session import Session
from tests.conftest import ROOT

PATCHES = [os.path.join(ROOT, "patches", f) for f in ("default.toml", "gain-only.toml", "seed-chain.toml")]
ADDABLE = ["gain", "filter", "delay", "chorus", "distortion", "layer"]


def test_steps_undo_in_reverse_order_and_a_new_edit_clears_redo():
    h, log = History(), []
    for k in range(3):
        h.record(Step(str(k), lambda k=k: log.append(-k), lambda k=k: log.append(k)), now=10.0 * k)
    assert h.undo().label == "2" and h.undo().label == "1"
    assert log == [-2, -1]
    assert h.redo().label == "1" and log == [-2, -1, 1]
    h.record(Step("new", lambda: None, lambda: None), now=100.0)
    assert h.can_redo == 0 and h.redo() is None
    assert [h.undo().label for _ in range(3)] == ["new", "1", "0"] and h.undo() is None


def test_changes_of_one_parameter_within_half_a_second_merge_into_one_step():
    h, state = History(merge_s=0.5), {"v": 0}

    def setter(v):
        return lambda: state.update(v=v)
    h.record(Step("p", setter(0), setter(1), key="p"), now=0.0)
    h.record(Step("p", setter(1), setter(2), key="p"), now=0.3)
    h.record(Step("p", setter(2), setter(3), key="p"), now=0.6)  # 0.3 s after the last: still the turn
    h.record(Step("p", setter(3), setter(4), key="p"), now=2.0)  # a new turn
    h.record(Step("q", setter(4), setter(5), key="q"), now=2.1)  # another parameter
    assert h.can_undo == 3
    h.undo(), h.undo()
    assert state["v"] == 3
    h.undo()
    assert state["v"] == 0
    h.redo()
    assert state["v"] == 3  # the merged step redoes to where the turn ended


def test_history_keeps_the_last_100_levels():
    h = History(limit=100)
    for k in range(150):
        h.record(Step(str(k), lambda: None, lambda: None), now=float(k))
    assert h.can_undo == 100
    labels = [h.undo().label for _ in range(100)]
    assert labels[0] == "149" and labels[-1] == "50" and h.undo() is None


# ---- the property: edits undone to the start give the original patch ------------------------------
def snapshot(s: Session) -> dict:
    """The session's patch as data (``patch_from_engine``), plus the file it belongs to."""
    s.engine.wait_edits()
    return {"patch": to_dict(patch_from_engine(s.engine, s.patch)), "path": s.path}


edit = st.one_of(
    st.tuples(st.just("param"), st.integers(0, 99), st.integers(0, 99), st.floats(0.0, 1.0)),
    st.tuples(st.just("add"), st.sampled_from(ADDABLE), st.integers(0, 99)),
    st.tuples(st.just("remove"), st.integers(0, 99)),
    st.tuples(st.just("move"), st.integers(0, 99), st.sampled_from([-1, 1])),
    st.tuples(st.just("bypass"), st.integers(0, 99)),
    st.tuples(st.just("load"), st.sampled_from(PATCHES)),
    st.tuples(st.just("ab"),),
)


def nodes_of(s: Session) -> list:
    """The rack's nodes and layers, in order."""
    return [it for _, kind, it in s.rows() if kind in ("node", "layer")]


def apply(s: Session, e: tuple) -> None:
    items = nodes_of(s)
    kind = e[0]
    if kind == "param":
        nodes = [it for it in items if isinstance(it, Node)] + [s.engine.master]
        it = nodes[e[1] % len(nodes)]
        params = [(n, p) for n, p in s.params_of(it) if p.kind == "float"]
        if params:
            name, p = params[e[2] % len(params)]
            s.set_value(it, name, float(round(p.lo + e[3] * (p.hi - p.lo), 4)))
    elif kind == "add":
        after = items[e[2] % len(items)] if items and e[2] % 3 else None
        if e[1] == "layer" and after is not None and not any(after is x for x in s.engine.chain):
            after = None  # layers go in the main chain
        s.add(e[1], after=after)
    elif kind == "remove" and items:
        s.remove(items[e[1] % len(items)])
    elif kind == "move" and items:
        s.move(items[e[1] % len(items)], e[2])
    elif kind == "bypass" and items:
        s.toggle_bypass(items[e[1] % len(items)])
    elif kind == "load":
        s.load(e[1])
    elif kind == "ab":
        s.flip_ab()
    s.engine.wait_edits()


@pytest.fixture(scope="module")
def session():
    s = Session(PATCHES[1], driver="none")
    yield s
    s.close()


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(edits=st.lists(edit, min_size=1, max_size=12), start=st.sampled_from(PATCHES))
def test_undo_to_the_start_gives_the_original_patch_and_redo_the_final_one(session, edits, start):
    s = session
    s.load(start)
    s.history.clear()
    first = snapshot(s)
    for e in edits:
        apply(s, e)
    last = snapshot(s)
    while s.undo() is not None:
        pass
    assert snapshot(s) == first
    while s.redo() is not None:
        pass
    assert snapshot(s) == last


def test_a_knob_turn_is_one_step_and_goes_back_through_the_smoothed_path():
    s = Session(PATCHES[1], driver="none")
    try:
        it = nodes_of(s)[0]
        name, p = [(n, q) for n, q in s.params_of(it) if q.kind == "float" and n != "wet"][0]
        v0 = s.value(it, name)
        for k in range(1, 6):
            s.step(it, name, p, 1)
        assert s.value(it, name) != v0 and s.history.can_undo == 1
        calls = []
        eng = s.engine
        real_set, real_build = eng.set_param, eng.build
        eng.set_param = lambda *a: (calls.append(("set_param",) + a), real_set(*a))[1]
        eng.build = lambda *a: (calls.append(("build",)), real_build(*a))[1]
        try:
            assert s.undo() == f"{it.id}.{name}"
        finally:
            eng.set_param, eng.build = real_set, real_build
        assert s.value(it, name) == v0
        # back through the engine's smoothed parameter path (the target moves), no rebuild or fade
        assert calls == [("set_param", it.id, name, v0)]
    finally:
        s.close()


def test_a_b_flips_between_two_versions():
    s = Session(PATCHES[1], driver="none")
    try:
        a = snapshot(s)
        assert s.flip_ab() == "B" and snapshot(s) == a  # B starts as a copy of A
        s.add("delay")
        b = snapshot(s)
        assert b != a
        assert s.flip_ab() == "A" and snapshot(s) == a
        assert s.flip_ab() == "B" and snapshot(s) == b
        s.undo()  # the flip itself is an undoable step
        assert s.ab_side == "A" and snapshot(s) == a
    finally:
        s.close()


def test_undoing_a_layer_removal_brings_back_its_branches():
    s = Session(PATCHES[1], driver="none")
    try:
        lid = s.add("layer")
        s.add("delay", after=None)
        lay = s.engine.item(lid)
        assert isinstance(lay, Layer)
        nid = s.engine.add_node("gain", layer=lid, branch=1)  # (not through the session: not a step)
        before = snapshot(s)
        s.remove(lay)
        assert lid not in [it.id for it in s.engine.chain]
        s.undo()
        assert snapshot(s) == before and s.engine.item(nid).type.name == "gain"
    finally:
        s.close()


def test_a_midi_learn_binding_is_undone_and_redone():
    s = Session(PATCHES[1], driver="none")
    try:
        it = nodes_of(s)[0]
        name = [n for n, q in s.params_of(it) if q.kind == "float"][0]
        before = [m.to_table() for m in s.midi_maps]
        s.arm_learn(f"{it.id}.{name}")
        s.cc(0, 21, 64)
        assert s.poll_learn() is not None
        bound = [m.to_table() for m in s.midi_maps]
        assert bound != before
        assert s.undo() == f"learn {it.id}.{name}"
        assert [m.to_table() for m in s.midi_maps] == before
        s.redo()
        assert [m.to_table() for m in s.midi_maps] == bound
    finally:
        s.close()


def test_tempo_changes_are_undo_steps_and_a_count_of_taps_is_one(tmp_path):
    """set_tempo (the UI, OSC) records a step; undo puts the tempo (and its source) back and re-sets a
    synced delay time with it; a count of taps (each within TAP_RESET_S of the last) is one step, however
    long; a tempo re-set to itself records nothing; MIDI clock following records nothing."""
    p = tmp_path / "t.toml"
    p.write_text('[patch]\nname = "t"\n[tempo]\nbpm = 90\n[[chain]]\ntype = "delay"\nid = "echo"\ntime_ms = "1/4"\n')
    s = Session(str(p), driver="none", start_models=False)
    try:
        s.history.clear()
        ms = lambda: s.engine.get_param("echo", "time_ms")  # noqa: E731
        s.set_tempo(150, "osc")
        assert ms() == pytest.approx(400.0) and s.history.can_undo == 1
        s.set_tempo(150, "ui")  # the same tempo: no step
        assert s.history.can_undo == 1
        for k in range(6):  # taps 0.5 s apart: 120 bpm (5 intervals)
            s.tap(1000.0 + 0.5 * k)
        assert s.tempo.bpm == pytest.approx(120.0) and s.tempo.source == "tap"
        assert s.history.can_undo == 2
        assert s.undo() == "tempo 120 bpm"
        assert s.tempo.bpm == 150.0 and s.tempo.source == "ui" and ms() == pytest.approx(400.0)
        assert s.undo() == "tempo 150 bpm"
        assert s.tempo.bpm == 90.0 and s.tempo.source == "patch" and ms() == pytest.approx(60000.0 / 90)
        assert s.undo() is None
        s.redo(), s.redo()
        assert s.tempo.bpm == pytest.approx(120.0) and ms() == pytest.approx(500.0)
        s.clock_in = True  # MIDI clock at 100 bpm (1200 frames a clock at 48 kHz): followed, not an edit
        r = s.workers.router
        r.handle([0xFA], delivered=True, frame=0)
        for k in range(30):
            r.handle([0xF8], delivered=True, frame=5000 + 1200 * k)
        assert s.tempo.bpm == pytest.approx(100.0) and s.history.can_undo == 2
    finally:
        s.close()
