"""Polyphonic microtonal synth kernel (the ``synth`` source node).

Everything runs inside :func:`synth_process` on the audio thread: MIDI events from the head of the
state (``livehost.dsp.midi_events.MIDI_HEAD``) are applied at their exact offsets; between events the
block is cut into control segments of at most ``CR`` (16) frames.  At the start of each segment every
sounding voice recomputes its pitch (tuning table, glide, pitch bend, vibrato), its oscillator table
level, its filter coefficients (filter envelope, key tracking, pressure, CC74) and its modulation
gain; inside the segment oscillator, amplitude envelope, filter, gains and fades run per sample.

Pitch
    The note's frequency is ``table[note]`` (Hz), the node's payload (the last 128 slots of the
    state); NaN (or <= 0) = unmapped key: the note-on is ignored.  The table is read at every
    segment, so a live retune (MTS) moves sounding notes (gliding at ``glide_ms`` if set).  Pitch
    bend is a frequency ratio ``2 ** (bend * range / 12)`` on top of the tuned frequency: the bend
    range is in 12-EDO semitones whatever the tuning (``bend_range``; MPE member channels use
    ``mpe_bend_range``); it does not snap to the tuning's steps.  Vibrato (mod wheel CC1 -> depth up
    to ``vib_depth_cents``) is a sine LFO at ``vib_rate_hz``.

Envelopes (amplitude and filter), times in ms
    attack: linear rise to 1 at ``1/attack`` per ms (from 0: exactly ``attack`` ms; a retriggered
    voice rises from where it is).  decay and release: exponential segments that reach their target
    exactly after ``decay``/``release`` ms from wherever they start:
    ``L(t) = T + (L0 - T) * (exp(-4 t/D) - exp(-4)) / (1 - exp(-4))``.  The voice is free when the
    release reaches 0.  Velocity: gain ``1 - vel_sens + vel_sens * (vel/127)**2``.

Voices
    ``voices`` (1..128, all 128 preallocated).  A note-on for a key already sounding (same channel in
    MPE mode) retriggers that voice.  Otherwise a free voice is used, else one is stolen: a voice
    already being killed, else the quietest releasing voice, else the oldest voice held only by the
    sustain pedal, else the oldest held voice.  A stolen voice fades out linearly over ``STEAL_MS``
    (3 ms) and then starts the new note (so the new note starts up to 3 ms late).

Controllers
    CC64 sustain pedal (>= 64 down), CC1 mod wheel, CC74 timbre (filter cutoff ``+- timbre_oct``
    octaves around 64), channel pressure and poly pressure (the larger one: gain up to
    ``pressure_amp_db`` dB and cutoff up to ``pressure_cutoff_oct`` octaves at full pressure),
    CC121 reset controllers.  CC120 (all sound off), CC123 (all notes off) and the engine panic
    (status 0xFF) silence every voice within ``KILL_MS`` (1 ms, less than one block) and clear the
    pedal.  In MPE mode (``mpe``) channel 1 (index 0) is the master channel (its bend, pedal, mod
    wheel and pressure apply to every voice) and every other channel's bend, pressure and CC74 only
    affect the notes started on that channel.  Without MPE all channels act as one (omni).
"""

from __future__ import annotations

import math

import numpy as np

from livehost.dsp.osc import FHI_FRACTION, K_LEVELS, LUT_N, N_LEVELS, N_WAVES, TAB_N, TAB_W, cached_tables, level_lut
from livehost.dsp.rt import rt_jit
from livehost.dsp.midi_events import MAX_BLOCK_EVENTS, MIDI_COUNT, MIDI_EV, MIDI_HEAD, MIDI_W, PANIC_STATUS

