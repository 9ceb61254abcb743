"""The control side's model of the graph (sources, chain, layers, master) and its compiler to rows.

The model holds Python objects; :func:`compile_program` turns it into the flat rows the compiled
callback executes (see :mod:`livehost.engine.layout`). Compiling never touches numba.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from livehost.engine import layout as L
from livehost.nodes.declare import NodeType, Param, all_params

BRANCH_GAIN = Param("gain_db", "dB", -60.0, 24.0, 0.0, 20.0, doc="branch level in the layer's mix")
LAYER_PARAMS = (
    Param("wet", "", 0.0, 1.0, 1.0, 20.0, doc="dry/wet: 0 = layer input only, 1 = branches only"),
    Param("bypass", "", default=False, smoothing_ms=5.0, doc="bypass the whole layer (crossfaded)"),
)


@dataclass
class Node:
    """One node instance: its type, id, current values (patch units) and arena placement."""

    id: str
    type: NodeType
    values: dict
    payload: np.ndarray | None = None  # extra state appended after the declared state (file data)
    options: dict = field(default_factory=dict)  # non-parameter settings saved with the patch (file path)
    pbase: int = -1
    sbase: int = -1
    ssize: int = 0
    slot: int = -1
    kind: int = -1
    cbase: int = 0  # latency compensation delay of the dry path (0 = the node never has latency)
    csize: int = 0
    holds: int = 0  # workers holding a view of this node's memory (see Engine.hold_payload)

    @property
    def params(self) -> tuple[Param, ...]:
        """Every parameter in slot order (wet, bypass, own)."""
        return all_params(self.type)


@dataclass
class Branch:
    """One parallel branch of a layer: its mix gain (dB) and its chain."""

    gain_db: float
    chain: list
    cbase: int = 0  # delay aligning this branch with the layer's slowest one (0 = none)
    csize: int = 0


@dataclass
class Layer:
    """Parallel branches mixed back with per-branch gain, and the layer's own dry/wet and bypass."""

    id: str
    branches: list[Branch]
    values: dict
    pbase: int = -1
    slot: int = -1
    cbase: int = 0  # delay of the layer's dry path by its latency (0 = none)
    csize: int = 0

    @property
    def params(self) -> tuple[Param, ...]:
        """Layer parameters in slot order: wet, bypass, then one gain per branch."""
        return LAYER_PARAMS + tuple(BRANCH_GAIN for _ in self.branches)

    def numbers(self) -> list[float]:
        """Slot values (engine floats) for wet, bypass and each branch gain."""
        return [LAYER_PARAMS[0].to_number(self.values.get("wet", 1.0)),
                LAYER_PARAMS[1].to_number(self.values.get("bypass", False))] + [
            float(b.gain_db) for b in self.branches]


class ProgramTooBig(RuntimeError):
    """The graph needs more rows or nested buffers than the engine has."""


@dataclass
class Block:
    """A bare arena block (offset, size) owned by the graph, e.g. a compensation delay being replaced."""

    off: int
    size: int


def _row(op, kind=0, buf=0, buf2=0, buf3=0, pbase=0, npar=0, sbase=0, ssize=0, slot=0, reset=0, aux=0, comp=0):
    r = np.zeros(L.ROW_W)
    r[[L.R_OP, L.R_KIND, L.R_BUF, L.R_BUF2, L.R_BUF3, L.R_PBASE, L.R_NP, L.R_SBASE, L.R_SSIZE, L.R_SLOT,
       L.R_RESET, L.R_AUX, L.R_COMP]] = [op, kind, buf, buf2, buf3, pbase, npar, sbase, ssize, slot, reset, aux, comp]
    return r


def node_row(node: Node, op: int, buf: int, buf2: int) -> np.ndarray:
    """The row running ``node`` on ``buf`` (with scratch ``buf2``)."""
    return _row(op, node.kind, buf, buf2, 0, node.pbase, len(node.params), node.sbase, node.ssize, node.slot,
                min(node.type.reset_from, node.ssize), 1 if node.type.midi else 0, node.cbase)


def compile_program(input_mode: str, sources: list[Node], chain: list) -> np.ndarray:
    """Rows for: input (device input or nothing) + sources into buffer 0, the tap copy, the chain.

    input_mode: ``"mic"`` (device input) or anything else (silence before the sources add in).
    """
    rows: list[np.ndarray] = []
    if input_mode == "mic":
        rows.append(_row(L.OP_INPUT, buf=L.BUF_MAIN))
    else:
        rows.append(_row(L.OP_ZERO, buf=L.BUF_MAIN))
    for s in sources:
        rows.append(node_row(s, L.OP_SOURCE, L.BUF_MAIN, L.BUF_SRC))
    rows.append(_row(L.OP_COPY, buf=L.BUF_MAIN, buf2=L.BUF_TAP))
    rows.append(_row(L.OP_METER, buf=L.BUF_TAP, slot=L.SLOT_INPUT))
    _compile_chain(chain, L.BUF_MAIN, 1, rows)
    if len(rows) > L.MAX_OPS:
        raise ProgramTooBig(f"the graph needs {len(rows)} rows, the engine runs at most {L.MAX_OPS}")
    return np.array(rows, np.float64).reshape(len(rows), L.ROW_W)


def _compile_chain(chain: list, buf: int, free: int, rows: list) -> None:
    for item in chain:
        if isinstance(item, Node):
            rows.append(node_row(item, L.OP_NODE, buf, L.BUF_DRY))
            continue
        # a layer: dry copy, accumulator, one buffer per branch (reused), each branch delayed to the
        # slowest one, the dry path delayed by the layer's latency, then dry/wet into buf
        if free + 3 > L.BUF_FREE:
            raise ProgramTooBig("layers nested too deeply for the engine's buffers")
        dry, acc, br = free, free + 1, free + 2
        npar = len(item.params)
        rows.append(_row(L.OP_LAYER, pbase=item.pbase, npar=npar))
        rows.append(_row(L.OP_COPY, buf=buf, buf2=dry))
        rows.append(_row(L.OP_ZERO, buf=acc))
        for j, b in enumerate(item.branches):
            rows.append(_row(L.OP_COPY, buf=dry, buf2=br))
            _compile_chain(b.chain, br, free + 3, rows)
            if b.cbase:
                rows.append(_row(L.OP_DELAY, buf=br, comp=b.cbase))
            rows.append(_row(L.OP_MIXADD, buf=br, buf2=acc, pbase=item.pbase, npar=npar, aux=2 + j))
        if item.cbase:
            rows.append(_row(L.OP_DELAY, buf=dry, comp=item.cbase))
        rows.append(_row(L.OP_DRYWET, buf=buf, buf2=acc, buf3=dry, pbase=item.pbase, npar=npar, slot=item.slot))


def walk(chain: list):
    """Every Node and Layer in ``chain``, depth first, in processing order."""
    for item in chain:
        yield item
        if isinstance(item, Layer):
            for b in item.branches:
                yield from walk(b.chain)


def find(chain: list, node_id: str):
    """(container list, index, item) for the node or layer ``node_id``, or None."""
    for i, item in enumerate(chain):
        if item.id == node_id:
            return chain, i, item
        if isinstance(item, Layer):
            for b in item.branches:
                hit = find(b.chain, node_id)
                if hit:
                    return hit
    return None
