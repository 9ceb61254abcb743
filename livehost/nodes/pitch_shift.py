"""The ``pitch_shift`` node: phase-vocoder (quality) or 10 ms time-domain (live) pitch shifter."""

from livehost.dsp.pitch_shift import (MODES, RESET_FROM, pitch_shift_init, pitch_shift_latency,
                                      pitch_shift_process, pitch_shift_state_size)
from livehost.nodes.declare import NodeType, Param, register

PITCH_SHIFT = register(
    NodeType(
        name="pitch_shift",
        params=(
            Param("semitones", "st", -24.0, 24.0, 0.0, 50.0, doc="transposition in semitones"),
            Param("cents", "ct", -100.0, 100.0, 0.0, 50.0, doc="fine transposition in cents"),
            Param("mode", "", default="quality", choices=MODES,
                  doc="quality: phase vocoder (43 ms latency); live: time-domain shifter for voice (10 ms)"),
        ),
        kernel=pitch_shift_process,
        state_size=pitch_shift_state_size,
        init=pitch_shift_init,
        reset_from=RESET_FROM,
        latency=pitch_shift_latency,
        wet_default=1.0,
        doc="Pitch shifter (phase vocoder, phase locked): transposes without changing duration.",
    )
)