# ---- parameters (declaration order in livehost.nodes.synth) --------------------------------------
PARAM_NAMES = (
    "wave", "voices", "partials", "rolloff_db", "attack_ms", "decay_ms", "sustain", "release_ms",
    "vel_sens", "filter", "cutoff_hz", "resonance", "key_track", "fenv_oct", "fattack_ms", "fdecay_ms",
    "fsustain", "frelease_ms", "glide_ms", "bend_range", "mpe", "mpe_bend_range", "vib_rate_hz",
    "vib_depth_cents", "pressure_amp_db", "pressure_cutoff_oct", "timbre_oct", "output_db",
)
(P_WAVE, P_VOICES, P_PARTIALS, P_ROLLOFF, P_ATTACK, P_DECAY, P_SUSTAIN, P_RELEASE, P_VELSENS, P_FILTER,
 P_CUTOFF, P_RES, P_KEYTRACK, P_FENV, P_FATTACK, P_FDECAY, P_FSUSTAIN, P_FRELEASE, P_GLIDE, P_BEND,
 P_MPE, P_MPEBEND, P_VIBRATE, P_VIBDEPTH, P_PRESSAMP, P_PRESSCUT, P_TIMBRE, P_OUTPUT) = range(len(PARAM_NAMES))

WAVES = ("sine", "saw", "square", "triangle", "partials", "noise")
W_SINE, W_SAW, W_SQUARE, W_TRI, W_PARTIALS, W_NOISE = range(6)
FILTERS = ("off", "lowpass", "bandpass", "highpass")

MAXV = 128  # voices preallocated
MAX_PARTIALS = 64
NCH = 16
CR = 16  # control period, frames
STEAL_MS = 3.0  # fade of a stolen voice, ms
KILL_MS = 1.0  # fade on panic / CC120 / CC123, ms
EK = math.exp(-4.0)  # curvature of the exponential envelope segments
TWO_PI = 2.0 * math.pi
REF_LOGF = math.log2(261.6255653005986)  # key tracking pivot: middle C (Hz, log2)

# ---- state layout ----------------------------------------------------------------------------------
O_TAB = MIDI_HEAD  # N_WAVES x N_LEVELS x TAB_W band-limited tables (constants)
O_KLEV = O_TAB + N_WAVES * N_LEVELS * TAB_W  # harmonic count of each level
O_LUT = O_KLEV + N_LEVELS  # LUT_N: level index for floor(fhi / f0)
O_BACKUP = O_LUT + LUT_N  # 128: last good tuning table (restores the payload after a NaN reset)
RESET_FROM = O_BACKUP + 128

G_INIT = RESET_FROM  # 1 once the channel defaults are written
G_AGE = RESET_FROM + 1  # note-on counter
G_LASTLOGF = RESET_FROM + 2  # log2(Hz) of the last note started (glide source), 0 = none
G_LFO = RESET_FROM + 3  # vibrato LFO phase, cycles
G_PNORM = RESET_FROM + 4
O_CH = RESET_FROM + 8  # NCH x CH_W channel state
CH_W = 8
C_BEND, C_PRESS, C_CC74, C_MOD, C_SUS = range(5)
O_PAMP = O_CH + NCH * CH_W  # MAX_PARTIALS normalised partial amplitudes
O_VOICE = O_PAMP + MAX_PARTIALS
VW = 64
(V_ON, V_NOTE, V_CH, V_VEL, V_GATE, V_SUST, V_AGE, V_PHASE, V_LOGF, V_INC,
 V_AST, V_ALV, V_ATG, V_AOF, V_ACF,
 V_FST, V_FLV, V_FTG, V_FOF, V_FCF,
 V_IC1, V_IC2, V_A1, V_A2, V_A3, V_K,
 V_FADE, V_FDEC, V_PNOTE, V_PVEL, V_PCH, V_PGATE,
 V_POLYP, V_MOD, V_MODT, V_RNG, V_TA, V_TB, V_TW, V_NPF, V_NPX, V_HZ, V_TLOGF) = range(43)
STATE_SIZE = O_VOICE + MAXV * VW
PAYLOAD = 128  # the engine appends the 128-key tuning table (Hz) after STATE_SIZE


def synth_state_size(sr: float, max_block: int) -> int:
    """Declared state slots (float64) of one synth, excluding its 128-slot tuning payload."""
    return STATE_SIZE


def synth_init(st: np.ndarray, sr: float, max_block: int) -> None:
    """Write the constant part of the state (oscillator tables, level lookup); runs off the audio thread."""
    st[O_TAB:O_KLEV] = cached_tables().ravel()
    st[O_KLEV:O_LUT] = K_LEVELS.astype(np.float64)
    st[O_LUT:O_BACKUP] = level_lut()
    for v in range(MAXV):
        st[O_VOICE + v * VW + V_PNOTE] = -1.0


