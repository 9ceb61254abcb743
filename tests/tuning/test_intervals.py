import math
from fractions import Fraction

import pytest

from livehost.tuning import INTERVALS, TuningError, cents_to_ratio, interval, parse_ratio, ratio_to_cents

EXPECTED = [
    ("P1", 0, Fraction(1, 1)), ("m2", 1, Fraction(16, 15)), ("M2", 2, Fraction(9, 8)),
    ("m3", 3, Fraction(6, 5)), ("M3", 4, Fraction(5, 4)), ("P4", 5, Fraction(4, 3)),
    ("TT", 6, Fraction(45, 32)), ("P5", 7, Fraction(3, 2)), ("m6", 8, Fraction(8, 5)),
    ("M6", 9, Fraction(5, 3)), ("m7", 10, Fraction(16, 9)), ("M7", 11, Fraction(15, 8)),
    ("P8", 12, Fraction(2, 1)),
]


def test_table_in_order_with_ratios_and_12edo_cents():
    assert [(i.name, i.semitones, i.ratio) for i in INTERVALS] == EXPECTED
    for i in INTERVALS:
        assert i.cents_12edo == 100.0 * i.semitones
        assert i.ratio_12edo == pytest.approx(2 ** (i.semitones / 12), rel=1e-15)
        assert i.just_cents == pytest.approx(1200 * math.log2(i.ratio), abs=1e-9)
        assert abs(i.deviation_cents) < 20  # every just ratio lies within 20 cents of 12-EDO


@pytest.mark.parametrize("name,just_cents", [
    ("P5", 701.955000865), ("M3", 386.313713864), ("m3", 315.641287), ("P4", 498.044999135),
    ("M2", 203.910001731), ("m7", 996.089998269), ("M7", 1088.268714730), ("P8", 1200.0),
])
def test_known_just_sizes(name, just_cents):
    assert interval(name).just_cents == pytest.approx(just_cents, abs=1e-6)


def test_tritone_aliases():
    assert interval("TT").ratio == Fraction(45, 32)
    assert interval("A4").ratio == Fraction(45, 32)
    assert interval("d5").ratio == Fraction(64, 45)
    assert {interval(n).cents_12edo for n in ("TT", "A4", "d5")} == {600.0}
    # the two tritones are inverses within the octave
    assert interval("A4").ratio * interval("d5").ratio == 2


def test_case_sensitive_and_unknown():
    assert interval("m3").ratio != interval("M3").ratio
    with pytest.raises(TuningError, match="unknown interval 'P9'"):
        interval("P9")


def test_cents_ratio_math():
    assert ratio_to_cents(2) == 1200.0
    assert ratio_to_cents(Fraction(1, 2)) == -1200.0
    assert ratio_to_cents(1) == 0.0
    assert cents_to_ratio(1200) == 2.0
    assert cents_to_ratio(-2400) == 0.25
    assert cents_to_ratio(ratio_to_cents(Fraction(3, 2))) == pytest.approx(1.5, rel=1e-15)
    for bad in (0, -1, float("nan")):
        with pytest.raises(TuningError):
            ratio_to_cents(bad)


def test_parse_ratio():
    assert parse_ratio("3/2") == Fraction(3, 2)
    assert parse_ratio(" 5 ") == 5
    assert parse_ratio("1.5") == Fraction(3, 2)
    for bad in ("0", "-3/2", "3/0", "abc", ""):
        with pytest.raises(TuningError):
            parse_ratio(bad)
