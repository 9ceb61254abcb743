"""The ``looper`` node: record, play, overdub, undo/redo, stop and clear a loop from one footswitch."""

from livehost.dsp.looper import (DOUBLE_S, HOLD_S, MAX_S, QUANTISE, RESET_FROM, XFADE_MAX_MS, looper_init,
                                 looper_process, looper_state_size)
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
            Param("quantise", "", default="off", choices=QUANTISE,
                  doc="loop length: off = free; bar / beat = the closing press rounds it to the nearest whole "
                      "number (at least one) of bars / beats of the tempo, the take recording on or closing there"),
            Param("bars", "bars", 0.0, 64.0, 0.0, 0.0,
                  doc="0 = the press closes the take; N = the take closes by itself after N bars of the tempo"),
            Param("beats", "beats", 1.0, 16.0, 4.0, 0.0, doc="beats per bar (for quantise = bar and bars)"),
            Param("beat_ms", "ms", 100.0, 3000.0, 500.0, 0.0, sync="time", follow="1/4",
                  doc="one beat, or a note division following the session tempo; left out: \"1/4\", following it"),
        ),
        kernel=looper_process,
        state_size=looper_state_size,
        init=looper_init,
        reset_from=RESET_FROM,
        wet_default=1.0,
        category="looper",
        doc=f"Looper: one-switch record/play/overdub/undo/stop/clear, free or whole-bar length up to {MAX_S:g} s, "
            "crossfaded loop point.",
    )
)
