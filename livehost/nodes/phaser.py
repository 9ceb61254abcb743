"""The ``phaser`` node: LFO-swept chain of first-order allpasses with feedback."""

from livehost.dsp.modulation import PHASER_STAGES, PHASER_STATE, phaser_kernel
from livehost.nodes.declare import NodeType, Param, register

PHASER = register(
    NodeType(
        name="phaser",
        params=(
            Param("rate_hz", "Hz", 0.02, 10.0, 0.5, 20.0, sync="rate",
                  doc="LFO rate, or a note division (one cycle each) following the session tempo"),
            Param("centre_hz", "Hz", 50.0, 8000.0, 800.0, 50.0, doc="allpass break frequency at LFO centre"),
            Param("depth_oct", "oct", 0.0, 4.0, 1.5, 50.0, doc="sweep, peak, either way"),
            Param("feedback", "", -0.95, 0.95, 0.3, 20.0, doc="chain output fed back to its input"),
            Param("stages", choices=PHASER_STAGES, default="4", doc="allpass stages (notches = stages/2)"),
            Param("spread", "", 0.0, 1.0, 0.0, 20.0, doc="stereo LFO offset: 0 = none, 1 = 180 degrees"),
        ),
        kernel=phaser_kernel,
        state_size=lambda sr, max_block: PHASER_STATE,
        reset_from=0,
        wet_default=0.5,
        doc="Phaser: swept allpass chain (wet only; the wet mix makes the notches).",
        category="modulation",
    )
)
