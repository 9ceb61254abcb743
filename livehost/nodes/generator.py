"""The ``generator`` source: plays audio an LSTM worker thread generates ahead into its payload ring.

A patch names its model in ``[models] generator = "models/NAME.onnx"``; the patch loader checks the
model, builds the source with :func:`generator_source` and starts a
:class:`livehost.ml.generator.worker.GeneratorWorker` on it once the engine is built.
"""

from __future__ import annotations

import numpy as np

from livehost.dsp.generator import (G_CAP, G_FADE_FR, G_HEAD, G_PREFILL, G_RESERVE, generator_play)
from livehost.nodes.declare import NodeType, Param, register

RING_S = 2.0  #: ring length (s at the engine rate)
PREFILL_MS = 40.0  #: audio ahead needed before playback starts or resumes (ms)
FADE_MS = 10.0  #: underrun fade-out / recovery fade-in (ms)

GENERATOR = register(
    NodeType(
        name="generator",
        params=(
            Param("gain_db", "dB", -60.0, 24.0, 0.0, 20.0, doc="output level"),
            Param("temperature", "", 0.0, 2.0, 0.3, 0.0,
                  doc="noise added to the model's input (in feature standard deviations)"),
            Param("freeze", "", default=False, doc="hold: loop the last half second, model paused"),
        ),
        kernel=generator_play,
        state_size=lambda sr, max_block: 0,
        reset_from=1 << 62,
        source=True,
        doc="LSTM audio generator (a worker thread streams the model's output into a ring).",
        category="source",
    )
)


def generator_payload(engine_sr: float, ring_s: float = RING_S, prefill_ms: float = PREFILL_MS,
                      fade_ms: float = FADE_MS) -> np.ndarray:
    """A fresh payload: header (capacity, prefill, fade, reserve in frames at ``engine_sr`` Hz) and an
    empty ring of ``ring_s`` seconds."""
    cap = int(round(ring_s * engine_sr))
    p = np.zeros(G_HEAD + cap)
    fade = max(1, int(round(fade_ms * engine_sr / 1000.0)))
    p[G_CAP] = cap
    p[G_FADE_FR] = fade
    p[G_RESERVE] = fade
    p[G_PREFILL] = max(fade + 1, int(round(prefill_ms * engine_sr / 1000.0)))
    return p


def generator_source(model_path: str, engine_sr: float, node_id: str = "generator",
                     values: dict | None = None) -> tuple:
    """The ``(type, id, values, payload, options)`` source tuple for :meth:`Engine.build`;
    ``options["model"]`` keeps the path for the worker.

    The model itself is not opened here (nodes sit below the ML code): the patch loader checks it
    first (:func:`livehost.engine.patching.generator_model`), and the worker loads it.
    """
    return ("generator", node_id, dict(values or {}), generator_payload(engine_sr), {"model": str(model_path)})