def new_synth_state(sr: float, max_block: int, table: np.ndarray) -> np.ndarray:
    """A complete state vector (declared state + payload) for running the kernel without the engine.

    table: 128 frequencies in Hz (NaN = unmapped).
    """
    st = np.zeros(STATE_SIZE + PAYLOAD, np.float64)
    synth_init(st[:STATE_SIZE], sr, max_block)
    st[STATE_SIZE:] = table
    return st


# ---- small helpers ----------------------------------------------------------------------------------
@rt_jit
def _db(x):
    """Decibels to linear gain."""
    return 10.0 ** (x / 20.0)


@rt_jit
def _exp_segment(st, e, level, target, frames):
    """Start an exponential envelope segment at ``st[e:e+5]`` from ``level`` to ``target`` in ``frames``.

    Returns False when ``frames < 1`` (the caller jumps to the target)."""
    if frames < 1.0:
        return False
    st[e + 1] = level
    st[e + 2] = target
    st[e + 3] = (level - target) * EK / (1.0 - EK)
    st[e + 4] = math.exp(-4.0 / frames)
    return True


@rt_jit
def _env_release(st, e, frames):
    """Put the envelope at ``st[e:e+5]`` into its release stage (to 0 in ``frames`` frames)."""
    if st[e] == 0.0:
        return
    if _exp_segment(st, e, st[e + 1], 0.0, frames) and st[e + 1] > 0.0:
        st[e] = 4.0
    else:
        st[e] = 0.0
        st[e + 1] = 0.0


@rt_jit
def _env_advance(st, e, m, a_inc, d_frames, sus):
    """Run the envelope at ``st[e:e+5]`` for ``m`` frames; returns its level. Stages: 0 idle,
    1 attack, 2 decay, 3 sustain, 4 release.  ``_render`` runs the same stages inline for the
    amplitude envelope (see the note there): a change here goes there too."""
    stg = st[e]
    y = st[e + 1]
    for _ in range(m):
        if stg == 1.0:
            y += a_inc
            if y >= 1.0:
                y = 1.0
                if _exp_segment(st, e, 1.0, sus, d_frames) and sus < 1.0:
                    stg = 2.0
                else:
                    stg = 3.0
                    y = sus
        elif stg == 2.0:
            tgt = st[e + 2]
            off = st[e + 3]
            y = tgt - off + (y - tgt + off) * st[e + 4]
            if y <= tgt:
                y = tgt
                stg = 3.0
        elif stg == 3.0:
            y = sus
        elif stg == 4.0:
            off = st[e + 3]
            y = -off + (y + off) * st[e + 4]
            if y <= 0.0:
                y = 0.0
                stg = 0.0
                break
    st[e] = stg
    st[e + 1] = y
    return y


@rt_jit
def _reset_channels(st):
    """Controllers to their rest values on every channel (bend 0, CC74 64, pedal up...)."""
    for c in range(NCH):
        cb = O_CH + c * CH_W
        for k in range(CH_W):
            st[cb + k] = 0.0
        st[cb + C_CC74] = 64.0


@rt_jit
def _voice_start(st, vb, note, vel, ch, gate, tb, glide_on):
    """Start ``note`` (velocity 0..127, channel 0..15) on voice base ``vb`` from silence."""
    hz = st[tb + note]
    tl = math.log2(hz) if hz > 0.0 else st[G_LASTLOGF]
    st[vb + V_ON] = 1.0
    st[vb + V_NOTE] = note
    st[vb + V_CH] = ch
    st[vb + V_VEL] = vel / 127.0
    st[vb + V_GATE] = gate
    st[vb + V_SUST] = 0.0
    st[G_AGE] += 1.0
    st[vb + V_AGE] = st[G_AGE]
    st[vb + V_PHASE] = 0.0
    st[vb + V_HZ] = hz
    st[vb + V_TLOGF] = tl
    st[vb + V_LOGF] = st[G_LASTLOGF] if (glide_on and st[G_LASTLOGF] != 0.0) else tl
    st[G_LASTLOGF] = tl
    st[vb + V_AST] = 1.0
    st[vb + V_ALV] = 0.0
    st[vb + V_FST] = 1.0
    st[vb + V_FLV] = 0.0
    st[vb + V_IC1] = 0.0
    st[vb + V_IC2] = 0.0
    st[vb + V_FADE] = 1.0
    st[vb + V_FDEC] = 0.0
    st[vb + V_PNOTE] = -1.0
    st[vb + V_POLYP] = 0.0
    st[vb + V_MOD] = -1.0  # jump to the first target
    st[vb + V_RNG] = float((int(st[G_AGE]) * 2654435761 + vb) & 0xFFFFFFFF)


