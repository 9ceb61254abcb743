"""The ``file`` source: plays an audio file (loaded off the audio thread into its state)."""

from livehost.dsp.fileplay import HEAD, file_play
from livehost.nodes.declare import NodeType, Param, register

FILE = register(
    NodeType(
        name="file",
        params=(
            Param("gain_db", "dB", -60.0, 24.0, 0.0, 20.0, doc="playback level"),
            Param("loop", "", default=False, doc="start again at the end"),
            Param("start_s", "s", 0.0, 36000.0, 0.0, 0.0, doc="where playback starts"),
        ),
        kernel=file_play,
        state_size=lambda sr, max_block: HEAD,
        reset_from=1 << 62,
        source=True,
        doc="Audio file player (loop, start offset).",
        category="source",
    )
)
