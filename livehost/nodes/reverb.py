"""The ``reverb`` node: Freeverb-style stereo room (8 damped combs + 4 allpasses per channel)."""

from livehost.dsp.reverb import RESET_FROM, reverb_init, reverb_kernel, reverb_state_size
from livehost.nodes.declare import NodeType, Param, register

REVERB = register(
    NodeType(
        name="reverb",
        params=(
            Param("size", "", 0.0, 1.0, 0.6, 100.0, doc="room size: scales every delay line 0.3..1x"),
            Param("damping", "", 0.0, 1.0, 0.3, 20.0, doc="high-frequency damping in the feedback loops"),
            Param("decay_s", "s", 0.1, 20.0, 1.8, 50.0, doc="RT60: time to decay by 60 dB"),
            Param("predelay_ms", "ms", 0.0, 250.0, 10.0, 0.0, doc="delay before the reverberation starts"),
            Param("width", "", 0.0, 1.0, 1.0, 20.0, doc="stereo width: 0 = mono, 1 = full"),
        ),
        kernel=reverb_kernel,
        state_size=reverb_state_size,
        init=reverb_init,
        reset_from=RESET_FROM,
        wet_default=0.25,
        doc="Reverb: stereo comb/allpass room with RT60-calibrated decay (wet only).",
        category="reverb",
    )
)
