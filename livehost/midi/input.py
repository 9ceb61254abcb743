"""MIDI input: rtmidi ports -> the engine (notes, bend, pressure, CCs), CC maps, MTS retuning, programs.

:class:`MidiRouter` turns one complete MIDI message into engine actions and keeps the UI's view
(:class:`MidiMonitor`); :class:`MidiInput` owns the python-rtmidi ports (a named/pattern-matched port,
an optional virtual port) and a watchdog thread that reconnects a port that went away and came back.

Threads: rtmidi calls :meth:`MidiRouter.handle` on its own thread.  Everything it touches is
thread-safe: ``engine.send_midi`` (lock + lock-free ring), ``engine.set_param`` (engine lock), the
payload (single float64 stores, which the audio thread reads whole) and the monitor (its lock).
"""

from __future__ import annotations

import collections
import logging
import os
import re
import threading
import time
from typing import Callable, Sequence

from livehost.engine.drivers import libjack
from livehost.engine import layout as L
from livehost.engine.layout import H_FRAMES
from livehost.midi.jackport import JackMidiPort
from livehost.midi.mapping import MidiConfig, MidiLearn, MidiMap, map_value
from livehost.midi.stamps import StampPlacer
from livehost.midi.tap import MidiTapReader
from livehost.tuning import Tuning, TuningError

log = logging.getLogger("livehost.midi")

NOTE_OFF, NOTE_ON, POLY_PRESSURE, CC, PROGRAM, CHANNEL_PRESSURE, PITCH_BEND = (
    0x80, 0x90, 0xA0, 0xB0, 0xC0, 0xD0, 0xE0)
CLOCK_STATUSES = (0xF8, 0xFA, 0xFB, 0xFC)
"""MIDI clock (24 per quarter note), start, continue, stop: handed to :attr:`MidiRouter.on_clock`."""
KIND_NAMES = {NOTE_OFF: "note_off", NOTE_ON: "note_on", POLY_PRESSURE: "poly_pressure", CC: "cc",
              PROGRAM: "program", CHANNEL_PRESSURE: "pressure", PITCH_BEND: "bend"}


class MidiMonitor:
    """What the UI shows: recent events, sounding notes, last CC values, counters. Thread-safe.

    size: how many recent events are kept.
    """

    def __init__(self, size: int = 256):
        self._lock = threading.Lock()
        self._log: collections.deque = collections.deque(maxlen=size)
        self._notes: set[tuple[int, int]] = set()
        self._cc: dict[tuple[int, int], int] = {}
        self.received = 0
        self.dropped = 0  # events the engine's ring refused (full)

    def event(self, kind: str, channel: int | None = None, a: int | None = None, b: int | None = None,
              text: str = "", frame: int | None = None) -> None:
        """Record one event (``kind``: note_on, note_off, cc, bend, sysex, program, mts, port, error...).

        frame: the engine's frame counter when it arrived (frames processed so far), if known."""
        with self._lock:
            self.received += 1
            self._log.append({"t": time.monotonic(), "kind": kind, "channel": channel, "a": a, "b": b,
                              "text": text, "frame": frame})
            if kind == "note_on":
                self._notes.add((channel, a))
            elif kind == "note_off":
                self._notes.discard((channel, a))
            elif kind == "cc":
                self._cc[(channel, a)] = b
                if a in (120, 123):
                    self._notes.clear()
            elif kind == "panic":
                self._notes.clear()

    def events(self, last: int | None = None) -> list[dict]:
        """Recent events, oldest first: dicts with kind, channel, a, b (data bytes), text, ``t``
        (``time.monotonic()`` seconds) and ``frame`` (engine frames processed when it arrived)."""
        with self._lock:
            out = list(self._log)
        return out if last is None else out[-last:]

    def active_notes(self) -> list[tuple[int, int]]:
        """Sounding ``(channel 0..15, note)`` pairs (held keys; the pedal is not considered)."""
        with self._lock:
            return sorted(self._notes)

    def cc_values(self) -> dict[tuple[int, int], int]:
        """Last value of every ``(channel, controller)`` seen."""
        with self._lock:
            return dict(self._cc)


