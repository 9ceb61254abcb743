"""The ``lv2`` node: an installed LV2 plugin, named by ``uri``, run inside the compiled callback.

The registered type is generic (its only option is ``uri``); :func:`specialize` gives each plugin its
own :class:`NodeType` (same name and kernel, so the same compiled dispatch) whose parameters are the
plugin's control inputs, by LV2 symbol: range, default and unit from the plugin; toggles are booleans;
integer and enumerated ports step (no smoothing); the others are smoothed like any parameter and
reach the plugin once per block. Its ``init`` instantiates, connects and activates the plugin off the
audio thread (one instance per channel for a mono plugin); its ``release`` deactivates and frees it
once the engine has retired the node. A plugin's latency port feeds the node's latency. A plugin with a
MIDI input takes the block's MIDI events (an instrument, with no audio input, plays over the signal it
is given).

Faults: when the engine's guard resets the node (a non-finite or runaway output), the kernel stops
calling the plugin and :func:`reset_faulted` (on the LV2 service thread) deactivates and activates its
instances before it plays again. A plugin with the worker extension has its ``work`` called on that
thread too (see :mod:`livehost.lv2.host`).

State: a plugin with the LV2 State extension has its state (Turtle text) in the node's ``state``
option: restored into every instance after instantiation, before the node is published; read back
from the live plugin by :func:`save_state` (the patch saves it in a file beside itself). A mono
plugin's two instances get the same state; the first instance's is saved.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import threading
import weakref

import numpy as np

from livehost.dsp import atomics
from livehost.dsp.lv2 import (I_ATOM_OUT, I_CTL, I_HANDLE, I_IN0, I_IN1, I_MAIL, I_OUT0, I_OUT1, I_PSEQ, I_SEQ,
                              I_WORKER, INST_W,
                              S_ALIVE, S_ASK, S_INST, S_MIDI, S_MIDI_TYPE, S_NATOM_OUT, S_NCTL, S_NIN, S_NINST,
                              S_NOUT, S_RUN, S_SEQ_TYPE, S_SEQ_WORDS, S_TOKEN, SEQ_WORDS, STATE_SIZE, lv2_process,
                              lv2_state_size)
from livehost.lv2 import world as W
from livehost.lv2.host import SERVICE, Instance, check_state, patch_set, preset_values, urid
from livehost.nodes.declare import NodeType, Param, register

OPTIONS = ("uri", "preset", "state")  #: the node's settings that are not parameters
RESERVED = ("wet", "bypass", "type", "id") + OPTIONS  #: symbols renamed ``<symbol>_port`` (patch keys)
UNBOUNDED = 1e9  #: the range given to a port with no minimum or maximum
RATE_REF = 48000.0  #: sample rate (Hz) at which ranges of ``lv2:sampleRate`` ports are declared
PROBE_BLOCK = 64

_LIVE: dict[int, list[Instance]] = {}
_STATES: dict[int, tuple] = {}  # token -> (weak reference to the engine's arena, offset of the node's state)
_TOKENS = itertools.count(1)
_LIVE_LOCK = threading.Lock()


def param_name(c: W.ControlPort) -> str:
    """The parameter name of control port ``c``: its symbol, or ``<symbol>_port`` if that is a reserved key."""
    return f"{c.symbol}_port" if c.symbol in RESERVED else c.symbol


def port_param(c: W.ControlPort, preset: float | None = None) -> Param:
    """The declared parameter for a control input port (range, default and unit from the plugin; the
    default is ``preset`` when a preset gives the port a value)."""
    start = c.default if c.default is not None else (c.min if c.min is not None else 0.0)
    if preset is not None:
        start = preset
    doc = c.name
    if c.scale_points:
        doc += " (" + ", ".join(f"{v:g} = {label}" for v, label in c.scale_points) + ")"
    if c.toggled:
        return Param(param_name(c), default=bool(start > 0.0), smoothing_ms=0.0, doc=doc)
    scale = RATE_REF if c.sample_rate else 1.0
    lo = c.min * scale if c.min is not None else -UNBOUNDED
    hi = c.max * scale if c.max is not None else UNBOUNDED
    if lo > hi:
        lo, hi = hi, lo
    start = min(max(start, lo), hi)  # lv2:sampleRate scales the bounds; plugins give the default in Hz
    if c.sample_rate:
        doc += f" (range at {RATE_REF:g} Hz)"
    steps = c.integer or c.enumeration
    return Param(param_name(c), c.unit or ("Hz" if c.sample_rate else ""), lo, hi, float(start),
                 0.0 if steps else 20.0, doc=doc)


def _instances(info: W.PluginInfo, sr: float, max_block: int, state: str | None = None,
               events: bytes = b"") -> list[Instance]:
    """One instance per channel for a mono plugin, one for the stereo pair otherwise; each restored
    from ``state`` (Turtle) if given, then given the patch messages ``events`` (its files)."""
    mono = len(info.audio_in) == 1 and len(info.audio_out) == 1
    made: list[Instance] = []
    try:
        for _ in range(2 if mono else 1):
            made.append(Instance(info, sr, max_block, state=state, events=events))
    except BaseException:
        for inst in made:
            inst.close()
        raise
    return made


def _file_events(info: W.PluginInfo, files: dict) -> bytes:
    """The ``patch:Set`` events that load ``files`` (file option key -> absolute path) into the plugin."""
    props = {f.key: f.uri for f in info.files}
    return b"".join(patch_set(props[k], path) for k, path in files.items())


def _init_for(info: W.PluginInfo, state: str | None = None, files: dict | None = None):
    def init(st, sr: float, max_block: int) -> None:
        """Instantiate, connect, restore ``state`` into and activate the plugin, load its ``files``;
        write its addresses into the node's state."""
        insts = _instances(info, sr, max_block, state, _file_events(info, files or {}))
        with _LIVE_LOCK:
            token = next(_TOKENS)
            _LIVE[token] = insts
            _STATES[token] = _arena_ref(st)
        _watch()
        st[S_TOKEN] = token
        st[S_RUN] = insts[0].run
        st[S_NINST] = len(insts)
        st[S_NIN] = min(2, len(info.audio_in))
        st[S_NOUT] = min(2, len(info.audio_out))
        st[S_NCTL] = len(info.control_inputs)
        st[S_NATOM_OUT] = len(info.atom_out)
        st[S_SEQ_TYPE] = urid(W.ATOM_SEQUENCE)
        st[S_SEQ_WORDS] = SEQ_WORDS
        if info.midi_in:
            st[S_MIDI] = 1.0
            st[S_MIDI_TYPE] = urid(W.MIDI_EVENT)
        for k, inst in enumerate(insts):
            b = S_INST + k * INST_W
            nin, nout = int(st[S_NIN]), int(st[S_NOUT])
            st[b + I_HANDLE] = inst.handle
            st[b + I_IN0] = inst.audio_in(0) if nin > 0 else 0.0
            st[b + I_IN1] = inst.audio_in(1) if nin > 1 else 0.0
            st[b + I_OUT0] = inst.audio_out(0)
            st[b + I_OUT1] = inst.audio_out(1) if nout > 1 else 0.0
            st[b + I_CTL] = inst.ctl
            st[b + I_SEQ] = inst.seq
            st[b + I_ATOM_OUT] = inst.atom_reset
            st[b + I_WORKER] = inst.worker_table
            st[b + I_PSEQ] = inst.pseq
            st[b + I_MAIL] = inst.mail.ctypes.data
        st[S_ALIVE] = 1.0
    return init


