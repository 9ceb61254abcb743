"""The Textual patching UI: what the performer looks at on stage.

It runs in the engine's own process. That is safe only because the audio callback is compiled and
never takes the GIL: redrawing meters at 30 Hz cannot make the audio miss a deadline.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.markup import escape
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header

from livehost.engine.graph import Layer, Node
from livehost.errors import LivehostError
from livehost.lv2.world import plugins as lv2_plugins
from livehost.session import Session, patch_files
from livehost.ui.screens import AddNodeScreen, AskScreen, ConfirmScreen, HelpScreen, PickScreen, SearchScreen
from livehost.ui.widgets import Inspector, Meters, Rack, SidePanel, Spectrum, StatusLine

EDITABLE = ("node", "layer", "master", "source")


class LivehostApp(App):
    """The patching UI over a :class:`Session` (which it closes on exit)."""

    CSS_PATH = "livehost.tcss"
    TITLE = "livehost"
    BINDINGS = [
        Binding("tab", "focus_next", "rack/inspector", show=False),
        Binding("up", "up", "select", show=False),
        Binding("down", "down", "select", show=False),
        Binding("shift+up", "move(-1)", "move node up"),
        Binding("shift+down", "move(1)", "move node down"),
        Binding("plus,equals_sign", "step(1)", "fine +", key_display="+"),
        Binding("minus", "step(-1)", "fine -", key_display="-"),
        Binding("right_square_bracket,pageup", "coarse(1)", "+ coarse", show=False),
        Binding("left_square_bracket,pagedown", "coarse(-1)", "- coarse", show=False),
        Binding("enter", "edit", "type a value", show=False),
        Binding("b", "bypass", "bypass"),
        Binding("m", "learn", "MIDI learn"),
        Binding("a", "add", "add node"),
        Binding("delete,backspace", "remove", "remove"),
        Binding("ctrl+z", "undo", "undo"),
        Binding("ctrl+y", "redo", "redo", show=False),
        Binding("c", "flip_ab", "A/B", show=False),
        Binding("ctrl+s", "save", "save"),
        Binding("w", "save_as", "save as"),
        Binding("o", "open", "load patch"),
        Binding("d", "devices", "audio devices", show=False),
        Binding("g", "gen_prime", "prime generator", show=False),
        Binding("f", "gen_freeze", "freeze generator", show=False),
        Binding("t", "tap", "tap tempo", show=False),
        Binding("r", "record(False)", "record", show=False),
        Binding("R", "record(True)", "record + dry input", show=False),
        Binding("l", "save_loop", "save loop", show=False),
        Binding("F", "load_file", "load a file into a plugin", show=False),
        Binding("p", "preset_save", "save preset", show=False),
        Binding("P", "preset_load", "load preset", show=False),
        Binding("exclamation_mark,f12", "panic", "PANIC", key_display="!"),
        Binding("question_mark", "help", "help", key_display="?"),
        Binding("q", "quit_app", "quit"),
    ]
    HELP = [
        ("up / down", "select a node (rack) or a parameter (inspector)"),
        ("tab", "switch between the rack and the inspector"),
        ("+ / -", "fine step of the selected parameter (1/100 of its range)"),
        ("] / [", "coarse step (1/10 of its range); also page up / page down"),
        ("enter", "type a value for the selected parameter"),
        ("b", "bypass the selected node on/off (crossfaded)"),
        ("m", "MIDI learn: the next controller moved drives the selected parameter"),
        ("a", "add a node after the selected one (searchable list; lv2: then the installed LV2 plugins)"),
        ("delete", "remove the selected node (faded out)"),
        ("shift+up/down", "move the selected node in its chain"),
        ("ctrl+z / ctrl+y", "undo / redo the last edit (100 levels, faded like the edit)"),
        ("c", "A/B: keep this version as A and edit a copy (B); then flip A <-> B (crossfaded)"),
        ("ctrl+s", "save the patch (atomic)"),
        ("w", "save as a new file in patches/"),
        ("o", "load a patch from patches/"),
        ("d", "audio devices: choose the output, then the input (PortAudio; faded, ~0.1 s gap)"),
        ("g", "generator: prime from the last 3 s of input (it continues what you played)"),
        ("f", "generator: freeze on/off (loops the last half second, model paused)"),
        ("t", "tap tempo: the tempo follows the last taps (a pause over 2 s starts again)"),
        ("r", "record the output on/off (recordings/<patch>-<date-time>.wav)"),
        ("R", "record the output and the dry input (channels 3-4) on/off"),
        ("l", "save the selected looper's loop, as it plays (recordings/<patch>-loop-<node>-<date-time>.wav)"),
        ("F", "load a file into the selected plugin while it plays (an LV2 sampler's sample; list or path)"),
        ("p", "save the selected node's values as a preset (presets/<type>/<name>.toml)"),
        ("P", "load a preset into the selected node (searchable list)"),
        ("! or F12", "PANIC: all notes off, output muted (unmute: master's mute)"),
        ("?", "this help"),
        ("q", "quit (asks first when there are unsaved changes)"),
    ]

    def __init__(self, session: Session, fps: float = 30.0):
        super().__init__()
        self.session = session
        self.fps = fps
        self._key_time: float | None = None  # when the key being handled was read (monotonic s)

    # ---- layout -----------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield Rack(self.session, id="rack")
                yield Inspector(self.session, id="inspector")
            with Vertical(id="right"):
                yield Meters(self.session, id="meters")
                yield Spectrum(self.session, id="spectrum")
                yield SidePanel(id="side")
        yield StatusLine(id="status")
        yield Footer()

    def on_mount(self) -> None:
        # keep the main screen's widgets: queries search the active screen, which may be a dialog
        self._rack = self.query_one(Rack)
        self._inspector = self.query_one(Inspector)
        self._meters = self.query_one(Meters)
        self._spectrum = self.query_one(Spectrum)
        self._status = self.query_one(StatusLine)
        self._side = self.query_one(SidePanel)
        self._show_title()
        self._rack.focus()
        self._sync_inspector()
        self.set_interval(1.0 / self.fps, self._tick)
        if self.session.notice:
            self.notify(self.session.notice, timeout=6)
        self._tick()

    def _tick(self) -> None:
        msg = self.session.service()
        if msg:
            self.notify(msg, timeout=6)
            self._after_edit()
        self._check_learn()
        self._meters.tick()
        self._spectrum.tick()
        self._rack.refresh()
        self._status.update_from(self.session)
        self._side.update_from(self.session)

    # ---- helpers ----------------------------------------------------------------------------------
    @property
    def rack(self) -> Rack:
        return self._rack

    @property
    def inspector(self) -> Inspector:
        return self._inspector

    def selected_item(self):
        """The item of the selected rack row, or None for input/branch rows."""
        _, kind, it = self.rack.current()
        return it if kind in EDITABLE else None

    def _sync_inspector(self) -> None:
        self.inspector.show(self.selected_item())

    def _after_edit(self, select: str | None = None) -> None:
        self.rack.rebuild()
        if select:
            self.rack.select_id(select)
        self._sync_inspector()
        self._show_title()

    def _show_title(self) -> None:
        """Header: the patch's name, its file and the unsaved-changes marker ``*``."""
        name = Path(self.session.path).name
        self.sub_title = f"{self.session.patch.name} — {name}" + (" *" if self.session.dirty else "")

    def notify(self, message: str, **kw) -> None:
        """Show ``message`` as plain text: patch errors and hints name sections (``[midi] port``) that
        Textual would otherwise read as markup and hide. ``markup=False`` (newer Textual) is passed on."""
        super().notify(escape(message) if kw.get("markup", True) else message, **kw)

    def _error(self, e: Exception) -> None:
        self.notify(str(e), severity="error", timeout=6)

    # ---- navigation -------------------------------------------------------------------------------
    def action_up(self) -> None:
        if self.focused is self.inspector:
            self.inspector.move(-1)
        else:
            self.rack.move(-1)
            self._sync_inspector()

    def action_down(self) -> None:
        if self.focused is self.inspector:
            self.inspector.move(1)
        else:
            self.rack.move(1)
            self._sync_inspector()

    # ---- parameter edits --------------------------------------------------------------------------
    def _step(self, direction: int, coarse: bool) -> None:
        it = self.selected_item()
        cur = self.inspector.current()
        if it is None or cur is None:
            return
        name, p = cur
        try:
            self.session.step(it, name, p, direction, coarse)
        except LivehostError as e:
            self._error(e)
        self._after_edit()

    def action_step(self, direction: int) -> None:
        self._step(direction, False)

    def action_coarse(self, direction: int) -> None:
        self._step(direction, True)

    def action_edit(self) -> None:
        it = self.selected_item()
        cur = self.inspector.current()
        if it is None or cur is None:
            return
        name, p = cur

        def done(text: str | None) -> None:
            if text is None:
                return
            try:
                self.session.set_value(it, name, _parse_value(p, text))
            except (LivehostError, ValueError) as e:
                self._error(e)
            self._after_edit()

        now = self.session.value(it, name)
        self.push_screen(AskScreen(f"{it.id}.{name}: now {now}; new value ({p.unit or p.kind}):", str(now)), done)

    def action_bypass(self) -> None:
        it = self.selected_item()
        if isinstance(it, (Node, Layer)) and it is not self.session.engine.master and it not in \
                self.session.engine.sources:
            self.session.toggle_bypass(it)
            self._after_edit()

    # ---- graph edits ------------------------------------------------------------------------------
    def action_add(self) -> None:
        reg = self.session.engine.types
        types = [(n, reg[n].doc) for n in sorted(reg) if n not in ("master", "file") and not reg[n].source
                 and n not in ("fault", "midiprobe")]
        types.append(("layer", "Parallel branches mixed back with per-branch gain."))
        after = self.selected_item()

        def add(name: str, options: dict | None = None) -> None:
            try:
                nid = self.session.add(name, after=after, options=options)
            except LivehostError as e:
                self._error(e)
                return
            self._after_edit(select=nid)

        def done(name: str | None) -> None:
            if name == "lv2":
                self._pick_plugin(lambda uri: add("lv2", {"uri": uri}))
            elif name:
                add(name)

        self.push_screen(AddNodeScreen(types), done)

    def _pick_plugin(self, then) -> None:
        """The installed LV2 plugins, searchable by name, URI and class; ``then(uri)`` with the one
        chosen. Those livehost cannot run are listed with the reason and refused."""
        try:
            infos = lv2_plugins()
        except LivehostError as e:
            self._error(e)
            return
        items = [(p.uri, f"{p.name} ({p.plugin_class})" + ("" if p.runnable else f"  [cannot run: {p.why_not}]"))
                 for p in infos.values()]
        width = min(48, max((len(u) for u, _ in items), default=12))

        def chosen(uri: str | None) -> None:
            if not uri:
                return
            if not infos[uri].runnable:
                self._error(LivehostError(f"{uri}: livehost cannot run it: {infos[uri].why_not}"))
                return
            then(uri)

        self.push_screen(SearchScreen(f"LV2 plugins ({len(items)} installed): type to search, enter to add",
                                      items, width=width), chosen)

    def action_remove(self) -> None:
        it = self.selected_item()
        if not isinstance(it, (Node, Layer)) or it is self.session.engine.master or it in self.session.engine.sources:
            return
        try:
            self.session.remove(it)
        except LivehostError as e:
            self._error(e)
        self.set_timer(0.08, self._after_edit)
        self._after_edit()

    def action_move(self, delta: int) -> None:
        it = self.selected_item()
        if not isinstance(it, (Node, Layer)) or it is self.session.engine.master or it in self.session.engine.sources:
            return
        try:
            self.session.move(it, delta)
        except LivehostError as e:
            self._error(e)
        self.set_timer(0.08, lambda: self._after_edit(select=it.id))
        self._after_edit(select=it.id)

    # ---- undo / redo, A/B -------------------------------------------------------------------------
    def action_undo(self) -> None:
        self._replay(self.session.undo, "undo", "nothing to undo")

    def action_redo(self) -> None:
        self._replay(self.session.redo, "redo", "nothing to redo")

    def _replay(self, action, what: str, none: str) -> None:
        it = self.selected_item()
        try:
            label = action()
        except LivehostError as e:
            self._error(e)
            label = None
        else:
            self.notify(f"{what}: {label}" if label else none, timeout=2)
        keep = getattr(it, "id", None)
        self.set_timer(0.08, lambda: self._after_edit(select=keep))
        self._after_edit(select=keep)

    def action_flip_ab(self) -> None:
        it = self.selected_item()
        try:
            side = self.session.flip_ab()
        except LivehostError as e:
            self._error(e)
            return
        self.notify(f"A/B: playing {side}", timeout=3)
        self._after_edit(select=getattr(it, "id", None))

    # ---- MIDI learn -------------------------------------------------------------------------------
    def action_learn(self) -> None:
        it = self.selected_item()
        cur = self.inspector.current()
        if it is None or cur is None:
            return
        target = f"{it.id}.{cur[0]}"
        self.session.arm_learn(target)
        self.notify(f"MIDI learn: move a controller to drive {target}")
        self.inspector.refresh()

    def _check_learn(self) -> None:
        bound = self.session.poll_learn()
        if bound:
            self.notify(f"learned: {bound}")
            self.inspector.refresh()

    # ---- files ------------------------------------------------------------------------------------
    def action_save(self) -> None:
        try:
            path = self.session.save()
            self.notify(f"saved {path}")
        except (LivehostError, OSError) as e:
            self._error(e)
        self._after_edit()

    def action_save_as(self) -> None:
        def done(name: str | None) -> None:
            if not name:
                return
            path = name if "/" in name else str(Path("patches") / name)
            if not path.endswith(".toml"):
                path += ".toml"
            try:
                self.session.save(path)
                self.notify(f"saved {path}")
            except (LivehostError, OSError) as e:
                self._error(e)
            self._after_edit()

        self.push_screen(AskScreen("save as (a name in patches/):", Path(self.session.path).stem + "-2"), done)

    def action_open(self) -> None:
        def load(path: str | None) -> None:
            if not path:
                return
            try:
                self.session.load(path)
                self._show_title()
                self.notify(f"loaded {path}")
            except LivehostError as e:
                self._error(e)
            self.rack.selected = 0
            self._after_edit()

        def picked(path: str | None) -> None:
            if not path:
                return
            if self.session.dirty:
                self.push_screen(ConfirmScreen("Unsaved changes will be lost. Load anyway?"),
                                 lambda ok: load(path) if ok else None)
            else:
                load(path)

        files = patch_files()
        if not files:
            self.notify("no patches in patches/", severity="warning")
            return
        self.push_screen(PickScreen("load a patch:", files), picked)

    def action_devices(self) -> None:
        """Choose the output device, then (when the patch listens to the microphone) the input device,
        from the devices PortAudio sees; the session moves the audio to them faded."""
        session = self.session
        devs = session.audio_devices()
        if not devs:
            self.notify("no audio devices found (start JACK or the sound server)", severity="warning")
            return

        def items(key: str) -> list[tuple[str, str]]:
            return [(str(d["index"]), f"{d['name']} ({d['hostapi']}, {d[key]} ch, {d['samplerate']:g} Hz)")
                    for d in devs if d[key] > 0]

        def switch(out: str, inp: str | None) -> None:
            try:
                now = session.set_devices(int(out), None if inp is None else int(inp))
                self.notify(f"audio on {now}", timeout=4)
            except LivehostError as e:
                self._error(e)

        def output_chosen(out: str | None) -> None:
            if out is None:
                return
            if session.engine.input_mode != "mic" or not items("inputs"):
                switch(out, None)
                return
            self.push_screen(SearchScreen("input device: type to search, enter to choose", items("inputs")),
                             lambda inp: switch(out, inp) if inp is not None else None)

        self.push_screen(SearchScreen("output device: type to search, enter to choose", items("outputs")),
                         output_chosen)

    # ---- the rest ---------------------------------------------------------------------------------
    def _generator(self):
        """The generator worker, or None after telling the performer there is none."""
        gen = self.session.generator
        if gen is None:
            self.notify("no generator in this patch ([models] generator)", severity="warning")
        return gen

    def action_gen_prime(self) -> None:
        gen = self._generator()
        if gen is None:
            return
        steps = gen.prime_from_input(3.0)
        self.notify(f"generator primed from {steps * gen.gen.hop / gen.gen.sr:.1f} s of input")

    def action_gen_freeze(self) -> None:
        gen = self._generator()
        if gen is None:
            return
        on = not self.session.engine.get_param(gen.node_id, "freeze")
        self.session.engine.set_param(gen.node_id, "freeze", on)
        self.notify("generator frozen" if on else "generator playing")

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            # stamped by the terminal driver's input thread as it read the key: a tap keeps the
            # performer's timing even when this thread is busy redrawing
            self._key_time = event.time
        await super().on_event(event)

    def action_tap(self) -> None:
        when = self._key_time
        if when is None or not 0.0 <= time.monotonic() - when < 1.0:
            when = None  # not from a key just read: now
        bpm = self.session.tap(when)
        self._status.update_from(self.session)
        self.notify("tap again to set the tempo" if bpm is None else f"tempo {bpm:.1f} bpm", timeout=2)

    def _preset_node(self):
        it = self.selected_item()
        if not isinstance(it, Node) or it is self.session.engine.master:
            self.notify("select a node in the rack first: presets are per node type", severity="warning")
            return None
        return it

    def action_preset_save(self) -> None:
        it = self._preset_node()
        if it is None:
            return

        def done(name: str | None) -> None:
            if not name:
                return
            try:
                self.notify(f"saved preset {self.session.save_preset(it, name)}")
            except LivehostError as e:
                self._error(e)

        self.push_screen(AskScreen(f"save {it.id}'s values as a {it.type.name} preset named:", it.id), done)

    def action_preset_load(self) -> None:
        it = self._preset_node()
        if it is None:
            return
        found = {p.name: p for p in self.session.presets(it)}
        if not found:
            self.notify(f"no {it.type.name} presets yet (p saves one)", severity="warning")
            return

        def done(name: str | None) -> None:
            if not name:
                return
            try:
                self.session.load_preset(it, found[name].path)
                self.notify(f"{it.id}: preset {name}")
            except LivehostError as e:
                self._error(e)
            self._after_edit()

        items = [(p.name, "(shipped)" if p.shipped else "") for p in found.values()]
        width = max(12, max(len(n) for n, _ in items))
        self.push_screen(SearchScreen(f"Load a {it.type.name} preset into {it.id}: type to search, enter to load",
                                      items, width), done)

    def action_record(self, dry: bool) -> None:
        """Start a take, or stop the one running (either key stops it)."""
        if self.session.recorder is not None:
            rec = self.session.stop_recording()
            what = f"recorded {rec.seconds:.1f} s to {rec.path}"
            if rec.drops:
                what += f" ({rec.drops} frames dropped: the disk was too slow)"
            self.notify(rec.error or what, severity="error" if rec.error else "information", timeout=6)
        else:
            try:
                path = self.session.record(dry=dry)
            except LivehostError as e:
                self._error(e)
                return
            self.notify(f"recording {'output + dry input' if dry else 'the output'} to {path}", timeout=3)
        self._status.update_from(self.session)

    def action_save_loop(self) -> None:
        """Write the selected looper's loop to a new file in recordings/."""
        try:
            path = self.session.save_loop(self.selected_item())
        except LivehostError as e:
            self._error(e)
            return
        self.notify(f"saved the loop to {path}", timeout=4)

    def action_load_file(self) -> None:
        """Ask which file the selected plugin should load (its file options: an LV2 sampler's sample),
        then the file (a searchable list of the audio files beside the patch, or a typed path); the
        plugin loads it while it plays."""
        it = self.selected_item()
        keys = self.session.files_of(it) if it is not None else ()
        if not keys:
            self.notify("select a plugin that loads files (an LV2 sampler) first", severity="warning")
            return

        def path_given(key: str, path: str | None) -> None:
            if not path:
                return
            try:
                got = self.session.set_file(it, key, path)
            except LivehostError as e:
                self._error(e)
                return
            self.notify(f"{it.id}: loading {got}", timeout=4)
            self._after_edit()

        def key_chosen(key: str | None) -> None:
            if key is None:
                return
            now = it.options.get(key, "")
            found = self.session.audio_files()
            title = (f"{it.id}: the file for '{key}' (now {Path(now).name if now else 'the plugin default'}): "
                     f"type to search, or a path; enter loads it")
            self.push_screen(SearchScreen(title, [(n, "") for n in found], width=1, free_text=True),
                             lambda name: path_given(key, found.get(name, name) if name else None))

        if len(keys) == 1:
            key_chosen(keys[0])
        else:
            self.push_screen(PickScreen(f"which of {it.id}'s files?", list(keys)), key_chosen)

    def action_panic(self) -> None:
        self.session.panic()
        self.notify("PANIC: all notes off, output muted (unmute: master → mute)", severity="warning")
        self._after_edit()

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.HELP))

    def action_quit_app(self) -> None:
        if self.session.dirty:
            self.push_screen(ConfirmScreen("Unsaved changes. Quit anyway?"),
                             lambda ok: self.exit() if ok else None)
        else:
            self.exit()


def _parse_value(p, text: str):
    """A typed value for parameter ``p``: a number, on/off, one of its choices, or a note division
    (``1/8.``) for a parameter that can follow the tempo."""
    t = text.strip()
    if p.kind == "bool":
        if t.lower() in ("on", "true", "yes", "1"):
            return True
        if t.lower() in ("off", "false", "no", "0"):
            return False
        raise ValueError(f"'{t}' is not on/off")
    if p.kind == "choice":
        return t
    if p.sync and "/" in t:
        return t  # a note division ("1/8."): the session checks it and follows the tempo
    try:
        return float(t.split()[0])
    except (ValueError, IndexError):
        raise ValueError(f"'{t}' is not a number") from None
