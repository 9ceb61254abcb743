"""The engine's control side: build a graph in the arena, change it while it plays, read its meters.

Every method here runs off the audio thread (UI, MIDI, CLI, tests). Changes reach the callback only
through the arena: parameter targets (smoothed by the callback), and whole programs published into
the idle one of two program regions and switched by a generation counter at a block boundary.
Adding a node inserts it fully bypassed and ramps it in; removing or moving one ramps it out first,
so an edit is a short crossfade, never a click.

Memory the published program reaches is never freed while the audio thread may still run it:
replaced or removed items are *retired* with the generation that dropped them and freed only once the
callback has acknowledged that generation (and no worker holds a view of them). The whole protocol
(ownership, ordering of the shared words) is written down in :mod:`livehost.engine.protocol`.
"""

from __future__ import annotations

import itertools
import threading
import time

import numpy as np

from livehost.dsp.atomics import acquire, release
from livehost.dsp.compdelay import C_HEAD, C_TARGET, comp_init, comp_state_size
from livehost.engine import layout as L
from livehost.engine.arena import Arena, ArenaFull
from livehost.engine.codegen import compiled, kind_of
from livehost.engine.graph import LAYER_PARAMS, Block, Branch, Layer, Node, compile_program, find, walk
from livehost.errors import LivehostError
from livehost.nodes import load_all
from livehost.nodes.declare import NodeType, resolve, suggest

DEFAULT_HEAP_SLOTS = 1 << 30  # 8 GiB of address space reserved; only what nodes use becomes memory


class EngineError(LivehostError):
    """An edit the engine cannot make (unknown node, bad value, arena full)."""


