"""Scala files with and without a .kbm land where Scala and Surge XT put them.

Ground truth: Scala's keyboard mapping rules, computed here from the scale's ratios or cents alone.
Without a .kbm a scale gets Scala's default mapping (Surge XT's ``Tuning(Scale)`` uses the same default
``KeyboardMapping``: linear, keys 0-127, middle note 60, reference note 60 at 261.625565 Hz, i.e. C4 at
A4 = 440 Hz).  A linear mapping puts degree ``n - middle`` on key ``n`` and transposes everything so
that the reference key sounds the reference frequency; a mapping of size S repeats its S entries
every S keys, each repetition one formal octave higher.
"""

import argparse
import io
import json
from fractions import Fraction

import numpy as np
import pytest

from livehost.tuning import TuningError, tuning_from_spec
from livehost.tuning.cli import add_parser

from .helpers import write

C4 = 440.0 * 2.0 ** (-9 / 12)  # 261.6255653 Hz
JI_12 = [Fraction(1), Fraction(16, 15), Fraction(9, 8), Fraction(6, 5), Fraction(5, 4), Fraction(4, 3),
         Fraction(45, 32), Fraction(3, 2), Fraction(8, 5), Fraction(5, 3), Fraction(9, 5), Fraction(15, 8)]
BP_JUST = [Fraction(1), Fraction(27, 25), Fraction(25, 21), Fraction(9, 7), Fraction(7, 5), Fraction(75, 49),
           Fraction(5, 3), Fraction(9, 5), Fraction(49, 25), Fraction(15, 7), Fraction(7, 3), Fraction(63, 25),
           Fraction(25, 9)]


def scl_text(description, pitches):
    return "! held-out test scale\n" + description + "\n " + str(len(pitches)) + "\n!\n" + \
        "".join(f" {p}\n" for p in pitches)


def edo_scl(tmp_path, n):
    """``n`` equal steps of the octave, written in cents as Scala archives do (10 decimals)."""
    cents = [f"{1200.0 * k / n:.10f}" for k in range(1, n)] + ["2/1"]
    return write(tmp_path, f"{n}edo.scl", scl_text(f"{n}-tone equal temperament", cents))


def ratio_scl(tmp_path, name, ratios, period):
    return write(tmp_path, name, scl_text(name, [str(r) for r in ratios[1:]] + [str(period)]))


def degree_ratio(ratios, period, degree):
    """Frequency ratio of scale degree ``degree`` (any integer) to 1/1: Scala's periodic extension."""
    q, r = divmod(degree, len(ratios))
    return float(ratios[r]) * float(period) ** q


def linear_hz(ratios, period, key, middle=60, ref=60, ref_hz=C4):
    """Scala's linear mapping: key ``key`` plays degree ``key - middle``; key ``ref`` sounds ``ref_hz``."""
    return ref_hz * degree_ratio(ratios, period, key - middle) / degree_ratio(ratios, period, ref - middle)


def edo_ratios(n):
    return [2.0 ** (k / n) for k in range(n)]


KEYS = np.arange(128)


def test_12edo_without_kbm_is_standard_tuning(tmp_path):
    t = tuning_from_spec(edo_scl(tmp_path, 12))
    assert t.hz(69) == pytest.approx(440.000, abs=5e-10)
    assert t.hz(60) == pytest.approx(261.6256, abs=5e-5)
    np.testing.assert_allclose(t.table(), 440.0 * 2.0 ** ((KEYS - 69) / 12), rtol=1e-12)


def test_31edo_without_kbm_has_its_1_1_on_middle_c(tmp_path):
    t = tuning_from_spec(edo_scl(tmp_path, 31))
    assert t.hz(60) == pytest.approx(261.6256, abs=5e-5)
    assert t.hz(61) == pytest.approx(261.6255653 * 2 ** (1 / 31), rel=1e-9)
    assert t.hz(91) == pytest.approx(2 * 261.6255653, rel=1e-9)
    np.testing.assert_allclose(t.table(), [linear_hz(edo_ratios(31), 2, k) for k in KEYS], rtol=1e-12)
    # the built-in 31edo is the same tuning
    np.testing.assert_allclose(tuning_from_spec("31edo").table(), t.table(), rtol=1e-12)


