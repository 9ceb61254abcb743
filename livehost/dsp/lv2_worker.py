"""The LV2 worker extension's real-time half: byte rings between a plugin's ``run`` and a worker thread.

A plugin with ``worker:schedule`` asks for slow work (loading a sample) from ``run`` by calling the
host's ``schedule_work(handle, size, data)``. livehost's is :data:`schedule_work`, a numba ``cfunc``
(no GIL, no allocation, no lock): it copies the request into the instance's request ring and returns
``LV2_WORKER_ERR_NO_SPACE`` when the ring is full. A Python worker thread (:mod:`livehost.lv2.host`)
drains that ring and calls the plugin's ``work``; the plugin's answers (``respond``, on the worker
thread) go into a second ring, which the LV2 kernel (:func:`deliver_responses`) empties into the
plugin's ``work_response`` just before the next ``run``.

Ring layout (one float64 array; each ring has exactly one writer and one reader)::

    word 0  W: bytes written so far (only the writer stores it, with release ordering)
    word 1  R: bytes read so far (only the reader stores it, with release ordering)
    word 2  capacity in bytes (a multiple of 8)
    word 3  requests refused because the ring was full (written by the writer)
    words RING_HEAD..  the bytes: each message is an 8-byte header (uint32 size, little-endian, then
                       4 zero bytes) and its body padded to 8 bytes, wrapping around at the capacity

The reader takes ``W`` with acquire ordering before it reads the bytes; the writer takes ``R`` with
acquire ordering before it reuses them (:mod:`livehost.dsp.atomics`).
"""

from __future__ import annotations

import numpy as np
from numba import carray, cfunc, types

from livehost.dsp.atomics import load_acquire, store_release
from livehost.dsp.cptr import call_i32_pu32p, f64_ptr, u8_ptr
from livehost.dsp.rt import rt_jit

RING_HEAD = 8  #: float64 words before a ring's bytes
R_W, R_R, R_CAP, R_FULL = 0, 1, 2, 3
WORKER_SUCCESS, WORKER_ERR_UNKNOWN, WORKER_ERR_NO_SPACE = 0, 1, 2  #: LV2_Worker_Status

#: the worker table one instance's kernel reads (int64 words, its address in the node's state)
W_RESP, W_SCRATCH, W_SCRATCH_BYTES, W_WORK_RESPONSE, W_END_RUN = range(5)
W_SIZE = 5


def ring_words(capacity: int) -> int:
    """Float64 words of a ring holding ``capacity`` bytes (rounded up to 8)."""
    return RING_HEAD + -(-int(capacity) // 8)


@rt_jit
def ring_put(base, size, data):
    """Copy message ``data`` (``size`` bytes at that address) into the ring at address ``base``:
    LV2_WORKER_SUCCESS, or LV2_WORKER_ERR_NO_SPACE (counted) if it does not fit. Single writer."""
    head = carray(f64_ptr(base), (RING_HEAD,))
    cap = np.int64(head[R_CAP])
    w = np.int64(head[R_W])
    r = np.int64(load_acquire(head, R_R))
    n = np.int64(size)
    need = 8 + ((n + 7) // 8) * 8
    if need > cap or w + need - r > cap:
        head[R_FULL] += 1.0
        return WORKER_ERR_NO_SPACE
    ring = carray(u8_ptr(base + 8 * RING_HEAD), (cap,))
    p = w % cap
    for j in range(4):
        ring[p + j] = np.uint8((n >> (8 * j)) & 0xFF)
        ring[p + 4 + j] = np.uint8(0)
    if n > 0:
        src = carray(u8_ptr(data), (n,))
        q = p + 8
        for j in range(n):
            ring[(q + j) % cap] = src[j]
    store_release(head, R_W, w + need)
    return WORKER_SUCCESS


@cfunc(types.int32(types.int64, types.uint32, types.int64), cache=True, nopython=True, error_model="numpy")
def schedule_work(handle, size, data):
    """``LV2_Worker_Status schedule_work(LV2_Worker_Schedule_Handle handle, uint32_t size, const void*
    data)``: the handle is the instance's request ring. Called by the plugin from ``run`` (the audio
    thread) or ``work_response``."""
    return ring_put(handle, size, data)


@rt_jit
def deliver_responses(handle, tab):
    """Hand every response waiting in the instance's response ring to the plugin's ``work_response``
    (``tab``: the instance's worker table, int64), each copied whole into the scratch buffer first.
    Returns how many were delivered. Called by the kernel before ``run``; single reader."""
    base = tab[W_RESP]
    head = carray(f64_ptr(base), (RING_HEAD,))
    cap = np.int64(head[R_CAP])
    r = np.int64(head[R_R])
    w = np.int64(load_acquire(head, R_W))
    if r >= w:
        return 0
    ring = carray(u8_ptr(base + 8 * RING_HEAD), (cap,))
    scap = tab[W_SCRATCH_BYTES]
    out = carray(u8_ptr(tab[W_SCRATCH]), (scap,))
    fn = tab[W_WORK_RESPONSE]
    k = 0
    while r < w:
        p = r % cap
        n = (np.int64(ring[p]) | (np.int64(ring[p + 1]) << 8) | (np.int64(ring[p + 2]) << 16)
             | (np.int64(ring[p + 3]) << 24))
        if n <= scap and fn != 0:
            q = p + 8
            for j in range(n):
                out[j] = ring[(q + j) % cap]
            call_i32_pu32p(fn, handle, n, tab[W_SCRATCH])
            k += 1
        r += 8 + ((n + 7) // 8) * 8
    store_release(head, R_R, r)
    return k
