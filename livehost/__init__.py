"""livehost: a real-time audio host for live performers.

The audio callback is one numba-compiled function that never takes the GIL; everything else
(UI, MIDI, ML workers) talks to it through preallocated shared arrays.
"""

__version__ = "0.1.0"
