"""The ``[synth]`` tuning keys of a patch: Scala's default without them, a reference for A4 = 440 with
``ref_note``/``ref_hz``, a ``.kbm`` file, and one-line ``file:line: field`` errors for bad keys."""

import os

import numpy as np
import pytest

from livehost.engine.patching import synth_source
from livehost.errors import PatchError
from livehost.patch import load
from tests.conftest import ROOT

C4_HZ = 440.0 * 2.0 ** (-9 / 12)  # 261.6256 Hz
KEYS = np.arange(128)


def patch_file(tmp_path, synth_lines: str, name: str = "p.toml"):
    """A patch whose ``[synth]`` section holds ``synth_lines``; ``[synth]`` is on line 5."""
    path = tmp_path / name
    path.write_text('[patch]\nname = "t"\nformat = 1\n\n[synth]\nwave = "sine"\n' + synth_lines)
    return path


def table_of(path) -> np.ndarray:
    return synth_source(load(path))[3]


def test_no_tuning_keys_is_scalas_default(tmp_path):
    table = table_of(patch_file(tmp_path, 'tuning = "31edo"\n'))
    np.testing.assert_allclose(table, C4_HZ * 2.0 ** ((KEYS - 60) / 31), rtol=1e-12)
    assert table[60] == pytest.approx(261.6256, abs=5e-5)
    table = table_of(patch_file(tmp_path, ""))  # no tuning at all: 12edo, standard tuning
    np.testing.assert_allclose(table, 440.0 * 2.0 ** ((KEYS - 69) / 12), rtol=1e-12)


def test_ref_note_and_ref_hz_tune_a4_to_440(tmp_path):
    table = table_of(patch_file(tmp_path, 'tuning = "31edo"\nref_note = 69\nref_hz = 440.0\n'))
    np.testing.assert_allclose(table, 440.0 * 2.0 ** ((KEYS - 69) / 31), rtol=1e-12)
    # a non-equal scale shows that the 1/1 stays on key 60: key 69 plays 5/3 of it at 440 Hz
    table = table_of(patch_file(tmp_path, 'tuning = "ji12"\nref_note = 69\nref_hz = 440.0\n'))
    assert table[69] == pytest.approx(440.0, rel=1e-12) and table[60] == pytest.approx(264.0, rel=1e-12)
    # ref_note alone: that key keeps its standard pitch
    table = table_of(patch_file(tmp_path, 'tuning = "ji12"\nref_note = 69\n'))
    assert table[69] == pytest.approx(440.0, rel=1e-12)
    # middle_note moves the 1/1 itself (to A3, at its standard pitch 220 Hz)
    table = table_of(patch_file(tmp_path, 'tuning = "ji12"\nmiddle_note = 57\n'))
    assert table[57] == pytest.approx(220.0, rel=1e-12) and table[64] == pytest.approx(330.0, rel=1e-12)


def test_the_shipped_31edo_patch_still_plays_a4_at_440():
    table = table_of(os.path.join(ROOT, "patches", "synth-31edo.toml"))
    np.testing.assert_allclose(table, 440.0 * 2.0 ** ((KEYS - 69) / 31), rtol=1e-12)


def test_scl_and_kbm_relative_to_the_patch(tmp_path):
    (tmp_path / "ji.scl").write_text("ji\n 3\n 5/4\n 3/2\n 2/1\n")
    (tmp_path / "a.kbm").write_text("0\n0\n127\n60\n62\n300.0\n0\n")
    assert table_of(patch_file(tmp_path, 'tuning = "ji.scl"\n'))[61] == pytest.approx(C4_HZ * 5 / 4, rel=1e-12)
    table = table_of(patch_file(tmp_path, 'tuning = "ji.scl"\nkbm = "a.kbm"\n'))
    assert table[62] == pytest.approx(300.0, rel=1e-12) and table[60] == pytest.approx(200.0, rel=1e-12)


@pytest.mark.parametrize("lines, line, needle", [
    ('reference_note = 69\n', 7, "synth.reference_note is not a parameter of synth (did you mean 'ref_note'?)"),
    ('ref_note = 128\n', 7, "synth.ref_note = 128 must be a MIDI note 0..127"),
    ('middle_note = "C4"\n', 7, "synth.middle_note = 'C4' must be a MIDI note 0..127"),
    ('ref_hz = 0.5\n', 7, "synth.ref_hz = 0.5 is outside 1..20000"),
    ('ref_hz = true\n', 7, "synth.ref_hz = True is outside 1..20000"),
    ('tuning = "nope"\n', 7, "synth.tuning = 'nope': unknown tuning 'nope'"),
    ('kbm = "a.kbm"\nref_hz = 432.0\n', 8, "synth.ref_hz = 432.0 cannot go with kbm = 'a.kbm'"),
    ('kbm = "bad.kbm"\n', 7, "synth.kbm = 'bad.kbm': "),
])
def test_bad_tuning_keys_are_one_line_errors(tmp_path, lines, line, needle):
    (tmp_path / "a.kbm").write_text("0\n0\n127\n60\n69\n440.0\n0\n")
    (tmp_path / "bad.kbm").write_text("0\n0\n127\n60\n200\n440.0\n0\n")
    path = patch_file(tmp_path, lines)
    with pytest.raises(PatchError) as info:
        load(path)
    text = str(info.value)
    assert "\n" not in text and text.startswith(f"{path}:{line}: "), text
    assert needle in text, text


def test_a_bad_kbm_names_its_own_file_and_line(tmp_path):
    (tmp_path / "bad.kbm").write_text("0\n0\n127\n60\n200\n440.0\n0\n")
    with pytest.raises(PatchError) as info:
        load(patch_file(tmp_path, 'kbm = "bad.kbm"\n'))
    assert f"{tmp_path / 'bad.kbm'}:5: reference note: 200 is not a MIDI note number 0..127" in str(info.value)
