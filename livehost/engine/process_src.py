"""The compiled audio path. This file is a template: :mod:`livehost.engine.codegen` splices the
node-kind dispatch (generated from the node registry) in place of the marker below and imports the
result from livehost's cache folder, so that one numba cache entry matches one set of kernels.

Nothing here allocates, locks, does I/O or touches Python objects: ``process_block`` runs inside the
PortAudio callback or the JACK process callback (numba ``cfunc`` functions) with no GIL, and the
offline and null drivers call the very same function, so a render is bit for bit what the live stream played.
"""

import math

import numpy as np
from numba import carray, cfunc, types

from livehost.dsp.atomics import load_acquire, store_release
from livehost.dsp.compdelay import C_CAP, C_HEAD, C_TARGET, comp_delay
from livehost.dsp.cptr import (
    call_i32_ppu32, call_i32_pu32pz, call_p_pu32, call_u32_p, call_void_p, f32_ptr, f64_ptr, i64_ptr, peek_u8,
)
from livehost.dsp.limiter import L_GMIN, master_kernel
from livehost.dsp.rt import rt_jit
from livehost.engine.clock import monotonic_ns
from livehost.engine.devmidi import dring_take, tap_push
from livehost.engine.layout import (
    H_ACK, H_BEV, H_DEV, H_DEV_DROPPED, H_JACK_XRUNS, H_MIDI, H_MIDI_CAP, H_MIDI_R, H_MIDI_W, MAX_BLOCK_EVENTS, MIDI_W, H_IN_CH, H_LEN, H_MASTER_SS, H_OUT_CH, BUF_TAP, OP_LAYER, H_BUF, H_CALLBACKS, H_FRAMES, H_GEN, H_LAST_FLAGS, H_LAST_NS, H_LIM_MIN, H_LOAD,
    H_LOAD_CAP, H_LOAD_COUNT, H_LOAD_MAX, H_MASTER_NP, H_MASTER_P, H_MASTER_S, H_MAXBLOCK, H_METER,
    H_NAN_RESETS, H_NBUF, H_NONFINITE_OUT, H_NOPS0, H_NOPS1, H_PROG0, H_PROG1, H_REC, H_REC_CAP,
    H_REC_DROPS, H_REC_ON, H_REC_R, H_REC_W, H_SILENT_IN, H_IN_SEL, IN_SEL_BASE, H_SR, H_TAP, H_TAP_CAP, H_TAP_W, H_XRUNS,
    METER_W, OP_COPY, OP_DRYWET, OP_INPUT, OP_METER, OP_MIXADD, OP_NODE, OP_SOURCE, OP_ZERO, P_BYPASS,
    OP_DELAY, P_OWN, P_WET, R_AUX, R_BUF, R_COMP, R_BUF2, R_BUF3, R_KIND, R_NP, R_OP, R_PBASE, R_RESET, R_SBASE, R_SLOT,
    R_SSIZE, ROW_W, SLOT_INPUT, SLOT_MASTER, TAP_CH,
    JT_ARENA, JT_EVENT, JT_GET_BUFFER, JT_IN, JT_MAX_PORTS, JT_MIDI_CLEAR, JT_MIDI_COUNT, JT_MIDI_GET,
    JT_MIDI_IN, JT_MIDI_OUT, JT_MIDI_WRITE, JT_NIN, JT_NOUT, JT_OUT, JT_PORTS, JT_SIZE, JT_XRUNS_SEEN,
    MAX_DEV_EVENTS, H_CLOCK_LAST, H_CLOCK_OUT, H_CLOCK_PHASE, H_CLOCK_RUN, H_CLOCK_SENT, JT_CLIENT, JT_CLOCK_BYTE,
    JT_FRAME_TIME, JT_PORT_CONNECTED,
)

# @@DISPATCH@@  (replaced by the generated `dispatch(kind, pp, pc, st, buf, n, sr)`)


SANE = 1e4  # +80 dBFS: no node in its right mind outputs this; above it the node is reset


