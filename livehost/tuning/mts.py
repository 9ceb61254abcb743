"""MIDI Tuning Standard: real-time single-note tuning change (universal real-time sysex).

Message (bytes, hex)::

    F0 7F <device> 08 02 <program> <count> [<key> <xx> <yy> <zz>] * count F7

and the bank-select form ``F0 7F|7E <device> 08 07 <bank> <program> <count> [...] F7``.  Frequency
data ``xx yy zz``: ``xx`` is a 12-EDO semitone (MIDI note number, A4 = 69 = 440 Hz) and ``yy zz`` a
14-bit fraction of a semitone (``yy`` high 7 bits), i.e. units of 100/16384 cents (0.0061 cents).
``7F 7F 7F`` means "no change" for that key.  Device 7F addresses all devices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

from livehost.tuning.errors import TuningError

_SOURCE = "MTS sysex"
FRACTION_STEPS = 16384
"""Steps of the 14-bit semitone fraction (one step = 100/16384 cents)."""
NO_CHANGE = (0x7F, 0x7F, 0x7F)
"""Frequency data meaning "leave this key as it is"."""
ALL_DEVICES = 0x7F
"""Device id that addresses every device."""


def hz_to_mts(hz: float) -> tuple[int, int, int]:
    """Frequency in Hz -> MTS frequency data ``(xx, yy, zz)`` (semitone, fraction MSB, fraction LSB),
    rounded to the nearest 100/16384 cent.  Raises :class:`TuningError` outside the representable
    range 8.18 Hz (note 0) .. about 12543.85 Hz (just under note 128)."""
    if not (isinstance(hz, (int, float)) and math.isfinite(hz) and hz > 0):
        raise TuningError(f"frequency {hz!r} Hz is not a positive finite number", _SOURCE)
    semis = 69.0 + 12.0 * math.log2(hz / 440.0)
    steps = round(semis * FRACTION_STEPS)
    if steps < 0 or steps >= 128 * FRACTION_STEPS:
        raise TuningError(f"frequency {hz:g} Hz is outside the MTS range (MIDI notes 0..127)", _SOURCE)
    steps = min(steps, 128 * FRACTION_STEPS - 2)  # 7F 7F 7F is reserved for "no change"
    xx, frac = divmod(steps, FRACTION_STEPS)
    return xx, frac >> 7, frac & 0x7F


def mts_to_hz(xx: int, yy: int, zz: int) -> float | None:
    """MTS frequency data -> frequency in Hz, or None for ``7F 7F 7F`` (no change)."""
    if (xx, yy, zz) == NO_CHANGE:
        return None
    semis = xx + ((yy << 7) | zz) / FRACTION_STEPS
    return 440.0 * 2.0 ** ((semis - 69.0) / 12.0)


@dataclass(frozen=True)
class SingleNoteTuning:
    """A decoded single-note tuning change: ``device`` id, tuning ``program`` (0..127), ``bank``
    (None for the 08 02 form), ``realtime`` (7F vs 7E) and ``changes``: (MIDI key, Hz) pairs, keys
    marked "no change" left out."""

    device: int
    program: int
    bank: int | None
    realtime: bool
    changes: tuple[tuple[int, float], ...]


def _bytes(data: bytes | bytearray | Sequence[int]) -> bytes:
    try:
        return bytes(data)
    except (TypeError, ValueError):
        raise TuningError("message is not a sequence of bytes 0..255", _SOURCE) from None


def decode_single_note_tuning(data: bytes | bytearray | Sequence[int]) -> SingleNoteTuning:
    """Decode a single-note tuning change sysex (with or without the F0 ... F7 framing).

    Raises :class:`TuningError` (``MTS sysex: byte N: what is wrong``) for anything else.
    """
    msg = _bytes(data)
    if msg[:1] == b"\xf0":
        if msg[-1:] != b"\xf7":
            raise TuningError(f"byte {len(msg) - 1}: message does not end with F7", _SOURCE)
        body, base = msg[1:-1], 1
    else:
        body, base = msg, 0
    for i, b in enumerate(body):
        if b > 0x7F:
            raise TuningError(f"byte {i + base}: {b:02X} is not a 7-bit data byte", _SOURCE)
    if len(body) < 5:
        raise TuningError(f"message is too short ({len(msg)} bytes) for a tuning change", _SOURCE)
    if body[0] not in (0x7F, 0x7E):
        raise TuningError(f"byte {base}: {body[0]:02X} is not a universal sysex id (7F/7E)", _SOURCE)
    if body[2] != 0x08 or body[3] not in (0x02, 0x07) or (body[3] == 0x02 and body[0] != 0x7F):
        raise TuningError(
            f"byte {base + 2}: {body[2]:02X} {body[3]:02X} is not a single-note tuning change "
            f"(expected 7F .. 08 02 or 7F/7E .. 08 07)", _SOURCE)
    device = body[1]
    pos = 4
    bank = None
    if body[3] == 0x07:
        bank = body[pos]
        pos += 1
    if len(body) < pos + 2:
        raise TuningError(f"message is too short ({len(msg)} bytes) for a tuning change", _SOURCE)
    program, count = body[pos], body[pos + 1]
    pos += 2
    if len(body) - pos != 4 * count:
        raise TuningError(
            f"byte {base + pos - 1}: count says {count} keys ({4 * count} bytes) but "
            f"{len(body) - pos} data bytes follow", _SOURCE)
    changes = []
    for k in range(count):
        key, xx, yy, zz = body[pos + 4 * k: pos + 4 * k + 4]
        hz = mts_to_hz(xx, yy, zz)
        if hz is not None:
            changes.append((key, hz))
    return SingleNoteTuning(device, program, bank, body[0] == 0x7F, tuple(changes))


def parse_single_note_tuning(data: bytes | bytearray | Sequence[int]) -> list[tuple[int, float]]:
    """Single-note tuning change sysex -> list of (MIDI key, frequency in Hz) pairs, in message
    order ("no change" entries left out).  See :func:`decode_single_note_tuning`."""
    return list(decode_single_note_tuning(data).changes)


def encode_single_note_tuning(changes: Iterable[tuple[int, float | None]], program: int = 0,
                              device: int = ALL_DEVICES, bank: int | None = None) -> bytes:
    """(MIDI key, Hz) pairs -> a real-time single-note tuning change sysex, F0 ... F7 included.

    ``hz=None`` encodes "no change" (7F 7F 7F).  ``bank`` selects the 08 07 form.  At most 127 keys.
    """
    entries = list(changes)
    if len(entries) > 127:
        raise TuningError(f"{len(entries)} keys do not fit one message (at most 127)", _SOURCE)
    for what, v in (("device", device), ("program", program), ("bank", 0 if bank is None else bank)):
        if not (isinstance(v, int) and 0 <= v <= 127):
            raise TuningError(f"{what} {v!r} is not a 7-bit number 0..127", _SOURCE)
    out = bytearray([0xF0, 0x7F, device, 0x08])
    out += bytes([0x02]) if bank is None else bytes([0x07, bank])
    out += bytes([program, len(entries)])
    for key, hz in entries:
        if not (isinstance(key, int) and 0 <= key <= 127):
            raise TuningError(f"key {key!r} is not a MIDI note number 0..127", _SOURCE)
        out += bytes([key, *(NO_CHANGE if hz is None else hz_to_mts(hz))])
    out.append(0xF7)
    return bytes(out)
