"""Looper kernel: record a loop, play it, overdub on it, undo/redo the last overdub, stop, clear, all
from one footswitch, with the loop point crossfaded.

**One button** (the ``pedal`` parameter: ``True`` while the switch is down; a MIDI footswitch CC maps
onto it, 127 down / 0 up).  Every gesture is decided here, in the kernel, by counting samples, so an
offline render is deterministic; the pedal's level is read once per block (a press acts at the first
sample of the block in which the engine first sees it: at most one block late).

- *press* (switch down): empty -> record; record -> play (the loop is closed at this sample); play ->
  overdub; overdub -> play; stopped -> play (from the loop's start).
- *hold* (still down :data:`HOLD_S` after the press): stop (the loop fades out in ``xfade_ms``). A hold
  begun while stopped clears the loop; one begun while empty discards the take it started.
- *double press* (the next press within :data:`DOUBLE_S` of the previous one): undo the last overdub;
  a second double press redoes it. A double press begun while empty discards the take it started (so
  a take is at least :data:`DOUBLE_S` long).

A press acts at once, except play -> overdub: that one is *tentative* (its input goes to a scratch
buffer) until it is clear that it was a single press, i.e. the switch is up and :data:`DOUBLE_S` have
passed; then the scratch is written into the loop as if it had been overdubbed live (so nothing played
is lost) and the overdub goes on. A double or a hold drops the scratch instead, so undo after
play -> double press removes the previous overdub, and a hold from play stops with the loop as it was.
The scratch is written behind the play position at :data:`REPLAY` samples per played sample, so no
block does more than a bounded amount of work. (Only a loop shorter than about the tentative time
hears the tentative part one pass late.)

The ``clear`` parameter clears at once on its rising edge (a second switch or a UI key).

**Storage.** ``B`` is the loop's base, ``D`` the overdubs' additions with, per sample, ``T`` the id of
the overdub that wrote ``D`` there (0: none) and, per id, ``A[id % NID]`` whether it is heard
(1) or undone (0). Playback is ``B + A[T] D``. Undo and redo flip ``A`` of the last overdub only (the
loop crossfades over ``xfade_ms``): O(1), however long the loop. The first write of a new overdub at a
sample folds the older overdub found there into ``B`` (``B += A D``) before taking over ``D``; a sweep
(:data:`SWEEP` samples per played sample) folds the rest, so no id older than :data:`NID` overdubs is
still in ``T`` when its slot of ``A`` is reused: overdubs are at least ``2 * DOUBLE_S`` of playing apart,
so ``NID`` of them take over 170 s, while the sweep covers a :data:`MAX_S` loop in ``MAX_S / SWEEP``.
Nothing is copied in bulk on the audio thread but the pre-roll (at most :data:`XFADE_MAX_MS`) when a
take starts and its crossfade when it closes.

**Loop point.** The input is kept in a short pre-roll ring; when a take starts, the ring (the audio just
before the loop's first sample) is kept. When the take is closed at length ``L``, its last
``X = min(xfade, L // 2)`` samples are crossfaded into that pre-roll (raised-cosine weights, summing to
1): sample ``L - X + j`` becomes ``cos^2(u) B[L - X + j] + sin^2(u) pre[j]`` with
``u = pi/2 (j + 0.5) / X``, so the end of each pass runs continuously into its start. Overdubs fade in
and out over ``xfade_ms`` at their punch points; stop and play-from-stop fade the loop out/in.

**Loop length.** Free (``quantise = "off"``): the take is as long as the closing press makes it. Quantised
(``"bar"`` or ``"beat"``): the closing press rounds the take's length to the nearest whole number of
bars (``beats`` x ``beat_ms``) or beats, at least one; a press before that length lets the take record
on and close itself at exactly that length, a press after it closes the loop there at once and plays
on from where the take had got to (``n - L``: the loop stays on the bar grid; it fades in over
``xfade_ms``). ``beat_ms`` is a synced parameter that follows the session tempo (one beat, ``"1/4"``,
unless the patch gives a number), so a bar is ``beats * 60 / bpm`` seconds. ``bars`` > 0: the take
closes by itself after that many bars (a fixed length; a press before that closes it as above). A
hold while a quantised take records on closes it and then stops. A length past :data:`MAX_S` is cut
to whole bars that fit (to the free length if not even one does).

Up to :data:`MAX_S` seconds, allocated with the node: ``5 * MAX_S * sr`` float64 slots (base and overdub
stereo, ids), 58 MB at 48 kHz.  A node bypassed all the way is not run: its loop holds still, and it
sees the pedal's level again when it comes back.
The output is the input (``thru`` on; off for loopers on parallel layer branches beside a dry branch) plus
the loop at ``level_db``.

Parameters (``pp``/``pc`` order): ``0 pedal  1 clear  2 level_db  3 thru  4 xfade_ms  5 quantise
6 bars  7 beats  8 beat_ms``; the loop-length ones are read when a take starts or a press closes it.
"""

