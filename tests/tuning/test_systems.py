import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from livehost.tuning import (JUST_12, QUARTER_TONE, SEMITONE, EqualDivision, NestedSystem, TuningError,
                             bohlen_pierce, edo, equal_division, just_system, make_system, name_to_hz,
                             system_from_name)


def test_semitone_and_quarter_tone():
    assert SEMITONE.step_ratio == pytest.approx(2 ** (1 / 12), rel=1e-15)
    assert SEMITONE.step_cents == 100.0
    assert QUARTER_TONE.step_ratio == pytest.approx(2 ** (1 / 24), rel=1e-15)
    assert QUARTER_TONE.step_cents == 50.0
    assert SEMITONE.ratio(12) == 2.0
    assert QUARTER_TONE.ratio(24) == 2.0
    assert SEMITONE.ratio(-12) == 0.5


@pytest.mark.parametrize("n", [5, 12, 17, 19, 22, 24, 31, 41, 53, 72])
def test_edo_steps(n):
    system = edo(n)
    assert system.name == f"{n}edo"
    assert system.size == n and system.period_cents == 1200.0
    for k in (-n - 1, -1, 0, 1, n // 2, n, 3 * n + 2):
        assert system.cents(k) == pytest.approx(1200.0 * k / n, abs=1e-9)
        assert system.ratio(k) == pytest.approx(2 ** (k / n), rel=1e-12)


def test_bohlen_pierce():
    bp = bohlen_pierce()
    assert bp.name == "bp" and bp.size == 13
    assert bp.interval == 3
    assert bp.step_cents == pytest.approx(1200 * math.log2(3) / 13, abs=1e-12)
    assert bp.step_cents == pytest.approx(146.304, abs=1e-3)
    assert bp.ratio(13) == pytest.approx(3.0, rel=1e-14)
    assert bp.ratio(26) == pytest.approx(9.0, rel=1e-14)
    assert bp.ratio(-13) == pytest.approx(1 / 3, rel=1e-14)
    assert bp.ratio(1) == pytest.approx(3 ** (1 / 13), rel=1e-14)
    assert system_from_name("bp") is not None and system_from_name("BP").size == 13


def test_equal_division_of_any_interval():
    fifth = equal_division(7, "3/2")
    assert fifth.ratio(7) == pytest.approx(1.5, rel=1e-14)
    assert fifth.ratio(14) == pytest.approx(2.25, rel=1e-14)
    assert fifth.name == "7ed3/2"
    assert equal_division(13, 3).ratio(1) == pytest.approx(3 ** (1 / 13), rel=1e-14)
    with pytest.raises(TuningError):
        EqualDivision(0)
    with pytest.raises(TuningError):
        EqualDivision(5, 1)
    with pytest.raises(TuningError):
        EqualDivision(5, -2)


@pytest.mark.parametrize("name,size,period", [
    ("12edo", 12, 1200.0), ("19edo", 19, 1200.0), ("24edo", 24, 1200.0), ("31edo", 31, 1200.0),
    ("53EDO", 53, 1200.0), ("31-TET", 31, 1200.0), ("22et", 22, 1200.0), ("13ed3", 13, 1200 * math.log2(3)), ("7ed3/2", 7, 1200 * math.log2(1.5)),
    ("bp", 13, 1200 * math.log2(3)), ("semitone", 12, 1200.0), ("quartertone", 24, 1200.0),
    ("ji12", 12, 1200.0),
])
def test_system_from_name(name, size, period):
    system = system_from_name(name)
    assert system.size == size
    assert system.period_cents == pytest.approx(period, abs=1e-9)


@pytest.mark.parametrize("bad", ["", "edo", "0edo", "12tt", "foo", "12ed0", "12ed-2"])
def test_system_from_bad_name(bad):
    with pytest.raises(TuningError):
        system_from_name(bad)


def test_just_system():
    major = just_system(["1/1", "9/8", "5/4", "4/3", "3/2", "5/3", "15/8"], 2, "major")
    assert major.size == 7
    expected = [Fraction(1), Fraction(9, 8), Fraction(5, 4), Fraction(4, 3), Fraction(3, 2),
                Fraction(5, 3), Fraction(15, 8)]
    for k, r in enumerate(expected):
        assert major.ratio(k) == pytest.approx(float(r), rel=1e-14)
        assert major.ratio(k + 7) == pytest.approx(2 * float(r), rel=1e-14)
        assert major.ratio(k - 14) == pytest.approx(float(r) / 4, rel=1e-14)
    # 1/1 may be left out, and the period may be any interval
    tritave = just_system([Fraction(25, 21), Fraction(9, 7)], period=3)
    assert tritave.size == 3
    assert tritave.ratio(3) == pytest.approx(3.0, rel=1e-14)
    assert tritave.ratio(4) == pytest.approx(3 * 25 / 21, rel=1e-14)
    assert JUST_12.ratio(7) == pytest.approx(1.5, rel=1e-14)
    with pytest.raises(TuningError):
        just_system(["5/4", "0/1"])


def test_nested_semitone_in_three():
    nested = NestedSystem(SEMITONE, edo(3))
    assert nested.size == 36 and nested.period_cents == 1200.0
    for k in range(-40, 80):
        assert nested.cents(k) == pytest.approx(100.0 * k / 3, abs=1e-9)
    # identical to 36-EDO
    np.testing.assert_allclose(make_system(100.0, nested, 72), make_system(100.0, edo(36), 72), rtol=1e-12)


def test_nested_just_ratio_list_scaled_into_each_step():
    triad = just_system(["5/4", "3/2"])  # 0, 386.31, 701.96 cents of a 1200-cent period
    nested = NestedSystem(SEMITONE, triad)
    assert nested.size == 36
    f4, f5 = math.log2(5 / 4), math.log2(3 / 2)  # fractions of the period
    for q in (-2, 0, 5, 11, 12):
        assert nested.cents(3 * q) == pytest.approx(100.0 * q, abs=1e-9)
        assert nested.cents(3 * q + 1) == pytest.approx(100.0 * (q + f4), abs=1e-9)
        assert nested.cents(3 * q + 2) == pytest.approx(100.0 * (q + f5), abs=1e-9)


def test_nested_in_uneven_outer_steps():
    outer = just_system(["9/8", "5/4"], period="3/2")  # steps of 203.9, 182.4, 315.6 cents
    nested = NestedSystem(outer, edo(2))
    assert nested.size == 6
    c98, c54, c32 = (1200 * math.log2(r) for r in (9 / 8, 5 / 4, 3 / 2))
    expected = [0, c98 / 2, c98, (c98 + c54) / 2, c54, (c54 + c32) / 2, c32]
    for k, c in enumerate(expected):
        assert nested.cents(k) == pytest.approx(c, abs=1e-9)
    assert nested.cents(-1) == pytest.approx((c54 + c32) / 2 - c32, abs=1e-9)


def test_nested_twice():
    twice = NestedSystem(NestedSystem(SEMITONE, edo(2)), edo(2))  # 48-EDO
    for k in range(-10, 100):
        assert twice.cents(k) == pytest.approx(25.0 * k, abs=1e-9)


def test_make_system_article_values():
    # the article's table: 128 semitones from C-1 = 8.18 Hz
    table = make_system(8.18, SEMITONE, 128)
    assert table.shape == (128,) and table.dtype == np.float64
    assert [round(x, 2) for x in table[:3]] == [8.18, 8.67, 9.18]
    # anchored on the exact C-1 (A4 = 440): A4 is exactly 440 and the start still rounds to 8.18
    exact = make_system("C-1", "12edo", 128)
    assert exact[69] == pytest.approx(440.0, abs=1e-9)
    assert round(exact[0], 2) == 8.18
    assert exact[127] == pytest.approx(12543.853951415975, rel=1e-12)
    assert exact[60] == pytest.approx(name_to_hz("C4"), rel=1e-12)
    np.testing.assert_allclose(exact, [440 * 2 ** ((n - 69) / 12) for n in range(128)], rtol=1e-12)


def test_make_system_other_inputs():
    np.testing.assert_allclose(make_system(100.0, 2 ** (1 / 12), 13), 100.0 * 2 ** (np.arange(13) / 12), rtol=1e-12)
    bp = make_system(110.0, "bp", 27)
    assert bp[13] == pytest.approx(330.0, rel=1e-12) and bp[26] == pytest.approx(990.0, rel=1e-12)
    assert make_system(1.0, "12edo", 0).shape == (0,)
    for base, size in ((0.0, 5), (-1.0, 5), (float("nan"), 5), (100.0, -1), (100.0, 2.5)):
        with pytest.raises(TuningError):
            make_system(base, "12edo", size)
    with pytest.raises(TuningError):
        make_system(100.0, object(), 3)


@given(st.integers(min_value=1, max_value=200), st.integers(min_value=-500, max_value=500))
def test_edo_periodicity(n, k):
    system = edo(n)
    assert system.cents(k + n) == pytest.approx(system.cents(k) + 1200.0, abs=1e-7)


@given(st.integers(min_value=1, max_value=12), st.integers(min_value=1, max_value=7),
       st.integers(min_value=-100, max_value=100))
def test_nested_is_monotonic_and_hits_outer_steps(outer_n, inner_n, k):
    nested = NestedSystem(edo(outer_n), edo(inner_n))
    assert nested.cents(k + 1) > nested.cents(k)
    assert nested.cents(k * inner_n) == pytest.approx(edo(outer_n).cents(k), abs=1e-7)
