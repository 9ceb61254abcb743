"""The ``reverse`` node: live input played backwards in overlapping windows."""

from livehost.dsp.reverse import (MAX_WINDOW_MS, MIN_WINDOW_MS, RESET_FROM, reverse_init, reverse_latency,
                                  reverse_process, reverse_state_size)
from livehost.nodes.declare import NodeType, Param, register

REVERSE = register(
    NodeType(
        name="reverse",
        params=(
            Param("window_ms", "ms", MIN_WINDOW_MS, MAX_WINDOW_MS, 300.0, 200.0,
                  doc="length of each reversed window (output lags by 0..2 windows)"),
        ),
        kernel=reverse_process,
        state_size=reverse_state_size,
        init=reverse_init,
        reset_from=RESET_FROM,
        latency=reverse_latency,
        compensated=False,  # the grain's delay is the effect: the dry voice is not held back to meet it
        wet_default=1.0,
        doc="Reverse: plays the last window backwards, two grains crossfaded (raised cosine).",
    )
)
