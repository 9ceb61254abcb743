"""The LV2 node's kernel: float64 block -> the plugin's float32 ports -> ``run`` -> back.

The plugin instances (made, connected and activated off the audio thread by :mod:`livehost.lv2.host`)
own their port memory for as long as the node lives; their addresses sit in the node's state as
constants (exact in a float64: user-space addresses are below 2**53). The state starts with the MIDI
head every MIDI-consuming node has (:mod:`livehost.dsp.midi_events`), then:

- ``st[S_RUN]``: the plugin's ``run(handle, sample_count)`` function pointer
- ``st[S_NINST]``: 1 (the plugin takes the stereo pair, or mono in/out on both channels) or 2 (a mono
  plugin, one instance per channel)
- ``st[S_NIN]``, ``st[S_NOUT]``: audio inputs and outputs used per instance (0, 1 or 2 inputs; 1 or 2
  outputs)
- ``st[S_NCTL]``: control inputs (the node's own parameters, in declaration order)
- ``st[S_MIDI]``: 1 when the plugin takes MIDI (an atom sequence input), with ``st[S_SEQ_TYPE]`` and
  ``st[S_MIDI_TYPE]`` the URIDs of ``atom:Sequence`` and ``midi:MidiEvent`` and ``st[S_SEQ_WORDS]`` the
  sequence buffer's capacity in 8-byte words
- ``st[S_NATOM_OUT]``: atom output ports per instance
- ``st[S_ASK]``: set to 1 by the kernel when it finds the plugin not alive (see ``S_ALIVE``): a request
  to the control side to reset the instances (deactivate + activate, off the audio thread)
- per instance ``k`` at ``S_INST + k * INST_W``: handle, input 0, input 1, output 0, output 1 (float32
  buffers of ``max_block`` frames), the control inputs (``S_NCTL`` contiguous float32), the MIDI
  sequence buffer, a table of ``(address, word)`` int64 pairs: each atom output's header, which the
  host sets to its capacity before every ``run`` (other atom inputs hold an empty sequence), the
  worker table (:mod:`livehost.dsp.lv2_worker`; 0 without the worker extension), the atom input that
  takes patch messages (0 without one; it may be the MIDI input) and its mailbox (below)
- ``st[S_ALIVE]``: 1 while the plugin may run. It is the only slot at or above ``reset_from``: when
  the engine's guard resets the node after a non-finite or runaway output it becomes 0, and the kernel
  stops calling the plugin (the node passes its input; an instrument adds nothing), sets ``S_ASK``, and
  waits for the control side to reset the instances and store 1 (release ordering) again.

Around the plugins' calls the kernel turns on flush-to-zero and denormals-are-zero
(:mod:`livehost.dsp.fpenv`) and restores the caller's setting after. With the worker extension,
responses waiting for an instance go to its ``work_response`` before ``run``, and ``end_run`` (if the
plugin has one) is called after.

Patch messages (a file to load, ``patch:Set``) reach a plugin through a one-slot mailbox per instance
(float64 head, then int64 words): ``M_POSTED`` (messages posted, stored by the control side with release
ordering once the words are written), ``M_TAKEN`` (stored by the kernel, release, once it copied them),
``M_WORDS`` (how many words), then the events as they go in an atom sequence. The control side writes
the mailbox only while ``M_TAKEN == M_POSTED``; the kernel copies a posted batch to the front of the
patch input's sequence for one block.

The control values are the engine's smoothed parameters at the end of the block (LV2 control ports
are read once per ``run``). A plugin with one input on a stereo chain gets the mid signal (L+R)/2; one
output goes to both channels. A plugin with no audio input (an instrument) adds its output to the
signal it is given. The block's MIDI events go to the plugin as an atom sequence (frame time stamps:
``LV2_Atom_Event`` = int64 frames, uint32 size, uint32 type, the message bytes padded to 8); the
engine's panic becomes All Notes Off and All Sound Off on every channel.
"""

from __future__ import annotations

import numpy as np
from numba import carray

