"""Scala .scl / .kbm parsing: every rule of the format, and the errors for malformed files."""

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livehost.errors import LivehostError
from livehost.tuning import (KeyboardMap, TuningError, format_kbm, format_scl, parse_kbm, parse_scl,
                             read_kbm, read_scl)

from .helpers import raises_at, write

C = lambda r: 1200 * math.log2(r)  # noqa: E731  cents of a ratio

MEANTONE = """! meantone.scl
!
1/4-comma meantone, 5 notes for the test
 5
!
 193.157
 386.314 cents   the pure third
 5/4
 3/2  a fifth, with trailing text
 2
"""


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_scl_basic_rules_and_line_ends(tmp_path, newline):
    path = write(tmp_path, "meantone.scl", MEANTONE, newline)
    scale = read_scl(path)
    assert scale.description == "1/4-comma meantone, 5 notes for the test"
    assert scale.count == 5
    assert [p.cents for p in scale.pitches] == pytest.approx([193.157, 386.314, C(5 / 4), C(3 / 2), 1200.0])
    assert [p.ratio for p in scale.pitches] == [None, None, Fraction(5, 4), Fraction(3, 2), Fraction(2)]
    assert [p.line for p in scale.pitches] == [6, 7, 8, 9, 10]
    assert scale.period_cents == 1200.0
    assert scale.cents[0] == 0.0  # 1/1 implicit
    system = scale.to_system()
    assert system.size == 5 and system.name == "meantone"
    assert system.cents(5) == pytest.approx(1200.0) and system.cents(8) == pytest.approx(1200 + C(5 / 4))


def test_scl_empty_description_comments_everywhere_and_whitespace():
    text = "! first\n!second\n\n! between\n   7   \n! a comment among pitches\n\t100.0\n-50.5\n .5\n" \
           "100.\n+25.0\n 2147483647/1073741824\n\t2/1\t!tab separated comment\n"
    scale = parse_scl(text, "x.scl")
    assert scale.description == ""
    assert scale.count == 7
    assert [p.cents for p in scale.pitches][:5] == [100.0, -50.5, 0.5, 100.0, 25.0]
    assert scale.pitches[5].ratio == Fraction(2147483647, 1073741824)
    assert scale.period_cents == 1200.0


def test_scl_negative_cents_and_integer_ratio():
    scale = parse_scl("neg\n3\n-100.0\n3\n4/1\n")
    assert [p.cents for p in scale.pitches] == pytest.approx([-100.0, C(3), 2400.0])
    assert scale.pitches[1].ratio == 3
    assert scale.period_cents == 2400.0


def test_scl_bohlen_pierce_tritave_period(tmp_path):
    ratios = ["27/25", "25/21", "9/7", "7/5", "75/49", "5/3", "9/5", "49/25", "15/7", "7/3", "63/25", "25/9", "3/1"]
    path = write(tmp_path, "bp_just.scl", "! bp\nBohlen-Pierce, just\n 13\n!\n" + "\n".join(ratios) + "\n", "\r\n")
    scale = read_scl(path)
    assert scale.period_cents == pytest.approx(C(3))
    system = scale.to_system()
    assert system.size == 13
    assert system.ratio(13) == pytest.approx(3.0, rel=1e-12)
    assert system.ratio(14) == pytest.approx(3 * 27 / 25, rel=1e-12)
    assert system.ratio(-1) == pytest.approx(25 / 9 / 3, rel=1e-12)


def test_scl_count_zero_is_only_one_one():
    scale = parse_scl("unison\n0\n")
    assert scale.count == 0 and scale.period_cents == 0.0
    system = scale.to_system()
    assert system.cents(5) == 0.0 and system.cents(-3) == 0.0


def test_scl_lines_after_the_pitches_are_ignored():
    scale = parse_scl("d\n2\n3/2\n2/1\nthis is not a pitch\n")
    assert scale.count == 2


def test_scl_latin1_description(tmp_path):
    path = tmp_path / "l1.scl"
    path.write_bytes("! c\nGamelan \xe9t\xe9 \x85 saih\n1\n2/1\n".encode("latin-1"))
    assert read_scl(path).description == "Gamelan \xe9t\xe9 \x85 saih"


