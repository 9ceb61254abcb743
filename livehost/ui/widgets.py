"""The UI's widgets: rack, inspector, meters, spectrum, status line and the side panels.

Widgets only read the session's engine (its arrays and graph) and post what the user did to the app;
the app makes the changes through :class:`livehost.session.Session`.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from livehost.dsp.looper import looper_status
from livehost.engine import layout as L
from livehost.engine.graph import Layer

BLOCKS = " ▁▂▃▄▅▆▇█"


def db(x: float) -> float:
    """Linear amplitude to dBFS (-inf floor at -120)."""
    return 20.0 * math.log10(x) if x > 1e-6 else -120.0


def bar(level_db: float, width: int, floor: float = -60.0) -> str:
    """A horizontal meter of ``width`` cells for ``level_db`` dBFS (floor .. 0 dBFS)."""
    frac = max(0.0, min(1.0, (level_db - floor) / -floor))
    cells = frac * width
    full = int(cells)
    part = int((cells - full) * 8)
    s = "█" * full + (("▏▎▍▌▋▊▉"[part - 1]) if part > 0 and full < width else "")
    return s.ljust(width)


def fmt_db(x: float) -> str:
    """dBFS for display: ``-inf`` below -120."""
    return f"{x:6.1f}" if x > -120.0 else "  -inf"


def fmt_value(p, v) -> str:
    """A parameter value for display, with its unit (no exponents: 20000 Hz, 0.707, -12.5 dB)."""
    if p.kind == "bool":
        return "on" if v else "off"
    if p.kind == "choice" or isinstance(v, str):
        return str(v)  # a choice, or a note division ("1/8.") following the tempo
    v = float(v)
    if v.is_integer() and abs(v) < 1e7:
        txt = f"{v:.0f}"
    elif abs(v) >= 100:
        txt = f"{v:.1f}"
    else:
        txt = f"{v:.3g}" if abs(v) >= 0.001 else f"{v:.2e}"
    return f"{txt} {p.unit}".strip()


def fmt_range(p) -> str:
    """A parameter's range for display: lo..hi unit, on/off, or its choices (summarised if many)."""
    if p.kind == "bool":
        return "on/off"
    if p.kind == "choice":
        return "/".join(p.choices) if len(p.choices) <= 7 else f"{len(p.choices)} choices: +/- to step"
    return f"{p.lo:g}..{p.hi:g} {p.unit}".strip()


def looper_text(status: dict, sr: float) -> str:
    """A looper's state in a rack row (at most 18 characters): ``● rec 3.2s`` (``● rec 3.2/4.0s`` when
    it closes itself at 4.0 s: a quantised or fixed-length take), ``▶ 1.2/4.0s``, ``● dub 1.2/4.0s``,
    ``■ stop 4.0s``, ``loop empty``; seconds of audio at ``sr`` Hz."""
    mode = status["mode"]
    pos, length = status["position"] / sr, status["length"] / sr
    if mode == "empty":
        return "loop empty"
    if mode == "record":
        closes = status.get("closes_at")
        return f"● rec {pos:.1f}s" if closes is None else f"● rec {pos:.1f}/{closes / sr:.1f}s"
    if mode == "stop":
        return f"■ stop {length:.1f}s"
    return f"{'▶' if mode == 'play' else '● dub'} {pos:.1f}/{length:.1f}s"