from __future__ import annotations

import math

import numpy as np

from livehost.dsp.rt import rt_jit

MAX_S = 30.0
"""Longest loop (s): the buffers are allocated for it when the node is built."""
XFADE_MAX_MS = 50.0
"""Longest loop-point crossfade / punch fade (ms), the upper bound of ``xfade_ms``."""
HOLD_S = 0.6
"""A press still held this long (s) is a hold (stop)."""
DOUBLE_S = 0.35
"""A press within this time (s) of the previous press is a double press (undo/redo)."""
NID = 256
"""Overdub ids whose heard/undone flags are kept (a ring)."""
SWEEP = 2
"""Loop samples the background fold visits per played sample."""
REPLAY = 8
"""Scratch samples a confirmed overdub's catch-up writes into the loop per played sample."""

EMPTY, RECORD, PLAY, OVERDUB, STOP, ARMED = 0, 1, 2, 3, 4, 5
MODES = ("empty", "record", "play", "overdub", "stop", "armed")
"""Mode names by number (``armed``: playing, a press to overdub waiting to be confirmed)."""

P_PEDAL, P_CLEAR, P_LEVEL, P_THRU, P_XFADE, P_QUANT, P_BARS, P_BEATS, P_BEAT = 0, 1, 2, 3, 4, 5, 6, 7, 8
QUANTISE = ("off", "bar", "beat")
"""``quantise`` choices: free length, whole bars, whole beats."""

C_LMAX = 0  #: loop buffer length per channel, samples (constant)
C_XMAX = 1  #: pre-roll length, samples (constant)
C_SCR = 2  #: scratch length, samples (constant)
C_HOLD = 3  #: hold time, samples (constant)
C_DOUBLE = 4  #: double-press window, samples (constant)
RESET_FROM = 8  #: the NaN guard zeroes the slots from here on (an empty looper)
V_INIT = 8  #: 1 once the pedal/clear levels have been read (no edge on the first block)
V_PED = 9  #: pedal level last seen (0/1)
V_CLR = 10  #: clear level last seen (0/1)
V_MODE = 11  #: one of EMPTY..ARMED
V_LEN = 12  #: loop length, samples (0: empty or recording)
V_POS = 13  #: play (or record) position, samples
V_K = 14  #: id of the last overdub (the undoable one), 0 if none
V_NEXT = 15  #: last id handed out
V_AK = 16  #: heard level of the last overdub, ramping to A[K] (0..1)
V_GPLAY = 17  #: loop playback gain (0..1)
V_HALT = 18  #: 0; 1 = stop once faded out; 2 = clear once faded out
V_WG = 19  #: overdub write gain (0..1)
V_GT = 20  #: samples since the press that opened the gesture
V_GOPEN = 21  #: 1 while that press may still become a double press or a hold
V_GDOWN = 22  #: 1 while the switch is down
V_GPREV = 23  #: the mode before that press
V_SWP = 24  #: sweep position, samples
V_ARM = 25  #: samples in the scratch (tentative overdub)
V_ARMPOS = 26  #: loop position of the tentative overdub's first sample
V_PRW = 27  #: pre-roll ring write index
V_RN = 28  #: scratch samples of the last confirmed overdub to write into the loop
V_RP = 29  #: how many of them are written
V_RWG = 30  #: the write gain (punch-in ramp) reached by that catch-up
V_TGT = 31  #: length (samples) a quantised take closes itself at (0: none pending)
V_TSTOP = 32  #: 1: stop once that pending take has closed (a hold while it recorded on)
_HDR = 40  #: then A (NID), pre-roll ring (2 x XMAX), pre-roll kept (2 x XMAX), scratch (2 x SCR),
#: B (2 x LMAX), D (2 x LMAX), T (LMAX)

