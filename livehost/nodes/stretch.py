"""The ``stretch`` node: live time stretch (granular, pitch kept) or tape varispeed, with freeze."""

from livehost.dsp.stretch import MODES, RESET_FROM, stretch_init, stretch_process, stretch_state_size
from livehost.nodes.declare import NodeType, Param, register

STRETCH = register(
    NodeType(
        name="stretch",
        params=(
            Param("factor", "x", 0.0, 4.0, 2.0, 100.0,
                  doc="granular: duration factor (2 = twice as slow, pitch kept); below 0.125 = freeze"),
            Param("freeze", "", default=False, smoothing_ms=0.0,
                  doc="hold the current spot and loop its texture (recording pauses)"),
            Param("mode", "", default="granular", choices=MODES,
                  doc="granular: stretch with pitch kept; tape: varispeed (pitch follows speed)"),
            Param("speed", "x", 0.25, 4.0, 0.5, 100.0,
                  doc="tape mode: playback speed (0.5 = an octave down, half speed)"),
        ),
        kernel=stretch_process,
        state_size=stretch_state_size,
        init=stretch_init,
        reset_from=RESET_FROM,
        wet_default=1.0,
        doc="Stretch: live granular time stretch / freeze, or tape-style varispeed, of a rolling buffer.",
    )
)
