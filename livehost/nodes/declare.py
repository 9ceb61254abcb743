"""Node declarations: each node type is declared once, here-shaped, and everything reads that.

A :class:`NodeType` names its parameters (:class:`Param`: unit, range, default, smoothing), its numba
kernel and its state size. The engine, the patch loader, the UI, MIDI learn and the docs all read the
same declaration; there is no second list.

Kernel contract (every effect and source kernel follows it)::

    @njit(cache=True, nogil=True)
    def process(pp, pc, st, buf, n, sr):
        ...

- ``pp``: float64[:] the node's own parameters (declaration order, engine-wide ``wet``/``bypass``
  excluded) at the start of this block; ``pc``: the same at the end of the block (already smoothed by
  the engine).  A kernel whose parameter is audible per sample (a gain) ramps linearly from ``pp`` to
  ``pc`` across the block; others may use ``pc`` once per block.  Choice parameters arrive as the
  index of the choice (0.0, 1.0, ...), booleans as 0.0 / 1.0.
- ``st``: float64[:] the node's state region, ``state_size(sr, max_block)`` long; zeroed and then
  passed to ``init(st, sr, max_block)`` off the audio thread.  ``st[:reset_from]`` holds constants that
  a NaN reset keeps; ``st[reset_from:]`` is zeroed by the engine's NaN/Inf guard.
- ``buf``: float64[2, max_block] stereo, channel-first; the kernel processes ``buf[:, :n]`` in place and
  leaves the fully processed ("100% wet") signal there.  The engine then crossfades dry and wet with
  the node's ``wet`` parameter and its bypass ramp.  A source kernel (``source=True``) ignores the input
  and writes its signal.
- ``n``: frames in this block (<= max_block); ``sr``: sample rate in Hz (float).
- A node declared with ``midi=True`` finds this block's MIDI events at the head of its state:
  ``st[0]`` = count, then per event ``(offset in block (frames), status, data1, data2)`` at
  ``st[1 + 4*k : 5 + 4*k]``, in time order (``livehost.dsp.midi_events.MIDI_HEAD`` slots; its own state
  follows). Status 0xFF is the engine's panic: all notes off and voices silenced at once.
- Never allocate, never raise, never call Python objects: it runs inside the GIL-free audio callback.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Callable, Sequence

from livehost.dsp.division import SYNC_KINDS, division_error, synced_value


@dataclass(frozen=True)
class Param:
    """One declared parameter of a node type.

    name: identifier used in patches, MIDI maps and the UI (``time_ms``).
    unit: display unit (``"ms"``, ``"Hz"``, ``"dB"``, ``"st"``, ``""``).
    lo, hi: inclusive range in that unit (ignored for choices/booleans).
    default: default value (a float, a bool, or one of ``choices``).
    smoothing_ms: one-pole smoothing time constant applied by the engine (0 = steps instantly).
    choices: for enumerated parameters, the allowed strings; stored as their index.
    doc: one line for the UI and the docs.
    sync: ``"time"`` (a duration in ms) or ``"rate"`` (an LFO rate in Hz) when the parameter may be
        given as a note division (``"1/8."``) that follows the session tempo; ``""`` when it may not.
    follow: for a ``sync`` parameter, the note division it follows at the session tempo when a patch or
        an added node gives it no value (a looper's beat: ``"1/4"``); ``""``: the numeric ``default``.
    """

    name: str
    unit: str = ""
    lo: float = 0.0
    hi: float = 1.0
    default: float | bool | str = 0.0
    smoothing_ms: float = 20.0
    choices: tuple[str, ...] | None = None
    doc: str = ""
    kind: str = field(default="float")  # "float" | "bool" | "choice"
    sync: str = ""
    follow: str = ""

    def __post_init__(self):
        if self.follow and (not self.sync or division_error(self.follow)):
            raise ValueError(f"parameter {self.name!r}: follow = {self.follow!r} needs sync and a note division")
        if self.sync and (self.sync not in SYNC_KINDS or self.choices is not None
                          or isinstance(self.default, bool)):
            raise ValueError(f"parameter {self.name!r}: sync = {self.sync!r} needs a number parameter "
                             f"and one of {', '.join(SYNC_KINDS)}")
        if self.choices is not None:
            object.__setattr__(self, "kind", "choice")
            object.__setattr__(self, "smoothing_ms", 0.0)
            object.__setattr__(self, "lo", 0.0)
            object.__setattr__(self, "hi", float(len(self.choices) - 1))
        elif isinstance(self.default, bool):
            object.__setattr__(self, "kind", "bool")
            object.__setattr__(self, "lo", 0.0)
            object.__setattr__(self, "hi", 1.0)

    def to_number(self, value) -> float:
        """Convert a patch/UI value (float, bool or choice string) to the float the engine stores."""
        if self.kind == "choice":
            return float(self.choices.index(value))
        if self.kind == "bool":
            return 1.0 if value else 0.0
        return float(value)

    def from_number(self, x: float):
        """Convert the engine's stored float back to the patch/UI value."""
        if self.kind == "choice":
            return self.choices[int(round(x))]
        if self.kind == "bool":
            return bool(x >= 0.5)
        return float(x)

    def synced(self, division: str, bpm: float) -> float:
        """The value (in this parameter's unit, clamped to its range) of note ``division`` at ``bpm``
        beats per minute; only for a parameter declared with ``sync``."""
        return synced_value(self.sync, division, bpm, self.lo, self.hi)

    def check(self, value, division_ok: bool = False) -> str | None:
        """Return None if ``value`` is valid for this parameter, else a short reason (for errors).

        division_ok: a note division string is valid too, for a parameter declared with ``sync``
        (patches and the session accept one; the engine only ever takes numbers)."""
        if division_ok and self.sync and isinstance(value, str):
            return division_error(value)
        if self.kind == "choice":
            if not isinstance(value, str) or value not in self.choices:
                return f"= {value!r} is not one of {', '.join(self.choices)}"
            return None
        if self.kind == "bool":
            if not isinstance(value, bool):
                return f"= {value!r} must be true or false"
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            also = " or a note division like \"1/8.\"" if division_ok and self.sync else ""
            return f"= {value!r} must be a number ({self.unit or 'no unit'}){also}"
        if value != value or not (self.lo <= value <= self.hi):
            return f"= {value!r} is outside {_fmt(self.lo)}..{_fmt(self.hi)}"
        return None


def _fmt(x: float) -> str:
    return f"{x:g}"


def _no_state(sr: float, max_block: int) -> int:
    return 0


def _no_latency(values: dict, sr: float) -> int:
    return 0


@dataclass(frozen=True)
class NodeType:
    """A node type, declared once.

    name: the ``type`` string in patches (``"delay"``).
    params: the node's own parameters (the engine adds ``wet`` and ``bypass`` to every node).
    kernel: numba ``process(pp, pc, st, buf, n, sr)`` (see the module docstring).
    state_size: ``(sr, max_block) -> int`` float64 slots of state.
    init: optional ``(st, sr, max_block) -> None`` run off the audio thread after zeroing ``st``.
    reset_from: first state index the NaN guard zeroes (constants live below it).
    latency: ``(values, sr) -> int`` samples of delay the node adds (reported to the engine).
    compensated: True when that delay is processing latency (lookahead, an FFT frame, filters): the
        engine delays the dry path and the other branches to meet it. False when the delay is the
        effect itself (a reversed grain is heard after it was played): nothing is held back for it.
    wet_default: default of the engine-wide ``wet`` parameter for this type.
    source: True for sources (file player, synth, generator): they write, not transform.
    midi: True for nodes that receive MIDI events (at the head of their state; see above).
    doc: one line for the UI and docs.
    options: names of settings a patch gives that are not parameters (strings, e.g. an LV2 ``uri``).
    path_options: those of ``options`` that name files (relative to the patch's folder in a patch file,
        absolute once read; e.g. the sample an LV2 sampler loads).
    load_file: ``(st, key, path) -> None`` loads file ``path`` (absolute) as the live node's file option
        ``key`` while it plays (off the audio thread); None for types without file options.
    specialize: for a generic type whose parameters depend on its options (``lv2``): ``(options) ->
        NodeType``, the concrete type of one node (same name and kernel); raises LivehostError (one
        line) for options it cannot take. None for ordinary types.
    release: ``(st) -> None`` frees what ``init`` took outside the arena (an LV2 instance); called once
        the audio thread can no longer reach the node (or when a build is rolled back).
    save_state: ``(st) -> str | None``, the live node's own state as text (an LV2 plugin's State), read
        off the audio thread when a patch is saved; it comes back as the ``state`` option (the patch
        keeps it in a file beside itself). None for types with no such state.
    """

    name: str
    params: tuple[Param, ...]
    kernel: Callable
    state_size: Callable[[float, int], int] = _no_state
    init: Callable | None = None
    reset_from: int = 0
    latency: Callable[[dict, float], int] = _no_latency
    compensated: bool = True
    wet_default: float = 1.0
    source: bool = False
    midi: bool = False
    doc: str = ""
    category: str = "effect"
    options: tuple[str, ...] = ()
    path_options: tuple[str, ...] = ()
    load_file: Callable | None = None
    specialize: Callable[[dict], "NodeType"] | None = None
    release: Callable | None = None
    save_state: Callable | None = None

    def param(self, name: str) -> Param:
        """The declared parameter ``name`` (engine-wide ``wet``/``bypass`` included); KeyError if absent."""
        for p in all_params(self):
            if p.name == name:
                return p
        raise KeyError(name)


def resolve(nt: NodeType, options: dict | None = None) -> NodeType:
    """The concrete type of a node of type ``nt`` with ``options`` (``nt`` itself unless it specializes)."""
    return nt.specialize(dict(options or {})) if nt.specialize is not None else nt


def common_params(nt: NodeType) -> tuple[Param, ...]:
    """The engine-wide parameters every node has: ``wet`` (dry/wet crossfade) and ``bypass``."""
    return (
        Param("wet", "", 0.0, 1.0, nt.wet_default, 20.0, doc="dry/wet mix: 0 = input only, 1 = effect only"),
        Param("bypass", "", default=False, smoothing_ms=5.0, doc="bypass the node (crossfaded)"),
    )


def all_params(nt: NodeType) -> tuple[Param, ...]:
    """Every parameter of a node in engine slot order: ``wet``, ``bypass``, then the node's own."""
    return common_params(nt) + tuple(nt.params)


_REGISTRY: dict[str, NodeType] = {}


def register(nt: NodeType) -> NodeType:
    """Add a node type to the registry (once per name) and return it."""
    if nt.name in _REGISTRY and _REGISTRY[nt.name] is not nt:
        raise ValueError(f"node type {nt.name!r} declared twice")
    names = [p.name for p in all_params(nt)]
    if len(set(names)) != len(names):
        raise ValueError(f"node type {nt.name!r} has duplicate parameter names")
    _REGISTRY[nt.name] = nt
    return nt


def registry() -> dict[str, NodeType]:
    """All registered node types by name (importing :mod:`livehost.nodes` registers the built-ins)."""
    return _REGISTRY


def suggest(word: str, options: Sequence[str]) -> str:
    """A ``" (did you mean 'x'?)"`` suffix for an unknown name, or ``""``."""
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
