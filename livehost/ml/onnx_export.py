"""Exporting a trained classifier to ONNX and checking onnxruntime against torch (training side only).

The graph takes one float32 input ``features`` with a dynamic batch axis and returns ``probabilities``
``(batch, classes)``; preprocessing (log/standardisation) and ensemble averaging are inside it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import numpy as np

from livehost.errors import LivehostError
from livehost.ml.classifier import ort_session

INPUT_NAME = "features"
OUTPUT_NAME = "probabilities"
OPSET = 18


def export_onnx(model, example: np.ndarray, path: str | os.PathLike) -> Path:
    """Write ``model`` (eval mode, ``forward(x) -> probabilities``) as ONNX to ``path``.

    example: a float input batch ``(batch, ...)`` used to trace shapes (the batch axis is exported as
    dynamic).  Uses torch's dynamo exporter (torch >= 2.5), falling back to the TorchScript exporter if
    dynamo fails.  The file is written atomically (temporary file, then rename).  Returns the path.
    """
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model.eval()
    x = torch.tensor(np.asarray(example), dtype=torch.float32)
    if x.shape[0] < 2:  # a batch of 1 would let the exporter specialise the batch axis
        x = torch.cat([x, x])
    with atomic_onnx(path) as tmp:
        _export(torch, model, x, tmp)
    return path


@contextlib.contextmanager
def atomic_onnx(path: Path):
    """Yield a temporary file beside ``path`` for an ONNX exporter to write, with the exporters'
    loggers and warnings quiet; on success it gets a normal file's mode and is renamed over ``path``
    (an interrupted export never leaves a half-written model), on failure it is removed."""
    import logging
    import warnings

    fd, tmp = tempfile.mkstemp(suffix=".onnx", dir=path.parent)
    os.close(fd)
    quiet = [logging.getLogger(n) for n in ("torch.onnx", "torch.export", "torch._dynamo", "onnxscript")]
    levels = [lg.level for lg in quiet]
    try:
        for lg in quiet:
            lg.setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp made it private; give it a normal file's mode
        os.replace(tmp, path)
    finally:
        for lg, lv in zip(quiet, levels):
            lg.setLevel(lv)
        if os.path.exists(tmp):
            os.unlink(tmp)


def _export(torch, model, x, tmp: str) -> None:
    """dynamo export with a dynamic batch axis; the TorchScript exporter if that fails."""
    try:
        batch = torch.export.Dim("batch", min=1, max=1 << 16)
        prog = torch.onnx.export(model, (x,), input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                                 dynamic_shapes={"x": {0: batch}}, dynamo=True, opset_version=OPSET,
                                 external_data=False, verbose=False)
        prog.save(tmp, external_data=False)
    except Exception:  # noqa: BLE001  (any exporter failure: try the legacy path once)
        torch.onnx.export(model, (x,), tmp, input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                          dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
                          dynamo=False, opset_version=OPSET)


def check_onnx(model, path: str | os.PathLike, X: np.ndarray, tol: float = 1e-5) -> float:
    """Max abs difference between torch and onnxruntime probabilities on inputs ``X``; raises
    :class:`LivehostError` when it exceeds ``tol`` (the export is then not trusted)."""
    import torch

    x32 = np.ascontiguousarray(X, np.float32)
    with torch.no_grad():
        ref = model(torch.from_numpy(x32)).numpy()
    got = ort_session(path).run([OUTPUT_NAME], {INPUT_NAME: x32})[0]
    if got.shape != ref.shape:
        raise LivehostError(f"{path}: onnxruntime output shape {got.shape} != torch {ref.shape}")
    diff = float(np.max(np.abs(got.astype(np.float64) - ref.astype(np.float64)))) if ref.size else 0.0
    if not diff <= tol:
        raise LivehostError(f"{path}: onnxruntime differs from torch by {diff:.3g} (> {tol:g})")
    return diff
