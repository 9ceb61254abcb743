"""The one-line chain language of ``livehost tools chain``: a pedal chain written as text.

Example::

    reverse | delay ms=1000 repeats=3 fade=0.5 | stretch factor=2 | layer(reverse, delay ms=250)

Grammar (whitespace is free between tokens)::

    chain    := item ( "|" item )*
    item     := node | layer
    node     := TYPE setting*                      e.g.  delay ms=250 fb=0.3 wet=0.5
    layer    := "layer" "(" branch ( sep branch )* ")" setting*
    sep      := "," | ";"                          (either one separates branches)
    branch   := [ GAIN "dB" ":" ] ( "dry" | chain )   e.g.  -6dB: reverse | delay ms=250
    setting  := KEY "=" VALUE
    VALUE    := a number | true false on off yes no | a word (a choice: repeats, 1/8d) | "quoted text"

- ``|`` separates nodes in series; inside ``layer( ... )`` each branch is itself a chain (so ``|`` works
  there too) and ``,`` or ``;`` separates the parallel branches, which are mixed back together.  A branch
  ``dry`` (or an empty one) passes the layer's input unchanged; ``-6dB:`` before a branch sets its
  ``gain_db`` in the mix.  Settings after the closing parenthesis are the layer's own (``wet``,
  ``bypass``, ``id``).
- ``TYPE`` is any node type of the engine (``livehost.nodes``: delay, reverse, stretch, pitch_shift,
  freq_shift, filter, reverb, gain, bitcrush, ...).  Every node also takes ``wet``, ``bypass`` and ``id``.
- ``KEY`` is a declared parameter name (``time_ms``) or a short alias, resolved in this order: the
  explicit aliases in :data:`ALIASES` (``fb`` -> feedback, ``mix`` -> wet, ``st`` -> semitones ...);
  a unit (``ms``, ``hz``, ``db``, ``s``, ``st``) naming the node's only parameter in that unit
  (``delay ms=`` -> ``time_ms``, ``reverse ms=`` -> ``window_ms``, ``freq_shift hz=`` -> ``shift_hz``);
  the name without its unit suffix (``time`` -> ``time_ms``); a unique prefix (``rep`` -> ``repeats``).
- Some settings imply a mode (:data:`IMPLIED`): ``delay repeats=3`` or ``delay fade=0.5`` without a
  ``mode`` is the delay in ``repeats`` mode (exactly N taps, tap k at gain fade**k); ``stretch speed=0.5``
  is tape mode.
- Unknown node types and parameters, values out of range and bad syntax are one-line
  :class:`ChainError` s with the column and, as for patches, a ``(did you mean '...'?)`` suggestion.

:func:`parse_chain` returns the patch items (:class:`~livehost.patch.NodeSpec`/:class:`~livehost.patch.LayerSpec`),
:func:`chain_patch` a whole validated :class:`~livehost.patch.Patch`, which the engine renders exactly
as it would play it live.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from livehost.engine.graph import BRANCH_GAIN, LAYER_PARAMS
from livehost.errors import LivehostError
from livehost.nodes import load_all
from livehost.nodes.declare import Param, all_params, suggest
from livehost.patch import ID_RE, LayerSpec, NodeSpec, Patch, dumps, loads

ALIASES = {
    "fb": "feedback", "mix": "wet", "st": "semitones", "semis": "semitones", "ct": "cents",
    "db": "gain_db", "freq": "freq_hz", "bpm": "bpm", "div": "division", "window": "window_ms",
    "decay": "decay_s", "predelay": "predelay_ms", "highcut": "highcut_hz", "down": "downsample",
}
"""Explicit short names -> parameter names (used only when the node has that parameter)."""

NODE_ALIASES = {"pitch": "pitch_shift", "shift": "freq_shift", "crush": "bitcrush", "freqshift": "freq_shift",
                "pitchshift": "pitch_shift", "lowpass": "filter"}
"""Short node type names accepted for convenience."""

IMPLIED = {("delay", "repeats"): ("mode", "repeats"), ("delay", "fade"): ("mode", "repeats"),
           ("stretch", "speed"): ("mode", "tape")}
"""Setting the first parameter without the second implies the second's value: ``delay repeats=3`` is the
delay in ``repeats`` mode, ``stretch speed=0.5`` is tape mode."""

_TOKEN = re.compile(r'\s*(?:(?P<sym>[|(),;=:])|"(?P<q>[^"]*)"|(?P<w>[^\s|(),;=:"]+))')
_GAIN_RE = re.compile(r"^([+-]?\d+(?:\.\d*)?|[+-]?\.\d+)\s*db$", re.IGNORECASE)
_TRUE = ("true", "on", "yes", "1")
_FALSE = ("false", "off", "no", "0")


class ChainError(LivehostError):
    """A chain string that cannot be used: ``chain: column N: what is wrong``."""


@dataclass
class _Tok:
    kind: str  # "sym", "word", "quoted", "end"
    text: str
    col: int  # 1-based column


def tokenize(text: str) -> list[_Tok]:
    """Split a chain string into tokens (symbols ``| ( ) , ; = :``, words, quoted strings)."""
    toks = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            if text[pos:].strip() == "":
                break
            if text[pos:].lstrip().startswith('"'):
                raise ChainError(f"chain: column {pos + 1 + len(text[pos:]) - len(text[pos:].lstrip())}: "
                                 "a quoted value is not closed")
            raise ChainError(f"chain: column {pos + 1}: cannot read {text[pos:pos + 10]!r}")
        col = m.start(m.lastgroup) + 1
        if m.group("sym") is not None:
            toks.append(_Tok("sym", m.group("sym"), col))
        elif m.group("q") is not None:
            toks.append(_Tok("quoted", m.group("q"), col))
        else:
            toks.append(_Tok("word", m.group("w"), col))
        pos = m.end()
    toks.append(_Tok("end", "", len(text) + 1))
    return toks


def resolve_key(key: str, params: list[Param]) -> str | None:
    """The parameter name that ``key`` (a name or a short alias, see the module doc) means, or None."""
    names = [p.name for p in params]
    if key in names:
        return key
    k = key.lower()
    if k in ALIASES and ALIASES[k] in names:
        return ALIASES[k]
    by_unit = [p.name for p in params if p.unit.lower() == k or p.name.endswith("_" + k)]
    if len(by_unit) == 1:
        return by_unit[0]
    stem = [n for n in names if n.startswith(k + "_")]
    if len(stem) == 1:
        return stem[0]
    pre = [n for n in names if n.startswith(k)]
    if len(pre) == 1:
        return pre[0]
    return None


def convert(p: Param, raw: str, quoted: bool):
    """A setting's text -> the patch value for parameter ``p`` (float, bool or choice string).

    Returns the raw text unchanged when it cannot be converted (the range check then reports it).
    """
    if p.kind == "choice":
        return raw
    if p.kind == "bool":
        low = raw.lower()
        if not quoted and low in _TRUE:
            return True
        if not quoted and low in _FALSE:
            return False
        return raw
    if quoted:
        return raw
    try:
        v = float(raw)
    except ValueError:
        return raw
    return v


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = tokenize(text)
        self.i = 0
        self.reg = load_all()
        self.types = sorted(n for n in self.reg if n not in ("master", "file")) + ["layer"]
        self.ids: set[str] = set()
        self.counter = 0

    # -- helpers --
    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def fail(self, tok: _Tok, msg: str):
        raise ChainError(f"chain: column {tok.col}: {msg}")

    def is_sym(self, s: str) -> bool:
        t = self.peek()
        return t.kind == "sym" and t.text == s

    def expect_sym(self, s: str, what: str) -> _Tok:
        t = self.peek()
        if not (t.kind == "sym" and t.text == s):
            self.fail(t, f"expected '{s}' {what}, found {_show(t)}")
        return self.take()

    # -- grammar --
    def parse(self) -> list:
        if self.peek().kind == "end":
            raise ChainError("chain: the chain is empty (write nodes separated by '|', e.g. \"reverse | delay ms=250\")")
        items = self.chain(depth=0)
        t = self.peek()
        if t.kind != "end":
            if t.kind == "sym" and t.text in ",;":
                self.fail(t, f"'{t.text}' separates branches only inside layer( ... ); use '|' between nodes")
            self.fail(t, f"unexpected {_show(t)} (nodes are separated by '|')")
        return items

    def chain(self, depth: int) -> list:
        items = [self.item(depth)]
        while self.is_sym("|"):
            self.take()
            items.append(self.item(depth))
        return items

    def item(self, depth: int):
        t = self.peek()
        if t.kind != "word":
            self.fail(t, f"expected a node type, found {_show(t)}")
        self.take()
        name = NODE_ALIASES.get(t.text.lower(), t.text)
        if name == "layer":
            return self.layer(t, depth)
        if name not in self.types or name == "layer":
            self.fail(t, f"'{t.text}' is not a node type{suggest(t.text, self.types)}")
        nt = self.reg[name]
        params = list(all_params(nt))
        values, nid = self.settings(name, params)
        for (typ, key), (other, val) in IMPLIED.items():
            if typ == name and key in values and other not in values:
                values[other] = val
        return NodeSpec(name, self.new_id(name, nid), values)

    def layer(self, head: _Tok, depth: int):
        if depth >= 4:
            self.fail(head, "layers nest more than 4 deep")
        self.expect_sym("(", "after layer (write layer(a, b))")
        branches = []
        while True:
            branches.append(self.branch(depth + 1))
            if self.is_sym(",") or self.is_sym(";"):
                self.take()
                continue
            break
        self.expect_sym(")", "to close layer(")
        values, nid = self.settings("layer", list(LAYER_PARAMS))
        return LayerSpec(self.new_id("layer", nid), values, branches)

    def branch(self, depth: int) -> tuple[float, list]:
        gain = 0.0
        t = self.peek()
        if t.kind == "word" and _GAIN_RE.match(t.text) and self.toks[self.i + 1].kind == "sym" \
                and self.toks[self.i + 1].text == ":":
            gain = float(_GAIN_RE.match(t.text).group(1))
            why = BRANCH_GAIN.check(gain)
            if why:
                self.fail(t, f"branch gain_db {why}")
            self.take()
            self.take()
            t = self.peek()
        if t.kind == "sym" and t.text in ",;)":
            return gain, []  # an empty branch is dry
        if t.kind == "word" and t.text.lower() == "dry":
            self.take()
            return gain, []
        return gain, self.chain(depth)

    def settings(self, label: str, params: list[Param]) -> tuple[dict, str | None]:
        values: dict = {}
        nid = None
        names = [p.name for p in params]
        while self.peek().kind in ("word", "quoted"):
            kt = self.take()
            if kt.kind == "quoted":
                self.fail(kt, f"expected key=value after {label}, found {_show(kt)}")
            if not self.is_sym("="):
                nxt = self.peek()
                hint = " (nodes are separated by '|')" if kt.text in self.types or kt.text in NODE_ALIASES else ""
                self.fail(kt, f"expected key=value after {label}, found '{kt.text}'"
                              f"{'' if nxt.kind == 'end' else ''}{hint}")
            self.take()
            vt = self.take()
            if vt.kind not in ("word", "quoted"):
                self.fail(vt, f"{label}.{kt.text} = needs a value, found {_show(vt)}")
            if kt.text == "id":
                if not ID_RE.match(vt.text) or vt.text == "master":
                    self.fail(vt, f"id = {vt.text!r} must be a name (letters, digits, _ -)")
                nid = vt.text
                continue
            key = resolve_key(kt.text, params)
            if key is None:
                self.fail(kt, f"{label} has no parameter '{kt.text}'{suggest(kt.text, names + list(ALIASES))}")
            p = params[names.index(key)]
            v = convert(p, vt.text, vt.kind == "quoted")
            why = p.check(v)
            if why:
                self.fail(vt, f"{label}.{key} {why}")
            if key in values:
                self.fail(kt, f"{label}.{key} is set twice")
            values[key] = v
        return values, nid

    def new_id(self, base: str, nid: str | None) -> str:
        if nid is not None:
            if nid in self.ids:
                raise ChainError(f"chain: id '{nid}' is used twice")
            self.ids.add(nid)
            return nid
        while True:
            self.counter += 1
            cand = f"{base}{self.counter}"
            if cand not in self.ids:
                self.ids.add(cand)
                return cand


def _show(t: _Tok) -> str:
    if t.kind == "end":
        return "the end of the chain"
    if t.kind == "quoted":
        return f'"{t.text}"'
    return f"'{t.text}'"


def parse_chain(text: str) -> list:
    """Parse a one-line chain (see the module doc) into patch items: ``NodeSpec``/``LayerSpec`` list.

    Raises :class:`ChainError` (one line, with the column) for bad syntax, unknown names or values.
    """
    if not isinstance(text, str):
        raise ChainError("chain: expected text")
    return _Parser(text).parse()


def chain_patch(text: str, samplerate: int = 48000, blocksize: int = 128, name: str = "chain") -> Patch:
    """A validated :class:`~livehost.patch.Patch` (input = device input) whose chain is ``text``.

    samplerate: Hz (one the patch format accepts); blocksize: frames. The patch is written to TOML and
    read back through :func:`livehost.patch.loads`, so it is exactly what a patch file would give.
    """
    items = parse_chain(text)
    p = Patch(name=name, samplerate=int(samplerate), blocksize=int(blocksize), input={"source": "mic"},
              chain=items)
    return loads(dumps(p), f"<chain {text!r}>")


def format_chain(items: list) -> str:
    """Patch items back as one line of the chain language (ids omitted, non-default values only)."""
    parts = []
    for it in items:
        if isinstance(it, NodeSpec):
            parts.append(" ".join([it.type] + [f"{k}={_fmt(v)}" for k, v in it.values.items()]))
        else:
            brs = []
            for g, ch in it.branches:
                body = format_chain(ch) if ch else "dry"
                brs.append((f"{g:g}dB: " if g else "") + body)
            tail = "".join(f" {k}={_fmt(v)}" for k, v in it.values.items())
            parts.append(f"layer({', '.join(brs)}){tail}")
    return " | ".join(parts)


def _fmt(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    s = str(v)
    return s if re.fullmatch(r"[^\s|(),;=:\"]+", s) else f'"{s}"'