@rt_jit
def smooth_params(a, pbase, npar, n, sr):
    """Advance one parameter block by ``n`` frames: previous <- current, current -> target (one-pole)."""
    tgt = pbase
    cur = pbase + npar
    prv = pbase + 2 * npar
    tau = pbase + 3 * npar
    for j in range(npar):
        c = a[cur + j]
        a[prv + j] = c
        t = a[tgt + j]
        if c != t:
            ms = a[tau + j]
            if ms <= 0.0:
                c = t
            else:
                c += (t - c) * (1.0 - math.exp(-n * 1000.0 / (ms * sr)))
                if abs(t - c) <= 1e-4 * max(1.0, abs(t)):
                    c = t
            a[cur + j] = c


@rt_jit
def store_meter(a, slot, pk0, pk1, ms0, ms1, n):
    """Write peaks (L, R) and the mean squares of the sums of squares ``ms0``/``ms1`` over ``n`` frames
    to meter ``slot``."""
    m = int(a[H_METER]) + slot * METER_W
    a[m] = pk0
    a[m + 1] = pk1
    a[m + 2] = ms0 / n if n > 0 else 0.0
    a[m + 3] = ms1 / n if n > 0 else 0.0


@rt_jit
def meter(a, slot, buf, n):
    """Write peak and mean square of ``buf[:, :n]`` to meter ``slot``; False if a sample is not sane
    (non-finite, or beyond +-SANE), in which case the meter is left as it was."""
    pk0 = 0.0
    pk1 = 0.0
    ms0 = 0.0
    ms1 = 0.0
    for i in range(n):
        v0 = buf[0, i]
        v1 = buf[1, i]
        a0 = abs(v0)
        a1 = abs(v1)
        if a0 > pk0:
            pk0 = a0
        if a1 > pk1:
            pk1 = a1
        ms0 += v0 * v0
        ms1 += v1 * v1
    # a NaN never wins a ">" comparison, but it poisons the sums: check both
    if not (pk0 <= SANE and pk1 <= SANE and ms0 == ms0 and ms1 == ms1):
        return False
    store_meter(a, slot, pk0, pk1, ms0, ms1, n)
    return True


@rt_jit
def mix_meter(a, slot, buf, dry, n, w0, w1):
    """In one pass: check the kernel's output ``buf[:, :n]`` is sane (finite, within +-SANE), mix it
    with ``dry`` at the wet level ramping w0 -> w1, and meter the result into ``slot``.  False (and
    ``buf`` partly mixed, the meter untouched) at the first insane sample: the caller resets the node."""
    pk0 = 0.0
    pk1 = 0.0
    ms0 = 0.0
    ms1 = 0.0
    inv = 1.0 / n
    for i in range(n):
        k0 = buf[0, i]
        k1 = buf[1, i]
        if not (abs(k0) <= SANE and abs(k1) <= SANE):
            return False
        w = w0 + (w1 - w0) * ((i + 1) * inv)
        d0 = dry[0, i]
        d1 = dry[1, i]
        v0 = d0 + w * (k0 - d0)
        v1 = d1 + w * (k1 - d1)
        buf[0, i] = v0
        buf[1, i] = v1
        a0 = abs(v0)
        a1 = abs(v1)
        if a0 > pk0:
            pk0 = a0
        if a1 > pk1:
            pk1 = a1
        ms0 += v0 * v0
        ms1 += v1 * v1
    store_meter(a, slot, pk0, pk1, ms0, ms1, n)
    return True