def release(st) -> None:
    """Deactivate and free the instances of the node whose state is ``st`` (the audio thread no longer
    reaches it)."""
    with _LIVE_LOCK:
        insts = _LIVE.pop(int(st[S_TOKEN]), [])
        _STATES.pop(int(st[S_TOKEN]), None)
    for inst in insts:
        inst.close()


def _arena_ref(st) -> tuple:
    """A weak reference to the float64 array owning the node state ``st`` (the engine's arena) and
    the state's offset in it: the watch must not keep a dropped engine's arena alive."""
    root = st
    while isinstance(root.base, np.ndarray):
        root = root.base
    off = (st.ctypes.data - root.ctypes.data) // st.itemsize
    try:
        return weakref.ref(root), off
    except TypeError:
        return (lambda: root), off


_WATCH: list[int] = []
_WATCH_LOCK = threading.Lock()  # never held with _LIVE_LOCK (the service thread takes that one)


def _watch() -> None:
    """Start the reset watch (once, on the LV2 service thread)."""
    with _WATCH_LOCK:
        if not _WATCH:
            _WATCH.append(SERVICE.add(reset_faulted))


def reset_faulted() -> int:
    """Reset the plugins of every node the engine's guard reset (non-finite or runaway output): the
    kernel stopped calling them and asked (``S_ASK``); deactivate and activate each instance here, off
    the audio thread, then let the kernel run them again (``S_ALIVE``, release ordering). Returns how
    many nodes were reset. Runs on the LV2 service thread every few milliseconds."""
    done = 0
    with _LIVE_LOCK:
        for token, (ref, off) in list(_STATES.items()):
            arena = ref()
            if arena is None:  # an engine dropped without releasing its nodes (tests)
                del _STATES[token]
                continue
            st = arena[off:off + STATE_SIZE + 1]
            if atomics.acquire(st, S_ASK) != 1.0:
                continue
            for inst in _LIVE.get(token, []):
                inst.reset()
            st[S_ASK] = 0.0
            atomics.release(st, S_ALIVE, 1.0)
            done += 1
    return done


def save_state(st) -> str | None:
    """The LV2 state (Turtle text) of the live node whose state is ``st``, read from its first instance
    off the audio thread; None if the plugin has no State extension."""
    with _LIVE_LOCK:  # release() cannot close the instance meanwhile
        insts = _LIVE.get(int(st[S_TOKEN]), [])
        return insts[0].save_state() if insts else None