@rt_jit
def _pedal(st, ch, mpe):
    """True while the sustain pedal holds notes of channel ``ch``."""
    if st[O_CH + C_SUS] >= 0.5:
        return True
    return mpe and st[O_CH + ch * CH_W + C_SUS] >= 0.5


@rt_jit
def _release_voice(st, vb, r_frames, fr_frames):
    st[vb + V_GATE] = 0.0
    st[vb + V_SUST] = 0.0
    _env_release(st, vb + V_AST, r_frames)
    _env_release(st, vb + V_FST, fr_frames)


@rt_jit
def _kill_all(st, kill_dec):
    """Fade every voice out over KILL_MS, drop pending notes, reset the controllers."""
    for v in range(MAXV):
        vb = O_VOICE + v * VW
        if st[vb + V_ON] != 0.0:
            if st[vb + V_FDEC] < kill_dec:
                st[vb + V_FDEC] = kill_dec
            st[vb + V_PNOTE] = -1.0
            st[vb + V_GATE] = 0.0
            st[vb + V_SUST] = 0.0
    _reset_channels(st)


@rt_jit
def _note_on(st, note, vel, ch, nv, mpe, tb, glide_on, steal_dec):
    hz = st[tb + note]
    if not hz > 0.0:  # NaN: unmapped key
        return
    # the same key sounding already: retrigger that voice
    for v in range(nv):
        vb = O_VOICE + v * VW
        if st[vb + V_ON] != 0.0 and st[vb + V_NOTE] == note and st[vb + V_FDEC] == 0.0 and \
                st[vb + V_PNOTE] < 0.0 and (not mpe or st[vb + V_CH] == ch):
            st[vb + V_VEL] = vel / 127.0
            st[vb + V_GATE] = 1.0
            st[vb + V_SUST] = 0.0
            st[vb + V_CH] = ch
            st[vb + V_AST] = 1.0
            st[vb + V_FST] = 1.0
            st[G_AGE] += 1.0
            st[vb + V_AGE] = st[G_AGE]
            st[G_LASTLOGF] = st[vb + V_TLOGF]
            return
    for v in range(nv):
        vb = O_VOICE + v * VW
        if st[vb + V_ON] == 0.0:
            _voice_start(st, vb, note, vel, ch, 1.0, tb, glide_on)
            return
    best = -1
    score = 1e300
    for v in range(nv):
        vb = O_VOICE + v * VW
        age = st[vb + V_AGE]
        if st[vb + V_FDEC] > 0.0 and st[vb + V_PNOTE] < 0.0:
            s = -2.0 + st[vb + V_FADE]
        elif st[vb + V_PNOTE] >= 0.0:
            s = 3e12 + age
        elif st[vb + V_AST] == 4.0:
            s = -1.0 + st[vb + V_ALV]
        elif st[vb + V_GATE] == 0.0:
            s = 1e12 + age
        else:
            s = 2e12 + age
        if s < score:
            score = s
            best = v
    vb = O_VOICE + best * VW
    if st[vb + V_FDEC] == 0.0:
        st[vb + V_FDEC] = steal_dec
    st[vb + V_PNOTE] = note
    st[vb + V_PVEL] = vel
    st[vb + V_PCH] = ch
    st[vb + V_PGATE] = 1.0


@rt_jit
def _note_off(st, note, ch, nv, mpe, r_frames, fr_frames):
    for v in range(MAXV):
        vb = O_VOICE + v * VW
        if st[vb + V_ON] == 0.0:
            continue
        if st[vb + V_PNOTE] == note and (not mpe or st[vb + V_PCH] == ch):
            st[vb + V_PGATE] = 0.0
        if st[vb + V_NOTE] == note and st[vb + V_GATE] != 0.0 and (not mpe or st[vb + V_CH] == ch):
            if _pedal(st, int(st[vb + V_CH]), mpe):
                st[vb + V_GATE] = 0.0
                st[vb + V_SUST] = 1.0
            else:
                _release_voice(st, vb, r_frames, fr_frames)