@rt_jit
def pop_midi(a, n):
    """Build this block's event list: the ring's events due in this block (stamp < frames + n, or -1)
    merged in offset order with the device events the driver left for this block (``H_DEV``, written
    and emptied here by the audio thread only). Ring events stay queued when the list is full; device
    events that do not fit are counted in ``H_DEV_DROPPED``."""
    bev = int(a[H_BEV])
    ring = int(a[H_MIDI])
    cap = int(a[H_MIDI_CAP])
    dev = int(a[H_DEV])
    nd = int(a[dev])
    w = int(load_acquire(a, H_MIDI_W))  # the events before it are written
    r = int(a[H_MIDI_R])
    now = a[H_FRAMES]
    cnt = 0
    k = 0
    while cnt < MAX_BLOCK_EVENTS:
        roff = -1.0
        e = 0
        if r < w:
            e = ring + (r % cap) * MIDI_W
            stamp = a[e]
            if stamp < now + n:
                roff = 0.0 if stamp < now else stamp - now
        b = bev + 1 + cnt * MIDI_W
        if roff >= 0.0 and (k >= nd or roff <= a[dev + 1 + k * MIDI_W]):
            a[b] = roff
            a[b + 1] = a[e + 1]
            a[b + 2] = a[e + 2]
            a[b + 3] = a[e + 3]
            r += 1
        elif k < nd:
            d = dev + 1 + k * MIDI_W
            a[b] = a[d]
            a[b + 1] = a[d + 1]
            a[b + 2] = a[d + 2]
            a[b + 3] = a[d + 3]
            k += 1
        else:
            break
        cnt += 1
    a[bev] = cnt
    if k < nd:
        a[H_DEV_DROPPED] += nd - k
    a[dev] = 0.0
    store_release(a, H_MIDI_R, r)  # the slots read are free for the writer again


@rt_jit
def give_midi(a, st):
    """Copy this block's events to the head of a MIDI node's state."""
    bev = int(a[H_BEV])
    cnt = int(a[bev])
    for k in range(1 + cnt * MIDI_W):
        st[k] = a[bev + k]


@rt_jit
def comp_state(a, cb):
    """The compensation delay state at arena offset ``cb`` (see livehost.dsp.compdelay)."""
    return a[cb:cb + C_HEAD + 2 * int(a[cb + C_CAP])]


@rt_jit
def run_node(a, bufs, row, n, sr):
    """One effect node, in place: smooth, keep dry (delayed by the node's latency, so the mix is not a
    comb), kernel, NaN/runaway guard, dry/wet + bypass ramp, meter."""
    pb = int(a[row + R_PBASE])
    npar = int(a[row + R_NP])
    smooth_params(a, pb, npar, n, sr)
    cur = pb + npar
    prv = pb + 2 * npar
    w0 = a[prv + P_WET] * (1.0 - a[prv + P_BYPASS])
    w1 = a[cur + P_WET] * (1.0 - a[cur + P_BYPASS])
    buf = bufs[int(a[row + R_BUF])]
    cb = int(a[row + R_COMP])
    dry = bufs[int(a[row + R_BUF2])]
    sb = int(a[row + R_SBASE])
    st = a[sb:sb + int(a[row + R_SSIZE])]
    if a[prv + P_BYPASS] >= 1.0 and a[cur + P_BYPASS] >= 1.0:  # fully bypassed: pass through
        if cb != 0:
            # a node with latency keeps running on a copy (its output unused), so its delay lines hold
            # the present when it comes back; the dry path's delay crossfades to none meanwhile
            for ch in range(2):
                for i in range(n):
                    dry[ch, i] = buf[ch, i]
            if a[row + R_AUX] != 0.0:
                give_midi(a, st)
            dispatch(int(a[row + R_KIND]), a[prv + P_OWN:prv + npar], a[cur + P_OWN:cur + npar], st, dry, n, sr)
            comp_delay(comp_state(a, cb), buf, n, 0)
        meter(a, int(a[row + R_SLOT]), buf, n)
        return
    for ch in range(2):
        for i in range(n):
            dry[ch, i] = buf[ch, i]
    if cb != 0:
        comp_delay(comp_state(a, cb), dry, n, a[cb + C_TARGET])
    if a[row + R_AUX] != 0.0:
        give_midi(a, st)
    dispatch(int(a[row + R_KIND]), a[prv + P_OWN:prv + npar], a[cur + P_OWN:cur + npar], st, buf, n, sr)
    slot = int(a[row + R_SLOT])
    if w0 == 1.0 and w1 == 1.0:
        if meter(a, slot, buf, n):
            return
    else:
        # the guard looks at the kernel's own output, before it is mixed with the dry signal
        if mix_meter(a, slot, buf, dry, n, w0, w1):
            return
    # non-finite or runaway output: reset the node's state, pass its input on, count it
    rs = int(a[row + R_RESET])
    for k in range(rs, st.shape[0]):
        st[k] = 0.0
    for ch in range(2):
        for i in range(n):
            buf[ch, i] = dry[ch, i]
    a[H_NAN_RESETS] += 1.0
    meter(a, slot, buf, n)