# --- malformed .scl ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text,line,fragment", [
    ("desc\ntwelve\n100.0\n", 2, "note count 'twelve'"),
    ("desc\n-3\n100.0\n", 2, "note count '-3'"),
    ("desc\n2.5\n100.0\n", 2, "note count '2.5'"),
    ("! c\ndesc\n2\nabc\n2/1\n", 4, "pitch 'abc'"),
    ("desc\n2\n1.2.3\n2/1\n", 3, "pitch '1.2.3' is not a number of cents"),
    ("desc\n2\n3/2/1\n2/1\n", 3, "pitch '3/2/1'"),
    ("desc\n2\n0/1\n2/1\n", 3, "greater than 0"),
    ("desc\n2\n0\n2/1\n", 3, "greater than 0"),
    ("desc\n2\n-3/2\n2/1\n", 3, "greater than 0"),
    ("desc\n2\n3/-2\n2/1\n", 3, "greater than 0"),
    ("desc\n2\n3/0\n2/1\n", 3, "zero denominator"),
    ("desc\n2\n5 / 4\n2/1\n", 3, "no spaces allowed inside a ratio"),
    ("desc\n2\n5/\n2/1\n", 3, "pitch '5/'"),
    ("desc\n2\nnan\n2/1\n", 3, "pitch 'nan'"),
    ("desc\n2\n1e3.\n2/1\n", 3, "not a number of cents"),
    ("! c\ndesc\n 5\n100.0\n200.0\n!\n", 3, "note count is 5 but the file ends after 2 pitch lines"),
    ("desc\n1\n", 2, "note count is 1 but the file ends after 0 pitch lines"),
    ("desc\n", 1, "missing the note count line"),
    ("! only\n! comments\n", 2, "missing the description line"),
    ("", 1, "missing the description line"),
])
def test_scl_malformed(tmp_path, text, line, fragment):
    path = write(tmp_path, "bad.scl", text, "\r\n")
    with raises_at(path, line, fragment) as info:
        read_scl(path)
    assert isinstance(info.value, LivehostError)
    assert info.value.path == str(path) and info.value.line == line


def test_scl_missing_file(tmp_path):
    with raises_at(tmp_path / "nope.scl", None, "cannot read"):
        read_scl(tmp_path / "nope.scl")


# --- .kbm -------------------------------------------------------------------------------------------

WHITE_KEYS = """! white_keys.kbm: a 7-note scale on the white keys
! Size of map:
12
! First MIDI note number to retune:
0
! Last MIDI note number to retune:
127
! Middle note where the first entry of the mapping is mapped to:
60
! Reference note for which frequency is given:
69
! Frequency to tune the above note to
440.0
! Scale degree to consider as formal octave:
7
! Mapping.
0
x
1
x
2
3
x
4
x
5
x
6
"""


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_kbm_fields(tmp_path, newline):
    path = write(tmp_path, "white.kbm", WHITE_KEYS, newline)
    kbm = read_kbm(path)
    assert (kbm.size, kbm.first_note, kbm.last_note, kbm.middle_note) == (12, 0, 127, 60)
    assert (kbm.reference_note, kbm.reference_hz, kbm.octave_degree) == (69, 440.0, 7)
    assert kbm.mapping == (0, None, 1, None, 2, 3, None, 4, None, 5, None, 6)
    assert kbm.reference_line == 11
    assert kbm.path == str(path)


def test_kbm_linear_and_trailing_text():
    kbm = parse_kbm("0 size\n10\n100\n60  middle\n62\n300.5 Hz\n0\nextra lines are ignored\n")
    assert kbm.size == 0 and kbm.mapping == ()
    assert (kbm.first_note, kbm.last_note, kbm.middle_note, kbm.reference_note) == (10, 100, 60, 62)
    assert kbm.reference_hz == 300.5
    kbm = parse_kbm("3\n0\n127\n60\n60\n261.6\n12\n0\nX\n7\nnot read\n")
    assert kbm.mapping == (0, None, 7)


