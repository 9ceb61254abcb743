import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livehost.errors import LivehostError
from livehost.tuning import (TuningError, format_cents, hz_to_name, hz_to_note, name_to_hz, name_to_note,
                             note_to_hz, note_to_name)


@pytest.mark.parametrize("name,note", [
    ("C-1", 0), ("C#-1", 1), ("Db-1", 1), ("A4", 69), ("C4", 60), ("Bb3", 58), ("A#3", 58),
    ("F#5", 78), ("Gb5", 78), ("G9", 127), ("B#3", 60), ("Cb4", 59), ("E#4", 65), ("Fb4", 64),
    ("C##4", 62), ("Dbb4", 60), ("bb3", 58), ("a4", 69), ("C-2", -12), ("A\u266f3", 58), ("B\u266d3", 58),
    (" A4 ", 69),
])
def test_name_to_note(name, note):
    assert name_to_note(name) == note


@pytest.mark.parametrize("note,sharp,flat", [
    (0, "C-1", "C-1"), (1, "C#-1", "Db-1"), (58, "A#3", "Bb3"), (60, "C4", "C4"), (69, "A4", "A4"),
    (78, "F#5", "Gb5"), (127, "G9", "G9"), (-1, "B-2", "B-2"),
])
def test_note_to_name(note, sharp, flat):
    assert note_to_name(note) == sharp
    assert note_to_name(note, flats=True) == flat


def test_reference_frequencies():
    assert name_to_hz("A4") == 440.0
    assert name_to_hz("A5") == 880.0
    assert name_to_hz("A3") == 220.0
    assert name_to_hz("C-1") == pytest.approx(8.175798915643707, abs=1e-12)
    assert round(name_to_hz("C-1"), 2) == 8.18
    assert name_to_hz("C4") == pytest.approx(261.6255653005986, rel=1e-12)
    assert name_to_hz("Bb3") == pytest.approx(440 * 2 ** (-11 / 12), rel=1e-12)
    assert name_to_hz("F#5") == pytest.approx(440 * 2 ** (9 / 12), rel=1e-12)
    # adjustable reference
    assert name_to_hz("A4", a4_hz=432.0) == 432.0
    assert name_to_hz("A3", a4_hz=415.0) == 207.5
    assert note_to_hz(69.5) == pytest.approx(440 * 2 ** (1 / 24), rel=1e-12)


def test_hz_to_name_nearest_and_cents():
    assert hz_to_name(440.0) == ("A4", 0.0)
    name, cents = hz_to_name(445.0)
    assert name == "A4" and cents == pytest.approx(1200 * math.log2(445 / 440), abs=1e-9)
    name, cents = hz_to_name(440 * 2 ** (49 / 1200))  # 49 cents sharp: still A4
    assert name == "A4" and cents == pytest.approx(49.0, abs=1e-9)
    name, cents = hz_to_name(440 * 2 ** (51 / 1200))  # 51 cents sharp: A#4 - 49
    assert name == "A#4" and cents == pytest.approx(-49.0, abs=1e-9)
    assert hz_to_name(440 * 2 ** (51 / 1200), flats=True)[0] == "Bb4"
    assert hz_to_name(8.1758)[0] == "C-1"
    for k in range(0, 127):  # exact quarter tones always name the upper note, -50 cents
        name, cents = hz_to_name(440 * 2 ** ((k + 0.5 - 69) / 12))
        assert (name, cents) == (note_to_name(k + 1), pytest.approx(-50.0, abs=1e-6))
    assert hz_to_name(432.0, a4_hz=432.0) == ("A4", 0.0)
    assert hz_to_note(880.0) == 81.0


@pytest.mark.parametrize("bad", ["H4", "A", "4", "A4.5", "Ax4", "", "A 4", "#A4", None, 440])
def test_bad_names_raise_project_error(bad):
    with pytest.raises(TuningError) as info:
        name_to_note(bad)
    assert isinstance(info.value, LivehostError)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_frequencies_raise(bad):
    with pytest.raises(TuningError):
        hz_to_name(bad)


def test_format_cents():
    assert format_cents(0.0) == "+0.0"
    assert format_cents(-0.01) == "+0.0"
    assert format_cents(13.66) == "+13.7"
    assert format_cents(-2.0) == "-2.0"


@given(st.integers(min_value=-24, max_value=200), st.booleans())
def test_name_note_round_trip(note, flats):
    assert name_to_note(note_to_name(note, flats=flats)) == note


@given(st.integers(min_value=0, max_value=127), st.floats(min_value=300.0, max_value=500.0))
def test_name_hz_name_round_trip(note, a4):
    name = note_to_name(note)
    hz = name_to_hz(name, a4_hz=a4)
    back, cents = hz_to_name(hz, a4_hz=a4)
    assert back == name
    assert abs(cents) < 1e-6


@given(st.floats(min_value=5.0, max_value=20000.0))
def test_hz_name_hz_round_trip(hz):
    name, cents = hz_to_name(hz)
    assert -50.0 - 1e-6 <= cents < 50.0 + 1e-6
    assert name_to_hz(name) * 2 ** (cents / 1200) == pytest.approx(hz, rel=1e-9)
