"""Run one node type's kernel over a whole signal, block by block, without the engine.

This is the ground-truth harness for kernel tests: no dry/wet, no smoothing, no graph: the kernel's
own output ("100% wet") for constant parameters.
"""

from __future__ import annotations

import numpy as np

from livehost.nodes.declare import NodeType


def param_vector(nt: NodeType, values: dict | None = None) -> np.ndarray:
    """The node's own parameters (declaration order) as the float64 vector a kernel receives.

    values: parameter name -> patch value (float, bool or choice string); missing ones take defaults.
    """
    values = dict(values or {})
    out = np.empty(len(nt.params), np.float64)
    for i, p in enumerate(nt.params):
        v = values.pop(p.name, p.default)
        out[i] = p.to_number(v)
    if values:
        raise KeyError(f"{nt.name} has no parameter(s) {sorted(values)}")
    return out


def new_state(nt: NodeType, sr: float, max_block: int) -> np.ndarray:
    """A zeroed, initialised state vector for one instance of ``nt`` (float64 slots)."""
    st = np.zeros(max(1, int(nt.state_size(float(sr), int(max_block)))), np.float64)
    if nt.init is not None:
        nt.init(st, float(sr), int(max_block))
    return st


def run_kernel(nt: NodeType, x: np.ndarray, sr: float, block: int = 128, tail: int = 0, **params) -> np.ndarray:
    """Process ``x`` (mono ``(n,)`` or stereo ``(n, 2)``, any float) through ``nt``'s kernel.

    sr: sample rate in Hz; block: frames per call; tail: extra zero frames appended (samples);
    params: parameter values by name. Returns float64 ``(n + tail, 2)``.
    """
    x = np.asarray(x, np.float64)
    if x.ndim == 1:
        x = np.stack([x, x], axis=1)
    if tail:
        x = np.concatenate([x, np.zeros((tail, 2))])
    pv = param_vector(nt, params)
    st = new_state(nt, sr, block)
    buf = np.zeros((2, block), np.float64)
    y = np.empty_like(x)
    for s in range(0, len(x), block):
        n = min(block, len(x) - s)
        buf[:, :n] = x[s:s + n].T
        nt.kernel(pv, pv, st, buf, n, float(sr))
        y[s:s + n] = buf[:, :n].T
    return y
