"""The ``freq_shift`` node: single-sideband frequency shifter (Bode-style)."""

from livehost.dsp.freq_shift import freq_shift_process, freq_shift_state_size
from livehost.nodes.declare import NodeType, Param, register

FREQ_SHIFT = register(
    NodeType(
        name="freq_shift",
        params=(
            Param("shift_hz", "Hz", -2000.0, 2000.0, 100.0, 30.0,
                  doc="every component moves by this many Hz (negative = down)"),
        ),
        kernel=freq_shift_process,
        state_size=freq_shift_state_size,
        reset_from=0,
        wet_default=1.0,
        doc="Frequency shifter: moves every component by a fixed number of Hz (inharmonic, metallic).",
    )
)