class Rack(Widget, can_focus=True):
    """Input → sources → chain (layers nested) → master, one row each, with bypass, wet and a meter."""

    selected = reactive(0)

    def __init__(self, session, **kw):
        super().__init__(**kw)
        self.session = session
        self.rows: list = []

    def on_mount(self) -> None:
        self.rebuild()

    def rebuild(self) -> None:
        """Re-read the graph (after an edit) and keep the selection in range."""
        self.rows = self.session.rows()
        self.selected = max(0, min(self.selected, len(self.rows) - 1))
        self.refresh()

    def current(self):
        """The selected row ``(depth, kind, item)``."""
        if not self.rows:
            self.rows = self.session.rows()
        return self.rows[self.selected]

    def select_id(self, node_id: str) -> None:
        """Select the row of node ``node_id``."""
        for i, (_, kind, it) in enumerate(self.rows):
            if kind in ("node", "layer", "source", "master") and it.id == node_id:
                self.selected = i
                return

    def move(self, delta: int) -> None:
        """Move the selection, skipping branch header rows."""
        i = self.selected
        while True:
            i += delta
            if not 0 <= i < len(self.rows):
                return
            if self.rows[i][1] != "branch":
                self.selected = i
                return

    def render(self) -> Text:
        eng = self.session.engine
        t = Text()
        width = max(30, self.size.width - 2)
        for i, (depth, kind, it) in enumerate(self.rows):
            sel = i == self.selected
            style = "reverse" if sel and self.has_focus else ("bold" if sel else "")
            pad = "│ " * depth  # tree lines: nesting stays visible (leading blanks would be trimmed)
            if kind == "input":
                label, meter_id, extra = f"input: {it}", "input", ""
            elif kind == "branch":
                lay, j = it
                t.append(f"{pad}├ branch {j}  {lay.branches[j].gain_db:+.1f} dB\n", style="dim")
                continue
            elif kind == "master":
                label, meter_id = "master", "master"
                extra = f"ceiling {it.values['ceiling_db']:.1f} dBFS" + ("  MUTED" if it.values["mute"] else "")
            else:
                name = "layer" if isinstance(it, Layer) else it.type.name
                byp = it.values.get("bypass", False)
                label = f"{'[B] ' if byp else ''}{it.id} ({name})"
                meter_id = it.id
                extra = f"wet {100 * float(it.values.get('wet', 1.0)):.0f}%"
                if name == "looper":  # what a performer looks at while the foot works
                    extra = looper_text(looper_status(eng.a[it.sbase:it.sbase + it.ssize]), eng.sr)
            try:
                m = eng.meter(meter_id)
                pk = max(m["peak_db"])
            except Exception:  # noqa: BLE001 — a node removed between frames
                pk = -120.0
            clip = "!" if pk >= -0.5 else " "
            left = f"{pad}{label}"
            right = f"{extra:>18} {bar(pk, 10)}{clip}"
            t.append(left.ljust(max(1, width - len(right)))[: max(1, width - len(right))] + right + "\n",
                     style=style)
        return t


class Inspector(Widget, can_focus=True):
    """Every declared parameter of the selected node, with unit and range; one selected."""

    selected = reactive(0)

    def __init__(self, session, **kw):
        super().__init__(**kw)
        self.session = session
        self.item = None

    def show(self, item) -> None:
        """Inspect ``item`` (a Node, Layer, source or the master; anything else shows nothing)."""
        if item is not self.item:
            self.selected = 0
        self.item = item
        self.refresh()

    def params(self):
        """``(name, Param)`` of the inspected item."""
        return self.session.params_of(self.item) if self.item is not None else []

    def current(self):
        """The selected ``(name, Param)`` or None."""
        ps = self.params()
        if not ps:
            return None
        self.selected = max(0, min(self.selected, len(ps) - 1))
        return ps[self.selected]

    def move(self, delta: int) -> None:
        """Select the previous/next parameter."""
        n = len(self.params())
        if n:
            self.selected = (self.selected + delta) % n

    def render(self) -> Text:
        t = Text()
        if self.item is None or not self.params():
            t.append("(select a node)", style="dim")
            return t
        name = getattr(self.item, "id", "")
        tname = "layer" if isinstance(self.item, Layer) else self.item.type.name
        t.append(f"{name} ({tname})\n", style="bold")
        doc = "" if isinstance(self.item, Layer) else self.item.type.doc
        if doc:
            t.append(doc + "\n", style="italic dim")
        for key in self.session.files_of(self.item):  # files a plugin loads (F changes them)
            now = self.item.options.get(key)
            t.append(f"  {key:<16} {Path(now).name if now else '(plugin default)'}   file: F loads another\n",
                     style="dim")
        learn = self.session.learn_target
        mapped = {m.target: m.cc for m in self.session.midi_maps}
        for i, (pname, p) in enumerate(self.params()):
            v = self.session.value(self.item, pname)
            rng = fmt_range(p)
            sel = i == self.selected
            mark = "▶ " if sel else "  "
            target = f"{name}.{pname}"
            learning = "  [learn: move a CC]" if learn == target else (
                f"  CC{mapped[target]}" if target in mapped else "")
            style = "reverse" if sel and self.has_focus else ("bold" if sel else "")
            t.append(f"{mark}{pname:<16} {fmt_value(p, v):>14}   {rng}{learning}\n", style=style)
        return t