@rt_jit
def run_source(a, bufs, row, n, sr):
    """One source node: kernel into scratch ``buf2``, added to ``buf`` with its wet/bypass level."""
    pb = int(a[row + R_PBASE])
    npar = int(a[row + R_NP])
    smooth_params(a, pb, npar, n, sr)
    cur = pb + npar
    prv = pb + 2 * npar
    w0 = a[prv + P_WET] * (1.0 - a[prv + P_BYPASS])
    w1 = a[cur + P_WET] * (1.0 - a[cur + P_BYPASS])
    out = bufs[int(a[row + R_BUF])]
    tmp = bufs[int(a[row + R_BUF2])]
    for ch in range(2):
        for i in range(n):
            tmp[ch, i] = 0.0
    sb = int(a[row + R_SBASE])
    st = a[sb:sb + int(a[row + R_SSIZE])]
    if a[row + R_AUX] != 0.0:
        give_midi(a, st)
    dispatch(int(a[row + R_KIND]), a[prv + P_OWN:prv + npar], a[cur + P_OWN:cur + npar], st, tmp, n, sr)
    if not meter(a, int(a[row + R_SLOT]), tmp, n):
        rs = int(a[row + R_RESET])
        for k in range(rs, st.shape[0]):
            st[k] = 0.0
        for ch in range(2):
            for i in range(n):
                tmp[ch, i] = 0.0
        a[H_NAN_RESETS] += 1.0
    inv = 1.0 / n
    for i in range(n):
        w = w0 + (w1 - w0) * ((i + 1) * inv)
        for ch in range(2):
            out[ch, i] += tmp[ch, i] * w


@rt_jit
def run_program(a, bufs, inp, off, in_ch, n, sr):
    """Execute the live program (one pass over its rows) for ``n`` frames, then acknowledge its
    generation (the control side frees memory an older program reached only after that)."""
    gen = load_acquire(a, H_GEN)  # the program's rows and counts were written before it
    region = int(gen) & 1
    if region == 0:
        base = int(a[H_PROG0])
        nops = int(a[H_NOPS0])
    else:
        base = int(a[H_PROG1])
        nops = int(a[H_NOPS1])
    for k in range(nops):
        row = base + k * ROW_W
        op = int(a[row + R_OP])
        if op == OP_NODE:
            run_node(a, bufs, row, n, sr)
        elif op == OP_SOURCE:
            run_source(a, bufs, row, n, sr)
        elif op == OP_INPUT:
            b = bufs[int(a[row + R_BUF])]
            if in_ch == 0 or a[H_SILENT_IN] != 0.0:
                for ch in range(2):
                    for i in range(n):
                        b[ch, i] = 0.0
            else:
                # input routing (H_IN_SEL): the device channels feeding left and right (0-based here);
                # a channel the device does not have is silent
                sel = np.int64(a[H_IN_SEL])
                cl = np.int64(0)
                cr = np.int64(1) if in_ch > 1 else np.int64(0)
                if sel > 0:
                    cl = sel % IN_SEL_BASE - 1
                    cr = sel // IN_SEL_BASE - 1
                for i in range(n):
                    l = np.float64(inp[off + i, cl]) if 0 <= cl < in_ch else 0.0
                    r = np.float64(inp[off + i, cr]) if 0 <= cr < in_ch else 0.0
                    if not (math.isfinite(l) and math.isfinite(r)):
                        l = 0.0
                        r = 0.0
                    b[0, i] = l
                    b[1, i] = r
        elif op == OP_ZERO:
            b = bufs[int(a[row + R_BUF])]
            for ch in range(2):
                for i in range(n):
                    b[ch, i] = 0.0
        elif op == OP_COPY:
            s = bufs[int(a[row + R_BUF])]
            d = bufs[int(a[row + R_BUF2])]
            for ch in range(2):
                for i in range(n):
                    d[ch, i] = s[ch, i]
        elif op == OP_MIXADD:
            s = bufs[int(a[row + R_BUF])]
            d = bufs[int(a[row + R_BUF2])]
            pb = int(a[row + R_PBASE])
            npar = int(a[row + R_NP])
            j = int(a[row + R_AUX])
            g0 = 10.0 ** (a[pb + 2 * npar + j] / 20.0)
            g1 = 10.0 ** (a[pb + npar + j] / 20.0)
            inv = 1.0 / n
            for i in range(n):
                g = g0 + (g1 - g0) * ((i + 1) * inv)
                for ch in range(2):
                    d[ch, i] += s[ch, i] * g
        elif op == OP_DRYWET:
            # layer: its parameter block was smoothed by its OP_LAYER header row
            pb = int(a[row + R_PBASE])
            npar = int(a[row + R_NP])
            cur = pb + npar
            prv = pb + 2 * npar
            w0 = a[prv + P_WET] * (1.0 - a[prv + P_BYPASS])
            w1 = a[cur + P_WET] * (1.0 - a[cur + P_BYPASS])
            out = bufs[int(a[row + R_BUF])]
            acc = bufs[int(a[row + R_BUF2])]
            dry = bufs[int(a[row + R_BUF3])]
            inv = 1.0 / n
            for i in range(n):
                w = w0 + (w1 - w0) * ((i + 1) * inv)
                for ch in range(2):
                    d = dry[ch, i]
                    out[ch, i] = d + w * (acc[ch, i] - d)
            meter(a, int(a[row + R_SLOT]), out, n)
        elif op == OP_METER:
            meter(a, int(a[row + R_SLOT]), bufs[int(a[row + R_BUF])], n)
        elif op == OP_LAYER:
            smooth_params(a, int(a[row + R_PBASE]), int(a[row + R_NP]), n, sr)
        elif op == OP_DELAY:
            cb = int(a[row + R_COMP])
            comp_delay(comp_state(a, cb), bufs[int(a[row + R_BUF])], n, a[cb + C_TARGET])
    store_release(a, H_ACK, gen)  # every read of an older program's memory is done
    return nops


