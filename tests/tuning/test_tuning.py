import math

import numpy as np
import pytest

from livehost.tuning import (TuningError, Tuning, encode_single_note_tuning, just_system, tuning_from_spec)

from .helpers import write


C4_HZ = 440.0 * 2.0 ** (-9 / 12)  # 261.6256 Hz: Scala's default 1/1, on MIDI note 60


@pytest.mark.parametrize("n", [12, 19, 24, 31, 53])
def test_edo_specs(n):
    """Without a .kbm, Scala's default mapping: step 0 on MIDI 60 at 261.6256 Hz, one key per step."""
    tuning = tuning_from_spec(f"{n}edo")
    assert tuning.name == f"{n}edo"
    table = tuning.table()
    assert table.shape == (128,) and table.dtype == np.float64
    expected = C4_HZ * 2.0 ** ((np.arange(128) - 60) / n)
    np.testing.assert_allclose(table, expected, rtol=1e-12)
    assert tuning.hz(60) == pytest.approx(261.6255653, rel=1e-9)
    assert tuning.hz(60 + n) == pytest.approx(2 * 261.6255653, rel=1e-9)
    assert tuning.mapping_text() == "default (1/1 = MIDI 60 = 261.6256 Hz)"


def test_12edo_is_standard_tuning():
    table = tuning_from_spec("12edo").table()
    np.testing.assert_allclose(table, 440.0 * 2.0 ** ((np.arange(128) - 69) / 12), rtol=1e-13)
    assert round(table[69], 9) == 440.0 and round(table[60], 4) == 261.6256


def test_31edo_reference_adjustable():
    tuning = tuning_from_spec("31edo", ref_note=60, ref_hz=261.6255653005986)
    assert tuning.hz(60) == pytest.approx(261.6255653005986, rel=1e-12)
    assert tuning.hz(91) == pytest.approx(2 * 261.6255653005986, rel=1e-12)
    assert tuning.hz(78) == pytest.approx(261.6255653005986 * 2 ** (18 / 31), rel=1e-12)


def test_bp_spec():
    """Bohlen-Pierce (13 equal steps of 3/1) follows the same default: 1/1 = MIDI 60 = 261.6256 Hz."""
    tuning = tuning_from_spec("bp")
    assert tuning.hz(60) == pytest.approx(C4_HZ, rel=1e-12)
    assert tuning.hz(73) == pytest.approx(3 * C4_HZ, rel=1e-12)
    assert tuning.hz(47) == pytest.approx(C4_HZ / 3, rel=1e-12)
    assert tuning.hz(61) == pytest.approx(C4_HZ * 3 ** (1 / 13), rel=1e-12)


def test_scl_spec_without_kbm_is_linear_from_ref(tmp_path):
    path = write(tmp_path, "pelog.scl", "! p\nPelog-ish\n 5\n120.0\n270.\n540.0\n690.0\n2/1\n", "\r\n")
    tuning = tuning_from_spec(str(path), ref_note=60, ref_hz=300.0)
    assert tuning.name == "pelog" and tuning.description == "Pelog-ish"
    assert tuning.hz(60) == 300.0
    assert tuning.hz(62) == pytest.approx(300.0 * 2 ** (270 / 1200), rel=1e-12)
    assert tuning.hz(65) == pytest.approx(600.0, rel=1e-12)
    assert tuning.hz(59) == pytest.approx(150.0 * 2 ** (690 / 1200), rel=1e-12)


def test_scl_with_kbm_spec(tmp_path):
    scl = write(tmp_path, "major.scl", "major\n7\n9/8\n5/4\n4/3\n3/2\n5/3\n15/8\n2/1\n")
    kbm = write(tmp_path, "white.kbm", "! w\n12\n21\n108\n60\n69\n440\n7\n0\nx\n1\nx\n2\n3\nx\n4\nx\n5\nx\n6\n", "\r\n")
    tuning = tuning_from_spec(str(scl), str(kbm))
    assert tuning.hz(60) == pytest.approx(264.0, rel=1e-12)
    assert tuning.hz(61) is None
    assert tuning.hz(20) is None and tuning.hz(109) is None  # outside the retuned range
    assert tuning.hz(21) == pytest.approx(27.5, rel=1e-12)
    assert tuning.hz(108) == pytest.approx(264.0 * 16, rel=1e-12)
    assert math.isnan(tuning.table()[61])
    assert len(tuning.mapped_notes()) == 52  # the 88-key piano's white keys


