"""Patch files: TOML data describing a graph, validated against the node declarations.

A patch is data, never code: it is parsed with :mod:`tomllib`, checked field by field against the
declared parameters, and any problem is one :class:`~livehost.errors.PatchError` naming the file, the
line and the field (``patches/x.toml:12: chain[2].feedback = 1.7 is outside 0..0.99``). Saving writes a
temporary file beside the target and renames it over, so an interrupted save never loses the old file.

Format (version 1)::

    [patch]     name, format = 1, samplerate, blocksize
    [input]     source = "mic" | "file" | "none", file, loop, start_s, gain_db,
                channels = [L] or [L, R] (1-based device input channels feeding the graph: [1] a mono
                mic on channel 1 to both sides, [2, 1] swapped; default [1, 2], a mono device to both)
    [[chain]]   type, id, parameters...            (effect nodes, in order)
    [[chain]]   type = "layer", id, wet, bypass,  [[chain.branches]] gain_db + [[chain.branches.chain]]
    [master]    gain_db, ceiling_db, release_ms, mute
    [synth] [midi] [tuning] [models]   reserved for the synth, MIDI and model sections
    [tempo]     bpm (the session tempo, 20..400), source = "clock" (follow incoming MIDI clock)

A node type's ``state`` option (an LV2 plugin's own state, LV2 State extension) names a file beside the
patch (``state = "<patch>.<node id>.state.ttl"``): loading reads its text into the option, saving writes
it (atomically) before the patch.

A parameter declared with ``sync`` (delay times, LFO rates) may be a note division instead of a number
(``time_ms = "1/8."``, ``rate_hz = "1/4t"``): the patch keeps the division as written, and the engine
gets its value at the session tempo (:meth:`Patch.engine_chain`, :func:`synced_params`).
    [osc]       port (0..65535, 0 = any free port), host (the address to listen on, default 127.0.0.1)
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser as the tomli package (a dependency there)
    import tomli as tomllib

from livehost.engine.graph import BRANCH_GAIN, LAYER_PARAMS
from livehost.atomic import write_text_atomic
from livehost.errors import LivehostError, PatchError
from livehost.nodes import load_all
from livehost.nodes.declare import Param, all_params, resolve, suggest
from livehost.patch_midi import MidiConfigError, parse_midi_section
from livehost.tempo import BPM_MAX, BPM_MIN, DEFAULT_BPM
from livehost.tuning import tuning_from_keys

FORMAT_VERSION = 1
SAMPLERATES = (22050, 44100, 48000, 88200, 96000)
BLOCK_MIN, BLOCK_MAX = 32, 1024
MAX_INPUT_CHANNEL = 64  # highest device input channel an [input] channels entry may name (1-based)
RESERVED_SECTIONS = ("synth", "midi", "tuning", "models", "tempo", "osc")
TOP_KEYS = ("patch", "input", "chain", "master") + RESERVED_SECTIONS
INPUT_SOURCES = ("mic", "file", "none")
STATE_OPTION = "state"  #: a node option naming a file beside the patch that holds the node's own state
ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,63}$")


@dataclass
class NodeSpec:
    """A node in a patch: its type, id, parameter values (patch units) and the type's non-parameter
    options (an ``lv2`` node's ``uri``)."""

    type: str
    id: str
    values: dict
    options: dict = field(default_factory=dict)


@dataclass
class LayerSpec:
    """A layer in a patch: id, its wet/bypass values and its branches ``[(gain_db, [items])]``."""

    id: str
    values: dict
    branches: list


@dataclass
class Patch:
    """A validated patch."""

    name: str = "untitled"
    samplerate: int = 48000
    blocksize: int = 128
    input: dict = field(default_factory=lambda: {"source": "mic"})
    chain: list = field(default_factory=list)
    master: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)  # reserved sections, kept verbatim
    synth: dict | None = None  # {"values": {...}, "tuning": ..., the other SYNTH_KEYS given}
    path: str | None = None

    def engine_chain(self, bpm: float | None = None) -> list:
        """The chain as the tuples :meth:`livehost.engine.engine.Engine.build` takes, note divisions
        turned into numbers at ``bpm`` (beats per minute; default the patch's ``[tempo] bpm``)."""
        return _engine_items(self.chain, self.bpm if bpm is None else bpm)

    def synth_values(self, bpm: float | None = None) -> dict:
        """The ``[synth]`` parameter values, note divisions turned into numbers at ``bpm`` (default
        the patch's tempo); ``{}`` without a synth."""
        if self.synth is None:
            return {}
        return resolve_divisions(self.synth["values"], load_all()["synth"], self.bpm if bpm is None else bpm)

    @property
    def bpm(self) -> float:
        """The patch's tempo: ``[tempo] bpm``, else the default (120 bpm)."""
        return float((self.extra.get("tempo") or {}).get("bpm", DEFAULT_BPM))