@rt_jit
def process_block(a, inp, out, off, n, in_ch, out_ch, flags):
    """Render one block: program, master, output guard, taps, record ring, stats.

    a: the arena (float64); inp: float32 (frames, in_ch) device input (ignored when in_ch == 0);
    out: float32 (frames, out_ch) device output; off: first frame of this block in inp/out (0 live);
    n: frames; flags: PortAudio status flags.
    """
    t0 = monotonic_ns()
    sr = a[H_SR]
    mb = int(a[H_MAXBLOCK])
    nb = int(a[H_NBUF])
    bufbase = int(a[H_BUF])
    bufs = a[bufbase:bufbase + nb * 2 * mb].reshape((nb, 2, mb))
    if n > mb:
        n = mb
    if flags & 15:
        a[H_XRUNS] += 1.0
    a[H_LAST_FLAGS] = flags
    pop_midi(a, n)
    run_program(a, bufs, inp, off, in_ch, n, sr)
    # bufs[0] holds the chain output; its input meter/tap were written by the program rows
    main = bufs[0]
    mp = int(a[H_MASTER_P])
    mnp = int(a[H_MASTER_NP])
    ms = int(a[H_MASTER_S])
    smooth_params(a, mp, mnp, n, sr)
    mst = a[ms:ms + int(a[H_MASTER_SS])]
    # the master kernel works on a non-finite-free signal: replace non-finite samples first
    bad = 0
    for ch in range(2):
        for i in range(n):
            if not math.isfinite(main[ch, i]):
                main[ch, i] = 0.0
                bad += 1
    if bad > 0:
        a[H_NONFINITE_OUT] += bad
    master_kernel(a[mp + 2 * mnp + P_OWN:mp + 3 * mnp], a[mp + mnp + P_OWN:mp + 2 * mnp], mst, main, n, sr)
    if mst[L_GMIN] < a[H_LIM_MIN]:
        a[H_LIM_MIN] = mst[L_GMIN]
    # one pass after the master: non-finite guard (cannot trigger after the clamp; belt and braces),
    # master meter, device output (mono devices get the mid signal), analysis tap (input mid, output L, R)
    tb = int(a[H_TAP])
    cap = int(a[H_TAP_CAP])
    w = int(a[H_TAP_W])
    inb = bufs[BUF_TAP]  # the program keeps a copy of the summed sources here
    p = w % cap
    pk0 = 0.0
    pk1 = 0.0
    ms0 = 0.0
    ms1 = 0.0
    for i in range(n):
        v0 = main[0, i]
        v1 = main[1, i]
        if not math.isfinite(v0):
            v0 = 0.0
            main[0, i] = 0.0
        if not math.isfinite(v1):
            v1 = 0.0
            main[1, i] = 0.0
        a0 = abs(v0)
        a1 = abs(v1)
        if a0 > pk0:
            pk0 = a0
        if a1 > pk1:
            pk1 = a1
        ms0 += v0 * v0
        ms1 += v1 * v1
        if out_ch == 1:
            out[off + i, 0] = np.float32(0.5 * (v0 + v1))
        elif out_ch >= 2:
            out[off + i, 0] = np.float32(v0)
            out[off + i, 1] = np.float32(v1)
            for ch in range(2, out_ch):
                out[off + i, ch] = np.float32(0.0)
        a[tb + p] = 0.5 * (inb[0, i] + inb[1, i])
        a[tb + cap + p] = v0
        a[tb + 2 * cap + p] = v1
        p += 1
        if p == cap:
            p = 0
    if pk0 <= SANE and pk1 <= SANE:
        store_meter(a, SLOT_MASTER, pk0, pk1, ms0, ms1, n)
    store_release(a, H_TAP_W, w + n)
    # record ring (float32-rounded so recordings equal what the device got)
    rec_on = a[H_REC_ON]
    if rec_on != 0.0:
        rb = int(a[H_REC])
        rcap = int(a[H_REC_CAP])
        rw = int(a[H_REC_W])
        if rw + n - int(load_acquire(a, H_REC_R)) > rcap:
            a[H_REC_DROPS] += n
        else:
            p = rw % rcap
            for i in range(n):
                a[rb + p] = np.float64(np.float32(main[0, i]))
                a[rb + rcap + p] = np.float64(np.float32(main[1, i]))
                if rec_on == 2.0:  # and the dry input (the summed sources), on two more channels
                    a[rb + 2 * rcap + p] = np.float64(np.float32(inb[0, i]))
                    a[rb + 3 * rcap + p] = np.float64(np.float32(inb[1, i]))
                p += 1
                if p == rcap:
                    p = 0
            store_release(a, H_REC_W, rw + n)
    a[H_FRAMES] += n
    a[H_CALLBACKS] += 1.0
    dt = monotonic_ns() - t0
    a[H_LAST_NS] = dt
    load = dt * 1e-9 * sr / n
    lc = int(a[H_LOAD_COUNT])
    a[int(a[H_LOAD]) + lc % int(a[H_LOAD_CAP])] = load
    a[H_LOAD_COUNT] = lc + 1
    if load > a[H_LOAD_MAX]:
        a[H_LOAD_MAX] = load
    return n


