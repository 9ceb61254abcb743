"""An OSC server (UDP, python-osc) that drives a :class:`~livehost.session.Session` from a tablet,
a phone or another program, and tells subscribers what changed.

Address space (every argument is one OSC value; numbers may be int or float)::

    /livehost/<node_id>/<param> <value>   set a declared parameter in its patch units (a float; 0|1
                                          for on/off ones such as bypass; a choice as its name or index);
                                          out of range: clamped to the declared range and reported once
    /livehost/master/gain_db <dB>         the master section is the node "master"
    /livehost/patch/load <name>           load patches/<name>.toml (a name, never a path)
    /livehost/panic                       all notes off, voices silenced, output muted
    /livehost/note <note> <velocity>      a note-on (velocity 0: note-off) on channel 1, as from MIDI
    /livehost/tempo <bpm>                 set the session tempo (20..400 bpm)
    /livehost/tap                         one tap-tempo tap
    /livehost/subscribe [<port>]          send feedback to the sender's address on <port> (default:
                                          the port it sent from); /livehost/unsubscribe [<port>] stops it

Feedback to subscribers: on subscribing, every parameter's value, then 20 times a second each value
that changed (from the UI, MIDI, this or another client), sent on the address that sets it
(``/livehost/<node_id>/<param> <value>``, on/off as 0|1, choices as their names), the tempo
(``/livehost/tempo <bpm>``) and the meters (``/livehost/<id>/meter <peak L> <peak R> <rms L> <rms R>``
in dBFS, for ``master``, ``input`` and every node). Bundles are taken apart and their messages handled at once (time tags are not waited for).
A refused message is answered with
``/livehost/error <one line>`` to its sender; a patch loaded with ``/livehost/patch/loaded <name>``.

Threads: one serves the socket, one sends feedback. The server takes every datagram waiting (up to
:data:`BATCH`) and handles them in order, except that of several values for one parameter in a batch
only the last is applied: a flood (a fader dragged at 10 000 messages a second) costs one engine
update per parameter per batch, the socket keeps up, and the final value is never lost behind
stale ones.
Neither touches the audio thread except through the engine's control paths: :meth:`Engine.set_param`
(under the engine lock, smoothed by the callback), the lock-free MIDI ring, and patch loads, which
only :meth:`Session.service` performs (on the thread that runs the session), as for a MIDI program
change.
"""

from __future__ import annotations

import logging
import math
import re
import select
import socket
import threading
from pathlib import Path

from pythonosc.osc_message_builder import build_msg
from pythonosc.osc_packet import OscPacket, ParseError

from livehost.engine.engine import EngineError
from livehost.engine.graph import walk
from livehost.errors import LivehostError
from livehost.nodes.declare import Param, suggest
from livehost.tempo import BPM_MAX, BPM_MIN

log = logging.getLogger("livehost.osc")

DEFAULT_PORT = 9000
DEFAULT_HOST = "127.0.0.1"  # loopback: the network sees nothing unless --osc-host says so
PREFIX = "livehost"
FEEDBACK_HZ = 20.0
MAX_SUBSCRIBERS = 16
RECV_BUFFER = 4 << 20  # bytes: a burst of thousands of messages waits in the socket, not on the floor
BATCH = 1024  # datagrams taken from the socket at once
METER_FLOOR_DB = -120.0
_PATCH_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_ .\-]{0,127}$")


class OscError(LivehostError):
    """An OSC message that cannot be applied (answered with ``/livehost/error``)."""


def osc_settings(patch, port: int | None, host: str | None) -> tuple[int | None, str]:
    """The OSC port and host to use: the command line's (``port`` / ``host``, None when not given) over
    the patch's ``[osc]`` section; port None = no OSC server."""
    table = dict(patch.extra.get("osc") or {})
    return (port if port is not None else table.get("port"),
            host if host is not None else table.get("host", DEFAULT_HOST))


def patch_in_folder(name, folder: Path) -> Path:
    """The patch file ``name`` (``"live"`` or ``"live.toml"``) names in ``folder``; OscError for
    anything that is not a plain name of an existing patch there (paths, ``..``, absolute names, a
    link leading out of the folder)."""
    if not isinstance(name, str) or not _PATCH_NAME.match(name) or ".." in name:
        raise OscError(f"patch/load {name!r}: not a patch name in {folder}/ (names only, no paths)")
    path = folder / (name if name.endswith(".toml") else name + ".toml")
    real = path.resolve()
    if real.parent != folder.resolve() or not real.is_file():
        raise OscError(f"patch/load {name!r}: no such patch in {folder}/")
    return path


