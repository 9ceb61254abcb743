"""The ``flanger`` node: a short LFO-swept delay with feedback (comb filter when mixed with dry)."""

from livehost.dsp.modulation import flanger_kernel, flanger_state_size
from livehost.nodes.declare import NodeType, Param, register

FLANGER = register(
    NodeType(
        name="flanger",
        params=(
            Param("rate_hz", "Hz", 0.02, 10.0, 0.25, 20.0, sync="rate",
                  doc="LFO rate, or a note division (one cycle each) following the session tempo"),
            Param("delay_ms", "ms", 0.1, 10.0, 2.5, 50.0, doc="centre delay"),
            Param("depth", "", 0.0, 1.0, 0.8, 20.0, doc="sweep as a fraction of the centre delay, either way"),
            Param("feedback", "", -0.95, 0.95, 0.5, 20.0, doc="delayed output fed back into the delay"),
            Param("spread", "", 0.0, 1.0, 0.0, 20.0, doc="stereo LFO offset: 0 = none, 1 = 180 degrees"),
        ),
        kernel=flanger_kernel,
        state_size=flanger_state_size,
        reset_from=0,
        wet_default=0.5,
        doc="Flanger: swept short delay with feedback (wet only; the wet mix makes the comb).",
        category="modulation",
    )
)