_SIG = types.int32(types.voidptr, types.voidptr, types.uint64, types.voidptr, types.uint64, types.voidptr)


@cfunc(_SIG, cache=True, nopython=True, error_model="numpy")
def pa_callback(inp, outp, frames, time_info, flags, user):
    """The PortAudio stream callback: ``user`` points at the arena; 0 = paContinue."""
    hdr = carray(user, (64,), dtype=np.float64)
    a = carray(user, (int(hdr[H_LEN]),), dtype=np.float64)
    in_ch = np.int64(a[H_IN_CH])
    out_ch = np.int64(a[H_OUT_CH])
    n = np.int64(frames)  # PortAudio's unsigned long: keep every count int64 (uint64 mixes to float64)
    x = carray(inp, (n, max(in_ch, np.int64(1))), dtype=np.float32)
    y = carray(outp, (n, max(out_ch, np.int64(1))), dtype=np.float32)
    dring_take(a, n)  # livehost's JACK MIDI client, if one runs beside this stream
    process_block(a, x, y, np.int64(0), n, in_ch, out_ch, np.int64(flags))
    return 0


@rt_jit
def process_blocks(a, inp, out, start, frames, block, in_ch, out_ch):
    """Offline: render ``frames`` frames from ``start`` in blocks of ``block`` with ``process_block``."""
    s = start
    end = start + frames
    while s < end:
        n = min(block, end - s)
        process_block(a, inp, out, s, n, in_ch, out_ch, np.int64(0))
        s += n


