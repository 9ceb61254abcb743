"""The ``master`` section: output gain, safety limiter (ceiling), mute. Always last, never bypassed."""

from livehost.dsp.limiter import LOOKAHEAD_S, limiter_init, limiter_state_size, master_kernel
from livehost.nodes.declare import NodeType, Param, register

MASTER = register(
    NodeType(
        name="master",
        params=(
            Param("gain_db", "dB", -60.0, 24.0, 0.0, 20.0, doc="output level before the limiter"),
            Param("ceiling_db", "dBFS", -24.0, 0.0, -0.3, 20.0, doc="no sample ever leaves above this"),
            Param("release_ms", "ms", 5.0, 2000.0, 100.0, 0.0, doc="limiter recovery time"),
            Param("mute", "", default=False, smoothing_ms=5.0, doc="silence the output (ramped)"),
        ),
        kernel=master_kernel,
        state_size=limiter_state_size,
        init=limiter_init,
        reset_from=1,
        latency=lambda values, sr: int(round(LOOKAHEAD_S * sr)),
        doc="Master gain, safety limiter and mute.",
        category="master",
    )
)