HALT_STOP, HALT_CLEAR = 1.0, 2.0


def _sizes(sr: float) -> tuple[int, int, int]:
    lmax = int(math.ceil(MAX_S * sr))
    xmax = int(math.ceil(XFADE_MAX_MS * 1e-3 * sr)) + 1
    scr = int(math.ceil(HOLD_S * sr)) + 8
    return lmax, xmax, scr


def looper_state_size(sr: float, max_block: int) -> int:
    """Float64 slots of looper state at ``sr`` Hz: the loop (base, overdub, ids) for :data:`MAX_S`
    seconds plus the pre-roll and scratch."""
    lmax, xmax, scr = _sizes(sr)
    return _HDR + NID + 4 * xmax + 2 * scr + 5 * lmax


def looper_init(st, sr: float, max_block: int) -> None:
    """Write the looper's constants (lengths and gesture times in samples at ``sr`` Hz) into ``st``."""
    lmax, xmax, scr = _sizes(sr)
    st[C_LMAX] = lmax
    st[C_XMAX] = xmax
    st[C_SCR] = scr
    st[C_HOLD] = int(round(HOLD_S * sr))
    st[C_DOUBLE] = int(round(DOUBLE_S * sr))


def _offsets_py(st) -> tuple[int, int, int, int, int, int, int]:
    lm, xm, sc = int(st[C_LMAX]), int(st[C_XMAX]), int(st[C_SCR])
    opr = _HDR + NID
    op = opr + 2 * xm
    osc = op + 2 * xm
    ob = osc + 2 * sc
    od = ob + 2 * lm
    ot = od + 2 * lm
    return lm, opr, op, osc, ob, od, ot


_offsets = rt_jit(_offsets_py)


def looper_status(st) -> dict:
    """The looper's state for a UI or a test: ``mode`` (a :data:`MODES` name), ``length`` and
    ``position`` (samples), ``undo`` (``None``: no overdub to undo; ``"undo"``: the last overdub is
    heard; ``"redo"``: it is undone), ``closes_at`` (samples: the length a quantised or fixed-length
    take recording now closes itself at; None when no such close is pending)."""
    k = int(st[V_K])
    undo = None if k == 0 else ("undo" if st[_HDR + k % NID] >= 0.5 else "redo")
    mode = MODES[int(st[V_MODE])]
    tgt = int(st[V_TGT])
    return {"mode": mode, "length": int(st[V_LEN]), "position": int(st[V_POS]), "undo": undo,
            "closes_at": tgt if tgt > 0 and mode == "record" else None}


def looper_loop(st) -> tuple:
    """Views ``(B, D, T, A)``: the loop's base (2, length) and overdub additions (2, length), the overdub
    id per sample (length) and the heard flags (NID): the loop plays ``B + A[T % NID] * D`` where
    ``T > 0`` (a confirmed overdub's scratch may still be on its way in)."""
    lm, _opr, _op, _osc, ob, od, ot = _offsets_py(st)
    n = int(st[V_LEN])
    b = st[ob:ob + 2 * lm].reshape(2, lm)[:, :n]
    d = st[od:od + 2 * lm].reshape(2, lm)[:, :n]
    return b, d, st[ot:ot + n], st[_HDR:_HDR + NID]


