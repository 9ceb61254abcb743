"""The ``[midi]`` section of a patch: port, virtual port, API, CC -> parameter maps, program changes.

Patch format::

    [midi]
    port = "Keystation"        # substring of the port name (case-insensitive), or a regular expression
    virtual = "livehost in"    # also open a virtual input port with this name (true = "livehost")
    api = "auto"               # "auto", "jack" or "alsa"

    [[midi.map]]
    cc = 74                    # controller number 0..127
    channel = 1                # optional, 1..16 (absent: any channel)
    target = "synth.cutoff_hz" # node_id.param
    min = 200.0                # optional, default: the parameter's lower bound
    max = 8000.0               # optional, default: the parameter's upper bound
    curve = "exp"              # "linear" (default), "exp" or "log"

    [midi.programs]
    "0" = "patches/pad.toml"   # program change 0 switches to this patch

This is part of the patch format (:mod:`livehost.patch` validates a patch's ``[midi]`` with it); what a
map does with a controller at run time (curves, MIDI learn) is :mod:`livehost.midi.mapping`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from livehost.errors import LivehostError
from livehost.nodes.declare import all_params, suggest

CURVES = ("linear", "exp", "log")
APIS = ("auto", "jack", "alsa")
TARGET_RE = re.compile(r"^([A-Za-z0-9_\-]+)\.([A-Za-z0-9_.]+)$")


class MidiConfigError(LivehostError):
    """An invalid ``[midi]`` section: ``field_path`` (e.g. ``("midi", "map", 2, "cc")``) and a message."""

    def __init__(self, field_path: tuple, message: str):
        self.field_path = tuple(field_path)
        self.message = message
        super().__init__(f"{_label(self.field_path)} {message}")


def _label(path: tuple) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


@dataclass
class MidiMap:
    """One CC -> parameter mapping. cc: 0..127; channel: 0..15 or None (any); target ``node.param``;
    lo/hi: output range in the parameter's unit (None: the parameter's range); curve: linear/exp/log."""

    cc: int
    target: str
    channel: int | None = None
    lo: float | None = None
    hi: float | None = None
    curve: str = "linear"

    @property
    def node(self) -> str:
        """The target node id."""
        return self.target.split(".", 1)[0]

    @property
    def param(self) -> str:
        """The target parameter name."""
        return self.target.split(".", 1)[1]

    def matches(self, channel: int, cc: int) -> bool:
        """True if a CC ``cc`` on ``channel`` (0..15) drives this map."""
        return cc == self.cc and (self.channel is None or self.channel == channel)

    def to_table(self) -> dict:
        """The ``[[midi.map]]`` table for this map (channel 1..16 as in patches)."""
        t = {"cc": self.cc, "target": self.target}
        if self.channel is not None:
            t["channel"] = self.channel + 1
        if self.lo is not None:
            t["min"] = self.lo
        if self.hi is not None:
            t["max"] = self.hi
        if self.curve != "linear":
            t["curve"] = self.curve
        return t


@dataclass
class MidiConfig:
    """A validated ``[midi]`` section. port: name substring/regex or None; virtual: virtual port name or
    None; api: auto/jack/alsa; maps: CC maps; programs: program number (0..127) -> patch path;
    tap_cc: the controller (0..127, a footswitch) whose presses (value >= 64 after < 64) tap the tempo."""

    port: str | None = None
    virtual: str | None = None
    api: str = "auto"
    maps: list[MidiMap] = field(default_factory=list)
    programs: dict[int, str] = field(default_factory=dict)
    tap_cc: int | None = None

    def program_path(self, program: int) -> str | None:
        """The patch listed for program change ``program`` (0..127), or None."""
        return self.programs.get(int(program))


def _int(v, path, lo, hi, what):
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise MidiConfigError(path, f"= {v!r} must be {what} ({lo}..{hi})")
    return v


def _num(v, path):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise MidiConfigError(path, f"= {v!r} must be a number")
    return float(v)


def parse_map(t, path: tuple, nodes: dict | None = None) -> MidiMap:
    """Validate one ``[[midi.map]]`` table (``path`` names it in errors). nodes: optional node id ->
    NodeType, to check that the target exists and that min/max lie in the parameter's range."""
    if not isinstance(t, dict):
        raise MidiConfigError(path, "must be a table with cc and target")
    for k in t:
        if k not in ("cc", "channel", "target", "min", "max", "curve"):
            raise MidiConfigError(path + (k,), "is not a known field (cc, channel, target, min, max, curve)")
    if "cc" not in t:
        raise MidiConfigError(path + ("cc",), "is missing (a controller number 0..127)")
    if "target" not in t:
        raise MidiConfigError(path + ("target",), "is missing (\"node_id.param\")")
    cc = _int(t["cc"], path + ("cc",), 0, 127, "a controller number")
    ch = None
    if "channel" in t:
        ch = _int(t["channel"], path + ("channel",), 1, 16, "a MIDI channel") - 1
    target = t["target"]
    if not isinstance(target, str) or not TARGET_RE.match(target):
        raise MidiConfigError(path + ("target",), f"= {target!r} must be \"node_id.param\"")
    lo = _num(t["min"], path + ("min",)) if "min" in t else None
    hi = _num(t["max"], path + ("max",)) if "max" in t else None
    curve = t.get("curve", "linear")
    if curve not in CURVES:
        raise MidiConfigError(path + ("curve",), f"= {curve!r} is not one of {', '.join(CURVES)}")
    m = MidiMap(cc, target, ch, lo, hi, curve)
    if nodes is not None:
        nt = nodes.get(m.node)
        if nt is None:
            raise MidiConfigError(path + ("target",), f"= {target!r}: no node '{m.node}'{suggest(m.node, list(nodes))}")
        names = [p.name for p in all_params(nt)]
        if m.param not in names:
            raise MidiConfigError(path + ("target",),
                                  f"= {target!r}: {nt.name} has no parameter '{m.param}'{suggest(m.param, names)}")
        p = nt.param(m.param)
        for key, v in (("min", lo), ("max", hi)):
            if v is not None and p.kind == "float" and not p.lo <= v <= p.hi:
                raise MidiConfigError(path + (key,), f"= {v:g} is outside {m.param}'s range {p.lo:g}..{p.hi:g}")
    return m


