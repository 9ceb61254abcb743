"""Live LV2 plugin instances: instantiate, connect, activate off the audio thread; free them later.

An :class:`Instance` owns the float32 memory its ports are connected to (one array, preallocated for
``max_block`` frames) for its whole life, so the compiled callback can call the plugin's ``run``
through its function pointer (:func:`livehost.dsp.cptr.call_void_pu32`) with nothing else to set up.
:meth:`Instance.close` (deactivate + cleanup) is called only once the audio thread can no longer reach
the instance (see :mod:`livehost.engine.protocol`: the engine releases a node after the callback
acknowledged a program without it).

Host features: ``urid:map`` and ``urid:unmap`` are Python callbacks (ctypes). Plugins call them while
they are instantiated (off the audio thread); a plugin that mapped URIs from ``run`` would take the
GIL on the audio thread, which no plugin of the LV2 examples, MDA or SWH does.

State (the LV2 State extension): :meth:`Instance.save_state` asks a plugin with ``state:interface``
for its state through liblilv (``lilv_state_new_from_instance``, ``lilv_state_to_string``) and
returns it as Turtle text; an instance made with ``state=`` text restores it
(``lilv_state_new_from_string``, ``lilv_state_restore``) after ``instantiate`` and before
``activate``, so never on the audio thread. Control port values are not part of this text (they are
the node's parameters, saved in the patch).
"""

from __future__ import annotations

import ctypes
import itertools
import re
import struct
import sys
import threading
import time

import numpy as np

from livehost.dsp.atomics import acquire, release
from livehost.dsp.lv2 import M_POSTED, M_TAKEN, M_WORDS, MAIL_HEAD, MAIL_WORDS, SEQ_WORDS
from livehost.dsp.lv2_worker import (R_CAP, R_FULL, R_R, R_W, RING_HEAD, W_END_RUN, W_SIZE, W_WORK_RESPONSE,
                                     WORKER_ERR_NO_SPACE, WORKER_SUCCESS, ring_words, schedule_work)
from livehost.lv2 import world as W

_P = ctypes.c_void_p


class _Feature(ctypes.Structure):
    _fields_ = [("URI", ctypes.c_char_p), ("data", _P)]


_MAP_FN = ctypes.CFUNCTYPE(ctypes.c_uint32, _P, ctypes.c_char_p)
_UNMAP_FN = ctypes.CFUNCTYPE(_P, _P, ctypes.c_uint32)


class _UridMap(ctypes.Structure):
    _fields_ = [("handle", _P), ("map", _MAP_FN)]


class _UridUnmap(ctypes.Structure):
    _fields_ = [("handle", _P), ("unmap", _UNMAP_FN)]


class _Descriptor(ctypes.Structure):
    _fields_ = [("URI", ctypes.c_char_p), ("instantiate", _P), ("connect_port", _P), ("activate", _P),
                ("run", _P), ("deactivate", _P), ("cleanup", _P), ("extension_data", _P)]


class _LilvInstance(ctypes.Structure):
    _fields_ = [("lv2_descriptor", ctypes.POINTER(_Descriptor)), ("lv2_handle", _P), ("pimpl", _P)]


_CONNECT = ctypes.CFUNCTYPE(None, _P, ctypes.c_uint32, _P)
_HANDLE_FN = ctypes.CFUNCTYPE(None, _P)

_URIDS: dict[bytes, int] = {}
_NAMES: list[ctypes.Array] = []  # index urid-1: the URI as a C string that lives as long as the process
_URID_LOCK = threading.Lock()


def _map(handle, uri) -> int:
    with _URID_LOCK:
        if uri not in _URIDS:
            _NAMES.append(ctypes.create_string_buffer(uri))
            _URIDS[uri] = len(_NAMES)
        return _URIDS[uri]


def _unmap(handle, urid) -> int | None:
    with _URID_LOCK:
        return ctypes.addressof(_NAMES[urid - 1]) if 0 < urid <= len(_NAMES) else None


def urid(uri: str) -> int:
    """The URID livehost's ``urid:map`` gives ``uri`` (the same number the plugins got)."""
    return _map(None, uri.encode())


