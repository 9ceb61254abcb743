"""Exporting the frame LSTM to ONNX for streaming, and checking the export (training side only).

The graph runs ONE step: inputs ``x`` (1, 1, dim) float32 raw feature frame, ``h0`` and ``c0``
(layers, 1, hidden) float32 LSTM state; outputs ``y`` (1, 1, dim) the predicted next frame, ``h`` and
``c`` the new state.  A caller streams by feeding ``h``/``c`` back as ``h0``/``c0``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from livehost.errors import LivehostError
from livehost.ml.onnx_export import atomic_onnx

INPUTS = ("x", "h0", "c0")
OUTPUTS = ("y", "h", "c")
OPSET = 18


def export_stream_onnx(net, path: str | os.PathLike) -> Path:
    """Write ``net`` (a :class:`~.model.FrameLSTM`) as a one-step ONNX graph at ``path`` (atomically).

    Uses torch's dynamo exporter (the recipe checked in ``shared/research/scripts/lstm_export.py``),
    falling back to the TorchScript exporter if dynamo fails.  Returns the path.
    """
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    net = net.eval()
    x = torch.zeros(1, 1, net.dim)
    h, c = net.zero_state(1)
    with atomic_onnx(path) as tmp:
        try:
            prog = torch.onnx.export(net, (x, h, c), input_names=list(INPUTS), output_names=list(OUTPUTS),
                                     dynamo=True, opset_version=OPSET, external_data=False, verbose=False)
            prog.save(tmp, external_data=False)
        except Exception:  # noqa: BLE001  (any dynamo failure: the legacy exporter once)
            torch.onnx.export(net, (x, h, c), tmp, input_names=list(INPUTS), output_names=list(OUTPUTS),
                              dynamo=False, opset_version=OPSET)
    return path


def stream_onnx(path: str | os.PathLike, frames: np.ndarray, layers: int, hidden: int) -> np.ndarray:
    """Run the ONNX model step by step over ``frames`` (steps, dim) from a zero state; returns the
    predictions (steps, dim) float32."""
    from livehost.ml.generator.worker import ort_session

    sess = ort_session(path)
    h = np.zeros((layers, 1, hidden), np.float32)
    c = np.zeros_like(h)
    out = np.empty((len(frames), frames.shape[1]), np.float32)
    for t, f in enumerate(np.asarray(frames, np.float32)):
        y, h, c = sess.run(None, {"x": f[None, None, :], "h0": h, "c0": c})
        out[t] = y[0, 0]
    return out


def check_stream(net, path: str | os.PathLike, frames: np.ndarray, tol: float = 1e-5) -> float:
    """Max abs difference between onnxruntime streamed one step at a time and torch run over the whole
    sequence at once; :class:`LivehostError` when above ``tol``."""
    import torch

    x = torch.as_tensor(np.asarray(frames, np.float32))[None]
    h, c = net.zero_state(1)
    with torch.no_grad():
        ref = net.eval()(x, h, c)[0][0].numpy()
    got = stream_onnx(path, frames, net.layers, net.hidden)
    diff = float(np.max(np.abs(got.astype(np.float64) - ref))) if ref.size else 0.0
    if not diff <= tol:
        raise LivehostError(f"{path}: streamed onnxruntime differs from torch by {diff:.3g} (> {tol:g})")
    return diff
