"""Keyboard map arithmetic: degrees beyond the map size, keys below the middle note, formal octaves,
map sizes different from the scale size and reference notes different from the middle note."""

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from livehost.tuning import (KeyboardMap, TuningError, edo, just_system, key_degree, keyboard_table,
                             parse_kbm, parse_scl)

MAJOR = just_system(["9/8", "5/4", "4/3", "3/2", "5/3", "15/8"], 2, "major")
WHITE = (0, None, 1, None, 2, 3, None, 4, None, 5, None, 6)


def test_white_key_map_reference_not_the_middle_note():
    # A4 (key 69) is mapped to degree 5 (5/3) and sounds 440 Hz, so 1/1 on key 60 is 264 Hz
    kbm = KeyboardMap(12, 0, 127, 60, 69, 440.0, 7, WHITE)
    table = keyboard_table(MAJOR, kbm)
    expected = {
        60: 264.0, 62: 297.0, 64: 330.0, 65: 352.0, 67: 396.0, 69: 440.0, 71: 495.0,
        72: 528.0, 84: 1056.0, 74: 594.0,  # above the map: +1 formal octave (7 degrees = 2/1)
        59: 247.5, 57: 220.0, 48: 132.0, 47: 123.75, 36: 66.0, 0: 264.0 / 32,  # below the middle note
        127: 396.0 * 32,  # 127 = 60 + 5*12 + 7 -> degree 4 + 5*7 = 39 -> 3/2 * 2^5
    }
    for key, hz in expected.items():
        assert table[key] == pytest.approx(hz, rel=1e-12), key
    for key in (61, 63, 66, 68, 70, 58, 1, 126):
        assert math.isnan(table[key]), key
    assert key_degree(kbm, 59, 7) == -1
    assert key_degree(kbm, 47, 7) == -8
    assert key_degree(kbm, 58, 7) is None


def test_map_size_smaller_than_scale_size():
    # 12-EDO scale, 5 keys per pattern playing degrees 0 2 4 7 9, formal octave 12
    kbm = KeyboardMap(5, 0, 127, 60, 60, 261.6255653005986, 12, (0, 2, 4, 7, 9))
    table = keyboard_table(edo(12), kbm)
    c4 = 261.6255653005986
    semis = {60: 0, 61: 2, 62: 4, 63: 7, 64: 9, 65: 12, 66: 14, 69: 21, 70: 24,
             59: -3, 58: -5, 57: -8, 56: -10, 55: -12, 50: -24}
    for key, s in semis.items():
        assert table[key] == pytest.approx(c4 * 2 ** (s / 12), rel=1e-12), key


def test_map_size_larger_than_scale_and_formal_octave_beyond_period():
    # 5-note scale (period 2/1); map of 7 keys reaching into the next period, formal octave 10 (= two
    # periods); entry 7 is past the scale size and wraps with the scale's own period
    scale = just_system(["9/8", "5/4", "3/2", "5/3"], 2)
    kbm = KeyboardMap(7, 0, 127, 60, 60, 100.0, 10, (0, 1, 2, 3, 4, 7, None))
    table = keyboard_table(scale, kbm)
    r = [1, 9 / 8, 5 / 4, 3 / 2, 5 / 3]
    expected = {60: 100 * r[0], 61: 100 * r[1], 64: 100 * r[4], 65: 100 * 2 * r[2],
                67: 400 * r[0], 68: 400 * r[1], 59: None, 58: 100 / 4 * 2 * r[2], 53: 25.0}
    for key, hz in expected.items():
        if hz is None:
            assert math.isnan(table[key])
        else:
            assert table[key] == pytest.approx(hz, rel=1e-12), key


def test_formal_octave_zero_means_scale_size():
    kbm0 = KeyboardMap(7, 0, 127, 60, 60, 100.0, 0, (0, 1, 2, 3, 4, 5, 6))
    kbm7 = KeyboardMap(7, 0, 127, 60, 60, 100.0, 7, (0, 1, 2, 3, 4, 5, 6))
    np.testing.assert_array_equal(keyboard_table(MAJOR, kbm0), keyboard_table(MAJOR, kbm7))
    assert keyboard_table(MAJOR, kbm0)[67] == pytest.approx(200.0)


