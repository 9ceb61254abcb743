"""The JACK driver: livehost is a JACK client whose process callback is the compiled graph.

The callback (:func:`livehost.engine.process_src.jack_process`, a numba ``cfunc``) reads the port
buffers through libjack function pointers kept in an int64 table, hands the MIDI input port's events
to the engine at their frame offsets (sample-accurate notes) and passes them on to the MIDI output
port (MIDI thru). No Python runs on JACK's real-time thread; JACK's xrun and shutdown notifications
are compiled callbacks too (:mod:`livehost.engine.drivers.libjack`).

Latency: JACK's latency callback (compiled, :func:`libjack.report_latency`) declares the graph's
latency on livehost's ports, so clients downstream (and upstream) see it in their capture (playback)
latency; the engine's device latency is the latency JACK reports for livehost's input ports (from the
capture ports upstream) and output ports (to the playback ports downstream), so its round trip is
capture + graph + playback along the ports' actual connections.

A watchdog thread (Python, off the audio thread) polls the shutdown flag every ``poll_s`` seconds
(and the count of MIDI events a block had no room for: after such a loss, or the server's, it
releases every voice with :meth:`Engine.panic`, so no note is left hanging),
keeps a record of the ports' connections and connects the MIDI input to the port the pattern names
once it appears. When the server goes away it says so; with ``reconnect`` it keeps the engine
running on the null driver, tries to reopen the client every ``retry_s`` seconds and, once the
server is back, restores the port connections it had.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

import numpy as np

from livehost.dsp.atomics import acquire
from livehost.engine import layout as L
from livehost.engine.drivers import libjack as J
from livehost.engine.drivers.serverwatch import ServerWatch
from livehost.engine.engine import Engine
from livehost.errors import AudioError

NO_SERVER = ("no JACK server is running (start one, e.g. 'jackd -d dummy -r 48000 -p 128', or use "
             "--driver portaudio or null)")


class JackDriver(ServerWatch):
    """Run ``engine`` as a JACK client.

    client_name: the JACK client name; channels: audio ports each way (``in_1..N``, ``out_1..N``);
    use_input: feed the input ports to the graph; connect: connect the ports to the physical (system)
    ports; midi_match(names) -> index or None: picks the MIDI output port (of another client) to
    connect to ``midi_in``; reconnect: survive the server going away (null driver meanwhile);
    poll_s: shutdown-flag poll period (s); retry_s: connection upkeep and reconnect period (s);
    on_message(text): called (on the watchdog thread) for each message, which :meth:`messages` also
    returns.
    """

    name = "jack"

    def __init__(self, engine: Engine, client_name: str = "livehost", channels: int = 2, use_input: bool = True,
                 connect: bool = True, midi_match: Callable[[list[str]], int | None] | None = None,
                 reconnect: bool = False, poll_s: float = 0.05, retry_s: float = 0.5,
                 on_message: Callable[[str], None] | None = None):
        if not 1 <= channels <= L.JT_MAX_PORTS:
            raise AudioError(f"JACK driver: {channels} channels is not supported (1..{L.JT_MAX_PORTS})")
        self.lib = J.load()
        self._init_watch(engine, on_message)
        self.client_name = client_name
        self.channels = int(channels)
        self.auto_connect = connect
        self.midi_match = midi_match
        self.reconnect = reconnect
        self.poll_s = poll_s
        self.retry_s = retry_s
        mb = engine.max_block
        self.table = np.zeros(L.JT_SIZE, np.int64)
        self.event = np.zeros(3, np.int64)  # jack_midi_event_t: time, size, data pointer
        # the MIDI clock, start and stop messages (clock out), one byte each, in that order
        self.clock_byte = np.array([0xF8, 0xFA, 0xFC], np.uint8)
        self.lat_table = np.zeros(J.LT_SIZE, np.int64)  # the latency callback's table
        self.lat_range = np.zeros(1, np.int64)  # its jack_latency_range_t scratch
        self.x = np.zeros((mb, self.channels), np.float32)
        self.y = np.zeros((mb, self.channels), np.float32)
        engine.set_channels(self.channels if use_input else 0, self.channels)
        self.client: int | None = None
        self.full_name = client_name
        self._ports: dict[str, int] = {}
        self._conns: set[tuple[str, str]] = set()  # (our port, their port) as last seen
        self._pending: set[tuple[str, str]] = set()  # wanted, waiting for their port to exist
        self._lat_conns: set[tuple[str, str]] | None = None  # the connections JACK last recomputed latencies for
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_error = ""
        self._dropped_seen = 0.0
        self.failed = False  # the server went away and reconnect is off: the audio has stopped
        self._open()

    # ---- client ------------------------------------------------------------------------------------
    def _open(self) -> None:
        """Open the client and register its ports and callbacks (not activated yet)."""
        lib, eng = self.lib, self.engine
        c = J.open_client(self.client_name)
        if c is None:
            raise AudioError(NO_SERVER)
        sr = lib.jack_get_sample_rate(c)
        if sr != int(eng.sr):
            lib.jack_client_close(c)
            raise AudioError(f"the JACK server runs at {sr} Hz but this session at {eng.sr:g} Hz: run with "
                             f"--samplerate {sr} or restart JACK at {eng.sr:g} Hz")
        self.full_name = lib.jack_get_client_name(c).decode()
        ports = {}
        specs = [(f"in_{k + 1}", J.AUDIO_TYPE, J.PORT_IS_INPUT) for k in range(self.channels)]
        specs += [(f"out_{k + 1}", J.AUDIO_TYPE, J.PORT_IS_OUTPUT) for k in range(self.channels)]
        specs += [("midi_in", J.MIDI_TYPE, J.PORT_IS_INPUT), ("midi_out", J.MIDI_TYPE, J.PORT_IS_OUTPUT)]
        for name, typ, flags in specs:
            p = lib.jack_port_register(c, name.encode(), typ, flags, 0)
            if not p:
                lib.jack_client_close(c)
                raise AudioError(f"JACK refused to register port {self.full_name}:{name}")
            ports[name] = p
        t = self.table
        t[:] = 0
        t[L.JT_ARENA] = eng.a.ctypes.data
        for slot, fn in ((L.JT_GET_BUFFER, "jack_port_get_buffer"), (L.JT_MIDI_COUNT, "jack_midi_get_event_count"),
                         (L.JT_MIDI_GET, "jack_midi_event_get"), (L.JT_MIDI_CLEAR, "jack_midi_clear_buffer"),
                         (L.JT_MIDI_WRITE, "jack_midi_event_write")):
            t[slot] = J.address(lib, fn)
        t[L.JT_EVENT] = self.event.ctypes.data
        t[L.JT_IN] = self.x.ctypes.data
        t[L.JT_OUT] = self.y.ctypes.data
        t[L.JT_NIN] = self.channels
        t[L.JT_NOUT] = self.channels
        t[L.JT_MIDI_IN] = ports["midi_in"]
        t[L.JT_MIDI_OUT] = ports["midi_out"]
        t[L.JT_XRUNS_SEEN] = int(eng.a[L.H_JACK_XRUNS])
        t[L.JT_CLOCK_BYTE] = self.clock_byte.ctypes.data
        t[L.JT_FRAME_TIME] = J.address(lib, "jack_last_frame_time")
        t[L.JT_PORT_CONNECTED] = J.address(lib, "jack_port_connected")
        t[L.JT_CLIENT] = c
        for k in range(self.channels):
            t[L.JT_PORTS + k] = ports[f"in_{k + 1}"]
            t[L.JT_PORTS + L.JT_MAX_PORTS + k] = ports[f"out_{k + 1}"]
        arena = eng.a.ctypes.data
        lib.jack_set_process_callback(c, eng.audio.jack_process.address, t.ctypes.data)
        lib.jack_set_xrun_callback(c, J.count_xrun.address, arena)
        lib.jack_on_info_shutdown(c, J.on_shutdown.address, arena)
        lt = self.lat_table
        lt[:] = 0
        lt[J.LT_GET] = J.address(lib, "jack_port_get_latency_range")
        lt[J.LT_SET] = J.address(lib, "jack_port_set_latency_range")
        lt[J.LT_GRAPH] = self._graph_latency() or 0  # (busy: set by the first _follow_latency)
        self._lat_conns = None  # a new client: have JACK recompute once connected
        lt[J.LT_RANGE] = self.lat_range.ctypes.data
        lt[J.LT_N] = self.channels
        lt[J.LT_MIDI_IN] = ports["midi_in"]
        lt[J.LT_MIDI_OUT] = ports["midi_out"]
        lt[J.LT_CONNECTED] = J.address(lib, "jack_port_connected")
        for k in range(self.channels):
            lt[J.LT_PORTS + k] = ports[f"in_{k + 1}"]
            lt[J.LT_PORTS + L.JT_MAX_PORTS + k] = ports[f"out_{k + 1}"]
        lib.jack_set_latency_callback(c, J.report_latency.address, lt.ctypes.data)
        self._ports = ports
        self.client = c

    def _activate(self) -> None:
        eng = self.engine
        eng.a[L.H_SERVER_DOWN] = 0.0
        if self.lib.jack_activate(self.client) != 0:
            self.lib.jack_client_close(self.client)
            self.client = None
            raise AudioError("JACK refused to activate the client")
        eng.running = True
        eng.driver_name = "jack"
        eng.device_name = f"JACK ({self.full_name}, {self.lib.jack_get_buffer_size(self.client)} frames)"

    def start(self) -> None:
        """Activate the client, connect its ports and start the watchdog."""
        self._activate()
        if self.auto_connect:
            phys_out = J.port_list(self.lib, self.client, J.AUDIO_TYPE, J.PORT_IS_PHYSICAL | J.PORT_IS_OUTPUT)
            phys_in = J.port_list(self.lib, self.client, J.AUDIO_TYPE, J.PORT_IS_PHYSICAL | J.PORT_IS_INPUT)
            if self.engine.in_ch > 0:
                for k, src in enumerate(phys_out[:self.channels]):
                    self._connect(src, self.port_name(f"in_{k + 1}"))
            for k, dst in enumerate(phys_in[:self.channels]):
                self._connect(self.port_name(f"out_{k + 1}"), dst)
        self._follow_midi()
        self._snapshot()
        self._follow_latency()  # the new connections' latencies, now
        self._thread = threading.Thread(target=self._watch, name="livehost-jack-watchdog", daemon=True)
        self._thread.start()

    def port_name(self, short: str) -> str:
        """The full JACK name of one of livehost's ports (``in_1``, ``out_2``, ``midi_in``, ...)."""
        return f"{self.full_name}:{short}"

    def _connect(self, src: str, dst: str) -> bool:
        r = self.lib.jack_connect(self.client, src.encode(), dst.encode())
        return r == 0 or r == 17  # 17 = EEXIST: connected already

    # ---- watchdog ----------------------------------------------------------------------------------
    @property
    def state(self) -> str | None:
        """What is wrong with the audio now, in words (None: the client runs)."""
        if self.failed:
            return "audio stopped: the JACK server went away"
        if self.client is None and self._null is not None:
            return "JACK server gone: running on the null driver, reconnecting"
        return None

    def _watch(self) -> None:
        next_upkeep = time.monotonic() + self.retry_s
        while not self._stop.wait(self.poll_s):
            if self.client is not None and acquire(self.engine.a, L.H_SERVER_DOWN) != 0.0:
                self._server_lost()
                if self.failed:
                    return
                continue
            dropped = self.engine.a[L.H_DEV_DROPPED]
            if dropped != self._dropped_seen:
                self._dropped_seen = dropped
                self.engine.panic()  # a note-off may have been among them: release every voice
            if time.monotonic() < next_upkeep:
                continue
            next_upkeep = time.monotonic() + self.retry_s
            if self.client is None:
                self._try_reconnect()
            else:
                self._follow_midi()
                self._upkeep()
                self._follow_latency()

    def _server_lost(self) -> None:
        eng = self.engine
        self._pending |= self._conns
        eng.device_latency = (0.0, 0.0)  # no device until the server is back
        self._noted_loss(J.shutdown_reason(eng.a) or "the JACK server went away", self.reconnect)
        self._close_dead()
        if self.reconnect:
            self._stand_in()
        else:
            self.failed = True
            eng.running = False

    def _close_dead(self) -> None:
        """Let go of a client whose server died: wait until its callback has stopped, then close it
        (on a helper thread: a dead server must not hang the watchdog)."""
        self._wait_callbacks_stopped()
        c, self.client = self.client, None
        closer = threading.Thread(target=self.lib.jack_client_close, args=(c,), daemon=True)
        closer.start()
        closer.join(2.0)

    def _try_reconnect(self) -> None:
        try:
            self._open()
        except AudioError as e:
            if str(e) != NO_SERVER and str(e) != self._last_error:
                self._say(str(e))  # a server that came back wrong (another sample rate): said once
            self._last_error = str(e)
            return
        took = self._hand_back(self._activate)
        if took is None:
            return
        self._upkeep()
        self._follow_midi()
        self._follow_latency()
        self._say(f"audio server back: {self.full_name} reconnected ({len(self._conns)} connections restored, "
                  f"{took:.1f} s after it stopped)")

    def _upkeep(self) -> None:
        """Connect wanted pairs whose other port has appeared, then note the connections as they are."""
        if self._pending:
            ours = set(self._ports)
            for mine, theirs in list(self._pending):
                if not self.lib.jack_port_by_name(self.client, theirs.encode()):
                    continue
                short = mine.rpartition(":")[2]
                if short not in ours:
                    continue
                me = self.port_name(short)
                is_input = short.startswith("in_") or short == "midi_in"
                if self._connect(theirs, me) if is_input else self._connect(me, theirs):
                    self._pending.discard((mine, theirs))
        self._snapshot()

    def _snapshot(self) -> None:
        conns = set()
        for short, p in self._ports.items():
            for other in J.connections(self.lib, self.client, p):
                conns.add((self.port_name(short), other))
        self._conns = conns

    def _follow_midi(self) -> None:
        """Connect ``midi_in`` to the MIDI port ``midi_match`` picks, while it has no connection."""
        if self.midi_match is None or self.client is None:
            return
        if J.connections(self.lib, self.client, self._ports["midi_in"]):
            return
        names = [n for n in J.port_list(self.lib, self.client, J.MIDI_TYPE, J.PORT_IS_OUTPUT)
                 if not n.startswith(self.full_name + ":")]
        i = self.midi_match(names)
        if i is not None and self._connect(names[i], self.port_name("midi_in")):
            self._say(f"MIDI: following {names[i]}")

    def set_midi_match(self, midi_match: Callable[[list[str]], int | None] | None) -> None:
        """Follow another MIDI port (a patch with another ``[midi] port`` was loaded): ``midi_in``'s
        connections are dropped and the port ``midi_match`` picks is connected, now or when it appears."""
        self.midi_match = midi_match
        if self.client is None:
            return
        me = self.port_name("midi_in")
        for other in J.connections(self.lib, self.client, self._ports["midi_in"]):
            self.lib.jack_disconnect(self.client, other.encode(), me.encode())
            self._pending.discard((me, other))
        self._follow_midi()
        self._snapshot()

    def _graph_latency(self) -> int | None:
        """The graph's latency now, samples (master lookahead + the main path's nodes); None if an edit
        holds the engine's lock (never waited for: the watchdog must go on watching meanwhile)."""
        lock = self.engine.lock
        if not lock.acquire(blocking=False):
            return None
        try:
            return self.engine.latency_samples()
        finally:
            lock.release()

    def _follow_latency(self) -> None:
        """Have JACK recompute the ports' latencies when the graph's latency (a parameter, a bypass, a
        new patch) or livehost's connections have changed since it last did for us, then take the
        device latency JACK reports into the engine. (JACK recomputes on its own after a graph change,
        but a pass that runs while connections are still being made can leave stale figures.)"""
        g = self._graph_latency()
        if g is None:
            return  # next time
        if g != self.lat_table[J.LT_GRAPH] or self._conns != self._lat_conns:
            self.lat_table[J.LT_GRAPH] = g
            self._lat_conns = set(self._conns)
            self.lib.jack_recompute_total_latencies(self.client)
        self.engine.device_latency = self.latency()

    # ---- figures -----------------------------------------------------------------------------------
    def latency(self) -> tuple[float, float]:
        """Input (capture) and output (playback) latency, seconds: the largest JACK reports for
        livehost's audio input ports (from the capture ports upstream of them) and for its audio output
        ports (to the playback ports downstream); the larger end of each range; 0 while not running."""
        if self.client is None:
            return (0.0, 0.0)
        r = J.LatencyRange()
        lat_in = lat_out = 0
        for k in range(self.channels):
            self.lib.jack_port_get_latency_range(self._ports[f"in_{k + 1}"], J.CAPTURE_LATENCY, r)
            lat_in = max(lat_in, r.max)
            self.lib.jack_port_get_latency_range(self._ports[f"out_{k + 1}"], J.PLAYBACK_LATENCY, r)
            lat_out = max(lat_out, r.max)
        return (lat_in / self.engine.sr, lat_out / self.engine.sr)

    def stats(self) -> dict:
        """Server losses, reconnections (and how long each took, s), device MIDI events dropped."""
        return {**self.watch_stats(),
                "midi_device_dropped": int(self.engine.a[L.H_DEV_DROPPED])}

    def stop(self) -> None:
        """Stop the watchdog, close the client (or the null driver standing in for it)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self.client is not None:
            self.lib.jack_deactivate(self.client)
            self.lib.jack_client_close(self.client)
            self.client = None
        self._stand_down()
        self.engine.device_latency = (0.0, 0.0)
        self.engine.running = False