@rt_jit
def _pedal_up(st, mpe, r_frames, fr_frames):
    """Release the voices the sustain pedal was holding and no pedal holds any more."""
    for v in range(MAXV):
        vb = O_VOICE + v * VW
        if st[vb + V_ON] != 0.0 and st[vb + V_SUST] != 0.0 and not _pedal(st, int(st[vb + V_CH]), mpe):
            _release_voice(st, vb, r_frames, fr_frames)


@rt_jit
def _event(st, status, d1, d2, nv, mpe, tb, glide_on, steal_dec, kill_dec, r_frames, fr_frames):
    """Apply one MIDI event (status byte, data bytes 0..127)."""
    if status == PANIC_STATUS:
        _kill_all(st, kill_dec)
        return
    kind = status & 0xF0
    ch = status & 0x0F
    slot = ch if mpe else 0
    cb = O_CH + slot * CH_W
    if kind == 0x90 and d2 > 0:
        _note_on(st, d1, d2, ch, nv, mpe, tb, glide_on, steal_dec)
    elif kind == 0x80 or kind == 0x90:
        _note_off(st, d1, ch, nv, mpe, r_frames, fr_frames)
    elif kind == 0xE0:
        raw = (d2 << 7) | d1
        st[cb + C_BEND] = (raw - 8192) / 8192.0 if raw < 8192 else (raw - 8192) / 8191.0
    elif kind == 0xD0:
        st[cb + C_PRESS] = d1 / 127.0
    elif kind == 0xA0:
        for v in range(MAXV):
            vb = O_VOICE + v * VW
            if st[vb + V_ON] != 0.0 and st[vb + V_NOTE] == d1 and (not mpe or st[vb + V_CH] == ch):
                st[vb + V_POLYP] = d2 / 127.0
    elif kind == 0xB0:
        if d1 == 1:
            st[cb + C_MOD] = d2 / 127.0
        elif d1 == 74:
            st[cb + C_CC74] = d2
        elif d1 == 64:
            was = st[cb + C_SUS] >= 0.5
            st[cb + C_SUS] = 1.0 if d2 >= 64 else 0.0
            if was and d2 < 64:
                _pedal_up(st, mpe, r_frames, fr_frames)
        elif d1 == 120 or d1 == 123:
            _kill_all(st, kill_dec)
        elif d1 == 121:
            was = st[cb + C_SUS] >= 0.5
            for k in range(CH_W):
                st[cb + k] = 0.0
            st[cb + C_CC74] = 64.0
            if was:
                _pedal_up(st, mpe, r_frames, fr_frames)