class MidiRouter:
    """Applies MIDI messages to an engine.

    engine: the :class:`~livehost.engine.engine.Engine`; config: :class:`MidiConfig` (its ``maps`` list
    is used live, so MIDI learn edits it); synth_id: the synth node MTS retunes; tuning: the synth's
    :class:`~livehost.tuning.Tuning` (None: built from the engine's payload at the first MTS message);
    on_program(n): called for program changes (on the MIDI thread: hand heavy work to another thread);
    learn: a :class:`MidiLearn` sharing ``config.maps`` (one is made if None); monitor: a :class:`MidiMonitor`;
    on_clock(status, frame): called for MIDI clock (0xF8) and start/continue/stop (0xFA/0xFB/0xFC) with
    the engine frame the message arrived at (None when unknown), on the MIDI thread (keep it short).
    """

    def __init__(self, engine, config: MidiConfig | None = None, synth_id: str = "synth", tuning=None,
                 on_program: Callable[[int], None] | None = None, learn: MidiLearn | None = None,
                 monitor: MidiMonitor | None = None, on_clock: Callable[[int, int | None], None] | None = None):
        self.engine = engine
        self.on_clock = on_clock
        self.on_tap: Callable[[int | None], None] | None = None  # tap tempo (``[midi] tap_cc``), frame
        self._tap_down = False
        self.config = config or MidiConfig()
        self.synth_id = synth_id
        self.tuning = tuning
        self.on_program = on_program
        self.learn = learn or MidiLearn(self.config.maps, engine)
        self.monitor = monitor or MidiMonitor()

    @property
    def maps(self) -> list[MidiMap]:
        """The live CC maps."""
        return self.config.maps

    def _send(self, status: int, d1: int = 0, d2: int = 0, frame: int | None = None) -> None:
        if not self.engine.send_midi(status, d1, d2, frame=-1 if frame is None else frame):
            self.monitor.dropped += 1

    def handle(self, msg: Sequence[int], delivered: bool = False, frame: int | None = None) -> None:
        """Apply one complete MIDI message (list/bytes of ints 0..255). Never raises for bad input.

        delivered: a real-time reader already gave its notes, bends, pressure and unmapped controllers
        to the audio thread (the JACK driver, livehost's JACK MIDI client), so only the control side's
        part is done here (monitor, CC maps, learn, programs, MTS); frame: the engine frame at which it
        sounded, or (not ``delivered``) the engine frame at which to play it (default: the next block;
        the monitor then shows the engine's frame counter now)."""
        try:
            self._handle(list(msg), delivered, frame)
        except Exception as e:  # a bad message or a failing callback must not kill the MIDI thread
            log.exception("MIDI message %r", list(msg)[:16])
            self.monitor.event("error", text=f"{type(e).__name__}: {e}")

    def _handle(self, msg: list[int], delivered: bool = False, frame: int | None = None) -> None:
        if not msg:
            return
        status = msg[0]
        if status == 0xF0:
            self._sysex(msg)
            return
        if status in CLOCK_STATUSES:
            if self.on_clock is not None:
                self.on_clock(status, frame)
            return
        if status >= 0xF0 or status < 0x80:
            return  # active sensing, song position, running status fragments: ignored
        kind = status & 0xF0
        ch = status & 0x0F
        d1 = msg[1] & 0x7F if len(msg) > 1 else 0
        d2 = msg[2] & 0x7F if len(msg) > 2 else 0
        if kind == PROGRAM:
            self.monitor.event("program", ch, d1)
            if self.on_program is not None:
                self.on_program(d1)
            return
        if kind == CC:
            self.monitor.event("cc", ch, d1, d2)
            if d1 == self.config.tap_cc:
                down = d2 >= 64
                if down and not self._tap_down and self.on_tap is not None:
                    self.on_tap(frame)
                self._tap_down = down
                return  # the tap switch is the tempo's, not a parameter's or the synth's
            learned = self.learn.offer(ch, d1)
            if learned is not None:
                self.monitor.event("learn", ch, d1, text=learned.target)
            hit = False
            for m in list(self.config.maps):
                if m.matches(ch, d1):
                    self._apply(m, d2)
                    hit = True
            if hit or delivered:
                return
            self._send(status, d1, d2, frame)
            return
        if not delivered:
            self._send(status, d1, d2, frame)
        if frame is None:
            frame = int(self.engine.a[H_FRAMES])
        if kind == NOTE_ON and d2 == 0:
            self.monitor.event("note_off", ch, d1, 0, frame=frame)
        else:
            self.monitor.event(KIND_NAMES[kind], ch, d1, d2, frame=frame)

    def _apply(self, m: MidiMap, value: int) -> None:
        it = self.engine.item(m.node)
        p = next((q for q in it.params if q.name == m.param), None)
        if p is None:
            self.monitor.event("error", text=f"{m.target}: no such parameter")
            return
        self.engine.set_param(m.node, m.param, map_value(m, p, value))

    def _sysex(self, msg: list[int]) -> None:
        if len(msg) >= 6 and msg[1] in (0x7E, 0x7F) and msg[3] == 0x08 and msg[4] in (0x02, 0x07):
            self.apply_mts(msg)
        else:
            self.monitor.event("sysex", text=f"{len(msg)} bytes")

    def apply_mts(self, data: Sequence[int]) -> list[tuple[int, float]]:
        """Apply an MTS single-note tuning change: the tuning and the synth's live table change; returns
        the (key, Hz) pairs applied ([] if it is malformed or there is no synth)."""
        try:
            payload = self.engine.payload(self.synth_id).copy()  # written back through write_payload
        except Exception:
            self.monitor.event("error", text=f"MTS: no synth '{self.synth_id}'")
            return []
        if self.tuning is None:
            self.tuning = Tuning(payload, "live")
        try:
            changes = self.tuning.apply_mts(bytes(data))
        except TuningError as e:
            self.monitor.event("error", text=f"MTS: {e}")
            return []
        try:
            for key, hz in changes:
                self.engine.write_payload(self.synth_id, key, float("nan") if hz is None else hz)
        except Exception:  # the synth left the graph meanwhile (a patch load)
            self.monitor.event("error", text=f"MTS: no synth '{self.synth_id}'")
            return []
        self.monitor.event("mts", a=len(changes), text=", ".join(f"{k}={hz:.3f}Hz" for k, hz in changes[:8]))
        return changes