from livehost.dsp.atomics import load_acquire, store_release
from livehost.dsp.cptr import call_u32_p, call_void_pu32, f32_ptr, f64_ptr, i64_ptr
from livehost.dsp.fpenv import denormals_off, fp_restore
from livehost.dsp.lv2_worker import W_END_RUN, W_SIZE, deliver_responses
from livehost.dsp.midi_events import MIDI_COUNT, MIDI_EV, MIDI_HEAD, MIDI_W, PANIC_STATUS
from livehost.dsp.rt import rt_jit

S_RUN, S_NINST, S_NIN, S_NOUT, S_NCTL, S_TOKEN, S_MIDI, S_SEQ_TYPE, S_MIDI_TYPE, S_SEQ_WORDS, S_NATOM_OUT, S_ASK = (
    MIDI_HEAD + k for k in range(12))
S_INST = MIDI_HEAD + 12
INST_W = 11
I_HANDLE, I_IN0, I_IN1, I_OUT0, I_OUT1, I_CTL, I_SEQ, I_ATOM_OUT, I_WORKER, I_PSEQ, I_MAIL = range(INST_W)
S_ALIVE = S_INST + 2 * INST_W
STATE_SIZE = S_ALIVE  #: the constants: the engine's guard zeroes from here (``S_ALIVE`` only)
SEQ_WORDS = 1024  #: 8-byte words of every atom port buffer (8 KiB): a sequence's header, then 3 per event
MAIL_HEAD = 4  #: float64 words before a mailbox's events
M_POSTED, M_TAKEN, M_WORDS = range(3)
MAIL_WORDS = 512  #: int64 words of events a mailbox holds (4 KiB)


@rt_jit(inline="always")
def _put_event(seq, w0, k, frame, midi_type, status, d1, d2):
    """MIDI event ``k`` of the sequence at ``seq`` (int64 words, MIDI events from word ``w0``): time,
    size/type, the bytes."""
    size = 2 if (status & 0xF0) == 0xC0 or (status & 0xF0) == 0xD0 else 3
    w = w0 + 3 * k
    seq[w] = frame
    seq[w + 1] = size | (midi_type << 32)
    seq[w + 2] = (status & 0xFF) | ((d1 & 0x7F) << 8) | ((d2 & 0x7F) << 16)


@rt_jit
def take_mail(mail, seq, words):
    """Copy the batch of events posted in the mailbox at address ``mail`` (if any) to the front of the
    atom sequence ``seq`` (after its 2 header words; ``words`` its capacity) and mark it taken; returns
    the words copied (0 when nothing was posted)."""
    head = carray(f64_ptr(mail), (MAIL_HEAD,))
    posted = load_acquire(head, M_POSTED)
    if posted == head[M_TAKEN]:
        return 0
    n = min(int(head[M_WORDS]), words - 2, MAIL_WORDS)
    body = carray(i64_ptr(mail + 8 * MAIL_HEAD), (MAIL_WORDS,))
    for j in range(n):
        seq[2 + j] = body[j]
    store_release(head, M_TAKEN, posted)
    return n


@rt_jit
def write_sequence(st, seq, cap_events, w0):
    """Write this block's MIDI events (the state's head) into the atom sequence ``seq`` from word
    ``w0`` on (``w0 - 2`` words of other events are already there); returns the count."""
    seq_type = np.int64(st[S_SEQ_TYPE])
    midi_type = np.int64(st[S_MIDI_TYPE])
    k = 0
    for e in range(int(st[MIDI_COUNT])):
        b = MIDI_EV + MIDI_W * e
        frame = np.int64(st[b])
        status = np.int64(st[b + 1])
        if status == PANIC_STATUS:
            for ch in range(16):
                for cc in (123, 120):  # all notes off, all sound off
                    if k < cap_events:
                        _put_event(seq, w0, k, frame, midi_type, 0xB0 | ch, cc, 0)
                        k += 1
        elif status >= 0x80 and status < 0xF0 and k < cap_events:
            _put_event(seq, w0, k, frame, midi_type, status, np.int64(st[b + 2]), np.int64(st[b + 3]))
            k += 1
    seq[0] = (8 + 8 * (w0 - 2) + 24 * k) | (seq_type << 32)  # atom size (body: unit, pad, events), type
    seq[1] = 0  # unit 0: time stamps in frames; pad
    return k


