"""The ``distortion`` node: 4x oversampled waveshaper with tone control."""

from livehost.dsp.distortion import (
    RESET_FROM, SHAPES, distortion_init, distortion_kernel, distortion_latency, distortion_state_size)
from livehost.nodes.declare import NodeType, Param, register

DISTORTION = register(
    NodeType(
        name="distortion",
        params=(
            Param("drive_db", "dB", 0.0, 48.0, 18.0, 20.0, doc="gain into the shaper"),
            Param("shape", choices=SHAPES, default="tanh", doc="transfer curve"),
            Param("tone_hz", "Hz", 200.0, 20000.0, 12000.0, 20.0, doc="post low-pass corner frequency"),
            Param("output_db", "dB", -48.0, 12.0, -6.0, 20.0, doc="level after the shaper"),
        ),
        kernel=distortion_kernel,
        state_size=distortion_state_size,
        init=distortion_init,
        reset_from=RESET_FROM,
        latency=distortion_latency,
        doc="Waveshaping distortion (tanh/hard/soft/fold/asym), 4x oversampled.",
        category="distortion",
    )
)