class Meters(Widget):
    """Input and master peak/RMS bars (dBFS) with clip indicators and peak hold."""

    def __init__(self, session, **kw):
        super().__init__(**kw)
        self.session = session
        self.hold = {"input": -120.0, "master": -120.0}
        self.clipped = {"input": False, "master": False}

    def tick(self) -> None:
        """Read the meters (called at the UI's frame rate)."""
        for k in self.hold:
            m = self.session.engine.meter(k)
            pk = max(m["peak_db"])
            self.hold[k] = max(pk, self.hold[k] - 0.5)
            if pk >= -0.5:
                self.clipped[k] = True
        self.refresh()

    def render(self) -> Text:
        t = Text()
        w = max(10, self.size.width - 26)
        for k in ("input", "master"):
            m = self.session.engine.meter(k)
            for ch, side in enumerate("LR"):
                pk, rms = m["peak_db"][ch], m["rms_db"][ch]
                t.append(f"{k[:3]} {side} {bar(pk, w)} {fmt_db(pk)} rms {fmt_db(rms)}")
                t.append(" CLIP\n" if self.clipped[k] else "\n", style="bold red" if self.clipped[k] else "")
        return t


class Spectrum(Widget):
    """The output spectrum (last 4096 samples of the analysis tap), log-frequency bars in dB."""

    def __init__(self, session, **kw):
        super().__init__(**kw)
        self.session = session
        self.levels = np.full(48, -100.0)

    def tick(self) -> None:
        """Take a new FFT of the output tap."""
        a = self.session.engine.a
        cap = int(a[L.H_TAP_CAP])
        w = int(a[L.H_TAP_W])
        n = 4096
        if w < n:
            return
        base = int(a[L.H_TAP]) + cap
        idx = (np.arange(w - n, w) % cap) + base
        x = (a[idx] + a[idx + cap]) * 0.5
        spec = np.abs(np.fft.rfft(x * np.hanning(n))) / (n / 4)
        sr = self.session.engine.sr
        freqs = np.fft.rfftfreq(n, 1 / sr)
        cols = max(8, self.size.width - 2)
        edges = np.geomspace(30.0, min(20000.0, sr / 2), cols + 1)
        lv = np.empty(cols)
        for i in range(cols):
            sel = (freqs >= edges[i]) & (freqs < edges[i + 1])
            v = spec[sel].max() if sel.any() else spec[np.argmin(np.abs(freqs - edges[i]))]
            lv[i] = 20 * np.log10(max(v, 1e-9))
        self.levels = lv
        self.refresh()

    def render(self) -> Text:
        rows = max(2, self.size.height - 1)
        lv = np.clip((self.levels + 90.0) / 90.0, 0, 1) * rows
        t = Text()
        for r in range(rows, 0, -1):
            line = "".join(BLOCKS[int(min(8, max(0, (v - (r - 1)) * 8)))] for v in lv)
            t.append(line + "\n", style="green")
        t.append("30 Hz".ljust(max(0, len(lv) - 6)) + "20 kHz", style="dim")
        return t


def recording_text(session) -> str:
    """The status line's take: ``REC m:ss file`` (and dropped frames, or why it stopped), or ``""``."""
    rec = getattr(session, "recorder", None)
    if rec is None:
        return ""
    if rec.error:
        return f"REC STOPPED: {rec.error} | "
    t = int(rec.seconds)
    drops = f" DROPPED {rec.drops} fr" if rec.drops else ""
    where = Path(rec.path)
    return f"● REC {t // 60}:{t % 60:02d} {where.parent.name}/{where.name}{drops} | "


