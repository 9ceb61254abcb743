"""The node reference: every node type and its parameters, read from the declarations.

``livehost nodes [TYPE] [--json | --markdown]`` prints it; ``docs/nodes.md`` is the ``--markdown`` output
(``tests/test_nodes_doc.py`` keeps the file equal to it).  Nothing here is written by hand twice: names,
units, ranges, defaults, smoothing, choices and descriptions all come from :class:`~livehost.nodes.declare.Param`
and :class:`~livehost.nodes.declare.NodeType`.
"""

from __future__ import annotations

from livehost.errors import LivehostError
from livehost.nodes.declare import NodeType, Param, all_params, suggest

REFERENCE_SR = 48000.0  #: sample rate (Hz) at which latencies are reported
REGENERATE = "python -m livehost nodes --markdown > docs/nodes.md"


def shown_params(nt: NodeType) -> tuple[Param, ...]:
    """The parameters a patch can set on ``nt``: every node's ``wet`` and ``bypass`` and its own, except
    the master's, which has only its own (it is never mixed or bypassed)."""
    return tuple(nt.params) if nt.category == "master" else all_params(nt)


def _num(x: float) -> str:
    return f"{x:g}"


def value_text(p: Param, value) -> str:
    """A parameter value as a patch writes it: ``0.35``, ``true``, ``"1/8d"``."""
    if p.kind == "bool":
        return "true" if value else "false"
    if p.kind == "choice":
        return f'"{value}"'
    return _num(float(value))


def range_text(p: Param) -> str:
    """``1..16000`` (unit separate), ``true/false``, or the choices ``a | b | c``."""
    if p.kind == "choice":
        return " | ".join(p.choices)
    if p.kind == "bool":
        return "true/false"
    return f"{_num(p.lo)}..{_num(p.hi)}"


def smoothing_text(p: Param) -> str:
    """The engine's one-pole smoothing time constant: ``20 ms``, or ``steps`` (0: changes at once)."""
    return f"{_num(p.smoothing_ms)} ms" if p.smoothing_ms > 0 else "steps"


def param_info(p: Param) -> dict:
    """One parameter as plain data: name, kind, unit, lo/hi (in ``unit``; null for choices and
    booleans), default, smoothing_ms, choices, sync (``"time"``/``"rate"`` when a note division
    following the tempo may be given instead of a number, else null), follow (the division a ``sync``
    parameter follows when a patch leaves it out, else null), doc."""
    ranged = p.kind == "float"
    return {"name": p.name, "kind": p.kind, "unit": p.unit, "lo": p.lo if ranged else None,
            "hi": p.hi if ranged else None, "default": p.default, "smoothing_ms": p.smoothing_ms,
            "choices": list(p.choices) if p.choices else None, "sync": p.sync or None,
            "follow": p.follow or None, "doc": p.doc}


def latency_info(nt: NodeType, sr: float = REFERENCE_SR) -> dict | None:
    """The delay a node adds, if it declares one: samples and ms at ``sr`` Hz with default values, and
    the parameters it depends on (each float parameter tried at its lower and upper bound). None when
    the node adds none."""
    params = shown_params(nt)
    defaults = {p.name: p.default for p in params}
    base = int(nt.latency(defaults, sr))
    tries = {p.name: (p.lo, p.hi) if p.kind == "float" else p.choices for p in params if p.kind != "bool"}
    depends = [name for name, vals in tries.items()
               if any(int(nt.latency({**defaults, name: v}, sr)) != base for v in vals)]
    if base == 0 and not depends:
        return None
    return {"samples": base, "ms": round(1000.0 * base / sr, 3), "samplerate": sr, "depends_on": depends,
            "compensated": nt.compensated}


def node_info(nt: NodeType) -> dict:
    """One node type as plain data (what ``livehost nodes --json`` prints)."""
    return {"name": nt.name, "category": nt.category, "source": nt.source, "midi": nt.midi, "doc": nt.doc,
            "latency": latency_info(nt), "params": [param_info(p) for p in shown_params(nt)]}


def pick(types: dict[str, NodeType], name: str | None) -> list[NodeType]:
    """All node types in name order, or the one called ``name`` (LivehostError with a suggestion)."""
    if name is None:
        return [types[k] for k in sorted(types)]
    if name not in types:
        raise LivehostError(f"unknown node type '{name}'{suggest(name, sorted(types))}")
    return [types[name]]