_JACK_SIG = types.int32(types.uint32, types.voidptr)


@cfunc(_JACK_SIG, cache=True, nopython=True, error_model="numpy")
def jack_process(nframes, arg):
    """The JACK process callback: ``arg`` is the driver's int64 table (layout ``JT_*``).

    Passes the MIDI input port's events through to the MIDI output port, with MIDI clock
    (``H_CLOCK_OUT`` frames apart, each at its frame; incoming clocks are then not passed on) merged in
    time order, a Start (0xFA) at the frame of the first clock when clock out begins with the port
    connected (or it gets its first connection: the clock then restarts there) and a Stop (0xFC) at the
    start of the first cycle without clock out, and copies the input's events to the tap
    (:mod:`livehost.engine.devmidi`), then renders the cycle in
    pieces of at most the engine's block: for each, the MIDI events inside it go to the block's device
    event region at their frame offsets, the planar port buffers are interleaved into the scratch
    input, ``process_block`` runs, and its interleaved output is spread back to the ports. 0 = go on.
    """
    t = carray(arg, (JT_SIZE,), dtype=np.int64)
    hdr = carray(f64_ptr(t[JT_ARENA]), (64,), dtype=np.float64)
    a = carray(f64_ptr(t[JT_ARENA]), (int(hdr[H_LEN]),), dtype=np.float64)
    n = np.int64(nframes)
    mb = np.int64(a[H_MAXBLOCK])
    nin = t[JT_NIN]
    nout = t[JT_NOUT]
    get_buffer = t[JT_GET_BUFFER]
    x = carray(f32_ptr(t[JT_IN]), (mb, max(nin, np.int64(1))), dtype=np.float32)
    y = carray(f32_ptr(t[JT_OUT]), (mb, max(nout, np.int64(1))), dtype=np.float32)
    ev = carray(i64_ptr(t[JT_EVENT]), (3,), dtype=np.int64)
    in_ch = min(np.int64(a[H_IN_CH]), nin)
    out_ch = min(np.int64(a[H_OUT_CH]), nout)
    # MIDI: the input buffer's events, and a straight copy of them to the output (MIDI thru)
    mbuf = np.int64(0)
    mcount = np.int64(0)
    if t[JT_MIDI_IN] != 0:
        mbuf = call_p_pu32(get_buffer, t[JT_MIDI_IN], n)
        if mbuf != 0:
            mcount = call_u32_p(t[JT_MIDI_COUNT], mbuf)
    if t[JT_MIDI_OUT] != 0:
        obuf = call_p_pu32(get_buffer, t[JT_MIDI_OUT], n)
        if obuf != 0:
            call_void_p(t[JT_MIDI_CLEAR], obuf)
            iv = a[H_CLOCK_OUT]
            run = iv > 0.0 and (t[JT_PORT_CONNECTED] == 0 or call_u32_p(t[JT_PORT_CONNECTED], t[JT_MIDI_OUT]) > 0)
            if run != (a[H_CLOCK_RUN] != 0.0):  # clock out begins (Start) or ends (Stop), at frame 0
                if call_i32_pu32pz(t[JT_MIDI_WRITE], obuf, 0, t[JT_CLOCK_BYTE] + (1 if run else 2), 1) == 0:
                    a[H_CLOCK_RUN] = 1.0 if run else 0.0
                    if run:
                        a[H_CLOCK_LAST] = -1.0  # the first clock right after the Start
            ph = 0.0
            now = np.int64(0)
            if iv > 0.0:  # the next clock, from this cycle's start on JACK's frame clock (a cycle this
                # callback missed does not shift the grid: its clocks are lost, the next ones on time)
                now = np.int64(call_u32_p(t[JT_FRAME_TIME], t[JT_CLIENT]))
                last = a[H_CLOCK_LAST]
                el = (now - np.int64(last)) & 0xFFFFFFFF
                if last >= 0.0 and el <= 4.0 * a[H_SR]:
                    ph = a[H_CLOCK_PHASE] - el
                    if ph < 0.0:
                        ph -= iv * math.floor(ph / iv)
            i = np.int64(0)
            while True:  # thru events and clocks, in time order (JACK refuses them out of order)
                tt = n
                if i < mcount:
                    if call_i32_ppu32(t[JT_MIDI_GET], t[JT_EVENT], mbuf, i) != 0 or ev[1] < 1 or (
                            iv > 0.0 and peek_u8(ev[2]) == 0xF8):
                        i += 1
                        continue
                    tt = ev[0] & 0xFFFFFFFF
                if iv > 0.0 and ph < n and np.int64(ph) <= tt:
                    if call_i32_pu32pz(t[JT_MIDI_WRITE], obuf, np.int64(ph), t[JT_CLOCK_BYTE], 1) == 0:
                        a[H_CLOCK_SENT] += 1.0
                    ph += iv
                    continue
                if i >= mcount:
                    break
                call_i32_pu32pz(t[JT_MIDI_WRITE], obuf, tt, ev[2], ev[1])
                i += 1
            if iv > 0.0:
                a[H_CLOCK_PHASE] = ph  # >= n: every clock before the cycle's end went out
                a[H_CLOCK_LAST] = now
            else:
                a[H_CLOCK_LAST] = -1.0
    # every message also goes to the tap, for the control side (monitor, CC maps, learn, programs, MTS)
    f0 = a[H_FRAMES]
    for i in range(mcount):
        if call_i32_ppu32(t[JT_MIDI_GET], t[JT_EVENT], mbuf, i) == 0 and ev[1] > 0 and peek_u8(ev[2]) != 0xFE:
            tap_push(a, f0 + (ev[0] & 0xFFFFFFFF), ev[2], ev[1])
    # a new JACK xrun (counted by the xrun callback) flags the next block as an underflow
    flags = np.int64(0)
    xr = np.int64(a[H_JACK_XRUNS])
    if xr != t[JT_XRUNS_SEEN]:
        t[JT_XRUNS_SEEN] = xr
        flags = np.int64(4)
    dev = int(a[H_DEV])
    ei = np.int64(0)
    s = np.int64(0)
    while s < n:
        m = min(mb, n - s)
        cnt = 0
        while ei < mcount:
            if call_i32_ppu32(t[JT_MIDI_GET], t[JT_EVENT], mbuf, ei) != 0:
                ei += 1
                continue
            ft = ev[0] & 0xFFFFFFFF
            if ft >= s + m and s + m < n:
                break  # belongs to a later piece (a late stamp past the cycle stays in the last one)
            ei += 1
            size = ev[1]
            if size < 1:
                continue
            st = peek_u8(ev[2])
            if st < 0x80 or st >= 0xF0:
                continue  # system messages (sysex, clock) do not go to the engine
            if cnt >= MAX_DEV_EVENTS:
                a[H_DEV_DROPPED] += 1.0
                continue
            d = dev + 1 + cnt * 4
            off = ft - s
            a[d] = off if off < m else m - 1
            a[d + 1] = st
            a[d + 2] = peek_u8(ev[2] + 1) if size > 1 else 0
            a[d + 3] = peek_u8(ev[2] + 2) if size > 2 else 0
            cnt += 1
        a[dev] = cnt
        for c in range(in_ch):
            src = carray(f32_ptr(call_p_pu32(get_buffer, t[JT_PORTS + c], n)), (n,), dtype=np.float32)
            for i in range(m):
                x[i, c] = src[s + i]
        process_block(a, x, y, np.int64(0), m, in_ch, out_ch, flags)
        flags = np.int64(0)
        for c in range(nout):
            dst = carray(f32_ptr(call_p_pu32(get_buffer, t[JT_PORTS + JT_MAX_PORTS + c], n)), (n,),
                         dtype=np.float32)
            if c < out_ch:
                for i in range(m):
                    dst[s + i] = y[i, c]
            else:
                for i in range(m):
                    dst[s + i] = np.float32(0.0)
        s += m
    return 0