@rt_jit
def _control(st, vb, tb, pc, m, sr, mpe, gc, lfo, wave, ftype, fa_inc, fd_frames, fsus, pnorm_n):
    """Per-segment update of one voice: pitch, table level, filter coefficients, modulation target."""
    note = int(st[vb + V_NOTE])
    hz = st[tb + note]
    if hz > 0.0 and hz != st[vb + V_HZ]:
        st[vb + V_HZ] = hz
        st[vb + V_TLOGF] = math.log2(hz)
    tl = st[vb + V_TLOGF]
    logf = st[vb + V_LOGF]
    logf += (tl - logf) * gc
    st[vb + V_LOGF] = logf
    ch = int(st[vb + V_CH])
    c0 = O_CH
    semis = st[c0 + C_BEND] * pc[P_BEND]
    press = st[c0 + C_PRESS]
    modw = st[c0 + C_MOD]
    cc74 = st[c0 + C_CC74]
    if mpe and ch != 0:
        cm = O_CH + ch * CH_W
        semis += st[cm + C_BEND] * pc[P_MPEBEND]
        if st[cm + C_PRESS] > press:
            press = st[cm + C_PRESS]
        if st[cm + C_MOD] > modw:
            modw = st[cm + C_MOD]
        cc74 = st[cm + C_CC74]
    if st[vb + V_POLYP] > press:
        press = st[vb + V_POLYP]
    semis += lfo * pc[P_VIBDEPTH] * modw * 0.01
    f = 2.0 ** (logf + semis / 12.0)
    inc = f / sr
    if inc > 0.499:
        inc = 0.499
    st[vb + V_INC] = inc
    x = FHI_FRACTION * sr / f
    if wave >= W_SAW and wave <= W_TRI:
        xi = int(x)
        if xi > LUT_N - 1:
            xi = LUT_N - 1
        j = int(st[O_LUT + xi])
        if j + 1 < N_LEVELS:
            k0 = st[O_KLEV + j]
            w = (x - k0) / (st[O_KLEV + j + 1] - k0)
            if w < 0.0:
                w = 0.0
            elif w > 1.0:
                w = 1.0
        else:
            w = 1.0
        fam = (wave - W_SAW) * N_LEVELS
        st[vb + V_TB] = O_TAB + (fam + j) * TAB_W
        st[vb + V_TA] = O_TAB + (fam + (j - 1 if j > 0 else 0)) * TAB_W
        st[vb + V_TW] = w
    elif wave == W_PARTIALS:
        xn = 0.5 * sr / f - 1.0  # the faded top partial stays below Nyquist too
        if xn < x:
            x = xn
        npx = x if x < pnorm_n else pnorm_n
        if npx < 1.0:
            npx = 1.0
        st[vb + V_NPF] = float(int(npx))
        st[vb + V_NPX] = npx - int(npx)
    # filter
    if ftype != 0:
        fe = _env_advance(st, vb + V_FST, m, fa_inc, fd_frames, fsus)
        c74 = (cc74 - 64.0) / 64.0 if cc74 < 64.0 else (cc74 - 64.0) / 63.0
        octs = pc[P_FENV] * fe + pc[P_KEYTRACK] * (logf - REF_LOGF) + pc[P_TIMBRE] * c74 \
            + pc[P_PRESSCUT] * press
        fc = pc[P_CUTOFF] * 2.0 ** octs
        if fc < 10.0:
            fc = 10.0
        elif fc > 0.45 * sr:
            fc = 0.45 * sr
        g = math.tan(math.pi * fc / sr)
        k = 2.0 - 1.96 * pc[P_RES]
        a1 = 1.0 / (1.0 + g * (g + k))
        st[vb + V_A1] = a1
        st[vb + V_A2] = g * a1
        st[vb + V_A3] = g * g * a1
        st[vb + V_K] = k
    vs = pc[P_VELSENS]
    vel = st[vb + V_VEL]
    target = (1.0 - vs + vs * vel * vel) * _db(pc[P_PRESSAMP] * press)
    st[vb + V_MODT] = target
    if st[vb + V_MOD] < 0.0:
        st[vb + V_MOD] = target