def followed(node_type, values: dict) -> dict[str, str]:
    """``{parameter: division}`` of ``node_type``'s parameters declared with ``follow`` (a looper's
    beat) that ``values`` leaves out: they follow the session tempo at that division."""
    return {q.name: q.follow for q in node_type.params if q.follow and q.name not in values}


def resolve_divisions(values: dict, node_type, bpm: float) -> dict:
    """``values`` (a node's patch values) with every note division (a string given to a parameter
    declared with ``sync``, or left out of one declared with ``follow``) replaced by its number at
    ``bpm`` beats per minute."""
    out = {**followed(node_type, values), **values}
    for k, v in list(out.items()):
        if isinstance(v, str) and _syncable(node_type, k):
            out[k] = node_type.param(k).synced(v, bpm)
    return out


def node_specs(items: list):
    """Every :class:`NodeSpec` of a chain, in order, layers' branches included (depth first)."""
    for it in items:
        if isinstance(it, NodeSpec):
            yield it
        else:
            for _, chain in it.branches:
                yield from node_specs(chain)


def _syncable(node_type, name: str) -> bool:
    """Whether ``node_type`` declares ``name`` as a parameter that takes note divisions (a plugin node's
    parameters come from its plugin, not the generic type: never)."""
    return any(q.name == name and q.sync for q in node_type.params)


def synced_params(p: "Patch") -> dict[tuple[str, str], str]:
    """``{(node id, parameter): division}`` for every parameter the patch gives as a note division
    (chain, layers' branches and ``[synth]``), and every one declared with ``follow`` it leaves out."""
    reg = load_all()
    out: dict[tuple[str, str], str] = {}
    for it in node_specs(p.chain):
        nt = reg[it.type]
        values = {**followed(nt, it.values), **it.values}
        out.update({(it.id, k): v for k, v in values.items() if isinstance(v, str) and _syncable(nt, k)})
    if p.synth is not None:
        sid = p.synth.get("id", "synth")
        out.update({(sid, k): v for k, v in p.synth["values"].items()
                    if isinstance(v, str) and reg["synth"].param(k).sync})
    return out


def put_divisions(p: "Patch", divisions: dict[tuple[str, str], str]) -> None:
    """Write ``{(node id, parameter): division}`` back into ``p``'s node values (in place), so a
    saved patch keeps the divisions as they were written; ids ``p`` lacks are skipped. A parameter that
    follows its declared ``follow`` division is left out, as a default is."""
    reg = load_all()
    for it in node_specs(p.chain):
        for (nid, k), d in divisions.items():
            if nid == it.id:
                if followed(reg[it.type], {}).get(k) == d:
                    it.values.pop(k, None)
                else:
                    it.values[k] = d
    if p.synth is not None:
        sid = p.synth.get("id", "synth")
        for (nid, k), d in divisions.items():
            if nid == sid:
                p.synth["values"][k] = d


def _engine_items(items: list, bpm: float) -> list:
    reg = load_all()
    out = []
    for it in items:
        if isinstance(it, NodeSpec):
            out.append(("node", it.type, it.id, resolve_divisions(it.values, reg[it.type], bpm))
                       + ((dict(it.options),) if it.options else ()))
        else:
            out.append(("layer", it.id, dict(it.values), [(g, _engine_items(ch, bpm)) for g, ch in it.branches]))
    return out