def looper_played(st) -> np.ndarray:
    """The loop as it plays (base plus the overdubs heard, undone ones left out), a float32 copy
    ``(length, 2)``; ``(0, 2)`` when there is no loop. Reads ``st`` from any thread without waiting
    (a block being overdubbed meanwhile may be caught half written)."""
    b, d, t, a = looper_loop(st)
    heard = np.where(t > 0, a[t.astype(np.int64) % NID], 0.0)
    return (b + heard * d).T.astype(np.float32)


@rt_jit
def _clear_now(st):
    st[V_MODE] = EMPTY
    st[V_LEN] = 0.0
    st[V_POS] = 0.0
    st[V_K] = 0.0
    st[V_AK] = 0.0
    st[V_GPLAY] = 0.0
    st[V_HALT] = 0.0
    st[V_WG] = 0.0
    st[V_ARM] = 0.0
    st[V_SWP] = 0.0
    st[V_RN] = 0.0
    st[V_RP] = 0.0
    st[V_TGT] = 0.0
    st[V_TSTOP] = 0.0


@rt_jit
def _whole(st, m, unit):
    """The length (samples) of ``m`` (>= 1) whole units of ``unit`` samples, fewer units if that is
    longer than the loop buffer; 0 if not even one unit fits."""
    lm = int(st[C_LMAX])
    while m >= 1.0:
        n = int(math.floor(m * unit + 0.5))
        if n <= lm:
            return n
        m -= 1.0
    return 0


@rt_jit
def _start_record(st, fixed):
    """Keep the pre-roll (oldest first), start a take at position 0; ``fixed`` > 0: the take closes
    itself at that length (samples)."""
    lm, opr, op, osc, ob, od, ot = _offsets(st)
    xm = int(st[C_XMAX])
    w = int(st[V_PRW])
    for j in range(xm):
        r = (w + j) % xm
        st[op + j] = st[opr + r]
        st[op + xm + j] = st[opr + xm + r]
    _clear_now(st)
    st[V_MODE] = RECORD
    st[V_TGT] = fixed