def uses_jack(api: str) -> bool:
    """Whether MIDI ``api`` ("auto", "jack", "alsa") means livehost's own JACK MIDI client: "jack", or
    "auto" where there is no ALSA sequencer but a JACK server runs."""
    if api == "jack":
        return True
    if api != "auto" or os.path.exists("/dev/snd/seq"):
        return False
    try:
        return libjack.server_running()
    except Exception:
        return False


def _api_const(api: str) -> int:
    import rtmidi

    if api == "jack":
        return rtmidi.API_UNIX_JACK
    if api == "alsa":
        return rtmidi.API_LINUX_ALSA
    if api != "auto":
        raise ValueError(f"unknown MIDI api {api!r} (auto, jack, alsa)")
    compiled = rtmidi.get_compiled_api()
    if rtmidi.API_LINUX_ALSA in compiled and os.path.exists("/dev/snd/seq"):
        return rtmidi.API_LINUX_ALSA
    if rtmidi.API_UNIX_JACK in compiled:
        return rtmidi.API_UNIX_JACK
    return rtmidi.API_UNSPECIFIED


def match_port(ports: Sequence[str], pattern: str) -> int | None:
    """Index of the first port whose name contains ``pattern`` (case-insensitive), else the first
    that the regular expression ``pattern`` finds (case-insensitive); None if none."""
    low = pattern.lower()
    for i, name in enumerate(ports):
        if low in name.lower():
            return i
    try:
        rx = re.compile(pattern, re.IGNORECASE)
    except re.error:
        return None
    for i, name in enumerate(ports):
        if rx.search(name):
            return i
    return None