class Engine:
    """A running (or renderable) graph.

    sr: sample rate in Hz; max_block: largest block in frames (32..1024); in_ch / out_ch: device
    channels (1 or 2; 0 input channels for output-only streams); heap_slots: arena heap size.
    """

    def __init__(self, sr: float = 48000.0, max_block: int = 128, in_ch: int = 2, out_ch: int = 2,
                 heap_slots: int = DEFAULT_HEAP_SLOTS, extra_slots: int = 0):
        if not 8000 <= sr <= 192000:
            raise EngineError(f"sample rate {sr:g} Hz is not supported (8000..192000)")
        if not 16 <= max_block <= 4096:
            raise EngineError(f"block size {max_block} is not supported (16..4096 frames)")
        self.types = load_all()
        self.audio = compiled()
        self.arena = Arena(sr, max_block, heap_slots + extra_slots)
        self.a = self.arena.a
        self.sr = float(sr)
        self.max_block = int(max_block)
        self.set_channels(in_ch, out_ch)
        self.lock = threading.RLock()
        self._midi_lock = threading.Lock()
        self._owed: list[tuple[int, int, int, int]] = []  # note-offs etc. the full MIDI ring refused: sent first
        self.midi_late = 0  # owed note-offs delivered once the ring had room
        self.running = False  # True while a real-time driver calls process_block on another thread
        self.input_mode = "mic"
        self.sources: list[Node] = []
        self.chain: list = []
        self._slots = list(range(L.MAX_SLOTS - 1, L.SLOT_MASTER, -1))
        self._ids = itertools.count(1)
        self._pending: list[tuple] = []  # (action, item, info) waiting for a fade to finish
        self._retired: list[tuple[int, object]] = []  # (generation that dropped it, item) not yet freed
        self._max_lat: dict[int, int] = {}  # id(node type) -> the most latency it can have (samples)
        self._made: list[Node] | None = None  # during a build: nodes holding resources outside the arena
        self.master = self._make_node("master", "master", {}, fade_in=False)
        self.a[L.H_MASTER_P] = self.master.pbase
        self.a[L.H_MASTER_NP] = len(self.master.params)
        self.a[L.H_MASTER_S] = self.master.sbase
        self.a[L.H_MASTER_SS] = self.master.ssize
        self.driver_name = "offline"
        self.device_name = ""
        self.input_channels: list[int] | None = None  # [input] channels (set_input_channels)
        self.device_latency = (0.0, 0.0)  # the device's own input and output latency (s), set by drivers
        self.publish()

    # ---- building ------------------------------------------------------------------------------
    def set_channels(self, in_ch: int, out_ch: int) -> None:
        """Device channel counts the callback maps to/from the engine's stereo buffers."""
        self.in_ch = int(in_ch)
        self.out_ch = int(out_ch)
        self.a[L.H_IN_CH] = self.in_ch
        self.a[L.H_OUT_CH] = self.out_ch

    def set_input_channels(self, channels: list[int] | None) -> None:
        """Which device input channels feed the graph: ``[c]`` (channel c to both sides), ``[l, r]``
        (1-based device channel numbers) or None (the default: 1 and 2, a mono device to both sides).
        One arena word the callback reads each block; a channel the device lacks is silent."""
        if not channels:
            sel = 0
        else:
            left = int(channels[0])
            right = int(channels[1]) if len(channels) > 1 else left
            if not (1 <= left < L.IN_SEL_BASE and 1 <= right < L.IN_SEL_BASE):
                raise EngineError(f"input channels {list(channels)} must be 1..{L.IN_SEL_BASE - 1}")
            sel = left + L.IN_SEL_BASE * right
        self.input_channels = list(channels) if channels else None
        self.a[L.H_IN_SEL] = float(sel)

    def node_type(self, name: str) -> NodeType:
        """The declared node type ``name`` (EngineError with a suggestion if unknown)."""
        nt = self.types.get(name)
        if nt is None or nt.name == "master":
            raise EngineError(f"unknown node type '{name}'{suggest(name, list(self.types))}")
        return nt

    def _alloc_slot(self) -> int:
        if not self._slots:
            raise EngineError("too many nodes: no meter slot left")
        return self._slots.pop()

    def _new_id(self, base: str) -> str:
        existing = {it.id for it in walk(self.chain)} | {s.id for s in self.sources}
        while True:
            cand = f"{base}{next(self._ids)}"
            if cand not in existing:
                return cand

    def _write_params(self, pbase: int, params, numbers) -> None:
        n = len(params)
        for j, (p, v) in enumerate(zip(params, numbers)):
            self.a[pbase + j] = v
            self.a[pbase + n + j] = v
            self.a[pbase + 2 * n + j] = v
            self.a[pbase + 3 * n + j] = p.smoothing_ms

    def _make_node(self, type_name: str, node_id: str, values: dict, fade_in: bool,
                   payload: np.ndarray | None = None, options: dict | None = None) -> Node:
        try:
            nt = resolve(self.types[type_name], options)
        except LivehostError as e:
            raise EngineError(f"{node_id}: {e}") from None
        node = Node(node_id, nt, {}, payload=payload, options=dict(options or {}))
        params = node.params
        for p in params:
            node.values[p.name] = values.get(p.name, p.default)
        for k in values:
            if k not in node.values:
                raise EngineError(f"{type_name} has no parameter '{k}'{suggest(k, [p.name for p in params])}")
        for p in params:
            why = p.check(node.values[p.name])
            if why:
                raise EngineError(f"{node_id}.{p.name} {why}")
        base = int(nt.state_size(self.sr, self.max_block))
        if nt.midi and base < L.MIDI_HEAD:
            raise EngineError(f"node type {type_name} takes MIDI but its state is smaller than the event head")
        node.ssize = max(1, base + (0 if payload is None else payload.size))
        node.pbase = self.arena.alloc(4 * len(params))
        node.sbase = self.arena.alloc(node.ssize)
        st = self.a[node.sbase:node.sbase + node.ssize]
        if nt.init is not None:
            nt.init(st[:max(base, 1)], self.sr, self.max_block)
            if nt.release is not None and self._made is not None:
                self._made.append(node)
        if payload is not None:
            st[base:base + payload.size] = payload
        node.kind = kind_of(type_name)
        most = self.max_latency(nt) if type_name != "master" else 0
        if most > 0:  # the dry path gets a compensation delay as long as the node's latency can be
            node.csize = comp_state_size(most)
            node.cbase = self.arena.alloc(node.csize)
            # settled at the node's latency, or (faded in live) at none: the delay follows the bypass ramp
            now = 0 if fade_in else nt.latency(node.values, self.sr)
            comp_init(self.a[node.cbase:node.cbase + node.csize], most, now, self.sr)
        node.slot = self._alloc_slot() if type_name != "master" else L.SLOT_MASTER
        self._write_params(node.pbase, params, [p.to_number(node.values[p.name]) for p in params])
        if fade_in:
            b = node.pbase + 1  # bypass: start fully bypassed, ramp to the wanted state
            n = len(params)
            self.a[b + n] = 1.0
            self.a[b + 2 * n] = 1.0
        return node

    def _make_layer(self, layer_id: str, values: dict, branches: list[tuple[float, list]], fade_in: bool) -> Layer:
        lay = Layer(layer_id, [Branch(float(g), chain) for g, chain in branches], {})
        for p in LAYER_PARAMS:
            lay.values[p.name] = values.get(p.name, p.default)
            why = p.check(lay.values[p.name])
            if why:
                raise EngineError(f"{layer_id}.{p.name} {why}")
        lay.pbase = self.arena.alloc(4 * len(lay.params))
        lay.slot = self._alloc_slot()
        self._write_params(lay.pbase, lay.params, lay.numbers())
        if fade_in:
            n = len(lay.params)
            self.a[lay.pbase + 1 + n] = 1.0
            self.a[lay.pbase + 1 + 2 * n] = 1.0
        return lay

    def _release(self, item) -> None:
        if isinstance(item, Block):
            self.arena.free(item.off, item.size)
            return
        if isinstance(item, Layer):
            for b in item.branches:
                for sub in b.chain:
                    self._release(sub)
                if b.cbase:
                    self.arena.free(b.cbase, b.csize)
            self.arena.free(item.pbase, 4 * len(item.params))
        else:
            if item.type.release is not None:  # the audio thread no longer reaches it (see reclaim)
                item.type.release(self.a[item.sbase:item.sbase + item.ssize])
            self.arena.free(item.pbase, 4 * len(item.params))
            self.arena.free(item.sbase, item.ssize)
        if item.cbase:
            self.arena.free(item.cbase, item.csize)
        self._slots.append(item.slot)

    # ---- latency compensation --------------------------------------------------------------------
    def max_latency(self, nt: NodeType) -> int:
        """The most latency (samples) node type ``nt`` can have at this rate: its declared latency at
        the defaults, with each number parameter at either end of its range and each choice at every
        value (0 if it is not compensated)."""
        cache = self._max_lat
        if not nt.compensated:
            return 0
        if id(nt) not in cache:
            base = {p.name: p.default for p in nt.params}
            ends = [(p.name, x) for p in nt.params if p.kind == "float" for x in (p.lo, p.hi)]
            ends += [(p.name, x) for p in nt.params if p.kind == "choice" for x in p.choices]
            probes = [base] + [{**base, name: x} for name, x in ends]
            cache[id(nt)] = max(int(nt.latency(v, self.sr)) for v in probes)
        return cache[id(nt)]

    def _most_latency(self, chain: list) -> int:
        """The most latency ``chain`` can reach with the nodes it holds (samples)."""
        total = 0
        for it in chain:
            if isinstance(it, Layer):
                total += max((self._most_latency(b.chain) for b in it.branches), default=0)
            else:
                total += self.max_latency(it.type)
        return total

    def item_latency(self, it) -> int:
        """Samples of latency ``it`` adds now (0 when bypassed or when its delay is the effect itself,
        see ``NodeType.compensated``; a layer: its slowest branch)."""
        if it.values.get("bypass"):
            return 0
        if isinstance(it, Layer):
            return max((self.chain_latency(b.chain) for b in it.branches), default=0)
        return int(it.type.latency(it.values, self.sr)) if it.type.compensated else 0

    def chain_latency(self, chain: list) -> int:
        """Samples of delay ``chain`` adds now (every item's :meth:`item_latency`, in series)."""
        return sum(self.item_latency(it) for it in chain)

    def _plan_latency(self) -> list:
        """Give every layer whose branches can have latency its compensation delays (dry path and one
        per branch), long enough for the most its branches can reach; returns the blocks replaced."""
        old: list = []
        for lay in walk(self.chain):
            if not isinstance(lay, Layer):
                continue
            most = max((self._most_latency(b.chain) for b in lay.branches), default=0)
            if most == 0 or (lay.cbase and (lay.csize - C_HEAD) // 2 - 1 >= most):
                continue
            lats = [self.chain_latency(b.chain) for b in lay.branches]
            now = [0 if lay.values.get("bypass") else max(lats)] + [max(lats) - x for x in lats]
            for holder, d in zip([lay, *lay.branches], now):  # new delays start settled where they belong
                if holder.cbase:
                    old.append(Block(holder.cbase, holder.csize))
                holder.csize = comp_state_size(most)
                holder.cbase = self.arena.alloc(holder.csize)
                comp_init(self.a[holder.cbase:holder.cbase + holder.csize], most, d, self.sr)
        return old

    def _latency_key(self, it) -> tuple:
        """What of item ``it`` the compensation delays depend on: its bypass and, for a compensated
        node, its latency (samples); no other parameter moves a delay's target."""
        if isinstance(it, Node) and it.type.compensated:
            return bool(it.values.get("bypass")), int(it.type.latency(it.values, self.sr))
        return (bool(it.values.get("bypass")),)

    def _write_latency(self) -> None:
        """Write every compensation delay's target: a node's dry path its latency; a layer's branches
        the difference to the slowest branch, its dry path the slowest branch's latency."""
        a = self.a
        for it in walk(self.chain):
            if isinstance(it, Node):
                if it.cbase:
                    a[it.cbase + C_TARGET] = int(it.type.latency(it.values, self.sr))
                continue
            lats = [self.chain_latency(b.chain) for b in it.branches]
            most = max(lats, default=0)
            if it.cbase:
                a[it.cbase + C_TARGET] = 0 if it.values.get("bypass") else most
            for b, lat in zip(it.branches, lats):
                if b.cbase:
                    a[b.cbase + C_TARGET] = most - lat

    def _retire(self, items: list, gen: int) -> None:
        """Items the program of generation ``gen`` no longer reaches: freed by :meth:`reclaim`."""
        self._retired.extend((gen, it) for it in items)

    def reclaim(self) -> int:
        """Free retired items the audio thread can no longer reach (it acknowledged the generation
        that dropped them, or no driver runs) and no worker holds; returns how many are still waiting."""
        with self.lock:
            ack = int(acquire(self.a, L.H_ACK))
            keep = []
            for gen, it in self._retired:
                if (self.running and ack < gen) or _held(it):
                    keep.append((gen, it))
                else:
                    self._release(it)
            self._retired = keep
            return len(keep)

    def hold_payload(self, node_id: str) -> tuple[Node, np.ndarray]:
        """A node and a live view of its payload that stays valid (not freed, not reused) until
        :meth:`release_hold` (for a worker writing into the node's ring from its own thread)."""
        with self.lock:
            view = self.payload(node_id)
            node = self.item(node_id)
            node.holds += 1
            return node, view

    def release_hold(self, node: Node) -> None:
        """Give back a :meth:`hold_payload`; the node's memory may be freed once it is retired."""
        with self.lock:
            node.holds = max(0, node.holds - 1)
        self.reclaim()

    @property
    def started(self) -> bool:
        """True once the callback has processed audio (edits then fade instead of jumping)."""
        return self.a[L.H_FRAMES] > 0

    # ---- publishing ----------------------------------------------------------------------------
    def publish(self, timeout: float = 2.0, retire: list | None = None) -> None:
        """Compile the model and swap it in at the next block boundary (waits for the audio thread);
        ``retire``: items the new program no longer reaches, freed once the audio thread moved on."""
        with self.lock:
            replaced = self._plan_latency()
            self._write_latency()
            rows = compile_program(self.input_mode, self.sources, self.chain)
            a = self.a
            if self.running:  # the idle region may still be running until the last swap is acknowledged
                self._wait_ack(timeout)
            gen = int(a[L.H_GEN]) + 1
            target = gen & 1  # program region = generation parity: one word publishes both
            base = int(a[L.H_PROG1] if target else a[L.H_PROG0])
            a[base:base + rows.size] = rows.ravel()
            a[L.H_NOPS1 if target else L.H_NOPS0] = len(rows)
            release(a, L.H_GEN, gen)  # rows, counts and region before the generation
            if retire or replaced:
                self._retire(list(retire or []) + replaced, gen)
            if self.running:
                self._wait_ack(timeout)
            self.reclaim()

    def _wait_ack(self, timeout: float) -> None:
        end = time.monotonic() + timeout
        while acquire(self.a, L.H_ACK) != self.a[L.H_GEN]:
            if time.monotonic() > end:
                raise EngineError("the audio thread did not pick up the new graph (stream stalled?)")
            time.sleep(0.0005)

    # ---- graph model from a patch --------------------------------------------------------------
    def build(self, input_mode: str, sources: list[tuple], chain_spec: list, master_values: dict) -> None:
        """Replace the whole graph (used when loading a patch before the stream starts).

        sources: ``(type, id, values, payload, options)`` tuples; chain_spec: items ``("node", type, id,
        values)`` or ``("layer", id, values, [(gain_db, chain_spec), ...])``; master_values: master params.
        """
        with self.lock:
            self._check_values("master", self.master.params, master_values)
            # the new graph goes into fresh memory while the old one plays on; all or nothing
            mark, slots = self.arena.mark(), list(self._slots)
            fade = self.started
            self._made = []
            try:
                new_sources = [self._make_node(t, i, v, fade, payload=p, options=o) for t, i, v, p, o in sources]
                new_chain = self._build_chain(chain_spec, fade)
            except ArenaFull as e:
                self._unmake()
                self.arena.rollback(mark)
                self._slots = slots
                raise EngineError(f"not enough engine memory for this patch ({e})") from None
            except BaseException:
                self._unmake()
                self.arena.rollback(mark)
                self._slots = slots
                raise
            finally:
                self._made = None
            old = self.chain + self.sources  # pending edits are inside it: they go with it
            self._pending = []
            self.input_mode = input_mode
            self.a[L.H_SILENT_IN] = 0.0 if input_mode == "mic" else 1.0
            self.sources = new_sources
            self.chain = new_chain
            # the master takes the new patch's values; what it leaves out goes back to the default
            # (mute excepted: a live load fades it out and back in around the swap)
            for p in self.master.params:
                if p.name in master_values or p.name not in ("wet", "bypass", "mute"):
                    self.set_param("master", p.name, master_values.get(p.name, p.default))
            self.publish(retire=old)

    def _unmake(self) -> None:
        """Release what the nodes of a failed build took outside the arena (they were never published)."""
        for node in self._made or []:
            node.type.release(self.a[node.sbase:node.sbase + node.ssize])

    def _check_values(self, node_id: str, params, values: dict) -> None:
        by_name = {p.name: p for p in params}
        for k, v in values.items():
            p = by_name.get(k)
            if p is None:
                raise EngineError(f"{node_id} has no parameter '{k}'{suggest(k, list(by_name))}")
            why = p.check(v)
            if why:
                raise EngineError(f"{node_id}.{k} {why}")

    def _build_chain(self, spec: list, fade: bool) -> list:
        out = []
        for item in spec:
            if item[0] == "node":
                _, type_name, node_id, values = item[:4]
                options = item[4] if len(item) > 4 else None
                self.node_type(type_name)
                out.append(self._make_node(type_name, node_id or self._new_id(type_name), values, fade,
                                           options=options))
            else:
                _, layer_id, values, branches = item
                built = [(g, self._build_chain(ch, fade)) for g, ch in branches]
                out.append(self._make_layer(layer_id or self._new_id("layer"), values, built, fade))
        return out

    # ---- live control --------------------------------------------------------------------------
    def item(self, node_id: str):
        """The Node, Layer or source ``node_id`` (``"master"`` is the master section)."""
        if node_id == "master":
            return self.master
        for s in self.sources:
            if s.id == node_id:
                return s
        hit = find(self.chain, node_id)
        if hit is None:
            ids = [it.id for it in walk(self.chain)] + [s.id for s in self.sources] + ["master"]
            raise EngineError(f"no node '{node_id}'{suggest(node_id, ids)}")
        return hit[2]

    def set_param(self, node_id: str, name: str, value) -> None:
        """Set a parameter's target (patch units); the callback smooths towards it."""
        with self.lock:
            it = self.item(node_id)
            params = it.params
            names = self.param_names(node_id)
            if name not in names:
                raise EngineError(f"{node_id} has no parameter '{name}'{suggest(name, names)}")
            j = names.index(name)
            p = params[j]
            why = p.check(value)
            if why:
                raise EngineError(f"{node_id}.{name} {why}")
            before = self._latency_key(it)
            if isinstance(it, Layer) and j >= 2:
                it.branches[j - 2].gain_db = float(value)
            else:
                it.values[name] = value
            x = p.to_number(value)
            self.a[it.pbase + j] = x
            if self._latency_key(it) != before:  # the compensation delays' targets move with it
                self._write_latency()
            if not self.started:  # nothing is playing: no ramp from the old value
                n = len(params)
                self.a[it.pbase + n + j] = x
                self.a[it.pbase + 2 * n + j] = x

    def param_names(self, node_id: str) -> list[str]:
        """Parameter names of a node in slot order (a layer's branch gains are ``branchN.gain_db``)."""
        it = self.item(node_id)
        if isinstance(it, Layer):
            return ["wet", "bypass"] + [f"branch{j}.gain_db" for j in range(len(it.branches))]
        return [p.name for p in it.params]

    def get_param(self, node_id: str, name: str, current: bool = False):
        """A parameter's target value (patch units), or the smoothed value the audio uses now."""
        it = self.item(node_id)
        names = self.param_names(node_id)
        if name not in names:
            raise EngineError(f"{node_id} has no parameter '{name}'{suggest(name, names)}")
        j = names.index(name)
        if current:
            return it.params[j].from_number(self.a[it.pbase + len(names) + j])
        if isinstance(it, Layer) and j >= 2:
            return it.branches[j - 2].gain_db
        return it.values[name]

    def fade_master(self, mute: bool, timeout: float = 0.5) -> None:
        """Ramp the output to silence (or back) and, while audio runs, wait for the ramp to finish."""
        self.set_param("master", "mute", bool(mute))
        if not self.running:
            return
        n = len(self.master.params)
        j = [p.name for p in self.master.params].index("mute")
        end = time.monotonic() + timeout
        while self.a[self.master.pbase + n + j] != (1.0 if mute else 0.0) and time.monotonic() < end:
            time.sleep(0.002)

    def set_bypass(self, node_id: str, on: bool) -> None:
        """Bypass a node or layer (crossfaded over its bypass smoothing time)."""
        self.set_param(node_id, "bypass", bool(on))

    def add_node(self, type_name: str, values: dict | None = None, index: int | None = None,
                 layer: str | None = None, branch: int = 0, node_id: str | None = None,
                 options: dict | None = None) -> str:
        """Insert a node (faded in) at ``index`` of the main chain or of ``layer``'s ``branch``; its id.
        ``options``: the type's non-parameter settings (an ``lv2`` node's ``uri``)."""
        with self.lock:
            self.node_type(type_name)
            target = self._container(layer, branch)
            if node_id is not None:
                self._check_free_id(node_id)
            node = self._make_node(type_name, node_id or self._new_id(type_name), dict(values or {}), self.started,
                                   options=options)
            target.insert(len(target) if index is None else index, node)
            self.publish()
            return node.id

    def add_layer(self, branches: int = 2, index: int | None = None, node_id: str | None = None) -> str:
        """Insert an empty layer with ``branches`` branches (faded in); its id."""
        with self.lock:
            if node_id is not None:
                self._check_free_id(node_id)
            lay = self._make_layer(node_id or self._new_id("layer"), {}, [(0.0, []) for _ in range(branches)],
                                   self.started)
            self.chain.insert(len(self.chain) if index is None else index, lay)
            self.publish()
            return lay.id

    def _check_free_id(self, node_id: str) -> None:
        if node_id == "master" or find(self.chain, node_id) or any(s.id == node_id for s in self.sources):
            raise EngineError(f"a node called '{node_id}' exists already")

    def _container(self, layer: str | None, branch: int) -> list:
        if layer is None:
            return self.chain
        lay = self.item(layer)
        if not isinstance(lay, Layer):
            raise EngineError(f"'{layer}' is not a layer")
        if not 0 <= branch < len(lay.branches):
            raise EngineError(f"layer '{layer}' has no branch {branch}")
        return lay.branches[branch].chain

    def remove_node(self, node_id: str) -> None:
        """Fade a node or layer out, then take it out of the graph (see :meth:`service`)."""
        with self.lock:
            it = self.item(node_id)
            if it is self.master or it in self.sources:
                raise EngineError(f"'{node_id}' cannot be removed")
            if not self.started:
                self._finish_remove(it)
                return
            self._fade_out(it)
            self._pending.append(("remove", it, None))

    def move_node(self, node_id: str, index: int, layer: str | None = None, branch: int = 0) -> None:
        """Move a node to ``index`` of the main chain (or a layer branch): fade out, move, fade in."""
        with self.lock:
            it = self.item(node_id)
            if it is self.master or it in self.sources:
                raise EngineError(f"'{node_id}' cannot be moved")
            dest = (index, layer, branch)
            if not self.started:
                self._relocate(it, dest)
                self.publish()
                return
            was = it.values.get("bypass", False)
            self._fade_out(it)
            self._pending.append(("move", it, (dest, was)))

    def _fade_out(self, it) -> None:
        self.a[it.pbase + 1] = 1.0

    def _faded(self, it) -> bool:
        n = len(it.params)
        return self.a[it.pbase + n + 1] >= 1.0 and self.a[it.pbase + 2 * n + 1] >= 1.0

    def _relocate(self, it, dest) -> None:
        container, i, _ = find(self.chain, it.id)
        del container[i]
        index, layer, branch = dest
        target = self._container(layer, branch)
        target.insert(max(0, min(len(target), index)), it)

    def _finish_remove(self, it) -> None:
        container, i, _ = find(self.chain, it.id)
        del container[i]
        self.publish(retire=[it])

    def service(self) -> int:
        """Finish edits whose fade-out is complete; returns how many are still pending.

        Drivers call this regularly (the offline driver between blocks, live drivers from a control
        thread every few milliseconds). Retired memory the audio thread has left is freed here too.
        """
        if self._owed:
            with self._midi_lock:
                self._pay_owed()
        with self.lock:
            if self._retired:
                self.reclaim()
            still = []
            for action, it, info in self._pending:
                if not self._faded(it):
                    still.append((action, it, info))
                    continue
                if action == "remove":
                    self._finish_remove(it)
                else:
                    dest, was = info
                    self._relocate(it, dest)
                    self.publish()
                    self.a[it.pbase + 1] = 1.0 if was else 0.0
            self._pending = still
            return len(still)

    def wait_edits(self, timeout: float = 2.0) -> None:
        """Block until pending edits are finished (live drivers only)."""
        end = time.monotonic() + timeout
        while self.service():
            if time.monotonic() > end:
                raise EngineError("edits did not finish (is the stream running?)")
            time.sleep(0.002)

    def send_midi(self, status: int, d1: int = 0, d2: int = 0, frame: int = -1) -> bool:
        """Queue one MIDI event for the audio thread (lock-free ring; False if the ring is full).

        frame: absolute engine frame at which it sounds (offline renders), or -1 for the next block.
        Events must be queued in time order. A note-off (or pedal release, all-notes-off, panic) the full
        ring refuses is not lost: it is owed, sent as soon as the ring has room (before any later event,
        by the next ``send_midi`` or :meth:`service`), and True is returned, so a flood never leaves a
        note hanging.
        """
        with self._midi_lock:
            if self._owed and not self._pay_owed():
                ok = False
            else:
                ok = self._put(frame, status, d1, d2)
            if not ok and _must_arrive(status, d1, d2):
                self._owed.append((frame, status, d1, d2))
                return True
            return ok

    def _put(self, frame: int, status: int, d1: int, d2: int) -> bool:
        a = self.a
        w = int(a[L.H_MIDI_W])
        if w - int(acquire(a, L.H_MIDI_R)) >= L.MIDI_CAP:
            return False
        base = int(a[L.H_MIDI]) + (w % L.MIDI_CAP) * L.MIDI_W
        a[base:base + 4] = (frame, status, d1, d2)
        release(a, L.H_MIDI_W, w + 1)  # publish after the event is written
        return True

    def _pay_owed(self) -> bool:
        """Send owed note-offs while the ring has room (under the MIDI lock); True if none is left."""
        while self._owed:
            if not self._put(*self._owed[0]):
                return False
            self._owed.pop(0)
            self.midi_late += 1
        return True

    def payload(self, node_id: str) -> np.ndarray:
        """A live view of a node's payload (the data appended after its declared state: a synth's
        128-note tuning table in Hz, a file's samples). Writes are seen by the next block. The view
        is valid only while the node is in the graph: a thread that keeps it uses :meth:`hold_payload`,
        one that writes now and then uses :meth:`write_payload`."""
        it = self.item(node_id)
        if not isinstance(it, Node) or it.payload is None:
            raise EngineError(f"'{node_id}' has no payload")
        end = it.sbase + it.ssize
        return self.a[end - it.payload.size:end]

    def write_payload(self, node_id: str, index: int, values) -> None:
        """Write ``values`` into node ``node_id``'s payload from ``index`` on (under the engine lock,
        so the node cannot be freed meanwhile); EngineError if there is no such node."""
        with self.lock:
            p = self.payload(node_id)
            v = np.atleast_1d(np.asarray(values, np.float64))
            if not 0 <= index <= p.size - v.size:
                raise EngineError(f"'{node_id}': payload index {index}..{index + v.size} outside 0..{p.size}")
            p[index:index + v.size] = v

    def set_clock_out(self, bpm: float | None) -> None:
        """Send MIDI clock (24 per beat) at ``bpm`` beats per minute from the JACK driver's ``midi_out``,
        each clock at its exact frame; None or 0 stops it. A change keeps the time to the next clock."""
        iv = 0.0 if not bpm else self.sr * 60.0 / (24.0 * float(bpm))
        self.a[L.H_CLOCK_OUT] = iv

    def stop_clock_out(self, timeout_s: float = 0.25) -> bool:
        """Stop clock out and wait (up to ``timeout_s`` seconds, for a running JACK driver) until the
        callback has sent the MIDI Stop that follows its last clock; returns whether it did."""
        self.set_clock_out(None)
        end = time.monotonic() + timeout_s
        while self.a[L.H_CLOCK_RUN] != 0.0:
            if time.monotonic() > end:
                return False
            time.sleep(0.002)
        return True

    def clocks_sent(self) -> int:
        """MIDI clocks the JACK driver has sent (clock out)."""
        return int(self.a[L.H_CLOCK_SENT])

    def panic(self) -> None:
        """All notes off and voices silenced within one block (every MIDI node gets a panic event)."""
        self.send_midi(L.PANIC_STATUS)
        self.a[L.H_PANIC] += 1.0

    # ---- audio ---------------------------------------------------------------------------------
    def process(self, inp: np.ndarray | None, out: np.ndarray, flags: int = 0, off: int = 0,
                n: int | None = None) -> int:
        """Render one block on the calling thread (offline/null drivers) into ``out[off:off+n]``.

        inp / out: C-contiguous float32 (frames, channels); ``inp`` None = no device input.
        """
        n = out.shape[0] - off if n is None else n
        if inp is None:
            inp = _ZERO_IN
            in_ch = 0
        else:
            in_ch = inp.shape[1]
        return self.audio.process_block(self.a, inp, out, off, n, in_ch, out.shape[1], flags)

    def process_many(self, inp: np.ndarray | None, out: np.ndarray, start: int, frames: int, block: int) -> None:
        """Render ``frames`` frames from ``start`` in blocks of ``block`` inside compiled code (offline)."""
        if inp is None:
            inp, in_ch = _ZERO_IN, 0
        else:
            in_ch = inp.shape[1]
        self.audio.process_blocks(self.a, inp, out, start, frames, block, in_ch, out.shape[1])

    def latency_samples(self) -> int:
        """Samples of delay the graph adds on its main path (master lookahead + every node's latency,
        a layer counting its slowest branch; bypassed items add none)."""
        return int(self.master.type.latency(self.master.values, self.sr)) + self.chain_latency(self.chain)

    def latency_report(self) -> dict:
        """Graph latency and the round trip (device input + graph + device output), in samples and ms;
        ``latency_ms`` is the round trip."""
        graph = self.latency_samples()
        d_in, d_out = (int(round(s * self.sr)) for s in self.device_latency)
        trip = d_in + graph + d_out
        ms = 1000.0 / self.sr
        return {"graph_latency_samples": graph, "graph_latency_ms": graph * ms,
                "device_latency_samples": [d_in, d_out], "device_latency_ms": [d_in * ms, d_out * ms],
                "roundtrip_samples": trip, "roundtrip_ms": trip * ms, "latency_ms": trip * ms}

    def latency_table(self) -> list[dict]:
        """Every item on the main path with its latency now (samples, ms), depth-first; layers with
        the compensation each branch gets."""
        rows: list[dict] = []
        ms = 1000.0 / self.sr

        def visit(chain: list, depth: int) -> None:
            for it in chain:
                lat = self.item_latency(it)
                row = {"id": it.id, "type": "layer" if isinstance(it, Layer) else it.type.name, "depth": depth,
                       "latency_samples": lat, "latency_ms": lat * ms, "bypass": bool(it.values.get("bypass"))}
                if isinstance(it, Node) and not it.type.compensated:
                    row["effect_delay_samples"] = int(it.type.latency(it.values, self.sr))
                rows.append(row)
                if isinstance(it, Layer):
                    lats = [self.chain_latency(b.chain) for b in it.branches]
                    row["branch_compensation_samples"] = [max(lats, default=0) - x for x in lats]
                    for b in it.branches:
                        visit(b.chain, depth + 1)

        visit(self.chain, 0)
        lat = int(self.master.type.latency(self.master.values, self.sr))
        rows.append({"id": "master", "type": "master", "depth": 0, "latency_samples": lat, "latency_ms": lat * ms,
                     "bypass": False})
        return rows

    # ---- meters and stats ----------------------------------------------------------------------
    def meter(self, node_id: str | None = None) -> dict:
        """Peak and RMS (dBFS) of a node's output over the last block (``None`` master, ``"input"``)."""
        slot = L.SLOT_MASTER if node_id in (None, "master") else L.SLOT_INPUT if node_id == "input" \
            else self.item(node_id).slot
        m = int(self.a[L.H_METER]) + slot * L.METER_W
        v = self.a[m:m + L.METER_W]
        return {
            "peak_db": [_db(v[0]), _db(v[1])],
            "rms_db": [_db(np.sqrt(v[2])), _db(np.sqrt(v[3]))],
        }

    def loads(self) -> np.ndarray:
        """DSP load of the recorded callbacks (callback time / block period), oldest first."""
        c = int(self.a[L.H_LOAD_COUNT])
        cap = int(self.a[L.H_LOAD_CAP])
        base = int(self.a[L.H_LOAD])
        if c <= cap:
            return self.a[base:base + c].copy()
        i = c % cap
        return np.concatenate([self.a[base + i:base + cap], self.a[base:base + i]])

    def stats(self) -> dict:
        """Callbacks, xruns, DSP load percentiles, NaN resets, limiter gain reduction and settings."""
        a = self.a
        loads = self.loads()
        lim = float(a[L.H_LIM_MIN])
        return {
            "driver": self.driver_name,
            "device": self.device_name,
            "samplerate": self.sr,
            "blocksize": self.max_block,
            "callbacks": int(a[L.H_CALLBACKS]),
            "frames": int(a[L.H_FRAMES]),
            "xruns": int(a[L.H_XRUNS]),
            "jack_xruns": int(a[L.H_JACK_XRUNS]),
            "dsp_load_p50": float(np.percentile(loads, 50)) if loads.size else 0.0,
            "dsp_load_p99": float(np.percentile(loads, 99)) if loads.size else 0.0,
            "dsp_load_max": float(a[L.H_LOAD_MAX]),
            "nan_resets": int(a[L.H_NAN_RESETS]),
            "nonfinite_out": int(a[L.H_NONFINITE_OUT]),
            "limiter_gain_reduction_db": max(0.0, -_db(lim)) if lim > 0 else 120.0,
            "record_drops": int(a[L.H_REC_DROPS]),
            "midi_note_offs_late": self.midi_late,
            **self.latency_report(),
        }

    def reset_limiter_meter(self) -> None:
        """Start a new gain-reduction measurement window."""
        self.a[L.H_LIM_MIN] = 1.0


_ZERO_IN = np.zeros((1, 1), np.float32)


def _must_arrive(status: int, d1: int, d2: int) -> bool:
    """An event whose loss would leave a note hanging: a note-off (0x8n, or 0x9n at velocity 0), the
    sustain pedal let go (CC64 < 64), all sound / all notes off (CC120, CC123), the engine's panic."""
    if status == L.PANIC_STATUS:
        return True
    kind = status & 0xF0
    if status >= 0xF0:
        return False
    return kind == 0x80 or (kind == 0x90 and d2 == 0) or (kind == 0xB0 and (
        (d1 == 64 and d2 < 64) or d1 in (120, 123)))


def _held(item) -> bool:
    """True if a worker holds a view into ``item`` or anything inside it."""
    if isinstance(item, Layer):
        return any(_held(sub) for b in item.branches for sub in b.chain)
    return getattr(item, "holds", 0) > 0


def _db(x: float) -> float:
    return float(20.0 * np.log10(x)) if x > 1e-12 else -240.0
