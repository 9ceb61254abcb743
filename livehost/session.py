"""A performing session: the engine, its driver, the patch file it came from, and whether it changed.

The UI (and anything else that edits a running patch) goes through a :class:`Session`, so "unsaved
changes", saving, loading another patch and switching drivers live in one place that tests can drive
without a screen.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from livehost.engine.engine import Engine, EngineError
from livehost.engine.graph import Layer, Node, walk
from livehost.engine.patching import apply_patch, engine_for, patch_from_engine
from livehost.errors import LivehostError
from livehost.nodes.declare import Param
from livehost.patch import Patch, load, save

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


class Session:
    """An engine playing a patch, with the patch's file and an unsaved-changes flag.

    driver: ``"auto"`` (PortAudio if a device exists, else null), ``"portaudio"``, ``"null"`` or
    ``"none"`` (no driver: the engine only renders when asked, as tests and offline tools do).
    """

    def __init__(self, patch_path: str, driver: str = "auto", device=None, input_override: str | None = None,
                 blocksize: int | None = None, samplerate: int | None = None):
        self.path = str(patch_path)
        self.patch: Patch = load(self.path)
        self.input_override = input_override
        self.notice = ""
        self.engine: Engine = engine_for(self.patch, samplerate, blocksize, input_override=input_override)
        self.driver = None
        self.driver_kind = driver
        self.dirty = False
        self.midi = None  # a MidiInput when one is open
        self.learn_target: str | None = None
        self.bindings: dict[tuple[int, int], str] = {}  # (channel, cc) -> "node.param"
        self._learned: str | None = None
        self.classifier = None  # a ClassifierWorker when a model runs
        self.generator = None  # a GeneratorWorker when a generator runs
        if driver != "none":
            self._start_driver(driver, device)
        remember(self.path)

    def _start_driver(self, kind: str, device) -> None:
        from livehost.engine.drivers.null import NullDriver

        eng = self.engine
        if kind in ("auto", "portaudio"):
            from livehost.engine.drivers.portaudio import PortAudioDriver

            try:
                drv = PortAudioDriver(eng, device=device, use_input=eng.input_mode == "mic")
                drv.start()
                self.driver = drv
                return
            except LivehostError as e:
                if kind == "portaudio":
                    raise
                self.notice = f"{e}; running the null driver (no sound card)"
        self.driver = NullDriver(eng)
        self.driver.start()
        if not self.notice:
            self.notice = "null driver: no sound card in use"

    def close(self) -> None:
        """Stop the audio and any workers."""
        for w in (self.classifier, self.generator, self.midi):
            if w is not None and hasattr(w, "stop"):
                try:
                    w.stop()
                except Exception:  # noqa: BLE001 — shutting down: nothing more to report
                    pass
        if self.driver is not None:
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
        """A parameter's target value (patch units)."""
        return self.engine.get_param(item.id, name)

    def set_value(self, item, name: str, value) -> None:
        """Set a parameter (validated against its declaration)."""
        self.engine.set_param(item.id, name, value)
        self.dirty = True

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
        self.engine.set_bypass(item.id, not item.values.get("bypass", False))
        self.dirty = True

    def add(self, type_name: str, after=None) -> str:
        """Add a node (or ``"layer"``) after ``after`` (or at the end); returns its id."""
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
            nid = eng.add_node(type_name, index=index, layer=layer, branch=branch)
        self.dirty = True
        return nid

    def _find(self, node_id: str):
        from livehost.engine.graph import find

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
        """Remove a node or layer (faded out first)."""
        self.engine.remove_node(item.id)
        self.dirty = True

    def move(self, item, delta: int) -> None:
        """Move a node ``delta`` places within its chain (faded out and in)."""
        container, i, _ = self._find(item.id)
        j = i + delta
        if not 0 <= j < len(container):
            return
        layer, branch = self._owner(container)
        self.engine.move_node(item.id, j, layer=layer, branch=branch)
        self.dirty = True

    # ---- files ------------------------------------------------------------------------------------
    def current_patch(self) -> Patch:
        """The engine's graph as a patch (header and reserved sections kept from the file)."""
        return patch_from_engine(self.engine, self.patch)

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
        """Load another patch into the running engine (its graph crossfades in)."""
        new = load(path)
        if (new.samplerate, new.blocksize) != (self.patch.samplerate, self.patch.blocksize):
            self.notice = (f"{path}: runs at this session's {self.engine.sr:g} Hz / {self.engine.max_block} "
                           "frames (restart to change them)")
        running = self.engine.running
        if running:  # fade out, swap graphs, fade in: no click between patches
            self.engine.fade_master(True)
        apply_patch(self.engine, new, self.input_override)
        if running:
            self.engine.fade_master(bool(new.master.get("mute", False)))
        self.patch = new
        self.path = str(path)
        self.dirty = False
        remember(self.path)

    # ---- MIDI learn -------------------------------------------------------------------------------
    def arm_learn(self, target: str) -> None:
        """Arm MIDI learn: the next controller moved is bound to ``target`` (``"node.param"``)."""
        node_id, _, name = target.partition(".")
        self.engine.get_param(node_id, name)  # raises with a suggestion if it does not exist
        self.learn_target = target
        self._learned = None

    def cc(self, channel: int, cc: int, value: int) -> None:
        """A controller message (channel 0..15, cc 0..127, value 0..127): learn or drive bindings."""
        if self.learn_target:
            self.bindings[(channel, cc)] = self.learn_target
            self._learned = f"CC{cc} ch{channel + 1} -> {self.learn_target}"
            self.learn_target = None
            self.dirty = True
        target = self.bindings.get((channel, cc))
        if target is None:
            return
        node_id, _, name = target.partition(".")
        item = self.engine.item(node_id)
        p = dict(self.params_of(item))[name]
        x = max(0, min(127, value)) / 127.0
        if p.kind == "bool":
            v = x >= 0.5
        elif p.kind == "choice":
            v = p.choices[min(len(p.choices) - 1, int(x * len(p.choices)))]
        else:
            v = p.lo + x * (p.hi - p.lo)
        self.engine.set_param(node_id, name, v)

    def poll_learn(self) -> str | None:
        """The binding made since the last call (for the UI to announce), or None."""
        got, self._learned = getattr(self, "_learned", None), None
        return got

    def panic(self) -> None:
        """All notes off, voices silenced, output muted (unmute with the master's mute)."""
        self.engine.panic()
        self.engine.set_param("master", "mute", True)
        self.dirty = True


def patch_files(folder: Path = PATCH_DIR) -> list[str]:
    """Patch files in ``folder`` (sorted)."""
    if not folder.is_dir():
        return []
    return sorted(str(p) for p in folder.glob("*.toml"))


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr)
