"""The ``filter`` node: one RBJ-cookbook biquad (lowpass .. highshelf), swept without zipper."""

from livehost.dsp.biquad import FILTER_STATE, MODES, filter_kernel
from livehost.nodes.declare import NodeType, Param, register

FILTER = register(
    NodeType(
        name="filter",
        params=(
            Param("mode", choices=MODES, default="lowpass", doc="filter response"),
            Param("freq_hz", "Hz", 20.0, 20000.0, 1000.0, 20.0, doc="cutoff / centre frequency"),
            Param("q", "", 0.1, 18.0, 0.7071, 20.0, doc="resonance (quality factor); 0.7071 = Butterworth"),
            Param("gain_db", "dB", -24.0, 24.0, 0.0, 20.0, doc="boost/cut of peak and shelf modes"),
        ),
        kernel=filter_kernel,
        state_size=lambda sr, max_block: FILTER_STATE,
        reset_from=0,
        doc="Biquad filter (RBJ cookbook): low/high/band-pass, notch, peak, shelves.",
        category="filter",
    )
)