def parse_midi_section(table: dict, nodes: dict | None = None) -> MidiConfig:
    """Validate a patch's ``[midi]`` table into a :class:`MidiConfig`; raises :class:`MidiConfigError`
    with the path of the offending field (the caller adds file and line).

    nodes: optional node id -> NodeType of the patch, to check map targets.
    """
    base = ("midi",)
    if not isinstance(table, dict):
        raise MidiConfigError(base, "must be a table")
    cfg = MidiConfig()
    for k in table:
        if k not in ("port", "virtual", "api", "map", "programs", "tap_cc"):
            raise MidiConfigError(base + (k,), "is not a known field (port, virtual, api, map, programs, tap_cc)")
    if "port" in table:
        p = table["port"]
        if not isinstance(p, str) or not p:
            raise MidiConfigError(base + ("port",), f"= {p!r} must be a port name or pattern")
        cfg.port = p
    if "virtual" in table:
        v = table["virtual"]
        if v is True:
            cfg.virtual = "livehost"
        elif v is False:
            cfg.virtual = None
        elif isinstance(v, str) and v:
            cfg.virtual = v
        else:
            raise MidiConfigError(base + ("virtual",), f"= {v!r} must be a port name or true/false")
    if "tap_cc" in table:
        c = table["tap_cc"]
        if isinstance(c, bool) or not isinstance(c, int) or not 0 <= c <= 127:
            raise MidiConfigError(base + ("tap_cc",), f"= {c!r} must be a controller number 0..127")
        cfg.tap_cc = c
    if "api" in table:
        if table["api"] not in APIS:
            raise MidiConfigError(base + ("api",), f"= {table['api']!r} is not one of {', '.join(APIS)}")
        cfg.api = table["api"]
    maps = table.get("map", [])
    if isinstance(maps, dict):
        maps = [maps]
    if not isinstance(maps, list):
        raise MidiConfigError(base + ("map",), "must be an array of tables ([[midi.map]])")
    seen = {}
    for i, t in enumerate(maps):
        m = parse_map(t, base + ("map", i), nodes)
        key = (m.cc, m.channel)
        if key in seen:
            raise MidiConfigError(base + ("map", i, "cc"),
                                  f"= {m.cc} on the same channel is mapped already by map {seen[key]}")
        seen[key] = i
        cfg.maps.append(m)
    progs = table.get("programs", {})
    if not isinstance(progs, dict):
        raise MidiConfigError(base + ("programs",), "must be a table (\"0\" = \"patches/x.toml\")")
    for k, v in progs.items():
        try:
            n = int(k)
        except (TypeError, ValueError):
            n = -1
        if isinstance(k, bool) or not 0 <= n <= 127:
            raise MidiConfigError(base + ("programs", str(k)), "must be a program number 0..127")
        if not isinstance(v, str) or not v:
            raise MidiConfigError(base + ("programs", str(k)), f"= {v!r} must be a patch file name")
        cfg.programs[n] = v
    return cfg
