"""File player source kernel: plays interleaved stereo samples kept after its 3-slot header."""

from __future__ import annotations

from livehost.dsp.rt import rt_jit


P_POS = 0  #: play position, frames
P_STARTED = 2  #: 1 once the first block has started at ``start_s``, else 0
HEAD = 3  #: the file's samples start here, interleaved L, R, L, R, ...


@rt_jit
def file_play(pp, pc, st, buf, n, sr):
    """Write the next ``n`` frames of the file: gain_db (dB), loop (0/1), start_s (s) in pp/pc[0..2].

    The first block starts at ``start_s``; at the end it loops to 0 when ``loop`` is on, else silence.
    """
    nf = (st.shape[0] - HEAD) // 2
    if st[P_STARTED] == 0.0:
        pos = int(pc[2] * sr)
        if pos > nf:
            pos = nf
        st[P_STARTED] = 1.0
    else:
        pos = int(st[P_POS])
    loop = pc[1] >= 0.5
    g0 = 10.0 ** (pp[0] / 20.0)
    g1 = 10.0 ** (pc[0] / 20.0)
    inv = 1.0 / n if n > 0 else 0.0
    for i in range(n):
        if pos >= nf and loop and nf > 0:
            pos = 0
        if pos >= nf:
            buf[0, i] = 0.0
            buf[1, i] = 0.0
            continue
        g = g0 + (g1 - g0) * ((i + 1) * inv)
        buf[0, i] = st[HEAD + 2 * pos] * g
        buf[1, i] = st[HEAD + 2 * pos + 1] * g
        pos += 1
    st[P_POS] = pos