def coerce(p: Param, x) -> tuple[object, bool]:
    """An OSC argument ``x`` as a value of parameter ``p`` (patch units) and whether it was clamped:
    on/off from a number (>= 0.5 is on) or an OSC bool; a choice from its name or index; a number
    clamped to ``p.lo .. p.hi``; a note division (``"1/8."``) for a parameter declared with ``sync``.
    OscError for anything else (another string for a number, NaN, infinity)."""
    if p.kind == "bool":
        if isinstance(x, bool):
            return x, False
        if isinstance(x, (int, float)) and math.isfinite(x):
            return x >= 0.5, False
        raise OscError(f"= {x!r} must be 0 or 1")
    if p.kind == "choice":
        if isinstance(x, str):
            if x not in p.choices:
                raise OscError(f"= {x!r} is not one of {', '.join(p.choices)}")
            return x, False
        if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x):
            i = int(round(x))
            j = min(len(p.choices) - 1, max(0, i))
            return p.choices[j], i != j
        raise OscError(f"= {x!r} must be one of {', '.join(p.choices)} or its index")
    if isinstance(x, str) and p.sync:
        why = p.check(x, division_ok=True)
        if why:
            raise OscError(why)
        return x, False  # a note division: the session follows the tempo with it
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        raise OscError(f"= {x!r} must be a number ({p.unit or 'no unit'})")
    v = min(p.hi, max(p.lo, float(x)))
    return v, v != x


def _osc_value(p: Param, v):
    """A parameter value as it travels in feedback: a float, 0|1 for on/off, a choice's name."""
    if p.kind == "bool":
        return 1 if v else 0
    if p.kind == "choice":
        return str(v)
    return float(v)