def test_formal_octave_different_from_period():
    # each 12-key pattern climbs one formal octave of 7 degrees = a twelfth when the scale's period
    # is 3/1 (Bohlen-Pierce 13ed3 subset); degree arithmetic stays in scale degrees
    bp = edo(13)
    kbm = KeyboardMap(2, 0, 127, 60, 60, 100.0, 5, (0, 3))
    table = keyboard_table(bp, kbm)
    assert table[62] == pytest.approx(100 * 2 ** (5 / 13), rel=1e-12)
    assert table[63] == pytest.approx(100 * 2 ** (8 / 13), rel=1e-12)
    assert table[58] == pytest.approx(100 * 2 ** (-5 / 13), rel=1e-12)
    assert table[59] == pytest.approx(100 * 2 ** (-2 / 13), rel=1e-12)


def test_linear_map_with_reference_away_from_middle():
    ji = just_system(["16/15", "9/8", "6/5", "5/4", "4/3", "45/32", "3/2", "8/5", "5/3", "16/9", "15/8"])
    kbm = parse_kbm("0\n0\n127\n60\n69\n440\n12\n")  # linear; 1/1 on C4, A4 (5/3) = 440
    table = keyboard_table(ji, kbm)
    assert table[60] == pytest.approx(264.0, rel=1e-12)
    assert table[69] == pytest.approx(440.0, rel=1e-12)
    assert table[72] == pytest.approx(528.0, rel=1e-12)
    assert table[67] == pytest.approx(396.0, rel=1e-12)
    assert table[59] == pytest.approx(247.5, rel=1e-12)
    assert table[0] == pytest.approx(264.0 / 32, rel=1e-12)


def test_range_limits_and_out_of_range_reference():
    kbm = KeyboardMap(0, 48, 72, 60, 90, 1000.0, 0, ())  # reference outside the retuned range
    table = keyboard_table(edo(12), kbm)
    assert np.isnan(table[:48]).all() and np.isnan(table[73:]).all()
    assert not np.isnan(table[48:73]).any()
    assert table[72] == pytest.approx(1000.0 * 2 ** (-18 / 12), rel=1e-12)


def test_reference_on_unmapped_key_is_an_error(tmp_path):
    kbm = parse_kbm("12\n0\n127\n60\n61\n440\n7\n0\nx\n1\nx\n2\n3\nx\n4\nx\n5\nx\n6\n", "ref.kbm")
    with pytest.raises(TuningError, match=r"^ref\.kbm:5: reference note 61 falls on an unmapped"):
        keyboard_table(MAJOR, kbm)


def test_degree_past_scale_size_in_map_entry():
    scale = parse_scl("d\n3\n5/4\n3/2\n2/1\n").to_system()
    kbm = KeyboardMap(2, 0, 127, 60, 60, 100.0, 6, (0, 4))  # 4 = period + 1 degree
    table = keyboard_table(scale, kbm)
    assert table[61] == pytest.approx(250.0, rel=1e-12)
    assert table[62] == pytest.approx(400.0, rel=1e-12)
    assert table[63] == pytest.approx(1000.0, rel=1e-12)
    assert table[59] == pytest.approx(250.0 / 4, rel=1e-12)


@given(st.integers(1, 24), st.integers(0, 30), st.integers(30, 90), st.data())
def test_pattern_shift_is_one_formal_octave(size, octave, middle, data):
    mapping = tuple(data.draw(st.lists(st.one_of(st.none(), st.integers(0, 20)), min_size=size, max_size=size)))
    mapping = (0,) + mapping[1:]  # the middle (= reference) key is mapped
    kbm = KeyboardMap(size, 0, 127, middle, middle, 300.0, octave, mapping)
    system = edo(7)
    table = keyboard_table(system, kbm)
    shift = 2 ** (system.cents(octave or system.size) / 1200)
    for key in range(0, 128 - size):
        a, b = table[key], table[key + size]
        assert math.isnan(a) == math.isnan(b)
        if not math.isnan(a):
            assert b == pytest.approx(a * shift, rel=1e-9)