_MAP = _UridMap(None, _MAP_FN(_map))
_UNMAP = _UridUnmap(None, _UNMAP_FN(_unmap))


class _Option(ctypes.Structure):
    _fields_ = [("context", ctypes.c_uint32), ("subject", ctypes.c_uint32), ("key", ctypes.c_uint32),
                ("size", ctypes.c_uint32), ("type", ctypes.c_uint32), ("value", _P)]


class _Features:
    """The feature array one instance is made with (kept alive as long as the instance): URID map and
    unmap, ``options`` (``bufsz:minBlockLength`` 1, ``maxBlockLength`` and ``nominalBlockLength`` the
    engine's block in frames, ``sequenceSize`` in bytes, ``param:sampleRate`` in Hz),
    ``bufsz:boundedBlockLength`` and ``state:loadDefaultState`` (no data), and ``worker:schedule`` for a
    plugin with the worker extension."""

    def __init__(self, sr: float, max_block: int, seq_bytes: int, schedule: int | None = None):
        ints = {"minBlockLength": 1, "maxBlockLength": max_block, "nominalBlockLength": max_block,
                "sequenceSize": seq_bytes}
        self._vals = [ctypes.c_int32(v) for v in ints.values()] + [ctypes.c_float(sr)]
        keys = [W.BUFSZ + k for k in ints] + ["http://lv2plug.in/ns/ext/parameters#sampleRate"]
        types_ = [W.ATOM + "Int"] * len(ints) + [W.ATOM + "Float"]
        self._opts = (_Option * (len(keys) + 1))(*[
            _Option(0, 0, urid(k), 4, urid(t), ctypes.cast(ctypes.pointer(v), _P))
            for k, t, v in zip(keys, types_, self._vals)])  # the last entry stays zero: the end
        feats = [(W.URID_MAP, ctypes.cast(ctypes.pointer(_MAP), _P)),
                 (W.URID_UNMAP, ctypes.cast(ctypes.pointer(_UNMAP), _P)),
                 (W.OPTIONS, ctypes.cast(self._opts, _P)), (W.BUFSZ + "boundedBlockLength", None),
                 (W.LOAD_DEFAULT_STATE, None)]
        if schedule is not None:  # worker:schedule (an LV2_Worker_Schedule's address)
            feats.append((W.WORKER_SCHEDULE, schedule))
        self._feats = (_Feature * len(feats))(*[_Feature(u.encode(), d) for u, d in feats])
        self.array = (ctypes.POINTER(_Feature) * (len(feats) + 1))(
            *[ctypes.pointer(self._feats[k]) for k in range(len(feats))], None)

_SET_VALUE = ctypes.CFUNCTYPE(None, ctypes.c_char_p, _P, _P, ctypes.c_uint32, ctypes.c_uint32)


def preset_values(uri: str, preset: str) -> dict[str, float]:
    """The control port values (symbol -> value in the port's unit) preset ``preset`` (label or URI)
    of plugin ``uri`` sets; Lv2Error if the plugin has no such preset. (A preset's other state is not
    applied.)"""
    lib = W.library()
    node = W.uri_node(W.preset_uri(uri, preset))
    state = lib.lilv_state_new_from_world(W.world(), ctypes.cast(ctypes.pointer(_MAP), _P), node)
    if not state:
        raise W.Lv2Error(f"preset '{preset}' of plugin '{uri}' cannot be read")
    out: dict[str, float] = {}
    float_t, double_t, int_t = (urid(W.ATOM + t) for t in ("Float", "Double", "Int"))

    def take(symbol, _user, value, size, type_):
        kind = {float_t: ctypes.c_float, double_t: ctypes.c_double, int_t: ctypes.c_int32}.get(type_)
        if kind is not None and value and size >= ctypes.sizeof(kind):
            out[symbol.decode()] = float(kind.from_address(value).value)

    try:
        lib.lilv_state_emit_port_values(state, _SET_VALUE(take), None)
    finally:
        lib.lilv_state_free(state)
    return out