def _number(x, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        raise OscError(f"{what} = {x!r} must be a number")
    return float(x)


class OscServer:
    """OSC control of ``session`` on UDP ``host:port`` (port 0: any free port, see :attr:`port`).

    patch_dir: the folder ``/livehost/patch/load`` may load from (default ``patches``);
    feedback_hz: how often subscribers get changes and meters (Hz). Use :meth:`start` and :meth:`close`.
    """

    def __init__(self, session, port: int = DEFAULT_PORT, host: str = DEFAULT_HOST,
                 patch_dir: str | Path = "patches", feedback_hz: float = FEEDBACK_HZ):
        self.session = session
        self.host = host
        self.port = int(port)
        self.patch_dir = Path(patch_dir)
        self.period_s = 1.0 / float(feedback_hz)
        self.received = 0  # messages handled
        self.refused = 0  # messages answered with /livehost/error
        self._sock: socket.socket | None = None
        self.dropped = 0  # datagrams that were not OSC
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._subs_lock = threading.Lock()
        self._subs: dict[tuple[str, int], None] = {}
        self._said: set[str] = set()  # (bounded) what was already reported to the user
        self._last: dict[str, object] = {}  # the last feedback snapshot: address -> value

    # ---- lifecycle --------------------------------------------------------------------------------
    def start(self) -> "OscServer":
        """Bind and start serving; LivehostError (one line) when the address cannot be bound."""
        try:
            info = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM)[0]
            sock = socket.socket(info[0], socket.SOCK_DGRAM)
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECV_BUFFER)
                sock.bind(info[4])
            except OSError:
                sock.close()
                raise
        except (OSError, OverflowError) as e:
            why = getattr(e, "strerror", None) or str(e)
            raise LivehostError(f"OSC: cannot listen on {self.host}:{self.port}: {why}") from None
        sock.setblocking(False)
        self._sock = sock
        self.port = sock.getsockname()[1]
        self._last = self._snapshot()
        for target, name in ((self._serve, "livehost-osc"), (self._feedback, "livehost-osc-feedback")):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def _serve(self) -> None:
        sock = self._sock
        while not self._stop.is_set():
            batch = []
            while len(batch) < BATCH:
                try:
                    batch.append(sock.recvfrom(65536))
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:  # closed
                    return
            if batch:
                self._handle_batch(batch)
            else:
                select.select([sock], [], [], 0.1)

    def _handle_batch(self, batch: list) -> None:
        """Parse ``[(datagram, sender)]`` and handle the messages in order, each parameter once (its
        last value in the batch)."""
        msgs = []
        for data, client in batch:
            try:
                msgs += [(client, m.message.address, m.message.params) for m in OscPacket(data).messages]
            except ParseError:
                self.dropped += 1
        last = {address: i for i, (_, address, _) in enumerate(msgs) if _is_param(address)}
        for i, (client, address, args) in enumerate(msgs):
            if last.get(address, i) == i:
                self._on_message(client, address, *args)
            else:
                self.received += 1  # superseded by a later value in the same batch

    def close(self) -> None:
        """Stop both threads and close the socket."""
        self._stop.set()
        for t in self._threads:
            t.join()
        self._threads = []
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def describe(self) -> str:
        """``"OSC on udp 127.0.0.1:9000"`` (says so when it listens beyond this machine)."""
        wide = "" if self.host in ("127.0.0.1", "localhost", "::1") else " (open to the network)"
        return f"OSC on udp {self.host}:{self.port}{wide}"

    @property
    def subscribers(self) -> list[tuple[str, int]]:
        """The ``(address, port)`` pairs that get feedback."""
        with self._subs_lock:
            return list(self._subs)

    # ---- sending ----------------------------------------------------------------------------------
    def _send(self, to: tuple[str, int], address: str, args=()) -> None:
        sock = self._sock
        if sock is None:
            return
        try:
            sock.sendto(build_msg(address, list(args)).dgram, to)
        except OSError:  # a client gone away: UDP has nobody to tell
            pass

    def _refuse(self, client, text: str) -> None:
        self.refused += 1
        self._send(client, f"/{PREFIX}/error", [text])
        self._report_once(text, f"OSC: {text}")

    def _report_once(self, key: str, text: str) -> None:
        if key in self._said or len(self._said) > 1024:
            return
        self._said.add(key)
        self.session.say(text)

    # ---- receiving --------------------------------------------------------------------------------
    def _on_message(self, client, address: str, *args) -> None:
        self.received += 1
        try:
            self._dispatch(client, address, list(args))
        except (OscError, EngineError) as e:
            self._refuse(client, str(e))
        except LivehostError as e:
            self._refuse(client, f"{address}: {e}")
        except Exception as e:  # a handler bug must not stop the server: answer and carry on
            log.exception("OSC %s %r", address, args)
            self._refuse(client, f"{address}: {type(e).__name__}: {e}")

    def _dispatch(self, client, address: str, args: list) -> None:
        parts = address.split("/")
        if len(parts) < 3 or parts[0] != "" or parts[1] != PREFIX:
            raise OscError(f"{address}: not a livehost address (/{PREFIX}/...)")
        cmd = tuple(parts[2:])
        s = self.session
        if cmd == ("subscribe",) or cmd == ("unsubscribe",):
            self._subscribe(client, args, cmd[0] == "subscribe")
        elif cmd == ("panic",):
            s.panic()
        elif cmd == ("tap",):
            s.tap()
        elif cmd == ("tempo",):
            self._need(address, args, 1)
            bpm = _number(args[0], "tempo")
            got = s.set_tempo(bpm, "osc")
            if got != bpm:
                self._clamped(client, "tempo", f"tempo = {bpm:g} is outside {BPM_MIN:g}..{BPM_MAX:g} bpm: set to {got:g}")
        elif cmd == ("note",):
            self._need(address, args, 2)
            note, vel = (int(round(_number(a, w))) for a, w in zip(args, ("note", "velocity")))
            if not (0 <= note <= 127 and 0 <= vel <= 127):
                raise OscError(f"note {note} {vel}: note and velocity must be 0..127")
            s.workers.router.handle([0x90, note, vel])
        elif cmd == ("patch", "load"):
            self._need(address, args, 1)
            self._load(client, args[0])
        elif len(cmd) == 2 and cmd[1] != "meter":
            self._need(address, args, 1)
            self._set_param(client, cmd[0], cmd[1], args[0])
        else:
            raise OscError(f"{address}: no such livehost address")

    @staticmethod
    def _need(address: str, args: list, n: int) -> None:
        if len(args) != n:
            raise OscError(f"{address} takes {n} argument{'s' if n > 1 else ''}, not {len(args)}")

    def _clamped(self, client, key: str, text: str) -> None:
        if key in self._said:
            return
        self._send(client, f"/{PREFIX}/error", [text])
        self._report_once(key, f"OSC: {text}")

    def _set_param(self, client, node_id: str, name: str, x) -> None:
        s = self.session
        item = s.engine.item(node_id)  # EngineError with a suggestion when there is no such node
        names = s.engine.param_names(node_id)
        if name not in names:
            raise OscError(f"{node_id} has no parameter '{name}'{suggest(name, names)}")
        p = item.params[names.index(name)]
        try:
            value, clamped = coerce(p, x)
        except OscError as e:
            raise OscError(f"{node_id}.{name} {e}") from None
        if clamped:
            self._clamped(client, f"{node_id}.{name}",
                          f"{node_id}.{name} = {x!r} is outside {p.lo:g}..{p.hi:g}: clamped to {value!r}")
        s.set_value(item, name, value)

    def _load(self, client, name) -> None:
        path = patch_in_folder(name, self.patch_dir)

        def done(error: str | None) -> None:
            if error:
                self._refuse(client, f"patch/load {name!r}: {error}")
            else:
                for to in {client, *self.subscribers}:
                    self._send(to, f"/{PREFIX}/patch/loaded", [str(name)])

        self.session.request_load(str(path), done)

    def _subscribe(self, client, args: list, on: bool) -> None:
        if len(args) > 1:
            raise OscError(f"/{PREFIX}/subscribe takes a port or nothing")
        port = int(_number(args[0], "port")) if args else client[1]
        if not 1 <= port <= 65535:
            raise OscError(f"subscribe: port {port} is outside 1..65535")
        to = (client[0], port)
        with self._subs_lock:
            if not on:
                self._subs.pop(to, None)
                return
            if to not in self._subs and len(self._subs) >= MAX_SUBSCRIBERS:
                raise OscError(f"subscribe: already {MAX_SUBSCRIBERS} subscribers")
            self._subs[to] = None
        for address, value in self._snapshot().items():  # everything once, so a fresh tablet agrees
            self._send(to, address, [value])

    # ---- feedback ---------------------------------------------------------------------------------
    def _snapshot(self) -> dict[str, object]:
        """Every parameter's target value and the tempo, by the OSC address that sets it."""
        s = self.session
        eng = s.engine
        out: dict[str, object] = {}
        with eng.lock:
            for item in [*eng.sources, *walk(eng.chain), eng.master]:
                for name, p in s.params_of(item):
                    try:
                        out[f"/{PREFIX}/{item.id}/{name}"] = _osc_value(p, eng.get_param(item.id, name))
                    except (EngineError, KeyError, ValueError):
                        continue
            ids = ["master", "input"] + [it.id for it in walk(eng.chain)] + [x.id for x in eng.sources]
        out[f"/{PREFIX}/tempo"] = float(s.tempo.bpm)
        self._meter_ids = ids
        return out

    def _meters(self) -> list[tuple[str, list]]:
        eng = self.session.engine
        out = []
        for node_id in getattr(self, "_meter_ids", ["master"]):
            try:
                m = eng.meter(node_id)
            except (EngineError, AttributeError, IndexError):
                continue  # gone with a patch load since the snapshot
            vals = [max(METER_FLOOR_DB, float(v)) for v in (*m["peak_db"], *m["rms_db"])]
            out.append((f"/{PREFIX}/{node_id}/meter", vals))
        return out

    def _feedback(self) -> None:
        while not self._stop.wait(self.period_s):
            try:
                self.feedback_once()
            except Exception:  # noqa: BLE001 — feedback must outlive an odd moment (a patch swapping)
                log.exception("OSC feedback")

    def feedback_once(self) -> int:
        """Send what changed since the last call, and the meters, to every subscriber; returns the
        number of messages sent (the feedback thread calls it every 1/20 s)."""
        snap = self._snapshot()
        changed = [(a, v) for a, v in snap.items() if self._last.get(a, _MISSING) != v]
        self._last = snap
        subs = self.subscribers
        if not subs:
            return 0
        msgs = [(a, [v]) for a, v in changed] + self._meters()
        for to in subs:
            for address, args in msgs:
                self._send(to, address, args)
        return len(msgs) * len(subs)


_MISSING = object()


def _is_param(address: str) -> bool:
    """Whether ``address`` sets a parameter (``/livehost/<node_id>/<param>``), so that only its last
    value in a batch matters."""
    parts = address.split("/")
    return len(parts) == 4 and parts[1] == PREFIX and (parts[2], parts[3]) != ("patch", "load")
