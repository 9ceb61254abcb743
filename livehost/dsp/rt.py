"""How livehost compiles code that runs on a real-time thread (the audio callback and every kernel it
calls): one decorator, so no kernel can forget an option.

- ``nogil=True``: the callback never takes Python's GIL.
- ``error_model="numpy"``: a division by zero gives inf/nan (caught by the engine's NaN guard) instead
  of raising ZeroDivisionError, which would make the ``cfunc`` wrapper take the GIL to report it.
- ``cache=True``: compiled once, then loaded from numba's on-disk cache.

Bounds checks are off for speed; ``tests/engine/test_boundscheck.py`` runs the engine and DSP suites
again with ``NUMBA_BOUNDSCHECK=1`` so that an out-of-block access fails a test instead of corrupting
the arena silently.
"""

from __future__ import annotations

from numba import njit

RT_OPTIONS = {"cache": True, "nogil": True, "error_model": "numpy"}


def rt_jit(fn=None, **options):
    """``numba.njit`` with the real-time options (plus any ``options``, e.g. ``inline``, ``fastmath``);
    usable as ``@rt_jit`` or ``@rt_jit(inline="always")``."""
    jit = njit(**{**RT_OPTIONS, **options})
    return jit if fn is None else jit(fn)
