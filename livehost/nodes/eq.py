"""The ``eq`` node: three-band equaliser (low shelf, peaking mid, high shelf)."""

from livehost.dsp.eq import EQ_STATE, eq_kernel
from livehost.nodes.declare import NodeType, Param, register

EQ = register(
    NodeType(
        name="eq",
        params=(
            Param("low_hz", "Hz", 20.0, 1000.0, 120.0, 20.0, doc="low shelf corner frequency"),
            Param("low_db", "dB", -24.0, 24.0, 0.0, 20.0, doc="low shelf gain"),
            Param("mid_hz", "Hz", 100.0, 10000.0, 1000.0, 20.0, doc="mid band centre frequency"),
            Param("mid_q", "", 0.1, 10.0, 0.7071, 20.0, doc="mid band quality factor"),
            Param("mid_db", "dB", -24.0, 24.0, 0.0, 20.0, doc="mid band gain"),
            Param("high_hz", "Hz", 1000.0, 20000.0, 8000.0, 20.0, doc="high shelf corner frequency"),
            Param("high_db", "dB", -24.0, 24.0, 0.0, 20.0, doc="high shelf gain"),
        ),
        kernel=eq_kernel,
        state_size=lambda sr, max_block: EQ_STATE,
        reset_from=0,
        doc="Three-band EQ: low shelf, peaking mid, high shelf.",
        category="filter",
    )
)