class MidiInput:
    """MIDI input ports feeding a :class:`MidiRouter`.

    engine: the engine; port: name substring or regex of the input port to follow (None: no hardware
    port); api: "auto" (ALSA if the sequencer exists, else JACK), "jack" or "alsa"; virtual: also open a
    virtual input port with this name (None: none); config: a :class:`MidiConfig` whose port/virtual/api
    are used where the arguments are None/"auto"; synth_id, tuning, on_program: see MidiRouter;
    client_name: the MIDI client name; poll_s: watchdog period (s) for reconnecting ``port``.
    Call :meth:`open` to start and :meth:`close` to stop.

    On JACK, the port is livehost's own client (:class:`~livehost.midi.jackport.JackMidiPort`, one
    input port named ``virtual`` or ``in``, connected to the port ``port`` names): its compiled callback
    gives the audio thread the notes at their JACK frame (one period later, no jitter) and the control
    side gets every message through the tap (:class:`~livehost.midi.tap.MidiTapReader`). On ALSA,
    python-rtmidi's own thread calls the router (not a real-time thread), and the messages sound one
    block after they arrived, spaced as rtmidi's timestamps say (:class:`~livehost.midi.stamps.StampPlacer`).
    """

    def __init__(self, engine, port: str | None = None, api: str = "auto", virtual: str | None = None,
                 config: MidiConfig | None = None, synth_id: str = "synth", tuning=None,
                 on_program: Callable[[int], None] | None = None, client_name: str = "livehost",
                 poll_s: float = 1.0, monitor: MidiMonitor | None = None):
        config = config or MidiConfig()
        self.port_pattern = port if port is not None else config.port
        self.virtual_name = virtual if virtual is not None else config.virtual
        self.api = api if api != "auto" else config.api
        self.client_name = client_name
        self.poll_s = poll_s
        self.router = MidiRouter(engine, config, synth_id, tuning, on_program, monitor=monitor)
        self.monitor = self.router.monitor
        self.learn = self.router.learn
        self._lock = threading.Lock()
        self._in = None  # rtmidi.MidiIn connected to the port following port_pattern
        self._probe = None  # rtmidi.MidiIn used to list ports
        self._virtual = None
        self.connected_port: str | None = None
        self.reconnects = 0  # times the followed port came back and was connected again
        self._ever_connected = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._jport: JackMidiPort | None = None  # the JACK client, when the API is JACK
        self._tap: MidiTapReader | None = None
        self._jack_lost = False
        self._dropped_seen = 0.0
        self._placer: StampPlacer | None = None  # rtmidi's timestamps -> engine frames (ALSA)

    # ---- lifecycle -------------------------------------------------------------------------------
    def open(self) -> "MidiInput":
        """Open the virtual port (if any), try to connect ``port`` and start the watchdog; returns self."""
        if uses_jack(self.api):
            return self._open_jack()
        self._rtapi = _api_const(self.api)
        if self.virtual_name:
            self._virtual = self._new_in()
            self._virtual.open_virtual_port(self.virtual_name)
            self.monitor.event("port", text=f"virtual port '{self.virtual_name}' open")
        if self.port_pattern:
            import rtmidi

            self._probe = rtmidi.MidiIn(self._rtapi, name=self.client_name + "-ports")
            self._poll()
            self._thread = threading.Thread(target=self._watch, name="livehost-midi-watchdog", daemon=True)
            self._thread.start()
        return self

    def _new_in(self):
        import rtmidi

        mi = rtmidi.MidiIn(self._rtapi, name=self.client_name)
        mi.ignore_types(sysex=False, timing=False, active_sense=True)  # clock goes to the router's on_clock
        mi.set_callback(self._callback)
        return mi

    def _callback(self, event, data=None) -> None:
        msg, delta = event
        eng = self.router.engine
        if self._placer is None:
            self._placer = StampPlacer(eng.sr, eng.max_block)
        self.router.handle(msg, frame=self._placer.place(delta, int(eng.a[H_FRAMES])))

    def _open_jack(self) -> "MidiInput":
        self._jport = JackMidiPort(self.router.engine, client_name=self.client_name,
                                   port_name=self.virtual_name or "in")
        self.monitor.event("port", text=f"JACK MIDI port '{self._jport.port_name}' open")
        self._tap = MidiTapReader(self.router.engine, self._from_tap).start()
        a = self.router.engine.a
        self._dropped_seen = a[L.H_DRING_DROPPED] + a[L.H_DEV_DROPPED]
        self.poll_s = min(self.poll_s, 0.25)  # a flood's dropped note-off is made good within this
        if self.port_pattern:
            self._poll()
        self._thread = threading.Thread(target=self._watch, name="livehost-midi-watchdog", daemon=True)
        self._thread.start()
        return self

    def _from_tap(self, msg: list[int], frame: int) -> None:
        self.router.handle(msg, delivered=True, frame=frame)

    @property
    def jack_port(self) -> str | None:
        """The full name of livehost's JACK MIDI input port (None when not on JACK)."""
        return self._jport.port_name if self._jport is not None else None

    def close(self) -> None:
        """Stop the watchdog and close every port."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._tap is not None:
            self._tap.stop()
            self._tap = None
        with self._lock:
            if self._jport is not None:
                self._jport.close()
                self._jport = None
            for mi in (self._in, self._virtual, self._probe):
                if mi is not None:
                    try:
                        mi.cancel_callback()
                        mi.close_port()
                        mi.delete()
                    except Exception:  # closing must not fail
                        pass
            self._in = self._virtual = self._probe = None
            self.connected_port = None

    def __enter__(self) -> "MidiInput":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- ports -------------------------------------------------------------------------------------
    def available_ports(self) -> list[str]:
        """Names of the input ports the API sees now."""
        if self._jport is not None:
            return self._jport.sources()
        mi = self._probe
        if mi is None:
            import rtmidi

            mi = rtmidi.MidiIn(_api_const(self.api), name=self.client_name + "-probe")
            try:
                return list(mi.get_ports())
            finally:
                mi.delete()
        return list(mi.get_ports())

    def _poll(self) -> None:
        """One watchdog step: drop a port that went away, connect a matching one that is there.

        A lost port's rtmidi client is deleted and a fresh one opened when the port is back (a reused
        client does not always get data again after its port was closed)."""
        if self._jport is not None:
            self._poll_jack()
            return
        with self._lock:
            if self._probe is None:
                return
            try:
                ports = list(self._probe.get_ports())
            except Exception as e:
                self.monitor.event("error", text=f"listing MIDI ports: {e}")
                return
            if self.connected_port is not None and self.connected_port not in ports:
                self.monitor.event("port", text=f"'{self.connected_port}' disappeared")
                log.warning("MIDI port %s disappeared; waiting for it to come back", self.connected_port)
                self._drop_in()
            if self.connected_port is None:
                i = match_port(ports, self.port_pattern)
                if i is not None:
                    try:
                        self._in = self._new_in()
                        self._in.open_port(i, name="in")
                    except Exception as e:
                        self.monitor.event("error", text=f"opening '{ports[i]}': {e}")
                        self._drop_in()
                        return
                    if self._ever_connected:
                        self.reconnects += 1
                    self._ever_connected = True
                    self.connected_port = ports[i]
                    self.monitor.event("port", text=f"connected to '{ports[i]}'")

    def _poll_jack(self) -> None:
        """The watchdog on JACK: release every voice after a ring on the way to the audio thread
        refused events (a note-off may have been among them), reopen the client after the server came
        back, follow ``port``."""
        a = self.router.engine.a
        dropped = a[L.H_DRING_DROPPED] + a[L.H_DEV_DROPPED]
        if dropped != self._dropped_seen:
            self._dropped_seen = dropped
            self.router.engine.panic()
            self.monitor.event("error", text=f"{int(dropped)} MIDI events dropped (flood): every voice released")
        with self._lock:
            jp = self._jport
            if jp is None:
                return
            if jp.server_gone:
                if not self._jack_lost:
                    self._jack_lost = True
                    self.connected_port = None
                    self.monitor.event("port", text="JACK server gone; waiting for it to come back")
                try:
                    fresh = JackMidiPort(self.router.engine, client_name=self.client_name,
                                         port_name=self.virtual_name or "in")
                except Exception:
                    return  # still gone
                jp.client = None  # the old handle died with the server
                self._jport = jp = fresh
                self._jack_lost = False
                self.reconnects += 1
                self.monitor.event("port", text=f"JACK MIDI port '{jp.port_name}' open again")
            if not self.port_pattern:
                return
            conns = jp.connections()
            if self.connected_port is not None and self.connected_port not in conns:
                self.monitor.event("port", text=f"'{self.connected_port}' disappeared")
                self.connected_port = None
            if self.connected_port is None:
                srcs = jp.sources()
                i = match_port(srcs, self.port_pattern)
                if i is not None and jp.connect_from(srcs[i]):
                    if self._ever_connected:
                        self.reconnects += 1
                    self._ever_connected = True
                    self.connected_port = srcs[i]
                    self.monitor.event("port", text=f"connected to '{srcs[i]}'")

    def _drop_in(self) -> None:
        if self._in is not None:
            try:
                self._in.cancel_callback()
                self._in.close_port()
                self._in.delete()
            except Exception:  # the port is gone already
                pass
        self._in = None
        self.connected_port = None

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_s):
            self._poll()
