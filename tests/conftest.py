"""Test-wide setup: the fault-injection node is registered before any engine compiles."""

import os

import numpy as np
import pytest

import tests.faultnode  # noqa: F401  (registers the "fault" node type)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def make_engine():
    """Factory: an offline Engine with a chain built from ``("node", type, id, values)`` tuples."""
    from livehost.engine.engine import Engine

    def make(chain=(), sr=48000, block=128, in_ch=2, out_ch=2, master=None):
        eng = Engine(sr, block, in_ch, out_ch, heap_slots=1 << 20)
        eng.build("mic", [], list(chain), dict(master or {}))
        return eng

    return make


def sine(freq, seconds, sr=48000, amp=0.5, stereo=True):
    """A float32 sine (frames, 2) at ``freq`` Hz, ``amp`` linear peak."""
    t = np.arange(int(seconds * sr)) / sr
    x = (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.stack([x, x], axis=1) if stereo else x[:, None]
