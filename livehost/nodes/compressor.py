"""The ``compressor`` node: feed-forward, soft-knee, log-domain smooth-decoupled detector."""

from livehost.dsp.compressor import compressor_kernel, compressor_latency, compressor_state_size
from livehost.nodes.declare import NodeType, Param, register

COMPRESSOR = register(
    NodeType(
        name="compressor",
        params=(
            Param("threshold_db", "dBFS", -60.0, 0.0, -18.0, 20.0, doc="level where compression starts"),
            Param("ratio", ":1", 1.0, 20.0, 4.0, 20.0, doc="input dB per output dB above threshold"),
            Param("attack_ms", "ms", 0.1, 200.0, 10.0, 0.0, doc="gain reduction time constant (63 %)"),
            Param("release_ms", "ms", 5.0, 2000.0, 150.0, 0.0, doc="recovery time constant (63 %)"),
            Param("knee_db", "dB", 0.0, 24.0, 6.0, 20.0, doc="soft knee width (quadratic)"),
            Param("makeup_db", "dB", 0.0, 24.0, 0.0, 20.0, doc="gain after compression"),
            Param("lookahead_ms", "ms", 0.0, 10.0, 0.0, 0.0, doc="audio delayed against the detector"),
        ),
        kernel=compressor_kernel,
        state_size=compressor_state_size,
        reset_from=0,
        latency=compressor_latency,
        doc="Compressor: soft-knee feed-forward dynamics with lookahead.",
        category="dynamics",
    )
)
