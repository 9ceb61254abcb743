"""The ``delay`` node: echoes in feedback, exact-repeats or ping-pong mode, free or tempo-synced."""

from livehost.dsp.delay import (DIVISIONS, HIGHCUT_OFF_HZ, MAX_TIME_MS, MODES, RESET_FROM, delay_init,
                                delay_process, delay_state_size)
from livehost.nodes.declare import NodeType, Param, register

DELAY = register(
    NodeType(
        name="delay",
        params=(
            Param("time_ms", "ms", 1.0, MAX_TIME_MS, 375.0, 100.0,
                  sync="time",
                  doc="echo time (glides without clicks), or a note division following the session tempo"),
            Param("sync", "", default=False, smoothing_ms=0.0, doc="take the time from bpm and division"),
            Param("bpm", "bpm", 20.0, 400.0, 120.0, 100.0, doc="tempo used when sync is on"),
            Param("division", "", default="1/8d", choices=DIVISIONS,
                  doc="note value of one echo when sync is on (d dotted, t triplet)"),
            Param("feedback", "", 0.0, 0.99, 0.4, 20.0,
                  doc="echo-to-echo gain in feedback and ping-pong modes"),
            Param("mode", "", default="feedback", choices=MODES,
                  doc="feedback: decaying echoes; repeats: exactly N taps; pingpong: echoes alternate L/R"),
            Param("repeats", "", 1.0, 16.0, 3.0, 0.0,
                  doc="repeats mode: number of taps (integer); last tap at most 16 s late"),
            Param("fade", "", 0.0, 1.0, 0.5, 20.0,
                  doc="repeats mode: tap k has gain fade**k"),
            Param("highcut_hz", "Hz", 200.0, HIGHCUT_OFF_HZ, HIGHCUT_OFF_HZ, 20.0,
                  doc="low-pass in the feedback path (each echo darker); 20000 = off"),
        ),
        kernel=delay_process,
        state_size=delay_state_size,
        init=delay_init,
        reset_from=RESET_FROM,
        wet_default=0.35,
        doc="Echo delay: feedback, exact repeats or ping-pong; tempo sync; darkening high-cut.",
    )
)