def test_kbm_round_trip_through_format():
    kbm = KeyboardMap(5, 12, 100, 61, 70, 443.25, 9, (0, None, 3, 4, None))
    again = parse_kbm(format_kbm(kbm))
    assert (again.size, again.first_note, again.last_note, again.middle_note, again.reference_note,
            again.reference_hz, again.octave_degree, again.mapping) == \
           (5, 12, 100, 61, 70, 443.25, 9, (0, None, 3, 4, None))


GOOD_KBM = ["2", "0", "127", "60", "69", "440.0", "12", "0", "7"]


def _kbm_with(index, value):
    fields = list(GOOD_KBM)
    fields[index] = value
    return "! test\n" + "\n".join(fields) + "\n"


@pytest.mark.parametrize("index,value,fragment", [
    (0, "two", "map size: 'two' is not a whole number"),
    (0, "-1", "map size: -1 must be >= 0"),
    (1, "128", "first MIDI note to retune: 128 is not a MIDI note number"),
    (2, "-1", "last MIDI note to retune: -1 is not a MIDI note number"),
    (3, "60.5", "middle note: '60.5' is not a whole number"),
    (4, "300", "reference note: 300 is not a MIDI note number"),
    (5, "A4", "reference frequency: 'A4' is not a frequency"),
    (5, "0", "reference frequency: '0' Hz must be a positive"),
    (5, "-440", "must be a positive"),
    (5, "inf", "must be a positive"),
    (6, "-7", "formal octave degree: -7 must be >= 0"),
    (7, "y", "mapping entry 0: 'y' is not a scale degree or 'x'"),
    (8, "1.5", "mapping entry 1: '1.5'"),
])
def test_kbm_bad_fields(tmp_path, index, value, fragment):
    path = write(tmp_path, "bad.kbm", _kbm_with(index, value), "\r\n")
    with raises_at(path, index + 2, fragment):
        read_kbm(path)


def test_kbm_last_below_first(tmp_path):
    text = "! t\n0\n100\n50\n60\n69\n440\n12\n"
    path = write(tmp_path, "range.kbm", text)
    with raises_at(path, 4, "last MIDI note to retune (50) is below the first (100)"):
        read_kbm(path)


def test_kbm_missing_lines(tmp_path):
    path = write(tmp_path, "short.kbm", "! t\n12\n0\n127\n60\n69\n440.0\n12\n0\nx\n2\n")
    with raises_at(path, 2, "map size is 12 but the file ends after 3 mapping entries"):
        read_kbm(path)
    path = write(tmp_path, "fields.kbm", "! t\n12\n0\n127\n60\n")
    with raises_at(path, 5, "file ends before the reference note field"):
        read_kbm(path)
    path = write(tmp_path, "empty.kbm", "")
    with raises_at(path, 1, "file ends before the map size field"):
        read_kbm(path)


def test_format_scl_round_trip():
    text = format_scl("test", [Fraction(9, 8), 386.313714, "4/3", 2])
    scale = parse_scl(text)
    assert scale.description == "test"
    assert [p.cents for p in scale.pitches] == pytest.approx([C(9 / 8), 386.313714, C(4 / 3), 1200.0])


@given(st.lists(st.one_of(
    st.floats(min_value=-5000, max_value=5000, allow_nan=False).map(lambda c: round(c, 6)),
    st.tuples(st.integers(1, 10**6), st.integers(1, 10**6)).map(lambda t: Fraction(*t)),
), min_size=1, max_size=30))
def test_scl_round_trip_property(pitches):
    scale = parse_scl(format_scl("prop", pitches))
    assert scale.count == len(pitches)
    for parsed, original in zip(scale.pitches, pitches):
        if isinstance(original, Fraction):
            assert parsed.ratio == original
        else:
            assert parsed.cents == pytest.approx(original, abs=1e-6)


def test_keyboard_map_object_checks_its_mapping_length():
    with pytest.raises(TuningError, match="map size is 3 but 2 mapping entries"):
        KeyboardMap(3, 0, 127, 60, 60, 440.0, 12, (0, 1))