class StatusLine(Static):
    """Driver, device, rate, block, latency, DSP load, xruns, NaN resets, tempo (and its source), patch and
    unsaved marker; first, what is wrong with the audio server, while something is, then the take being
    recorded (its length, file and dropped frames)."""

    def update_from(self, session) -> None:
        """Refresh the text from the session."""
        s = session.engine.stats()
        mark = " *" if session.dirty else ""
        state = getattr(session, "audio_state", None)
        # plain Text, not markup: device and file names may hold brackets ("live [v2].toml")
        self.update(Text(
            (f"!! {state} | " if state else "") + recording_text(session) + f"{s['driver']} | {s['device'] or '-'} | {s['samplerate']:g} Hz | {s['blocksize']} fr | "
            f"lat {s['graph_latency_ms']:.1f} ms, round trip {s['roundtrip_ms']:.1f} ms | DSP p50 {100 * s['dsp_load_p50']:.1f}% p99 "
            f"{100 * s['dsp_load_p99']:.1f}% | xruns {s['xruns']} | NaN {s['nan_resets']} | "
            f"{session.tempo.describe()} | {Path(session.path).name}{mark}"
            + (f" | {session.ab_side}" if getattr(session, "ab_side", None) else "")))


class SidePanel(Static):
    """MIDI, tuning, genre and generator status: each shows what exists, or says it is not running."""

    def update_from(self, session) -> None:
        """Refresh the text from the session and its workers."""
        # plain Text, not markup: the hints name patch sections ("[midi] port") and port names, MIDI
        # event texts, model errors and file names may hold brackets too; markup would swallow them
        self.update(Text("\n".join(self._midi_lines(session) + self._tuning_lines(session)
                                   + self._genre_lines(session) + self._generator_lines(session))))

    @staticmethod
    def _midi_lines(session) -> list[str]:
        mon = session.monitor
        midi = session.midi
        if midi is None:
            head = "MIDI: no port (--midi PORT or [midi] port)"
        else:
            head = f"MIDI: {midi.connected_port or 'waiting for ' + repr(midi.port_pattern or '')}"
            if midi.virtual_name:
                head += f" + virtual '{midi.virtual_name}'"
        lines = [f"{head}  ({mon.received} events)"]
        notes = mon.active_notes()
        if notes:
            lines.append("  notes " + " ".join(str(n) for _, n in notes[:12]))
        ccs = mon.cc_values()
        if ccs:
            lines.append("  " + " ".join(f"cc{c}={v}" for (_, c), v in sorted(ccs.items())[:6]))
        for e in mon.events(last=3):
            lines.append(f"  {e['kind']} {'' if e['channel'] is None else 'ch' + str(e['channel'] + 1)} "
                         f"{'' if e['a'] is None else e['a']} {'' if e['b'] is None else e['b']} {e['text']}".rstrip())
        if session.learn_target:
            lines.append(f"MIDI learn: {session.learn_target} (move a controller)")
        return lines

    @staticmethod
    def _tuning_lines(session) -> list[str]:
        sy = session.patch.synth
        if not sy:
            return ["tuning: (no synth in this patch)"]
        lines = [f"tuning: {sy.get('tuning', '12edo')}"]
        try:
            table = session.engine.payload(sy.get("id", "synth"))
        except Exception:  # the synth was removed
            return lines
        notes = session.monitor.active_notes()[:6]
        if notes:
            lines.append("  " + "  ".join(f"{n}: {table[n]:.2f} Hz" for _, n in notes))
        return lines

    @staticmethod
    def _genre_lines(session) -> list[str]:
        cls = session.classifier
        if cls is None:
            return ["genre: (no classifier: [models] classifier)"]
        snap = cls.snapshot
        if snap.error:
            return [f"genre: {snap.error}"]
        lines = [f"genre: {cls.model_path.name}  window {100 * snap.fill:.0f}%"
                 + ("  (low confidence)" if snap.low_confidence else "")
                 + (f"  {snap.inference_ms:.0f} ms" if snap.count else "")]
        for name, prob in snap.top3:
            lines.append(f"  {name:<10} {bar(20 * math.log10(max(prob, 1e-6)), 12, -40)} {100 * prob:4.0f}%")
        if snap.silent:
            lines.append("  (silence)")
        return lines

    @staticmethod
    def _generator_lines(session) -> list[str]:
        gen = session.generator
        if gen is None:
            return ["generator: (none: [models] generator)"]
        eng = session.engine
        temp = eng.get_param(gen.node_id, "temperature")
        frozen = eng.get_param(gen.node_id, "freeze")
        ahead_ms = 1000.0 * gen.frames_ahead / eng.sr
        return [f"generator: {'frozen' if frozen else 'playing'}  temperature {temp:.2f}",
                f"  buffer {ahead_ms:.0f} ms ahead  underruns {gen.underruns}"]