STATE_INTERFACE = "http://lv2plug.in/ns/ext/state#interface"
STATE_URI = "urn:livehost:state"  #: the subject of a saved state in its Turtle text
_STATE_FLAGS = 1 | 2  # LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE
_GET_VALUE = ctypes.CFUNCTYPE(_P, ctypes.c_char_p, _P, ctypes.POINTER(ctypes.c_uint32),
                              ctypes.POINTER(ctypes.c_uint32))
_STATE_LOCK = threading.Lock()  # lilv's world is not thread-safe: one state call at a time
#: prefixes lilv's Turtle uses without declaring them (added so the file stands alone)
_PREFIXES = "".join(f"@prefix {k}: <{v}> .\n" for k, v in (
    ("atom", W.ATOM), ("lv2", W.LV2), ("pset", W.PSET), ("rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"),
    ("rdfs", "http://www.w3.org/2000/01/rdf-schema#"), ("state", "http://lv2plug.in/ns/ext/state#"),
    ("xsd", "http://www.w3.org/2001/XMLSchema#")))


def _no_port_value(symbol, user, size, type_):
    """lilv's port-value query while saving: none (control values are saved in the patch)."""
    size[0] = 0
    type_[0] = 0
    return None


_NO_PORT_VALUE = _GET_VALUE(_no_port_value)


def has_state(uri: str) -> bool:
    """Whether plugin ``uri`` offers the LV2 State extension (``state:interface``)."""
    lib = W.library()
    return bool(lib.lilv_plugin_has_extension_data(W.lilv_plugin(uri), W.uri_node(STATE_INTERFACE)))


def _names_a_preset(text: str) -> bool:
    """Whether Turtle ``text`` names the class ``pset:Preset`` (in full, or by a prefix bound to the
    presets namespace): lilv reads a state from the subject of that type."""
    if f"<{W.PSET}Preset>" in text:
        return True
    prefixes = re.findall(r"@prefix\s+([A-Za-z0-9_.-]*):\s*<" + re.escape(W.PSET) + ">", text, re.I)
    return any(re.search(r"(?<![\w:])" + re.escape(p) + r":Preset\b", text) for p in prefixes)


def _parse_state(text: str, uri: str):
    """A LilvState from Turtle ``text`` for plugin ``uri`` (the caller frees it); Lv2Error (one line)
    if lilv cannot read it or it is another plugin's state."""
    lib = W.library()
    if not _names_a_preset(text):  # lilv 0.24 crashes on a text without a pset:Preset subject
        raise W.Lv2Error("is not an LV2 state (no subject is a pset:Preset)")
    st = lib.lilv_state_new_from_string(W.world(), ctypes.cast(ctypes.pointer(_MAP), _P), text.encode())
    if not st:
        raise W.Lv2Error("is not an LV2 state lilv can read (Turtle with a state:state)")
    of = W._str(lib.lilv_state_get_plugin_uri(st))
    if of != uri:
        lib.lilv_state_free(st)
        raise W.Lv2Error(f"is the state of '{of}', not of '{uri}'")
    return st


def check_state(text: str, uri: str) -> None:
    """Raise Lv2Error (one line) unless ``text`` is an LV2 state (Turtle) of plugin ``uri`` lilv can read."""
    with _STATE_LOCK:
        W.library().lilv_state_free(_parse_state(text, uri))


# ---- the worker extension (its real-time half is livehost.dsp.lv2_worker) ---------------------------
class _WorkerIface(ctypes.Structure):
    _fields_ = [("work", _P), ("work_response", _P), ("end_run", _P)]


class _Schedule(ctypes.Structure):
    _fields_ = [("handle", _P), ("schedule_work", _P)]


_RESPOND = ctypes.CFUNCTYPE(ctypes.c_int32, _P, ctypes.c_uint32, _P)
_WORK = ctypes.CFUNCTYPE(ctypes.c_int32, _P, _RESPOND, _P, ctypes.c_uint32, _P)
_EXT_DATA = ctypes.CFUNCTYPE(_P, ctypes.c_char_p)
_WORK_RESPONSE = ctypes.CFUNCTYPE(ctypes.c_int32, _P, ctypes.c_uint32, _P)
RING_BYTES = 1 << 15  #: bytes of each worker ring (requests, responses) per instance


