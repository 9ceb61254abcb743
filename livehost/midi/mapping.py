"""CC -> parameter maps at run time (curves) and MIDI learn.

The ``[midi]`` section they come from is part of the patch format, parsed by :mod:`livehost.patch_midi`
(its names are re-exported here).

Curves, with ``x = value / 127``: ``linear``: ``min + (max - min) x``; ``exp``: ``min + (max - min) *
(r**x - 1) / (r - 1)`` with ``r = max / min`` when both are > 0 (so exactly geometric: ``min * r**x``,
the natural curve for Hz and ms) and ``r = 64`` otherwise; ``log`` is the inverse shape
(``log(1 + x (r - 1)) / log(r)``).  Boolean parameters switch at 64 (>= 64 is on); choice parameters
divide 0..127 into equal zones, one per choice.  A CC that has a map is consumed (not also sent to
the synth).
"""

from __future__ import annotations

import math
import threading
from typing import Callable

from livehost.nodes.declare import suggest
from livehost.patch_midi import (APIS, CURVES, TARGET_RE, MidiConfig, MidiConfigError, MidiMap,  # noqa: F401
                                 parse_map, parse_midi_section)


def curve_value(x: float, lo: float, hi: float, curve: str) -> float:
    """Map ``x`` in 0..1 onto ``lo..hi`` along ``curve`` (see the module docstring); same unit as lo/hi."""
    x = min(1.0, max(0.0, float(x)))
    if curve == "linear" or lo == hi:
        return lo + (hi - lo) * x
    r = hi / lo if (lo > 0 and hi > 0) else 64.0
    if r == 1.0:
        return lo + (hi - lo) * x
    if curve == "exp":
        u = (r ** x - 1.0) / (r - 1.0)
    else:
        u = math.log(1.0 + x * (r - 1.0)) / math.log(r)
    return lo + (hi - lo) * u


def map_value(m: MidiMap, param, value: int):
    """The patch value (float, bool or choice string) CC ``value`` (0..127) gives ``param`` (a declared
    :class:`~livehost.nodes.declare.Param`) through map ``m``."""
    x = max(0, min(127, int(value))) / 127.0
    if param.kind == "bool":
        return value >= 64
    if param.kind == "choice":
        k = min(len(param.choices) - 1, int(value) * len(param.choices) // 128)
        return param.choices[k]
    lo = param.lo if m.lo is None else m.lo
    hi = param.hi if m.hi is None else m.hi
    v = curve_value(x, lo, hi, m.curve)
    return min(param.hi, max(param.lo, v))


class MidiLearn:
    """MIDI learn: ``arm("node.param")``, and the next CC moved binds to that parameter.

    maps: the live map list to add to (e.g. ``MidiConfig.maps``; shared with the :class:`MidiRouter`);
    engine: optional, to check that the target exists when armed; on_learned(map): called after a bind.
    Thread-safe: the UI arms, the MIDI thread offers CCs.
    """

    def __init__(self, maps: list[MidiMap], engine=None, on_learned: Callable[[MidiMap], None] | None = None,
                 per_channel: bool = False):
        self.maps = maps
        self.engine = engine
        self.on_learned = on_learned
        self.per_channel = per_channel
        self._lock = threading.Lock()
        self._armed: str | None = None

    @property
    def armed(self) -> str | None:
        """The target waiting for a CC, or None."""
        return self._armed

    def arm(self, target: str) -> None:
        """Wait for the next CC to bind to ``target`` ("node_id.param"); LivehostError if it does not exist."""
        if not TARGET_RE.match(target or ""):
            raise MidiConfigError(("midi", "learn"), f"= {target!r} must be \"node_id.param\"")
        if self.engine is not None:
            node, name = target.split(".", 1)
            it = self.engine.item(node)  # EngineError for an unknown node
            names = [p.name for p in it.params]
            if name not in names:
                raise MidiConfigError(("midi", "learn"), f"= {target!r}: no parameter '{name}'{suggest(name, names)}")
        with self._lock:
            self._armed = target

    def cancel(self) -> None:
        """Stop waiting; nothing is bound."""
        with self._lock:
            self._armed = None

    def offer(self, channel: int, cc: int) -> MidiMap | None:
        """Called by the MIDI thread for every CC (channel 0..15): binds it if armed; the new map or None."""
        with self._lock:
            target = self._armed
            if target is None:
                return None
            self._armed = None
            ch = channel if self.per_channel else None
            self.maps[:] = [m for m in self.maps if not (m.cc == cc and m.channel == ch)]  # the CC is rebound
            m = MidiMap(cc, target, ch)
            self.maps.append(m)
        if self.on_learned is not None:
            self.on_learned(m)
        return m