def load_file(st, key: str, path: str) -> None:
    """Load file ``path`` (absolute) into the live node whose state is ``st`` as its file property
    ``key`` (``patch:Set``, taken by the plugin's next block; a plugin with the worker extension reads
    the file on the LV2 service thread). Off the audio thread; Lv2Error (one line) if the plugin has
    no such file property or does not take the message."""
    insts = instances(st)
    if not insts:
        raise W.Lv2Error("the plugin is not running")
    info = insts[0].info
    if key not in {f.key for f in info.files}:
        have = ", ".join(f.key for f in info.files) or "none"
        raise W.Lv2Error(f"'{key}' is not a file the plugin loads (its files: {have})")
    events = _file_events(info, {key: path})
    for inst in insts:
        inst.post(events)


def instances(st) -> list[Instance]:
    """The live instances of the node whose state is ``st`` (for probes off the audio thread)."""
    with _LIVE_LOCK:
        return list(_LIVE.get(int(st[S_TOKEN]), []))


def live_instances() -> int:
    """How many LV2 instances are alive (instantiated and not yet released)."""
    with _LIVE_LOCK:
        return sum(len(v) for v in _LIVE.values())


def _latency_for(info: W.PluginInfo, params: tuple[Param, ...]):
    if info.latency_port is None:
        return lambda values, sr: 0

    @functools.lru_cache(maxsize=256)
    def probe(sr: float, numbers: tuple) -> int:
        inst = Instance(info, sr, PROBE_BLOCK)
        try:
            inst.set_controls(list(numbers))
            inst.run_python(PROBE_BLOCK)
            lat = inst.control_out(info.latency_port)
        finally:
            inst.close()
        return max(0, int(round(lat))) if lat == lat else 0

    def latency(values: dict, sr: float) -> int:
        """The plugin's reported latency (samples) at these control values: a probe instance run once
        on silence, off the audio thread (cached per rate and values)."""
        return probe(float(sr), tuple(p.to_number(values.get(p.name, p.default)) for p in params))
    return latency


@functools.lru_cache(maxsize=None)
def _specialized(uri: str, preset: str | None) -> NodeType:
    info = W.plugin(uri)
    if not info.runnable:
        raise W.Lv2Error(f"cannot run in livehost: {info.why_not}")
    values = {}
    if preset is not None:
        try:
            values = preset_values(uri, preset)
        except W.Lv2Error as e:
            e.option = "preset"
            raise
    params = tuple(port_param(c, values.get(c.symbol)) for c in info.control_inputs)
    files = tuple(f.key for f in info.files)
    return NodeType(
        name="lv2", params=params, kernel=lv2_process, state_size=lv2_state_size, init=_init_for(info),
        reset_from=STATE_SIZE, latency=_latency_for(info, params), options=OPTIONS + files, path_options=files,
        load_file=load_file if files else None,
        midi=bool(info.midi_in),
        release=release, save_state=save_state, category="plugin",
        doc=f"LV2 plugin {info.name} ({info.uri})" + (f", preset {preset}." if preset else "."))


def specialize(options: dict) -> NodeType:
    """The node type of the LV2 plugin ``options["uri"]``, its parameters' defaults from the preset
    ``options["preset"]`` (a label or URI) if given, its instances restored from ``options["state"]``
    (an LV2 state as Turtle text) if given, then sent the files its file options name (absolute
    paths, by the keys of ``PluginInfo.files``): Lv2Error (one line) if the plugin is not installed, cannot
    run in livehost, has no such preset, or the state is not one of its states."""
    uri = options.get("uri")
    if not isinstance(uri, str) or not uri:
        raise W.Lv2Error("needs uri = \"...\" (an installed LV2 plugin; see livehost plugins)")
    nt = _specialized(uri, options.get("preset") or None)
    state = options.get("state")
    files = {k: options[k] for k in nt.path_options if options.get(k)}
    if not state and not files:
        return nt
    if state:
        try:
            check_state(state, uri)
        except W.Lv2Error as e:
            e.option = "state"
            raise
    return dataclasses.replace(nt, init=_init_for(W.plugin(uri), state or None, files))


LV2_NODE = register(
    NodeType(
        name="lv2",
        params=(),
        kernel=lv2_process,
        state_size=lv2_state_size,
        reset_from=STATE_SIZE,
        options=OPTIONS,
        specialize=specialize,
        save_state=save_state,
        category="plugin",
        doc="An installed LV2 plugin: uri = \"...\" names it (livehost plugins lists them), preset = \"...\" "
            "optionally sets its defaults, state = \"file\" (beside the patch, written when it is saved) "
            "restores the plugin's own state (LV2 State extension); its control inputs are its parameters, "
            "by LV2 symbol; a file it loads (a sampler's sample = \"kick.wav\", relative to the patch) by "
            "the name livehost plugins shows; its latency port, if any, is its latency.",
    )
)
