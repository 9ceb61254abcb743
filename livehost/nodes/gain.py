"""The ``gain`` node: level in dB and stereo pan."""

from livehost.dsp.gain import gain_pan
from livehost.nodes.declare import NodeType, Param, register

GAIN = register(
    NodeType(
        name="gain",
        params=(
            Param("gain_db", "dB", -60.0, 24.0, 0.0, 20.0, doc="level change"),
            Param("pan", "", -1.0, 1.0, 0.0, 20.0, doc="stereo position: -1 left, 0 centre, +1 right"),
        ),
        kernel=gain_pan,
        doc="Level and pan.",
        category="utility",
    )
)
