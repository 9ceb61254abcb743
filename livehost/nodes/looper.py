"""The ``looper`` node: record, play, overdub, undo/redo, stop and clear a loop from one footswitch."""

from livehost.dsp.looper import (DOUBLE_S, HOLD_S, MAX_S, RESET_FROM, XFADE_MAX_MS, looper_init, looper_process,
                                 looper_state_size)
from livehost.nodes.declare import NodeType, Param, register

LOOPER = register(
    NodeType(
        name="looper",
        params=(
            Param("pedal", "", default=False, smoothing_ms=0.0,
                  doc=f"footswitch, true while down: press rec > play > overdub > play; hold {HOLD_S:g} s stop "
                      f"(from stop: clear); double press ({DOUBLE_S:g} s) undo/redo the last overdub"),
            Param("clear", "", default=False, smoothing_ms=0.0, doc="erase the loop (on the change to true)"),
            Param("level_db", "dB", -60.0, 6.0, 0.0, 20.0, doc="loop playback level"),
            Param("thru", "", default=True, smoothing_ms=5.0,
                  doc="pass the input on (off: the loop only, for loopers on parallel branches beside a dry one)"),
            Param("xfade_ms", "ms", 1.0, XFADE_MAX_MS, 5.0, 0.0,
                  doc="loop-point crossfade (set when a take closes), punch and stop fades"),
        ),
        kernel=looper_process,
        state_size=looper_state_size,
        init=looper_init,
        reset_from=RESET_FROM,
        wet_default=1.0,
        category="looper",
        doc=f"Looper: one-switch record/play/overdub/undo/stop/clear, free length up to {MAX_S:g} s, "
            "crossfaded loop point.",
    )
)
