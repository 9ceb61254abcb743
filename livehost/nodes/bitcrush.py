"""The ``bitcrush`` node: bit-depth reduction and sample-rate reduction."""

from livehost.dsp.bitcrush import BITCRUSH_STATE, bitcrush_kernel
from livehost.nodes.declare import NodeType, Param, register

BITCRUSH = register(
    NodeType(
        name="bitcrush",
        params=(
            Param("bits", "bit", 1.0, 24.0, 8.0, 0.0, doc="quantiser resolution (fractional allowed)"),
            Param("downsample", "x", 1.0, 64.0, 1.0, 0.0, doc="sample-and-hold rate reduction factor"),
        ),
        kernel=bitcrush_kernel,
        state_size=lambda sr, max_block: BITCRUSH_STATE,
        reset_from=0,
        doc="Bit crusher: mid-tread quantiser and sample-and-hold rate reduction.",
        category="distortion",
    )
)
