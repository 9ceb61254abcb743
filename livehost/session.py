"""A performing session: the engine, its driver, the patch file it came from, and whether it changed.

The UI (and anything else that edits a running patch) goes through a :class:`Session`, so "unsaved
changes", saving, loading another patch and switching drivers live in one place that tests can drive
without a screen.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from livehost import audiofile
from livehost.dsp.looper import looper_played
from livehost.engine.drivers.jack import JackDriver
from livehost.engine.drivers.recorder import Recorder
from livehost.engine.drivers.libjack import server_running as jack_server_running
from livehost.engine.engine import Engine, EngineError
from livehost.engine.graph import Layer, Node, find, walk
from livehost.engine.patching import engine_for, patch_from_engine, patch_sources
from livehost.errors import LivehostError
from livehost.history import History, Step
from livehost.nodes.declare import Param
from livehost.paths import loop_path, recording_path
from livehost.presets import Preset, list_presets, load_preset, save_preset, shipped_presets_dir, user_presets_dir
from livehost.patch import Patch, load, put_divisions, save, synced_params
from livehost.tempo import TAP_RESET_S, ClockFollower, Tempo
from livehost.midi.input import match_port
from livehost.workers import Workers, midi_config

PATCH_DIR = Path("patches")


def last_patch_file() -> Path:
    """Where the last patch used is remembered: ``$LIVEHOST_STATE`` or ``~/.local/state/livehost``."""
    base = Path(os.environ.get("LIVEHOST_STATE") or Path.home() / ".local" / "state" / "livehost")
    base.mkdir(parents=True, exist_ok=True)
    return base / "last_patch"


def remember(path: str) -> None:
    """Remember ``path`` as the last patch used."""
    try:
        last_patch_file().write_text(str(Path(path).resolve()))
    except OSError:
        pass


def recall(default: str) -> str:
    """The last patch used if it still exists, else ``default``."""
    try:
        p = last_patch_file().read_text().strip()
        if p and os.path.exists(p):
            return p
    except OSError:
        pass
    return default


def choose_driver(kind: str) -> str:
    """The driver ``kind`` stands for: ``"auto"`` is ``"jack"`` when a JACK server is running (never
    starting one), else ``"auto"`` still (PortAudio if a device exists, else null)."""
    if kind == "auto" and jack_server_running():
        return "jack"
    return kind


def jack_driver(session: "Session", client_name: str = "livehost", connect: bool = True,
                reconnect: bool = False, midi_port: str | None = None, channels: int = 2) -> JackDriver:
    """A (not yet started) JACK driver for ``session``'s engine: input ports fed to the graph when the
    patch monitors the mic; ``midi_port`` (or the patch's ``[midi] port``): the pattern of the MIDI
    port its ``midi_in`` follows; channels: audio ports each way (AudioError if no server runs)."""
    eng = session.engine
    pattern = midi_port or midi_config(session.patch).port
    match = (lambda names: match_port(names, pattern)) if pattern else None
    return JackDriver(eng, client_name=client_name, channels=channels, use_input=eng.input_mode == "mic",
                      connect=connect, midi_match=match, reconnect=reconnect)


class Session:
    """An engine playing a patch, with the patch's file and an unsaved-changes flag.

    driver: ``"auto"`` (JACK if a server runs, else PortAudio if a device exists, else null),
    ``"jack"``, ``"portaudio"``, ``"null"`` or ``"none"`` (no driver: the engine only renders when
    asked, as tests and offline tools do). jack_client / jack_connect / reconnect: the JACK client name,
    whether to connect to the system ports, whether to survive the server going away (see
    :class:`~livehost.engine.drivers.jack.JackDriver`). midi_by_driver: the MIDI port is the JACK
    driver's to follow (set by the caller that starts the JACK driver itself, as ``livehost run`` does).
    device / in_device: the PortAudio output / input device (name fragment or index; in_device None:
    ``device`` both ways). jack_channels: the JACK driver's audio ports each way (1..8).
    clock_in: follow incoming MIDI clock as the tempo (as the patch's ``[tempo] source = "clock"`` does).
    clock_out: send MIDI clock at the session tempo from the JACK driver's ``midi_out`` (sample-accurate;
    other drivers send none).

    Synced parameters: a parameter declared with ``sync`` (delay times, LFO rates) may be set to a note
    division (``"1/8."``); the session keeps the division (:attr:`synced`) and gives the engine its
    value at the session tempo, re-set through the engine's smoothed parameter path whenever the tempo
    changes (tap, OSC, the UI, MIDI clock), so the change glides instead of clicking.

    Undo/redo (:attr:`history`, :meth:`undo`, :meth:`redo`): every edit made through the session
    (parameter, add, remove, move, bypass, load, preset load, MIDI learn, A/B flip, tempo set or
    tapped) records a step that goes back the way the edit came: a parameter (and the tempo's synced
    parameters) through the smoothed set path, add/remove/move/bypass through the engine's crossfaded
    edits, a load (and removing a layer, and A/B) by installing the patch as it was through the faded
    load path. Changes of one parameter less than 0.5 s apart (a knob turned) make one step, as does a
    count of taps; following MIDI clock is no edit.  A/B (:meth:`flip_ab`): two versions of the patch,
    flipped crossfaded.
    """

    def __init__(self, patch_path: str, driver: str = "auto", device=None, input_override: str | None = None,
                 in_device=None, jack_channels: int = 2,
                 blocksize: int | None = None, samplerate: int | None = None, loop: bool | None = None,
                 midi_port: str | None = None, midi_virtual: str | None = None, midi_api: str = "auto",
                 start_models: bool = True, jack_client: str = "livehost", jack_connect: bool = True,
                 reconnect: bool = False, midi_by_driver: bool = False, clock_in: bool = False,
                 clock_out: bool = False):
        self.path = str(patch_path)
        self.patch: Patch = load(self.path)
        self._sync_lock = threading.RLock()
        self.synced: dict[tuple[str, str], str] = synced_params(self.patch)
        """``{(node id, parameter): note division}`` of the parameters that follow the tempo."""
        self._sync_sent: dict[tuple[str, str], float] = {}  # the value last given the engine for each
        self._clock_arg = bool(clock_in)
        self.clock_in = self._clock_arg or _clock_source(self.patch)
        self.clock_out = bool(clock_out)
        self.input_override = input_override
        self.notice = ""
        self.engine: Engine = engine_for(self.patch, samplerate, blocksize, input_override=input_override,
                                         loop=loop)
        self.driver = None
        self._asked = driver
        if driver != "none":
            driver = choose_driver(driver)
        self.driver_kind = driver
        self._jack_opts = {"client_name": jack_client, "connect": jack_connect, "reconnect": reconnect,
                           "midi_port": midi_port, "channels": int(jack_channels)}
        self._device = device
        self._in_device = in_device
        self.dirty = False
        self._program: int | None = None  # a program change waiting for service() (set on the MIDI thread)
        self._said_lock = threading.Lock()
        self._said: list[str] = []  # what other threads (OSC) want the user told, shown by service()
        self._load_request = None  # (path, done) a remote control asked for, loaded by service()
        self.tempo = Tempo()
        self.clock = ClockFollower(self.tempo)
        self._tempo_from(self.patch)
        self.recorder: Recorder | None = None  # the take being recorded (record()), or None
        self.workers = Workers(self.engine, self.patch, midi_port, midi_virtual, midi_api,
                               on_program=self._on_program, start_models=start_models,
                               port_by_driver=midi_by_driver or driver == "jack")
        self.workers.on_clock = self._on_clock
        self.workers.on_tap = self._on_tap
        if self.workers.problems:
            self.notice = "; ".join(self.workers.problems)
        self.history = History(limit=100, merge_s=0.5)
        self._replaying = False  # True while undo/redo runs: its edits record nothing
        self._collect: list[Step] | None = None  # steps being grouped into one (a preset load)
        self._maps_seen = list(self.workers.maps)  # the CC maps as of the last learn poll
        self._ab: dict[str, Patch] = {}  # the A/B versions ({} until the first flip)
        self.ab_side: str | None = None  # "A" or "B": the version playing, None before the first flip
        if driver != "none":
            self._start_driver(driver, device)
            if self.clock_out and not isinstance(self.driver, JackDriver):
                self.notice = f"{self.notice + '; ' if self.notice else ''}no MIDI clock out: it needs the JACK driver"
        remember(self.path)

    def _start_driver(self, kind: str, device) -> None:
        from livehost.engine.drivers.null import NullDriver

        eng = self.engine
        if kind == "jack":
            try:
                drv = jack_driver(self, **self._jack_opts)
                drv.start()
                self.driver = drv
                return
            except LivehostError as e:
                if self._asked == "jack":
                    raise
                self.notice = f"JACK: {e}; trying PortAudio"
                kind = "auto"
        if kind in ("auto", "portaudio"):
            from livehost.engine.drivers.portaudio import PortAudioDriver

            try:
                drv = PortAudioDriver(eng, device=device, in_device=self._in_device,
                                      use_input=eng.input_mode == "mic",
                                      reconnect=self._jack_opts["reconnect"])
                drv.start()
                self.driver = drv
                return
            except LivehostError as e:
                if kind == "portaudio":
                    raise
                self.notice = f"{self.notice + '; ' if self.notice else ''}{e}; running the null driver (no sound card)"
        self.driver = NullDriver(eng)
        self.driver.start()
        if not self.notice:
            self.notice = "null driver: no sound card in use"

    def close(self) -> None:
        """Stop the audio, any recording and the workers (clock out sends its Stop first)."""
        self.stop_recording()
        self.workers.stop()
        if self.driver is not None:
            if self.clock_out:
                self.engine.stop_clock_out()
            self.driver.stop()
            self.driver = None

    # ---- the graph as rows (what the rack shows) --------------------------------------------------
    def rows(self) -> list[tuple[int, str, object]]:
        """``(depth, kind, item)`` rows: input, sources, nodes and layers (nested), master."""
        eng = self.engine
        files = [s for s in eng.sources if s.type.name == "file"]
        if files:
            f = files[0]
            loop = " (loop)" if f.values.get("loop") else ""
            label = f"file {Path(f.options.get('file', '?')).name}{loop}"
        else:
            label = eng.input_mode
            if label == "mic" and eng.input_channels:  # the device channels feeding left, right
                label += " ch " + ", ".join(str(c) for c in eng.input_channels)
        out: list[tuple[int, str, object]] = [(0, "input", label)]
        for s in eng.sources:
            if s.type.name != "file":
                out.append((0, "source", s))
        self._chain_rows(eng.chain, 0, out)
        out.append((0, "master", eng.master))
        return out

    def _chain_rows(self, chain: list, depth: int, out: list) -> None:
        for it in chain:
            if isinstance(it, Layer):
                out.append((depth, "layer", it))
                for j, b in enumerate(it.branches):
                    out.append((depth + 1, "branch", (it, j)))
                    self._chain_rows(b.chain, depth + 2, out)
            else:
                out.append((depth, "node", it))

    # ---- edits (each marks the session dirty) -----------------------------------------------------
    def params_of(self, item) -> list[tuple[str, Param]]:
        """``(name, declaration)`` of a row's editable parameters (master without wet/bypass)."""
        if not isinstance(item, (Node, Layer)):
            return []
        pairs = list(zip(self.engine.param_names(item.id), item.params))
        if item is self.engine.master:
            pairs = [(n, p) for n, p in pairs if n not in ("wet", "bypass")]
        return pairs

    def value(self, item, name: str):
        """A parameter's target value (patch units), or its note division (``"1/8."``) when synced."""
        with self._sync_lock:
            div = self.synced.get((item.id, name)) if self._still_synced((item.id, name)) else None
        return div if div is not None else self.engine.get_param(item.id, name)

    def set_value(self, item, name: str, value) -> None:
        """Set a parameter (validated against its declaration). A note division (``"1/4t"``) for a
        parameter declared with ``sync`` makes it follow the session tempo; a number unsyncs it.
        Undoable (a run of changes to one parameter within 0.5 s is one step)."""
        nid = item.id
        before = self.value(item, name)
        self._set_value(item, name, value)
        after = self.value(item, name)
        if before != after:
            self._record(Step(f"{nid}.{name}", lambda: self._set_by_id(nid, name, before),
                              lambda: self._set_by_id(nid, name, after), key=("param", nid, name)))

    def _set_by_id(self, node_id: str, name: str, value) -> None:
        self._set_value(self.engine.item(node_id), name, value)

    def _set_value(self, item, name: str, value) -> None:
        with self._sync_lock:
            if isinstance(value, str) and isinstance(item, Node) and name not in ("wet", "bypass"):
                p = self._param(item.id, name)
                if p.sync:
                    why = p.check(value, division_ok=True)
                    if why:
                        raise EngineError(f"{item.id}.{name} {why}")
                    x = p.synced(value, self.tempo.bpm)
                    self.engine.set_param(item.id, name, x)
                    self.synced[(item.id, name)] = value
                    self._sync_sent[(item.id, name)] = x
                    self.dirty = True
                    return
            self.engine.set_param(item.id, name, value)
            self.synced.pop((item.id, name), None)
            self._sync_sent.pop((item.id, name), None)
        self.dirty = True

    def _param(self, node_id: str, name: str) -> Param:
        names = self.engine.param_names(node_id)
        if name not in names:
            self.engine.get_param(node_id, name)  # raises, with a suggestion
        return self.engine.item(node_id).params[names.index(name)]

    def step(self, item, name: str, p: Param, direction: int, coarse: bool = False) -> None:
        """Nudge a parameter: 1/100 of its range (1/10 coarse), whole steps for choices, flip for bools."""
        v = self.engine.get_param(item.id, name)
        if p.kind == "bool":
            self.set_value(item, name, not v)
            return
        if p.kind == "choice":
            i = (p.choices.index(v) + direction) % len(p.choices)
            self.set_value(item, name, p.choices[i])
            return
        span = p.hi - p.lo
        stepv = span / (10.0 if coarse else 100.0)
        nv = min(p.hi, max(p.lo, round((v + direction * stepv) / stepv) * stepv))
        self.set_value(item, name, float(round(nv, 9)))

    def toggle_bypass(self, item) -> None:
        """Bypass a node or layer on/off (crossfaded)."""
        nid, was = item.id, bool(item.values.get("bypass", False))
        self.engine.set_bypass(nid, not was)
        self.dirty = True
        self._record(Step(f"bypass {nid}", lambda: self._bypass_to(nid, was), lambda: self._bypass_to(nid, not was)))

    def _bypass_to(self, node_id: str, on: bool) -> None:
        self.engine.set_bypass(node_id, on)
        self.dirty = True

    def add(self, type_name: str, after=None, options: dict | None = None) -> str:
        """Add a node (or ``"layer"``) after ``after`` (or at the end); returns its id. ``options``: the
        type's build options (an ``lv2`` node's ``{"uri": ...}``)."""
        eng = self.engine
        container, index, layer, branch = eng.chain, len(eng.chain), None, 0
        if isinstance(after, (Node, Layer)) and after is not eng.master and after not in eng.sources:
            container, i, _ = self._find(after.id)
            index = i + 1
            layer, branch = self._owner(container)
        if type_name == "layer":
            if layer is not None:
                raise EngineError("layers go in the main chain")
            nid = eng.add_layer(2, index=index)
        else:
            nid = eng.add_node(type_name, index=index, layer=layer, branch=branch, options=options or None)
            self._follow_tempo(nid)
        self.dirty = True
        spec = ("layer", None) if type_name == "layer" else ("node", type_name, {}, dict(options or {}))

        def again() -> None:
            self._readd(nid, spec, index, layer, branch)
            if spec[0] == "node":
                self._follow_tempo(nid)
        self._record(Step(f"add {nid}", lambda: self._unadd(nid), again))
        return nid

    def _follow_tempo(self, node_id: str) -> None:
        """Set a new node's parameters declared with ``follow`` (a looper's beat) to their division:
        they follow the session tempo as a patch that leaves them out does."""
        item = self.engine.item(node_id)
        for p in item.params:
            if p.follow:
                self._set_value(item, p.name, p.follow)

    def _unadd(self, node_id: str) -> None:
        self.engine.remove_node(node_id)
        self.engine.wait_edits()  # its id is free again before anything re-adds it
        self.dirty = True

    def _readd(self, node_id: str, spec: tuple, index: int, layer, branch: int) -> None:
        if spec[0] == "layer":
            self.engine.add_layer(2, index=index, node_id=node_id)
        else:
            _, type_name, values, options = spec
            self.engine.add_node(type_name, values=values, index=index, layer=layer, branch=branch,
                                 node_id=node_id, options=options or None)
        self.dirty = True

    def _find(self, node_id: str):
        hit = find(self.engine.chain, node_id)
        if hit is None:
            raise EngineError(f"no node '{node_id}'")
        return hit

    def _owner(self, container: list):
        if container is self.engine.chain:
            return None, 0
        for it in walk(self.engine.chain):
            if isinstance(it, Layer):
                for j, b in enumerate(it.branches):
                    if b.chain is container:
                        return it.id, j
        return None, 0

    def remove(self, item) -> None:
        """Remove a node or layer (faded out first). Undoable: a node comes back faded in, with its
        values, where it was; a layer (with its branches) by the faded load path."""
        nid = item.id
        if isinstance(item, Layer):
            before = self._snapshot()
        else:
            container, index, _ = self._find(nid)
            layer, branch = self._owner(container)
            spec = ("node", item.type.name, dict(item.values),
                    {k: item.options[k] for k in item.type.options if k in item.options})
        self.engine.remove_node(nid)
        with self._sync_lock:
            gone = {k: v for k, v in self.synced.items() if k[0] == nid}
            for key in gone:
                del self.synced[key]
        self.dirty = True
        if isinstance(item, Layer):
            after = self._snapshot(wait=True)
            self._record(Step(f"remove {nid}", lambda: self._restore(*before), lambda: self._restore(*after)))
            return

        def back() -> None:
            self._readd(nid, spec, index, layer, branch)
            with self._sync_lock:
                self.synced.update(gone)
            self._retempo()
        self._record(Step(f"remove {nid}", back, lambda: self._unadd(nid)))

    def move(self, item, delta: int) -> None:
        """Move a node ``delta`` places within its chain (faded out and in)."""
        container, i, _ = self._find(item.id)
        j = i + delta
        if not 0 <= j < len(container):
            return
        layer, branch = self._owner(container)
        nid = item.id
        self.engine.move_node(nid, j, layer=layer, branch=branch)
        self.dirty = True
        self._record(Step(f"move {nid}", lambda: self._move_to(nid, i, layer, branch),
                          lambda: self._move_to(nid, j, layer, branch)))

    def _move_to(self, node_id: str, index: int, layer, branch: int) -> None:
        self.engine.wait_edits()  # a move still fading finishes first: indexes are of the settled chain
        self.engine.move_node(node_id, index, layer=layer, branch=branch)
        self.engine.wait_edits()
        self.dirty = True

    # ---- undo / redo and A/B --------------------------------------------------------------------------
    def _record(self, step: Step) -> None:
        """Keep ``step`` in the history (nothing while undo/redo replays; into the open group if any)."""
        if self._replaying:
            return
        if self._collect is not None:
            self._collect.append(step)
            return
        self.history.record(step)

    @contextmanager
    def _group(self, label: str):
        """The edits made inside the ``with`` block become one undo step called ``label``."""
        if self._collect is not None:
            yield
            return
        self._collect = []
        try:
            yield
        finally:
            steps, self._collect = self._collect, None
            if steps:
                def undo_all() -> None:
                    for st in reversed(steps):
                        st.undo()

                def redo_all() -> None:
                    for st in steps:
                        st.redo()
                self._record(Step(label, undo_all, redo_all))

    def undo(self) -> str | None:
        """Undo the last edit, faded or smoothed the way the edit was; what was undone (its label), or
        None when there is nothing to undo. LivehostError if it cannot be (the step is dropped)."""
        return self._replay(self.history.undo, "undo")

    def redo(self) -> str | None:
        """Redo the last undone edit; its label, or None when there is nothing to redo."""
        return self._replay(self.history.redo, "redo")

    def _replay(self, action, what: str) -> str | None:
        self._replaying = True
        try:
            self.engine.wait_edits()  # fades of the edit before finish first
            step = action()
            self.engine.wait_edits()
        except LivehostError as e:
            raise LivehostError(f"cannot {what}: {e}") from None
        finally:
            self._replaying = False
        return None if step is None else step.label

    def _maps_to(self, maps: list) -> None:
        self.workers.maps[:] = maps
        self._maps_seen = list(maps)
        self.dirty = True

    def flip_ab(self) -> str:
        """A/B: the first call keeps the patch playing as version A and goes on editing B (a copy of
        it); each later call keeps what plays as its version and installs the other, through the faded
        load path. Returns the version now playing (``"A"`` or ``"B"``). Flips are undoable."""
        if self.ab_side is None:
            snap = self._snapshot(wait=True)
            self._ab = {"A": snap, "B": snap}
            self.ab_side = "B"
            return "B"
        old = self.ab_side
        new = "A" if old == "B" else "B"
        before = self._snapshot(wait=True)
        self._ab[old] = before
        target = self._ab[new]
        self._ab_to(new, target)
        self._record(Step(f"A/B {old} -> {new}", lambda: self._ab_to(old, before), lambda: self._ab_to(new, target)))
        return new

    def _ab_to(self, side: str, snap: tuple) -> None:
        self._restore(*snap)
        self.ab_side = side

    # ---- files ------------------------------------------------------------------------------------
    def current_patch(self) -> Patch:
        """The engine's graph as a patch (header and reserved sections kept from the file; the session
        tempo as ``[tempo] bpm`` when the file had one or it was set since)."""
        p = patch_from_engine(self.engine, self.patch)
        with self._sync_lock:
            put_divisions(p, self.synced)  # saved as written ("1/8."), not as this tempo's number
        if "tempo" in p.extra or self.tempo.source != "default":
            p.extra["tempo"] = {**dict(p.extra.get("tempo") or {}), "bpm": round(self.tempo.bpm, 3)}
        maps = [m.to_table() for m in self.workers.maps]
        midi = {k: v for k, v in dict(p.extra.get("midi") or {}).items() if k != "map"}
        if maps:
            midi["map"] = maps
        if midi:
            p.extra["midi"] = midi
        else:
            p.extra.pop("midi", None)
        return p

    def save(self, path: str | None = None) -> str:
        """Save (atomically) to ``path`` or the current file; returns the path written."""
        target = str(path or self.path)
        p = self.current_patch()
        if path:
            p.name = Path(target).stem.replace("-", " ").replace("_", " ").capitalize() if not p.name else p.name
        save(p, target)
        self.path = target
        self.patch = load(target)
        self.dirty = False
        remember(target)
        return target

    def load(self, path: str) -> None:
        """Load another patch into the running engine (the output fades out, the graphs swap, it fades
        in). All or nothing: a patch that cannot be loaded (bad file, missing audio or model, no engine
        memory) raises a LivehostError saying why in one line, and the old patch plays on. Undoable (the
        patch as it was, unsaved edits included, comes back the same faded way)."""
        new = load(path)
        before = self._snapshot(wait=True)
        self._install(new, str(path))
        self.dirty = False
        self._ab, self.ab_side = {}, None  # A/B were versions of the patch left
        after = self._snapshot()
        self._record(Step(f"load {path}", lambda: self._restore(*before), lambda: self._restore(*after)))

    def _snapshot(self, wait: bool = False) -> tuple[Patch, str, bool]:
        """The patch playing now as data (with its file and unsaved flag), for undo and A/B."""
        if wait:
            self.engine.wait_edits()
        return self.current_patch(), self.path, self.dirty

    def _restore(self, patch: Patch, path: str, dirty: bool) -> None:
        """Install a snapshot (:meth:`_snapshot`) through the faded load path."""
        self._install(patch, path)
        self.dirty = dirty

    def _install(self, new: Patch, path: str) -> None:
        """Play patch ``new`` (its file: ``path``): fade out, swap the graphs, fade in."""
        eng = self.engine
        bpm = new.bpm if "bpm" in (new.extra.get("tempo") or {}) else self.tempo.bpm
        mode, sources, _ = patch_sources(eng, new, self.input_override, bpm=bpm)  # files read before any fade
        ready = self.workers.prepare(new)
        running = eng.running
        was_muted = bool(eng.master.values.get("mute", False))
        if running:  # fade out, swap graphs, fade in: no click between patches
            eng.fade_master(True)
        try:
            eng.build(mode, sources, new.engine_chain(bpm), dict(new.master))
            eng.set_input_channels(new.input.get("channels"))
        except LivehostError:
            if running:
                eng.fade_master(was_muted)
            raise
        if running:
            eng.fade_master(bool(new.master.get("mute", False)))
        notice = ""
        if (new.samplerate, new.blocksize) != (self.patch.samplerate, self.patch.blocksize):
            notice = (f"{path}: runs at this session's {eng.sr:g} Hz / {eng.max_block} "
                      "frames (restart to change them)")
        old_pattern = self._jack_opts["midi_port"] or midi_config(self.patch).port
        self.patch = new
        self.path = str(path)
        self.workers.retarget(new, ready)
        self._maps_seen = list(self.workers.maps)
        with self._sync_lock:
            self.synced = synced_params(new)
            self._sync_sent = {}
        self.clock_in = self._clock_arg or _clock_source(new)
        pattern = self._jack_opts["midi_port"] or midi_config(new).port
        if isinstance(self.driver, JackDriver) and pattern != old_pattern:
            self.driver.set_midi_match((lambda names: match_port(names, pattern)) if pattern else None)
        self._tempo_from(new)
        eng.reclaim()  # the old graph's memory, now that no worker holds it
        self.notice = notice
        remember(self.path)

    # ---- workers ----------------------------------------------------------------------------------
    @property
    def midi(self):
        """The open :class:`~livehost.midi.input.MidiInput`, or None."""
        return self.workers.midi

    @property
    def monitor(self):
        """What MIDI did lately (:class:`~livehost.midi.input.MidiMonitor`)."""
        return self.workers.monitor

    @property
    def classifier(self):
        """The running :class:`~livehost.ml.classifier.ClassifierWorker`, or None."""
        return self.workers.classifier

    @property
    def generator(self):
        """The running :class:`~livehost.ml.generator.worker.GeneratorWorker`, or None."""
        return self.workers.generator

    def audio_devices(self) -> list[dict]:
        """The audio devices PortAudio sees: index, name, hostapi, inputs / outputs (channels),
        samplerate (the device's default, Hz). Empty when there are none (or no PortAudio library)."""
        from livehost.engine.drivers.portaudio import list_devices

        try:
            return list_devices()
        except LivehostError:
            return []

    def set_devices(self, output=None, input=None) -> str:
        """Move the audio to other PortAudio devices while the session plays: ``output`` / ``input`` a
        name fragment or an index (None: the system's default; ``input`` None: as ``output``). The
        output fades out, the stream closes, one opens on the new devices at this session's rate and
        block size and the output fades back in (a gap of about 0.1 s). A running null driver is
        replaced the same way (a device plugged in after the start). When the new devices cannot be
        opened the old driver is started again and the one-line reason raised. The JACK driver's ports
        are connected in JACK instead (refused). Returns the device now playing (name and host API)."""
        from livehost.engine.drivers.null import NullDriver
        from livehost.engine.drivers.portaudio import PortAudioDriver, find_device

        eng = self.engine
        if self.driver is None or isinstance(self.driver, JackDriver):
            raise LivehostError("the JACK driver's ports are connected in JACK (jack_connect, qjackctl), "
                                "not chosen here" if self.driver is not None else "no audio driver is running")
        use_input = eng.input_mode == "mic"
        find_device(output, "output")  # a bad choice says so before anything stops
        if use_input and input is not None:
            find_device(input, "input")
        old = self.driver
        was_muted = bool(eng.master.values.get("mute", False))

        def open_(device, in_device):
            drv = PortAudioDriver(eng, device=device, in_device=in_device, use_input=use_input,
                                  reconnect=self._jack_opts["reconnect"])
            drv.start()
            return drv

        eng.fade_master(True)
        old.stop()
        self.driver = None
        try:
            self.driver = open_(output, input)
        except LivehostError as e:
            try:  # back to what played
                self.driver = (NullDriver(eng) if isinstance(old, NullDriver) else
                               open_(self._device, self._in_device))
                if isinstance(self.driver, NullDriver):
                    self.driver.start()
            except LivehostError:
                self.driver = NullDriver(eng)
                self.driver.start()
            eng.fade_master(was_muted)
            raise LivehostError(f"{e}; still playing on {eng.device_name or self.driver.name}") from None
        self._device, self._in_device = output, input
        self.driver_kind = "portaudio"
        eng.fade_master(was_muted)
        return eng.device_name

    @property
    def audio_state(self) -> str | None:
        """What is wrong with the audio driver now, in words (the server went away, running on the null
        driver meanwhile...); None while it runs."""
        return getattr(self.driver, "state", None)

    def _on_program(self, n: int) -> None:
        self._program = n  # the MIDI thread only notes it; service() loads the patch

    def service(self) -> str | None:
        """Housekeeping from the UI or the run loop: the engine's, a pending program change (loads
        the patch ``[midi.programs]`` lists for it), and what the driver has to say (the audio server
        stopped or came back). Returns a message to show, or None."""
        self.engine.service()
        said = self.driver.messages() if hasattr(self.driver, "messages") else []
        n, self._program = self._program, None
        if n is not None:
            said.append(self._program_change(n))
        req, self._load_request = self._load_request, None
        if req is not None:
            said.append(self._requested_load(*req))
        with self._said_lock:
            said += self._said
            self._said = []
        return "; ".join(said) if said else None

    def say(self, message: str) -> None:
        """Tell the user ``message`` at the next :meth:`service` (callable from any thread)."""
        with self._said_lock:
            self._said.append(message)

    def request_load(self, path: str, done=None) -> None:
        """Ask for patch ``path`` to be loaded by the next :meth:`service` (from any thread: a remote
        control); ``done(error)`` is called there, with None or the one-line reason it was refused."""
        self._load_request = (str(path), done)

    def _requested_load(self, path: str, done) -> str:
        try:
            self.load(path)
        except LivehostError as e:
            if done is not None:
                done(str(e))
            return f"load {path}: {e}"
        if done is not None:
            done(None)
        return f"loaded {path}"

    # ---- node presets -----------------------------------------------------------------------------
    def _preset_node(self, item) -> Node:
        if not isinstance(item, Node) or item is self.engine.master:
            raise LivehostError("presets are for effect and source nodes: select one in the rack")
        return item

    def presets(self, item) -> list[Preset]:
        """The presets for ``item``'s node type: the user's (``presets/`` beside ``patches/``), then the
        shipped ones (``presets/`` at livehost's root), by name."""
        node = self._preset_node(item)
        return list_presets(node.type.name, [user_presets_dir(self.path), shipped_presets_dir()])

    def save_preset(self, item, name: str) -> str:
        """Save ``item``'s parameter values (all but bypass, in their declared units) as preset ``name``,
        atomically, in the user's ``presets/<type>/<name>.toml``; returns the file."""
        node = self._preset_node(item)
        values = {n: self.value(node, n) for n, _ in self.params_of(node) if n != "bypass"}
        try:
            return str(save_preset(user_presets_dir(self.path), node.type.name, name, values))
        except OSError as e:
            raise LivehostError(f"cannot save the preset: {e}") from None

    def load_preset(self, item, path) -> dict:
        """Set ``item``'s parameters from the preset at ``path`` (smoothed, as any edit); a parameter the
        preset does not list goes back to its default; bypass is left alone.  All or nothing: a bad preset
        raises (``file:line: field what``) before any value changes.  Returns the values set."""
        node = self._preset_node(item)
        pairs = [(n, p) for n, p in self.params_of(node) if n != "bypass"]
        got = load_preset(path, node.type.name, [p for _, p in pairs])
        values = {n: got.get(n, p.follow or p.default) for n, p in pairs}
        with self._group(f"{node.id} preset"):
            for n, v in values.items():
                self.set_value(node, n, v)
        return values

    # ---- files a node loads (an LV2 sampler's sample) ------------------------------------------------
    def files_of(self, item) -> tuple[str, ...]:
        """The file options of ``item``'s node (an LV2 plugin's ``sample``); empty for most nodes."""
        return tuple(item.type.path_options) if isinstance(item, Node) and item.type.load_file else ()

    def set_file(self, item, key: str, path: str) -> str:
        """Have node ``item`` load file ``path`` as its file option ``key`` while it plays (an LV2
        sampler's sample: read by the plugin's worker, off the audio thread); a relative ``path`` is
        looked for in the current folder, then beside the patch. An undo step when the option had a
        file before. Returns the absolute path; LivehostError (one line) if there is no such file or
        option."""
        if key not in self.files_of(item):
            raise LivehostError(f"{item.id} has no file '{key}' to load")
        where = Path(path).expanduser()
        if not where.is_absolute():
            where = next((c for c in (Path.cwd() / where, Path(self.path).parent / where) if c.is_file()), where)
        if not where.is_file():
            raise LivehostError(f"{path}: no such file")
        new = str(where.resolve())
        old = item.options.get(key)
        self._file_to(item.id, key, new)
        if old and old != new:
            self._record(Step(f"{item.id} {key}", lambda: self._file_to(item.id, key, old),
                              lambda: self._file_to(item.id, key, new)))
        return new

    def audio_files(self) -> dict[str, str]:
        """Audio files a node could load, as ``{shown name: absolute path}``: those in the patch's folder,
        in the folder above it when that is a ``patches/`` folder (its ``samples/``, ``recordings/``),
        and in the current folder (three levels down each); a name is relative to the patch's folder
        where the file is below it, else to the current folder, else absolute."""
        base, here = Path(self.path).resolve().parent, Path.cwd().resolve()
        folders = [base] + ([base.parent] if base.name == "patches" else []) + [here]
        out = {}
        for p in audiofile.find(folders):
            for root in (base, here):
                try:
                    name = str(Path(p).relative_to(root))
                    break
                except ValueError:
                    continue
            else:
                name = p
            out.setdefault(name, p)
        return out

    def _file_to(self, node_id: str, key: str, path: str) -> None:
        eng = self.engine
        with eng.lock:  # (the node cannot be removed and its memory freed meanwhile)
            node = eng.item(node_id)
            node.type.load_file(eng.a[node.sbase:node.sbase + node.ssize], key, path)
            node.options[key] = path
        self.dirty = True

    # ---- recording --------------------------------------------------------------------------------
    def record(self, dry: bool = False, path: str | None = None) -> str:
        """Start recording the master output (``dry``: and the dry input, on channels 3-4) to ``path``,
        default a new ``recordings/<patch>-<YYYYmmdd-HHMMSS>.wav`` beside the patches folder; returns the
        file.  The audio callback only fills the engine's record ring; a writer thread empties it to the
        file.  LivehostError if a take is already running or the file cannot be written."""
        if self.recording:
            raise LivehostError(f"already recording to {self.recorder.path}")
        self.stop_recording()  # a take that stopped by itself (full disk): close it
        try:
            target = str(path) if path else str(recording_path(self.path))
        except OSError as e:
            raise LivehostError(f"cannot make the recordings folder: {e}") from None
        rec = Recorder(self.engine, target, channels=min(self.engine.out_ch, 2), dry=dry)
        rec.start()
        self.recorder = rec
        return target

    def save_loop(self, item, path: str | None = None) -> str:
        """Write looper ``item``'s loop as it plays (its base and the overdubs heard) to ``path``, default
        a new ``recordings/<patch>-loop-<node>-<YYYYmmdd-HHMMSS>.wav`` beside the patches folder, as
        32-bit float stereo at the engine's rate, atomically (temp file, rename); returns the file. Read
        from the node's state in the arena on this thread: the audio thread never waits. LivehostError
        if ``item`` is no looper, holds no loop yet, or the file cannot be written."""
        if not isinstance(item, Node) or item.type.name != "looper":
            raise LivehostError("select a looper in the rack: only a looper has a loop to save")
        eng = self.engine
        with eng.lock:  # (the node cannot be removed and its memory freed meanwhile)
            node = eng.item(item.id)  # (EngineError, a LivehostError, if it is gone)
            loop = looper_played(eng.a[node.sbase:node.sbase + node.ssize])
        if len(loop) == 0:
            raise LivehostError(f"{item.id} holds no loop yet (record one first)")
        try:
            target = str(path) if path else str(loop_path(self.path, item.id))
        except OSError as e:
            raise LivehostError(f"cannot make the recordings folder: {e}") from None
        audiofile.write(target, loop, eng.sr, atomic=True)
        return target

    @property
    def recording(self) -> bool:
        """Whether a take is being recorded now."""
        return self.recorder is not None and self.recorder.running

    def stop_recording(self) -> Recorder | None:
        """Stop the take (the file is closed, complete); returns its recorder (path, frames, drops,
        error), or None if none was recording."""
        rec, self.recorder = self.recorder, None
        if rec is not None:
            rec.stop()
        return rec

    # ---- tempo ------------------------------------------------------------------------------------
    def _tempo_from(self, patch: Patch) -> None:
        bpm = (patch.extra.get("tempo") or {}).get("bpm")
        if bpm is not None:
            self.tempo.set(bpm, "patch")
        self._retempo()

    def set_tempo(self, bpm: float, source: str) -> float:
        """Set the session tempo (bpm, clamped to 20..400) from ``source`` (``"osc"``, ``"ui"``...).
        Undoable (changes less than 0.5 s apart make one step), as the edits are."""
        before = (self.tempo.bpm, self.tempo.source)
        got = self.tempo.set(bpm, source)
        self._retempo()
        self.dirty = True
        self._record_tempo(before, ("tempo",), None)
        return got

    def _record_tempo(self, before: tuple[float, str], key: tuple, merge_s: float | None) -> None:
        """Record a tempo change from ``before`` (bpm, source) to the tempo now as an undo step; undo and
        redo re-set the synced parameters the way any tempo change does (smoothed)."""
        after = (self.tempo.bpm, self.tempo.source)
        if after[0] == before[0]:
            return
        self._record(Step(f"tempo {after[0]:.4g} bpm", lambda: self._tempo_to(*before),
                          lambda: self._tempo_to(*after), key=key, merge_s=merge_s))

    def _tempo_to(self, bpm: float, source: str) -> None:
        self.tempo.set(bpm, source)
        self._retempo()
        self.dirty = True

    def tap(self, now: float | None = None) -> float | None:
        """A tap-tempo tap (``now``: seconds on :func:`time.monotonic`'s clock, default now); returns
        the tempo in bpm once two taps make an interval, else None."""
        before = (self.tempo.bpm, self.tempo.source)
        got = self.tempo.tap(now)
        if got is not None:
            self._retempo()
            self.dirty = True
            self._record_tempo(before, ("tap",), TAP_RESET_S)  # a count of taps: one undo step
        return got

    def _on_tap(self, frame: int | None) -> None:
        """A press of the patch's MIDI tap-tempo switch (``[midi] tap_cc``), from the MIDI thread. Stamped
        with the engine frame it arrived at (JACK), the taps are timed on the engine's sample clock
        (exact, whatever the reader's delay); else on :func:`time.monotonic`. A count mixing the two
        clocks (a UI tap between switch presses) starts again rather than averaging across them."""
        self.tap(frame / self.engine.sr if frame is not None else None)

    def _on_clock(self, status: int, frame: int | None) -> None:
        """MIDI clock/start/continue/stop from the MIDI thread, stamped with the engine frame it arrived
        at (sample-accurate on JACK), else with its arrival time; followed when clock-in is on."""
        if not self.clock_in:
            return
        if frame is None:
            got = self.clock.feed(status, time.monotonic(), "monotonic")
        else:
            got = self.clock.feed(status, frame / self.engine.sr, "frames")
        if got is not None:
            self._retempo()

    def _retempo(self) -> None:
        """Re-set every synced parameter to its division's value at the session tempo (the engine's
        smoothed path: delay times glide, LFO rates move without a step in phase); clock out follows."""
        bpm = self.tempo.bpm
        if self.clock_out:
            self.engine.set_clock_out(bpm)
        with self._sync_lock:
            for (nid, name), div in list(self.synced.items()):
                try:
                    if not self._still_synced((nid, name)):
                        continue
                    p = self._param(nid, name)
                    x = p.synced(div, bpm)
                    self.engine.set_param(nid, name, x)
                    self._sync_sent[(nid, name)] = x
                except (EngineError, KeyError):
                    del self.synced[(nid, name)]  # the node is gone

    def _still_synced(self, key: tuple[str, str]) -> bool:
        """Whether a synced parameter still holds the value the session gave it; one that something
        else moved since (a MIDI controller map sets the engine directly) stops following the tempo.
        Call with the sync lock held."""
        sent = self._sync_sent.get(key)
        if key not in self.synced or sent is None:
            return key in self.synced
        try:
            moved = self.engine.get_param(*key) != sent
        except EngineError:
            moved = True
        if moved:
            del self.synced[key]
            del self._sync_sent[key]
        return not moved

    def _program_change(self, n: int) -> str:
        path = self.workers.router.config.program_path(n)
        if path is None:
            return f"program {n}: no patch listed in [midi.programs]"
        if not os.path.isabs(path):
            beside = Path(self.path).parent / path
            path = str(beside if beside.exists() else path)
        try:
            self.load(path)
        except LivehostError as e:
            return f"program {n}: {e}"
        return f"program {n}: {path}"

    # ---- MIDI learn -------------------------------------------------------------------------------
    @property
    def learn_target(self) -> str | None:
        """The ``"node.param"`` waiting for a controller, or None."""
        return self.workers.router.learn.armed

    @property
    def midi_maps(self):
        """The live CC maps (:class:`~livehost.midi.mapping.MidiMap`): the patch's and the learned ones."""
        return self.workers.maps

    def arm_learn(self, target: str) -> None:
        """Arm MIDI learn: the next controller moved is bound to ``target`` (``"node.param"``)."""
        node_id, _, name = target.partition(".")
        self.engine.get_param(node_id, name)  # raises with a suggestion if it does not exist
        self.workers.router.learn.arm(target)

    def cc(self, channel: int, cc: int, value: int) -> None:
        """A controller message (channel 0..15, cc 0..127, value 0..127) as if it came from a port:
        it completes a MIDI learn, drives its maps, or goes on to the synth."""
        self.workers.router.handle([0xB0 | (channel & 15), cc & 127, value & 127])

    def poll_learn(self) -> str | None:
        """The binding made since the last call (for the UI to announce), or None; marks the session dirty."""
        got = self.workers.poll_learned()
        if not got:
            return None
        self.dirty = True
        before, after = self._maps_seen, list(self.workers.maps)
        self._maps_seen = list(after)
        self._record(Step(f"learn {got[-1].target}", lambda: self._maps_to(before), lambda: self._maps_to(after)))
        m = got[-1]
        where = "any channel" if m.channel is None else f"ch{m.channel + 1}"
        return f"CC{m.cc} ({where}) -> {m.target}"

    def panic(self) -> None:
        """All notes off, voices silenced, output muted (unmute with the master's mute)."""
        self.engine.panic()
        self.engine.set_param("master", "mute", True)
        self.dirty = True


def _clock_source(patch: Patch) -> bool:
    """Whether ``patch`` asks to follow MIDI clock (``[tempo] source = "clock"``)."""
    return (patch.extra.get("tempo") or {}).get("source") == "clock"


def patch_files(folder: Path = PATCH_DIR) -> list[str]:
    """Patch files in ``folder`` (sorted)."""
    if not folder.is_dir():
        return []
    return sorted(str(p) for p in folder.glob("*.toml"))


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr)