def test_system_name_with_kbm(tmp_path):
    kbm = write(tmp_path, "c.kbm", "0\n0\n127\n60\n60\n256\n0\n")
    tuning = tuning_from_spec("19edo", str(kbm))
    assert tuning.hz(60) == 256.0
    assert tuning.hz(79) == pytest.approx(512.0, rel=1e-12)


def test_unknown_or_missing_spec(tmp_path):
    with pytest.raises(TuningError, match="unknown tuning 'wobble'"):
        tuning_from_spec("wobble")
    with pytest.raises(TuningError, match="cannot read"):
        tuning_from_spec(str(tmp_path / "missing.scl"))
    with pytest.raises(TuningError, match="cannot read"):
        tuning_from_spec("12edo", str(tmp_path / "missing.kbm"))


def test_retune_and_version():
    tuning = tuning_from_spec("12edo")
    before = tuning.table()
    v = tuning.version
    tuning.retune(60, 256.0)
    assert tuning.hz(60) == 256.0 and tuning.version == v + 1
    assert before[60] != 256.0  # table() is a copy
    tuning.retune(61, None)
    assert tuning.hz(61) is None and 61 not in tuning.mapped_notes()
    for key, hz in ((128, 440.0), (-1, 440.0), (60, 0.0), (60, float("nan")), (60, -3.0)):
        with pytest.raises(TuningError):
            tuning.retune(key, hz)
    with pytest.raises(TuningError):
        tuning.hz(128)


def test_apply_mts():
    tuning = tuning_from_spec("12edo")
    msg = encode_single_note_tuning([(60, 256.0), (64, 320.0), (67, None)])
    applied = tuning.apply_mts(msg)
    assert [k for k, _ in applied] == [60, 64]
    assert tuning.hz(60) == pytest.approx(256.0, rel=1e-5)
    assert tuning.hz(64) == pytest.approx(320.0, rel=1e-5)
    assert tuning.hz(67) == pytest.approx(440 * 2 ** (-2 / 12), rel=1e-12)  # "no change" left alone
    with pytest.raises(TuningError):
        tuning.apply_mts(b"\xf0\x7f\x7f\x08\x02\x00\x05\xf7")


def test_tuning_constructor_validation():
    with pytest.raises(TuningError):
        Tuning(np.ones(12))
    bad = np.full(128, 100.0)
    bad[3] = -1.0
    with pytest.raises(TuningError, match="key 3"):
        Tuning(bad)
    t = Tuning(np.full(128, np.nan), "silent")
    assert t.mapped_notes() == [] and t.hz(0) is None
    assert "silent" in repr(t)


def test_from_system_object():
    ji = just_system(["5/4", "3/2"], name="triad")
    tuning = Tuning.from_system(ji, ref_note=60, ref_hz=200.0)
    assert tuning.name == "triad"
    assert [round(tuning.hz(n), 9) for n in range(60, 64)] == [200.0, 250.0, 300.0, 400.0]


def test_spec_as_path_object_and_file_without_scl_extension(tmp_path, monkeypatch):
    path = write(tmp_path, "slendro.txt", "slendro\n5\n240.0\n480.0\n720.0\n960.0\n2/1\n")
    tuning = tuning_from_spec(path, ref_note=60, ref_hz=200.0)  # a Path, and no .scl extension
    assert tuning.name == "slendro"
    assert tuning.hz(61) == pytest.approx(200.0 * 2 ** (240 / 1200), rel=1e-12)
    # a file that happens to be called like a system name does not shadow the system
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "19edo", "not a scale\n")
    assert tuning_from_spec("19edo").hz(79) == pytest.approx(2 * C4_HZ, rel=1e-12)


def test_error_message_shapes():
    assert str(TuningError("bad thing", "a.scl", 3)) == "a.scl:3: bad thing"
    assert str(TuningError("bad thing", "a.scl")) == "a.scl: bad thing"
    assert str(TuningError("bad\nthing")) == "bad thing"
    err = TuningError("x", "p.kbm", 7)
    assert (err.path, err.line, err.message) == ("p.kbm", 7, "x")