def test_just_scale_without_kbm(tmp_path):
    t = tuning_from_spec(ratio_scl(tmp_path, "ji_12.scl", JI_12, 2))
    np.testing.assert_allclose(t.table(), [linear_hz(JI_12, 2, k) for k in KEYS], rtol=1e-12)
    assert t.hz(60) == pytest.approx(C4, rel=1e-12)
    assert t.hz(67) == pytest.approx(C4 * 3 / 2, rel=1e-12)
    assert t.hz(69) == pytest.approx(C4 * 5 / 3, rel=1e-12)  # 436.04 Hz: A is a just sixth above C
    assert t.hz(59) == pytest.approx(C4 * 15 / 16, rel=1e-12)


def test_tritave_scale_without_kbm(tmp_path):
    """Bohlen-Pierce (13 just steps of 3/1): the period is 3/1, so key 60 + 13 is three times key 60."""
    t = tuning_from_spec(ratio_scl(tmp_path, "bp_just.scl", BP_JUST, 3))
    np.testing.assert_allclose(t.table(), [linear_hz(BP_JUST, 3, k) for k in KEYS], rtol=1e-12)
    assert t.hz(73) == pytest.approx(3 * C4, rel=1e-12)
    assert t.hz(47) == pytest.approx(C4 / 3, rel=1e-12)
    assert t.hz(59) == pytest.approx(C4 / 3 * 25 / 9, rel=1e-12)
    # the equal-tempered built-in: 13 equal steps of 3/1 from the same 1/1
    bp = [3.0 ** (k / 13) for k in range(13)]
    np.testing.assert_allclose(tuning_from_spec("bp").table(), [linear_hz(bp, 3, k) for k in KEYS], rtol=1e-12)


def test_kbm_reference_69_at_440_keeps_1_1_on_middle_c(tmp_path):
    """Scala's "60-440-69" linear map: 1/1 on key 60, key 69 tuned to 440 Hz."""
    kbm = write(tmp_path, "a440.kbm", "! a440\n0\n0\n127\n60\n69\n440.0\n0\n")
    ji = tuning_from_spec(ratio_scl(tmp_path, "ji_12.scl", JI_12, 2), kbm)
    assert ji.hz(69) == pytest.approx(440.0, rel=1e-12)
    assert ji.hz(60) == pytest.approx(264.0, rel=1e-12)  # 440 / (5/3)
    np.testing.assert_allclose(ji.table(), [linear_hz(JI_12, 2, k, 60, 69, 440.0) for k in KEYS], rtol=1e-12)
    edo31 = tuning_from_spec(edo_scl(tmp_path, 31), kbm)
    assert edo31.hz(60) == pytest.approx(440.0 * 2 ** (-9 / 31), rel=1e-12)
    assert edo31.hz(69) == pytest.approx(440.0, rel=1e-12)
    edo12 = tuning_from_spec(edo_scl(tmp_path, 12), kbm)
    np.testing.assert_allclose(edo12.table(), 440.0 * 2.0 ** ((KEYS - 69) / 12), rtol=1e-12)
    assert ji.mapping_text() == "a440.kbm (reference note 69 = 440 Hz, middle note 60, linear, keys 0-127)"


def test_kbm_middle_note_moves_the_1_1(tmp_path):
    kbm = write(tmp_path, "on_a.kbm", "0\n0\n127\n69\n69\n440.0\n0\n")
    t = tuning_from_spec(ratio_scl(tmp_path, "ji_12.scl", JI_12, 2), kbm)
    np.testing.assert_allclose(t.table(), [linear_hz(JI_12, 2, k, 69, 69, 440.0) for k in KEYS], rtol=1e-12)
    assert t.hz(70) == pytest.approx(440.0 * 16 / 15, rel=1e-12)


