"""Generator source kernel: plays the audio a worker thread writes ahead into a ring in its payload.

The node's whole state is its payload (declared state size 0): a header, then a mono ring of
``cap`` samples at the engine rate (linear amplitude).  The worker (:class:`GeneratorWorker`) writes
samples at ``ring[w % cap]`` and then advances ``G_W``; the kernel reads at ``G_R`` and advances it.
Counts are absolute frame numbers stored as float64 (exact below 2**53).

Playback states: waiting (nothing played yet, until ``G_PREFILL`` frames are ahead), playing,
fading out (the ring fell to ``G_RESERVE`` frames: the reserve itself is played out under a
raised-cosine fade of ``G_FADE_FR`` frames, so an underrun never clicks), and dry (silence; every
frame counts in ``G_UNDER``).  A dry or fading ring that refills to ``G_PREFILL`` frames fades back in.
"""

from __future__ import annotations

import math

from livehost.dsp.atomics import load_acquire, store_release
from livehost.dsp.rt import rt_jit


G_W = 0  #: frames written in total (worker)
G_R = 1  #: frames read in total (kernel)
G_UNDER = 2  #: frames of silence because the ring was dry after playback started (kernel)
G_EVENTS = 3  #: underruns: times the ring ran low and playback faded out (kernel)
G_FADE = 4  #: fade position 0..1 (kernel)
G_STATE = 5  #: 0 waiting, 1 playing, 2 fading out, 3 dry (kernel)
G_CAP = 6  #: ring capacity, frames (constant)
G_PREFILL = 7  #: frames ahead needed to start or resume (constant)
G_FADE_FR = 8  #: fade length, frames (constant)
G_RESERVE = 9  #: frames ahead below which playback fades out (constant, >= G_FADE_FR)
G_HEAD = 12  #: the ring starts here

ST_WAIT, ST_PLAY, ST_FADE, ST_DRY = 0.0, 1.0, 2.0, 3.0


@rt_jit
def generator_play(pp, pc, st, buf, n, sr):
    """Write the next ``n`` frames from the ring to both channels: gain_db (dB) in pp/pc[0], ramped;
    temperature and freeze (pp/pc[1..2]) are read by the worker, not here."""
    for i in range(n):
        buf[0, i] = 0.0
        buf[1, i] = 0.0
    if st.shape[0] < G_HEAD + 1:
        return
    cap = int(st[G_CAP])
    if cap <= 0 or G_HEAD + cap > st.shape[0]:
        return
    w = int(load_acquire(st, G_W))  # the worker wrote the samples before the count
    r = int(st[G_R])
    if r > w:  # the worker was reset behind the reader: resynchronise
        r = w
    state = st[G_STATE]
    fade = st[G_FADE]
    nf = st[G_FADE_FR]
    step = 1.0 / nf if nf >= 1.0 else 1.0
    reserve = int(st[G_RESERVE])
    prefill = int(st[G_PREFILL])
    if prefill < reserve + 1:
        prefill = reserve + 1
    g0 = 10.0 ** (pp[0] / 20.0)
    g1 = 10.0 ** (pc[0] / 20.0)
    inv = 1.0 / n if n > 0 else 0.0
    for i in range(n):
        avail = w - r
        if state == ST_WAIT or state == ST_DRY:
            if avail >= prefill:
                state = ST_PLAY
            else:
                if state == ST_DRY:
                    st[G_UNDER] += 1.0
                continue
        if state == ST_PLAY and avail <= reserve:
            state = ST_FADE
            st[G_EVENTS] += 1.0
        elif state == ST_FADE and avail >= prefill:
            state = ST_PLAY
        if avail <= 0:  # cannot happen while reserve >= fade length; silence, never a jump
            state = ST_DRY
            fade = 0.0
            st[G_UNDER] += 1.0
            continue
        x = st[G_HEAD + r % cap]
        r += 1
        if state == ST_PLAY:
            fade += step
            if fade > 1.0:
                fade = 1.0
        else:
            fade -= step
            if fade <= 0.0:
                fade = 0.0
                state = ST_DRY
        if not math.isfinite(x):
            x = 0.0
        shaped = 0.5 - 0.5 * math.cos(math.pi * fade)
        g = (g0 + (g1 - g0) * ((i + 1) * inv)) * shaped
        buf[0, i] = x * g
        buf[1, i] = x * g
    store_release(st, G_R, r)  # done reading: the worker may overwrite them
    st[G_STATE] = state
    st[G_FADE] = fade