@rt_jit
def lv2_process(pp, pc, st, buf, n, sr):
    """Run the node's plugin instance(s) over ``buf[:, :n]`` in place (see the module docstring)."""
    if st[S_ALIVE] == 0.0:  # reset by the guard: wait for the control side to reset the plugin
        if st[S_ASK] == 0.0:
            store_release(st, S_ASK, 1.0)  # after this, no call into the plugin until S_ALIVE is 1
        return
    run = np.int64(st[S_RUN])
    ninst = int(st[S_NINST])
    nin = int(st[S_NIN])
    nout = int(st[S_NOUT])
    nctl = int(st[S_NCTL])
    for k in range(ninst):
        b = S_INST + k * INST_W
        if nctl > 0:
            ctl = carray(f32_ptr(np.int64(st[b + I_CTL])), (nctl,))
            for j in range(nctl):
                ctl[j] = np.float32(pc[j])
        na = int(st[S_NATOM_OUT])
        if na > 0:
            tab = carray(i64_ptr(np.int64(st[b + I_ATOM_OUT])), (2 * na,))
            for j in range(na):
                carray(i64_ptr(tab[2 * j]), (1,))[0] = tab[2 * j + 1]
        words = int(st[S_SEQ_WORDS])
        pseq_at = np.int64(st[b + I_PSEQ])
        w0 = 2  # where this block's MIDI events start in the MIDI input's sequence
        if pseq_at != 0:
            pseq = carray(i64_ptr(pseq_at), (words,))
            got = take_mail(np.int64(st[b + I_MAIL]), pseq, words)
            if st[S_MIDI] != 0.0 and pseq_at == np.int64(st[b + I_SEQ]):
                w0 = 2 + got
            else:
                pseq[0] = (8 + 8 * got) | (np.int64(st[S_SEQ_TYPE]) << 32)
                pseq[1] = 0
        if st[S_MIDI] != 0.0:
            write_sequence(st, carray(i64_ptr(np.int64(st[b + I_SEQ])), (words,)), (words - w0) // 3, w0)
        if nin > 0:
            x0 = carray(f32_ptr(np.int64(st[b + I_IN0])), (n,))
            if ninst == 2:
                for i in range(n):
                    x0[i] = np.float32(buf[k, i])
            elif nin == 1:
                for i in range(n):
                    x0[i] = np.float32(0.5 * (buf[0, i] + buf[1, i]))
            else:
                x1 = carray(f32_ptr(np.int64(st[b + I_IN1])), (n,))
                for i in range(n):
                    x0[i] = np.float32(buf[0, i])
                    x1[i] = np.float32(buf[1, i])
        handle = np.int64(st[b + I_HANDLE])
        wk = np.int64(st[b + I_WORKER])
        fp = denormals_off()
        if wk != 0:
            wtab = carray(i64_ptr(wk), (W_SIZE,))
            deliver_responses(handle, wtab)
            call_void_pu32(run, handle, n)
            if wtab[W_END_RUN] != 0:
                call_u32_p(wtab[W_END_RUN], handle)
        else:
            call_void_pu32(run, handle, n)
        fp_restore(fp)
        y0 = carray(f32_ptr(np.int64(st[b + I_OUT0])), (n,))
        if ninst == 2:
            for i in range(n):
                buf[k, i] = np.float64(y0[i])
            continue
        y1 = carray(f32_ptr(np.int64(st[b + I_OUT1 if nout > 1 else b + I_OUT0])), (n,))
        if nin == 0:  # an instrument: played over the signal it is given
            for i in range(n):
                buf[0, i] += np.float64(y0[i])
                buf[1, i] += np.float64(y1[i])
        else:
            for i in range(n):
                buf[0, i] = np.float64(y0[i])
                buf[1, i] = np.float64(y1[i])


def lv2_state_size(sr: float, max_block: int) -> int:
    """Float64 slots of an LV2 node's state (the MIDI head, the constants above and ``S_ALIVE``)."""
    return STATE_SIZE + 1