# ---- locating fields in the text (tomllib gives no positions) ------------------------------------
_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"'.]+)\s*=")


def locate(text: str) -> dict[tuple, int]:
    """Map field paths (``("chain", 2, "feedback")``) and table paths to 1-based line numbers."""
    where: dict[tuple, int] = {}
    counts: dict[tuple, int] = {}
    table: tuple = ()
    for ln, line in enumerate(text.split("\n"), 1):  # TOML's lines end at \n only (not \x85, \u2028)
        line = line.removesuffix("\r")
        m = _HEADER.match(line)
        if m and not _KEY.match(line):
            parts = [p.strip().strip('"').strip("'") for p in m.group(2).split(".")]
            path: list = []
            for k, part in enumerate(parts):
                path.append(part)
                last = k == len(parts) - 1
                if last and m.group(1) == "[[":
                    key = tuple(path)
                    counts[key] = counts.get(key, -1) + 1
                    path.append(counts[key])
                elif tuple(path) in counts:
                    path.append(counts[tuple(path)])
            table = tuple(path)
            where.setdefault(table, ln)
            continue
        m = _KEY.match(line)
        if m:
            keys = tuple(k.strip('"').strip("'") for k in m.group(1).split("."))
            where.setdefault(table + keys, ln)
    return where


class _Ctx:
    def __init__(self, path: str, text: str):
        self.path = path
        self.where = locate(text)

    def line(self, fpath: tuple) -> int | None:
        p = tuple(fpath)
        while p:
            if p in self.where:
                return self.where[p]
            p = p[:-1]
        return None

    def fail(self, fpath: tuple, field_name: str | None, message: str):
        raise PatchError(self.path, self.line(fpath), field_name, message)


def _label(fpath: tuple) -> str:
    out = ""
    for p in fpath:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out


# ---- migrations ---------------------------------------------------------------------------------
def _migrate_0_to_1(doc: dict) -> dict:
    """Version 0 (the first sketches) called the chain ``effects`` and had no ``[master]``."""
    if "effects" in doc and "chain" not in doc:
        doc["chain"] = doc.pop("effects")
    doc.setdefault("patch", {})["format"] = 1
    return doc


MIGRATIONS = {0: _migrate_0_to_1}


