"""Random sequences of live edits against a session playing on the null driver (hypothesis, stateful).

Rules: load a patch, a MIDI program change, add / remove / move / bypass a node, set a parameter.
After every step the callback is still advancing, no node was reset for NaN, no non-finite sample
left; at the end the engine's graph (as a patch) equals the model's.
"""

from __future__ import annotations

import glob
import os
import time

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from livehost.engine import layout as L
from livehost.engine.graph import Layer
from livehost.engine.patching import patch_from_engine
from livehost.nodes.declare import all_params
from livehost.patch import LayerSpec, load
from livehost.session import Session
from tests.conftest import ROOT

SHIPPED = sorted(glob.glob(os.path.join(ROOT, "patches", "*.toml")))
ADDABLE = ["gain", "filter", "delay", "reverb", "chorus", "distortion", "compressor", "pitch_shift", "reverse"]


def normal(specs, types) -> list:
    """Patch chain specs as comparable tuples: type, id and the values that differ from the default."""
    out = []
    for sp in specs:
        if isinstance(sp, LayerSpec):
            vals = {k: v for k, v in sp.values.items() if v != {"wet": 1.0, "bypass": False}.get(k)}
            out.append(("layer", sp.id, sorted(vals.items()),
                        [(float(g), normal(ch, types)) for g, ch in sp.branches]))
        else:
            defaults = {p.name: p.default for p in all_params(types[sp.type])}
            vals = {k: v for k, v in sp.values.items() if v != defaults[k]}
            out.append(("node", sp.type, sp.id, sorted(vals.items())))
    return out


def hub_patch(folder: str) -> str:
    """The default patch plus ``[midi.programs]``: 1 = seed-chain, 2 = gain-only (absolute paths)."""
    text = open(os.path.join(ROOT, "patches", "default.toml")).read()
    text = text.replace('file = "audio/', f'file = "{os.path.join(ROOT, "patches", "audio")}/')
    progs = {1: "seed-chain.toml", 2: "gain-only.toml"}
    text += "\n[midi.programs]\n" + "".join(
        f'"{n}" = "{os.path.join(ROOT, "patches", f)}"\n' for n, f in progs.items())
    path = os.path.join(folder, "hub.toml")
    with open(path, "w") as f:
        f.write(text)
    return path


class LiveEdits(RuleBasedStateMachine):
    """A session on the null driver, and a model of its top-level chain."""

    folder: str = ""

    @initialize()
    def start(self):
        self.patches = SHIPPED + [hub_patch(self.folder)]
        self.s = Session(self.patches[0], driver="null")
        self.types = self.s.engine.types
        self.model = normal(load(self.patches[0]).chain, self.types)
        self.programs: dict[int, str] = {}

    def teardown(self):
        if getattr(self, "s", None) is not None:
            try:
                self.s.engine.wait_edits()
                got = normal(patch_from_engine(self.s.engine, self.s.patch).chain, self.types)
                assert got == self.model
            finally:
                self.s.close()

    # ---- rules ------------------------------------------------------------------------------------
    @rule(i=st.integers(0, 99))
    def load_patch(self, i):
        path = self.patches[i % len(self.patches)]
        self.s.load(path)
        p = load(path)
        self.model = normal(p.chain, self.types)
        self.programs = {int(k): v for k, v in dict((p.extra.get("midi") or {}).get("programs") or {}).items()}

    @rule(n=st.sampled_from([1, 2, 3]))
    def program_change(self, n):
        self.s._on_program(n)  # what the MIDI thread does; the run loop's service() loads it
        msg = self.s.service()
        if n in self.programs:
            assert msg == f"program {n}: {self.programs[n]}", msg
            p = load(self.programs[n])
            self.model = normal(p.chain, self.types)
            self.programs = {}
        else:
            assert "no patch listed" in msg

    @rule(t=st.sampled_from(ADDABLE), at=st.integers(0, 99))
    def add(self, t, at):
        chain = self.s.engine.chain
        index = at % (len(chain) + 1)
        nid = self.s.engine.add_node(t, index=index)
        self.model.insert(index, ("node", t, nid, []))

    @precondition(lambda self: len(self.model) > 0)
    @rule(at=st.integers(0, 99))
    def remove(self, at):
        i = at % len(self.model)
        item = self.s.engine.chain[i]
        self.s.remove(item)
        self.s.engine.wait_edits()
        del self.model[i]

    @precondition(lambda self: len(self.model) > 1)
    @rule(at=st.integers(0, 99), delta=st.sampled_from([-1, 1]))
    def move(self, at, delta):
        i = at % len(self.model)
        j = i + delta
        if not 0 <= j < len(self.model):
            return
        self.s.move(self.s.engine.chain[i], delta)
        self.s.engine.wait_edits()
        self.model.insert(j, self.model.pop(i))

    @precondition(lambda self: len(self.model) > 0)
    @rule(at=st.integers(0, 99))
    def bypass(self, at):
        i = at % len(self.model)
        item = self.s.engine.chain[i]
        self.s.toggle_bypass(item)
        on = bool(item.values["bypass"])
        m = self.model[i]
        vals = dict(m[2] if m[0] == "layer" else m[3])
        if on:
            vals["bypass"] = True
        else:
            vals.pop("bypass", None)
        self.model[i] = (m[0], m[1], sorted(vals.items()), m[3]) if m[0] == "layer" else \
            (m[0], m[1], m[2], sorted(vals.items()))

    @precondition(lambda self: any(m[0] == "node" for m in self.model))
    @rule(at=st.integers(0, 99), which=st.integers(0, 99), frac=st.floats(0.0, 1.0))
    def set_param(self, at, which, frac):
        nodes = [k for k, m in enumerate(self.model) if m[0] == "node"]
        i = nodes[at % len(nodes)]
        item = self.s.engine.chain[i]
        assert not isinstance(item, Layer)
        params = [p for p in item.params if p.kind == "float" and p.name != "wet"]
        if not params:
            return
        p = params[which % len(params)]
        v = float(round(p.lo + frac * (p.hi - p.lo), 6))
        if p.check(v):
            return
        self.s.set_value(item, p.name, v)
        m = self.model[i]
        vals = dict(m[3])
        if v != p.default:
            vals[p.name] = v
        else:
            vals.pop(p.name, None)
        self.model[i] = (m[0], m[1], m[2], sorted(vals.items()))

    # ---- invariants -------------------------------------------------------------------------------
    @invariant()
    def still_playing(self):
        if getattr(self, "s", None) is None:
            return
        a = self.s.engine.a
        c0 = a[L.H_CALLBACKS]
        end = time.monotonic() + 1.0  # a stalled callback never comes back; a late thread start does
        while a[L.H_CALLBACKS] < c0 + 3 and time.monotonic() < end:
            time.sleep(0.005)
        assert a[L.H_CALLBACKS] >= c0 + 3, "the callback stalled"
        st_ = self.s.engine.stats()
        assert st_["nan_resets"] == 0 and st_["nonfinite_out"] == 0, st_


def test_random_live_edits_keep_the_audio_running_and_match_the_model(tmp_path):
    LiveEdits.folder = str(tmp_path)
    machine = LiveEdits.TestCase
    machine.settings = settings(max_examples=10, stateful_step_count=20, deadline=None,
                                suppress_health_check=list(HealthCheck))
    machine().runTest()