@rt_jit
def _render(st, vb, out, s0, s1, wave, ftype, a_inc, d_frames, sus):
    """Add voice ``vb``'s frames ``s0..s1`` to ``out``; returns False when the voice fell silent."""
    ph = st[vb + V_PHASE]
    inc = st[vb + V_INC]
    stg = st[vb + V_AST]
    y = st[vb + V_ALV]
    fade = st[vb + V_FADE]
    fdec = st[vb + V_FDEC]
    ic1 = st[vb + V_IC1]
    ic2 = st[vb + V_IC2]
    a1 = st[vb + V_A1]
    a2 = st[vb + V_A2]
    a3 = st[vb + V_A3]
    kq = st[vb + V_K]
    mod = st[vb + V_MOD]
    modt = st[vb + V_MODT]
    dmod = (modt - mod) / (s1 - s0)
    ta = int(st[vb + V_TA])
    tb = int(st[vb + V_TB])
    tw = st[vb + V_TW]
    npf = int(st[vb + V_NPF])
    npx = st[vb + V_NPX]
    rng = np.int64(st[vb + V_RNG])
    alive = True
    for i in range(s0, s1):
        # amplitude envelope: the stage logic of _env_advance, written out on locals on purpose.
        # Sharing one helper (inline="always" returning (stage, level)) measured 4.8 -> 7.0 us per
        # voice per block in benchmarks/synth.py (9.2 without inline); keep the two in step.
        if stg == 1.0:
            y += a_inc
            if y >= 1.0:
                y = 1.0
                if _exp_segment(st, vb + V_AST, 1.0, sus, d_frames) and sus < 1.0:
                    stg = 2.0
                else:
                    stg = 3.0
                    y = sus
        elif stg == 2.0:
            tgt = st[vb + V_ATG]
            off = st[vb + V_AOF]
            y = tgt - off + (y - tgt + off) * st[vb + V_ACF]
            if y <= tgt:
                y = tgt
                stg = 3.0
        elif stg == 3.0:
            y = sus
        elif stg == 4.0:
            off = st[vb + V_AOF]
            y = -off + (y + off) * st[vb + V_ACF]
            if y <= 0.0:
                y = 0.0
                stg = 0.0
        # oscillator
        if wave == W_SINE:
            o = math.sin(TWO_PI * ph)
        elif wave <= W_TRI:
            p = ph * TAB_N
            ip = int(p)
            fr = p - ip
            va = st[ta + ip]
            va += fr * (st[ta + ip + 1] - va)
            vb2 = st[tb + ip]
            vb2 += fr * (st[tb + ip + 1] - vb2)
            o = va + tw * (vb2 - va)
        elif wave == W_PARTIALS:
            th = TWO_PI * ph
            s1v = math.sin(th)
            c2 = 2.0 * math.cos(th)
            sp = 0.0
            sc = s1v
            o = st[O_PAMP] * s1v
            for kk in range(1, npf):
                sn = c2 * sc - sp
                sp = sc
                sc = sn
                o += st[O_PAMP + kk] * sn
            if npx > 0.0 and npf < MAX_PARTIALS:
                o += npx * st[O_PAMP + npf] * (c2 * sc - sp)
        else:
            rng = (rng * 1664525 + 1013904223) & 0xFFFFFFFF
            o = rng * (2.0 / 4294967296.0) - 1.0
        ph += inc
        if ph >= 1.0:
            ph -= 1.0
        # filter (trapezoidal state-variable filter)
        if ftype != 0:
            v3 = o - ic2
            v1 = a1 * ic1 + a2 * v3
            v2 = ic2 + a2 * ic1 + a3 * v3
            ic1 = 2.0 * v1 - ic1
            ic2 = 2.0 * v2 - ic2
            if ftype == 1:
                o = v2
            elif ftype == 2:
                o = kq * v1
            else:
                o = o - kq * v1 - v2
        mod += dmod
        g = y * mod
        if fdec > 0.0:
            fade -= fdec
            if fade <= 0.0:
                fade = 0.0
            g *= fade
        out[i] += o * g
        if stg == 0.0 or fade <= 0.0:
            alive = False
            break
    st[vb + V_PHASE] = ph
    st[vb + V_AST] = stg
    st[vb + V_ALV] = y
    st[vb + V_FADE] = fade
    st[vb + V_IC1] = ic1
    st[vb + V_IC2] = ic2
    st[vb + V_MOD] = modt
    st[vb + V_RNG] = float(rng)
    return alive