# ---- loading ------------------------------------------------------------------------------------
def load(path: str | os.PathLike) -> Patch:
    """Read and validate a patch file. Raises :class:`PatchError` (file:line: field message)."""
    path = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise PatchError(path, None, None, f"cannot be read: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise PatchError(path, line, None, "is not UTF-8 text") from None
    return loads(text, path)


def loads(text: str, path: str = "<patch>") -> Patch:
    """Validate patch ``text`` (named ``path`` in errors) and return a :class:`Patch`."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = re.search(r"\(at line (\d+), column \d+\)", msg)
        line = int(m.group(1)) if m else None
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg).rstrip(".")
        raise PatchError(path, line, None, f"is not valid TOML: {msg}") from None
    except (ValueError, RecursionError) as e:
        raise PatchError(path, None, None, f"is not valid TOML: {e}") from None
    ctx = _Ctx(path, text)
    return _validate(doc, ctx)


def _validate(doc: dict, ctx: _Ctx) -> Patch:
    head = doc.get("patch", {})
    if not isinstance(head, dict):
        ctx.fail(("patch",), "patch", "must be a table")
    fmt = head.get("format", FORMAT_VERSION)
    if isinstance(fmt, bool) or not isinstance(fmt, int):
        ctx.fail(("patch", "format"), "patch.format", f"= {fmt!r} must be an integer")
    if fmt > FORMAT_VERSION:
        ctx.fail(("patch", "format"), "patch.format",
                 f"= {fmt} is newer than this livehost understands ({FORMAT_VERSION}); upgrade livehost")
    while fmt < FORMAT_VERSION:
        if fmt not in MIGRATIONS:
            ctx.fail(("patch", "format"), "patch.format", f"= {fmt} has no migration path")
        doc = MIGRATIONS[fmt](doc)
        fmt += 1
        head = doc.get("patch", {})
    for k in doc:
        if k not in TOP_KEYS:
            ctx.fail((k,), k, f"is not a patch section{suggest(k, TOP_KEYS)}")
    p = Patch(path=ctx.path)
    _check_keys(ctx, head, ("patch",), ("name", "format", "samplerate", "blocksize"))
    name = head.get("name", Path(ctx.path).stem if ctx.path else "untitled")
    if not isinstance(name, str):
        ctx.fail(("patch", "name"), "patch.name", f"= {name!r} must be a string")
    p.name = name
    sr = head.get("samplerate", 48000)
    if isinstance(sr, bool) or not isinstance(sr, int) or sr not in SAMPLERATES:
        ctx.fail(("patch", "samplerate"), "patch.samplerate",
                 f"= {sr!r} is not one of {', '.join(map(str, SAMPLERATES))}")
    p.samplerate = sr
    bs = head.get("blocksize", 128)
    if isinstance(bs, bool) or not isinstance(bs, int) or not BLOCK_MIN <= bs <= BLOCK_MAX:
        ctx.fail(("patch", "blocksize"), "patch.blocksize", f"= {bs!r} is outside {BLOCK_MIN}..{BLOCK_MAX}")
    p.blocksize = bs
    p.input = _validate_input(ctx, doc.get("input", {"source": "mic"}))
    chain = doc.get("chain", [])
    if not isinstance(chain, list):
        ctx.fail(("chain",), "chain", "must be an array of tables ([[chain]])")
    ids: set[str] = set()
    p.chain = _validate_chain(ctx, chain, ("chain",), ids, 0)
    master = doc.get("master", {})
    if not isinstance(master, dict):
        ctx.fail(("master",), "master", "must be a table")
    mparams = [q for q in all_params(load_all()["master"]) if q.name not in ("wet", "bypass")]
    p.master = _validate_values(ctx, master, ("master",), "master", mparams, allowed_extra=())
    if "synth" in doc:
        p.synth = _validate_synth(ctx, doc["synth"])
    if "midi" in doc:
        _validate_midi(ctx, doc["midi"], p)
    if "models" in doc:
        _validate_models(ctx, doc["models"])
    if "tempo" in doc:
        _validate_tempo(ctx, doc["tempo"])
    if "osc" in doc:
        _validate_osc(ctx, doc["osc"])
    for sec in RESERVED_SECTIONS:
        if sec in doc and sec != "synth":
            p.extra[sec] = doc[sec]
    return p


MODEL_KEYS = ("classifier", "generator")


def node_types(p: Patch) -> dict:
    """Node id -> :class:`~livehost.nodes.declare.NodeType` of every node a patch builds (chain, layers'
    branches, synth, generator, master), for checking ``node.param`` targets."""
    reg = load_all()
    out = {"master": reg["master"]}
    for it in node_specs(p.chain):
        out[it.id] = resolve(reg[it.type], it.options)
    if p.synth is not None:
        out[p.synth.get("id", "synth")] = reg["synth"]
    if "generator" in reg:
        out["generator"] = reg["generator"]
    return out


def _validate_midi(ctx: _Ctx, table, p: Patch) -> None:
    """``[midi]``: port, virtual port, API, ``[[midi.map]]`` CC maps (targets checked), ``[midi.programs]``."""
    try:
        parse_midi_section(table, node_types(p))
    except MidiConfigError as e:
        ctx.fail(e.field_path, _label(e.field_path), e.message)


def _validate_models(ctx: _Ctx, table) -> None:
    """``[models]``: ``classifier`` and ``generator``, each an ONNX file path (checked when loaded)."""
    if not isinstance(table, dict):
        ctx.fail(("models",), "models", "must be a table")
    for k, v in table.items():
        if k not in MODEL_KEYS:
            ctx.fail(("models", k), f"models.{k}", f"is not a model slot{suggest(k, MODEL_KEYS)}")
        if not isinstance(v, str) or not v.endswith(".onnx"):
            ctx.fail(("models", k), f"models.{k}", f"= {v!r} must be an .onnx file path")


TEMPO_BPM = (BPM_MIN, BPM_MAX)


TEMPO_SOURCES = ("clock",)
"""``[tempo] source`` values: ``"clock"`` follows incoming MIDI clock (as ``--clock-in`` does)."""


def _validate_tempo(ctx: _Ctx, table) -> None:
    """``[tempo]``: ``bpm``, the session tempo in beats per minute (20..400); ``source = "clock"``."""
    if not isinstance(table, dict):
        ctx.fail(("tempo",), "tempo", "must be a table")
    _check_keys(ctx, table, ("tempo",), ("bpm", "source"))
    if "source" in table and table["source"] not in TEMPO_SOURCES:
        ctx.fail(("tempo", "source"), "tempo.source",
                 f"= {table['source']!r} is not one of {', '.join(map(repr, TEMPO_SOURCES))}")
    if "bpm" in table:
        v = table["bpm"]
        lo, hi = TEMPO_BPM
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
            ctx.fail(("tempo", "bpm"), "tempo.bpm", f"= {v!r} is outside {lo:g}..{hi:g}")


def _validate_osc(ctx: _Ctx, table) -> None:
    """``[osc]``: ``port`` (UDP, 0..65535; 0 = any free port) and ``host`` (the address to listen on)."""
    if not isinstance(table, dict):
        ctx.fail(("osc",), "osc", "must be a table")
    _check_keys(ctx, table, ("osc",), ("port", "host"))
    if "port" in table:
        v = table["port"]
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 65535:
            ctx.fail(("osc", "port"), "osc.port", f"= {v!r} must be a UDP port 0..65535")
    if "host" in table:
        v = table["host"]
        if not isinstance(v, str) or not v or len(v) > 255 or any(c.isspace() for c in v):
            ctx.fail(("osc", "host"), "osc.host", f"= {v!r} must be a host name or address")


SYNTH_KEYS = ("id", "tuning", "kbm", "middle_note", "ref_note", "ref_hz")
"""``[synth]`` keys that are not synth parameters: its id and its tuning (see :func:`_validate_synth`)."""

_REFERENCE_KEYS = ("middle_note", "ref_note", "ref_hz")


def _validate_synth(ctx: _Ctx, table) -> dict:
    """``[synth]``: the synth node's parameters plus its tuning: ``tuning`` (a system name or a Scala
    file), ``kbm`` (a ``.kbm`` file), ``middle_note`` (MIDI note of the scale's 1/1, default 60),
    ``ref_note`` (MIDI note whose frequency is fixed, default the middle note) and ``ref_hz`` (its
    frequency in Hz, default its standard pitch).  With none of them: Scala's default, 1/1 on MIDI note
    60 at 261.6256 Hz; ``ref_note = 69``, ``ref_hz = 440.0`` tunes A4 to 440 Hz instead.  A ``kbm``
    sets the middle note and reference itself, so it excludes the last three."""
    if not isinstance(table, dict):
        ctx.fail(("synth",), "synth", "must be a table")
    reg = load_all()
    if "synth" not in reg:
        ctx.fail(("synth",), "synth", "is not available in this build of livehost")
    params = list(all_params(reg["synth"]))
    out = _validate_values(ctx, table, ("synth",), "synth", params, SYNTH_KEYS)
    for k in ("tuning", "kbm"):
        if k in table and (not isinstance(table[k], str) or not table[k]):
            ctx.fail(("synth", k), f"synth.{k}", f"= {table[k]!r} must be a tuning name or a file name")
    for k in ("middle_note", "ref_note"):
        v = table.get(k)
        if k in table and (isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 127):
            ctx.fail(("synth", k), f"synth.{k}", f"= {v!r} must be a MIDI note 0..127")
    if "ref_hz" in table:
        v = table["ref_hz"]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 1.0 <= v <= 20000.0:
            ctx.fail(("synth", "ref_hz"), "synth.ref_hz", f"= {v!r} is outside 1..20000")
    if "kbm" in table:
        for k in _REFERENCE_KEYS:
            if k in table:
                ctx.fail(("synth", k), f"synth.{k}",
                         f"= {table[k]!r} cannot go with kbm = {table['kbm']!r}: the .kbm file sets the "
                         f"middle note and the reference itself")
    if "id" in table and (not isinstance(table["id"], str) or not ID_RE.match(table["id"])):
        ctx.fail(("synth", "id"), "synth.id", f"= {table['id']!r} must be a name (letters, digits, _ -)")
    spec = {k: table[k] for k in SYNTH_KEYS if k in table}
    spec.setdefault("tuning", "12edo")
    try:
        tuning_from_keys(spec, Path(ctx.path).parent if ctx.path else Path("."))
    except LivehostError as e:
        field = "kbm" if "kbm" in spec and getattr(e, "path", None) == _kbm_path(ctx, spec["kbm"]) else "tuning"
        ctx.fail(("synth", field), f"synth.{field}", f"= {spec[field]!r}: {e}")
    return {"values": out, **spec}


def _kbm_path(ctx: _Ctx, kbm: str) -> str:
    base = Path(ctx.path).parent if ctx.path else Path(".")
    return kbm if os.path.isabs(kbm) else str(base / kbm)


def _check_keys(ctx: _Ctx, table: dict, fpath: tuple, allowed) -> None:
    for k in table:
        if k not in allowed:
            ctx.fail(fpath + (k,), _label(fpath + (k,)), f"is not a known field{suggest(k, list(allowed))}")


def _validate_input(ctx: _Ctx, inp) -> dict:
    if not isinstance(inp, dict):
        ctx.fail(("input",), "input", "must be a table")
    nt = load_all()["file"]
    fparams = {q.name: q for q in nt.params}
    _check_keys(ctx, inp, ("input",), ("source", "file", "channels") + tuple(fparams))
    src = inp.get("source", "file" if "file" in inp else "mic")
    if src not in INPUT_SOURCES:
        ctx.fail(("input", "source"), "input.source", f"= {src!r} is not one of {', '.join(INPUT_SOURCES)}")
    out = {"source": src}
    if "file" in inp:
        if not isinstance(inp["file"], str) or not inp["file"]:
            ctx.fail(("input", "file"), "input.file", f"= {inp['file']!r} must be a file name")
        out["file"] = inp["file"]
    if src == "file" and "file" not in out:
        ctx.fail(("input", "source"), "input.file", "is missing (source = \"file\" needs a file)")
    if "channels" in inp:
        out["channels"] = _validate_input_channels(ctx, inp["channels"])
    out.update(_validate_values(ctx, {k: v for k, v in inp.items() if k in fparams}, ("input",), "input",
                                list(nt.params), allowed_extra=()))
    return out


def _validate_input_channels(ctx: _Ctx, chans) -> list[int]:
    """``[input] channels``: one or two 1-based device input channel numbers (left, right)."""
    f = ("input", "channels")
    if not isinstance(chans, list) or not 1 <= len(chans) <= 2:
        ctx.fail(f, "input.channels", f"= {chans!r} must be a list of one or two channel numbers "
                                      "([1] mono to both sides, [1, 2] stereo, [2, 1] swapped)")
    for c in chans:
        if isinstance(c, bool) or not isinstance(c, int) or not 1 <= c <= MAX_INPUT_CHANNEL:
            ctx.fail(f, "input.channels", f"= {chans!r}: {c!r} is not a device channel number "
                                          f"(1..{MAX_INPUT_CHANNEL}, 1-based)")
    return [int(c) for c in chans]


def _validate_values(ctx: _Ctx, table: dict, fpath: tuple, label: str, params: list[Param],
                     allowed_extra: tuple) -> dict:
    names = [q.name for q in params]
    values = {}
    for k, v in table.items():
        if k in allowed_extra:
            continue
        if k not in names:
            ctx.fail(fpath + (k,), f"{label}.{k}",
                     f"is not a parameter of {label.split('[')[0]}{suggest(k, names + list(allowed_extra))}")
        q = params[names.index(k)]
        why = q.check(v, division_ok=True)
        if why:
            ctx.fail(fpath + (k,), f"{label}.{k}", why)
        values[k] = v
    return values


def _validate_chain(ctx: _Ctx, chain: list, fpath: tuple, ids: set, depth: int) -> list:
    if depth > 4:
        ctx.fail(fpath, _label(fpath), "nests layers more than 4 deep")
    reg = load_all()
    types = sorted(n for n in reg if n not in ("master", "file")) + ["layer"]
    out = []
    for i, entry in enumerate(chain):
        ep = fpath + (i,)
        if not isinstance(entry, dict):
            ctx.fail(ep, _label(ep), "must be a table with a type")
        t = entry.get("type")
        if not isinstance(t, str):
            ctx.fail(ep, f"{_label(ep)}.type", "is missing (every chain entry needs type = \"...\")")
        if t not in types:
            ctx.fail(ep + ("type",), f"{_label(ep)}.type", f"= {t!r} is not a node type{suggest(t, types)}")
        nid = entry.get("id", f"{t}{len(ids) + 1}")
        if not isinstance(nid, str) or not ID_RE.match(nid) or nid == "master":
            ctx.fail(ep + ("id",), f"{_label(ep)}.id", f"= {nid!r} must be a name (letters, digits, _ -)")
        if nid in ids:
            ctx.fail(ep + ("id",), f"{_label(ep)}.id", f"= {nid!r} is used twice")
        ids.add(nid)
        label = f"{nid}"
        if t == "layer":
            _check_keys(ctx, entry, ep, ("type", "id", "wet", "bypass", "branches"))
            values = _validate_values(ctx, {k: v for k, v in entry.items() if k in ("wet", "bypass")}, ep,
                                      label, list(LAYER_PARAMS), ())
            branches = entry.get("branches", [])
            if not isinstance(branches, list) or not branches:
                ctx.fail(ep + ("branches",), f"{label}.branches", "needs at least one [[chain.branches]]")
            built = []
            for j, br in enumerate(branches):
                bp = ep + ("branches", j)
                if not isinstance(br, dict):
                    ctx.fail(bp, _label(bp), "must be a table")
                _check_keys(ctx, br, bp, ("gain_db", "chain"))
                g = br.get("gain_db", 0.0)
                why = BRANCH_GAIN.check(g)
                if why:
                    ctx.fail(bp + ("gain_db",), f"{label}.branches[{j}].gain_db", why)
                sub = br.get("chain", [])
                if not isinstance(sub, list):
                    ctx.fail(bp + ("chain",), f"{label}.branches[{j}].chain", "must be an array of tables")
                built.append((float(g), _validate_chain(ctx, sub, bp + ("chain",), ids, depth + 1)))
            out.append(LayerSpec(nid, values, built))
        else:
            nt, options = _node_type(ctx, reg[t], entry, ep, nid)
            params = list(all_params(nt))
            values = _validate_values(ctx, {k: v for k, v in entry.items() if k not in ("type", "id") + nt.options},
                                      ep, f"{nid}", params, ())
            out.append(NodeSpec(t, nid, values, options))
    return out


def _node_type(ctx: _Ctx, nt, entry: dict, ep: tuple, nid: str):
    """The concrete node type of a chain entry and its options (strings; an ``lv2`` node's ``uri``; its
    ``state`` option names a file beside the patch, whose text becomes the option's value)."""
    def string(k: str) -> str:
        v = entry[k]
        if not isinstance(v, str) or not v:
            ctx.fail(ep + (k,), f"{nid}.{k}", f"= {v!r} must be a string")
        return v

    options = {k: string(k) for k in nt.options if k in entry}
    written = dict(options)  # as in the file (errors show the state's file name, not its text)
    if STATE_OPTION in options:
        base = Path(ctx.path).parent if ctx.path else Path(".")
        where = base / options[STATE_OPTION]  # relative to the patch's folder (or absolute)
        try:
            options[STATE_OPTION] = Path(where).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            why = e.strerror if isinstance(e, OSError) and e.strerror else "is not UTF-8 text"
            ctx.fail(ep + (STATE_OPTION,), f"{nid}.{STATE_OPTION}", f"= {written[STATE_OPTION]!r}: "
                     f"cannot be read ({why})")
    def resolved():
        try:
            return resolve(nt, options)
        except LivehostError as e:
            k = getattr(e, "option", None) or next((k for k in nt.options if k in options),
                                                    nt.options[0] if nt.options else "type")
            shown = f" = {written[k]!r}:" if k in written else ""
            ctx.fail(ep + (k,), f"{nid}.{k}", f"{shown} {e}".strip())

    concrete = resolved()
    extra = [k for k in concrete.options if k not in nt.options and k in entry]  # an LV2 plugin's files
    for k in extra:
        v = written[k] = options[k] = string(k)
        if k in concrete.path_options:
            where = Path(ctx.path).parent / v if ctx.path else Path(v)
            if not where.is_file():
                ctx.fail(ep + (k,), f"{nid}.{k}", f"= {v!r}: no such file")
            options[k] = str(where.resolve())
    return (resolved() if extra else concrete), options


# ---- saving -------------------------------------------------------------------------------------
def state_file(patch_path: str | os.PathLike, node_id: str) -> str:
    """The name of the file beside patch ``patch_path`` holding node ``node_id``'s own state
    (``<patch name>.<node id>.state.ttl``)."""
    return f"{Path(patch_path).stem}.{node_id}.state.ttl"


def to_dict(p: Patch, path: str | os.PathLike | None = None) -> dict:
    """The TOML document for a patch to be saved as ``path`` (default its own path; only non-default
    values are written; a node's ``state`` is written as the name of its file, see :func:`state_file`)."""
    doc: dict = {"patch": {"name": p.name, "format": FORMAT_VERSION, "samplerate": p.samplerate,
                           "blocksize": p.blocksize}}
    doc["input"] = dict(p.input)
    folder = Path(path or p.path).resolve().parent if (path or p.path) else None
    doc["chain"] = _chain_dicts(p.chain, path or p.path or p.name, folder)
    if p.master:
        doc["master"] = dict(p.master)
    if p.synth is not None:
        doc["synth"] = {**{k: v for k, v in p.synth.items() if k != "values"}, **p.synth["values"]}
    for k, v in p.extra.items():
        doc[k] = v
    return doc


def _chain_dicts(items: list, path, folder: Path | None) -> list:
    out = []
    for it in items:
        if isinstance(it, NodeSpec):
            options = {k: _saved_path(v, folder) for k, v in it.options.items()}
            if options.get(STATE_OPTION):
                options[STATE_OPTION] = state_file(path, it.id)
            out.append({"type": it.type, "id": it.id, **options, **it.values})
        else:
            out.append({"type": "layer", "id": it.id, **it.values,
                        "branches": [{"gain_db": g, "chain": _chain_dicts(ch, path, folder)}
                                     for g, ch in it.branches]})
    return out


def _saved_path(value, folder: Path | None):
    """An option as saved: an absolute file path (a file an LV2 plugin loads) inside the patch's
    ``folder`` is written relative to it, so the folder can move; anything else as it is."""
    if folder is None or not isinstance(value, str) or not os.path.isabs(value):
        return value
    rel = os.path.relpath(value, folder)
    return value if rel.startswith("..") else rel


def dumps(p: Patch) -> str:
    """Patch as TOML text (nodes' state files named after its path, not written: see :func:`save`)."""
    return tomli_w.dumps(to_dict(p))


def save(p: Patch, path: str | os.PathLike) -> None:
    """Write a patch atomically: a temp file in the same folder, fsync, then rename over ``path``. The
    nodes' own states (their ``state`` option's text) go first, each atomically into its file beside
    the patch (:func:`state_file`)."""
    path = Path(path)
    for it in node_specs(p.chain):
        if it.options.get(STATE_OPTION):
            write_text_atomic(path.parent / state_file(path, it.id), it.options[STATE_OPTION])
    text = tomli_w.dumps(to_dict(p, path))
    loads(text, str(path))  # never write something we could not read back
    write_text_atomic(path, text, lambda f, t: _write(f, t))


def _write(f, text: str) -> None:
    """Write ``text`` to ``f`` (a seam for tests that interrupt a save midway)."""
    f.write(text)
