"""The LV2 node's kernel: float64 block -> the plugin's float32 ports -> ``run`` -> back.

The plugin instances (made, connected and activated off the audio thread by :mod:`livehost.lv2.host`)
own float32 port memory for as long as the node lives; their addresses sit in the node's state as
constants (exact in a float64: user-space addresses are below 2**53):

- ``st[S_RUN]``: the plugin's ``run(handle, sample_count)`` function pointer
- ``st[S_NINST]``: 1 (the plugin takes the stereo pair, or mono in/out on both channels) or 2 (a mono
  plugin, one instance per channel)
- ``st[S_NIN]``, ``st[S_NOUT]``: audio inputs and outputs used per instance (1 or 2)
- ``st[S_NCTL]``: control inputs (the node's own parameters, in declaration order)
- per instance ``k`` at ``S_INST + k * INST_W``: handle, input 0, input 1, output 0, output 1 (float32
  buffers of ``max_block`` frames) and the control inputs (``S_NCTL`` contiguous float32)

The control values are the engine's smoothed parameters at the end of the block (LV2 control ports
are read once per ``run``). A plugin with one input on a stereo chain gets the mid signal (L+R)/2; one
output goes to both channels.
"""

from __future__ import annotations

import numpy as np
from numba import carray

from livehost.dsp.cptr import call_void_pu32, f32_ptr
from livehost.dsp.rt import rt_jit

S_RUN, S_NINST, S_NIN, S_NOUT, S_NCTL, S_TOKEN = 0, 1, 2, 3, 4, 5
S_INST = 8
INST_W = 6
I_HANDLE, I_IN0, I_IN1, I_OUT0, I_OUT1, I_CTL = range(INST_W)
STATE_SIZE = S_INST + 2 * INST_W


@rt_jit
def lv2_process(pp, pc, st, buf, n, sr):
    """Run the node's plugin instance(s) over ``buf[:, :n]`` in place (see the module docstring)."""
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
        call_void_pu32(run, np.int64(st[b + I_HANDLE]), n)
        y0 = carray(f32_ptr(np.int64(st[b + I_OUT0])), (n,))
        if ninst == 2:
            for i in range(n):
                buf[k, i] = np.float64(y0[i])
        elif nout == 1:
            for i in range(n):
                v = np.float64(y0[i])
                buf[0, i] = v
                buf[1, i] = v
        else:
            y1 = carray(f32_ptr(np.int64(st[b + I_OUT1])), (n,))
            for i in range(n):
                buf[0, i] = np.float64(y0[i])
                buf[1, i] = np.float64(y1[i])


def lv2_state_size(sr: float, max_block: int) -> int:
    """Float64 slots of an LV2 node's state (the constants above)."""
    return STATE_SIZE
