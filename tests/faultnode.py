"""A misbehaving node for safety tests: emits NaN, Inf, or grows without bound, on demand."""

from numba import njit

from livehost.nodes.declare import NodeType, Param, register


@njit(cache=True, nogil=True)
def fault_kernel(pp, pc, st, buf, n, sr):
    """mode 0 passes, 1 writes NaN, 2 writes +Inf, 3 multiplies by a gain growing x2 per block."""
    mode = int(pc[0])
    if mode == 3:
        st[0] = 1.0 if st[0] == 0.0 else st[0] * 2.0
    for ch in range(2):
        for i in range(n):
            if mode == 1 and i == n // 2:
                buf[ch, i] = float("nan")
            elif mode == 2 and i == 3:
                buf[ch, i] = float("inf")
            elif mode == 3:
                buf[ch, i] *= st[0]


FAULT = register(NodeType(
    name="fault",
    params=(Param("mode", choices=("ok", "nan", "inf", "runaway"), default="ok"),),
    kernel=fault_kernel,
    state_size=lambda sr, mb: 4,
    doc="test-only fault injector",
))


@njit(cache=True, nogil=True)
def midi_probe_kernel(pp, pc, st, buf, n, sr):
    """Writes an impulse of height velocity/127 at each note-on's offset; panic writes -0.5 at offset."""
    for i in range(n):
        buf[0, i] = 0.0
        buf[1, i] = 0.0
    cnt = int(st[0])
    for k in range(cnt):
        off = int(st[1 + 4 * k])
        status = int(st[2 + 4 * k])
        if status == 0xFF:
            buf[0, off] = -0.5
        elif status & 0xF0 == 0x90:
            buf[0, off] = st[4 + 4 * k] / 127.0
            buf[1, off] = st[3 + 4 * k] / 127.0


MIDI_PROBE = register(NodeType(
    name="midiprobe",
    params=(),
    kernel=midi_probe_kernel,
    state_size=lambda sr, mb: 1 + 256 * 4,
    source=True,
    midi=True,
    doc="test-only: MIDI events as impulses",
))
