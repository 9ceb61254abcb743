"""Discovery of the installed LV2 plugins through liblilv (Debian ``liblilv-0-0``), called with ctypes.

:func:`plugins` loads lilv's world once (``LV2_PATH`` or the standard locations) and returns plain
:class:`PluginInfo` records: URI, name, class, ports (audio, MIDI, control with range/default/unit),
the latency port, the required features and whether livehost can run the plugin (and if not, why).
Nothing here runs on the audio thread.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import difflib
import math
import re
import threading
from dataclasses import asdict, dataclass, field

from livehost.errors import LivehostError

LV2 = "http://lv2plug.in/ns/lv2core#"
ATOM = "http://lv2plug.in/ns/ext/atom#"
EVENT = "http://lv2plug.in/ns/ext/event#"
MIDI_EVENT = "http://lv2plug.in/ns/ext/midi#MidiEvent"
UNITS = "http://lv2plug.in/ns/extensions/units#"
PPROPS = "http://lv2plug.in/ns/ext/port-props#"
URID_MAP = "http://lv2plug.in/ns/ext/urid#map"
URID_UNMAP = "http://lv2plug.in/ns/ext/urid#unmap"
OPTIONS = "http://lv2plug.in/ns/ext/options#options"
BUFSZ = "http://lv2plug.in/ns/ext/buf-size#"
WORKER_SCHEDULE = "http://lv2plug.in/ns/ext/worker#schedule"
WORKER_INTERFACE = "http://lv2plug.in/ns/ext/worker#interface"
LOAD_DEFAULT_STATE = "http://lv2plug.in/ns/ext/state#loadDefaultState"

ATOM_SEQUENCE = ATOM + "Sequence"

#: features livehost provides: the URID map/unmap (called at instantiate time, see livehost.lv2.host),
#: options (block lengths, sample rate, atom buffer size), the worker (a compiled schedule_work, work()
#: on a non-real-time thread), the plugin's default state restored after instantiation, and properties
#: it meets by construction (separate input and output buffers, blocks never longer than the engine's,
#: a real-time run)
PROVIDED = frozenset({
    URID_MAP, URID_UNMAP, OPTIONS, BUFSZ + "boundedBlockLength", WORKER_SCHEDULE, LOAD_DEFAULT_STATE,
    LV2 + "hardRTCapable", LV2 + "inPlaceBroken", LV2 + "isLive",
})

#: unit URIs of the LV2 units extension -> the symbol shown (units.ttl's symbols)
UNIT_SYMBOLS = {
    "db": "dB", "hz": "Hz", "khz": "kHz", "mhz": "MHz", "ms": "ms", "s": "s", "min": "min",
    "pc": "%", "coef": "", "midiNote": "note", "semitone12TET": "st", "cent": "cents", "oct": "oct",
    "bpm": "bpm", "beat": "beats", "bar": "bars", "frame": "frames", "degree": "deg", "m": "m",
    "cm": "cm", "mm": "mm", "km": "km", "inch": "in", "mile": "mi",
}


class Lv2Error(LivehostError):
    """LV2 is unavailable (no liblilv), or a plugin is unknown or cannot be run: one line."""

    option: str | None = None  #: the node option at fault when it is not ``uri`` (``preset``)


@dataclass
class ControlPort:
    """One control port: ``index`` in the plugin, ``symbol`` (its parameter name), ``name``, ``min``,
    ``max`` and ``default`` in the port's own unit (None where the plugin gives none), ``unit`` (a
    symbol such as ``dB``, ``""`` if none), properties (``toggled``, ``integer``, ``enumeration``,
    ``sample_rate``, ``logarithmic``), ``scale_points`` [(value, label)], ``output`` for output ports."""

    index: int
    symbol: str
    name: str
    min: float | None
    max: float | None
    default: float | None
    unit: str = ""
    toggled: bool = False
    integer: bool = False
    enumeration: bool = False
    sample_rate: bool = False
    logarithmic: bool = False
    scale_points: list = field(default_factory=list)
    output: bool = False


@dataclass
class FileProperty:
    """A file the plugin loads (a ``patch:writable`` property whose ``rdfs:range`` is ``atom:Path``: a
    sample, an impulse response): ``uri`` of the property, ``key`` (the node option naming the file in a
    patch), ``label`` (the plugin's name for it)."""

    uri: str
    key: str
    label: str


@dataclass
class PluginInfo:
    """One installed plugin, as lilv describes it (see :func:`plugins`)."""

    uri: str
    name: str
    plugin_class: str
    audio_in: list  # [(index, symbol)]
    audio_out: list
    midi_in: list
    midi_out: list
    controls: list  # ControlPort, inputs and outputs in port order
    latency_port: int | None  # index of the control output reporting latency (samples)
    required_features: list
    optional_ports: list  # indices of other ports (CV, event) marked connectionOptional: left unconnected
    other_ports: list  # [(index, symbol, kind)] ports that are neither audio nor control (atom, CV, event)
    atom_in: list = field(default_factory=list)  # [(index, symbol)] atom inputs (an empty sequence, or MIDI)
    atom_out: list = field(default_factory=list)  # [(index, symbol)] atom outputs (read by nobody yet)
    patch_in: int | None = None  # index of the atom input taking patch messages (patch:Set of files)
    files: list = field(default_factory=list)  # FileProperty: the files it loads (set by patch:Set)
    runnable: bool = True
    why_not: str = ""

    def to_json(self) -> dict:
        """The record as JSON-ready data."""
        return asdict(self)

    @property
    def control_inputs(self) -> list:
        """Control input ports in port order."""
        return [c for c in self.controls if not c.output]


_LIB = None
_WORLD = None
_CACHE: dict | None = None
_LOCK = threading.Lock()


def library():
    """The loaded liblilv (ctypes), with the signatures this module uses; Lv2Error if not installed."""
    global _LIB
    if _LIB is not None:
        return _LIB
    name = ctypes.util.find_library("lilv-0")
    if not name:
        raise Lv2Error("liblilv is not installed (Debian: apt-get install liblilv-0-0)")
    lib = ctypes.CDLL(name)
    P, B, U, D, S = ctypes.c_void_p, ctypes.c_bool, ctypes.c_uint32, ctypes.c_double, ctypes.c_char_p
    sigs = {
        "lilv_world_new": (P, []), "lilv_world_load_all": (None, [P]), "lilv_world_get_all_plugins": (P, [P]),
        "lilv_plugins_begin": (P, [P]), "lilv_plugins_is_end": (B, [P, P]), "lilv_plugins_get": (P, [P, P]),
        "lilv_plugins_next": (P, [P, P]), "lilv_plugins_get_by_uri": (P, [P, P]),
        "lilv_new_uri": (P, [P, S]), "lilv_node_free": (None, [P]), "lilv_node_as_uri": (S, [P]),
        "lilv_node_as_string": (S, [P]), "lilv_node_as_float": (ctypes.c_float, [P]),
        "lilv_node_is_float": (B, [P]), "lilv_node_is_int": (B, [P]), "lilv_node_is_uri": (B, [P]),
        "lilv_node_is_literal": (B, [P]),
        "lilv_plugin_get_uri": (P, [P]), "lilv_plugin_get_name": (P, [P]), "lilv_plugin_get_class": (P, [P]),
        "lilv_plugin_class_get_label": (P, [P]), "lilv_plugin_get_num_ports": (U, [P]),
        "lilv_plugin_get_port_by_index": (P, [P, U]), "lilv_port_is_a": (B, [P, P, P]),
        "lilv_port_get_symbol": (P, [P, P]), "lilv_port_get_name": (P, [P, P]),
        "lilv_port_get_range": (None, [P, P, ctypes.POINTER(P), ctypes.POINTER(P), ctypes.POINTER(P)]),
        "lilv_port_has_property": (B, [P, P, P]), "lilv_port_get": (P, [P, P, P]),
        "lilv_port_supports_event": (B, [P, P, P]),
        "lilv_port_get_scale_points": (P, [P, P]), "lilv_scale_points_free": (None, [P]),
        "lilv_scale_points_begin": (P, [P]), "lilv_scale_points_is_end": (B, [P, P]),
        "lilv_scale_points_get": (P, [P, P]), "lilv_scale_points_next": (P, [P, P]),
        "lilv_scale_point_get_label": (P, [P]), "lilv_scale_point_get_value": (P, [P]),
        "lilv_plugin_has_latency": (B, [P]), "lilv_plugin_get_latency_port_index": (U, [P]),
        "lilv_plugin_get_required_features": (P, [P]), "lilv_nodes_free": (None, [P]),
        "lilv_nodes_begin": (P, [P]), "lilv_nodes_is_end": (B, [P, P]), "lilv_nodes_get": (P, [P, P]),
        "lilv_nodes_next": (P, [P, P]), "lilv_world_get": (P, [P, P, P, P]),
        "lilv_plugin_instantiate": (P, [P, D, P]), "lilv_instance_free": (None, [P]),
        "lilv_plugin_get_related": (P, [P, P]), "lilv_world_load_resource": (ctypes.c_int, [P, P]),
        "lilv_state_new_from_world": (P, [P, P, P]), "lilv_state_free": (None, [P]),
        "lilv_state_emit_port_values": (None, [P, P, P]),
        # state (see livehost.lv2.host): save from / restore into an instance, as Turtle text
        "lilv_state_new_from_instance": (P, [P, P, P, S, S, S, S, P, P, U, P]),
        "lilv_state_new_from_string": (P, [P, P, S]), "lilv_state_to_string": (P, [P, P, P, P, S, S]),
        "lilv_state_restore": (None, [P, P, P, P, U, P]), "lilv_free": (None, [P]),
        "lilv_plugin_has_extension_data": (B, [P, P]), "lilv_state_get_plugin_uri": (P, [P]),
        "lilv_plugin_has_feature": (B, [P, P]), "lilv_plugin_get_value": (P, [P, P]),
    }
    for fn, (res, args) in sigs.items():
        f = getattr(lib, fn)
        f.restype = res
        f.argtypes = args
    _LIB = lib
    return lib


def world():
    """lilv's world with every installed bundle loaded (once per process)."""
    global _WORLD
    with _LOCK:
        if _WORLD is None:
            lib = library()
            w = lib.lilv_world_new()
            lib.lilv_world_load_all(w)
            _WORLD = w
        return _WORLD


_URIS: dict[str, int] = {}


def uri_node(uri: str) -> int:
    """A lilv URI node for ``uri`` (kept for the process's life)."""
    if uri not in _URIS:
        _URIS[uri] = library().lilv_new_uri(world(), uri.encode())
    return _URIS[uri]


def _str(node) -> str:
    return library().lilv_node_as_string(node).decode("utf-8", "replace") if node else ""


def _num(node) -> float | None:
    lib = library()
    if not node or not (lib.lilv_node_is_float(node) or lib.lilv_node_is_int(node)):
        return None
    x = float(lib.lilv_node_as_float(node))
    return x if math.isfinite(x) else None


def _nodes(coll) -> list[str]:
    lib = library()
    out = []
    it = lib.lilv_nodes_begin(coll)
    while not lib.lilv_nodes_is_end(coll, it):
        out.append(_str(lib.lilv_nodes_get(coll, it)))
        it = lib.lilv_nodes_next(coll, it)
    return out


def _unit(plug, port) -> str:
    lib = library()
    node = lib.lilv_port_get(plug, port, uri_node(UNITS + "unit"))
    if not node:
        return ""
    try:
        if lib.lilv_node_is_uri(node):
            u = _str(node)
            if u.startswith(UNITS):
                return UNIT_SYMBOLS.get(u[len(UNITS):], "")
        # a custom unit: its units:symbol, if the plugin gives one
        sym = lib.lilv_world_get(world(), node, uri_node(UNITS + "symbol"), None)
        if sym:
            s = _str(sym)
            lib.lilv_node_free(sym)
            return s
        return ""
    finally:
        lib.lilv_node_free(node)


def _scale_points(plug, port) -> list:
    lib = library()
    sps = lib.lilv_port_get_scale_points(plug, port)
    if not sps:
        return []
    out = []
    it = lib.lilv_scale_points_begin(sps)
    while not lib.lilv_scale_points_is_end(sps, it):
        sp = lib.lilv_scale_points_get(sps, it)
        v = _num(lib.lilv_scale_point_get_value(sp))
        if v is not None:
            out.append((v, _str(lib.lilv_scale_point_get_label(sp))))
        it = lib.lilv_scale_points_next(sps, it)
    lib.lilv_scale_points_free(sps)
    return sorted(out)


def _describe(plug) -> PluginInfo:
    lib = library()
    is_a = lambda port, cls: lib.lilv_port_is_a(plug, port, uri_node(cls))  # noqa: E731
    prop = lambda port, p: lib.lilv_port_has_property(plug, port, uri_node(p))  # noqa: E731
    name_node = lib.lilv_plugin_get_name(plug)
    name = _str(name_node)
    lib.lilv_node_free(name_node)
    cls = lib.lilv_plugin_get_class(plug)
    info = PluginInfo(
        uri=_str(lib.lilv_plugin_get_uri(plug)), name=name,
        plugin_class=_str(lib.lilv_plugin_class_get_label(cls)) if cls else "",
        audio_in=[], audio_out=[], midi_in=[], midi_out=[], controls=[], latency_port=None,
        required_features=[], optional_ports=[], other_ports=[], atom_in=[], atom_out=[])
    if lib.lilv_plugin_has_latency(plug):
        info.latency_port = int(lib.lilv_plugin_get_latency_port_index(plug))
    req = lib.lilv_plugin_get_required_features(plug)
    if req:
        info.required_features = _nodes(req)
        lib.lilv_nodes_free(req)
    problems = []
    for i in range(int(lib.lilv_plugin_get_num_ports(plug))):
        port = lib.lilv_plugin_get_port_by_index(plug, i)
        sym = _str(lib.lilv_port_get_symbol(plug, port))
        out = is_a(port, LV2 + "OutputPort")
        if is_a(port, LV2 + "AudioPort"):
            (info.audio_out if out else info.audio_in).append((i, sym))
        elif is_a(port, LV2 + "ControlPort"):
            d, lo, hi = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_void_p()
            lib.lilv_port_get_range(plug, port, ctypes.byref(d), ctypes.byref(lo), ctypes.byref(hi))
            vals = [_num(x.value) for x in (d, lo, hi)]
            for x in (d, lo, hi):
                if x.value:
                    lib.lilv_node_free(x.value)
            pname = lib.lilv_port_get_name(plug, port)
            info.controls.append(ControlPort(
                index=i, symbol=sym, name=_str(pname), min=vals[1], max=vals[2], default=vals[0],
                unit=_unit(plug, port), toggled=prop(port, LV2 + "toggled"), integer=prop(port, LV2 + "integer"),
                enumeration=prop(port, LV2 + "enumeration"), sample_rate=prop(port, LV2 + "sampleRate"),
                logarithmic=prop(port, PPROPS + "logarithmic"), scale_points=_scale_points(plug, port),
                output=out))
            lib.lilv_node_free(pname)
        else:
            midi = lib.lilv_port_supports_event(plug, port, uri_node(MIDI_EVENT))
            kind = "atom" if is_a(port, ATOM + "AtomPort") else "event" if is_a(port, EVENT + "EventPort") else (
                "cv" if is_a(port, LV2 + "CVPort") else "unknown")
            if midi and kind in ("atom", "event"):
                (info.midi_out if out else info.midi_in).append((i, sym))
            info.other_ports.append((i, sym, kind))
            if kind == "atom":  # connected: the first MIDI input gets the block's events, others stay empty
                (info.atom_out if out else info.atom_in).append((i, sym))
            elif prop(port, LV2 + "connectionOptional"):
                info.optional_ports.append(i)
            else:
                problems.append(f"port '{sym}' is a{'n' if kind[0] in 'aeiou' else ''} {kind} port "
                                f"(livehost connects audio, control and atom ports)")
    _files(plug, info)
    missing = [f for f in info.required_features if f not in PROVIDED]
    if missing:
        problems.insert(0, "needs host feature" + ("s " if len(missing) > 1 else " ") + ", ".join(missing))
    if not info.audio_out:
        problems.append("has no audio output")

    if problems:
        info.runnable = False
        info.why_not = "; ".join(problems)
    return info


PATCH = "http://lv2plug.in/ns/ext/patch#"
RDFS_RANGE = "http://www.w3.org/2000/01/rdf-schema#range"
#: option keys a file property cannot take (the node's own settings and the common parameters)
_TAKEN_KEYS = ("uri", "preset", "state", "wet", "bypass", "type", "id")


def _files(plug, info: PluginInfo) -> None:
    """Fill ``info.files`` (the plugin's writable ``atom:Path`` properties) and ``info.patch_in`` (the
    atom input that takes ``patch:Message``, else its MIDI input, else its first atom input)."""
    lib = library()
    for idx, _sym in info.atom_in:
        port = lib.lilv_plugin_get_port_by_index(plug, idx)
        if lib.lilv_port_supports_event(plug, port, uri_node(PATCH + "Message")):
            info.patch_in = idx
            break
    else:
        info.patch_in = info.midi_in[0][0] if info.midi_in else (info.atom_in[0][0] if info.atom_in else None)
    writable = lib.lilv_plugin_get_value(plug, uri_node(PATCH + "writable"))
    if not writable:
        return
    taken = set(_TAKEN_KEYS) | {c.symbol for c in info.controls}
    for prop in _nodes(writable):
        rng = lib.lilv_world_get(world(), uri_node(prop), uri_node(RDFS_RANGE), None)
        is_path = bool(rng) and _str(rng) == ATOM + "Path"
        if rng:
            lib.lilv_node_free(rng)
        if not is_path:
            continue
        lab = lib.lilv_world_get(world(), uri_node(prop), uri_node(RDFS_LABEL), None)
        label = _str(lab) if lab else ""
        if lab:
            lib.lilv_node_free(lab)
        key = re.sub(r"[^a-z0-9_]+", "_", (label or re.split(r"[#/]", prop.rstrip("/#"))[-1]).lower()).strip("_")
        key = key or "file"
        while key in taken:
            key += "_file"
        taken.add(key)
        info.files.append(FileProperty(prop, key, label or key))
    lib.lilv_nodes_free(writable)


def plugins() -> dict[str, PluginInfo]:
    """Every installed plugin by URI (read once per process; lilv's order, which is by URI)."""
    global _CACHE
    if _CACHE is not None:
        return _CACHE
    lib = library()
    w = world()
    coll = lib.lilv_world_get_all_plugins(w)
    out = {}
    it = lib.lilv_plugins_begin(coll)
    while not lib.lilv_plugins_is_end(coll, it):
        info = _describe(lib.lilv_plugins_get(coll, it))
        out[info.uri] = info
        it = lib.lilv_plugins_next(coll, it)
    _CACHE = out
    return out


def plugin(uri: str) -> PluginInfo:
    """The installed plugin ``uri``; Lv2Error (one line, with a suggestion) if there is none."""
    found = plugins()
    if uri not in found:
        close = difflib.get_close_matches(uri, list(found), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise Lv2Error(f"no LV2 plugin '{uri}' is installed{hint}")
    return found[uri]


def lilv_plugin(uri: str):
    """lilv's plugin object for ``uri`` (for instantiating it); Lv2Error if unknown."""
    plugin(uri)
    lib = library()
    p = lib.lilv_plugins_get_by_uri(lib.lilv_world_get_all_plugins(world()), uri_node(uri))
    if not p:
        raise Lv2Error(f"no LV2 plugin '{uri}' is installed")
    return p


PSET = "http://lv2plug.in/ns/ext/presets#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
_PRESETS: dict[str, dict[str, str]] = {}


def presets(uri: str) -> dict[str, str]:
    """The presets of plugin ``uri``: label -> preset URI (label order); {} if it has none."""
    if uri not in _PRESETS:
        lib = library()
        w = world()
        related = lib.lilv_plugin_get_related(lilv_plugin(uri), uri_node(PSET + "Preset"))
        found = {}
        if related:
            it = lib.lilv_nodes_begin(related)
            while not lib.lilv_nodes_is_end(related, it):
                node = lib.lilv_nodes_get(related, it)
                lib.lilv_world_load_resource(w, node)
                label = lib.lilv_world_get(w, node, uri_node(RDFS_LABEL), None)
                found[_str(label) if label else _str(node)] = _str(node)
                if label:
                    lib.lilv_node_free(label)
                it = lib.lilv_nodes_next(related, it)
            lib.lilv_nodes_free(related)
        _PRESETS[uri] = dict(sorted(found.items()))
    return _PRESETS[uri]


def preset_uri(uri: str, preset: str) -> str:
    """The URI of plugin ``uri``'s preset named ``preset`` (its label or its URI); Lv2Error if none."""
    found = presets(uri)
    if preset in found:
        return found[preset]
    if preset in found.values():
        return preset
    close = difflib.get_close_matches(preset, list(found), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else (" (it has none)" if not found else "")
    raise Lv2Error(f"plugin '{uri}' has no preset '{preset}'{hint}")


def search(text: str | None) -> list[PluginInfo]:
    """Plugins whose URI, name or class contains ``text`` (case-insensitive); all if ``text`` is empty."""
    items = list(plugins().values())
    if not text:
        return items
    t = text.lower()
    return [p for p in items if t in p.uri.lower() or t in p.name.lower() or t in p.plugin_class.lower()]