def test_kbm_with_a_pattern_unmapped_keys_and_a_range(tmp_path):
    """7 keys per pattern playing degrees 0 2 4 5 7 x 11 of the 12-note just scale, formal octave 12,
    keys 36..96 retuned, key 61 (degree 2 = 9/8) at 297 Hz so the 1/1 is 264 Hz."""
    kbm = write(tmp_path, "seven.kbm",
                "! seven keys\n7\n36\n96\n60\n61\n297.0\n12\n! mapping\n0\n2\n4\n5\n7\nx\n11\n", "\r\n")
    t = tuning_from_spec(ratio_scl(tmp_path, "ji_12.scl", JI_12, 2), kbm)
    one = 264.0
    expected = {
        60: one, 61: one * 9 / 8, 62: one * 5 / 4, 63: one * 4 / 3, 64: one * 3 / 2, 65: None, 66: one * 15 / 8,
        67: 2 * one, 68: 2 * one * 9 / 8, 72: None, 73: 2 * one * 15 / 8, 74: 4 * one,
        59: one * 15 / 16, 58: None, 53: one / 2, 54: one / 2 * 9 / 8,
        36: one * 3 / 2 / 16,  # 24 keys below: pattern -4 (degree -48), entry 4 (degree 7)
        96: one * 9 / 8 * 32,  # 36 keys above: pattern 5 (degree 60), entry 1 (degree 2)
        35: None, 97: None, 0: None, 127: None,  # outside the retuned range
    }
    for key, hz in expected.items():
        if hz is None:
            assert t.hz(key) is None, key
        else:
            assert t.hz(key) == pytest.approx(hz, rel=1e-12), key
    assert t.mapping_text() == "seven.kbm (reference note 61 = 297 Hz, middle note 60, 7 keys per pattern, keys 36-96)"


def test_an_explicit_default_kbm_changes_nothing(tmp_path):
    kbm = write(tmp_path, "default.kbm", "0\n0\n127\n60\n60\n261.6255653005986\n0\n")
    for scl in (edo_scl(tmp_path, 31), ratio_scl(tmp_path, "bp_just.scl", BP_JUST, 3)):
        np.testing.assert_allclose(tuning_from_spec(scl, kbm).table(), tuning_from_spec(scl).table(), rtol=1e-14)


def test_reference_on_an_unmapped_key_is_an_error(tmp_path):
    kbm = write(tmp_path, "bad.kbm", "2\n0\n127\n60\n61\n440\n12\n0\nx\n")
    with pytest.raises(TuningError, match="reference note 61 falls on an unmapped"):
        tuning_from_spec(edo_scl(tmp_path, 12), kbm)


def test_kbm_and_a_reference_together_are_refused(tmp_path):
    kbm = write(tmp_path, "a440.kbm", "0\n0\n127\n60\n69\n440.0\n0\n")
    with pytest.raises(TuningError, match="not both"):
        tuning_from_spec("31edo", kbm, ref_note=69)


def test_tuning_show_reports_the_mapping_for_a_scl_file(tmp_path):
    """The issue's case: ``livehost tuning show 31edo.scl`` puts 1/1 on MIDI 60 at 261.6256 Hz."""
    parser = argparse.ArgumentParser(prog="livehost")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["tuning", "show", str(edo_scl(tmp_path, 31)), "--notes", "60-61", "--json"])
    out = io.StringIO()
    assert args.func(args, out, io.StringIO()) == 0
    doc = json.loads(out.getvalue())
    assert doc["mapping"]["text"] == "default (1/1 = MIDI 60 = 261.6256 Hz)"
    assert [r["hz"] for r in doc["notes"]] == pytest.approx([C4, C4 * 2 ** (1 / 31)], rel=1e-12)
