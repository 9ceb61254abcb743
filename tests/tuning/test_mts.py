import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livehost.tuning import (TuningError, decode_single_note_tuning, encode_single_note_tuning, hz_to_mts,
                             mts_to_hz, parse_single_note_tuning)

STEP_CENTS = 100 / 16384


@pytest.mark.parametrize("hz,data", [
    (8.175798915643707, (0x00, 0x00, 0x00)),
    (8.175798915643707 * 2 ** (STEP_CENTS / 1200), (0x00, 0x00, 0x01)),
    (261.6255653005986, (0x3C, 0x00, 0x00)),
    (277.1826309768721, (0x3D, 0x00, 0x00)),
    (440.0, (0x45, 0x00, 0x00)),
    (440.0 * 2 ** (50 / 1200), (0x45, 0x40, 0x00)),  # half a semitone = 8192 = 40 00
    (440.0 * 2 ** (0.5 / 12 + 1 / 12 / 16384), (0x45, 0x40, 0x01)),
    (12543.853951415975 * 2 ** (16382 / 16384 / 12), (0x7F, 0x7F, 0x7E)),
])
def test_known_frequency_data(hz, data):
    assert hz_to_mts(hz) == data
    assert mts_to_hz(*data) == pytest.approx(hz, rel=1e-12)


def test_no_change_code_is_reserved():
    assert mts_to_hz(0x7F, 0x7F, 0x7F) is None
    top = 440.0 * 2 ** ((127 + 16383 / 16384 - 69) / 12)
    assert hz_to_mts(top) == (0x7F, 0x7F, 0x7E)
    for bad in (8.0, 13290.0, 0.0, -5.0, float("nan")):
        with pytest.raises(TuningError):
            hz_to_mts(bad)


def test_encode_exact_bytes():
    msg = encode_single_note_tuning([(69, 440.0), (60, 440.0 * 2 ** (50 / 1200))], program=3, device=0x10)
    assert msg == bytes([0xF0, 0x7F, 0x10, 0x08, 0x02, 0x03, 0x02,
                         0x45, 0x45, 0x00, 0x00, 0x3C, 0x45, 0x40, 0x00, 0xF7])
    assert encode_single_note_tuning([(5, None)]) == bytes(
        [0xF0, 0x7F, 0x7F, 0x08, 0x02, 0x00, 0x01, 0x05, 0x7F, 0x7F, 0x7F, 0xF7])


def test_parse_round_trip_and_fields():
    changes = [(0, 8.5), (60, 261.0), (61, 300.123), (127, 12000.0)]
    msg = encode_single_note_tuning(changes, program=7)
    parsed = parse_single_note_tuning(msg)
    assert [k for k, _ in parsed] == [0, 60, 61, 127]
    for (_, hz), (_, back) in zip(changes, parsed):
        assert abs(1200 * math.log2(back / hz)) <= STEP_CENTS / 2 + 1e-9
    decoded = decode_single_note_tuning(msg)
    assert (decoded.device, decoded.program, decoded.bank, decoded.realtime) == (0x7F, 7, None, True)
    # list of ints and the unframed body (as some MIDI libraries hand sysex over) work too
    assert parse_single_note_tuning(list(msg)) == parsed
    assert parse_single_note_tuning(msg[1:-1]) == parsed


def test_no_change_entries_are_skipped():
    msg = encode_single_note_tuning([(60, 262.0), (61, None), (62, 294.0)])
    assert [k for k, _ in parse_single_note_tuning(msg)] == [60, 62]


def test_bank_form():
    msg = encode_single_note_tuning([(69, 441.0)], program=2, bank=5)
    assert msg[3:7] == bytes([0x08, 0x07, 0x05, 0x02])
    decoded = decode_single_note_tuning(msg)
    assert decoded.bank == 5 and decoded.program == 2
    assert decoded.changes[0][1] == pytest.approx(441.0, rel=1e-5)
    non_rt = bytes([0xF0, 0x7E]) + msg[2:]
    assert decode_single_note_tuning(non_rt).realtime is False


@pytest.mark.parametrize("msg,fragment", [
    (bytes([0xF0, 0x7F, 0x7F, 0x08, 0x02, 0x00, 0x01, 0x45, 0x45, 0x00, 0x00]), "does not end with F7"),
    (bytes([0xF0, 0x7F, 0x7F, 0x08, 0x02, 0x00, 0x02, 0x45, 0x45, 0x00, 0x00, 0xF7]), "count says 2 keys"),
    (bytes([0xF0, 0x7F, 0x7F, 0x08, 0x02, 0x00, 0x01, 0x45, 0x45, 0x00, 0xF7]), "count says 1 keys"),
    (bytes([0xF0, 0x7F, 0x7F, 0x08, 0x01, 0x00, 0x00, 0xF7]), "not a single-note tuning change"),
    (bytes([0xF0, 0x7E, 0x7F, 0x08, 0x02, 0x00, 0x00, 0xF7]), "not a single-note tuning change"),
    (bytes([0xF0, 0x43, 0x7F, 0x08, 0x02, 0x00, 0x00, 0xF7]), "not a universal sysex id"),
    (bytes([0xF0, 0x7F, 0x7F, 0x08, 0x02, 0x00, 0x01, 0x45, 0x85, 0x00, 0x00, 0xF7]), "byte 8: 85 is not a 7-bit"),
    (bytes([0xF0, 0x7F, 0xF7]), "too short"),
    (bytes([0xF0, 0x7F, 0x7F, 0x08, 0x07, 0x00, 0xF7]), "too short"),
])
def test_malformed_messages(msg, fragment):
    with pytest.raises(TuningError) as info:
        parse_single_note_tuning(msg)
    assert str(info.value).startswith("MTS sysex: ")
    assert fragment in str(info.value)


def test_encoder_rejects_bad_input():
    with pytest.raises(TuningError):
        encode_single_note_tuning([(128, 440.0)])
    with pytest.raises(TuningError):
        encode_single_note_tuning([(1, 440.0)] * 128)
    with pytest.raises(TuningError):
        encode_single_note_tuning([(1, 440.0)], program=200)


@given(st.lists(st.tuples(st.integers(0, 127), st.floats(min_value=8.2, max_value=12500.0)), max_size=127),
       st.integers(0, 127), st.integers(0, 127))
def test_round_trip_property(changes, program, device):
    msg = encode_single_note_tuning(changes, program=program, device=device)
    assert len(msg) == 8 + 4 * len(changes)
    decoded = decode_single_note_tuning(msg)
    assert (decoded.program, decoded.device) == (program, device)
    assert [k for k, _ in decoded.changes] == [k for k, _ in changes]
    for (_, hz), (_, back) in zip(changes, decoded.changes):
        assert abs(1200 * math.log2(back / hz)) <= STEP_CENTS / 2 + 1e-9
