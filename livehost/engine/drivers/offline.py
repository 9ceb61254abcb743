"""The offline driver: the same compiled block function, as fast as possible, on the calling thread."""

from __future__ import annotations

from typing import Callable

import numpy as np

from livehost.engine.engine import Engine


def render(engine: Engine, frames: int, inp: np.ndarray | None = None, block: int | None = None,
           on_block: Callable[[int], None] | None = None) -> np.ndarray:
    """Render ``frames`` frames; returns float32 ``(frames, out_ch)``.

    inp: optional float32 device input ``(frames, in_ch)`` (what a microphone would have given);
    block: frames per call (default the engine's block size; renders equal live only at equal block);
    on_block: called with the block index before each block (edits, automation); pending fades are
    serviced between blocks as a live control thread would.
    """
    block = int(block or engine.max_block)
    out = np.zeros((frames, engine.out_ch), np.float32)
    if inp is not None:
        inp = np.ascontiguousarray(inp, np.float32)
        if len(inp) < frames:
            inp = np.concatenate([inp, np.zeros((frames - len(inp), inp.shape[1]), np.float32)])
    if on_block is None:
        # no per-block hook: loop inside compiled code, servicing edits between chunks of ~1 s
        chunk = max(1, int(engine.sr) // block) * block
        for s in range(0, frames, chunk):
            engine.process_many(inp, out, s, min(chunk, frames - s), block)
            engine.service()
        return out
    k = 0
    for s in range(0, frames, block):
        n = min(block, frames - s)
        on_block(k)
        engine.process(inp, out, off=s, n=n)
        engine.service()
        k += 1
    return out