def _latency_line(nt: NodeType) -> str:
    lat = latency_info(nt)
    if lat is None:
        return "none"
    s = f"{lat['samples']} samples ({_num(lat['ms'])} ms) at {_num(lat['samplerate'] / 1000)} kHz"
    if lat["depends_on"]:
        s += f" with default values; depends on {', '.join(lat['depends_on'])}"
    if not lat["compensated"]:
        s += " (the delay is the effect: not compensated)"
    return s


def _kind(nt: NodeType) -> str:
    """``effect``, ``source`` or ``master``, with the declared category when it says more."""
    kind = "source" if nt.source else ("master" if nt.category == "master" else "effect")
    return kind if nt.category in ("effect", "source", "master") else f"{kind}, {nt.category}"


def text(types: list[NodeType]) -> str:
    """The plain-text reference (``livehost nodes``): a heading per type, one aligned row per parameter."""
    out = []
    for nt in types:
        out.append(f"{nt.name}  ({_kind(nt)}; MIDI: {'yes' if nt.midi else 'no'}; latency: {_latency_line(nt)})")
        out.append(f"  {nt.doc}")
        rows = [(p.name, p.unit or "-", "choice" if p.kind == "choice" else range_text(p),
                 value_text(p, p.default), smoothing_text(p),
                 p.doc + (f" [{range_text(p)}]" if p.kind == "choice" else "")) for p in shown_params(nt)]
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        for r in rows:
            out.append("    " + "  ".join(c.ljust(w) for c, w in zip(r[:5], widths)) + "  " + r[5])
        out.append("")
    return "\n".join(out)


def _cell(s: str) -> str:
    return s.replace("|", "\\|")


def markdown(types: list[NodeType]) -> str:
    """``docs/nodes.md``: an introduction, then a section per node type with a table of its parameters."""
    out = [
        "# Node reference",
        "",
        "<!-- Generated from the declarations in livehost/nodes/; do not edit by hand. Regenerate with",
        f"     {REGENERATE}",
        "     (tests/test_nodes_doc.py fails while this file and the declarations differ). -->",
        "",
        "Every node type, generated from its declaration in `livehost/nodes/` (the same one the patch loader,",
        "the engine, the UI and MIDI learn read). `livehost nodes [TYPE] [--json]` prints the same.",
        "",
        "Effects go in a patch's `[[chain]]` (`type = \"delay\"`); of the sources, `synth` is the `[synth]`",
        "section, `file` the `[input]` section (`source = \"file\"`) and `generator` comes with",
        "`[models] generator`; `master` is the `[master]` section (see the patch format in the README).",
        "",
        "- **range**: inclusive, in the unit shown; a value outside it is a patch error naming file, line",
        "  and field. Choices are written as strings, switches as `true`/`false`.",
        "- **smoothing**: the time constant of the one-pole glide the engine applies when the value",
        "  changes (so a sweep never clicks); `steps` means the new value applies at the next block.",
        "- **tempo sync**: a parameter whose description says \"or a note division\" also takes one, as a",
        "  string (`time_ms = \"1/8.\"`, `rate_hz = \"1/4t\"`: `.` dotted, `t` triplet): a time is the",
        "  division's length, a rate one cycle per division, at the session tempo, and follows it.",
        "- `wet` (dry/wet crossfade) and `bypass` (crossfaded) are added by the engine to every node but the",
        "  master; only their defaults differ between types.",
        f"- **latency**: the delay a node adds, at {_num(REFERENCE_SR / 1000)} kHz; the engine delays the node's",
        "  dry path and the other branches of a layer to match, and reports the sum along the chain",
        "  (`livehost latency PATCH`), except where the delay is the effect itself.",
        "- **MIDI**: whether the node receives the MIDI events of each block (notes, controllers).",
        "",
        " · ".join(f"[{nt.name}](#{nt.name})" for nt in types),
        "",
    ]
    for nt in types:
        out += [f"## {nt.name}", "", nt.doc, "",
                f"Kind: {_kind(nt)}. MIDI: {'yes' if nt.midi else 'no'}. Latency: {_latency_line(nt)}.", "",
                "| parameter | unit | range | default | smoothing | description |",
                "|---|---|---|---|---|---|"]
        for p in shown_params(nt):
            rng = ", ".join(f"`{c}`" for c in p.choices) if p.kind == "choice" else range_text(p)
            out.append("| " + " | ".join(_cell(c) for c in (
                f"`{p.name}`", p.unit, rng, f"`{value_text(p, p.default)}`", smoothing_text(p), p.doc)) + " |")
        out.append("")
    return "\n".join(out)