@rt_jit
def _close_loop(st, xf, n):
    """End the take at length ``n`` (<= the samples recorded): crossfade its end into the pre-roll and
    play on from where the take has got to (0 when closed at the current position; then no fade)."""
    lm, opr, op, osc, ob, od, ot = _offsets(st)
    xm = int(st[C_XMAX])
    rec = int(st[V_POS])
    if n < 2:  # (a press cannot close a take shorter than DOUBLE_S: that press is a double)
        _clear_now(st)
        return
    x = min(xf, n // 2, xm)
    for j in range(x):
        u = 0.5 * math.pi * (j + 0.5) / x
        w = math.sin(u) ** 2
        p = n - x + j
        q = xm - x + j
        st[ob + p] = (1.0 - w) * st[ob + p] + w * st[op + q]
        st[ob + lm + p] = (1.0 - w) * st[ob + lm + p] + w * st[op + xm + q]
    st[V_LEN] = n
    st[V_POS] = rec - n
    st[V_SWP] = 0.0
    st[V_MODE] = PLAY
    # from 0, the loop's first sample follows the take's last one: no fade; from further on, fade in
    st[V_GPLAY] = 1.0 if rec == n else 0.0
    st[V_TGT] = 0.0
    if st[V_TSTOP] != 0.0:
        st[V_TSTOP] = 0.0
        st[V_HALT] = HALT_STOP


@rt_jit
def _end_take(st, xf, unit):
    """The take is to end here (a press, or the buffer is full): at once when free (``unit`` <= 0),
    else at the nearest whole number (>= 1) of ``unit`` samples: now if the take is already that long,
    else when it gets there."""
    n = int(st[V_POS])
    if unit <= 0.0:
        _close_loop(st, xf, n)
        return
    m = max(1.0, math.floor(n / unit + 0.5))
    want = _whole(st, m, unit)
    if want == 0:
        _close_loop(st, xf, n)
    elif want > n:
        st[V_TGT] = want
    else:
        _close_loop(st, xf, want)


@rt_jit
def _write(st, p, v0, v1, lm, ob, od, ot):
    """Add ``(v0, v1)`` to the last overdub at loop sample ``p`` (its first write there folds the older
    overdub into the base)."""
    k = st[V_K]
    t = st[ot + p]
    if t != k:
        if t != 0.0:
            a = st[_HDR + int(t) % NID]
            st[ob + p] += a * st[od + p]
            st[ob + lm + p] += a * st[od + lm + p]
        st[od + p] = v0
        st[od + lm + p] = v1
        st[ot + p] = k
    else:
        st[od + p] += v0
        st[od + lm + p] += v1


@rt_jit
def _fold(st, p, lm, ob, od, ot):
    """Fold an overdub older than the last one at loop sample ``p`` into the base."""
    t = st[ot + p]
    if t != 0.0 and t != st[V_K]:
        a = st[_HDR + int(t) % NID]
        st[ob + p] += a * st[od + p]
        st[ob + lm + p] += a * st[od + lm + p]
        st[od + p] = 0.0
        st[od + lm + p] = 0.0
        st[ot + p] = 0.0


@rt_jit
def _replay(st, count, step, lm, osc, ob, od, ot):
    """Write up to ``count`` more scratch samples of the last confirmed overdub into the loop, with its
    punch-in ramp (``step`` per sample), from where the catch-up stopped."""
    sc = int(st[C_SCR])
    n = int(st[V_LEN])
    s = int(st[V_ARMPOS])
    j = int(st[V_RP])
    end = min(int(st[V_RN]), j + count)
    wg = st[V_RWG]
    while j < end:
        wg = min(1.0, wg + step)
        _write(st, (s + j) % n, wg * st[osc + j], wg * st[osc + sc + j], lm, ob, od, ot)
        j += 1
    st[V_RP] = j
    st[V_RWG] = wg


@rt_jit
def _commit(st, step):
    """The tentative overdub was a single press: give it a new id; its scratch goes into the loop by
    the catch-up (:func:`_replay`), the live input from this sample on."""
    k = st[V_NEXT] + 1.0
    st[V_NEXT] = k
    st[V_K] = k
    st[_HDR + int(k) % NID] = 1.0
    st[V_AK] = 1.0
    arm = st[V_ARM]
    st[V_RN] = arm
    st[V_RP] = 0.0
    st[V_RWG] = 0.0
    st[V_WG] = min(1.0, arm * step)  # where the punch-in ramp is after the scratch
    st[V_ARM] = 0.0
    st[V_MODE] = OVERDUB


@rt_jit
def _toggle_undo(st):
    k = int(st[V_K])
    if k != 0:
        i = _HDR + k % NID
        st[i] = 1.0 - st[i]


@rt_jit
def _settle(st, step):
    """The press was a single one (released, the double-press window over)."""
    st[V_GOPEN] = 0.0
    if int(st[V_MODE]) == ARMED:
        _commit(st, step)


@rt_jit
def _release(st, step):
    """The switch came up (at the current sample)."""
    st[V_GDOWN] = 0.0
    if st[V_GOPEN] != 0.0 and st[V_GT] >= st[C_DOUBLE]:
        _settle(st, step)


@rt_jit
def _press(st, xf, unit, fixed):
    """The switch went down (at the current sample); ``unit``: the quantising unit (samples, 0: free),
    ``fixed``: the fixed take length (samples, 0: none)."""
    if st[V_HALT] != 0.0:
        return  # fading out to stop/clear: a press is ignored
    st[V_GDOWN] = 1.0
    if st[V_GOPEN] != 0.0 and st[V_GT] >= st[C_DOUBLE]:
        _settle(st, 1.0 / xf)  # the window closed at this very sample: the previous press was single
    mode = int(st[V_MODE])
    if st[V_GOPEN] != 0.0:  # within the double-press window of the previous press
        st[V_GOPEN] = 0.0
        if mode == RECORD and int(st[V_GPREV]) == EMPTY:
            _clear_now(st)
        elif mode == ARMED:
            st[V_ARM] = 0.0
            st[V_MODE] = PLAY
            _toggle_undo(st)
        else:
            _toggle_undo(st)
        return
    st[V_GPREV] = mode
    st[V_GT] = 0.0
    st[V_GOPEN] = 1.0
    if mode == EMPTY:
        _start_record(st, fixed)
    elif mode == RECORD:
        _end_take(st, xf, unit)
    elif mode == PLAY:
        if st[V_RP] < st[V_RN]:  # the scratch is about to be reused: finish the last catch-up first
            lm, opr, op, osc, ob, od, ot = _offsets(st)
            _replay(st, int(st[V_RN]), 1.0 / xf, lm, osc, ob, od, ot)
        st[V_MODE] = ARMED
        st[V_ARM] = 0.0
        st[V_ARMPOS] = st[V_POS]
    elif mode == OVERDUB:
        st[V_MODE] = PLAY
    elif mode == STOP:
        st[V_MODE] = PLAY
        st[V_POS] = 0.0


@rt_jit
def _halt(st, how):
    """Fade the loop out, then stop (``HALT_STOP``) or clear (``HALT_CLEAR``); an overdub punches out."""
    mode = int(st[V_MODE])
    if mode == ARMED:
        st[V_ARM] = 0.0
        mode = PLAY
    if mode == OVERDUB:
        mode = PLAY
    st[V_MODE] = mode
    if mode == PLAY:
        st[V_HALT] = how
    elif mode == RECORD:
        if how == HALT_STOP and st[V_TGT] != 0.0 and st[V_POS] > 0.0:
            st[V_TSTOP] = 1.0  # a quantised take recording on to its length: keep it, then stop
        else:
            _clear_now(st)
    elif mode == STOP and how == HALT_CLEAR:
        _clear_now(st)


@rt_jit
def _hold(st):
    """The switch is still down :data:`HOLD_S` after the press."""
    st[V_GOPEN] = 0.0
    prev = int(st[V_GPREV])
    if int(st[V_MODE]) == RECORD and prev == EMPTY:
        _clear_now(st)  # the take this press started is discarded
    else:
        _halt(st, HALT_CLEAR if prev == STOP else HALT_STOP)


@rt_jit
def looper_process(pp, pc, st, buf, n, sr):
    """Loop ``buf[:, :n]`` in place: output = ``thru`` x input + the loop at ``level_db`` (pp/pc[3] and
    pp/pc[2], ramped over the block); the pedal (pc[0]) and clear (pc[1]) levels are read at the block's
    first sample."""
    lm, opr, op, osc, ob, od, ot = _offsets(st)
    xm = int(st[C_XMAX])
    sc = int(st[C_SCR])
    if lm < 16 or xm < 2 or n <= 0:
        return
    xf = int(round(min(max(pc[P_XFADE], 1.0), XFADE_MAX_MS) * 1e-3 * sr))
    xf = min(max(xf, 1), xm - 1)
    step = 1.0 / xf
    beat = max(pc[P_BEAT], 1.0) * 1e-3 * sr
    bar = max(1.0, math.floor(pc[P_BEATS] + 0.5)) * beat
    q = int(pc[P_QUANT] + 0.5)
    unit = bar if q == 1 else (beat if q == 2 else 0.0)
    nb = math.floor(pc[P_BARS] + 0.5)
    fixed = _whole(st, nb, bar) if nb >= 1.0 else 0
    ped = 1.0 if pc[P_PEDAL] >= 0.5 else 0.0
    clr = 1.0 if pc[P_CLEAR] >= 0.5 else 0.0
    if st[V_INIT] == 0.0:  # first block: levels from its start (a pedal saved down is not a press)
        st[V_INIT] = 1.0
        st[V_PED] = 1.0 if pp[P_PEDAL] >= 0.5 else 0.0
        st[V_CLR] = 1.0 if pp[P_CLEAR] >= 0.5 else 0.0
    if clr != st[V_CLR]:
        st[V_CLR] = clr
        if clr != 0.0:
            st[V_GOPEN] = 0.0
            _halt(st, HALT_CLEAR)
    if ped != st[V_PED]:
        st[V_PED] = ped
        if ped != 0.0:
            _press(st, xf, unit, fixed)
        else:
            _release(st, step)
    lv0 = 10.0 ** (pp[P_LEVEL] / 20.0)
    lv1 = 10.0 ** (pc[P_LEVEL] / 20.0)
    th0 = pp[P_THRU]
    th1 = pc[P_THRU]
    inv = 1.0 / n
    hold = st[C_HOLD]
    dbl = st[C_DOUBLE]
    for i in range(n):
        x0 = buf[0, i]
        x1 = buf[1, i]
        w = int(st[V_PRW])
        st[opr + w] = x0
        st[opr + xm + w] = x1
        st[V_PRW] = (w + 1) % xm
        if st[V_GOPEN] != 0.0:
            if st[V_GDOWN] != 0.0:
                if st[V_GT] >= hold:
                    _hold(st)
            elif st[V_GT] >= dbl:
                _settle(st, step)
        mode = int(st[V_MODE])
        th = th0 + (th1 - th0) * (i + 1) * inv
        buf[0, i] = th * x0
        buf[1, i] = th * x1
        if mode == RECORD:
            p = int(st[V_POS])
            st[ob + p] = x0
            st[ob + lm + p] = x1
            st[od + p] = 0.0
            st[od + lm + p] = 0.0
            st[ot + p] = 0.0
            st[V_POS] = p + 1
            tgt = int(st[V_TGT])
            if tgt > 0 and p + 1 >= tgt:  # a quantised or fixed-length take: at its length
                _close_loop(st, xf, tgt)
            elif p + 1 >= lm:  # the buffer is full: the loop closes itself
                _end_take(st, xf, unit)
        elif mode == PLAY or mode == OVERDUB or mode == ARMED:
            nl = int(st[V_LEN])
            p = int(st[V_POS])
            halting = st[V_HALT] != 0.0
            g = st[V_GPLAY]
            g = max(0.0, g - step) if halting else min(1.0, g + step)
            st[V_GPLAY] = g
            k = st[V_K]
            if k != 0.0:
                ak = st[V_AK]
                tgt = st[_HDR + int(k) % NID]
                if ak < tgt:
                    ak = min(tgt, ak + step)
                elif ak > tgt:
                    ak = max(tgt, ak - step)
                st[V_AK] = ak
            y0 = st[ob + p]
            y1 = st[ob + lm + p]
            t = st[ot + p]
            if t != 0.0:
                a = st[V_AK] if t == k else st[_HDR + int(t) % NID]
                y0 += a * st[od + p]
                y1 += a * st[od + lm + p]
            if mode == ARMED:
                j = int(st[V_ARM])
                if j < sc:
                    st[osc + j] = x0
                    st[osc + sc + j] = x1
                    st[V_ARM] = j + 1
            wg = st[V_WG]
            wg = min(1.0, wg + step) if mode == OVERDUB else max(0.0, wg - step)
            st[V_WG] = wg
            if wg > 0.0 and k != 0.0:
                _write(st, p, wg * x0, wg * x1, lm, ob, od, ot)
            if st[V_RP] < st[V_RN]:
                _replay(st, REPLAY, step, lm, osc, ob, od, ot)
            lv = lv0 + (lv1 - lv0) * (i + 1) * inv
            buf[0, i] += g * lv * y0
            buf[1, i] += g * lv * y1
            q = int(st[V_SWP])
            for _r in range(SWEEP):
                if q >= nl:
                    q = 0
                _fold(st, q, lm, ob, od, ot)
                q += 1
            st[V_SWP] = q
            st[V_POS] = (p + 1) % nl
            if halting and g <= 0.0:
                if st[V_HALT] == HALT_CLEAR:
                    _clear_now(st)
                else:
                    st[V_MODE] = STOP
                    st[V_POS] = 0.0
                    st[V_WG] = 0.0
                    st[V_HALT] = 0.0
        if st[V_GOPEN] != 0.0:
            st[V_GT] += 1.0
