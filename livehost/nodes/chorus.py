"""The ``chorus`` node: up to four LFO-modulated delay voices."""

from livehost.dsp.modulation import chorus_kernel, chorus_state_size
from livehost.nodes.declare import NodeType, Param, register

CHORUS = register(
    NodeType(
        name="chorus",
        params=(
            Param("rate_hz", "Hz", 0.05, 10.0, 0.8, 20.0, sync="rate",
                  doc="LFO rate, or a note division (one cycle each) following the session tempo"),
            Param("delay_ms", "ms", 2.0, 40.0, 12.0, 50.0, doc="centre delay of the voices"),
            Param("depth_ms", "ms", 0.0, 20.0, 3.0, 50.0, doc="delay modulation, peak, either way"),
            Param("voices", choices=("1", "2", "3", "4"), default="2", doc="voices, LFO phases evenly spread"),
            Param("spread", "", 0.0, 1.0, 0.5, 20.0, doc="stereo LFO offset: 0 = none, 1 = 90 degrees"),
        ),
        kernel=chorus_kernel,
        state_size=chorus_state_size,
        reset_from=0,
        wet_default=0.5,
        doc="Chorus: modulated delay voices (output wet only; the wet mix adds the dry signal).",
        category="modulation",
    )
)