def new_ring(capacity: int = RING_BYTES) -> np.ndarray:
    """An empty worker ring of ``capacity`` bytes (see :mod:`livehost.dsp.lv2_worker`)."""
    ring = np.zeros(ring_words(capacity), np.float64)
    ring[R_CAP] = 8 * (len(ring) - RING_HEAD)
    return ring


def ring_write(ring: np.ndarray, body: bytes) -> int:
    """Append message ``body`` to ``ring`` from Python (its single writer): LV2_WORKER_SUCCESS, or
    LV2_WORKER_ERR_NO_SPACE if it does not fit."""
    cap, w = int(ring[R_CAP]), int(ring[R_W])
    need = 8 + -(-len(body) // 8) * 8
    if need > cap or w + need - int(acquire(ring, R_R)) > cap:
        ring[R_FULL] += 1
        return WORKER_ERR_NO_SPACE
    data = ring.view(np.uint8)[8 * RING_HEAD:]
    p = w % cap
    data[p:p + 8] = np.frombuffer(len(body).to_bytes(4, "little") + bytes(4), np.uint8)
    if body:
        data[(p + 8 + np.arange(len(body))) % cap] = np.frombuffer(body, np.uint8)
    release(ring, R_W, w + need)
    return WORKER_SUCCESS


def ring_read(ring: np.ndarray) -> list[bytes]:
    """Every message waiting in ``ring``, oldest first (its single reader, from Python)."""
    cap, r = int(ring[R_CAP]), int(ring[R_R])
    w = int(acquire(ring, R_W))
    data = ring.view(np.uint8)[8 * RING_HEAD:]
    out = []
    while r < w:
        p = r % cap
        n = int.from_bytes(data[p:p + 4].tobytes(), "little")
        out.append(data[(p + 8 + np.arange(n)) % cap].tobytes())
        r += 8 + -(-n // 8) * 8
    release(ring, R_R, r)
    return out


class _Worker:
    """One instance's worker: the request ring its ``schedule_work`` (a compiled cfunc) fills from the
    audio thread, the response ring its ``respond`` fills on the worker thread, the scratch buffer and
    the table the kernel reads (:data:`table`, int64: see ``livehost.dsp.lv2_worker.W_*``)."""

    def __init__(self):
        self.requests = new_ring()
        self.responses = new_ring()
        self.scratch = np.zeros(RING_BYTES, np.uint8)
        self.schedule = _Schedule(self.requests.ctypes.data, schedule_work.address)
        self.table = np.zeros(W_SIZE, np.int64)
        self.respond = _RESPOND(self._respond)
        self.handle = 0
        self.work = None
        self.done = 0  #: requests handed to the plugin's work()

    def bind(self, handle: int, iface: int) -> None:
        """Take the plugin's worker interface (the address ``extension_data`` gave) for ``handle``."""
        wi = _WorkerIface.from_address(iface)
        self.handle = handle
        self.work = _WORK(wi.work) if wi.work else None
        self.table[:] = (self.responses.ctypes.data, self.scratch.ctypes.data, len(self.scratch),
                         int(wi.work_response or 0), int(wi.end_run or 0))

    def _respond(self, _handle, size, data) -> int:
        return ring_write(self.responses, ctypes.string_at(data, size) if size else b"")

    def answer_now(self) -> int:
        """Hand every waiting response to the plugin's ``work_response``, then call its ``end_run``, on
        this thread: only while no audio thread can call the plugin (the kernel does it otherwise).
        Returns how many responses."""
        todo = ring_read(self.responses)
        response, end_run = int(self.table[W_WORK_RESPONSE]), int(self.table[W_END_RUN])
        for body in todo:
            if response:
                buf = ctypes.create_string_buffer(body, max(1, len(body)))
                _WORK_RESPONSE(response)(self.handle, len(body), buf)
        if end_run:
            _HANDLE_FN(end_run)(self.handle)
        return len(todo)

    def serve(self) -> int:
        """Hand every waiting request to the plugin's ``work`` (on the calling, non-real-time thread);
        returns how many."""
        todo = ring_read(self.requests)
        for body in todo:
            if self.work is not None:
                buf = ctypes.create_string_buffer(body, max(1, len(body)))
                self.work(self.handle, self.respond, None, len(body), buf)
                self.done += 1
        return len(todo)


class _Service:
    """One daemon thread for the LV2 housekeeping that must not run on the audio thread: the worker
    requests of every instance, and whatever else registers (the nodes' resets after a fault). Tasks
    run every ``poll_s`` seconds, one at a time; :meth:`remove` returns once its task is not running."""

    def __init__(self, poll_s: float = 0.004):
        self.poll_s = poll_s
        self._tasks: dict[int, object] = {}
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None

    def add(self, task) -> int:
        """Run ``task()`` from now on; returns its key for :meth:`remove`."""
        with self._lock:
            key = next(self._ids)
            self._tasks[key] = task
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="livehost-lv2", daemon=True)
                self._thread.start()
            return key

    def remove(self, key: int) -> None:
        """Stop running the task ``key`` (waits for a run of it in progress)."""
        with self._lock:
            self._tasks.pop(key, None)

    def run_once(self) -> None:
        """Run every task once (the thread's step; tests call it to not wait for the thread)."""
        with self._lock:
            for task in list(self._tasks.values()):
                try:
                    task()
                except Exception as e:  # a plugin's bad answer must not stop the others' service
                    print(f"livehost: LV2 service: {e}", file=sys.stderr)

    def _run(self) -> None:
        while True:
            time.sleep(self.poll_s)
            self.run_once()


SERVICE = _Service()  #: the process's LV2 service thread (started by the first task)


ALIGN = 16  # floats: each audio buffer starts on a 64-byte boundary


class Instance:
    """One running plugin: ``info`` (a :class:`~livehost.lv2.world.PluginInfo`) instantiated at ``sr`` Hz
    for blocks of at most ``max_block`` frames, its ports connected to :attr:`mem` (float32), activated.

    Addresses for the kernel: :attr:`handle`, :attr:`run`, :meth:`audio_in` / :meth:`audio_out`
    (buffer of the k-th audio port), :attr:`ctl` (the control inputs, contiguous, in port order),
    :attr:`seq` (the MIDI input's atom sequence, ``SEQ_WORDS`` int64 words; 0 without one),
    :attr:`atom_reset` (the ``(address, header word)`` pairs of the atom outputs).

    ``state``: an LV2 state as Turtle text (from :meth:`save_state`) restored before activation;
    Lv2Error if lilv cannot read it. ``events``: patch messages (:func:`patch_set`: the files it loads)
    handled once it is active, before anything else can call it (:meth:`_handle_now`).
    """

    def __init__(self, info: W.PluginInfo, sr: float, max_block: int, state: str | None = None,
                 events: bytes = b""):
        if not info.runnable:
            raise W.Lv2Error(f"LV2 plugin '{info.uri}' cannot run in livehost: {info.why_not}")
        lib = W.library()
        self.info = info
        self.max_block = int(max_block)
        stride = -(-self.max_block // ALIGN) * ALIGN
        n_audio = len(info.audio_in) + len(info.audio_out)
        n_ctl = len(info.controls)
        self._mem = np.zeros(n_audio * stride + n_ctl + ALIGN, np.float32)
        off = (-self._mem.ctypes.data // 4) % ALIGN  # first float on a 64-byte boundary
        self.mem = self._mem[off:off + n_audio * stride + n_ctl]
        base = self.mem.ctypes.data
        self._audio_addr = {idx: base + 4 * k * stride
                            for k, (idx, _s) in enumerate(info.audio_in + info.audio_out)}
        inputs = [c for c in info.controls if not c.output]
        outputs = [c for c in info.controls if c.output]
        ctl0 = n_audio * stride
        self._ctl_addr = {c.index: base + 4 * (ctl0 + k) for k, c in enumerate(inputs + outputs)}
        self.ctl = base + 4 * ctl0
        for k, c in enumerate(inputs):
            self.mem[ctl0 + k] = np.float32(_start_value(c))
        plug = W.lilv_plugin(info.uri)
        self._service_key = None
        self.worker = _Worker() if lib.lilv_plugin_has_extension_data(plug, W.uri_node(W.WORKER_INTERFACE)) else None
        self._features = _Features(float(sr), self.max_block, 8 * SEQ_WORDS,
                                   ctypes.addressof(self.worker.schedule) if self.worker else None)
        self._inst = lib.lilv_plugin_instantiate(plug, float(sr), ctypes.cast(self._features.array, _P))
        if not self._inst:
            raise W.Lv2Error(f"LV2 plugin '{info.uri}' failed to instantiate at {sr:g} Hz")
        li = _LilvInstance.from_address(self._inst)
        d = li.lv2_descriptor.contents
        self.handle = int(li.lv2_handle or 0)
        self.run = int(d.run)
        self.worker_table = 0  # the kernel's worker table (0: none)
        if self.worker is not None:
            iface = _EXT_DATA(d.extension_data)(W.WORKER_INTERFACE.encode()) if d.extension_data else None
            if iface:
                self.worker.bind(self.handle, iface)
                self.worker_table = self.worker.table.ctypes.data
        connect = _CONNECT(d.connect_port)
        for idx, addr in {**self._audio_addr, **self._ctl_addr}.items():
            connect(self.handle, idx, addr)
        for idx in info.optional_ports:
            connect(self.handle, idx, None)
        # atom ports: inputs hold an empty sequence (the MIDI input's is rewritten by the kernel every
        # block); outputs get their capacity back before every run, from the table the kernel reads
        ports = info.atom_in + info.atom_out
        self._atoms = np.zeros((max(1, len(ports)), SEQ_WORDS), np.int64)
        empty = 8 | (urid(W.ATOM_SEQUENCE) << 32)
        capacity = (8 * SEQ_WORDS - 8) | (urid(W.ATOM + "Chunk") << 32)
        self._reset = np.zeros(max(2, 2 * len(info.atom_out)), np.int64)
        self.seq = 0
        midi = info.midi_in[0][0] if info.midi_in else None
        for k, (idx, _sym) in enumerate(ports):
            addr = self._atoms[k].ctypes.data
            if k < len(info.atom_in):
                self._atoms[k, 0] = empty
                if idx == midi:
                    self.seq = addr
            else:
                j = k - len(info.atom_in)
                self._atoms[k, 0] = capacity
                self._reset[2 * j:2 * j + 2] = (addr, capacity)
            connect(self.handle, idx, addr)
        self.atom_reset = self._reset.ctypes.data
        # the patch input (files to load, patch:Set) and its mailbox (see livehost.dsp.lv2)
        self.pseq = 0
        self._pseq_row = None
        self.mail = np.zeros(MAIL_HEAD + MAIL_WORDS, np.float64)
        if info.files and info.patch_in is not None:
            self._pseq_row = self._atoms[[i for i, _s in info.atom_in].index(info.patch_in)]
            self.pseq = int(self._pseq_row.ctypes.data)
        self._deactivate = d.deactivate
        self._activate = d.activate
        self.resets = 0  #: how many times :meth:`reset` ran
        self.active = False
        try:
            if state:
                self.restore_state(state)
            elif lib.lilv_plugin_has_feature(plug, W.uri_node(W.LOAD_DEFAULT_STATE)):
                self._load_default_state()
        except BaseException:
            self.close()
            raise
        if d.activate:
            _HANDLE_FN(d.activate)(self.handle)
        self.active = True
        if events:
            try:
                self._handle_now(events)
            except BaseException:
                self.close()
                raise
        if self.worker_table:  # requests scheduled from now on (or by a restore) reach work()
            self._service_key = SERVICE.add(self.worker.serve)

    def _load_default_state(self) -> None:
        """Restore the state the plugin's own description gives it (``state:loadDefaultState``)."""
        lib = W.library()
        with _STATE_LOCK:
            st = lib.lilv_state_new_from_world(W.world(), ctypes.cast(ctypes.pointer(_MAP), _P),
                                               W.uri_node(self.info.uri))
            if st:
                try:
                    lib.lilv_state_restore(st, self._inst, None, None, 0, ctypes.cast(self._features.array, _P))
                finally:
                    lib.lilv_state_free(st)

    def reset(self) -> None:
        """Deactivate and activate the plugin again (its DSP state back to a fresh start, e.g. after a
        non-finite output): only while no audio thread can call it (the kernel waits for it)."""
        if self._inst and self.active:
            if self._deactivate:
                _HANDLE_FN(self._deactivate)(self.handle)
            if self._activate:
                _HANDLE_FN(self._activate)(self.handle)
            self.resets += 1

    def save_state(self) -> str | None:
        """The plugin's state (LV2 State extension) as Turtle text, None if it has no ``state:interface``.
        Off the audio thread (a plugin's ``save`` may run while ``run`` does: the extension requires
        plugins to allow it)."""
        if not has_state(self.info.uri):
            return None
        lib = W.library()
        mp, ump = ctypes.cast(ctypes.pointer(_MAP), _P), ctypes.cast(ctypes.pointer(_UNMAP), _P)
        with _STATE_LOCK:
            st = lib.lilv_state_new_from_instance(
                W.lilv_plugin(self.info.uri), self._inst, mp, None, None, None, None,
                ctypes.cast(_NO_PORT_VALUE, _P), None, _STATE_FLAGS, ctypes.cast(self._features.array, _P))
            if not st:
                raise W.Lv2Error(f"LV2 plugin '{self.info.uri}' did not save its state")
            try:
                raw = lib.lilv_state_to_string(W.world(), mp, ump, st, STATE_URI.encode(), None)
            finally:
                lib.lilv_state_free(st)
            if not raw:
                raise W.Lv2Error(f"LV2 plugin '{self.info.uri}': its state cannot be written as Turtle")
            try:
                text = ctypes.string_at(raw).decode("utf-8")
                return text if text.lstrip().startswith("@prefix") else _PREFIXES + "\n" + text
            finally:
                lib.lilv_free(raw)

    def restore_state(self, text: str) -> None:
        """Restore a state (Turtle from :meth:`save_state`) into the plugin: only while no other thread
        can call the instance (the extension's rule), i.e. before the node is published."""
        lib = W.library()
        with _STATE_LOCK:
            st = _parse_state(text, self.info.uri)
            try:
                lib.lilv_state_restore(st, self._inst, None, None, 0, ctypes.cast(self._features.array, _P))
            finally:
                lib.lilv_state_free(st)

    def _handle_now(self, events: bytes) -> None:
        """Have the plugin handle patch messages ``events`` now, on this thread, while nothing else can
        call it (after activation, before the node is published): one ``run`` of 0 frames with them in
        its patch input, then its worker's requests served and their answers handed to
        ``work_response`` here too, so the files are in place before the first block (an offline render
        is deterministic)."""
        if self._pseq_row is None:
            raise W.Lv2Error(f"LV2 plugin '{self.info.uri}' takes no patch messages")
        words = np.frombuffer(events, np.int64)
        row = self._pseq_row
        if len(words) > len(row) - 2:
            raise W.Lv2Error(f"{len(events)} bytes of messages are more than the plugin's port holds")
        row[2:2 + len(words)] = words
        row[0] = (8 + 8 * len(words)) | (urid(W.ATOM_SEQUENCE) << 32)
        row[1] = 0
        for j in range(0, len(self._reset), 2):  # atom outputs: their capacity back
            if self._reset[j]:
                ctypes.c_int64.from_address(int(self._reset[j])).value = int(self._reset[j + 1])
        self.run_python(0)
        row[0] = 8 | (urid(W.ATOM_SEQUENCE) << 32)
        if self.worker_table:
            self.worker.serve()
            self.worker.answer_now()

    def post(self, events: bytes, timeout_s: float = 2.0) -> None:
        """Hand ``events`` (atom sequence events, see :func:`patch_set`) to the plugin: the kernel puts
        them in the patch input's sequence of its next block. Waits (up to ``timeout_s`` seconds, off the
        audio thread) for the previous batch to be taken; Lv2Error if it is not, or the batch is too big
        or the plugin has no patch input."""
        if not self.pseq:
            raise W.Lv2Error(f"LV2 plugin '{self.info.uri}' takes no patch messages")
        words = np.frombuffer(events, np.int64)
        if len(words) > MAIL_WORDS:
            raise W.Lv2Error(f"a message of {len(events)} bytes is more than the plugin's "
                             f"{8 * MAIL_WORDS}-byte mailbox holds")
        end = time.monotonic() + timeout_s
        while acquire(self.mail, M_TAKEN) != self.mail[M_POSTED]:
            if time.monotonic() > end:
                raise W.Lv2Error(f"LV2 plugin '{self.info.uri}' did not take its last message "
                                 f"(is the audio running?)")
            time.sleep(0.001)
        body = self.mail[MAIL_HEAD:].view(np.int64)
        body[:len(words)] = words
        self.mail[M_WORDS] = len(words)
        release(self.mail, M_POSTED, self.mail[M_POSTED] + 1.0)

    def pending(self) -> bool:
        """Whether a posted batch of messages has not been taken by the kernel yet."""
        return acquire(self.mail, M_TAKEN) != self.mail[M_POSTED]

    def audio_in(self, k: int) -> int:
        """Address of the k-th audio input's float32 buffer (``max_block`` frames)."""
        return self._audio_addr[self.info.audio_in[k][0]]

    def audio_out(self, k: int) -> int:
        """Address of the k-th audio output's float32 buffer (``max_block`` frames)."""
        return self._audio_addr[self.info.audio_out[k][0]]

    def control_out(self, port_index: int) -> float:
        """The value the plugin last wrote to control output ``port_index`` (e.g. its latency, samples)."""
        return float(np.frombuffer((ctypes.c_float * 1).from_address(self._ctl_addr[port_index]),
                                   np.float32)[0])

    def set_controls(self, values: list[float]) -> None:
        """Write the control inputs (port order) from Python (off the audio thread only)."""
        n = len(self.info.control_inputs)
        ctl0 = (self.ctl - self.mem.ctypes.data) // 4
        self.mem[ctl0:ctl0 + n] = np.asarray(values, np.float32)

    def run_python(self, n: int) -> None:
        """Call ``run(handle, n)`` from Python (a probe off the audio thread, never for live audio)."""
        ctypes.CFUNCTYPE(None, _P, ctypes.c_uint32)(self.run)(self.handle, int(n))

    def close(self) -> None:
        """Deactivate and free the plugin (only once no audio thread can call it again)."""
        if self._service_key is not None:
            SERVICE.remove(self._service_key)  # no work() runs from here on
            self._service_key = None
        if self._inst:
            if self.active and self._deactivate:
                _HANDLE_FN(self._deactivate)(self.handle)
            self.active = False
            W.library().lilv_instance_free(self._inst)
            self._inst = None


def _pad8(b: bytes) -> bytes:
    return b + bytes(-len(b) % 8)


def patch_set(prop: str, path: str, frame: int = 0) -> bytes:
    """One atom sequence event (frame time ``frame``) holding ``patch:Set`` of property ``prop`` (a
    URI) to the file ``path`` (an ``atom:Path``), as LV2's atom forge writes it: the event's time
    (int64 frames) and atom header, the object's id and type, then its two properties
    (``patch:property`` a URID, ``patch:value`` the path, NUL-terminated), each padded to 8 bytes."""
    raw = path.encode("utf-8") + b"\0"
    props = _pad8(struct.pack("<IIIII", urid(W.PATCH + "property"), 0, 4, urid(W.ATOM + "URID"), urid(prop)))
    props += _pad8(struct.pack("<IIII", urid(W.PATCH + "value"), 0, len(raw), urid(W.ATOM + "Path")) + raw)
    body = struct.pack("<II", 0, urid(W.PATCH + "Set")) + props
    return struct.pack("<qII", int(frame), len(body), urid(W.ATOM + "Object")) + body


def _start_value(c: W.ControlPort) -> float:
    """A control input's starting value: its default, else its minimum, else 0."""
    if c.default is not None:
        return c.default
    return c.min if c.min is not None else 0.0