@rt_jit
def synth_process(pp, pc, st, buf, n, sr):
    """Synth source kernel: this block's MIDI events in, ``n`` frames of stereo (identical L/R) out.

    pp/pc: parameters in :data:`PARAM_NAMES` order (times in ms, levels 0..1, cutoff in Hz, bend
    ranges in semitones, output in dB); st: MIDI head, constants, voices, then the 128-key payload
    (Hz); sr: sample rate in Hz.
    """
    tb = st.shape[0] - PAYLOAD
    for k in range(PAYLOAD):  # the NaN guard zeroes the payload too: restore the last good table
        v = st[tb + k]
        if v == 0.0:
            st[tb + k] = st[O_BACKUP + k]
        else:
            st[O_BACKUP + k] = v
    if st[G_INIT] == 0.0:
        _reset_channels(st)
        st[G_INIT] = 1.0
    ms = sr * 0.001
    wave = int(pc[P_WAVE] + 0.5)
    ftype = int(pc[P_FILTER] + 0.5)
    nv = int(pc[P_VOICES] + 0.5)
    nv = 1 if nv < 1 else (MAXV if nv > MAXV else nv)
    mpe = pc[P_MPE] >= 0.5
    a_frames = pc[P_ATTACK] * ms
    a_inc = 1.0 / a_frames if a_frames > 1.0 else 1.0
    d_frames = pc[P_DECAY] * ms
    sus = pc[P_SUSTAIN]
    r_frames = pc[P_RELEASE] * ms
    fa_frames = pc[P_FATTACK] * ms
    fa_inc = 1.0 / fa_frames if fa_frames > 1.0 else 1.0
    fd_frames = pc[P_FDECAY] * ms
    fsus = pc[P_FSUSTAIN]
    fr_frames = pc[P_FRELEASE] * ms
    glide_frames = pc[P_GLIDE] * ms
    glide_on = glide_frames >= 1.0
    steal_dec = 1.0 / (STEAL_MS * ms)
    kill_dec = 1.0 / (KILL_MS * ms)
    # voices above the polyphony setting fade out
    for v in range(nv, MAXV):
        vb = O_VOICE + v * VW
        st[vb + V_PNOTE] = -1.0
        if st[vb + V_ON] != 0.0 and st[vb + V_FDEC] == 0.0:
            st[vb + V_FDEC] = steal_dec
    npart = int(pc[P_PARTIALS] + 0.5)
    npart = 1 if npart < 1 else (MAX_PARTIALS if npart > MAX_PARTIALS else npart)
    if wave == W_PARTIALS:
        e = -pc[P_ROLLOFF] / (20.0 * math.log10(2.0))
        tot = 0.0
        for k in range(npart):
            a = (k + 1.0) ** e
            st[O_PAMP + k] = a
            tot += a
        for k in range(npart):
            st[O_PAMP + k] /= tot
    out = buf[0]
    for i in range(n):
        out[i] = 0.0
    cnt = int(st[MIDI_COUNT])
    if cnt > MAX_BLOCK_EVENTS:
        cnt = MAX_BLOCK_EVENTS
    ev = 0
    s = 0
    while s < n or ev < cnt:
        while ev < cnt and (int(st[MIDI_EV + MIDI_W * ev]) <= s or s >= n):
            b = MIDI_EV + MIDI_W * ev
            _event(st, int(st[b + 1]), int(st[b + 2]), int(st[b + 3]), nv, mpe, tb, glide_on, steal_dec,
                   kill_dec, r_frames, fr_frames)
            ev += 1
        if s >= n:
            break
        end = s + CR
        if end > n:
            end = n
        if ev < cnt:
            nxt = int(st[MIDI_EV + MIDI_W * ev])
            if nxt < end:
                end = nxt
        m = end - s
        gc = 1.0 - math.exp(-m / glide_frames) if glide_on else 1.0
        lfo = math.sin(TWO_PI * st[G_LFO])
        for v in range(MAXV):
            vb = O_VOICE + v * VW
            if st[vb + V_ON] == 0.0:
                continue
            if st[vb + V_FADE] <= 0.0:
                if st[vb + V_PNOTE] >= 0.0:
                    _voice_start(st, vb, int(st[vb + V_PNOTE]), st[vb + V_PVEL], st[vb + V_PCH], 1.0, tb,
                                 glide_on)
                    if st[vb + V_PGATE] == 0.0 and not _pedal(st, int(st[vb + V_CH]), mpe):
                        _release_voice(st, vb, r_frames, fr_frames)
                else:
                    st[vb + V_ON] = 0.0
                    continue
            _control(st, vb, tb, pc, m, sr, mpe, gc, lfo, wave, ftype, fa_inc, fd_frames, fsus, float(npart))
            if not _render(st, vb, out, s, end, wave, ftype, a_inc, d_frames, sus):
                if st[vb + V_PNOTE] >= 0.0:
                    st[vb + V_FADE] = 0.0
                else:
                    st[vb + V_ON] = 0.0
        ph = st[G_LFO] + m * pc[P_VIBRATE] / sr
        st[G_LFO] = ph - math.floor(ph)
        s = end
    g0 = _db(pp[P_OUTPUT])
    g1 = _db(pc[P_OUTPUT])
    inv = 1.0 / n if n > 0 else 0.0
    for i in range(n):
        x = out[i] * (g0 + (g1 - g0) * ((i + 1) * inv))
        out[i] = x
        buf[1, i] = x
