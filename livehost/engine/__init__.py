"""The engine: a graph described by data, executed by one compiled, GIL-free audio callback.

Only this package touches the audio thread. The control side (:class:`livehost.engine.engine.Engine`)
writes parameters, programs and MIDI into a preallocated float64 arena that the callback reads.
"""
